enum Help {
    static let overview = """
    berth: runs plugin services (.so files), each in its own worker process
    on its own Unix socket, answering JSON requests.

    Usage: berth <command> [options]

    Commands:
      serve    load the plugins in a folder and serve them
      call     send one request to a service and print the answer
      status   show the plugins the running host serves
      reload   apply added, changed and removed plugin files (like SIGHUP)
      restart  start a fresh generation of one plugin
      new      create a plugin package (Swift or C) to build, test and deploy
      try      run request lines from stdin against one plugin .so, no host needed
      help     show help for a command (berth help serve)

    Run `berth <command> --help` for a command's options.
    """

    static let serve = """
    Usage: berth serve [--plugins DIR] [--run-dir DIR] [options]

    Loads every *.so in DIR (default plugins.d) into its own worker process
    and serves each on <run-dir>/<plugin name>.sock (default run dir: run).
    Also serves the control socket <run-dir>/berth.sock, writes
    <run-dir>/berth.pid, and creates <run-dir>/.auth_token on first start.
    `berth reload` (or SIGHUP): load added files, start a new generation for
    changed ones (old one drains once the new serves), stop removed ones.
    `berth reload` waits and prints what happened; after a SIGHUP, only the
    log and `berth status` say it.
    SIGTERM or SIGINT: finish in-flight requests, stop workers, remove the
    sockets and pid file, exit 0.
    A plugin's settings go in <file>.json beside <file>.so (see docs/settings.md).

    Options:
      --plugins DIR            folder of plugin libraries (plugins.d)
      --run-dir DIR            folder for sockets, pid and token ($BERTH_RUN_DIR,
                               or else run in the current directory); created
                               0700, or an existing one berth's user owns that
                               others cannot write (its mode is never changed)
      --run-dir-group-writable accept a run dir its group may write: every
                               member may then act as the operator
      --watch                  reload by itself when the plugins folder changes
      --tokens FILE            scoped tokens: lines of TOKEN SCOPE[,SCOPE...],
                               mode 0600, read again on every reload
      --instances N            worker processes per plugin (1)
      --max-request-bytes N    larger requests get 413 (1048576)
      --idle-timeout S         close connections quiet for S seconds; 0: never (60)
      --read-timeout S         408 for a request not whole S s after its first
                               byte; 0: no deadline (10)
      --max-connections N      connections per worker; past it, 503 (10000)
      --max-buffered-input-mb N
                               MiB of unfinished requests a worker holds for all
                               its clients; past it, 503 (64, or 4 x
                               --max-request-bytes if more)
      --drain-seconds S        how long stopping workers may finish requests;
                               killed 2 s after that (10)
      --init-timeout S         a plugin not loaded (library and init) within S s
                               is killed and fails; the others go on (30)
      --request-timeout S      a handler running longer: 504, worker replaced (30; 0: none)
      --crash-limit N          more crashes than this within --crash-window
      --crash-window S         leave a plugin down as failed (5 within 60)
      --log-format text|json   log line format on stderr (text)
      --log-level L            debug, info, warn or error (info)
    """

    static let call = """
    Usage: berth call [--run-dir DIR] [--id JSON] [--timeout S] SERVICE METHOD PATH [JSON-DATA]

    Sends one request to <run-dir>/SERVICE.sock with the token from
    <run-dir>/.auth_token, prints the response line, and exits 1 when the
    status is 400 or more (2 when the service cannot be reached).

    Example: berth call greeter GET /hello/bob
             berth call cecho POST /echo '{"a":1}'

    Options:
      --run-dir DIR      run directory of the host to ask; without it,
                         $BERTH_RUN_DIR, or else run in the current directory
      --id JSON          request id to send (echoed in the response)
      --timeout S        seconds to wait for the answer (30)
    """

    static let status = """
    Usage: berth status [--run-dir DIR] [--json]

    Shows each plugin: name, state, pid, requests, errors, latency, restarts,
    and why a plugin failed to load. A STATE marked * is a plugin whose last
    reload failed: its earlier version keeps serving, and a line below says
    why, until a later reload succeeds. Settings files that match no plugin
    file are listed too.

    Options:
      --run-dir DIR      run directory of the host to ask; without it,
                         $BERTH_RUN_DIR, or else run in the current directory
      --json             print the control socket's GET /status answer as it is
    """

    static let reload = """
    Usage: berth reload [--run-dir DIR] [--json] [--timeout S]

    Asks the host to rescan its plugins folder, waits until new generations
    serve and replaced ones have drained, then prints one line per file:
    added, updated, removed, unchanged, retried (it had failed, was
    unchanged, and loaded again), or failed with the reason and whether an
    earlier version keeps serving. Exits 1 if anything failed.

    Options:
      --run-dir DIR      run directory of the host to ask; without it,
                         $BERTH_RUN_DIR, or else run in the current directory
      --json             print the control socket's POST /reload answer as it is
      --timeout S        seconds to wait for the reload to finish (120)
    """

    static let restart = """
    Usage: berth restart [--run-dir DIR] [--json] [--timeout S] NAME|FILE

    Starts a fresh generation of plugin NAME from its file (also brings back
    a failed plugin, or one left down after a crash loop); the old one
    drains once the new one serves. FILE (libx.so, or a path to it in the
    plugins folder) names a plugin by its file, which also finds one that
    failed before it had a name.

    Options:
      --run-dir DIR      run directory of the host to ask; without it,
                         $BERTH_RUN_DIR, or else run in the current directory
      --json             print the control socket's answer as it is
      --timeout S        seconds to wait for the restart to finish (120)
    """

    static let new = """
    Usage: berth new NAME [--swift | --c] [--dir DIR] [--sdk PATH]

    Creates a plugin package in DIR/NAME (DIR: the current folder) that
    builds, tests and deploys with no edit. NAME (lower-case letters, digits
    and dashes, starting with a letter or digit) is the plugin's name and
    socket; it serves GET /hello/{name}.
      --swift (default)  Package.swift with the dynamic library product
                         <Name>Plugin (my-kv: MyKvPlugin) and a test target:
                         swift test; swift build --product MyKvPlugin
      --c                NAME.c, a Makefile and test.sh: make; make test
      --sdk PATH         the Berth checkout to build against (default: the
                         one this berth was built in)
    Then copy the .so into the plugins folder and run berth reload.
    """

    static func topic(_ name: String) -> String? {
        ["serve": serve, "call": call, "status": status, "reload": reload, "restart": restart, "new": new, "try": tryPlugin][name]
    }
}
