import Foundation
import XpidCore

public struct GatherOptions: Sendable, Equatable {
    public var crossplaneNamespace: String?
    /// `-n`: narrows namespaced objects that live outside the Crossplane namespace (namespaced ProviderConfigs).
    public var namespace: String?
    public var cloud: Cloud?
    public var noCloud = false
    public var clusterName: String?
    public var region: String?
    /// AKS: `--resource-group` and `--subscription`.
    public var resourceGroup: String?
    public var subscription: String?
    /// GKE: `--project` and `--location`.
    public var project: String?
    public var location: String?
    public var concurrency = GatherOptions.defaultConcurrency
    /// Cloud CLI processes are CPU-bound at start-up and network-bound after: twice the cores, at least 8
    /// (calls wait on the network even on a small machine) and at most 32 (the clouds throttle bursts).
    public static let defaultConcurrency = max(8, min(32, 2 * ProcessInfo.processInfo.activeProcessorCount))
    /// `--flux-namespace` and `--target`.
    public var fluxNamespace = FluxFacts.defaultNamespace
    public var target: Target = .all
    public var methodOverride: IdentityMethod?
    public var now = Date()

    public init() {}
}

/// The result of gathering: a snapshot plus what was discovered along the way.
public struct Gathered: Sendable {
    public var snapshot: Snapshot
    public var notes: [String]
}

/// Reads everything the checks need with a constant number of kubectl calls (independent of the
/// number of Providers): context, discovery, one cluster-wide batch, one batch in the Crossplane
/// namespace, one in kube-system. Cloud reads run concurrently afterwards, through the cloud's adapter.
public struct SnapshotGatherer: Sendable {
    public var kubectl: Kubectl
    public var runner: any CommandRunner
    public var options: GatherOptions
    /// One per cloud; the detected cloud's adapter adds its kinds to the kubectl rounds and makes its cloud reads.
    let adapters: [any CloudAdapter]

    public init(
        kubectl: Kubectl, awsExecutable: String = "aws", azExecutable: String = "az", gcloudExecutable: String = "gcloud", runner: any CommandRunner,
        options: GatherOptions
    ) {
        self.kubectl = kubectl
        self.runner = runner
        self.options = options
        let cloudRunner = LimitedRunner(runner, limit: options.concurrency)
        adapters = [
            AWSAdapter(executable: awsExecutable, runner: cloudRunner, options: options),
            AzureAdapter(executable: azExecutable, runner: cloudRunner, options: options),
            GCPAdapter(executable: gcloudExecutable, runner: cloudRunner, options: options),
        ]
    }

    func adapter(for cloud: Cloud) -> (any CloudAdapter)? { adapters.first { $0.cloud == cloud } }

    /// The adapters whose cluster-side kinds are read: the cluster's cloud, or those that read when it is unknown.
    func readingAdapters(_ cloud: Cloud) -> [any CloudAdapter] {
        cloud == .unknown ? adapters.filter(\.readsWhenUnknown) : adapters.filter { $0.cloud == cloud }
    }

