import Foundation

public enum Cloud: String, Sendable, Equatable, CaseIterable, Codable {
    case aws, azure, gcp, unknown

    /// The managed Kubernetes service of the cloud, as users name it.
    public var kubernetesService: String {
        switch self {
        case .aws: return "EKS"
        case .azure: return "AKS"
        case .gcp: return "GKE"
        case .unknown: return "unknown"
        }
    }
}

/// A kubectl read the checks depend on, named the way an RBAC rule names it.
public struct ResourceRead: Sendable, Hashable, Comparable {
    public var resource: String
    public var group: String
    /// nil for cluster-wide reads.
    public var namespace: String?

    public init(resource: String, group: String = "", namespace: String? = nil) {
        self.resource = resource
        self.group = group
        self.namespace = namespace
    }

    public var displayName: String {
        (group.isEmpty ? resource : "\(resource).\(group)") + (namespace.map { " in namespace \($0)" } ?? " (all namespaces)")
    }

    public static func < (a: ResourceRead, b: ResourceRead) -> Bool {
        (a.group, a.resource, a.namespace ?? "") < (b.group, b.resource, b.namespace ?? "")
    }
}

/// What happened when the gatherer tried to read one kind of object.
public enum ReadOutcome: Sendable, Equatable {
    case ok
    /// The API (CRD) is not installed: "none", not an error.
    case notInstalled
    case forbidden(verb: String, message: String)
    case failed(String)

    public var isUsable: Bool {
        switch self {
        case .ok, .notInstalled: return true
        default: return false
        }
    }
}

/// The outcome of one cloud read.
public enum CloudRead<Value: Sendable & Equatable>: Sendable, Equatable {
    case value(Value)
    case notFound(String)
    case failed(CloudError)
    /// Not attempted, e.g. `--no-cloud`, or the cluster name is unknown.
    case notRequested(String)

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    /// Why there is no value, in a few words.
    public var unavailableReason: String? {
        switch self {
        case .value: return nil
        case .notFound(let m): return "not found: \(m)"
        case .failed(let e): return e.message
        case .notRequested(let r): return r
        }
    }
}

public struct CloudError: Error, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case cliMissing, notLoggedIn, accessDenied, timeout, malformedOutput, notFound, other
    }

    public var kind: Kind
    public var message: String
    /// The command that failed, for "run this to see the error yourself".
    public var command: Command

    public init(kind: Kind, message: String, command: Command) {
        self.kind = kind
        self.message = message
        self.command = command
    }
}

public struct ClusterInfo: Sendable, Equatable {
    public var context: String?
    public var server: String?
    public var cloud: Cloud
    public var cloudEvidence: String
    public var name: String?
    public var nameEvidence: String?
    public var region: String?
    public var regionEvidence: String?
    /// AKS: the cluster's resource group and subscription.
    public var resourceGroup: String?
    public var resourceGroupEvidence: String?
    public var subscription: String?
    public var subscriptionEvidence: String?
    /// GKE: the cluster's project and location (region or zone).
    public var project: String?
    public var projectEvidence: String?
    public var location: String?
    public var locationEvidence: String?

    public init(
        context: String? = nil, server: String? = nil, cloud: Cloud = .unknown, cloudEvidence: String = "",
        name: String? = nil, nameEvidence: String? = nil, region: String? = nil, regionEvidence: String? = nil,
        resourceGroup: String? = nil, subscription: String? = nil
    ) {
        self.resourceGroup = resourceGroup
        self.subscription = subscription
        self.context = context
        self.server = server
        self.cloud = cloud
        self.cloudEvidence = cloudEvidence
        self.name = name
        self.nameEvidence = nameEvidence
        self.region = region
        self.regionEvidence = regionEvidence
    }
}

/// Everything the AWS-side checks read, gathered up front and concurrently.
public struct AWSFacts: Sendable, Equatable {
    public var cluster: CloudRead<EKSCluster>
    public var podIdentityAddon: CloudRead<EKSAddon>
    public var associations: CloudRead<[PodIdentityAssociation]>
    /// Described associations by ID (they carry the role ARN).
    public var describedAssociations: [String: CloudRead<PodIdentityAssociation>]
    /// IAM roles by role ARN, each read once.
    public var roles: [String: CloudRead<IAMRole>]
    /// IAM OIDC providers of the account (read when some subject uses IRSA), and the one for the cluster issuer.
    public var oidcProviders: CloudRead<[String]>
    public var clusterOIDCProvider: CloudRead<OIDCProvider>
    /// Pull permissions by role ARN (the Crossplane core role, node group roles).
    public var permissions: [String: CloudRead<RolePermissions>]
    /// Node groups by name (read for nodes whose pods cannot pull their image).
    public var nodeGroups: [String: CloudRead<NodeGroup>]

