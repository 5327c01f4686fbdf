import SeckillTransport
import Testing

@Suite("RedisError classification")
struct RedisErrorTests {
    @Test(
        "error replies keep their code and say whether the command ran",
        arguments: [
            ("NOSCRIPT No matching script. Please use EVAL.", "NOSCRIPT", true),
            ("MOVED 3999 127.0.0.1:6381", "MOVED", true),
            ("ASK 3999 127.0.0.1:6381", "ASK", true),
            ("TRYAGAIN Multiple keys request during rehashing of slot", "TRYAGAIN", true),
            ("CLUSTERDOWN The cluster is down", "CLUSTERDOWN", true),
            ("LOADING Redis is loading the dataset in memory", "LOADING", true),
            ("READONLY You can't write against a read only replica.", "READONLY", true),
            ("WRONGTYPE Operation against a key holding the wrong kind of value", "WRONGTYPE", false),
            ("ERR unknown command 'FOO'", "ERR", false),
        ])
    func serverErrorCodes(line: String, code: String, didNotRun: Bool) {
        let error = RedisError.server(line, node: "node-a")
        #expect(error.code == .serverError)
        #expect(error.serverCode == code)
        #expect(error.delivery == .replied)
        #expect(error.commandDidNotRun == didNotRun)
        #expect(!error.outcomeUnknown)
        #expect(error.description.contains(line))
    }

    @Test("a reply without an upper-case code has no server code")
    func freeFormError() {
        let error = RedisError.server("something odd happened", node: "n")
        #expect(error.serverCode == nil)
        #expect(!error.commandDidNotRun)
    }

    @Test("not-sent failures are safe to retry, unknown outcomes are not")
    func deliveryKinds() {
        let notSent = RedisError(code: .connectFailed, delivery: .notSent, node: "n", message: "refused")
        #expect(notSent.commandDidNotRun)
        #expect(!notSent.outcomeUnknown)
        #expect(notSent.description.contains("safe to retry"))
        let unknown = RedisError(code: .timeout, delivery: .unknown, node: "n", message: "no reply")
        #expect(!unknown.commandDidNotRun)
        #expect(unknown.outcomeUnknown)
        #expect(unknown.description.contains("outcome unknown"))
    }
}
