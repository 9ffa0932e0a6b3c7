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

    /// The directory the webhook mounts tokens in, from what it injected into the subject's pods.
    public func injectedTokenFile(of subject: Subject) -> String? {
        subject.livePods.lazy.compactMap { subject.runtimeContainer(of: $0)?.envValue(AzureWIFacts.tokenFileEnv) }.first
    }
}
