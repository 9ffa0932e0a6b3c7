import Foundation

/// Findings → actions. Pure: it decides what to run and predicts the result; it runs nothing.
public enum FixPlanner {
    static let failing: Set<FindingStatus> = [.fail, .warn]

    public static func plan(_ context: EvaluationContext, findings: [Finding], options: FixOptions) -> FixPlan {
        var actions: [FixAction] = []
        var held: [HeldFix] = []
        var restart: [Subject] = []
        var patchedConfigs: Set<String> = []
        let unservedConfigs = ProviderConfigSourceCheck.unserved(in: context)
        let open = findings.filter { failing.contains($0.status) }
        var byKey: [String: Finding] = [:]
        for f in open where byKey["\(f.check)|\(f.subject)"] == nil { byKey["\(f.check)|\(f.subject)"] = f }
        func finding(_ check: String, _ subject: Subject) -> Finding? { byKey["\(check)|\(subject.id)"] }

        var fluxState = FluxPlanState()
        for subject in context.subjects {
            if subject.isFlux {
                let flux = fluxFixes(subject, open: { finding($0, subject) }, context, options, &fluxState)
                actions += flux.actions
                held += flux.held
                continue
            }
            if finding("podid.stable-sa-name", subject) != nil {
                actions += stableName(subject, context)
            }
            let coreRegistry = finding("crossplane.core-registry-identity", subject)?.fixable == true && [.aws, .unknown].contains(context.snapshot.cluster.cloud)
            if finding("irsa.sa-annotation", subject) != nil || coreRegistry {
                let check = finding("irsa.sa-annotation", subject) != nil ? "irsa.sa-annotation" : "crossplane.core-registry-identity"
                switch roleAnnotation(subject, check: check, context, options) {
                case .planned(let list): actions += list
                case .held(let h): held.append(h)
                }
            }
            if let f = finding("podid.irsa-shadowing", subject), f.fixable {
                switch removeRoleAnnotation(subject, context, options) {
                case .planned(let list): actions += list
                case .held(let h): held.append(h)
                }
            }
            if subject.method == .azureWI || (subject.kind == .crossplaneCore && context.snapshot.cluster.cloud == .azure) {
                let azure = azureFixes(subject, open: { finding($0, subject) }, context, options)
                actions += azure.actions
                held += azure.held
                if let f = finding("azure.providerconfig", subject) {
                    actions += providerConfigFixes(f, subject: subject, context, seen: &patchedConfigs)
                }
            }
            if subject.method == .gkeWI || subject.method == .gkeWIF || (subject.kind == .crossplaneCore && context.snapshot.cluster.cloud == .gcp) {
                let gke = gkeFixes(subject, open: { finding($0, subject) }, context, options)
                actions += gke.actions
                held += gke.held
            }
            if finding("crossplane.providerconfig-source", subject) != nil, let expected = ProviderConfigSourceCheck.sources(for: subject.method).first {
                for pc in unservedConfigs where pc.api.family == subject.providerFamily && patchedConfigs.insert(pc.displayName).inserted {
                    actions.append(setSource(pc, to: expected, subject: subject))
                }
            }
        }
        if !options.force {
            // Helm or Flux would revert a direct change on their next sync: say how to make it permanent instead.
            let fluxControllers = Dictionary(context.subjects.filter { $0.kind == .fluxController }.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            actions.removeAll { action in
                guard action.kind == .change, let owner = action.managedBy else { return false }
                var advice = permanentFix(action, owner)
                var instead: [Command] = []
                // A controller reads its identity env at pod creation: once Flux applied the ServiceAccount patch, recreate the pods.
                if let controller = fluxControllers[action.subject], action.kustomizePatch?.targetKind == "ServiceAccount", let d = controller.deployment {
                    advice.append("once Flux has applied it, recreate the controller's pods so they get the identity:")
                    instead = [Commands.restart(namespace: controller.namespace, deployment: d.metadata.name)]
                }
                held.append(HeldFix(
                    check: action.check, subject: action.subject,
                    reason: "\(action.description): the object is managed by \(owner.label) and would be reverted (pass --force to change it anyway)",
                    advice: advice, instead: instead, managedBy: owner, kustomizePatch: action.kustomizePatch))
                return true
            }
        }
        // Restart what is stale now, and what the remaining changes make stale (identity settings are read
        // by the webhook at pod creation). A ProviderConfig is read at reconcile time and needs no restart;
        // a new ServiceAccount name makes Crossplane roll the Deployment itself.
        // Flux: a gate patch rolls the Deployment itself, RBAC is live, an object's ServiceAccount serves no pod.
        let noRestart: Set<String> = ["crossplane.providerconfig-source", "azure.providerconfig", "flux.object-level-gate", "flux.token-permission", "flux.object-sa"]
        // GKE injects nothing: a package's pods need no restart after an annotation (the core does: its keychain caches).
        let gkePackages = Set(context.subjects.filter { ($0.method == .gkeWI || $0.method == .gkeWIF) && $0.kind != .crossplaneCore }.map(\.id))
        let changedSubjects = Set(actions.filter { $0.kind == .change && !noRestart.contains($0.check) && !gkePackages.contains($0.subject) }.map(\.subject))
        for subject in context.subjects where subject.deployment != nil && finding("podid.stable-sa-name", subject) == nil && finding("azure.stable-sa-name", subject) == nil {
            let stale = ["podid.pods-current", "irsa.pods-current", "azure.pods-current", "azure.injected"].contains { finding($0, subject) != nil }
                || finding("azure.pod-label", subject)?.evidence["stalePods"] != nil
            let changed = changedSubjects.contains(subject.id)
            if stale || changed { restart.append(subject) }
        }
        // A Flux controller whose own objects --force changed is restarted with them: Flux's docs make recreating
        // the controller pod part of the configuration change.
        let forcedFlux = Set(actions.filter { $0.kind == .change && $0.managedBy != nil }.map(\.subject))
        for subject in restart {
            if options.restart || (subject.kind == .fluxController && forcedFlux.contains(subject.id)) {
                actions.append(restartAction(subject))
            } else {
                held.append(HeldFix(check: "restart", subject: subject.id, reason: "pods predate the identity settings (or will, once the changes above are applied); the webhook only mutates pods at creation", instead: [Commands.xpid(["fix", "--restart"]), Commands.restart(subject)]))
            }
        }
        // A controller that gets its IRSA annotation (planned or held for Git) does not also need the Pod Identity alternative.
        let annotated = Set((actions.map { "\($0.check)|\($0.subject)" } + held.filter { $0.kustomizePatch != nil }.map { "\($0.check)|\($0.subject)" }))
        actions += cloudActions(open.filter { !($0.check == "flux.controller-identity" && annotated.contains("\($0.check)|\($0.subject)")) })
        for i in actions.indices { actions[i].id = "a\(i + 1)" }
        return FixPlan(actions: actions, held: held)
    }

    enum Outcome {
        case planned([FixAction])
        case held(HeldFix)
    }

    /// Where the same change belongs so that it sticks: the chart's values, or a patch in the Kustomization.
    static func permanentFix(_ action: FixAction, _ owner: ManagedBy) -> [String] {
        let target = action.target.isEmpty ? action.description : action.target
        let patch = action.body?.compactText()
        switch owner {
        case .helm(let release, _):
            return ["set the same value in the values of Helm release \(release ?? "?") (it renders \(target)), then helm upgrade --reuse-values"] + (patch.map { ["change: \($0)"] } ?? [])
        case .flux(let ks, let ns):
            if action.kustomizePatch != nil {
                return ["commit this patch to the kustomization.yaml that Flux Kustomization \(ns.map { "\($0)/" } ?? "")\(ks) builds (for flux-system: the bootstrap kustomization.yaml beside gotk-components.yaml); Flux applies it on its next sync (or run kubectl xpid fix --force to apply it now; Flux reverts that until the patch is in Git)"]
            }
            return ["add a patch for \(target) to Flux Kustomization \(ns.map { "\($0)/" } ?? "")\(ks) (spec.patches), in Git"] + (patch.map { ["patch: \($0)"] } ?? [])
        }
    }

    // MARK: runtime configs

    /// Points a package's `runtimeConfigRef` at a DeploymentRuntimeConfig; `then` predicts what Crossplane does next.
    static func pointPackage(_ subject: Subject, at drcName: String, check: String, notes: [String] = [], then: @escaping @Sendable (inout Snapshot) -> Void) -> FixAction {
        let name = subject.name
        return FixAction(
            kind: .change, check: check, subject: subject.id, description: "point \(subject.id) at DeploymentRuntimeConfig \(drcName)",
            command: Commands.patch(Commands.packageResource(subject), name, Patches.runtimeConfigRef(drcName)), target: "\(Commands.packageResource(subject)) \(name)",
            managedBy: subject.package?.metadata.managedBy, notes: ["a Provider/Function spec change can create a new package revision"] + notes,
            transform: { s in
                s.updatePackage(name) { $0.runtimeConfigName = drcName; $0.runtimeConfigRefSet = true }
                then(&s)
            })
    }

    /// What Crossplane does once a package runs with a pinned ServiceAccount name: creates the ServiceAccount
    /// (with `annotations`) and rolls the revision's Deployment to it.
    static func rollToServiceAccount(_ s: inout Snapshot, namespace ns: String, revision: String?, serviceAccount sa: String, annotations: [String: String] = [:]) {
        if s.serviceAccount(namespace: ns, name: sa) == nil { s.serviceAccounts.append(ServiceAccount(metadata: ObjectMeta(name: sa, namespace: ns))) }
        s.updateServiceAccount(namespace: ns, name: sa) { for (k, v) in annotations { $0.metadata.annotations[k] = v } }
        for i in s.deployments.indices where revision != nil && s.deployments[i].metadata.labels["pkg.crossplane.io/revision"] == revision {
            s.deployments[i].template.spec.serviceAccountName = sa
        }
        if let revision { s.recreatePods(namespace: ns, selector: ["pkg.crossplane.io/revision": revision], serviceAccount: sa) }
    }

    // MARK: ServiceAccount name

    static func stableName(_ subject: Subject, _ context: EvaluationContext) -> [FixAction] {
        let drcName = Commands.dedicatedRuntimeConfigName(subject)
        let sa = subject.name
        let manifest = Patches.runtimeConfigManifest(name: drcName, serviceAccountName: sa)
        let existing = context.snapshot.runtimeConfigs.contains { $0.metadata.name == drcName }
        let ns = subject.namespace
        let revision = subject.revision
        var list: [FixAction] = []
        if !existing {
            list.append(FixAction(
                kind: .change, check: "podid.stable-sa-name", subject: subject.id,
                description: "create DeploymentRuntimeConfig \(drcName) pinning ServiceAccount name \(sa)",
                command: Commands.apply(manifest), target: "DeploymentRuntimeConfig \(drcName)",
                transform: { s in s.runtimeConfigs.append(DeploymentRuntimeConfig(metadata: ObjectMeta(name: drcName), serviceAccountName: sa)) }))
        }
        list.append(pointPackage(
            subject, at: drcName, check: "podid.stable-sa-name",
            notes: ["Crossplane creates ServiceAccount \(ns)/\(sa) and rolls the Deployment to it; the association must name \(sa)"],
            then: { s in rollToServiceAccount(&s, namespace: ns, revision: revision, serviceAccount: sa) }))
        return list
    }

    // MARK: role annotation

    static func roleFor(_ subject: Subject, _ context: EvaluationContext, _ options: FixOptions) -> String? {
        if let role = options.roleArn { return role }
        if let misplaced = IRSAFacts.misplacedRoleAnnotation(subject)?.value, ARN.isWellFormedRoleARN(misplaced) { return misplaced }
        if let found = options.discoveredRoles[subject.id], found.count == 1, ARN.isWellFormedRoleARN(found[0]) { return found[0] }
        return nil
    }

    /// Which subjects need a role the plan cannot name by itself (so the CLI may look for roles that trust them).
    public static func subjectsNeedingRole(_ context: EvaluationContext, findings: [Finding]) -> [Subject] {
        context.subjects.filter { subject in
            findings.contains { ($0.check == "irsa.sa-annotation" || $0.check == "crossplane.core-registry-identity") && $0.subject == subject.id && failing.contains($0.status) }
                && IRSAFacts.misplacedRoleAnnotation(subject) == nil
        }
    }

    /// Roles whose trust policy already lets the subject's ServiceAccount assume them from this cluster.
    public static func rolesTrusting(_ subject: Subject, roles: [IAMRole], cluster: EKSCluster) -> [String] {
        guard let host = cluster.issuerHostPath, let provider = cluster.oidcProviderARN, let sa = subject.serviceAccountName else { return [] }
        let audience = subject.serviceAccount?.metadata.annotations[IRSAFacts.audienceAnnotation] ?? IRSAFacts.defaultAudience
        return roles.filter { role in
            let query = WebIdentityTrustQuery(providerARN: provider, issuerHostPath: host, subject: "system:serviceaccount:\(subject.namespace):\(sa)", audience: audience)
            let result = WebIdentityTrust.evaluate(role.trustPolicy, query)
            // A trust with no :sub condition admits every ServiceAccount; it names nobody in particular.
            return result.allowed && !result.subConditions.isEmpty
        }.map(\.arn).sorted()
    }

    static func roleAnnotation(_ subject: Subject, check: String, _ context: EvaluationContext, _ options: FixOptions) -> Outcome {
        guard let role = roleFor(subject, context, options) else {
            let found = options.discoveredRoles[subject.id] ?? []
            if found.count > 1 {
                return .held(HeldFix(
                    check: check, subject: subject.id, reason: "\(found.count) roles trust this ServiceAccount already; choose one",
                    instead: found.filter(ARN.isWellFormedRoleARN).map { Commands.xpid(["fix", "--role-arn", .literal($0)]) }))
            }
            return .held(HeldFix(
                check: check, subject: subject.id, reason: "the role to annotate is unknown (no role trusts this ServiceAccount yet)",
                instead: [Commands.xpid(["fix", "--role-arn", .variable("ROLE_ARN", meaning: "the ARN of the IAM role to annotate, arn:aws:iam::ACCOUNT_ID:role/NAME")])]))
        }
        let ns = subject.namespace
        let sa = subject.serviceAccountName ?? subject.name
        let current = subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation]
        if let current, current != role, !options.overwrite {
            return .held(HeldFix(check: check, subject: subject.id, reason: "ServiceAccount \(ns)/\(sa) already has \(IRSAFacts.roleAnnotation)=\(current); not replacing it with \(role) without --overwrite", instead: [Commands.xpid(["fix", "--overwrite", "--role-arn", .literal(role)])]))
        }
        if current == role { return .planned([]) }
        let setSA: @Sendable (inout Snapshot) -> Void = { s in
            s.updateServiceAccount(namespace: ns, name: sa) { $0.metadata.annotations[IRSAFacts.roleAnnotation] = role }
        }
        switch subject.kind {
        case .crossplaneCore:
            let owner = subject.serviceAccount?.metadata.managedBy ?? subject.deployment?.metadata.managedBy
            if let owner, !options.force {
                var advice: [String] = []
                let instead: [Command]
                switch owner {
                case .helm: instead = Commands.setRoleAnnotation(subject, role: .literal(role), overwrite: current != nil)
                case .flux(let ks, let ksNamespace):
                    advice = ["add to Flux Kustomization \(ksNamespace.map { "\($0)/" } ?? "")\(ks) spec.patches (in Git): target ServiceAccount \(sa) in \(ns), patch "
                        + Patches.annotation(IRSAFacts.roleAnnotation, role).compactText()]
                    instead = [Commands.restart(subject)]
                }
                return .held(HeldFix(
                    check: check, subject: subject.id,
                    reason: "ServiceAccount \(ns)/\(sa) is managed by \(owner.label); a direct annotation would be reverted (pass --force to change it anyway)",
                    advice: advice, instead: instead, managedBy: owner))
            }
            let annotate = Commands.annotate("serviceaccount", sa, namespace: ns, key: IRSAFacts.roleAnnotation, value: .literal(role), overwrite: current != nil)
            return .planned([FixAction(
                kind: .change, check: check, subject: subject.id, description: "annotate ServiceAccount \(ns)/\(sa) with \(IRSAFacts.roleAnnotation)=\(role)",
                command: annotate, target: "ServiceAccount \(ns)/\(sa)", managedBy: owner, notes: owner.map { ["\($0.label) will revert this on its next sync: make it permanent in its values"] } ?? [],
                transform: setSA)])
        case .provider, .function:
            if let drc = subject.runtimeConfig, drc.podServiceAccountName == sa {
                let annotate = Commands.annotate("serviceaccount", sa, namespace: ns, key: IRSAFacts.roleAnnotation, value: .literal(role), overwrite: current != nil)
                return .planned([FixAction(
                    kind: .change, check: check, subject: subject.id, description: "annotate pre-created ServiceAccount \(ns)/\(sa)", command: annotate,
                    target: "ServiceAccount \(ns)/\(sa)", transform: setSA)])
            }
            guard let drc = subject.runtimeConfig, drc.metadata.name != "default" else {
                // Never edit the shared default runtime config: give the package its own.
                let drcName = Commands.dedicatedRuntimeConfigName(subject)
                let manifest = Patches.runtimeConfigManifest(name: drcName, annotations: [IRSAFacts.roleAnnotation: role])
                return .planned([
                    FixAction(
                        kind: .change, check: check, subject: subject.id, description: "create DeploymentRuntimeConfig \(drcName) annotating the ServiceAccount with the role",
                        command: Commands.apply(manifest), target: "DeploymentRuntimeConfig \(drcName)",
                        transform: { s in s.runtimeConfigs.append(DeploymentRuntimeConfig(metadata: ObjectMeta(name: drcName), serviceAccountAnnotations: [IRSAFacts.roleAnnotation: role])) }),
                    pointPackage(subject, at: drcName, check: check, then: setSA),
                ])
            }
            let drcName = drc.metadata.name
            return .planned([FixAction(
                kind: .change, check: check, subject: subject.id,
                description: "set \(IRSAFacts.roleAnnotation)=\(role) in DeploymentRuntimeConfig \(drcName) serviceAccountTemplate (Crossplane applies it to the ServiceAccount)",
                command: Commands.patch(Commands.runtimeConfigResource, drcName, Patches.serviceAccountTemplateAnnotation(IRSAFacts.roleAnnotation, role)),
                target: "\(Commands.runtimeConfigResource) \(drcName)", managedBy: drc.metadata.managedBy,
                transform: { s in
                    for i in s.runtimeConfigs.indices where s.runtimeConfigs[i].metadata.name == drcName {
                        s.runtimeConfigs[i].serviceAccountAnnotations[IRSAFacts.roleAnnotation] = role
                    }
                    setSA(&s)
                })])
        case .fluxController, .fluxObject:
            let annotate = Commands.annotate("serviceaccount", sa, namespace: ns, key: IRSAFacts.roleAnnotation, value: .literal(role), overwrite: current != nil)
            return .planned([FixAction(
                kind: .change, check: check, subject: subject.id, description: "annotate ServiceAccount \(ns)/\(sa) with \(IRSAFacts.roleAnnotation)=\(role)",
                command: annotate, target: "ServiceAccount \(ns)/\(sa)", managedBy: subject.serviceAccount?.metadata.managedBy,
                kustomizePatch: KustomizePatch.serviceAccountAnnotations(sa, namespace: ns, [IRSAFacts.roleAnnotation: role], fluxNamespace: context.snapshot.fluxNamespace),
                transform: setSA)])
        }
    }

