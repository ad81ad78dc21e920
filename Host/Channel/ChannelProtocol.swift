/// The host <-> worker channel: a SOCK_SEQPACKET socket pair made for each
/// worker (`UnixSocket.seqpacketPair`), the worker's end inherited as fd 3
/// (see InheritedDescriptors).
///
/// Messages, in the order a worker's life sends them:
///
///     host -> worker   setup    always first: the plugin's config (raw bytes),
///                               resource limits, the user to run as
///     worker -> host   named    the descriptor checked out; the plugin's name
///                               (init has not run yet); or
///                      failed   why the plugin could not load (then it exits)
///     host -> worker   initialize   the name is this file's to use: call init
///                               (a duplicate name is refused by closing the
///                               channel instead, so its init never runs)
///     worker -> host   loaded   name, version, ABI, typed routes; or
///                      failed   why init failed (then it exits)
///     host -> worker   serve    admin token, client limits, time limits,
///                               scoped tokens, allowed uids; the plugin's
///                               listening socket rides on it (SCM_RIGHTS)
///     host -> worker   tokens   the tokens file changed: the new scoped tokens
///     worker -> host   tokens-applied   answered once they are in force
///     worker -> host   timeout  sent by the watchdog thread (Shims/watchdog.c)
///                               just before the worker exits 124
///
/// HostMessage and WorkerMessage list them; ChannelCodec turns each into
/// bytes: a type byte, then its fields in a fixed order, each exact
/// (integers little-endian, byte strings and arrays length-prefixed), so a
/// name, pattern or config holding spaces, newlines or any byte arrives as
/// sent. Nothing in a message is text to be split.
///
/// Framing (ChannelFraming): a message is cut into datagrams of at most
/// `datagramBytes`, each a header byte (`more` or `last`) and a piece of the
/// message. The receiver joins the pieces, so a message of any size up to
/// its direction's limit (`maximumMessageBytes` from the host,
/// `maximumWorkerMessageBytes` from a worker) passes whole; a larger one is
/// refused by the sender and by the receiver with an error naming the
/// limit, never cut. A socket
/// passed with a message travels on its first datagram.
///
/// The host never waits on a worker: it reads only what is ready, and at
/// most a `ChannelReadBudget` of it per wakeup so one busy worker cannot
/// hold the host's thread, keeping a partial message per worker, and queues what a worker has no room for
/// until the channel is writable (ChannelEnd). A worker waits on the host
/// until it serves, then reads the channel from its event loop like the host.
/// The watchdog thread's report is encoded by ChannelCodec when the worker
/// starts serving and sent as one datagram; what the worker's own thread
/// sends while serving is one datagram too, so the report can never land
/// between the pieces of another message.
public enum ChannelProtocol {
    /// A datagram's size limit: well under the socket's send buffer
    /// (net.core.wmem_default, 208 KiB here), so one always fits.
    public static let datagramBytes = 32 * 1024
    /// The largest message the host sends (HostMessage): a setup carries
    /// the plugin's config, which may be this large.
    public static let maximumMessageBytes = 64 * 1024 * 1024
    /// The largest message a worker sends (WorkerMessage). Smaller than
    /// the host's because the host buffers a partial one per worker, and
    /// the plugin's code runs in the worker and can write to the channel's
    /// descriptor itself: a plugin cannot make the host hold more than this
    /// per worker. Still far above what a worker needs (a `loaded` with
    /// 10,000 routes is about 300 KiB).
    public static let maximumWorkerMessageBytes = 16 * 1024 * 1024
}
