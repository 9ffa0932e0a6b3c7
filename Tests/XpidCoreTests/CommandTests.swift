import Foundation
import Testing
import XpidCore

@Suite("Command and ShellQuote")
struct CommandTests {
    @Test("plain words stay plain; everything else is single-quoted", arguments: [
        ("kubectl", "kubectl"),
        ("deployment/provider-aws-s3", "deployment/provider-aws-s3"),
        ("--field-manager=kubectl-xpid", "--field-manager=kubectl-xpid"),
        ("arn:aws:iam::123456789012:role/a+b=c,d.e@f-g", "arn:aws:iam::123456789012:role/a+b=c,d.e@f-g"),
        ("", "''"),
        ("a b", "'a b'"),
        ("x$(touch pwned)", "'x$(touch pwned)'"),
        ("`id`", "'`id`'"),
        ("it's", "'it'\\''s'"),
        ("a;b|c&&d", "'a;b|c&&d'"),
        ("~root", "'~root'"),
        ("*", "'*'"),
        ("<ROLE_ARN>", "'<ROLE_ARN>'"),
        ("ünï", "'ünï'"),
    ])
    func words(_ input: String, _ expected: String) {
        #expect(ShellQuote.word(input) == expected)
    }

    @Test("control characters keep the word on one line ($'…')")
    func controlCharacters() {
        #expect(ShellQuote.word("a\nb") == "$'a\\nb'")
        #expect(ShellQuote.word("esc\u{1B}[31m'") == "$'esc\\x1b[31m\\''")
        #expect(!ShellQuote.word("x\ny\u{7}").contains("\n"))
        #expect(Printable.text("pod\n-> touch x\u{1B}") == "pod\\n-> touch x\\x1b")
        #expect(Printable.text("plain") == "plain")
    }

    @Test("a variable is a quoted parameter expansion; argv carries ${NAME}; prefixes stay in the word")
    func variables() {
        let c = Command(["aws", "iam", "--role-arn", .variable("ROLE_ARN", meaning: "the role"), Command.Word.variable("KUBE_USER", meaning: "u").prefixed("--user=")])
        #expect(c.line == #"aws iam --role-arn "${ROLE_ARN}" --user="${KUBE_USER}""#)
        #expect(c.argv == ["aws", "iam", "--role-arn", "${ROLE_ARN}", "--user=${KUBE_USER}"])
        #expect(c.variables == ["ROLE_ARN": "the role", "KUBE_USER": "u"])
        #expect(!c.isComplete)
    }

    @Test("stdin is piped with printf from JSON the encoder wrote")
    func input() {
        let c = Commands.apply(["kind": "X", "metadata": ["name": "it's"]])
        #expect(c.argv == ["kubectl", "apply", "--server-side", "--field-manager=kubectl-xpid", "-f", "-"])
        #expect(c.line == #"printf '%s\n' '{"kind":"X","metadata":{"name":"it'\''s"}}' | kubectl apply --server-side --field-manager=kubectl-xpid -f -"#)
        #expect(c.effect == .change && c.isComplete)
    }

    @Test("patch bodies come from the JSON encoder, whatever the values hold")
    func patchBodies() throws {
        let hostile = #"arn:aws:iam::123456789012:role/a"}},"x":{"y"#
        let c = Commands.patch("deploymentruntimeconfigs.pkg.crossplane.io", "d", Patches.serviceAccountTemplateAnnotation("k", hostile))
        let body = try #require(c.argv.firstIndex(of: "-p").map { c.argv[$0 + 1] })
        #expect(try JSONValue.parse(body).at("spec", "serviceAccountTemplate", "metadata", "annotations", "k") == .string(hostile))
    }

    @Test("role ARNs are validated before they are copied", arguments: [
        ("arn:aws:iam::123456789012:role/CrossplaneECRRole", true),
        ("arn:aws:iam::123456789012:role/path/to/name_+=,.@-", true),
        ("arn:aws-cn:iam::123456789012:role/x", true),
        ("arn:aws:iam::123456789012:role/x$(touch${IFS}pwned)", false),
        (#"arn:aws:iam::123456789012:role/a"}},"x":{"y"#, false),
        ("arn:aws:iam::12345678901:role/x", false),
        ("arn:aws:iam::１２３456789012:role/x", false),
        ("arn:aws:iam::123456789012:role/", false),
        ("arn:aws:iam::123456789012:user/x", false),
        ("arn:aws:iam::123456789012:role//x", false),
        ("arn:aws:iam::123456789012:role/" + String(repeating: "a", count: 65), false),
    ])
    func roleARNs(_ text: String, _ valid: Bool) {
        #expect(ARN.isWellFormedRoleARN(text) == valid)
        #expect((ARN(text)?.roleName != nil) == valid)
    }
}
