import Foundation

/// Parses the timestamps Kubernetes (RFC 3339 strings) and the cloud CLIs (RFC 3339 strings,
/// or epoch seconds as awscli v1 prints REST-JSON timestamps) put in their output.
public enum Timestamp {
    public static func parse(_ value: JSONValue) -> Date? {
        if let seconds = value.double { return Date(timeIntervalSince1970: seconds) }
        guard let text = value.string else { return nil }
        return parse(text)
    }

    public static func parse(_ text: String) -> Date? {
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        let plain = Date.ISO8601FormatStyle()
        if let d = try? plain.parse(text) { return d }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let d = try? fractional.parse(text) { return d }
        // awscli prints e.g. 2026-11-05T10:00:00.123000+00:00; trim sub-millisecond digits.
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "+" || $0 == "-" || $0 == "Z" }) {
            let digits = text[text.index(after: dot)..<zone].prefix(3)
            let trimmed = String(text[..<dot]) + "." + digits + String(text[zone...])
            if let d = try? fractional.parse(trimmed) { return d }
        }
        return nil
    }

    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }
}

public struct OwnerReference: Sendable, Equatable {
    public var kind: String
    public var name: String
    public var controller: Bool

    public init(kind: String, name: String, controller: Bool = true) {
        self.kind = kind
        self.name = name
        self.controller = controller
    }
}

public struct ObjectMeta: Sendable, Equatable {
    public var name: String
    public var namespace: String?
    public var labels: [String: String]
    public var annotations: [String: String]
    public var creationTimestamp: Date?
    public var ownerReferences: [OwnerReference]
    public var generation: Int?

    public init(
        name: String, namespace: String? = nil, labels: [String: String] = [:], annotations: [String: String] = [:],
        creationTimestamp: Date? = nil, ownerReferences: [OwnerReference] = [], generation: Int? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.creationTimestamp = creationTimestamp
        self.ownerReferences = ownerReferences
        self.generation = generation
    }

    public init(_ json: JSONValue) {
        name = json["name"].string ?? ""
        namespace = json["namespace"].string
        labels = json["labels"].stringMap
        annotations = json["annotations"].stringMap
        creationTimestamp = Timestamp.parse(json["creationTimestamp"])
        ownerReferences = json["ownerReferences"].array.map {
            OwnerReference(kind: $0["kind"].string ?? "", name: $0["name"].string ?? "", controller: $0["controller"].bool ?? false)
        }
        generation = json["generation"].int
    }

    /// Who manages this object declaratively, if anyone: edits to it would be reverted.
    public var managedBy: ManagedBy? {
        if labels["app.kubernetes.io/managed-by"] == "Helm" || annotations["meta.helm.sh/release-name"] != nil {
            return .helm(release: annotations["meta.helm.sh/release-name"], namespace: annotations["meta.helm.sh/release-namespace"])
        }
        if let name = labels["kustomize.toolkit.fluxcd.io/name"] {
            return .flux(kustomization: name, namespace: labels["kustomize.toolkit.fluxcd.io/namespace"])
        }
        if let name = labels["helm.toolkit.fluxcd.io/name"] {
            return .flux(kustomization: name, namespace: labels["helm.toolkit.fluxcd.io/namespace"])
        }
        return nil
    }
}

public enum ManagedBy: Sendable, Equatable {
    case helm(release: String?, namespace: String?)
    case flux(kustomization: String, namespace: String?)
}

public struct EnvVar: Sendable, Equatable {
    public var name: String
    /// nil when the variable comes from `valueFrom` (a Secret or field ref).
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

public struct VolumeMount: Sendable, Equatable {
    public var name: String
    public var mountPath: String

    public init(name: String, mountPath: String) {
        self.name = name
        self.mountPath = mountPath
    }
}

public struct Container: Sendable, Equatable {
    public var name: String
    public var image: String?
    public var env: [EnvVar]
    public var volumeMounts: [VolumeMount]
    public var args: [String]

