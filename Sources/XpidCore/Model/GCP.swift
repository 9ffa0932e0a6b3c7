import Foundation

/// Names GKE Workload Identity uses. Nothing is injected into pods: the GKE metadata server maps a
/// pod's Kubernetes ServiceAccount to an identity when the pod asks for a token.
public enum GKEFacts {
    public static let gsaAnnotation = "iam.gke.io/gcp-service-account"
    /// Nodes whose pool runs the GKE metadata server carry this label.
    public static let metadataServerLabel = "iam.gke.io/gke-metadata-server-enabled"
    public static let nodePoolLabel = "cloud.google.com/gke-nodepool"
    public static let workloadIdentityUser = "roles/iam.workloadIdentityUser"
    public static let metadataMode = "GKE_METADATA"
    /// Roles that include `artifactregistry.repositories.downloadArtifacts`.
    public static let readerRoles: Set<String> = [
        "roles/artifactregistry.reader", "roles/artifactregistry.writer", "roles/artifactregistry.repoAdmin", "roles/artifactregistry.admin",
        "roles/owner", "roles/editor", "roles/viewer",
    ]
    public static let credentialsEnv = "GOOGLE_APPLICATION_CREDENTIALS"

    /// `name@project.iam.gserviceaccount.com` (6–30 character name); anything else is reported, never copied.
    public static func isServiceAccountEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasSuffix(".iam.gserviceaccount.com") else { return false }
        let name = parts[0]
        let allowedName = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        let domain = parts[1].dropLast(".iam.gserviceaccount.com".count)
        let allowedDomain = !domain.isEmpty && domain.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." || $0 == ":" }
        return (6...30).contains(name.count) && allowedName && name.first?.isLetter == true && allowedDomain
    }

    /// The project of a GSA email (`name@PROJECT.iam.gserviceaccount.com`).
    public static func project(ofServiceAccount email: String) -> String? {
        guard isServiceAccountEmail(email), let domain = email.split(separator: "@").last else { return nil }
        return String(domain.dropLast(".iam.gserviceaccount.com".count))
    }

    /// The member a GSA's policy must grant `roles/iam.workloadIdentityUser` to.
    public static func workloadIdentityMember(pool: String, namespace: String, serviceAccount: String) -> String {
        "serviceAccount:\(pool)[\(namespace)/\(serviceAccount)]"
    }

    /// The direct-principal member of a Kubernetes ServiceAccount (no GSA).
    public static func principal(projectNumber: String, pool: String, namespace: String, serviceAccount: String) -> String {
        "principal://iam.googleapis.com/projects/\(projectNumber)/locations/global/workloadIdentityPools/\(pool)/subject/ns/\(namespace)/sa/\(serviceAccount)"
    }

    /// Every ServiceAccount of a namespace.
    public static func principalSet(projectNumber: String, pool: String, namespace: String) -> String {
        "principalSet://iam.googleapis.com/projects/\(projectNumber)/locations/global/workloadIdentityPools/\(pool)/namespace/\(namespace)"
    }

    /// `gke_PROJECT_LOCATION_CLUSTER`, the context `gcloud container clusters get-credentials` writes.
    public static func cluster(fromContext name: String) -> (project: String, location: String, name: String)? {
        guard name.hasPrefix("gke_") else { return nil }
        let parts = name.dropFirst(4).split(separator: "_", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return (parts[0], parts[1], parts[2])
    }
}

public struct GKENodePool: Sendable, Equatable {
    public var name: String
    public var metadataMode: String?
    public var serviceAccount: String?

    public init(name: String, metadataMode: String?, serviceAccount: String? = nil) {
        self.name = name
        self.metadataMode = metadataMode
        self.serviceAccount = serviceAccount
    }
}

/// `gcloud container clusters describe` (the node pools come with it).
public struct GKECluster: Sendable, Equatable {
    public var name: String
    public var location: String?
    public var workloadPool: String?
    public var nodePools: [GKENodePool]

    public init(name: String, location: String? = nil, workloadPool: String?, nodePools: [GKENodePool] = []) {
        self.name = name
        self.location = location
        self.workloadPool = workloadPool
        self.nodePools = nodePools
    }

    public init?(_ json: JSONValue) {
        guard let name = json["name"].string else { return nil }
        self.name = name
        location = json["location"].string
        workloadPool = json.at("workloadIdentityConfig", "workloadPool").string.flatMap { $0.isEmpty ? nil : $0 }
        nodePools = json["nodePools"].array.compactMap { p in
            p["name"].string.map { GKENodePool(name: $0, metadataMode: p.at("config", "workloadMetadataConfig", "mode").string, serviceAccount: p.at("config", "serviceAccount").string) }
        }
    }
}

/// An IAM policy: who has which role.
public struct GCPPolicy: Sendable, Equatable {
    public var bindings: [(role: String, members: [String])]

    public init(bindings: [(role: String, members: [String])]) { self.bindings = bindings }

    public init(_ json: JSONValue) {
        bindings = json["bindings"].array.compactMap { b in b["role"].string.map { (role: $0, members: b["members"].strings) } }
    }

    public static func == (a: GCPPolicy, b: GCPPolicy) -> Bool {
        a.bindings.map(\.role) == b.bindings.map(\.role) && a.bindings.map(\.members) == b.bindings.map(\.members)
    }

    public func roles(of member: String) -> [String] {
        bindings.filter { $0.members.contains(member) }.map(\.role)
    }

    public func members(of role: String) -> [String] {
        bindings.filter { $0.role == role }.flatMap(\.members)
    }
}

/// Everything the GKE-side checks read, gathered up front and concurrently.
public struct GCPFacts: Sendable, Equatable {
    public var cluster: CloudRead<GKECluster>
    /// `projects describe`: the project number, needed for direct-principal members.
    public var projectNumber: CloudRead<String>
    public var projectPolicy: CloudRead<GCPPolicy>
    /// Policies of Google service accounts, by email (read for each one a subject is annotated with).
    public var serviceAccountPolicies: [String: CloudRead<GCPPolicy>]
    /// Policies of Artifact Registry repositories, by `LOCATION/PROJECT/REPOSITORY`.
    public var repositoryPolicies: [String: CloudRead<GCPPolicy>]

    public init(
        cluster: CloudRead<GKECluster>, projectNumber: CloudRead<String>, projectPolicy: CloudRead<GCPPolicy>,
        serviceAccountPolicies: [String: CloudRead<GCPPolicy>] = [:], repositoryPolicies: [String: CloudRead<GCPPolicy>] = [:]
    ) {
        self.cluster = cluster
        self.projectNumber = projectNumber
        self.projectPolicy = projectPolicy
        self.serviceAccountPolicies = serviceAccountPolicies
        self.repositoryPolicies = repositoryPolicies
    }

    public static func unavailable(_ reason: String) -> GCPFacts {
        GCPFacts(cluster: .notRequested(reason), projectNumber: .notRequested(reason), projectPolicy: .notRequested(reason))
    }
}

/// An Artifact Registry repository from an image reference (`LOCATION-docker.pkg.dev/PROJECT/REPO/…`).
public struct ArtifactRepository: Sendable, Hashable {
    public var location: String
    public var project: String
    public var repository: String

    public init?(image: String) {
        let ref = PackageReference(image)
        guard let host = ref.registry, host.hasSuffix("-docker.pkg.dev") else { return nil }
        let parts = ref.repository.split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return nil }
        location = String(host.dropLast("-docker.pkg.dev".count))
        project = parts[0]
        repository = parts[1]
    }

    public var key: String { "\(location)/\(project)/\(repository)" }
}
