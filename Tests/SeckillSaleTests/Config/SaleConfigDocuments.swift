import SeckillRouting
import SeckillSale

/// The three seeds of a local six-node test cluster, as cluster.json members.
let threeSeeds = #"[{"host": "127.0.0.1", "port": 7100}, {"host": "127.0.0.1", "port": 7101}, {"host": "127.0.0.1", "port": 7102}]"#

/// A valid static-mode document (one node serving every slot) plus extra top-level members.
func staticDocument(extra: String = "") -> String {
    let nodes = #""nodes": [{"name": "solo", "host": "127.0.0.1", "port": 7000, "slots": [[0, 16383]]}]"#
    return "{\n  " + ([nodes] + (extra.isEmpty ? [] : [extra])).joined(separator: ",\n  ") + "\n}"
}

/// A cluster-mode document with the given `seeds` value plus extra top-level members.
func clusterDocument(seeds: String = threeSeeds, extra: String = "") -> String {
    let members = [#""mode": "cluster""#, #""seeds": "# + seeds] + (extra.isEmpty ? [] : [extra])
    return "{\n  " + members.joined(separator: ",\n  ") + "\n}"
}

/// The problems `SaleConfig.parse` (both layers) reports for `json`, or `[]` when it parses.
func problems(parsing json: String, source: String = "cluster.json") -> [String] {
    do {
        _ = try SaleConfig.parse(json, source: source)
        return []
    } catch {
        return error.problems
    }
}
