import Foundation

public struct FluxControllerIdentityCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "flux.controller-identity",
        title: "Flux controllers that objects rely on have a cloud identity",
        summary: "A controller reconciling objects with a cloud `provider` and no object-level ServiceAccount (source-controller for OCIRepository/HelmRepository-oci/Bucket, image-reflector-controller for ImageRepository, kustomize-controller for SOPS KMS, notification-controller for cloud event types) has the cloud's identity on its own ServiceAccount: `eks.amazonaws.com/role-arn` or an EKS Pod Identity association; `azure.workload.identity/client-id` plus the pod label `azure.workload.identity/use: \"true\"` on the Deployment's pod template; on GKE `iam.gke.io/gcp-service-account`, or none (the ServiceAccount is then the principal).",
        rationale: "Controller-level identity is patched into the Flux install (the bootstrap kustomization.yaml); without it the controller falls back to the node (or to nothing) and `flux check` does not notice. On AKS the annotation alone does nothing: the webhook only mutates pods that carry the label.",
        remediation: "Add the ServiceAccount annotation patch (and on AKS the Deployment label patch) to the flux-system kustomization.yaml, commit, and let the controller pod be recreated; on EKS a Pod Identity association for flux-system/<controller> works with no in-cluster change.",
        mechanism: .flux, scope: .subject,
        reads: [.serviceAccounts],
        passing: [
            CheckExample("source-controller on IRSA for an OCIRepository on ECR", subject: "flux-controller/source-controller", expect: .pass) { Examples.eksFlux() },
            CheckExample("source-controller with client-id and the pod label on AKS", subject: "flux-controller/source-controller", expect: .pass) { Examples.aksFlux() },
            CheckExample("GKE without annotation: the ServiceAccount is the principal", subject: "flux-controller/source-controller", expect: .pass) { Examples.gkeFlux(gsa: false) },
        ],
        failing: [
            CheckExample("source-controller without the role annotation", subject: "flux-controller/source-controller", expect: .fail) {
                Examples.eksFlux(controllerRole: nil)
            },
            CheckExample("AKS source-controller without the pod label", subject: "flux-controller/source-controller", expect: .fail) {
                Examples.aksFlux(label: false)
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.kind == .fluxController }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let flux = subject.flux else { return [] }
        let ns = subject.namespace
        let saName = subject.serviceAccountName ?? subject.name
        let sa = "\(ns)/\(saName)"
        let users = flux.controllerLevelObjects
        let cloud = context.snapshot.cluster.cloud
        let annotations = subject.serviceAccount?.metadata.annotations ?? [:]
        let labelled = subject.deployment.map { AzureWIFacts.isOn($0.template.labels) } ?? false
        let lockdown = subject.deployment.map(FluxControllerSettings.init).flatMap { s in s.lockdownServiceAccount.map { "\(s.lockdownFlag ?? "")=\($0)" } }

        var have: String?
        var missing: String?
        var commands: [Command] = []
        switch cloud {
        case .aws:
            if let role = annotations[IRSAFacts.roleAnnotation] {
                have = "IRSA: ServiceAccount \(sa) is annotated \(IRSAFacts.roleAnnotation)=\(Printable.text(role))"
            } else if let association = context.snapshot.associations(namespace: ns, serviceAccount: saName).first {
                have = "EKS Pod Identity: association \(association.id) for \(sa)"
            } else {
                if context.snapshot.aws.associations.value == nil, let why = context.snapshot.aws.associations.unavailableReason, !users.isEmpty {
                    if context.snapshot.options.offline {
                        // Manifests cannot show an association (it lives in EKS only): say what would be missing.
                        return [.warn(
                            "ServiceAccount \(sa) has no \(IRSAFacts.roleAnnotation) annotation in the manifests: unless an EKS Pod Identity association exists for it (cloud side, not checked: \(why)), \(FluxText.list(users)) \(users.count == 1 ? "gets" : "get") no credentials",
                            evidence: ["serviceAccount": sa],
                            remediation: Remediation("annotate the ServiceAccount (a kustomize patch in the bootstrap kustomization.yaml), or check for an association with the cluster's coordinates", commands: Commands.setRoleAnnotation(subject, role: .variable("ROLE_ARN", meaning: "the ARN of the IAM role for \(subject.name), arn:aws:iam::ACCOUNT_ID:role/NAME"))))]
                    }
                    return [.error("\(subject.id) has no \(IRSAFacts.roleAnnotation) annotation, and EKS Pod Identity associations were not read (\(why)): cannot tell whether it has an identity")]
                }
                missing = "ServiceAccount \(sa) has no \(IRSAFacts.roleAnnotation) annotation and no EKS Pod Identity association"
                // Two ways: IRSA (the annotation, patched into the install) or EKS Pod Identity (an association, no
                // in-cluster change). The plan applies the first when it knows the role and prints the second otherwise.
                commands = Commands.setRoleAnnotation(subject, role: .variable("ROLE_ARN", meaning: "the ARN of the IAM role for \(subject.name), arn:aws:iam::ACCOUNT_ID:role/NAME"))
                    + [Commands.createAssociation(context, namespace: ns, serviceAccount: saName)]
            }
        case .azure:
            let clientID = annotations[AzureWIFacts.clientIDAnnotation]
            if clientID != nil && labelled {
                have = "Azure Workload Identity: \(AzureWIFacts.clientIDAnnotation)=\(Printable.text(clientID ?? "")) on ServiceAccount \(sa) and \(AzureWIFacts.useLabel)=true on the pod template"
            } else {
                var gaps: [String] = []
                if clientID == nil { gaps.append("ServiceAccount \(sa) has no \(AzureWIFacts.clientIDAnnotation) annotation") }
                if !labelled { gaps.append("the pod template of Deployment \(ns)/\(subject.deployment?.metadata.name ?? subject.name) lacks \(AzureWIFacts.useLabel)=true (the webhook only mutates labelled pods; on the ServiceAccount the label does nothing)") }
                missing = gaps.joined(separator: "; ")
                commands = clientID == nil ? AzureFixCommands.annotate(subject, context: context, clientID: nil, label: !labelled) : AzureFixCommands.addPodLabel(subject) + [Commands.restart(subject)]
            }
        case .gcp:
            if let gsa = annotations[GKEFacts.gsaAnnotation] {
                have = "GKE Workload Identity: ServiceAccount \(sa) impersonates \(Printable.text(gsa))"
            } else {
                have = "GKE Workload Identity Federation: no \(GKEFacts.gsaAnnotation) annotation, so principal://…/subject/ns/\(ns)/sa/\(saName) is the identity (grants are checked by gke.iam-binding)"
            }
        case .unknown:
            let keys = [IRSAFacts.roleAnnotation, AzureWIFacts.clientIDAnnotation, GKEFacts.gsaAnnotation].filter { annotations[$0] != nil }
            if let key = keys.first {
                have = "ServiceAccount \(sa) is annotated \(key)"
            } else if !users.isEmpty {
                return [CheckResult(.warn, "the cloud is not identified (see cluster.cloud), and ServiceAccount \(sa) carries no workload identity annotation; \(FluxText.list(users)) use(s) its identity", remediation: Remediation("name the cloud", commands: [Commands.xpid(["verify", "--cloud", .variable("CLOUD", meaning: "aws, azure or gcp")])]))]
            }
        }
        if users.isEmpty {
            let why = lockdown.map { "the controller runs with \($0) (multi-tenant lockdown): objects never use its own identity" }
                ?? (flux.objectLevelObjects.isEmpty ? "no object uses its identity" : "its objects use object-level identity (\(FluxText.list(flux.objectLevelObjects)))")
            if let have { return [.pass("\(have); \(why)")] }
            return [.skip("\(why): the controller's own identity is not needed")]
        }
        if let have { return [.pass("\(have); used by \(FluxText.list(users))")] }
        var message = "\(subject.id) has no \(cloud.kubernetesService) workload identity, but \(FluxText.list(users)) \(users.count == 1 ? "authenticates" : "authenticate") as the controller: \(missing ?? "")"
        if let ext = context.aksFluxExtension { message += "; \(ext) manages these objects and reverts hand-made patches: set the identity through the extension's configuration" }
        return [.fail(
            message, evidence: ["serviceAccount": sa, "objects": users.joined(separator: "; ")],
            remediation: Remediation(cloud == .aws
                ? "annotate the controller's ServiceAccount with an IAM role that trusts \(sa) (kubectl xpid fix prints the kustomize patch for the bootstrap kustomization.yaml), or create an EKS Pod Identity association for \(sa) (no in-cluster change)"
                : "give the controller an identity (kubectl xpid fix prints the kustomize patch for the bootstrap kustomization.yaml)", commands: commands),
            fixable: context.aksFluxExtension == nil)]
    }
}
