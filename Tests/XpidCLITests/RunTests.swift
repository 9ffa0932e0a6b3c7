import Foundation
import Testing
import XpidCLI
import XpidCore
import XpidGather
import XpidTestSupport

@Suite("XpidCLI.run end to end over the fake runner")
struct RunTests {
    @Test("version: exit 0, no commands run")
    func version() async {
        let runner = FakeCommandRunner()
        let (code, out, err) = await runCLI(["version"], runner: runner)
        #expect(code == 0)
        #expect(out == "kubectl-xpid \(CommandModel.version)\n")
        #expect(err.isEmpty)
        #expect(runner.calls.isEmpty)
    }

    @Test("no arguments: root help on stdout, exit 0")
    func noArguments() async {
        let (code, out, _) = await runCLI([])
        #expect(code == 0)
        #expect(out == Help.root())
    }

    @Test("verify --help: the command's help")
    func verifyHelp() async {
        let runner = FakeCommandRunner()
        let (code, out, _) = await runCLI(["verify", "--help"], runner: runner)
        #expect(code == 0)
        #expect(out.contains("OPTIONS:"))
        #expect(out.contains("USAGE: kubectl xpid verify"))
        #expect(runner.calls.isEmpty)
    }

    @Test("a bad flag: exit 64, error and usage on stderr, nothing on stdout, no commands run")
    func badFlag() async {
        let runner = FakeCommandRunner()
        let (code, out, err) = await runCLI(["verify", "--frobnicate"], runner: runner)
        #expect(code == 64)
        #expect(err.hasPrefix("error: "))
        #expect(err.contains("--frobnicate"))
        #expect(err.contains("Usage: kubectl xpid verify"))
        #expect(out.isEmpty)
        #expect(runner.calls.isEmpty)
    }

    @Test("a bad value: exit 64 naming the flag")
    func badValue() async {
        let (code, _, err) = await runCLI(["verify", "--fail-on", "sometimes"])
        #expect(code == 64)
        #expect(err.contains("--fail-on"))
    }

    @Test("kubectl missing: exit 2 with 'kubectl not found'")
    func kubectlMissing() async {
        let runner = FakeCommandRunner()
        let seed = SeedCluster()
        runner.stub(seed.configViewArgv, termination: .launchFailed("kubectl: command not found"))
        runner.stub(seed.apiResourcesArgv, termination: .launchFailed("kubectl: command not found"))
        runner.stub(seed.builtinBatchArgv, termination: .launchFailed("kubectl: command not found"))
        runner.stub(seed.crossplaneBatchArgv, termination: .launchFailed("kubectl: command not found"))
        let (code, out, err) = await runCLI(["verify"], runner: runner)
        #expect(code == 2)
        #expect(err.hasPrefix("error: "))
        #expect(err.contains("kubectl not found"))
        #expect(out.isEmpty)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
    }

    @Test("cluster unreachable: exit 2")
    func unreachable() async {
        let runner = FakeCommandRunner()
        let seed = SeedCluster()
        runner.stubJSON(seed.configViewArgv, seed.configView)
        runner.stub(seed.apiResourcesArgv, stderr: "Unable to connect to the server: dial tcp 127.0.0.1:1: connect: connection refused\n", exit: 1)
        let (code, _, err) = await runCLI(["verify", "-o", "json"], runner: runner)
        #expect(code == 2)
        #expect(err.contains("unreachable"))
    }

    @Test("XPID_KUBECTL and --kubectl choose the kubectl that runs")
    func kubectlFromEnvironment() async {
        var seed = SeedCluster()
        seed.kubectl = ["/opt/kubectl"]
        let runner = seed.runner()
        let (code, _, _) = await runCLI(["verify", "-o", "json"], runner: runner, environment: ["XPID_KUBECTL": "/opt/kubectl"])
        #expect(code == 0)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls(to: "/opt/kubectl").count == 6)
    }