    /// Two kubectl rounds on the critical path. Round 1, concurrently: the context, discovery, the
    /// built-in cluster-wide kinds (nodes and Deployments need no discovery) and the Pods and
    /// ServiceAccounts of the likely Crossplane namespace. Round 2, concurrently: the Crossplane and
    /// provider kinds (named `plural.version.group`, which kubectl resolves without rediscovery) with
    /// the cloud's cluster-wide kinds, the cloud's kube-system objects, and the Crossplane namespace
    /// again only when the guess was wrong.
    public func gather() async -> Result<Gathered, KubectlFailure> {
        let guess = options.crossplaneNamespace ?? "crossplane-system"
        let builtins: [KubeKind] = [.nodes, .deployments]
        let namespaced: [KubeKind] = [.pods, .serviceAccounts]
        async let contextCall = kubectl.currentContext()
        async let discoveryCall = kubectl.apiResources()
        async let builtinCall = readBatch(builtins, namespace: nil, names: KubeKind.builtinNames)
        async let guessCall = readBatch(namespaced, namespace: guess, names: KubeKind.builtinNames)
        let contextResult = await contextCall
        let discoveryResult = await discoveryCall
        let builtinResult = await builtinCall
        let guessResult = await guessCall
        let context: KubeconfigContext
        switch contextResult {
        case .success(let c): context = c
        case .failure(let f): return .failure(f)
        }
        var notes: [String] = []
        var names = KubeKind.builtinNames
        let available: Set<KubeKind>
        switch discoveryResult {
        case .success(let served):
            available = Set(KubeKind.all.filter { served[$0.discoveryName] != nil })
            for r in KubeKind.all { if let versioned = r.versionedName(apiVersion: served[r.discoveryName]) { names[r] = versioned } }
        case .failure(.forbidden(let m)), .failure(.other(let m)):
            // Discovery listing failed but the server answers: ask for every type; types it does
            // not serve are dropped one by one by `readBatch`.
            available = Set(KubeKind.all)
            notes.append("API discovery (kubectl api-resources) failed (\(m)); reading every type and skipping the ones the server does not serve")
        case .failure(let f): return .failure(f)
        }

        var snapshot = Snapshot(options: EvaluationOptions(
            methodOverride: options.methodOverride, cloudDisabledReason: options.noCloud ? "--no-cloud" : nil, now: options.now, target: options.target))
        snapshot.fluxNamespace = options.fluxNamespace
        let fluxKinds = options.target.includesFlux ? KubeKind.flux.filter { available.contains($0) } : []
        snapshot.fluxInstalled = !fluxKinds.isEmpty
        if !fluxKinds.isEmpty {
            notes.append("Flux namespace \(options.fluxNamespace) (\(options.fluxNamespace == FluxFacts.defaultNamespace ? "default" : "--flux-namespace"))")
        }
        snapshot.cluster.context = context.contextName
        snapshot.cluster.server = context.server
        for r in KubeKind.crossplane where !available.contains(r) {
            snapshot.reads[ResourceRead(resource: r.plural, group: r.group)] = .notInstalled
        }
        switch builtinResult {
        case .failure(let f): return .failure(f)
        case .success(let batch): record(batch, requested: builtins, namespace: nil, into: &snapshot)
        }
        let (namespace, nsEvidence) = crossplaneNamespace(snapshot)
        snapshot.crossplaneNamespace = namespace
        if options.target.includesCrossplane, available.contains(.providers) { notes.append("Crossplane namespace \(namespace) (\(nsEvidence))") }
        let (cloud, cloudEvidence) = detectCloud(context, snapshot.nodes)
        snapshot.cluster.cloud = cloud
        snapshot.cluster.cloudEvidence = cloudEvidence
        let readers = readingAdapters(cloud)
        let keep = readers.reduce(into: Set<String>()) { $0.formUnion($1.platformDeployments) }
        let fluxNamespace = snapshot.fluxInstalled ? options.fluxNamespace : nil
        snapshot.deployments.removeAll { $0.metadata.namespace != namespace && $0.metadata.namespace != fluxNamespace && !keep.contains($0.metadata.name) }

        // Round 2. With Flux, its kinds, the RBAC that object-level identity needs and the ServiceAccounts
        // of every namespace (objects name ServiceAccounts in their own namespaces) join the cluster-wide
        // batch, and the Flux namespace's pods get one more concurrent call: still two rounds.
        let fluxExtras: [KubeKind] = snapshot.fluxInstalled ? fluxKinds + [.clusterRoles, .clusterRoleBindings, .serviceAccounts] : []
        let crossplaneKinds = options.target.includesCrossplane ? KubeKind.crossplane : []
        let clusterKinds = (crossplaneKinds + readers.flatMap(\.clusterKinds)).filter { available.contains($0) } + fluxExtras
        let kubeSystem = readers.flatMap { $0.kubeSystemKinds(crossplaneNamespace: namespace) }
        let rereadNamespace = namespace != guess
        async let crdCall = readBatch(clusterKinds, namespace: nil, names: names)
        async let kubeSystemCall = readBatch(kubeSystem, namespace: "kube-system", names: names)
        async let namespacedCall = rereadNamespace ? readBatch(namespaced, namespace: namespace, names: names) : guessResult
        let fluxPods = fluxNamespace != nil && fluxNamespace != namespace
        async let fluxCall = fluxPods ? readBatch([.pods], namespace: options.fluxNamespace, names: names) : .success(Kubectl.BatchResult(items: [], forbidden: [], failures: []))
        let crdResult = await crdCall
        let fluxResult = await fluxCall
        let kubeSystemResult = await kubeSystemCall
        let namespacedResult = await namespacedCall
        // The Crossplane namespace's ServiceAccounts come from their own read; the cluster-wide list adds the others.
        let crdBatch = crdResult.map { batch -> Kubectl.BatchResult in
            var b = batch
            b.items.removeAll { $0["kind"].string == "ServiceAccount" && $0.at("metadata", "namespace").string == namespace }
            return b
        }
        for (result, requested, ns) in [
            (crdBatch, clusterKinds, nil), (namespacedResult, namespaced, namespace as String?), (kubeSystemResult, kubeSystem, "kube-system"),
            (fluxResult, fluxPods ? [KubeKind.pods] : [], options.fluxNamespace),
        ] {
            switch result {
            case .failure(let f): return .failure(f)
            case .success(let batch): record(batch, requested: requested, namespace: ns, into: &snapshot)
            }
        }
        scopeServiceAccountRead(&snapshot, crossplaneNamespace: namespace)
        // Without discovery every Flux kind was asked for: Flux is there if the server served any of them.
        if snapshot.fluxInstalled {
            snapshot.fluxInstalled = fluxKinds.contains { snapshot.reads[ResourceRead(resource: $0.plural, group: $0.group)] != .notInstalled }
        }
        snapshot.crossplaneInstalled = options.target.includesCrossplane && available.contains(.providers)
            && snapshot.reads[ResourceRead(resource: KubeKind.providers.plural, group: KubeKind.providers.group)] != .notInstalled
        if options.target.includesCrossplane, !snapshot.crossplaneInstalled { notes.append("Crossplane is not installed (no providers.pkg.crossplane.io API): no Crossplane subjects") }
        narrowToNamespace(&snapshot)

        for reader in readers { reader.discover(context, into: &snapshot, notes: &notes) }
        for other in adapters where other.cloud != cloud {
            other.markAbsent(&snapshot, cloud: cloud)
        }
        if let active = adapter(for: cloud) {
            await active.gather(into: &snapshot, notes: &notes)
        }
        return .success(Gathered(snapshot: snapshot, notes: notes))
    }

