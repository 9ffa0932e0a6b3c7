import Foundation
import XpidCore

/// What a run gathered, as the commands that gathered it: every kubectl/aws/az/gcloud call with its outcome
/// and output, plus the gather settings. `verify --save-snapshot FILE` writes it; `verify --snapshot FILE`
/// replays it through `ReplayRunner`, so the same gatherer and checks produce the same report offline, and a
/// user can send a snapshot instead of cluster access. Secret material never enters it (`SnapshotRedaction`).
public struct SnapshotFile: Sendable {
    public static let schema = "kubectl-xpid/snapshot/v1"

    public struct Entry: Sendable, Equatable {
        /// argv with argv[0] reduced to the program name (`/usr/local/bin/kubectl` → `kubectl`).
        public var argv: [String]
        public var termination: Termination
        public var stdout: String
        public var stderr: String

        public init(argv: [String], termination: Termination, stdout: String, stderr: String) {
            self.argv = argv
            self.termination = termination
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    public var savedAt: Date
    public var toolVersion: String
    public var options: GatherOptions
    public var kubectlFlags: KubectlFlags
    public var entries: [Entry]

    public init(savedAt: Date, toolVersion: String, options: GatherOptions, kubectlFlags: KubectlFlags, entries: [Entry]) {
        self.savedAt = savedAt
        self.toolVersion = toolVersion
        self.options = options
        self.kubectlFlags = kubectlFlags
        self.entries = entries
    }

    static func normalized(_ argv: [String]) -> [String] {
        guard let first = argv.first else { return argv }
        return [URL(fileURLWithPath: first).lastPathComponent] + argv.dropFirst()
    }

    // MARK: encoding

    public func encoded() -> Data {
        let o = options
        func s(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        let settings: JSONValue = [
            "crossplaneNamespace": s(o.crossplaneNamespace), "namespace": s(o.namespace), "cloud": s(o.cloud?.rawValue), "noCloud": .bool(o.noCloud),
            "clusterName": s(o.clusterName), "region": s(o.region), "resourceGroup": s(o.resourceGroup), "subscription": s(o.subscription),
            "project": s(o.project), "location": s(o.location), "concurrency": .number(Double(o.concurrency)), "method": s(o.methodOverride?.rawValue),
            "fluxNamespace": .string(o.fluxNamespace), "target": .string(o.target.rawValue),
        ]
        let k = kubectlFlags
        let flags: JSONValue = [
            "kubeconfig": s(k.kubeconfig), "context": s(k.context), "cluster": s(k.cluster), "user": s(k.user), "as": s(k.asUser),
            "asGroups": .array(k.asGroups.map(JSONValue.string)), "requestTimeout": s(k.requestTimeout),
        ]
        let commands: [JSONValue] = entries.map { e in
            let outcome: JSONValue
            switch e.termination {
            case .exited(let c): outcome = ["exit": .number(Double(c))]
            case .signaled(let sig): outcome = ["signal": .number(Double(sig))]
            case .launchFailed(let m): outcome = ["notStarted": .string(m)]
            case .timedOut(let t): outcome = ["timedOutAfter": .number(t)]
            }
            return ["argv": .array(e.argv.map(JSONValue.string)), "outcome": outcome, "stdout": .string(e.stdout), "stderr": .string(e.stderr)]
        }
        let document: JSONValue = [
            "schema": .string(Self.schema), "tool": ["name": "kubectl-xpid", "version": .string(toolVersion)],
            "savedAt": .string(Timestamp.format(savedAt)), "settings": settings, "kubectlFlags": flags, "commands": .array(commands),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(document)) ?? Data()) + Data("\n".utf8)
    }

    public struct DecodeError: Error, Sendable { public var message: String }

    public static func decode(_ data: Data) -> Result<SnapshotFile, DecodeError> {
        func bad(_ m: String) -> Result<SnapshotFile, DecodeError> { .failure(DecodeError(message: m)) }
        guard let json = try? JSONValue.parse(data) else { return bad("not JSON") }
        guard json["schema"].string == schema else {
            return bad("not a kubectl-xpid snapshot (schema \(json["schema"].string.map { "\"\($0)\"" } ?? "missing"), expected \(schema))")
        }
        guard let saved = Timestamp.parse(json["savedAt"]) else { return bad("savedAt is missing or not a timestamp") }
        let st = json["settings"]
        var o = GatherOptions()
        o.crossplaneNamespace = st["crossplaneNamespace"].string
        o.namespace = st["namespace"].string
        o.cloud = st["cloud"].string.flatMap(Cloud.init(rawValue:))
        o.noCloud = st["noCloud"].bool ?? false
        o.clusterName = st["clusterName"].string
        o.region = st["region"].string
        o.resourceGroup = st["resourceGroup"].string
        o.subscription = st["subscription"].string
        o.project = st["project"].string
        o.location = st["location"].string
        o.concurrency = st["concurrency"].int ?? GatherOptions.defaultConcurrency
        o.methodOverride = st["method"].string.flatMap(IdentityMethod.init(rawValue:))
        o.fluxNamespace = st["fluxNamespace"].string ?? FluxFacts.defaultNamespace
        o.target = st["target"].string.flatMap(Target.init(rawValue:)) ?? .all
        o.now = saved
        let f = json["kubectlFlags"]
        var flags = KubectlFlags()
        flags.kubeconfig = f["kubeconfig"].string
        flags.context = f["context"].string
        flags.cluster = f["cluster"].string
        flags.user = f["user"].string
        flags.asUser = f["as"].string
        flags.asGroups = f["asGroups"].strings
        flags.requestTimeout = f["requestTimeout"].string
        var entries: [Entry] = []
        for c in json["commands"].array {
            let argv = c["argv"].strings
            guard !argv.isEmpty else { return bad("a command without argv") }
            let outcome = c["outcome"]
            let termination: Termination
            if let code = outcome["exit"].int {
                termination = .exited(Int32(truncatingIfNeeded: code))
            } else if let sig = outcome["signal"].int {
                termination = .signaled(Int32(truncatingIfNeeded: sig))
            } else if let m = outcome["notStarted"].string {
                termination = .launchFailed(m)
            } else if let t = outcome["timedOutAfter"].double {
                termination = .timedOut(seconds: t)
            } else {
                return bad("command \(argv.joined(separator: " ")) has no outcome")
            }
            entries.append(Entry(argv: argv, termination: termination, stdout: c["stdout"].string ?? "", stderr: c["stderr"].string ?? ""))
        }
        return .success(SnapshotFile(savedAt: saved, toolVersion: json.at("tool", "version").string ?? "?", options: o, kubectlFlags: flags, entries: entries))
    }
}

