import Foundation
import Testing
import XpidCore

/// One failing cluster state a fixable check reports, and the role `--role-arn` would give.
struct FixCase: Sendable, CustomTestStringConvertible {
    var check: String
    var name: String
    var subject: String
    var role: String
    var snapshot: @Sendable () -> Snapshot

    var testDescription: String { "\(check): \(name)" }

    /// The options of the property: every switch on, so nothing is held back for safety.
    var options: FixOptions {
        var o = FixOptions(roleArn: role, restart: true, force: true, overwrite: true)
        o.gcpServiceAccount = Examples.coreGSA
        return o
    }

    /// The checks whose findings can be `fixable: true` (the property must cover each of them).
    static let fixableChecks: Set<String> = [
        "podid.pods-current", "irsa.pods-current", "podid.stable-sa-name", "crossplane.providerconfig-source",
        "podid.irsa-shadowing", "irsa.sa-annotation", "crossplane.core-registry-identity",
        "azure.sa-annotation", "azure.pod-label", "azure.pods-current", "azure.stable-sa-name", "azure.providerconfig",
        "gke.sa-annotation",
        "flux.controller-identity", "flux.object-level-gate", "flux.object-sa", "flux.token-permission",
    ]

    /// Failing catalogue examples of fixable checks that cannot be fixed in the cluster, with why.
    static let notFixableInCluster: [String: String] = [
        "crossplane.providerconfig-source: no ProviderConfig at all":
            "nothing to patch: a ProviderConfig must be created, and its kind/group/name is the user's choice (the remediation prints a manifest)",
        "crossplane.core-registry-identity: pull secret shadows workload identity":
            "removing a pull secret is the user's call (it may be needed for other registries); the finding prints the patch",
        "crossplane.providerconfig-source: Azure provider on workload identity, ProviderConfig uses the node's managed identity":
            "the managed-identity ProviderConfig may serve other providers; a new OIDCTokenFile ProviderConfig is the user's choice",
        "azure.providerconfig: the ProviderConfig names another identity than the ServiceAccount":
            "which of the two identities is meant is the user's call (the ProviderConfig may serve other providers); the finding shows both",
        "crossplane.providerconfig-source: GCP ProviderConfig with the project number as projectID":
            "the ProviderConfig may name another project than the cluster's; the warning shows what to set",
        "flux.object-sa: imagePullSecrets on the ServiceAccount":
            "the pull secret may be what the object is meant to use; dropping it is the user's call (the finding prints the patch)",
        "podid.irsa-shadowing: pod carries both env sets":
            "the IRSA env was set on the pod by hand (no ServiceAccount or DeploymentRuntimeConfig annotation to remove); the finding is not fixable",
    ]

    static func role(for subject: String) -> String {
        if subject.hasPrefix("flux-controller/") { return Examples.fluxRole }
        if subject.hasPrefix("flux-object/") { return Examples.fluxObjectRole }
        return subject.hasPrefix("crossplane-core/") ? Examples.coreRole : Examples.providerIRSARole
    }

    /// Every failing example, from the catalogue, of every check in `fixableChecks`.
    static var catalogue: [FixCase] {
        Catalog.descriptions.filter { fixableChecks.contains($0.id) }.flatMap { d in
            d.failing.map { e in
                let subject = e.subject ?? "cluster"
                return FixCase(check: d.id, name: e.name, subject: subject, role: role(for: subject), snapshot: e.snapshot)
            }
        }
    }

