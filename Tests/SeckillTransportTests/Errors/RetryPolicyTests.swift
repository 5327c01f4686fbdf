import SeckillTransport
import Testing

/// The one rule for sending a command again.
@Suite("RetryPolicy")
struct RetryPolicyTests {
    static let node = "127.0.0.1:6379"

    @Test("what did not run is resent; an unknown outcome only when idempotent; refusals and other replies never")
    func whatMayBeResent() {
        let policy = RetryPolicy()
        let notSent = RedisError(code: .connectionClosed, delivery: .notSent, node: Self.node, message: "closed")
        let unknown = RedisError(code: .timeout, delivery: .unknown, node: Self.node, message: "no reply")
        #expect(policy.mayResend(notSent, idempotent: false))
        #expect(!policy.mayResend(unknown, idempotent: false))
        #expect(policy.mayResend(unknown, idempotent: true))
        for code in ["MOVED 1 127.0.0.1:7000", "ASK 1 127.0.0.1:7000", "TRYAGAIN x", "CLUSTERDOWN x", "LOADING x", "NOSCRIPT x", "BUSY x"] {
            #expect(policy.mayResend(RedisError.server(code, node: Self.node), idempotent: false), "\(code)")
        }
        for line in ["ERR wrong", "OOM command not allowed", "WRONGTYPE x"] {
            #expect(!policy.mayResend(RedisError.server(line, node: Self.node), idempotent: true), "\(line)")
        }
        for code in [RedisError.Code.overloaded, .authenticationFailed, .poolClosed, .cancelled, .replyTooLarge] {
            #expect(
                !policy.mayResend(RedisError(code: code, delivery: .notSent, node: Self.node, message: "x"), idempotent: true), "\(code)")
        }
    }

    @Test("pauses double from the first to the longest")
    func backoff() {
        let policy = RetryPolicy(minBackoff: .milliseconds(2), maxBackoff: .milliseconds(10))
        #expect((1...5).map { policy.backoff(retry: $0) } == [2, 4, 8, 10, 10].map { Duration.milliseconds($0) })
    }

    @Test("a retry is made only if its pause ends before the deadline")
    func deadline() {
        let policy = RetryPolicy()
        let error = RedisError.server("TRYAGAIN x", node: Self.node)
        let now = ContinuousClock.now
        #expect(
            policy.decide(error, idempotent: false, attempt: 1, now: now, deadline: now + .milliseconds(5))
                == .retry(after: .milliseconds(1)))
        #expect(policy.decide(error, idempotent: false, attempt: 3, now: now, deadline: now + .milliseconds(3)) == .fail)
        #expect(
            policy.decide(RedisError.server("ERR x", node: Self.node), idempotent: true, attempt: 1, now: now, deadline: now + .seconds(9))
                == .fail)
    }
}
