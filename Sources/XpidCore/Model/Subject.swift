import Foundation

public enum IdentityMethod: String, Sendable, Equatable, CaseIterable, Codable {
    case irsa
    case podIdentity = "pod-identity"
    case azureWI = "azure-wi"
    case gkeWI = "gke-wi"
    case gkeWIF = "gke-wif"
    case none

    /// The methods the catalogue has checks for (what `--method` accepts).
    public static let verifiable: [IdentityMethod] = [.irsa, .podIdentity, .azureWI, .gkeWI, .gkeWIF]
}

public enum SubjectKind: String, Sendable, Equatable, Codable {
    case crossplaneCore = "crossplane-core"
    case provider
    case function
    case fluxController = "flux-controller"
    case fluxObject = "flux-object"
}

/// How a Flux subject gets its identity.
public struct FluxBinding: Sendable, Equatable {
    /// flux-object: the object.
    public var object: FluxObject?
    /// The controller Deployment that reconciles the object (or is the subject).
    public var controller: String
    /// flux-object: it authenticates as its own ServiceAccount, a token the controller mints (object level);
    /// otherwise it uses the controller's identity.
    public var objectLevel: Bool
    /// The cloud the object's identity is for (its `provider`, or the cluster's cloud for SOPS KMS).
    public var cloud: Cloud?
    /// flux-object: where the object-level ServiceAccount name comes from (the object's field or the controller's lockdown flag).
    public var serviceAccountSource: String?
    /// flux-controller: objects that use the controller's own identity, and objects it mints object-level tokens for.
    public var controllerLevelObjects: [String]
    public var objectLevelObjects: [String]

    public init(
        object: FluxObject? = nil, controller: String, objectLevel: Bool = false, cloud: Cloud? = nil, serviceAccountSource: String? = nil,
        controllerLevelObjects: [String] = [], objectLevelObjects: [String] = []
    ) {
        self.object = object
        self.controller = controller
        self.objectLevel = objectLevel
        self.cloud = cloud
        self.serviceAccountSource = serviceAccountSource
        self.controllerLevelObjects = controllerLevelObjects
        self.objectLevelObjects = objectLevelObjects
    }
}

/// One workload that needs (or may need) a cloud identity, with its runtime resolved
/// from the live objects: package → `status.currentRevision` → Deployment → pods → ServiceAccount.
public struct Subject: Sendable, Equatable {
    public var kind: SubjectKind
    public var name: String
    public var namespace: String
    public var package: CrossplanePackage?
    public var deployment: Deployment?
    public var pods: [Pod]
    public var serviceAccountName: String?
    public var serviceAccount: ServiceAccount?
    /// The DeploymentRuntimeConfig in effect (an ImageConfig runtime overrides `runtimeConfigRef`).
    public var runtimeConfig: DeploymentRuntimeConfig?
    public var runtimeConfigEvidence: String?
    public var method: IdentityMethod
    public var methodEvidence: String
    /// Flux subjects: the object or controller and how it gets its identity.
    public var flux: FluxBinding?

