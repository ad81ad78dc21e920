import BerthPOSIX
import CBerthShims
import Glibc

/// A worker's counters in a memfd page both processes map: the worker
/// counts without a syscall per request, the host reads them whenever status
/// is asked for.
public final class SharedStats {
    public let fd: FileDescriptor
    public let pointer: UnsafeMutablePointer<berth_worker_stats>

    /// Creates a zeroed block (host side).
    public convenience init(name: String) throws {
        let fd = FileDescriptor(rawValue: try syscall("memfd_create") { berth_memfd_create("berth-stats-\(name)") })
        do {
            _ = try syscall("ftruncate") { ftruncate(fd.rawValue, off_t(MemoryLayout<berth_worker_stats>.size)) }
            try self.init(mapping: fd)
        } catch {
            fd.close()
            throw error
        }
    }

    /// Maps a block received from the host (worker side).
    public init(mapping fd: FileDescriptor) throws {
        let raw = mmap(nil, MemoryLayout<berth_worker_stats>.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.rawValue, 0)
        guard let raw, raw != MAP_FAILED else { throw Errno.current("mmap(stats)") }
        self.fd = fd
        self.pointer = raw.bindMemory(to: berth_worker_stats.self, capacity: 1)
    }

    deinit {
        munmap(pointer, MemoryLayout<berth_worker_stats>.size)
        fd.close()
    }

    /// Counts one answer, at once: a worker that dies in its next handler
    /// has still counted every answer it gave.
    @inline(__always)
    public func count(failed: Bool) {
        berth_stat_add(&pointer.pointee.requests, 1)
        if failed { berth_stat_add(&pointer.pointee.errors, 1) }
    }

    /// Records the latency of `requests` answers (already counted) that
    /// each took `nanoseconds`.
    @inline(__always)
    public func recordLatency(requests: Int, nanoseconds: UInt64) {
        guard requests > 0 else { return }
        berth_stat_add(&pointer.pointee.latency_total_ns, nanoseconds &* UInt64(requests))
        let bucket = min(Int(BERTH_LATENCY_BUCKETS) - 1, 63 - (nanoseconds | 1).leadingZeroBitCount)
        withUnsafeMutablePointer(to: &pointer.pointee.latency_buckets) {
            $0.withMemoryRebound(to: UInt64.self, capacity: Int(BERTH_LATENCY_BUCKETS)) {
                berth_stat_add($0 + bucket, UInt64(requests))
            }
        }
    }

    /// A consistent-enough copy for reporting.
    public func snapshot() -> Snapshot {
        var s = Snapshot()
        s.requests = berth_stat_load(&pointer.pointee.requests)
        s.errors = berth_stat_load(&pointer.pointee.errors)
        s.latencyTotalNanoseconds = berth_stat_load(&pointer.pointee.latency_total_ns)
        withUnsafeMutablePointer(to: &pointer.pointee.latency_buckets) {
            $0.withMemoryRebound(to: UInt64.self, capacity: Int(BERTH_LATENCY_BUCKETS)) { buckets in
                s.buckets = (0..<Int(BERTH_LATENCY_BUCKETS)).map { berth_stat_load(buckets + $0) }
            }
        }
        return s
    }

    public struct Snapshot {
        public var requests: UInt64 = 0
        public var errors: UInt64 = 0
        public var latencyTotalNanoseconds: UInt64 = 0
        public var buckets = [UInt64](repeating: 0, count: Int(BERTH_LATENCY_BUCKETS))
        public init() {}

        /// Counts a request the worker could not count itself (its watchdog
        /// answered it as the worker ended).
        public mutating func record(nanoseconds: UInt64, failed: Bool) {
            requests += 1
            if failed { errors += 1 }
            latencyTotalNanoseconds += nanoseconds
            buckets[min(buckets.count - 1, 63 - (nanoseconds | 1).leadingZeroBitCount)] += 1
        }

        /// Adds another worker's counts (earlier workers of the same plugin).
        public mutating func add(_ other: Snapshot) {
            requests += other.requests
            errors += other.errors
            latencyTotalNanoseconds += other.latencyTotalNanoseconds
            for i in buckets.indices { buckets[i] += other.buckets[i] }
        }

        public var meanMilliseconds: Double {
            requests == 0 ? 0 : Double(latencyTotalNanoseconds) / Double(requests) / 1e6
        }

        /// The upper edge of the bucket holding the 99th percentile: an
        /// over-estimate by at most 2x, never an under-estimate.
        public var p99Milliseconds: Double {
            let total = buckets.reduce(0, +)
            guard total > 0 else { return 0 }
            let target = (total * 99 + 99) / 100
            var seen: UInt64 = 0
            for (i, count) in buckets.enumerated() {
                seen += count
                if seen >= target { return Double(UInt64(1) << UInt64(i + 1)) / 1e6 }
            }
            return 0
        }
    }
}
