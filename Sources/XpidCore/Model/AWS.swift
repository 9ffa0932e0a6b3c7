import Foundation

public struct EKSCluster: Sendable, Equatable {
    public var name: String
    public var arn: String?
    public var oidcIssuer: String?
    public var status: String?

    public init(name: String, arn: String? = nil, oidcIssuer: String? = nil, status: String? = "ACTIVE") {
        self.name = name
        self.arn = arn
        self.oidcIssuer = oidcIssuer
        self.status = status
    }

    /// From `aws eks describe-cluster` output.
    public init?(describeOutput json: JSONValue) {
        let c = json["cluster"]
        guard let name = c["name"].string else { return nil }
        self.name = name
        arn = c["arn"].string
        oidcIssuer = c.at("identity", "oidc", "issuer").string
        status = c["status"].string
    }

    /// The 12-digit account ID from the cluster ARN.
    public var accountID: String? { arn.flatMap { ARN($0)?.account } }
}

public struct EKSAddon: Sendable, Equatable {
    public var name: String
    public var status: String
    public var version: String?
    public var healthIssues: [String]

    public init(name: String, status: String, version: String? = nil, healthIssues: [String] = []) {
        self.name = name
        self.status = status
        self.version = version
        self.healthIssues = healthIssues
    }

    public init?(describeOutput json: JSONValue) {
        let a = json["addon"]
        guard let name = a["addonName"].string else { return nil }
        self.name = name
        status = a["status"].string ?? "UNKNOWN"
        version = a["addonVersion"].string
        healthIssues = a.at("health", "issues").array.map {
            [$0["code"].string, $0["message"].string].compactMap { $0 }.joined(separator: ": ")
        }
    }
}

/// An EKS Pod Identity association. `list` does not return the role; `describe` does.
public struct PodIdentityAssociation: Sendable, Equatable {
    public var id: String
    public var arn: String?
    public var namespace: String
    public var serviceAccount: String
    public var roleArn: String?
    public var targetRoleArn: String?
    public var createdAt: Date?
    public var modifiedAt: Date?

    public init(
        id: String, arn: String? = nil, namespace: String, serviceAccount: String, roleArn: String? = nil,
        targetRoleArn: String? = nil, createdAt: Date? = nil, modifiedAt: Date? = nil
    ) {
        self.id = id
        self.arn = arn
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.roleArn = roleArn
        self.targetRoleArn = targetRoleArn
        self.createdAt = createdAt
        self.modifiedAt = modifiedAt
    }

    /// One item of `list-pod-identity-associations` or the `association` of `describe-…`.
    public init?(_ json: JSONValue) {
        guard let id = json["associationId"].string, let ns = json["namespace"].string,
            let sa = json["serviceAccount"].string
        else { return nil }
        self.id = id
        arn = json["associationArn"].string
        namespace = ns
        serviceAccount = sa
        roleArn = json["roleArn"].string
        targetRoleArn = json["targetRoleArn"].string
        createdAt = Timestamp.parse(json["createdAt"])
        modifiedAt = Timestamp.parse(json["modifiedAt"])
    }

    /// Pods created before this moment were not mutated for the association as it is now.
    public var effectiveSince: Date? {
        [createdAt, modifiedAt].compactMap { $0 }.max()
    }
}

public struct IAMRole: Sendable, Equatable {
    public var name: String
    public var arn: String
    public var trustPolicy: JSONValue

    public init(name: String, arn: String, trustPolicy: JSONValue) {
        self.name = name
        self.arn = arn
        self.trustPolicy = trustPolicy
    }

    /// From `aws iam get-role`; awscli decodes the URL-encoded policy into a JSON object,
    /// but accept a JSON string too in case a caller or proxy left it encoded.
    public init?(getRoleOutput json: JSONValue) {
        let r = json["Role"]
        guard let name = r["RoleName"].string, let arn = r["Arn"].string else { return nil }
        self.name = name
        self.arn = arn
        trustPolicy = r["AssumeRolePolicyDocument"].decodedPolicyDocument
    }
}

