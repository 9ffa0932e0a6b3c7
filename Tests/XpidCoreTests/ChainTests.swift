import Foundation
import Testing
import XpidCore

@Suite("Check engine: chains, --no-cloud, filters")
struct ChainTests {
    /// The association example of the catalogue: the association names another ServiceAccount.
    static func associationFails() -> Snapshot {
        var s = Examples.podIdentitySeed()
        s.updateAssociations { $0.serviceAccount = "provider-aws-s3" }
        // A role chain, so podid.role-chain would have something to evaluate if it were not blocked.
        s.providerConfigs[0].assumeRoleChain = ["arn:aws:iam::111122223333:role/target"]
        return s
    }

    static func stableNameFails() -> Snapshot {
        var s = Examples.podIdentitySeed()
        s.updatePackage("provider-aws-s3") { $0.runtimeConfigName = "default"; $0.runtimeConfigRefSet = false }
        for i in s.deployments.indices where s.deployments[i].metadata.name == Examples.s3Revision {
            s.deployments[i].template.spec.serviceAccountName = Examples.s3Revision
        }
        s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.s3Revision }) { $0.spec.serviceAccountName = Examples.s3Revision }
        return s
    }

    @Test("the seed passes every check that applies (no fail, warn or error)")
    func seedIsHealthy() {
        let findings = run(Examples.podIdentitySeed())
        #expect(!findings.isEmpty)
        for f in findings { #expect(f.status == .pass || f.status == .skip, "\(f.check) \(f.subject): \(f.status) \(f.message)") }
        #expect(findings.one("podid.association")?.status == .pass)
    }

    @Test("association fails → its dependants are skipped, blocked by podid.association (fail)")
    func associationBlocksChain() throws {
        let findings = run(Self.associationFails())
        #expect(findings.one("podid.association")?.status == .fail)
        for check in ["podid.trust-policy", "podid.pods-current", "podid.injected", "podid.role-chain"] {
            let f = try #require(findings.one(check), "\(check) has no single finding")
            #expect(f.status == .skip, "\(check): \(f.status) \(f.message)")
            #expect(f.message == "blocked by podid.association (fail)", "\(check)")
        }
        // Not in the chain: still evaluated.
        #expect(findings.one("podid.irsa-shadowing")?.status == .pass)
        #expect(findings.one("crossplane.package-health")?.status == .pass)
    }

    @Test("an association that cannot be read (error) does not block: dependants run and speak for themselves")
    func associationErrorDoesNotBlock() {
        var s = Examples.podIdentitySeed()
        s.aws.associations = .failed(CloudError(kind: .accessDenied, message: "AccessDenied", command: Command(argv: ["aws", "eks", "list-pod-identity-associations"])))
        let findings = run(s)
        #expect(findings.one("podid.association")?.status == .error)
        for check in ["podid.trust-policy", "podid.pods-current", "podid.injected", "podid.role-chain"] {
            #expect(findings.one(check)?.message.hasPrefix("blocked by") == false, "\(check)")
        }
        #expect(findings.one("podid.trust-policy")?.status == .skip)
        #expect(findings.one("podid.injected")?.status == .pass)
    }

    @Test("stable-sa-name fails → association skipped, and the root cause is carried down the chain")
    func stableNameBlocksAssociation() {
        let findings = run(Self.stableNameFails())
        #expect(findings.one("podid.stable-sa-name")?.status == .fail)
        #expect(findings.one("podid.association")?.status == .skip)
        #expect(findings.one("podid.association")?.message == "blocked by podid.stable-sa-name (fail)")
        for check in ["podid.trust-policy", "podid.pods-current", "podid.injected", "podid.role-chain"] {
            #expect(findings.one(check)?.message == "blocked by podid.stable-sa-name (fail)", "\(check)")
        }
    }

    @Test("one root cause per chain: at most one fail among the chain's links")
    func oneRootCause() {
        let chain: Set<String> = ["podid.stable-sa-name", "podid.association", "podid.trust-policy", "podid.pods-current", "podid.injected", "podid.role-chain"]
        for snapshot in [Self.associationFails(), Self.stableNameFails()] {
            let failing = run(snapshot).filter { chain.contains($0.check) && $0.subject == s3 && $0.status == .fail }
            #expect(failing.count == 1, "\(failing.map(\.check))")
        }
    }

    @Test("chain is evaluated for unselected links: --only a dependant still says what blocked it")
    func onlyKeepsChainSemantics() {
        let findings = run(Self.associationFails(), only: ["podid.trust-policy"])
        #expect(findings.map(\.check) == ["podid.trust-policy"])
        #expect(findings.first?.message == "blocked by podid.association (fail)")
    }

    @Test("--no-cloud: cloud checks skip with the reason; cluster-side checks still run")
    func noCloud() {
        var s = Examples.podIdentitySeed()
        s.options = EvaluationOptions(cloudDisabledReason: "--no-cloud", now: s.options.now)
        s.aws = .unavailable("--no-cloud")
        let findings = run(s)
        // The Pod Identity seed has no IRSA subject and no ECR package: only these cloud checks speak about it.
        let cloudChecks = Catalog.descriptions.filter(\.cloud).map(\.id)
        #expect(cloudChecks.count == 9)
        for check in ["eks.pod-identity-addon", "podid.association", "podid.trust-policy", "podid.role-chain", "eks.oidc-provider"] {
            let subject = Catalog.description(check)?.scope == .cluster ? "cluster" : s3
            let f = findings.one(check, subject)
            #expect(f?.status == .skip, "\(check): \(String(describing: f))")
            #expect(f?.message == "cloud check skipped: --no-cloud", "\(check)")
        }
        #expect(findings.one("podid.pods-current")?.status == .skip)
        #expect(findings.one("podid.pods-current")?.message.contains("--no-cloud") == true)
        #expect(findings.one("podid.injected")?.status == .pass)
        #expect(findings.one("podid.stable-sa-name")?.status == .pass)
        #expect(findings.one("cluster.cloud", "cluster")?.status == .pass)
        // Method inference without the cloud: pod env.
        #expect(subject(s3, in: s)?.method == .podIdentity)
    }

    @Test("--only reports only the named checks")
    func only() {
        let findings = run(Examples.podIdentitySeed(), only: ["podid.association", "cluster.cloud"])
        #expect(Set(findings.map(\.check)) == ["podid.association", "cluster.cloud"])
    }

    @Test("--skip drops the named checks")
    func skip() {
        let all = run(Examples.podIdentitySeed())
        let findings = run(Examples.podIdentitySeed(), skip: ["cluster.cloud", "crossplane.package-health"])
        #expect(!findings.contains { $0.check == "cluster.cloud" || $0.check == "crossplane.package-health" })
        #expect(findings.count == all.count - all.filter { $0.check == "cluster.cloud" || $0.check == "crossplane.package-health" }.count)
    }

    @Test("--subject by name or by kind/name; cluster findings stay", arguments: ["provider-aws-s3", "provider/provider-aws-s3"])
    func subjectFilter(_ filter: String) {
        let findings = run(Examples.podIdentitySeed(), subjects: [filter])
        #expect(Set(findings.map(\.subject)) == ["cluster", s3])
        #expect(findings.contains { $0.subject == "cluster" && $0.check == "cluster.cloud" })
    }

    @Test("--subject that matches nothing leaves only cluster findings")
    func subjectFilterNone() {
        let findings = run(Examples.podIdentitySeed(), subjects: ["provider-gcp"])
        #expect(Set(findings.map(\.subject)) == ["cluster"])
    }

    @Test("findings come in catalogue order")
    func catalogueOrder() {
        let order = Catalog.descriptions.map(\.id)
        let indices = run(Examples.podIdentitySeed()).map { order.firstIndex(of: $0.check)! }
        #expect(indices == indices.sorted())
    }

    @Test("severity: error counts like fail; skip like pass")
    func severity() {
        #expect(FindingStatus.error.severity == FindingStatus.fail.severity)
        #expect(FindingStatus.skip.severity == FindingStatus.pass.severity)
        #expect(FindingStatus.warn.severity > FindingStatus.pass.severity)
        #expect(worst([.pass, .skip]) == .skip)
        #expect(worst([.warn, .pass, .skip]) == .warn)
        #expect(worst([.fail, .error]) == .error)
    }
}
