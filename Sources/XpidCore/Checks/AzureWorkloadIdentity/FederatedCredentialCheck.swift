import Foundation

public struct FederatedCredentialCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "azure.federated-credential",
        title: "Identity trusts this ServiceAccount",
        summary: "The managed identity with the subject's client ID (the ProviderConfig's `clientID` for upjet Azure providers, else the ServiceAccount annotation) has a federated credential with issuer equal to the cluster's OIDC issuer (exactly, trailing `/` included), subject `system:serviceaccount:NS:SA` (case-sensitive) and audience `api://AzureADTokenExchange`; `warn` when the identity is near the limit of 20 credentials.",
        rationale: "Entra ID matches the token's iss/sub/aud against the credentials exactly; any difference is AADSTS70021 (or 700211 for the issuer, 7002138 for case), and the error never reaches the package's conditions.",
        remediation: "`az identity federated-credential create` with the printed issuer and subject (one at a time: concurrent creations on one identity conflict).",
        mechanism: .azureWI, scope: .subject, cloud: true, dependsOn: ["azure.sa-annotation", "azure.stable-sa-name"],
        passing: [CheckExample("credential for crossplane-system:crossplane", subject: "crossplane-core/crossplane", expect: .pass) { Examples.aksSeed() }],
        failing: [
            CheckExample("subject in the wrong namespace", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                Examples.withCredentials(&s, identity: 0) { $0[0].subject = "system:serviceaccount:crossplane:crossplane" }
                return s
            },
            CheckExample("issuer without the trailing slash", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                Examples.withCredentials(&s, identity: 0) { $0[0].issuer = String(Examples.aksIssuer.dropLast()) }
                return s
            },
            CheckExample("wrong audience", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                Examples.withCredentials(&s, identity: 0) { $0[0].audiences = ["api://AzureADTokenExchange/"] }
                return s
            },
            CheckExample("19 credentials: near the limit", subject: "crossplane-core/crossplane", expect: .warn) {
                var s = Examples.aksSeed()
                Examples.withCredentials(&s, identity: 0) { list in
                    for i in 0..<18 { list.append(FederatedCredential(name: "other-\(i)", issuer: Examples.aksIssuer, subject: "system:serviceaccount:team-\(i):app")) }
                }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .azureWI }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let sa = subject.serviceAccountName else { return [.skip("no ServiceAccount resolved")] }
        guard let (clientID, from) = context.azureClientID(of: subject), AzureWIFacts.isGUID(clientID) else {
            return [.skip("no client ID to look up (see azure.sa-annotation / azure.providerconfig)")]
        }
        let azure = context.snapshot.azure
        let subjectText = AzureWIFacts.subject(namespace: subject.namespace, serviceAccount: sa)
        guard let issuer = azure.cluster.value?.issuerURL else {
            return [azure.cluster.unavailableResult(what: "the cluster's OIDC issuer (az aks show)") ?? .error("the cluster's OIDC issuer is unknown: oidcIssuerProfile has no issuerUrl (see aks.workload-identity)")]
        }
        let identities: [ManagedIdentity]
        switch azure.identities {
        case .value(let list): identities = list
        default: return [azure.identities.unavailableResult(what: "managed identities (az identity list)") ?? .skip("")]
        }
        let subscription = context.snapshot.cluster.subscription ?? azure.account.value?.subscriptionID
        guard let identity = azure.identity(clientID: clientID) else {
            let listed = Commands.az(["identity", "list"], subscription: subscription)
            return [.fail(
                "no user-assigned managed identity has client ID \(clientID) (from \(from)) among the \(identities.count) in subscription \(subscription ?? "(current)"); if it is an app registration, its credentials live in Microsoft Entra ID",
                evidence: ["clientID": clientID, "searched": listed.line],
                remediation: Remediation("find the identity (or the app registration) with this client ID", commands: [
                    Commands.identityByClientID(clientID, subscription: subscription), Commands.appFederatedCredentials(clientID: clientID),
                ]))]
        }
        let credentials: [FederatedCredential]
        switch azure.credentials(of: identity) {
        case .value(let list)?: credentials = list
        case let other?: return [other.unavailableResult(what: "federated credentials of identity \(identity.name)") ?? .skip("")]
        case nil: return [.error("federated credentials of identity \(identity.name) were not read")]
        }
        var evidence = ["identity": identity.name, "clientID": clientID, "issuer": issuer, "subject": subjectText, "credentials": String(credentials.count)]
        let match = credentials.first { $0.issuer == issuer && $0.subject == subjectText && $0.audiences.contains(AzureWIFacts.audience) }
        if let match {
            evidence["credential"] = match.name
            if credentials.count >= AzureWIFacts.federatedCredentialLimit - 2 {
                return [.warn(
                    "identity \(identity.name) trusts \(subjectText) (credential \(match.name)), but has \(credentials.count) of at most \(AzureWIFacts.federatedCredentialLimit) federated credentials: the next providers will not fit",
                    evidence: evidence,
                    remediation: Remediation("give other workloads their own identity, or use AKS identity bindings", commands: [Commands.listFederatedCredentials(identity, subscription: subscription)]))]
            }
            return [.pass("identity \(identity.name) (client ID \(clientID), from \(from)) trusts \(subjectText) from \(issuer) (credential \(match.name))", evidence: evidence)]
        }
        let misses = credentials.compactMap { c in nearMiss(c, issuer: issuer, subject: subjectText).map { (credential: c, reason: $0) } }
        let reasons = misses.map(\.reason)
        // A credential meant for this ServiceAccount (same subject but for case, or the right subject with
        // another issuer or audience) is corrected in place rather than duplicated.
        let repairable = misses.first { $0.credential.subject?.caseInsensitiveCompare(subjectText) == .orderedSame }?.credential
        let why = reasons.isEmpty
            ? "none of its \(credentials.count) federated credential(s) names \(subjectText) with issuer \(issuer)"
            : reasons.joined(separator: "; ")
        let full = credentials.count >= AzureWIFacts.federatedCredentialLimit
        var commands: [Command] = []
        if let repairable {
            commands.append(Commands.createFederatedCredential(context, identity: identity, name: repairable.name, subject: subjectText, update: true))
        } else if !full {
            commands.append(Commands.createFederatedCredential(context, identity: identity, name: Self.credentialName(namespace: subject.namespace, serviceAccount: sa), subject: subjectText))
        }
        commands.append(Commands.listFederatedCredentials(identity, subscription: subscription))
        return [.fail(
            "identity \(identity.name) (client ID \(clientID), from \(from)) does not trust \(subjectText): \(why) — tokens are refused with AADSTS70021"
                + (full ? "; it already has the maximum of \(AzureWIFacts.federatedCredentialLimit) credentials" : ""),
            evidence: evidence,
            remediation: Remediation(
                repairable != nil ? "correct federated credential \(repairable?.name ?? "") (propagation takes a few minutes)"
                    : full ? "remove an unused credential or use another identity"
                    : "add the federated credential (create credentials one at a time: concurrent creations on one identity conflict; propagation takes a few minutes)",
                commands: commands))]
    }

    /// Why a credential that looks meant for this ServiceAccount does not match, or nil when it is unrelated.
    func nearMiss(_ c: FederatedCredential, issuer: String, subject: String) -> String? {
        let issuerOK = c.issuer == issuer
        let subjectOK = c.subject == subject
        let audienceOK = c.audiences.contains(AzureWIFacts.audience)
        if issuerOK && subjectOK && !audienceOK {
            return "credential \(c.name) has audience \(c.audiences.joined(separator: ",")) instead of \(AzureWIFacts.audience)"
        }
        if subjectOK && !issuerOK {
            let slash = c.issuer.trimmingCharacters(in: CharacterSet(charactersIn: "/")) == issuer.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            return "credential \(c.name) has issuer \(c.issuer)" + (slash ? ", which differs from \(issuer) only by the trailing / (AADSTS700211)" : ", not the cluster's \(issuer)")
        }
        guard let other = c.subject, issuerOK else { return nil }
        if other.caseInsensitiveCompare(subject) == .orderedSame {
            return "credential \(c.name) has subject \(other), which differs only in case (subjects are case-sensitive: AADSTS7002138)"
        }
        let parts = other.split(separator: ":")
        let want = subject.split(separator: ":")
        if parts.count == 4, want.count == 4, parts[3] == want[3], parts[2] != want[2] {
            return "credential \(c.name) names ServiceAccount \(parts[3]) in namespace \(parts[2]), not \(want[2])"
        }
        return nil
    }

    /// Credential names: alphanumerics, dash and underscore, 3–120 characters, starting alphanumeric.
    static func credentialName(namespace: String, serviceAccount: String) -> String {
        let raw = "\(namespace)-\(serviceAccount)".map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }
        return String(String(raw).prefix(120))
    }
}
