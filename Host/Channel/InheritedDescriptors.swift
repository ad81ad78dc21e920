import BerthPOSIX

/// The descriptors a worker inherits from the host, at fixed numbers: the
/// host hands them to `ChildProcess.spawn` in `spawnOrder`, which numbers
/// them from 3; the worker finds them at `inWorker`. Every other descriptor
/// is closed in the worker, and it marks these close-on-exec first thing
/// (`keepFromPrograms`), so a program the plugin runs cannot hold the
/// channel open after the worker is gone.
public struct InheritedDescriptors {
    /// The worker's end of the channel (SOCK_SEQPACKET).
    public var channel: FileDescriptor
    /// The plugin library: a private in-memory copy, closed once loaded.
    public var library: FileDescriptor
    /// The worker's shared stats block.
    public var stats: FileDescriptor

    public init(channel: FileDescriptor, library: FileDescriptor, stats: FileDescriptor) {
        self.channel = channel
        self.library = library
        self.stats = stats
    }

    /// The number spawn gives the first descriptor of `spawnOrder`.
    public static let firstNumber: Int32 = 3

    /// Where a worker finds them.
    public static let inWorker = InheritedDescriptors(channel: FileDescriptor(rawValue: firstNumber),
                                                      library: FileDescriptor(rawValue: firstNumber + 1),
                                                      stats: FileDescriptor(rawValue: firstNumber + 2))

    /// The host's descriptors in the order that gives them those numbers.
    public var spawnOrder: [FileDescriptor] { [channel, library, stats] }

    /// Marks them close-on-exec (dup2 in spawn cleared the flag).
    public func keepFromPrograms() throws {
        for fd in spawnOrder { try fd.setCloseOnExec() }
    }
}
