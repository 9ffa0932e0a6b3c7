import Foundation
import XpidCore

/// Builders for Kubernetes objects as `kubectl get … -o json` prints them. Only the fields
/// the gatherer reads are filled in, shaped exactly like the real API objects.
public enum KubeJSON {
    /// The document `kubectl get a,b,c -o json` prints for several types: a `v1` `List`.
    public static func list(_ items: [JSONValue]) -> JSONValue {
        ["apiVersion": "v1", "kind": "List", "items": .array(items), "metadata": ["resourceVersion": ""]]
    }

    /// `list(items)` as kubectl's stdout text.
    public static func listText(_ items: [JSONValue]) -> String { list(items).compactText() + "\n" }

    public static func strings(_ map: [String: String]) -> JSONValue { .object(map.mapValues { .string($0) }) }

    public static func metadata(
        name: String, namespace: String? = nil, labels: [String: String] = [:], annotations: [String: String] = [:],
        created: String = "2026-10-01T00:00:00Z", ownerReferences: [JSONValue] = []
    ) -> JSONValue {
        var m: [String: JSONValue] = ["name": .string(name), "uid": .string("uid-\(namespace ?? "cluster")-\(name)"), "creationTimestamp": .string(created)]
        if let namespace { m["namespace"] = .string(namespace) }
        if !labels.isEmpty { m["labels"] = strings(labels) }
        if !annotations.isEmpty { m["annotations"] = strings(annotations) }
        if !ownerReferences.isEmpty { m["ownerReferences"] = .array(ownerReferences) }
        return .object(m)
    }

    public static func node(_ name: String, providerID: String?, labels: [String: String] = [:]) -> JSONValue {
        var spec: [String: JSONValue] = [:]
        if let providerID { spec["providerID"] = .string(providerID) }
        return ["apiVersion": "v1", "kind": "Node", "metadata": metadata(name: name, labels: labels), "spec": .object(spec)]
    }

    public static func env(_ pairs: [(String, String)]) -> JSONValue {
        .array(pairs.map { ["name": .string($0.0), "value": .string($0.1)] })
    }

    public static func container(_ name: String, image: String, env: [(String, String)] = [], mounts: [(String, String)] = [], args: [String] = []) -> JSONValue {
        var c: [String: JSONValue] = ["name": .string(name), "image": .string(image)]
        if !env.isEmpty { c["env"] = self.env(env) }
        if !mounts.isEmpty { c["volumeMounts"] = .array(mounts.map { ["name": .string($0.0), "mountPath": .string($0.1), "readOnly": true] }) }
        if !args.isEmpty { c["args"] = .array(args.map { .string($0) }) }
        return .object(c)
    }

    public static func projectedTokenVolume(_ name: String, audience: String, path: String) -> JSONValue {
        ["name": .string(name), "projected": ["defaultMode": 420, "sources": [["serviceAccountToken": ["audience": .string(audience), "expirationSeconds": 86400, "path": .string(path)]]]]]
    }

