extension Help {
    static let tryPlugin = """
    Usage: berth try LIBRARY.so [--config FILE] [--token TOKEN]

    Loads one plugin the way `berth serve` does (a private host in a
    temporary folder, the plugin in its own worker), reads request lines
    from stdin, prints each answer line to stdout in order, and exits 0 at
    the end of stdin (1 if the plugin did not load or a request got no
    answer; 128 + N if stopped by signal N, e.g. 130 for Ctrl-C). The
    host's log and the plugin's go to stderr.

    Example: echo '{"method":"GET","path":"/hello/bob"}' | berth try ./libhello.so

    Options:
      --config FILE    the plugin's settings file, as it would lie beside the
                       .so in plugins.d: {"config": {...}, "limits": ...}
      --token TOKEN    the auth_token given to requests that have none (by
                       default the private host's admin token, so routes
                       that are not public can be tried); "" gives none
    """
}
