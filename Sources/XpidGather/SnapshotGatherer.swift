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
    public var concurrency = 8
    public var methodOverride: IdentityMethod?
    public var now = Date()

    public init() {}
}

/// The result of gathering: a snapshot plus what was discovered along the way.
public struct Gathered: Sendable {
    public var snapshot: Snapshot
    public var notes: [String]
}

/// The resource types the checks read, and where. Each is fetched once per run, batched.
enum Resource: String, CaseIterable {
    case nodes, deployments, daemonsets, pods, serviceaccounts
    case providers, functions, configurations, deploymentruntimeconfigs, imageconfigs
    case awsProviderConfigs, awsMProviderConfigs, awsMClusterProviderConfigs

    /// The `plural.group` name, as `kubectl api-resources -o name` prints it.
    var discoveryName: String {
        switch self {
        case .nodes, .pods, .serviceaccounts: return rawValue
        case .deployments, .daemonsets: return "\(rawValue).apps"
        case .providers, .functions, .configurations, .deploymentruntimeconfigs, .imageconfigs: return "\(rawValue).pkg.crossplane.io"
        case .awsProviderConfigs: return "providerconfigs.aws.upbound.io"
        case .awsMProviderConfigs: return "providerconfigs.aws.m.upbound.io"
        case .awsMClusterProviderConfigs: return "clusterproviderconfigs.aws.m.upbound.io"
        }
    }

    var plural: String { String(discoveryName.split(separator: ".")[0]) }

    var group: String {
        let parts = discoveryName.split(separator: ".", maxSplits: 1)
        return parts.count > 1 ? String(parts[1]) : ""
    }

    /// Kinds from CustomResourceDefinitions: absent from discovery means "not installed", not an error.
    var isCRD: Bool { !["", "apps"].contains(group) }

    /// Names for the built-in kinds that need no discovery (`deployments.v1.apps` resolves without it).
    static let builtinNames: [Resource: String] = [.nodes: "nodes", .pods: "pods", .serviceaccounts: "serviceaccounts", .deployments: "deployments.v1.apps", .daemonsets: "daemonsets.v1.apps"]

    /// `plural.version.group` (or the plain plural for the core group) from discovery's API version;
    /// nil when the version is unknown (kubectl then resolves `plural.group` itself).
    static func versionedName(_ r: Resource, apiVersion: String?) -> String? {
        guard let apiVersion, !apiVersion.isEmpty else { return nil }
        let parts = apiVersion.split(separator: "/")
        guard parts.count == 2 else { return r.group.isEmpty ? r.plural : nil }
        return "\(r.plural).\(parts[1]).\(parts[0])"
    }

    /// Whether a `group/Kind` key of a listed item belongs to this resource type.
    func matches(kindKey: String) -> Bool {
        let kind: String
        switch self {
        case .nodes: kind = "Node"
        case .deployments: kind = "Deployment"
        case .daemonsets: kind = "DaemonSet"
        case .pods: kind = "Pod"
        case .serviceaccounts: kind = "ServiceAccount"
        case .providers: kind = "Provider"
        case .functions: kind = "Function"
        case .configurations: kind = "Configuration"
        case .deploymentruntimeconfigs: kind = "DeploymentRuntimeConfig"
        case .imageconfigs: kind = "ImageConfig"
        case .awsProviderConfigs, .awsMProviderConfigs: kind = "ProviderConfig"
        case .awsMClusterProviderConfigs: kind = "ClusterProviderConfig"
        }
        return kindKey == "\(group)/\(kind)"
    }
}

/// Reads everything the checks need with a constant number of kubectl calls (independent of the
/// number of Providers): context, discovery, one cluster-wide batch, one batch in the Crossplane
/// namespace, one in kube-system. Cloud reads run concurrently afterwards.
public struct SnapshotGatherer: Sendable {
    public var kubectl: Kubectl
    public var awsExecutable: String
    public var runner: any CommandRunner
    public var options: GatherOptions

    public init(kubectl: Kubectl, awsExecutable: String = "aws", runner: any CommandRunner, options: GatherOptions) {
        self.kubectl = kubectl
        self.awsExecutable = awsExecutable
        self.runner = runner
        self.options = options
    }

