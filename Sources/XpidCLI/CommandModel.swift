import Foundation
import XpidCore

/// One flag of the command line. Help text, parsing and shell completions all come from these.
public struct FlagSpec: Sendable, Equatable {
    public var long: String
    public var short: Character?
    /// Placeholder for the value (`FILE`, `NAME`); nil for a boolean flag.
    public var value: String?
    public var help: String
    public var choices: [String]
    public var repeatable: Bool
    public var completesFiles: Bool

    init(_ long: String, short: Character? = nil, value: String? = nil, choices: [String] = [], repeatable: Bool = false, files: Bool = false, _ help: String) {
        self.long = long
        self.short = short
        self.value = value
        self.help = help
        self.choices = choices
        self.repeatable = repeatable
        self.completesFiles = files
    }
}

public struct CommandSpec: Sendable, Equatable {
    public var name: String
    public var abstract: String
    public var usage: String
    public var flags: [FlagSpec]
    /// Values for the positional argument, for completion.
    public var positionalChoices: [String]
}

public enum CommandModel {
    public static let version = "0.1.0"

    static let help = FlagSpec("help", short: "h", "Show help for the command.")

    static let kubectlFlags: [FlagSpec] = [
        FlagSpec("kubeconfig", value: "FILE", files: true, "Path to the kubeconfig file (kubectl's flag; KUBECONFIG is honoured too)."),
        FlagSpec("context", value: "NAME", "The kubeconfig context to use."),
        FlagSpec("cluster", value: "NAME", "The kubeconfig cluster to use."),
        FlagSpec("user", value: "NAME", "The kubeconfig user to use."),
        FlagSpec("as", value: "USER", "Username to impersonate."),
        FlagSpec("as-group", value: "GROUP", repeatable: true, "Group to impersonate (repeatable)."),
        FlagSpec("request-timeout", value: "DURATION", "kubectl's per-request timeout, e.g. 30s."),
        FlagSpec("namespace", short: "n", value: "NS", "Narrow namespaced objects (namespaced ProviderConfigs) to this namespace."),
    ]

    static let scopeFlags: [FlagSpec] = [
        FlagSpec("crossplane-namespace", value: "NS", "Where Crossplane runs (default: where the Crossplane Deployment is, else crossplane-system)."),
        FlagSpec("flux-namespace", value: "NS", "Where the Flux controllers run (default flux-system)."),
        FlagSpec("target", value: "TARGET", choices: Target.allCases.map(\.rawValue), "Which workloads to verify: crossplane, flux or all (default: all that are installed)."),
        FlagSpec("subject", value: "NAME", repeatable: true, "Only report on this subject (name or kind/name; repeatable)."),
        FlagSpec("only", value: "CHECK-ID", repeatable: true, "Only report these checks (repeatable)."),
        FlagSpec("skip", value: "CHECK-ID", repeatable: true, "Do not report these checks (repeatable)."),
        FlagSpec("method", value: "METHOD", choices: IdentityMethod.verifiable.map(\.rawValue), "Override the inferred identity method for every subject."),
    ]

    static let cloudFlags: [FlagSpec] = [
        FlagSpec("cloud", value: "CLOUD", choices: ["aws", "azure", "gcp", "auto"], "The cloud (default auto: from Node providerID/labels)."),
        FlagSpec("no-cloud", "Cluster-side checks only; cloud checks are skipped."),
        FlagSpec("cluster-name", value: "NAME", "EKS/AKS cluster name (default: discovered from the kubeconfig context, exec args or node labels)."),
        FlagSpec("region", value: "REGION", "AWS region (default: discovered from the context, exec args or server URL)."),
        FlagSpec("resource-group", value: "GROUP", "AKS cluster's resource group (default: from the nodes' resource group, else az aks list)."),
        FlagSpec("subscription", value: "ID", "Azure subscription (default: from the node providerID, else az's current one)."),
        FlagSpec("project", value: "PROJECT", "GKE cluster's Google Cloud project (default: from the gke_PROJECT_LOCATION_CLUSTER context or node providerIDs)."),
        FlagSpec("location", value: "LOCATION", "GKE cluster's region or zone (default: from the gke_… kubeconfig context)."),
    ]

    static let toolFlags: [FlagSpec] = [
        FlagSpec("kubectl", value: "PATH", files: true, "kubectl to run (env XPID_KUBECTL; default kubectl on PATH)."),
        FlagSpec("aws", value: "PATH", files: true, "aws CLI to run (env XPID_AWS; default aws on PATH)."),
        FlagSpec("az", value: "PATH", files: true, "az CLI to run (env XPID_AZ; default az on PATH)."),
        FlagSpec("gcloud", value: "PATH", files: true, "gcloud CLI to run (env XPID_GCLOUD; default gcloud on PATH)."),
    ]

