import Foundation
import Testing
import XpidCore
import XpidGather
import XpidTestSupport

/// Plans from the catalogue's example clusters, as `kubectl xpid fix` would build them.
enum FixPlans {
    static let coreRole = Examples.coreRole
    static let providerRole = Examples.providerIRSARole

    static func plan(_ s: Snapshot, _ options: FixOptions) -> FixPlan {
        let context = EvaluationContext(s)
        return FixPlanner.plan(context, findings: CheckEngine().run(context), options: options)
    }

    /// A failing catalogue example; a renamed example is recorded as an issue (and a healthy cluster returned).
    static func example(_ check: String, _ name: String) -> Snapshot {
        guard let e = Catalog.description(check)?.failing.first(where: { $0.name == name }) else {
            Issue.record("no failing example \"\(name)\" of \(check)")
            return Examples.podIdentitySeed()
        }
        return e.snapshot()
    }

    /// `annotate serviceaccount crossplane` (the Helm-managed core, forced), optionally with its restart.
    static func annotateCore(restart: Bool = false) -> FixPlan {
        plan(example("crossplane.core-registry-identity", "ECR package, core without identity"), FixOptions(roleArn: coreRole, restart: restart, force: true))
    }

    /// A merge patch of the provider's DeploymentRuntimeConfig `irsa-runtimeconfig`.
    static func patchRuntimeConfig() -> FixPlan {
        var s = Examples.irsaSeed()
        s.runtimeConfigs[1].serviceAccountAnnotations = [:]
        s.updateServiceAccount(namespace: Examples.namespace, name: Examples.ecrS3Revision) { $0.metadata.annotations = [:] }
        return plan(s, FixOptions(roleArn: providerRole))
    }

    /// A merge patch of the namespaced ProviderConfig `default/default`.
    static func patchProviderConfig() -> FixPlan {
        plan(example("crossplane.providerconfig-source", "source IRSA while the association exists"), FixOptions())
    }

    /// `apply` of a new DeploymentRuntimeConfig, then a merge patch of the Provider's runtimeConfigRef.
    static func pinServiceAccount() -> FixPlan {
        plan(example("podid.stable-sa-name", "revision-hashed SA, no DRC"), FixOptions(restart: true))
    }

    /// `rollout restart` of the provider Deployment.
    static func restartProvider() -> FixPlan {
        plan(example("podid.pods-current", "association created after the pods"), FixOptions(restart: true))
    }

    /// Three in-cluster actions: a DRC json patch, an annotation removal, a restart.
    static func threeActions() -> FixPlan {
        var s = Examples.podIdentitySeed()
        s.runtimeConfigs[1].serviceAccountAnnotations[IRSAFacts.roleAnnotation] = "arn:aws:iam::123456789012:role/old-irsa-role"
        s.updateServiceAccount(namespace: Examples.namespace, name: Examples.podIdentitySA) {
            $0.metadata.annotations[IRSAFacts.roleAnnotation] = "arn:aws:iam::123456789012:role/old-irsa-role"
        }
        return plan(s, FixOptions(restart: true))
    }
}

/// Collects the progress callback's reports (called from the applier's task).
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(String, ActionOutcome)] = []
    func add(_ a: FixAction, _ o: ActionOutcome) { lock.withLock { entries.append((a.id, o)) } }
    var ids: [String] { lock.withLock { entries.map(\.0) } }
}

@Suite("FixApplier contract (fake runner)")
struct FixApplierTests {
    static let flags: KubectlFlags = {
        var f = KubectlFlags()
        f.kubeconfig = "/home/alice/.kube/config"
        f.context = "prod"
        return f
    }()
    /// `kubectl` and the passthrough flags, as every call starts.
    static let k = ["kubectl", "--kubeconfig", "/home/alice/.kube/config", "--context", "prod"]

    static func applier(_ runner: any CommandRunner, dryRun: Bool = false, executable: String = "kubectl") -> FixApplier {
        FixApplier(kubectl: Kubectl(executable: executable, flags: flags, runner: runner), dryRun: dryRun)
    }

    static func outcomes(_ results: [(FixAction, ActionOutcome)]) -> [ActionOutcome] { results.map(\.1) }

    static func isFailed(_ o: ActionOutcome) -> Bool { if case .failed = o { return true } else { return false } }

    static func message(_ o: ActionOutcome) -> String {
        switch o {
        case .applied(let m), .failed(let m), .interrupted(let m): return m
        case .notRun: return ""
        }
    }

    // MARK: exact argv

