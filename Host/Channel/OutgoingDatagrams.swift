import BerthPOSIX

/// Datagrams waiting for room in a channel's socket, oldest first, with
/// the descriptor (a duplicate this queue owns) each is to carry.
struct OutgoingDatagrams {
    private var items: [(datagram: [UInt8], passing: FileDescriptor?)] = []
    /// Sent items before this index are gone: removing from the front
    /// without moving the rest on every datagram.
    private var head = 0

    var isEmpty: Bool { head == items.count }

    var first: (datagram: [UInt8], passing: FileDescriptor?)? { isEmpty ? nil : items[head] }

    mutating func append(_ datagram: [UInt8], passing: FileDescriptor?) {
        items.append((datagram, passing))
    }

    /// Drops the first item, sent, and closes its descriptor: the kernel
    /// holds its own reference once the datagram is sent.
    mutating func removeFirst() {
        items[head].passing?.close()
        items[head] = ([], nil)
        head += 1
        if head == items.count || head >= 1024 {
            items.removeFirst(head)
            head = 0
        }
    }

    /// Forgets everything unsent, closing the descriptors it owned.
    mutating func removeAll() {
        for item in items[head...] { item.passing?.close() }
        items = []
        head = 0
    }
}
