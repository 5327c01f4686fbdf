/// A node's `host:port`, as typed on the command line (`--nodes 127.0.0.1:7000,[::1]:7001`)
/// or sent by Redis in `MOVED`/`ASK` redirects.
public struct NodeAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host name or IP address, IPv6 without brackets.
    public var host: String
    /// The TCP port.
    public var port: Int

    /// Creates an address.
    ///
    /// - Parameters:
    ///   - host: The host name or IP address (IPv6 without brackets).
    ///   - port: The TCP port.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, splitting at the last colon so bare IPv6 (`::1:7000`) works;
    /// `[::1]:7000` is accepted too. Surrounding spaces are ignored.
    ///
    /// - Parameter text: The address text.
    /// - Returns: The address.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/invalidArgument`` when the
    ///   text has no port, an empty host, or a port outside 1-65535.
    public static func parse(_ text: String) throws(ConfigError) -> NodeAddress {
        let trimmed = Substring(text).drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        let entry = String(trimmed)
        let quoted = JSONWriter.quoted(text)
        let host: Substring
        let portText: Substring
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else {
                throw ConfigError(.invalidArgument, "\(quoted): missing ']' after the IPv6 address; write [ADDRESS]:PORT")
            }
            host = entry[entry.index(after: entry.startIndex)..<close]
            let rest = entry[entry.index(after: close)...]
            guard rest.first == ":" else {
                throw ConfigError(.invalidArgument, "\(quoted): expected ':PORT' after ']', e.g. [::1]:7000")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = entry.lastIndex(of: ":") else {
                throw ConfigError(.invalidArgument, "\(quoted): expected HOST:PORT, e.g. 127.0.0.1:7000")
            }
            host = entry[..<colon]
            portText = entry[entry.index(after: colon)...]
        }
        guard !host.isEmpty else {
            throw ConfigError(.invalidArgument, "\(quoted): the host is empty; expected HOST:PORT, e.g. 127.0.0.1:7000")
        }
        guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw ConfigError(.invalidArgument, "\(quoted): port \(JSONWriter.quoted(String(portText))) is not a number")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigError(.invalidArgument, "\(quoted): port \(portText) is out of range 1-65535")
        }
        return NodeAddress(host: String(host), port: port)
    }

    /// Parses a comma-separated list of addresses, reporting every bad entry at once.
    ///
    /// - Parameter text: The list, e.g. `127.0.0.1:7000,127.0.0.1:7001`.
    /// - Returns: The addresses in order.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/invalidArgument`` listing
    ///   every malformed, empty or repeated entry.
    public static func parseList(_ text: String) throws(ConfigError) -> [NodeAddress] {
        var addresses: [NodeAddress] = []
        var problems: [String] = []
        var seen: Set<NodeAddress> = []
        for (index, part) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            if part.allSatisfy(\.isWhitespace) {
                problems.append("node address \(index + 1) is empty; separate addresses with single commas")
                continue
            }
            do {
                let address = try parse(String(part))
                if seen.insert(address).inserted {
                    addresses.append(address)
                } else {
                    problems.append("\(address) is listed more than once")
                }
            } catch {
                problems += error.problems
            }
        }
        guard problems.isEmpty else {
            throw ConfigError(.invalidArgument, problems: problems)
        }
        return addresses
    }

    /// `host:port`, with the host in brackets when it contains a colon (IPv6).
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
