import SeckillRouting

extension SaleConfig {
    /// The range checks of both sections, and their checks against `timeouts.commandMs`
    /// (made only when the routing layer found that field valid).
    static func validationProblems(
        sale: SaleSettings, durability: DurabilitySettings, reading: ClusterConfig.Reading, failedPaths: Set<String>
    ) -> [String] {
        var list = ProblemList(source: reading.config.source, failedPaths: failedPaths)
        let command = reading.config.timeouts.command
        let commandValid = !reading.hasFailed("timeouts.commandMs")
        validate(durability, against: command, commandValid: commandValid, into: &list)
        validate(sale, against: command, commandValid: commandValid, into: &list)
        return list.problems
    }

    private static func validate(
        _ durability: DurabilitySettings, against command: Duration, commandValid: Bool, into list: inout ProblemList
    ) {
        let replicasValid = (0...DurabilitySettings.maxReplicas).contains(durability.replicas)
        if !replicasValid {
            list.add(at: "durability.replicas", "must be from 0 to \(DurabilitySettings.maxReplicas), got \(durability.replicas)")
        }
        let timeoutValid = list.checkTimeout(durability.timeout, at: "durability.timeoutMs")
        // WAIT goes on the purchase's connection and answers after up to timeoutMs; a reply
        // that late times the connection out, and the purchase's outcome becomes unknown.
        // Without replicas no WAIT is sent, so the timeout does not matter.
        if durability.isEnabled, replicasValid, timeoutValid, commandValid, durability.timeout >= command {
            list.add(
                at: "durability.timeoutMs",
                "\(durability.timeout.wholeMilliseconds) must be below timeouts.commandMs (\(command.wholeMilliseconds)): "
                    + "WAIT holds its connection for up to timeoutMs, so a WAIT that long times out the connection and leaves "
                    + "the purchase's outcome unknown; lower durability.timeoutMs or raise timeouts.commandMs")
        }
    }

    private static func validate(_ sale: SaleSettings, against command: Duration, commandValid: Bool, into list: inout ProblemList) {
        let deadlineValid = list.checkTimeout(sale.callDeadline, at: "sale.callDeadlineMs")
        // One attempt may wait commandMs for its reply: a shorter deadline could not be kept,
        // and would leave no room to retry a command that did not run.
        if deadlineValid, commandValid, sale.callDeadline < command {
            list.add(
                at: "sale.callDeadlineMs",
                "\(sale.callDeadline.wholeMilliseconds) is below timeouts.commandMs (\(command.wholeMilliseconds)): "
                    + "one attempt may wait that long for its reply, so a call could not keep its deadline; "
                    + "raise sale.callDeadlineMs or lower timeouts.commandMs")
        }
    }
}
