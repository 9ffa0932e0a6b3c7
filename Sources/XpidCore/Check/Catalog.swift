import Foundation

/// Every check, in evaluation order. Chains rely on this order: a check comes after the
/// checks it depends on. Adding a check means adding it here (no self-registration).
public enum Catalog {
    public static let all: [any Check] = [
        ClusterCloudCheck(),
        ClusterAccessCheck(),
        PodIdentityAgentCheck(),
        PodIdentityAddonCheck(),
        EKSOIDCProviderCheck(),
        IRSAAnnotationCheck(),
        IRSAPodsCurrentCheck(),
        IRSAInjectedCheck(),
        IRSATrustPolicyCheck(),
        IRSAStableNameCheck(),
        StableServiceAccountCheck(),
        SharedServiceAccountCheck(),
        AssociationCheck(),
        PodIdentityTrustPolicyCheck(),
        PodsCurrentCheck(),
        PodIdentityInjectedCheck(),
        IRSAShadowingCheck(),
        RoleChainCheck(),
        AKSWorkloadIdentityCheck(),
        AzureAnnotationCheck(),
        AzurePodLabelCheck(),
        AzurePodsCurrentCheck(),
        AzureInjectedCheck(),
        AzureStableNameCheck(),
        FederatedCredentialCheck(),
        AzureProviderConfigCheck(),
        GKEWorkloadPoolCheck(),
        GKEAnnotationCheck(),
        GKEHostNetworkCheck(),
        GKECredentialsEnvCheck(),
        GKEIAMBindingCheck(),
        PackageHealthCheck(),
        RuntimeConfigCheck(),
        CoreRegistryIdentityCheck(),
        RegistryPermissionsCheck(),
        NodePullCheck(),
        PrivateDependenciesCheck(),
        PodIdentitySupportCheck(),
        ProviderConfigSourceCheck(),
        FluxControllerIdentityCheck(),
        FluxObjectLevelGateCheck(),
        FluxObjectServiceAccountCheck(),
        FluxProviderFieldCheck(),
        FluxTokenPermissionCheck(),
        FluxObjectHealthCheck(),
    ]

    public static var descriptions: [CheckDescription] { all.map { type(of: $0).description } }

    public static func description(_ id: String) -> CheckDescription? { descriptions.first { $0.id == id } }
}
