extension SaleCoordinator {
    func knownSHA(_ script: SaleScript) -> String? { shaStore.withLock { $0[script] } }
    func remember(_ script: SaleScript, sha: String) { shaStore.withLock { $0[script] = sha } }
}
