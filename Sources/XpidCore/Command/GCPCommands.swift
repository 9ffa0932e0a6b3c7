import Foundation

/// gcloud commands printed in remediations (cloud-side changes are printed, never run).
extension Commands {
    public static func gcloud(_ words: [Command.Word], project: String? = nil, effect: Command.Effect = .read) -> Command {
        Command(["gcloud"] + words + (project.map { ["--project", .literal($0)] } ?? []), effect: effect)
    }

    public static func gkeMetadataPool(_ context: EvaluationContext, pool: String) -> Command {
        gcloud(["container", "node-pools", "update", .literal(pool), "--cluster", context.gkeNameWord, "--location", context.gkeLocationWord, "--workload-metadata=GKE_METADATA"],
               project: context.snapshot.cluster.project, effect: .change)
    }

    public static func gkeEnablePool(_ context: EvaluationContext) -> Command {
        let pool: Command.Word = context.snapshot.cluster.project.map { .literal("--workload-pool=\($0).svc.id.goog") }
            ?? .variable("WORKLOAD_POOL", meaning: "the pool, PROJECT_ID.svc.id.goog", prefix: "--workload-pool=")
        return gcloud(["container", "clusters", "update", context.gkeNameWord, "--location", context.gkeLocationWord, pool], project: context.snapshot.cluster.project, effect: .change)
    }

    /// Lets a Kubernetes ServiceAccount impersonate a GSA.
    public static func addWorkloadIdentityUser(gsa: String, member: String, project: String?) -> Command {
        gcloud(["iam", "service-accounts", "add-iam-policy-binding", .literal(gsa), "--role", .literal(GKEFacts.workloadIdentityUser), "--member", .literal(member)],
               project: project, effect: .change)
    }

    public static func addRepositoryReader(_ repository: ArtifactRepository, member: String) -> Command {
        gcloud(["artifacts", "repositories", "add-iam-policy-binding", .literal(repository.repository), "--location", .literal(repository.location),
                "--role", "roles/artifactregistry.reader", "--member", .literal(member)], project: repository.project, effect: .change)
    }

    public static func addProjectBinding(project: String, role: Command.Word, member: String) -> Command {
        gcloud(["projects", "add-iam-policy-binding", .literal(project), "--role", role, "--member", .literal(member)], effect: .change)
    }
}

extension EvaluationContext {
    public var gkeNameWord: Command.Word {
        snapshot.cluster.name.map(Command.Word.literal) ?? .variable("CLUSTER_NAME", meaning: "the GKE cluster's name (gcloud container clusters list)")
    }

    public var gkeLocationWord: Command.Word {
        snapshot.cluster.location.map(Command.Word.literal) ?? .variable("LOCATION", meaning: "the GKE cluster's region or zone")
    }
}