/// Records every command a run makes (redacted), for `--save-snapshot`.
public final class RecordingRunner: CommandRunner, @unchecked Sendable {
    private let base: any CommandRunner
    private let lock = NSLock()
    private var recorded: [SnapshotFile.Entry] = []

    public init(_ base: any CommandRunner) { self.base = base }

    public func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        let result = await base.run(argv, input: input, timeout: timeout)
        let entry = SnapshotFile.Entry(
            argv: SnapshotFile.normalized(argv), termination: result.termination,
            stdout: SnapshotRedaction.redact(result.stdout, argv: argv), stderr: result.stderrText)
        lock.withLock { recorded.append(entry) }
        return result
    }

    public var entries: [SnapshotFile.Entry] {
        lock.withLock { recorded }
    }
}

/// Answers commands from a snapshot, in the order each argv was recorded; an argv the snapshot does not hold
/// fails like a command that could not run, naming itself.
public final class ReplayRunner: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [[String]: [SnapshotFile.Entry]] = [:]

    public init(_ file: SnapshotFile) {
        for e in file.entries { queue[e.argv, default: []].append(e) }
    }

    public func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        let key = SnapshotFile.normalized(argv)
        let entry: SnapshotFile.Entry? = lock.withLock {
            var list = queue[key] ?? []
            let entry = list.isEmpty ? nil : list.removeFirst()
            // The last answer stays for repeats (a retried read gets what it got the last time).
            if let entry, list.isEmpty { list = [entry] }
            queue[key] = list
            return entry
        }
        guard let entry else {
            return CommandResult(argv: argv, termination: .launchFailed("not in the snapshot: \(key.joined(separator: " "))"))
        }
        return CommandResult(argv: argv, termination: entry.termination, stdout: Data(entry.stdout.utf8), stderr: Data(entry.stderr.utf8))
    }
}

