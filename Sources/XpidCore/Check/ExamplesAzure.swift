import Foundation

/// AKS states for the Azure examples: seed 000's Azure tab done right (the package manager pulls
/// from a private ACR with a user-assigned identity), plus an upjet Azure provider on workload
/// identity with a pinned ServiceAccount name, the documented runtime config and an `OIDCTokenFile`
/// ProviderConfig.
extension Examples {
    public static let azureSubscription = "0b1f6471-1bf0-4dda-aec3-111122223333"
    public static let azureTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    public static let aksResourceGroup = "rg-platform"
    public static let aksName = "prod-aks"
    public static let aksIssuer = "https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/4a3c7f0e-1111-2222-3333-444455556666/"
    public static let coreClientID = "11111111-2222-4333-8444-555555555555"
    public static let corePrincipalID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    public static let providerClientID = "22222222-3333-4444-8555-666666666666"
    public static let providerPrincipalID = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"
    public static let kubeletObjectID = "cccccccc-dddd-4eee-8fff-000000000000"
    public static let acrServer = "myregistry.azurecr.io"
    public static let acrID = "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/myregistry"
    public static let storageRevision = "provider-azure-storage-5f1c2d3e4a5b"
    public static let azureProviderSA = "provider-azure-storage"

    public static func azureEnv(clientID: String, tokenFile: String = AzureWIFacts.legacyTokenFile) -> [EnvVar] {
        [
            EnvVar(name: AzureWIFacts.clientIDEnv, value: clientID),
            EnvVar(name: AzureWIFacts.tenantIDEnv, value: azureTenant),
            EnvVar(name: AzureWIFacts.tokenFileEnv, value: tokenFile),
            EnvVar(name: AzureWIFacts.authorityHostEnv, value: "https://login.microsoftonline.com/"),
        ]
    }

    public static let azureTokenVolume = Volume(name: "azure-identity-token", projectedTokens: [ProjectedToken(audience: AzureWIFacts.audience, path: "azure-identity-token")])
    public static let azureTokenMount = VolumeMount(name: "azure-identity-token", mountPath: "/var/run/secrets/azure/tokens")

    public static func aksNode(_ index: Int) -> Node {
        Node(
            metadata: ObjectMeta(
                name: "aks-nodepool1-12345678-vmss00000\(index)",
                labels: ["kubernetes.azure.com/cluster": "MC_rg-platform_prod-aks_eastus", "kubernetes.azure.com/agentpool": "nodepool1", "topology.kubernetes.io/region": "eastus"]),
            providerID: "azure:///subscriptions/\(azureSubscription)/resourceGroups/mc_rg-platform_prod-aks_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/\(index)")
    }

    /// A pod mutated by the Azure webhook (v1.5 paths) for `clientID`.
    static func azurePod(_ name: String, labels: [String: String], serviceAccount: String, container: String, image: String, clientID: String?) -> Pod {
        var c = Container(name: container, image: image)
        var volumes: [Volume] = []
        var podLabels = labels
        if let clientID {
            c.env = azureEnv(clientID: clientID)
            c.volumeMounts = [azureTokenMount]
            volumes = [azureTokenVolume]
            podLabels[AzureWIFacts.useLabel] = "true"
        }
        return Pod(
            metadata: ObjectMeta(name: name, namespace: namespace, labels: podLabels, creationTimestamp: podsCreated),
            spec: PodSpec(serviceAccountName: serviceAccount, nodeName: "aks-nodepool1-12345678-vmss000000", containers: [c], volumes: volumes),
            containerStatuses: [ContainerState(name: container, ready: true)])
    }