    @Test("annotate: kubectl <flags> annotate serviceaccount crossplane -n crossplane-system eks.amazonaws.com/role-arn=ARN")
    func annotate() async throws {
        let plan = FixPlans.annotateCore()
        try #require(plan.actions.map(\.kind) == [.change])
        let argv = Self.k + ["annotate", "serviceaccount", "crossplane", "-n", "crossplane-system", "eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/CrossplaneECRRole", "--field-manager=kubectl-xpid"]
        let runner = FakeCommandRunner()
        runner.stub(argv, stdout: "serviceaccount/crossplane annotated\n")
        let results = await Self.applier(runner).apply(plan)
        #expect(runner.calls == [argv])
        #expect(Self.outcomes(results) == [.applied("serviceaccount/crossplane annotated")])
    }

    @Test("the kubectl that runs is --kubectl's, not argv[0] of the plan")
    func executable() async throws {
        let plan = FixPlans.annotateCore()
        let runner = FakeCommandRunner()
        let argv = ["/opt/bin/kubectl"] + Self.k.dropFirst() + ["annotate", "serviceaccount", "crossplane", "-n", "crossplane-system", "eks.amazonaws.com/role-arn=\(FixPlans.coreRole)", "--field-manager=kubectl-xpid"]
        runner.stub(argv, stdout: "serviceaccount/crossplane annotated\n")
        let results = await Self.applier(runner, executable: "/opt/bin/kubectl").apply(plan)
        #expect(runner.calls == [argv])
        #expect(runner.unexpected.isEmpty)
        #expect(Self.outcomes(results) == [.applied("serviceaccount/crossplane annotated")])
    }

    @Test("DeploymentRuntimeConfig: merge patch of serviceAccountTemplate annotations")
    func runtimeConfigPatch() async throws {
        let plan = FixPlans.patchRuntimeConfig()
        try #require(plan.actions.filter { $0.kind != .cloud }.map(\.kind) == [.change], "\(plan.actions.map(\.command.argv))")
        let argv = Self.k + [
            "patch", "deploymentruntimeconfigs.pkg.crossplane.io", "irsa-runtimeconfig", "--type", "merge", "-p",
            #"{"spec":{"serviceAccountTemplate":{"metadata":{"annotations":{"eks.amazonaws.com/role-arn":"arn:aws:iam::123456789012:role/crossplane-provider-aws"}}}}}"#,
            "--field-manager=kubectl-xpid",
        ]
        let runner = FakeCommandRunner()
        runner.stub(argv, stdout: "deploymentruntimeconfig.pkg.crossplane.io/irsa-runtimeconfig patched\n")
        let results = await Self.applier(runner).apply(plan)
        #expect(runner.calls == [argv])
        #expect(Self.outcomes(results) == [.applied("deploymentruntimeconfig.pkg.crossplane.io/irsa-runtimeconfig patched")])
    }

