import Foundation
import Testing
import XpidCLI
import XpidCore
import XpidGather

/// A `verify` command line and how it changes the default options.
struct VerifyCase: Sendable, CustomTestStringConvertible {
    var args: [String]
    var environment: [String: String] = [:]
    var change: @Sendable (inout VerifyOptions) -> Void
    var testDescription: String { (["verify"] + args).joined(separator: " ") + (environment.isEmpty ? "" : " env \(environment.keys.sorted())") }
}

struct UsageCase: Sendable, CustomTestStringConvertible {
    var args: [String]
    var mentions: String
    var command: String?
    var testDescription: String { args.joined(separator: " ") }
}

struct InvocationCase: Sendable, CustomTestStringConvertible {
    var args: [String]
    var expected: Invocation
    var testDescription: String { args.isEmpty ? "(no arguments)" : args.joined(separator: " ") }
}

@Suite("Parser")
struct ParserTests {
    static let verifyCases: [VerifyCase] = [
        VerifyCase(args: []) { _ in },
        VerifyCase(args: ["--kubeconfig", "/tmp/kc"]) { $0.kubectlFlags.kubeconfig = "/tmp/kc" },
        VerifyCase(args: ["--kubeconfig=/tmp/kc"]) { $0.kubectlFlags.kubeconfig = "/tmp/kc" },
        VerifyCase(args: ["--context", "prod"]) { $0.kubectlFlags.context = "prod" },
        VerifyCase(args: ["--context=arn:aws:eks:us-east-2:123456789012:cluster/prod-eks"]) { $0.kubectlFlags.context = "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks" },
        VerifyCase(args: ["--cluster", "c1"]) { $0.kubectlFlags.cluster = "c1" },
        VerifyCase(args: ["--cluster=c1"]) { $0.kubectlFlags.cluster = "c1" },
        VerifyCase(args: ["--user", "admin"]) { $0.kubectlFlags.user = "admin" },
        VerifyCase(args: ["--user=admin"]) { $0.kubectlFlags.user = "admin" },
        VerifyCase(args: ["--as", "alice"]) { $0.kubectlFlags.asUser = "alice" },
        VerifyCase(args: ["--as=alice"]) { $0.kubectlFlags.asUser = "alice" },
        VerifyCase(args: ["--as-group", "sre", "--as-group=platform"]) { $0.kubectlFlags.asGroups = ["sre", "platform"] },
        VerifyCase(args: ["--request-timeout", "15s"]) { $0.kubectlFlags.requestTimeout = "15s" },
        VerifyCase(args: ["--request-timeout=15s"]) { $0.kubectlFlags.requestTimeout = "15s" },
        VerifyCase(args: ["-n", "team-a"]) { $0.gather.namespace = "team-a" },
        VerifyCase(args: ["-nteam-a"]) { $0.gather.namespace = "team-a" },
        VerifyCase(args: ["--namespace", "team-a"]) { $0.gather.namespace = "team-a" },
        VerifyCase(args: ["--namespace=team-a"]) { $0.gather.namespace = "team-a" },
        VerifyCase(args: ["--crossplane-namespace", "xp"]) { $0.gather.crossplaneNamespace = "xp" },
        VerifyCase(args: ["--crossplane-namespace=xp"]) { $0.gather.crossplaneNamespace = "xp" },
        VerifyCase(args: ["--subject", "provider-aws-s3", "--subject=provider/provider-aws-ec2"]) { $0.subjects = ["provider-aws-s3", "provider/provider-aws-ec2"] },
        VerifyCase(args: ["--only", "podid.association", "--only=podid.trust-policy"]) { $0.only = ["podid.association", "podid.trust-policy"] },
        VerifyCase(args: ["--skip", "cluster.cloud", "--skip=podid.role-chain"]) { $0.skip = ["cluster.cloud", "podid.role-chain"] },
        VerifyCase(args: ["--method", "pod-identity"]) { $0.gather.methodOverride = .podIdentity },
        VerifyCase(args: ["--method=irsa"]) { $0.gather.methodOverride = .irsa },
        VerifyCase(args: ["--cloud", "aws"]) { $0.gather.cloud = .aws },
        VerifyCase(args: ["--cloud=gcp"]) { $0.gather.cloud = .gcp },
        VerifyCase(args: ["--cloud", "azure"]) { $0.gather.cloud = .azure },
        VerifyCase(args: ["--cloud", "aws", "--cloud", "auto"]) { $0.gather.cloud = nil },
        VerifyCase(args: ["--no-cloud"]) { $0.gather.noCloud = true },
        VerifyCase(args: ["--cluster-name", "prod-eks"]) { $0.gather.clusterName = "prod-eks" },
        VerifyCase(args: ["--cluster-name=prod-eks"]) { $0.gather.clusterName = "prod-eks" },
        VerifyCase(args: ["--region", "eu-west-1"]) { $0.gather.region = "eu-west-1" },
        VerifyCase(args: ["--resource-group", "rg-platform"]) { $0.gather.resourceGroup = "rg-platform" },
        VerifyCase(args: ["--subscription", "0b1f6471-1bf0-4dda-aec3-111122223333"]) { $0.gather.subscription = "0b1f6471-1bf0-4dda-aec3-111122223333" },
        VerifyCase(args: ["--az", "/opt/az/bin/az"]) { $0.az = "/opt/az/bin/az" },
        VerifyCase(args: ["--gcloud", "/opt/gcloud"]) { $0.gcloud = "/opt/gcloud" },
        VerifyCase(args: [], environment: ["XPID_GCLOUD": "/opt/g"]) { $0.gcloud = "/opt/g" },
        VerifyCase(args: ["--project", "acme-platform"]) { $0.gather.project = "acme-platform" },
        VerifyCase(args: ["--location", "europe-west1"]) { $0.gather.location = "europe-west1" },
        VerifyCase(args: [], environment: ["XPID_AZ": "/opt/az"]) { $0.az = "/opt/az" },
        VerifyCase(args: ["--region=eu-west-1"]) { $0.gather.region = "eu-west-1" },
        VerifyCase(args: ["--kubectl", "/usr/local/bin/kubectl"]) { $0.kubectl = "/usr/local/bin/kubectl" },
        VerifyCase(args: ["--kubectl=/usr/local/bin/kubectl"]) { $0.kubectl = "/usr/local/bin/kubectl" },
        VerifyCase(args: ["--aws", "/opt/aws"]) { $0.aws = "/opt/aws" },
        VerifyCase(args: ["--aws=/opt/aws"]) { $0.aws = "/opt/aws" },
        VerifyCase(args: ["-o", "json"]) { $0.output = .json },
        VerifyCase(args: ["-ojson"]) { $0.output = .json },
        VerifyCase(args: ["--output", "json"]) { $0.output = .json },
        VerifyCase(args: ["--output=text"]) { $0.output = .text },
        VerifyCase(args: ["--no-color"]) { $0.noColor = true },
        VerifyCase(args: ["--fail-on", "warn"]) { $0.failOn = .warn },
        VerifyCase(args: ["--fail-on=fail"]) { $0.failOn = .fail },
        VerifyCase(args: ["-v"]) { $0.verbose = true },
        VerifyCase(args: ["--show-all"]) { $0.showAll = true },
        VerifyCase(args: ["--verbose"]) { $0.verbose = true },
        VerifyCase(args: ["--timeout", "2m"]) { $0.timeout = 120 },
        VerifyCase(args: ["--timeout=90s"]) { $0.timeout = 90 },
        VerifyCase(args: ["--timeout", "1m30s"]) { $0.timeout = 90 },
        VerifyCase(args: ["--timeout", "45"]) { $0.timeout = 45 },
        VerifyCase(args: ["--timeout", "1h"]) { $0.timeout = 3600 },
        VerifyCase(args: ["--concurrency", "16"]) { $0.gather.concurrency = 16 },
        VerifyCase(args: ["--concurrency=1"]) { $0.gather.concurrency = 1 },
        // Environment
        VerifyCase(args: [], environment: ["XPID_KUBECTL": "/opt/kubectl"]) { $0.kubectl = "/opt/kubectl" },
        VerifyCase(args: [], environment: ["XPID_KUBECTL": ""]) { _ in },
        VerifyCase(args: ["--kubectl", "/flag/kubectl"], environment: ["XPID_KUBECTL": "/env/kubectl"]) { $0.kubectl = "/flag/kubectl" },
        VerifyCase(args: [], environment: ["XPID_AWS": "/opt/aws"]) { $0.aws = "/opt/aws" },
        VerifyCase(args: [], environment: ["NO_COLOR": "1"]) { $0.noColor = true },
        VerifyCase(args: [], environment: ["NO_COLOR": ""]) { _ in },
        VerifyCase(args: ["--flux-namespace", "gitops"]) { $0.gather.fluxNamespace = "gitops" },
        VerifyCase(args: ["--target", "flux"]) { $0.gather.target = .flux },
        VerifyCase(args: ["--target=crossplane"]) { $0.gather.target = .crossplane },
        VerifyCase(args: ["-f", "a.yaml", "--filename", "dir/"]) { $0.files = ["a.yaml", "dir/"] },
        VerifyCase(args: ["--snapshot", "s.json"]) { $0.snapshot = "s.json" },
        VerifyCase(args: ["--save-snapshot", "s.json"]) { $0.saveSnapshot = "s.json" },
        VerifyCase(args: ["-o", "sarif"]) { $0.output = .sarif },
        VerifyCase(args: ["-o", "junit"]) { $0.output = .junit },
        // Several at once, in any order.
        VerifyCase(args: ["--context", "prod", "-o", "json", "--no-cloud", "--as-group", "a", "-n", "ns", "--fail-on=warn"]) {
            $0.kubectlFlags.context = "prod"
            $0.output = .json
            $0.gather.noCloud = true
            $0.kubectlFlags.asGroups = ["a"]
            $0.gather.namespace = "ns"
            $0.failOn = .warn
        },
    ]

