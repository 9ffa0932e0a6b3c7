import Foundation
import XpidCore
import XpidGather

/// A seed-like EKS cluster (Crossplane v2, `provider-aws-s3` with a pinned ServiceAccount and an
/// EKS Pod Identity association, the family provider on its default runtime config), as the CLIs
/// would print it. Tests change the parts they are about, then `stub(on:)` a `FakeCommandRunner`.
public struct SeedCluster: Sendable {
    public static let account = "123456789012"
    public static let namespace = "crossplane-system"
    public static let s3Revision = "provider-aws-s3-92206523fff4"
    public static let familyRevision = "upbound-provider-family-aws-7d1a4b5c6e2f"
    public static let podIdentitySA = "provider-aws-pod-identity"
    public static let roleName = "crossplane-provider-aws-pod-identity"
    public static let roleArn = "arn:aws:iam::123456789012:role/crossplane-provider-aws-pod-identity"
    public static let associationID = "a-abcdefghij0123456"
    public static let otherAssociationID = "a-zyxwvutsrq9876543"
    public static let contextARN = "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks"
    public static let server = "https://ABCDEF0123456789.gr7.us-east-2.eks.amazonaws.com"

    /// The cluster-wide custom resource types in the order the gatherer batches them (round 2).
    public static let crdOrder = [
        "providers.pkg.crossplane.io", "functions.pkg.crossplane.io",
        "configurations.pkg.crossplane.io", "deploymentruntimeconfigs.pkg.crossplane.io", "imageconfigs.pkg.crossplane.io",
        "providerconfigs.aws.upbound.io", "providerconfigs.aws.m.upbound.io", "clusterproviderconfigs.aws.m.upbound.io",
        "providerconfigs.azure.upbound.io", "providerconfigs.azure.m.upbound.io", "clusterproviderconfigs.azure.m.upbound.io",
        "providerconfigs.gcp.upbound.io", "providerconfigs.gcp.m.upbound.io", "clusterproviderconfigs.gcp.m.upbound.io",
    ]

    /// The API version discovery reports for a `plural.group` (what `kubectl api-resources -o wide` shows).
    public static func apiVersion(_ name: String) -> String {
        let parts = name.split(separator: ".", maxSplits: 1)
        guard parts.count == 2 else { return "v1" }
        let group = String(parts[1])
        if group.hasSuffix("upbound.io") || ["deploymentruntimeconfigs", "imageconfigs"].contains(parts[0]) { return "\(group)/v1beta1" }
        return "\(group)/v1"
    }

    /// `plural.version.group`, as the gatherer names a custom resource type.
    public static func versioned(_ name: String) -> String {
        let parts = name.split(separator: ".", maxSplits: 1)
        guard parts.count == 2 else { return name }
        let version = apiVersion(name).split(separator: "/")[1]
        return "\(parts[0]).\(version).\(parts[1])"
    }

    /// `kubectl api-resources -o wide` output for `names` (SHORTNAMES left empty, as for most CRDs).
    public static func wideTable(_ names: [String]) -> String {
        var out = "NAME                                                         SHORTNAMES   APIVERSION                                   NAMESPACED   KIND\n"
        for name in names {
            let plural = String(name.split(separator: ".", maxSplits: 1)[0])
            out += plural.padding(toLength: 61, withPad: " ", startingAt: 0) + String(repeating: " ", count: 13)
                + apiVersion(name).padding(toLength: 45, withPad: " ", startingAt: 0) + "true         Thing\n"
        }
        return out
    }

    public static let coreAPIResources = [
        "bindings", "componentstatuses", "configmaps", "endpoints", "events", "limitranges", "namespaces", "nodes",
        "persistentvolumeclaims", "persistentvolumes", "pods", "podtemplates", "replicationcontrollers", "resourcequotas",
        "secrets", "serviceaccounts", "services", "mutatingwebhookconfigurations.admissionregistration.k8s.io",
        "customresourcedefinitions.apiextensions.k8s.io", "controllerrevisions.apps", "daemonsets.apps", "deployments.apps",
        "replicasets.apps", "statefulsets.apps", "cronjobs.batch", "jobs.batch", "leases.coordination.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io", "clusterroles.rbac.authorization.k8s.io",
        "rolebindings.rbac.authorization.k8s.io", "roles.rbac.authorization.k8s.io",
    ]