    static func removeRoleAnnotation(_ subject: Subject, _ context: EvaluationContext, _ options: FixOptions) -> Outcome {
        let ns = subject.namespace
        let sa = subject.serviceAccountName ?? subject.name
        var list: [FixAction] = []
        if let drc = subject.runtimeConfig, drc.serviceAccountAnnotations[IRSAFacts.roleAnnotation] != nil {
            let drcName = drc.metadata.name
            list.append(FixAction(
                kind: .change, check: "podid.irsa-shadowing", subject: subject.id, description: "remove \(IRSAFacts.roleAnnotation) from DeploymentRuntimeConfig \(drcName)",
                command: Commands.patch(Commands.runtimeConfigResource, drcName, type: .json, Patches.removeServiceAccountTemplateAnnotation(IRSAFacts.roleAnnotation)),
                target: "\(Commands.runtimeConfigResource) \(drcName)",
                transform: { s in
                    for i in s.runtimeConfigs.indices where s.runtimeConfigs[i].metadata.name == drcName { s.runtimeConfigs[i].serviceAccountAnnotations[IRSAFacts.roleAnnotation] = nil }
                }))
        }
        if subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation] != nil {
            if let owner = subject.serviceAccount?.metadata.managedBy, !options.force {
                return .held(HeldFix(check: "podid.irsa-shadowing", subject: subject.id, reason: "ServiceAccount \(ns)/\(sa) is managed by \(owner.label)", advice: ["remove serviceAccount.customAnnotations.eks\\.amazonaws\\.com/role-arn from its values"], managedBy: owner))
            }
            list.append(FixAction(
                kind: .change, check: "podid.irsa-shadowing", subject: subject.id, description: "remove the stale \(IRSAFacts.roleAnnotation) from ServiceAccount \(ns)/\(sa)",
                command: Commands.annotate("serviceaccount", sa, namespace: ns, key: IRSAFacts.roleAnnotation, value: nil), target: "ServiceAccount \(ns)/\(sa)",
                transform: { s in s.updateServiceAccount(namespace: ns, name: sa) { $0.metadata.annotations[IRSAFacts.roleAnnotation] = nil } }))
        }
        return .planned(list)
    }

    // MARK: ProviderConfig source

    static func setSource(_ pc: ProviderConfig, to source: String, subject: Subject) -> FixAction {
        let api = pc.api
        let name = pc.metadata.name
        let ns = pc.metadata.namespace
        return FixAction(
            kind: .change, check: "crossplane.providerconfig-source", subject: subject.id,
            description: "set credentials.source of \(pc.displayName) to \(source) (was \(pc.source ?? "unset"))",
            command: Commands.setSource(pc, source: source), target: "\(pc.api.plural).\(pc.api.group) \(pc.displayName)", managedBy: pc.metadata.managedBy,
            transform: { s in
                for i in s.providerConfigs.indices where s.providerConfigs[i].api == api && s.providerConfigs[i].metadata.name == name && s.providerConfigs[i].metadata.namespace == ns {
                    s.providerConfigs[i].source = source
                }
            })
    }

    // MARK: restarts and cloud

    static func restartAction(_ subject: Subject) -> FixAction {
        let name = subject.deployment?.metadata.name ?? subject.name
        let ns = subject.namespace
        let selector = subject.deployment?.selector ?? [:]
        return FixAction(
            kind: .restart, check: restartCheck(subject), subject: subject.id,
            description: "restart deployment \(ns)/\(name) so new pods get the identity env (then wait for the rollout)",
            command: Commands.restart(namespace: ns, deployment: name), target: "Deployment \(ns)/\(name)", deployment: (ns, name),
            transform: { s in s.recreatePods(namespace: ns, selector: selector, serviceAccount: nil) })
    }

    static func restartCheck(_ subject: Subject) -> String {
        if subject.method == .azureWI { return "azure.pods-current" }
        if subject.kind == .fluxController && ![.irsa, .podIdentity].contains(subject.method) { return "flux.controller-identity" }
        return subject.kind == .crossplaneCore || subject.method == .irsa ? "irsa.pods-current" : "podid.pods-current"
    }

    /// Cloud-side fixes are printed, never run: the finding's own aws/eksctl commands.
    static func cloudActions(_ findings: [Finding]) -> [FixAction] {
        var seen: Set<Command> = []
        var list: [FixAction] = []
        for f in findings {
            for command in f.remediation?.commands ?? [] where command.effect == .change && command.isCloud {
                guard seen.insert(command).inserted else { continue }
                list.append(FixAction(kind: .cloud, check: f.check, subject: f.subject, description: f.remediation?.summary ?? "cloud-side change", command: command))
            }
        }
        return list
    }
}

extension ManagedBy {
    public var label: String {
        switch self {
        case .helm(let release, _): return "Helm release \(release ?? "?")"
        case .flux(let ks, let ns): return "Flux Kustomization \(ns.map { "\($0)/" } ?? "")\(ks)"
        }
    }

    public var kind: String {
        switch self {
        case .helm: return "helm"
        case .flux: return "flux"
        }
    }
}