    @Test("verify flags", arguments: verifyCases)
    func verify(_ c: VerifyCase) throws {
        let result = Parser.parse(["verify"] + c.args, environment: c.environment)
        guard case .success(.verify(let parsed)) = result else {
            Issue.record("expected verify, got \(result)")
            return
        }
        var expected = VerifyOptions()
        expected.gather.now = parsed.gather.now
        c.change(&expected)
        #expect(parsed == expected)
    }

    @Test("defaults")
    func defaults() throws {
        guard case .success(.verify(let o)) = Parser.parse(["verify"]) else { Issue.record("not verify"); return }
        #expect(o.output == .text)
        #expect(o.failOn == .fail)
        #expect(o.gather.concurrency == 8)
        #expect(o.gather.cloud == nil)
        #expect(!o.gather.noCloud)
        #expect(o.kubectl == nil && o.aws == nil)
        #expect(o.kubectlFlags == KubectlFlags())
    }

    @Test("every verify flag is covered by the table above")
    func tableCoversEveryFlag() {
        let used = Set(Self.verifyCases.flatMap(\.args).compactMap { a -> String? in
            if a.hasPrefix("--") { return String(a.dropFirst(2).split(separator: "=", maxSplits: 1)[0]) }
            if a.hasPrefix("-"), a.count >= 2 { return CommandModel.verify.flags.first { $0.short == a.dropFirst().first }?.long }
            return nil
        })
        let all = Set(CommandModel.verify.flags.map(\.long)).subtracting(["help"])
        #expect(all.subtracting(used).isEmpty, "flags without a parser case: \(all.subtracting(used).sorted())")
    }

