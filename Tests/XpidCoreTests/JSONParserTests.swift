import Foundation
import Testing
import XpidCore

@Suite("JSON parser")
struct JSONParserTests {
    @Test("values, nesting, escapes and numbers")
    func values() throws {
        let v = try JSONValue.parse(#" { "a": [1, -2.5e3, true, false, null, "x\"y\\z\/\n\t\u00e9\ud83d\ude00"], "b": {}, "c": [] } "#)
        #expect(v["a"][0] == .number(1))
        #expect(v["a"][1] == .number(-2500))
        #expect(v["a"][2] == .bool(true) && v["a"][3] == .bool(false) && v["a"][4] == .null)
        #expect(v["a"][5] == .string("x\"y\\z/\n\té😀"))
        #expect(v["b"] == .object([:]) && v["c"] == .array([]))
    }

    @Test("agrees with Foundation on a kubectl-like document")
    func agreesWithFoundation() throws {
        let text = #"{"apiVersion":"v1","items":[{"kind":"Pod","metadata":{"name":"p-ü","labels":{"a":"b"},"annotations":{"k":"v\u0001"}},"spec":{"containers":[{"env":[{"name":"X","value":"1"}]}]},"status":{"restartCount":3,"ratio":0.25}}],"kind":"List"}"#
        let ours = try JSONValue.parse(text)
        let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == theirs)
    }

    @Test("malformed input is an error, never a crash", arguments: [
        "", "{", "[1,", "{\"a\" 1}", "{\"a\":}", "[1 2]", "\"unterminated", "tru", "nul", "-", "1.", "1e", "{\"a\":1}x",
        "\"bad \\q escape\"", "\"\\u12\"", "\"raw\ncontrol\"", "<html>502 Bad Gateway</html>",
    ])
    func malformed(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("nesting is bounded")
    func depth() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONValue.parse(fine)) != nil)
    }

    @Test("a lone surrogate becomes U+FFFD")
    func loneSurrogate() throws {
        #expect(try JSONValue.parse(#""a\ud800b""#) == .string("a\u{FFFD}b"))
    }
}
