/// What a reload, a restart, the tokens file and shutdown do to a slot.
extension SlotMachine {
    mutating func scanned(_ scan: SlotEvent.Scan, forced: Bool, _ actions: inout [SlotAction]) {
        guard lifecycle == .active else { return }
        let first = !scannedBefore
        scannedBefore = true
        switch scan {
        case .unreadable(let reason) where first:
            // Nothing ran from this file: status shows it failed, and why.
            generationsMade += 1
            current = .placeholder(number: generationsMade, failure: reason)
            awaiting = .generation(number: generationsMade, serves: .added, failure: reason)
            actions.append(.log(LogLine(level: .error, message: "plugin not loaded: \(reason)", plugin: nil)))
        case .unreadable(let reason):
            lastReloadError = reason
            awaiting = .outcome(.notReloaded(reason: reason))
            actions.append(.log(LogLine(level: .error, message: "reload failed: \(reason); the running version keeps serving", plugin: name)))
        case .readable(_, let fingerprint, _) where current?.fingerprint == fingerprint && current?.state != .failed && !forced:
            // Same bytes, same settings: keep what runs. What runs is what
            // the folder holds: an earlier failed update is no longer pending.
            lastReloadError = nil
            awaiting = .outcome(.unchanged)
        case .readable(let number, let fingerprint, let instances):
            // A failed plugin whose file did not change is loaded again: what
            // failed it may have passed (a dependency down, a full disk, a
            // socket held by an orphan), and a reload is how an operator says so.
            let retry = current?.state == .failed && current?.fingerprint == fingerprint && !forced
            if retry {
                actions.append(.log(LogLine(level: .info, message: "retrying: \(file) failed before (\(current?.failure ?? "?")) and is unchanged; loading it again", plugin: name ?? declaredName)))
            }
            start(GenerationRecord(number: number, fingerprint: fingerprint, instances: instances), retry: retry, &actions)
        }
    }

    /// A new generation: beside a serving one (which it replaces once every
    /// instance serves), or instead of one that does not serve.
    private mutating func start(_ record: GenerationRecord, retry: Bool, _ actions: inout [SlotAction]) {
        generationsMade = record.number
        // A plugin that never served is being added, not updated.
        awaiting = .generation(number: record.number, serves: retry ? .retried : (name == nil ? .added : .updated), failure: nil)
        crashTimes.removeAll()
        policy = RestartPolicy()
        if let candidate { retire(candidate.number, &actions) }
        if let current, current.state == .serving {
            candidate = record
        } else {
            if let current { retire(current.number, &actions) }
            current = record
        }
        for instance in 0..<record.instances {
            actions.append(.spawn(generation: record.number, instance: instance))
        }
    }

    mutating func removed(_ actions: inout [SlotAction]) {
        guard lifecycle == .active else { return }
        lifecycle = .removed
        awaiting = .removal
        for record in generations { retire(record.number, &actions) }
        actions.append(.closeUnavailable)
        if let name { actions.append(.removeSocket(name: name)) }
        actions.append(.log(LogLine(level: .info, message: "removed: \(file); its workers finish in-flight requests and exit", plugin: name)))
    }

    /// Every worker drains and exits; nothing restarts. A reload under way
    /// never settles (the host exits instead).
    mutating func shutdown(_ actions: inout [SlotAction]) {
        guard lifecycle != .stopping else { return }
        lifecycle = .stopping
        awaiting = nil
        actions.append(.cancelRestarts)
        actions.append(.closeUnavailable)
        for record in generations { stopWorkers(record.number, &actions) }
    }

    /// Serving workers get the new token table; a reload waits until each
    /// has applied it, so a revoked token is refused from then on.
    mutating func tokensChanged(_ actions: inout [SlotAction]) {
        for record in generations {
            update(record.number) { generation in
                for index in generation.workers.indices where generation.workers[index].phase == .serving {
                    generation.workers[index].tokensPending = true
                    actions.append(.sendTokens(pid: generation.workers[index].pid))
                }
            }
        }
    }

    mutating func tokensUndeliverable(_ pid: Int32, _ error: String, _ actions: inout [SlotAction]) {
        updateWorker(pid) { $0.tokensPending = false }
        actions.append(.log(LogLine(level: .error, message: "cannot hand the new tokens to worker \(pid): \(error); stopping it so a fresh one starts with them", plugin: name)))
        actions.append(.kill(pid: pid))
    }
}
