import SeckillRouting
import SeckillSale

/// `seckill plan`: places slots from the expected demand so every node expects about the same
/// share of attempts; writes the new cluster.json (static mode) or moves the slots (cluster mode).
enum PlanCommand {
    static let spec = CommandSpec(
        name: "plan",
        summary:
            "Plans where slots should live from the expected demand per item: prints each node's expected share of attempts now and as planned, and the slot moves.",
        usage: "--demand FILE [--output PATH [--move-keys]] [--apply] [--config FILE] [--json]",
        options: [
            ("--demand", #"FILE: the expected demand, {"items": [{"item": "phone", "share": 0.5, "buckets": 3}, ...]}"#),
            ("--output", "PATH: static mode: write the planned cluster.json there (it may be the --config file)"),
            ConfigLoading.option,
        ],
        flags: [
            ("--move-keys", "Static mode, with --output: move the keys of items published in moving slots to their new node first."),
            ("--apply", "Cluster mode: perform the moves (safe slot migration; refused unless the cluster is healthy)."),
            ("--json", "Print the plan as JSON."),
        ],
        details: """
            Each item's share is the fraction of all attempts it is expected to draw (0 to 1, summing to at most 1);
            the rest is spread over the other slots by slot count. An item lives in the slot of its hash tag {ITEM};
            with "buckets": K it counts as K units of share/K to be served by distinct nodes. Only hot slots move
            (and cold ones when needed to keep slot counts even); a placement already within 1 point of the best
            balance found is left as it is.

            Static mode: --output writes a cluster.json with the planned slot ranges (it passes seckill config
            check). Items already published in a moving slot would be orphaned on their old node: they are named
            and the file is not written unless --move-keys, which moves their keys (MIGRATE, one item's keys
            together) before the file is written. Do not run it in the middle of a sale, and restart every
            coordinator with the new file: coordinators route by the file they loaded.

            Cluster mode: prints the moves with node ids; --apply performs them one slot at a time while clients
            keep running (CLUSTER SETSLOT IMPORTING / MIGRATING, keys moved with MIGRATE, SETSLOT NODE on every
            primary), after checking that the cluster is healthy: cluster_state:ok, all 16384 slots assigned,
            no slot importing or migrating, every node connected. Progress goes to standard error.
            """)

    /// The slots of a bucketed item's buckets as its root records them, or nil when the item is
    /// not published with buckets (or its root cannot be read): the planner then moves bucket
    /// slots like any other, keeping an item's buckets on distinct nodes.
    static let bucketSlots: @Sendable (_ item: String, _ buckets: Int, _ client: ClusterClient) async -> [HashSlot]? = { item, _, client in
        guard let coordinator = try? SaleCoordinator(client: client),
            let layout = try? await coordinator.bucketLayout(of: item)
        else { return nil }
        return (0..<layout.count).map(layout.slot)
    }

    static func run(_ arguments: Arguments, console: Console) async throws(CLIError) {
        try arguments.noPositionals()
        guard let demandPath = arguments.value("--demand") else { throw CLIError.usage("plan", "--demand FILE is required") }
        let demand: DemandFile
        do {
            demand = try DemandFile.load(path: demandPath)
        } catch {
            throw CLIError(ConfigLoading.oneLine(error))
        }
        let config = try ConfigLoading.load(arguments)
        let output = arguments.value("--output")
        let apply = arguments.flag("--apply")
        let moveKeys = arguments.flag("--move-keys")
        if config.mode == .cluster {
            if output != nil {
                throw CLIError.usage(
                    "plan", "--output writes a static cluster.json; in cluster mode the slots live in the cluster: use --apply")
            }
            if moveKeys {
                throw CLIError.usage("plan", "--move-keys is for static mode; in cluster mode --apply moves every key with its slot")
            }
        } else {
            if apply {
                throw CLIError.usage(
                    "plan", "--apply moves slots of a Redis Cluster; in static mode write the planned config with --output FILE")
            }
            if moveKeys && output == nil { throw CLIError.usage("plan", "--move-keys goes with --output FILE") }
        }

        let client = try await ConfigLoading.client(config)
        defer { client.close() }
        let map = client.router.map
        let (units, bucketNotes) = await demand.units { item, buckets in await bucketSlots(item, buckets, client) }
        let plan: PlacementPlan
        do {
            plan = try PlacementPlan(map: map, units: units)
        } catch {
            throw CLIError("\(demandPath): \(ConfigLoading.oneLine(error))")
        }
        let migration = SlotMigration(client: client)
        var notes = bucketNotes
        var published: [HashSlot: [SlotMigration.TaggedKeys]] = [:]
        do {
            published = try await publishedItems(plan, migration: migration)
        } catch {
            // Only writing or applying needs to know; a plan alone is still worth printing.
            if output != nil || apply { throw error }
            notes.append("\(error.message); items published in moving slots are not named")
        }
        let ids = config.mode == .cluster ? nodeIDs(client) : [:]
        let report = PlanReport(
            demandPath: demandPath, demand: demand, plan: plan, notes: notes, published: published, ids: ids, mode: config.mode)

        var outcome = PlanReport.Outcome()
        if config.mode == .static, let output {
            outcome = try await writeStatic(
                report, config: config, output: output, moveKeys: moveKeys, migration: migration, console: console)
        } else if apply {
            outcome = try await applyCluster(report, migration: migration, console: console)
        }
        if arguments.flag("--json") {
            console.out(report.json(outcome).render())
        } else {
            for line in report.text(outcome) { console.out(line) }
        }
    }

    /// The published items (keys `seckill:{...}`) in each moving slot, read from the slot's
    /// current node.
    static func publishedItems(_ plan: PlacementPlan, migration: SlotMigration) async throws(CLIError)
        -> [HashSlot: [SlotMigration.TaggedKeys]]
    {
        var slotsByNode: [Int: Set<HashSlot>] = [:]
        for move in plan.moves { slotsByNode[move.from, default: []].insert(move.slot) }
        var found: [HashSlot: [SlotMigration.TaggedKeys]] = [:]
        for (node, slots) in slotsByNode.sorted(by: { $0.key < $1.key }) {
            let config = plan.current.nodes[node]
            do {
                for entry in try await migration.keys(inSlots: slots, on: config) { found[entry.slot, default: []].append(entry) }
            } catch {
                throw CLIError(
                    "cannot list the published items on \(config.name) (\(config.endpoint.address)), needed to know what the moves would orphan: \(error)"
                )
            }
        }
        return found
    }

    /// The node id of each primary of the cluster, by address.
    static func nodeIDs(_ client: ClusterClient) -> [String: String] {
        var ids: [String: String] = [:]
        for node in client.topology?.allNodes ?? [] where node.isPrimary { ids[node.address] = node.id }
        return ids
    }
}
