import Foundation
import Testing
import XpidCLI
import XpidCore
import XpidGather
import XpidTestSupport

/// A console for `fix`: captures output and answers the confirmation prompt.
final class FixConsole: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""
    private var prompts: [String] = []

    var out: String { lock.withLock { outText } }
    var err: String { lock.withLock { errText } }
    var asked: [String] { lock.withLock { prompts } }

    func console(runner: any CommandRunner, stdinIsTTY: Bool = false, answer: String? = nil) -> Console {
        Console(
            out: { s in self.lock.withLock { self.outText += s } },
            err: { s in self.lock.withLock { self.errText += s } },
            stdoutIsTTY: false, stderrIsTTY: false, environment: [:], runner: runner, stdinIsTTY: stdinIsTTY,
            ask: { prompt in
                self.lock.withLock { self.prompts.append(prompt) }
                return answer
            })
    }
}

/// Seed-like clusters with one fixable problem each.
enum FixClusters {
    static let ns = SeedCluster.namespace
    static let deployment = "deployment/\(SeedCluster.s3Revision)"
    static let restart = ["kubectl", "rollout", "restart", deployment, "-n", ns, "--field-manager=kubectl-xpid"]
    static let status = ["kubectl", "rollout", "status", deployment, "-n", ns, "--timeout=120s"]
    static let sourcePatch = ["kubectl", "patch", "clusterproviderconfigs.aws.m.upbound.io", "default", "--type", "merge", "-p", #"{"spec":{"credentials":{"source":"PodIdentity"}}}"#, "--field-manager=kubectl-xpid"]

    /// The association was (re)created after the provider's pods: podid.pods-current fails.
    static func stalePods() -> SeedCluster {
        var seed = SeedCluster()
        let mine = AWSJSON.associationSummary(cluster: "prod-eks", namespace: ns, serviceAccount: SeedCluster.podIdentitySA, id: SeedCluster.associationID)
        seed.describedAssociations = [SeedCluster.associationID: AWSJSON.association(summary: mine, roleArn: SeedCluster.roleArn, createdAt: "2026-11-15T12:00:00.000000+00:00")]
        return seed
    }

    /// The same cluster after a rollout: every pod is newer than the association.
    static func restarted() -> SeedCluster { stalePods().withPodsCreated("2026-11-22T09:30:00Z") }

    /// The ClusterProviderConfig says IRSA while the provider runs on Pod Identity.
    static func wrongSource(_ source: String = "IRSA") -> SeedCluster {
        var seed = SeedCluster()
        seed.providerConfigs = [KubeJSON.providerConfig(source: source)]
        return seed
    }

    /// A stale role-arn annotation on the Pod Identity ServiceAccount (a warning).
    static func staleAnnotation() -> SeedCluster {
        var seed = SeedCluster()
        seed.serviceAccounts = seed.serviceAccounts.map { sa in
            guard sa.at("metadata", "name") == .string(SeedCluster.podIdentitySA) else { return sa }
            return KubeJSON.serviceAccount(SeedCluster.podIdentitySA, namespace: ns, annotations: ["eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/old-irsa-role"])
        }
        return seed
    }

    static func runner(_ seeds: SeedCluster...) async -> ScriptedRunner {
        let runner = ScriptedRunner()
        await runner.stubGathers(seeds)
        return runner
    }
}

@Suite("kubectl xpid fix end to end over the fake runner")
struct FixCommandTests {
    static func run(_ args: [String], runner: ScriptedRunner, stdinIsTTY: Bool = false, answer: String? = nil) async -> (Int32, String, String, FixConsole) {
        let c = FixConsole()
        let code = await XpidCLI.run(args, console: c.console(runner: runner, stdinIsTTY: stdinIsTTY, answer: answer))
        return (code, c.out, c.err, c)
    }

    /// The gather's own calls (10 for the seed), to count what else ran.
    static let gatherCalls = 11

    // MARK: the plan only

    @Test("without --yes on a non-TTY: prints the plan, changes nothing", arguments: [["fix"], ["fix", "--restart"], ["fix", "--restart", "--force", "--overwrite"]])
    func planOnly(_ args: [String]) async throws {
        let runner = await FixClusters.runner(FixClusters.stalePods())
        runner.base.stub(FixClusters.sourcePatch)
        let (code, out, err, console) = await Self.run(args, runner: runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.mutatingCalls.isEmpty, "mutating calls without --yes: \(runner.mutatingCalls)")
        #expect(runner.calls.count == Self.gatherCalls)
        #expect(console.asked.isEmpty, "no prompt without a terminal")
        #expect(code == 1, "the stale pods still fail")
        #expect(out.hasPrefix("kubectl xpid fix - plan for context \(SeedCluster.contextARN)\n"), "\(out)")
        if args.contains("--restart") {
            #expect(out.contains("kubectl rollout restart \(FixClusters.deployment) -n crossplane-system"), "\(out)")
            #expect(err.contains("nothing was changed: re-run with --yes"), "\(err)")
        } else {
            #expect(out.contains("Not changed"), "\(out)")
            #expect(out.contains("kubectl xpid fix --restart"), "\(out)")
        }
    }