    public init(
        kind: SubjectKind, name: String, namespace: String, package: CrossplanePackage? = nil, deployment: Deployment? = nil,
        pods: [Pod] = [], serviceAccountName: String? = nil, serviceAccount: ServiceAccount? = nil,
        runtimeConfig: DeploymentRuntimeConfig? = nil, runtimeConfigEvidence: String? = nil,
        method: IdentityMethod = .none, methodEvidence: String = ""
    ) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.package = package
        self.deployment = deployment
        self.pods = pods
        self.serviceAccountName = serviceAccountName
        self.serviceAccount = serviceAccount
        self.runtimeConfig = runtimeConfig
        self.runtimeConfigEvidence = runtimeConfigEvidence
        self.method = method
        self.methodEvidence = methodEvidence
    }

    public var id: String { kind == .fluxObject ? "\(kind.rawValue)/\(namespace)/\(name)" : "\(kind.rawValue)/\(name)" }

    /// The object that defines the subject (where a finding about it points: a manifest line offline, the object live).
    public var primaryObject: ObjectReference {
        switch kind {
        case .crossplaneCore, .fluxController: return ObjectReference(kind: "Deployment", namespace: namespace, name: deployment?.metadata.name ?? name)
        case .provider: return ObjectReference(kind: "Provider", namespace: nil, name: name)
        case .function: return ObjectReference(kind: "Function", namespace: nil, name: name)
        case .fluxObject: return ObjectReference(kind: flux?.object?.kind.rawValue ?? "Object", namespace: namespace, name: name)
        }
    }

    /// A Crossplane Provider or Function (a package with a runtime).
    public var isPackage: Bool { kind == .provider || kind == .function }

    public var isFlux: Bool { kind == .fluxController || kind == .fluxObject }

    /// Pods run as this subject's ServiceAccount. Not so for a Flux object: at object level its controller
    /// mints a token for the ServiceAccount, so nothing is injected and no pod needs a restart.
    public var runsPods: Bool { kind != .fluxObject }

    /// A Flux object that uses its controller's identity: the controller's subject carries the identity chain.
    public var delegatesIdentity: Bool { kind == .fluxObject && flux?.objectLevel != true }

    public var livePods: [Pod] { pods.filter(\.isLive) }

    /// Images of the live pods that are waiting in ErrImagePull/ImagePullBackOff (the node's identity pulls these).
    public var imagesFailingToPull: [String] {
        livePods.filter { $0.containerStatuses.contains { ImagePull.isPullFailure($0.waitingReason) } }.flatMap { $0.allContainers.compactMap(\.image) }
    }

    public var revision: String? { package?.currentRevision }

    /// An upjet AWS package (service provider, family or monolith), or the classic provider-aws.
    public var isAWSProvider: Bool {
        guard kind == .provider, let ref = package?.reference else { return false }
        return ref.name == "provider-aws" || ref.name.hasPrefix("provider-aws-") || ref.name == "provider-family-aws"
            || ref.name.hasPrefix("provider-upjet-aws")
    }

    /// The cloud whose upjet (or classic) provider family this package belongs to.
    public var providerFamily: Cloud? {
        guard kind == .provider, let name = package?.reference.name else { return nil }
        if isAWSProvider { return .aws }
        if name == "provider-azure" || name.hasPrefix("provider-azure-") || name == "provider-family-azure" || name.hasPrefix("provider-upjet-azure") {
            return .azure
        }
        if name == "provider-gcp" || name.hasPrefix("provider-gcp-") || name == "provider-family-gcp" || name.hasPrefix("provider-upjet-gcp") { return .gcp }
        return nil
    }

    public var isAzureProvider: Bool { providerFamily == .azure }

    /// The family provider only serves ProviderConfigs; it makes no cloud API calls itself.
    public var isFamilyProvider: Bool {
        guard let ref = package?.reference else { return false }
        return ref.name.hasPrefix("provider-family-")
    }

    /// The runtime container Crossplane builds for packages, or the main container of core.
    public func runtimeContainer(of pod: Pod) -> Container? {
        switch kind {
        case .crossplaneCore: return pod.spec.containers.first { $0.name == "crossplane" } ?? pod.spec.containers.first
        case .provider, .function: return pod.spec.containers.first { $0.name == "package-runtime" } ?? pod.spec.containers.first
        case .fluxController, .fluxObject: return pod.spec.containers.first { $0.name == FluxFacts.managerContainer } ?? pod.spec.containers.first
        }
    }
}

/// Resolves subjects from a snapshot. Never computes revision or ServiceAccount names:
/// it follows `status.currentRevision` and the objects that carry that revision label.
public enum SubjectResolver {
    public static func subjects(in snapshot: Snapshot) -> [Subject] {
        (snapshot.options.target.includesCrossplane ? crossplaneSubjects(in: snapshot) : []) + FluxSubjectResolver.subjects(in: snapshot)
    }

