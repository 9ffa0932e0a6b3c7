import Foundation

public struct FluxObjectServiceAccountCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "flux.object-sa",
        title: "The object's ServiceAccount exists and names the identity",
        summary: "The ServiceAccount an object names (or the controller's lockdown default) exists in the object's namespace and carries what Flux reads: on EKS `eks.amazonaws.com/role-arn` (Pod Identity is controller-level only); on Azure **both** `azure.workload.identity/tenant-id` and `client-id`; on GKE an `iam.gke.io/gcp-service-account` in Flux's accepted form, or none (direct principal). `warn` when the ServiceAccount has `imagePullSecrets` and the object is an OCIRepository: the pull secret silently replaces workload identity.",
        rationale: "At object level the controller reads these annotations itself and mints the token; it does not go through the cloud's webhook, so the webhook's defaults (the tenant) and EKS Pod Identity do not apply. A missing default ServiceAccount under lockdown fails every object of the namespace.",
        remediation: "Create the ServiceAccount in the object's namespace with the annotations (in the tenant's Git repository when Flux manages it).",
        mechanism: .flux, scope: .subject,
        reads: [.serviceAccounts],
        passing: [CheckExample("annotated ServiceAccount in the object's namespace", subject: "flux-object/apps/podinfo", expect: .pass) { Examples.eksFluxObjectLevel() }],
        failing: [
            CheckExample("ServiceAccount missing", subject: "flux-object/apps/podinfo", expect: .fail) {
                var s = Examples.eksFluxObjectLevel()
                s.serviceAccounts.removeAll { $0.metadata.name == "podinfo-reader" }
                return s
            },
            CheckExample("EKS Pod Identity on the object's ServiceAccount", subject: "flux-object/apps/podinfo", expect: .fail) { Examples.eksFluxObjectLevel(podIdentity: true) },
            CheckExample("Azure object ServiceAccount without tenant-id", subject: "flux-object/apps/podinfo", expect: .fail) { Examples.aksFluxObjectLevel(tenant: false) },
            CheckExample("imagePullSecrets on the ServiceAccount", subject: "flux-object/apps/podinfo", expect: .warn) {
                var s = Examples.eksFluxObjectLevel()
                s.updateServiceAccount(namespace: "apps", name: "podinfo-reader") { $0.imagePullSecrets = ["ecr-pull"] }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.kind == .fluxObject && subject.flux?.objectLevel == true }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let flux = subject.flux, let object = flux.object, let saName = subject.serviceAccountName else { return [] }
        let ns = subject.namespace
        let sa = "\(ns)/\(saName)"
        let cloud = flux.cloud ?? context.snapshot.cluster.cloud
        guard let account = subject.serviceAccount else {
            let lockdown = flux.serviceAccountSource?.contains("lockdown") == true
            let said = lockdown
                ? "Flux reports \"the specified default service account does not exist in the object namespace. your cluster is subject to multi-tenant workload identity lockdown\""
                : "Flux reports serviceaccounts \"\(saName)\" not found"
            return [.fail(
                "ServiceAccount \(sa) does not exist, but \(object.displayName) authenticates as it (\(flux.serviceAccountSource ?? "")): \(said)",
                evidence: ["serviceAccount": sa],
                remediation: Remediation("create the ServiceAccount with the identity annotations", commands: [FluxCommands.createServiceAccount(saName, namespace: ns)] + Self.annotateCommands(cloud, saName, namespace: ns, context)),
                fixable: true)]
        }
        let annotations = account.metadata.annotations
        var results: [CheckResult] = []
        switch cloud {
        case .aws:
            if let role = annotations[IRSAFacts.roleAnnotation] {
                if !FluxFacts.matches(role, FluxFacts.roleARNPattern) {
                    results.append(.fail(
                        "ServiceAccount \(sa) has \(IRSAFacts.roleAnnotation)=\(Printable.text(role)), which Flux rejects (it must match \(FluxFacts.roleARNPattern))",
                        evidence: ["annotation": Printable.text(role)],
                        remediation: Remediation("set the role's ARN", commands: [Commands.annotate("serviceaccount", saName, namespace: ns, key: IRSAFacts.roleAnnotation, value: .variable("ROLE_ARN", meaning: "the ARN of the IAM role, arn:aws:iam::ACCOUNT_ID:role/NAME"), overwrite: true)]),
                        fixable: true))
                }
            } else {
                let association = context.snapshot.associations(namespace: ns, serviceAccount: saName).first
                let why = association.map { "it has EKS Pod Identity association \($0.id), but Pod Identity is controller-level only: Flux mints a token for the ServiceAccount and calls AssumeRoleWithWebIdentity itself, which needs the annotation (and a role trusting the cluster's OIDC provider)" }
                    ?? "Flux takes the role to assume from that annotation"
                results.append(.fail(
                    "ServiceAccount \(sa) has no \(IRSAFacts.roleAnnotation) annotation: \(why)",
                    evidence: ["serviceAccount": sa] .merging(association.map { ["association": $0.id] } ?? [:]) { a, _ in a },
                    remediation: Remediation("annotate the ServiceAccount with an IAM role whose trust policy admits system:serviceaccount:\(ns):\(saName)", commands: [
                        Commands.annotate("serviceaccount", saName, namespace: ns, key: IRSAFacts.roleAnnotation, value: .variable("ROLE_ARN", meaning: "the ARN of the IAM role, arn:aws:iam::ACCOUNT_ID:role/NAME")),
                    ]),
                    fixable: true))
            }
        case .azure:
            let missing = [AzureWIFacts.tenantIDAnnotation, AzureWIFacts.clientIDAnnotation].filter { (annotations[$0] ?? "").isEmpty }
            if !missing.isEmpty {
                let said = missing.map { $0 == AzureWIFacts.tenantIDAnnotation ? "\"azure tenant ID is not set in the service account annotation \($0)\"" : "\"azure client ID is not set in the service account annotation \($0)\"" }
                results.append(.fail(
                    "ServiceAccount \(sa) lacks \(missing.joined(separator: " and ")): at object level Flux needs both the tenant and the client ID (the webhook's tenant default does not apply); it reports \(said.joined(separator: " and "))",
                    evidence: ["missing": missing.joined(separator: ",")],
                    remediation: Remediation("annotate the ServiceAccount", commands: missing.map { key in
                        Commands.annotate("serviceaccount", saName, namespace: ns, key: key, value: key == AzureWIFacts.tenantIDAnnotation
                            ? Commands.guidWord(context.snapshot.azure.account.value?.tenantID, variable: "TENANT_ID", meaning: "the Entra tenant ID (az account show --query tenantId -o tsv)")
                            : .variable("CLIENT_ID", meaning: "the managed identity's client ID (az identity show --query clientId -o tsv)"))
                    }),
                    fixable: true))
            }
        case .gcp:
            if let gsa = annotations[GKEFacts.gsaAnnotation], !FluxFacts.matches(gsa, FluxFacts.gsaEmailPattern) {
                results.append(.fail(
                    "ServiceAccount \(sa) has \(GKEFacts.gsaAnnotation)=\(Printable.text(gsa)): Flux reports \"invalid \(GKEFacts.gsaAnnotation) annotation: '…'. must match \(FluxFacts.gsaEmailPattern)\" (only NAME@PROJECT.iam.gserviceaccount.com is accepted)",
                    evidence: ["annotation": Printable.text(gsa)],
                    remediation: Remediation("set the Google service account's email", commands: [Commands.annotate("serviceaccount", saName, namespace: ns, key: GKEFacts.gsaAnnotation, value: .variable("GSA_EMAIL", meaning: "NAME@PROJECT.iam.gserviceaccount.com"), overwrite: true)]),
                    fixable: true))
            }
        case .unknown:
            break
        }
        if !account.imagePullSecrets.isEmpty, object.kind == .ociRepository {
            results.append(.warn(
                "ServiceAccount \(sa) has imagePullSecrets (\(account.imagePullSecrets.joined(separator: ", "))): source-controller then builds its keychain from them and skips workload identity without any error",
                evidence: ["imagePullSecrets": account.imagePullSecrets.joined(separator: ",")],
                remediation: Remediation("remove imagePullSecrets from the identity ServiceAccount (or drop workload identity and keep the pull secret)", commands: [Commands.patch("serviceaccount", saName, namespace: ns, type: .json, Patches.remove("/imagePullSecrets"))])))
        }
        if results.isEmpty {
            let shown = [IRSAFacts.roleAnnotation, AzureWIFacts.clientIDAnnotation, AzureWIFacts.tenantIDAnnotation, GKEFacts.gsaAnnotation].compactMap { k in annotations[k].map { "\(k)=\(Printable.text($0))" } }
            // Flux's docs mark object level on AKS (for Azure resources) unstable (fluxcd/flux2#5359).
            let caveat = cloud == .azure ? "; note: Flux documents object-level workload identity on AKS as unstable (fluxcd/flux2#5359)" : ""
            return [.pass("ServiceAccount \(sa) exists" + (shown.isEmpty ? " (no annotation: it is the principal itself)" : " with \(shown.joined(separator: ", "))") + caveat)]
        }
        return results
    }

    /// The annotations a new object-level ServiceAccount needs, with the values the user must supply as variables.
    static func annotateCommands(_ cloud: Cloud, _ sa: String, namespace ns: String, _ context: EvaluationContext) -> [Command] {
        switch cloud {
        case .aws:
            return [Commands.annotate("serviceaccount", sa, namespace: ns, key: IRSAFacts.roleAnnotation, value: .variable("ROLE_ARN", meaning: "the ARN of the IAM role, arn:aws:iam::ACCOUNT_ID:role/NAME"))]
        case .azure:
            return [
                Commands.annotate("serviceaccount", sa, namespace: ns, key: AzureWIFacts.clientIDAnnotation, value: .variable("CLIENT_ID", meaning: "the managed identity's client ID (az identity show --query clientId -o tsv)")),
                Commands.annotate("serviceaccount", sa, namespace: ns, key: AzureWIFacts.tenantIDAnnotation, value: Commands.guidWord(context.snapshot.azure.account.value?.tenantID, variable: "TENANT_ID", meaning: "the Entra tenant ID (az account show --query tenantId -o tsv)")),
            ]
        case .gcp, .unknown:
            return []
        }
    }
}
