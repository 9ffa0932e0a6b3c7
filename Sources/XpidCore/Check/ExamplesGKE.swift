import Foundation

/// GKE states for the GKE examples: seed 000's Google Cloud tab done right (the package manager pulls
/// from a private Artifact Registry as a Google service account it impersonates through Workload
/// Identity) and an upjet GCP provider as a direct principal (seed 004: no GSA, the role granted to the
/// Kubernetes ServiceAccount's principal).
extension Examples {
    public static let gcpProject = "acme-platform"
    public static let gcpProjectNumber = "123456789012"
    public static let gkeLocation = "europe-west1"
    public static let gkeName = "prod-gke"
    public static let gkePool = "acme-platform.svc.id.goog"
    public static let coreGSA = "crossplane-gar@acme-platform.iam.gserviceaccount.com"
    public static let garRepository = "europe-west1-docker.pkg.dev/acme-platform/crossplane"
    public static let gcpStorageRevision = "provider-gcp-storage-7a8b9c0d1e2f"

    public static func gkeNode(_ index: Int) -> Node {
        Node(
            metadata: ObjectMeta(
                name: "gke-prod-gke-default-pool-1a2b3c4d-\(index)",
                labels: [GKEFacts.nodePoolLabel: "default-pool", GKEFacts.metadataServerLabel: "true", "topology.kubernetes.io/region": gkeLocation]),
            providerID: "gce://\(gcpProject)/\(gkeLocation)-b/gke-prod-gke-default-pool-1a2b3c4d-\(index)")
    }

    public static func gkeSeed() -> Snapshot {
        let core = Deployment(
            metadata: ObjectMeta(name: "crossplane", namespace: namespace, labels: ["app": "crossplane"]),
            selector: ["app": "crossplane"],
            template: PodTemplate(labels: ["app": "crossplane"], spec: PodSpec(serviceAccountName: "crossplane", containers: [Container(name: "crossplane", image: "xpkg.crossplane.io/crossplane/crossplane:v2.3.4")])))
        let corePod = Pod(
            metadata: ObjectMeta(name: "crossplane-5d4c3b2a1-zx9y8", namespace: namespace, labels: ["app": "crossplane"], creationTimestamp: podsCreated),
            spec: PodSpec(serviceAccountName: "crossplane", nodeName: "gke-prod-gke-default-pool-1a2b3c4d-0", containers: [Container(name: "crossplane", image: "xpkg.crossplane.io/crossplane/crossplane:v2.3.4")]),
            containerStatuses: [ContainerState(name: "crossplane", ready: true)])
        let storage = CrossplanePackage(
            kind: .provider, metadata: ObjectMeta(name: "provider-gcp-storage"), package: "\(garRepository)/provider-gcp-storage:v2.0.0",
            runtimeConfigName: "gcp-storage", runtimeConfigRefSet: true, skipDependencyResolution: true, currentRevision: gcpStorageRevision, conditions: healthy())
        let family = CrossplanePackage(
            kind: .provider, metadata: ObjectMeta(name: "provider-family-gcp"), package: "\(garRepository)/provider-family-gcp:v2.0.0",
            currentRevision: "provider-family-gcp-0f1e2d3c4b5a", conditions: healthy())
        var storagePod = packagePod(package: "provider-gcp-storage", revision: gcpStorageRevision, serviceAccount: "provider-gcp-storage", podIdentity: false, node: "gke-prod-gke-default-pool-1a2b3c4d-0")
        storagePod.spec.containers[0].image = "\(garRepository)/provider-gcp-storage:v2.0.0"
        var familyPod = packagePod(package: "provider-family-gcp", revision: "provider-family-gcp-0f1e2d3c4b5a", serviceAccount: "provider-family-gcp-0f1e2d3c4b5a", podIdentity: false, node: "gke-prod-gke-default-pool-1a2b3c4d-0")
        familyPod.spec.containers[0].image = "\(garRepository)/provider-family-gcp:v2.0.0"
        let storagePrincipal = GKEFacts.principal(projectNumber: gcpProjectNumber, pool: gkePool, namespace: namespace, serviceAccount: "provider-gcp-storage")
        return Snapshot(
            cluster: ClusterInfo(
                context: "gke_acme-platform_europe-west1_prod-gke", server: "https://34.76.0.1", cloud: .gcp,
                cloudEvidence: "node gke-prod-gke-default-pool-1a2b3c4d-0 providerID gce://…", name: gkeName, region: gkeLocation),
            nodes: [gkeNode(0)],
            serviceAccounts: [
                ServiceAccount(metadata: ObjectMeta(name: "crossplane", namespace: namespace, annotations: [GKEFacts.gsaAnnotation: coreGSA])),
                ServiceAccount(metadata: ObjectMeta(name: "provider-gcp-storage", namespace: namespace)),
            ],
            pods: [corePod, storagePod, familyPod],
            deployments: [
                core, packageDeployment(package: "provider-gcp-storage", revision: gcpStorageRevision, serviceAccount: "provider-gcp-storage"),
                packageDeployment(package: "provider-family-gcp", revision: "provider-family-gcp-0f1e2d3c4b5a", serviceAccount: "provider-family-gcp-0f1e2d3c4b5a"),
            ],
            packages: [storage, family],
            runtimeConfigs: [
                DeploymentRuntimeConfig(metadata: ObjectMeta(name: "default")),
                DeploymentRuntimeConfig(metadata: ObjectMeta(name: "gcp-storage"), serviceAccountName: "provider-gcp-storage"),
            ],
            providerConfigs: [ProviderConfig(api: .gcpLegacy, metadata: ObjectMeta(name: "default"), source: "InjectedIdentity", projectID: gcpProject)],
            gcp: GCPFacts(
                cluster: .value(GKECluster(name: gkeName, location: gkeLocation, workloadPool: gkePool, nodePools: [GKENodePool(name: "default-pool", metadataMode: GKEFacts.metadataMode, serviceAccount: "gke-nodes@acme-platform.iam.gserviceaccount.com")])),
                projectNumber: .value(gcpProjectNumber),
                projectPolicy: .value(GCPPolicy(bindings: [
                    (role: "roles/storage.admin", members: [storagePrincipal]),
                    (role: "roles/artifactregistry.reader", members: ["serviceAccount:gke-nodes@acme-platform.iam.gserviceaccount.com"]),
                ])),
                serviceAccountPolicies: [coreGSA: .value(GCPPolicy(bindings: [(role: GKEFacts.workloadIdentityUser, members: [GKEFacts.workloadIdentityMember(pool: gkePool, namespace: namespace, serviceAccount: "crossplane")])]))],
                repositoryPolicies: ["europe-west1/acme-platform/crossplane": .value(GCPPolicy(bindings: [(role: "roles/artifactregistry.reader", members: ["serviceAccount:\(coreGSA)"])]))]),
            options: EvaluationOptions(now: date("2026-11-22T10:00:00Z")))
    }
}