    static let usageCases: [UsageCase] = [
        UsageCase(args: ["verify", "--target", "argo"], mentions: "--target", command: "verify"),
        UsageCase(args: ["verify", "--snapshot", "a", "--save-snapshot", "b"], mentions: "--save-snapshot", command: "verify"),
        UsageCase(args: ["verify", "-f", "a.yaml", "--snapshot", "b"], mentions: "-f", command: "verify"),
        UsageCase(args: ["fix", "-o", "sarif"], mentions: "--output", command: "fix"),
        UsageCase(args: ["verify", "--frobnicate"], mentions: "--frobnicate", command: "verify"),
        UsageCase(args: ["verify", "--frobnicate=1"], mentions: "--frobnicate", command: "verify"),
        UsageCase(args: ["verify", "-x"], mentions: "-x", command: "verify"),
        UsageCase(args: ["verify", "--fail-on", "error"], mentions: "--fail-on", command: "verify"),
        UsageCase(args: ["verify", "--fail-on=skip"], mentions: "--fail-on", command: "verify"),
        UsageCase(args: ["verify", "--cloud", "oracle"], mentions: "--cloud", command: "verify"),
        UsageCase(args: ["verify", "--output", "yaml"], mentions: "--output", command: "verify"),
        UsageCase(args: ["verify", "-o", "markdown"], mentions: "--output", command: "verify"),
        UsageCase(args: ["verify", "--method", "magic"], mentions: "--method", command: "verify"),
        UsageCase(args: ["verify", "--only", "podid.nope"], mentions: "podid.nope", command: "verify"),
        UsageCase(args: ["verify", "--skip", "irsa"], mentions: "irsa", command: "verify"),
        UsageCase(args: ["verify", "--timeout", "soon"], mentions: "--timeout", command: "verify"),
        UsageCase(args: ["verify", "--timeout", "0"], mentions: "--timeout", command: "verify"),
        UsageCase(args: ["verify", "--timeout", "-5s"], mentions: "--timeout", command: "verify"),
        UsageCase(args: ["verify", "--concurrency", "0"], mentions: "--concurrency", command: "verify"),
        UsageCase(args: ["verify", "--concurrency", "many"], mentions: "--concurrency", command: "verify"),
        UsageCase(args: ["verify", "--context"], mentions: "--context", command: "verify"),
        UsageCase(args: ["verify", "-n"], mentions: "--namespace", command: "verify"),
        UsageCase(args: ["verify", "--no-cloud=true"], mentions: "--no-cloud", command: "verify"),
        UsageCase(args: ["verify", "prod"], mentions: "prod", command: "verify"),
        UsageCase(args: ["verify", "--", "prod"], mentions: "prod", command: "verify"),
        UsageCase(args: ["explain"], mentions: "CHECK-ID", command: "explain"),
        UsageCase(args: ["explain", "podid.nope"], mentions: "podid.nope", command: "explain"),
        UsageCase(args: ["explain", "podid.association", "podid.trust-policy"], mentions: "one CHECK-ID", command: "explain"),
        UsageCase(args: ["completion"], mentions: "bash, zsh, fish", command: "completion"),
        UsageCase(args: ["completion", "powershell"], mentions: "bash, zsh, fish", command: "completion"),
        UsageCase(args: ["checks", "-o", "yaml"], mentions: "--output", command: "checks"),
        UsageCase(args: ["checks", "extra"], mentions: "extra", command: "checks"),
        UsageCase(args: ["version", "extra"], mentions: "extra", command: "version"),
        UsageCase(args: ["frobnicate"], mentions: "frobnicate", command: nil),
        UsageCase(args: ["--context", "prod"], mentions: "--context", command: nil),
        UsageCase(args: ["help", "frobnicate"], mentions: "frobnicate", command: nil),
    ]

