/// Generations by number: finding them, and the three ways one changes
/// hands (takes over, fails, retires).
extension SlotMachine {
    func generation(_ number: Int) -> GenerationRecord? {
        generations.first { $0.number == number }
    }

    func generationNumber(of pid: Int32) -> Int? {
        generations.first { $0.index(of: pid) != nil }?.number
    }

    func worker(_ pid: Int32) -> WorkerRecord? {
        workers.first { $0.pid == pid }
    }

    /// Changes generation `number` in place, wherever it is held.
    @discardableResult
    mutating func update<R>(_ number: Int, _ body: (inout GenerationRecord) -> R) -> R? {
        if current?.number == number { return body(&current!) }
        if candidate?.number == number { return body(&candidate!) }
        if let index = retiring.firstIndex(where: { $0.number == number }) { return body(&retiring[index]) }
        return nil
    }

    mutating func updateWorker(_ pid: Int32, _ body: (inout WorkerRecord) -> Void) {
        guard let number = generationNumber(of: pid) else { return }
        update(number) { generation in
            if let index = generation.index(of: pid) { body(&generation.workers[index]) }
        }
    }

    /// Asks every worker of the generation that is not already stopping to
    /// finish and exit.
    mutating func stopWorkers(_ number: Int, _ actions: inout [SlotAction]) {
        update(number) { generation in
            for index in generation.workers.indices where generation.workers[index].phase != .stopping {
                generation.workers[index].phase = .stopping
                actions.append(.stop(pid: generation.workers[index].pid))
            }
        }
    }

    /// Moves a generation out of service: its workers drain and exit.
    mutating func retire(_ number: Int, _ actions: inout [SlotAction]) {
        update(number) { if $0.state != .failed { $0.state = .retiring } }
        stopWorkers(number, &actions)
        guard let record = generation(number) else { return }
        if current?.number == number { current = nil }
        if candidate?.number == number { candidate = nil }
        if !retiring.contains(where: { $0.number == number }) { retiring.append(record) }
    }

    /// A generation whose every instance serves takes over from the one
    /// before it, which then drains.
    mutating func progressed(_ number: Int, _ actions: inout [SlotAction]) {
        guard let record = generation(number), record.state == .loading, record.allWorkersServing else { return }
        update(number) { $0.state = .serving }
        guard candidate?.number == number else { return }
        if let previous = current { retire(previous.number, &actions) }
        current = candidate
        candidate = nil
        lastReloadError = nil
        actions.append(.log(LogLine(level: .info, message: "now serving version \(record.version ?? "?") (generation \(number)); the previous generation is draining", plugin: name)))
    }

    /// A generation that cannot serve: a new version that failed leaves the
    /// old one serving; a current one that failed leaves the plugin down,
    /// answering 503 with the reason.
    mutating func fail(_ number: Int, _ reason: String, _ actions: inout [SlotAction]) {
        guard let record = generation(number), record.state != .failed else { return }
        let wasServing = record.state == .serving
        update(number) {
            $0.state = .failed
            $0.failure = reason
        }
        stopWorkers(number, &actions)
        if case .generation(number, let serves, _) = awaiting {
            awaiting = .generation(number: number, serves: serves, failure: reason)
        }
        if candidate?.number == number {
            retiring.append(candidate!)
            candidate = nil
            lastReloadError = reason
            actions.append(.log(LogLine(level: .error, message: "reload failed: \(reason); version \(current?.version ?? "?") keeps serving", plugin: name)))
        } else {
            actions.append(.log(LogLine(level: .error, message: "\(wasServing ? "plugin down" : "plugin not loaded"): \(reason)", plugin: name)))
            if name != nil { actions.append(.openUnavailable(reason: reason)) }
        }
    }
}
