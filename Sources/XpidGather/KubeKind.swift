import Foundation
import XpidCore

/// A kind of Kubernetes object the checks read. Crossplane's kinds and every provider family's
/// ProviderConfig kinds are declared here; each cloud adapter declares the platform kinds its
/// checks read (`CloudAdapter.clusterKinds`, `kubeSystemKinds`). Each is fetched once per run, batched.
struct KubeKind: Hashable, Sendable {
    var plural: String
    var group: String
    var kind: String

    init(_ plural: String, group: String = "", kind: String) {
        self.plural = plural
        self.group = group
        self.kind = kind
    }

    init(_ api: ProviderConfigAPI) { self.init(api.plural, group: api.group, kind: api.kind) }

    static let nodes = KubeKind("nodes", kind: "Node")
    static let pods = KubeKind("pods", kind: "Pod")
    static let serviceAccounts = KubeKind("serviceaccounts", kind: "ServiceAccount")
    static let deployments = KubeKind("deployments", group: "apps", kind: "Deployment")
    static let daemonSets = KubeKind("daemonsets", group: "apps", kind: "DaemonSet")
    static let providers = KubeKind("providers", group: "pkg.crossplane.io", kind: "Provider")
    static let functions = KubeKind("functions", group: "pkg.crossplane.io", kind: "Function")
    static let configurations = KubeKind("configurations", group: "pkg.crossplane.io", kind: "Configuration")
    static let runtimeConfigs = KubeKind("deploymentruntimeconfigs", group: "pkg.crossplane.io", kind: "DeploymentRuntimeConfig")
    static let imageConfigs = KubeKind("imageconfigs", group: "pkg.crossplane.io", kind: "ImageConfig")
    static let mutatingWebhooks = KubeKind("mutatingwebhookconfigurations", group: "admissionregistration.k8s.io", kind: "MutatingWebhookConfiguration")

    static let clusterRoles = KubeKind("clusterroles", group: "rbac.authorization.k8s.io", kind: "ClusterRole")
    static let clusterRoleBindings = KubeKind("clusterrolebindings", group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding")

    /// Flux's kinds that reach a cloud (read across namespaces when any of them is served).
    static let flux: [KubeKind] = FluxKind.allCases.map { KubeKind($0.plural, group: $0.group, kind: $0.rawValue) }

    /// Crossplane's own kinds and every family's ProviderConfig kinds, in the order they are requested.
    static let crossplane: [KubeKind] = [.providers, .functions, .configurations, .runtimeConfigs, .imageConfigs] + ProviderConfigAPI.allCases.map(KubeKind.init)

    /// Every kind any reader may request (for discovery lookups).
    static let all: [KubeKind] = [.nodes, .deployments, .pods, .serviceAccounts, .daemonSets, .mutatingWebhooks, .clusterRoles, .clusterRoleBindings] + crossplane + flux

    /// The `plural.group` name, as `kubectl api-resources -o name` prints it.
    var discoveryName: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// Kinds from CustomResourceDefinitions: absent from discovery means "not installed", not an error.
    var isCRD: Bool { !["", "apps", "admissionregistration.k8s.io", "rbac.authorization.k8s.io"].contains(group) }

    /// Names for the built-in kinds that need no discovery (`deployments.v1.apps` resolves without it).
    static let builtinNames: [KubeKind: String] = [
        .nodes: "nodes", .pods: "pods", .serviceAccounts: "serviceaccounts", .deployments: "deployments.v1.apps", .daemonSets: "daemonsets.v1.apps",
        .mutatingWebhooks: "mutatingwebhookconfigurations.v1.admissionregistration.k8s.io",
        .clusterRoles: "clusterroles.v1.rbac.authorization.k8s.io", .clusterRoleBindings: "clusterrolebindings.v1.rbac.authorization.k8s.io",
    ]

    /// `plural.version.group` (or the plain plural for the core group) from discovery's API version;
    /// nil when the version is unknown (kubectl then resolves `plural.group` itself).
    func versionedName(apiVersion: String?) -> String? {
        guard let apiVersion, !apiVersion.isEmpty else { return nil }
        let parts = apiVersion.split(separator: "/")
        guard parts.count == 2 else { return group.isEmpty ? plural : nil }
        return "\(plural).\(parts[1]).\(parts[0])"
    }

    /// Whether a `group/Kind` key of a listed item belongs to this kind.
    func matches(kindKey: String) -> Bool { kindKey == "\(group)/\(kind)" }
}
