import Foundation

public struct GKEHostNetworkCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "gke.no-host-network",
        title: "Pods are not on the host network",
        summary: "The subject's pods do not use `hostNetwork: true`.",
        rationale: "Pods on the host network cannot use Workload Identity: their metadata requests reach the Compute Engine metadata server and get the node's service account.",
        remediation: "Remove `hostNetwork: true` from the pod template (for packages, the DeploymentRuntimeConfig's deployment template).",
        mechanism: .gke, scope: .subject,
        reads: [.pods],
        passing: [CheckExample("pods on the pod network", subject: "crossplane-core/crossplane", expect: .pass) { Examples.gkeSeed() }],
        failing: [
            CheckExample("hostNetwork pod", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.gkeSeed()
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.spec.hostNetwork = true }
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { (subject.method == .gkeWI || subject.method == .gkeWIF) && subject.runsPods }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        let pods = subject.livePods
        if pods.isEmpty { return [.skip("no running pods")] }
        let host = pods.filter(\.spec.hostNetwork).map(\.metadata.name)
        if host.isEmpty { return [.pass("\(pods.count) pod(s) on the pod network")] }
        return [.fail(
            "pod(s) \(host.joined(separator: ", ")) use hostNetwork: their tokens come from the node's service account, not Workload Identity",
            remediation: Remediation("remove hostNetwork from the pod template", commands: [Commands.describePod(namespace: subject.namespace, name: host[0])]))]
    }
}
