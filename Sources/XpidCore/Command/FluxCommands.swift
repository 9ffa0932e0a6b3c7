import Foundation

/// kubectl commands and kustomize patches for Flux controllers and objects. Bodies are JSON values;
/// the kustomize patch text is rendered by `YAMLText` from the same values.
public enum FluxCommands {
    /// The JSON patch that turns `ObjectLevelWorkloadIdentity` on in a controller's manager container,
    /// keeping any other gate of an existing `--feature-gates` argument.
    public static func enableGatePatch(_ deployment: Deployment) -> JSONValue {
        let containers = deployment.template.spec.containers
        let c = containers.firstIndex { $0.name == FluxFacts.managerContainer } ?? 0
        let base = "/spec/template/spec/containers/\(c)/args"
        if let (index, _, current) = FluxControllerSettings.gateArgument(deployment) {
            return [["op": "replace", "path": .string("\(base)/\(index)"), "value": .string(mergedGates(current))]]
        }
        if containers.indices.contains(c), !containers[c].args.isEmpty {
            return [["op": "add", "path": .string("\(base)/-"), "value": .string(FluxFacts.featureGateArgument)]]
        }
        return [["op": "add", "path": .string(base), "value": [.string(FluxFacts.featureGateArgument)]]]
    }

    /// `--feature-gates=A=true,ObjectLevelWorkloadIdentity=false` → the same with the gate on.
    static func mergedGates(_ argument: String) -> String {
        let value = argument.dropFirst(FluxFacts.featureGatesFlag.count + 1)
        var entries = value.split(separator: ",").map(String.init).filter { !$0.hasPrefix(FluxFacts.featureGate + "=") }
        entries.append("\(FluxFacts.featureGate)=true")
        return "\(FluxFacts.featureGatesFlag)=" + entries.joined(separator: ",")
    }

    public static func enableGate(_ deployment: Deployment) -> Command {
        Commands.patch("deployment", deployment.metadata.name, namespace: deployment.metadata.namespace, type: .json, enableGatePatch(deployment))
    }

