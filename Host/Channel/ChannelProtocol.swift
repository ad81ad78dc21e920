/// The host <-> worker channel: a SOCK_SEQPACKET socket pair made for each
/// worker (`UnixSocket.seqpacketPair`), the worker's end inherited as fd 3
/// (see InheritedDescriptors).
///
/// Messages, in the order a worker's life sends them:
///
///     host -> worker   setup    always first: the plugin's config (raw bytes),
///                               resource limits, the user to run as
///     worker -> host   loaded   name, version, ABI, typed routes; or
///                      failed   why the plugin could not load (then it exits)
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
/// `maximumMessageBytes` passes whole; a larger one is refused by the sender
/// and by the receiver with an error naming the limit, never cut. A socket
/// passed with a message travels on its first datagram.
///
/// The host never waits on a worker: it reads only what is ready, keeping a
/// partial message per worker, and queues what a worker has no room for
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
    /// The largest message either side sends or accepts.
    public static let maximumMessageBytes = 64 * 1024 * 1024
}
