import Foundation

/// GKE fixes: the `iam.gke.io/gcp-service-account` annotation, for the core on its ServiceAccount (Helm
/// values when Helm manages it), for packages through their DeploymentRuntimeConfig. Nothing is injected
/// into GKE pods, so a package needs no restart; the Crossplane core does, because its registry keychain
/// resolves credentials once per process.
extension FixPlanner {
    static func gkeFixes(_ subject: Subject, open: (String) -> Finding?, _ context: EvaluationContext, _ options: FixOptions) -> (actions: [FixAction], held: [HeldFix]) {
        let coreNeedsIdentity = subject.kind == .crossplaneCore && context.snapshot.cluster.cloud == .gcp && open("crossplane.core-registry-identity")?.status == .fail
        let check = open("gke.sa-annotation") != nil ? "gke.sa-annotation" : "crossplane.core-registry-identity"
        guard open("gke.sa-annotation") != nil || coreNeedsIdentity else { return ([], []) }
        let ns = subject.namespace
        let sa = subject.serviceAccountName ?? subject.name
        let key = GKEFacts.gsaAnnotation
        guard let gsa = options.gcpServiceAccount else {
            return ([], [HeldFix(
                check: check, subject: subject.id, reason: "the Google service account for ServiceAccount \(ns)/\(sa) is unknown",
                instead: [Commands.xpid(["fix", "--gcp-service-account", .variable("GSA_EMAIL", meaning: "the Google service account, NAME@PROJECT.iam.gserviceaccount.com")])])])
        }
        let current = subject.serviceAccount?.metadata.annotations[key]
        if current == gsa { return ([], []) }
        if let current, !options.overwrite {
            return ([], [HeldFix(
                check: check, subject: subject.id, reason: "ServiceAccount \(ns)/\(sa) already has \(key)=\(Printable.text(current)); not replacing it with \(gsa) without --overwrite",
                instead: [Commands.xpid(["fix", "--overwrite", "--gcp-service-account", .literal(gsa)])])])
        }
        let setSA: @Sendable (inout Snapshot) -> Void = { s in s.updateServiceAccount(namespace: ns, name: sa) { $0.metadata.annotations[key] = gsa } }
        switch subject.kind {
        case .crossplaneCore:
            if let helm = Commands.helmRelease(subject), !options.force {
                return ([], [HeldFix(
                    check: check, subject: subject.id,
                    reason: "ServiceAccount \(ns)/\(sa) is managed by Helm release \(helm.release); a direct annotation would be reverted (pass --force to change it anyway)",
                    advice: ["set serviceAccount.customAnnotations in the release's values, then restart Crossplane (its registry keychain resolves credentials once per process)"],
                    instead: [Commands.helmSet(helm, key: Commands.helmAnnotationKey(key), value: .literal(gsa)), Commands.restart(subject)],
                    managedBy: subject.serviceAccount?.metadata.managedBy ?? subject.deployment?.metadata.managedBy)])
            }
            return ([FixAction(
                kind: .change, check: check, subject: subject.id, description: "annotate ServiceAccount \(ns)/\(sa) with \(key)=\(gsa)",
                command: Commands.annotate("serviceaccount", sa, namespace: ns, key: key, value: .literal(gsa), overwrite: current != nil),
                target: "ServiceAccount \(ns)/\(sa)", managedBy: subject.serviceAccount?.metadata.managedBy,
                notes: ["Crossplane's registry keychain resolves credentials once per process: the plan restarts it"], transform: setSA)], [])
        case .provider, .function:
            if let drc = subject.runtimeConfig, drc.metadata.name != "default", drc.podServiceAccountName == nil {
                let name = drc.metadata.name
                return ([FixAction(
                    kind: .change, check: check, subject: subject.id,
                    description: "set \(key)=\(gsa) in DeploymentRuntimeConfig \(name) serviceAccountTemplate (Crossplane applies it to the ServiceAccount)",
                    command: Commands.patch(Commands.runtimeConfigResource, name, Patches.serviceAccountTemplateAnnotation(key, gsa)),
                    target: "\(Commands.runtimeConfigResource) \(name)", managedBy: drc.metadata.managedBy,
                    notes: ["nothing is injected into GKE pods: the metadata server uses the annotation at the next token request, no restart needed"],
                    transform: { s in
                        for i in s.runtimeConfigs.indices where s.runtimeConfigs[i].metadata.name == name { s.runtimeConfigs[i].serviceAccountAnnotations[key] = gsa }
                        setSA(&s)
                    })], [])
            }
            if let drc = subject.runtimeConfig, drc.podServiceAccountName == sa {
                return ([FixAction(
                    kind: .change, check: check, subject: subject.id, description: "annotate pre-created ServiceAccount \(ns)/\(sa) with \(key)=\(gsa)",
                    command: Commands.annotate("serviceaccount", sa, namespace: ns, key: key, value: .literal(gsa), overwrite: current != nil),
                    target: "ServiceAccount \(ns)/\(sa)", transform: setSA)], [])
            }
            // Never edit the shared `default` runtime config: a dedicated one, with a stable ServiceAccount name.
            let drcName = Commands.dedicatedRuntimeConfigName(subject)
            let pinned = subject.name
            let revision = subject.revision
            var actions: [FixAction] = []
            if !context.snapshot.runtimeConfigs.contains(where: { $0.metadata.name == drcName }) {
                actions.append(FixAction(
                    kind: .change, check: check, subject: subject.id, description: "create DeploymentRuntimeConfig \(drcName) with ServiceAccount \(pinned) annotated \(key)=\(gsa)",
                    command: Commands.apply(Patches.runtimeConfigManifest(name: drcName, serviceAccountName: pinned, annotations: [key: gsa])),
                    target: "DeploymentRuntimeConfig \(drcName)",
                    transform: { s in s.runtimeConfigs.append(DeploymentRuntimeConfig(metadata: ObjectMeta(name: drcName), serviceAccountName: pinned, serviceAccountAnnotations: [key: gsa])) }))
            }
            actions.append(pointPackage(
                subject, at: drcName, check: check,
                notes: ["Crossplane creates ServiceAccount \(ns)/\(pinned); the GSA's workloadIdentityUser binding must name it"],
                then: { s in rollToServiceAccount(&s, namespace: ns, revision: revision, serviceAccount: pinned, annotations: [key: gsa]) }))
            return (actions, [])
        case .fluxController, .fluxObject:
            return ([], [])
        }
    }
}
