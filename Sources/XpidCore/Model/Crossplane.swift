import Foundation

/// An OCI package reference such as `xpkg.upbound.io/upbound/provider-aws-s3:v1.21.0`.
public struct PackageReference: Sendable, Equatable {
    public var registry: String?
    /// The repository path without registry, e.g. `upbound/provider-aws-s3`.
    public var repository: String
    public var tag: String?
    public var digest: String?

    public init(_ text: String) {
        var rest = text
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = String(rest[..<at])
        } else {
            digest = nil
        }
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = String(rest[..<colon])
        } else {
            tag = nil
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, let first = parts.first, first.contains(".") || first.contains(":") || first == "localhost" {
            registry = first
            repository = parts.dropFirst().joined(separator: "/")
        } else {
            registry = nil
            repository = rest
        }
    }

    /// The last path component, e.g. `provider-aws-s3`.
    public var name: String { repository.split(separator: "/").last.map(String.init) ?? repository }

    /// The organisation or project part of the path, e.g. `upbound`.
    public var organization: String? {
        let parts = repository.split(separator: "/")
        return parts.count > 1 ? String(parts[parts.count - 2]) : nil
    }

    public var registryKind: RegistryKind { RegistryKind(host: registry) }

    /// `v1.12.0` → (1, 12, 0); nil when the tag is not a semantic version (e.g. `latest`).
    public var semanticVersion: (major: Int, minor: Int, patch: Int)? {
        guard var t = tag else { return nil }
        if t.hasPrefix("v") { t.removeFirst() }
        let core = t.split(whereSeparator: { $0 == "-" || $0 == "+" }).first.map(String.init) ?? t
        let nums = core.split(separator: ".").map { Int($0) }
        guard let major = nums.first ?? nil else { return nil }
        let minor = nums.count > 1 ? (nums[1] ?? 0) : 0
        let patch = nums.count > 2 ? (nums[2] ?? 0) : 0
        return (major, minor, patch)
    }

    public var text: String {
        var s = (registry.map { $0 + "/" } ?? "") + repository
        if let tag { s += ":" + tag }
        if let digest { s += "@" + digest }
        return s
    }
}

public enum RegistryKind: String, Sendable, Equatable {
    case ecr, acr, gar, publicCrossplane, other

    public init(host: String?) {
        guard let host = host?.lowercased() else { self = .publicCrossplane; return }
        if host.contains(".dkr.ecr.") && host.contains(".amazonaws.com") {
            self = .ecr
        } else if host.hasSuffix(".azurecr.io") {
            self = .acr
        } else if host.hasSuffix("-docker.pkg.dev") || host.hasSuffix("gcr.io") {
            self = .gar
        } else if host == "xpkg.upbound.io" || host == "xpkg.crossplane.io" {
            self = .publicCrossplane
        } else {
            self = .other
        }
    }
}

public enum PackageKind: String, Sendable, Equatable {
    case provider, function
    /// Configurations have no runtime (no pods); they matter only for where packages are pulled from.
    case configuration

    public var label: String { "pkg.crossplane.io/\(rawValue)" }
}

/// A `pkg.crossplane.io/v1` Provider or Function.
public struct CrossplanePackage: Sendable, Equatable {
    public var kind: PackageKind
    public var metadata: ObjectMeta
    public var package: String
    /// `spec.runtimeConfigRef.name`; the CRD defaults it to `default`.
    public var runtimeConfigName: String
    public var runtimeConfigRefSet: Bool
    public var skipDependencyResolution: Bool
    public var currentRevision: String?
    public var resolvedPackage: String?
    public var conditions: [Condition]
    /// `spec.packagePullSecrets`: the package manager tries these before any cloud keychain.
    public var packagePullSecrets: [String] = []

    public init(
        kind: PackageKind, metadata: ObjectMeta, package: String, runtimeConfigName: String = "default",
        runtimeConfigRefSet: Bool = false, skipDependencyResolution: Bool = false, currentRevision: String? = nil,
        resolvedPackage: String? = nil, conditions: [Condition] = []
    ) {
        self.kind = kind
        self.metadata = metadata
        self.package = package
        self.runtimeConfigName = runtimeConfigName
        self.runtimeConfigRefSet = runtimeConfigRefSet
        self.skipDependencyResolution = skipDependencyResolution
        self.currentRevision = currentRevision
        self.resolvedPackage = resolvedPackage
        self.conditions = conditions
    }

