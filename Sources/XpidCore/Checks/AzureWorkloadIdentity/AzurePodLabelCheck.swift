import Foundation

public struct AzurePodLabelCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "azure.pod-label",
        title: "Pods carry azure.workload.identity/use",
        summary: "The pod template **and** the running pods carry the label `azure.workload.identity/use: \"true\"` (`fail` when it sits only on the ServiceAccount or the Deployment's own metadata; for Providers it belongs in the DeploymentRuntimeConfig's `deploymentTemplate.spec.template.metadata.labels`, for the core in Helm `customLabels`).",
        rationale: "Since webhook v1.0 the MutatingWebhookConfiguration selects pods by this label; on the ServiceAccount (early AKS docs) or on the Deployment object it selects nothing, and the pod starts without a token.",
        remediation: "Add the label to the pod template (Helm `--set-string customLabels.azure\\.workload\\.identity/use=true`, or the runtime config's deployment template), then let the pods roll.",
        mechanism: .azureWI, scope: .subject,
        reads: [.pods],
        passing: [CheckExample("label on the pod template and the pods", subject: "crossplane-core/crossplane", expect: .pass) { Examples.aksSeed() }],
        failing: [
            CheckExample("label only on the ServiceAccount", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.deployments[0].template.labels[AzureWIFacts.useLabel] = nil
                s.deployments[0].metadata.labels[AzureWIFacts.useLabel] = nil
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.metadata.labels[AzureWIFacts.useLabel] = nil }
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.labels[AzureWIFacts.useLabel] = "true" }
                return s
            },
            CheckExample("label only on the Deployment metadata", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.deployments[0].template.labels[AzureWIFacts.useLabel] = nil
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.metadata.labels[AzureWIFacts.useLabel] = nil }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { (subject.method == .azureWI) && subject.runsPods }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        guard let deployment = subject.deployment else {
            if let error = context.runtimeReadError(for: subject) { return [error] }
            return [.skip("no runtime Deployment found for \(subject.id); see crossplane.package-health")]
        }
        let label = "\(AzureWIFacts.useLabel)=true"
        let onTemplate = AzureWIFacts.isOn(deployment.template.labels)
        if !onTemplate {
            let elsewhere = AzureEvidence.labelPlaces(subject)
            let place = subject.kind == .crossplaneCore
                ? (Commands.helmRelease(subject) != nil ? "Helm customLabels" : "the Deployment's pod template")
                : "DeploymentRuntimeConfig deploymentTemplate.spec.template.metadata.labels"
            let found = elsewhere.isEmpty ? "it is nowhere" : "it is only on \(elsewhere.joined(separator: ", ")), where the webhook does not look"
            return [.fail(
                "the pod template of Deployment \(subject.namespace)/\(deployment.metadata.name) lacks \(label) (\(found)): the webhook selects pods by this label, so pods get no Azure token",
                evidence: ["deployment": deployment.metadata.name, "labelElsewhere": elsewhere.joined(separator: "; ")],
                remediation: Remediation("put the label on the pods through \(place)", commands: AzureFixCommands.addPodLabel(subject)),
                fixable: true)]
        }
        let pods = subject.livePods
        let unlabelled = pods.filter { !AzureWIFacts.isOn($0.metadata.labels) }
        if !unlabelled.isEmpty {
            return [.fail(
                "the pod template has \(label), but pod(s) \(unlabelled.map(\.metadata.name).joined(separator: ", ")) were created before it: they run without an Azure token",
                evidence: ["stalePods": unlabelled.map(\.metadata.name).joined(separator: ",")],
                remediation: Remediation("restart the workload so new pods carry the label", commands: [Commands.restart(subject)]),
                fixable: true)]
        }
        if pods.isEmpty { return [.pass("the pod template of Deployment \(deployment.metadata.name) carries \(label)")] }
        return [.pass("the pod template of Deployment \(deployment.metadata.name) and its \(pods.count) pod(s) carry \(label)")]
    }
}
