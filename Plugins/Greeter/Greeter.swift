import BerthSDK

struct Greeting: Codable { let greeting: String }

let greeter = Plugin(name: "greeter", version: "1.0.0") { routes in
    routes.get("/hello/{name}", public: true) { request in
        Greeting(greeting: "Hello, \(request.parameters["name"] ?? "")!")
    }
    routes.post("/echo") { request in
        request.rawData          // RawJSON: the request's "data" bytes unchanged
    }
}

@_cdecl("berth_plugin_entry")
public func berthPluginEntry() -> UnsafeRawPointer { greeter.descriptor }
