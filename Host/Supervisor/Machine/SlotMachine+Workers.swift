/// A worker's way from started to serving, as its channel reports it.
extension SlotMachine {
    mutating func workerStarted(_ pid: Int32, _ number: Int, _ instance: Int, _ actions: inout [SlotAction]) {
        guard let record = generation(number) else { return actions.append(.stop(pid: pid)) }
        // A generation that failed while its instances were being started
        // takes no new workers: this one only has to go again.
        let live = record.isLive && lifecycle == .active
        update(number) { $0.workers.append(WorkerRecord(pid: pid, instance: instance, phase: live ? .loading : .stopping)) }
        if !live { actions.append(.stop(pid: pid)) }
    }

    /// The Supervisor decided whether the worker may use `declared` (no
    /// other file holds it first); init runs only if it may.
    mutating func workerNamed(_ pid: Int32, _ declared: String, _ problem: String?, _ actions: inout [SlotAction]) {
        guard let number = generationNumber(of: pid), let record = generation(number), worker(pid)?.phase == .loading else { return }
        declaredName = declared
        guard record.isLive, lifecycle == .active else {
            updateWorker(pid) { $0.phase = .stopping }
            return actions.append(.stop(pid: pid))
        }
        if let owned = name, owned != declared {
            return fail(number, "\(file) now names itself \"\(declared)\" instead of \"\(owned)\"; to rename a plugin, remove the file and add it under the new name", &actions)
        }
        if let problem { return fail(number, problem, &actions) }
        actions.append(.initialize(pid: pid))
    }

    mutating func workerLoaded(_ pid: Int32, _ loadedName: String, _ problem: String?, _ actions: inout [SlotAction]) {
        guard let number = generationNumber(of: pid), let record = generation(number) else { return }
        // Only a plugin writing to the channel itself says "loaded" again:
        // it has its socket already, and a second one is not handed out.
        if let phase = worker(pid)?.phase, phase != .loading {
            if phase == .serving {
                actions.append(.log(LogLine(level: .warn, message: "worker \(pid) reported loading the plugin again while serving; ignored (a plugin must not write to descriptor 3, the host's channel)", plugin: name)))
            }
            return
        }
        guard record.isLive, lifecycle == .active else {
            // Too late: its generation is going away, or the host is.
            guard worker(pid)?.phase != .stopping else { return }
            updateWorker(pid) { $0.phase = .stopping }
            return actions.append(.stop(pid: pid))
        }
        if let owned = name, owned != loadedName {
            return fail(number, "\(file) now names itself \"\(loadedName)\" instead of \"\(owned)\"; to rename a plugin, remove the file and add it under the new name", &actions)
        }
        if let problem { return fail(number, problem, &actions) }
        actions.append(.serve(pid: pid, generation: number, name: loadedName))
    }

    mutating func workerServing(_ pid: Int32, _ servedName: String, _ version: String?, _ actions: inout [SlotAction]) {
        guard let number = generationNumber(of: pid), worker(pid)?.phase == .loading else { return }
        name = servedName
        updateWorker(pid) { $0.phase = .serving }
        update(number) { $0.version = version }
        actions.append(.closeUnavailable)
        let restartNote = restarts > 0 && current?.number == number ? ", restart \(restarts)" : ""
        actions.append(.log(LogLine(level: .info, message: "serving \(configuration.socketPath(for: servedName)) (version \(version ?? "?"), generation \(number), worker \(pid)\(restartNote))", plugin: servedName)))
        progressed(number, &actions)
    }

    mutating func workerFailed(_ pid: Int32, _ reason: String, _ actions: inout [SlotAction]) {
        guard let number = generationNumber(of: pid), let record = generation(number) else { return }
        if record.state == .loading {
            fail(number, reason, &actions)
        } else {
            // A restart that failed to load counts as a crash; the exit
            // that follows is handled by workerExited.
            actions.append(.log(LogLine(level: .error, message: "worker \(pid) could not load the plugin again: \(reason)", plugin: name)))
        }
    }

    mutating func restartDue(_ number: Int, _ instance: Int, _ actions: inout [SlotAction]) {
        guard lifecycle == .active, let record = generation(number), record.isLive else { return }
        actions.append(.spawn(generation: number, instance: instance))
    }
}
