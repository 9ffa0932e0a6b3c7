import Foundation

extension Examples {
    public static let issuer = "https://oidc.eks.us-east-2.amazonaws.com/id/5C64ABCDEF"
    public static let oidcProviderARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/5C64ABCDEF"
    public static let coreRole = "arn:aws:iam::123456789012:role/CrossplaneECRRole"
    public static let providerIRSARole = "arn:aws:iam::123456789012:role/crossplane-provider-aws"
    public static let ecrRegistry = "123456789012.dkr.ecr.us-east-2.amazonaws.com"
    public static let ecrS3Revision = "provider-aws-s3-3f1e2d4c5b6a"

    public static func irsaTrust(subject: String, like: Bool = false, audience: Bool = true) -> JSONValue {
        let host = "oidc.eks.us-east-2.amazonaws.com/id/5C64ABCDEF"
        var conditions: [String: JSONValue] = [:]
        if like {
            conditions["StringLike"] = .object(["\(host):sub": .string(subject)])
            if audience { conditions["StringEquals"] = .object(["\(host):aud": "sts.amazonaws.com"]) }
        } else {
            var equals: [String: JSONValue] = ["\(host):sub": .string(subject)]
            if audience { equals["\(host):aud"] = "sts.amazonaws.com" }
            conditions["StringEquals"] = .object(equals)
        }
        return ["Version": "2012-10-17", "Statement": [[
            "Effect": "Allow", "Principal": ["Federated": .string(oidcProviderARN)], "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": .object(conditions),
        ]]]
    }

    public static func irsaVolume(audience: String = IRSAFacts.defaultAudience) -> Volume {
        Volume(name: "aws-iam-token", projectedTokens: [ProjectedToken(audience: audience, path: "token")])
    }

    public static let irsaMount = VolumeMount(name: "aws-iam-token", mountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount")

    /// Seed 000 (AWS) done right: the Crossplane package manager pulls `provider-aws-s3` from private
    /// ECR with IRSA (`crossplane` ServiceAccount annotated through Helm, a role trusting exactly
    /// `system:serviceaccount:crossplane-system:crossplane` for `sts.amazonaws.com`, ECR pull rights),
    /// and the provider itself runs on IRSA through its DeploymentRuntimeConfig with the upjet docs'
    /// `provider-aws-*` wildcard trust and a `source: IRSA` ProviderConfig.
    public static func irsaSeed(providerName: String = "provider-aws-s3") -> Snapshot {
        let ecrS3Revision = providerName == "provider-aws-s3" ? Self.ecrS3Revision : "\(providerName)-3f1e2d4c5b6a"
        var s = podIdentitySeed()
        let helm = ["app.kubernetes.io/managed-by": "Helm"]
        let helmAnnotations = ["meta.helm.sh/release-name": "crossplane", "meta.helm.sh/release-namespace": namespace]
        let coreTemplate = PodTemplate(
            labels: ["app": "crossplane", "release": "crossplane"],
            spec: PodSpec(serviceAccountName: "crossplane", containers: [Container(name: "crossplane", image: "xpkg.crossplane.io/crossplane/crossplane:v2.3.4")]))
        let core = Deployment(
            metadata: ObjectMeta(name: "crossplane", namespace: namespace, labels: helm.merging(["app": "crossplane"]) { a, _ in a }, annotations: helmAnnotations),
            selector: ["app": "crossplane", "release": "crossplane"], template: coreTemplate)
        var corePod = Pod(
            metadata: ObjectMeta(name: "crossplane-7d9c6b5f4-abcde", namespace: namespace, labels: ["app": "crossplane", "release": "crossplane"], creationTimestamp: podsCreated),
            spec: PodSpec(serviceAccountName: "crossplane", nodeName: "ip-10-0-1-10", containers: [Container(name: "crossplane", image: "xpkg.crossplane.io/crossplane/crossplane:v2.3.4")]),
            containerStatuses: [ContainerState(name: "crossplane", ready: true)])
        corePod.spec.containers[0].env = irsaEnv(role: coreRole)
        corePod.spec.containers[0].volumeMounts = [irsaMount]
        corePod.spec.volumes = [irsaVolume()]

        let s3Package = "\(ecrRegistry)/crossplane/provider-aws-s3:v1.21.0"
        let s3 = CrossplanePackage(
            kind: .provider, metadata: ObjectMeta(name: providerName), package: s3Package,
            runtimeConfigName: "irsa-runtimeconfig", runtimeConfigRefSet: true, currentRevision: ecrS3Revision, conditions: healthy())
        var s3Pod = packagePod(package: providerName, revision: ecrS3Revision, serviceAccount: ecrS3Revision, podIdentity: false)
        s3Pod.spec.containers[0].image = s3Package
        s3Pod.spec.containers[0].env = irsaEnv(role: providerIRSARole)
        s3Pod.spec.containers[0].volumeMounts = [irsaMount]
        s3Pod.spec.volumes = [irsaVolume()]

        s.deployments = [core, packageDeployment(package: providerName, revision: ecrS3Revision, serviceAccount: ecrS3Revision)]
        s.pods = s.pods.filter { $0.metadata.namespace == "kube-system" } + [corePod, s3Pod]
        s.serviceAccounts = [
            ServiceAccount(metadata: ObjectMeta(name: "crossplane", namespace: namespace, labels: helm, annotations: helmAnnotations.merging([IRSAFacts.roleAnnotation: coreRole]) { a, _ in a })),
            ServiceAccount(metadata: ObjectMeta(name: ecrS3Revision, namespace: namespace, annotations: [IRSAFacts.roleAnnotation: providerIRSARole])),
        ]
        s.packages = [s3]
        s.runtimeConfigs = [
            DeploymentRuntimeConfig(metadata: ObjectMeta(name: "default")),
            DeploymentRuntimeConfig(metadata: ObjectMeta(name: "irsa-runtimeconfig"), serviceAccountAnnotations: [IRSAFacts.roleAnnotation: providerIRSARole]),
        ]
        s.providerConfigs = [ProviderConfig(api: .awsLegacy, metadata: ObjectMeta(name: "default"), source: "IRSA")]
        let repo = "arn:aws:ecr:us-east-2:123456789012:repository/crossplane/provider-aws-s3"
        s.aws = AWSFacts(
            cluster: .value(EKSCluster(name: clusterName, arn: "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks", oidcIssuer: issuer)),
            podIdentityAddon: .value(EKSAddon(name: PodIdentityFacts.addonName, status: "ACTIVE")),
            associations: .value([]),
            roles: [
                coreRole: .value(IAMRole(name: "CrossplaneECRRole", arn: coreRole, trustPolicy: irsaTrust(subject: "system:serviceaccount:crossplane-system:crossplane"))),
                providerIRSARole: .value(IAMRole(name: "crossplane-provider-aws", arn: providerIRSARole, trustPolicy: irsaTrust(subject: "system:serviceaccount:crossplane-system:provider-aws-*", like: true, audience: false))),
            ],
            oidcProviders: .value([oidcProviderARN]),
            clusterOIDCProvider: .value(OIDCProvider(arn: oidcProviderARN, clientIDs: [IRSAFacts.defaultAudience])),
            permissions: [coreRole: .value(RolePermissions(
                roleArn: coreRole, method: .simulation,
                evaluations: IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: [repo]).map { PermissionEvaluation(request: $0, decision: .allowed) }))])
        return s
    }
}