    public static let crossplaneAPIResources = [
        "compositeresourcedefinitions.apiextensions.crossplane.io", "compositions.apiextensions.crossplane.io",
        "configurations.pkg.crossplane.io", "deploymentruntimeconfigs.pkg.crossplane.io", "functions.pkg.crossplane.io",
        "imageconfigs.pkg.crossplane.io", "locks.pkg.crossplane.io", "providerrevisions.pkg.crossplane.io",
        "providers.pkg.crossplane.io", "functionrevisions.pkg.crossplane.io",
    ]

    /// Flux's kinds that kubectl xpid reads (a Flux install serves them).
    public static let fluxAPIResources = [
        "ocirepositories.source.toolkit.fluxcd.io", "buckets.source.toolkit.fluxcd.io", "gitrepositories.source.toolkit.fluxcd.io",
        "helmrepositories.source.toolkit.fluxcd.io", "imagerepositories.image.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io",
        "providers.notification.toolkit.fluxcd.io",
    ]

    public static let awsProviderAPIResources = [
        "providerconfigs.aws.upbound.io", "providerconfigusages.aws.upbound.io", "providerconfigs.aws.m.upbound.io",
        "clusterproviderconfigs.aws.m.upbound.io", "buckets.s3.aws.upbound.io", "buckets.s3.aws.m.upbound.io",
    ]

    // kubectl side
    /// Program plus passthrough flags, e.g. `["kubectl", "--context", "prod"]`.
    public var kubectl: [String] = ["kubectl"]
    public var configView: JSONValue = SeedCluster.eksConfigView()
    public var apiResources: [String] = SeedCluster.coreAPIResources + SeedCluster.crossplaneAPIResources + SeedCluster.awsProviderAPIResources
    public var nodes: [JSONValue]
    public var deployments: [JSONValue]
    public var packages: [JSONValue]
    public var runtimeConfigs: [JSONValue]
    public var imageConfigs: [JSONValue] = []
    public var providerConfigs: [JSONValue]
    public var crossplanePods: [JSONValue]
    public var serviceAccounts: [JSONValue]
    public var kubeSystemDaemonSets: [JSONValue]
    public var kubeSystemPods: [JSONValue]
    /// Flux: its objects, the pods of flux-system, ServiceAccounts outside the Crossplane namespace, RBAC.
    public var fluxObjects: [JSONValue] = []
    public var fluxPods: [JSONValue] = []
    public var otherServiceAccounts: [JSONValue] = []
    public var clusterRBAC: [JSONValue] = []

    // aws side
    public var aws = "aws"
    public var clusterName = "prod-eks"
    public var region: String? = "us-east-2"
    public var addonStatus: String? = "ACTIVE"
    public var listedAssociations: [JSONValue]
    /// Association ID → the `association` object `describe-pod-identity-association` prints.
    public var describedAssociations: [String: JSONValue]
    /// Role name → trust policy.
    public var roles: [String: JSONValue]

