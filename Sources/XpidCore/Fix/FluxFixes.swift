import Foundation

/// Flux fixes. Controllers and their ServiceAccounts belong to the flux-system Kustomization: every change
/// carries the kustomize patch (in the form of Flux's bootstrap docs) that makes it stick, and without
/// --force the planner holds the change and prints that patch instead. Objects the AKS Flux extension
/// manages are never patched.
extension FixPlanner {
    struct FluxPlanState {
        var gates: Set<String> = []
        var tokens: Set<String> = []
    }

    static func fluxFixes(_ subject: Subject, open: (String) -> Finding?, _ context: EvaluationContext, _ options: FixOptions, _ state: inout FluxPlanState) -> (actions: [FixAction], held: [HeldFix]) {
        var actions: [FixAction] = []
        var held: [HeldFix] = []
        func take(_ outcome: Outcome) {
            switch outcome {
            case .planned(let list): actions += list
            case .held(let h): held.append(h)
            }
        }
        let identityChecks = ["flux.controller-identity", "flux.object-sa", "irsa.sa-annotation", "azure.sa-annotation", "gke.sa-annotation"]
        let identity = identityChecks.first { open($0)?.fixable == true }
        if subject.kind == .fluxController, let ext = context.aksFluxExtension {
            let open = (identityChecks + ["azure.pod-label", "flux.token-permission"]).filter { open($0) != nil }
            if !open.isEmpty {
                held.append(HeldFix(
                    check: open[0], subject: subject.id,
                    reason: "\(ext) manages \(subject.id) and reconciles it: a patch made here, by hand or in Git, is reverted",
                    advice: ["configure workload identity through the microsoft.flux extension's own settings (az k8s-extension update … --config), which set the annotations and the pod label for you; the extension does not support object level (Azure/AKS#5714)"]))
            }
            return ([], held)
        }
        if let check = identity {
            if subject.kind == .fluxObject, subject.serviceAccount == nil {
                take(createObjectServiceAccount(subject, check: check, context, options))
            } else {
                switch context.snapshot.cluster.cloud {
                case .aws: take(roleAnnotation(subject, check: check, context, options))
                case .azure: take(fluxAzure(subject, check: check, context, options))
                case .gcp: take(fluxGSA(subject, check: check, context, options))
                case .unknown: break
                }
            }
        }
        if subject.kind == .fluxController, context.snapshot.cluster.cloud == .azure, let deployment = subject.deployment, !AzureWIFacts.isOn(deployment.template.labels),
            open("azure.pod-label")?.fixable == true || open("flux.controller-identity")?.fixable == true
        {
            // flux.controller-identity is the root of a controller's chain: the label action answers it first.
            actions.append(fluxPodLabel(subject, deployment: deployment, check: open("flux.controller-identity") != nil ? "flux.controller-identity" : "azure.pod-label", context))
        }
        if let f = open("podid.irsa-shadowing"), f.fixable { take(removeRoleAnnotation(subject, context, options)) }
        if open("flux.object-level-gate")?.fixable == true, let controller = subject.flux?.controller, let deployment = context.fluxDeployment(controller),
            state.gates.insert(controller).inserted
        {
            actions.append(enableGate(subject, deployment: deployment, context))
        }
        if open("flux.token-permission")?.fixable == true, state.tokens.insert(subject.id).inserted {
            actions.append(grantToken(subject))
        }
        return (actions, held)
    }

    /// A merge patch of ServiceAccount annotations, with its kustomize form.
    static func annotateFluxServiceAccount(_ subject: Subject, _ annotations: [String: String], check: String, _ context: EvaluationContext) -> FixAction {
        let ns = subject.namespace
        let sa = subject.serviceAccountName ?? subject.name
        let shown = annotations.keys.sorted().map { "\($0)=\(annotations[$0] ?? "")" }.joined(separator: ", ")
        return FixAction(
            kind: .change, check: check, subject: subject.id, description: "annotate ServiceAccount \(ns)/\(sa) with \(shown)",
            command: Commands.patch("serviceaccount", sa, namespace: ns, ["metadata": ["annotations": .object(annotations.mapValues(JSONValue.string))]]),
            target: "ServiceAccount \(ns)/\(sa)", managedBy: subject.serviceAccount?.metadata.managedBy,
            kustomizePatch: KustomizePatch.serviceAccountAnnotations(sa, namespace: ns, annotations, fluxNamespace: context.snapshot.fluxNamespace),
            notes: subject.kind == .fluxObject ? ["object level: the controller reads the annotations at the next reconcile; nothing restarts"] : [],
            transform: { s in s.updateServiceAccount(namespace: ns, name: sa) { for (k, v) in annotations { $0.metadata.annotations[k] = v } } })
    }

