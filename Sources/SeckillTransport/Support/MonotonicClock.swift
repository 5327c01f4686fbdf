internal import CSeckillSys

/// Nanoseconds on the monotonic clock, the time base for every deadline in the transport.
package enum MonotonicClock {
    package static func now() -> UInt64 { csk_monotonic_ns() }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    static func deadline(after duration: Duration) -> UInt64 {
        now() &+ nanoseconds(duration)
    }
}

/// Process-level facts the CLI and benchmarks report.
public enum ProcessStats {
    /// The peak resident set size of this process, in bytes.
    public static var peakResidentBytes: UInt64 { csk_peak_rss_bytes() }
    /// CPU time (user + system, every thread) this process has used so far, in seconds.
    public static var cpuSeconds: Double { Double(csk_cpu_ns()) / 1e9 }
}
