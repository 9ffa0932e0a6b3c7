import Foundation
import XpidCore

/// AKS: Azure Workload Identity. Reads the webhook's MutatingWebhookConfiguration (and the AKS add-on
/// Deployment), locates the cluster from flags, node providerIDs and labels and the kubeconfig context,
/// and reads ARM with `az` — only reads, each kind once, independent ones concurrently.
struct AzureAdapter: CloudAdapter {
    var executable: String
    var runner: any CommandRunner
    var options: GatherOptions

    let cloud = Cloud.azure
    let clusterKinds: [KubeKind] = [.mutatingWebhooks]
    let platformDeployments: Set<String> = [AzureWIFacts.addonDeployment]

    func detect(_ context: KubeconfigContext) -> String? {
        if let server = context.server, let host = URL(string: server)?.host, host.hasSuffix(".azmk8s.io") { return "API server \(server) is an AKS endpoint" }
        if context.execCommand.map({ ($0 as NSString).lastPathComponent }) == "kubelogin" { return "kubeconfig authenticates with kubelogin" }
        return nil
    }

    func markAbsent(_ s: inout Snapshot, cloud: Cloud) {
        s.azure = .unavailable(cloud == .unknown ? "cloud not identified" : "not an AKS cluster")
    }

    /// Subscription from the node providerID, resource group and name from the node resource group label
    /// (`MC_<rg>_<cluster>_<region>`) and the kubeconfig context, which `az aks get-credentials` names after the cluster.
    func discover(_ context: KubeconfigContext, into s: inout Snapshot, notes: inout [String]) {
        var subscription = options.subscription.map { ($0, "--subscription") }
        var group = options.resourceGroup.map { ($0, "--resource-group") }
        var name = options.clusterName.map { ($0, "--cluster-name") }
        if subscription == nil, let node = s.nodes.first(where: { $0.providerID?.hasPrefix("azure://") == true }), let id = node.providerID,
            let sub = AzureResourceID.subscription(id), AzureWIFacts.isGUID(sub)
        {
            subscription = (sub, "node \(node.metadata.name) providerID")
        }
        let region = s.nodes.compactMap { $0.metadata.labels["topology.kubernetes.io/region"] }.first
        if let nodeGroup = s.nodes.compactMap({ $0.metadata.labels["kubernetes.azure.com/cluster"] }).first, nodeGroup.uppercased().hasPrefix("MC_") {
            var rest = String(nodeGroup.dropFirst(3))
            if let region, rest.lowercased().hasSuffix("_" + region.lowercased()) { rest = String(rest.dropLast(region.count + 1)) }
            let candidates = [context.contextName, context.clusterName].compactMap { $0 }.filter { !$0.isEmpty }
            if name == nil, let n = candidates.first(where: { rest.hasSuffix("_" + $0) }) { name = (n, "kubeconfig context, matching node label kubernetes.azure.com/cluster=\(nodeGroup)") }
            if let n = name?.0, rest.hasSuffix("_" + n) {
                if group == nil { group = (String(rest.dropLast(n.count + 1)), "node label kubernetes.azure.com/cluster=\(nodeGroup)") }
            } else if name == nil, group == nil, rest.filter({ $0 == "_" }).count == 1 {
                let parts = rest.split(separator: "_").map(String.init)
                group = (parts[0], "node label kubernetes.azure.com/cluster=\(nodeGroup)")
                name = (parts[1], "node label kubernetes.azure.com/cluster=\(nodeGroup)")
            }
        }
        s.cluster.subscription = subscription?.0
        s.cluster.subscriptionEvidence = subscription?.1
        s.cluster.resourceGroup = group?.0
        s.cluster.resourceGroupEvidence = group?.1
        s.cluster.name = name?.0
        s.cluster.nameEvidence = name?.1
        if s.cluster.region == nil, let region { (s.cluster.region, s.cluster.regionEvidence) = (region, "node label topology.kubernetes.io/region") }
        guard s.cluster.cloud == .azure else { return }
        if let name { notes.append("AKS cluster name \(name.0) (from \(name.1))") }
        if let group { notes.append("resource group \(group.0) (from \(group.1))") }
        if let subscription { notes.append("subscription \(subscription.0) (from \(subscription.1))") }
    }

