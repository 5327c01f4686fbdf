import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport
import Testing

@Suite("ItemKeys")
struct ItemKeysTests {
    static let unicodeItems = [
        "商品-2026", "🎁gift", "é-composed", "e\u{301}-decomposed", "Ωμέγα", "סחורה", "🇫🇷🇯🇵", "\u{200B}zero-width",
        String(repeating: "贵", count: 42),
    ]

    @Test("the keys follow the documented layout with the item as hash tag")
    func layout() {
        let keys = ItemKeys(item: "sku-1")
        #expect(keys.item == "sku-1")
        #expect(keys.meta == "seckill:{sku-1}")
        #expect(keys.buyers == "seckill:{sku-1}:buyers")
        #expect(keys.orders == "seckill:{sku-1}:orders")
        #expect(keys.cancels == "seckill:{sku-1}:cancels")
        #expect(keys.requests == "seckill:{sku-1}:requests")
        #expect(keys.restocks == "seckill:{sku-1}:restocks")
        #expect(keys.all == [keys.meta, keys.buyers, keys.orders, keys.cancels, keys.requests, keys.restocks, keys.due, keys.payments])
    }

    @Test("every key of an item, request records included, lands in the item's own slot")
    func everyKeyInOneSlot() {
        var items = (0..<2_000).map { "item-\($0)" }
        items += Self.unicodeItems
        items += ["a", "x:y:z", "with space", "pipe|item", "colon:{", "-", "1763740800000-0", String(repeating: "z", count: 128)]
            .filter { !$0.contains("{") }
        for item in items {
            let keys = ItemKeys(item: item)
            let slot = HashSlot(key: item)
            for key in keys.all {
                #expect(HashSlot(key: key) == slot, "\(key) is not in the slot of \(item)")
            }
        }
    }

    @Test("items spread over the slots rather than sharing one")
    func itemsSpread() {
        let slots = Set((0..<1_000).map { HashSlot(key: ItemKeys(item: "item-\($0)").meta) })
        #expect(slots.count > 900)
    }

    @Test("the item id is read back from a meta key and from nothing else")
    func itemFromMetaKey() {
        for item in ["sku-1", "a"] + Self.unicodeItems {
            #expect(ItemKeys.item(fromMetaKey: ItemKeys(item: item).meta) == item)
        }
        let keys = ItemKeys(item: "sku-1")
        for other in [
            keys.buyers, keys.orders, keys.cancels, keys.requests, keys.restocks, "seckill:{}", "seckill:sku-1", "other:{sku-1}",
            "seckill:{a}b}", "seckill:{{a}",
        ] {
            #expect(ItemKeys.item(fromMetaKey: other) == nil, "\(other)")
        }
    }

    @Test("Redis Cluster itself puts every key of an item in one slot", .timeLimit(.minutes(1)))
    func redisClusterAgrees() async throws {
        let server = try await RedisServer.clusterEnabled()
        let items = Self.unicodeItems + ["plain-item", "x:y"]
        var arguments: [String] = []
        for item in items {
            let keys = ItemKeys(item: item)
            arguments += keys.all
        }
        let keys = arguments
        let outputs = try await offThePool {
            try keys.map { try server.cli("CLUSTER", "KEYSLOT", $0).trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        for (index, key) in arguments.enumerated() {
            let item = items[index / ItemKeys(item: "x").all.count]
            #expect(outputs[index] == String(HashSlot(key: item).rawValue), "\(key)")
        }
    }
}