    /// States the catalogue does not have but the fix must handle.
    static var extra: [FixCase] {
        [
            FixCase(check: "irsa.sa-annotation", name: "core: no annotation anywhere (pods still carry the old role env), --role-arn", subject: "crossplane-core/crossplane", role: Examples.coreRole) {
                var s = Examples.irsaSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[IRSAFacts.roleAnnotation] = nil }
                return s
            },
            FixCase(check: "irsa.sa-annotation", name: "provider: DRC and SA lost the annotation, --role-arn patches the DRC", subject: "provider/provider-aws-s3", role: Examples.providerIRSARole) {
                var s = Examples.irsaSeed()
                s.runtimeConfigs[1].serviceAccountAnnotations = [:]
                s.updateServiceAccount(namespace: Examples.namespace, name: Examples.ecrS3Revision) { $0.metadata.annotations = [:] }
                return s
            },
            FixCase(check: "irsa.sa-annotation", name: "provider on the shared default DRC, --role-arn creates its own", subject: "provider/provider-aws-s3", role: Examples.providerIRSARole) {
                FixPlannerTests.providerOnDefaultRuntimeConfig()
            },
            FixCase(check: "irsa.sa-annotation", name: "core: misplaced annotation and a Helm-managed SA, --force", subject: "crossplane-core/crossplane", role: Examples.coreRole) {
                var s = Examples.irsaSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[IRSAFacts.roleAnnotation] = nil }
                s.deployments[0].template.annotations[IRSAFacts.roleAnnotation] = Examples.coreRole
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.spec.containers[0].env = [] }
                return s
            },
            FixCase(check: "podid.irsa-shadowing", name: "stale annotation set by the DeploymentRuntimeConfig", subject: "provider/provider-aws-s3", role: Examples.providerIRSARole) {
                var s = Examples.podIdentitySeed()
                s.runtimeConfigs[1].serviceAccountAnnotations[IRSAFacts.roleAnnotation] = "arn:aws:iam::123456789012:role/old-irsa-role"
                s.updateServiceAccount(namespace: Examples.namespace, name: Examples.podIdentitySA) {
                    $0.metadata.annotations[IRSAFacts.roleAnnotation] = "arn:aws:iam::123456789012:role/old-irsa-role"
                }
                return s
            },
            FixCase(check: "crossplane.providerconfig-source", name: "legacy ProviderConfig with WebIdentity while Pod Identity is in use", subject: "provider/provider-aws-s3", role: Examples.providerIRSARole) {
                var s = Examples.podIdentitySeed()
                s.providerConfigs.append(ProviderConfig(api: .awsLegacy, metadata: ObjectMeta(name: "legacy"), source: "WebIdentity"))
                return s
            },
        ]
    }
}

@Suite("FixPlanner")
struct FixPlannerTests {
    static let engine = CheckEngine(checks: Catalog.all)

    static func providerOnDefaultRuntimeConfig() -> Snapshot {
        var s = Examples.irsaSeed()
        s.updatePackage("provider-aws-s3") { $0.runtimeConfigName = "default"; $0.runtimeConfigRefSet = false }
        s.updateServiceAccount(namespace: Examples.namespace, name: Examples.ecrS3Revision) { $0.metadata.annotations = [:] }
        return s
    }

    static func evaluate(_ s: Snapshot) -> (EvaluationContext, [Finding]) {
        let context = EvaluationContext(s)
        return (context, engine.run(context))
    }

    static func describe(_ plan: FixPlan) -> String {
        (plan.actions.map { "\($0.kind.rawValue) [\($0.check)] \($0.subject): \($0.displayCommand)" }
            + plan.held.map { "held [\($0.check)] \($0.subject): \($0.reason)" }).joined(separator: "\n")
    }

    static func failing(_ findings: [Finding], _ check: String, _ subject: String) -> [Finding] {
        findings.filter { $0.check == check && $0.subject == subject && [.fail, .warn, .error].contains($0.status) }
    }

    // MARK: idempotence

