/// Reads the fields of a parsed cluster.json strictly, collecting every problem as
/// `source: path: message` instead of stopping at the first.
///
/// The routing layer decodes its sections with it, and a layer above decodes the sections
/// it owns (``ClusterConfig/sections``) with it too, so every section reports wrong types,
/// unknown fields and likely typos in the same words. A field that fails to decode goes
/// into ``failedPaths``, so later checks can leave it out instead of reporting the same
/// mistake twice.
public struct ConfigReader: Sendable {
    /// The name prefixing every message, normally the file path.
    public let source: String
    /// Every problem found so far, in the order found.
    public private(set) var problems: [String] = []
    /// Field paths (`nodes[0].port`, `sale.callDeadlineMs`) whose value could not be decoded.
    public private(set) var failedPaths: Set<String> = []

    /// Creates a reader with no problems.
    ///
    /// - Parameter source: The name prefixing every message.
    public init(source: String) {
        self.source = source
    }

    /// The value as an object, or nil (the problem recorded) when it is something else.
    ///
    /// - Parameters:
    ///   - value: The value.
    ///   - path: The field's path, for the message.
    /// - Returns: The object, or nil.
    public mutating func object(_ value: JSONValue, at path: String) -> JSONObject? {
        guard case .object(let object) = value else {
            fail(path, "expected an object, got \(value.kindDescription)")
            return nil
        }
        return object
    }

    /// The value as `true` or `false`, or nil (the problem recorded).
    ///
    /// - Parameters:
    ///   - value: The value.
    ///   - path: The field's path, for the message.
    /// - Returns: The flag, or nil.
    public mutating func bool(_ value: JSONValue, at path: String) -> Bool? {
        guard case .bool(let flag) = value else {
            fail(path, "expected true or false, got \(value.kindDescription)")
            return nil
        }
        return flag
    }

    /// The value as a string, or nil (the problem recorded).
    ///
    /// - Parameters:
    ///   - value: The value.
    ///   - path: The field's path, for the message.
    /// - Returns: The string, or nil.
    public mutating func string(_ value: JSONValue, at path: String) -> String? {
        guard case .string(let string) = value else {
            fail(path, "expected a string, got \(value.kindDescription)")
            return nil
        }
        return string
    }

    /// The optional integer field `key` of a section: nil when absent or invalid (the
    /// problem recorded).
    ///
    /// - Parameters:
    ///   - key: The member name.
    ///   - object: The section.
    ///   - section: The section's path, e.g. `pool`.
    /// - Returns: The integer, or nil.
    public mutating func integer(_ key: String, in object: JSONObject, at section: String) -> Int? {
        guard let value = object[key] else { return nil }
        return integer(value, at: "\(section).\(key)")
    }

    /// The value as a 64-bit integer, or nil (the problem recorded).
    ///
    /// - Parameters:
    ///   - value: The value.
    ///   - path: The field's path, for the message.
    /// - Returns: The integer, or nil.
    public mutating func integer(_ value: JSONValue, at path: String) -> Int? {
        guard case .number(let number) = value, number.isInteger else {
            let got = if case .number(let number) = value { number.literal } else { value.kindDescription }
            fail(path, "expected an integer, got \(got)")
            return nil
        }
        guard let integer = number.intValue else {
            fail(path, "\(number.literal) does not fit in a 64-bit integer")
            return nil
        }
        return integer
    }

    /// The member `key` of `object`, or nil with a "missing required field" problem.
    ///
    /// - Parameters:
    ///   - key: The member name.
    ///   - object: The object.
    ///   - path: The object's path.
    /// - Returns: The value, or nil.
    public mutating func required(_ key: String, in object: JSONObject, at path: String) -> JSONValue? {
        guard let value = object[key] else {
            report(at: path, "missing required field \"\(key)\"")
            markFailed(Self.join(path, key))
            return nil
        }
        return value
    }

    /// Reports each member of `object` that is not in `known`: a removed field with why it
    /// went, an unknown one with the known field it most likely meant or else the list.
    ///
    /// - Parameters:
    ///   - object: The object.
    ///   - path: The object's path (empty at the top level).
    ///   - known: The field names accepted there.
    ///   - removed: Field names no longer accepted there, each with the message to give.
    public mutating func rejectUnknownFields(of object: JSONObject, at path: String, known: [String], removed: [String: String] = [:]) {
        for key in object.keys where !known.contains(key) {
            if let why = removed[key] {
                report(at: Self.join(path, key), why)
                continue
            }
            var message = "unknown field \(JSONWriter.quoted(key))"
            if let suggestion = FieldSuggestion.closest(to: key, among: known) {
                message += " (did you mean \(JSONWriter.quoted(suggestion))?)"
            } else {
                message += "; known fields are " + known.joined(separator: ", ")
            }
            report(at: path, message)
        }
    }

    /// Records a problem about `path` (the whole document when empty).
    ///
    /// - Parameters:
    ///   - path: The field's path.
    ///   - message: What is wrong and what to do.
    public mutating func report(at path: String, _ message: String) {
        problems.append(path.isEmpty ? "\(source): \(message)" : "\(source): \(path): \(message)")
    }

    /// Records that `path` could not be decoded, without a message.
    ///
    /// - Parameter path: The field's path.
    public mutating func markFailed(_ path: String) {
        failedPaths.insert(path)
    }

    /// Records a problem about `path` and that it could not be decoded.
    ///
    /// - Parameters:
    ///   - path: The field's path.
    ///   - message: What is wrong.
    public mutating func fail(_ path: String, _ message: String) {
        report(at: path, message)
        markFailed(path)
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : path + "." + key
    }
}
