import BerthChannel
import XCTest

/// The two messages that let the host decide a plugin's name before its
/// init runs: the worker's `named` and the host's `initialize`.
final class UnitChannelNameMessagesTests: XCTestCase {
    func testNamedAndInitializeSurviveTheCodec() throws {
        for name in ["twin", "a", String(repeating: "z", count: 64), "with space\nand newline"] {
            let bytes = try ChannelCodec.encode(WorkerMessage.named(name))
            XCTAssertEqual(try ChannelCodec.decode(bytes, as: WorkerMessage.self), .named(name))
        }
        let bytes = try ChannelCodec.encode(HostMessage.initialize)
        XCTAssertEqual(try ChannelCodec.decode(bytes, as: HostMessage.self), .initialize)
        XCTAssertEqual(HostMessage.initialize.kind, "initialize")
        XCTAssertEqual(WorkerMessage.named("twin").kind, "named")
    }
}
