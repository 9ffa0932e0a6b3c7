import Foundation
import Testing
import XpidCLI
import XpidCore

@Suite("Help")
struct HelpTests {
    @Test("root help: OVERVIEW, USAGE, the subcommands, exit codes, and says kubectl xpid")
    func root() {
        let h = Help.root()
        #expect(h.hasPrefix("OVERVIEW: "))
        #expect(h.contains("USAGE: kubectl xpid <subcommand>"))
        #expect(h.contains("SUBCOMMANDS:"))
        for c in CommandModel.commands { #expect(h.contains("  \(c.name)"), "\(c.name)") }
        #expect(h.contains("64"))
        #expect(!h.contains("kubectl-xpid "), "help says 'kubectl xpid', the way users type it")
    }

    @Test("command help: OVERVIEW, USAGE, OPTIONS with every flag", arguments: CommandModel.commands.map(\.name))
    func command(_ name: String) throws {
        let spec = try #require(CommandModel.command(name))
        let h = Help.command(spec)
        #expect(h.hasPrefix("OVERVIEW: "))
        #expect(h.contains("USAGE: kubectl xpid \(name)"))
        #expect(h.contains("OPTIONS:"))
        for f in spec.flags {
            #expect(h.contains("--\(f.long)"), "--\(f.long)")
            if let s = f.short { #expect(h.contains("-\(s), --\(f.long)")) }
            #expect(h.contains(f.help))
        }
    }

    @Test("usage errors name the command's usage and help")
    func usageError() throws {
        guard case .failure(let verifyError) = Parser.parse(["verify", "--frobnicate"]),
            case .failure(let rootError) = Parser.parse(["frobnicate"])
        else {
            Issue.record("expected usage errors")
            return
        }
        #expect(Help.usageError(verifyError) == "error: unknown flag --frobnicate\nUsage: kubectl xpid verify [flags]\nSee 'kubectl xpid verify --help'.\n")
        #expect(Help.usageError(rootError) == "error: unknown command \"frobnicate\"\nUsage: kubectl xpid <subcommand> [flags]\nSee 'kubectl xpid --help'.\n")
    }
}

@Suite("Completion")
struct CompletionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var args: [String]
        var output: String
        var testDescription: String { args.map { $0.isEmpty ? "''" : $0 }.joined(separator: " ") }
    }

    @Test("kubectl plugin completion protocol", arguments: [
        Case(args: ["ver"], output: "verify\nversion\n:4\n"),
        Case(args: [""], output: "verify\nfix\nchecks\nexplain\nversion\ncompletion\n:4\n"),
        Case(args: ["verify", "--cloud", ""], output: "aws\nazure\ngcp\nauto\n:4\n"),
        Case(args: ["verify", "--cloud", "a"], output: "aws\nazure\nauto\n:4\n"),
        Case(args: ["verify", "-o", ""], output: "text\njson\nsarif\njunit\n:4\n"),
        Case(args: ["verify", "--fail-on", ""], output: "warn\nfail\n:4\n"),
        Case(args: ["verify", "--only", "podid.a"], output: "podid.association\n:4\n"),
        Case(args: ["verify", "--skip", "cluster."], output: "cluster.cloud\ncluster.access\n:4\n"),
        Case(args: ["verify", "--kubeconfig", ""], output: ":0\n"),
        Case(args: ["verify", "--c"], output: "--context\n--cluster\n--crossplane-namespace\n--cloud\n--cluster-name\n--concurrency\n:4\n"),
        Case(args: ["verify", "--context", "prod", "--no-"], output: "--no-cloud\n--no-color\n:4\n"),
        Case(args: ["verify", ""], output: ":4\n"),
        Case(args: ["explain", "podid.t"], output: "podid.trust-policy\n:4\n"),
        Case(args: ["completion", ""], output: "bash\nzsh\nfish\n:4\n"),
        Case(args: ["checks", "-o", "m"], output: "markdown\n:4\n"),
        Case(args: [], output: "verify\nfix\nchecks\nexplain\nversion\ncompletion\n:4\n"),
        Case(args: ["fix", "--re"], output: "--request-timeout\n--region\n--resource-group\n--restart\n:4\n"),
    ])
    func complete(_ c: Case) {
        #expect(Completion.complete(c.args) == c.output)
    }

    @Test("every command and flag appears in every shell's script", arguments: Shell.allCases)
    func scriptsMentionEverything(_ shell: Shell) {
        let script = Completion.script(shell)
        for c in CommandModel.commands {
            #expect(script.contains(c.name))
            for f in c.flags {
                let needle = shell == .fish ? "-l \(f.long)" : "--\(f.long)"
                #expect(script.contains(needle), "\(shell): \(c.name) \(needle)")
            }
        }
        for id in Catalog.descriptions.map(\.id) { #expect(script.contains(id), "\(shell): \(id)") }
    }
}
