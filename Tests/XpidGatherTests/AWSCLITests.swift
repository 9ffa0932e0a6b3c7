import Foundation
import Testing
import XpidCore
import XpidGather
import XpidTestSupport

struct ClassifyCase: Sendable, CustomTestStringConvertible {
    var stderr: String
    var kind: CloudError.Kind
    var testDescription: String { "\(kind): \(stderr.prefix(60))" }
}

@Suite("AWSCLI adapter")
struct AWSCLITests {
    static let cases: [ClassifyCase] = [
        ClassifyCase(stderr: "Unable to locate credentials. You can configure credentials by running \"aws configure\".\n", kind: .notLoggedIn),
        ClassifyCase(stderr: "\nAn error occurred (ExpiredToken) when calling the ListPodIdentityAssociations operation: The security token included in the request is expired\n", kind: .notLoggedIn),
        ClassifyCase(stderr: "\nAn error occurred (ResourceNotFoundException) when calling the DescribeAddon operation: No addon: eks-pod-identity-agent found in cluster: prod-eks\n", kind: .notFound),
        ClassifyCase(stderr: "\nAn error occurred (AccessDeniedException) when calling the ListPodIdentityAssociations operation: User: arn:aws:iam::123456789012:user/x is not authorized to perform: eks:ListPodIdentityAssociations\n", kind: .accessDenied),
        ClassifyCase(stderr: "\nAn error occurred (AccessDenied) when calling the GetRole operation: User: arn:aws:iam::123456789012:user/x is not authorized to perform: iam:GetRole on resource: role x\n", kind: .accessDenied),
        ClassifyCase(stderr: "\nAn error occurred (NoSuchEntity) when calling the GetRole operation: The role with name x cannot be found.\n", kind: .notFound),
        ClassifyCase(stderr: "\nRead timeout on endpoint URL: \"https://eks.us-east-2.amazonaws.com/clusters/prod-eks\"\n", kind: .timeout),
        ClassifyCase(stderr: "\nCould not connect to the endpoint URL: \"https://eks.mars-1.amazonaws.com/clusters/prod-eks\"\n", kind: .other),
    ]

    @Test("classify stderr", arguments: cases)
    func classify(_ c: ClassifyCase) {
        let e = AWSCLI.classify(stderr: c.stderr, command: Command(argv: ["aws", "x"]))
        #expect(e.kind == c.kind)
        #expect(e.command.argv == ["aws", "x"])
        // The message is the CLI's first meaningful line, not the whole text.
        let firstLine = c.stderr.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        #expect(e.message == firstLine)
    }

    @Test("argv: JSON output and the region on every call")
    func argvShape() {
        let aws = AWSCLI(region: "us-east-2", runner: FakeCommandRunner())
        #expect(aws.argv(["eks", "describe-cluster", "--name", "prod-eks"]) == ["aws", "eks", "describe-cluster", "--name", "prod-eks", "--region", "us-east-2", "--output", "json"])
        let noRegion = AWSCLI(executable: "/opt/aws", region: nil, runner: FakeCommandRunner())
        #expect(noRegion.argv(["iam", "get-role", "--role-name", "r"]) == ["/opt/aws", "iam", "get-role", "--role-name", "r", "--output", "json"])
    }

    static let getRoleArgv = ["aws", "iam", "get-role", "--role-name", "x", "--region", "us-east-2", "--output", "json"]

    @Test("getRole: NoSuchEntity is notFound")
    func getRoleNotFound() async {
        let runner = FakeCommandRunner()
        runner.stub(Self.getRoleArgv, stderr: "\nAn error occurred (NoSuchEntity) when calling the GetRole operation: The role with name x cannot be found.\n", exit: 255)
        let aws = AWSCLI(region: "us-east-2", runner: runner)
        let read = await aws.getRole(arn: "arn:aws:iam::123456789012:role/x")
        #expect(read == .notFound("An error occurred (NoSuchEntity) when calling the GetRole operation: The role with name x cannot be found."))
        #expect(runner.unexpected.isEmpty)
    }

    @Test("getRole: a role path is dropped from the name; the trust policy is read")
    func getRoleValue() async throws {
        let runner = FakeCommandRunner()
        runner.stubJSON(Self.getRoleArgv, AWSJSON.getRole(name: "x", trust: AWSJSON.podIdentityTrust))
        let aws = AWSCLI(region: "us-east-2", runner: runner)
        let role = try #require(await aws.getRole(arn: "arn:aws:iam::123456789012:role/service-role/x").value)
        #expect(role.name == "x")
        #expect(role.trustPolicy == AWSJSON.podIdentityTrust)
    }

    @Test("getRole: a non-role ARN is not sent to aws")
    func getRoleBadARN() async {
        let runner = FakeCommandRunner()
        let read = await AWSCLI(region: "us-east-2", runner: runner).getRole(arn: "arn:aws:iam::123456789012:user/x")
        guard case .failed(let e) = read else { Issue.record("expected failed, got \(read)"); return }
        #expect(e.kind == .other)
        #expect(runner.calls.isEmpty)
    }

    @Test("IAMRole accepts a URL-encoded policy string too")
    func urlEncodedPolicy() throws {
        let encoded = AWSJSON.podIdentityTrust.compactText().addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let role = try #require(IAMRole(getRoleOutput: ["Role": ["RoleName": "x", "Arn": "arn:aws:iam::123456789012:role/x", "AssumeRolePolicyDocument": .string(encoded)]]))
        #expect(role.trustPolicy == AWSJSON.podIdentityTrust)
    }

    struct TerminationCase: Sendable, CustomTestStringConvertible {
        var name: String
        var termination: Termination
        var stdout: String
        var stderr: String
        var kind: CloudError.Kind
        var testDescription: String { "\(name) → \(kind)" }
    }

