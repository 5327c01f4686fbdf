import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import Testing

@Suite("Status, items and buyers", .timeLimit(.minutes(1)))
struct StatusTests {
    @Test("status reads many items across three nodes in order, nil for unknown ones")
    func statusAcrossNodes() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let items = Array(cluster.items(perNode: 3).joined())
        for (index, item) in items.enumerated() {
            _ = try await cluster.coordinator.publish(item, stock: 10 + index, limitPerUser: index % 3)
            if index % 2 == 0 { _ = try await cluster.coordinator.purchase(item, user: "u", quantity: 1) }
        }
        var asked = items.reversed() as [String]
        asked.insert(cluster.item("unknown-1"), at: 2)
        asked.append(cluster.item("unknown-2"))
        let statuses = try await cluster.coordinator.status(asked)
        #expect(statuses.count == asked.count)
        for (item, status) in zip(asked, statuses) {
            guard let index = items.firstIndex(of: item) else {
                #expect(status == nil, "\(item) was never published")
                continue
            }
            let status = try #require(status)
            #expect(status.item == item)
            #expect(status.total == 10 + index)
            #expect(status.sold == (index % 2 == 0 ? 1 : 0))
            #expect(status.remaining == status.total - status.sold)
            #expect(status.limit == index % 3)
            #expect(status.buyers == (index % 2 == 0 ? 1 : 0))
            #expect(status.epoch == 1)
            #expect(status.node == cluster.client.nodes[cluster.nodeIndex(of: item)].name)
        }
        #expect(Set(statuses.compactMap { $0?.node }).count == 3)
    }

    @Test("status of items across three nodes is one pipelined round trip per node and keeps the order asked")
    func statusIsOneRoundTripPerNode() async throws {
        // One connection per node, so the warm-up below opens every connection status uses.
        let cluster = try await SaleCluster.start(nodes: 3, pool: PoolSettings(connectionsPerNode: 1))
        let byNode = cluster.items(perNode: 4)
        for (node, items) in byNode.enumerated() {
            for (index, item) in items.enumerated() {
                _ = try await cluster.coordinator.publish(item, stock: 100 * (node + 1) + index)
                for buyer in 0..<index { _ = try await cluster.coordinator.purchase(item, user: "u\(buyer)") }
            }
        }
        // Interleaved across nodes, so any grouping that lost the positions would show.
        let asked = (0..<4).flatMap { index in byNode.indices.reversed().map { byNode[$0][index] } }
        // Open every pool connection first: the handshake would count as reads too.
        _ = try await cluster.coordinator.status(asked)

        /// `total_reads_processed`, `cmdstat_hmget` and `cmdstat_hlen` calls of node `node`.
        func counters(_ node: Int) async throws -> (reads: Int, hmget: Int, hlen: Int) {
            let text = try await cluster.redis("INFO", "stats", "commandstats", key: ItemKeys(item: byNode[node][0]).meta).string ?? ""
            func line(_ prefix: String) -> Substring {
                text.split(whereSeparator: \.isNewline).first { $0.hasPrefix(prefix) }?.dropFirst(prefix.count) ?? ""
            }
            /// `calls=N` of a `cmdstat_...:calls=N,usec=...` line; 0 when the command never ran.
            func calls(_ command: String) -> Int {
                line("cmdstat_\(command):").split(separator: ",").first { $0.hasPrefix("calls=") }.flatMap { Int($0.dropFirst(6)) } ?? 0
            }
            let reads = Int(line("total_reads_processed:").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            return (reads, calls("hmget"), calls("hlen"))
        }
        var before: [(reads: Int, hmget: Int, hlen: Int)] = []
        for node in byNode.indices { before.append(try await counters(node)) }
        let statuses = try await cluster.coordinator.status(asked)
        for node in byNode.indices {
            let after = try await counters(node)
            // One read event for the status pipeline, one for the INFO that reads the counters.
            #expect(after.reads - before[node].reads == 2, "node \(node): \(after.reads - before[node].reads) reads")
            #expect(after.hmget - before[node].hmget == 4, "node \(node): \(after.hmget - before[node].hmget) HMGET")
            #expect(after.hlen - before[node].hlen == 4, "node \(node): \(after.hlen - before[node].hlen) HLEN")
        }
        #expect(statuses.map { $0?.item } == asked)
        for (item, status) in zip(asked, statuses) {
            let node = cluster.nodeIndex(of: item)
            let index = try #require(byNode[node].firstIndex(of: item))
            #expect(status?.total == 100 * (node + 1) + index)
            #expect(status?.sold == index)
            #expect(status?.buyers == index)
            #expect(status?.node == cluster.client.nodes[node].name)
        }
    }

    @Test("status and allItems fail naming the node that is down instead of leaving its items out")
    func nodeDownIsReported() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let items = Array(cluster.items(perNode: 1).joined())
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 5) }
        #expect(try await cluster.coordinator.allItems().filter { $0.hasPrefix(cluster.prefix) } == items.sorted())
        let down = cluster.servers[1]
        down.stop()
        do {
            let found = try await cluster.coordinator.allItems()
            Issue.record("allItems answered \(found.count) items with node 1 down")
        } catch {
            #expect(error.code == .redis)
            #expect(error.message.contains(String(down.port)), "\(error.message)")
        }
        do {
            let statuses = try await cluster.coordinator.status(items)
            Issue.record("status answered \(statuses) with node 1 down")
        } catch {
            #expect(error.code == .redis)
            #expect(error.message.contains(items[1]), "\(error.message)")
        }
    }

    @Test("status whose reply is lost fails with an unknown outcome and is not sent again")
    func lostReplyIsNotResent() async throws {
        let cluster = try await SaleCluster.start(proxied: true)
        let items = (0..<3).map { cluster.item("lost-\($0)") }
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 4) }
        func hmgetCalls() async throws -> Int {
            let text = try await cluster.redis("INFO", "commandstats", key: ItemKeys(item: items[0]).meta).string ?? ""
            let line = text.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_hmget:") } ?? ""
            return line.dropFirst("cmdstat_hmget:".count).split(separator: ",").first { $0.hasPrefix("calls=") }.flatMap {
                Int($0.dropFirst(6))
            } ?? 0
        }
        let before = try await hmgetCalls()
        cluster.proxies[0].arm(.dropNextReply)
        do {
            let statuses = try await cluster.coordinator.status(items)
            Issue.record("status answered \(statuses) though its reply was lost")
        } catch {
            #expect(error.code == .redis)
            #expect(error.redis?.outcomeUnknown == true, "\(error)")
        }
        // The pipeline ran once on the server; nothing was resent after the lost reply.
        #expect(try await hmgetCalls() - before == 3)
        #expect(try await cluster.coordinator.status(items).map { $0?.total } == [4, 4, 4])
    }

    @Test("status of more items on one node than its in-flight limit still reads them all")
    func statusOfManyItems() async throws {
        let cluster = try await SaleCluster.start(pool: PoolSettings(maxInFlightPerNode: 64))
        let items = (0..<200).map { cluster.item("many-\($0)") }
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 3) }
        let statuses = try await cluster.coordinator.status(items)
        #expect(statuses.compactMap { $0?.total } == Array(repeating: 3, count: 200))
    }

    @Test("status of no items is empty")
    func statusOfNothing() async throws {
        let cluster = try await SaleCluster.start()
        #expect(try await cluster.coordinator.status([]).isEmpty)
    }

    @Test("allItems finds every published item on every node and nothing else")
    func allItemsFindsPublished() async throws {
        let cluster = try await SaleCluster.start(nodes: 3)
        let items = Array(cluster.items(perNode: 4).joined())
        for item in items { _ = try await cluster.coordinator.publish(item, stock: 2) }
        // Sales add buyers, orders and request keys; none of them is an item.
        _ = try await cluster.coordinator.purchase(items[0], user: "u")
        let other = ItemKeys(item: cluster.item("other")).meta
        try await cluster.redis("SET", other, "not a hash", key: other)
        try await cluster.redis("HSET", "unrelated:{x}", "total", "1", key: "unrelated:{x}")
        let found = try await cluster.coordinator.allItems()
        #expect(found.filter { $0.hasPrefix(cluster.prefix) } == items.sorted())
        #expect(found == found.sorted())
    }

    @Test("buyers are read page by page until the cursor runs out, each exactly once")
    func buyersPaging() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 1_000)
        try await cluster.coordinator.prepare()
        // More buyers than Redis keeps in a compact hash (which HSCAN returns whole), so the
        // buyers really come in pages.
        try await cluster.cli(node: 0, "CONFIG", "SET", "hash-max-listpack-entries", "64")
        let requests = (0..<300).map { PurchaseRequest(item: item, user: "buyer-\($0)", quantity: 1 + $0 % 3) }
        let results = await cluster.coordinator.purchase(requests)
        #expect(results.allSatisfy { (try? $0.get())?.kind == "purchased" })
        var seen: [String: Int] = [:]
        var cursor = "0"
        var pages = 0
        repeat {
            let page = try await cluster.coordinator.buyers(item, cursor: cursor, count: 50)
            pages += 1
            for buyer in page.buyers {
                #expect(seen[buyer.user] == nil, "\(buyer.user) appeared twice")
                seen[buyer.user] = buyer.units
            }
            guard let next = page.next else { break }
            cursor = next
        } while pages < 100
        #expect(pages > 1)
        #expect(seen == Dictionary(uniqueKeysWithValues: requests.map { ($0.user, $0.quantity) }))
    }

    @Test("a small buyers list comes in one page with no next cursor; an unknown item has none")
    func buyersSinglePage() async throws {
        let cluster = try await SaleCluster.start()
        let item = cluster.item()
        _ = try await cluster.coordinator.publish(item, stock: 10)
        _ = try await cluster.coordinator.purchase(item, user: "a", quantity: 2)
        _ = try await cluster.coordinator.purchase(item, user: "b")
        let page = try await cluster.coordinator.buyers(item)
        #expect(page.next == nil)
        #expect(Dictionary(uniqueKeysWithValues: page.buyers.map { ($0.user, $0.units) }) == ["a": 2, "b": 1])
        let empty = try await cluster.coordinator.buyers(cluster.item("nobody"))
        #expect(empty.buyers.isEmpty)
        #expect(empty.next == nil)
    }
}