    @Test("usage errors name what was wrong", arguments: usageCases)
    func usageError(_ c: UsageCase) {
        let result = Parser.parse(c.args)
        guard case .failure(let e) = result else {
            Issue.record("expected a usage error, got \(result)")
            return
        }
        #expect(e.message.contains(c.mentions), "\(e.message)")
        #expect(e.command == c.command)
    }

    static let invocationCases: [InvocationCase] = [
        InvocationCase(args: [], expected: .help(nil)),
        InvocationCase(args: ["-h"], expected: .help(nil)),
        InvocationCase(args: ["--help"], expected: .help(nil)),
        InvocationCase(args: ["help"], expected: .help(nil)),
        InvocationCase(args: ["help", "verify"], expected: .help("verify")),
        InvocationCase(args: ["verify", "--help"], expected: .help("verify")),
        InvocationCase(args: ["verify", "--context", "x", "-h"], expected: .help("verify")),
        InvocationCase(args: ["checks", "--help"], expected: .help("checks")),
        InvocationCase(args: ["explain", "-h"], expected: .help("explain")),
        InvocationCase(args: ["completion", "--help"], expected: .help("completion")),
        InvocationCase(args: ["version", "--help"], expected: .help("version")),
        InvocationCase(args: ["version"], expected: .version),
        InvocationCase(args: ["--version"], expected: .version),
        InvocationCase(args: ["checks"], expected: .checks(.text)),
        InvocationCase(args: ["checks", "-o", "json"], expected: .checks(.json)),
        InvocationCase(args: ["checks", "-o", "markdown"], expected: .checks(.markdown)),
        InvocationCase(args: ["checks", "--output=markdown"], expected: .checks(.markdown)),
        InvocationCase(args: ["explain", "podid.association"], expected: .explain("podid.association")),
        InvocationCase(args: ["completion", "bash"], expected: .completion(.bash)),
        InvocationCase(args: ["completion", "zsh"], expected: .completion(.zsh)),
        InvocationCase(args: ["completion", "fish"], expected: .completion(.fish)),
        InvocationCase(args: ["__complete", "verify", "--cl"], expected: .complete(["verify", "--cl"])),
        InvocationCase(args: ["__complete", ""], expected: .complete([""])),
    ]

    @Test("commands", arguments: invocationCases)
    func invocation(_ c: InvocationCase) {
        let result = Parser.parse(c.args)
        guard case .success(let inv) = result else {
            Issue.record("expected \(c.expected), got \(result)")
            return
        }
        #expect(inv == c.expected)
    }

    @Test(
        "characters after a short boolean flag are not silently dropped")
    func shortBooleanWithTail() {
        for args in [["verify", "-vx"], ["verify", "-v=1"]] {
            guard case .failure(let e) = Parser.parse(args) else {
                Issue.record("\(args) parsed without an error")
                continue
            }
            #expect(e.command == "verify")
        }
    }

    @Test("durations", arguments: [
        ("90", 90.0 as Double?), ("90s", 90), ("2m", 120), ("1m30s", 90), ("1h", 3600), ("1.5m", 90), ("0.5", 0.5),
        ("", 0), ("m", nil), ("5x", nil), ("s5", nil), ("5m3", nil), ("-1s", nil),
    ])
    func durations(_ text: String, _ seconds: Double?) {
        #expect(Parser.parseDuration(text) == seconds)
    }
}
