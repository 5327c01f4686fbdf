import Synchronization

/// A fixed number of counters, each added to with a relaxed atomic addition: for counts that
/// callers on any thread bump on a hot path without a lock (a histogram's buckets, answers by
/// kind). Reading them all is not one atomic step: a reader may see one counter a step ahead
/// of another.
package struct AtomicCounters: ~Copyable, @unchecked Sendable {
    // Unchecked: the counters are reached only through their atomics, and the memory is
    // allocated once, in init, and freed in deinit.
    private let counters: UnsafeMutablePointer<Atomic<Int>>
    /// How many counters there are.
    package let count: Int

    /// `count` counters, all 0.
    package init(count: Int) {
        precondition(count > 0, "AtomicCounters needs at least one counter")
        self.count = count
        counters = .allocate(capacity: count)
        for index in 0..<count { (counters + index).initialize(to: Atomic(0)) }
    }

    deinit {
        counters.deinitialize(count: count)
        counters.deallocate()
    }

    /// Adds `amount` to counter `index`.
    @inline(__always)
    package func add(_ amount: Int, at index: Int) {
        precondition(index >= 0 && index < count, "counter index out of range")
        counters[index].wrappingAdd(amount, ordering: .relaxed)
    }

    /// Every counter's value, in order.
    package var values: [Int] {
        (0..<count).map { counters[$0].load(ordering: .relaxed) }
    }
}
