/// The expected demand of a sale, read by `seckill plan --demand FILE`:
///
/// ```json
/// {"items": [{"item": "phone", "share": 0.5, "buckets": 3}, {"item": "case", "share": 0.1}]}
/// ```
///
/// Each item's `share` (0...1, the shares summing to at most 1) is the fraction of all
/// purchase attempts it is expected to draw; the rest is spread over the other items. An item
/// lives in the slot of its hash tag `{ITEM}` (its keys are `seckill:{ITEM}...`); with
/// `buckets: K` its stock is split over K buckets, each drawing `share / K`.
public struct DemandFile: Sendable, Hashable {
    /// One listed item.
    public struct Item: Sendable, Hashable {
        /// The item id.
        public var item: String
        /// Its share of all attempts, 0...1.
        public var share: Double
        /// How many buckets its stock is split over; nil for a plain item.
        public var buckets: Int?

        /// Creates an entry.
        ///
        /// - Parameters:
        ///   - item: The item id.
        ///   - share: Its share of all attempts.
        ///   - buckets: Its bucket count, or nil.
        public init(item: String, share: Double, buckets: Int? = nil) {
            self.item = item
            self.share = share
            self.buckets = buckets
        }
    }

    /// The most buckets one item may have.
    public static let maxBuckets = 1024

    /// The items, in file order.
    public var items: [Item]
    /// Where the demand came from (the path), for messages.
    public var source: String

    /// Creates a demand list in code.
    ///
    /// - Parameters:
    ///   - items: The items.
    ///   - source: A name for messages.
    public init(items: [Item], source: String = "demand") {
        self.items = items
        self.source = source
    }

    /// The sum of the listed shares.
    public var listedShare: Double { items.reduce(0) { $0 + $1.share } }

    /// Reads and validates a demand file.
    ///
    /// - Parameter path: The file; it prefixes every message.
    /// - Throws: ``ConfigError``: file missing or unreadable, JSON syntax (line and column), or
    ///   every content problem, each naming the file and the field (`items[1].share`).
    public static func load(path: String) throws(ConfigError) -> DemandFile {
        try parse(ConfigFile.contents(ofPath: path), source: path)
    }

    /// Parses and validates demand JSON.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 document.
    ///   - source: The name prefixing every message.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/syntax`` or
    ///   ``ConfigError/Code/invalid`` listing every problem.
    public static func parse(_ bytes: [UInt8], source: String) throws(ConfigError) -> DemandFile {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw ConfigError(.syntax, "\(source): \(error)")
        }
        var problems: [String] = []
        func report(_ path: String, _ message: String) { problems.append("\(source): \(path.isEmpty ? "" : path + ": ")\(message)") }
        func unknown(_ object: JSONObject, at path: String, known: [String]) {
            for key in object.keys where !known.contains(key) {
                let hint = FieldSuggestion.closest(to: key, among: known).map { "; did you mean \"\($0)\"?" } ?? ""
                report(path.isEmpty ? key : "\(path).\(key)", "unknown field\(hint) (known: \(known.joined(separator: ", ")))")
            }
        }
        guard case .object(let root) = document else {
            throw ConfigError(.invalid, "\(source): expected a JSON object {\"items\": [...]}, got \(document.kindDescription)")
        }
        unknown(root, at: "", known: ["items"])
        var items: [Item] = []
        switch root["items"] {
        case nil:
            report("", #"missing required field "items"; list the hot items, e.g. [{"item": "phone", "share": 0.5}]"#)
        case .array(let elements)?:
            var seen: [String: Int] = [:]
            for (index, element) in elements.enumerated() {
                let path = "items[\(index)]"
                guard case .object(let object) = element else {
                    report(path, "expected an object {\"item\": ..., \"share\": ...}, got \(element.kindDescription)")
                    continue
                }
                unknown(object, at: path, known: ["item", "share", "buckets"])
                var entry = Item(item: "", share: 0)
                switch object["item"] {
                case .string(let id)?:
                    if let problem = Self.itemProblem(id) {
                        report(path + ".item", problem)
                    } else if let first = seen[id] {
                        report(path + ".item", "\(JSONWriter.quoted(id)) is already listed as items[\(first)]; list each item once")
                    } else {
                        seen[id] = index
                        entry.item = id
                    }
                case nil: report(path, "missing required field \"item\" (the item id)")
                case let other?: report(path + ".item", "expected a string, got \(other.kindDescription)")
                }
                switch object["share"] {
                case .number(let number)?:
                    let share = number.doubleValue
                    if share.isFinite && share >= 0 && share <= 1 {
                        entry.share = share
                    } else {
                        report(path + ".share", "\(number) is not a share from 0 to 1 (0.25 is a quarter of all attempts)")
                    }
                case nil: report(path, "missing required field \"share\" (its fraction of all attempts, 0 to 1)")
                case let other?: report(path + ".share", "expected a number from 0 to 1, got \(other.kindDescription)")
                }
                switch object["buckets"] {
                case nil: break
                case .number(let number)? where number.intValue.map { (1...maxBuckets).contains($0) } ?? false:
                    entry.buckets = number.intValue
                case let other?:
                    report(path + ".buckets", "expected an integer from 1 to \(maxBuckets), got \(other)")
                }
                items.append(entry)
            }
        case let other?:
            report("items", "expected an array of {\"item\": ..., \"share\": ...} objects, got \(other.kindDescription)")
        }
        let total = items.reduce(0) { $0 + $1.share }
        if problems.isEmpty && total > 1 + 1e-9 {
            report("items", "the shares sum to \(total), more than 1: they are fractions of all attempts")
        }
        guard problems.isEmpty else { throw ConfigError(.invalid, problems: problems) }
        return DemandFile(items: items, source: source)
    }

