import Foundation

public struct AzureProviderConfigCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "azure.providerconfig",
        title: "OIDCTokenFile ProviderConfig is complete",
        summary: "Every Azure `OIDCTokenFile` ProviderConfig/ClusterProviderConfig (`azure.upbound.io`, `azure.m.upbound.io`) sets `clientID`, `tenantID` and `subscriptionID`, and the token path the provider version reads is where the webhook mounts the token (provider ≤ v2.6.0 reads only `/var/run/secrets/azure/tokens/azure-identity-token`; webhook v1.6+ mounts `/var/run/secrets/azure/wi/token/azure-identity-token`).",
        rationale: "provider-upjet-azure authenticates `OIDCTokenFile` with the ProviderConfig's IDs (released versions up to v2.7 do not fall back to the pod's AZURE_CLIENT_ID) and fails with 'subscription ID must be set in ProviderConfig…'; an old provider behind a new webhook fails with 'open …/azure-identity-token: no such file or directory'.",
        remediation: "Set the missing fields, or `spec.oidcTokenFilePath` to the pod's `AZURE_FEDERATED_TOKEN_FILE` (or upgrade the provider to v2.7.0+).",
        mechanism: .azureWI, scope: .subject,
        passing: [CheckExample("clientID, tenantID, subscriptionID; v2.7.0 reads the env", subject: "provider/provider-azure-storage", expect: .pass) { Examples.aksSeed() }],
        failing: [
            CheckExample("subscriptionID missing", subject: "provider/provider-azure-storage", expect: .fail) {
                var s = Examples.aksSeed()
                s.providerConfigs[0].subscriptionID = nil
                return s
            },
            CheckExample("the ProviderConfig names another identity than the ServiceAccount", subject: "provider/provider-azure-storage", expect: .warn) {
                var s = Examples.aksSeed()
                s.providerConfigs[0].clientID = Examples.coreClientID
                return s
            },
            CheckExample("v2.6.0 provider, webhook mounts the new path", subject: "provider/provider-azure-storage", expect: .fail) {
                var s = Examples.aksSeed()
                s.updatePackage("provider-azure-storage") { $0.package = "\(Examples.acrServer)/crossplane/provider-azure-storage:v2.6.0" }
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.storageRevision }) {
                    $0.spec.containers[0].env = Examples.azureEnv(clientID: Examples.providerClientID, tokenFile: AzureWIFacts.currentTokenFile)
                    $0.spec.containers[0].volumeMounts = [VolumeMount(name: "azure-workload-identity-reserved-1a2b3c4d", mountPath: "/var/run/secrets/azure/wi")]
                    $0.spec.volumes = [Volume(name: "azure-workload-identity-reserved-1a2b3c4d", projectedTokens: [ProjectedToken(audience: AzureWIFacts.audience, path: "token/azure-identity-token")])]
                }
                return s
            },
        ])

    /// ProviderConfig names (and client IDs) listed in one finding before "and N more".
    static let namesShown = 5

    /// The first `namesShown` of `items`, comma-separated, then "and N more".
    static func listed(_ items: [String]) -> String {
        items.prefix(namesShown).joined(separator: ", ") + (items.count > namesShown ? " and \(items.count - namesShown) more" : "")
    }

    /// The provider's own message for a missing field (internal/clients/azure.go).
    static func providerError(_ field: String) -> String {
        switch field {
        case "subscriptionID": return "subscription ID must be set in ProviderConfig when credential source is InjectedIdentity, OIDCTokenFile or Upbound"
        case "tenantID": return "tenant ID must be set in ProviderConfig when credential source is InjectedIdentity, OIDCTokenFile or Upbound"
        default: return "client ID must be set in ProviderConfig when credential source is OIDCTokenFile or Upbound"
        }
    }

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool {
        subject.method == .azureWI && subject.isAzureProvider && !subject.isFamilyProvider
    }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        for kind in ProviderConfigAPI.allCases where kind.family == .azure {
            if let (read, outcome) = context.snapshot.failedRead(kind.plural, group: kind.group) {
                return [.error("cannot read \(read.displayName): \(outcome.shortText)", remediation: ClusterAccessCheck.grant(verb: "list", read: read))]
            }
        }
        let configs = context.azureOIDCProviderConfigs
        guard !configs.isEmpty else { return [.skip("no Azure ProviderConfig uses OIDCTokenFile (see crossplane.providerconfig-source)")] }
        let version = subject.package?.reference.semanticVersion
        let versionText = subject.package?.reference.tag ?? "(no tag)"
        // Released provider-upjet-azure versions up to v2.7 require the IDs in the ProviderConfig.
        let requiresIDs = version.map { ($0.major, $0.minor) <= (2, 7) } ?? true
        let readsEnvPath = version.map { ($0.major, $0.minor, $0.patch) >= (2, 7, 0) }
        let mounted = context.injectedTokenFile(of: subject)
        let annotated = subject.serviceAccount?.metadata.annotations
        var results: [CheckResult] = []
        var complete: [String] = []
        for pc in configs {
            var missing: [String] = []
            if pc.subscriptionID == nil { missing.append("subscriptionID") }
            if requiresIDs && pc.tenantID == nil { missing.append("tenantID") }
            if requiresIDs && pc.clientID == nil { missing.append("clientID") }
            if !missing.isEmpty {
                var fields: [String: String] = [:]
                var unknown: [String] = []
                let values: [String: String?] = [
                    "subscriptionID": context.snapshot.cluster.subscription ?? context.snapshot.azure.account.value?.subscriptionID,
                    "tenantID": annotated?[AzureWIFacts.tenantIDAnnotation] ?? context.snapshot.azure.account.value?.tenantID,
                    "clientID": annotated?[AzureWIFacts.clientIDAnnotation],
                ]
                for field in missing {
                    if let v = values[field] ?? nil, AzureWIFacts.isGUID(v) { fields[field] = v } else { unknown.append(field) }
                }
                let fixable = unknown.isEmpty
                results.append(.fail(
                    "\(pc.displayName) uses OIDCTokenFile without \(missing.joined(separator: ", ")): \(subject.id) (\(versionText)) fails with '\(Self.providerError(missing[0]))'",
                    evidence: ["providerConfig": pc.displayName, "missing": missing.joined(separator: ",")],
                    remediation: Remediation(
                        fixable ? "set the missing fields" : "set \(missing.joined(separator: ", ")) (\(unknown.joined(separator: ", ")) could not be discovered)",
                        commands: [Commands.setProviderConfigFields(pc, fields.isEmpty ? Dictionary(uniqueKeysWithValues: missing.map { ($0, "") }) : fields, variables: unknown)]),
                    fixable: fixable))
                continue
            }
            if pc.oidcTokenFilePath == nil, readsEnvPath == false, let mounted, mounted != AzureWIFacts.legacyTokenFile {
                results.append(.fail(
                    "\(subject.id) \(versionText) reads the token only from \(AzureWIFacts.legacyTokenFile), but the webhook mounts it at \(mounted): authentication fails with 'no such file or directory'",
                    evidence: ["providerConfig": pc.displayName, "tokenFile": mounted],
                    remediation: Remediation("set spec.oidcTokenFilePath (or upgrade the provider to v2.7.0 or later)", commands: [Commands.setProviderConfigFields(pc, ["oidcTokenFilePath": mounted])]),
                    fixable: true))
                continue
            }
            if let path = pc.oidcTokenFilePath, let mounted, path != mounted {
                results.append(.fail(
                    "\(pc.displayName) sets oidcTokenFilePath \(Printable.text(path)), but the webhook mounts the token at \(mounted)",
                    evidence: ["providerConfig": pc.displayName, "tokenFile": mounted],
                    remediation: Remediation("point oidcTokenFilePath at the mounted token", commands: [Commands.setProviderConfigFields(pc, ["oidcTokenFilePath": mounted])]),
                    fixable: true))
                continue
            }
            complete.append(pc.displayName)
        }
        // The complete ones in one finding: with a ProviderConfig per identity and a provider per identity,
        // a finding per pair would grow with providers × ProviderConfigs.
        let pathNote = readsEnvPath == nil ? "; provider version unknown (\(versionText)), token path not compared" : ""
        if complete.count == 1 {
            results.append(.pass("\(complete[0]) sets clientID, tenantID and subscriptionID\(pathNote)", evidence: ["providerConfig": complete[0]]))
        } else if complete.count > 1 {
            let shown = Self.listed(complete)
            results.append(.pass("\(complete.count) OIDCTokenFile ProviderConfigs (\(shown)) set clientID, tenantID and subscriptionID\(pathNote)",
                                 evidence: ["providerConfigs": shown]))
        }
        // Which ProviderConfig a managed resource uses is not visible here; when none of them names the
        // identity the ServiceAccount is annotated with, the provider authenticates as another one.
        let ids = configs.compactMap(\.clientID)
        if let annotatedID = annotated?[AzureWIFacts.clientIDAnnotation], !ids.isEmpty,
            !ids.contains(where: { $0.caseInsensitiveCompare(annotatedID) == .orderedSame })
        {
            let named = configs.filter { $0.clientID != nil }
            let names = Self.listed(named.map(\.displayName))
            let idText = Self.listed(Set(ids).sorted())
            results.append(.warn(
                "no OIDCTokenFile ProviderConfig names the ServiceAccount's \(AzureWIFacts.clientIDAnnotation)=\(annotatedID) (\(names) use \(idText)): \(subject.id) authenticates as the ProviderConfig's clientID, so that identity needs the federated credential",
                evidence: ["providerConfigs": names],
                remediation: Remediation("use one identity for both, or federate the ProviderConfig's identity (see azure.federated-credential)",
                    commands: named.prefix(Self.namesShown).map { Commands.getYAML("\($0.api.plural).\($0.api.group)", $0.metadata.name, namespace: $0.metadata.namespace) })))
        }
        return results
    }
}
