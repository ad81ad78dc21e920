import BerthSDK

struct Greeting: Codable { let greeting: String }
struct Caller: Codable { let pid: Int32; let uid: UInt32; let gid: UInt32 }

let greeter = Plugin(name: "greeter", version: "1.0.0") { routes in
    routes.get("/hello/{name}", public: true) { request in
        Greeting(greeting: "Hello, \(request.parameters["name"] ?? "")!")
    }
    routes.post("/echo") { request in
        request.rawData          // RawJSON: the request's "data" bytes unchanged
    }
    // Who is calling, as the kernel saw it. Needs a token with the "whoami"
    // scope (or the admin token).
    routes.get("/whoami", scope: "whoami") { request in
        guard let peer = request.peer else {
            throw PluginError(status: 501, code: "no_peer", message: "this host does not report callers; run Berth 1.1 or later")
        }
        return Caller(pid: peer.pid, uid: peer.uid, gid: peer.gid)
    }
}

@_cdecl("berth_plugin_entry")
public func berthPluginEntry() -> UnsafeRawPointer { greeter.descriptor }
