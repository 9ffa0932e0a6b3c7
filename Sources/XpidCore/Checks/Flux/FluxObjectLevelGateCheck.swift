import Foundation

public struct FluxObjectLevelGateCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "flux.object-level-gate",
        title: "Object-level identity is enabled on the controller",
        summary: "An object that names a `serviceAccountName` with a cloud provider (or inherits one from the controller's `--default-service-account` lockdown) is reconciled by a controller running with `--feature-gates=ObjectLevelWorkloadIdentity=true` (`fail`, reason `FeatureGateDisabled`, otherwise).",
        rationale: "The gate is off by default (opt-in since Flux v2.6). Without it source-, kustomize- and image-controllers stall the object with reason FeatureGateDisabled; notification-controller only logs the refusal when an event is sent, so nothing on the Provider shows it.",
        remediation: "Add the argument to the controller through a JSON 6902 patch in the flux-system kustomization.yaml (`op: add`, `path: /spec/template/spec/containers/0/args/-`), commit, and let the controller roll.",
        mechanism: .flux, scope: .subject,
        passing: [CheckExample("gate on source-controller", subject: "flux-object/apps/podinfo", expect: .pass) { Examples.eksFluxObjectLevel() }],
        failing: [
            CheckExample("gate off", subject: "flux-object/apps/podinfo", expect: .fail) { Examples.eksFluxObjectLevel(gate: false) },
            CheckExample("gate set to false after being set to true", subject: "flux-object/apps/podinfo", expect: .fail) {
                var s = Examples.eksFluxObjectLevel()
                s.updateDeployment(namespace: FluxFacts.defaultNamespace, name: "source-controller") { $0.template.spec.containers[0].args.append("--feature-gates=ObjectLevelWorkloadIdentity=false") }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.kind == .fluxObject && subject.flux?.objectLevel == true }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let flux = subject.flux, let object = flux.object else { return [] }
        let ns = context.snapshot.fluxNamespace
        guard let deployment = context.fluxDeployment(flux.controller) else {
            return [.fail(
                "\(object.displayName) uses object-level identity, but no Deployment \(ns)/\(flux.controller) reconciles it (is Flux in another namespace? pass --flux-namespace)",
                evidence: ["controller": flux.controller],
                remediation: Remediation("find the Flux controllers", commands: [Commands.list("deployments", selector: "app.kubernetes.io/part-of=flux", extra: ["--all-namespaces"])]))]
        }
        let settings = FluxControllerSettings(deployment)
        if settings.objectLevelEnabled {
            return [.pass("\(flux.controller) runs with \(FluxFacts.featureGateArgument): it mints tokens for ServiceAccount \(subject.namespace)/\(subject.serviceAccountName ?? "")")]
        }
        var evidence = ["reason": FluxFacts.featureGateDisabledReason, "controller": "\(ns)/\(flux.controller)"]
        if let stalled = object.conditions.first(where: { $0.reason == FluxFacts.featureGateDisabledReason }) {
            evidence["condition"] = "\(stalled.type)=\(stalled.status) reason \(FluxFacts.featureGateDisabledReason): \(Printable.text(stalled.message ?? ""))"
        }
        let how = object.kind == .notificationProvider
            ? "notification-controller refuses it only when an event is dispatched, in its log (the Provider shows no condition)"
            : "Flux stalls the object with reason \(FluxFacts.featureGateDisabledReason) (\"to use \(object.kind.serviceAccountField ?? "spec.serviceAccountName") for … please enable the \(FluxFacts.featureGate) feature gate in the controller\")"
        let why = flux.serviceAccountSource.map { " (\($0))" } ?? ""
        return [.fail(
            "\(FluxFacts.featureGateDisabledReason): \(object.displayName) authenticates as ServiceAccount \(subject.namespace)/\(subject.serviceAccountName ?? "")\(why), but \(flux.controller) runs without \(FluxFacts.featureGateArgument): \(how)",
            evidence: evidence,
            remediation: Remediation("enable the gate on \(flux.controller) (kubectl xpid fix prints the kustomize patch for the flux-system kustomization.yaml)", commands: [FluxCommands.enableGate(deployment)]),
            fixable: context.aksFluxExtension == nil)]
    }
}
