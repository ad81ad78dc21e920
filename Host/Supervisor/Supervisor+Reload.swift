import BerthAuth
import BerthChannel
import BerthPOSIX
import BerthSupport
import BerthWire
import Glibc

/// A reload run: scanning the folder into `scanned` and `removed` events,
/// and ending once every slot it touched has settled.
extension Supervisor {
    func begin(_ run: ReloadRun) {
        activeReload = run
        if !run.isStart { onReloadStart?(run.reasons) }
        let forced = run.forced
        if run.restartsOnly {
            for slot in slots where !slot.removed && forced.contains(slot.file) {
                scan(slot, forced: true)
            }
        } else {
            reloadTokens(run)
            let files: [String]
            do {
                let names = try Files.list(configuration.pluginsDirectory)
                files = names.filter { $0.hasSuffix(".so") }.map { "\(configuration.pluginsDirectory)/\($0)" }
                noteUnmatchedSettings(names)
            } catch {
                activeReload?.runFailures.append((configuration.pluginsDirectory, "cannot read the plugins folder: \(error)"))
                files = slots.filter { !$0.removed }.map(\.file)
            }
            for file in files {
                if let slot = slots.first(where: { $0.file == file && !$0.removed }) {
                    scan(slot, forced: forced.contains(file))
                } else {
                    slotsMade += 1
                    let slot = PluginSlot(file: file, serial: slotsMade, configuration: configuration)
                    slots.append(slot)
                    scan(slot, forced: false)
                }
            }
            for slot in slots where !slot.removed && !files.contains(slot.file) {
                activeReload?.touched(slot: slot.serial, file: slot.file)
                feed(slot, .removed)
            }
            if files.isEmpty && slots.isEmpty {
                Log.warn("no plugins in \(configuration.pluginsDirectory): copy a plugin's lib*.so there, then `berth reload`")
            }
        }
        activeReload?.scanning = false
        endReloadIfSettled()
    }

    /// Settings files that no plugin file matches: warned about on every
    /// reload that finds them, and listed in status until one does not.
    private func noteUnmatchedSettings(_ names: [String]) {
        let unmatched = UnmatchedSettings.find(in: names)
        let librariesWithoutSettings = names.filter { $0.hasSuffix(".so") && !names.contains(String($0.dropLast(3)) + ".json") }
        for name in unmatched {
            Log.warn(UnmatchedSettings.warning(name, folder: configuration.pluginsDirectory, candidates: librariesWithoutSettings))
        }
        unmatchedSettings = unmatched.map { "\(configuration.pluginsDirectory)/\($0)" }
    }

    /// Reads the file into a new generation and tells the slot; the slot
    /// keeps it only if it starts it.
    private func scan(_ slot: PluginSlot, forced: Bool) {
        activeReload?.touched(slot: slot.serial, file: slot.file)
        let number = slot.machine.nextGenerationNumber
        do {
            let generation = try Generation.load(file: slot.file, number: number, defaults: configuration)
            slot.generations[number] = generation
            feed(slot, .scanned(.readable(number: number, fingerprint: generation.fingerprint, instances: generation.settings.instances),
                                forced: forced))
        } catch {
            // A file never read before fails as a placeholder status shows.
            if !slot.machine.scannedBefore { slot.generations[number] = .failedPlaceholder(number: number) }
            feed(slot, .scanned(.unreadable(reason: "cannot load \(slot.file): \(error)"), forced: forced))
        }
    }

    /// Ends the reload once every slot it touched has settled, and starts
    /// the one that waited for it, if any.
    func endReloadIfSettled() {
        guard executionDepth == 0, let run = activeReload, run.isComplete else { return }
        activeReload = nil
        slots.removeAll { $0.machine.isDrained }
        let report = run.report
        if !run.isStart { onReloadDone?(report) }
        for request in run.requests { request.done(report) }
        if let next = reloads.runEnded(), !shuttingDown { begin(next) }
    }

    // MARK: Tokens

    /// Reads the tokens file again (every reload but a restart) and hands a
    /// changed table to every serving worker; the reload ends once each has
    /// applied it, so a revoked token is refused from then on. A bad file
    /// fails the reload and leaves the tokens loaded before in force.
    private func reloadTokens(_ run: ReloadRun) {
        guard let path = configuration.tokensFile, !run.isStart else { return }
        let loaded: [ScopedToken]
        do {
            loaded = try TokenFile.load(path, admin: token)
        } catch {
            activeReload?.runFailures.append((path, "\(error)"))
            Log.error("tokens file not reloaded: \(error); the tokens loaded before stay in force")
            return
        }
        guard loaded != scopedTokens else { return }
        scopedTokens = loaded
        tokenTable = TokenTable(admin: token, scoped: loaded)
        Log.info("tokens: \(loaded.count) scoped token(s) from \(path); handing them to the serving workers")
        for slot in slots { feed(slot, .tokensChanged) }
    }

    /// The message that hands a worker the current token table.
    func tokensMessage() -> HostMessage {
        .tokens(scopedTokens)
    }
}
