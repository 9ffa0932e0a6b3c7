import Foundation

/// aws and eksctl commands printed in remediations (cloud-side changes are never run).
extension Commands {
    public static func aws(_ words: [Command.Word], region: String? = nil, effect: Command.Effect = .read) -> Command {
        Command(["aws"] + words + (region.map { ["--region", .literal($0)] } ?? []), effect: effect)
    }

    public static func createAssociation(_ context: EvaluationContext, namespace: String, serviceAccount: String, role: Command.Word? = nil) -> Command {
        aws(
            ["eks", "create-pod-identity-association", "--cluster-name", context.clusterNameWord, "--namespace", .literal(namespace),
             "--service-account", .literal(serviceAccount), "--role-arn", role ?? .variable("ROLE_ARN", meaning: "the ARN of the IAM role the ServiceAccount should get")],
            region: context.region, effect: .change)
    }

    public static func createAddon(_ context: EvaluationContext) -> Command {
        aws(["eks", "create-addon", "--cluster-name", context.clusterNameWord, "--addon-name", .literal(PodIdentityFacts.addonName)], region: context.region, effect: .change)
    }

    public static func describeAddon(_ context: EvaluationContext, addon: String) -> Command {
        aws(["eks", "describe-addon", "--cluster-name", context.clusterNameWord, "--addon-name", .literal(addon)], region: context.region)
    }

    public static func updateAddon(_ context: EvaluationContext, addon: String) -> Command {
        aws(["eks", "update-addon", "--cluster-name", context.clusterNameWord, "--addon-name", .literal(addon), "--resolve-conflicts", "OVERWRITE"], region: context.region, effect: .change)
    }

    public static func describeClusterIdentity(_ context: EvaluationContext, name: String) -> Command {
        aws(["eks", "describe-cluster", "--name", .literal(name), "--query", "cluster.identity"], region: context.region)
    }

    public static func nodeGroupRole(_ context: EvaluationContext, nodeGroup: String) -> Command {
        aws(["eks", "describe-nodegroup", "--cluster-name", context.clusterNameWord, "--nodegroup-name", .literal(nodeGroup), "--query", "nodegroup.nodeRole"], region: context.region)
    }

    public static func updateTrust(roleName: String, document: JSONValue) -> Command {
        aws(["iam", "update-assume-role-policy", "--role-name", .literal(roleName), "--policy-document", .literal(document.compactText())], effect: .change)
    }

    public static func createRole(roleName: String, trust: JSONValue) -> Command {
        aws(["iam", "create-role", "--role-name", .literal(roleName), "--assume-role-policy-document", .literal(trust.compactText())], effect: .change)
    }

    public static func getRole(roleName: String) -> Command { aws(["iam", "get-role", "--role-name", .literal(roleName)]) }

    public static func putRolePolicy(roleName: String, policyName: String, document: JSONValue) -> Command {
        aws(["iam", "put-role-policy", "--role-name", .literal(roleName), "--policy-name", .literal(policyName), "--policy-document", .literal(document.compactText())], effect: .change)
    }

    public static func attachRolePolicy(roleName: String, policyARN: String) -> Command {
        aws(["iam", "attach-role-policy", "--role-name", .literal(roleName), "--policy-arn", .literal(policyARN)], effect: .change)
    }

    public static func addClientID(providerARN: String, clientID: String) -> Command {
        aws(["iam", "add-client-id-to-open-id-connect-provider", "--open-id-connect-provider-arn", .literal(providerARN), "--client-id", .literal(clientID)], effect: .change)
    }

    public static func createOIDCProvider(issuer: String, clientIDs: [String]) -> Command {
        aws(["iam", "create-open-id-connect-provider", "--url", .literal(issuer), "--client-id-list"] + clientIDs.map(Command.Word.literal), effect: .change)
    }

    public static func associateOIDCProvider(_ context: EvaluationContext, name: String) -> Command {
        Command(["eksctl", "utils", "associate-iam-oidc-provider", "--cluster", .literal(name)] + (context.region.map { ["--region", .literal($0)] } ?? []) + ["--approve"], effect: .change)
    }

    public static func ecrRepositoryPolicy(repository: String, region: String) -> Command {
        aws(["ecr", "get-repository-policy", "--repository-name", .literal(repository)], region: region)
    }

    public static func ecrDescribeImage(repository: String, tag: String, region: String) -> Command {
        aws(["ecr", "describe-images", "--repository-name", .literal(repository), "--image-ids", .literal("imageTag=\(tag)")], region: region)
    }
}

extension EvaluationContext {
    /// The EKS cluster name for printed commands, or a variable the user sets when it is unknown.
    public var clusterNameWord: Command.Word {
        snapshot.cluster.name.map(Command.Word.literal) ?? .variable("CLUSTER_NAME", meaning: "the EKS cluster's name (aws eks list-clusters)")
    }

    public var region: String? { snapshot.cluster.region }
}

extension EvaluationContext {
    /// The cluster name for messages (never pasted).
    public var clusterLabel: String { snapshot.cluster.name ?? "(cluster name unknown)" }
}
