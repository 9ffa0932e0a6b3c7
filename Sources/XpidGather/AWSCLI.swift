import Foundation
import XpidCore

/// The aws CLI adapter. Every call asks for JSON and names the region when it is known.
public struct AWSCLI: Sendable {
    public var executable: String
    public var region: String?
    public var runner: any CommandRunner
    public var timeout: Double

    public init(executable: String = "aws", region: String?, runner: any CommandRunner, timeout: Double = 60) {
        self.executable = executable
        self.region = region
        self.runner = runner
        self.timeout = timeout
    }

    public func argv(_ args: [String]) -> [String] {
        [executable] + args + (region.map { ["--region", $0] } ?? []) + ["--output", "json"]
    }

    /// Runs one call and returns its JSON, or how it failed.
    public func call(_ args: [String]) async -> Result<JSONValue, CloudError> {
        let r = await runner.run(argv(args), timeout: timeout)
        let command = r.displayCommand
        switch r.termination {
        case .launchFailed(let m):
            return .failure(CloudError(kind: .cliMissing, message: "aws CLI not found (\(m))", command: command))
        case .timedOut(let t):
            return .failure(CloudError(kind: .timeout, message: "timed out after \(Int(t))s", command: command))
        case .signaled(let s):
            return .failure(CloudError(kind: .other, message: "killed by signal \(s)", command: command))
        case .exited(0):
            guard let json = try? JSONValue.parse(r.stdout) else {
                return .failure(CloudError(kind: .malformedOutput, message: "output is not JSON", command: command))
            }
            return .success(json)
        case .exited:
            return .failure(Self.classify(stderr: r.stderrText, command: command))
        }
    }

    /// Classifies awscli error text. The message keeps the CLI's first meaningful line.
    public static func classify(stderr: String, command: String) -> CloudError {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let message = lines.first(where: { $0.contains("error occurred") || $0.contains("Unable to") || $0.contains("Could not") || $0.contains("Error") })
            ?? lines.last ?? "failed without a message"
        let kind: CloudError.Kind
        if stderr.contains("Unable to locate credentials") || stderr.contains("ExpiredToken") || stderr.contains("InvalidClientTokenId")
            || stderr.contains("security token included in the request is invalid") || stderr.contains("Token has expired")
            || stderr.contains("SSO session") || stderr.contains("The config profile")
        {
            kind = .notLoggedIn
        } else if stderr.contains("ResourceNotFoundException") || stderr.contains("NoSuchEntity") || stderr.contains("(404)") {
            kind = .notFound
        } else if stderr.contains("AccessDenied") || stderr.contains("not authorized to perform") || stderr.contains("UnauthorizedOperation") {
            kind = .accessDenied
        } else if stderr.contains("Read timeout") || stderr.contains("Connect timeout") {
            kind = .timeout
        } else {
            kind = .other
        }
        return CloudError(kind: kind, message: message, command: command)
    }

    public func describeCluster(_ name: String) async -> CloudRead<EKSCluster> {
        switch await call(["eks", "describe-cluster", "--name", name]) {
        case .success(let json):
            guard let cluster = EKSCluster(describeOutput: json) else { return .failed(malformed("eks describe-cluster", json)) }
            return .value(cluster)
        case .failure(let e): return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    public func describeAddon(cluster: String, addon: String) async -> CloudRead<EKSAddon> {
        switch await call(["eks", "describe-addon", "--cluster-name", cluster, "--addon-name", addon]) {
        case .success(let json):
            guard let a = EKSAddon(describeOutput: json) else { return .failed(malformed("eks describe-addon", json)) }
            return .value(a)
        case .failure(let e): return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    /// The CLI follows `nextToken` itself and merges pages into one `associations` array.
    public func listPodIdentityAssociations(cluster: String) async -> CloudRead<[PodIdentityAssociation]> {
        switch await call(["eks", "list-pod-identity-associations", "--cluster-name", cluster]) {
        case .success(let json):
            guard case .array(let items) = json["associations"] else { return .failed(malformed("eks list-pod-identity-associations", json)) }
            return .value(items.compactMap(PodIdentityAssociation.init))
        case .failure(let e): return .failed(e)
        }
    }

    public func describePodIdentityAssociation(cluster: String, id: String) async -> CloudRead<PodIdentityAssociation> {
        switch await call(["eks", "describe-pod-identity-association", "--cluster-name", cluster, "--association-id", id]) {
        case .success(let json):
            guard let a = PodIdentityAssociation(json["association"]) else { return .failed(malformed("eks describe-pod-identity-association", json)) }
            return .value(a)
        case .failure(let e): return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    public func getRole(arn: String) async -> CloudRead<IAMRole> {
        guard let name = ARN(arn)?.roleName else {
            return .failed(CloudError(kind: .other, message: "\(arn) is not an IAM role ARN", command: "aws iam get-role"))
        }
        switch await call(["iam", "get-role", "--role-name", name]) {
        case .success(let json):
            guard let role = IAMRole(getRoleOutput: json) else { return .failed(malformed("iam get-role", json)) }
            return .value(role)
        case .failure(let e): return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    private func malformed(_ what: String, _ json: JSONValue) -> CloudError {
        CloudError(kind: .malformedOutput, message: "\(what) returned JSON without the expected fields", command: argv(what.split(separator: " ").map(String.init)).joined(separator: " "))
    }
}
