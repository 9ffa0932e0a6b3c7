import Foundation

/// Known error signatures in package conditions, mapped to what they mean and which check explains them.
public enum ErrorDecoder {
    public struct Explanation: Sendable, Equatable {
        public var signature: String
        public var meaning: String
        public var relatedCheck: String?
    }

    static let table: [(String, String, String?)] = [
        ("failed to get authorization token", "the package manager could not get an ECR token: its identity lacks ecr:GetAuthorizationToken, or it has no AWS identity at all", "crossplane.registry-permissions"),
        ("InvalidIdentityToken", "IRSA: no IAM OIDC provider for the cluster issuer, or the token audience is wrong", "eks.oidc-provider"),
        ("not authorized to perform: ecr:BatchGetImage", "the identity may log in to ECR but not pull: ecr:BatchGetImage/GetDownloadUrlForLayer/BatchCheckLayerAvailability missing on the repository", "crossplane.registry-permissions"),
        ("not authorized to perform: sts:TagSession", "the role's trust policy lacks sts:TagSession (required by EKS Pod Identity and for chained roles)", "podid.trust-policy"),
        ("AssumeRoleWithWebIdentity", "IRSA: the role's trust policy does not match the token's sub/aud", "irsa.trust-policy"),
        ("unauthorized: authentication required", "the registry wants credentials and none were presented (no identity for the registry, or no pull secret)", "crossplane.core-registry-identity"),
        ("failed to fetch oauth token", "the registry token exchange failed (ACR/GAR identity or permission)", nil),
        ("PERMISSION_DENIED", "Google Cloud denied access: the identity lacks roles/artifactregistry.reader or the Workload Identity binding", nil),
        ("AADSTS700211", "Azure: no federated credential has the token's issuer (often a missing or extra trailing / on the issuer)", "azure.federated-credential"),
        ("AADSTS7002138", "Azure: a federated credential's subject differs from the token's only in case; subjects are case-sensitive", "azure.federated-credential"),
        ("AADSTS700016", "Azure: no application or identity with that client ID in the tenant (wrong clientID, or right clientID in the wrong tenantID)", "azure.sa-annotation"),
        ("AADSTS70023", "Azure: the presented token lives too long: the legacy ServiceAccount token was used instead of the projected one", "azure.injected"),
        ("AADSTS700024", "Azure: the token is outside its valid time range (expired token or clock skew)", "azure.injected"),
        ("AADSTS70021", "Azure: no federated credential matches the token's issuer/subject/audience (check the trailing / of the issuer; new credentials take minutes to propagate)", "azure.federated-credential"),
        ("invalid federated token", "Azure: the federated token was refused (no matching federated credential, or a stale token)", "azure.federated-credential"),
        ("azure-identity-token: no such file or directory", "Azure: the client reads the token from a path the webhook does not mount (provider ≤ v2.6.0 behind webhook v1.6+)", "azure.providerconfig"),
        ("must be set in ProviderConfig when credential source is", "Azure: the OIDCTokenFile ProviderConfig lacks subscriptionID, tenantID or clientID", "azure.providerconfig"),
        ("ManagedIdentityCredential", "Azure: the client fell back to the node's managed identity: the pod has no workload identity env", "azure.injected"),
        ("artifactregistry.repositories.downloadArtifacts", "GKE: the identity may not read the Artifact Registry repository (roles/artifactregistry.reader)", "crossplane.registry-permissions"),
        ("iam.serviceAccounts.getAccessToken", "GKE: the Kubernetes ServiceAccount may not impersonate the GSA (roles/iam.workloadIdentityUser binding for its namespace/name)", "gke.iam-binding"),
        ("invalid identity token", "GKE: the token was refused (workload pool or binding)", "gke.workload-pool"),
        ("azurecr.io", "ACR refused the pull: the package manager's identity has no AcrPull (or no workload identity at all)", "crossplane.registry-permissions"),
        ("no EC2 IMDS role found", "the provider found no AWS credentials in the pod (no Pod Identity/IRSA env injected) and fell back to the node", "podid.injected"),
        ("NoCredentialProviders", "the provider found no AWS credentials in the pod", "podid.injected"),
        ("failed to refresh cached credentials", "the AWS SDK could not obtain credentials (agent unreachable or role not assumable)", "eks.pod-identity-agent"),
        ("ImagePullBackOff", "the node could not pull the runtime image (node-level registry identity)", "crossplane.node-pull"),
        ("ErrImagePull", "the node could not pull the runtime image (node-level registry identity)", "crossplane.node-pull"),
        ("cannot resolve package dependencies", "a dependency (for example the provider family) could not be resolved", "crossplane.private-dependencies"),
    ]

    public static func decode(_ message: String) -> [Explanation] {
        table.filter { message.localizedCaseInsensitiveContains($0.0) }.map { Explanation(signature: $0.0, meaning: $0.1, relatedCheck: $0.2) }
    }
}
