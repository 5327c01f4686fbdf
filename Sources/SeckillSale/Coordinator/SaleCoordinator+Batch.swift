import SeckillRESP
import SeckillRouting
import SeckillTransport

/// One purchase of a batch.
public struct PurchaseRequest: Sendable, Hashable {
    /// The item id.
    public var item: String
    /// The buyer.
    public var user: String
    /// Units.
    public var quantity: Int
    /// The attempt's id; made when nil.
    public var requestID: String?

    /// Creates a request.
    public init(item: String, user: String, quantity: Int = 1, requestID: String? = nil) {
        self.item = item
        self.user = user
        self.quantity = quantity
        self.requestID = requestID
    }
}

extension SaleCoordinator {
    /// The most purchases of one batch in flight at once: 256, or the pool's in-flight limit
    /// if lower, so a batch never overloads a node's pool by itself. Concurrent purchases to
    /// one node are pipelined on its connections, so this is enough to fill them without
    /// queueing a large batch in front of other callers.
    var batchWidth: Int { max(1, min(256, client.config.pool.maxInFlightPerNode)) }

    /// Purchases for many items at once, each through exactly the path of a single
    /// ``purchaseReceipt(_:user:quantity:requestID:)``: validation, sold-out shedding (only
    /// for requests without a request id), retries with the request id, `WAIT` and receipts,
    /// and the same errors. Purchases of one item are applied in the batch's order, one after
    /// another; different items run concurrently, up to ``batchWidth`` at once, so the
    /// purchases of one node are pipelined over its connections.
    ///
    /// - Parameter requests: The purchases.
    /// - Returns: One receipt or error per request, in order.
    public func purchaseReceipts(_ requests: [PurchaseRequest]) async -> [Result<PurchaseReceipt, SaleError>] {
        // One chain per item, in the order of first appearance.
        var chains: [[Int]] = []
        var chainOfItem: [String: Int] = [:]
        for (index, request) in requests.enumerated() {
            if let chain = chainOfItem[request.item] {
                chains[chain].append(index)
            } else {
                chainOfItem[request.item] = chains.count
                chains.append([index])
            }
        }
        var results = [Result<PurchaseReceipt, SaleError>?](repeating: nil, count: requests.count)
        await withTaskGroup(of: [(Int, Result<PurchaseReceipt, SaleError>)].self) { group in
            var next = 0
            func start() {
                let chain = chains[next]
                next += 1
                group.addTask {
                    var answers: [(Int, Result<PurchaseReceipt, SaleError>)] = []
                    for index in chain {
                        let request = requests[index]
                        do throws(SaleError) {
                            let receipt = try await self.purchaseReceipt(
                                request.item, user: request.user, quantity: request.quantity, requestID: request.requestID)
                            answers.append((index, .success(receipt)))
                        } catch {
                            answers.append((index, .failure(error)))
                        }
                    }
                    return answers
                }
            }
            let width = batchWidth
            while next < min(chains.count, width) { start() }
            for await answers in group {
                for (index, result) in answers { results[index] = result }
                if next < chains.count { start() }
            }
        }
        return results.map { $0! }
    }

    /// ``purchaseReceipts(_:)`` without the receipts.
    ///
    /// - Parameter requests: The purchases.
    /// - Returns: One result per request, in order.
    public func purchase(_ requests: [PurchaseRequest]) async -> [Result<PurchaseResult, SaleError>] {
        await purchaseReceipts(requests).map { $0.map(\.result) }
    }
}
