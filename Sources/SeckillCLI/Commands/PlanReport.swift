import SeckillRouting

/// What `seckill plan` prints: the loads now and as planned, the moves, and what was done.
struct PlanReport {
    /// What the command did beyond planning.
    struct Outcome {
        /// Static mode: the file written (nil when none).
        var output: String?
        var written = false
        /// Keys moved (static `--move-keys`, or with the slots in cluster mode).
        var keysMoved = 0
        /// Static mode: the published items whose keys moved.
        var itemsMoved: [String] = []
        /// Cluster mode: `--apply` was given.
        var applying = false
        /// Cluster mode: slots moved.
        var slotsMoved = 0
    }

    let demandPath: String
    let demand: DemandFile
    let plan: PlacementPlan
    let notes: [String]
    /// Published items in each moving slot.
    let published: [HashSlot: [SlotMigration.TaggedKeys]]
    /// Node ids by address (cluster mode).
    let ids: [String: String]
    let mode: ClusterMode

    private var nodes: [NodeConfig] { plan.current.nodes }

    private func describe(_ node: Int) -> String {
        let config = nodes[node]
        guard mode == .cluster else { return "\(config.name) (\(config.endpoint.address))" }
        return "\(config.name) (id \(ids[config.name].map { String($0.prefix(12)) } ?? "?"))"
    }

    func text(_ outcome: Outcome) -> [String] {
        var lines = [
            "placement plan for \(nodes.count) node\(nodes.count == 1 ? "" : "s") (\(mode.rawValue) mode) from \(demandPath): \(demand.items.count) item\(demand.items.count == 1 ? "" : "s") listed, \(Format.percent(demand.listedShare)) of attempts; \(Format.percent(plan.unlistedShare)) spread over the other slots"
        ]
        var table = Table(header: ["NODE", "ADDRESS", "NOW", "PLANNED", "SLOTS NOW", "SLOTS PLANNED"], rightAligned: [2, 3, 4, 5])
        for index in nodes.indices {
            table.add([
                nodes[index].name, nodes[index].endpoint.address, Format.percent(plan.currentLoads[index]),
                Format.percent(plan.plannedLoads[index]), Format.grouped(plan.current.slotCount(ofNode: index)),
                Format.grouped(plan.planned.slotCount(ofNode: index)),
            ])
        }
        lines += table.render().map { "  " + $0 }
        lines.append(
            "busiest node: \(Format.percent(plan.currentMaxLoad)) of attempts now, \(Format.percent(plan.plannedMaxLoad)) as planned (even: \(Format.percent(1 / Double(nodes.count))))"
        )
        if plan.moves.isEmpty {
            lines.append("no moves: the slots are already placed within 1 point of the best balance found")
        } else {
            lines.append("\(plan.moves.count) slot move\(plan.moves.count == 1 ? "" : "s"):")
            for move in plan.moves {
                var line = "  slot \(move.slot.rawValue): \(describe(move.from)) -> \(describe(move.to))"
                line +=
                    move.labels.isEmpty
                    ? "  cold slot, evens slot counts" : "  \(move.labels.joined(separator: ", ")) (\(Format.percent(move.share)))"
                let items = published[move.slot] ?? []
                if !items.isEmpty {
                    line += "  published: " + items.map { "\($0.tag) (\($0.keys.count) keys)" }.joined(separator: ", ")
                }
                lines.append(line)
            }
        }
        for note in notes { lines.append("note: \(note)") }
        lines += outcomeLines(outcome)
        return lines
    }

    private func outcomeLines(_ outcome: Outcome) -> [String] {
        if mode == .cluster {
            if outcome.applying {
                return [
                    "applied: \(outcome.slotsMoved) slot\(outcome.slotsMoved == 1 ? "" : "s") moved with \(Format.grouped(outcome.keysMoved)) keys"
                ]
            }
            return plan.moves.isEmpty ? [] : ["nothing moved: pass --apply to perform the moves (clients keep running meanwhile)"]
        }
        guard let output = outcome.output, outcome.written else {
            return ["nothing written: pass --output FILE to write the planned cluster.json"]
        }
        var lines: [String] = []
        if !outcome.itemsMoved.isEmpty {
            lines.append(
                "moved \(Format.grouped(outcome.keysMoved)) keys of \(outcome.itemsMoved.count) published item\(outcome.itemsMoved.count == 1 ? "" : "s") to their planned nodes: \(outcome.itemsMoved.joined(separator: ", "))"
            )
        }
        lines.append(
            "wrote \(output): restart every coordinator with it (they route by the file they loaded); in static mode never do this in the middle of a sale"
        )
        return lines
    }

    func json(_ outcome: Outcome) -> JSONOutput {
        let nodeRows: [JSONOutput] = nodes.indices.map { index in
            var members: [(String, JSONOutput)] = [
                ("name", .string(nodes[index].name)), ("address", .string(nodes[index].endpoint.address)),
            ]
            if mode == .cluster { members.append(("id", .optional(ids[nodes[index].name]))) }
            members += [
                ("now", .double(plan.currentLoads[index])), ("planned", .double(plan.plannedLoads[index])),
                ("slotsNow", .int(plan.current.slotCount(ofNode: index))), ("slotsPlanned", .int(plan.planned.slotCount(ofNode: index))),
            ]
            return .object(members)
        }
        let moves: [JSONOutput] = plan.moves.map { move in
            .object([
                ("slot", .int(Int(move.slot.rawValue))), ("from", .string(nodes[move.from].name)), ("to", .string(nodes[move.to].name)),
                ("fromId", mode == .cluster ? .optional(ids[nodes[move.from].name]) : .null),
                ("toId", mode == .cluster ? .optional(ids[nodes[move.to].name]) : .null),
                ("labels", .array(move.labels.map { .string($0) })), ("share", .double(move.share)),
                ("publishedItems", .array((published[move.slot] ?? []).map { .string($0.tag) })),
            ])
        }
        let units: [JSONOutput] = plan.placements.map { placement in
            .object([
                ("label", .string(placement.unit.label)), ("slot", placement.unit.slot.map { .int(Int($0.rawValue)) } ?? .null),
                ("share", .double(placement.unit.share)), ("group", .optional(placement.unit.group)),
                ("nodeNow", .string(nodes[placement.nodeNow].name)), ("nodePlanned", .string(nodes[placement.nodePlanned].name)),
            ])
        }
        return .object([
            ("mode", .string(mode.rawValue)), ("demand", .string(demandPath)), ("listedShare", .double(demand.listedShare)),
            ("unlistedShare", .double(plan.unlistedShare)), ("nodes", .array(nodeRows)),
            ("maxNow", .double(plan.currentMaxLoad)), ("maxPlanned", .double(plan.plannedMaxLoad)),
            ("even", .double(1 / Double(nodes.count))), ("moves", .array(moves)), ("units", .array(units)),
            ("notes", .array(notes.map { .string($0) })), ("output", outcome.written ? .optional(outcome.output) : .null),
            ("keysMoved", .int(outcome.keysMoved)), ("itemsMoved", .array(outcome.itemsMoved.map { .string($0) })),
            ("applied", .bool(outcome.applying)), ("slotsMoved", .int(outcome.slotsMoved)),
        ])
    }
}