/// `arn:partition:service:region:account:resource`.
public struct ARN: Sendable, Equatable {
    public var partition: String
    public var service: String
    public var region: String
    public var account: String
    public var resource: String

    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn" else { return nil }
        partition = parts[1]
        service = parts[2]
        region = parts[3]
        account = parts[4]
        resource = parts[5]
    }

    /// For `arn:aws:iam::123456789012:role/path/name` → `name` (the name `iam get-role` takes).
    public var roleName: String? {
        guard Self.isWellFormedRoleARN("arn:\(partition):\(service):\(region):\(account):\(resource)") else { return nil }
        return resource.split(separator: "/").last.map(String.init)
    }

    /// The shape IAM role ARNs must have: `arn:<partition>:iam::<12 digits>:role/<path/name>`, path
    /// and name of `[A-Za-z0-9_+=,.@-]`, name at most 64 characters. A value that does not match is
    /// reported as invalid and never copied by `fix` (an annotation is free text on a real server).
    public static func isWellFormedRoleARN(_ text: String) -> Bool {
        guard let arn = ARN(text), isPartition(arn.partition), arn.service == "iam", arn.region.isEmpty,
            arn.account.count == 12, arn.account.allSatisfy({ $0.isASCII && $0.isNumber }), arn.resource.hasPrefix("role/")
        else { return false }
        let segments = arn.resource.dropFirst(5).split(separator: "/", omittingEmptySubsequences: false)
        guard let name = segments.last, (1...64).contains(name.count) else { return false }
        return segments.allSatisfy { !$0.isEmpty && $0.allSatisfy(isRoleNameCharacter) }
    }

    static func isPartition(_ p: String) -> Bool {
        p.hasPrefix("aws") && p.allSatisfy { ($0.isASCII && $0.isLowercase) || $0 == "-" }
    }

    static func isRoleNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "_+=,.@-".contains(c))
    }
}

/// An IAM OIDC identity provider (IRSA's trust anchor for one cluster issuer).
public struct OIDCProvider: Sendable, Equatable {
    public var arn: String
    public var clientIDs: [String]

    public init(arn: String, clientIDs: [String]) {
        self.arn = arn
        self.clientIDs = clientIDs
    }
}

/// The role of an EKS managed node group: what nodes pull images with.
public struct NodeGroup: Sendable, Equatable {
    public var name: String
    public var nodeRole: String?

    public init(name: String, nodeRole: String?) {
        self.name = name
        self.nodeRole = nodeRole
    }

    public init?(describeOutput json: JSONValue) {
        guard let name = json.at("nodegroup", "nodegroupName").string else { return nil }
        self.name = name
        nodeRole = json.at("nodegroup", "nodeRole").string
    }
}

/// How a role's permissions for a set of requests were decided.
public struct RolePermissions: Sendable, Equatable {
    public enum Method: String, Sendable, Equatable {
        /// `aws iam simulate-principal-policy` answered.
        case simulation = "iam simulate-principal-policy"
        /// The role's attached and inline policies were read and evaluated locally.
        case policies = "attached and inline policies evaluated locally"
    }

    public var roleArn: String
    public var method: Method
    public var evaluations: [PermissionEvaluation]
    /// Why the simulator was not used, when it was not.
    public var simulatorUnavailable: String?

    public init(roleArn: String, method: Method, evaluations: [PermissionEvaluation], simulatorUnavailable: String? = nil) {
        self.roleArn = roleArn
        self.method = method
        self.evaluations = evaluations
        self.simulatorUnavailable = simulatorUnavailable
    }

    public func denied() -> [PermissionEvaluation] { evaluations.filter { $0.decision != .allowed } }
}

extension EKSCluster {
    /// The issuer without `https://` (the IAM condition key prefix and OIDC provider ARN suffix).
    public var issuerHostPath: String? {
        guard var issuer = oidcIssuer else { return nil }
        if issuer.hasPrefix("https://") { issuer.removeFirst("https://".count) }
        while issuer.hasSuffix("/") { issuer.removeLast() }
        return issuer
    }

    public var oidcProviderARN: String? {
        guard let path = issuerHostPath, let account = accountID, let partition = arn.flatMap({ ARN($0)?.partition }) else { return nil }
        return "arn:\(partition):iam::\(account):oidc-provider/\(path)"
    }
}