    @Test("the fixable checks are the ones the property covers")
    func fixableChecksCovered() {
        var fixable: Set<String> = []
        for d in Catalog.descriptions {
            for e in d.failing {
                let (_, findings) = Self.evaluate(e.snapshot())
                if findings.contains(where: { $0.check == d.id && $0.subject == (e.subject ?? "cluster") && $0.fixable }) { fixable.insert(d.id) }
            }
        }
        #expect(fixable == FixCase.fixableChecks, "checks with a fixable failing example: \(fixable.sorted())")
        let names = Set(FixCase.catalogue.map(\.testDescription))
        for listed in FixCase.notFixableInCluster.keys { #expect(names.contains(listed), "\(listed) is not a failing catalogue example") }
    }

    @Test("plan → apply → the check passes → plan again has nothing for it", arguments: FixCase.catalogue + FixCase.extra)
    func idempotence(_ c: FixCase) throws {
        let snapshot = c.snapshot()
        let (context, findings) = Self.evaluate(snapshot)
        let before = Self.failing(findings, c.check, c.subject)
        try #require(!before.isEmpty, "\(c.check) does not fail for \(c.subject): \(findings.filter { $0.check == c.check }.map { "\($0.subject) \($0.status.rawValue): \($0.message)" })")
        let plan = FixPlanner.plan(context, findings: findings, options: c.options)
        let mine = plan.actions.filter { $0.kind != .cloud && $0.check == c.check && $0.subject == c.subject }

        if let reason = FixCase.notFixableInCluster[c.testDescription] {
            #expect(before.allSatisfy { !$0.fixable }, "listed as not fixable in the cluster (\(reason)) but the finding says fixable")
            #expect(mine.isEmpty, "listed as not fixable in the cluster (\(reason)) but planned:\n\(Self.describe(plan))")
            #expect(!plan.held.contains { $0.check == c.check && $0.subject == c.subject })
            return
        }

        #expect(before.contains { $0.fixable }, "\(before.map(\.message))")
        #expect(!mine.isEmpty, "no in-cluster action for \(c.check) \(c.subject):\n\(Self.describe(plan))")
        #expect(plan.held.isEmpty, "with every switch on nothing is held:\n\(Self.describe(plan))")
        #expect(plan.actions.map(\.id) == plan.actions.indices.map { "a\($0 + 1)" })
        for a in plan.actions where a.kind != .cloud {
            #expect(a.command.argv.first == "kubectl", "\(a.command.argv)")
        }

        let fixed = plan.applied(to: snapshot)
        let (afterContext, afterFindings) = Self.evaluate(fixed)
        let after = afterFindings.filter { $0.check == c.check && $0.subject == c.subject }
        #expect(Self.failing(afterFindings, c.check, c.subject).isEmpty,
            "after the plan, \(c.check) \(c.subject): \(after.map { "\($0.status.rawValue): \($0.message)" })\nplan:\n\(Self.describe(plan))")

        let again = FixPlanner.plan(afterContext, findings: afterFindings, options: c.options)
        let inCluster = again.actions.filter { $0.kind != .cloud }
        #expect(inCluster.isEmpty, "second plan is not empty:\n\(Self.describe(again))")
        #expect(!again.held.contains { $0.subject == c.subject && ($0.check == c.check || $0.check == "restart") }, "\(Self.describe(again))")
    }

    // MARK: safety

    /// An example snapshot from the catalogue, by check and example name.
    static func example(_ check: String, _ name: String, passing: Bool = false) throws -> Snapshot {
        let d = try #require(Catalog.description(check))
        let e = try #require((passing ? d.passing : d.failing).first { $0.name == name }, "no example \(name) of \(check)")
        return e.snapshot()
    }

    static func plan(_ s: Snapshot, _ options: FixOptions) -> FixPlan {
        let (context, findings) = evaluate(s)
        return FixPlanner.plan(context, findings: findings, options: options)
    }

    static let core = "crossplane-core/crossplane"
    static let helmCommand =
        #"helm upgrade crossplane crossplane-stable/crossplane --namespace crossplane-system --reuse-values --set-string 'serviceAccount.customAnnotations.eks\.amazonaws\.com/role-arn=arn:aws:iam::123456789012:role/CrossplaneECRRole'"#

    @Test("Helm-managed core ServiceAccount without --force: no change, the Helm command instead")
    func helmManagedHeld() throws {
        let s = try Self.example("crossplane.core-registry-identity", "ECR package, core without identity")
        let plan = Self.plan(s, FixOptions(roleArn: Examples.coreRole, restart: true))
        #expect(!plan.actions.contains { $0.kind == .change && $0.subject == Self.core }, "\(Self.describe(plan))")
        let held = try #require(plan.held.first { $0.check == "crossplane.core-registry-identity" && $0.subject == Self.core }, "\(Self.describe(plan))")
        #expect(held.managedBy == .helm(release: "crossplane", namespace: "crossplane-system"))
        #expect(held.instead.map(\.line).contains(Self.helmCommand), "\(held.instead)")
        #expect(held.reason.contains("Helm release crossplane"))
        // Nothing changed, so nothing is predicted to change.
        #expect(!plan.actions.contains { $0.kind == .restart && $0.subject == Self.core }, "\(Self.describe(plan))")
    }

