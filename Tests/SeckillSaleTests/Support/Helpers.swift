import Foundation
import SeckillSale

/// Runs blocking work (starting processes, waiting for them) on a thread of its own and
/// waits for it without holding a thread of the shared pool.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A failure in a test's own setup.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension CancelResult {
    /// The kind of answer and the user it names, for compact checks.
    var kindAndUser: (String, String?) {
        switch self {
        case .cancelled(_, let user, _): ("cancelled", user)
        case .alreadyCancelled(_, let user, _): ("alreadyCancelled", user)
        case .released(_, let user, _): ("released", user)
        case .unknownOrder: ("unknownOrder", nil)
        case .unknownItem: ("unknownItem", nil)
        }
    }
}
