/// A JSON object: members in document order, keys unique.
public struct JSONObject: Sendable, Hashable {
    /// One `"key": value` pair.
    public struct Member: Sendable, Hashable {
        /// The member name.
        public let key: String
        /// The member value.
        public let value: JSONValue

        /// Creates a member.
        ///
        /// - Parameters:
        ///   - key: The member name.
        ///   - value: The member value.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in the order they appeared.
    public private(set) var members: [Member] = []
    private var positions: [String: Int] = [:]

    /// Creates an empty object.
    public init() {}

    /// The member names in document order.
    public var keys: [String] {
        members.map(\.key)
    }

    /// The number of members.
    public var count: Int {
        members.count
    }

    /// The value of the member named `key`, or `nil`.
    ///
    /// - Parameter key: The member name.
    public subscript(key: String) -> JSONValue? {
        positions[key].map { members[$0].value }
    }

    /// Appends a member unless one with the same key exists.
    ///
    /// - Parameters:
    ///   - key: The member name.
    ///   - value: The member value.
    /// - Returns: `false`, changing nothing, when `key` is already present.
    @discardableResult
    public mutating func append(key: String, value: JSONValue) -> Bool {
        guard positions[key] == nil else { return false }
        positions[key] = members.count
        members.append(Member(key: key, value: value))
        return true
    }

    /// Objects are equal when they have the same members in the same order.
    ///
    /// - Parameters:
    ///   - lhs: An object.
    ///   - rhs: Another object.
    /// - Returns: Whether the member lists are equal.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members == rhs.members
    }

    /// Hashes the members in order, matching ``==(_:_:)``.
    ///
    /// - Parameter hasher: The hasher.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(members)
    }
}
