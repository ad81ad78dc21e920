import BerthCalls
import BerthJSON
import BerthSupport
import XCTest

final class UnitTraceHeadersTests: XCTestCase {
    private let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    private func continued(_ headers: String, startNew: Bool = false) -> (context: TraceContext, state: String)? {
        Array(headers.utf8).withUnsafeBufferPointer { TraceHeaders.continued(from: $0, startNew: startNew) }
    }

    func testAValidTraceparentIsContinuedWithANewSpan() throws {
        let (context, state) = try XCTUnwrap(continued(#"{"x-a":"1","traceparent":"\#(valid)","tracestate":"a=1, b=2"}"#))
        XCTAssertEqual(context.traceIDHex, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertNotEqual(context.spanIDHex, "00f067aa0ba902b7")
        XCTAssertEqual(state, "a=1,b=2")
    }

    func testAnEscapedTraceparentMeansWhatJSONSays() throws {
        let escaped = valid.replacingOccurrences(of: "-", with: "\\u002d")
        XCTAssertNotNil(continued(#"{"traceparent":"\#(escaped)"}"#))
    }

    func testAnInvalidTraceparentIsReplacedOrDropped() {
        let upper = #"{"traceparent":"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01","tracestate":"a=1"}"#
        XCTAssertNil(continued(upper))
        let started = continued(upper, startNew: true)
        XCTAssertNotNil(started)
        XCTAssertNotEqual(started?.context.traceIDHex, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(started?.state, "", "a tracestate without its valid traceparent is not passed on")
        XCTAssertNil(continued(#"{"traceparent":42}"#))
        XCTAssertNil(continued("{}"))
    }

    func testACallsHeadersKeepThePluginsMembersAndTakeTheHostsTrace() throws {
        let merged = Array(#"{"x-user":"ann","traceparent":"forged","n":[1,2]}"#.utf8).withUnsafeBufferPointer {
            TraceHeaders.merged($0, traceparent: valid, tracestate: "a=1")
        }
        let text = String(decoding: merged, as: UTF8.self)
        XCTAssertEqual(text, #"{"traceparent":"\#(valid)","tracestate":"a=1","x-user":"ann","n":[1,2]}"#)
        XCTAssertEqual(String(decoding: TraceHeaders.merged(nil, traceparent: valid, tracestate: ""), as: UTF8.self),
                       #"{"traceparent":"\#(valid)"}"#)
    }
}