    @Test("Helm-managed core ServiceAccount with --force: annotate, marked as managed by Helm")
    func helmManagedForced() throws {
        let s = try Self.example("crossplane.core-registry-identity", "ECR package, core without identity")
        let plan = Self.plan(s, FixOptions(roleArn: Examples.coreRole, force: true))
        let action = try #require(plan.actions.first { $0.kind == .change && $0.subject == Self.core }, "\(Self.describe(plan))")
        #expect(action.command.argv == ["kubectl", "annotate", "serviceaccount", "crossplane", "-n", "crossplane-system", "eks.amazonaws.com/role-arn=\(Examples.coreRole)", "--field-manager=kubectl-xpid"])
        #expect(action.managedBy == .helm(release: "crossplane", namespace: "crossplane-system"))
        #expect(action.notes.contains { $0.contains("Helm release crossplane will revert this") }, "\(action.notes)")
        #expect(!plan.held.contains { $0.check == "crossplane.core-registry-identity" })
    }

    @Test("Flux-managed core ServiceAccount without --force is held, naming the Kustomization")
    func fluxManagedHeld() throws {
        var s = try Self.example("crossplane.core-registry-identity", "ECR package, core without identity")
        let flux = ["kustomize.toolkit.fluxcd.io/name": "crossplane", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"]
        s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.labels = flux; $0.metadata.annotations = [:] }
        s.deployments[0].metadata.labels = ["app": "crossplane"].merging(flux) { a, _ in a }
        s.deployments[0].metadata.annotations = [:]
        let plan = Self.plan(s, FixOptions(roleArn: Examples.coreRole, restart: true))
        #expect(!plan.actions.contains { $0.kind == .change && $0.subject == Self.core }, "\(Self.describe(plan))")
        let held = try #require(plan.held.first { $0.subject == Self.core && $0.check == "crossplane.core-registry-identity" })
        #expect(held.managedBy == .flux(kustomization: "crossplane", namespace: "flux-system"))
        #expect(held.reason.contains("Flux Kustomization flux-system/crossplane"), "\(held.reason)")
        let forced = Self.plan(s, FixOptions(roleArn: Examples.coreRole, force: true))
        #expect(forced.actions.first { $0.kind == .change && $0.subject == Self.core }?.managedBy == .flux(kustomization: "crossplane", namespace: "flux-system"))
    }

    /// The IRSA seed's core ServiceAccount with a malformed role and no Helm ownership.
    static func unmanagedMalformedCore() throws -> Snapshot {
        var s = try example("irsa.sa-annotation", "malformed role ARN")
        s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { sa in
            sa.metadata.labels = [:]
            sa.metadata.annotations = [IRSAFacts.roleAnnotation: "CrossplaneECRRole"]
        }
        s.deployments[0].metadata.labels = ["app": "crossplane"]
        s.deployments[0].metadata.annotations = [:]
        return s
    }

    @Test("a different existing annotation: held without --overwrite, replaced with --overwrite")
    func overwrite() throws {
        let s = try Self.unmanagedMalformedCore()
        let held = Self.plan(s, FixOptions(roleArn: Examples.coreRole, restart: true))
        #expect(!held.actions.contains { $0.kind == .change && $0.subject == Self.core }, "\(Self.describe(held))")
        let h = try #require(held.held.first { $0.check == "irsa.sa-annotation" && $0.subject == Self.core })
        #expect(h.reason.contains("CrossplaneECRRole") && h.reason.contains("--overwrite"), "\(h.reason)")
        #expect(h.instead.map(\.line) == ["kubectl xpid fix --overwrite --role-arn \(Examples.coreRole)"])

        let plan = Self.plan(s, FixOptions(roleArn: Examples.coreRole, overwrite: true))
        let action = try #require(plan.actions.first { $0.kind == .change && $0.subject == Self.core })
        #expect(action.command.argv == ["kubectl", "annotate", "serviceaccount", "crossplane", "-n", "crossplane-system", "eks.amazonaws.com/role-arn=\(Examples.coreRole)", "--overwrite", "--field-manager=kubectl-xpid"])
        #expect(action.managedBy == nil)
        #expect(plan.held.map(\.check) == ["restart"], "only the restart (no --restart) is held: \(Self.describe(plan))")
    }