    @Test("healthy seed cluster: exit 0, JSON report with schema kubectl-xpid/report/v1")
    func healthyVerify() async throws {
        let runner = SeedCluster().runner()
        let (code, out, err) = await runCLI(["verify", "-o", "json"], runner: runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(code == 0, "stderr: \(err)\n\(out)")
        let json = try JSONValue.parse(out)
        #expect(json["schema"] == "kubectl-xpid/report/v1")
        #expect(json["summary"]["fail"] == 0)
        #expect(json["summary"]["error"] == 0)
        #expect(json["summary"]["warn"] == 0)
        #expect((json["summary"]["pass"].int ?? 0) >= 10)
        #expect(json["cluster"]["name"] == "prod-eks")
        #expect(json["cluster"]["cloud"] == "aws")
        let s3 = try #require(json["subjects"].array.first { $0["id"] == "provider/provider-aws-s3" })
        #expect(s3["method"] == "pod-identity")
        #expect(s3["serviceAccount"] == "provider-aws-pod-identity")
        let association = try #require(json["findings"].array.first { $0["check"] == "podid.association" })
        #expect(association["status"] == "pass")
        #expect(association["subject"] == "provider/provider-aws-s3")
        #expect(runner.calls(to: "aws").count == 5)
    }

    @Test("on a terminal, stderr counts the cloud reads as they finish; stdout is the report")
    func cloudProgressOnTTY() async {
        let runner = SeedCluster().runner()
        let (code, out, err) = await runCLI(["verify"], runner: runner, tty: true)
        #expect(code == 0)
        let awsCalls = runner.calls(to: "aws").count
        #expect(awsCalls > 0)
        #expect(err.contains("cloud reads: \(awsCalls)/\(awsCalls) done"), "\(err)")
        #expect(!out.contains("cloud reads"))
        let quiet = await runCLI(["verify"], runner: SeedCluster().runner(), tty: false)
        #expect(!quiet.2.contains("cloud reads"), "no progress when stderr is not a terminal")
    }

    @Test("healthy seed cluster as text: exit 0, ASCII without a UTF-8 locale, summary line")
    func healthyText() async {
        let runner = SeedCluster().runner()
        let (code, out, err) = await runCLI(["verify", "--show-all"], runner: runner)
        #expect(code == 0)
        #expect(err.isEmpty, "no progress output when stderr is not a TTY")
        #expect(out.hasPrefix("kubectl xpid verify - context \(SeedCluster.contextARN) (aws, prod-eks, us-east-2)\n"))
        #expect(out.contains("[OK]   podid.association"))
        #expect(!out.contains("\u{1B}"))
        #expect(out.contains("\nSummary: "))
        #expect(out.contains(" 0 failed, "))
    }

    @Test("a failing association: exit 1, the finding says why")
    func failingAssociation() async throws {
        var seed = SeedCluster()
        seed.listedAssociations = [AWSJSON.associationSummary(cluster: "prod-eks", namespace: SeedCluster.namespace, serviceAccount: "provider-aws-s3", id: "a-wrongname0000000")]
        seed.describedAssociations = [:]
        let runner = seed.runner()
        let (code, out, _) = await runCLI(["verify", "-o", "json"], runner: runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(code == 1)
        let json = try JSONValue.parse(out)
        let findings = json["findings"].array.filter { $0["subject"] == "provider/provider-aws-s3" }
        let association = try #require(findings.first { $0["check"] == "podid.association" })
        #expect(association["status"] == "fail")
        #expect(association["message"].string?.contains("crossplane-system/provider-aws-pod-identity") == true)
        #expect(association["remediation"]["commands"][0].string?.hasPrefix("aws eks create-pod-identity-association --cluster-name prod-eks --namespace crossplane-system --service-account provider-aws-pod-identity") == true)
        #expect(findings.first { $0["check"] == "podid.trust-policy" }?["message"] == "blocked by podid.association (fail)")
        #expect(json["summary"]["fail"] == 1)
    }

    @Test("only a warning: exit 0 by default, exit 1 with --fail-on warn")
    func failOnWarn() async throws {
        var seed = SeedCluster()
        seed.serviceAccounts = seed.serviceAccounts.map { sa in
            guard sa.at("metadata", "name") == .string(SeedCluster.podIdentitySA) else { return sa }
            return KubeJSON.serviceAccount(SeedCluster.podIdentitySA, namespace: SeedCluster.namespace, annotations: ["eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/old-irsa-role"])
        }
        let (defaultCode, out, _) = await runCLI(["verify", "-o", "json"], runner: seed.runner())
        let json = try JSONValue.parse(out)
        #expect(json["summary"]["warn"] == 1)
        #expect(json["summary"]["fail"] == 0)
        #expect(json["summary"]["error"] == 0)
        #expect(json["findings"].array.first { $0["status"] == "warn" }?["check"] == "podid.irsa-shadowing")
        #expect(defaultCode == 0)
        let (warnCode, _, _) = await runCLI(["verify", "-o", "json", "--fail-on", "warn"], runner: seed.runner())
        #expect(warnCode == 1)
    }

    @Test("--no-cloud: no aws calls, cloud checks skipped, exit 0")
    func noCloud() async throws {
        let runner = SeedCluster().runner()
        let (code, out, _) = await runCLI(["verify", "-o", "json", "--no-cloud"], runner: runner)
        #expect(code == 0)
        #expect(runner.calls(to: "aws").isEmpty)
        let json = try JSONValue.parse(out)
        let association = try #require(json["findings"].array.first { $0["check"] == "podid.association" })
        #expect(association["status"] == "skip")
        #expect(association["message"].string?.contains("--no-cloud") == true)
    }

    @Test("--only and --subject narrow the report")
    func onlyAndSubject() async throws {
        let (code, out, _) = await runCLI(["verify", "-o", "json", "--only", "crossplane.package-health", "--subject", "provider-aws-s3"], runner: SeedCluster().runner())
        #expect(code == 0)
        let json = try JSONValue.parse(out)
        #expect(json["findings"].array.map { $0["check"] } == ["crossplane.package-health"])
        #expect(json["subjects"].array.map { $0["id"] } == ["provider/provider-aws-s3"])
    }

    @Test("forbidden to list Providers: exit 2 naming the permission")
    func providersForbidden() async {
        let seed = SeedCluster()
        let runner = seed.runner()
        runner.stub(seed.crdBatchArgv, stdout: KubeJSON.listText(seed.runtimeConfigs + seed.providerConfigs),
            stderr: #"Error from server (Forbidden): providers.pkg.crossplane.io is forbidden: User "alice" cannot list resource "providers" in API group "pkg.crossplane.io" at the cluster scope"#, exit: 1)
        let (code, out, err) = await runCLI(["verify", "-o", "json"], runner: runner)
        #expect(code == 2)
        #expect(out.isEmpty)
        #expect(err.contains("providers.pkg.crossplane.io"))
    }

    @Test("checks -o json lists the catalogue")
    func checksJSON() async throws {
        let (code, out, _) = await runCLI(["checks", "-o", "json"])
        #expect(code == 0)
        let json = try JSONValue.parse(out)
        #expect(json["schema"] == "kubectl-xpid/checks/v1")
        #expect(json["checks"].array.map { $0["id"].string ?? "" } == Catalog.descriptions.map(\.id))
    }

    @Test("checks (text) and checks -o markdown")
    func checksText() async {
        let (code, out, _) = await runCLI(["checks"])
        #expect(code == 0)
        for d in Catalog.descriptions { #expect(out.contains(d.id)) }
        let (mdCode, md, _) = await runCLI(["checks", "-o", "markdown"])
        #expect(mdCode == 0)
        #expect(md == CatalogRenderer.markdown())
    }

    @Test("explain a check")
    func explain() async {
        let (code, out, _) = await runCLI(["explain", "podid.association"])
        #expect(code == 0)
        #expect(out.hasPrefix("podid.association — Pod Identity association exists\n"))
        #expect(out.contains("Why it matters:"))
        #expect(out.contains("Skipped when these fail first: podid.stable-sa-name"))
        let (badCode, _, err) = await runCLI(["explain", "podid.nope"])
        #expect(badCode == 64)
        #expect(err.contains("podid.nope"))
    }

    @Test("completion and __complete")
    func completion() async {
        let (code, out, _) = await runCLI(["completion", "zsh"])
        #expect(code == 0)
        #expect(out == Completion.script(.zsh))
        let (missingCode, _, err) = await runCLI(["completion"])
        #expect(missingCode == 64)
        #expect(err.contains("bash"))
        let (completeCode, completeOut, _) = await runCLI(["__complete", "ver"])
        #expect(completeCode == 0)
        #expect(completeOut == "verify\nversion\n:4\n")
    }
}
