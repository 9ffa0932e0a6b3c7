import Foundation

public struct FluxTokenPermissionCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "flux.token-permission",
        title: "Controllers may mint ServiceAccount tokens",
        summary: "A controller that serves object-level identity is bound (ClusterRoleBinding) to a ClusterRole granting `create` on `serviceaccounts/token` (Flux ships it in `crd-controller` since v2.6); `warn` when no cluster-wide grant is found (namespaced RoleBindings are not read).",
        rationale: "At object level the controller creates a token for the object's ServiceAccount through the TokenRequest API; the multi-tenancy guide shows how to remove that rule, and then every object fails with \"failed to create kubernetes token for service account\".",
        remediation: "Bind the controller's ServiceAccount to a ClusterRole with `create` on `serviceaccounts/token` (or restore the rule in crd-controller).",
        mechanism: .flux, scope: .subject,
        reads: [.clusterRoles, .clusterRoleBindings],
        passing: [CheckExample("crd-controller grants serviceaccounts/token", subject: "flux-controller/source-controller", expect: .pass) { Examples.eksFluxObjectLevel() }],
        failing: [CheckExample("the rule was removed", subject: "flux-controller/source-controller", expect: .warn) { Examples.eksFluxObjectLevel(tokenRule: false) }])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool {
        subject.kind == .fluxController && !(subject.flux?.objectLevelObjects.isEmpty ?? true)
    }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        let ns = subject.namespace
        let sa = subject.serviceAccountName ?? subject.name
        let roles = Dictionary(context.snapshot.clusterRoles.map { ($0.metadata.name, $0) }, uniquingKeysWith: { a, _ in a })
        for binding in context.snapshot.clusterRoleBindings where binding.roleKind == "ClusterRole" && binding.binds(serviceAccount: sa, namespace: ns) {
            if let role = roles[binding.roleName], role.rules.contains(where: { $0.grants(verb: "create", group: "", resource: "serviceaccounts/token") }) {
                return [.pass("ClusterRole \(role.metadata.name) (bound by \(binding.metadata.name)) lets \(ns)/\(sa) create serviceaccounts/token")]
            }
        }
        return [.warn(
            "no ClusterRole bound to ServiceAccount \(ns)/\(sa) grants create on serviceaccounts/token (namespaced RoleBindings were not read): object-level identity fails with \"failed to create kubernetes token for service account\" unless each object's namespace grants it",
            evidence: ["serviceAccount": "\(ns)/\(sa)"],
            remediation: Remediation("grant the controller create on serviceaccounts/token", commands: [Commands.apply(FluxCommands.tokenPermissionManifest(serviceAccount: sa, namespace: ns))]),
            fixable: true)]
    }
}
