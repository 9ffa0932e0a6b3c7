import Foundation

/// Azure Workload Identity fixes: the ServiceAccount annotations, the pod label, a pinned
/// ServiceAccount name for packages, and the OIDCTokenFile ProviderConfig fields. Each change goes
/// where it sticks: Helm values for a Helm-managed core (held without --force), the package's own
/// DeploymentRuntimeConfig (never the shared `default`), the object itself otherwise.
extension FixPlanner {
    struct AzureNeeds {
        var annotations: [String: String] = [:]
        var label = false
        var pinName = false
        var isEmpty: Bool { annotations.isEmpty && !label && !pinName }
    }

    static func azureFixes(_ subject: Subject, open: (String) -> Finding?, _ context: EvaluationContext, _ options: FixOptions) -> (actions: [FixAction], held: [HeldFix]) {
        var needs = AzureNeeds()
        var held: [HeldFix] = []
        let annotationCheck = open("azure.sa-annotation") != nil ? "azure.sa-annotation" : "crossplane.core-registry-identity"
        let wantsIdentity = open("azure.sa-annotation")?.fixable == true || (subject.kind == .crossplaneCore && open("crossplane.core-registry-identity")?.fixable == true && context.snapshot.cluster.cloud == .azure)
        if wantsIdentity {
            switch azureAnnotations(subject, check: annotationCheck, context, options) {
            case .set(let a): needs.annotations = a
            case .held(let h): held.append(h)
            }
        }
        if open("azure.pod-label")?.fixable == true || (wantsIdentity && subject.deployment.map { !AzureWIFacts.isOn($0.template.labels) } == true) {
            needs.label = subject.deployment.map { !AzureWIFacts.isOn($0.template.labels) } ?? false
        }
        if open("azure.stable-sa-name") != nil, subject.kind != .crossplaneCore { needs.pinName = true }
        guard !needs.isEmpty else { return ([], held) }
        let check = needs.pinName ? "azure.stable-sa-name" : (needs.annotations.isEmpty ? "azure.pod-label" : annotationCheck)
        switch subject.kind {
        case .crossplaneCore: return coreAzure(subject, needs: needs, check: check, options, held)
        case .provider, .function: return (packageAzure(subject, needs: needs, check: check, context), held)
        case .fluxController, .fluxObject: return ([], held)
        }
    }

    /// The annotations to set: the client ID (given, from the ProviderConfig, or the one identity already
    /// trusting this ServiceAccount) and the tenant; an existing different value is kept unless --overwrite.
    static func azureAnnotations(_ subject: Subject, check: String, _ context: EvaluationContext, _ options: FixOptions) -> AnnotationPlan {
        let current = subject.serviceAccount?.metadata.annotations ?? subject.runtimeConfig?.serviceAccountAnnotations ?? [:]
        let sa = subject.serviceAccountName ?? subject.name
        var clientID = options.clientID
        if clientID == nil, let (id, _) = context.azureClientID(of: subject), AzureWIFacts.isGUID(id), id != current[AzureWIFacts.clientIDAnnotation] { clientID = id }
        if clientID == nil {
            let candidates = context.candidateIdentities(for: subject)
            if candidates.count == 1 { clientID = candidates[0].clientID }
        }
        var result: [String: String] = [:]
        if let existing = current[AzureWIFacts.clientIDAnnotation], !existing.isEmpty {
            // A name where the client ID belongs: the identity of that name, replaced only with --overwrite.
            let named = AzureWIFacts.isGUID(existing) ? nil : context.snapshot.azure.identities.value?.first { $0.name == existing }?.clientID
            if let replacement = clientID ?? named, replacement.caseInsensitiveCompare(existing) != .orderedSame {
                guard options.overwrite else {
                    return .held(HeldFix(
                        check: check, subject: subject.id,
                        reason: "ServiceAccount \(subject.namespace)/\(sa) already has \(AzureWIFacts.clientIDAnnotation)=\(Printable.text(existing)); not replacing it with \(replacement) without --overwrite",
                        instead: [Commands.xpid(["fix", "--overwrite", "--client-id", .literal(replacement)])]))
                }
                result[AzureWIFacts.clientIDAnnotation] = replacement
            }
        } else if let clientID {
            result[AzureWIFacts.clientIDAnnotation] = clientID
        } else {
            return .held(HeldFix(
                check: check, subject: subject.id,
                reason: "the managed identity for ServiceAccount \(subject.namespace)/\(sa) is unknown (no identity trusts it yet)",
                instead: [Commands.xpid(["fix", "--client-id", .variable("CLIENT_ID", meaning: "the managed identity's client ID (az identity show --query clientId -o tsv)")])]))
        }
        let identityTenant = clientID.flatMap { context.snapshot.azure.identity(clientID: $0)?.tenantID }
        if current[AzureWIFacts.tenantIDAnnotation].map(AzureWIFacts.isGUID) != true,
            let tenant = options.tenantID ?? identityTenant ?? context.snapshot.azure.account.value?.tenantID, AzureWIFacts.isGUID(tenant)
        {
            result[AzureWIFacts.tenantIDAnnotation] = tenant
        }
        return .set(result)
    }