    /// Two kubectl rounds on the critical path. Round 1, concurrently: the context, discovery, the
    /// built-in cluster-wide kinds (nodes and Deployments need no discovery) and the Pods and
    /// ServiceAccounts of the likely Crossplane namespace. Round 2, concurrently: the Crossplane and
    /// provider kinds (named `plural.version.group`, which kubectl resolves without rediscovery), the
    /// kube-system objects on EKS, and the Crossplane namespace again only when the guess was wrong.
    public func gather() async -> Result<Gathered, KubectlFailure> {
        let guess = options.crossplaneNamespace ?? "crossplane-system"
        let builtins: [Resource] = [.nodes, .deployments]
        let namespaced: [Resource] = [.pods, .serviceaccounts]
        async let contextCall = kubectl.currentContext()
        async let discoveryCall = kubectl.apiResources()
        async let builtinCall = readBatch(builtins, namespace: nil, names: Resource.builtinNames)
        async let guessCall = readBatch(namespaced, namespace: guess, names: Resource.builtinNames)
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
        var names = Resource.builtinNames
        let available: Set<Resource>
        switch discoveryResult {
        case .success(let served):
            available = Set(Resource.allCases.filter { served[$0.discoveryName] != nil })
            for r in Resource.allCases { if let versioned = Resource.versionedName(r, apiVersion: served[r.discoveryName]) { names[r] = versioned } }
        case .failure(.forbidden(let m)), .failure(.other(let m)):
            // Discovery listing failed but the server answers: ask for every type; types it does
            // not serve are dropped one by one by `readBatch`.
            available = Set(Resource.allCases)
            notes.append("API discovery (kubectl api-resources) failed (\(m)); reading every type and skipping the ones the server does not serve")
        case .failure(let f): return .failure(f)
        }

        var snapshot = Snapshot(options: EvaluationOptions(methodOverride: options.methodOverride, cloudDisabledReason: options.noCloud ? "--no-cloud" : nil, now: options.now))
        snapshot.cluster.context = context.contextName
        snapshot.cluster.server = context.server
        for r in Resource.allCases where r.isCRD && !available.contains(r) {
            snapshot.reads[ResourceRead(resource: r.plural, group: r.group)] = .notInstalled
        }
        switch builtinResult {
        case .failure(let f): return .failure(f)
        case .success(let batch): record(batch, requested: builtins, namespace: nil, into: &snapshot)
        }
        let (namespace, nsEvidence) = crossplaneNamespace(snapshot)
        snapshot.crossplaneNamespace = namespace
        if available.contains(.providers) { notes.append("Crossplane namespace \(namespace) (\(nsEvidence))") }
        snapshot.deployments.removeAll { $0.metadata.namespace != namespace }
        let (cloud, cloudEvidence) = detectCloud(context, snapshot.nodes)
        snapshot.cluster.cloud = cloud
        snapshot.cluster.cloudEvidence = cloudEvidence

        // Round 2.
        let crds: [Resource] = [.providers, .functions, .configurations, .deploymentruntimeconfigs, .imageconfigs, .awsProviderConfigs, .awsMProviderConfigs, .awsMClusterProviderConfigs]
            .filter { available.contains($0) }
        // On EKS (or when unsure) the Pod Identity agent's DaemonSet and pods; pods only once if
        // Crossplane itself runs in kube-system.
        let agentResources: [Resource] = cloud == .aws || cloud == .unknown ? (namespace == "kube-system" ? [.daemonsets] : [.daemonsets, .pods]) : []
        let rereadNamespace = namespace != guess
        async let crdCall = readBatch(crds, namespace: nil, names: names)
        async let agentCall = readBatch(agentResources, namespace: "kube-system", names: names)
        async let namespacedCall = rereadNamespace ? readBatch(namespaced, namespace: namespace, names: names) : guessResult
        let crdResult = await crdCall
        let agentResult = await agentCall
        let namespacedResult = await namespacedCall
        for (result, requested, ns) in [(crdResult, crds, nil), (namespacedResult, namespaced, namespace as String?), (agentResult, agentResources, "kube-system")] {
            switch result {
            case .failure(let f): return .failure(f)
            case .success(let batch): record(batch, requested: requested, namespace: ns, into: &snapshot)
            }
        }
        snapshot.crossplaneInstalled = available.contains(.providers)
            && snapshot.reads[ResourceRead(resource: Resource.providers.plural, group: Resource.providers.group)] != .notInstalled
        if !snapshot.crossplaneInstalled { notes.append("Crossplane is not installed (no providers.pkg.crossplane.io API): no Crossplane subjects") }
        if let ns = options.namespace {
            snapshot.providerConfigs.removeAll { $0.metadata.namespace != nil && $0.metadata.namespace != ns }
        }

        discoverClusterIdentity(context, into: &snapshot, notes: &notes)
        if cloud == .aws {
            snapshot.aws = await gatherAWS(snapshot, notes: &notes)
        } else {
            snapshot.aws = .unavailable(cloud == .unknown ? "cloud not identified" : "not an EKS cluster")
        }
        return .success(Gathered(snapshot: snapshot, notes: notes))
    }