    /// The cluster-wide ServiceAccount read serves Flux objects only: its outcome is recorded for the namespaces
    /// those objects name, so a denied cluster-wide list never hides the Crossplane namespace's own read.
    func scopeServiceAccountRead(_ s: inout Snapshot, crossplaneNamespace: String) {
        let wide = ResourceRead(resource: "serviceaccounts")
        guard let outcome = s.reads.removeValue(forKey: wide) else { return }
        var namespaces = Set(s.fluxObjects.map(\.namespace))
        namespaces.insert(options.fluxNamespace)
        namespaces.remove(crossplaneNamespace)
        for ns in namespaces where s.reads[ResourceRead(resource: "serviceaccounts", namespace: ns)] == nil {
            s.reads[ResourceRead(resource: "serviceaccounts", namespace: ns)] = outcome
        }
    }

    /// `verify -f`: the snapshot is the objects of the manifests; no kubectl read is made. The cloud comes from
    /// `--cloud`, nodes in the files, or what the identity settings in them name; cloud reads are made only
    /// when the cluster's coordinates are given (`--cluster-name`, `--project`, …), through the same adapters.
    public func gatherOffline(_ loaded: ManifestLoader.Loaded) async -> Gathered {
        var notes = loaded.notes
        var snapshot = Snapshot(options: EvaluationOptions(methodOverride: options.methodOverride, now: options.now, target: options.target))
        snapshot.options.offline = true
        snapshot.fluxNamespace = options.fluxNamespace
        record(Kubectl.BatchResult(items: loaded.objects, forbidden: [], failures: []), requested: [], namespace: nil, into: &snapshot)
        for k in KubeKind.all { snapshot.reads[ResourceRead(resource: k.plural, group: k.group)] = .ok }
        narrowToNamespace(&snapshot)
        let (namespace, evidence) = crossplaneNamespace(snapshot)
        snapshot.crossplaneNamespace = namespace
        let hasCore = CrossplaneCore.deployment(in: snapshot.deployments, namespace: namespace) != nil
        snapshot.crossplaneInstalled = options.target.includesCrossplane && (!snapshot.packages.isEmpty || hasCore || !snapshot.runtimeConfigs.isEmpty)
        snapshot.fluxInstalled = options.target.includesFlux
            && (!snapshot.fluxObjects.isEmpty || snapshot.deployments.contains { $0.metadata.namespace == options.fluxNamespace && FluxFacts.controllers.contains($0.metadata.name) })
        if snapshot.crossplaneInstalled { notes.append("Crossplane namespace \(namespace) (\(evidence))") }
        let (cloud, cloudEvidence) = offlineCloud(snapshot)
        snapshot.cluster.cloud = cloud
        snapshot.cluster.cloudEvidence = cloudEvidence
        snapshot.cluster.context = "manifests"
        let coordinates = options.clusterName != nil || options.project != nil
        let active = adapter(for: cloud)
        if options.noCloud || !coordinates || active == nil {
            let reason = options.noCloud ? "--no-cloud" : "manifests only (-f): pass the cluster's coordinates (--cluster-name with --region, --resource-group or --project/--location) and log in to the cloud CLI to check the cloud side"
            snapshot.options.cloudDisabledReason = reason
            for other in adapters where other.cloud != cloud { other.markAbsent(&snapshot, cloud: cloud) }
            switch cloud {
            case .aws: snapshot.aws = .unavailable(reason)
            case .azure: snapshot.azure = .unavailable(reason)
            case .gcp: snapshot.gcp = .unavailable(reason)
            case .unknown: break
            }
        } else if let active {
            let context = KubeconfigContext(JSONValue.object([:]))
            active.discover(context, into: &snapshot, notes: &notes)
            for other in adapters where other.cloud != cloud { other.markAbsent(&snapshot, cloud: cloud) }
            await active.gather(into: &snapshot, notes: &notes)
        }
        return Gathered(snapshot: snapshot, notes: notes)
    }