    public init(kind: PackageKind, _ json: JSONValue) {
        self.kind = kind
        metadata = ObjectMeta(json["metadata"])
        package = json.at("spec", "package").string ?? ""
        let ref = json.at("spec", "runtimeConfigRef", "name").string
        runtimeConfigName = ref ?? "default"
        runtimeConfigRefSet = ref != nil
        skipDependencyResolution = json.at("spec", "skipDependencyResolution").bool ?? false
        currentRevision = json.at("status", "currentRevision").string
        resolvedPackage = json.at("status", "resolvedPackage").string
        conditions = Condition.list(json.at("status", "conditions"))
        packagePullSecrets = json.at("spec", "packagePullSecrets").array.compactMap { $0["name"].string }
    }

    public var reference: PackageReference { PackageReference(resolvedPackage ?? package) }

    public func condition(_ type: String) -> Condition? { conditions.first { $0.type == type } }
}

/// `pkg.crossplane.io/v1beta1` DeploymentRuntimeConfig: the only supported way to shape a
/// package's ServiceAccount and pods in Crossplane v2.
public struct DeploymentRuntimeConfig: Sendable, Equatable {
    public var metadata: ObjectMeta
    public var serviceAccountName: String?
    public var serviceAccountAnnotations: [String: String]
    public var serviceAccountLabels: [String: String]
    public var deploymentAnnotations: [String: String]
    /// `deploymentTemplate.metadata.labels`: on the Deployment object, not its pods.
    public var deploymentLabels: [String: String] = [:]
    public var podLabels: [String: String]
    public var podAnnotations: [String: String]
    /// `deploymentTemplate.spec.template.spec.serviceAccountName`: an existing SA Crossplane uses but does not manage.
    public var podServiceAccountName: String?
    public var containers: [Container]

    public init(
        metadata: ObjectMeta, serviceAccountName: String? = nil, serviceAccountAnnotations: [String: String] = [:],
        serviceAccountLabels: [String: String] = [:], deploymentAnnotations: [String: String] = [:],
        podLabels: [String: String] = [:], podAnnotations: [String: String] = [:], podServiceAccountName: String? = nil,
        containers: [Container] = []
    ) {
        self.metadata = metadata
        self.serviceAccountName = serviceAccountName
        self.serviceAccountAnnotations = serviceAccountAnnotations
        self.serviceAccountLabels = serviceAccountLabels
        self.deploymentAnnotations = deploymentAnnotations
        self.podLabels = podLabels
        self.podAnnotations = podAnnotations
        self.podServiceAccountName = podServiceAccountName
        self.containers = containers
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        let sa = json.at("spec", "serviceAccountTemplate", "metadata")
        serviceAccountName = sa["name"].string
        serviceAccountAnnotations = sa["annotations"].stringMap
        serviceAccountLabels = sa["labels"].stringMap
        let deployment = json.at("spec", "deploymentTemplate")
        deploymentAnnotations = deployment.at("metadata", "annotations").stringMap
        deploymentLabels = deployment.at("metadata", "labels").stringMap
        let template = deployment.at("spec", "template")
        podLabels = template.at("metadata", "labels").stringMap
        podAnnotations = template.at("metadata", "annotations").stringMap
        podServiceAccountName = template.at("spec", "serviceAccountName").string
        containers = template.at("spec", "containers").array.map(Container.init)
    }
}

/// `pkg.crossplane.io/v1beta1` ImageConfig; only the parts that change a package's runtime.
public struct ImageConfig: Sendable, Equatable {
    public var metadata: ObjectMeta
    public var prefixes: [String]
    public var runtimeConfigName: String?

    public init(metadata: ObjectMeta, prefixes: [String], runtimeConfigName: String?) {
        self.metadata = metadata
        self.prefixes = prefixes
        self.runtimeConfigName = runtimeConfigName
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        prefixes = json.at("spec", "matchImages").array.compactMap { $0["prefix"].string }
        runtimeConfigName = json.at("spec", "runtime", "configRef", "name").string
    }
}

