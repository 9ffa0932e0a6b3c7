import Foundation

public struct FluxProviderFieldCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "flux.provider-field",
        title: "Sources on cloud registries say which cloud",
        summary: "A Flux source pointing at ECR, ACR or Artifact Registry (or a cloud bucket endpoint) sets `spec.provider` to that cloud (`warn` when it is `generic` or unset with no `secretRef`: Flux then reads anonymously); a `secretRef` next to a cloud provider is `warn` (the static credentials silently win); a provider that names another cloud than the URL is `fail`; a HelmRepository gets its identity from source-controller only (it has no `serviceAccountName`).",
        rationale: "Flux only asks a cloud for credentials when `provider` says so, and only when the keychain is otherwise anonymous: `provider: generic` on a private registry fails as \"unauthorized\", and a leftover secretRef quietly replaces workload identity.",
        remediation: "Set `spec.provider` to aws, azure or gcp (and remove a stale `secretRef`); for object-level identity on OCI Helm charts, use an OCIRepository (HelmRepository has no serviceAccountName).",
        mechanism: .flux, scope: .subject,
        passing: [CheckExample("provider aws on an ECR URL", subject: "flux-object/flux-system/podinfo", expect: .pass) { Examples.eksFlux() }],
        failing: [
            CheckExample("ECR URL with provider generic and no secretRef", subject: "flux-object/flux-system/podinfo", expect: .warn) {
                var s = Examples.eksFlux()
                s.updateFluxObject(namespace: FluxFacts.defaultNamespace, name: "podinfo") { $0.provider = "generic" }
                return s
            },
            CheckExample("secretRef next to provider aws", subject: "flux-object/flux-system/podinfo", expect: .warn) {
                var s = Examples.eksFlux()
                s.updateFluxObject(namespace: FluxFacts.defaultNamespace, name: "podinfo") { $0.secretRef = "ecr-credentials" }
                return s
            },
            CheckExample("provider azure on an ECR URL", subject: "flux-object/flux-system/podinfo", expect: .fail) {
                var s = Examples.eksFlux()
                s.updateFluxObject(namespace: FluxFacts.defaultNamespace, name: "podinfo") { $0.provider = "azure" }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.kind == .fluxObject }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let object = subject.flux?.object else { return [] }
        let provider = object.provider ?? "generic"
        let field = object.kind == .notificationProvider ? "spec.type" : "spec.provider"
        let host = object.host ?? ""
        if object.kind == .kustomization {
            return [.pass("SOPS decryption: the KMS cloud comes from the encrypted files; \(object.kind.serviceAccountField ?? "") selects the identity")]
        }
        if let addressCloud = object.addressCloud, object.providerCloud == nil, object.usesProvider || object.kind == .helmRepository {
            if object.secretRef != nil {
                return [.pass("\(object.displayName) reads \(host) (\(addressCloud.kubernetesService) registry or storage) with the static credentials of secretRef \(object.secretRef ?? "")")]
            }
            if object.kind == .helmRepository && object.repositoryType != "oci" {
                return [.warn(
                    "\(object.displayName) points at \(host) without type: oci: Flux ignores \(field) for HTTP Helm repositories, so it reads anonymously",
                    remediation: Remediation("set spec.type: oci and spec.provider: \(addressCloud.rawValue)"))]
            }
            return [.warn(
                "\(object.displayName) points at \(host), a \(addressCloud.rawValue) \(object.kind == .bucket ? "storage endpoint" : "registry"), with \(field)=\(provider) and no secretRef: Flux reads it anonymously (\"unauthorized\" on a private one) and never uses workload identity",
                evidence: ["host": host, "provider": provider],
                remediation: Remediation("set \(field) to \(addressCloud.rawValue)", commands: [FluxCommands.setProvider(object, addressCloud.rawValue)]))]
        }
        guard let providerCloud = object.providerCloud else {
            return [.pass("\(object.displayName): \(field)=\(provider)")]
        }
        if let addressCloud = object.addressCloud, addressCloud != providerCloud {
            return [.fail(
                "\(object.displayName) sets \(field)=\(provider) but \(host) belongs to \(addressCloud.rawValue): Flux rejects the host (\"invalid … registry\") or asks the wrong cloud",
                evidence: ["host": host, "provider": provider],
                remediation: Remediation("set \(field) to \(addressCloud.rawValue)", commands: [FluxCommands.setProvider(object, addressCloud.rawValue)]))]
        }
        if let secret = object.secretRef {
            let effect = object.kind == .bucket && object.serviceAccountName != nil
                ? "the Bucket API rejects secretRef together with serviceAccountName"
                : "Flux uses the static credentials and never asks \(providerCloud.rawValue) for a token (no error says so)"
            return [.warn(
                "\(object.displayName) sets \(field)=\(provider) and secretRef \(secret): \(effect)",
                evidence: ["secretRef": secret],
                remediation: Remediation("remove spec.secretRef to use workload identity", commands: [Commands.patch(object.resource, object.name, namespace: object.namespace, type: .json, Patches.remove("/spec/secretRef"))]))]
        }
        let cluster = context.snapshot.cluster.cloud
        if cluster != .unknown, cluster != providerCloud {
            return [.warn(
                "\(object.displayName) asks \(providerCloud.rawValue) for credentials from a \(cluster.kubernetesService) cluster: \(providerCloud.rawValue)'s workload identity is not available here, so the controller has no token to exchange unless you federated it yourself",
                remediation: Remediation("use static credentials in spec.secretRef, or run this source on a \(providerCloud.kubernetesService) cluster"))]
        }
        if object.kind == .helmRepository {
            return [.pass("\(object.displayName) sets \(field)=\(provider): HelmRepository has no serviceAccountName, so it always uses source-controller's own identity (an OCIRepository can use object-level identity)")]
        }
        return [.pass("\(object.displayName) sets \(field)=\(provider)" + (host.isEmpty ? "" : " for \(host)"))]
    }
}
