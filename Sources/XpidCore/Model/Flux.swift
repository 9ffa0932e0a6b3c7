import Foundation

/// Flux's kinds that can reach a cloud with workload identity, and the controller that reconciles each
/// (fluxcd/flux2 `manifests/bases/*`; the API packages of source-, image-reflector-, kustomize- and
/// notification-controller).
public enum FluxKind: String, Sendable, Equatable, CaseIterable, Codable {
    case ociRepository = "OCIRepository"
    case bucket = "Bucket"
    case gitRepository = "GitRepository"
    case helmRepository = "HelmRepository"
    case imageRepository = "ImageRepository"
    case kustomization = "Kustomization"
    /// notification.toolkit.fluxcd.io `Provider` (not Crossplane's).
    case notificationProvider = "Provider"

    public var group: String {
        switch self {
        case .ociRepository, .bucket, .gitRepository, .helmRepository: return "source.toolkit.fluxcd.io"
        case .imageRepository: return "image.toolkit.fluxcd.io"
        case .kustomization: return "kustomize.toolkit.fluxcd.io"
        case .notificationProvider: return "notification.toolkit.fluxcd.io"
        }
    }

    public var plural: String {
        switch self {
        case .ociRepository: return "ocirepositories"
        case .bucket: return "buckets"
        case .gitRepository: return "gitrepositories"
        case .helmRepository: return "helmrepositories"
        case .imageRepository: return "imagerepositories"
        case .kustomization: return "kustomizations"
        case .notificationProvider: return "providers"
        }
    }

    /// The Deployment (and ServiceAccount) that reconciles objects of this kind.
    public var controller: String {
        switch self {
        case .ociRepository, .bucket, .gitRepository, .helmRepository: return "source-controller"
        case .imageRepository: return "image-reflector-controller"
        case .kustomization: return "kustomize-controller"
        case .notificationProvider: return "notification-controller"
        }
    }

    /// The field naming the object-level identity ServiceAccount; nil where the API has none (HelmRepository).
    public var serviceAccountField: String? {
        switch self {
        case .helmRepository: return nil
        case .kustomization: return "spec.decryption.serviceAccountName"
        default: return "spec.serviceAccountName"
        }
    }

    public init?(group: String, kind: String) {
        guard let k = FluxKind.allCases.first(where: { $0.group == group && $0.rawValue == kind }) else { return nil }
        self = k
    }
}

/// One Flux object as the identity checks see it.
public struct FluxObject: Sendable, Equatable {
    public var kind: FluxKind
    public var metadata: ObjectMeta
    /// `spec.provider` (sources, ImageRepository) or `spec.type` (notification Provider).
    public var provider: String?
    /// HelmRepository `spec.type` (`default` or `oci`).
    public var repositoryType: String?
    /// Where the object reads from: `spec.url`, Bucket `spec.endpoint`, ImageRepository `spec.image`, notification `spec.address`.
    public var address: String?
    /// The object-level identity ServiceAccount (`spec.decryption.serviceAccountName` for a Kustomization).
    public var serviceAccountName: String?
    /// `spec.secretRef.name` (`spec.decryption.secretRef.name` for a Kustomization): static credentials.
    public var secretRef: String?
    /// Kustomization: `spec.decryption` is set (SOPS).
    public var decrypts: Bool
    public var conditions: [Condition]

    public init(
        kind: FluxKind, metadata: ObjectMeta, provider: String? = nil, repositoryType: String? = nil, address: String? = nil,
        serviceAccountName: String? = nil, secretRef: String? = nil, decrypts: Bool = false, conditions: [Condition] = []
    ) {
        self.kind = kind
        self.metadata = metadata
        self.provider = provider
        self.repositoryType = repositoryType
        self.address = address
        self.serviceAccountName = serviceAccountName
        self.secretRef = secretRef
        self.decrypts = decrypts
        self.conditions = conditions
    }

    public init(kind: FluxKind, _ json: JSONValue) {
        self.kind = kind
        metadata = ObjectMeta(json["metadata"])
        let spec = json["spec"]
        conditions = Condition.list(json.at("status", "conditions"))
        repositoryType = kind == .helmRepository ? spec["type"].string : nil
        decrypts = false
        switch kind {
        case .kustomization:
            let decryption = spec["decryption"]
            decrypts = !decryption.isNull
            provider = decryption["provider"].string
            serviceAccountName = decryption["serviceAccountName"].string
            secretRef = decryption.at("secretRef", "name").string
            address = nil
        case .notificationProvider:
            provider = spec["type"].string
            serviceAccountName = spec["serviceAccountName"].string
            secretRef = spec.at("secretRef", "name").string
            address = spec["address"].string ?? spec["channel"].string
        default:
            provider = spec["provider"].string
            serviceAccountName = kind == .helmRepository ? nil : spec["serviceAccountName"].string
            secretRef = spec.at("secretRef", "name").string
            address = spec["url"].string ?? spec["endpoint"].string ?? spec["image"].string
        }
    }

