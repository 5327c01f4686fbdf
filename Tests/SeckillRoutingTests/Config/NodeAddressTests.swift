import SeckillRouting
import Testing

@Suite("NodeAddress")
struct NodeAddressTests {
    @Test(
        "host:port splits at the last colon; brackets allowed for IPv6",
        arguments: [
            ("127.0.0.1:7000", "127.0.0.1", 7000),
            ("redis-1.internal:6379", "redis-1.internal", 6379),
            ("[::1]:7000", "::1", 7000),
            ("::1:7000", "::1", 7000),
            ("[fe80::1%eth0]:7001", "fe80::1%eth0", 7001),
            ("  localhost:1  ", "localhost", 1),
        ]
    )
    func parses(text: String, host: String, port: Int) throws {
        #expect(try NodeAddress.parse(text) == NodeAddress(host: host, port: port))
    }

    @Test(
        "malformed addresses are rejected with a reason",
        arguments: [
            ("localhost", #""localhost": expected HOST:PORT, e.g. 127.0.0.1:7000"#),
            (":7000", #"":7000": the host is empty; expected HOST:PORT, e.g. 127.0.0.1:7000"#),
            ("h:", #""h:": port "" is not a number"#),
            ("h:7x", #""h:7x": port "7x" is not a number"#),
            ("h:70000", #""h:70000": port 70000 is out of range 1-65535"#),
            ("h:0", #""h:0": port 0 is out of range 1-65535"#),
            ("[::1", #""[::1": missing ']' after the IPv6 address; write [ADDRESS]:PORT"#),
            ("[::1]7000", #""[::1]7000": expected ':PORT' after ']', e.g. [::1]:7000"#),
        ]
    )
    func rejects(text: String, message: String) {
        do {
            _ = try NodeAddress.parse(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.description == message)
        }
    }

    @Test("lists parse in order and report every bad entry")
    func parsesLists() throws {
        #expect(
            try NodeAddress.parseList("127.0.0.1:7000,[::1]:7001, 10.0.0.2:7002") == [
                NodeAddress(host: "127.0.0.1", port: 7000),
                NodeAddress(host: "::1", port: 7001),
                NodeAddress(host: "10.0.0.2", port: 7002),
            ])
        do {
            _ = try NodeAddress.parseList("a:1,,b,a:1")
            Issue.record("expected an error")
        } catch {
            #expect(
                error.problems == [
                    "node address 2 is empty; separate addresses with single commas",
                    #""b": expected HOST:PORT, e.g. 127.0.0.1:7000"#,
                    "a:1 is listed more than once",
                ])
        }
    }

    @Test("IPv6 hosts print in brackets")
    func description() {
        #expect(NodeAddress(host: "::1", port: 7000).description == "[::1]:7000")
        #expect(NodeAddress(host: "127.0.0.1", port: 7000).description == "127.0.0.1:7000")
    }
}