    @Test("the same annotation already there: nothing to overwrite, no --overwrite needed")
    func sameValueNoOverwrite() throws {
        // Misplaced on the Deployment and already on the SA with the same value: the SA annotation is what counts.
        var s = Examples.irsaSeed()
        s.deployments[0].metadata.annotations[IRSAFacts.roleAnnotation] = Examples.coreRole
        let plan = Self.plan(s, FixOptions(roleArn: Examples.coreRole))
        #expect(plan.actions.filter { $0.kind != .cloud }.isEmpty, "\(Self.describe(plan))")
        #expect(!plan.held.contains { $0.reason.contains("--overwrite") })
    }

    @Test("without --role-arn and nothing to discover it from: held, asking for --role-arn")
    func roleUnknown() throws {
        let s = try Self.example("crossplane.core-registry-identity", "ECR package, core without identity")
        let plan = Self.plan(s, FixOptions(force: true))
        #expect(!plan.actions.contains { $0.kind == .change && $0.subject == Self.core })
        let h = try #require(plan.held.first { $0.check == "crossplane.core-registry-identity" })
        #expect(h.instead.map(\.line).contains { $0.hasPrefix("kubectl xpid fix --role-arn ") })
    }

    @Test("the misplaced annotation's role is used when --role-arn is not given")
    func roleFromMisplacedAnnotation() throws {
        let s = try Self.example("irsa.sa-annotation", "annotation on the Deployment instead of the SA")
        let plan = Self.plan(s, FixOptions(force: true))
        let action = try #require(plan.actions.first { $0.kind == .change && $0.check == "irsa.sa-annotation" })
        #expect(action.command.argv.contains("eks.amazonaws.com/role-arn=\(Examples.coreRole)"))
    }

    @Test("no restart action without restart: a held fix says how", arguments: [
        ("podid.pods-current", "association created after the pods", "provider/provider-aws-s3", "kubectl rollout restart deployment/provider-aws-s3-92206523fff4 -n crossplane-system --field-manager=kubectl-xpid"),
        ("irsa.pods-current", "pod created before the annotation", "crossplane-core/crossplane", "kubectl rollout restart deployment/crossplane -n crossplane-system --field-manager=kubectl-xpid"),
    ])
    func noRestartWithoutFlag(_ check: String, _ name: String, _ subject: String, _ command: String) throws {
        let s = try Self.example(check, name)
        let plan = Self.plan(s, FixOptions(roleArn: Examples.coreRole, force: true, overwrite: true))
        #expect(!plan.actions.contains { $0.kind == .restart }, "\(Self.describe(plan))")
        let h = try #require(plan.held.first { $0.check == "restart" && $0.subject == subject }, "\(Self.describe(plan))")
        #expect(h.instead.map(\.line).contains("kubectl xpid fix --restart"))
        #expect(h.instead.map(\.line).contains(command), "\(h.instead)")

        let restarting = Self.plan(s, FixOptions(roleArn: Examples.coreRole, restart: true, force: true, overwrite: true))
        let restart = try #require(restarting.actions.first { $0.kind == .restart })
        #expect(restart.check == check)
        #expect(restart.subject == subject)
        #expect(restarting.held.isEmpty)
    }

    @Test("a change without --restart still holds the restart its pods need")
    func changeHoldsRestart() throws {
        let s = try Self.example("podid.irsa-shadowing", "stale role-arn annotation")
        let plan = Self.plan(s, FixOptions())
        #expect(plan.actions.map(\.kind) == [.change])
        #expect(plan.held.map(\.check) == ["restart"])
    }

