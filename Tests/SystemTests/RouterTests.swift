import Foundation
import Glibc
import XCTest

/// Routing in a real worker: a plugin's router is built, and its duplicate
/// routes refused, before the worker reports the plugin loaded; thousands
/// of routes load at once and are served as soon as the host says so.
final class E2ERouterTests: BerthTestCase {
    /// The loader's own limit of routes per plugin.
    func testTenThousandRoutesLoadAndAnswerAtOnce() throws {
        try PluginBuilder.build(RouterPlugins.manyRoutes(10_000), fileName: "libmany.so", into: sandbox.plugins)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 1 plugin(s) serving [many], 0 failed"), host.logText)
        // Two seconds are a hundred times what an answer takes once serving.
        let client = try connect("many", timeout: 2)
        let last = try client.call("GET", RouterPlugins.manyRoutesPattern(9_998).replacing("{id}", with: "abc"))
        XCTAssertEqual(last.status, 200, last.line)
        XCTAssertEqual(jsonInt(last.dataObject?["route"]), 9_998, last.line)
        XCTAssertEqual(last.dataObject?["id"] as? String, "abc", last.line)
        XCTAssertEqual(try client.call("GET", "/api/v1/shop/items/0/x").line, #"{"id":null,"status":200,"data":{"route":0,"id":"x"}}"#)
        let missing = try client.call("GET", "/api/v1/shop/items/10000/abc")
        XCTAssertEqual(missing.status, 404, missing.line)
        let wrongMethod = try client.call("POST", "/api/v1/shop/items/7/abc")
        XCTAssertEqual(wrongMethod.status, 405, wrongMethod.line)
        XCTAssertTrue(wrongMethod.line.contains("allowed: GET"), wrongMethod.line)
    }

    /// The host says a plugin serves only once its worker can route: a
    /// request sent when the host is ready is answered at once, not after
    /// the worker has built its router. (A worker that compared each route
    /// with every other after it reported the plugin loaded left 7,000
    /// routes silent for seconds; their patterns are short, so that even
    /// that worker's report of them fitted its channel.)
    func testSevenThousandRoutesAnswerAsSoonAsTheHostIsReady() throws {
        try PluginBuilder.build(RouterPlugins.manyRoutes(7_000, prefix: ""), fileName: "libmany.so", into: sandbox.plugins)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 1 plugin(s) serving [many], 0 failed"), host.logText)
        let answer: WireResponse
        do {
            // A second is hundreds of times what an answer takes once serving.
            answer = try connect("many", timeout: 1).call("GET", "/6999/last")
        } catch {
            return XCTFail("no answer within 1 s of the host saying the plugin serves: \(error)")
        }
        XCTAssertEqual(answer.line, #"{"id":null,"status":200,"data":{"route":6999,"id":"last"}}"#)
    }

    /// 4,000 routes: all listed, and served as soon as the host is ready.
    func testFourThousandRoutesAnswerAsSoonAsTheHostIsReadyAndAreAllListed() throws {
        try PluginBuilder.build(RouterPlugins.manyRoutes(4_000), fileName: "libmany.so", into: sandbox.plugins)
        let host = try startHost()
        XCTAssertTrue(host.logText.contains("ready: 1 plugin(s) serving [many], 0 failed"), host.logText)
        let answer: WireResponse
        do {
            answer = try connect("many", timeout: 2).call("GET", "/api/v1/shop/items/3999/last")
        } catch {
            return XCTFail("no answer within 2 s of the host saying the plugin serves: \(error)")
        }
        XCTAssertEqual(answer.line, #"{"id":null,"status":200,"data":{"route":3999,"id":"last"}}"#)

        let routes = try call("berth", "GET", "/plugins/many/routes", token: try sandbox.token())
        let list = try XCTUnwrap(routes.dataObject?["routes"] as? [[String: Any]], routes.line)
        XCTAssertEqual(list.count, 4_000)
        XCTAssertEqual(list.last?["pattern"] as? String, RouterPlugins.manyRoutesPattern(3_999))
    }

    /// Two routes that match the same requests (the same method and shape,
    /// whatever their parameters are called) make the plugin fail to load,
    /// with a message naming both, before its init runs; the other plugins
    /// serve.
    func testDuplicateRoutesFailToLoadWithAMessageNamingBoth() throws {
        try sandbox.installExamples()
        let cases = [(file: "libdupsame.so", name: "dupsame", first: "/same", second: "/same"),
                     (file: "libdupparam.so", name: "dupparam", first: "/x/{a}", second: "/x/{b}")]
        try PluginBuilder.buildAll(cases.map { plugin in
            (plugin.file, RouterPlugins.duplicateRoutes(name: plugin.name, first: plugin.first, second: plugin.second,
                                                        marker: sandbox.root + "/\(plugin.name).init-ran"))
        }, into: sandbox.plugins)
        let host = try startHost()
        let ready = try host.waitUntilReady()
        XCTAssertTrue(ready.contains("ready: 2 plugin(s) serving [cecho, greeter], 2 failed"), ready)

        let report = try status()
        for plugin in cases {
            let entry = try self.plugin(file: plugin.file, in: report)
            XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)")
            let error = entry["error"] as? String ?? ""
            XCTAssertTrue(error.contains("\(sandbox.plugins)/\(plugin.file): plugin \(plugin.name): route GET \(plugin.second) duplicates GET \(plugin.first)"),
                          error)
            XCTAssertTrue(error.contains("remove one or give it a different path or method"), error)
            XCTAssertTrue(host.logText.contains("plugin not loaded: \(error)"), host.logText)
            XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.root + "/\(plugin.name).init-ran"),
                           "\(plugin.name)'s init ran although its routes were refused")
        }
        XCTAssertFalse(host.logText.contains("exited with code 71"), host.logText)
        XCTAssertEqual(try call("cecho", "GET", "/ping").status, 200)
    }
}