    public var name: String { metadata.name }
    public var namespace: String { metadata.namespace ?? "default" }
    public var displayName: String { "\(kind.rawValue) \(namespace)/\(name)" }
    /// `kubectl` resource name, e.g. `ocirepositories.source.toolkit.fluxcd.io`.
    public var resource: String { "\(kind.plural).\(kind.group)" }

    /// HelmRepository: only `type: oci` uses the cloud `provider`.
    public var usesProvider: Bool { kind != .helmRepository || repositoryType == "oci" }

    /// The cloud whose identity the object asks for through its `provider` (or notification type).
    /// A Kustomization's SOPS KMS cloud is in the encrypted files, not the object: nil here.
    public var providerCloud: Cloud? {
        guard usesProvider, let p = provider?.lowercased() else { return nil }
        switch kind {
        case .notificationProvider:
            return FluxFacts.workloadIdentityNotificationTypes[p]
        case .kustomization:
            return nil
        default:
            switch p {
            case "aws": return .aws
            case "azure": return .azure
            case "gcp": return .gcp
            default: return nil
            }
        }
    }

    /// The host of `address` (no scheme, path or port).
    public var host: String? {
        guard var a = address?.trimmingCharacters(in: .whitespaces), !a.isEmpty else { return nil }
        if let range = a.range(of: "://") { a = String(a[range.upperBound...]) }
        if let at = a.firstIndex(of: "@"), a[..<at].contains(where: { $0 != "/" }) && !a[..<at].contains("/") { a = String(a[a.index(after: at)...]) }
        let h = a.split(separator: "/", maxSplits: 1).first.map(String.init) ?? a
        let noPort = h.split(separator: ":").first.map(String.init) ?? h
        return noPort.isEmpty ? nil : noPort.lowercased()
    }

    /// The cloud the address belongs to: an ECR/ACR/Artifact Registry host, or a cloud bucket or Git endpoint.
    public var addressCloud: Cloud? {
        guard let host else { return nil }
        switch kind {
        case .bucket:
            if host.hasSuffix(".amazonaws.com") { return .aws }
            if host.hasSuffix(".blob.core.windows.net") { return .azure }
            if host == "storage.googleapis.com" { return .gcp }
            return nil
        case .gitRepository:
            if host.hasPrefix("git-codecommit.") && host.hasSuffix(".amazonaws.com") { return .aws }
            if host == "dev.azure.com" || host.hasSuffix(".visualstudio.com") { return .azure }
            return nil
        case .ociRepository, .imageRepository, .helmRepository:
            switch RegistryKind(host: host) {
            case .ecr: return .aws
            case .acr: return .azure
            case .gar: return .gcp
            default: return nil
            }
        case .kustomization, .notificationProvider:
            return nil
        }
    }

    public func condition(_ type: String) -> Condition? { conditions.first { $0.type == type } }
}

/// Facts about Flux's workload identity (fluxcd/pkg `auth/*`, the controllers' `main.go`, fluxcd/flux2 manifests).
public enum FluxFacts {
    public static let defaultNamespace = "flux-system"
    /// The controllers of a Flux install, each a Deployment and ServiceAccount of the same name.
    public static let controllers = [
        "source-controller", "kustomize-controller", "helm-controller", "notification-controller",
        "image-reflector-controller", "image-automation-controller", "source-watcher",
    ]
    public static let managerContainer = "manager"
    public static let featureGate = "ObjectLevelWorkloadIdentity"
    public static let featureGatesFlag = "--feature-gates"
    public static let featureGateArgument = "--feature-gates=ObjectLevelWorkloadIdentity=true"
    public static let featureGateDisabledReason = "FeatureGateDisabled"
    /// notification Provider types that authenticate with workload identity.
    public static let workloadIdentityNotificationTypes: [String: Cloud] = ["azureeventhub": .azure, "azuredevops": .azure, "googlepubsub": .gcp]
    /// Flux's own check of a GSA annotation (fluxcd/pkg `auth/gcp/options.go`).
    public static let gsaEmailPattern = #"^[a-zA-Z0-9-]{1,100}@[a-zA-Z0-9-]{1,100}\.iam\.gserviceaccount\.com$"#
    /// Flux's own check of a role annotation (fluxcd/pkg `auth/aws/options.go`).
    public static let roleARNPattern = #"^arn:aws[\w-]*:iam::[0-9]{1,30}:role/.{1,200}$"#

    /// The flag that names a workload-identity default ServiceAccount for objects (multi-tenant lockdown).
    /// kustomize- and helm-controller's `--default-service-account` means Kubernetes impersonation instead.
    public static func lockdownFlag(controller: String) -> String? {
        switch controller {
        case "source-controller", "notification-controller", "image-reflector-controller", "image-automation-controller": return "--default-service-account"
        case "kustomize-controller": return "--default-decryption-service-account"
        default: return nil
        }
    }

    public static func matches(_ value: String, _ pattern: String) -> Bool {
        value.range(of: pattern, options: .regularExpression) != nil
    }
}

