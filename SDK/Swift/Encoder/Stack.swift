// A stack of trivial values in memory that is never freed and only grows:
// the encoder's frames and key offsets, without Array's reference counting
// and uniqueness checks on every access.
//
// Mirrors from JSONEncoder: nothing; storage only.

struct Stack<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var capacity: Int
    /// Setting it lower pops; never set it higher.
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    subscript(index: Int) -> Element {
        @inline(__always) unsafeAddress { UnsafePointer(base + index) }
        @inline(__always) nonmutating unsafeMutableAddress { base + index }
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count &+= 1
    }

    func deallocate() { base.deallocate() }

    /// Makes room for `n` elements and sets the count to `n`; the elements
    /// are not initialised, so only for trivial types that are written
    /// before they are read.
    mutating func resize(to n: Int) {
        while capacity < n { grow() }
        count = n
    }

    @inline(__always)
    mutating func removeLast() -> Element {
        count &-= 1
        return base[count]
    }

    @inline(never)
    private mutating func grow() {
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        newBase.moveInitialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity *= 2
    }
}
