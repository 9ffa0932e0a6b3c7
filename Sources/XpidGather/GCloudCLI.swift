import Foundation
import XpidCore

/// The gcloud CLI adapter. Every call asks for JSON (`--format json`) and names the project when it is
/// known. Only reads: `get-iam-policy` is a read even though the API sends it as a POST.
public struct GCloudCLI: Sendable {
    public var executable: String
    public var project: String?
    public var runner: any CommandRunner
    public var timeout: Double

    public init(executable: String = "gcloud", project: String?, runner: any CommandRunner, timeout: Double = 60) {
        self.executable = executable
        self.project = project
        self.runner = runner
        self.timeout = timeout
    }

    public func argv(_ args: [String], project: String? = nil) -> [String] {
        [executable] + args + ((project ?? self.project).map { ["--project", $0] } ?? []) + ["--format", "json"]
    }

    public func call(_ args: [String], project: String? = nil) async -> Result<JSONValue, CloudError> {
        await runner.run(argv(args, project: project), timeout: timeout).cloudJSON(cli: "gcloud") { _, stderr, command in Self.classify(stderr: stderr, command: command) }
    }

    /// gcloud exits 1 for every service error; the HTTP status and reason are in stderr (measured with
    /// gcloud 528 against Tests/E2E/gcp_standin.py). Resource Manager answers 403 for a project that does
    /// not exist, so "does not have permission … (or it may not exist)" is access denied.
    public static func classify(stderr: String, command: Command) -> CloudError {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let message = lines.first(where: { $0.hasPrefix("ERROR:") }).map { $0.hasPrefix("ERROR: ") ? String($0.dropFirst(7)) : $0 } ?? lines.last ?? "failed without a message"
        let kind: CloudError.Kind
        if stderr.contains("gcloud auth login") || stderr.contains("You do not currently have an active account") || stderr.contains("Reauthentication")
            || stderr.contains("UNAUTHENTICATED") || stderr.contains("invalid_grant")
        {
            kind = .notLoggedIn
        } else if stderr.contains("NOT_FOUND") || stderr.contains("code=404") || stderr.contains("(404)") || stderr.contains("was not found") {
            kind = .notFound
        } else if stderr.contains("PERMISSION_DENIED") || stderr.contains("code=403") || stderr.contains("(403)") || stderr.contains("does not have permission") {
            kind = .accessDenied
        } else if stderr.contains("timed out") || stderr.contains("Timeout") {
            kind = .timeout
        } else {
            kind = .other
        }
        return CloudError(kind: kind, message: message, command: command)
    }

    private func read<V: Sendable & Equatable>(_ args: [String], project: String? = nil, what: String, _ decode: (JSONValue) -> V?) async -> CloudRead<V> {
        switch await call(args, project: project) {
        case .success(let json):
            guard let value = decode(json) else {
                return .failed(CloudError(kind: .malformedOutput, message: "\(what): unexpected JSON (\(json.compactText().prefix(120)))", command: Command(argv: argv(args, project: project))))
            }
            return .value(value)
        case .failure(let e): return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    public func describeCluster(_ name: String, location: String) async -> CloudRead<GKECluster> {
        await read(["container", "clusters", "describe", name, "--location", location], what: "gcloud container clusters describe", GKECluster.init)
    }

    public func projectNumber(_ project: String) async -> CloudRead<String> {
        await read(["projects", "describe", project], project: nil, what: "gcloud projects describe") { $0["projectNumber"].string }
    }

    public func projectPolicy(_ project: String) async -> CloudRead<GCPPolicy> {
        await read(["projects", "get-iam-policy", project], what: "gcloud projects get-iam-policy") { $0.object.isEmpty && !$0.isNull ? GCPPolicy(bindings: []) : GCPPolicy($0) }
    }

    public func serviceAccountPolicy(_ email: String) async -> CloudRead<GCPPolicy> {
        await read(["iam", "service-accounts", "get-iam-policy", email], project: GKEFacts.project(ofServiceAccount: email), what: "gcloud iam service-accounts get-iam-policy") { GCPPolicy($0) }
    }

    public func repositoryPolicy(_ repository: ArtifactRepository) async -> CloudRead<GCPPolicy> {
        await read(["artifacts", "repositories", "get-iam-policy", repository.repository, "--location", repository.location], project: repository.project,
                   what: "gcloud artifacts repositories get-iam-policy") { GCPPolicy($0) }
    }
}
