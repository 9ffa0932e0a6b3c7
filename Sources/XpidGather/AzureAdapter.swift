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
        async let credentials = Self.readFederatedCredentials(az, identitiesByKey, limit: options.concurrency)
        async let assignments = concurrentMap(registryIDs, limit: options.concurrency) { id in await az.roleAssignments(scope: id) }
        let (credentialReads, credentialNote) = await credentials
        facts.federatedCredentials = credentialReads
        if let credentialNote { notes.append(credentialNote) }
        facts.roleAssignments = await assignments
        s.azure = facts
    }

    /// From this many identities on, their federated credentials come from ARM batch requests (one `az rest`
    /// process per `batchSize` identities) instead of an `az identity federated-credential list` each.
    static let bulkCredentialThreshold = 2
    static let batchSize = 20
    /// The Managed Identity API version of the federated-credential GETs put in a batch.
    static let credentialsAPIVersion = "2023-01-31"

    /// Federated credentials by identity key. An identity whose batch answer is not a complete 200 list (or
    /// whose resource ID is not a plain user-assigned identity ID) is read on its own with
    /// `az identity federated-credential list`, so its outcome, error text included, is what that read says;
    /// a refused or unreadable batch falls back to those reads for all its identities with a note.
    static func readFederatedCredentials(
        _ az: AzureCLI, _ identities: [String: ManagedIdentity], limit: Int
    ) async -> ([String: CloudRead<[FederatedCredential]>], String?) {
        var result: [String: CloudRead<[FederatedCredential]>] = [:]
        var note: String?
        let keys = identities.keys.sorted()
        let batchable = keys.compactMap { key in identities[key]?.id.flatMap(credentialsURL).map { (key, $0) } }
        if batchable.count >= bulkCredentialThreshold {
            let chunks = stride(from: 0, to: batchable.count, by: batchSize).map { Array(batchable[$0..<min($0 + batchSize, batchable.count)]) }
            let answers = await concurrentMap(chunks.indices.map(String.init), limit: limit) { index in
                await az.batchGet(chunks[Int(index)!].map(\.1))
            }
            var refused: [String] = []
            for (index, chunk) in chunks.enumerated() {
                switch answers[String(index)] ?? .notRequested("not run") {
                case .value(let byIndex):
                    for (position, (key, _)) in chunk.enumerated() {
                        if let credentials = byIndex[position].flatMap(completeCredentialList) { result[key] = .value(credentials) }
                    }
                case .failed(let e): refused.append(e.message)
                case .notFound(let m), .notRequested(let m): refused.append(m)
                }
            }
            if let first = refused.first {
                note = "the ARM batch read of federated credentials (az rest POST /batch) was refused or failed (\(first)): they are read one identity at a time with az identity federated-credential list"
            }
        }
        let remaining = keys.filter { result[$0] == nil }
        let single = await concurrentMap(remaining, limit: limit) { key in
            let identity = identities[key]!
            return await az.federatedCredentials(identity: identity.name, resourceGroup: identity.resourceGroup ?? "", subscription: identity.id.flatMap(AzureResourceID.subscription))
        }
        result.merge(single) { a, _ in a }
        return (result, note)
    }

    /// The batch URL of an identity's federated credentials, for a resource ID of the plain shape
    /// `/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/N`
    /// whose segments need no escaping; nil otherwise (that identity is read on its own).
    static func credentialsURL(_ id: String) -> String? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 9, parts[0].isEmpty,
              parts[1].lowercased() == "subscriptions", parts[3].lowercased() == "resourcegroups", parts[5].lowercased() == "providers",
              parts[6].lowercased() == "microsoft.managedidentity", parts[7].lowercased() == "userassignedidentities",
              [parts[2], parts[4], parts[8]].allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.()".contains($0)) } })
        else { return nil }
        return "\(id)/federatedIdentityCredentials?api-version=\(credentialsAPIVersion)"
    }

    /// The credentials of a 200 answer holding the whole list (no further page), each one readable.
    static func completeCredentialList(_ answer: ARMBatchAnswer) -> [FederatedCredential]? {
        guard answer.status == 200, case .array(let items) = answer.content["value"], answer.content["nextLink"].string == nil else { return nil }
        let credentials = items.compactMap(FederatedCredential.init)
        return credentials.count == items.count ? credentials : nil
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
