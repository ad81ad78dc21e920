import Foundation
import XCTest

/// SDK/C/include/berth_json.h compiled with cc as a C author compiles it,
/// with strict warnings: it must build clean and write valid JSON.
/// (UnitCJSONHelperTests checks its escaping in detail from Swift.)
final class CJSONHelperTests: BerthTestCase {
    func testCompilesCleanUnderStrictFlagsAndWritesJSON() throws {
        let source = sandbox.root + "/json.c"
        try """
        #include <berth_json.h>
        #include <limits.h>
        #include <stdio.h>

        int main(void) {
            char buf[256];
            berth_json j;
            static const char name[] = "tab\\there \\"q\\" \\\\ \\x01 \\xff end";
            berth_json_init(&j, buf, sizeof buf);
            berth_json_raw(&j, "{\\"name\\":");
            berth_json_string(&j, name, sizeof name - 1);
            berth_json_raw(&j, ",\\"min\\":");
            berth_json_int(&j, LLONG_MIN);
            berth_json_raw(&j, ",\\"max\\":");
            berth_json_int(&j, LLONG_MAX);
            berth_json_raw(&j, "}");
            if (!berth_json_ok(&j)) return 1;
            fwrite(j.data, 1, j.length, stdout);

            char small[8];
            berth_json_init(&j, small, sizeof small);
            berth_json_string(&j, name, sizeof name - 1);
            return berth_json_ok(&j) ? 2 : 0;
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let program = sandbox.root + "/json"
        try PluginBuilder.compile(source, into: program,
                                  flags: ["-I", PluginBuilder.includeDirectory, "-std=c99", "-pedantic", "-Wextra", "-Wconversion", "-Wshadow"],
                                  program: true)
        let result = try Command.run(program, [])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(object["name"] as? String, "tab\there \"q\" \\ \u{01} \u{FFFD} end")
        XCTAssertTrue(result.stdout.contains(#""min":-9223372036854775808,"max":9223372036854775807"#), result.stdout)
    }
}
