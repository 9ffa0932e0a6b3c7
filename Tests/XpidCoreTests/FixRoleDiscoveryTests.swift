import Testing
import XpidCore

@Suite("fix: discovering the role that already trusts a ServiceAccount")
struct FixRoleDiscoveryTests {
    static let cluster = EKSCluster(name: "prod-eks", arn: "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks", oidcIssuer: Examples.issuer)

    static func coreWithoutRole() -> EvaluationContext {
        var s = Examples.irsaSeed()
        s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") {
            $0.metadata.annotations[IRSAFacts.roleAnnotation] = nil
            $0.metadata.labels = [:]
            $0.metadata.annotations = [:]
        }
        s.deployments[0].metadata.labels["app.kubernetes.io/managed-by"] = nil
        s.deployments[0].metadata.annotations = [:]
        return EvaluationContext(s)
    }

    static func role(_ name: String, subject: String, like: Bool = false) -> IAMRole {
        IAMRole(name: name, arn: "arn:aws:iam::123456789012:role/\(name)", trustPolicy: Examples.irsaTrust(subject: subject, like: like))
    }

    @Test("only roles whose trust admits the ServiceAccount from this cluster are candidates")
    func candidates() throws {
        let context = Self.coreWithoutRole()
        let core = try #require(context.subjects.first { $0.kind == .crossplaneCore })
        let roles = [
            Self.role("CrossplaneECRRole", subject: "system:serviceaccount:crossplane-system:crossplane"),
            Self.role("OtherNamespace", subject: "system:serviceaccount:default:crossplane"),
            Self.role("Wildcard", subject: "system:serviceaccount:crossplane-system:cross*", like: true),
            IAMRole(name: "PodIdentity", arn: "arn:aws:iam::123456789012:role/PodIdentity", trustPolicy: Examples.podIdentityTrust),
        ]
        #expect(FixPlanner.rolesTrusting(core, roles: roles, cluster: Self.cluster) == [
            "arn:aws:iam::123456789012:role/CrossplaneECRRole", "arn:aws:iam::123456789012:role/Wildcard",
        ])
    }

    @Test("one trusting role is annotated; several are offered, not guessed")
    func planUsesDiscovery() throws {
        let context = Self.coreWithoutRole()
        let findings = CheckEngine().run(context)
        let needing = FixPlanner.subjectsNeedingRole(context, findings: findings)
        #expect(needing.map(\.id) == ["crossplane-core/crossplane"])

        var options = FixOptions(restart: true)
        options.discoveredRoles["crossplane-core/crossplane"] = ["arn:aws:iam::123456789012:role/CrossplaneECRRole"]
        let plan = FixPlanner.plan(context, findings: findings, options: options)
        let annotate = try #require(plan.actions.first { $0.kind == .change })
        #expect(annotate.command.argv.contains("eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/CrossplaneECRRole"))

        options.discoveredRoles["crossplane-core/crossplane"] = ["arn:aws:iam::123456789012:role/A", "arn:aws:iam::123456789012:role/B"]
        let ambiguous = FixPlanner.plan(context, findings: findings, options: options)
        #expect(!ambiguous.actions.contains { $0.kind == .change })
        let held = try #require(ambiguous.held.first { $0.subject == "crossplane-core/crossplane" })
        #expect(held.instead.map(\.line) == ["kubectl xpid fix --role-arn arn:aws:iam::123456789012:role/A", "kubectl xpid fix --role-arn arn:aws:iam::123456789012:role/B"])
    }
}
