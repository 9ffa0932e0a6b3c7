import Foundation
import XpidCore

/// kubectl flags passed through exactly as the user gave them; authentication stays kubectl's job.
public struct KubectlFlags: Sendable, Equatable {
    public var kubeconfig: String?
    public var context: String?
    public var cluster: String?
    public var user: String?
    public var asUser: String?
    public var asGroups: [String] = []
    public var requestTimeout: String?

    public init() {}

    public var arguments: [String] {
        var a: [String] = []
        if let kubeconfig { a += ["--kubeconfig", kubeconfig] }
        if let context { a += ["--context", context] }
        if let cluster { a += ["--cluster", cluster] }
        if let user { a += ["--user", user] }
        if let asUser { a += ["--as", asUser] }
        for g in asGroups { a += ["--as-group", g] }
        if let requestTimeout { a += ["--request-timeout", requestTimeout] }
        return a
    }
}

/// Why kubectl could not be used at all (exit code 2 territory).
public enum KubectlFailure: Error, Equatable, Sendable {
    case missing(String)
    case unreachable(String)
    case unauthorized(String)
    case noContext(String)
    case timedOut(String)
    case malformed(String)
    case forbidden(String)
    case other(String)

    public var message: String {
        switch self {
        case .missing(let m), .unreachable(let m), .unauthorized(let m), .noContext(let m), .timedOut(let m), .malformed(let m), .forbidden(let m), .other(let m):
            return m
        }
    }
}

/// A `kubectl … is forbidden` line, parsed into what RBAC would need to grant.
public struct ForbiddenError: Sendable, Equatable {
    public var verb: String
    public var resource: String
    public var group: String
    public var namespace: String?
    public var message: String

    /// Parses e.g. `pods is forbidden: User "u" cannot list resource "pods" in API group "" in the namespace "ns"`.
    public static func parse(_ stderr: String) -> [ForbiddenError] {
        stderr.split(separator: "\n").compactMap { line -> ForbiddenError? in
            guard line.contains("forbidden"), let cannot = line.range(of: " cannot ") else { return nil }
            let rest = line[cannot.upperBound...]
            let words = rest.split(separator: " ", maxSplits: 1)
            guard words.count == 2 else { return nil }
            let verb = String(words[0])
            guard let resource = quoted(after: "resource ", in: rest) else { return nil }
            let group = quoted(after: "API group ", in: rest) ?? ""
            let namespace = quoted(after: "the namespace ", in: rest)
            var message = String(line)
            if let r = message.range(of: "Error from server (Forbidden): ") { message.removeSubrange(r) }
            return ForbiddenError(verb: verb, resource: resource, group: group, namespace: namespace, message: message)
        }
    }

    private static func quoted(after marker: String, in text: Substring) -> String? {
        guard let m = text.range(of: marker + "\"") else { return nil }
        let tail = text[m.upperBound...]
        guard let end = tail.firstIndex(of: "\"") else { return nil }
        return String(tail[..<end])
    }
}

/// The kubectl adapter: knows argv shapes and output formats; runs nothing itself but through the runner.
public struct Kubectl: Sendable {
    public var executable: String
    public var flags: KubectlFlags
    public var runner: any CommandRunner
    public var timeout: Double

    public init(executable: String = "kubectl", flags: KubectlFlags = KubectlFlags(), runner: any CommandRunner, timeout: Double = 60) {
        self.executable = executable
        self.flags = flags
        self.runner = runner
        self.timeout = timeout
    }

    public func argv(_ args: [String]) -> [String] { [executable] + flags.arguments + args }

    public func run(_ args: [String]) async -> CommandResult { await runner.run(argv(args), timeout: timeout) }

