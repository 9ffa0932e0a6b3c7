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

    public func run(_ args: [String], input: Data? = nil) async -> CommandResult { await runner.run(argv(args), input: input, timeout: timeout) }

    /// Runs a kubectl `Command` (its first word is kubectl; the passthrough flags go after it).
    public func run(_ command: Command) async -> CommandResult {
        await run(Array(command.argv.dropFirst()), input: command.input.map { Data($0.compactText().utf8) })
    }

    /// Classifies failures that make every further kubectl call pointless. The output of a command
    /// that exited non-zero is never taken as data here: kubectl prints prompts (`Please enter
    /// Username:`) and partial lists on stdout before failing.
    public static func fatalFailure(_ r: CommandResult) -> KubectlFailure? {
        switch r.termination {
        case .launchFailed(let m):
            return .missing("the kubectl program could not be started (\(m)): kubectl not found or not executable; install kubectl or pass --kubectl PATH")
        case .timedOut(let t):
            return .timedOut("timed out (\(Termination.limitText(t))): \(r.displayCommand)")
        case .signaled(let s):
            return .other("stopped by signal \(s): \(r.displayCommand)")
        case .exited(0):
            return nil
        case .exited:
            let err = r.stderrText
            let message = firstMeaningfulLine(err) ?? "exit status \(r.termination) without a message"
            if r.stdoutText.contains("Please enter Username") || r.stdoutText.contains("Please enter Password") {
                return .unauthorized("not authenticated: kubectl asked for a username and password, so the kubeconfig user has no credentials for this server (log in, or pass --user/--kubeconfig)")
            }
            // The server answered part of the request (a JSON list beside per-type errors, or discovery
            // minus an unavailable aggregated API): the caller sorts out what was read.
            if r.firstOutputByte == UInt8(ascii: "{") || err.contains("unable to retrieve the complete list of server APIs") {
                return nil
            }
            if err.contains("system:anonymous") {
                return .unauthorized("not authenticated: the server sees the request as system:anonymous (the kubeconfig user's credentials are missing or were not accepted): \(message)")
            }
            // Every authenticated user may read discovery (system:discovery); a 403 there means the
            // request was anonymous (kubectl then prints only "Error from server (Forbidden): unknown").
            if err.contains("server API group list"), err.contains("Forbidden") || err.contains("forbidden") {
                return .unauthorized("not authenticated: the API server refuses API discovery (/api), which it grants every authenticated user, so the request was anonymous (system:anonymous): check the kubeconfig user's credentials")
            }
            if err.contains("Unauthorized") || err.contains("You must be logged in") || err.contains("getting credentials") || err.contains("provide credentials") {
                return .unauthorized("not authenticated to the cluster: \(message)")
            }
            if err.contains("Unable to connect to the server") || err.contains("connection refused") || err.contains("was refused") || err.contains("no such host")
                || err.contains("i/o timeout") || err.contains("dial tcp") || err.contains("no route to host")
            {
                return .unreachable("cluster unreachable: \(message)")
            }
            if err.contains("current-context is not set") || err.contains("context was not found") || err.contains("no configuration has been provided")
                || err.contains("invalid configuration") || err.contains("current-context must exist")
            {
                return .noContext("no usable kubeconfig context: \(message)")
            }
            if err.contains("Client.Timeout") || err.contains("context deadline exceeded") {
                return .timedOut("request timed out (kubectl's --request-timeout, or the server did not answer): \(message)")
            }
            return nil
        }
    }

    /// kubectl's own message, without client-go's log lines (`E1201 15:13:04.1 123 memcache.go:265] …`)
    /// when it printed one; else the log line's `err="…"` text.
    public static func firstMeaningfulLine(_ stderr: String) -> String? {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let plain = lines.first(where: { !isKlogLine($0) }) { return Printable.text(plain) }
        guard let log = lines.first else { return nil }
        if let start = log.range(of: "err=\""), let end = log[start.upperBound...].lastIndex(of: "\"") {
            return Printable.text(String(log[start.upperBound..<end]).replacingOccurrences(of: "\\\"", with: "\""))
        }
        if let bracket = log.range(of: "] ") { return Printable.text(String(log[bracket.upperBound...])) }
        return Printable.text(log)
    }

    /// `E1201 15:13:04.123456   12345 file.go:265] …`: a klog line, not a message for people.
    static func isKlogLine(_ line: String) -> Bool {
        let c = Array(line.prefix(6))
        guard c.count == 6, "IWEF".contains(c[0]), c[1...4].allSatisfy(\.isNumber), c[5] == " " else { return false }
        return line.contains("] ") && line.contains(".go:")
    }

    /// `kubectl config view --minify -o json`: the current context, server and exec args.
    public func currentContext() async -> Result<KubeconfigContext, KubectlFailure> {
        let r = await run(["config", "view", "--minify", "-o", "json"])
        if let fatal = Self.fatalFailure(r) { return .failure(fatal) }
        guard r.succeeded else {
            return .failure(.noContext("could not read the kubeconfig (kubectl config view): \(Self.firstMeaningfulLine(r.stderrText) ?? "exit status \(r.termination)")"))
        }
        guard let json = try? JSONValue.parse(r.stdout), case .object = json else {
            return .failure(.malformed("\(r.stdout.isEmpty ? "no output" : "output that is not JSON") from \(r.displayCommand)"))
        }
        return .success(KubeconfigContext(json))
    }

    /// `kubectl api-resources -o wide`: the resource types the server serves, as `plural.group` (as `-o name`
    /// prints them) with their preferred API version (`pkg.crossplane.io/v1`; "" when not shown).
    /// An unavailable aggregated API makes kubectl exit 1 while still listing the rest; that list is used.
    public func apiResources() async -> Result<[String: String], KubectlFailure> {
        let r = await run(["api-resources", "-o", "wide"])
        if let fatal = Self.fatalFailure(r) { return .failure(fatal) }
        let partial = r.stderrText.contains("unable to retrieve the complete list of server APIs")
        guard r.succeeded || partial else {
            if let f = ForbiddenError.parse(r.stderrText).first { return .failure(.forbidden("API discovery is forbidden: \(f.message)")) }
            return .failure(.other("API discovery (kubectl api-resources) failed: \(Self.firstMeaningfulLine(r.stderrText) ?? "exit status \(r.termination)")"))
        }
        let names = Self.parseAPIResources(r.stdoutText)
        guard !names.isEmpty else {
            return .failure(.malformed("no resource types listed (exit status \(r.termination)) by \(r.displayCommand)"))
        }
        return .success(names)
    }

    /// Reads kubectl's table by the header's column offsets (SHORTNAMES may be empty, so splitting on
    /// spaces would shift columns). Without a header (the `-o name` form) each line is a name.
    public static func parseAPIResources(_ text: String) -> [String: String] {
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let header = lines.first, header.hasPrefix("NAME"), let column = header.range(of: "APIVERSION") else {
            return Dictionary(lines.map { ($0.trimmingCharacters(in: .whitespaces), "") }, uniquingKeysWith: { a, _ in a })
        }
        let offset = header.distance(from: header.startIndex, to: column.lowerBound)
        var result: [String: String] = [:]
        for line in lines.dropFirst() {
            let chars = Array(line)
            guard let plural = line.split(separator: " ").first.map(String.init), chars.count > offset else { continue }
            let apiVersion = String(chars[offset...].prefix { $0 != " " })
            let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
            result[group.isEmpty ? plural : "\(plural).\(group)"] = apiVersion
        }
        return result
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
        if r.firstOutputByte == nil {
            // kubectl -o json prints a List even when nothing matched: empty output that "succeeded" is a broken read.
            if r.succeeded {
                return .failure(.malformed("no output from \(r.displayCommand), which exited 0 (an empty list is still a JSON List)"))
            }
            items = []
        } else {
            guard let json = try? JSONValue.parse(r.stdout), json["kind"].string == "List" || json["items"] != .null else {
                return .failure(.malformed("output that is not a JSON List from \(r.displayCommand)"))
            }
            items = json["items"].array
        }
        var failures: [String] = []
        if !r.succeeded {
            let other = r.stderrText.split(separator: "\n").filter { !$0.contains("forbidden") && !$0.isEmpty }.map { Printable.text(String($0)) }
            failures = other
            if forbidden.isEmpty && items.isEmpty {
                if let unknown = Self.unknownResourceType(r.stderrText) {
                    return .success(BatchResult(items: [], forbidden: [], failures: [], unknownTypes: [unknown]))
                }
                return .failure(.other("read failed: \(Self.firstMeaningfulLine(r.stderrText) ?? "exit status \(r.termination)") (\(r.displayCommand))"))
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
