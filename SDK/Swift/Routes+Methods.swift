// One-word shorthands for `Routes.on`: three overloads per method, so a
// handler can return an Encodable value, RawJSON or a Response.

extension Routes {
    /// `GET` route; the returned value is sent as JSON with status 200.
    public func get<T: Encodable>(_ pattern: String, public isPublic: Bool = false,
                                  scope: String? = nil, timeout: Duration? = nil,
                                  _ handler: @escaping (Request) throws -> T) {
        on("GET", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `GET` route; the returned JSON is sent unchanged with status 200.
    public func get(_ pattern: String, public isPublic: Bool = false,
                    scope: String? = nil, timeout: Duration? = nil,
                    _ handler: @escaping (Request) throws -> RawJSON) {
        on("GET", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `GET` route; the handler picks the status.
    public func get(_ pattern: String, public isPublic: Bool = false,
                    scope: String? = nil, timeout: Duration? = nil,
                    _ handler: @escaping (Request) throws -> Response) {
        on("GET", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `POST` route; the returned value is sent as JSON with status 200.
    public func post<T: Encodable>(_ pattern: String, public isPublic: Bool = false,
                                   scope: String? = nil, timeout: Duration? = nil,
                                   _ handler: @escaping (Request) throws -> T) {
        on("POST", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `POST` route; the returned JSON is sent unchanged with status 200.
    public func post(_ pattern: String, public isPublic: Bool = false,
                     scope: String? = nil, timeout: Duration? = nil,
                     _ handler: @escaping (Request) throws -> RawJSON) {
        on("POST", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `POST` route; the handler picks the status.
    public func post(_ pattern: String, public isPublic: Bool = false,
                     scope: String? = nil, timeout: Duration? = nil,
                     _ handler: @escaping (Request) throws -> Response) {
        on("POST", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `PUT` route; the returned value is sent as JSON with status 200.
    public func put<T: Encodable>(_ pattern: String, public isPublic: Bool = false,
                                  scope: String? = nil, timeout: Duration? = nil,
                                  _ handler: @escaping (Request) throws -> T) {
        on("PUT", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `PUT` route; the returned JSON is sent unchanged with status 200.
    public func put(_ pattern: String, public isPublic: Bool = false,
                    scope: String? = nil, timeout: Duration? = nil,
                    _ handler: @escaping (Request) throws -> RawJSON) {
        on("PUT", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `PUT` route; the handler picks the status.
    public func put(_ pattern: String, public isPublic: Bool = false,
                    scope: String? = nil, timeout: Duration? = nil,
                    _ handler: @escaping (Request) throws -> Response) {
        on("PUT", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `PATCH` route; the returned value is sent as JSON with status 200.
    public func patch<T: Encodable>(_ pattern: String, public isPublic: Bool = false,
                                    scope: String? = nil, timeout: Duration? = nil,
                                    _ handler: @escaping (Request) throws -> T) {
        on("PATCH", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `PATCH` route; the returned JSON is sent unchanged with status 200.
    public func patch(_ pattern: String, public isPublic: Bool = false,
                      scope: String? = nil, timeout: Duration? = nil,
                      _ handler: @escaping (Request) throws -> RawJSON) {
        on("PATCH", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `PATCH` route; the handler picks the status.
    public func patch(_ pattern: String, public isPublic: Bool = false,
                      scope: String? = nil, timeout: Duration? = nil,
                      _ handler: @escaping (Request) throws -> Response) {
        on("PATCH", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `DELETE` route; the returned value is sent as JSON with status 200.
    public func delete<T: Encodable>(_ pattern: String, public isPublic: Bool = false,
                                     scope: String? = nil, timeout: Duration? = nil,
                                     _ handler: @escaping (Request) throws -> T) {
        on("DELETE", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `DELETE` route; the returned JSON is sent unchanged with status 200.
    public func delete(_ pattern: String, public isPublic: Bool = false,
                       scope: String? = nil, timeout: Duration? = nil,
                       _ handler: @escaping (Request) throws -> RawJSON) {
        on("DELETE", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }

    /// `DELETE` route; the handler picks the status.
    public func delete(_ pattern: String, public isPublic: Bool = false,
                       scope: String? = nil, timeout: Duration? = nil,
                       _ handler: @escaping (Request) throws -> Response) {
        on("DELETE", pattern, public: isPublic, scope: scope, timeout: timeout, handler)
    }
}
