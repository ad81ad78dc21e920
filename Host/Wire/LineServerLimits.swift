import BerthPOSIX
import BerthSupport

extension LineServer {
    /// What a server allows each client, and how many clients: plugin
    /// settings and `berth serve` flags for workers, fixed for the control
    /// socket. "Limits on clients" in docs/operating.md explains each.
    public struct Limits {
        /// A request larger than this is answered 413 and the connection closed.
        public var maxRequestBytes = 1 << 20
        /// Stop reading from a client whose unread answers exceed this.
        public var maxPendingOutput = 4 << 20
        /// A connection with no traffic either way for this many seconds
        /// is closed (0: never).
        public var idleTimeout = 60.0
        /// A request not whole this many seconds after its first byte is
        /// answered 408 and the connection closed (0: no deadline).
        public var readTimeout = 10.0
        /// Connections served at once; the next ones are answered 503 and
        /// closed.
        public var maxConnections = 10_000
        /// The last this many of `maxConnections` are kept for clients
        /// running as the server's own user or as root: others are refused
        /// once `maxConnections - reservedForOwner` are open. The control
        /// socket keeps some, so clients that may reach it but hold no
        /// token cannot fill it and lock the operator out.
        public var reservedForOwner = 0
        public init() {}

        /// What all of a server's connections may hold at once in input
        /// buffers grown beyond their first 4 KiB (unfinished requests,
        /// mostly), in MiB; nil: the default, 64 MiB, or four requests of
        /// the largest size allowed if that is more. Past it, the
        /// connection whose buffer would grow is answered 503 and closed.
        public var maxBufferedInputMB: Int?

        /// In bytes; never less than one request of the largest size.
        public var maxBufferedInput: Int {
            let request = maxRequestBytes + 65536
            guard let mebibytes = maxBufferedInputMB else { return max(64 << 20, 4 * request) }
            return max(mebibytes << 20, request)
        }

        /// Descriptors a worker keeps for itself and its plugin: half its
        /// open-file limit, at least 12 (the worker's own 9, one for the
        /// connection it accepts only to answer 503, and two for the plugin)
        /// and at most 64. A fixed 64 left the smallest `open_files` (16)
        /// one connection; now 16 serves 4, 32 serves 16, 128 and more
        /// serve all but 64 (docs/operating.md, "Resource limits").
        static func reservedDescriptors(openFiles: Int) -> Int {
            min(64, max(12, openFiles / 2))
        }

        /// Caps maxConnections to what the open-file limit allows, so a
        /// full worker answers 503 instead of failing accept(2) with EMFILE.
        public mutating func fitMaxConnections(toOpenFileLimit openFiles: Int, plugin: String?) {
            let room = max(1, openFiles - Limits.reservedDescriptors(openFiles: openFiles))
            guard maxConnections > room else { return }
            Log.warn("max_connections \(maxConnections) exceeds what the open-file limit of \(openFiles) allows; serving at most \(room) connections (raise limits.open_files if the plugin's settings set it, otherwise the hard limit: LimitNOFILE= under systemd, ulimit -Hn in a shell)", plugin: plugin)
            maxConnections = room
        }
    }
}
