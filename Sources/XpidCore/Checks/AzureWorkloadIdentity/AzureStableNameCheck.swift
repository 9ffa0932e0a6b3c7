import Foundation

public struct AzureStableNameCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "azure.stable-sa-name",
        title: "ServiceAccount name a credential can name",
        summary: "A Provider/Function on Azure Workload Identity runs as a ServiceAccount name set by its DeploymentRuntimeConfig, not the revision-hashed default.",
        rationale: "A federated identity credential names one exact subject (`system:serviceaccount:NS:SA`) and Azure has no wildcard for Kubernetes subjects; Crossplane names the default ServiceAccount after the package revision, which changes on every upgrade.",
        remediation: "Create a DeploymentRuntimeConfig with `serviceAccountTemplate.metadata.name`, the client-id annotation and the pod label, and point the package's `runtimeConfigRef` at it.",
        mechanism: .azureWI, scope: .subject,
        reads: [.runtimeConfigs],
        passing: [CheckExample("SA pinned by the runtime config", subject: "provider/provider-azure-storage", expect: .pass) { Examples.aksSeed() }],
        failing: [
            CheckExample("revision-hashed SA (the documented ImageConfig example)", subject: "provider/provider-azure-storage", expect: .fail) {
                var s = Examples.aksSeed()
                for i in s.runtimeConfigs.indices where s.runtimeConfigs[i].metadata.name == "azure-wi-storage" { s.runtimeConfigs[i].serviceAccountName = nil }
                for i in s.deployments.indices where s.deployments[i].metadata.name == Examples.storageRevision {
                    s.deployments[i].template.spec.serviceAccountName = Examples.storageRevision
                }
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.storageRevision }) { $0.spec.serviceAccountName = Examples.storageRevision }
                s.serviceAccounts.append(ServiceAccount(metadata: ObjectMeta(
                    name: Examples.storageRevision, namespace: Examples.namespace, annotations: [AzureWIFacts.clientIDAnnotation: Examples.providerClientID, AzureWIFacts.tenantIDAnnotation: Examples.azureTenant])))
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .azureWI && subject.isPackage }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        guard let sa = subject.serviceAccountName else {
            if let error = context.runtimeReadError(for: subject) { return [error] }
            return [.skip("no runtime Deployment or pod found for revision \(subject.revision ?? "(none)"); see crossplane.package-health")]
        }
        if let revision = subject.revision, sa == revision {
            return [.fail(
                "\(subject.id) runs as ServiceAccount \(sa), the revision name: it changes on every upgrade, and a federated credential cannot use a wildcard subject",
                evidence: ["serviceAccount": sa, "revision": revision, "runtimeConfig": subject.runtimeConfigEvidence ?? ""],
                remediation: Remediation(
                    "pin the ServiceAccount name with a dedicated DeploymentRuntimeConfig (a Provider spec change may create a new revision), then federate that name",
                    commands: Commands.stableServiceAccount(subject, serviceAccount: subject.name)),
                fixable: true)]
        }
        if let drc = subject.runtimeConfig, drc.serviceAccountName == sa || drc.podServiceAccountName == sa {
            return [.pass("ServiceAccount \(sa) is pinned by DeploymentRuntimeConfig \(drc.metadata.name)", evidence: ["serviceAccount": sa])]
        }
        return [.pass("ServiceAccount \(sa) is not the revision name", evidence: ["serviceAccount": sa])]
    }
}