    static func fluxAzure(_ subject: Subject, check: String, _ context: EvaluationContext, _ options: FixOptions) -> Outcome {
        switch azureAnnotations(subject, check: check, context, options) {
        case .held(let h): return .held(h)
        case .set(let annotations):
            return .planned(annotations.isEmpty ? [] : [annotateFluxServiceAccount(subject, annotations, check: check, context)])
        }
    }

    static func fluxGSA(_ subject: Subject, check: String, _ context: EvaluationContext, _ options: FixOptions) -> Outcome {
        guard let gsa = options.gcpServiceAccount, FluxFacts.matches(gsa, FluxFacts.gsaEmailPattern) else {
            return .held(HeldFix(
                check: check, subject: subject.id, reason: "the Google service account to annotate is unknown (or not in the NAME@PROJECT.iam.gserviceaccount.com form Flux accepts)",
                instead: [Commands.xpid(["fix", "--gcp-service-account", .variable("GSA_EMAIL", meaning: "the Google service account, NAME@PROJECT.iam.gserviceaccount.com")])]))
        }
        let current = subject.serviceAccount?.metadata.annotations[GKEFacts.gsaAnnotation]
        if current == gsa { return .planned([]) }
        if let current, !options.overwrite {
            return .held(HeldFix(
                check: check, subject: subject.id, reason: "ServiceAccount \(subject.namespace)/\(subject.serviceAccountName ?? "") already has \(GKEFacts.gsaAnnotation)=\(Printable.text(current)); not replacing it without --overwrite",
                instead: [Commands.xpid(["fix", "--overwrite", "--gcp-service-account", .literal(gsa)])]))
        }
        return .planned([annotateFluxServiceAccount(subject, [GKEFacts.gsaAnnotation: gsa], check: check, context)])
    }

    /// The object's ServiceAccount does not exist: create it with what the plan knows (a role needs --role-arn).
    static func createObjectServiceAccount(_ subject: Subject, check: String, _ context: EvaluationContext, _ options: FixOptions) -> Outcome {
        guard let sa = subject.serviceAccountName else { return .planned([]) }
        let ns = subject.namespace
        var annotations: [String: String] = [:]
        switch subject.flux?.cloud ?? context.snapshot.cluster.cloud {
        case .aws:
            guard let role = roleFor(subject, context, options) else {
                return .held(HeldFix(
                    check: check, subject: subject.id, reason: "ServiceAccount \(ns)/\(sa) is missing and the IAM role it should name is unknown",
                    instead: [Commands.xpid(["fix", "--role-arn", .variable("ROLE_ARN", meaning: "the ARN of the IAM role for \(ns)/\(sa), arn:aws:iam::ACCOUNT_ID:role/NAME")])]))
            }
            annotations[IRSAFacts.roleAnnotation] = role
        case .azure:
            let client = options.clientID ?? context.candidateIdentities(for: subject).first?.clientID
            let tenant = options.tenantID ?? client.flatMap { context.snapshot.azure.identity(clientID: $0)?.tenantID } ?? context.snapshot.azure.account.value?.tenantID
            guard let client, AzureWIFacts.isGUID(client), let tenant, AzureWIFacts.isGUID(tenant) else {
                return .held(HeldFix(
                    check: check, subject: subject.id, reason: "ServiceAccount \(ns)/\(sa) is missing and the managed identity (client and tenant ID) is unknown",
                    instead: [Commands.xpid(["fix", "--client-id", .variable("CLIENT_ID", meaning: "the managed identity's client ID"), "--tenant-id", .variable("TENANT_ID", meaning: "the Entra tenant ID")])]))
            }
            annotations = [AzureWIFacts.clientIDAnnotation: client, AzureWIFacts.tenantIDAnnotation: tenant]
        case .gcp:
            if let gsa = options.gcpServiceAccount, FluxFacts.matches(gsa, FluxFacts.gsaEmailPattern) { annotations[GKEFacts.gsaAnnotation] = gsa }
        case .unknown:
            break
        }
        let known = annotations
        let manifest = FluxCommands.serviceAccountManifest(sa, namespace: ns, annotations: known)
        let shown = annotations.isEmpty ? "" : " annotated \(annotations.keys.sorted().map { "\($0)=\(annotations[$0] ?? "")" }.joined(separator: ", "))"
        return .planned([FixAction(
            kind: .change, check: check, subject: subject.id, description: "create ServiceAccount \(ns)/\(sa)\(shown)",
            command: Commands.apply(manifest), target: "ServiceAccount \(ns)/\(sa)",
            notes: ["if Flux manages the namespace \(ns), commit this ServiceAccount to the tenant's repository as well"],
            transform: { s in s.serviceAccounts.append(ServiceAccount(metadata: ObjectMeta(name: sa, namespace: ns, annotations: known))) })])
    }

