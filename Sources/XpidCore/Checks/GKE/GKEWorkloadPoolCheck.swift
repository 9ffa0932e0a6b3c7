import Foundation

public struct GKEWorkloadPoolCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "gke.workload-pool",
        title: "GKE workload pool and metadata server",
        summary: "The cluster has `workloadIdentityConfig.workloadPool` (`gcloud container clusters describe`), every node pool hosting a subject's pods runs in `GKE_METADATA` mode, and those nodes carry `iam.gke.io/gke-metadata-server-enabled=true`.",
        rationale: "Without the pool there is no Workload Identity; on a pool in `GCE_METADATA` mode pods silently get the node's service account instead of their own identity.",
        remediation: "`gcloud container clusters update --workload-pool=PROJECT.svc.id.goog`, then `gcloud container node-pools update --workload-metadata=GKE_METADATA` (it recreates the nodes).",
        mechanism: .gke, scope: .cluster,
        reads: [.nodes, .pods],
        liveOnly: true, passing: [CheckExample("pool set, node pool on the GKE metadata server", expect: .pass) { Examples.gkeSeed() }],
        failing: [
            CheckExample("no workload pool", expect: .fail) {
                var s = Examples.gkeSeed()
                s.gcp.cluster = .value(GKECluster(name: Examples.gkeName, location: Examples.gkeLocation, workloadPool: nil, nodePools: [GKENodePool(name: "default-pool", metadataMode: "GCE_METADATA")]))
                s.nodes = s.nodes.map { var n = $0; n.metadata.labels[GKEFacts.metadataServerLabel] = nil; return n }
                return s
            },
            CheckExample("subject pods on a GCE_METADATA node pool", expect: .fail) {
                var s = Examples.gkeSeed()
                s.gcp.cluster = .value(GKECluster(name: Examples.gkeName, location: Examples.gkeLocation, workloadPool: Examples.gkePool, nodePools: [GKENodePool(name: "default-pool", metadataMode: "GCE_METADATA")]))
                s.nodes = s.nodes.map { var n = $0; n.metadata.labels[GKEFacts.metadataServerLabel] = nil; return n }
                return s
            },
        ])

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        let subjects = context.subjects.filter { $0.method == .gkeWI || $0.method == .gkeWIF }
        guard !subjects.isEmpty else { return [.skip("no subject uses GKE Workload Identity")] }
        var pools: [String: [String]] = [:]
        var unlabelled: [String] = []
        for subject in subjects {
            for pod in subject.livePods {
                guard let nodeName = pod.spec.nodeName, let node = context.snapshot.node(named: nodeName) else { continue }
                if let pool = node.metadata.labels[GKEFacts.nodePoolLabel] { pools[pool, default: []].append(subject.id) }
                if node.metadata.labels[GKEFacts.metadataServerLabel] != "true" { unlabelled.append(nodeName) }
            }
        }
        var results: [CheckResult] = []
        let nodes = Array(Set(unlabelled)).sorted()
        if nodes.isEmpty {
            results.append(.pass("the nodes of the subjects' pods run the GKE metadata server (\(GKEFacts.metadataServerLabel)=true)"))
        } else {
            results.append(.fail(
                "node(s) \(nodes.joined(separator: ", ")) host subject pods but lack \(GKEFacts.metadataServerLabel)=true: pods there get the node's service account, not their own identity",
                evidence: ["nodes": nodes.joined(separator: ",")],
                remediation: Remediation("run the node pools on the GKE metadata server (recreates the nodes)", commands: Array(Set(nodes.compactMap { context.snapshot.node(named: $0)?.metadata.labels[GKEFacts.nodePoolLabel] })).sorted().map { Commands.gkeMetadataPool(context, pool: $0) })))
        }
        if let reason = context.cloudDisabledReason {
            results.append(.skip("cloud side (gcloud container clusters describe) not checked: \(reason)"))
            return results
        }
        guard case .value(let cluster) = context.snapshot.gcp.cluster else {
            return results + [context.snapshot.gcp.cluster.unavailableResult(what: "GKE cluster \(context.clusterLabel)") ?? .skip("")]
        }
        guard let pool = cluster.workloadPool else {
            return results + [.fail(
                "cluster \(cluster.name) has no workload pool (workloadIdentityConfig.workloadPool): Workload Identity is off",
                remediation: Remediation("enable Workload Identity on the cluster", commands: [Commands.gkeEnablePool(context)]))]
        }
        let wrong = cluster.nodePools.filter { pools[$0.name] != nil && $0.metadataMode != GKEFacts.metadataMode }
        if wrong.isEmpty {
            results.append(.pass("cluster \(cluster.name) has workload pool \(pool); the node pools of the subjects run \(GKEFacts.metadataMode)", evidence: ["workloadPool": pool]))
        } else {
            results.append(.fail(
                "node pool(s) \(wrong.map { "\($0.name) (\($0.metadataMode ?? "unset"))" }.joined(separator: ", ")) host subject pods outside \(GKEFacts.metadataMode): pods there get the node's service account",
                evidence: ["workloadPool": pool],
                remediation: Remediation("switch the node pools to the GKE metadata server (recreates the nodes)", commands: wrong.map { Commands.gkeMetadataPool(context, pool: $0.name) })))
        }
        return results
    }
}