    public init(
        cluster: CloudRead<EKSCluster>, podIdentityAddon: CloudRead<EKSAddon>,
        associations: CloudRead<[PodIdentityAssociation]>,
        describedAssociations: [String: CloudRead<PodIdentityAssociation>] = [:],
        roles: [String: CloudRead<IAMRole>] = [:],
        oidcProviders: CloudRead<[String]> = .notRequested("no subject uses IRSA"),
        clusterOIDCProvider: CloudRead<OIDCProvider> = .notRequested("no subject uses IRSA"),
        permissions: [String: CloudRead<RolePermissions>] = [:],
        nodeGroups: [String: CloudRead<NodeGroup>] = [:]
    ) {
        self.cluster = cluster
        self.podIdentityAddon = podIdentityAddon
        self.associations = associations
        self.describedAssociations = describedAssociations
        self.roles = roles
        self.oidcProviders = oidcProviders
        self.clusterOIDCProvider = clusterOIDCProvider
        self.permissions = permissions
        self.nodeGroups = nodeGroups
    }

    /// Every read answered the same way: cloud checks disabled or impossible.
    public static func unavailable(_ reason: String) -> AWSFacts {
        AWSFacts(
            cluster: .notRequested(reason), podIdentityAddon: .notRequested(reason), associations: .notRequested(reason),
            oidcProviders: .notRequested(reason), clusterOIDCProvider: .notRequested(reason))
    }
}

/// Options that change how the snapshot is interpreted (not how it is read).
public struct EvaluationOptions: Sendable, Equatable {
    public var methodOverride: IdentityMethod?
    public var cloudDisabledReason: String?
    public var now: Date
    /// `--target`: which workloads are subjects.
    public var target: Target
    /// The objects came from manifests (`verify -f`), not from a cluster: no live pods, env or status.
    public var offline = false

    public init(methodOverride: IdentityMethod? = nil, cloudDisabledReason: String? = nil, now: Date = Date(), target: Target = .all) {
        self.methodOverride = methodOverride
        self.cloudDisabledReason = cloudDisabledReason
        self.now = now
        self.target = target
    }
}

/// `--target crossplane|flux|all`.
public enum Target: String, Sendable, Equatable, CaseIterable {
    case crossplane, flux, all

    public var includesCrossplane: Bool { self != .flux }
    public var includesFlux: Bool { self != .crossplane }
}

/// Everything read from the cluster and the cloud. Checks are pure functions of this value.
public struct Snapshot: Sendable, Equatable {
    public var cluster: ClusterInfo
    public var crossplaneNamespace: String
    public var crossplaneInstalled: Bool
    /// Where the Flux controllers run (`--flux-namespace`).
    public var fluxNamespace: String
    /// Whether any Flux API this tool reads is served.
    public var fluxInstalled: Bool
    public var fluxObjects: [FluxObject]
    /// ClusterRoles and their bindings (read when Flux is installed: object-level identity needs `serviceaccounts/token`).
    public var clusterRoles: [ClusterRole]
    public var clusterRoleBindings: [ClusterRoleBinding]
    public var reads: [ResourceRead: ReadOutcome]
    public var nodes: [Node] { didSet { lookups = SnapshotLookups() } }
    public var serviceAccounts: [ServiceAccount] { didSet { lookups = SnapshotLookups() } }
    public var pods: [Pod] { didSet { lookups = SnapshotLookups() } }
    public var deployments: [Deployment] { didSet { lookups = SnapshotLookups() } }
    public var daemonSets: [DaemonSet]
    public var packages: [CrossplanePackage]
    public var runtimeConfigs: [DeploymentRuntimeConfig] { didSet { lookups = SnapshotLookups() } }
    public var imageConfigs: [ImageConfig]
    public var providerConfigs: [ProviderConfig]
    public var aws: AWSFacts { didSet { lookups = SnapshotLookups() } }
    public var azure: AzureFacts
    public var gcp: GCPFacts
    /// MutatingWebhookConfigurations (read on AKS, where the Azure Workload Identity webhook must exist).
    public var webhookConfigurations: [MutatingWebhookConfiguration]
    public var options: EvaluationOptions
    /// Lookup tables, rebuilt after any change to the lists they index.
    var lookups = SnapshotLookups()

    public static func == (a: Snapshot, b: Snapshot) -> Bool {
        a.cluster == b.cluster && a.crossplaneNamespace == b.crossplaneNamespace && a.crossplaneInstalled == b.crossplaneInstalled && a.reads == b.reads
            && a.nodes == b.nodes && a.serviceAccounts == b.serviceAccounts && a.pods == b.pods && a.deployments == b.deployments
            && a.daemonSets == b.daemonSets && a.packages == b.packages && a.runtimeConfigs == b.runtimeConfigs && a.imageConfigs == b.imageConfigs
            && a.providerConfigs == b.providerConfigs && a.aws == b.aws && a.azure == b.azure && a.gcp == b.gcp
            && a.webhookConfigurations == b.webhookConfigurations && a.options == b.options && a.fluxNamespace == b.fluxNamespace
            && a.fluxInstalled == b.fluxInstalled && a.fluxObjects == b.fluxObjects && a.clusterRoles == b.clusterRoles && a.clusterRoleBindings == b.clusterRoleBindings
    }

