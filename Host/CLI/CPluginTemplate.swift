/// The files of a C plugin package made by `berth new NAME --c`: one
/// source file using berth.h and berth_json.h, a Makefile (`make`,
/// `make test`) and a test script that runs requests through `berth try`.
/// Written in the style of Plugins/CEcho.
enum CPluginTemplate {
    /// `berth` is the binary that ran `berth new`: `make test` uses it
    /// unless BERTH is set.
    static func files(_ name: NewPluginName, checkout: BerthCheckout, berth: String) throws -> [GeneratedFile] {
        try checkUsableInMakefile(checkout.root, what: "the Berth checkout", advice: "pass that as --sdk")
        try checkUsableInMakefile(berth, what: "this berth", advice: "run that berth")
        return [
            GeneratedFile(path: "\(name.name).c", contents: source(name)),
            GeneratedFile(path: "Makefile", contents: makefile(name, checkout: checkout, berth: berth)),
            GeneratedFile(path: "test.sh", contents: testScript(name), isExecutable: true),
            GeneratedFile(path: ".gitignore", contents: "*.so\n"),
        ]
    }

    /// make cannot quote a path holding white space or its own special
    /// characters, so a Makefile naming one would fail in a confusing way.
    static func checkUsableInMakefile(_ path: String, what: String, advice: String) throws {
        let special: Set<Character> = [" ", "\t", "$", "#", ":", "\\", "\"", "'", "%", "="]
        if let found = path.first(where: { special.contains($0) }) {
            throw NewCommandError("\(what) is at \(path), whose \"\(found)\" a Makefile cannot use: move or link it to a path without one and \(advice)")
        }
    }

    static func source(_ name: NewPluginName) -> String {
        #"""
        /* \#(name.name): a Berth plugin in plain C, built from berth.h and berth_json.h alone.
         *
         *   GET /hello/{name}  (public)  answers {"hello":"<name>"}
         */
        #include <berth.h>
        #include <berth_json.h>

        static int setup(const berth_host_api *api, const char *config_json) {
            (void)config_json;                          /* the plugin's settings, as JSON */
            api->log(BERTH_LOG_INFO, "\#(name.name) ready");
            return 0;                                   /* non-zero refuses the load */
        }

        static void hello(const berth_request *req, void *user_data) {
            (void)user_data;                            /* the route's user_data, handed back */
            berth_str name = req->params[0].value;      /* {name}, percent-decoded: the client's text */
            char buffer[1024];
            berth_json json;
            berth_json_init(&json, buffer, sizeof buffer);
            berth_json_raw(&json, "{\"hello\":");
            berth_json_string(&json, name.ptr, name.len);   /* quoted and escaped */
            berth_json_raw(&json, "}");
            if (berth_json_ok(&json))
                req->host->respond(req, 200, json.data, json.length);
            else
                req->host->respond_error(req, 400, "name_too_long", "the name does not fit in the answer; send a shorter one");
        }

        static const berth_route routes[] = {
            {.method = "GET", .pattern = "/hello/{name}", .handler = hello, .flags = BERTH_ROUTE_PUBLIC},
        };

        static const berth_plugin plugin = {
            BERTH_PLUGIN_HEADER,                        /* magic, ABI version, sizeof */
            .name = "\#(name.name)",
            .version = "0.1.0",
            .routes = routes,
            .route_count = sizeof routes / sizeof routes[0],
            .init = setup,
        };

        /* The one symbol the host looks up in the library. */
        const berth_plugin *berth_plugin_entry(void) { return &plugin; }

        """#
    }

    static func makefile(_ name: NewPluginName, checkout: BerthCheckout, berth: String) -> String {
        let library = name.cLibraryName
        return #"""
        # The Berth plugin "\#(name.name)".
        #   make        builds \#(library)
        #   make test   runs test.sh: requests through `berth try`, no host needed
        # then copy \#(library) into the host's plugins folder and run `berth reload`.

        # The Berth checkout whose SDK/C/include has berth.h and berth_json.h.
        BERTH_SDK ?= \#(checkout.root)
        # The berth that runs the tests (make test BERTH=berth for the one on PATH).
        BERTH ?= \#(berth)
        CFLAGS ?= -O2 -Wall -Wextra

        \#(library): \#(name.name).c
        \#t$(CC) -shared -fPIC -I$(BERTH_SDK)/SDK/C/include $(CFLAGS) \#(name.name).c -o $@

        test: \#(library)
        \#tBERTH="$(BERTH)" sh ./test.sh ./\#(library)

        clean:
        \#trm -f \#(library)

        .PHONY: test clean

        """#
    }

    static func testScript(_ name: NewPluginName) -> String {
        #"""
        #!/bin/sh
        # Tests \#(name.cLibraryName) with `berth try`, which loads it as a worker does and
        # prints one answer line per request line, in order. To add a case, add a
        # request below and a `check` for its answer's number.
        set -eu
        library=${1:-./\#(name.cLibraryName)}
        berth=${BERTH:-berth}

        answers=$("$berth" try "$library" <<'REQUESTS'
        {"method":"GET","path":"/hello/bob"}
        {"method":"GET","path":"/hello/a%22b"}
        {"method":"GET","path":"/nothing"}
        REQUESTS
        )

        failed=0
        # check N TEXT: answer N contains TEXT.
        check() {
            answer=$(printf '%s\n' "$answers" | sed -n "$1p")
            case $answer in
                *"$2"*) echo "ok    $1: $answer" ;;
                *) echo "FAIL  $1: expected $2 in: $answer" >&2; failed=1 ;;
            esac
        }

        check 1 '"status":200,"data":{"hello":"bob"}'
        check 2 '"status":200,"data":{"hello":"a\"b"}'   # %22 decoded, then escaped
        check 3 '"status":404'
        exit $failed

        """#
    }
}
