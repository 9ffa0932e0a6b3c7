import Foundation

public struct PodIdentityAgentCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "eks.pod-identity-agent",
        title: "Pod Identity agent runs where the subject runs",
        summary: "DaemonSet `eks-pod-identity-agent` (kube-system) exists with all pods ready, and an agent pod runs on every node hosting the subject's pods.",
        rationale: "The webhook only injects env vars; credentials are served by the agent on 169.254.170.23 on the same node. Without it (or on Fargate/hybrid nodes, where it does not run) the SDK's credential calls fail.",
        remediation: "Install the `eks-pod-identity-agent` add-on; keep pod-identity subjects off Fargate and hybrid nodes.",
        mechanism: .podIdentity, scope: .subject,
        reads: [.agentDaemonSet],
        liveOnly: true, passing: [CheckExample("agent ready on both nodes", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("agent DaemonSet missing", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.daemonSets = []
                s.pods.removeAll { $0.metadata.namespace == "kube-system" }
                return s
            },
            CheckExample("agent not ready", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.daemonSets[0].ready = 1
                return s
            },
            CheckExample("subject on a Fargate node", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.nodes.append(Examples.node("fargate-ip-10-0-3-30", computeType: "fargate"))
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/provider"] == "provider-aws-s3" }) { $0.spec.nodeName = "fargate-ip-10-0-3-30" }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .podIdentity }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        let s = context.snapshot
        let podNodes = Set(subject.livePods.compactMap(\.spec.nodeName))
        let nodes = podNodes.compactMap { s.node(named: $0) }
        if !nodes.isEmpty, nodes.allSatisfy({ $0.eksComputeType == "auto" }) {
            return [.skip("EKS Auto Mode nodes have Pod Identity built in")]
        }
        // Fargate nodes carry compute-type=fargate and are named fargate-…; hybrid nodes carry compute-type=hybrid.
        let unsupported = podNodes.filter { name in
            if let type = s.node(named: name)?.eksComputeType { return PodIdentityFacts.unsupportedComputeTypes.contains(type) }
            return name.hasPrefix("fargate-")
        }.sorted()
        if !unsupported.isEmpty {
            let type = s.node(named: unsupported[0])?.eksComputeType ?? "fargate"
            return [
                .fail(
                    "\(subject.id) runs on \(type) node(s) \(unsupported.joined(separator: ", ")), where the Pod Identity agent does not run",
                    evidence: ["nodes": unsupported.joined(separator: ",")],
                    remediation: Remediation(
                        "schedule the package on EC2 nodes (DeploymentRuntimeConfig deploymentTemplate nodeSelector/affinity), or use IRSA there",
                        commands: [Commands.list("nodes", extra: ["-L", "eks.amazonaws.com/compute-type"])]))
            ]
        }
        guard let agent = s.podIdentityAgent else {
            return [
                .fail(
                    "DaemonSet kube-system/eks-pod-identity-agent not found: nothing serves Pod Identity credentials on the nodes",
                    remediation: Remediation("install the EKS Pod Identity agent add-on", commands: [Commands.createAddon(context), Commands.list("daemonset", namespace: "kube-system", extra: [.literal(PodIdentityFacts.agentDaemonSet)])]))
            ]
        }
        if agent.ready < agent.desired || agent.desired == 0 {
            return [
                .fail(
                    "DaemonSet kube-system/eks-pod-identity-agent has \(agent.ready)/\(agent.desired) pods ready",
                    evidence: ["desired": "\(agent.desired)", "ready": "\(agent.ready)"],
                    remediation: Remediation(
                        "find the agent pods that are not ready and why",
                        commands: [Self.agentPods, Commands.kubectl(["-n", "kube-system", "rollout", "status", "daemonset/eks-pod-identity-agent", "--timeout=120s"])]))
            ]
        }
        let agentPods = context.index.liveAgentPods
        // Without agent pod objects (kube-system pods not readable, or not listed) coverage per node
        // cannot be shown; the DaemonSet's own ready count is then the evidence.
        if s.failedRead("pods", namespace: "kube-system") == nil, !agentPods.isEmpty {
            let agentNodes = Set(agentPods.filter { pod in pod.containerStatuses.isEmpty || pod.containerStatuses.allSatisfy(\.ready) }.compactMap(\.spec.nodeName))
            let uncovered = podNodes.subtracting(agentNodes).sorted()
            if !uncovered.isEmpty {
                return [
                    .fail(
                        "no Pod Identity agent pod on node(s) \(uncovered.joined(separator: ", ")) hosting \(subject.id)",
                        evidence: ["nodes": uncovered.joined(separator: ",")],
                        remediation: Remediation(
                            "check why the DaemonSet does not schedule there (taints, node affinity, IPv6 disabled)",
                            commands: uncovered.map(Commands.describeNode) + [Self.agentPods]))
                ]
            }
        }
        let where_ = podNodes.isEmpty ? "" : "; runs on \(podNodes.sorted().joined(separator: ", "))"
        return [.pass("agent DaemonSet \(agent.ready)/\(agent.desired) ready\(where_)")]
    }

    static let agentPods = Commands.list("pods", namespace: "kube-system", selector: "app.kubernetes.io/name=\(PodIdentityFacts.agentDaemonSet)", extra: ["-o", "wide"])

}

extension ReadOutcome {
    public var shortText: String {
        switch self {
        case .ok: return "ok"
        case .notInstalled: return "not installed"
        case .forbidden(let verb, _): return "is forbidden (\(verb))"
        case .failed(let message): return "failed: \(message)"
        }
    }
}