    public static func pod(
        name: String, namespace: String, labels: [String: String] = [:], annotations: [String: String] = [:],
        serviceAccount: String?, node: String?, containers: [JSONValue], volumes: [JSONValue] = [],
        created: String = "2026-11-10T09:00:00Z", phase: String = "Running", ownerReferences: [JSONValue] = [], hostNetwork: Bool = false
    ) -> JSONValue {
        var spec: [String: JSONValue] = ["containers": .array(containers)]
        if let serviceAccount { spec["serviceAccountName"] = .string(serviceAccount); spec["serviceAccount"] = .string(serviceAccount) }
        if let node { spec["nodeName"] = .string(node) }
        if !volumes.isEmpty { spec["volumes"] = .array(volumes) }
        if hostNetwork { spec["hostNetwork"] = true }
        let statuses: [JSONValue] = containers.map { c in
            ["name": c["name"], "ready": true, "restartCount": 0, "state": ["running": ["startedAt": .string(created)]]]
        }
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": metadata(name: name, namespace: namespace, labels: labels, annotations: annotations, created: created, ownerReferences: ownerReferences),
            "spec": .object(spec),
            "status": ["phase": .string(phase), "containerStatuses": .array(statuses)],
        ]
    }

    public static func serviceAccount(_ name: String, namespace: String, annotations: [String: String] = [:]) -> JSONValue {
        ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(name: name, namespace: namespace, annotations: annotations)]
    }

    public static func deployment(
        name: String, namespace: String, labels: [String: String] = [:], selector: [String: String], templateLabels: [String: String],
        serviceAccount: String?, containers: [JSONValue], replicas: Int = 1
    ) -> JSONValue {
        var podSpec: [String: JSONValue] = ["containers": .array(containers)]
        if let serviceAccount { podSpec["serviceAccountName"] = .string(serviceAccount) }
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": metadata(name: name, namespace: namespace, labels: labels),
            "spec": [
                "replicas": .number(Double(replicas)), "selector": ["matchLabels": strings(selector)],
                "template": ["metadata": ["labels": strings(templateLabels)], "spec": .object(podSpec)],
            ],
            "status": ["replicas": .number(Double(replicas)), "readyReplicas": .number(Double(replicas)), "availableReplicas": .number(Double(replicas))],
        ]
    }

    public static func daemonSet(name: String, namespace: String, desired: Int, ready: Int) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": metadata(name: name, namespace: namespace, labels: ["app.kubernetes.io/name": name]),
            "spec": ["selector": ["matchLabels": ["app.kubernetes.io/name": .string(name)]], "template": ["metadata": ["labels": ["app.kubernetes.io/name": .string(name)]], "spec": ["containers": [["name": .string(name), "image": "602401143452.dkr.ecr.us-east-2.amazonaws.com/eks/eks-pod-identity-agent:0.1.29"]]]]],
            "status": ["desiredNumberScheduled": .number(Double(desired)), "numberReady": .number(Double(ready)), "currentNumberScheduled": .number(Double(desired)), "numberAvailable": .number(Double(ready))],
        ]
    }

    public static func healthyConditions() -> JSONValue {
        [
            ["type": "Installed", "status": "True", "reason": "ActivePackageRevision", "lastTransitionTime": "2026-11-10T08:59:00Z"],
            ["type": "Healthy", "status": "True", "reason": "HealthyPackageRevision", "lastTransitionTime": "2026-11-10T09:01:00Z"],
        ]
    }

    /// A `pkg.crossplane.io/v1` Provider or Function.
    public static func package(
        kind: String = "Provider", name: String, package: String, runtimeConfig: String? = nil, currentRevision: String?,
        conditions: JSONValue = KubeJSON.healthyConditions()
    ) -> JSONValue {
        var spec: [String: JSONValue] = ["package": .string(package), "packagePullPolicy": "IfNotPresent", "revisionActivationPolicy": "Automatic"]
        if let runtimeConfig {
            spec["runtimeConfigRef"] = ["apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "name": .string(runtimeConfig)]
        }
        var status: [String: JSONValue] = ["conditions": conditions]
        if let currentRevision { status["currentRevision"] = .string(currentRevision); status["currentIdentifier"] = .string(package) }
        return ["apiVersion": "pkg.crossplane.io/v1", "kind": .string(kind), "metadata": metadata(name: name), "spec": .object(spec), "status": .object(status)]
    }

    public static func runtimeConfig(_ name: String, serviceAccountName: String? = nil, serviceAccountAnnotations: [String: String] = [:]) -> JSONValue {
        var spec: [String: JSONValue] = [:]
        if serviceAccountName != nil || !serviceAccountAnnotations.isEmpty {
            var meta: [String: JSONValue] = [:]
            if let serviceAccountName { meta["name"] = .string(serviceAccountName) }
            if !serviceAccountAnnotations.isEmpty { meta["annotations"] = strings(serviceAccountAnnotations) }
            spec["serviceAccountTemplate"] = ["metadata": .object(meta)]
        }
        return ["apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "metadata": metadata(name: name), "spec": .object(spec)]
    }

    public static func imageConfig(_ name: String, prefixes: [String], runtimeConfig: String?) -> JSONValue {
        var spec: [String: JSONValue] = ["matchImages": .array(prefixes.map { ["type": "Prefix", "prefix": .string($0)] })]
        if let runtimeConfig { spec["runtime"] = ["configRef": ["name": .string(runtimeConfig)]] }
        return ["apiVersion": "pkg.crossplane.io/v1beta1", "kind": "ImageConfig", "metadata": metadata(name: name), "spec": .object(spec)]
    }

    /// An AWS ProviderConfig (`aws.upbound.io` or `aws.m.upbound.io`) or ClusterProviderConfig.
    public static func providerConfig(
        group: String = "aws.m.upbound.io", kind: String = "ClusterProviderConfig", name: String = "default", namespace: String? = nil,
        source: String?, assumeRoleChain: [String] = []
    ) -> JSONValue {
        var spec: [String: JSONValue] = [:]
        if let source { spec["credentials"] = ["source": .string(source)] }
        if !assumeRoleChain.isEmpty { spec["assumeRoleChain"] = .array(assumeRoleChain.map { ["roleARN": .string($0)] }) }
        return ["apiVersion": .string("\(group)/v1beta1"), "kind": .string(kind), "metadata": metadata(name: name, namespace: namespace), "spec": .object(spec)]
    }
}

/// Builders for what awscli v1 prints with `--output json`.
public enum AWSJSON {
    public static func describeCluster(name: String, region: String, account: String = "123456789012") -> JSONValue {
        [
            "cluster": [
                "name": .string(name), "arn": .string("arn:aws:eks:\(region):\(account):cluster/\(name)"), "version": "1.33", "status": "ACTIVE",
                "endpoint": .string("https://ABCDEF0123456789.gr7.\(region).eks.amazonaws.com"),
                "identity": ["oidc": ["issuer": .string("https://oidc.eks.\(region).amazonaws.com/id/ABCDEF0123456789")]],
                "createdAt": "2026-01-10T10:00:00.000000+00:00",
            ]
        ]
    }

    public static func describeAddon(cluster: String, status: String = "ACTIVE") -> JSONValue {
        ["addon": ["addonName": "eks-pod-identity-agent", "clusterName": .string(cluster), "status": .string(status), "addonVersion": "v1.3.4-eksbuild.1", "health": ["issues": []]]]
    }

    public static func associationSummary(cluster: String, namespace: String, serviceAccount: String, id: String, region: String = "us-east-2", account: String = "123456789012") -> JSONValue {
        [
            "clusterName": .string(cluster), "namespace": .string(namespace), "serviceAccount": .string(serviceAccount),
            "associationArn": .string("arn:aws:eks:\(region):\(account):podidentityassociation/\(cluster)/\(id)"), "associationId": .string(id),
        ]
    }

    public static func listAssociations(_ summaries: [JSONValue]) -> JSONValue { ["associations": .array(summaries)] }

    /// The `association` of `describe-pod-identity-association` (summary fields plus role and times).
    public static func association(summary: JSONValue, roleArn: String, createdAt: String = "2026-11-01T08:00:00.123000+00:00") -> JSONValue {
        var a = summary.object
        a["roleArn"] = .string(roleArn)
        a["createdAt"] = .string(createdAt)
        a["modifiedAt"] = .string(createdAt)
        a["tags"] = [:]
        return .object(a)
    }

    public static func getRole(name: String, account: String = "123456789012", trust: JSONValue) -> JSONValue {
        ["Role": ["Path": "/", "RoleName": .string(name), "RoleId": "AROAEXAMPLE", "Arn": .string("arn:aws:iam::\(account):role/\(name)"), "CreateDate": "2026-10-01T00:00:00+00:00", "AssumeRolePolicyDocument": trust, "MaxSessionDuration": 3600]]
    }

    public static let podIdentityTrust: JSONValue = [
        "Version": "2012-10-17",
        "Statement": [["Effect": "Allow", "Principal": ["Service": "pods.eks.amazonaws.com"], "Action": ["sts:AssumeRole", "sts:TagSession"]]],
    ]

    public static let describeAddonNotFound = "\nAn error occurred (ResourceNotFoundException) when calling the DescribeAddon operation: No addon: eks-pod-identity-agent found in cluster: prod-eks\n"
}
