public import SeckillTransport

/// Metrics in the Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE`
/// for every family, counters ending in `_total`, latency histograms as cumulative
/// `_bucket{le="..."}` series ending with `le="+Inf"`, then `_sum` and `_count` (in seconds).
/// Labels: `node`, `result`, `code`.
public enum PrometheusExposition {
    /// Renders the nodes' and the coordinator's counts.
    ///
    /// - Parameters:
    ///   - nodes: One snapshot per node (``ClusterClient/nodeMetrics()``).
    ///   - sale: The coordinator's counts (``SaleCoordinator/metrics``).
    /// - Returns: The exposition text, ending with a newline.
    public static func render(nodes: [NodeMetrics.Snapshot], sale: SaleMetrics.Snapshot) -> String {
        var out = Output()
        let nodes = nodes.sorted { $0.node < $1.node }
        out.family("seckill_node_commands_total", "counter", "Commands a node answered or failed.")
        for node in nodes { out.sample("seckill_node_commands_total", [("node", node.node)], node.commands) }
        out.family("seckill_node_in_flight", "gauge", "Commands sent to a node and not yet answered.")
        for node in nodes { out.sample("seckill_node_in_flight", [("node", node.node)], node.inFlight) }
        out.family("seckill_node_errors_total", "counter", "Failed commands of a node, by error code.")
        for node in nodes {
            for (code, count) in node.errors.sorted(by: { $0.key < $1.key }) {
                out.sample("seckill_node_errors_total", [("node", node.node), ("code", code)], count)
            }
        }
        out.family("seckill_node_redirects_total", "counter", "MOVED and ASK redirects followed from a node.")
        for node in nodes { out.sample("seckill_node_redirects_total", [("node", node.node)], node.redirects) }
        out.family("seckill_node_reconnects_total", "counter", "Connections to a node opened again after a loss.")
        for node in nodes { out.sample("seckill_node_reconnects_total", [("node", node.node)], node.reconnects) }
        out.family("seckill_node_latency_seconds", "histogram", "Round-trip time of a node's commands.")
        for node in nodes { out.histogram("seckill_node_latency_seconds", [("node", node.node)], node.latency) }

        out.family("seckill_purchase_attempts_total", "counter", "Purchase attempts answered, by result (shed answers included).")
        for kind in PurchaseResult.kinds {
            out.sample("seckill_purchase_attempts_total", [("result", kind)], sale.results[kind] ?? 0)
        }
        out.family("seckill_purchase_errors_total", "counter", "Purchase attempts that failed, by error code.")
        for (code, count) in sale.errors.sorted(by: { $0.key < $1.key }) {
            out.sample("seckill_purchase_errors_total", [("code", code)], count)
        }
        out.family("seckill_shed_answers_total", "counter", "Purchases answered sold out in process, without Redis.")
        out.sample("seckill_shed_answers_total", [], sale.shedAnswers)
        out.family("seckill_outcome_unknown_total", "counter", "Purchases whose outcome is unknown (retry with the request id).")
        out.sample("seckill_outcome_unknown_total", [], sale.outcomeUnknown)
        out.family("seckill_wait_total", "counter", "Purchases that waited for replicas (WAIT), by whether enough acknowledged.")
        out.sample("seckill_wait_total", [("result", "replicated")], sale.replicated)
        out.sample("seckill_wait_total", [("result", "notReplicated")], sale.notReplicated)
        return out.text
    }

    private struct Output {
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
            text += name + Self.labels(labels) + " \(value)\n"
        }

        mutating func histogram(_ name: String, _ labels: [(String, String)], _ latency: LatencyHistogram.Snapshot) {
            var cumulative = 0
            for (index, bound) in LatencyHistogram.boundsMicros.enumerated() {
                cumulative += latency.buckets[index]
                text += name + "_bucket" + Self.labels(labels + [("le", Self.seconds(bound))]) + " \(cumulative)\n"
            }
            text += name + "_bucket" + Self.labels(labels + [("le", "+Inf")]) + " \(latency.count)\n"
            text += name + "_sum" + Self.labels(labels) + " " + Self.seconds(latency.sumMicros) + "\n"
            text += name + "_count" + Self.labels(labels) + " \(latency.count)\n"
        }

        /// Microseconds as seconds in plain decimal (`0.00005`, `2`).
        static func seconds(_ micros: Int) -> String {
            let whole = micros / 1_000_000
            var fraction = String(micros % 1_000_000)
            fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
        }

        static func labels(_ labels: [(String, String)]) -> String {
            guard !labels.isEmpty else { return "" }
            return "{" + labels.map { "\($0.0)=\"\(escaped($0.1))\"" }.joined(separator: ",") + "}"
        }

        /// Label values escape backslash, double quote and line feed.
        static func escaped(_ value: String) -> String {
            var result = ""
            for character in value {
                switch character {
                case "\\": result += "\\\\"
                case "\"": result += "\\\""
                case "\n": result += "\\n"
                default: result.append(character)
                }
            }
            return result
        }
    }
}
