import Foundation
import XpidCore
import XpidGather

/// argv (without the program name) → `Invocation`. Pure: no environment reads except those passed in.
public enum Parser {
    public static func parse(_ args: [String], environment: [String: String] = [:]) -> Result<Invocation, UsageError> {
        guard let first = args.first else { return .success(.help(nil)) }
        let rest = Array(args.dropFirst())
        switch first {
        case "-h", "--help", "help":
            if let topic = rest.first {
                guard CommandModel.command(topic) != nil else { return .failure(UsageError(message: "unknown command \"\(topic)\"", command: nil)) }
                return .success(.help(topic))
            }
            return .success(.help(nil))
        case "--version": return .success(.version)
        case "__complete": return .success(.complete(rest))
        case "verify": return parseVerify(rest, environment: environment)
        case "fix": return parseFix(rest, environment: environment)
        case "checks": return parseChecks(rest)
        case "explain": return parseExplain(rest)
        case "version": return rest.contains(where: isHelp) ? .success(.help("version")) : noArguments(rest, command: "version", .version)
        case "completion": return parseCompletion(rest)
        default:
            if first.hasPrefix("-") {
                return .failure(UsageError(message: "unknown flag \(first) (flags go after the command, e.g. kubectl xpid verify \(first))", command: nil))
            }
            return .failure(UsageError(message: "unknown command \"\(first)\"", command: nil))
        }
    }

    static func isHelp(_ a: String) -> Bool { a == "-h" || a == "--help" }

    static func noArguments(_ rest: [String], command: String, _ inv: Invocation) -> Result<Invocation, UsageError> {
        if let extra = rest.first { return .failure(UsageError(message: "unexpected argument \"\(extra)\"", command: command)) }
        return .success(inv)
    }

    /// Splits `--flag=value`, `--flag value`, `-n value`, `-nvalue` against a command's flag specs.
    struct Token { var spec: FlagSpec; var value: String? }