    public init() {
        let ns = Self.namespace
        nodes = [
            KubeJSON.node("ip-10-0-1-10.us-east-2.compute.internal", providerID: "aws:///us-east-2a/i-0a1b2c3d4e5f60001",
                labels: ["kubernetes.io/os": "linux", "topology.kubernetes.io/region": "us-east-2", "topology.kubernetes.io/zone": "us-east-2a", "eks.amazonaws.com/nodegroup": "default"]),
            KubeJSON.node("ip-10-0-2-20.us-east-2.compute.internal", providerID: "aws:///us-east-2b/i-0a1b2c3d4e5f60002",
                labels: ["kubernetes.io/os": "linux", "topology.kubernetes.io/region": "us-east-2", "topology.kubernetes.io/zone": "us-east-2b", "eks.amazonaws.com/nodegroup": "default"]),
        ]
        let node1 = "ip-10-0-1-10.us-east-2.compute.internal"
        let node2 = "ip-10-0-2-20.us-east-2.compute.internal"
        deployments = [
            KubeJSON.deployment(
                name: "crossplane", namespace: ns, labels: ["app": "crossplane", "app.kubernetes.io/managed-by": "Helm"], selector: ["app": "crossplane"],
                templateLabels: ["app": "crossplane"], serviceAccount: "crossplane",
                containers: [KubeJSON.container("crossplane", image: "xpkg.crossplane.io/crossplane/crossplane:v2.0.2")]),
            KubeJSON.deployment(
                name: "coredns", namespace: "kube-system", selector: ["k8s-app": "kube-dns"], templateLabels: ["k8s-app": "kube-dns"],
                serviceAccount: "coredns", containers: [KubeJSON.container("coredns", image: "coredns:v1.11")], replicas: 2),
            Self.packageDeployment(package: "provider-aws-s3", revision: Self.s3Revision, serviceAccount: Self.podIdentitySA),
            Self.packageDeployment(package: "upbound-provider-family-aws", revision: Self.familyRevision, serviceAccount: Self.familyRevision),
        ]
        packages = [
            KubeJSON.package(name: "provider-aws-s3", package: "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", runtimeConfig: "pod-identity-runtimeconfig", currentRevision: Self.s3Revision),
            KubeJSON.package(name: "upbound-provider-family-aws", package: "xpkg.upbound.io/upbound/provider-family-aws:v2.3.0", runtimeConfig: "default", currentRevision: Self.familyRevision),
        ]
        runtimeConfigs = [KubeJSON.runtimeConfig("default"), KubeJSON.runtimeConfig("pod-identity-runtimeconfig", serviceAccountName: Self.podIdentitySA)]
        providerConfigs = [KubeJSON.providerConfig(source: "PodIdentity")]
        crossplanePods = [
            KubeJSON.pod(
                name: "crossplane-6c9f8d7b5-abcde", namespace: ns, labels: ["app": "crossplane"], serviceAccount: "crossplane", node: node1,
                containers: [KubeJSON.container("crossplane", image: "xpkg.crossplane.io/crossplane/crossplane:v2.0.2")], created: "2026-10-01T00:00:00Z"),
            Self.packagePod(package: "provider-aws-s3", revision: Self.s3Revision, serviceAccount: Self.podIdentitySA, podIdentity: true, node: node1),
            Self.packagePod(package: "upbound-provider-family-aws", revision: Self.familyRevision, serviceAccount: Self.familyRevision, podIdentity: false, node: node2),
        ]
        serviceAccounts = [
            KubeJSON.serviceAccount("default", namespace: ns),
            KubeJSON.serviceAccount("crossplane", namespace: ns),
            KubeJSON.serviceAccount(Self.podIdentitySA, namespace: ns),
            KubeJSON.serviceAccount(Self.familyRevision, namespace: ns),
        ]
        kubeSystemDaemonSets = [KubeJSON.daemonSet(name: "eks-pod-identity-agent", namespace: "kube-system", desired: 2, ready: 2)]
        kubeSystemPods = [node1, node2].enumerated().map { i, node in
            KubeJSON.pod(
                name: "eks-pod-identity-agent-\(["x7k2p", "m9q4z"][i])", namespace: "kube-system", labels: ["app.kubernetes.io/name": "eks-pod-identity-agent"],
                serviceAccount: nil, node: node, containers: [KubeJSON.container("eks-pod-identity-agent", image: "eks/eks-pod-identity-agent:0.1.29")],
                created: "2026-10-01T00:00:00Z", ownerReferences: [["apiVersion": "apps/v1", "kind": "DaemonSet", "name": "eks-pod-identity-agent", "controller": true]],
                hostNetwork: true)
        }
        let mine = AWSJSON.associationSummary(cluster: "prod-eks", namespace: ns, serviceAccount: Self.podIdentitySA, id: Self.associationID)
        let other = AWSJSON.associationSummary(cluster: "prod-eks", namespace: "team-a", serviceAccount: "app", id: Self.otherAssociationID)
        listedAssociations = [mine, other]
        describedAssociations = [Self.associationID: AWSJSON.association(summary: mine, roleArn: Self.roleArn)]
        roles = [Self.roleName: AWSJSON.podIdentityTrust]
    }

    /// `kubectl config view --minify -o json` for an `aws eks update-kubeconfig` context.
    public static func eksConfigView(context: String = contextARN, server: String = server, execArgs: [String]? = nil) -> JSONValue {
        let args = execArgs ?? ["--region", "us-east-2", "eks", "get-token", "--cluster-name", "prod-eks", "--output", "json"]
        return [
            "kind": "Config", "apiVersion": "v1", "preferences": [:], "current-context": .string(context),
            "clusters": [["name": .string(context), "cluster": ["server": .string(server), "certificate-authority-data": "DATA+OMITTED"]]],
            "contexts": [["name": .string(context), "context": ["cluster": .string(context), "user": .string(context)]]],
            "users": [["name": .string(context), "user": ["exec": [
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws", "args": .array(args.map { .string($0) }),
                "env": .null, "interactiveMode": "IfAvailable", "provideClusterInfo": false,
            ]]]],
        ]
    }

