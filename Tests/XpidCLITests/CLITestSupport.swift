import Foundation
import XpidCLI
import XpidCore
import XpidGather
import XpidTestSupport

/// Collects what the CLI writes (thread-safe: `out`/`err` are `@Sendable` closures).
final class Capture: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""

    var out: String { lock.withLock { outText } }
    var err: String { lock.withLock { errText } }

    func console(runner: any CommandRunner = FakeCommandRunner(), environment: [String: String] = [:], tty: Bool = false) -> Console {
        Console(
            out: { s in self.lock.withLock { self.outText += s } },
            err: { s in self.lock.withLock { self.errText += s } },
            stdoutIsTTY: tty, stderrIsTTY: tty, environment: environment, runner: runner)
    }
}

/// Runs the CLI with a fake runner and returns (exit code, stdout, stderr).
func runCLI(_ args: [String], runner: FakeCommandRunner = FakeCommandRunner(), environment: [String: String] = [:], tty: Bool = false) async -> (Int32, String, String) {
    let capture = Capture()
    let code = await XpidCLI.run(args, console: capture.console(runner: runner, environment: environment, tty: tty))
    return (code, capture.out, capture.err)
}

/// The package root: walk up from this file to the folder holding Package.swift.
func packageRoot(_ file: String = #filePath) -> URL? {
    var dir = URL(fileURLWithPath: file).deletingLastPathComponent()
    while dir.path != "/" {
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

/// A fixed report exercising every status, remediation and note shape.
enum FixedReport {
    static let generatedAt = Date(timeIntervalSince1970: 1_795_341_600)  // 2026-11-22T10:00:00Z

    static func make() -> Report {
        let cluster = ClusterInfo(
            context: "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks", server: "https://ABCDEF0123456789.gr7.us-east-2.eks.amazonaws.com",
            cloud: .aws, cloudEvidence: "node ip-10-0-1-10 providerID aws:///us-east-2a/i-0abc", name: "prod-eks", region: "us-east-2")
        let subjects = [
            Subject(kind: .provider, name: "provider-aws-s3", namespace: "crossplane-system", serviceAccountName: "provider-aws-pod-identity",
                method: .podIdentity, methodEvidence: "EKS Pod Identity association for crossplane-system/provider-aws-pod-identity"),
            Subject(kind: .provider, name: "upbound-provider-family-aws", namespace: "crossplane-system", method: .none, methodEvidence: "family provider"),
            Subject(kind: .function, name: "function-auto-ready", namespace: "crossplane-system", serviceAccountName: "function-auto-ready", method: .none, methodEvidence: "no workload identity configured"),
        ]
        let findings = [
            Finding(check: "cluster.cloud", status: .pass, subject: "cluster", message: "cloud is aws (node ip-10-0-1-10 providerID aws:///us-east-2a/i-0abc)", evidence: ["evidence": "node ip-10-0-1-10 providerID aws:///us-east-2a/i-0abc"]),
            Finding(check: "cluster.access", status: .error, subject: "cluster", message: "cannot list pods in namespace crossplane-system",
                evidence: ["verb": "list", "resource": "pods"],
                remediation: Remediation("grant list on pods", commands: [Command(argv: ["kubectl", "create", "role", "xpid-read-pods", "-n", "crossplane-system", "--verb=get,list", "--resource=pods"])])),
            Finding(check: "podid.association", status: .fail, subject: "provider/provider-aws-s3",
                message: "no EKS Pod Identity association for crossplane-system/provider-aws-pod-identity in cluster prod-eks",
                evidence: ["listed": "2 associations in crossplane-system, none for this service account"],
                remediation: Remediation("create the association", commands: [Command(["aws", "eks", "create-pod-identity-association", "--cluster-name", "prod-eks", "--namespace", "crossplane-system", "--service-account", "provider-aws-pod-identity", "--role-arn", .variable("ROLE_ARN", meaning: "the ARN of the IAM role the ServiceAccount should get"), "--region", "us-east-2"], effect: .change)])),
            Finding(check: "podid.trust-policy", status: .skip, subject: "provider/provider-aws-s3", message: "blocked by podid.association (fail)"),
            Finding(check: "podid.irsa-shadowing", status: .warn, subject: "provider/provider-aws-s3",
                message: "ServiceAccount crossplane-system/provider-aws-pod-identity still has eks.amazonaws.com/role-arn",
                evidence: ["annotation": "arn:aws:iam::123456789012:role/old"],
                remediation: Remediation("remove the stale annotation", commands: [Command(argv: ["kubectl", "-n", "crossplane-system", "annotate", "serviceaccount", "provider-aws-pod-identity", "eks.amazonaws.com/role-arn-"], effect: .change)]), fixable: true),
            Finding(check: "crossplane.package-health", status: .pass, subject: "provider/upbound-provider-family-aws", message: "Installed and Healthy (revision upbound-provider-family-aws-7d1a4b5c6e2f)"),
        ]
        return Report(version: "0.1.0", generatedAt: generatedAt, cluster: cluster, subjects: subjects, findings: findings,
            notes: ["Crossplane namespace crossplane-system (where Deployment crossplane runs)"])
    }
}