    static func tokens(_ args: [String], command: CommandSpec) -> Result<(flags: [Token], positionals: [String]), UsageError> {
        var flags: [Token] = []
        var positionals: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { positionals += args[(i + 1)...]; break }
            var spec: FlagSpec?
            var inline: String?
            if a.hasPrefix("--") {
                let body = a.dropFirst(2)
                let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                if let eq = body.firstIndex(of: "=") { inline = String(body[body.index(after: eq)...]) }
                spec = command.flags.first { $0.long == name }
                if spec == nil { return .failure(UsageError(message: "unknown flag --\(name)", command: command.name)) }
            } else if a.hasPrefix("-"), a.count >= 2 {
                let letter = a[a.index(after: a.startIndex)]
                spec = command.flags.first { $0.short == letter }
                if spec == nil { return .failure(UsageError(message: "unknown flag \(a)", command: command.name)) }
                if a.count > 2 { inline = String(a.dropFirst(2)).trimmingPrefix("=") }
            } else {
                positionals.append(a)
                i += 1
                continue
            }
            guard let spec else { continue }
            if let placeholder = spec.value {
                var value = inline
                if value == nil {
                    guard i + 1 < args.count else { return .failure(UsageError(message: "flag --\(spec.long) needs a value (\(placeholder))", command: command.name)) }
                    value = args[i + 1]
                    i += 1
                }
                if let v = value, !spec.choices.isEmpty, !spec.choices.contains(v) {
                    return .failure(UsageError(message: "invalid value \"\(v)\" for --\(spec.long): choose \(spec.choices.joined(separator: ", "))", command: command.name))
                }
                flags.append(Token(spec: spec, value: value))
            } else {
                if let inline {
                    let shown = a.hasPrefix("--") ? "--\(spec.long)" : a
                    return .failure(UsageError(message: "flag \(shown) takes no value (got \"\(inline)\"); give short flags separately", command: command.name))
                }
                flags.append(Token(spec: spec, value: nil))
            }
            i += 1
        }
        return .success((flags, positionals))
    }

    static func parseChecks(_ args: [String]) -> Result<Invocation, UsageError> {
        switch tokens(args, command: CommandModel.checks) {
        case .failure(let e): return .failure(e)
        case .success(let (flags, positionals)):
            if flags.contains(where: { $0.spec.long == "help" }) { return .success(.help("checks")) }
            if let extra = positionals.first { return .failure(UsageError(message: "unexpected argument \"\(extra)\"", command: "checks")) }
            let format = flags.last { $0.spec.long == "output" }?.value.flatMap(OutputFormat.init(rawValue:)) ?? .text
            return .success(.checks(format))
        }
    }

    static func parseExplain(_ args: [String]) -> Result<Invocation, UsageError> {
        switch tokens(args, command: CommandModel.explain) {
        case .failure(let e): return .failure(e)
        case .success(let (flags, positionals)):
            if flags.contains(where: { $0.spec.long == "help" }) { return .success(.help("explain")) }
            guard positionals.count == 1, let id = positionals.first else {
                return .failure(UsageError(message: positionals.isEmpty ? "explain needs a CHECK-ID (see kubectl xpid checks)" : "explain takes one CHECK-ID", command: "explain"))
            }
            guard Catalog.description(id) != nil else { return .failure(UsageError(message: "unknown check \"\(id)\" (see kubectl xpid checks)", command: "explain")) }
            return .success(.explain(id))
        }
    }

    static func parseCompletion(_ args: [String]) -> Result<Invocation, UsageError> {
        switch tokens(args, command: CommandModel.completion) {
        case .failure(let e): return .failure(e)
        case .success(let (flags, positionals)):
            if flags.contains(where: { $0.spec.long == "help" }) { return .success(.help("completion")) }
            guard positionals.count == 1, let shell = Shell(rawValue: positionals[0]) else {
                return .failure(UsageError(message: "completion needs one of: bash, zsh, fish", command: "completion"))
            }
            return .success(.completion(shell))
        }
    }

    static func parseFix(_ args: [String], environment: [String: String]) -> Result<Invocation, UsageError> {
        let parsed: (flags: [Token], positionals: [String])
        switch tokens(args, command: CommandModel.fix) {
        case .failure(let e): return .failure(e)
        case .success(let p): parsed = p
        }
        if parsed.flags.contains(where: { $0.spec.long == "help" }) { return .success(.help("fix")) }
        var o = FixCommandOptions()
        switch verifyOptions(parsed, command: "fix", environment: environment) {
        case .failure(let e): return .failure(e)
        case .success(let v): o.verify = v
        }
        for t in parsed.flags {
            switch t.spec.long {
            case "yes": o.yes = true
            case "dry-run": o.dryRun = true
            case "restart": o.fix.restart = true
            case "force": o.fix.force = true
            case "overwrite": o.fix.overwrite = true
            case "role-arn":
                let v = t.value ?? ""
                guard ARN.isWellFormedRoleARN(v) else {
                    return .failure(UsageError(message: "invalid value \"\(v)\" for --role-arn: expected arn:aws:iam::<12-digit account>:role/<name>", command: "fix"))
                }
                o.fix.roleArn = v
            case "client-id", "tenant-id":
                let v = t.value ?? ""
                guard AzureWIFacts.isGUID(v) else {
                    return .failure(UsageError(message: "invalid value \"\(v)\" for --\(t.spec.long): expected a GUID (az identity show --query \(t.spec.long == "client-id" ? "clientId" : "tenantId"))", command: "fix"))
                }
                if t.spec.long == "client-id" { o.fix.clientID = v } else { o.fix.tenantID = v }
            case "gcp-service-account":
                let v = t.value ?? ""
                guard GKEFacts.isServiceAccountEmail(v) else {
                    return .failure(UsageError(message: "invalid value \"\(v)\" for --gcp-service-account: expected NAME@PROJECT.iam.gserviceaccount.com", command: "fix"))
                }
                o.fix.gcpServiceAccount = v
            default: break
            }
        }
        return .success(.fix(o))
    }

    static func parseVerify(_ args: [String], environment: [String: String]) -> Result<Invocation, UsageError> {
        let parsed: (flags: [Token], positionals: [String])
        switch tokens(args, command: CommandModel.verify) {
        case .failure(let e): return .failure(e)
        case .success(let p): parsed = p
        }
        if parsed.flags.contains(where: { $0.spec.long == "help" }) { return .success(.help("verify")) }
        return verifyOptions(parsed, command: "verify", environment: environment).flatMap { o in
            if !o.files.isEmpty && (o.snapshot != nil || o.saveSnapshot != nil) {
                return .failure(UsageError(message: "-f reads manifests; it cannot be combined with --snapshot or --save-snapshot", command: "verify"))
            }
            if o.snapshot != nil && o.saveSnapshot != nil {
                return .failure(UsageError(message: "--snapshot and --save-snapshot cannot be combined (a replay gathers nothing new)", command: "verify"))
            }
            return .success(.verify(o))
        }
    }

    static func verifyOptions(_ parsed: (flags: [Token], positionals: [String]), command: String, environment: [String: String]) -> Result<VerifyOptions, UsageError> {
        if let extra = parsed.positionals.first { return .failure(UsageError(message: "unexpected argument \"\(extra)\"", command: command)) }
        var o = VerifyOptions()
        o.kubectl = environment["XPID_KUBECTL"].flatMap { $0.isEmpty ? nil : $0 }
        o.aws = environment["XPID_AWS"].flatMap { $0.isEmpty ? nil : $0 }
        o.az = environment["XPID_AZ"].flatMap { $0.isEmpty ? nil : $0 }
        o.gcloud = environment["XPID_GCLOUD"].flatMap { $0.isEmpty ? nil : $0 }
        if let v = environment["NO_COLOR"], !v.isEmpty { o.noColor = true }
        let known = Set(Catalog.descriptions.map(\.id))
        for t in parsed.flags {
            let v = t.value ?? ""
            switch t.spec.long {
            case "kubeconfig": o.kubectlFlags.kubeconfig = v
            case "context": o.kubectlFlags.context = v
            case "cluster": o.kubectlFlags.cluster = v
            case "user": o.kubectlFlags.user = v
            case "as": o.kubectlFlags.asUser = v
            case "as-group": o.kubectlFlags.asGroups.append(v)
            case "request-timeout": o.kubectlFlags.requestTimeout = v
            case "namespace": o.gather.namespace = v
            case "crossplane-namespace": o.gather.crossplaneNamespace = v
            case "flux-namespace": o.gather.fluxNamespace = v
            case "target":
                guard let target = Target(rawValue: v) else {
                    return .failure(UsageError(message: "invalid value \"\(v)\" for --target: choose \(Target.allCases.map(\.rawValue).joined(separator: ", "))", command: command))
                }
                o.gather.target = target
            case "subject": o.subjects.append(v)
            case "only", "skip":
                guard known.contains(v) else { return .failure(UsageError(message: "unknown check \"\(v)\" for --\(t.spec.long) (see kubectl xpid checks)", command: command)) }
                if t.spec.long == "only" { o.only.append(v) } else { o.skip.append(v) }
            case "method":
                guard let m = IdentityMethod(rawValue: v), IdentityMethod.verifiable.contains(m) else {
                    return .failure(UsageError(message: "invalid value \"\(v)\" for --method: choose \(IdentityMethod.verifiable.map(\.rawValue).joined(separator: ", ")) (no checks exist yet for other methods)", command: command))
                }
                o.gather.methodOverride = m
            case "cloud": o.gather.cloud = v == "auto" ? nil : Cloud(rawValue: v)
            case "no-cloud": o.gather.noCloud = true
            case "cluster-name": o.gather.clusterName = v
            case "region": o.gather.region = v
            case "kubectl": o.kubectl = v
            case "aws": o.aws = v
            case "az": o.az = v
            case "gcloud": o.gcloud = v
            case "project": o.gather.project = v
            case "location": o.gather.location = v
            case "resource-group": o.gather.resourceGroup = v
            case "subscription":
                guard AzureWIFacts.isGUID(v) else { return .failure(UsageError(message: "invalid value \"\(v)\" for --subscription: expected a subscription ID (a GUID)", command: command)) }
                o.gather.subscription = v
            case "output":
                let allowed: [OutputFormat] = command == "verify" ? [.text, .json, .sarif, .junit] : [.text, .json]
                guard let f = OutputFormat(rawValue: v), allowed.contains(f) else {
                    return .failure(UsageError(message: "invalid value \"\(v)\" for --output: choose \(allowed.map(\.rawValue).joined(separator: ", "))", command: command))
                }
                o.output = f
            case "no-color": o.noColor = true
            case "fail-on": o.failOn = v == "warn" ? .warn : .fail
            case "verbose": o.verbose = true
            case "show-all": o.showAll = true
            case "snapshot": o.snapshot = v
            case "filename": o.files.append(v)
            case "save-snapshot": o.saveSnapshot = v
            case "timeout":
                guard let seconds = parseDuration(v), seconds > 0 else { return .failure(UsageError(message: "invalid duration \"\(v)\" for --timeout (e.g. 90s, 2m)", command: command)) }
                o.timeout = seconds
            case "concurrency":
                guard let n = Int(v), n >= 1, n <= 64 else { return .failure(UsageError(message: "invalid value \"\(v)\" for --concurrency: a whole number from 1 to 64", command: command)) }
                o.gather.concurrency = n
            default: break
            }
        }
        return .success(o)
    }

    /// `90`, `90s`, `2m`, `1m30s`, `1h` → seconds.
    public static func parseDuration(_ text: String) -> Double? {
        if let plain = Double(text) { return plain }
        var total = 0.0
        var number = ""
        for ch in text {
            if ch.isNumber || ch == "." { number.append(ch); continue }
            guard let n = Double(number) else { return nil }
            switch ch {
            case "h": total += n * 3600
            case "m": total += n * 60
            case "s": total += n
            default: return nil
            }
            number = ""
        }
        return number.isEmpty ? total : nil
    }
}

extension String {
    func trimmingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
