import Foundation
import XpidCore

/// One cloud behind one interface: what its checks read from the cluster, how its clusters are
/// recognised and located, and its cloud reads (through its CLI adapter). The gatherer and the check
/// engine know nothing cloud-specific; adding a cloud means adding an adapter to `SnapshotGatherer.adapters`.
protocol CloudAdapter: Sendable {
    var cloud: Cloud { get }
    /// Cluster-wide kinds its checks read, batched with Crossplane's kinds in round 2 when the cluster is this cloud's.
    var clusterKinds: [KubeKind] { get }
    /// kube-system kinds its checks read (round 2), when the cluster is this cloud's (or the cloud is unknown and `readsWhenUnknown`).
    func kubeSystemKinds(crossplaneNamespace: String) -> [KubeKind]
    var readsWhenUnknown: Bool { get }
    /// Deployments outside the Crossplane namespace its checks read (e.g. a webhook's), kept in the snapshot.
    var platformDeployments: Set<String> { get }
    /// Evidence from the kubeconfig that this is one of the cloud's clusters, when the nodes say nothing.
    func detect(_ context: KubeconfigContext) -> String?
    /// Cluster coordinates (name, region, resource group, …) from flags, the kubeconfig and the nodes.
    func discover(_ context: KubeconfigContext, into s: inout Snapshot, notes: inout [String])
    /// The cloud reads (independent ones concurrently); stores this cloud's facts in the snapshot.
    func gather(into s: inout Snapshot, notes: inout [String]) async
    /// Records that this cloud's reads were not made because the cluster is another cloud's.
    func markAbsent(_ s: inout Snapshot, cloud: Cloud)
}

extension CloudAdapter {
    func kubeSystemKinds(crossplaneNamespace: String) -> [KubeKind] { [] }
    var clusterKinds: [KubeKind] { [] }
    var readsWhenUnknown: Bool { false }
    var platformDeployments: Set<String> { [] }
}

/// Runs `body` for each key with at most `limit` calls in flight.
func concurrentMap<V: Sendable>(_ keys: [String], limit: Int, _ body: @escaping @Sendable (String) async -> V) async -> [String: V] {
    await withTaskGroup(of: (String, V).self) { group in
        var results: [String: V] = [:]
        var iterator = keys.makeIterator()
        for _ in 0..<max(1, limit) {
            guard let key = iterator.next() else { break }
            group.addTask { (key, await body(key)) }
        }
        while let (key, value) = await group.next() {
            results[key] = value
            if let next = iterator.next() { group.addTask { (next, await body(next)) } }
        }
        return results
    }
}

/// At most `limit` commands in flight through it: `--concurrency` bounds every cloud call, the
/// independent first reads included, not only the per-object ones.
struct LimitedRunner: CommandRunner {
    let base: any CommandRunner
    let gate: Gate

    init(_ base: any CommandRunner, limit: Int) {
        self.base = base
        gate = Gate(limit: max(1, limit))
    }

    func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        await gate.enter()
        let result = await base.run(argv, input: input, timeout: timeout)
        await gate.leave()
        return result
    }

    actor Gate {
        private var available: Int
        private var waiting: [CheckedContinuation<Void, Never>] = []

        init(limit: Int) { available = limit }

        func enter() async {
            if available > 0 {
                available -= 1
                return
            }
            await withCheckedContinuation { waiting.append($0) }
        }

        func leave() {
            if waiting.isEmpty {
                available += 1
            } else {
                waiting.removeFirst().resume()
            }
        }
    }
}
