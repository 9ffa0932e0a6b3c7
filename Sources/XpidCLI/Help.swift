import Foundation
import XpidCore

/// Help in the OVERVIEW / USAGE / OPTIONS / SUBCOMMANDS layout, generated from the command model.
public enum Help {
    public static func root() -> String {
        var s = """
            OVERVIEW: Verify workload identity for Crossplane (the package manager, Providers and
            Functions) and Flux (controllers and objects) on EKS (IRSA and Pod Identity), AKS (Azure
            Workload Identity) and GKE (Workload Identity): every link from the ServiceAccount to the
            cloud identity that trusts it, in a cluster, in manifests (-f) or in a saved snapshot.

            USAGE: kubectl xpid <subcommand> [flags]

            SUBCOMMANDS:

            """
        for c in CommandModel.commands {
            s += "  " + c.name.padding(toLength: 12, withPad: " ", startingAt: 0) + c.abstract + "\n"
        }
        s += """

            OPTIONS:
              -h, --help  Show help (also 'kubectl xpid help <subcommand>').
              --version   Print the version.

            EXIT CODES:
              0    no finding at or above --fail-on; fix --yes: every action applied and the re-verify passes
              1    findings at or above --fail-on (fail by default; errors count as failures); fix: an action failed
                   or a fixed check still fails after the re-verify
              2    could not run or verified nothing: kubectl missing, cluster unreachable, not authenticated,
                   essential read forbidden, timeout, neither Crossplane nor Flux found, every selected check skipped
              64   usage error (unknown flag, bad value, --subject matching no subject)
              130  interrupted (SIGINT); 143 terminated (SIGTERM): running commands are stopped first

            See 'kubectl xpid <subcommand> --help' for the flags of a subcommand.

            """
        return s
    }

    public static func command(_ spec: CommandSpec) -> String {
        var s = "OVERVIEW: \(spec.abstract)\n\nUSAGE: \(spec.usage)\n\nOPTIONS:\n"
        for f in spec.flags {
            var left = f.short.map { "-\($0), " } ?? "    "
            left += "--\(f.long)"
            if let v = f.value { left += " \(v)" }
            let padded = left.count < 34 ? left.padding(toLength: 34, withPad: " ", startingAt: 0) : left + "\n" + String(repeating: " ", count: 36)
            s += "  \(padded)\(f.help)\n"
        }
        if spec.name == "explain" || spec.name == "completion" {
            s += "\nARGUMENTS:\n  \(spec.positionalChoices.joined(separator: ", "))\n"
        }
        return s
    }

    public static func usageError(_ e: UsageError) -> String {
        let usage = e.command.flatMap(CommandModel.command).map(\.usage) ?? "kubectl xpid <subcommand> [flags]"
        let helpHint = Commands.xpid((e.command.map { [Command.Word.literal($0)] } ?? []) + ["--help"]).line
        return "error: \(Printable.text(e.message))\nUsage: \(usage)\nSee '\(helpHint)'.\n"
    }
}
