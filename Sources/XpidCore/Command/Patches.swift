import Foundation

/// Object bodies and patches, built as JSON values (rendered by the encoder, never interpolated).
public enum Patches {
    /// A DeploymentRuntimeConfig whose `serviceAccountTemplate` sets a name and/or annotations.
    public static func runtimeConfigManifest(
        name: String, serviceAccountName: String? = nil, annotations: [String: String] = [:], podLabels: [String: String] = [:]
    ) -> JSONValue {
        var metadata: [String: JSONValue] = [:]
        if let serviceAccountName { metadata["name"] = .string(serviceAccountName) }
        if !annotations.isEmpty { metadata["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
        var spec: [String: JSONValue] = ["serviceAccountTemplate": ["metadata": .object(metadata)]]
        if !podLabels.isEmpty { spec["deploymentTemplate"] = deploymentTemplateLabels(podLabels) }
        return [
            "apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "metadata": ["name": .string(name)],
            "spec": .object(spec),
        ]
    }

    /// `deploymentTemplate` with pod-template labels; the CRD requires `selector` next to `template`
    /// (an empty one merges into an existing selector unchanged).
    static func deploymentTemplateLabels(_ labels: [String: String]) -> JSONValue {
        ["spec": ["selector": [:], "template": ["metadata": ["labels": .object(labels.mapValues(JSONValue.string))]]]]
    }

    /// The merge patch that adds a pod-template label to a DeploymentRuntimeConfig.
    public static func runtimeConfigPodLabel(_ key: String, _ value: String) -> JSONValue {
        ["spec": ["deploymentTemplate": deploymentTemplateLabels([key: value])]]
    }

    /// The merge patch that adds a label to a Deployment's pod template (which rolls the Deployment).
    public static func podTemplateLabel(_ key: String, _ value: String) -> JSONValue {
        ["spec": ["template": ["metadata": ["labels": .object([key: .string(value)])]]]]
    }

    /// The merge patch that sets top-level fields of an Azure ProviderConfig (`clientID`, `oidcTokenFilePath`, …).
    public static func providerConfigFields(_ fields: [String: String]) -> JSONValue {
        ["spec": .object(fields.mapValues(JSONValue.string))]
    }

    /// An empty DeploymentRuntimeConfig (Crossplane creates `default` itself; this restores it).
    public static func emptyRuntimeConfig(name: String) -> JSONValue {
        ["apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "metadata": ["name": .string(name)], "spec": [:]]
    }

    /// The merge patch that points a package's `runtimeConfigRef` at a DeploymentRuntimeConfig.
    public static func runtimeConfigRef(_ runtimeConfig: String) -> JSONValue {
        ["spec": ["runtimeConfigRef": ["apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "name": .string(runtimeConfig)]]]
    }

    /// The merge patch that sets one annotation in a DeploymentRuntimeConfig's `serviceAccountTemplate`.
    public static func serviceAccountTemplateAnnotation(_ key: String, _ value: String) -> JSONValue {
        ["spec": ["serviceAccountTemplate": ["metadata": ["annotations": .object([key: .string(value)])]]]]
    }

    /// A merge patch of an object's own annotations.
    public static func annotation(_ key: String, _ value: String) -> JSONValue {
        ["metadata": ["annotations": .object([key: .string(value)])]]
    }

    /// The JSON patch that removes one annotation from a DeploymentRuntimeConfig's `serviceAccountTemplate`.
    public static func removeServiceAccountTemplateAnnotation(_ key: String) -> JSONValue {
        let pointer = "/spec/serviceAccountTemplate/metadata/annotations/" + key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        return [["op": "remove", "path": .string(pointer)]]
    }

    /// A JSON patch removing the value at a JSON pointer.
    public static func remove(_ pointer: String) -> JSONValue { [["op": "remove", "path": .string(pointer)]] }

    public static func credentialsSource(_ source: String) -> JSONValue {
        ["spec": ["credentials": ["source": .string(source)]]]
    }

    public static func provider(name: String, package: String) -> JSONValue {
        ["apiVersion": "pkg.crossplane.io/v1", "kind": "Provider", "metadata": ["name": .string(name)], "spec": ["package": .string(package)]]
    }

    /// The default upjet AWS ClusterProviderConfig (namespaced managed resources default to it).
    public static func clusterProviderConfig(source: String) -> JSONValue {
        ["apiVersion": "aws.m.upbound.io/v1beta1", "kind": "ClusterProviderConfig", "metadata": ["name": "default"], "spec": ["credentials": ["source": .string(source)]]]
    }

    public static func package(_ reference: String) -> JSONValue { ["spec": ["package": .string(reference)]] }

    public static let skipDependencyResolution: JSONValue = ["spec": ["skipDependencyResolution": true]]

    /// The template annotation `kubectl rollout restart` sets, as a strategic merge patch.
    public static func restartedAt(_ stamp: String) -> JSONValue {
        ["spec": ["template": ["metadata": ["annotations": ["kubectl.kubernetes.io/restartedAt": .string(stamp)]]]]]
    }

    public static func ecrPullPolicy(repositories: [String]) -> JSONValue {
        [
            "Version": "2012-10-17",
            "Statement": [
                ["Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"],
                ["Effect": "Allow", "Action": .array(IAMPolicyEvaluator.ecrRepositoryPullActions.map(JSONValue.string)), "Resource": .array(repositories.map(JSONValue.string))],
            ],
        ]
    }
}