    static func fluxPodLabel(_ subject: Subject, deployment: Deployment, check: String, _ context: EvaluationContext) -> FixAction {
        let ns = subject.namespace
        let name = deployment.metadata.name
        return FixAction(
            kind: .change, check: check, subject: subject.id,
            description: "label the pod template of Deployment \(ns)/\(name) with \(AzureWIFacts.useLabel)=true (the Deployment rolls its pods)",
            command: Commands.patch("deployment", name, namespace: ns, Patches.podTemplateLabel(AzureWIFacts.useLabel, "true")),
            target: "Deployment \(ns)/\(name)", managedBy: deployment.metadata.managedBy,
            kustomizePatch: KustomizePatch.deploymentPodLabel(name, namespace: ns, key: AzureWIFacts.useLabel, value: "true", fluxNamespace: context.snapshot.fluxNamespace),
            transform: { s in s.updateDeployment(namespace: ns, name: name) { $0.template.labels[AzureWIFacts.useLabel] = "true" } })
    }

    static func enableGate(_ subject: Subject, deployment: Deployment, _ context: EvaluationContext) -> FixAction {
        let ns = deployment.metadata.namespace ?? context.snapshot.fluxNamespace
        let name = deployment.metadata.name
        let patch = FluxCommands.enableGatePatch(deployment)
        return FixAction(
            kind: .change, check: "flux.object-level-gate", subject: subject.id,
            description: "enable \(FluxFacts.featureGate) on Deployment \(ns)/\(name) (the Deployment rolls its pods)",
            command: FluxCommands.enableGate(deployment), target: "Deployment \(ns)/\(name)", managedBy: deployment.metadata.managedBy,
            kustomizePatch: KustomizePatch.featureGate(deployment, fluxNamespace: context.snapshot.fluxNamespace),
            notes: ["every object this controller reconciles with a serviceAccountName then uses object-level identity"],
            transform: { s in
                s.updateDeployment(namespace: ns, name: name) { d in
                    guard let c = d.template.spec.containers.firstIndex(where: { $0.name == FluxFacts.managerContainer }) ?? (d.template.spec.containers.isEmpty ? nil : 0) else { return }
                    for op in patch.array {
                        if op["op"].string == "replace", let path = op["path"].string, let i = Int(path.split(separator: "/").last ?? ""), d.template.spec.containers[c].args.indices.contains(i) {
                            d.template.spec.containers[c].args[i] = op["value"].string ?? ""
                        } else if op["op"].string == "add" {
                            d.template.spec.containers[c].args += op["value"].string.map { [$0] } ?? op["value"].strings
                        }
                    }
                }
            })
    }

    static func grantToken(_ subject: Subject) -> FixAction {
        let ns = subject.namespace
        let sa = subject.serviceAccountName ?? subject.name
        let manifest = FluxCommands.tokenPermissionManifest(serviceAccount: sa, namespace: ns)
        let role = FluxCommands.tokenRoleName
        return FixAction(
            kind: .change, check: "flux.token-permission", subject: subject.id,
            description: "grant \(ns)/\(sa) create on serviceaccounts/token (ClusterRole \(role) and its binding)",
            command: Commands.apply(manifest), target: "ClusterRole \(role)",
            notes: ["commit the same ClusterRole and ClusterRoleBinding next to the Flux install if Flux manages the cluster's RBAC"],
            transform: { s in
                if !s.clusterRoles.contains(where: { $0.metadata.name == role }) {
                    s.clusterRoles.append(ClusterRole(metadata: ObjectMeta(name: role), rules: [ClusterRole.Rule(apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"])]))
                }
                s.clusterRoleBindings.append(ClusterRoleBinding(
                    metadata: ObjectMeta(name: "\(role)-\(sa)"), roleName: role, subjects: [ClusterRoleBinding.Subject(kind: "ServiceAccount", name: sa, namespace: ns)]))
            })
    }
}
