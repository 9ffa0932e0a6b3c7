import Foundation

/// Small, realistic cluster states for check examples, shaped after the seed documents.
/// Each builder returns a fresh value; examples change only what makes them differ.
public enum Examples {
    public static let account = "123456789012"
    public static let clusterName = "prod-eks"
    public static let region = "us-east-2"
    public static let namespace = "crossplane-system"
    public static let podIdentityRole = "arn:aws:iam::123456789012:role/crossplane-provider-aws-pod-identity"
    public static let podIdentitySA = "provider-aws-pod-identity"
    public static let s3Revision = "provider-aws-s3-92206523fff4"
    public static let familyRevision = "upbound-provider-family-aws-7d1a4b5c6e2f"

    public static func date(_ text: String) -> Date { Timestamp.parse(text) ?? Date(timeIntervalSince1970: 0) }

    public static let podsCreated = date("2026-11-10T09:00:00Z")
    public static let associationCreated = date("2026-11-01T08:00:00Z")

    public static var podIdentityTrust: JSONValue {
        ["Version": "2012-10-17", "Statement": [[
            "Effect": "Allow", "Principal": ["Service": "pods.eks.amazonaws.com"], "Action": ["sts:AssumeRole", "sts:TagSession"],
        ]]]
    }

    public static func node(_ name: String, zone: String = "us-east-2a", computeType: String? = nil) -> Node {
        var labels = ["kubernetes.io/os": "linux", "topology.kubernetes.io/region": region, "eks.amazonaws.com/nodegroup": "default"]
        if let computeType { labels["eks.amazonaws.com/compute-type"] = computeType }
        let providerID = computeType == "fargate" ? "aws:///\(zone)/fargate-\(name)" : "aws:///\(zone)/i-0\(name.filter(\.isNumber))"
        return Node(metadata: ObjectMeta(name: name, labels: labels), providerID: providerID)
    }