    @Test("a change planned without --yes: printed, not run")
    func changePlanOnly() async throws {
        let runner = await FixClusters.runner(FixClusters.wrongSource())
        let (code, out, err, _) = await Self.run(["fix"], runner: runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.mutatingCalls.isEmpty, "\(runner.mutatingCalls)")
        #expect(code == 1)
        #expect(out.contains("[crossplane.providerconfig-source] provider/provider-aws-s3: set credentials.source of"), "\(out)")
        #expect(out.contains(#"kubectl patch clusterproviderconfigs.aws.m.upbound.io default --type merge -p '{"spec":{"credentials":{"source":"PodIdentity"}}}'"#), "\(out)")
        #expect(err.contains("nothing was changed"))
    }

    @Test("a healthy cluster: nothing to fix, exit 0, nothing run")
    func nothingToFix() async throws {
        let runner = await FixClusters.runner(SeedCluster())
        let (code, out, _, _) = await Self.run(["fix", "--yes", "--restart"], runner: runner)
        #expect(code == 0)
        #expect(out.contains("nothing to fix"), "\(out)")
        #expect(runner.calls.count == Self.gatherCalls)
        #expect(runner.mutatingCalls.isEmpty)
    }

    @Test("fix -o json: schema kubectl-xpid/plan/v1, actions with exactly the documented keys")
    func planJSON() async throws {
        let runner = await FixClusters.runner(FixClusters.wrongSource())
        let (code, out, _, _) = await Self.run(["fix", "-o", "json"], runner: runner)
        #expect(code == 1)
        #expect(runner.mutatingCalls.isEmpty)
        let json = try JSONValue.parse(out)
        #expect(json["schema"] == "kubectl-xpid/plan/v1")
        let actions = json["actions"].array
        try #require(!actions.isEmpty, "\(out)")
        for a in actions {
            #expect(Set(a.object.keys) == ["id", "check", "subject", "description", "command", "input", "kind", "managedBy", "notes", "kustomizePatch"], "\(a.object.keys.sorted())")
            #expect(!a["command"].array.isEmpty && a["command"].array.allSatisfy { $0.string != nil })
            #expect(["change", "restart", "cloud"].contains(a["kind"].string ?? ""))
            #expect(a["managedBy"].isNull || ["helm", "flux"].contains(a["managedBy"].string ?? ""))
        }
        let patch = try #require(actions.first { $0["check"] == "crossplane.providerconfig-source" })
        #expect(patch["id"] == "a1")
        #expect(patch["subject"] == "provider/provider-aws-s3")
        #expect(patch["kind"] == "change")
        #expect(patch["command"].strings == FixClusters.sourcePatch)
        #expect(patch["managedBy"].isNull)
        #expect(patch["input"].isNull)
        #expect(json["held"].array.isEmpty)
    }

    @Test("fix -o json: a manifest action carries the manifest, a held fix its managedBy")
    func planJSONManifestAndHeld() async throws {
        var seed = FixClusters.stalePods()
        seed.packages[0] = KubeJSON.package(name: "provider-aws-s3", package: "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", runtimeConfig: "default", currentRevision: SeedCluster.s3Revision)
        seed.deployments[2] = SeedCluster.packageDeployment(package: "provider-aws-s3", revision: SeedCluster.s3Revision, serviceAccount: SeedCluster.s3Revision)
        seed.crossplanePods[1] = SeedCluster.packagePod(package: "provider-aws-s3", revision: SeedCluster.s3Revision, serviceAccount: SeedCluster.s3Revision, podIdentity: true, node: "ip-10-0-1-10.us-east-2.compute.internal")
        let runner = await FixClusters.runner(seed)
        let (_, out, _, _) = await Self.run(["fix", "-o", "json"], runner: runner)
        let json = try JSONValue.parse(out)
        let apply = try #require(json["actions"].array.first { !$0["input"].isNull }, "\(out)")
        #expect(apply["command"].strings == ["kubectl", "apply", "--server-side", "--field-manager=kubectl-xpid", "-f", "-"])
        #expect(apply["input"]["kind"] == "DeploymentRuntimeConfig")
        #expect(apply["input"]["metadata"]["name"] == "provider-aws-s3-runtime")
        for h in json["held"].array {
            #expect(Set(h.object.keys) == ["check", "subject", "reason", "advice", "instead", "insteadArgv", "managedBy"])
        }
    }

