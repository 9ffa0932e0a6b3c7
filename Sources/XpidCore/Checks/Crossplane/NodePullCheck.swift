import Foundation

public struct NodePullCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "crossplane.node-pull",
        title: "Nodes can pull the runtime image",
        summary: "Provider/Function pods are not waiting in `ErrImagePull`/`ImagePullBackOff`; when they are, the node-level identity is explained (on EKS the node group role, read with `aws eks describe-nodegroup`, is checked for ECR pull rights on the image's repository; on AKS the kubelet identity for AcrPull on the registry).",
        rationale: "The package manager's identity only covers installing the package; the runtime image is pulled by the kubelet with the node's identity, so a private registry needs node-level access too (seed 000's warning).",
        remediation: "Grant the node role ECR read (e.g. `AmazonEC2ContainerRegistryReadOnly`, or the four ECR actions on the repository); on AKS assign the kubelet identity AcrPull on the registry (or `az aks update --attach-acr`).",
        mechanism: .crossplane, scope: .subject,
        reads: [.pods],
        liveOnly: true, passing: [CheckExample("runtime pod running", subject: "provider/provider-aws-s3", expect: .pass) { Examples.irsaSeed() }],
        failing: [
            CheckExample("ImagePullBackOff, node role lacks ECR read", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.irsaSeed()
                let nodeRole = "arn:aws:iam::123456789012:role/eks-node-default"
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.ecrS3Revision }) {
                    $0.phase = "Pending"
                    $0.containerStatuses = [ContainerState(name: "package-runtime", ready: false, waitingReason: "ImagePullBackOff", waitingMessage: "Back-off pulling image")]
                }
                s.aws.nodeGroups["default"] = .value(NodeGroup(name: "default", nodeRole: nodeRole))
                let repo = "arn:aws:ecr:us-east-2:123456789012:repository/crossplane/provider-aws-s3"
                s.aws.permissions[nodeRole] = .value(RolePermissions(
                    roleArn: nodeRole, method: .simulation,
                    evaluations: IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: [repo]).map { PermissionEvaluation(request: $0, decision: .implicitDeny) }))
                return s
            },
            CheckExample("ImagePullBackOff on GKE, the node service account cannot read the repository", subject: "provider/provider-gcp-storage", expect: .fail) {
                var s = Examples.gkeSeed()
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.gcpStorageRevision }) {
                    $0.phase = "Pending"
                    $0.containerStatuses = [ContainerState(name: "package-runtime", ready: false, waitingReason: "ImagePullBackOff", waitingMessage: "Back-off pulling image")]
                }
                s.gcp.projectPolicy = .value(GCPPolicy(bindings: []))
                return s
            },
            CheckExample("ImagePullBackOff on AKS, kubelet identity lacks AcrPull", subject: "provider/provider-azure-storage", expect: .fail) {
                var s = Examples.aksSeed()
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.storageRevision }) {
                    $0.phase = "Pending"
                    $0.containerStatuses = [ContainerState(name: "package-runtime", ready: false, waitingReason: "ImagePullBackOff", waitingMessage: "Back-off pulling image")]
                }
                s.azure.roleAssignments[Examples.acrID] = .value(s.azure.roleAssignments[Examples.acrID]?.value?.filter { $0.principalID != Examples.kubeletObjectID } ?? [])
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.isPackage }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        let failing = subject.livePods.filter { $0.containerStatuses.contains { ImagePull.isPullFailure($0.waitingReason) } }
        guard let pod = failing.first else {
            return subject.livePods.isEmpty ? [.skip("no pods")] : [.pass("\(subject.livePods.count) pod(s) pulled their image")]
        }
        let status = pod.containerStatuses.first { ImagePull.isPullFailure($0.waitingReason) }
        let container = pod.allContainers.first { $0.name == status?.name } ?? pod.spec.containers.first
        let image = container?.image ?? "?"
        let nodeName = pod.spec.nodeName
        var evidence = ["pod": pod.metadata.name, "image": image, "reason": status?.waitingReason ?? ""]
        if let m = status?.waitingMessage { evidence["message"] = m }
        if let nodeName { evidence["node"] = nodeName }
        let head = "pod \(pod.metadata.name) is in \(status?.waitingReason ?? "ErrImagePull") for \(image): the node's identity cannot pull it (the package manager's identity only installs the package)"
        if PackageReference(image).registryKind == .acr, let server = PackageReference(image).registry?.lowercased() {
            return [azureVerdict(head: head, evidence: evidence, server: server, subject: subject, pod: pod, context)]
        }
        if let repository = ArtifactRepository(image: image) {
            return [gkeVerdict(head: head, evidence: evidence, repository: repository, subject: subject, pod: pod, context)]
        }
        guard let repo = IAMPolicyEvaluator.ecrRepositoryARN(image: image) else {
            return [.fail(head, evidence: evidence, remediation: Remediation(Self.advice(context.snapshot.cluster.cloud), commands: [Commands.describePod(namespace: subject.namespace, name: pod.metadata.name)]))]
        }
        let group = nodeName.flatMap { context.snapshot.node(named: $0)?.metadata.labels["eks.amazonaws.com/nodegroup"] }
        guard let group else {
            return [.fail(head + " (node has no eks.amazonaws.com/nodegroup label: self-managed or Karpenter node; check its instance role)", evidence: evidence,
                remediation: Remediation(Self.advice(.aws), commands: [Commands.describePod(namespace: subject.namespace, name: pod.metadata.name)]))]
        }
        evidence["nodegroup"] = group
        guard let nodeRole = context.snapshot.aws.nodeGroups[group]?.value?.nodeRole else {
            let why = context.cloudDisabledReason ?? context.snapshot.aws.nodeGroups[group]?.unavailableReason ?? "node group not read"
            return [.fail(head + " (node group \(group); its role could not be checked: \(why))", evidence: evidence,
                remediation: Remediation(Self.advice(.aws), commands: [Commands.nodeGroupRole(context, nodeGroup: group)]))]
        }
        evidence["nodeRole"] = nodeRole
        let verdict = RegistryPermissionsCheck.verdict(for: context.snapshot.aws.permissions[nodeRole], role: nodeRole, repositories: [repo], who: "node group \(group)")
        let roleName = ARN(nodeRole)?.roleName ?? nodeRole
        let merged = evidence.merging(verdict.evidence) { a, _ in a }
        if verdict.status == .pass {
            // The role may pull: the cause is elsewhere (repository policy, missing tag, another region).
            let ref = PackageReference(image)
            let repoName = ref.repository
            let region = ARN(repo)?.region ?? ""
            var commands = [Commands.ecrRepositoryPolicy(repository: repoName, region: region)]
            if let tag = ref.tag { commands.insert(Commands.ecrDescribeImage(repository: repoName, tag: tag, region: region), at: 0) }
            commands.append(Commands.describePod(namespace: subject.namespace, name: pod.metadata.name))
            return [.fail(
                head + "; the node role \(roleName) is allowed to pull, so check the repository policy, the tag and the registry's region",
                evidence: merged, remediation: Remediation("find why the pull fails although the node role may pull", commands: commands))]
        }
        var commands = verdict.remediation?.commands ?? []
        commands.append(Commands.attachRolePolicy(roleName: roleName, policyARN: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"))
        return [.fail(head + "; \(verdict.message)", evidence: merged, remediation: Remediation("grant the node group role ECR read on the repository", commands: commands))]
    }

    /// On AKS the kubelet identity pulls runtime images: does it have AcrPull on the registry?
    func azureVerdict(head: String, evidence: [String: String], server: String, subject: Subject, pod: Pod, _ context: EvaluationContext) -> CheckResult {
        let describe = Commands.describePod(namespace: subject.namespace, name: pod.metadata.name)
        guard let kubelet = context.snapshot.azure.cluster.value?.kubeletIdentity?.objectID, AzureWIFacts.isGUID(kubelet) else {
            let why = context.cloudDisabledReason ?? context.snapshot.azure.cluster.unavailableReason ?? "the cluster has no kubelet identity (identityProfile.kubeletidentity)"
            return .fail(head + " (the kubelet identity could not be checked: \(why))", evidence: evidence,
                remediation: Remediation(Self.advice(.azure), commands: [Commands.aksShow(context, query: "identityProfile.kubeletidentity"), describe]))
        }
        let verdict = AcrPullVerdict.verdict(principalID: kubelet, who: "the kubelet identity", loginServer: server, context: context)
        let merged = evidence.merging(verdict.evidence) { a, _ in a }
        if verdict.status == .pass {
            return .fail(head + "; the kubelet identity may pull from \(server), so check the tag, the repository and the registry's network rules", evidence: merged,
                remediation: Remediation("find why the pull fails although the kubelet identity may pull", commands: [describe]))
        }
        if verdict.status != .fail { return CheckResult(verdict.status, head + "; " + verdict.message, evidence: merged, remediation: verdict.remediation) }
        var commands = verdict.remediation?.commands ?? []
        commands.append(Commands.az(["aks", "update", "--resource-group", context.resourceGroupWord, "--name", context.aksNameWord, "--attach-acr", .literal(String(server.split(separator: ".")[0]))],
            subscription: context.snapshot.cluster.subscription, effect: .change))
        return .fail(head + "; " + verdict.message, evidence: merged, remediation: Remediation("grant the kubelet identity AcrPull on the registry (or attach the registry to the cluster)", commands: commands))
    }

    /// On GKE the node pool's service account pulls runtime images: a reader role on the repository or project?
    func gkeVerdict(head: String, evidence: [String: String], repository: ArtifactRepository, subject: Subject, pod: Pod, _ context: EvaluationContext) -> CheckResult {
        let describe = Commands.describePod(namespace: subject.namespace, name: pod.metadata.name)
        let poolName = pod.spec.nodeName.flatMap { context.snapshot.node(named: $0)?.metadata.labels[GKEFacts.nodePoolLabel] }
        let gcp = context.snapshot.gcp
        guard let poolName, let pool = gcp.cluster.value?.nodePools.first(where: { $0.name == poolName }), let account = pool.serviceAccount else {
            let why = context.cloudDisabledReason ?? gcp.cluster.unavailableReason ?? "the node pool of node \(pod.spec.nodeName ?? "?") is unknown"
            return .fail(head + " (the node pool's service account could not be checked: \(why))", evidence: evidence, remediation: Remediation(Self.advice(.gcp), commands: [describe]))
        }
        var merged = evidence
        merged["nodePool"] = poolName
        guard account != "default" else {
            return .fail(head + "; node pool \(poolName) runs as the Compute Engine default service account, whose roles are not read here", evidence: merged,
                remediation: Remediation(Self.advice(.gcp), commands: [describe]))
        }
        let member = "serviceAccount:\(account)"
        let repoRoles = gcp.repositoryPolicies[repository.key]?.value?.roles(of: member) ?? []
        let projectRoles = repository.project == context.snapshot.cluster.project ? (gcp.projectPolicy.value?.roles(of: member) ?? []) : []
        if (repoRoles + projectRoles).contains(where: GKEFacts.readerRoles.contains) {
            return .fail(head + "; node pool \(poolName)'s service account \(account) may read \(repository.key), so check the tag and the repository", evidence: merged,
                remediation: Remediation("find why the pull fails although the node service account may read", commands: [describe]))
        }
        return .fail(
            head + "; node pool \(poolName) runs as \(account), which has no Artifact Registry reader role on \(repository.key) or its project", evidence: merged,
            remediation: Remediation("grant the node service account roles/artifactregistry.reader on the repository", commands: [Commands.addRepositoryReader(repository, member: member)]))
    }

    static func advice(_ cloud: Cloud) -> String {
        switch cloud {
        case .aws: return "grant the node's instance role ECR read on the repository"
        case .azure: return "grant the kubelet identity AcrPull on the registry (az aks update --attach-acr)"
        case .gcp: return "grant the node service account roles/artifactregistry.reader"
        case .unknown: return "give the nodes credentials for the registry (node identity or imagePullSecrets)"
        }
    }
}