    static func crossplaneSubjects(in snapshot: Snapshot) -> [Subject] {
        let ns = snapshot.crossplaneNamespace
        var result: [Subject] = []
        if let core = CrossplaneCore.deployment(in: snapshot.deployments, namespace: ns) {
            var subject = Subject(kind: .crossplaneCore, name: core.metadata.name, namespace: ns, deployment: core)
            subject.pods = snapshot.pods.filter { pod in
                pod.metadata.namespace == ns && !core.selector.isEmpty && core.selector.allSatisfy { pod.metadata.labels[$0.key] == $0.value }
            }
            subject.serviceAccountName = core.template.spec.effectiveServiceAccountName
            subject.serviceAccount = snapshot.serviceAccount(namespace: ns, name: subject.serviceAccountName ?? "")
            let (method, evidence) = MethodInference.infer(subject, in: snapshot)
            subject.method = method
            subject.methodEvidence = evidence
            result.append(subject)
        } else if snapshot.crossplaneInstalled, let (read, outcome) = snapshot.failedRead("deployments", group: "apps", namespace: ns) {
            // The Deployments were not read: the package manager is still a subject, whose checks say why they cannot run.
            var subject = Subject(kind: .crossplaneCore, name: "crossplane", namespace: ns)
            subject.methodEvidence = "unknown: \(read.displayName) \(outcome.shortText)"
            result.append(subject)
        }
        let runtimes = snapshot.packages.filter { $0.kind != .configuration }
        for package in runtimes.sorted(by: { ($0.kind.rawValue, $0.metadata.name) < ($1.kind.rawValue, $1.metadata.name) }) {
            var subject = Subject(kind: package.kind == .provider ? .provider : .function, name: package.metadata.name, namespace: ns, package: package)
            if let revision = package.currentRevision {
                // The Deployment carries the revision label (its name is the revision unless a DRC renames it).
                subject.deployment = snapshot.deployment(namespace: ns, revision: revision)
                subject.pods = snapshot.pods(namespace: ns, revision: revision)
                if subject.pods.isEmpty, let selector = subject.deployment?.selector, !selector.isEmpty {
                    subject.pods = snapshot.pods.filter { pod in
                        pod.metadata.namespace == ns && selector.allSatisfy { pod.metadata.labels[$0.key] == $0.value }
                    }
                }
            }
            subject.serviceAccountName =
                subject.deployment?.template.spec.serviceAccountName
                ?? subject.pods.first?.spec.serviceAccountName
            if let sa = subject.serviceAccountName {
                subject.serviceAccount = snapshot.serviceAccount(namespace: ns, name: sa)
            }
            let (config, evidence) = effectiveRuntimeConfig(for: package, in: snapshot)
            subject.runtimeConfig = config
            subject.runtimeConfigEvidence = evidence
            if snapshot.options.offline, subject.deployment == nil { OfflineRuntime.build(&subject, in: snapshot) }
            let (method, methodEvidence) = MethodInference.infer(subject, in: snapshot)
            subject.method = method
            subject.methodEvidence = methodEvidence
            result.append(subject)
        }
        return result
    }

    /// An ImageConfig `spec.runtime.configRef` matching the package (longest prefix) wins over `runtimeConfigRef`.
    public static func effectiveRuntimeConfig(for package: CrossplanePackage, in snapshot: Snapshot) -> (DeploymentRuntimeConfig?, String) {
        if let override = imageConfigOverride(for: package, in: snapshot), let name = override.config.runtimeConfigName {
            let drc = snapshot.runtimeConfig(named: name)
            return (drc, "ImageConfig \(override.config.metadata.name) (prefix \(override.prefix)) sets runtime config \(name)")
        }
        let drc = snapshot.runtimeConfig(named: package.runtimeConfigName)
        return (drc, "runtimeConfigRef \(package.runtimeConfigName)")
    }

    public static func imageConfigOverride(for package: CrossplanePackage, in snapshot: Snapshot) -> (config: ImageConfig, prefix: String)? {
        let image = package.resolvedPackage ?? package.package
        var best: (ImageConfig, String)?
        for config in snapshot.imageConfigs where config.runtimeConfigName != nil {
            for prefix in config.prefixes where image.hasPrefix(prefix) {
                if best == nil || prefix.count > best!.1.count { best = (config, prefix) }
            }
        }
        return best.map { (config: $0.0, prefix: $0.1) }
    }
}

