internal import Foundation
import SeckillRouting

extension PlanCommand {
    /// Static mode with `--output`: refuses when published items would be orphaned (unless
    /// `--move-keys`, which moves their keys first), then writes the planned config atomically.
    static func writeStatic(
        _ report: PlanReport, config: ClusterConfig, output: String, moveKeys: Bool, migration: SlotMigration, console: Console
    ) async throws(CLIError) -> PlanReport.Outcome {
        let plan = report.plan
        let orphaned = plan.moves.filter { !(report.published[$0.slot] ?? []).isEmpty }
        if !orphaned.isEmpty && !moveKeys {
            let names = orphaned.map { move in
                let items = (report.published[move.slot] ?? []).map(\.tag).joined(separator: ", ")
                return "\(items) (slot \(move.slot.rawValue), \(plan.current.nodes[move.from].name) -> \(plan.current.nodes[move.to].name))"
            }
            throw CLIError(
                "\(output) not written: published items live in slots that move and would be orphaned on their old node: \(names.joined(separator: "; ")). Pass --move-keys to move their keys to the new node first (never during a sale), or unpublish them"
            )
        }
        var planned = config
        planned.nodes = plan.planned.nodes
        planned.source = output
        let text = planned.render()
        do {
            _ = try ClusterConfig.parse(text, source: output)
        } catch {
            throw CLIError("the planned config does not validate, nothing written: \(ConfigLoading.oneLine(error))")
        }
        // Written to a temporary file first: the keys move only once the file is sure to be
        // writable, and the rename makes the new file appear whole.
        let temporary = output + ".tmp-\(getpid())"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw CLIError("cannot write \(output): \(error.localizedDescription)")
        }
        var outcome = PlanReport.Outcome()
        outcome.output = output
        for move in orphaned {
            let source = plan.current.nodes[move.from]
            let target = plan.current.nodes[move.to]
            for entry in report.published[move.slot] ?? [] {
                do {
                    outcome.keysMoved += try await migration.moveKeys(entry.keys, from: source, to: target)
                } catch {
                    try? FileManager.default.removeItem(atPath: temporary)
                    throw CLIError(
                        "\(output) not written: moving the keys of \(entry.tag) from \(source.name) to \(target.name) failed: \(error). Items moved before it: \(outcome.itemsMoved.isEmpty ? "none" : outcome.itemsMoved.joined(separator: ", ")); they now live on their planned node"
                    )
                }
                outcome.itemsMoved.append(entry.tag)
                console.err(
                    "moved \(entry.keys.count) keys of \(entry.tag) (slot \(move.slot.rawValue)) from \(source.name) to \(target.name)")
            }
        }
        // rename(2) replaces atomically; Foundation's replaceItemAt fails on Linux (swift-corelibs-foundation#4655).
        if rename(temporary, output) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw CLIError(
                "cannot write \(output): \(reason)\(outcome.keysMoved > 0 ? "; the keys of \(outcome.itemsMoved.joined(separator: ", ")) were already moved" : "")"
            )
        }
        outcome.written = true
        return outcome
    }

    /// Cluster mode with `--apply`: checks the cluster's health, then moves each slot.
    static func applyCluster(_ report: PlanReport, migration: SlotMigration, console: Console) async throws(CLIError)
        -> PlanReport.Outcome
    {
        var outcome = PlanReport.Outcome()
        outcome.applying = true
        do {
            try await migration.requireHealthy()
        } catch let error as SlotMigrationError {
            throw CLIError(error.problems.joined(separator: "; "))
        } catch {
            throw CLIError("cannot check the cluster's health: \(error)")
        }
        let plan = report.plan
        let primaries = (migration.client.topology?.shards ?? []).compactMap(\.primary)
        for (index, move) in plan.moves.enumerated() {
            let from = plan.current.nodes[move.from].name
            let to = plan.current.nodes[move.to].name
            guard let source = primaries.first(where: { $0.address == from }), let target = primaries.first(where: { $0.address == to })
            else {
                throw CLIError(
                    "slot \(move.slot.rawValue): \(from) or \(to) is no longer a primary of the cluster; \(outcome.slotsMoved) of \(plan.moves.count) moves done: run seckill plan again"
                )
            }
            let labels = move.labels.isEmpty ? "" : " (\(move.labels.joined(separator: ", ")))"
            console.err("move \(index + 1)/\(plan.moves.count): slot \(move.slot.rawValue)\(labels) from \(from) to \(to)")
            do {
                outcome.keysMoved += try await migration.move(move.slot, from: source, to: target) { console.err("  " + $0) }
            } catch {
                throw CLIError("\(error) (\(outcome.slotsMoved) of \(plan.moves.count) moves done before it)")
            }
            outcome.slotsMoved += 1
        }
        try? await migration.client.refreshTopology()
        return outcome
    }
}