    /// `-n`: namespaced ProviderConfigs and Flux objects outside that namespace (and the Flux namespace) are dropped.
    func narrowToNamespace(_ s: inout Snapshot) {
        guard let ns = options.namespace else { return }
        s.providerConfigs.removeAll { $0.metadata.namespace != nil && $0.metadata.namespace != ns }
        s.fluxObjects.removeAll { $0.namespace != ns && $0.namespace != options.fluxNamespace }
    }

    /// `--cloud`, nodes in the files, else the cloud that the identity settings in the manifests belong to.
    func offlineCloud(_ s: Snapshot) -> (Cloud, String) {
        if let forced = options.cloud, forced != .unknown { return (forced, "--cloud \(forced.rawValue)") }
        let (fromNodes, evidence) = CloudDetection.detect(nodes: s.nodes)
        if fromNodes != .unknown { return (fromNodes, evidence) }
        var votes: [Cloud: String] = [:]
        func vote(_ cloud: Cloud, _ why: String) { if votes[cloud] == nil { votes[cloud] = why } }
        for sa in s.serviceAccounts {
            let a = sa.metadata.annotations
            if a[IRSAFacts.roleAnnotation] != nil { vote(.aws, "\(IRSAFacts.roleAnnotation) on ServiceAccount \(sa.metadata.name)") }
            if a[AzureWIFacts.clientIDAnnotation] != nil { vote(.azure, "\(AzureWIFacts.clientIDAnnotation) on ServiceAccount \(sa.metadata.name)") }
            if a[GKEFacts.gsaAnnotation] != nil { vote(.gcp, "\(GKEFacts.gsaAnnotation) on ServiceAccount \(sa.metadata.name)") }
        }
        for drc in s.runtimeConfigs {
            let a = drc.serviceAccountAnnotations
            if a[IRSAFacts.roleAnnotation] != nil { vote(.aws, "\(IRSAFacts.roleAnnotation) in DeploymentRuntimeConfig \(drc.metadata.name)") }
            if a[AzureWIFacts.clientIDAnnotation] != nil || AzureWIFacts.isOn(drc.podLabels) { vote(.azure, "Azure Workload Identity in DeploymentRuntimeConfig \(drc.metadata.name)") }
            if a[GKEFacts.gsaAnnotation] != nil { vote(.gcp, "\(GKEFacts.gsaAnnotation) in DeploymentRuntimeConfig \(drc.metadata.name)") }
        }
        for pc in s.providerConfigs {
            switch pc.source {
            case "IRSA"?, "PodIdentity"?, "WebIdentity"?: vote(.aws, "\(pc.displayName) credentials.source=\(pc.source ?? "")")
            case "OIDCTokenFile"?: vote(.azure, "\(pc.displayName) credentials.source=OIDCTokenFile")
            case "InjectedIdentity"? where pc.api.family == .gcp, "ImpersonateServiceAccount"? where pc.api.family == .gcp:
                vote(.gcp, "\(pc.displayName) credentials.source=\(pc.source ?? "")")
            default: break
            }
        }
        for object in s.fluxObjects { if let c = object.providerCloud { vote(c, "\(object.displayName) provider \(object.provider ?? "")") } }
        if votes.count == 1, let (cloud, why) = votes.first { return (cloud, "from the manifests: \(why)") }
        if votes.isEmpty { return (.unknown, "manifests only: no node and no cloud identity setting names a cloud (pass --cloud)") }
        return (.unknown, "manifests name several clouds (\(votes.keys.map(\.rawValue).sorted().joined(separator: ", "))): pass --cloud")
    }

