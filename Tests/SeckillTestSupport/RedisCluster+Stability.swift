import Foundation

extension RedisCluster {
    // MARK: Reading nodes (blocking)

    func runningNow() -> [RedisServer] { running }

    func primariesNow(includingEmpty: Bool = false) throws -> [RedisServer] {
        let live = runningNow()
        let observer = try live.first.orThrow("no node is running")
        let view = try Self.clusterNodes(port: observer.port)
        let ports = view.filter { $0.isPrimary && !$0.isFailing && (includingEmpty || !$0.slots.isEmpty) }.map(\.port)
        return live.filter { ports.contains($0.port) }.sorted { $0.port < $1.port }
    }

    func replicasNow(of primary: RedisServer) throws -> [RedisServer] {
        let observer = try runningNow().first.orThrow("no node is running")
        let view = try Self.clusterNodes(port: observer.port)
        let node = try view.first { $0.port == primary.port }.orThrow("\(primary.port) is not in the cluster")
        let ports = view.filter { $0.primaryID == node.id && !$0.isFailing }.map(\.port)
        return runningNow().filter { ports.contains($0.port) }
    }

    func primaryNow(ofSlot slot: Int) throws -> RedisServer {
        let observer = try runningNow().first.orThrow("no node is running")
        let owner = try Self.clusterNodes(port: observer.port).first { $0.isPrimary && $0.serves(slot) }.orThrow(
            "no node serves slot \(slot)")
        return try server(port: owner.port).orThrow("slot \(slot) is served by \(owner.port), which this cluster did not start")
    }

    /// Waits until every primary streams its writes to all of its replicas. After the
    /// initial full sync a primary holds the stream back until the replica's first
    /// acknowledgement (sent once a second), while both already report the link as up and
    /// the replica as online: a primary killed in that second takes every write with it.
    /// A write (FLUSHALL, on a cluster still empty) followed by `WAIT` on the same
    /// connection returns once every replica has it.
    func waitForReplicationNow() throws {
        for primary in try primariesNow() {
            let replicas = try replicasNow(of: primary).count
            guard replicas > 0 else { continue }
            let replies = try AdminConnection.commands(
                port: primary.port, [["FLUSHALL"], ["WAIT", String(replicas), "10000"]], timeout: 15)
            guard replies[0].string == "OK", replies[1].int == replicas else {
                throw AdminError("replication from \(primary.port) did not start: FLUSHALL + WAIT answered \(replies)")
            }
        }
    }

    func waitUntilStableNow(timeout: Double) throws {
        try poll(timeout: timeout, what: "a stable cluster") { self.stabilityProblem() }
    }