    public static func packageDeployment(package: String, kind: String = "provider", revision: String, serviceAccount: String) -> JSONValue {
        let labels = ["pkg.crossplane.io/revision": revision, "pkg.crossplane.io/\(kind)": package]
        return KubeJSON.deployment(
            name: revision, namespace: namespace, labels: labels, selector: ["pkg.crossplane.io/revision": revision], templateLabels: labels,
            serviceAccount: serviceAccount, containers: [KubeJSON.container("package-runtime", image: "xpkg.upbound.io/upbound/\(package):v2.3.0")])
    }

    public static func packagePod(
        package: String, kind: String = "provider", revision: String, serviceAccount: String, podIdentity: Bool, node: String,
        created: String = "2026-11-10T09:00:00Z"
    ) -> JSONValue {
        let labels = ["pkg.crossplane.io/revision": revision, "pkg.crossplane.io/\(kind)": package, "pod-template-hash": "6d9f7c8b5"]
        var env: [(String, String)] = []
        var mounts: [(String, String)] = []
        var volumes: [JSONValue] = []
        if podIdentity {
            env = [
                ("AWS_STS_REGIONAL_ENDPOINTS", "regional"), ("AWS_DEFAULT_REGION", "us-east-2"), ("AWS_REGION", "us-east-2"),
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"),
            ]
            mounts = [("eks-pod-identity-token", "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount")]
            volumes = [KubeJSON.projectedTokenVolume("eks-pod-identity-token", audience: "pods.eks.amazonaws.com", path: "eks-pod-identity-token")]
        }
        return KubeJSON.pod(
            name: "\(revision)-6d9f7c8b5-x2x4q", namespace: namespace, labels: labels, serviceAccount: serviceAccount, node: node,
            containers: [KubeJSON.container("package-runtime", image: "xpkg.upbound.io/upbound/\(package):v2.3.0", env: env, mounts: mounts)],
            volumes: volumes, created: created,
            ownerReferences: [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": .string("\(revision)-6d9f7c8b5"), "controller": true]])
    }

    /// Adds `count` more AWS service providers on the default runtime config (no identity of their own).
    public mutating func addProviders(_ count: Int) {
        for i in 0..<count {
            let name = "provider-aws-svc\(i)"
            let revision = "\(name)-\(String(format: "%012x", 0xabc000 + i))"
            packages.append(KubeJSON.package(name: name, package: "xpkg.upbound.io/upbound/\(name):v2.3.0", currentRevision: revision))
            deployments.append(Self.packageDeployment(package: name, revision: revision, serviceAccount: revision))
            crossplanePods.append(Self.packagePod(package: name, revision: revision, serviceAccount: revision, podIdentity: false, node: "ip-10-0-2-20.us-east-2.compute.internal"))
            serviceAccounts.append(KubeJSON.serviceAccount(revision, namespace: Self.namespace))
        }
    }

    /// A cluster without Crossplane: discovery lists no crossplane.io or upbound.io types and no such objects exist.
    public mutating func removeCrossplane() {
        apiResources = Self.coreAPIResources
        packages = []
        runtimeConfigs = []
        imageConfigs = []
        providerConfigs = []
        deployments.removeAll { $0.at("metadata", "namespace").string == Self.namespace }
        crossplanePods = []
        serviceAccounts = [KubeJSON.serviceAccount("default", namespace: Self.namespace)]
    }

    // MARK: argv

    public func kubectlArgv(_ args: [String]) -> [String] { kubectl + args }

    public var configViewArgv: [String] { kubectlArgv(["config", "view", "--minify", "-o", "json"]) }
    public var apiResourcesArgv: [String] { kubectlArgv(["api-resources", "-o", "wide"]) }
    /// Round 1: the built-in cluster-wide kinds.
    public var builtinBatchArgv: [String] { kubectlArgv(["get", "nodes,deployments.v1.apps", "--all-namespaces", "-o", "json"]) }
    public var crdTypes: [String] { Self.crdOrder.filter(apiResources.contains) }
    /// Round 2: the Crossplane and provider kinds that discovery lists.
    public var fluxInstalled: Bool { Self.fluxAPIResources.contains(where: apiResources.contains) }
    /// With Flux the batch also lists Flux's kinds, the RBAC and the ServiceAccounts of every namespace.
    public var crdBatchTypes: [String] {
        crdTypes.map(Self.versioned)
            + (fluxInstalled ? Self.fluxAPIResources.filter(apiResources.contains).map(Self.versioned) + ["clusterroles.v1.rbac.authorization.k8s.io", "clusterrolebindings.v1.rbac.authorization.k8s.io", "serviceaccounts"] : [])
    }
    public var crdBatchArgv: [String] { kubectlArgv(["get", crdBatchTypes.joined(separator: ","), "--all-namespaces", "-o", "json"]) }
    public var fluxBatchArgv: [String] { kubectlArgv(["get", "pods", "-n", "flux-system", "-o", "json"]) }
    public var crossplaneBatchArgv: [String] { kubectlArgv(["get", "pods,serviceaccounts", "-n", Self.namespace, "-o", "json"]) }
    public var kubeSystemBatchArgv: [String] { kubectlArgv(["get", "daemonsets.v1.apps,pods", "-n", "kube-system", "-o", "json"]) }

    public func awsArgv(_ args: [String]) -> [String] { [aws] + args + (region.map { ["--region", $0] } ?? []) + ["--output", "json"] }

    public var describeClusterArgv: [String] { awsArgv(["eks", "describe-cluster", "--name", clusterName]) }
    public var describeAddonArgv: [String] { awsArgv(["eks", "describe-addon", "--cluster-name", clusterName, "--addon-name", "eks-pod-identity-agent"]) }
    public var listAssociationsArgv: [String] { awsArgv(["eks", "list-pod-identity-associations", "--cluster-name", clusterName]) }
    public func describeAssociationArgv(_ id: String) -> [String] {
        awsArgv(["eks", "describe-pod-identity-association", "--cluster-name", clusterName, "--association-id", id])
    }
    public func getRoleArgv(_ name: String) -> [String] { awsArgv(["iam", "get-role", "--role-name", name]) }

    /// Objects the built-in batch returns.
    public var builtinItems: [JSONValue] { nodes + deployments }
    /// Objects the custom resource batch returns (kubectl only lists served types).
    public var crdItems: [JSONValue] {
        packages + runtimeConfigs + imageConfigs + providerConfigs + (fluxInstalled ? fluxObjects + clusterRBAC + serviceAccounts + otherServiceAccounts : [])
    }

    // MARK: stubbing

    /// Stubs every kubectl call of a gather.
    public func stubKubectl(on runner: FakeCommandRunner) {
        runner.stubJSON(configViewArgv, configView)
        runner.stub(apiResourcesArgv, stdout: Self.wideTable(apiResources))
        runner.stub(builtinBatchArgv, stdout: KubeJSON.listText(builtinItems))
        if !crdBatchTypes.isEmpty { runner.stub(crdBatchArgv, stdout: KubeJSON.listText(crdItems)) }
        if fluxInstalled { runner.stub(fluxBatchArgv, stdout: KubeJSON.listText(fluxPods)) }
        runner.stub(crossplaneBatchArgv, stdout: KubeJSON.listText(crossplanePods + serviceAccounts))
        runner.stub(kubeSystemBatchArgv, stdout: KubeJSON.listText(kubeSystemDaemonSets + kubeSystemPods))
    }

    /// Stubs every aws call of a gather (describe and get-role for everything that exists).
    public func stubAWS(on runner: FakeCommandRunner) {
        runner.stubJSON(describeClusterArgv, AWSJSON.describeCluster(name: clusterName, region: region ?? "us-east-2"))
        if let addonStatus {
            runner.stubJSON(describeAddonArgv, AWSJSON.describeAddon(cluster: clusterName, status: addonStatus))
        } else {
            runner.stub(describeAddonArgv, stderr: AWSJSON.describeAddonNotFound, exit: 254)
        }
        runner.stubJSON(listAssociationsArgv, AWSJSON.listAssociations(listedAssociations))
        for (id, association) in describedAssociations {
            runner.stubJSON(describeAssociationArgv(id), ["association": association])
        }
        for (name, trust) in roles {
            runner.stubJSON(getRoleArgv(name), AWSJSON.getRole(name: name, trust: trust))
        }
    }

    public func stub(on runner: FakeCommandRunner) {
        stubKubectl(on: runner)
        stubAWS(on: runner)
    }

    /// A runner with everything stubbed.
    public func runner() -> FakeCommandRunner {
        let r = FakeCommandRunner()
        stub(on: r)
        return r
    }
}
