public import SeckillRouting

extension SaleSettings {
    /// The name of the section in cluster.json.
    public static let sectionName = "sale"
    /// The fields of the section.
    static let fields = ["callDeadlineMs", "allowEvictionPolicy"]
    /// Fields that were removed, with why, so a file that still has one gets told what to do.
    static let removedFields = [
        "requestTtlSeconds": "no longer used: request records now live as long as their item; remove the field"
    ]

    /// The settings as the `sale` section writes them, both fields.
    public var section: JSONValue {
        var object = JSONObject()
        object.append(key: "callDeadlineMs", value: .number(JSONNumber(Self.renderedMilliseconds(callDeadline))))
        object.append(key: "allowEvictionPolicy", value: .bool(allowEvictionPolicy))
        return .object(object)
    }

    /// The settings of a `sale` section (the defaults when absent); a field that does not
    /// decode keeps its default, and its problem goes to `reader`.
    static func decode(_ section: JSONValue?, with reader: inout ConfigReader) -> SaleSettings {
        var sale = SaleSettings()
        guard let section, let object = reader.object(section, at: sectionName) else { return sale }
        reader.rejectUnknownFields(of: object, at: sectionName, known: fields, removed: removedFields)
        if let number = reader.integer("callDeadlineMs", in: object, at: sectionName) {
            sale.callDeadline = .milliseconds(number)
        }
        if let value = object["allowEvictionPolicy"], let flag = reader.bool(value, at: "sale.allowEvictionPolicy") {
            sale.allowEvictionPolicy = flag
        }
        return sale
    }

    /// Whole milliseconds, a positive duration shorter than one written as 1.
    static func renderedMilliseconds(_ duration: Duration) -> Int {
        let milliseconds = duration.wholeMilliseconds
        return milliseconds == 0 && duration > .zero ? 1 : milliseconds
    }
}
