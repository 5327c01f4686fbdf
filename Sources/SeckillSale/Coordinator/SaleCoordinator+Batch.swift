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
    /// Purchases for many items at once: grouped by node and pipelined, one round trip per
    /// node. Each entry that fails in the pipeline (lost connection, `NOSCRIPT`, ...) is retried
    /// on its own with its request id, so no purchase is applied twice.
    ///
    /// - Parameter requests: The purchases.
    /// - Returns: One result per request, in order.
    public func purchase(_ requests: [PurchaseRequest]) async -> [Result<PurchaseResult, SaleError>] {
        var results = [Result<PurchaseResult, SaleError>?](repeating: nil, count: requests.count)
        var prepared: [(index: Int, request: String)] = []
        for (index, request) in requests.enumerated() {
            do {
                let id = try validatedPurchase(request.item, user: request.user, quantity: request.quantity, requestID: request.requestID)
                prepared.append((index, id))
            } catch {
                results[index] = .failure(error)
            }
        }
        let ids = Dictionary(uniqueKeysWithValues: prepared.map { ($0.index, $0.request) })
        let groups = client.router.group(prepared.map(\.index)) { ItemKeys(item: requests[$0].item).meta }
            .map { group in (node: group.node, indexes: group.indexes.map { prepared[$0].index }) }

        if let sha = knownSHA(.purchase) {
            let replies = try? await perNode(groups) { _, indexes in
                indexes.map { index in
                    let request = requests[index]
                    let call = self.purchaseCall(request.item, user: request.user, quantity: request.quantity, request: ids[index]!)
                    return Self.evalsha(sha, keys: call.keys, arguments: call.arguments)
                }
            }
            for (_, indexes, values) in replies ?? [] {
                for (position, index) in indexes.enumerated() {
                    guard let text = values[position].string, values[position].errorMessage == nil else { continue }
                    do { results[index] = .success(try parsePurchase(text)) } catch { results[index] = .failure(error) }
                }
            }
        }
        // Whatever the pipeline did not settle goes through the single path with the same id.
        for (index, id) in prepared where results[index] == nil {
            let request = requests[index]
            do {
                results[index] = .success(try await purchase(request.item, user: request.user, quantity: request.quantity, requestID: id))
            } catch {
                results[index] = .failure(error)
            }
        }
        return results.map { $0! }
    }
}
