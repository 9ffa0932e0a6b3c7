import Foundation

public struct RoleChainCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "podid.role-chain",
        title: "Chained roles trust the Pod Identity role",
        summary: "Each `assumeRoleChain[].roleARN` in a PodIdentity ProviderConfig trusts the previous role (the association's role first) for `sts:AssumeRole` and `sts:TagSession`.",
        rationale: "The provider assumes each chained role in turn. Pod Identity session tags are transitive, so every hop needs `sts:TagSession` as well as `sts:AssumeRole`; a missing grant shows up as AccessDenied only when a managed resource reconciles.",
        remediation: "Add a statement to each chained role's trust policy allowing the previous role `sts:AssumeRole` and `sts:TagSession`.",
        mechanism: .podIdentity, scope: .subject, cloud: true, dependsOn: ["podid.association"],
        passing: [
            CheckExample("chain target trusts the pod identity role", subject: "provider/provider-aws-s3", expect: .pass) {
                var s = Examples.podIdentitySeed()
                let target = "arn:aws:iam::111122223333:role/my-cross-account-role"
                s.providerConfigs[0].assumeRoleChain = [target]
                s.aws.roles[target] = .value(IAMRole(name: "my-cross-account-role", arn: target, trustPolicy: [
                    "Version": "2012-10-17", "Statement": [["Effect": "Allow", "Principal": ["AWS": .string(Examples.podIdentityRole)], "Action": ["sts:AssumeRole", "sts:TagSession"]]],
                ]))
                return s
            }
        ],
        failing: [
            CheckExample("chain target trusts someone else", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                let target = "arn:aws:iam::111122223333:role/my-cross-account-role"
                s.providerConfigs[0].assumeRoleChain = [target]
                s.aws.roles[target] = .value(IAMRole(name: "my-cross-account-role", arn: target, trustPolicy: [
                    "Version": "2012-10-17", "Statement": [["Effect": "Allow", "Principal": ["AWS": "arn:aws:iam::123456789012:role/other"], "Action": "sts:AssumeRole"]],
                ]))
                return s
            }
        ])

    static let actions = ["sts:AssumeRole", "sts:TagSession"]

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool {
        subject.method == .podIdentity && subject.isAWSProvider && !subject.isFamilyProvider
    }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let association = context.association(for: subject), let first = association.roleArn else {
            return [.skip("no association role to start the chain from")]
        }
        let chains = context.snapshot.providerConfigs.filter { $0.source == "PodIdentity" && !$0.assumeRoleChain.isEmpty }
        if chains.isEmpty { return [.skip("no PodIdentity ProviderConfig uses assumeRoleChain")] }
        var results: [CheckResult] = []
        for pc in chains {
            var previous = first
            for roleArn in pc.assumeRoleChain {
                let name = ARN(roleArn)?.roleName ?? roleArn
                switch context.snapshot.aws.roles[roleArn] {
                case .value(let role):
                    let policy = PolicyDocument(role.trustPolicy)
                    let prev = previous
                    let granted = policy.granted(actions: Self.actions, principalType: "AWS") { Self.principal($0, matches: prev) }
                    let missing = Self.actions.filter { !granted.contains($0) }
                    if missing.isEmpty {
                        results.append(.pass("\(pc.displayName): \(role.name) trusts \(previous) for sts:AssumeRole and sts:TagSession"))
                    } else {
                        let fixed = policy.granting(actions: Self.actions, principalType: "AWS", principal: previous)
                        results.append(
                            .fail(
                                "\(pc.displayName): chained role \(role.name) does not allow \(previous) \(missing.joined(separator: " and "))\(missing.contains("sts:TagSession") ? " (Pod Identity session tags are transitive)" : "")",
                                evidence: ["roleArn": roleArn, "trustedBy": previous],
                                remediation: Remediation("let the previous role assume and tag (run with credentials of the role's account)", commands: [Commands.updateTrust(roleName: role.name, document: fixed)])))
                    }
                case .notFound:
                    results.append(.fail("\(pc.displayName): chained role \(roleArn) does not exist", remediation: Remediation("create the role or fix assumeRoleChain", commands: [Commands.getRole(roleName: name)])))
                case .some(let other):
                    results.append(other.unavailableResult(what: "chained role \(name)") ?? .skip(""))
                case .none:
                    results.append(.error("chained role \(roleArn) was not read"))
                }
                previous = roleArn
            }
        }
        return results
    }

    /// An AWS principal names a role directly, its account (`arn:…:root` or the bare ID), or everyone.
    static func principal(_ value: String, matches roleArn: String) -> Bool {
        if value == "*" || value == roleArn { return true }
        guard let account = ARN(roleArn)?.account else { return false }
        return value == account || value == "arn:aws:iam::\(account):root"
    }
}