    /// Classifies failures that make every further kubectl call pointless. Output on stdout means
    /// the server answered (an unavailable aggregated API can still mention `dial tcp` on stderr).
    public static func fatalFailure(_ r: CommandResult) -> KubectlFailure? {
        if case .exited = r.termination, !r.stdout.isEmpty, !r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return nil
        }
        switch r.termination {
        case .launchFailed(let m):
            return .missing("kubectl not found (\(m)); install kubectl or pass --kubectl PATH")
        case .timedOut(let t):
            return .timedOut("kubectl timed out after \(Int(t))s: \(r.displayCommand)")
        case .signaled(let s):
            return .other("kubectl was killed by signal \(s): \(r.displayCommand)")
        case .exited(0):
            return nil
        case .exited:
            let err = r.stderrText
            let firstLine = err.split(separator: "\n").first.map(String.init) ?? "exit status without message"
            if err.contains("Unable to connect to the server") || err.contains("connection refused") || err.contains("no such host")
                || err.contains("i/o timeout") || err.contains("dial tcp")
            {
                return .unreachable("cluster unreachable: \(firstLine)")
            }
            if err.contains("Unauthorized") || err.contains("You must be logged in") || err.contains("getting credentials") {
                return .unauthorized("kubectl is not authenticated to the cluster: \(firstLine)")
            }
            if err.contains("current-context is not set") || err.contains("context was not found") || err.contains("no configuration has been provided")
                || err.contains("invalid configuration")
            {
                return .noContext("no usable kubeconfig context: \(firstLine)")
            }
            if err.contains("Client.Timeout") || err.contains("context deadline exceeded") {
                return .timedOut("kubectl request timed out: \(firstLine)")
            }
            return nil
        }
    }

    /// `kubectl config view --minify -o json`: the current context, server and exec args.
    public func currentContext() async -> Result<KubeconfigContext, KubectlFailure> {
        let r = await run(["config", "view", "--minify", "-o", "json"])
        if let fatal = Self.fatalFailure(r) { return .failure(fatal) }
        guard r.succeeded else {
            return .failure(.noContext("kubectl config view failed: \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))"))
        }
        guard let json = try? JSONValue.parse(r.stdout) else { return .failure(.malformed("kubectl config view printed no JSON")) }
        return .success(KubeconfigContext(json))
    }

    /// `kubectl api-resources -o name`: which resource types the server serves (`pods`, `providers.pkg.crossplane.io`, …).
    /// An unavailable aggregated API makes kubectl exit 1 while still listing the rest; that list is used.
    public func apiResources() async -> Result<Set<String>, KubectlFailure> {
        let r = await run(["api-resources", "-o", "name"])
        if let fatal = Self.fatalFailure(r) { return .failure(fatal) }
        let names = Set(r.stdoutText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        if names.isEmpty {
            let forbidden = ForbiddenError.parse(r.stderrText)
            if let f = forbidden.first { return .failure(.forbidden("API discovery is forbidden: \(f.message)")) }
            return .failure(.other("kubectl api-resources listed nothing: \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))"))
        }
        return .success(names)
    }

    /// One `kubectl get a,b,c -o json` for several resource types. Per-type forbidden errors
    /// are returned next to the objects kubectl could read.
    public func getBatch(_ resources: [String], namespace: String?) async -> Result<BatchResult, KubectlFailure> {
        guard !resources.isEmpty else { return .success(BatchResult(items: [], forbidden: [], failures: [])) }
        var args = ["get", resources.joined(separator: ",")]
        if let namespace { args += ["-n", namespace] } else { args.append("--all-namespaces") }
        args += ["-o", "json"]
        let r = await run(args)
        if let fatal = Self.fatalFailure(r) { return .failure(fatal) }
        let forbidden = ForbiddenError.parse(r.stderrText)
        let items: [JSONValue]
        if r.stdout.isEmpty || r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            items = []
        } else {
            guard let json = try? JSONValue.parse(r.stdout) else {
                return .failure(.malformed("kubectl printed output that is not JSON for: \(r.displayCommand)"))
            }
            items = json["items"].array
        }
        var failures: [String] = []
        if !r.succeeded {
            let other = r.stderrText.split(separator: "\n").filter { !$0.contains("forbidden") && !$0.isEmpty }.map(String.init)
            failures = other
            if forbidden.isEmpty && items.isEmpty {
                if let unknown = Self.unknownResourceType(r.stderrText) {
                    return .success(BatchResult(items: [], forbidden: [], failures: [], unknownTypes: [unknown]))
                }
                return .failure(.other("kubectl get failed: \(other.first ?? "exit status \(r.termination)") (\(r.displayCommand))"))
            }
        }
        return .success(BatchResult(items: items, forbidden: forbidden, failures: failures))
    }

    public struct BatchResult: Sendable, Equatable {
        public var items: [JSONValue]
        public var forbidden: [ForbiddenError]
        public var failures: [String]
        /// Types the server does not serve (kubectl: `the server doesn't have a resource type "x"`).
        public var unknownTypes: [String] = []
    }

    /// The type named by `error: the server doesn't have a resource type "x"`, if that is the failure.
    public static func unknownResourceType(_ stderr: String) -> String? {
        guard let r = stderr.range(of: "doesn't have a resource type \"") else { return nil }
        let tail = stderr[r.upperBound...]
        guard let end = tail.firstIndex(of: "\"") else { return nil }
        return String(tail[..<end])
    }
}

/// The parts of `kubectl config view --minify` the tool uses for discovery (never credentials).
public struct KubeconfigContext: Sendable, Equatable {
    public var contextName: String?
    public var clusterName: String?
    public var server: String?
    public var namespace: String?
    public var execCommand: String?
    public var execArgs: [String]
    public var execEnv: [String: String]

    public init(_ json: JSONValue) {
        contextName = json["current-context"].string
        let context = json["contexts"][0]["context"]
        clusterName = context["cluster"].string
        namespace = context["namespace"].string
        server = json["clusters"][0]["cluster"]["server"].string
        let exec = json["users"][0]["user"]["exec"]
        execCommand = exec["command"].string
        execArgs = exec["args"].strings
        var env: [String: String] = [:]
        for e in exec["env"].array {
            if let n = e["name"].string, let v = e["value"].string { env[n] = v }
        }
        execEnv = env
    }
}
