extension SaleCoordinator {
    func knownSHA(_ script: SaleScript) -> String? { shaStore.withLock { $0[script] } }
    func remember(_ script: SaleScript, sha: String) { shaStore.withLock { $0[script] = sha } }
    /// After NOSCRIPT the next call loads the script again on its node (SCRIPT LOAD of the
    /// same text gives the same SHA1, so other nodes are unaffected).
    func forget(_ script: SaleScript) { shaStore.withLock { $0[script] = nil } }
}
