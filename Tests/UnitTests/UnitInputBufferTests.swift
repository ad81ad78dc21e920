@testable import BerthWire
import XCTest

/// A connection's input buffer: small until a request needs more, growth
/// charged to its server's total, and a large buffer given back once empty.
final class UnitInputBufferTests: XCTestCase {
    private func fill(_ buffer: InputBuffer, _ count: Int, limit: Int) -> Int {
        var filled = 0
        while filled < count {
            let space = buffer.reserve(minimum: 4096, limit: limit)
            if space.isEmpty { break }
            let n = min(space.count, count - filled)
            buffer.commit(n)
            filled += n
        }
        return filled
    }

    func testGrowthIsChargedAndALargeBufferIsGivenBackWhenConsumed() {
        let budget = InputBudget(limit: 8 << 20)
        let buffer = InputBuffer(budget: budget)
        XCTAssertEqual(buffer.capacity, InputBuffer.initialCapacity)
        XCTAssertEqual(budget.used, 0)
        XCTAssertEqual(fill(buffer, 1 << 20, limit: 2 << 20), 1 << 20)
        XCTAssertGreaterThan(buffer.capacity, InputBuffer.largestKept)
        XCTAssertEqual(budget.used, buffer.capacity - InputBuffer.initialCapacity)
        buffer.consume(1 << 20)
        XCTAssertEqual(buffer.capacity, InputBuffer.initialCapacity, "a large buffer was kept once empty")
        XCTAssertEqual(budget.used, 0)
    }

    func testABufferKeptSmallEnoughStaysForTheNextRequest() {
        let budget = InputBudget()
        let buffer = InputBuffer(budget: budget)
        _ = fill(buffer, 20_000, limit: 1 << 20)
        let grown = buffer.capacity
        XCTAssertLessThanOrEqual(grown, InputBuffer.largestKept)
        buffer.consume(20_000)
        XCTAssertEqual(buffer.capacity, grown)
    }

    func testTheBudgetStopsGrowthAndIsRefundedWhenABufferGoes() {
        let budget = InputBudget(limit: 3 << 20)
        var first: InputBuffer? = InputBuffer(budget: budget)
        let second = InputBuffer(budget: budget)
        XCTAssertEqual(fill(first!, 2 << 20, limit: 4 << 20), 2 << 20)
        let filled = fill(second, 2 << 20, limit: 4 << 20)
        XCTAssertLessThan(filled, 2 << 20, "grew past the total")
        XCTAssertFalse(second.isAtLimit(4 << 20), "a budget refusal looks like the request limit")
        XCTAssertLessThanOrEqual(budget.used, budget.limit)
        first = nil
        second.reset()
        XCTAssertEqual(budget.used, 0)
        XCTAssertEqual(fill(second, 2 << 20, limit: 4 << 20), 2 << 20)
    }
}