    public static func aksSeed() -> Snapshot {
        let helm = ["app.kubernetes.io/managed-by": "Helm", "app": "crossplane"]
        let helmAnnotations = ["meta.helm.sh/release-name": "crossplane", "meta.helm.sh/release-namespace": namespace]
        let core = Deployment(
            metadata: ObjectMeta(name: "crossplane", namespace: namespace, labels: helm.merging([AzureWIFacts.useLabel: "true"]) { a, _ in a }, annotations: helmAnnotations),
            selector: ["app": "crossplane", "release": "crossplane"],
            template: PodTemplate(
                labels: ["app": "crossplane", "release": "crossplane", AzureWIFacts.useLabel: "true"],
                spec: PodSpec(serviceAccountName: "crossplane", containers: [Container(name: "crossplane", image: "xpkg.crossplane.io/crossplane/crossplane:v2.3.4")])))
        let storage = CrossplanePackage(
            kind: .provider, metadata: ObjectMeta(name: "provider-azure-storage"), package: "\(acrServer)/crossplane/provider-azure-storage:v2.7.0",
            runtimeConfigName: "azure-wi-storage", runtimeConfigRefSet: true, skipDependencyResolution: true, currentRevision: storageRevision, conditions: healthy())
        var storageDeployment = packageDeployment(package: "provider-azure-storage", revision: storageRevision, serviceAccount: azureProviderSA)
        storageDeployment.template.labels[AzureWIFacts.useLabel] = "true"
        let storagePod = azurePod(
            "\(storageRevision)-7c9d8f6b5-k2j4m", labels: ["pkg.crossplane.io/revision": storageRevision, "pkg.crossplane.io/provider": "provider-azure-storage"],
            serviceAccount: azureProviderSA, container: "package-runtime", image: "\(acrServer)/crossplane/provider-azure-storage:v2.7.0", clientID: providerClientID)
        // The family provider, mirrored into the same registry; it serves ProviderConfigs and makes no Azure calls.
        let familyRevision = "provider-family-azure-0a1b2c3d4e5f"
        let family = CrossplanePackage(
            kind: .provider, metadata: ObjectMeta(name: "provider-family-azure"), package: "\(acrServer)/crossplane/provider-family-azure:v2.7.0",
            currentRevision: familyRevision, conditions: healthy())
        var familyPod = packagePod(package: "provider-family-azure", revision: familyRevision, serviceAccount: familyRevision, podIdentity: false, node: "aks-nodepool1-12345678-vmss000000")
        familyPod.spec.containers[0].image = "\(acrServer)/crossplane/provider-family-azure:v2.7.0"
        let corePod = azurePod(
            "crossplane-6b8d9c7f4-qw2er", labels: ["app": "crossplane", "release": "crossplane"], serviceAccount: "crossplane", container: "crossplane",
            image: "xpkg.crossplane.io/crossplane/crossplane:v2.3.4", clientID: coreClientID)
        let identities = [
            ManagedIdentity(
                name: "crossplane-acr-pull", resourceGroup: aksResourceGroup,
                id: "/subscriptions/\(azureSubscription)/resourceGroups/\(aksResourceGroup)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/crossplane-acr-pull",
                clientID: coreClientID, principalID: corePrincipalID, tenantID: azureTenant),
            ManagedIdentity(
                name: "crossplane-provider-azure", resourceGroup: aksResourceGroup,
                id: "/subscriptions/\(azureSubscription)/resourceGroups/\(aksResourceGroup)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/crossplane-provider-azure",
                clientID: providerClientID, principalID: providerPrincipalID, tenantID: azureTenant),
        ]
        return Snapshot(
            cluster: ClusterInfo(
                context: aksName, server: "https://prod-aks-dns-abc123.hcp.eastus.azmk8s.io:443", cloud: .azure,
                cloudEvidence: "node aks-nodepool1-12345678-vmss000000 providerID azure:///subscriptions/…", name: aksName, region: "eastus",
                resourceGroup: aksResourceGroup, subscription: azureSubscription),
            nodes: [aksNode(0)],
            serviceAccounts: [
                ServiceAccount(metadata: ObjectMeta(
                    name: "crossplane", namespace: namespace, labels: ["app.kubernetes.io/managed-by": "Helm"],
                    annotations: helmAnnotations.merging([AzureWIFacts.clientIDAnnotation: coreClientID, AzureWIFacts.tenantIDAnnotation: azureTenant]) { a, _ in a })),
                ServiceAccount(metadata: ObjectMeta(
                    name: azureProviderSA, namespace: namespace,
                    annotations: [AzureWIFacts.clientIDAnnotation: providerClientID, AzureWIFacts.tenantIDAnnotation: azureTenant])),
            ],
            pods: [corePod, storagePod, familyPod],
            deployments: [
                core, storageDeployment, packageDeployment(package: "provider-family-azure", revision: familyRevision, serviceAccount: familyRevision),
                Deployment(
                    metadata: ObjectMeta(name: AzureWIFacts.addonDeployment, namespace: "kube-system"),
                    template: PodTemplate(spec: PodSpec(containers: [Container(name: "manager", image: "mcr.microsoft.com/oss/v2/azure/workload-identity/webhook:v1.5.1")]))),
            ],
            packages: [storage, family],
            runtimeConfigs: [
                DeploymentRuntimeConfig(metadata: ObjectMeta(name: "default")),
                DeploymentRuntimeConfig(
                    metadata: ObjectMeta(name: "azure-wi-storage"), serviceAccountName: azureProviderSA,
                    serviceAccountAnnotations: [AzureWIFacts.clientIDAnnotation: providerClientID, AzureWIFacts.tenantIDAnnotation: azureTenant],
                    podLabels: [AzureWIFacts.useLabel: "true"]),
            ],
            providerConfigs: [
                ProviderConfig(api: .azureLegacy, metadata: ObjectMeta(name: "default"), source: "OIDCTokenFile", clientID: providerClientID, tenantID: azureTenant, subscriptionID: azureSubscription)
            ],
            azure: AzureFacts(
                account: .value(AzureAccount(subscriptionID: azureSubscription, tenantID: azureTenant)),
                cluster: .value(AKSCluster(
                    name: aksName, resourceGroup: aksResourceGroup, nodeResourceGroup: "MC_rg-platform_prod-aks_eastus", issuerURL: aksIssuer,
                    kubeletIdentity: .init(clientID: "dddddddd-eeee-4fff-8000-111111111111", objectID: kubeletObjectID))),
                identities: .value(identities),
                federatedCredentials: [
                    identities[0].id!: .value([FederatedCredential(name: "crossplane", issuer: aksIssuer, subject: "system:serviceaccount:crossplane-system:crossplane")]),
                    identities[1].id!: .value([FederatedCredential(name: "provider-azure-storage", issuer: aksIssuer, subject: "system:serviceaccount:crossplane-system:provider-azure-storage")]),
                ],
                registries: .value([ContainerRegistry(name: "myregistry", id: acrID, loginServer: acrServer, roleAssignmentMode: "LegacyRegistryPermissions")]),
                roleAssignments: [acrID: .value([
                    RoleAssignment(principalID: corePrincipalID, roleDefinitionID: "/subscriptions/\(azureSubscription)/providers/Microsoft.Authorization/roleDefinitions/\(AzureWIFacts.acrPullRoleID)", roleDefinitionName: "AcrPull", scope: acrID),
                    RoleAssignment(principalID: kubeletObjectID, roleDefinitionID: "/subscriptions/\(azureSubscription)/providers/Microsoft.Authorization/roleDefinitions/\(AzureWIFacts.acrPullRoleID)", roleDefinitionName: "AcrPull", scope: acrID),
                ])]),
            webhookConfigurations: [MutatingWebhookConfiguration(metadata: ObjectMeta(name: "azure-wi-webhook-mutating-webhook-configuration"), webhooks: [AzureWIFacts.webhookName])],
            options: EvaluationOptions(now: date("2026-11-22T10:00:00Z")))
    }

    /// Changes the federated credentials of one identity in an example.
    public static func withCredentials(_ s: inout Snapshot, identity index: Int, _ change: (inout [FederatedCredential]) -> Void) {
        guard let id = s.azure.identities.value?[index].id, var list = s.azure.federatedCredentials[id]?.value else { return }
        change(&list)
        s.azure.federatedCredentials[id] = .value(list)
    }
}