    public init(name: String, image: String? = nil, env: [EnvVar] = [], volumeMounts: [VolumeMount] = [], args: [String] = []) {
        self.name = name
        self.image = image
        self.env = env
        self.volumeMounts = volumeMounts
        self.args = args
    }

    public init(_ json: JSONValue) {
        name = json["name"].string ?? ""
        image = json["image"].string
        env = json["env"].array.map { EnvVar(name: $0["name"].string ?? "", value: $0["value"].string) }
        volumeMounts = json["volumeMounts"].array.map {
            VolumeMount(name: $0["name"].string ?? "", mountPath: $0["mountPath"].string ?? "")
        }
        args = json["args"].strings
    }

    public func envValue(_ name: String) -> String? {
        env.last(where: { $0.name == name })?.value
    }

    public func hasEnv(_ name: String) -> Bool { env.contains { $0.name == name } }
}

/// A projected service account token, the way every workload identity webhook delivers tokens.
public struct ProjectedToken: Sendable, Equatable {
    public var audience: String?
    public var path: String

    public init(audience: String?, path: String) {
        self.audience = audience
        self.path = path
    }
}

public struct Volume: Sendable, Equatable {
    public var name: String
    public var projectedTokens: [ProjectedToken]

    public init(name: String, projectedTokens: [ProjectedToken] = []) {
        self.name = name
        self.projectedTokens = projectedTokens
    }

    public init(_ json: JSONValue) {
        name = json["name"].string ?? ""
        projectedTokens = json.at("projected", "sources").array.compactMap { source in
            let token = source["serviceAccountToken"]
            guard token != .null else { return nil }
            return ProjectedToken(audience: token["audience"].string, path: token["path"].string ?? "")
        }
    }
}

public struct PodSpec: Sendable, Equatable {
    public var serviceAccountName: String?
    public var nodeName: String?
    public var hostNetwork: Bool
    public var containers: [Container]
    public var initContainers: [Container]
    public var volumes: [Volume]

    public init(
        serviceAccountName: String? = nil, nodeName: String? = nil, hostNetwork: Bool = false,
        containers: [Container] = [], initContainers: [Container] = [], volumes: [Volume] = []
    ) {
        self.serviceAccountName = serviceAccountName
        self.nodeName = nodeName
        self.hostNetwork = hostNetwork
        self.containers = containers
        self.initContainers = initContainers
        self.volumes = volumes
    }

    public init(_ json: JSONValue) {
        serviceAccountName = json["serviceAccountName"].string ?? json["serviceAccount"].string
        nodeName = json["nodeName"].string
        hostNetwork = json["hostNetwork"].bool ?? false
        containers = json["containers"].array.map(Container.init)
        initContainers = json["initContainers"].array.map(Container.init)
        volumes = json["volumes"].array.map(Volume.init)
    }

    /// Kubernetes runs a pod whose spec names no service account as `default`.
    public var effectiveServiceAccountName: String { serviceAccountName ?? "default" }
}

public struct PodTemplate: Sendable, Equatable {
    public var labels: [String: String]
    public var annotations: [String: String]
    public var spec: PodSpec

    public init(labels: [String: String] = [:], annotations: [String: String] = [:], spec: PodSpec = PodSpec()) {
        self.labels = labels
        self.annotations = annotations
        self.spec = spec
    }

    public init(_ json: JSONValue) {
        labels = json.at("metadata", "labels").stringMap
        annotations = json.at("metadata", "annotations").stringMap
        spec = PodSpec(json["spec"])
    }
}

public struct ContainerState: Sendable, Equatable {
    public var name: String
    public var ready: Bool
    public var waitingReason: String?
    public var waitingMessage: String?

    public init(name: String, ready: Bool, waitingReason: String? = nil, waitingMessage: String? = nil) {
        self.name = name
        self.ready = ready
        self.waitingReason = waitingReason
        self.waitingMessage = waitingMessage
    }
}

public struct Pod: Sendable, Equatable {
    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var phase: String?
    public var containerStatuses: [ContainerState]
    public var isTerminating: Bool