    /// The cloud, from `--cloud`, the nodes, the API server URL, an EKS ARN context or the exec plugin.
    func detectCloud(_ context: KubeconfigContext, _ nodes: [Node]) -> (Cloud, String) {
        var cloud: Cloud
        var cloudEvidence: String
        if let forced = options.cloud, forced != .unknown {
            (cloud, cloudEvidence) = (forced, "--cloud \(forced.rawValue)")
        } else {
            (cloud, cloudEvidence) = CloudDetection.detect(nodes: nodes)
            if cloud == .unknown, context.server.flatMap(CloudDetection.eksRegion(fromServer:)) != nil {
                (cloud, cloudEvidence) = (.aws, "API server \(context.server ?? "") is an EKS endpoint")
            }
            if cloud == .unknown, let arn = [context.contextName, context.clusterName].compactMap({ $0 }).first(where: { CloudDetection.eksCluster(fromARN: $0) != nil }) {
                (cloud, cloudEvidence) = (.aws, "kubeconfig context \(arn) is an EKS cluster ARN")
            }
            if cloud == .unknown, context.execArgs.contains("eks"), context.execArgs.contains("get-token") || context.execCommand?.hasSuffix("aws-iam-authenticator") == true {
                (cloud, cloudEvidence) = (.aws, "kubeconfig authenticates with \(context.execCommand ?? "aws") eks get-token")
            }
        }
        return (cloud, cloudEvidence)
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
    func readBatch(_ requested: [Resource], namespace: String?, names: [Resource: String]) async -> Result<Kubectl.BatchResult, KubectlFailure> {
        func name(_ r: Resource) -> String { names[r] ?? r.discoveryName }
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

    static func mentions(_ line: String, _ r: Resource) -> Bool {
        line.contains("\"\(r.plural)\"") || line.contains(r.discoveryName) || (!r.group.isEmpty && line.contains("\(r.plural).") && line.contains(r.group))
    }

    static func kindKey(_ item: JSONValue) -> String {
        let apiVersion = item["apiVersion"].string ?? ""
        let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
        return "\(group)/\(item["kind"].string ?? "")"
    }

    func record(_ batch: Kubectl.BatchResult, requested: [Resource], namespace: String?, into s: inout Snapshot) {
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
        var imageConfigs: [ImageConfig] = [], providerConfigs: [ProviderConfig] = []
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
            case ("aws.upbound.io", "ProviderConfig"): providerConfigs.append(ProviderConfig(api: .awsLegacy, item))
            case ("aws.m.upbound.io", "ProviderConfig"): providerConfigs.append(ProviderConfig(api: .awsNamespaced, item))
            case ("aws.m.upbound.io", "ClusterProviderConfig"): providerConfigs.append(ProviderConfig(api: .awsCluster, item))
            default: break
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
    }

    /// EKS cluster name and region: flags first, then the context name (an EKS ARN), the kubeconfig
    /// exec args (`aws eks get-token --cluster-name …`), the server URL, node labels.
    func discoverClusterIdentity(_ context: KubeconfigContext, into s: inout Snapshot, notes: inout [String]) {
        var name = options.clusterName.map { ($0, "--cluster-name") }
        var region = options.region.map { ($0, "--region") }
        for candidate in [context.contextName, context.clusterName].compactMap({ $0 }) {
            if let eks = CloudDetection.eksCluster(fromARN: candidate) {
                if name == nil { name = (eks.name, "kubeconfig context \(candidate)") }
                if region == nil { region = (eks.region, "kubeconfig context \(candidate)") }
            }
        }
        let exec = CloudDetection.eksCluster(fromExecArgs: context.execArgs)
        if name == nil, let n = exec.name { name = (n, "kubeconfig exec args (\(context.execCommand ?? "exec"))") }
        if region == nil, let r = exec.region ?? context.execEnv["AWS_REGION"] ?? context.execEnv["AWS_DEFAULT_REGION"] {
            region = (r, "kubeconfig exec args (\(context.execCommand ?? "exec"))")
        }
        if region == nil, let server = context.server, let r = CloudDetection.eksRegion(fromServer: server) { region = (r, "API server URL \(server)") }
        if region == nil, let r = s.nodes.compactMap({ $0.metadata.labels["topology.kubernetes.io/region"] }).first { region = (r, "node label topology.kubernetes.io/region") }
        if name == nil, let n = s.nodes.compactMap({ $0.metadata.labels["alpha.eksctl.io/cluster-name"] }).first { name = (n, "node label alpha.eksctl.io/cluster-name") }
        s.cluster.name = name?.0
        s.cluster.nameEvidence = name?.1
        s.cluster.region = region?.0
        s.cluster.regionEvidence = region?.1
        if s.cluster.cloud == .aws {
            if let name { notes.append("EKS cluster name \(name.0) (from \(name.1))") }
            if let region { notes.append("AWS region \(region.0) (from \(region.1))") }
        }
    }

    func gatherAWS(_ s: Snapshot, notes: inout [String]) async -> AWSFacts {
        if options.noCloud { return .unavailable("--no-cloud") }
        guard let clusterName = s.cluster.name else {
            let e = CloudError(kind: .other, message: "EKS cluster name unknown (not in the context name, kubeconfig exec args or node labels); pass --cluster-name", command: Commands.xpid(["verify", "--cluster-name", .variable("CLUSTER_NAME", meaning: "the EKS cluster's name (aws eks list-clusters)")]))
            return AWSFacts(cluster: .failed(e), podIdentityAddon: .failed(e), associations: .failed(e), oidcProviders: .failed(e), clusterOIDCProvider: .failed(e))
        }
        let aws = AWSCLI(executable: awsExecutable, region: s.cluster.region, runner: runner)
        let provisional = SubjectResolver.subjects(in: s)

        // Phase 1: independent reads.
        async let cluster = aws.describeCluster(clusterName)
        async let addon = aws.describeAddon(cluster: clusterName, addon: PodIdentityFacts.addonName)
        async let listed = aws.listPodIdentityAssociations(cluster: clusterName)
        async let oidcList: CloudRead<[String]>? = provisional.contains { $0.method == .irsa } ? aws.listOpenIDConnectProviders() : nil
        var facts = AWSFacts(cluster: await cluster, podIdentityAddon: await addon, associations: await listed)
        if let list = await oidcList { facts.oidcProviders = list }

        // With the associations known, methods are final (an association wins over an annotation).
        var withAssociations = s
        withAssociations.aws = facts
        let subjects = SubjectResolver.subjects(in: withAssociations)
        if subjects.contains(where: { $0.method == .irsa }), case .notRequested = facts.oidcProviders {
            facts.oidcProviders = await aws.listOpenIDConnectProviders()
        }

        // Phase 2: describe only the associations of subjects' ServiceAccounts (list has no roleArn),
        // and the node groups of nodes whose provider pods cannot pull their image.
        let wanted = Set(subjects.compactMap { sub in sub.serviceAccountName.map { "\(sub.namespace)/\($0)" } })
        let toDescribe = (facts.associations.value ?? []).filter { wanted.contains("\($0.namespace)/\($0.serviceAccount)") }.map(\.id)
        async let described = concurrentMap(toDescribe) { id in await aws.describePodIdentityAssociation(cluster: clusterName, id: id) }
        let pulls = Self.failingECRPulls(subjects, s)
        let groups = Array(Set(pulls.compactMap(\.nodeGroup))).sorted()
        async let nodeGroups = concurrentMap(groups) { name in await aws.describeNodegroup(cluster: clusterName, name: name) }
        facts.describedAssociations = await described
        facts.nodeGroups = await nodeGroups

        // Phase 3: each distinct role once; the cluster's OIDC provider; pull permissions.
        var final = s
        final.aws = facts
        let context = EvaluationContext(final)
        var roles = Set(s.providerConfigs.flatMap(\.assumeRoleChain))
        roles.formUnion(facts.describedAssociations.values.compactMap { $0.value?.roleArn })
        for subject in context.subjects where subject.method == .irsa {
            if let arn = subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation], ARN.isWellFormedRoleARN(arn) { roles.insert(arn) }
        }
        var permissionJobs: [String: [PermissionRequest]] = [:]
        let packageRepos = s.ecrPackageRepositories
        if !packageRepos.isEmpty, let core = context.subjects.first(where: { $0.kind == .crossplaneCore }), let role = context.identityRole(of: core) {
            permissionJobs[role, default: []] += IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: packageRepos)
        }
        for pull in pulls {
            guard let group = pull.nodeGroup, let role = facts.nodeGroups[group]?.value?.nodeRole else { continue }
            permissionJobs[role, default: []] += IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: [pull.repository])
        }
        let jobs = permissionJobs
        let providerARN = facts.cluster.value?.oidcProviderARN
        async let roleReads = concurrentMap(Array(roles).sorted()) { arn in await aws.getRole(arn: arn) }
        async let permissionReads = concurrentMap(jobs.keys.sorted()) { role in
            await Self.permissions(aws, roleArn: role, requests: Array(Set(jobs[role] ?? [])).sorted { ($0.action, $0.resource) < ($1.action, $1.resource) })
        }
        if let providerARN, case .value(let arns) = facts.oidcProviders {
            facts.clusterOIDCProvider = arns.contains(providerARN)
                ? await aws.getOpenIDConnectProvider(arn: providerARN)
                : .notFound("no IAM OIDC provider \(providerARN) among the account's \(arns.count)")
        } else if case .failed(let e) = facts.oidcProviders {
            facts.clusterOIDCProvider = .failed(e)
        } else if case .value = facts.oidcProviders {
            facts.clusterOIDCProvider = facts.cluster.unavailableReason.map { .notRequested($0) } ?? .notRequested("cluster issuer unknown")
        }
        facts.roles = await roleReads
        facts.permissions = await permissionReads
        return facts
    }

    struct FailingPull: Hashable {
        var repository: String
        var nodeGroup: String?
    }

    /// Provider/function pods waiting in ErrImagePull/ImagePullBackOff on an ECR image, with their node group.
    static func failingECRPulls(_ subjects: [Subject], _ s: Snapshot) -> [FailingPull] {
        var result: Set<FailingPull> = []
        for subject in subjects where subject.kind != .crossplaneCore {
            for pod in subject.livePods where pod.containerStatuses.contains(where: { ImagePull.isPullFailure($0.waitingReason) }) {
                for container in pod.allContainers {
                    guard let image = container.image, let repo = IAMPolicyEvaluator.ecrRepositoryARN(image: image) else { continue }
                    let group = pod.spec.nodeName.flatMap { s.node(named: $0)?.metadata.labels["eks.amazonaws.com/nodegroup"] }
                    result.insert(FailingPull(repository: repo, nodeGroup: group))
                }
            }
        }
        return result.sorted { ($0.repository, $0.nodeGroup ?? "") < ($1.repository, $1.nodeGroup ?? "") }
    }

    /// The simulator first (it sees every policy type); when it does not answer, the role's own policies.
    static func permissions(_ aws: AWSCLI, roleArn: String, requests: [PermissionRequest]) async -> CloudRead<RolePermissions> {
        let simulatorError: CloudError
        switch await aws.simulate(roleArn: roleArn, requests: requests) {
        case .success(let evaluations): return .value(RolePermissions(roleArn: roleArn, method: .simulation, evaluations: evaluations))
        case .failure(let e): simulatorError = e
        }
        guard let name = ARN(roleArn)?.roleName else {
            return .failed(CloudError(kind: .other, message: "\(Printable.text(roleArn)) is not an IAM role ARN", command: Command(argv: [aws.executable, "iam", "get-role"])))
        }
        switch await aws.rolePolicies(roleName: name) {
        case .success(let policies):
            return .value(RolePermissions(roleArn: roleArn, method: .policies, evaluations: IAMPolicyEvaluator.evaluate(requests, policies: policies), simulatorUnavailable: simulatorError.message))
        case .failure(let e):
            return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    /// Runs `body` for each key with at most `options.concurrency` calls in flight.
    func concurrentMap<V: Sendable>(_ keys: [String], _ body: @escaping @Sendable (String) async -> V) async -> [String: V] {
        let limit = max(1, options.concurrency)
        return await withTaskGroup(of: (String, V).self) { group in
            var results: [String: V] = [:]
            var iterator = keys.makeIterator()
            for _ in 0..<limit {
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
}
