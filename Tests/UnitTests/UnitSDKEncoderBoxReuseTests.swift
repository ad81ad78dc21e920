@testable import BerthSDK
import Foundation
import XCTest

// The streaming encoder's reuse of the standard library's keyed-container
// boxes (SDK/Swift/Encoder/BoxReuse.swift): what the probe says on the
// toolchain the tests run on, that the reuse really happens when on, and
// that the switch really turns it off.

private struct Point: Encodable { let x: Int, y: Int }
private struct Segment: Encodable { let from: Point, to: Point, label: String }

final class UnitSDKEncoderBoxReuseTests: XCTestCase {
    private let encoder = FastJSONEncoder.shared

    override func tearDown() {
        encoder.setBoxReuse(FastJSONEncoder.boxReuseIsSwitchedOn)
        super.tearDown()
    }

    /// Swift 6.3.1 on Linux x86_64: a KeyedEncodingContainer is one
    /// reference to its box. A toolchain that changes that must fail here,
    /// not quietly lose the reuse (or, worse, keep it while it is unsafe).
    func testProbeFindsTheLayoutTheReuseNeeds() {
        XCTAssertTrue(FastJSONEncoder.boxReuseIsUsable,
                      "the stdlib's KeyedEncodingContainer layout changed: BoxReuse.swift no longer reuses boxes")
        enum Key: CodingKey { case key }
        XCTAssertEqual(MemoryLayout<KeyedEncodingContainer<Key>>.size, MemoryLayout<AnyObject>.size)
        XCTAssertEqual(MemoryLayout<KeyedEncodingContainer<Key>>.alignment, MemoryLayout<AnyObject>.alignment)
    }

    func testTheBoxOfAFinishedObjectIsHandedOutAgain() throws {
        try XCTSkipUnless(FastJSONEncoder.boxReuseIsSwitchedOn,
                          "BERTH_SDK_BOX_REUSE or BERTH_SDK_NO_BOX_REUSE turns the reuse off in this run")
        encoder.setBoxReuse(false)               // forget boxes kept by earlier tests
        encoder.setBoxReuse(true)
        XCTAssertTrue(encoder.isReusingBoxes)
        XCTAssertEqual(try text(Point(x: 1, y: 2)), #"{"x":1,"y":2}"#)
        XCTAssertEqual(encoder.boxes.count, 1)
        XCTAssertEqual(try text(Point(x: 3, y: 4)), #"{"x":3,"y":4}"#)
        XCTAssertEqual(encoder.boxes.count, 1, "the Point box was not reused")
        XCTAssertTrue(FastJSON.encodesWithoutFallback(Point(x: 5, y: 6)), "a reused box writes to a stale frame")
        // Two Points open at once would need two boxes; in a Segment they
        // come one after the other, so one Point box serves both.
        XCTAssertEqual(try text(Segment(from: Point(x: 0, y: 0), to: Point(x: 5, y: 6), label: "s")),
                       #"{"from":{"x":0,"y":0},"label":"s","to":{"x":5,"y":6}}"#)
        XCTAssertEqual(encoder.boxes.count, 2)
    }

    func testSwitchedOffNoBoxIsKeptAndTheBytesAreTheSame() throws {
        let segments = (0..<20).map { Segment(from: Point(x: $0, y: -$0), to: Point(x: 2 * $0, y: 0), label: "\($0)") }
        encoder.setBoxReuse(true)
        let reused = try FastJSON.encode(segments)
        encoder.setBoxReuse(false)
        XCTAssertFalse(encoder.isReusingBoxes)
        XCTAssertEqual(encoder.boxes.count, 0)
        XCTAssertTrue(FastJSON.encodesWithoutFallback(segments))
        let fresh = try FastJSON.encode(segments)
        XCTAssertEqual(encoder.boxes.count, 0, "a box was kept with the reuse switched off")
        XCTAssertEqual(fresh, reused)
        XCTAssertEqual(fresh, Array(try FastJSON.foundationEncode(segments)))
    }

    /// BERTH_SDK_BOX_REUSE: 0, false, off or no turn the reuse off.
    func testEnvironmentSwitch() {
        for value in ["0", "false", "FALSE", "off", "Off", "no"] {
            XCTAssertFalse(FastJSONEncoder.switchAllowsBoxReuse(environmentValue: value), value)
        }
        for value in [nil, "", "1", "true", "on", "yes"] as [String?] {
            XCTAssertTrue(FastJSONEncoder.switchAllowsBoxReuse(environmentValue: value), value ?? "unset")
        }
    }

    private func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try FastJSON.encode(value), as: UTF8.self)
    }
}

/// Every case of UnitSDKEncoderTests again, with the reuse switched off:
/// the safe path must give the same bytes, and manage alone where the
/// reusing path does.
final class UnitSDKEncoderWithoutBoxReuseTests: UnitSDKEncoderTests {
    override func setUp() {
        super.setUp()
        FastJSONEncoder.shared.setBoxReuse(false)
    }

    override func tearDown() {
        FastJSONEncoder.shared.setBoxReuse(FastJSONEncoder.boxReuseIsSwitchedOn)
        super.tearDown()
    }

    func testTheReuseIsOff() {
        XCTAssertFalse(FastJSONEncoder.shared.isReusingBoxes)
        _ = try? FastJSON.encode(["k": ["nested": 1]])
        XCTAssertEqual(FastJSONEncoder.shared.boxes.count, 0)
    }
}
