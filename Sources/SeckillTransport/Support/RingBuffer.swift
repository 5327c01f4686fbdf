/// A growable FIFO queue with O(1) append and removal at the front.
///
/// The standard library has no deque; replies are matched to callers strictly in
/// order, so the connection needs exactly this and nothing more.
struct RingBuffer<Element> {
    private var storage: [Element?]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int = 16) {
        storage = Array(repeating: nil, count: Swift.max(capacity, 1))
    }

    var isEmpty: Bool { count == 0 }

    var first: Element? { count == 0 ? nil : storage[head] }

    mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    mutating func removeFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    /// Calls `body` on every element in order and lets it modify the element in place.
    mutating func mutateEach(_ body: (inout Element) -> Void) {
        for offset in 0..<count {
            let index = (head + offset) % storage.count
            body(&storage[index]!)
        }
    }

    /// Calls `body` on the elements in order, letting it modify each in place, until it
    /// returns false.
    mutating func mutatePrefix(_ body: (inout Element) -> Bool) {
        for offset in 0..<count {
            let index = (head + offset) % storage.count
            if !body(&storage[index]!) { return }
        }
    }

    /// Removes the first element matching `predicate`, keeping the others in order: O(count),
    /// for rare removals from the middle (a cancelled waiter).
    mutating func remove(firstWhere predicate: (Element) -> Bool) -> Element? {
        var found: Element?
        var kept = RingBuffer(capacity: storage.count)
        while let element = removeFirst() {
            if found == nil && predicate(element) { found = element } else { kept.append(element) }
        }
        self = kept
        return found
    }

    /// Removes every element, front first.
    mutating func removeAll() -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(count)
        while let element = removeFirst() { result.append(element) }
        head = 0
        return result
    }

    private mutating func grow() {
        var bigger = [Element?](repeating: nil, count: storage.count * 2)
        for offset in 0..<count {
            bigger[offset] = storage[(head + offset) % storage.count]
        }
        storage = bigger
        head = 0
    }
}
