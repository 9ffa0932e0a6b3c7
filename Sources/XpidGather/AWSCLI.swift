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
        await runner.run(argv(args), timeout: timeout).cloudJSON(cli: "aws") { _, stderr, command in Self.classify(stderr: stderr, command: command) }
    }

    /// Classifies awscli error text. The message keeps the CLI's first meaningful line.
    public static func classify(stderr: String, command: Command) -> CloudError {
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
            return .failed(CloudError(kind: .other, message: "\(Printable.text(arn)) is not an IAM role ARN", command: Command(argv: [executable, "iam", "get-role"])))
        }
        switch await call(["iam", "get-role", "--role-name", name]) {
        case .success(let json):
            guard let role = IAMRole(getRoleOutput: json) else { return .failed(malformed("iam get-role", json)) }
            return .value(role)
        case .failure(let e): return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    /// Every role with its trust policy (`list-roles` returns `AssumeRolePolicyDocument`; the CLI pages).
    public func listRoles() async -> CloudRead<[IAMRole]> {
        switch await call(["iam", "list-roles"]) {
        case .success(let json):
            guard case .array(let list) = json["Roles"] else { return .failed(malformed("iam list-roles", json)) }
            return .value(list.compactMap { IAMRole(getRoleOutput: ["Role": $0]) })
        case .failure(let e): return .failed(e)
        }
    }

    public func listOpenIDConnectProviders() async -> CloudRead<[String]> {
        switch await call(["iam", "list-open-id-connect-providers"]) {
        case .success(let json):
            guard case .array(let list) = json["OpenIDConnectProviderList"] else { return .failed(malformed("iam list-open-id-connect-providers", json)) }
            return .value(list.compactMap { $0["Arn"].string })
        case .failure(let e): return .failed(e)
        }
    }

    public func getOpenIDConnectProvider(arn: String) async -> CloudRead<OIDCProvider> {
        switch await call(["iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", arn]) {
        case .success(let json): return .value(OIDCProvider(arn: arn, clientIDs: json["ClientIDList"].strings))
        case .failure(let e): return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    public func describeNodegroup(cluster: String, name: String) async -> CloudRead<NodeGroup> {
        switch await call(["eks", "describe-nodegroup", "--cluster-name", cluster, "--nodegroup-name", name]) {
        case .success(let json):
            guard let group = NodeGroup(describeOutput: json) else { return .failed(malformed("eks describe-nodegroup", json)) }
            return .value(group)
        case .failure(let e): return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    /// Asks IAM's simulator; `nil` evaluations with the error when it does not answer (not implemented,
    /// no `iam:SimulatePrincipalPolicy` permission), so the caller can fall back to reading the policies.
    public func simulate(roleArn: String, requests: [PermissionRequest]) async -> Result<[PermissionEvaluation], CloudError> {
        let actions = Array(Set(requests.map(\.action))).sorted()
        let resources = Array(Set(requests.map(\.resource).filter { $0 != "*" })).sorted()
        var args = ["iam", "simulate-principal-policy", "--policy-source-arn", roleArn, "--action-names"] + actions
        if !resources.isEmpty { args += ["--resource-arns"] + resources }
        switch await call(args) {
        case .failure(let e): return .failure(e)
        case .success(let json):
            let results = json["EvaluationResults"].array
            var evaluations: [PermissionEvaluation] = []
            for request in requests {
                // Actions whose resource is "*" (ecr:GetAuthorizationToken) were simulated against the
                // repository ARNs; a grant on "*" covers them, so any result for the action counts.
                let matching = results.filter {
                    ($0["EvalActionName"].string ?? "").caseInsensitiveCompare(request.action) == .orderedSame
                        && (request.resource == "*" || $0["EvalResourceName"].string == request.resource || resources.isEmpty)
                }
                guard !matching.isEmpty else {
                    return .failure(CloudError(kind: .malformedOutput, message: "simulate-principal-policy returned no result for \(request.action) on \(request.resource)", command: Command(argv: argv(args))))
                }
                let decisions = matching.compactMap { $0["EvalDecision"].string }
                let decision: PermissionDecision = decisions.contains("explicitDeny") ? .explicitDeny : (decisions.allSatisfy { $0 == "allowed" } ? .allowed : .implicitDeny)
                let by = matching.flatMap { $0["MatchedStatements"].array.compactMap { $0["SourcePolicyId"].string } }
                evaluations.append(PermissionEvaluation(request: request, decision: decision, decidedBy: Array(Set(by)).sorted(), conditionalAllows: []))
            }
            return .success(evaluations)
        }
    }

    /// Reads every attached managed policy (default version) and inline policy of a role.
    public func rolePolicies(roleName: String) async -> Result<[NamedPolicy], CloudError> {
        async let attachedCall = call(["iam", "list-attached-role-policies", "--role-name", roleName])
        async let inlineCall = call(["iam", "list-role-policies", "--role-name", roleName])
        let attached: JSONValue
        let inline: JSONValue
        switch await attachedCall {
        case .success(let j): attached = j
        case .failure(let e): _ = await inlineCall; return .failure(e)
        }
        switch await inlineCall {
        case .success(let j): inline = j
        case .failure(let e): return .failure(e)
        }
        var policies: [NamedPolicy] = []
        for item in attached["AttachedPolicies"].array {
            guard let arn = item["PolicyArn"].string else { continue }
            let name = item["PolicyName"].string ?? arn
            let version: String
            switch await call(["iam", "get-policy", "--policy-arn", arn]) {
            case .success(let j): version = j.at("Policy", "DefaultVersionId").string ?? "v1"
            case .failure(let e): return .failure(e)
            }
            switch await call(["iam", "get-policy-version", "--policy-arn", arn, "--version-id", version]) {
            case .success(let j): policies.append(NamedPolicy(name: "\(name) (attached)", document: j.at("PolicyVersion", "Document").decodedPolicyDocument))
            case .failure(let e): return .failure(e)
            }
        }
        for name in inline["PolicyNames"].strings {
            switch await call(["iam", "get-role-policy", "--role-name", roleName, "--policy-name", name]) {
            case .success(let j): policies.append(NamedPolicy(name: "\(name) (inline)", document: j["PolicyDocument"].decodedPolicyDocument))
            case .failure(let e): return .failure(e)
            }
        }
        return .success(policies)
    }

    private func malformed(_ what: String, _ json: JSONValue) -> CloudError {
        CloudError(kind: .malformedOutput, message: "\(what) returned JSON without the expected fields", command: Command(argv: argv(what.split(separator: " ").map(String.init))))
    }
}
