import Foundation

public struct SharedServiceAccountCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "podid.shared-sa",
        title: "ServiceAccount not claimed by several packages",
        summary: "No two packages claim the same ServiceAccount through `serviceAccountTemplate.metadata.name`.",
        rationale: "With `serviceAccountTemplate.metadata.name` the package manager owns the ServiceAccount; several packages owning one ServiceAccount fight over it (the Crossplane docs warn of reconcile loops).",
        remediation: "Give each provider its own DeploymentRuntimeConfig and association, or pre-create one ServiceAccount and reference it with `deploymentTemplate.spec.template.spec.serviceAccountName`.",
        mechanism: .podIdentity, scope: .subject,
        passing: [CheckExample("one package per SA", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("two providers share the DRC SA", subject: "provider/provider-aws-s3", expect: .warn) {
                var s = Examples.podIdentitySeed()
                s.packages.append(CrossplanePackage(
                    kind: .provider, metadata: ObjectMeta(name: "provider-aws-ec2"), package: "xpkg.upbound.io/upbound/provider-aws-ec2:v2.3.0",
                    runtimeConfigName: "pod-identity-runtimeconfig", runtimeConfigRefSet: true, currentRevision: "provider-aws-ec2-1a2b3c4d5e6f", conditions: Examples.healthy()))
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool {
        subject.method == .podIdentity && subject.isPackage
    }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        guard let claimed = subject.runtimeConfig?.serviceAccountName else {
            return [.pass("no DeploymentRuntimeConfig serviceAccountTemplate name to share")]
        }
        let others = (context.index.byClaimedServiceAccount[claimed] ?? []).filter { $0 != subject.id }.sorted()
        if others.isEmpty {
            return [.pass("ServiceAccount \(claimed) is claimed only by \(subject.id)")]
        }
        return [
            .warn(
                "ServiceAccount \(claimed) is also claimed by \(others.joined(separator: ", ")) via serviceAccountTemplate.metadata.name: the package manager reconciles it from several owners",
                evidence: ["serviceAccount": claimed, "sharedWith": others.joined(separator: ",")],
                remediation: Remediation(
                    "give \(subject.id) its own runtime config and association (or use a pre-created SA via deploymentTemplate.spec.template.spec.serviceAccountName)",
                    commands: Commands.stableServiceAccount(subject, serviceAccount: subject.name) + [Commands.createAssociation(context, namespace: subject.namespace, serviceAccount: subject.name)]))
        ]
    }
}
