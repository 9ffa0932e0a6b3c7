import Foundation

public struct StableServiceAccountCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "podid.stable-sa-name",
        title: "Predictable ServiceAccount name",
        summary: "The Provider/Function runs as a ServiceAccount name set by its DeploymentRuntimeConfig (`serviceAccountTemplate.metadata.name`, or `deploymentTemplate…serviceAccountName`), not the revision-hashed default.",
        rationale: "A Pod Identity association keys on namespace + ServiceAccount name. Crossplane names the default ServiceAccount after the package revision, which changes on every upgrade, so no association can follow it.",
        remediation: "Create a DeploymentRuntimeConfig with `spec.serviceAccountTemplate.metadata.name` and point the package's `runtimeConfigRef` at it.",
        mechanism: .podIdentity, scope: .subject,
        reads: [.runtimeConfigs],
        passing: [CheckExample("SA pinned by the DRC", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("revision-hashed SA, no DRC", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.updatePackage("provider-aws-s3") { $0.runtimeConfigName = "default"; $0.runtimeConfigRefSet = false }
                for i in s.deployments.indices where s.deployments[i].metadata.name == Examples.s3Revision {
                    s.deployments[i].template.spec.serviceAccountName = Examples.s3Revision
                }
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.s3Revision }) { $0.spec.serviceAccountName = Examples.s3Revision }
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool {
        subject.method == .podIdentity && subject.isPackage
    }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        guard let sa = subject.serviceAccountName else {
            if let error = context.runtimeReadError(for: subject) { return [error] }
            return [.skip("no runtime Deployment or pod found for revision \(subject.revision ?? "(none)"); see crossplane.package-health")]
        }
        let drc = subject.runtimeConfig
        if let revision = subject.revision, sa == revision {
            let stable = subject.name
            return [
                .fail(
                    "\(subject.id) runs as ServiceAccount \(sa), the revision name: it changes on every upgrade, so a Pod Identity association cannot follow it",
                    evidence: ["serviceAccount": sa, "revision": revision, "runtimeConfig": subject.runtimeConfigEvidence ?? ""],
                    remediation: Remediation(
                        "pin the ServiceAccount name with a dedicated DeploymentRuntimeConfig (a Provider spec change may create a new revision), then associate that name",
                        commands: Commands.stableServiceAccount(subject, serviceAccount: stable)
                            + [Commands.createAssociation(context, namespace: subject.namespace, serviceAccount: stable)]),
                    fixable: true)
            ]
        }
        if let drc, drc.serviceAccountName == sa {
            return [.pass("ServiceAccount \(sa) is pinned by DeploymentRuntimeConfig \(drc.metadata.name) (serviceAccountTemplate.metadata.name)", evidence: ["serviceAccount": sa])]
        }
        if let drc, drc.podServiceAccountName == sa {
            return [.pass("ServiceAccount \(sa) is set by DeploymentRuntimeConfig \(drc.metadata.name) (deploymentTemplate serviceAccountName)", evidence: ["serviceAccount": sa])]
        }
        return [.pass("ServiceAccount \(sa) is not the revision name", evidence: ["serviceAccount": sa])]
    }
}