    func gather(into s: inout Snapshot, notes: inout [String]) async {
        if options.noCloud {
            s.azure = .unavailable("--no-cloud")
            return
        }
        let az = AzureCLI(executable: executable, subscription: s.cluster.subscription, runner: runner)
        let subjects = SubjectResolver.subjects(in: s)
        let servers = Set(s.acrPackageRegistries + Self.failingACRPulls(subjects)).sorted()
        // Identities are also read for a package manager that pulls from ACR without one: the fix looks for its identity.
        let needIdentities = subjects.contains { $0.method == .azureWI } || !s.acrPackageRegistries.isEmpty
        let group = s.cluster.resourceGroup
        let name = s.cluster.name

        // Phase 1: independent reads.
        async let account = az.accountShow()
        let nodeGroup = s.nodes.compactMap { $0.metadata.labels["kubernetes.azure.com/cluster"] }.first
        async let cluster = Self.readCluster(az, resourceGroup: group, name: name, nodeResourceGroup: nodeGroup)
        async let identities: CloudRead<[ManagedIdentity]> = needIdentities ? az.identityList() : .notRequested("no subject uses Azure Workload Identity and no package comes from ACR")
        async let registries: CloudRead<[ContainerRegistry]> = servers.isEmpty ? .notRequested("no package or runtime image comes from ACR") : az.registryList()
        var facts = AzureFacts(account: await account, cluster: await cluster, identities: await identities, registries: await registries)
        if let found = facts.cluster.value, s.cluster.name == nil || s.cluster.resourceGroup == nil {
            s.cluster.name = found.name
            s.cluster.nameEvidence = "the subscription's AKS cluster with node resource group \(found.nodeResourceGroup ?? "?")"
            s.cluster.resourceGroup = found.resourceGroup
            s.cluster.resourceGroupEvidence = s.cluster.nameEvidence
            notes.append("AKS cluster \(found.name) in resource group \(found.resourceGroup ?? "?") (from az aks list, matching the nodes' resource group)")
        }

        // Phase 2: federated credentials of each identity in use, role assignments at each registry.
        var withFacts = s
        withFacts.azure = facts
        let context = EvaluationContext(withFacts)
        var wanted: [String: ManagedIdentity] = [:]
        for subject in context.subjects where subject.method == .azureWI {
            if let (clientID, _) = context.azureClientID(of: subject), let identity = facts.identity(clientID: clientID), identity.resourceGroup != nil {
                wanted[identity.id ?? identity.name] = identity
            }
        }
        let identitiesByKey = wanted
        let registryIDs = servers.compactMap { facts.registry(loginServer: $0)?.id }
        async let credentials = concurrentMap(identitiesByKey.keys.sorted(), limit: options.concurrency) { key in
            let identity = identitiesByKey[key]!
            return await az.federatedCredentials(identity: identity.name, resourceGroup: identity.resourceGroup ?? "", subscription: identity.id.flatMap(AzureResourceID.subscription))
        }
        async let assignments = concurrentMap(registryIDs, limit: options.concurrency) { id in await az.roleAssignments(scope: id) }
        facts.federatedCredentials = await credentials
        facts.roleAssignments = await assignments
        s.azure = facts
    }

    static func readCluster(_ az: AzureCLI, resourceGroup: String?, name: String?, nodeResourceGroup: String?) async -> CloudRead<AKSCluster> {
        if let resourceGroup, let name { return await az.aksShow(resourceGroup: resourceGroup, name: name) }
        return await findCluster(az, nodeResourceGroup: nodeResourceGroup, name: name)
    }

    /// Without a resource group and name, the cluster whose node resource group the nodes are in.
    static func findCluster(_ az: AzureCLI, nodeResourceGroup: String?, name: String?) async -> CloudRead<AKSCluster> {
        switch await az.aksList() {
        case .value(let clusters):
            let match = clusters.first { c in
                if let nodeResourceGroup, let g = c.nodeResourceGroup, g.caseInsensitiveCompare(nodeResourceGroup) == .orderedSame { return true }
                return nodeResourceGroup == nil && name != nil && c.name == name
            }
            if let match { return .value(match) }
            return .notFound("no AKS cluster among the \(clusters.count) of the subscription has node resource group \(nodeResourceGroup ?? "(unknown)")")
        case .notFound(let m): return .notFound(m)
        case .failed(let e): return .failed(e)
        case .notRequested(let r): return .notRequested(r)
        }
    }

    /// Login servers of ACR images that provider/function pods cannot pull (the kubelet identity's job).
    static func failingACRPulls(_ subjects: [Subject]) -> [String] {
        let images = subjects.filter { $0.kind != .crossplaneCore }.flatMap(\.imagesFailingToPull)
        return Set(images.map(PackageReference.init).compactMap { $0.registryKind == .acr ? $0.registry?.lowercased() : nil }).sorted()
    }
}