/// The API groups of upjet provider families' ProviderConfigs.
public enum ProviderConfigAPI: String, Sendable, CaseIterable, Equatable {
    case awsLegacy = "aws.upbound.io/ProviderConfig"
    case awsNamespaced = "aws.m.upbound.io/ProviderConfig"
    case awsCluster = "aws.m.upbound.io/ClusterProviderConfig"
    case azureLegacy = "azure.upbound.io/ProviderConfig"
    case azureNamespaced = "azure.m.upbound.io/ProviderConfig"
    case azureCluster = "azure.m.upbound.io/ClusterProviderConfig"
    case gcpLegacy = "gcp.upbound.io/ProviderConfig"
    case gcpNamespaced = "gcp.m.upbound.io/ProviderConfig"
    case gcpCluster = "gcp.m.upbound.io/ClusterProviderConfig"

    public var group: String { String(rawValue.split(separator: "/")[0]) }
    public var kind: String { String(rawValue.split(separator: "/")[1]) }
    public var plural: String { kind == "ProviderConfig" ? "providerconfigs" : "clusterproviderconfigs" }
    public var version: String { "v1beta1" }
    public var isNamespaced: Bool { [.awsNamespaced, .azureNamespaced, .gcpNamespaced].contains(self) }
    /// The provider family (cloud) whose providers serve this kind.
    public var family: Cloud {
        switch self {
        case .awsLegacy, .awsNamespaced, .awsCluster: return .aws
        case .azureLegacy, .azureNamespaced, .azureCluster: return .azure
        case .gcpLegacy, .gcpNamespaced, .gcpCluster: return .gcp
        }
    }

    public init?(group: String, kind: String) { self.init(rawValue: "\(group)/\(kind)") }
    /// `kubectl` resource argument, fully qualified so no discovery guesswork is needed.
    public var resource: String { "\(plural).\(version).\(group)" }
}

/// A provider family ProviderConfig or ClusterProviderConfig (only what identity checks need).
public struct ProviderConfig: Sendable, Equatable {
    public var api: ProviderConfigAPI
    public var metadata: ObjectMeta
    /// `spec.credentials.source`; nil when unset (the provider then defaults to `Secret`).
    public var source: String?
    public var assumeRoleChain: [String]
    /// Azure: top-level `spec.clientID`, `spec.tenantID`, `spec.subscriptionID`, `spec.oidcTokenFilePath`.
    public var clientID: String?
    public var tenantID: String?
    public var subscriptionID: String?
    public var oidcTokenFilePath: String?
    /// GCP: `spec.projectID` and `spec.credentials.impersonateServiceAccount.name`.
    public var projectID: String?
    public var impersonateServiceAccount: String?

    public init(
        api: ProviderConfigAPI, metadata: ObjectMeta, source: String?, assumeRoleChain: [String] = [], clientID: String? = nil, tenantID: String? = nil,
        subscriptionID: String? = nil, oidcTokenFilePath: String? = nil, projectID: String? = nil, impersonateServiceAccount: String? = nil
    ) {
        self.projectID = projectID
        self.impersonateServiceAccount = impersonateServiceAccount
        self.api = api
        self.metadata = metadata
        self.source = source
        self.assumeRoleChain = assumeRoleChain
        self.clientID = clientID
        self.tenantID = tenantID
        self.subscriptionID = subscriptionID
        self.oidcTokenFilePath = oidcTokenFilePath
    }

    public init(api: ProviderConfigAPI, _ json: JSONValue) {
        self.api = api
        metadata = ObjectMeta(json["metadata"])
        source = json.at("spec", "credentials", "source").string
        assumeRoleChain = json.at("spec", "assumeRoleChain").array.compactMap { $0["roleARN"].string }
        func nonEmpty(_ key: String) -> String? { json.at("spec", key).string.flatMap { $0.isEmpty ? nil : $0 } }
        clientID = nonEmpty("clientID")
        tenantID = nonEmpty("tenantID")
        subscriptionID = nonEmpty("subscriptionID")
        oidcTokenFilePath = nonEmpty("oidcTokenFilePath")
        projectID = nonEmpty("projectID")
        impersonateServiceAccount = json.at("spec", "credentials", "impersonateServiceAccount", "name").string.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `aws.m.upbound.io/ClusterProviderConfig default`, or with its namespace for namespaced kinds.
    public var displayName: String {
        let ns = metadata.namespace.map { " -n \($0)" } ?? ""
        return "\(api.kind.lowercased()).\(api.group) \(metadata.name)\(ns)"
    }
}
