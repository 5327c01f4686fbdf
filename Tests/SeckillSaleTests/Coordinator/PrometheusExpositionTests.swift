import SeckillSale
import SeckillTestSupport
import SeckillTransport
import Testing

/// The metrics text, read back by an independent strict parser.
@Suite("Prometheus exposition")
struct PrometheusExpositionTests {
    @Test("families are declared, counters end in _total, histograms are cumulative and end at +Inf = _count, labels escaped")
    func wellFormed() throws {
        let metrics = NodeMetrics()
        metrics.commands(3, elapsed: .microseconds(70))
        metrics.commands(1, elapsed: .milliseconds(3))
        metrics.error(code: "timeout")
        metrics.redirect()
        let odd = NodeMetrics()
        let sale = SaleMetrics.Snapshot(
            results: ["purchased": 5, "soldOut": 7], errors: ["outcomeUnknown": 1], shedAnswers: 6, replicated: 4, notReplicated: 1)
        let text = PrometheusExposition.render(
            nodes: [metrics.snapshot(node: "node-a", inFlight: 2), odd.snapshot(node: "we\"ird\\node\n", inFlight: 0)], sale: sale)
        let parsed = try PrometheusText(text)
        #expect(parsed.types["seckill_node_latency_seconds"] == "histogram")
        #expect(parsed.value("seckill_node_commands_total", ["node": "node-a"]) == 4)
        #expect(parsed.value("seckill_node_in_flight", ["node": "node-a"]) == 2)
        #expect(parsed.value("seckill_node_errors_total", ["node": "node-a", "code": "timeout"]) == 1)
        #expect(parsed.value("seckill_node_redirects_total", ["node": "node-a"]) == 1)
        #expect(parsed.value("seckill_node_latency_seconds_bucket", ["node": "node-a", "le": "0.0001"]) == 3)
        #expect(parsed.value("seckill_node_latency_seconds_bucket", ["node": "node-a", "le": "0.005"]) == 4)
        #expect(parsed.value("seckill_node_latency_seconds_count", ["node": "node-a"]) == 4)
        #expect(parsed.value("seckill_node_latency_seconds_sum", ["node": "node-a"]) == 0.00321)
        #expect(parsed.value("seckill_node_commands_total", ["node": "we\"ird\\node\n"]) == 0)
        #expect(parsed.value("seckill_purchase_attempts_total", ["result": "purchased"]) == 5)
        #expect(parsed.value("seckill_purchase_attempts_total", ["result": "unknownItem"]) == 0)
        #expect(parsed.value("seckill_purchase_errors_total", ["code": "outcomeUnknown"]) == 1)
        #expect(parsed.value("seckill_shed_answers_total") == 6)
        #expect(parsed.value("seckill_outcome_unknown_total") == 1)
        #expect(parsed.value("seckill_wait_total", ["result": "notReplicated"]) == 1)
    }

    @Test(
        "the parser refuses what the format forbids",
        arguments: [
            "# TYPE x_total counter\nx_total 1\n",
            "# HELP x a\n# TYPE x counter\nx 1\n",
            "# HELP h a\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "y 1\n",
        ])
    func parserIsStrict(text: String) {
        #expect(throws: PrometheusText.Problem.self) { try PrometheusText(text) }
    }

    @Test("quantiles are read from the buckets as upper bounds")
    func quantiles() {
        let histogram = LatencyHistogram()
        for _ in 0..<98 { histogram.record(micros: 80) }
        histogram.record(micros: 1_500)
        histogram.record(micros: 30_000_000)
        let snapshot = histogram.snapshot
        #expect(snapshot.quantileMicros(0.5) == 100)
        #expect(snapshot.quantileMicros(0.99) == 2_000)
        #expect(snapshot.quantileMicros(0.999) == Int.max)
        #expect(LatencyHistogram.Snapshot.empty.quantileMicros(0.5) == nil)
    }
}
