public import SeckillRouting

extension DurabilitySettings {
    /// The name of the section in cluster.json.
    public static let sectionName = "durability"
    /// The fields of the section.
    static let fields = ["replicas", "timeoutMs"]

    /// The settings as the `durability` section writes them, both fields.
    public var section: JSONValue {
        var object = JSONObject()
        object.append(key: "replicas", value: .number(JSONNumber(replicas)))
        object.append(key: "timeoutMs", value: .number(JSONNumber(SaleSettings.renderedMilliseconds(timeout))))
        return .object(object)
    }

    /// The settings of a `durability` section (``off`` when absent); a field that does not
    /// decode keeps its default, and its problem goes to `reader`.
    static func decode(_ section: JSONValue?, with reader: inout ConfigReader) -> DurabilitySettings {
        var durability = DurabilitySettings()
        guard let section, let object = reader.object(section, at: sectionName) else { return durability }
        reader.rejectUnknownFields(of: object, at: sectionName, known: fields)
        if let number = reader.integer("replicas", in: object, at: sectionName) {
            durability.replicas = number
        }
        if let number = reader.integer("timeoutMs", in: object, at: sectionName) {
            durability.timeout = .milliseconds(number)
        }
        return durability
    }
}