    /// Parses and validates demand JSON given as a string; see ``parse(_:source:)``.
    ///
    /// - Throws: ``ConfigError``, as ``parse(_:source:)``.
    public static func parse(_ text: String, source: String) throws(ConfigError) -> DemandFile {
        try parse(Array(text.utf8), source: source)
    }

    /// Why `id` cannot be an item id (the rule the sale layer enforces: 1-128 bytes, no `{`,
    /// `}` or control characters), or nil.
    static func itemProblem(_ id: String) -> String? {
        let bytes = Array(id.utf8)
        if bytes.isEmpty || bytes.count > 128 { return "item ids are 1 to 128 bytes, got \(bytes.count)" }
        if bytes.contains(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") || $0 < 0x20 || $0 == 0x7F }) {
            return "\(JSONWriter.quoted(id)) contains a brace or a control character; item ids may not"
        }
        return nil
    }

    /// The slot of an item's keys: that of its hash tag `{ITEM}`.
    ///
    /// - Parameter item: The item id.
    /// - Returns: The slot of `seckill:{ITEM}`.
    public static func slot(ofItem item: String) -> HashSlot { HashSlot(key: "seckill:{\(item)}") }

    /// The demand as planner units, and notes on what could not be placed by slot.
    ///
    /// A plain item is one unit in its slot. An item with `buckets: K` is K units of
    /// `share / K` in one group (to be served by distinct nodes): in the slots `bucketSlots`
    /// gives for it, or, when it gives none (the item is not bucketed yet), without slot: the
    /// planner accounts them on the least-loaded nodes, as publishing the buckets later places
    /// them on distinct nodes, and nothing of them moves.
    ///
    /// - Parameter bucketSlots: The slots of an item's K buckets, or nil when unknown.
    /// - Returns: The units and one note per item whose buckets have no slots.
    public func units(
        bucketSlots: (_ item: String, _ buckets: Int) async -> [HashSlot]?
    ) async -> (units: [DemandUnit], notes: [String]) {
        var units: [DemandUnit] = []
        var notes: [String] = []
        for entry in items {
            guard let buckets = entry.buckets, buckets > 1 else {
                units.append(DemandUnit(label: entry.item, slot: Self.slot(ofItem: entry.item), share: entry.share))
                continue
            }
            let part = entry.share / Double(buckets)
            let slots = await bucketSlots(entry.item, buckets)
            if let slots, slots.count == buckets {
                for (index, slot) in slots.enumerated() {
                    units.append(DemandUnit(label: "\(entry.item) bucket \(index)", slot: slot, share: part, group: entry.item))
                }
            } else {
                for index in 0..<buckets {
                    units.append(DemandUnit(label: "\(entry.item) bucket \(index)", slot: nil, share: part, group: entry.item))
                }
                notes.append(
                    "\(entry.item): \(buckets) buckets of \(Self.percent(part)) each, not published as buckets yet: publish --buckets \(buckets) places them on distinct nodes; counted here on the least-loaded nodes, nothing of them moves"
                )
            }
        }
        return (units, notes)
    }

    private static func percent(_ share: Double) -> String {
        let scaled = (share * 10_000).rounded() / 100
        return "\(scaled)%"
    }
}