/// Decides which identity method a subject uses, and says why.
public enum MethodInference {
    public static func infer(_ subject: Subject, in snapshot: Snapshot) -> (IdentityMethod, String) {
        if let forced = snapshot.options.methodOverride {
            return (forced, "--method \(forced.rawValue)")
        }
        if let sa = subject.serviceAccountName, !snapshot.associations(namespace: subject.namespace, serviceAccount: sa).isEmpty {
            return (.podIdentity, "EKS Pod Identity association for \(subject.namespace)/\(sa)")
        }
        let containers = subject.livePods.compactMap { subject.runtimeContainer(of: $0) }
        if containers.contains(where: { $0.hasEnv(PodIdentityFacts.credentialsURIEnv) }) {
            return (.podIdentity, "pod env \(PodIdentityFacts.credentialsURIEnv)")
        }
        if let annotation = subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation] {
            return (.irsa, "ServiceAccount annotation \(IRSAFacts.roleAnnotation)=\(annotation)")
        }
        if let annotation = subject.runtimeConfig?.serviceAccountAnnotations[IRSAFacts.roleAnnotation] {
            return (.irsa, "DeploymentRuntimeConfig \(subject.runtimeConfig?.metadata.name ?? "") sets \(IRSAFacts.roleAnnotation)=\(annotation)")
        }
        if containers.contains(where: { $0.hasEnv(IRSAFacts.roleEnv) }) {
            return (.irsa, "pod env \(IRSAFacts.roleEnv)")
        }
        if let place = IRSAFacts.misplacedRoleAnnotation(subject) {
            return (.irsa, "\(IRSAFacts.roleAnnotation) set on \(place.where_), not on the ServiceAccount")
        }
        if let azure = AzureEvidence.of(subject) { return (.azureWI, azure) }
        if let gsa = subject.serviceAccount?.metadata.annotations[GKEFacts.gsaAnnotation] {
            return (.gkeWI, "ServiceAccount annotation \(GKEFacts.gsaAnnotation)=\(gsa)")
        }
        if let drc = subject.runtimeConfig, let gsa = drc.serviceAccountAnnotations[GKEFacts.gsaAnnotation] {
            return (.gkeWI, "DeploymentRuntimeConfig \(drc.metadata.name) sets \(GKEFacts.gsaAnnotation)=\(gsa)")
        }
        // The family provider only serves ProviderConfigs: the family's credentials source does not
        // make it a cloud client.
        if subject.isAWSProvider && !subject.isFamilyProvider {
            let sources = snapshot.providerConfigs.compactMap { pc in pc.source.map { (pc, $0) } }
            if let (pc, source) = sources.first(where: { $0.1 == "PodIdentity" }) {
                return (.podIdentity, "\(pc.displayName) credentials.source=\(source)")
            }
            if let (pc, source) = sources.first(where: { $0.1 == "IRSA" || $0.1 == "WebIdentity" }) {
                return (.irsa, "\(pc.displayName) credentials.source=\(source)")
            }
        }
        if subject.isAzureProvider && !subject.isFamilyProvider,
            let pc = snapshot.providerConfigs.first(where: { $0.api.family == .azure && $0.source == "OIDCTokenFile" })
        {
            return (.azureWI, "\(pc.displayName) credentials.source=OIDCTokenFile")
        }
        if snapshot.cluster.cloud == .gcp {
            // On GKE a ServiceAccount without a GSA annotation is itself the identity (a direct principal).
            if subject.providerFamily == .gcp && !subject.isFamilyProvider,
                let pc = snapshot.providerConfigs.first(where: { $0.api.family == .gcp && ["InjectedIdentity", "ImpersonateServiceAccount"].contains($0.source ?? "") })
            {
                return (.gkeWIF, "\(pc.displayName) credentials.source=\(pc.source ?? ""), no \(GKEFacts.gsaAnnotation) annotation: direct principal")
            }
            if subject.kind == .crossplaneCore, !snapshot.garPackageRepositories.isEmpty {
                return (.gkeWIF, "packages come from Artifact Registry and ServiceAccount \(subject.serviceAccountName ?? "crossplane") has no \(GKEFacts.gsaAnnotation) annotation: direct principal")
            }
        }
        if subject.isFamilyProvider {
            return (.none, "family provider: serves the family's ProviderConfigs and makes no cloud API calls itself")
        }
        return (.none, "no workload identity configured (no association, annotation, injected env or ProviderConfig source)")
    }
}

public enum PodIdentityFacts {
    public static let credentialsURIEnv = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
    public static let tokenFileEnv = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
    public static let credentialsURIs = ["http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials"]
    public static let tokenFile = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"
    public static let audience = "pods.eks.amazonaws.com"
    public static let servicePrincipal = "pods.eks.amazonaws.com"
    public static let addonName = "eks-pod-identity-agent"
    public static let agentDaemonSet = "eks-pod-identity-agent"
    public static let unsupportedComputeTypes: Set<String> = ["fargate", "hybrid"]
}

public enum IRSAFacts {
    public static let roleAnnotation = "eks.amazonaws.com/role-arn"
    public static let audienceAnnotation = "eks.amazonaws.com/audience"
    public static let defaultAudience = "sts.amazonaws.com"
    public static let roleEnv = "AWS_ROLE_ARN"
    public static let tokenFileEnv = "AWS_WEB_IDENTITY_TOKEN_FILE"
    public static let tokenFile = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"

