import Foundation

extension EvaluationContext {
    /// The `OIDCTokenFile` ProviderConfigs of the Azure family (legacy and `.m.` kinds).
    public var azureOIDCProviderConfigs: [ProviderConfig] {
        snapshot.providerConfigs.filter { $0.api.family == .azure && $0.source == "OIDCTokenFile" }.sorted { $0.displayName < $1.displayName }
    }

    /// The client ID whose identity the subject's tokens are exchanged for, and where it comes from.
    /// provider-upjet-azure authenticates `OIDCTokenFile` with the ProviderConfig's `clientID`,
    /// whatever the ServiceAccount says; everything else uses the ServiceAccount annotation.
    public func azureClientID(of subject: Subject) -> (clientID: String, source: String)? {
        if subject.isAzureProvider && !subject.isFamilyProvider {
            let ids = Set(azureOIDCProviderConfigs.compactMap(\.clientID))
            if ids.count == 1, let id = ids.first, let pc = azureOIDCProviderConfigs.first(where: { $0.clientID == id }) {
                return (id, "\(pc.displayName) spec.clientID")
            }
        }
        if let id = subject.serviceAccount?.metadata.annotations[AzureWIFacts.clientIDAnnotation], !id.isEmpty {
            return (id, "ServiceAccount \(subject.namespace)/\(subject.serviceAccountName ?? "") annotation \(AzureWIFacts.clientIDAnnotation)")
        }
        return nil
    }

    /// Identities that could be this subject's when no client ID is annotated: those with a federated
    /// credential for exactly this ServiceAccount and issuer; for the package manager, else those (other
    /// than the kubelet identity) that may pull from the registries its packages come from.
    public func candidateIdentities(for subject: Subject) -> [ManagedIdentity] {
        let azure = snapshot.azure
        let identities = azure.identities.value ?? []
        if let sa = subject.serviceAccountName, let issuer = azure.cluster.value?.issuerURL {
            let wanted = AzureWIFacts.subject(namespace: subject.namespace, serviceAccount: sa)
            let trusting = identities.filter { identity in
                azure.credentials(of: identity)?.value?.contains { $0.issuer == issuer && $0.subject == wanted } == true
            }
            if !trusting.isEmpty { return trusting }
        }
        guard subject.kind == .crossplaneCore else { return [] }
        let kubelet = azure.cluster.value?.kubeletIdentity?.objectID?.lowercased()
        let registries = snapshot.acrPackageRegistries.compactMap { azure.registry(loginServer: $0) }
        let pullers = Set(registries.flatMap { r in
            (azure.roleAssignments[r.id]?.value ?? []).filter { a in
                r.isABAC ? AzureWIFacts.abacPullRoles.contains(a.roleDefinitionName ?? "") : (a.roleGUID == AzureWIFacts.acrPullRoleID || a.roleDefinitionName == "AcrPull")
            }.map { $0.principalID.lowercased() }
        })
        return identities.filter { i in
            guard let p = i.principalID?.lowercased() else { return false }
            return pullers.contains(p) && p != kubelet
        }
    }

    /// The directory the webhook mounts tokens in, from what it injected into the subject's pods.
    public func injectedTokenFile(of subject: Subject) -> String? {
        subject.livePods.lazy.compactMap { subject.runtimeContainer(of: $0)?.envValue(AzureWIFacts.tokenFileEnv) }.first
    }
}
