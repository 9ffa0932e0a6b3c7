import Foundation

public struct FluxObjectHealthCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "flux.object-health",
        title: "Flux objects are Ready (errors decoded)",
        summary: "The object's `Ready` condition is True; when it is False or the object is `Stalled`, its message is matched against Flux's and the clouds' known errors (FeatureGateDisabled, missing tenant/client ID, lockdown default ServiceAccount, token RBAC, invalid annotations, missing env, AADSTS and STS refusals) and points at the check that explains it.",
        rationale: "Flux reports identity failures in condition messages that name neither the ServiceAccount chain nor the fix; decoding them ties a live symptom to a root cause.",
        remediation: "Follow the related check named in the finding.",
        mechanism: .flux, scope: .subject,
        liveOnly: true, passing: [CheckExample("Ready", subject: "flux-object/flux-system/podinfo", expect: .pass) { Examples.eksFlux() }],
        failing: [CheckExample("stalled by the feature gate", subject: "flux-object/apps/podinfo", expect: .fail) {
            var s = Examples.eksFluxObjectLevel(gate: false)
            s.updateFluxObject(namespace: "apps", name: "podinfo") {
                $0.conditions = [Condition(type: "Ready", status: "False", reason: FluxFacts.featureGateDisabledReason, message: "to use spec.serviceAccountName for provider authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller")]
            }
            return s
        }])

    static let table: [(String, String, String)] = [
        ("access token for the controller", "the controller's own identity failed (controller level)", "flux.controller-identity"),
        ("ObjectLevelWorkloadIdentity feature gate", "the controller runs without --feature-gates=ObjectLevelWorkloadIdentity=true", "flux.object-level-gate"),
        ("azure tenant ID is not set", "the object's ServiceAccount lacks azure.workload.identity/tenant-id (required at object level)", "flux.object-sa"),
        ("azure client ID is not set", "the object's ServiceAccount lacks azure.workload.identity/client-id", "flux.object-sa"),
        ("specified default service account does not exist", "multi-tenant lockdown: the controller's default ServiceAccount is missing in the object's namespace", "flux.object-sa"),
        ("failed to create kubernetes token", "the controller may not create serviceaccounts/token", "flux.token-permission"),
        ("invalid iam.gke.io/gcp-service-account annotation", "the GSA annotation is not NAME@PROJECT.iam.gserviceaccount.com", "flux.object-sa"),
        ("missing environment variables for workload identity", "the controller pod lacks one of AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST (label or restart missing)", "azure.injected"),
        ("AWS_REGION", "the controller pod has no AWS_REGION: recreate it so EKS injects the identity env", "irsa.injected"),
        ("invalid Azure registry", "the URL is not an ACR registry host", "flux.provider-field"),
        ("failed to get GKE cluster project ID from the metadata service", "the GKE metadata server is not serving the pod (node pool without GKE_METADATA)", "gke.workload-pool"),
        ("failed to get provider identity from service account", "the object's ServiceAccount annotations are missing or invalid", "flux.object-sa"),
        ("serviceaccounts \"", "the object's ServiceAccount does not exist", "flux.object-sa"),
    ]

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.kind == .fluxObject }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let object = subject.flux?.object else { return [] }
        let ready = object.condition("Ready")
        let stalled = object.condition("Stalled")
        if ready?.status == "True" { return [.pass("\(object.displayName) is Ready")] }
        guard let failing = [stalled, ready].compactMap({ $0 }).first(where: { ($0.type == "Stalled" && $0.status == "True") || ($0.type == "Ready" && $0.status == "False") }) else {
            return [.skip(ready == nil ? "\(object.displayName) has no Ready condition yet (not reconciled)" : "\(object.displayName) is reconciling (Ready=\(ready?.status ?? "Unknown"))")]
        }
        let message = failing.message ?? ""
        var meanings = Self.table.filter { message.localizedCaseInsensitiveContains($0.0) || failing.reason == $0.0 }.map { (meaning: $0.1, check: $0.2) }
        if failing.reason == FluxFacts.featureGateDisabledReason && !meanings.contains(where: { $0.check == "flux.object-level-gate" }), let gate = Self.table.first(where: { $0.2 == "flux.object-level-gate" }) {
            meanings.insert((gate.1, gate.2), at: 0)
        }
        meanings += ErrorDecoder.decode(message).compactMap { e in e.relatedCheck.map { (meaning: e.meaning, check: $0) } }
        // At controller level the injected env and the chain belong to the controller's subject.
        if subject.delegatesIdentity, let controller = subject.flux?.controller {
            meanings = meanings.map { m in m.check.hasPrefix("flux.") || m.check.hasPrefix("crossplane.") ? m : (meaning: m.meaning, check: "\(m.check) on flux-controller/\(controller)") }
        }
        let shown = Printable.text(String(message.prefix(300)))
        var evidence = ["condition": "\(failing.type)=\(failing.status)", "reason": failing.reason ?? ""]
        if let first = meanings.first { evidence["relatedCheck"] = first.check }
        let decoded = meanings.isEmpty
            ? "not a known identity error"
            : meanings.map { "\($0.meaning) (see \($0.check))" }.joined(separator: "; ")
        return [.fail(
            "\(object.displayName) is not Ready (\(failing.type)=\(failing.status), reason \(failing.reason ?? "none")): \(shown) — \(decoded)",
            evidence: evidence,
            remediation: Remediation(meanings.first.map { "fix the link \($0.check) reports" } ?? "read the object's events", commands: [FluxCommands.describe(object)]))]
    }
}