/// What a Flux controller Deployment says about object-level identity: its manager container's arguments.
public struct FluxControllerSettings: Sendable, Equatable {
    public var featureGates: [String: Bool]
    /// The workload-identity default ServiceAccount (lockdown), from the controller's own flag.
    public var lockdownServiceAccount: String?
    public var lockdownFlag: String?

    public init(_ deployment: Deployment) {
        let container = deployment.template.spec.containers.first { $0.name == FluxFacts.managerContainer } ?? deployment.template.spec.containers.first
        let args = (container?.args ?? [])
        var gates: [String: Bool] = [:]
        var values: [String: String] = [:]
        var i = 0
        while i < args.count {
            let arg = args[i]
            var flag = arg
            var value: String?
            if let eq = arg.firstIndex(of: "=") {
                flag = String(arg[..<eq])
                value = String(arg[arg.index(after: eq)...])
            } else if arg.hasPrefix("--"), i + 1 < args.count, !args[i + 1].hasPrefix("-") {
                value = args[i + 1]
                i += 1
            }
            if flag == FluxFacts.featureGatesFlag, let value {
                // Several occurrences merge, later entries win (as the flag parser applies them in order).
                for entry in value.split(separator: ",") {
                    let kv = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard kv.count == 2, let on = Bool(kv[1].lowercased()) else { continue }
                    gates[kv[0]] = on
                }
            } else if let value {
                values[flag] = value
            }
            i += 1
        }
        featureGates = gates
        lockdownFlag = FluxFacts.lockdownFlag(controller: deployment.metadata.name)
        lockdownServiceAccount = lockdownFlag.flatMap { values[$0] }.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var objectLevelEnabled: Bool { featureGates[FluxFacts.featureGate] == true }

    /// The last `--feature-gates=` argument of the manager container (the one whose entries win).
    public static func gateArgument(_ deployment: Deployment) -> (index: Int, container: Int, current: String)? {
        let containers = deployment.template.spec.containers
        guard let c = containers.firstIndex(where: { $0.name == FluxFacts.managerContainer }) ?? (containers.isEmpty ? nil : 0) else { return nil }
        guard let i = containers[c].args.lastIndex(where: { $0.hasPrefix(FluxFacts.featureGatesFlag + "=") }) else { return nil }
        return (i, c, containers[c].args[i])
    }
}

/// A ClusterRole's rules, enough to tell whether it grants a verb on a resource.
public struct ClusterRole: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var apiGroups: [String]
        public var resources: [String]
        public var verbs: [String]

        public init(apiGroups: [String], resources: [String], verbs: [String]) {
            self.apiGroups = apiGroups
            self.resources = resources
            self.verbs = verbs
        }

        public func grants(verb: String, group: String, resource: String) -> Bool {
            (apiGroups.contains("*") || apiGroups.contains(group)) && (verbs.contains("*") || verbs.contains(verb))
                && (resources.contains("*") || resources.contains(resource) || (resource.contains("/") && resources.contains(resource.split(separator: "/")[0] + "/*")))
        }
    }

    public var metadata: ObjectMeta
    public var rules: [Rule]

    public init(metadata: ObjectMeta, rules: [Rule]) {
        self.metadata = metadata
        self.rules = rules
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        rules = json["rules"].array.map {
            Rule(apiGroups: $0["apiGroups"].array.compactMap(\.string), resources: $0["resources"].array.compactMap(\.string), verbs: $0["verbs"].array.compactMap(\.string))
        }
    }
}

public struct ClusterRoleBinding: Sendable, Equatable {
    public struct Subject: Sendable, Equatable {
        public var kind: String
        public var name: String
        public var namespace: String?

        public init(kind: String, name: String, namespace: String?) {
            self.kind = kind
            self.name = name
            self.namespace = namespace
        }
    }

    public var metadata: ObjectMeta
    public var roleKind: String
    public var roleName: String
    public var subjects: [Subject]

    public init(metadata: ObjectMeta, roleKind: String = "ClusterRole", roleName: String, subjects: [Subject]) {
        self.metadata = metadata
        self.roleKind = roleKind
        self.roleName = roleName
        self.subjects = subjects
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        roleKind = json.at("roleRef", "kind").string ?? "ClusterRole"
        roleName = json.at("roleRef", "name").string ?? ""
        subjects = json["subjects"].array.map { Subject(kind: $0["kind"].string ?? "", name: $0["name"].string ?? "", namespace: $0["namespace"].string) }
    }

    /// Whether the binding names a ServiceAccount (directly, or through the group of its namespace or of all ServiceAccounts).
    public func binds(serviceAccount name: String, namespace: String) -> Bool {
        subjects.contains { s in
            (s.kind == "ServiceAccount" && s.name == name && s.namespace == namespace)
                || (s.kind == "Group" && (s.name == "system:serviceaccounts" || s.name == "system:serviceaccounts:\(namespace)"))
                || (s.kind == "User" && s.name == "system:serviceaccount:\(namespace):\(name)")
        }
    }
}
