/// The two deadlines the host holds a worker to: loading (its library and
/// init) within init_timeout_seconds, and exiting within drain_seconds
/// (plus a grace) of being asked to stop. The Supervisor runs the timers;
/// what a deadline that passed means is decided here.
extension SlotMachine {
    /// A worker still loading is killed: its init may never return, and a
    /// load that never ends would hold the host's ready line and every later
    /// reload. A generation that was loading fails (only this plugin); a
    /// restarted instance of a serving one is restarted like a crash.
    mutating func loadDeadlinePassed(_ pid: Int32, _ seconds: Double, _ actions: inout [SlotAction]) {
        guard worker(pid)?.phase == .loading, let number = generationNumber(of: pid), let record = generation(number) else { return }
        let settings = PluginSettings.path(forPlugin: file)
        let reason = "\(file): worker \(pid) did not finish loading the plugin within \(Self.seconds(seconds)) (init_timeout_seconds): its init, or its library's loading, has not returned; it was killed; make init return sooner (do slow work after it), or raise init_timeout_seconds in \(settings) (or berth serve --init-timeout), then `berth reload`"
        if record.state == .loading {
            fail(number, reason, &actions)
        } else {
            actions.append(.log(LogLine(level: .error, message: reason, plugin: name)))
        }
        actions.append(.kill(pid: pid))
    }

    /// A worker that was asked to stop and is still there (a handler that
    /// does not return, an init that hangs) is killed, so the reload or
    /// removal waiting for it ends and later reloads do not queue behind it.
    mutating func drainDeadlinePassed(_ pid: Int32, _ seconds: Double, _ actions: inout [SlotAction]) {
        guard worker(pid)?.phase == .stopping else { return }
        let settings = PluginSettings.path(forPlugin: file)
        actions.append(.log(LogLine(level: .warn, message: "worker \(pid) did not exit within \(Self.seconds(seconds)) of being asked to stop (drain_seconds plus a grace); killing it, with the requests it still had; if requests legitimately take longer, raise drain_seconds in \(settings) (or berth serve --drain-seconds)", plugin: name ?? declaredName)))
        actions.append(.kill(pid: pid))
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
