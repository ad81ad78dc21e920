/// Closed connections kept for the next ones (see Connection).
///
/// One is reused only when nothing else holds it any more: a deferred
/// reply or a timer that outlived its connection still compares it with
/// the connection table, and would see a stranger under the same object.
/// So nothing may hold a connection weakly (a weak reference does not
/// count against isKnownUniquelyReferenced); they hold it strongly, and
/// the pool passes it by until they let go.
struct ConnectionPool {
    /// Enough for a burst of short connections; more would only hold memory
    /// an idle worker does not need.
    static let kept = 64
    /// A buffer grown past this by a large request is freed, not kept.
    static let largestKept = 65536

    private var closed: [Connection] = []

    /// A connection nothing else holds, or a new one charging its input to
    /// `budget` (one per server, as is the pool).
    mutating func take(budget: InputBudget) -> Connection {
        while !closed.isEmpty {
            if isKnownUniquelyReferenced(&closed[closed.count - 1]) { return closed.removeLast() }
            // Still held: it is freed when its last holder lets go.
            closed.removeLast()
        }
        return Connection(budget: budget)
    }

    /// Takes a connection that `close` has just closed.
    mutating func recycle(_ connection: Connection) {
        guard closed.count < ConnectionPool.kept, connection.input.capacity <= ConnectionPool.largestKept,
              connection.output.capacity <= ConnectionPool.largestKept else { return }
        closed.append(connection)
    }
}