    /// The cloud, from `--cloud`, the nodes, or the kubeconfig (as each adapter recognises its clusters).
    func detectCloud(_ context: KubeconfigContext, _ nodes: [Node]) -> (Cloud, String) {
        if let forced = options.cloud, forced != .unknown { return (forced, "--cloud \(forced.rawValue)") }
        let (cloud, evidence) = CloudDetection.detect(nodes: nodes)
        if cloud != .unknown { return (cloud, evidence) }
        for adapter in adapters {
            if let evidence = adapter.detect(context) { return (adapter.cloud, evidence) }
        }
        return (cloud, evidence)
    }

    /// Where the Crossplane Deployment runs, unless given with `--crossplane-namespace`.
    func crossplaneNamespace(_ s: Snapshot) -> (String, String) {
        if let given = options.crossplaneNamespace { return (given, "--crossplane-namespace") }
        let core = CrossplaneCore.deployment(in: s.deployments, namespace: nil)
        if let ns = core?.metadata.namespace { return (ns, "where Deployment \(core?.metadata.name ?? "crossplane") runs") }
        if let ns = s.deployments.first(where: { $0.metadata.labels["pkg.crossplane.io/revision"] != nil })?.metadata.namespace {
            return (ns, "where package Deployments run")
        }
        return ("crossplane-system", "default; no Crossplane Deployment found")
    }

    /// One batched get. When kubectl reports a failure it does not attribute to a type (e.g.
    /// "unexpected end of JSON input", or a server error whose message names no resource), the
    /// types that came back empty are read again one by one, so an unread list is never taken
    /// for an empty one. That retry happens only on failure and is bounded by the number of types.
    func readBatch(_ requested: [KubeKind], namespace: String?, names: [KubeKind: String]) async -> Result<Kubectl.BatchResult, KubectlFailure> {
        func name(_ r: KubeKind) -> String { names[r] ?? r.discoveryName }
        var batch: Kubectl.BatchResult
        var asked = requested
        var unknown: [String] = []
        // A type the server does not serve fails the whole batch; drop it and ask again
        // (only when discovery was unavailable or changed under us; bounded by the type count).
        while true {
            switch await kubectl.getBatch(asked.map(name), namespace: namespace) {
            case .failure(let f): return .failure(f)
            case .success(let b): batch = b
            }
            guard let missing = batch.unknownTypes.first,
                let index = asked.firstIndex(where: { name($0) == missing || $0.discoveryName == missing || $0.plural == missing || missing.hasPrefix($0.plural + ".") })
            else { break }
            unknown.append(asked.remove(at: index).discoveryName)
            if asked.isEmpty { batch = Kubectl.BatchResult(items: [], forbidden: [], failures: []); break }
        }
        batch.unknownTypes = unknown
        let unattributed = batch.failures.filter { line in !requested.contains { Self.mentions(line, $0) } }
        guard !unattributed.isEmpty else { return .success(batch) }
        let requested = asked
        let kinds = Set(batch.items.map(Self.kindKey))
        let suspects = requested.filter { r in
            !kinds.contains(where: r.matches(kindKey:)) && !batch.forbidden.contains { $0.resource == r.plural && $0.group == r.group }
        }
        batch.failures.removeAll { unattributed.contains($0) }
        for r in suspects {
            switch await kubectl.getBatch([name(r)], namespace: namespace) {
            case .failure(let f): batch.failures.append("\(r.discoveryName): \(f.message)")
            case .success(let single):
                batch.items += single.items
                batch.forbidden += single.forbidden
                batch.failures += single.failures.map { "\(r.discoveryName): \($0)" }
            }
        }
        return .success(batch)
    }

    static func mentions(_ line: String, _ r: KubeKind) -> Bool {
        line.contains("\"\(r.plural)\"") || line.contains(r.discoveryName) || (!r.group.isEmpty && line.contains("\(r.plural).") && line.contains(r.group))
    }

