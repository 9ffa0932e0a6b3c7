import Foundation

/// Lookup tables over a snapshot's objects, built on first use and dropped whenever an object list
/// changes (fix transforms mutate snapshots). They keep every per-subject lookup O(1), so the work
/// of a run stays linear in the number of objects.
final class SnapshotLookups: @unchecked Sendable {
    private let lock = NSLock()
    private var serviceAccounts: [String: ServiceAccount]?
    private var nodes: [String: Node]?
    private var deploymentsByRevision: [String: Deployment]?
    private var deploymentsByName: [String: Deployment]?
    private var podsByRevision: [String: [Pod]]?
    private var runtimeConfigs: [String: DeploymentRuntimeConfig]?
    private var associations: [String: [PodIdentityAssociation]]?

    static func key(_ namespace: String?, _ name: String) -> String { "\(namespace ?? "")/\(name)" }

    /// Builds a table once; a key that repeats across reads keeps its first object (never traps).
    private func table<V>(_ slot: ReferenceWritableKeyPath<SnapshotLookups, [String: V]?>, _ build: () -> [String: V]) -> [String: V] {
        lock.lock()
        defer { lock.unlock() }
        if let t = self[keyPath: slot] { return t }
        let t = build()
        self[keyPath: slot] = t
        return t
    }

    func serviceAccount(_ s: Snapshot, namespace: String, name: String) -> ServiceAccount? {
        table(\.serviceAccounts) { Dictionary(s.serviceAccounts.map { (Self.key($0.metadata.namespace, $0.metadata.name), $0) }, uniquingKeysWith: { a, _ in a }) }[Self.key(namespace, name)]
    }

    func node(_ s: Snapshot, named name: String) -> Node? {
        table(\.nodes) { Dictionary(s.nodes.map { ($0.metadata.name, $0) }, uniquingKeysWith: { a, _ in a }) }[name]
    }

    func deployment(_ s: Snapshot, namespace: String, revision: String) -> Deployment? {
        let byLabel = table(\.deploymentsByRevision) {
            Dictionary(s.deployments.compactMap { d in d.metadata.labels["pkg.crossplane.io/revision"].map { (Self.key(d.metadata.namespace, $0), d) } }, uniquingKeysWith: { a, _ in a })
        }
        if let d = byLabel[Self.key(namespace, revision)] { return d }
        return deployment(s, namespace: namespace, name: revision)
    }

    func deployment(_ s: Snapshot, namespace: String, name: String) -> Deployment? {
        table(\.deploymentsByName) { Dictionary(s.deployments.map { (Self.key($0.metadata.namespace, $0.metadata.name), $0) }, uniquingKeysWith: { a, _ in a }) }[Self.key(namespace, name)]
    }

    func pods(_ s: Snapshot, namespace: String, revision: String) -> [Pod] {
        table(\.podsByRevision) {
            Dictionary(grouping: s.pods.filter { $0.metadata.labels["pkg.crossplane.io/revision"] != nil }) { Self.key($0.metadata.namespace, $0.metadata.labels["pkg.crossplane.io/revision"] ?? "") }
        }[Self.key(namespace, revision)] ?? []
    }

    func runtimeConfig(_ s: Snapshot, named name: String) -> DeploymentRuntimeConfig? {
        table(\.runtimeConfigs) { Dictionary(s.runtimeConfigs.map { ($0.metadata.name, $0) }, uniquingKeysWith: { a, _ in a }) }[name]
    }

    func associations(_ s: Snapshot, namespace: String, serviceAccount: String) -> [PodIdentityAssociation] {
        table(\.associations) {
            guard let listed = s.aws.associations.value else { return [:] }
            return Dictionary(grouping: listed.map { s.aws.describedAssociations[$0.id]?.value ?? $0 }) { Self.key($0.namespace, $0.serviceAccount) }
        }[Self.key(namespace, serviceAccount)] ?? []
    }
}

/// Relations between subjects and objects that checks ask about per subject, computed once per evaluation.
public struct SubjectIndex: Sendable {
    /// Subject IDs by the ServiceAccount name their DeploymentRuntimeConfig's serviceAccountTemplate claims.
    public let byClaimedServiceAccount: [String: [String]]
    /// IRSA subjects by the role ARN annotated on their ServiceAccount.
    public let irsaByRole: [String: [Subject]]
    /// Providers and functions by package name (`provider-family-aws`), for dependency lookups.
    public let packagesByName: [String: [CrossplanePackage]]
    /// Running EKS Pod Identity agent pods in kube-system.
    public let liveAgentPods: [Pod]
    /// The identity methods the cluster's family providers use (ProviderConfig sources they can serve).
    public let providerMethods: Set<IdentityMethod>
    public let hasPodIdentitySubject: Bool

    init(_ subjects: [Subject], _ snapshot: Snapshot) {
        var claimed: [String: [String]] = [:]
        var irsa: [String: [Subject]] = [:]
        var methods: Set<IdentityMethod> = []
        for s in subjects {
            if let name = s.runtimeConfig?.serviceAccountName { claimed[name, default: []].append(s.id) }
            if s.method == .irsa, let role = s.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation] { irsa[role, default: []].append(s) }
            if s.providerFamily != nil && !s.isFamilyProvider { methods.insert(s.method) }
        }
        byClaimedServiceAccount = claimed
        irsaByRole = irsa
        providerMethods = methods
        hasPodIdentitySubject = subjects.contains { $0.method == .podIdentity }
        packagesByName = Dictionary(grouping: snapshot.packages.filter { $0.kind == .provider }) { $0.reference.name }
        liveAgentPods = snapshot.pods.filter { pod in
            pod.isLive && pod.metadata.namespace == "kube-system"
                && (pod.metadata.labels["app.kubernetes.io/name"] == PodIdentityFacts.agentDaemonSet
                    || pod.metadata.labels["app"] == PodIdentityFacts.agentDaemonSet
                    || pod.metadata.ownerReferences.contains { $0.kind == "DaemonSet" && $0.name == PodIdentityFacts.agentDaemonSet })
        }
    }
}
