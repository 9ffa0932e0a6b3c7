import Foundation

/// One action on one resource, as `simulate-principal-policy` would be asked about it.
public struct PermissionRequest: Sendable, Hashable {
    public var action: String
    public var resource: String

    public init(action: String, resource: String) {
        self.action = action
        self.resource = resource
    }
}

/// The same three outcomes as IAM's `EvalDecision`.
public enum PermissionDecision: String, Sendable, Equatable {
    case allowed, explicitDeny, implicitDeny
}

/// A permission policy attached to (or inline in) a role.
public struct NamedPolicy: Sendable, Equatable {
    /// How the policy is named in messages, e.g. `CrossplaneECRPolicy (attached)` or `inline-ecr (inline)`.
    public var name: String
    /// The policy document. A URL-encoded JSON string (as the raw IAM API returns it) is also read.
    public var document: JSONValue

    public init(name: String, document: JSONValue) {
        self.name = name
        self.document = document
    }
}

public struct PermissionEvaluation: Sendable, Equatable {
    public var request: PermissionRequest
    public var decision: PermissionDecision
    /// Policies (and Sid when present, as "Name/Sid") whose statements decided it:
    /// the applicable Deny statements for `explicitDeny`, the applicable Allow statements for `allowed`,
    /// nothing for `implicitDeny`.
    public var decidedBy: [String]
    /// Allow statements that would match but carry a Condition (not evaluated; reported, never counted as granting).
    public var conditionalAllows: [String]

    public init(request: PermissionRequest, decision: PermissionDecision, decidedBy: [String] = [], conditionalAllows: [String] = []) {
        self.request = request
        self.decision = decision
        self.decidedBy = decidedBy
        self.conditionalAllows = conditionalAllows
    }
}

/// Evaluates identity (permission) policies offline, for questions such as "may this role pull from ECR?".
///
/// Only identity policies are considered: no permissions boundary, SCP, session policy or resource
/// policy. Conditions are never evaluated: a conditional Deny is ignored and a conditional Allow is
/// reported but does not grant, so `allowed` is only claimed when it holds unconditionally.
public enum IAMPolicyEvaluator {
    /// Decisions in the same order as `requests`.
    public static func evaluate(_ requests: [PermissionRequest], policies: [NamedPolicy]) -> [PermissionEvaluation] {
        let statements = policies.flatMap { policy in
            IAMStatementList.list(policy.document).map { PermissionStatement($0, policyName: policy.name) }
        }
        return requests.map { request in
            let applicable = statements.filter { $0.applies(to: request) }
            let denies = applicable.filter { !$0.allow && !$0.conditional }
            let allows = applicable.filter { $0.allow && !$0.conditional }
            let conditionalAllows = unique(applicable.filter { $0.allow && $0.conditional }.map(\.label))
            if !denies.isEmpty {
                return PermissionEvaluation(request: request, decision: .explicitDeny, decidedBy: unique(denies.map(\.label)), conditionalAllows: conditionalAllows)
            }
            if !allows.isEmpty {
                return PermissionEvaluation(request: request, decision: .allowed, decidedBy: unique(allows.map(\.label)), conditionalAllows: conditionalAllows)
            }
            return PermissionEvaluation(request: request, decision: .implicitDeny, decidedBy: [], conditionalAllows: conditionalAllows)
        }
    }

