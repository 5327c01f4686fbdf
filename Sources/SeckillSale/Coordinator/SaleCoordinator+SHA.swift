extension SaleCoordinator {
    func knownSHA(_ script: SaleScript) -> String? { shaStore.withLock { $0[script.index] } }

    /// The prepared purchase call of `item` for the purchase script's current SHA.
    @inline(__always)
    func purchaseCall(for item: String) throws(SaleError) -> PurchaseCall {
        try purchaseCalls.call(for: item, shaVersion: shaVersion.load(ordering: .acquiring), sha: knownSHA(.purchase))
    }

    /// The purchase call of `item` naming its deadlines set (`due`) or not, remembered for the
    /// item's next purchases.
    func purchaseCall(for item: String, due: Bool) throws(SaleError) -> PurchaseCall {
        let version = shaVersion.load(ordering: .acquiring)
        return try purchaseCalls.call(for: item, sha: knownSHA(.purchase), due: due, shaVersion: version)
    }
    func remember(_ script: SaleScript, sha: String) {
        let changed = shaStore.withLock { store in
            defer { store[script.index] = sha }
            return store[script.index] != sha
        }
        // A reload after NOSCRIPT learns the same SHA again: cached calls stay current.
        if changed { shaVersion.add(1, ordering: .releasing) }
    }
}

extension SaleScript {
    /// The script's position in ``allCases``: where the coordinator keeps its SHA (an array
    /// read on every purchase, rather than a dictionary hashed on every purchase).
    var index: Int {
        switch self {
        case .purchase: 0
        case .cancel: 1
        case .publish: 2
        case .restock: 3
        case .unpublish: 4
        case .bucketPublish: 5
        case .bucketRoot: 6
        case .bucketRestock: 7
        case .transferTake: 8
        case .transferGive: 9
        case .transferDone: 10
        case .pay: 11
        case .release: 12
        }
    }
}