/// Keeps secret material out of snapshots: container env values other than the identity variables the
/// checks read, arguments other than the Flux identity flags, `last-applied-configuration` annotations
/// (they carry whole manifests), and the credentials of kubeconfig users. Secrets are never read at all.
public enum SnapshotRedaction {
    public static let redacted = "REDACTED"
    /// Env values the checks read (they are identifiers and paths, not secrets).
    public static let keptEnv: Set<String> = [
        IRSAFacts.roleEnv, IRSAFacts.tokenFileEnv, "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_STS_REGIONAL_ENDPOINTS",
        PodIdentityFacts.credentialsURIEnv, PodIdentityFacts.tokenFileEnv,
        AzureWIFacts.clientIDEnv, AzureWIFacts.tenantIDEnv, AzureWIFacts.tokenFileEnv, AzureWIFacts.authorityHostEnv, AzureWIFacts.tokenProxyEnv,
        GKEFacts.credentialsEnv,
    ]
    /// Flags whose values the checks read (Flux's gate and lockdown flags).
    public static let keptFlags: Set<String> = [
        FluxFacts.featureGatesFlag, "--default-service-account", "--default-decryption-service-account", "--default-kubeconfig-service-account",
    ]

    public static func redact(_ stdout: Data, argv: [String]) -> String {
        let text = String(decoding: stdout, as: UTF8.self)
        guard stdout.first(where: { !(0x09...0x0D).contains($0) && $0 != 0x20 }) == UInt8(ascii: "{"), let json = try? JSONValue.parse(stdout) else { return text }
        let program = URL(fileURLWithPath: argv.first ?? "").lastPathComponent
        let cleaned = program.hasPrefix("kubectl") && argv.contains("config") ? kubeconfig(json) : walk(json)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(cleaned)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func walk(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(var o):
            if case .array(let env)? = o["env"] { o["env"] = .array(env.map(redactEnv)) }
            if case .array(let args)? = o["args"] { o["args"] = .array(args.map(redactArgument)) }
            if case .array(let args)? = o["command"], o["image"] != nil { o["command"] = .array(args.map(redactArgument)) }
            if case .object(var annotations)? = o["annotations"] {
                if annotations["kubectl.kubernetes.io/last-applied-configuration"] != nil { annotations["kubectl.kubernetes.io/last-applied-configuration"] = .string(redacted) }
                o["annotations"] = .object(annotations)
            }
            for (k, v) in o where !["env", "args", "command", "annotations"].contains(k) { o[k] = walk(v) }
            return .object(o)
        case .array(let items):
            return .array(items.map(walk))
        default:
            return value
        }
    }

    static func redactEnv(_ variable: JSONValue) -> JSONValue {
        guard case .object(var o) = variable, let name = o["name"]?.string, o["value"] != nil, !keptEnv.contains(name) else { return variable }
        o["value"] = .string(redacted)
        return .object(o)
    }

    static func redactArgument(_ argument: JSONValue) -> JSONValue {
        guard let a = argument.string, let eq = a.firstIndex(of: "=") else { return argument }
        return keptFlags.contains(String(a[..<eq])) ? argument : .string(String(a[...eq]) + redacted)
    }

    /// `kubectl config view`: clusters and contexts stay (discovery reads them); of a user only its exec
    /// plugin's command and arguments stay (the EKS cluster name and region are in them).
    static func kubeconfig(_ json: JSONValue) -> JSONValue {
        guard case .object(var o) = json else { return json }
        o["users"] = .array(json["users"].array.map { user in
            var exec: [String: JSONValue] = [:]
            for key in ["apiVersion", "command", "args"] where user.at("user", "exec")[key] != .null { exec[key] = user.at("user", "exec")[key] }
            var kept: [String: JSONValue] = [:]
            if !exec.isEmpty { kept["exec"] = .object(exec) }
            if user["user"].object.keys.contains(where: { $0 != "exec" }) { kept["credentials"] = .string(redacted) }
            return ["name": user["name"], "user": .object(kept)]
        })
        return .object(o)
    }
}
