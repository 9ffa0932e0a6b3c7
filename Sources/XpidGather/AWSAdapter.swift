import Foundation
import XpidCore

/// EKS: IRSA and Pod Identity. Reads the Pod Identity agent in kube-system, locates the cluster from
/// the kubeconfig (ARN context, `aws eks get-token` args, endpoint URL) and reads EKS and IAM with `aws`.
struct AWSAdapter: CloudAdapter {
    var executable: String
    var runner: any CommandRunner
    var options: GatherOptions

    let cloud = Cloud.aws
    let readsWhenUnknown = true

    /// The Pod Identity agent's DaemonSet and pods (pods once only if Crossplane itself runs in kube-system).
    func kubeSystemKinds(crossplaneNamespace: String) -> [KubeKind] {
        crossplaneNamespace == "kube-system" ? [.daemonSets] : [.daemonSets, .pods]
    }

    func detect(_ context: KubeconfigContext) -> String? {
        if let server = context.server, CloudDetection.eksRegion(fromServer: server) != nil { return "API server \(server) is an EKS endpoint" }
        if let arn = [context.contextName, context.clusterName].compactMap({ $0 }).first(where: { CloudDetection.eksCluster(fromARN: $0) != nil }) {
            return "kubeconfig context \(arn) is an EKS cluster ARN"
        }
        if context.execArgs.contains("eks"), context.execArgs.contains("get-token") || context.execCommand?.hasSuffix("aws-iam-authenticator") == true {
            return "kubeconfig authenticates with \(context.execCommand ?? "aws") eks get-token"
        }
        return nil
    }

    func gather(into s: inout Snapshot, notes: inout [String]) async {
        s.aws = await facts(s, notes: &notes)
    }

    func markAbsent(_ s: inout Snapshot, cloud: Cloud) {
        s.aws = .unavailable(cloud == .unknown ? "cloud not identified" : "not an EKS cluster")
    }

    /// EKS cluster name and region: flags first, then the context name (an EKS ARN), the kubeconfig
    /// exec args (`aws eks get-token --cluster-name …`), the server URL, node labels.
    func discover(_ context: KubeconfigContext, into s: inout Snapshot, notes: inout [String]) {
        var name = options.clusterName.map { ($0, "--cluster-name") }
        var region = options.region.map { ($0, "--region") }
        for candidate in [context.contextName, context.clusterName].compactMap({ $0 }) {
            if let eks = CloudDetection.eksCluster(fromARN: candidate) {
                if name == nil { name = (eks.name, "kubeconfig context \(candidate)") }
                if region == nil { region = (eks.region, "kubeconfig context \(candidate)") }
            }
        }
        let exec = CloudDetection.eksCluster(fromExecArgs: context.execArgs)
        if name == nil, let n = exec.name { name = (n, "kubeconfig exec args (\(context.execCommand ?? "exec"))") }
        if region == nil, let r = exec.region ?? context.execEnv["AWS_REGION"] ?? context.execEnv["AWS_DEFAULT_REGION"] {
            region = (r, "kubeconfig exec args (\(context.execCommand ?? "exec"))")
        }
        if region == nil, let server = context.server, let r = CloudDetection.eksRegion(fromServer: server) { region = (r, "API server URL \(server)") }
        if region == nil, let r = s.nodes.compactMap({ $0.metadata.labels["topology.kubernetes.io/region"] }).first { region = (r, "node label topology.kubernetes.io/region") }
        if name == nil, let n = s.nodes.compactMap({ $0.metadata.labels["alpha.eksctl.io/cluster-name"] }).first { name = (n, "node label alpha.eksctl.io/cluster-name") }
        s.cluster.name = name?.0
        s.cluster.nameEvidence = name?.1
        s.cluster.region = region?.0
        s.cluster.regionEvidence = region?.1
        if s.cluster.cloud == .aws {
            if let name { notes.append("EKS cluster name \(name.0) (from \(name.1))") }
            if let region { notes.append("AWS region \(region.0) (from \(region.1))") }
        }
    }

