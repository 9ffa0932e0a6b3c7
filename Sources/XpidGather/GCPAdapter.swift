import Foundation
import XpidCore

/// GKE: Workload Identity (a GSA through `iam.gke.io/gcp-service-account`, or the ServiceAccount as a
/// direct principal). Nothing is injected into pods, so the cluster side is the annotation, the nodes'
/// metadata-server label and hostNetwork; the rest is read with gcloud — only reads, all independent.
struct GCPAdapter: CloudAdapter {
    var executable: String
    var runner: any CommandRunner
    var options: GatherOptions

    let cloud = Cloud.gcp

    func detect(_ context: KubeconfigContext) -> String? {
        if let name = [context.contextName, context.clusterName].compactMap({ $0 }).first(where: { GKEFacts.cluster(fromContext: $0) != nil }) {
            return "kubeconfig context \(name) is a GKE context"
        }
        if context.execCommand.map({ ($0 as NSString).lastPathComponent }) == "gke-gcloud-auth-plugin" { return "kubeconfig authenticates with gke-gcloud-auth-plugin" }
        return nil
    }

    func markAbsent(_ s: inout Snapshot, cloud: Cloud) {
        s.gcp = .unavailable(cloud == .unknown ? "cloud not identified" : "not a GKE cluster")
    }

    /// Project, location and name from the flags, the `gke_PROJECT_LOCATION_CLUSTER` context, the node providerIDs.
    func discover(_ context: KubeconfigContext, into s: inout Snapshot, notes: inout [String]) {
        var project = options.project.map { ($0, "--project") }
        var location = options.location.map { ($0, "--location") }
        var name = options.clusterName.map { ($0, "--cluster-name") }
        for candidate in [context.contextName, context.clusterName].compactMap({ $0 }) {
            guard let gke = GKEFacts.cluster(fromContext: candidate) else { continue }
            if project == nil { project = (gke.project, "kubeconfig context \(candidate)") }
            if location == nil { location = (gke.location, "kubeconfig context \(candidate)") }
            if name == nil { name = (gke.name, "kubeconfig context \(candidate)") }
        }
        if project == nil, let node = s.nodes.first(where: { $0.providerID?.hasPrefix("gce://") == true }), let id = node.providerID {
            let parts = id.dropFirst("gce://".count).split(separator: "/")
            if parts.count == 3 { project = (String(parts[0]), "node \(node.metadata.name) providerID") }
        }
        s.cluster.project = project?.0
        s.cluster.projectEvidence = project?.1
        s.cluster.location = location?.0
        s.cluster.locationEvidence = location?.1
        s.cluster.name = name?.0
        s.cluster.nameEvidence = name?.1
        guard s.cluster.cloud == .gcp else { return }
        if let name { notes.append("GKE cluster name \(name.0) (from \(name.1))") }
        if let location { notes.append("location \(location.0) (from \(location.1))") }
        if let project { notes.append("project \(project.0) (from \(project.1))") }
    }

    func gather(into s: inout Snapshot, notes: inout [String]) async {
        if options.noCloud {
            s.gcp = .unavailable("--no-cloud")
            return
        }
        guard let project = s.cluster.project, let location = s.cluster.location, let name = s.cluster.name else {
            var missing: [String] = []
            if s.cluster.name == nil { missing.append("--cluster-name") }
            if s.cluster.location == nil { missing.append("--location") }
            if s.cluster.project == nil { missing.append("--project") }
            let e = CloudError(
                kind: .other, message: "GKE cluster \(missing.joined(separator: ", ")) unknown (not in the kubeconfig context or node providerIDs); pass \(missing.joined(separator: " "))",
                command: Commands.gcloud(["container", "clusters", "list"]))
            s.gcp = GCPFacts(cluster: .failed(e), projectNumber: .failed(e), projectPolicy: .failed(e))
            return
        }
        let gcloud = GCloudCLI(executable: executable, project: project, runner: runner)
        let subjects = SubjectResolver.subjects(in: s)
        let gsas = Set(subjects.compactMap { $0.serviceAccount?.metadata.annotations[GKEFacts.gsaAnnotation] }.filter(GKEFacts.isServiceAccountEmail)).sorted()
        // Repositories packages come from (the package manager pulls) and those of runtime images nodes cannot pull.
        let failing = subjects.filter { $0.kind != .crossplaneCore }.flatMap(\.imagesFailingToPull).compactMap(ArtifactRepository.init(image:))
        let repositories = Dictionary((s.garPackageRepositories + failing).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        async let cluster = gcloud.describeCluster(name, location: location)
        async let number = gcloud.projectNumber(project)
        async let policy = gcloud.projectPolicy(project)
        async let gsaPolicies = concurrentMap(gsas, limit: options.concurrency) { email in await gcloud.serviceAccountPolicy(email) }
        async let repoPolicies = concurrentMap(repositories.keys.sorted(), limit: options.concurrency) { key in await gcloud.repositoryPolicy(repositories[key]!) }
        s.gcp = GCPFacts(
            cluster: await cluster, projectNumber: await number, projectPolicy: await policy,
            serviceAccountPolicies: await gsaPolicies, repositoryPolicies: await repoPolicies)
    }
}