    public init(metadata: ObjectMeta, spec: PodSpec, phase: String? = "Running", containerStatuses: [ContainerState] = [], isTerminating: Bool = false) {
        self.metadata = metadata
        self.spec = spec
        self.phase = phase
        self.containerStatuses = containerStatuses
        self.isTerminating = isTerminating
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        spec = PodSpec(json["spec"])
        phase = json.at("status", "phase").string
        containerStatuses = (json.at("status", "initContainerStatuses").array + json.at("status", "containerStatuses").array).map {
            ContainerState(
                name: $0["name"].string ?? "", ready: $0["ready"].bool ?? false,
                waitingReason: $0.at("state", "waiting", "reason").string,
                waitingMessage: $0.at("state", "waiting", "message").string)
        }
        isTerminating = json.at("metadata", "deletionTimestamp") != .null
    }

    /// Pods that count for identity checks: not finished, not being deleted.
    public var isLive: Bool {
        !isTerminating && phase != "Succeeded" && phase != "Failed"
    }

    public var allContainers: [Container] { spec.initContainers + spec.containers }
}

public struct Deployment: Sendable, Equatable {
    public var metadata: ObjectMeta
    public var replicas: Int
    public var selector: [String: String]
    public var template: PodTemplate
    public var readyReplicas: Int
    public var availableReplicas: Int

    public init(metadata: ObjectMeta, replicas: Int = 1, selector: [String: String] = [:], template: PodTemplate, readyReplicas: Int = 1, availableReplicas: Int = 1) {
        self.metadata = metadata
        self.replicas = replicas
        self.selector = selector
        self.template = template
        self.readyReplicas = readyReplicas
        self.availableReplicas = availableReplicas
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        replicas = json.at("spec", "replicas").int ?? 1
        selector = json.at("spec", "selector", "matchLabels").stringMap
        template = PodTemplate(json.at("spec", "template"))
        readyReplicas = json.at("status", "readyReplicas").int ?? 0
        availableReplicas = json.at("status", "availableReplicas").int ?? 0
    }
}

public struct DaemonSet: Sendable, Equatable {
    public var metadata: ObjectMeta
    public var desired: Int
    public var ready: Int
    public var template: PodTemplate

    public init(metadata: ObjectMeta, desired: Int, ready: Int, template: PodTemplate = PodTemplate()) {
        self.metadata = metadata
        self.desired = desired
        self.ready = ready
        self.template = template
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        desired = json.at("status", "desiredNumberScheduled").int ?? 0
        ready = json.at("status", "numberReady").int ?? 0
        template = PodTemplate(json.at("spec", "template"))
    }
}

public struct Node: Sendable, Equatable {
    public var metadata: ObjectMeta
    public var providerID: String?

    public init(metadata: ObjectMeta, providerID: String?) {
        self.metadata = metadata
        self.providerID = providerID
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        providerID = json.at("spec", "providerID").string
    }

    /// EKS compute types on which the Pod Identity agent DaemonSet does not run.
    public var eksComputeType: String? { metadata.labels["eks.amazonaws.com/compute-type"] }
}

public struct ServiceAccount: Sendable, Equatable {
    public var metadata: ObjectMeta
    /// Names of the Secrets in `imagePullSecrets` (Flux's OCI keychain prefers them over workload identity).
    public var imagePullSecrets: [String]

    public init(metadata: ObjectMeta, imagePullSecrets: [String] = []) {
        self.metadata = metadata
        self.imagePullSecrets = imagePullSecrets
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        imagePullSecrets = json["imagePullSecrets"].array.compactMap { $0["name"].string }
    }
}

public struct Condition: Sendable, Equatable {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }

    public static func list(_ json: JSONValue) -> [Condition] {
        json.array.map {
            Condition(type: $0["type"].string ?? "", status: $0["status"].string ?? "Unknown", reason: $0["reason"].string, message: $0["message"].string)
        }
    }
}

public enum ImagePull {
    /// Container waiting reasons that mean the node could not pull the image.
    public static let failureReasons: Set<String> = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"]

    public static func isPullFailure(_ reason: String?) -> Bool { reason.map(failureReasons.contains) ?? false }
}