    /// The webhook reads the role only from the ServiceAccount. An annotation on the Deployment, the pod
    /// template or a DeploymentRuntimeConfig's deploymentTemplate does nothing (a frequent mistake).
    public static func misplacedRoleAnnotation(_ subject: Subject) -> (where_: String, value: String)? {
        if let d = subject.deployment {
            if let v = d.metadata.annotations[roleAnnotation] { return ("Deployment \(d.metadata.name)", v) }
            if let v = d.template.annotations[roleAnnotation] { return ("the pod template of Deployment \(d.metadata.name)", v) }
        }
        if let drc = subject.runtimeConfig {
            if let v = drc.deploymentAnnotations[roleAnnotation] { return ("DeploymentRuntimeConfig \(drc.metadata.name) deploymentTemplate.metadata", v) }
            if let v = drc.podAnnotations[roleAnnotation] { return ("DeploymentRuntimeConfig \(drc.metadata.name) pod template", v) }
        }
        if let pod = subject.livePods.first, let v = pod.metadata.annotations[roleAnnotation] { return ("pod \(pod.metadata.name)", v) }
        return nil
    }
}

/// Finds the Crossplane (package manager) Deployment: Helm chart labels, the image, or the name.
public enum CrossplaneCore {
    public static func isCore(_ d: Deployment) -> Bool {
        if d.metadata.labels["pkg.crossplane.io/revision"] != nil { return false }
        if d.metadata.labels["app"] == "crossplane" || d.template.labels["app"] == "crossplane" { return true }
        return d.template.spec.containers.contains { c in
            guard let image = c.image else { return false }
            return image.contains("crossplane/crossplane:") || image.contains("crossplane/crossplane@") || image.hasSuffix("crossplane/crossplane")
                || image.contains("upbound/uxp-bootstrapper") || image.contains("upbound/crossplane:")
        }
    }

    public static func deployment(in deployments: [Deployment], namespace: String?) -> Deployment? {
        let candidates = deployments.filter { namespace == nil || $0.metadata.namespace == namespace }
        return candidates.first(where: isCore) ?? candidates.first { $0.metadata.name == "crossplane" }
    }
}

/// Where a subject shows Azure Workload Identity: the ServiceAccount annotation, its runtime config,
/// the injected env, or the pod label (in the order that says most about intent).
public enum AzureEvidence {
    public static func of(_ subject: Subject) -> String? {
        let key = AzureWIFacts.clientIDAnnotation
        if let v = subject.serviceAccount?.metadata.annotations[key] { return "ServiceAccount annotation \(key)=\(v)" }
        if let drc = subject.runtimeConfig, let v = drc.serviceAccountAnnotations[key] {
            return "DeploymentRuntimeConfig \(drc.metadata.name) sets \(key)=\(v)"
        }
        let containers = subject.livePods.compactMap { subject.runtimeContainer(of: $0) }
        if containers.contains(where: { $0.hasEnv(AzureWIFacts.tokenFileEnv) }) { return "pod env \(AzureWIFacts.tokenFileEnv)" }
        if let place = labelPlaces(subject).first { return "label \(AzureWIFacts.useLabel)=true on \(place)" }
        return nil
    }

    /// Every place the `azure.workload.identity/use: "true"` label was put, effective or not.
    public static func labelPlaces(_ subject: Subject) -> [String] {
        var places: [String] = []
        if let d = subject.deployment {
            if AzureWIFacts.isOn(d.template.labels) { places.append("the pod template of Deployment \(d.metadata.name)") }
            if AzureWIFacts.isOn(d.metadata.labels) {
                if let drc = subject.runtimeConfig, AzureWIFacts.isOn(drc.deploymentLabels) {
                    places.append("DeploymentRuntimeConfig \(drc.metadata.name) deploymentTemplate.metadata.labels (the Deployment object's own labels)")
                } else {
                    places.append("Deployment \(d.metadata.name) metadata")
                }
            }
        }
        if let drc = subject.runtimeConfig, AzureWIFacts.isOn(drc.podLabels) { places.append("DeploymentRuntimeConfig \(drc.metadata.name) pod template") }
        if let sa = subject.serviceAccount, AzureWIFacts.isOn(sa.metadata.labels) { places.append("ServiceAccount \(sa.metadata.name)") }
        if let pod = subject.livePods.first(where: { AzureWIFacts.isOn($0.metadata.labels) }) { places.append("pod \(pod.metadata.name)") }
        return places
    }
}