    /// The actions an image pull needs.
    public static let ecrRepositoryPullActions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]

    /// ECR pull needs: ecr:GetAuthorizationToken on "*", and BatchGetImage, GetDownloadUrlForLayer,
    /// BatchCheckLayerAvailability on the repository ARN. Repeated ARNs are asked about once.
    public static func ecrPullRequests(repositoryARNs: [String]) -> [PermissionRequest] {
        var requests = [PermissionRequest(action: "ecr:GetAuthorizationToken", resource: "*")]
        for arn in unique(repositoryARNs) {
            requests += ecrRepositoryPullActions.map { PermissionRequest(action: $0, resource: arn) }
        }
        return requests
    }

    /// `123456789012.dkr.ecr.eu-west-2.amazonaws.com/upbound/provider-aws-s3:v2.2.0` →
    /// `arn:aws:ecr:eu-west-2:123456789012:repository/upbound/provider-aws-s3`.
    ///
    /// `nil` when the image is not in a private ECR registry (Docker Hub, `xpkg.upbound.io`,
    /// `public.ecr.aws`, …). Tags and `@sha256:` digests are dropped; `.amazonaws.com.cn` hosts give
    /// the `aws-cn` partition, `us-gov-*` regions `aws-us-gov`; FIPS hosts (`dkr.ecr-fips.`) are read too.
    public static func ecrRepositoryARN(image: String) -> String? {
        var reference = image.trimmingCharacters(in: .whitespaces)
        for scheme in ["https://", "http://", "oci://", "docker://"] where reference.lowercased().hasPrefix(scheme) {
            reference = String(reference.dropFirst(scheme.count))
        }
        if let at = reference.firstIndex(of: "@") { reference = String(reference[..<at]) }
        guard let slash = reference.firstIndex(of: "/") else { return nil }
        let host = reference[..<slash].lowercased()
        var repository = String(reference[reference.index(after: slash)...])
        // A tag follows the last ':' after the last '/'.
        if let colon = repository.lastIndex(of: ":"), !repository[colon...].contains("/") {
            repository = String(repository[..<colon])
        }
        guard !repository.isEmpty, !repository.hasSuffix("/"), !repository.hasPrefix("/") else { return nil }

        let labels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        // account . dkr . ecr[-fips] . region . amazonaws . com [. cn]
        guard labels.count == 6 || labels.count == 7,
              labels[0].count == 12, labels[0].allSatisfy(isDigit),
              labels[1] == "dkr", labels[2] == "ecr" || labels[2] == "ecr-fips",
              isRegion(labels[3]),
              labels[4] == "amazonaws", labels[5] == "com"
        else { return nil }
        let region = labels[3]
        let partition: String
        if labels.count == 7 {
            guard labels[6] == "cn" else { return nil }
            partition = "aws-cn"
        } else if region.hasPrefix("us-gov-") {
            partition = "aws-us-gov"
        } else {
            partition = "aws"
        }
        return "arn:\(partition):ecr:\(region):\(labels[0]):repository/\(repository)"
    }

    private static func isRegion(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let last = parts.last, !last.isEmpty, last.allSatisfy(isDigit) else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
    }

    private static func isDigit(_ c: Character) -> Bool { ("0"..."9").contains(c) }

    static func unique(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.filter { seen.insert($0).inserted }
    }
}

/// The statements of a policy document: `Statement` may be one object or an array; a document given as
/// a (possibly URL-encoded) JSON string is parsed first.
enum IAMStatementList {
    static func list(_ json: JSONValue) -> [JSONValue] {
        let statement = json.decodedPolicyDocument["Statement"]
        switch statement {
        case .array(let items): return items
        case .object: return [statement]
        default: return []
        }
    }
}

private struct PermissionStatement {
    var label: String
    var allow: Bool
    var effective: Bool
    var actions: [String]?
    var notActions: [String]?
    var resources: [String]?
    var notResources: [String]?
    var conditional: Bool

    init(_ s: JSONValue, policyName: String) {
        let effect = s["Effect"].string
        allow = effect == "Allow"
        effective = effect == "Allow" || effect == "Deny"
        label = s["Sid"].string.flatMap { $0.isEmpty ? nil : "\(policyName)/\($0)" } ?? policyName
        actions = s["Action"].isNull ? nil : s["Action"].stringOrStrings
        notActions = s["NotAction"].isNull ? nil : s["NotAction"].stringOrStrings
        resources = s["Resource"].isNull ? nil : s["Resource"].stringOrStrings
        notResources = s["NotResource"].isNull ? nil : s["NotResource"].stringOrStrings
        conditional = !s["Condition"].object.isEmpty
    }

    func applies(to request: PermissionRequest) -> Bool {
        guard effective else { return false }
        let actionMatches: Bool
        if let actions {
            actionMatches = actions.contains { PolicyDocument.wildcardMatch($0, request.action) }
        } else if let notActions {
            actionMatches = !notActions.contains { PolicyDocument.wildcardMatch($0, request.action) }
        } else {
            actionMatches = false
        }
        guard actionMatches else { return false }
        // ARNs are case-sensitive; an identity-policy statement without Resource/NotResource matches nothing.
        if let resources {
            return resources.contains { PolicyDocument.wildcardMatch($0, request.resource, caseInsensitive: false) }
        }
        if let notResources {
            return !notResources.contains { PolicyDocument.wildcardMatch($0, request.resource, caseInsensitive: false) }
        }
        return false
    }
}
