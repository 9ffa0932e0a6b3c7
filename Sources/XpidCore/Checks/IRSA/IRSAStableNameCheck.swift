import Foundation

public struct IRSAStableNameCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "irsa.stable-sa-name",
        title: "Trust survives a provider upgrade",
        summary: "For Providers/Functions: the trust `sub` does not pin a revision-hashed ServiceAccount name that changes on upgrade (`warn`), and a `provider-aws-*` wildcard really matches this Provider's ServiceAccount name.",
        rationale: "Crossplane names a package's default ServiceAccount after its revision (`provider-aws-s3-92206523fff4`); a trust that names it exactly breaks at the next upgrade, silently, with AccessDenied.",
        remediation: "Use `StringLike` on `system:serviceaccount:NS:<provider name>-*`, or pin the ServiceAccount name with a DeploymentRuntimeConfig `serviceAccountTemplate.metadata.name`.",
        mechanism: .irsa, scope: .subject, dependsOn: ["irsa.trust-policy"],
        reads: [.runtimeConfigs],
        passing: [CheckExample("wildcard on the provider name", subject: "provider/provider-aws-s3", expect: .pass) { Examples.irsaSeed() }],
        failing: [
            CheckExample("trust pins the revision-hashed name", subject: "provider/provider-aws-s3", expect: .warn) {
                var s = Examples.irsaSeed()
                s.aws.roles[Examples.providerIRSARole] = .value(IAMRole(
                    name: "crossplane-provider-aws", arn: Examples.providerIRSARole,
                    trustPolicy: Examples.irsaTrust(subject: "system:serviceaccount:crossplane-system:\(Examples.ecrS3Revision)")))
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool {
        subject.method == .irsa && subject.isPackage
    }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let sa = subject.serviceAccountName,
            let roleArn = subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation],
            let role = context.snapshot.aws.roles[roleArn]?.value,
            let cluster = context.snapshot.aws.cluster.value, let host = cluster.issuerHostPath, let clusterProvider = cluster.oidcProviderARN
        else { return [.skip(context.cloudDisabledReason.map { "trust policy not read: \($0)" } ?? "trust policy not available")] }
        let provider = IRSATrustPolicyCheck.providerARN(clusterProvider, forRole: roleArn)
        guard let revision = subject.revision, sa == revision else {
            return [.pass("ServiceAccount \(sa) is not the revision name; it does not change on upgrade")]
        }
        let subjectName = "system:serviceaccount:\(subject.namespace):\(sa)"
        let audience = subject.serviceAccount?.metadata.annotations[IRSAFacts.audienceAnnotation] ?? IRSAFacts.defaultAudience
        let result = WebIdentityTrust.evaluate(role.trustPolicy, WebIdentityTrustQuery(providerARN: provider, issuerHostPath: host, subject: subjectName, audience: audience))
        let pinned = result.subConditions.filter { !$0.operator.contains("Like") && $0.value == subjectName }
        if !pinned.isEmpty {
            let pattern = IRSATrustPolicyCheck.recommendedPattern(subject)
            let (fixed, _) = IRSATrustPolicyCheck.fixedTrust(role, for: subject, pattern: pattern, provider: provider, host: host, audience: audience, in: context)
            return [
                .warn(
                    "role \(role.name) trusts exactly \(subjectName), the revision-hashed name: the next upgrade of \(subject.name) creates a new ServiceAccount name and IRSA stops working",
                    evidence: ["serviceAccount": sa, "revision": revision],
                    remediation: Remediation(
                        "trust a wildcard on the Provider name (or pin the SA name with a DeploymentRuntimeConfig)",
                        commands: [Commands.updateTrust(roleName: role.name, document: fixed)]))
            ]
        }
        let wildcard = result.subConditions.first { $0.operator.contains("Like") }.map(\.value) ?? "a wildcard"
        return [.pass("\(wildcard) matches \(sa) and will match the next revision's name")]
    }
}
