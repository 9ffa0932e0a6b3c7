import Foundation

public struct AzurePodsCurrentCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "azure.pods-current",
        title: "Pods carry the current client ID",
        summary: "No running pod predates the ServiceAccount's current `azure.workload.identity/client-id`: every pod's `AZURE_CLIENT_ID` equals the annotation.",
        rationale: "The webhook copies the annotation at pod creation and never again; after the annotation changes, old pods keep asking for the previous identity.",
        remediation: "`kubectl rollout restart` the workload (`kubectl xpid fix --restart` restarts exactly the stale ones).",
        mechanism: .azureWI, scope: .subject, dependsOn: ["azure.sa-annotation", "azure.pod-label"],
        reads: [.pods, .serviceAccounts],
        liveOnly: true, passing: [CheckExample("pods have the annotated client ID", subject: "crossplane-core/crossplane", expect: .pass) { Examples.aksSeed() }],
        failing: [
            CheckExample("pod has the previous client ID", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.spec.containers[0].env = Examples.azureEnv(clientID: "99999999-2222-4333-8444-555555555555") }
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { (subject.method == .azureWI) && subject.runsPods }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let clientID = subject.serviceAccount?.metadata.annotations[AzureWIFacts.clientIDAnnotation] else {
            return [.skip("no client-id annotation to compare with")]
        }
        let pods = subject.livePods
        if pods.isEmpty { return [.skip("no running pods")] }
        var stale: [String] = []
        for pod in pods {
            let current = subject.runtimeContainer(of: pod)?.envValue(AzureWIFacts.clientIDEnv)
            if current != clientID { stale.append("\(pod.metadata.name) (\(current.map { "\(AzureWIFacts.clientIDEnv)=\($0)" } ?? "no \(AzureWIFacts.clientIDEnv)"))") }
        }
        if stale.isEmpty { return [.pass("all \(pods.count) pod(s) run with \(AzureWIFacts.clientIDEnv)=\(clientID)")] }
        return [.fail(
            "pod(s) \(stale.joined(separator: ", ")) predate the ServiceAccount's \(AzureWIFacts.clientIDAnnotation)=\(clientID): the webhook only mutates pods at creation",
            evidence: ["clientID": clientID],
            remediation: Remediation("restart the workload so new pods get the client ID", commands: [Commands.restart(subject)]),
            fixable: true)]
    }
}
