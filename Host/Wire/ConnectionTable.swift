/// A server's open connections by descriptor number. Descriptors are small
/// and dense, so this is an array: a lookup costs no hashing (a Dictionary's
/// hash was 2% of the instructions of a connection with one request).
struct ConnectionTable {
    private var slots: [Connection?] = []
    private(set) var count = 0
    var isEmpty: Bool { count == 0 }

    subscript(fd: Int32) -> Connection? {
        get { Int(fd) < slots.count ? slots[Int(fd)] : nil }
        set {
            let index = Int(fd)
            if index >= slots.count {
                guard newValue != nil else { return }
                slots.append(contentsOf: repeatElement(nil, count: index + 64 - slots.count))
            }
            switch (slots[index] == nil, newValue == nil) {
            case (true, false): count += 1
            case (false, true): count -= 1
            default: break
            }
            slots[index] = newValue
        }
    }

    /// A snapshot, so connections may be closed while it is walked.
    var values: [Connection] { slots.compactMap { $0 } }
}