    enum AnnotationPlan {
        case set([String: String])
        case held(HeldFix)
    }

    static func coreAzure(_ subject: Subject, needs: AzureNeeds, check: String, _ options: FixOptions, _ held: [HeldFix]) -> (actions: [FixAction], held: [HeldFix]) {
        var held = held
        let ns = subject.namespace
        let sa = subject.serviceAccountName ?? "crossplane"
        let deploymentName = subject.deployment?.metadata.name ?? "crossplane"
        if let helm = Commands.helmRelease(subject), !options.force {
            var settings = needs.annotations.keys.sorted().map { (key: Commands.helmAnnotationKey($0), value: Command.Word.literal(needs.annotations[$0]!)) }
            if needs.label { settings.append((Commands.helmLabelKey(AzureWIFacts.useLabel), "true")) }
            let instead = [Commands.helmSet(helm, settings), Commands.restart(subject)]
            let owner = subject.serviceAccount?.metadata.managedBy ?? subject.deployment?.metadata.managedBy
            held.append(HeldFix(
                check: check, subject: subject.id,
                reason: "ServiceAccount \(ns)/\(sa) and Deployment \(deploymentName) are managed by Helm release \(helm.release); a direct change would be reverted on the next upgrade (pass --force to change them anyway)",
                advice: ["set the values below (customLabels puts the label on the pods; serviceAccount.customAnnotations on the ServiceAccount), then the pods roll"],
                instead: instead, managedBy: owner))
            return ([], held)
        }
        var actions: [FixAction] = []
        for key in needs.annotations.keys.sorted() {
            let value = needs.annotations[key]!
            let overwrite = subject.serviceAccount?.metadata.annotations[key] != nil
            actions.append(FixAction(
                kind: .change, check: check, subject: subject.id, description: "annotate ServiceAccount \(ns)/\(sa) with \(key)=\(value)",
                command: Commands.annotate("serviceaccount", sa, namespace: ns, key: key, value: .literal(value), overwrite: overwrite),
                target: "ServiceAccount \(ns)/\(sa)", managedBy: subject.serviceAccount?.metadata.managedBy,
                transform: { s in s.updateServiceAccount(namespace: ns, name: sa) { $0.metadata.annotations[key] = value } }))
        }
        if needs.label {
            actions.append(FixAction(
                kind: .change, check: "azure.pod-label", subject: subject.id,
                description: "label the pod template of Deployment \(ns)/\(deploymentName) with \(AzureWIFacts.useLabel)=true (the Deployment rolls its pods)",
                command: Commands.patch("deployment", deploymentName, namespace: ns, Patches.podTemplateLabel(AzureWIFacts.useLabel, "true")),
                target: "Deployment \(ns)/\(deploymentName)", managedBy: subject.deployment?.metadata.managedBy,
                transform: { s in
                    for i in s.deployments.indices where s.deployments[i].metadata.namespace == ns && s.deployments[i].metadata.name == deploymentName {
                        s.deployments[i].template.labels[AzureWIFacts.useLabel] = "true"
                    }
                }))
        }
        return (actions, held)
    }

