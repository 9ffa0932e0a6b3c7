import Foundation

public struct PodIdentityTrustPolicyCheck: Check {
    public init() {}

    static let requiredActions = ["sts:AssumeRole", "sts:TagSession"]

    public static let description = CheckDescription(
        id: "podid.trust-policy",
        title: "Role trusts the Pod Identity service",
        summary: "The associated role exists and its trust policy allows `Service: pods.eks.amazonaws.com` both `sts:AssumeRole` and `sts:TagSession`.",
        rationale: "EKS Pod Identity assumes the role as the `pods.eks.amazonaws.com` service and tags the session with cluster, namespace and ServiceAccount; without `sts:TagSession` the credential request is denied. An IRSA-style (federated) trust does not work here.",
        remediation: "Update the trust policy with `aws iam update-assume-role-policy` (the report prints the full document).",
        mechanism: .podIdentity, scope: .subject, cloud: true, dependsOn: ["podid.association"],
        passing: [CheckExample("AssumeRole + TagSession", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("trust without sts:TagSession", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.aws.roles[Examples.podIdentityRole] = .value(IAMRole(
                    name: "crossplane-provider-aws-pod-identity", arn: Examples.podIdentityRole,
                    trustPolicy: ["Version": "2012-10-17", "Statement": [["Effect": "Allow", "Principal": ["Service": "pods.eks.amazonaws.com"], "Action": "sts:AssumeRole"]]]))
                return s
            },
            CheckExample("role deleted", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.aws.roles[Examples.podIdentityRole] = .notFound("The role with name crossplane-provider-aws-pod-identity cannot be found.")
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .podIdentity }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let association = context.association(for: subject) else {
            return [.skip("no association to read the role from")]
        }
        guard let roleArn = association.roleArn else { return [.error("association \(association.id) has no role ARN")] }
        let roleName = ARN(roleArn)?.roleName ?? roleArn
        switch context.snapshot.aws.roles[roleArn] {
        case .value(let role):
            let policy = PolicyDocument(role.trustPolicy)
            let granted = policy.granted(actions: Self.requiredActions, principalType: "Service") { $0 == PodIdentityFacts.servicePrincipal }
            let missing = Self.requiredActions.filter { !granted.contains($0) }
            if missing.isEmpty {
                return [.pass("role \(role.name) trusts \(PodIdentityFacts.servicePrincipal) for sts:AssumeRole and sts:TagSession", evidence: ["roleArn": roleArn])]
            }
            let fixed = policy.granting(actions: Self.requiredActions, principalType: "Service", principal: PodIdentityFacts.servicePrincipal)
            let federated = policy.statements.contains { $0.principals["Federated"] != nil }
            let why = missing == ["sts:TagSession"]
                ? "Pod Identity tags every session, so the role must allow sts:TagSession"
                : (federated ? "the trust is IRSA-style (Federated OIDC principal); Pod Identity needs the pods.eks.amazonaws.com service principal" : "Pod Identity needs both actions")
            return [
                .fail(
                    "role \(role.name) does not allow \(missing.joined(separator: " and ")) for Service \(PodIdentityFacts.servicePrincipal): \(why)",
                    evidence: ["roleArn": roleArn, "missing": missing.joined(separator: ","), "trustPolicy": role.trustPolicy.compactText()],
                    remediation: Remediation("update the trust policy (other statements kept as they are)", commands: [Commands.updateTrust(roleName: role.name, document: fixed)]))
            ]
        case .notFound(let message):
            let doc = PolicyDocument(["Version": "2012-10-17", "Statement": []]).granting(
                actions: Self.requiredActions, principalType: "Service", principal: PodIdentityFacts.servicePrincipal)
            return [
                .fail(
                    "role \(roleName) of association \(association.id) does not exist (\(message))", evidence: ["roleArn": roleArn],
                    remediation: Remediation(
                        "create the role with the Pod Identity trust policy, or point the association at an existing role",
                        commands: [Commands.createRole(roleName: roleName, trust: doc)]))
            ]
        case .some(let other):
            return [other.unavailableResult(what: "role \(roleName)") ?? .skip("")]
        case .none:
            return [.error("role \(roleArn) was not read")]
        }
    }
}