    @Test("the shared default DeploymentRuntimeConfig is never patched: a dedicated <provider>-runtime is created", arguments: [false, true])
    func defaultRuntimeConfigUntouched(_ pinName: Bool) throws {
        let s = pinName ? try Self.example("podid.stable-sa-name", "revision-hashed SA, no DRC") : Self.providerOnDefaultRuntimeConfig()
        #expect(subject("provider/provider-aws-s3", in: s)?.runtimeConfig?.metadata.name == "default")
        let plan = Self.plan(s, FixOptions(roleArn: Examples.providerIRSARole, restart: true, force: true, overwrite: true))
        for a in plan.actions {
            #expect(!(a.command.argv.contains("deploymentruntimeconfigs.pkg.crossplane.io") && a.command.argv.contains("default")), "patches the default DRC: \(a.command.argv)")
            #expect(a.command.input?["metadata"]["name"] != "default")
        }
        let create = try #require(plan.actions.first { $0.command.input != nil }, "\(Self.describe(plan))")
        #expect(create.kind == .change)
        #expect(create.command.argv == ["kubectl", "apply", "--server-side", "--field-manager=kubectl-xpid", "-f", "-"])
        #expect(create.command.input?["kind"] == "DeploymentRuntimeConfig")
        #expect(create.command.input?["metadata"]["name"] == "provider-aws-s3-runtime")
        if pinName {
            #expect(create.command.input?["spec"]["serviceAccountTemplate"]["metadata"]["name"] == "provider-aws-s3")
        } else {
            #expect(create.command.input?["spec"]["serviceAccountTemplate"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == .string(Examples.providerIRSARole))
        }
        let point = try #require(plan.actions.first { $0.command.argv.starts(with: ["kubectl", "patch", "providers.pkg.crossplane.io"]) })
        #expect(point.command.argv == [
            "kubectl", "patch", "providers.pkg.crossplane.io", "provider-aws-s3", "--type", "merge", "-p",
            #"{"spec":{"runtimeConfigRef":{"apiVersion":"pkg.crossplane.io/v1beta1","kind":"DeploymentRuntimeConfig","name":"provider-aws-s3-runtime"}}}"#,
            "--field-manager=kubectl-xpid",
        ])
        #expect(point.notes.contains { $0.contains("new package revision") })
        #expect(plan.actions.firstIndex { $0.command.input != nil }! < plan.actions.firstIndex { $0.command.argv.contains("providers.pkg.crossplane.io") }!, "the DRC exists before the Provider points at it")
    }

    @Test("an existing <provider>-runtime DeploymentRuntimeConfig is not created again")
    func existingDedicatedRuntimeConfig() throws {
        var s = try Self.example("podid.stable-sa-name", "revision-hashed SA, no DRC")
        s.runtimeConfigs.append(DeploymentRuntimeConfig(metadata: ObjectMeta(name: "provider-aws-s3-runtime"), serviceAccountName: "provider-aws-s3"))
        let plan = Self.plan(s, FixOptions(restart: true))
        #expect(!plan.actions.contains { $0.command.input != nil }, "\(Self.describe(plan))")
        #expect(plan.actions.contains { $0.command.argv.contains("providers.pkg.crossplane.io") })
    }

    @Test("custom resources are patched with --type merge, never strategic merge")
    func customResourcesMergePatch() throws {
        var cases: [FixAction] = []
        cases += Self.plan(try Self.example("crossplane.providerconfig-source", "source IRSA while the association exists"), FixOptions()).actions
        cases += Self.plan(try Self.example("podid.stable-sa-name", "revision-hashed SA, no DRC"), FixOptions()).actions
        var s = Examples.irsaSeed()
        s.runtimeConfigs[1].serviceAccountAnnotations = [:]
        s.updateServiceAccount(namespace: Examples.namespace, name: Examples.ecrS3Revision) { $0.metadata.annotations = [:] }
        cases += Self.plan(s, FixOptions(roleArn: Examples.providerIRSARole)).actions
        let patches = cases.filter { $0.command.argv.count > 1 && $0.command.argv[1] == "patch" }
        #expect(patches.count == 3, "\(patches.map(\.command.argv))")
        for p in patches {
            let i = try #require(p.command.argv.firstIndex(of: "--type"), "\(p.command.argv)")
            #expect(["merge", "json"].contains(p.command.argv[i + 1]), "\(p.command.argv)")
            #expect(p.command.argv.contains("-p"))
            let body = try #require(p.command.argv.firstIndex(of: "-p").map { p.command.argv[$0 + 1] })
            #expect(p.command.argv.last == "--field-manager=kubectl-xpid")
            #expect((try? JSONValue.parse(body)) != nil, "patch body is not JSON: \(body)")
        }
        let pc = try #require(patches.first { $0.check == "crossplane.providerconfig-source" })
        #expect(pc.command.argv == ["kubectl", "patch", "providerconfigs.aws.m.upbound.io", "default", "-n", "default", "--type", "merge", "-p", #"{"spec":{"credentials":{"source":"PodIdentity"}}}"#, "--field-manager=kubectl-xpid"])
        let drc = try #require(patches.first { $0.command.argv.contains("deploymentruntimeconfigs.pkg.crossplane.io") })
        #expect(drc.command.argv == [
            "kubectl", "patch", "deploymentruntimeconfigs.pkg.crossplane.io", "irsa-runtimeconfig", "--type", "merge", "-p",
            #"{"spec":{"serviceAccountTemplate":{"metadata":{"annotations":{"eks.amazonaws.com/role-arn":"arn:aws:iam::123456789012:role/crossplane-provider-aws"}}}}}"#,
            "--field-manager=kubectl-xpid",
        ])
    }

    @Test("cloud actions for failing association and trust findings: printed as aws argv, never applied", arguments: [
        ("podid.association", "association for another SA name", "aws eks create-pod-identity-association"),
        ("podid.trust-policy", "trust without sts:TagSession", "aws iam update-assume-role-policy"),
        ("podid.trust-policy", "role deleted", "aws iam create-role"),
        ("irsa.trust-policy", "sub with the wrong namespace", "aws iam update-assume-role-policy"),
    ])
    func cloudActions(_ check: String, _ name: String, _ prefix: String) throws {
        let s = try Self.example(check, name)
        let plan = Self.plan(s, FixOptions(restart: true, force: true, overwrite: true))
        let cloud = plan.actions.filter { $0.kind == .cloud && $0.check == check }
        try #require(!cloud.isEmpty, "\(Self.describe(plan))")
        for a in cloud {
            #expect(a.command.argv.first == "aws", "\(a.command.argv)")
            #expect(a.command.argv.joined(separator: " ").hasPrefix(prefix), "\(a.command.argv)")
            #expect(!a.command.argv.contains { $0.hasPrefix("describe-") || $0.hasPrefix("get-") })
        }
        if check == "podid.trust-policy" || check == "irsa.trust-policy" {
            let doc = try #require(cloud[0].command.argv.firstIndex { $0 == "--policy-document" || $0 == "--assume-role-policy-document" })
            #expect((try? JSONValue.parse(cloud[0].command.argv[doc + 1])) != nil, "policy document argv is not one JSON word: \(cloud[0].command.argv)")
        }
        // Cloud actions are after every in-cluster action and never part of the predicted cluster.
        if let firstCloud = plan.actions.firstIndex(where: { $0.kind == .cloud }) {
            #expect(plan.actions[firstCloud...].allSatisfy { $0.kind == .cloud })
        }
    }

    // MARK: other objects managed by Helm or Flux

    static let flux = ["kustomize.toolkit.fluxcd.io/name": "platform", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"]

    @Test("a Flux-managed DeploymentRuntimeConfig is not patched without --force")
    func fluxManagedRuntimeConfig() throws {
        var s = Examples.irsaSeed()
        s.runtimeConfigs[1].serviceAccountAnnotations = [:]
        s.runtimeConfigs[1].metadata.labels = Self.flux
        s.updateServiceAccount(namespace: Examples.namespace, name: Examples.ecrS3Revision) { $0.metadata.annotations = [:] }
        let plan = Self.plan(s, FixOptions(roleArn: Examples.providerIRSARole, restart: true))
        #expect(!plan.actions.contains { $0.kind == .change && $0.command.argv.contains("deploymentruntimeconfigs.pkg.crossplane.io") }, "\(Self.describe(plan))")
        #expect(plan.held.contains { $0.check == "irsa.sa-annotation" && $0.managedBy == .flux(kustomization: "platform", namespace: "flux-system") }, "\(Self.describe(plan))")
        let forced = Self.plan(s, FixOptions(roleArn: Examples.providerIRSARole, restart: true, force: true))
        #expect(forced.actions.first { $0.command.argv.contains("deploymentruntimeconfigs.pkg.crossplane.io") }?.managedBy == .flux(kustomization: "platform", namespace: "flux-system"))
    }

    @Test("a Flux-managed ProviderConfig is not patched without --force")
    func fluxManagedProviderConfig() throws {
        var s = try Self.example("crossplane.providerconfig-source", "source IRSA while the association exists")
        s.providerConfigs[0].metadata.labels = Self.flux
        let plan = Self.plan(s, FixOptions())
        #expect(!plan.actions.contains { $0.kind == .change && $0.check == "crossplane.providerconfig-source" }, "\(Self.describe(plan))")
        #expect(plan.held.contains { $0.check == "crossplane.providerconfig-source" && $0.managedBy == .flux(kustomization: "platform", namespace: "flux-system") }, "\(Self.describe(plan))")
        let forced = Self.plan(s, FixOptions(force: true))
        #expect(forced.actions.first { $0.check == "crossplane.providerconfig-source" }?.managedBy == .flux(kustomization: "platform", namespace: "flux-system"))
    }

    @Test(
        "a Helm-managed Provider is not re-pointed at a new runtime config without --force")
    func helmManagedProvider() throws {
        var s = try Self.example("podid.stable-sa-name", "revision-hashed SA, no DRC")
        s.updatePackage("provider-aws-s3") { p in
            p.metadata.labels = ["app.kubernetes.io/managed-by": "Helm"]
            p.metadata.annotations = ["meta.helm.sh/release-name": "platform-providers", "meta.helm.sh/release-namespace": "crossplane-system"]
        }
        let plan = Self.plan(s, FixOptions(restart: true))
        #expect(!plan.actions.contains { $0.kind == .change && $0.command.argv.contains("providers.pkg.crossplane.io") }, "\(Self.describe(plan))")
        #expect(plan.held.contains { $0.check == "podid.stable-sa-name" && $0.managedBy == .helm(release: "platform-providers", namespace: "crossplane-system") }, "\(Self.describe(plan))")
        let forced = Self.plan(s, FixOptions(restart: true, force: true))
        #expect(forced.actions.first { $0.command.argv.contains("providers.pkg.crossplane.io") }?.managedBy == .helm(release: "platform-providers", namespace: "crossplane-system"))
    }

    @Test("a Helm-managed pod-identity ServiceAccount keeps its stale annotation without --force")
    func helmManagedStaleAnnotation() throws {
        var s = try Self.example("podid.irsa-shadowing", "stale role-arn annotation")
        s.updateServiceAccount(namespace: Examples.namespace, name: Examples.podIdentitySA) { $0.metadata.labels = ["app.kubernetes.io/managed-by": "Helm"] }
        let plan = Self.plan(s, FixOptions(restart: true))
        #expect(!plan.actions.contains { $0.kind == .change }, "\(Self.describe(plan))")
        let h = try #require(plan.held.first { $0.check == "podid.irsa-shadowing" })
        #expect(h.managedBy == .helm(release: nil, namespace: nil))
        let forced = Self.plan(s, FixOptions(restart: true, force: true))
        #expect(forced.actions.first { $0.kind == .change }?.command.argv == ["kubectl", "annotate", "serviceaccount", Examples.podIdentitySA, "-n", "crossplane-system", "eks.amazonaws.com/role-arn-", "--field-manager=kubectl-xpid"])
    }

    @Test(
        "a change held for Helm/Flux plans no restart on its account")
    func heldChangeNoRestart() throws {
        var s = Examples.irsaSeed()
        s.runtimeConfigs[1].serviceAccountAnnotations = [:]
        s.runtimeConfigs[1].metadata.labels = Self.flux
        s.updateServiceAccount(namespace: Examples.namespace, name: Examples.ecrS3Revision) { $0.metadata.annotations = [:] }
        let plan = Self.plan(s, FixOptions(roleArn: Examples.providerIRSARole, restart: true))
        #expect(plan.actions.filter { $0.kind != .cloud }.isEmpty, "\(Self.describe(plan))")
        #expect(!plan.held.contains { $0.check == "restart" })
    }
}