    static func outputFlags(json schema: String, ci: Bool = false) -> [FlagSpec] { [
        FlagSpec("output", short: "o", value: "FORMAT", choices: ci ? ["text", "json", "sarif", "junit"] : ["text", "json"],
            ci ? "Output format: text (default), json (schema \(schema)), sarif (SARIF 2.1.0) or junit (JUnit XML)." : "Output format: text (default) or json (schema \(schema))."),
        FlagSpec("no-color", "No colour, ASCII status tags (also NO_COLOR)."),
        FlagSpec("fail-on", value: "LEVEL", choices: ["warn", "fail"], "Exit 1 when a finding is at or above this level (default fail)."),
        FlagSpec("verbose", short: "v", "Print every external command with its duration to stderr."),
        FlagSpec("timeout", value: "DURATION", "Budget for the whole run, e.g. 90s or 2m (default 5m); kubectl and aws calls share it."),
        FlagSpec("concurrency", value: "N", "How many cloud calls run at once (default twice the cores, from 8 to 32)."),
    ] }

    static let showAll = FlagSpec("show-all", "List every check of every subject (by default a subject whose checks all pass is one line).")

    public static let verify = CommandSpec(
        name: "verify", abstract: "Verify workload identity for Crossplane and Flux on EKS (IRSA, Pod Identity), AKS (Azure Workload Identity) and GKE (Workload Identity), from a cluster, manifests (-f) or a snapshot; read-only; prints the report.",
        usage: "kubectl xpid verify [flags]",
        flags: kubectlFlags + scopeFlags + cloudFlags + toolFlags + outputFlags(json: "kubectl-xpid/report/v1", ci: true) + snapshotFlags + [showAll, help], positionalChoices: [])

    static let snapshotFlags: [FlagSpec] = [
        FlagSpec("filename", short: "f", value: "PATH", repeatable: true, files: true, "Verify manifests instead of a cluster: a file, a directory (a kustomization is rendered) or - for stdin (repeatable)."),
        FlagSpec("save-snapshot", value: "FILE", files: true, "Also write what was gathered (every command and its output, secret values redacted) to FILE."),
        FlagSpec("snapshot", value: "FILE", files: true, "Evaluate a saved snapshot offline (its own gather settings; no cluster or cloud is contacted)."),
    ]

    static let fixFlags: [FlagSpec] = [
        FlagSpec("yes", "Apply the plan without asking (without it: on a terminal you are asked; otherwise only the plan is printed)."),
        FlagSpec("dry-run", "Send every change with --dry-run=server and report what the server said; nothing is stored."),
        FlagSpec("restart", "Include rollout restarts of the workloads whose pods are stale, and wait for them."),
        FlagSpec("force", "Also change objects managed by Helm or Flux (they will revert it; the plan prints the permanent fix)."),
        FlagSpec("overwrite", "Replace an existing, different annotation value (never done silently)."),
        FlagSpec("role-arn", value: "ARN", "IAM role to annotate ServiceAccounts with when the plan cannot discover it."),
        FlagSpec("client-id", value: "GUID", "Azure managed identity client ID to annotate when the plan cannot discover it."),
        FlagSpec("tenant-id", value: "GUID", "Azure tenant ID to annotate when the plan cannot discover it."),
        FlagSpec("gcp-service-account", value: "EMAIL", "Google service account to annotate (iam.gke.io/gcp-service-account) when the plan cannot discover it."),
    ]

    public static let fix = CommandSpec(
        name: "fix", abstract: "Plan the fixes for failing checks; apply them with --yes (restarts with --restart).",
        usage: "kubectl xpid fix [--yes] [--dry-run] [--restart] [flags]",
        flags: kubectlFlags + scopeFlags + cloudFlags + toolFlags + outputFlags(json: "kubectl-xpid/plan/v1") + fixFlags + [help], positionalChoices: [])

    public static let checks = CommandSpec(
        name: "checks", abstract: "List the check catalogue.", usage: "kubectl xpid checks [-o text|json|markdown]",
        flags: [FlagSpec("output", short: "o", value: "FORMAT", choices: ["text", "json", "markdown"], "Output format (default text)."), help], positionalChoices: [])

    public static let explain = CommandSpec(
        name: "explain", abstract: "Explain what a check looks at, why it matters and how to fix it.", usage: "kubectl xpid explain CHECK-ID",
        flags: [help], positionalChoices: Catalog.descriptions.map(\.id))

    public static let versionCommand = CommandSpec(
        name: "version", abstract: "Print the version.", usage: "kubectl xpid version", flags: [help], positionalChoices: [])

    public static let completion = CommandSpec(
        name: "completion", abstract: "Print a shell completion script (bash, zsh or fish).", usage: "kubectl xpid completion bash|zsh|fish",
        flags: [help], positionalChoices: ["bash", "zsh", "fish"])

    public static let commands: [CommandSpec] = [verify, fix, checks, explain, versionCommand, completion]

    public static func command(_ name: String) -> CommandSpec? { commands.first { $0.name == name } }
}