    static let terminations: [TerminationCase] = [
        TerminationCase(name: "aws missing", termination: .launchFailed("aws: command not found"), stdout: "", stderr: "", kind: .cliMissing),
        TerminationCase(name: "timeout", termination: .timedOut(seconds: 60), stdout: "", stderr: "", kind: .timeout),
        TerminationCase(name: "non-JSON stdout with exit 0", termination: .exited(0), stdout: "<html>captive portal</html>", stderr: "", kind: .malformedOutput),
        TerminationCase(name: "signal", termination: .signaled(9), stdout: "", stderr: "", kind: .other),
        TerminationCase(name: "access denied", termination: .exited(255), stdout: "",
            stderr: "\nAn error occurred (AccessDeniedException) when calling the ListPodIdentityAssociations operation: User: arn:aws:iam::123456789012:user/x is not authorized to perform: eks:ListPodIdentityAssociations\n", kind: .accessDenied),
    ]

    @Test("how a call ends", arguments: terminations)
    func callTermination(_ c: TerminationCase) async {
        let argv = ["aws", "eks", "list-pod-identity-associations", "--cluster-name", "prod-eks", "--region", "us-east-2", "--output", "json"]
        let runner = FakeCommandRunner()
        runner.stub(argv, termination: c.termination, stdout: c.stdout, stderr: c.stderr)
        let read = await AWSCLI(region: "us-east-2", runner: runner).listPodIdentityAssociations(cluster: "prod-eks")
        guard case .failed(let e) = read else { Issue.record("expected failed, got \(read)"); return }
        #expect(e.kind == c.kind)
        #expect(e.command.line == "aws eks list-pod-identity-associations --cluster-name prod-eks --region us-east-2 --output json")
        #expect(runner.unexpected.isEmpty)
    }

    @Test("describe-addon: ResourceNotFoundException is notFound; list: JSON without associations is malformed")
    func addonAndList() async {
        let runner = FakeCommandRunner()
        let seed = SeedCluster()
        runner.stub(seed.describeAddonArgv, stderr: AWSJSON.describeAddonNotFound, exit: 255)
        runner.stubJSON(seed.listAssociationsArgv, ["nextToken": "abc"])
        let aws = AWSCLI(region: "us-east-2", runner: runner)
        let addon = await aws.describeAddon(cluster: "prod-eks", addon: "eks-pod-identity-agent")
        #expect(addon == .notFound("An error occurred (ResourceNotFoundException) when calling the DescribeAddon operation: No addon: eks-pod-identity-agent found in cluster: prod-eks"))
        let list = await aws.listPodIdentityAssociations(cluster: "prod-eks")
        guard case .failed(let e) = list else { Issue.record("expected failed, got \(list)"); return }
        #expect(e.kind == .malformedOutput)
    }

    @Test("list + describe parse awscli output, times included")
    func parseAssociations() async throws {
        let seed = SeedCluster()
        let runner = seed.runner()
        let aws = AWSCLI(region: "us-east-2", runner: runner)
        let listed = try #require(await aws.listPodIdentityAssociations(cluster: "prod-eks").value)
        #expect(listed.map(\.id) == [SeedCluster.associationID, SeedCluster.otherAssociationID])
        #expect(listed.allSatisfy { $0.roleArn == nil }, "list does not return roleArn")
        let described = try #require(await aws.describePodIdentityAssociation(cluster: "prod-eks", id: SeedCluster.associationID).value)
        #expect(described.roleArn == SeedCluster.roleArn)
        #expect(described.namespace == "crossplane-system")
        #expect(described.serviceAccount == SeedCluster.podIdentitySA)
        let created = try #require(described.createdAt)
        #expect(abs(created.timeIntervalSince1970 - 1_793_520_000.123) < 0.001)
    }

    @Test("the gatherer passes aws failures through as cloud reads, per call")
    func gatherWithAWSFailures() async throws {
        let seed = SeedCluster()
        let runner = seed.runner()
        runner.stub(seed.listAssociationsArgv, stderr: "\nAn error occurred (AccessDeniedException) when calling the ListPodIdentityAssociations operation: User: arn:aws:iam::123456789012:user/x is not authorized to perform: eks:ListPodIdentityAssociations\n", exit: 255)
        runner.stub(seed.describeAddonArgv, stderr: AWSJSON.describeAddonNotFound, exit: 255)
        let gathered = try #require(await gather(runner).successValue)
        let s = gathered.snapshot
        #expect(s.aws.associations.failedError?.kind == .accessDenied)
        guard case .notFound = s.aws.podIdentityAddon else { Issue.record("addon: \(s.aws.podIdentityAddon)"); return }
        #expect(s.aws.cluster.value?.name == "prod-eks")
        #expect(!runner.calls.contains { $0.contains("describe-pod-identity-association") || $0.contains("get-role") })
    }

    @Test("the aws CLI missing: every cloud read fails with cliMissing, gather still succeeds")
    func gatherAWSMissing() async throws {
        let seed = SeedCluster()
        let runner = FakeCommandRunner()
        seed.stubKubectl(on: runner)
        for argv in [seed.describeClusterArgv, seed.describeAddonArgv, seed.listAssociationsArgv] {
            runner.stub(argv, termination: .launchFailed("aws: command not found"))
        }
        let gathered = try #require(await gather(runner).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(gathered.snapshot.aws.cluster.failedError?.kind == .cliMissing)
        #expect(gathered.snapshot.aws.podIdentityAddon.failedError?.kind == .cliMissing)
        #expect(gathered.snapshot.aws.associations.failedError?.kind == .cliMissing)
    }
}
