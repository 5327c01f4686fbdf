import SeckillRouting
import Testing

@Suite("DemandFile")
struct DemandFileTests {
    func problems(_ text: String) -> [String] {
        do {
            _ = try DemandFile.parse(text, source: "demand.json")
            return []
        } catch {
            return error.problems
        }
    }

    @Test("a valid file gives its items in order, with buckets where given")
    func valid() throws {
        let demand = try DemandFile.parse(
            #"{"items": [{"item": "phone", "share": 0.5, "buckets": 3}, {"item": "case", "share": 0.1}]}"#, source: "d.json")
        #expect(demand.items == [.init(item: "phone", share: 0.5, buckets: 3), .init(item: "case", share: 0.1)])
        #expect(abs(demand.listedShare - 0.6) < 1e-12)
        #expect(DemandFile.slot(ofItem: "phone") == HashSlot(key: "phone"))
    }

    @Test("every problem is reported, each naming the file and the field")
    func problemsNameFileAndField() {
        let found = problems(
            #"{"items": [{"item": "a", "share": 1.5}, {"item": "b", "shares": 0.1}, {"item": "a", "share": 0.1}, {"item": "c{x}", "share": 0.1, "buckets": 0}], "extra": 1}"#
        )
        let expected = [
            "demand.json: extra: unknown field",
            "demand.json: items[0].share: 1.5 is not a share from 0 to 1",
            #"demand.json: items[1].shares: unknown field; did you mean "share"?"#,
            #"demand.json: items[1]: missing required field "share""#,
            #"demand.json: items[2].item: "a" is already listed as items[0]"#,
            "demand.json: items[3].item: \"c{x}\" contains a brace",
            "demand.json: items[3].buckets: expected an integer from 1 to 1024, got 0",
        ]
        for prefix in expected { #expect(found.contains { $0.hasPrefix(prefix) }, "no \(prefix) in \(found)") }
        #expect(found.count == expected.count, "\(found)")
    }

    @Test("shares summing above 1 are refused")
    func sumAboveOne() {
        let found = problems(#"{"items": [{"item": "a", "share": 0.7}, {"item": "b", "share": 0.4}]}"#)
        #expect(found.count == 1 && found[0].hasPrefix("demand.json: items: the shares sum to 1.1"), "\(found)")
    }

    @Test("wrong shapes, a missing list and JSON syntax errors are named")
    func shapes() {
        #expect(problems("[]") == [#"demand.json: expected a JSON object {"items": [...]}, got an array"#])
        #expect(problems("{}").first?.contains(#"missing required field "items""#) == true)
        #expect(problems(#"{"items": {}}"#).first?.hasPrefix("demand.json: items: expected an array") == true)
        #expect(problems(#"{"items": [{"item": 3, "share": "x"}]}"#).count == 2)
        let syntax = problems("{\"items\": [\n,]}")
        #expect(syntax.count == 1 && syntax[0].hasPrefix("demand.json: ") && syntax[0].contains("line 2"), "\(syntax)")
    }

    @Test("a missing file is named")
    func missingFile() {
        #expect(throws: ConfigError.self) { try DemandFile.load(path: "/nonexistent/demand.json") }
    }

    @Test("bucketed items become K units in one group: in the provider's slots, or without slot and with a note")
    func units() async throws {
        let demand = DemandFile(items: [.init(item: "phone", share: 0.6, buckets: 3), .init(item: "case", share: 0.1)])
        let unplaced = await demand.units { _, _ in nil }
        #expect(unplaced.units.count == 4)
        #expect(unplaced.units.prefix(3).allSatisfy { $0.slot == nil && $0.group == "phone" && abs($0.share - 0.2) < 1e-12 })
        #expect(unplaced.units[3] == DemandUnit(label: "case", slot: DemandFile.slot(ofItem: "case"), share: 0.1))
        #expect(unplaced.notes.count == 1 && unplaced.notes[0].hasPrefix("phone: 3 buckets"))

        let slots = [HashSlot(1)!, HashSlot(2)!, HashSlot(3)!]
        let placed = await demand.units { item, buckets in item == "phone" && buckets == 3 ? slots : nil }
        #expect(placed.units.prefix(3).map(\.slot) == slots)
        #expect(placed.notes.isEmpty)
    }
}