    /// Calls `problem` every 50 ms until it returns nil; throws with its last answer when
    /// `timeout` seconds pass first.
    func poll(timeout: Double, what: String, _ problem: () throws -> String?) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = "never checked"
        while true {
            do {
                guard let found = try problem() else { return }
                last = found
            } catch {
                last = "\(error)"
            }
            if Date() >= deadline { throw AdminError("waited \(Int(timeout)) s for \(what): \(last)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// What keeps the cluster from being stable, or nil when it is.
    func stabilityProblem() -> String? {
        let live = runningNow()
        let livePorts = Set(live.map(\.port))
        var views: [Int: [Node]] = [:]
        var selves: [Int: Node] = [:]
        for server in live {
            do {
                let view = try Self.clusterNodes(port: server.port)
                views[server.port] = view
                selves[server.port] = view.first(where: \.isMyself)
            } catch {
                return "\(server.port): \(error)"
            }
        }
        var reference: (port: Int, owners: [String])?
        for server in live {
            do {
                let clusterInfo = try Self.info(port: server.port, ["CLUSTER", "INFO"])
                guard clusterInfo["cluster_state"] == "ok" else {
                    return "\(server.port) says cluster_state:\(clusterInfo["cluster_state"] ?? "?")"
                }
                let view = views[server.port] ?? []
                for port in livePorts {
                    guard let node = view.first(where: { $0.port == port }) else { return "\(server.port) does not know \(port) yet" }
                    if node.isFailing || node.isJoining {
                        return "\(server.port) sees \(port) as \(node.flags.sorted().joined(separator: ","))"
                    }
                    // Everyone has heard of every role change (a replica still seen as an
                    // empty primary would be discovered as one).
                    if let own = selves[port], own.isPrimary != node.isPrimary || own.primaryID != node.primaryID {
                        return "\(server.port) has not yet heard that \(port) is \(own.isPrimary ? "a primary" : "a replica")"
                    }
                }
                if let open = view.first(where: \.hasOpenSlots) { return "\(server.port) sees an open slot on \(open.port)" }
                var owners: [String] = []
                var covered = 0
                for node in view where node.isPrimary && !node.slots.isEmpty {
                    guard livePorts.contains(node.port) else { return "\(server.port) says \(node.port), which is down, serves slots" }
                    for range in node.slots {
                        owners.append("\(range.lowerBound)-\(range.upperBound)@\(node.port)")
                        covered += range.count
                    }
                }
                guard covered == 16_384 else { return "\(server.port) sees \(covered) slots served" }
                owners.sort()
                if let reference, reference.owners != owners {
                    return "\(server.port) and \(reference.port) disagree on slot owners"
                }
                reference = (server.port, owners)
                let replication = try Self.info(port: server.port, ["INFO", "replication"])
                if let me = view.first(where: \.isMyself), !me.isPrimary {
                    guard replication["master_link_status"] == "up" else {
                        return "replica \(server.port) is not linked to its primary yet"
                    }
                } else if let me = view.first(where: \.isMyself) {
                    // Every replica is connected and past its full sync (whether the primary
                    // streams to it yet is another matter: see `waitForReplicationNow`).
                    let replicas = view.filter { $0.primaryID == me.id && livePorts.contains($0.port) }.map(\.port)
                    let online = replication.filter { $0.key.hasPrefix("slave") && $0.value.contains("state=online") }.values
                    for port in replicas where !online.contains(where: { $0.contains("port=\(port),") }) {
                        return "primary \(server.port) has no online replica \(port) yet"
                    }
                }
            } catch {
                return "\(server.port): \(error)"
            }
        }
        return nil
    }

    // MARK: Commands

    static func expectOK(port: Int, _ arguments: [String]) throws {
        let reply = try AdminConnection.command(port: port, arguments)
        guard reply.string == "OK" else {
            throw AdminError("\(arguments.prefix(4).joined(separator: " ")) on \(port) answered \(reply)")
        }
    }

    static func myID(port: Int) throws -> String {
        let reply = try AdminConnection.command(port: port, ["CLUSTER", "MYID"])
        return try reply.string.orThrow("CLUSTER MYID on \(port) answered \(reply)")
    }

    /// The `field:value` lines of an `INFO` or `CLUSTER INFO` reply.
    static func info(port: Int, _ command: [String]) throws -> [String: String] {
        let reply = try AdminConnection.command(port: port, command)
        let text = try reply.string.orThrow("\(command.joined(separator: " ")) on \(port) answered \(reply)")
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// Parses `CLUSTER NODES`: `id ip:port@bus[,hostname] flags primary ping pong epoch link slot...`.
    static func clusterNodes(port: Int) throws -> [Node] {
        let reply = try AdminConnection.command(port: port, ["CLUSTER", "NODES"])
        let text = try reply.string.orThrow("CLUSTER NODES on \(port) answered \(reply)")
        return try text.split(whereSeparator: \.isNewline).map { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 8 else { throw AdminError("unexpected CLUSTER NODES line \(line)") }
            let address = parts[1].prefix { $0 != "@" && $0 != "," }
            guard let colon = address.lastIndex(of: ":"), let nodePort = Int(address[address.index(after: colon)...]) else {
                throw AdminError("unexpected address in CLUSTER NODES line \(line)")
            }
            var slots: [ClosedRange<Int>] = []
            var open = false
            for field in parts.dropFirst(8) {
                if field.hasPrefix("[") {
                    open = true
                } else if let dash = field.firstIndex(of: "-"), let low = Int(field[..<dash]),
                    let high = Int(field[field.index(after: dash)...])
                {
                    slots.append(low...high)
                } else if let single = Int(field) {
                    slots.append(single...single)
                }
            }
            return Node(
                id: String(parts[0]), port: nodePort, flags: Set(parts[2].split(separator: ",").map(String.init)),
                primaryID: parts[3] == "-" ? nil : String(parts[3]), slots: slots, hasOpenSlots: open)
        }
    }
}