    public init(
        cluster: ClusterInfo = ClusterInfo(), crossplaneNamespace: String = "crossplane-system", crossplaneInstalled: Bool = true,
        reads: [ResourceRead: ReadOutcome] = [:], nodes: [Node] = [], serviceAccounts: [ServiceAccount] = [], pods: [Pod] = [],
        deployments: [Deployment] = [], daemonSets: [DaemonSet] = [], packages: [CrossplanePackage] = [],
        runtimeConfigs: [DeploymentRuntimeConfig] = [], imageConfigs: [ImageConfig] = [], providerConfigs: [ProviderConfig] = [],
        aws: AWSFacts = .unavailable("not an EKS cluster"), azure: AzureFacts = .unavailable("not an AKS cluster"),
        gcp: GCPFacts = .unavailable("not a GKE cluster"),
        webhookConfigurations: [MutatingWebhookConfiguration] = [], options: EvaluationOptions = EvaluationOptions(),
        fluxNamespace: String = FluxFacts.defaultNamespace, fluxInstalled: Bool = false, fluxObjects: [FluxObject] = [],
        clusterRoles: [ClusterRole] = [], clusterRoleBindings: [ClusterRoleBinding] = []
    ) {
        self.fluxNamespace = fluxNamespace
        self.fluxInstalled = fluxInstalled || !fluxObjects.isEmpty
        self.fluxObjects = fluxObjects
        self.clusterRoles = clusterRoles
        self.clusterRoleBindings = clusterRoleBindings
        self.gcp = gcp
        self.azure = azure
        self.webhookConfigurations = webhookConfigurations
        self.cluster = cluster
        self.crossplaneNamespace = crossplaneNamespace
        self.crossplaneInstalled = crossplaneInstalled
        self.reads = reads
        self.nodes = nodes
        self.serviceAccounts = serviceAccounts
        self.pods = pods
        self.deployments = deployments
        self.daemonSets = daemonSets
        self.packages = packages
        self.runtimeConfigs = runtimeConfigs
        self.imageConfigs = imageConfigs
        self.providerConfigs = providerConfigs
        self.aws = aws
        self.options = options
    }

    /// The first read of `resource` that failed, if any: checks that need it report `error`.
    /// With a namespace, only reads of that namespace (or cluster-wide reads) count.
    /// `group` nil matches any API group (kept for reads named by plural alone).
    public func failedRead(_ resource: String, group: String? = nil, namespace: String? = nil) -> (ResourceRead, ReadOutcome)? {
        reads.filter {
            $0.key.resource == resource && (group == nil || $0.key.group == group) && !$0.value.isUsable
                && (namespace == nil || $0.key.namespace == nil || $0.key.namespace == namespace)
        }.min { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public func serviceAccount(namespace: String, name: String) -> ServiceAccount? { lookups.serviceAccount(self, namespace: namespace, name: name) }

    public func node(named name: String) -> Node? { lookups.node(self, named: name) }

    /// The Deployment of a package revision: the one carrying the revision label, else the one named after it.
    public func deployment(namespace: String, revision: String) -> Deployment? { lookups.deployment(self, namespace: namespace, revision: revision) }

    /// The Deployment with this namespace and name.
    public func deployment(namespace: String, name: String) -> Deployment? { lookups.deployment(self, namespace: namespace, name: name) }

    /// Pods carrying `pkg.crossplane.io/revision=<revision>`.
    public func pods(namespace: String, revision: String) -> [Pod] { lookups.pods(self, namespace: namespace, revision: revision) }

    public func runtimeConfig(named name: String) -> DeploymentRuntimeConfig? { lookups.runtimeConfig(self, named: name) }

    /// ECR repository ARNs of every package in use (Providers, Functions, Configurations), sorted.
    public var ecrPackageRepositories: [String] {
        Set(packages.compactMap { IAMPolicyEvaluator.ecrRepositoryARN(image: $0.resolvedPackage ?? $0.package) }).sorted()
    }

    /// Login servers of ACR registries that packages come from, sorted.
    public var acrPackageRegistries: [String] {
        Set(packages.compactMap { p -> String? in
            let ref = p.reference
            return ref.registryKind == .acr ? ref.registry?.lowercased() : nil
        }).sorted()
    }

    /// Artifact Registry repositories that packages come from.
    public var garPackageRepositories: [ArtifactRepository] {
        Array(Set(packages.compactMap { ArtifactRepository(image: $0.reference.text) })).sorted { $0.key < $1.key }
    }

    public var podIdentityAgent: DaemonSet? {
        daemonSets.first { $0.metadata.name == "eks-pod-identity-agent" && $0.metadata.namespace == "kube-system" }
    }

    /// Associations for a (namespace, service account), with described details where available.
    public func associations(namespace: String, serviceAccount: String) -> [PodIdentityAssociation] {
        lookups.associations(self, namespace: namespace, serviceAccount: serviceAccount)
    }
}