    public static func podIdentityEnv() -> [EnvVar] {
        [
            EnvVar(name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional"),
            EnvVar(name: "AWS_DEFAULT_REGION", value: region),
            EnvVar(name: "AWS_REGION", value: region),
            EnvVar(name: PodIdentityFacts.credentialsURIEnv, value: PodIdentityFacts.credentialsURIs[0]),
            EnvVar(name: PodIdentityFacts.tokenFileEnv, value: PodIdentityFacts.tokenFile),
        ]
    }

    public static func irsaEnv(role: String) -> [EnvVar] {
        [
            EnvVar(name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional"),
            EnvVar(name: IRSAFacts.roleEnv, value: role),
            EnvVar(name: IRSAFacts.tokenFileEnv, value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"),
        ]
    }

    public static let podIdentityVolume = Volume(name: "eks-pod-identity-token", projectedTokens: [ProjectedToken(audience: PodIdentityFacts.audience, path: "eks-pod-identity-token")])
    public static let podIdentityMount = VolumeMount(name: "eks-pod-identity-token", mountPath: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount")

    /// A provider runtime pod as Crossplane builds it, optionally mutated for Pod Identity.
    public static func packagePod(
        package: String, kind: PackageKind = .provider, revision: String, serviceAccount: String, podIdentity: Bool,
        created: Date = podsCreated, node: String = "ip-10-0-1-10"
    ) -> Pod {
        var container = Container(name: "package-runtime", image: "xpkg.upbound.io/upbound/\(package):v2.3.0")
        var volumes: [Volume] = []
        if podIdentity {
            container.env = podIdentityEnv()
            container.volumeMounts = [podIdentityMount]
            volumes = [podIdentityVolume]
        }
        return Pod(
            metadata: ObjectMeta(
                name: "\(revision)-6d9f7c8b5-x2x4q", namespace: namespace,
                labels: ["pkg.crossplane.io/revision": revision, kind.label: package], creationTimestamp: created),
            spec: PodSpec(serviceAccountName: serviceAccount, nodeName: node, containers: [container], volumes: volumes),
            containerStatuses: [ContainerState(name: "package-runtime", ready: true)])
    }

    public static func packageDeployment(package: String, kind: PackageKind = .provider, revision: String, serviceAccount: String) -> Deployment {
        Deployment(
            metadata: ObjectMeta(name: revision, namespace: namespace, labels: ["pkg.crossplane.io/revision": revision, kind.label: package]),
            selector: ["pkg.crossplane.io/revision": revision],
            template: PodTemplate(
                labels: ["pkg.crossplane.io/revision": revision, kind.label: package],
                spec: PodSpec(serviceAccountName: serviceAccount, containers: [Container(name: "package-runtime")])))
    }

    public static func healthy() -> [Condition] {
        [
            Condition(type: "Installed", status: "True", reason: "ActivePackageRevision"),
            Condition(type: "Healthy", status: "True", reason: "HealthyPackageRevision"),
        ]
    }

    /// Seed 002/003 done right: the Pod Identity agent, a DeploymentRuntimeConfig pinning the
    /// ServiceAccount name, `provider-aws-s3` pointing at it, an association created before the
    /// pods, a role trusting `pods.eks.amazonaws.com` with `sts:AssumeRole` + `sts:TagSession`,
    /// and a ProviderConfig with `credentials.source: PodIdentity`. The auto-installed family
    /// provider keeps the default runtime config (it makes no AWS calls).
    public static func podIdentitySeed() -> Snapshot {
        let nodes = [node("ip-10-0-1-10"), node("ip-10-0-2-20", zone: "us-east-2b")]
        let agentPods = nodes.map { n in
            Pod(
                metadata: ObjectMeta(name: "eks-pod-identity-agent-\(n.metadata.name.suffix(2))", namespace: "kube-system",
                    labels: ["app.kubernetes.io/name": "eks-pod-identity-agent"], creationTimestamp: date("2026-10-01T00:00:00Z"),
                    ownerReferences: [OwnerReference(kind: "DaemonSet", name: "eks-pod-identity-agent")]),
                spec: PodSpec(nodeName: n.metadata.name, hostNetwork: true, containers: [Container(name: "eks-pod-identity-agent")]),
                containerStatuses: [ContainerState(name: "eks-pod-identity-agent", ready: true)])
        }
        let s3 = CrossplanePackage(
            kind: .provider, metadata: ObjectMeta(name: "provider-aws-s3"), package: "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0",
            runtimeConfigName: "pod-identity-runtimeconfig", runtimeConfigRefSet: true, currentRevision: s3Revision, conditions: healthy())
        let family = CrossplanePackage(
            kind: .provider, metadata: ObjectMeta(name: "upbound-provider-family-aws"), package: "xpkg.upbound.io/upbound/provider-family-aws:v2.3.0",
            currentRevision: familyRevision, conditions: healthy())
        let association = PodIdentityAssociation(
            id: "a-abcdefghij0123456", arn: "arn:aws:eks:us-east-2:123456789012:podidentityassociation/prod-eks/a-abcdefghij0123456",
            namespace: namespace, serviceAccount: podIdentitySA, roleArn: podIdentityRole, createdAt: associationCreated, modifiedAt: associationCreated)
        var listed = association
        listed.roleArn = nil
        return Snapshot(
            cluster: ClusterInfo(
                context: "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks", server: "https://ABCDEF.gr7.us-east-2.eks.amazonaws.com",
                cloud: .aws, cloudEvidence: "node providerID aws:///us-east-2a/…", name: clusterName, region: region),
            nodes: nodes,
            serviceAccounts: [
                ServiceAccount(metadata: ObjectMeta(name: "crossplane", namespace: namespace)),
                ServiceAccount(metadata: ObjectMeta(name: podIdentitySA, namespace: namespace)),
                ServiceAccount(metadata: ObjectMeta(name: familyRevision, namespace: namespace)),
            ],
            pods: agentPods + [
                packagePod(package: "provider-aws-s3", revision: s3Revision, serviceAccount: podIdentitySA, podIdentity: true),
                packagePod(package: "upbound-provider-family-aws", revision: familyRevision, serviceAccount: familyRevision, podIdentity: false, node: "ip-10-0-2-20"),
            ],
            deployments: [
                packageDeployment(package: "provider-aws-s3", revision: s3Revision, serviceAccount: podIdentitySA),
                packageDeployment(package: "upbound-provider-family-aws", revision: familyRevision, serviceAccount: familyRevision),
            ],
            daemonSets: [DaemonSet(metadata: ObjectMeta(name: "eks-pod-identity-agent", namespace: "kube-system"), desired: 2, ready: 2)],
            packages: [s3, family],
            runtimeConfigs: [
                DeploymentRuntimeConfig(metadata: ObjectMeta(name: "default")),
                DeploymentRuntimeConfig(metadata: ObjectMeta(name: "pod-identity-runtimeconfig"), serviceAccountName: podIdentitySA),
            ],
            providerConfigs: [ProviderConfig(api: .awsNamespaced, metadata: ObjectMeta(name: "default", namespace: "default"), source: "PodIdentity")],
            aws: AWSFacts(
                cluster: .value(EKSCluster(name: clusterName, arn: "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks", oidcIssuer: "https://oidc.eks.us-east-2.amazonaws.com/id/5C64ABCDEF")),
                podIdentityAddon: .value(EKSAddon(name: PodIdentityFacts.addonName, status: "ACTIVE", version: "v1.3.4-eksbuild.1")),
                associations: .value([listed]),
                describedAssociations: [association.id: .value(association)],
                roles: [podIdentityRole: .value(IAMRole(name: "crossplane-provider-aws-pod-identity", arn: podIdentityRole, trustPolicy: podIdentityTrust))]),
            options: EvaluationOptions(now: date("2026-11-22T10:00:00Z")))
    }
}

extension Snapshot {
    /// Changes every pod matching `predicate` (examples and fix transforms use this).
    public mutating func updatePods(where predicate: (Pod) -> Bool, _ change: (inout Pod) -> Void) {
        for i in pods.indices where predicate(pods[i]) { change(&pods[i]) }
    }

    public mutating func updatePackage(_ name: String, _ change: (inout CrossplanePackage) -> Void) {
        for i in packages.indices where packages[i].metadata.name == name { change(&packages[i]) }
    }

    public mutating func updateServiceAccount(namespace: String, name: String, _ change: (inout ServiceAccount) -> Void) {
        for i in serviceAccounts.indices where serviceAccounts[i].metadata.namespace == namespace && serviceAccounts[i].metadata.name == name {
            change(&serviceAccounts[i])
        }
    }

    public mutating func updateDeployment(namespace: String, name: String, _ change: (inout Deployment) -> Void) {
        for i in deployments.indices where deployments[i].metadata.namespace == namespace && deployments[i].metadata.name == name { change(&deployments[i]) }
    }

    public mutating func updateFluxObject(namespace: String, name: String, _ change: (inout FluxObject) -> Void) {
        for i in fluxObjects.indices where fluxObjects[i].namespace == namespace && fluxObjects[i].name == name { change(&fluxObjects[i]) }
    }

    public mutating func updateAssociations(_ change: (inout PodIdentityAssociation) -> Void) {
        if var listed = aws.associations.value {
            for i in listed.indices { change(&listed[i]) }
            aws.associations = .value(listed)
        }
        for (id, read) in aws.describedAssociations {
            if var a = read.value {
                change(&a)
                aws.describedAssociations[id] = .value(a)
            }
        }
    }
}
