import Foundation

public struct AzureAnnotationCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "azure.sa-annotation",
        title: "ServiceAccount names the Azure identity",
        summary: "The subject's ServiceAccount has `azure.workload.identity/client-id` (a GUID) and `azure.workload.identity/tenant-id` (`warn` when the tenant is left to the webhook's default).",
        rationale: "The webhook copies the client ID into `AZURE_CLIENT_ID` only from the ServiceAccount; an annotation on the pod, the Deployment or a runtime config's deployment template does nothing.",
        remediation: "Annotate the ServiceAccount (Helm `serviceAccount.customAnnotations` for the core; the DeploymentRuntimeConfig's `serviceAccountTemplate` for packages).",
        mechanism: .azureWI, scope: .subject,
        reads: [.serviceAccounts],
        passing: [CheckExample("client and tenant annotations", subject: "crossplane-core/crossplane", expect: .pass) { Examples.aksSeed() }],
        failing: [
            CheckExample("label but no client-id annotation", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[AzureWIFacts.clientIDAnnotation] = nil }
                return s
            },
            CheckExample("client-id is not a GUID", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[AzureWIFacts.clientIDAnnotation] = "crossplane-acr-pull" }
                return s
            },
            CheckExample("no tenant-id annotation", subject: "crossplane-core/crossplane", expect: .warn) {
                var s = Examples.aksSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[AzureWIFacts.tenantIDAnnotation] = nil }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .azureWI }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        guard let saName = subject.serviceAccountName else {
            if let error = context.runtimeReadError(for: subject) { return [error] }
            return [.skip("no runtime Deployment or pod found for \(subject.id); see crossplane.package-health")]
        }
        guard let sa = subject.serviceAccount else {
            return [.fail("ServiceAccount \(subject.namespace)/\(saName) does not exist", remediation: Remediation("check the workload's serviceAccountName", commands: [Commands.list("serviceaccounts", namespace: subject.namespace)]))]
        }
        let annotations = sa.metadata.annotations
        let clientKey = AzureWIFacts.clientIDAnnotation
        guard let clientID = annotations[clientKey], !clientID.isEmpty else {
            return [.fail(
                "ServiceAccount \(subject.namespace)/\(saName) has no \(clientKey) (method inferred from \(subject.methodEvidence)): pods get no AZURE_CLIENT_ID",
                evidence: ["serviceAccount": saName],
                remediation: Remediation("annotate the ServiceAccount with the managed identity's client ID", commands: AzureFixCommands.annotate(subject, context: context, clientID: context.azureClientID(of: subject)?.clientID)),
                fixable: true)]
        }
        guard AzureWIFacts.isGUID(clientID) else {
            if let named = context.snapshot.azure.identities.value?.first(where: { $0.name == clientID }), AzureWIFacts.isGUID(named.clientID) {
                return [.fail(
                    "\(clientKey)=\(Printable.text(clientID)) on ServiceAccount \(subject.namespace)/\(saName) is the identity's name, not its client ID (\(named.clientID))",
                    evidence: ["clientID": Printable.text(clientID), "identity": named.name],
                    remediation: Remediation("annotate the identity's client ID instead (kubectl xpid fix --overwrite)", commands: Commands.setServiceAccountAnnotation(subject, key: clientKey, value: .literal(named.clientID), overwrite: true)),
                    fixable: true)]
            }
            return [.fail(
                "\(clientKey)=\(Printable.text(clientID)) on ServiceAccount \(subject.namespace)/\(saName) is not a client ID (a GUID); the identity's name does not work here",
                evidence: ["clientID": Printable.text(clientID)],
                remediation: Remediation("use the identity's client ID", commands: [Commands.az(["identity", "show", "--name", .variable("IDENTITY_NAME", meaning: "the managed identity's name"), "--resource-group", .variable("IDENTITY_RESOURCE_GROUP", meaning: "its resource group"), "--query", "clientId", "-o", "tsv"])]))]
        }
        if annotations[AzureWIFacts.tenantIDAnnotation] == nil, subject.isAzureProvider, !subject.isFamilyProvider,
            let pc = context.azureOIDCProviderConfigs.first(where: { $0.tenantID.map(AzureWIFacts.isGUID) == true })
        {
            // provider-upjet-azure takes the tenant from the ProviderConfig, not from AZURE_TENANT_ID.
            return [.pass("ServiceAccount \(subject.namespace)/\(saName) has \(clientKey)=\(clientID); the tenant comes from \(pc.displayName) spec.tenantID", evidence: ["clientID": clientID])]
        }
        guard let tenant = annotations[AzureWIFacts.tenantIDAnnotation], AzureWIFacts.isGUID(tenant) else {
            let tenant = context.snapshot.azure.account.value?.tenantID
            return [.warn(
                "ServiceAccount \(subject.namespace)/\(saName) has \(clientKey)=\(clientID) but no valid \(AzureWIFacts.tenantIDAnnotation): AZURE_TENANT_ID comes from the webhook's default (azure-wi-webhook-config), which is wrong for an identity in another tenant",
                evidence: ["clientID": clientID],
                remediation: Remediation("annotate the tenant ID", commands: AzureFixCommands.annotate(subject, context: context, key: AzureWIFacts.tenantIDAnnotation, value: tenant, variable: "TENANT_ID", meaning: "the identity's tenant ID (az account show --query tenantId -o tsv)")),
                fixable: true)]
        }
        return [.pass("ServiceAccount \(subject.namespace)/\(saName) has \(clientKey)=\(clientID) and tenant \(tenant)", evidence: ["clientID": clientID, "tenantID": tenant])]
    }
}