    @Test("a terminal whose user answers n: asked once, nothing changed")
    func confirmNo() async throws {
        let runner = await FixClusters.runner(FixClusters.stalePods())
        let (code, out, err, console) = await Self.run(["fix", "--restart"], runner: runner, stdinIsTTY: true, answer: "n")
        #expect(console.asked.count == 1)
        #expect(console.asked.first?.contains("Apply these 1 change") == true, "\(console.asked)")
        #expect(console.asked.first?.contains(SeedCluster.contextARN) == true)
        #expect(runner.mutatingCalls.isEmpty, "\(runner.mutatingCalls)")
        #expect(runner.calls.count == Self.gatherCalls)
        #expect(err.contains("nothing was changed"))
        #expect(out.contains("rollout restart"))
        #expect(code == 1)
    }

    @Test("a terminal without an answer (EOF) changes nothing")
    func confirmEOF() async throws {
        let runner = await FixClusters.runner(FixClusters.stalePods())
        let (_, _, _, console) = await Self.run(["fix", "--restart"], runner: runner, stdinIsTTY: true, answer: nil)
        #expect(console.asked.count == 1)
        #expect(runner.mutatingCalls.isEmpty)
    }

    // MARK: applying

    @Test("fix --restart --yes: restart, wait, re-verify; exit 0 once the pods are current")
    func applyAndReverify() async throws {
        let runner = await FixClusters.runner(FixClusters.stalePods(), FixClusters.restarted())
        runner.stub(FixClusters.restart, stdout: "deployment.apps/\(SeedCluster.s3Revision) restarted\n")
        runner.stub(FixClusters.status, stdout: "deployment \"\(SeedCluster.s3Revision)\" successfully rolled out\n")
        let (code, out, err, _) = await Self.run(["fix", "--restart", "--yes"], runner: runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(code == 0, "stdout:\n\(out)\nstderr:\n\(err)")
        let calls = runner.calls
        try #require(calls.count == 2 * Self.gatherCalls + 2, "\(calls)")
        #expect(Array(calls[Self.gatherCalls..<(Self.gatherCalls + 2)]) == [FixClusters.restart, FixClusters.status])
        #expect(runner.mutatingCalls == [FixClusters.restart])
        #expect(out.contains("a1 restart deployment crossplane-system/\(SeedCluster.s3Revision)"), "per-action results go to stdout with the report: \(out)")
        #expect(out.contains("re-verified: before 1 failed"), "\(out)")
        #expect(out.contains("podid.pods-current provider/provider-aws-s3 now passes"), "\(out)")
    }

    @Test("fix --yes when the re-verify still fails: exit 1, says what still fails")
    func reverifyStillFails() async throws {
        let runner = await FixClusters.runner(FixClusters.stalePods())
        runner.stub(FixClusters.restart, stdout: "deployment.apps/\(SeedCluster.s3Revision) restarted\n")
        runner.stub(FixClusters.status, stdout: "deployment \"\(SeedCluster.s3Revision)\" successfully rolled out\n")
        let (code, out, _, _) = await Self.run(["fix", "--restart", "--yes"], runner: runner)
        #expect(code == 1)
        #expect(runner.calls.count == 2 * Self.gatherCalls + 2)
        #expect(out.contains("podid.pods-current provider/provider-aws-s3 still fail"), "\(out)")
    }

    @Test("fix --yes applies a patch, then re-verifies")
    func applyPatch() async throws {
        let runner = await FixClusters.runner(FixClusters.wrongSource(), FixClusters.wrongSource("PodIdentity"))
        runner.stub(FixClusters.sourcePatch, stdout: "clusterproviderconfig.aws.m.upbound.io/default patched\n")
        let (code, out, err, _) = await Self.run(["fix", "--yes"], runner: runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.mutatingCalls == [FixClusters.sourcePatch])
        #expect(code == 0, "\(out)\n\(err)")
        #expect(out.contains("crossplane.providerconfig-source provider/provider-aws-s3 now passes"), "\(out)")
    }

    @Test(
        "a fixed warning that is still a warning after the re-verify: exit 1")
    func reverifyStillWarns() async throws {
        let runner = await FixClusters.runner(FixClusters.staleAnnotation())
        let annotate = ["kubectl", "annotate", "serviceaccount", SeedCluster.podIdentitySA, "-n", FixClusters.ns, "eks.amazonaws.com/role-arn-", "--field-manager=kubectl-xpid"]
        runner.stub(annotate, stdout: "serviceaccount/\(SeedCluster.podIdentitySA) annotated\n")
        runner.stub(FixClusters.restart, stdout: "deployment.apps/\(SeedCluster.s3Revision) restarted\n")
        runner.stub(FixClusters.status, stdout: "deployment \"\(SeedCluster.s3Revision)\" successfully rolled out\n")
        let (code, out, _, _) = await Self.run(["fix", "--restart", "--yes"], runner: runner)
        #expect(runner.mutatingCalls == [annotate, FixClusters.restart])
        #expect(code == 1, "podid.irsa-shadowing is still warn after the fix:\n\(out)")
    }

    @Test("a failing action: stop, report applied / FAILED / not applied, exit 1, no re-verify")
    func stopOnFailure() async throws {
        let runner = await FixClusters.runner(FixClusters.staleAnnotation())
        let annotate = ["kubectl", "annotate", "serviceaccount", SeedCluster.podIdentitySA, "-n", FixClusters.ns, "eks.amazonaws.com/role-arn-", "--field-manager=kubectl-xpid"]
        runner.stub(annotate, stderr: #"Error from server (Forbidden): serviceaccounts "provider-aws-pod-identity" is forbidden: User "alice" cannot patch resource "serviceaccounts" in API group "" in the namespace "crossplane-system""# + "\n", exit: 1)
        let (code, out, _, _) = await Self.run(["fix", "--restart", "--yes"], runner: runner)
        #expect(code == 1)
        #expect(runner.mutatingCalls == [annotate], "the restart after the failed change never runs")
        #expect(runner.calls.count == Self.gatherCalls + 1, "no re-verify after a failure")
        #expect(out.contains("stopped at the first failure"), "\(out)")
        #expect(out.contains("FAILED:      a1"), "\(out)")
        #expect(out.contains("not applied: a2"), "\(out)")
        #expect(out.contains(#"grant verb "patch" on serviceaccounts"#), "\(out)")
        #expect(out.contains("crossplane-system"))
    }

    @Test("fix --dry-run: every change with --dry-run=server, no rollout status, no re-verify, nothing stored")
    func dryRun() async throws {
        let runner = await FixClusters.runner(FixClusters.staleAnnotation())
        let annotate = ["kubectl", "annotate", "serviceaccount", SeedCluster.podIdentitySA, "-n", FixClusters.ns, "eks.amazonaws.com/role-arn-", "--field-manager=kubectl-xpid", "--dry-run=server"]
        runner.stub(annotate, stdout: "serviceaccount/\(SeedCluster.podIdentitySA) annotated (server dry run)\n")
        runner.stubPrefix(["kubectl", "patch", "deployment", SeedCluster.s3Revision, "-n", FixClusters.ns], stdout: "deployment.apps/\(SeedCluster.s3Revision) patched (server dry run)\n")
        runner.stubPrefix(["kubectl", "rollout", "restart", FixClusters.deployment, "-n", FixClusters.ns], stdout: "deployment.apps/\(SeedCluster.s3Revision) restarted (server dry run)\n")
        let (code, out, err, _) = await Self.run(["fix", "--restart", "--dry-run"], runner: runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(code == 0, "\(out)\n\(err)")
        let changes = Array(runner.calls.dropFirst(Self.gatherCalls))
        #expect(changes.count == 2, "\(changes)")
        for c in changes { #expect(c.last == "--dry-run=server", "\(c)") }
        #expect(!runner.calls.contains { $0.contains("status") })
        #expect(out.contains("dry run"), "\(out)")
    }

    @Test(
        "fix -o json --yes: stdout stays one JSON document")
    func jsonWithYes() async throws {
        let runner = await FixClusters.runner(FixClusters.stalePods(), FixClusters.restarted())
        runner.stub(FixClusters.restart, stdout: "deployment.apps/\(SeedCluster.s3Revision) restarted\n")
        runner.stub(FixClusters.status, stdout: "deployment \"\(SeedCluster.s3Revision)\" successfully rolled out\n")
        let (code, out, _, _) = await Self.run(["fix", "-o", "json", "--restart", "--yes"], runner: runner)
        #expect(code == 0)
        let json = try JSONValue.parse(out)
        #expect(json["schema"] == "kubectl-xpid/plan/v1")
    }

    @Test("passthrough flags reach the changes too")
    func passthroughFlags() async throws {
        var seed = FixClusters.stalePods()
        seed.kubectl = ["kubectl", "--context", "prod"]
        let runner = ScriptedRunner()
        await runner.stubGathers([seed, seed.withPodsCreated("2026-11-22T09:30:00Z")])
        let restart = ["kubectl", "--context", "prod"] + FixClusters.restart.dropFirst()
        let status = ["kubectl", "--context", "prod"] + FixClusters.status.dropFirst()
        runner.stub(restart, stdout: "restarted\n")
        runner.stub(status, stdout: "successfully rolled out\n")
        let (code, _, _, _) = await Self.run(["fix", "--context", "prod", "--restart", "--yes"], runner: runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.mutatingCalls == [restart])
        #expect(code == 0)
    }

    // MARK: parsing and help

    /// The fix part of a parsed `fix` (the gather clock is the parse time, so it is not compared).
    static func parsedFix(_ args: [String]) -> FixCommandOptions? {
        guard case .success(.fix(var o)) = Parser.parse(args) else { return nil }
        o.verify.gather.now = FixCommandOptions().verify.gather.now
        return o
    }

    static func sameOptions(_ a: FixCommandOptions?, _ b: FixCommandOptions) -> Bool {
        guard var a else { return false }
        a.verify.gather.now = b.verify.gather.now
        return a == b
    }

    @Test("fix flags parse into FixCommandOptions")
    func parseFlags() throws {
        var expected = FixCommandOptions()
        expected.yes = true
        expected.dryRun = true
        expected.fix = FixOptions(roleArn: "arn:aws:iam::123456789012:role/x", restart: true, force: true, overwrite: true)
        let parsed = try #require(Self.parsedFix(["fix", "--yes", "--dry-run", "--restart", "--force", "--overwrite", "--role-arn", "arn:aws:iam::123456789012:role/x"]))
        #expect(Self.sameOptions(parsed, expected), "\(parsed)")
        #expect(parsed.fix == expected.fix)
        #expect(Self.sameOptions(Self.parsedFix(["fix"]), FixCommandOptions()))
        var roleOnly = FixCommandOptions()
        roleOnly.fix.roleArn = "arn:aws:iam::123456789012:role/x"
        #expect(Self.sameOptions(Self.parsedFix(["fix", "--role-arn=arn:aws:iam::123456789012:role/x"]), roleOnly))
    }

    @Test("fix shares verify's flags")
    func parseVerifyFlags() throws {
        guard case .success(.fix(let o)) = Parser.parse(["fix", "--context", "prod", "-o", "json", "--subject", "provider-aws-s3", "--no-cloud"]) else {
            Issue.record("did not parse")
            return
        }
        #expect(o.verify.kubectlFlags.context == "prod")
        #expect(o.verify.output == .json)
        #expect(o.verify.subjects == ["provider-aws-s3"])
        #expect(o.verify.gather.noCloud)
        #expect(!o.yes)
    }

    @Test("an invalid --role-arn is a usage error", arguments: ["foo", "arn:aws:iam::123:role/x", "arn:aws:iam::123456789012:user/x", ""])
    func invalidRoleArn(_ value: String) async throws {
        guard case .failure(let e) = Parser.parse(["fix", "--role-arn", value]) else {
            Issue.record("--role-arn \(value) parsed")
            return
        }
        #expect(e.command == "fix")
        #expect(e.message.contains("--role-arn"))
        let runner = ScriptedRunner()
        let (code, out, err, _) = await Self.run(["fix", "--role-arn", value], runner: runner)
        #expect(code == 64)
        #expect(out.isEmpty)
        #expect(err.contains("--role-arn"))
        #expect(runner.calls.isEmpty)
    }

    @Test("fix flags are fix-only")
    func fixFlagsOnlyOnFix() {
        for flag in ["--yes", "--dry-run", "--restart", "--force", "--overwrite"] {
            guard case .failure(let e) = Parser.parse(["verify", flag]) else {
                Issue.record("verify accepted \(flag)")
                continue
            }
            #expect(e.message.contains(flag))
        }
    }

    @Test("fix --help shows the fix flags and runs nothing")
    func help() async {
        let runner = ScriptedRunner()
        let (code, out, _, _) = await Self.run(["fix", "--help"], runner: runner)
        #expect(code == 0)
        #expect(out.contains("USAGE: kubectl xpid fix"))
        for flag in ["--yes", "--dry-run", "--restart", "--force", "--overwrite", "--role-arn ARN"] {
            #expect(out.contains(flag), "\(flag) missing from fix --help")
        }
        #expect(out.contains("--context NAME"), "fix takes verify's kubectl flags")
        #expect(runner.calls.isEmpty)
    }
}