    public static func serviceAccountManifest(_ name: String, namespace: String, annotations: [String: String]) -> JSONValue {
        var metadata: [String: JSONValue] = ["name": .string(name), "namespace": .string(namespace)]
        if !annotations.isEmpty { metadata["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
        return ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": .object(metadata)]
    }

    public static func createServiceAccount(_ name: String, namespace: String) -> Command {
        Commands.kubectl(["create", "serviceaccount", .literal(name), "-n", .literal(namespace), Commands.fieldManager], effect: .change)
    }

    public static let tokenRoleName = "flux-object-level-workload-identity"

    /// A ClusterRole granting `create` on `serviceaccounts/token` and its binding to a controller's ServiceAccount
    /// (what fluxcd/flux2 ships in `crd-controller` since v2.6 for object-level workload identity).
    public static func tokenPermissionManifest(serviceAccount: String, namespace: String) -> JSONValue {
        let binding = "\(tokenRoleName)-\(serviceAccount)"
        return [
            "apiVersion": "v1", "kind": "List",
            "items": [
                [
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": .string(tokenRoleName)],
                    "rules": [["apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]]],
                ],
                [
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": ["name": .string(binding)],
                    "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(tokenRoleName)],
                    "subjects": [["kind": "ServiceAccount", "name": .string(serviceAccount), "namespace": .string(namespace)]],
                ],
            ],
        ]
    }

    public static func setProvider(_ object: FluxObject, _ provider: String) -> Command {
        Commands.patch(object.resource, object.name, namespace: object.namespace, ["spec": ["provider": .string(provider)]])
    }

    /// How to see why an object is not ready.
    public static func describe(_ object: FluxObject) -> Command {
        Commands.kubectl(["describe", .literal(object.resource), .literal(object.name), "-n", .literal(object.namespace)])
    }
}

/// One entry of a Kustomization's `patches:` list, in the form of Flux's bootstrap docs: a strategic
/// merge patch (an object) or a JSON 6902 patch (a list of operations) with its `target`.
public struct KustomizePatch: Sendable, Equatable {
    public var targetKind: String
    public var targetName: String
    public var targetNamespace: String?
    public var patch: JSONValue

    public init(targetKind: String, targetName: String, targetNamespace: String? = nil, patch: JSONValue) {
        self.targetKind = targetKind
        self.targetName = targetName
        self.targetNamespace = targetNamespace
        self.patch = patch
    }

    /// The `patches:` entry as YAML lines, ready to paste under `patches:` of the `kustomization.yaml`.
    public var yamlLines: [String] {
        var target: [String: JSONValue] = ["kind": .string(targetKind), "name": .string(targetName)]
        if let targetNamespace { target["namespace"] = .string(targetNamespace) }
        var lines = ["patches:", "  - patch: |"]
        lines += YAMLText.lines(patch).map { "      " + $0 }
        lines.append("    target:")
        lines += YAMLText.lines(.object(target), order: ["kind", "name", "namespace"]).map { "      " + $0 }
        return lines
    }

    public static func serviceAccountAnnotations(_ name: String, namespace: String, _ annotations: [String: String], fluxNamespace: String = FluxFacts.defaultNamespace) -> KustomizePatch {
        KustomizePatch(
            targetKind: "ServiceAccount", targetName: name, targetNamespace: namespace == fluxNamespace ? nil : namespace,
            patch: ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": .string(name), "annotations": .object(annotations.mapValues(JSONValue.string))]])
    }

    public static func deploymentPodLabel(_ name: String, namespace: String, key: String, value: String, fluxNamespace: String = FluxFacts.defaultNamespace) -> KustomizePatch {
        KustomizePatch(
            targetKind: "Deployment", targetName: name, targetNamespace: namespace == fluxNamespace ? nil : namespace,
            patch: ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)], "spec": ["template": ["metadata": ["labels": .object([key: .string(value)])]]]])
    }

    public static func featureGate(_ deployment: Deployment, fluxNamespace: String = FluxFacts.defaultNamespace) -> KustomizePatch {
        let ns = deployment.metadata.namespace ?? fluxNamespace
        return KustomizePatch(targetKind: "Deployment", targetName: deployment.metadata.name, targetNamespace: ns == fluxNamespace ? nil : ns, patch: FluxCommands.enableGatePatch(deployment))
    }
}

/// Renders JSON values as block YAML. Strings that YAML could read as anything but themselves (numbers,
/// booleans, null, leading indicators, `: `, `#`, quotes, control characters) are written as JSON
/// strings, which YAML reads as double-quoted scalars; so a value never changes meaning in the text.
public enum YAMLText {
    static let plainPattern = #"^[A-Za-z_/][A-Za-z0-9_./:@=,+|()-]*$"#
    static let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]

    public static func scalar(_ s: String) -> String {
        if FluxFacts.matches(s, plainPattern), !reserved.contains(s.lowercased()), !s.contains(": "), !s.hasSuffix(":") { return s }
        return JSONValue.string(s).compactText()
    }

    /// Keys in `order` first (Kubernetes' apiVersion/kind/metadata reading order), the rest sorted.
    public static func lines(_ value: JSONValue, order: [String] = ["apiVersion", "kind", "metadata", "name", "namespace", "op", "path", "value"]) -> [String] {
        switch value {
        case .object(let o):
            let keys = order.filter { o[$0] != nil } + o.keys.filter { !order.contains($0) }.sorted()
            return keys.flatMap { key -> [String] in
                let v = o[key] ?? .null
                switch v {
                case .object(let inner) where !inner.isEmpty: return ["\(scalar(key)):"] + lines(v, order: order).map { "  " + $0 }
                case .array(let items) where !items.isEmpty: return ["\(scalar(key)):"] + lines(v, order: order)
                default: return ["\(scalar(key)): \(inline(v))"]
                }
            }
        case .array(let items):
            return items.flatMap { item -> [String] in
                let inner = lines(item, order: order)
                let nested: Bool
                switch item {
                case .object(let o): nested = !o.isEmpty
                case .array(let a): nested = !a.isEmpty
                default: nested = false
                }
                guard nested, let first = inner.first else { return ["- " + inline(item)] }
                return ["- " + first] + inner.dropFirst().map { "  " + $0 }
            }
        default:
            return [inline(value)]
        }
    }

    static func inline(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return scalar(s)
        case .object(let o) where o.isEmpty: return "{}"
        case .array(let a) where a.isEmpty: return "[]"
        default: return value.compactText()
        }
    }
}
