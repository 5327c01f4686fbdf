/// The one rule for sending a command again after a ``RedisError``, and how long to pause
/// first: every retry loop of the client (sale scripts, cluster redirects and the like) asks it.
///
/// - Sent again: a command that certainly did not run (``RedisError/commandDidNotRun``: never
///   written, or refused with `MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`,
///   `MASTERDOWN`, `NOSCRIPT`, `READONLY`, `BUSY`), and a command whose outcome is unknown
///   only when it is idempotent (a purchase with its request id, a cancel, `SCRIPT LOAD`).
/// - Never: `overloaded` (retrying adds load; the caller decides), `authenticationFailed`,
///   `poolClosed`, `cancelled`, `replyTooLarge`, and any other error reply.
/// - Pauses double from ``minBackoff`` to ``maxBackoff``, and a retry is made only if its
///   pause ends before the call's deadline.
public struct RetryPolicy: Sendable, Hashable {
    /// The first pause. Default 1 ms: a slot move or a restart is over in milliseconds.
    public var minBackoff: Duration
    /// The longest pause. Default 100 ms, far below a sale call's deadline.
    public var maxBackoff: Duration

    /// The policy with the documented defaults.
    public static let shared = RetryPolicy()

    /// Creates a policy with the documented defaults.
    public init(minBackoff: Duration = .milliseconds(1), maxBackoff: Duration = .milliseconds(100)) {
        self.minBackoff = minBackoff
        self.maxBackoff = max(minBackoff, maxBackoff)
    }

    /// What to do after a failed attempt.
    public enum Decision: Sendable, Hashable {
        /// Pause this long, then send again.
        case retry(after: Duration)
        /// Give up and report the error.
        case fail
    }

    /// Whether a command that failed with `error` may be sent again.
    ///
    /// - Parameters:
    ///   - error: The failure.
    ///   - idempotent: Whether running the command twice changes nothing more than once.
    public func mayResend(_ error: RedisError, idempotent: Bool) -> Bool {
        switch error.code {
        case .overloaded, .authenticationFailed, .poolClosed, .cancelled, .replyTooLarge: return false
        default: break
        }
        if error.commandDidNotRun { return true }
        return error.outcomeUnknown && idempotent
    }

    /// The pause before retry number `retry` (1 for the first retry).
    public func backoff(retry: Int) -> Duration {
        var pause = minBackoff
        var step = 1
        while step < retry && pause < maxBackoff {
            pause = min(pause * 2, maxBackoff)
            step += 1
        }
        return pause
    }

    /// Decides after failed attempt number `attempt` (1 for the first).
    ///
    /// - Parameters:
    ///   - error: The failure.
    ///   - idempotent: Whether the command may run twice.
    ///   - attempt: Attempts made so far.
    ///   - now: The current instant.
    ///   - deadline: When the call must have returned.
    public func decide(
        _ error: RedisError, idempotent: Bool, attempt: Int, now: ContinuousClock.Instant, deadline: ContinuousClock.Instant
    ) -> Decision {
        guard mayResend(error, idempotent: idempotent) else { return .fail }
        let pause = backoff(retry: attempt)
        return now + pause < deadline ? .retry(after: pause) : .fail
    }
}
