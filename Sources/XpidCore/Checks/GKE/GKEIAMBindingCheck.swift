import Foundation

public struct GKEIAMBindingCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "gke.iam-binding",
        title: "The identity is bound to this ServiceAccount",
        summary: "For `gke-wi`, the GSA's policy grants `roles/iam.workloadIdentityUser` to `serviceAccount:POOL[NS/SA]`; for `gke-wif`, the project policy grants some role to the `principal://…/subject/ns/NS/sa/SA` member (or a `principalSet://…/namespace/NS`), `warn` when none is found.",
        rationale: "The metadata server hands out the GSA's token only to the exact namespace and ServiceAccount bound on it; a member copied from docs with `upbound-system` matches nothing in `crossplane-system`, and the pod gets 403 on `iam.serviceAccounts.getAccessToken`.",
        remediation: "`gcloud iam service-accounts add-iam-policy-binding GSA --role roles/iam.workloadIdentityUser --member serviceAccount:POOL[NS/SA]` (printed with the values filled in).",
        mechanism: .gke, scope: .subject, cloud: true, dependsOn: ["gke.sa-annotation"],
        passing: [
            CheckExample("workloadIdentityUser for crossplane-system/crossplane", subject: "crossplane-core/crossplane", expect: .pass) { Examples.gkeSeed() },
            CheckExample("direct principal with a project role", subject: "provider/provider-gcp-storage", expect: .pass) { Examples.gkeSeed() },
        ],
        failing: [
            CheckExample("binding for upbound-system (copied from the provider docs)", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.gkeSeed()
                s.gcp.serviceAccountPolicies[Examples.coreGSA] = .value(GCPPolicy(bindings: [(role: GKEFacts.workloadIdentityUser, members: [GKEFacts.workloadIdentityMember(pool: Examples.gkePool, namespace: "upbound-system", serviceAccount: "crossplane")])]))
                return s
            },
            CheckExample("direct principal without any grant", subject: "provider/provider-gcp-storage", expect: .warn) {
                var s = Examples.gkeSeed()
                s.gcp.projectPolicy = .value(GCPPolicy(bindings: []))
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .gkeWI || subject.method == .gkeWIF }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let sa = subject.serviceAccountName else { return [.skip("no ServiceAccount resolved")] }
        let gcp = context.snapshot.gcp
        guard case .value(let cluster) = gcp.cluster else { return [gcp.cluster.unavailableResult(what: "GKE cluster \(context.clusterLabel)") ?? .skip("")] }
        guard let pool = cluster.workloadPool else { return [.skip("the cluster has no workload pool (see gke.workload-pool)")] }
        if let gsa = subject.serviceAccount?.metadata.annotations[GKEFacts.gsaAnnotation], GKEFacts.isServiceAccountEmail(gsa) {
            let member = GKEFacts.workloadIdentityMember(pool: pool, namespace: subject.namespace, serviceAccount: sa)
            let policy: GCPPolicy
            switch gcp.serviceAccountPolicies[gsa] {
            case .value(let p)?: policy = p
            case let other?: return [other.unavailableResult(what: "the IAM policy of \(gsa)") ?? .skip("")]
            case nil: return [.error("the IAM policy of \(gsa) was not read")]
            }
            let users = policy.members(of: GKEFacts.workloadIdentityUser)
            if users.contains(member) {
                return [.pass("\(gsa) grants \(GKEFacts.workloadIdentityUser) to \(member)", evidence: ["gsa": gsa, "member": member])]
            }
            let prefix = "serviceAccount:\(pool)["
            let sameSA = users.filter { $0.hasPrefix(prefix) && $0.hasSuffix("/\(sa)]") }
            // The seed's binding covers the package manager's ServiceAccount only; providers run as their own.
            let coreOnly = subject.kind != .crossplaneCore && users.contains(GKEFacts.workloadIdentityMember(pool: pool, namespace: subject.namespace, serviceAccount: "crossplane"))
                ? "; it is bound to the package manager's ServiceAccount crossplane, which does not cover providers" : ""
            let near = coreOnly + (sameSA.isEmpty ? "" : "; it names \(sameSA.joined(separator: ", ")) (another namespace\(sameSA.contains { $0.contains("[upbound-system/") } ? ": upbound-system comes from the provider docs, Crossplane runs in \(subject.namespace)" : ""))")
            return [.fail(
                "\(gsa) does not grant \(GKEFacts.workloadIdentityUser) to \(member)\(near): token requests fail with 403 on iam.serviceAccounts.getAccessToken",
                evidence: ["gsa": gsa, "member": member],
                remediation: Remediation("bind the ServiceAccount to the GSA", commands: [Commands.addWorkloadIdentityUser(gsa: gsa, member: member, project: GKEFacts.project(ofServiceAccount: gsa))]))]
        }
        // Direct principal.
        guard case .value(let number) = gcp.projectNumber else { return [gcp.projectNumber.unavailableResult(what: "the project number") ?? .skip("")] }
        guard case .value(let policy) = gcp.projectPolicy else { return [gcp.projectPolicy.unavailableResult(what: "the project's IAM policy") ?? .skip("")] }
        let member = GKEFacts.principal(projectNumber: number, pool: pool, namespace: subject.namespace, serviceAccount: sa)
        let set = GKEFacts.principalSet(projectNumber: number, pool: pool, namespace: subject.namespace)
        let roles = policy.roles(of: member) + policy.roles(of: set)
        let repoRoles = context.snapshot.gcp.repositoryPolicies.values.compactMap(\.value).flatMap { $0.roles(of: member) + $0.roles(of: set) }
        if !(roles + repoRoles).isEmpty {
            return [.pass("the principal of \(subject.namespace)/\(sa) has \(Array(Set(roles + repoRoles)).sorted().joined(separator: ", "))", evidence: ["member": member])]
        }
        return [.warn(
            "no binding found for \(member) (or its namespace's principalSet) in the project's policy\(gcp.repositoryPolicies.isEmpty ? "" : " or the registry repositories'"); grants on other resources are not read",
            evidence: ["member": member],
            remediation: Remediation("grant the roles the workload needs to its principal (grants on individual resources are not read)", commands: [
                Commands.addProjectBinding(project: context.snapshot.cluster.project ?? String(pool.dropLast(".svc.id.goog".count)), role: .variable("ROLE", meaning: "the role the workload needs, e.g. roles/storage.admin"), member: member),
            ]))]
    }
}
