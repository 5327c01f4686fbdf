public import SeckillRouting

/// Where the buckets of a bucketed item live (see ``SaleCoordinator/publish(_:stock:limitPerUser:window:replace:buckets:)``).
///
/// A bucketed item's root hash `seckill:{ITEM}` holds no stock: it records `buckets` (K),
/// `generation` (the epoch of the publish that made them), `salts`, `limit`, optional `start` /
/// `end`, `stock` (units published) and `epoch`. Bucket `j` has the keys of a plain item
/// under the hash tag `ITEM#G.K.j.s` with the prefix `seckill:b:` (`seckill:b:{ITEM#G.K.j.s}`,
/// `...:buyers`, `:orders`, `:cancels`, `:requests`, `:restocks`) plus `:transfers` and
/// `:pending` for the stock moved between buckets. Plain item keys start with `seckill:{`, so
/// the two namespaces never collide, and the generation and bucket count in the tag make a
/// layout cached by a coordinator before a republish name keys that no longer exist.
public struct BucketLayout: Sendable, Hashable {
    /// The item id.
    public let item: String
    /// The epoch of the publish that made these buckets (part of every bucket's tag).
    public let generation: Int
    /// The salt of each bucket's tag, chosen so that the buckets land on different nodes.
    public let salts: [Int]
    /// The per-user limit, 0 for none.
    public let limit: Int
    /// The payment deadline of each purchase in ms, nil for none (every bucket's hash and the
    /// root record it as `payWithinMs`).
    public let payWithinMs: Int64?
    /// Every bucket's keys, made once (a purchase names them without building strings).
    private let bucketKeys: [ItemKeys]

    /// The number of buckets.
    public var count: Int { salts.count }

    /// Creates a layout from its parts.
    public init(item: String, generation: Int, salts: [Int], limit: Int, payWithinMs: Int64? = nil) {
        self.item = item
        self.generation = generation
        self.salts = salts
        self.limit = limit
        self.payWithinMs = payWithinMs
        bucketKeys = salts.indices.map {
            ItemKeys(item: item, bucketTag: Self.tag(item: item, generation: generation, count: salts.count, index: $0, salt: salts[$0]))
        }
    }

    /// The hash tag of bucket `index`: `ITEM#G.K.j.s`.
    public func tag(_ index: Int) -> String { Self.tag(item: item, generation: generation, count: count, index: index, salt: salts[index]) }

    /// The keys of bucket `index`.
    public func keys(_ index: Int) -> ItemKeys { bucketKeys[index] }

    /// The slot of bucket `index`.
    public func slot(_ index: Int) -> HashSlot { HashSlot(key: keys(index).meta) }

    /// The bucket every purchase and cancellation of `user` goes to: a stable hash (FNV-1a)
    /// of the user id's bytes modulo the bucket count, the same in every process.
    public func home(of user: String) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in user.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return Int(hash % UInt64(max(1, count)))
    }

    /// Order ids of a bucketed item name their bucket: `j:MILLISECONDS-SEQUENCE`.
    public static func order(bucket: Int, entry: String) -> String { "\(bucket):\(entry)" }

    /// The bucket and stream entry of an order id of the form `j:MILLISECONDS-SEQUENCE`, or
    /// nil for any other form.
    public static func parseOrder(_ order: String) -> (bucket: Int, entry: String)? {
        guard let colon = order.firstIndex(of: ":"), let bucket = Int(order[..<colon]), bucket >= 0, bucket < maxBuckets else {
            return nil
        }
        return (bucket, String(order[order.index(after: colon)...]))
    }

    /// Most buckets one item may have.
    public static let maxBuckets = 64

    static func tag(item: String, generation: Int, count: Int, index: Int, salt: Int) -> String {
        "\(item)#\(generation).\(count).\(index).\(salt)"
    }

    /// Chooses a salt per bucket so that bucket `j`'s slot is owned by a node that no earlier
    /// bucket uses (with more buckets than nodes, a node among those used least so far), by
    /// trying salts 0, 1, 2, ... against `map`.
    ///
    /// - Returns: One salt per bucket.
    public static func place(item: String, generation: Int, count: Int, on map: SlotMap) -> [Int] {
        var uses = [Int](repeating: 0, count: map.nodes.count)
        var salts: [Int] = []
        for index in 0..<count {
            let fewest = uses.min() ?? 0
            var chosen = 0
            var best = Int.max
            // A node owning few slots may take many tries; past the bound the least used node
            // seen so far is taken.
            for salt in 0..<4096 {
                let key = "seckill:b:{\(tag(item: item, generation: generation, count: count, index: index, salt: salt))}"
                let node = map.nodeIndex(forKey: key)
                if uses[node] < best {
                    best = uses[node]
                    chosen = salt
                }
                if uses[node] == fewest { break }
            }
            let node = map.nodeIndex(
                forKey: "seckill:b:{\(tag(item: item, generation: generation, count: count, index: index, salt: chosen))}")
            uses[node] += 1
            salts.append(chosen)
        }
        return salts
    }

    /// The salts as stored in the root hash: `s0,s1,...`.
    var encodedSalts: String { salts.map(String.init).joined(separator: ",") }

    /// Parses stored salts.
    static func decodeSalts(_ text: String) -> [Int]? {
        let salts = text.split(separator: ",").compactMap { Int($0) }
        return salts.isEmpty || salts.count > maxBuckets ? nil : salts
    }
}

extension ItemKeys {
    /// The keys of one bucket of `item`, under the hash tag `tag` (see ``BucketLayout``).
    init(item: String, bucketTag tag: String) {
        self.init(item: item, meta: "seckill:b:{\(tag)}")
    }

    /// A bucket's transfers hash: transfer id -> `out|n|target` (taken here, `done|n|target`
    /// once given) or `in|n|donor` (given here).
    public var transfers: String { meta + ":transfers" }

    /// A bucket's set of transfer ids taken from it and not yet marked done.
    public var pending: String { meta + ":pending" }

    /// Every key of a bucket.
    public var allBucketKeys: [String] { all + [transfers, pending] }
}