    func facts(_ s: Snapshot, notes: inout [String]) async -> AWSFacts {
        if options.noCloud { return .unavailable("--no-cloud") }
        guard let clusterName = s.cluster.name else {
            let e = CloudError(kind: .other, message: "EKS cluster name unknown (not in the context name, kubeconfig exec args or node labels); pass --cluster-name", command: Commands.xpid(["verify", "--cluster-name", .variable("CLUSTER_NAME", meaning: "the EKS cluster's name (aws eks list-clusters)")]))
            return AWSFacts(cluster: .failed(e), podIdentityAddon: .failed(e), associations: .failed(e), oidcProviders: .failed(e), clusterOIDCProvider: .failed(e))
        }
        let aws = AWSCLI(executable: executable, region: s.cluster.region, runner: runner)
        let provisional = SubjectResolver.subjects(in: s)

        // Phase 1: independent reads. The describes below wait only for the association list.
        async let cluster = aws.describeCluster(clusterName)
        async let addon = aws.describeAddon(cluster: clusterName, addon: PodIdentityFacts.addonName)
        async let oidcList: CloudRead<[String]>? = provisional.contains { $0.method == .irsa } ? aws.listOpenIDConnectProviders() : nil
        let listed = await aws.listPodIdentityAssociations(cluster: clusterName)

        // With the associations known, methods are final (an association wins over an annotation).
        var withAssociations = s
        withAssociations.aws = AWSFacts(cluster: .notRequested("not read yet"), podIdentityAddon: .notRequested("not read yet"), associations: listed)
        let subjects = SubjectResolver.subjects(in: withAssociations)

        // Phase 2: describe only the associations of subjects' ServiceAccounts (list has no roleArn),
        // and the node groups of nodes whose provider pods cannot pull their image. When the roles to read
        // will reach the bulk threshold (those known now plus at most one per association described), the
        // one `iam list-roles` runs beside the describes instead of after them.
        let wanted = Set(subjects.compactMap { sub in sub.serviceAccountName.map { "\(sub.namespace)/\($0)" } })
        let toDescribe = (listed.value ?? []).filter { wanted.contains("\($0.namespace)/\($0.serviceAccount)") }.map(\.id)
        let knownRoles = Self.knownRoles(s, subjects)
        async let roleList: CloudRead<[IAMRole]>? = knownRoles.count + toDescribe.count >= Self.bulkRoleThreshold ? aws.listRoles() : nil
        async let described = concurrentMap(toDescribe, limit: options.concurrency) { id in await aws.describePodIdentityAssociation(cluster: clusterName, id: id) }
        let pulls = Self.failingECRPulls(subjects, s)
        let groups = Array(Set(pulls.compactMap(\.nodeGroup))).sorted()
        async let nodeGroups = concurrentMap(groups, limit: options.concurrency) { name in await aws.describeNodegroup(cluster: clusterName, name: name) }
        var facts = AWSFacts(cluster: await cluster, podIdentityAddon: await addon, associations: listed)
        if let list = await oidcList { facts.oidcProviders = list }
        if subjects.contains(where: { $0.method == .irsa }), case .notRequested = facts.oidcProviders {
            facts.oidcProviders = await aws.listOpenIDConnectProviders()
        }
        facts.describedAssociations = await described
        facts.nodeGroups = await nodeGroups

        // Phase 3: each distinct role once; the cluster's OIDC provider; pull permissions.
        var final = s
        final.aws = facts
        let context = EvaluationContext(final)
        var roles = knownRoles
        roles.formUnion(facts.describedAssociations.values.compactMap { $0.value?.roleArn })
        var permissionJobs: [String: [PermissionRequest]] = [:]
        let packageRepos = s.ecrPackageRepositories
        if !packageRepos.isEmpty, let core = context.subjects.first(where: { $0.kind == .crossplaneCore }), let role = context.identityRole(of: core) {
            permissionJobs[role, default: []] += IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: packageRepos)
        }
        for pull in pulls {
            guard let group = pull.nodeGroup, let role = facts.nodeGroups[group]?.value?.nodeRole else { continue }
            permissionJobs[role, default: []] += IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: [pull.repository])
        }
        let jobs = permissionJobs
        let providerARN = facts.cluster.value?.oidcProviderARN
        async let permissionReads = concurrentMap(jobs.keys.sorted(), limit: options.concurrency) { role in
            await Self.permissions(aws, roleArn: role, requests: Array(Set(jobs[role] ?? [])).sorted { ($0.action, $0.resource) < ($1.action, $1.resource) })
        }
        let prefetched = await roleList
        async let roleReads = Self.readRoles(aws, Array(roles).sorted(), limit: options.concurrency, listed: prefetched)
        if let providerARN, case .value(let arns) = facts.oidcProviders {
            facts.clusterOIDCProvider = arns.contains(providerARN)
                ? await aws.getOpenIDConnectProvider(arn: providerARN)
                : .notFound("no IAM OIDC provider \(providerARN) among the account's \(arns.count)")
        } else if case .failed(let e) = facts.oidcProviders {
            facts.clusterOIDCProvider = .failed(e)
        } else if case .value = facts.oidcProviders {
            facts.clusterOIDCProvider = facts.cluster.unavailableReason.map { .notRequested($0) } ?? .notRequested("cluster issuer unknown")
        }
        let (roleFacts, roleNote) = await roleReads
        facts.roles = roleFacts
        if let roleNote { notes.append(roleNote) }
        facts.permissions = await permissionReads
        return facts
    }

    /// From this many roles on, one `iam list-roles` (every role with its trust policy; the CLI pages) is
    /// cheaper than a `get-role` process per role.
    static let bulkRoleThreshold = 4

    /// The roles by ARN: one bulk `list-roles` when many are needed, `get-role` per role otherwise. A role the
    /// list lacks (another account's, or none) is read with `get-role`, and a refused list falls back to
    /// `get-role` for all of them with a note, so the facts are the same either way.
    /// `listed` is a `list-roles` already made (beside the association describes); without it the list is
    /// made here when the roles reach the threshold.
    static func readRoles(_ aws: AWSCLI, _ arns: [String], limit: Int, listed: CloudRead<[IAMRole]>? = nil) async -> ([String: CloudRead<IAMRole>], String?) {
        var result: [String: CloudRead<IAMRole>] = [:]
        var remaining = arns
        var note: String?
        var list = listed
        if list == nil, arns.count >= bulkRoleThreshold { list = await aws.listRoles() }
        if let list, !arns.isEmpty {
            switch list {
            case .value(let all):
                let byARN = Dictionary(all.map { ($0.arn, $0) }, uniquingKeysWith: { a, _ in a })
                for arn in arns { if let role = byARN[arn] { result[arn] = .value(role) } }
                remaining = arns.filter { result[$0] == nil }
            case .failed(let e):
                note = "iam list-roles was refused or failed (\(e.message)): the \(arns.count) roles are read one by one with iam get-role"
            case .notFound(let m), .notRequested(let m):
                note = "iam list-roles gave no list (\(m)): the \(arns.count) roles are read one by one with iam get-role"
            }
        }
        let single = await concurrentMap(remaining, limit: limit) { arn in await aws.getRole(arn: arn) }
        result.merge(single) { a, _ in a }
        return (result, note)
    }

    /// Roles named before any association is described: ProviderConfig assume-role chains and the IRSA
    /// annotations of subjects on IRSA.
    static func knownRoles(_ s: Snapshot, _ subjects: [Subject]) -> Set<String> {
        var roles = Set(s.providerConfigs.flatMap(\.assumeRoleChain))
        for subject in subjects where subject.method == .irsa {
            if let arn = subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation], ARN.isWellFormedRoleARN(arn) { roles.insert(arn) }
        }
        return roles
    }

    struct FailingPull: Hashable {
        var repository: String
        var nodeGroup: String?
    }

    /// Provider/function pods waiting in ErrImagePull/ImagePullBackOff on an ECR image, with their node group.
    static func failingECRPulls(_ subjects: [Subject], _ s: Snapshot) -> [FailingPull] {
        var result: Set<FailingPull> = []
        for subject in subjects where subject.kind != .crossplaneCore {
            for pod in subject.livePods where pod.containerStatuses.contains(where: { ImagePull.isPullFailure($0.waitingReason) }) {
                for container in pod.allContainers {
                    guard let image = container.image, let repo = IAMPolicyEvaluator.ecrRepositoryARN(image: image) else { continue }
                    let group = pod.spec.nodeName.flatMap { s.node(named: $0)?.metadata.labels["eks.amazonaws.com/nodegroup"] }
                    result.insert(FailingPull(repository: repo, nodeGroup: group))
                }
            }
        }
        return result.sorted { ($0.repository, $0.nodeGroup ?? "") < ($1.repository, $1.nodeGroup ?? "") }
    }

    /// The simulator first (it sees every policy type); when it does not answer, the role's own policies.
    static func permissions(_ aws: AWSCLI, roleArn: String, requests: [PermissionRequest]) async -> CloudRead<RolePermissions> {
        let simulatorError: CloudError
        switch await aws.simulate(roleArn: roleArn, requests: requests) {
        case .success(let evaluations): return .value(RolePermissions(roleArn: roleArn, method: .simulation, evaluations: evaluations))
        case .failure(let e): simulatorError = e
        }
        guard let name = ARN(roleArn)?.roleName else {
            return .failed(CloudError(kind: .other, message: "\(Printable.text(roleArn)) is not an IAM role ARN", command: Command(argv: [aws.executable, "iam", "get-role"])))
        }
        switch await aws.rolePolicies(roleName: name) {
        case .success(let policies):
            return .value(RolePermissions(roleArn: roleArn, method: .policies, evaluations: IAMPolicyEvaluator.evaluate(requests, policies: policies), simulatorUnavailable: simulatorError.message))
        case .failure(let e):
            return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

}