    static func kindKey(_ item: JSONValue) -> String {
        let apiVersion = item["apiVersion"].string ?? ""
        let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
        return "\(group)/\(item["kind"].string ?? "")"
    }

    func record(_ batch: Kubectl.BatchResult, requested: [KubeKind], namespace: String?, into s: inout Snapshot) {
        for r in requested {
            let read = ResourceRead(resource: r.plural, group: r.group, namespace: namespace)
            if batch.unknownTypes.contains(r.discoveryName) {
                s.reads[read] = r.isCRD ? .notInstalled : .failed("the server does not serve \(r.discoveryName)")
            } else if let denied = batch.forbidden.first(where: { $0.resource == r.plural && $0.group == r.group }) {
                s.reads[read] = .forbidden(verb: denied.verb, message: denied.message)
            } else if let failure = batch.failures.first(where: { Self.mentions($0, r) }) {
                s.reads[read] = .failed(failure)
            } else {
                s.reads[read] = .ok
            }
        }
        // Collected locally and assigned once per list: each assignment drops the snapshot's lookup
        // tables, and appending to the snapshot item by item would copy a list per item.
        var nodes: [Node] = [], pods: [Pod] = [], serviceAccounts: [ServiceAccount] = [], deployments: [Deployment] = []
        var daemonSets: [DaemonSet] = [], packages: [CrossplanePackage] = [], runtimeConfigs: [DeploymentRuntimeConfig] = []
        var imageConfigs: [ImageConfig] = [], providerConfigs: [ProviderConfig] = [], webhooks: [MutatingWebhookConfiguration] = []
        var fluxObjects: [FluxObject] = [], clusterRoles: [ClusterRole] = [], clusterRoleBindings: [ClusterRoleBinding] = []
        for item in batch.items {
            let apiVersion = item["apiVersion"].string ?? ""
            let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
            switch (group, item["kind"].string ?? "") {
            case ("", "Node"): nodes.append(Node(item))
            case ("", "Pod"): pods.append(Pod(item))
            case ("", "ServiceAccount"): serviceAccounts.append(ServiceAccount(item))
            case ("apps", "Deployment"): deployments.append(Deployment(item))
            case ("apps", "DaemonSet"): daemonSets.append(DaemonSet(item))
            case ("pkg.crossplane.io", "Provider"): packages.append(CrossplanePackage(kind: .provider, item))
            case ("pkg.crossplane.io", "Function"): packages.append(CrossplanePackage(kind: .function, item))
            case ("pkg.crossplane.io", "Configuration"): packages.append(CrossplanePackage(kind: .configuration, item))
            case ("pkg.crossplane.io", "DeploymentRuntimeConfig"): runtimeConfigs.append(DeploymentRuntimeConfig(item))
            case ("pkg.crossplane.io", "ImageConfig"): imageConfigs.append(ImageConfig(item))
            case ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): webhooks.append(MutatingWebhookConfiguration(item))
            case ("rbac.authorization.k8s.io", "ClusterRole"): clusterRoles.append(ClusterRole(item))
            case ("rbac.authorization.k8s.io", "ClusterRoleBinding"): clusterRoleBindings.append(ClusterRoleBinding(item))
            case (let group, let kind):
                if let flux = FluxKind(group: group, kind: kind) { fluxObjects.append(FluxObject(kind: flux, item)); continue }
                if let api = ProviderConfigAPI(group: group, kind: kind) { providerConfigs.append(ProviderConfig(api: api, item)) }
            }
        }
        if !nodes.isEmpty { s.nodes += nodes }
        if !pods.isEmpty { s.pods += pods }
        if !serviceAccounts.isEmpty { s.serviceAccounts += serviceAccounts }
        if !deployments.isEmpty { s.deployments += deployments }
        if !daemonSets.isEmpty { s.daemonSets += daemonSets }
        if !packages.isEmpty { s.packages += packages }
        if !runtimeConfigs.isEmpty { s.runtimeConfigs += runtimeConfigs }
        if !imageConfigs.isEmpty { s.imageConfigs += imageConfigs }
        if !providerConfigs.isEmpty { s.providerConfigs += providerConfigs }
        if !webhooks.isEmpty { s.webhookConfigurations += webhooks }
        if !fluxObjects.isEmpty { s.fluxObjects += fluxObjects }
        if !clusterRoles.isEmpty { s.clusterRoles += clusterRoles }
        if !clusterRoleBindings.isEmpty { s.clusterRoleBindings += clusterRoleBindings }
    }
}