    @Test("ProviderConfig: merge patch of credentials.source, with its namespace")
    func providerConfigPatch() async throws {
        let plan = FixPlans.patchProviderConfig()
        let argv = Self.k + ["patch", "providerconfigs.aws.m.upbound.io", "default", "-n", "default", "--type", "merge", "-p", #"{"spec":{"credentials":{"source":"PodIdentity"}}}"#, "--field-manager=kubectl-xpid"]
        let runner = FakeCommandRunner()
        runner.stub(argv, stdout: "providerconfig.aws.m.upbound.io/default patched\n")
        let results = await Self.applier(runner).apply(plan)
        #expect(runner.calls == [argv])
        #expect(Self.outcomes(results) == [.applied("providerconfig.aws.m.upbound.io/default patched")])
        #expect(!runner.calls[0].contains("strategic"))
    }

    @Test("new DeploymentRuntimeConfig: apply --server-side from a temporary file, then the Provider's runtimeConfigRef merge patch")
    func applyManifestThenPatchProvider() async throws {
        let plan = FixPlans.pinServiceAccount()
        let changes = plan.actions.filter { $0.kind != .cloud }
        try #require(changes.count == 2, "\(plan.actions.map(\.command.argv))")
        let apply = Self.k + ["apply", "--server-side", "--field-manager=kubectl-xpid", "-f", "-"]
        let patch = Self.k + [
            "patch", "providers.pkg.crossplane.io", "provider-aws-s3", "--type", "merge", "-p",
            #"{"spec":{"runtimeConfigRef":{"apiVersion":"pkg.crossplane.io/v1beta1","kind":"DeploymentRuntimeConfig","name":"provider-aws-s3-runtime"}}}"#,
            "--field-manager=kubectl-xpid",
        ]
        let runner = ScriptedRunner()
        runner.stub(apply, stdout: "deploymentruntimeconfig.pkg.crossplane.io/provider-aws-s3-runtime serverside-applied\n")
        runner.stub(patch, stdout: "provider.pkg.crossplane.io/provider-aws-s3 patched\n")
        let results = await Self.applier(runner).apply(plan)
        #expect(runner.calls == [apply, patch])
        #expect(runner.unexpected.isEmpty)
        #expect(Self.outcomes(results) == [
            .applied("deploymentruntimeconfig.pkg.crossplane.io/provider-aws-s3-runtime serverside-applied"),
            .applied("provider.pkg.crossplane.io/provider-aws-s3 patched"),
        ])
        // stdin held exactly the planned manifest (no temporary file).
        try #require(runner.manifests.count == 1)
        let written = try JSONValue.parse(runner.manifests[0])
        #expect(written == changes[0].command.input)
        #expect(written["metadata"]["name"] == "provider-aws-s3-runtime")
        #expect(written["spec"]["serviceAccountTemplate"]["metadata"]["name"] == "provider-aws-s3")
    }

    @Test("restart: rollout restart, then a bounded rollout status")
    func restart() async throws {
        let plan = FixPlans.restartProvider()
        try #require(plan.actions.map(\.kind) == [.restart])
        let restart = Self.k + ["rollout", "restart", "deployment/provider-aws-s3-92206523fff4", "-n", "crossplane-system", "--field-manager=kubectl-xpid"]
        let status = Self.k + ["rollout", "status", "deployment/provider-aws-s3-92206523fff4", "-n", "crossplane-system", "--timeout=120s"]
        let runner = FakeCommandRunner()
        runner.stub(restart, stdout: "deployment.apps/provider-aws-s3-92206523fff4 restarted\n")
        runner.stub(status, stdout: "Waiting for deployment \"provider-aws-s3-92206523fff4\" rollout to finish: 1 old replicas are pending termination...\ndeployment \"provider-aws-s3-92206523fff4\" successfully rolled out\n")
        let results = await Self.applier(runner).apply(plan)
        #expect(runner.calls == [restart, status])
        #expect(Self.outcomes(results) == [.applied("deployment.apps/provider-aws-s3-92206523fff4 restarted; deployment \"provider-aws-s3-92206523fff4\" successfully rolled out")])
    }

    @Test("rollout status timing out: a failure that says the rollout did not complete", arguments: [false, true])
    func rolloutTimeout(_ killed: Bool) async throws {
        let plan = FixPlans.restartProvider()
        let restart = Self.k + ["rollout", "restart", "deployment/provider-aws-s3-92206523fff4", "-n", "crossplane-system", "--field-manager=kubectl-xpid"]
        let status = Self.k + ["rollout", "status", "deployment/provider-aws-s3-92206523fff4", "-n", "crossplane-system", "--timeout=120s"]
        let runner = FakeCommandRunner()
        runner.stub(restart, stdout: "deployment.apps/provider-aws-s3-92206523fff4 restarted\n")
        if killed {
            runner.stub(status, termination: .timedOut(seconds: 60))
        } else {
            runner.stub(status, stdout: "Waiting for deployment \"provider-aws-s3-92206523fff4\" rollout to finish: 0 of 1 updated replicas are available...\n", stderr: "error: timed out waiting for the condition\n", exit: 1)
        }
        let results = await Self.applier(runner).apply(plan)
        #expect(runner.calls == [restart, status])
        let outcome = try #require(results.first?.1)
        #expect(Self.isFailed(outcome))
        #expect(Self.message(outcome).contains("the rollout did not complete within 120s"), "\(outcome)")
        if !killed { #expect(Self.message(outcome).contains("timed out waiting for the condition"), "\(outcome)") }
    }

    // MARK: dry run

    @Test("--dry-run: --dry-run=server on every change, a restart sent as its dry-run patch, no rollout status")
    func dryRun() async throws {
        let plan = FixPlans.annotateCore(restart: true)
        try #require(plan.actions.map(\.kind) == [.change, .restart], "\(plan.actions.map(\.command.argv))")
        let annotate = Self.k + ["annotate", "serviceaccount", "crossplane", "-n", "crossplane-system", "eks.amazonaws.com/role-arn=\(FixPlans.coreRole)", "--field-manager=kubectl-xpid", "--dry-run=server"]
        let runner = ScriptedRunner()
        runner.stub(annotate, stdout: "serviceaccount/crossplane annotated (server dry run)\n")
        runner.stubPrefix(Self.k + ["patch", "deployment", "crossplane", "-n", "crossplane-system"], stdout: "deployment.apps/crossplane patched (server dry run)\n")
        runner.stubPrefix(Self.k + ["rollout", "restart", "deployment/crossplane", "-n", "crossplane-system"], stdout: "deployment.apps/crossplane restarted (server dry run)\n")
        let results = await Self.applier(runner, dryRun: true).apply(plan)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(results.allSatisfy { !Self.isFailed($0.1) && $0.1 != .notRun }, "\(results.map(\.1))")
        let calls = runner.calls
        try #require(calls.count == 2, "\(calls)")
        #expect(calls[0] == annotate)
        for call in calls { #expect(call.last == "--dry-run=server", "\(call)") }
        #expect(!calls.contains { $0.contains("status") }, "no rollout status in a dry run")
        // The restart is either `rollout restart … --dry-run=server` or the patch it would send.
        let restart = calls[1]
        if restart.contains("patch") {
            try #require(restart.count == Self.k.count + 11, "\(restart)")
            #expect(Array(restart[..<(Self.k.count + 8)]) == Self.k + ["patch", "deployment", "crossplane", "-n", "crossplane-system", "--type", "strategic", "-p"])
            #expect(Array(restart.suffix(2)) == ["--field-manager=kubectl-xpid", "--dry-run=server"])
            let body = restart[Self.k.count + 8]
            let json = try JSONValue.parse(body)
            #expect(json["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].string != nil, "\(body)")
        } else {
            #expect(restart == Self.k + ["rollout", "restart", "deployment/crossplane", "-n", "crossplane-system", "--dry-run=server"])
        }
    }

    @Test("--dry-run of a manifest and of a merge patch")
    func dryRunManifest() async throws {
        let plan = FixPlans.pinServiceAccount()
        let apply = Self.k + ["apply", "--server-side", "--field-manager=kubectl-xpid", "-f", "-", "--dry-run=server"]
        let patch = Self.k + [
            "patch", "providers.pkg.crossplane.io", "provider-aws-s3", "--type", "merge", "-p",
            #"{"spec":{"runtimeConfigRef":{"apiVersion":"pkg.crossplane.io/v1beta1","kind":"DeploymentRuntimeConfig","name":"provider-aws-s3-runtime"}}}"#,
            "--field-manager=kubectl-xpid", "--dry-run=server",
        ]
        let runner = ScriptedRunner()
        runner.stub(apply, stdout: "deploymentruntimeconfig.pkg.crossplane.io/provider-aws-s3-runtime serverside-applied (server dry run)\n")
        runner.stub(patch, stdout: "provider.pkg.crossplane.io/provider-aws-s3 patched (server dry run)\n")
        let results = await Self.applier(runner, dryRun: true).apply(plan)
        #expect(runner.calls == [apply, patch])
        #expect(Self.outcomes(results).allSatisfy { if case .applied = $0 { return true } else { return false } })
    }

    // MARK: failures

    @Test("stops at the first failure: applied, failed, not run; the third action never runs")
    func stopAtFirstFailure() async throws {
        let plan = FixPlans.threeActions()
        let changes = plan.actions.filter { $0.kind != .cloud }
        try #require(changes.count == 3, "\(plan.actions.map(\.command.argv))")
        let first = Self.k + Array(changes[0].command.argv.dropFirst())
        let second = Self.k + Array(changes[1].command.argv.dropFirst())
        #expect(first == Self.k + [
            "patch", "deploymentruntimeconfigs.pkg.crossplane.io", "pod-identity-runtimeconfig", "--type", "json", "-p",
            #"[{"op":"remove","path":"/spec/serviceAccountTemplate/metadata/annotations/eks.amazonaws.com~1role-arn"}]"#,
            "--field-manager=kubectl-xpid",
        ])
        #expect(second == Self.k + ["annotate", "serviceaccount", "provider-aws-pod-identity", "-n", "crossplane-system", "eks.amazonaws.com/role-arn-", "--field-manager=kubectl-xpid"])
        let runner = FakeCommandRunner()
        runner.stub(first, stdout: "deploymentruntimeconfig.pkg.crossplane.io/pod-identity-runtimeconfig patched\n")
        runner.stub(second, stderr: "error: serviceaccounts \"provider-aws-pod-identity\" not found\n", exit: 1)
        let progress = ProgressLog()
        let results = await Self.applier(runner).apply(plan) { a, o in progress.add(a, o) }
        #expect(runner.calls == [first, second])
        let outcomes = Self.outcomes(results)
        try #require(outcomes.count == 3)
        #expect(outcomes[0] == .applied("deploymentruntimeconfig.pkg.crossplane.io/pod-identity-runtimeconfig patched"))
        #expect(outcomes[1] == .failed("error: serviceaccounts \"provider-aws-pod-identity\" not found"))
        #expect(outcomes[2] == .notRun)
        #expect(results.map(\.0.id) == changes.map(\.id))
        #expect(progress.ids == [changes[0].id, changes[1].id], "progress is reported for the actions that ran")
    }

    @Test("the first action failing: nothing else runs")
    func firstFails() async throws {
        let plan = FixPlans.threeActions()
        let runner = FakeCommandRunner()
        let first = Self.k + Array(plan.actions[0].command.argv.dropFirst())
        runner.stub(first, stderr: "Error from server (NotFound): deploymentruntimeconfigs.pkg.crossplane.io \"pod-identity-runtimeconfig\" not found\n", exit: 1)
        let results = await Self.applier(runner).apply(plan)
        #expect(runner.calls == [first])
        #expect(Self.outcomes(results).map(Self.isFailed) == [true, false, false])
        #expect(Self.outcomes(results).dropFirst().allSatisfy { $0 == .notRun })
    }

    @Test("forbidden: the failure names the verb, the resource and the namespace to grant")
    func forbidden() async throws {
        let plan = FixPlans.annotateCore()
        let argv = Self.k + ["annotate", "serviceaccount", "crossplane", "-n", "crossplane-system", "eks.amazonaws.com/role-arn=\(FixPlans.coreRole)", "--field-manager=kubectl-xpid"]
        let runner = FakeCommandRunner()
        runner.stub(argv, stderr: #"Error from server (Forbidden): serviceaccounts "crossplane" is forbidden: User "alice" cannot patch resource "serviceaccounts" in API group "" in the namespace "crossplane-system""# + "\n", exit: 1)
        let results = await Self.applier(runner).apply(plan)
        let outcome = try #require(results.first?.1)
        #expect(Self.isFailed(outcome))
        let m = Self.message(outcome)
        #expect(m.contains("patch"), "\(m)")
        #expect(m.contains("serviceaccounts"), "\(m)")
        #expect(m.contains("crossplane-system"), "\(m)")
        #expect(m.contains(#"grant verb "patch" on serviceaccounts"#), "\(m)")
    }

    @Test("forbidden on a custom resource names its API group")
    func forbiddenCustomResource() async throws {
        let plan = FixPlans.patchRuntimeConfig()
        let runner = FakeCommandRunner()
        let argv = Self.k + Array(plan.actions[0].command.argv.dropFirst())
        runner.stub(argv, stderr: #"Error from server (Forbidden): deploymentruntimeconfigs.pkg.crossplane.io "irsa-runtimeconfig" is forbidden: User "alice" cannot patch resource "deploymentruntimeconfigs" in API group "pkg.crossplane.io" at the cluster scope"# + "\n", exit: 1)
        let results = await Self.applier(runner).apply(plan)
        let m = Self.message(try #require(results.first?.1))
        #expect(m.contains("patch deploymentruntimeconfigs.pkg.crossplane.io"), "\(m)")
        #expect(m.contains("cluster-wide"), "\(m)")
    }

    @Test("kubectl missing: a failure saying so, not a crash")
    func kubectlMissing() async throws {
        let plan = FixPlans.annotateCore()
        let runner = FakeCommandRunner()
        runner.stub(Self.k + Array(plan.actions[0].command.argv.dropFirst()), termination: .launchFailed("kubectl: command not found"))
        let results = await Self.applier(runner).apply(plan)
        #expect(Self.message(try #require(results.first?.1)).contains("kubectl not found"))
    }

    @Test("cloud actions are never run")
    func cloudNeverRuns() async throws {
        let s = FixPlans.example("podid.association", "association for another SA name")
        let plan = FixPlans.plan(s, FixOptions(restart: true, force: true))
        try #require(plan.actions.contains { $0.kind == .cloud })
        let runner = FakeCommandRunner()
        let results = await Self.applier(runner).apply(plan)
        #expect(!results.contains { $0.0.kind == .cloud })
        #expect(runner.calls(to: "aws").isEmpty)
        #expect(runner.calls.count == plan.actions.filter { $0.kind != .cloud }.count)
    }
}
