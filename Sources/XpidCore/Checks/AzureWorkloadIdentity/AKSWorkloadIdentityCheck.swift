import Foundation

public struct AKSWorkloadIdentityCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "aks.workload-identity",
        title: "AKS OIDC issuer and workload identity enabled",
        summary: "The cluster has `oidcIssuerProfile.enabled` and `securityProfile.workloadIdentity.enabled` (`az aks show`), and the Azure Workload Identity mutating webhook (`mutation.azure-workload-identity.io`) is installed.",
        rationale: "Without the issuer there is nothing to federate with; without the webhook no pod gets `AZURE_FEDERATED_TOKEN_FILE` or the projected token, whatever labels and annotations say.",
        remediation: "`az aks update --enable-oidc-issuer --enable-workload-identity`, then restart the workloads.",
        mechanism: .azureWI, scope: .cluster,
        reads: [.webhookConfigurations],
        liveOnly: true, passing: [CheckExample("issuer, workload identity and webhook", expect: .pass) { Examples.aksSeed() }],
        failing: [
            CheckExample("workload identity disabled: no webhook", expect: .fail) {
                var s = Examples.aksSeed()
                s.webhookConfigurations = []
                s.azure.cluster = .value(AKSCluster(name: Examples.aksName, resourceGroup: Examples.aksResourceGroup, issuerURL: Examples.aksIssuer, workloadIdentityEnabled: false))
                return s
            },
            CheckExample("cluster not readable: not logged in", expect: .error) {
                var s = Examples.aksSeed()
                s.azure.cluster = .failed(CloudError(kind: .notLoggedIn, message: "Please run 'az login' to setup account.", command: Command(["az", "account", "show"])))
                return s
            },
        ])

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard context.subjects.contains(where: { $0.method == .azureWI }) else { return [.skip("no subject uses Azure Workload Identity")] }
        let webhook = context.snapshot.webhookConfigurations.first { $0.webhooks.contains(AzureWIFacts.webhookName) }
        var results: [CheckResult] = []
        if let webhook {
            var evidence = ["webhookConfiguration": webhook.metadata.name]
            // The AKS add-on's image tag is the webhook version, which decides where tokens are mounted (v1.6 moved them).
            let addon = context.snapshot.deployments.first { $0.metadata.namespace == "kube-system" && $0.metadata.name == AzureWIFacts.addonDeployment }
            let version = addon?.template.spec.containers.compactMap { $0.image.flatMap { PackageReference($0).tag } }.first
            if let version { evidence["webhookVersion"] = version }
            results.append(.pass(
                "the workload identity webhook is installed (MutatingWebhookConfiguration \(webhook.metadata.name)\(version.map { ", AKS add-on \($0)" } ?? ""))",
                evidence: evidence))
        } else {
            results.append(.fail(
                "no MutatingWebhookConfiguration has the webhook \(AzureWIFacts.webhookName): pods get no Azure token or env, whatever their labels say",
                remediation: Remediation("enable workload identity on the cluster (the AKS add-on installs the webhook)", commands: [Commands.enableWorkloadIdentity(context)])))
        }
        if let reason = context.cloudDisabledReason {
            results.append(.skip("cloud side (az aks show) not checked: \(reason)"))
            return results
        }
        switch context.snapshot.azure.cluster {
        case .value(let cluster):
            var missing: [String] = []
            if !cluster.oidcIssuerEnabled { missing.append("oidcIssuerProfile.enabled is false") }
            if !cluster.workloadIdentityEnabled { missing.append("securityProfile.workloadIdentity.enabled is false") }
            if missing.isEmpty {
                results.append(.pass("cluster \(cluster.name) has the OIDC issuer \(cluster.issuerURL ?? "(no URL)") and workload identity enabled", evidence: ["issuer": cluster.issuerURL ?? ""]))
            } else {
                results.append(.fail(
                    "cluster \(cluster.name): \(missing.joined(separator: "; "))", evidence: ["issuer": cluster.issuerURL ?? ""],
                    remediation: Remediation("enable the OIDC issuer and workload identity (pods must be recreated afterwards)", commands: [Commands.enableWorkloadIdentity(context)])))
            }
        case .notFound(let m):
            results.append(.error(
                "AKS cluster \(context.clusterLabel) was not found (\(m)); pass --resource-group, --cluster-name and --subscription",
                remediation: Remediation("find the cluster", commands: [Commands.az(["aks", "list", "-o", "table"], subscription: context.snapshot.cluster.subscription)])))
        default:
            results.append(context.snapshot.azure.cluster.unavailableResult(what: "AKS cluster \(context.clusterLabel)") ?? .skip(""))
        }
        return results
    }
}
