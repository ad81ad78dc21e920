import BerthSupport
import XCTest

final class UnitTraceContextTests: XCTestCase {
    private let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    func testAValidTraceparentIsReadAndWrittenBackTheSame() throws {
        let context = try XCTUnwrap(TraceContext.parse(traceparent: valid.utf8))
        XCTAssertEqual(context.traceIDHex, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(context.spanIDHex, "00f067aa0ba902b7")
        XCTAssertEqual(context.flags, 1)
        XCTAssertEqual(context.traceparent, valid)
    }

    func testInvalidTraceparentsAreRefused() {
        let invalid = [
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // not hex
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // uppercase
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero parent id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // 00 with more after
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // short
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // wrong separator
            "",
        ]
        for text in invalid { XCTAssertNil(TraceContext.parse(traceparent: text.utf8), text) }
    }

    func testALaterVersionIsReadByItsFirstFourFields() {
        XCTAssertNotNil(TraceContext.parse(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later".utf8))
        XCTAssertNil(TraceContext.parse(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x".utf8))
    }

    func testAChildKeepsTheTraceAndFlagsWithANewSpan() throws {
        let parent = try XCTUnwrap(TraceContext.parse(traceparent: valid.utf8))
        let child = parent.child()
        XCTAssertEqual(child.traceID, parent.traceID)
        XCTAssertEqual(child.flags, parent.flags)
        XCTAssertNotEqual(child.spanID, parent.spanID)
        XCTAssertEqual(child.traceparent.count, 55)
        XCTAssertNotNil(TraceContext.parse(traceparent: child.traceparent.utf8))
    }

    func testANewTraceIsValidAndSampled() throws {
        let started = TraceContext.start()
        XCTAssertEqual(try XCTUnwrap(TraceContext.parse(traceparent: started.traceparent.utf8)), started)
        XCTAssertEqual(started.flags & 1, 1)
        XCTAssertNotEqual(TraceContext.start().traceID, started.traceID)
    }

    func testTracestateIsCappedAt32MembersAnd512Characters() {
        let many = (0..<40).map { "k\($0)=v" }.joined(separator: " , ")
        let capped = TraceContext.cappedState(many.utf8)
        XCTAssertEqual(capped.split(separator: ",").count, 32)
        XCTAssertEqual(capped.split(separator: ",").first, "k0=v")
        let long = (0..<10).map { "key\($0)=" + String(repeating: "x", count: 100) }.joined(separator: ",")
        let cut = TraceContext.cappedState(long.utf8)
        XCTAssertLessThanOrEqual(cut.utf8.count, 512)
        XCTAssertEqual(cut.split(separator: ",").count, 4)
        XCTAssertEqual(TraceContext.cappedState(" a=1,,\tb=2 ".utf8), "a=1,b=2")
    }
}