    static func packageAzure(_ subject: Subject, needs: AzureNeeds, check: String, _ context: EvaluationContext) -> [FixAction] {
        let ns = subject.namespace
        let name = subject.name
        let revision = subject.revision
        let pinned = needs.pinName ? subject.name : nil
        let annotations = needs.annotations
        let label = needs.label
        let update: @Sendable (inout DeploymentRuntimeConfig) -> Void = { drc in
            if let pinned { drc.serviceAccountName = pinned }
            for (k, v) in annotations { drc.serviceAccountAnnotations[k] = v }
            if label { drc.podLabels[AzureWIFacts.useLabel] = "true" }
        }
        // What Crossplane does with the new runtime config: the ServiceAccount and the pod template follow it.
        let follow: @Sendable (inout Snapshot, DeploymentRuntimeConfig) -> Void = { s, drc in
            let sa = drc.serviceAccountName ?? drc.podServiceAccountName ?? s.deployments.first { $0.metadata.labels["pkg.crossplane.io/revision"] == revision && revision != nil }?.template.spec.serviceAccountName ?? name
            if s.serviceAccount(namespace: ns, name: sa) == nil { s.serviceAccounts.append(ServiceAccount(metadata: ObjectMeta(name: sa, namespace: ns))) }
            s.updateServiceAccount(namespace: ns, name: sa) { for (k, v) in drc.serviceAccountAnnotations { $0.metadata.annotations[k] = v } }
            for i in s.deployments.indices where revision != nil && s.deployments[i].metadata.labels["pkg.crossplane.io/revision"] == revision {
                s.deployments[i].template.spec.serviceAccountName = sa
                for (k, v) in drc.podLabels { s.deployments[i].template.labels[k] = v }
            }
            if let revision, pinned != nil { s.recreatePods(namespace: ns, selector: ["pkg.crossplane.io/revision": revision], serviceAccount: sa) }
        }
        let sharers = context.subjects.filter { $0.runtimeConfig?.metadata.name == subject.runtimeConfig?.metadata.name }.count
        if let drc = subject.runtimeConfig, drc.metadata.name != "default", drc.podServiceAccountName == nil, pinned == nil || sharers <= 1 {
            let drcName = drc.metadata.name
            var body: [String: JSONValue] = [:]
            var saMeta: [String: JSONValue] = [:]
            if let pinned { saMeta["name"] = .string(pinned) }
            if !annotations.isEmpty { saMeta["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
            if !saMeta.isEmpty { body["serviceAccountTemplate"] = ["metadata": .object(saMeta)] }
            if label { body["deploymentTemplate"] = Patches.runtimeConfigPodLabel(AzureWIFacts.useLabel, "true")["spec"]["deploymentTemplate"] }
            return [FixAction(
                kind: .change, check: check, subject: subject.id,
                description: "set \(describe(needs)) in DeploymentRuntimeConfig \(drcName) (Crossplane applies it to the ServiceAccount and pods)",
                command: Commands.patch(Commands.runtimeConfigResource, drcName, .object(["spec": .object(body)])), target: "\(Commands.runtimeConfigResource) \(drcName)",
                managedBy: drc.metadata.managedBy, notes: sharers > 1 ? ["\(sharers) packages use \(drcName); each of them gets these settings"] : [],
                transform: { s in
                    for i in s.runtimeConfigs.indices where s.runtimeConfigs[i].metadata.name == drcName { update(&s.runtimeConfigs[i]) }
                    if let updated = s.runtimeConfig(named: drcName) { follow(&s, updated) }
                })]
        }
        // Never edit the shared `default` runtime config: give the package its own, with a stable name.
        let drcName = Commands.dedicatedRuntimeConfigName(subject)
        var drc = subject.runtimeConfig.map { DeploymentRuntimeConfig(metadata: ObjectMeta(name: drcName), serviceAccountName: $0.serviceAccountName, serviceAccountAnnotations: $0.serviceAccountAnnotations, podLabels: $0.podLabels) }
            ?? DeploymentRuntimeConfig(metadata: ObjectMeta(name: drcName))
        drc.metadata = ObjectMeta(name: drcName)
        update(&drc)
        if drc.serviceAccountName == nil { drc.serviceAccountName = subject.name }
        let created = drc
        let exists = context.snapshot.runtimeConfigs.contains { $0.metadata.name == drcName }
        var actions: [FixAction] = []
        if !exists {
            actions.append(FixAction(
                kind: .change, check: check, subject: subject.id,
                description: "create DeploymentRuntimeConfig \(drcName) with ServiceAccount \(created.serviceAccountName ?? name), \(describe(needs))",
                command: Commands.apply(Patches.runtimeConfigManifest(name: drcName, serviceAccountName: created.serviceAccountName, annotations: created.serviceAccountAnnotations, podLabels: created.podLabels)),
                target: "DeploymentRuntimeConfig \(drcName)",
                transform: { s in s.runtimeConfigs.append(created) }))
        }
        actions.append(pointPackage(
            subject, at: drcName, check: check,
            notes: ["Crossplane creates ServiceAccount \(ns)/\(created.serviceAccountName ?? name) and rolls the Deployment; the federated credential must name it"],
            then: { s in
                follow(&s, created)
                if let revision { s.recreatePods(namespace: ns, selector: ["pkg.crossplane.io/revision": revision], serviceAccount: created.serviceAccountName) }
            }))
        return actions
    }

    static func describe(_ needs: AzureNeeds) -> String {
        var parts: [String] = []
        if needs.pinName { parts.append("a pinned ServiceAccount name") }
        parts += needs.annotations.keys.sorted().map { "\($0)=\(needs.annotations[$0]!)" }
        if needs.label { parts.append("pod label \(AzureWIFacts.useLabel)=true") }
        return parts.joined(separator: ", ")
    }

    /// The ProviderConfig fields the finding could name (every value validated); a patch per ProviderConfig.
    static func providerConfigFixes(_ finding: Finding, subject: Subject, _ context: EvaluationContext, seen: inout Set<String>) -> [FixAction] {
        guard finding.fixable, let key = finding.evidence["providerConfig"] else { return [] }
        guard let pc = context.azureOIDCProviderConfigs.first(where: { $0.displayName == key }), seen.insert(key).inserted else { return [] }
        return (finding.remediation?.commands ?? []).filter { $0.effect == .change && $0.program == "kubectl" }.compactMap { command in
            guard let i = command.argv.firstIndex(of: "-p"), i + 1 < command.argv.count, let body = try? JSONValue.parse(command.argv[i + 1]) else { return nil }
            let fields = body["spec"].stringMap
            let api = pc.api
            let name = pc.metadata.name
            let ns = pc.metadata.namespace
            return FixAction(
                kind: .change, check: "azure.providerconfig", subject: subject.id,
                description: "set \(fields.keys.sorted().map { "\($0)=\(fields[$0]!)" }.joined(separator: ", ")) in \(pc.displayName)",
                command: command, target: "\(api.plural).\(api.group) \(pc.displayName)", managedBy: pc.metadata.managedBy,
                transform: { s in
                    for i in s.providerConfigs.indices where s.providerConfigs[i].api == api && s.providerConfigs[i].metadata.name == name && s.providerConfigs[i].metadata.namespace == ns {
                        if let v = fields["clientID"] { s.providerConfigs[i].clientID = v }
                        if let v = fields["tenantID"] { s.providerConfigs[i].tenantID = v }
                        if let v = fields["subscriptionID"] { s.providerConfigs[i].subscriptionID = v }
                        if let v = fields["oidcTokenFilePath"] { s.providerConfigs[i].oidcTokenFilePath = v }
                    }
                })
        }
    }
}
