import SeckillRESP
import SeckillRouting
import Synchronization

/// What a purchase of one item sends that never changes, made once per item: the four keys
/// (five for an item with a payment deadline: its deadlines set),
/// their slot, and `EVALSHA sha 4 KEYS...` already encoded. A purchase then only appends its
/// own four arguments, instead of building four key strings, hashing the tag and encoding
/// every argument again on each of a crowd's attempts.
/// A class, so that a purchase takes it from the cache with one reference count, not one per
/// key and prefix.
final class PurchaseCall: Sendable {
    /// The item hash, buyers, orders and request records keys.
    let keys: [String]
    /// The slot of the item's hash tag.
    let slot: HashSlot
    /// `EVALSHA sha 4 KEYS...` for the script SHA it was made with; nil while none was known.
    let prefix: ScriptPrefix?
    /// The coordinator's ``SaleCoordinator/shaVersion`` when it was made (0 when unknown).
    let shaVersion: Int
    /// Whether the keys name the item's deadlines set (the item has a payment deadline).
    var due: Bool { keys.count == 5 }

    init(keys: [String], slot: HashSlot, prefix: ScriptPrefix?, shaVersion: Int) {
        self.keys = keys
        self.slot = slot
        self.prefix = prefix
        self.shaVersion = shaVersion
    }
}

/// A script command's name, SHA and keys, encoded; a call's arguments are appended to it as
/// it is written (``SeckillRESP/RESPCommand/encode(appending:into:)``). A class: a purchase
/// reads it with one reference count, not one per SHA and command buffer.
final class ScriptPrefix: Sendable {
    /// The SHA the prefix names.
    let sha: String
    /// `EVALSHA sha numkeys KEYS...`.
    let command: RESPCommand

    init(sha: String, command: RESPCommand) {
        self.sha = sha
        self.command = command
    }
}

/// The purchase calls of the items bought recently, by item id. Bounded: when it holds
/// ``capacity`` items it starts again empty, so a process that sees millions of item ids
/// keeps a bounded amount of memory (a rebuilt entry costs what every call used to).
final class PurchaseCalls: Sendable {
    /// Most items remembered.
    static let capacity = 65_536

    private let entries = Mutex<[String: PurchaseCall]>([:])

    /// The call of `item` for the script SHA `sha`, known at the coordinator's `shaVersion`
    /// (0 while no SHA is known). A cached call made at that version is current without
    /// reading or comparing the SHA; an item not seen before is validated here, once.
    ///
    /// - Throws: ``SaleError`` for an invalid item id.
    @inline(__always)
    func call(for item: String, shaVersion: Int, sha: @autoclosure () -> String?) throws(SaleError) -> PurchaseCall {
        let cached = entries.withLock { $0[item] }
        if let cached, shaVersion != 0, cached.shaVersion == shaVersion {
            return cached
        }
        return try call(for: item, sha: sha(), due: cached?.due ?? false, shaVersion: shaVersion)
    }

    /// The call of `item` naming its deadlines set (`due`) or not, remembered for the next
    /// purchases: the purchase script answers `D` when an item with a payment deadline was
    /// called without it, and the coordinator then switches the item to this one.
    func call(for item: String, sha: String?, due: Bool, shaVersion: Int) throws(SaleError) -> PurchaseCall {
        try SaleInput.validateItem(item)
        let keys = ItemKeys(item: item)
        let list = keys.purchaseKeys(due: due)
        let prefix = sha.map { sha in
            ScriptPrefix(sha: sha, command: SaleCoordinator.scriptCommand("EVALSHA", sha, keys: list, arguments: []))
        }
        let entry = PurchaseCall(keys: list, slot: HashSlot(key: keys.meta), prefix: prefix, shaVersion: sha == nil ? 0 : shaVersion)
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[item] = entry
        }
        return entry
    }
}
