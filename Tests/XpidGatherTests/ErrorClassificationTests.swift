import Foundation
import Testing
import XpidCore
import XpidGather
import XpidTestSupport

/// How a kubectl failure at the start of a gather is classified (these all mean exit 2).
struct KubectlFailureCase: Sendable, CustomTestStringConvertible {
    var name: String
    var expected: String
    var messageContains: String
    var stub: @Sendable (SeedCluster, FakeCommandRunner) -> Void
    var testDescription: String { "\(name) → .\(expected)" }
}

@Suite("kubectl error classification")
struct KubectlErrorTests {
    static let cases: [KubectlFailureCase] = [
        KubectlFailureCase(name: "kubectl missing", expected: "missing", messageContains: "kubectl not found") { seed, r in
            r.stub(seed.configViewArgv, termination: .launchFailed("kubectl: command not found"))
            r.stub(seed.apiResourcesArgv, termination: .launchFailed("kubectl: command not found"))
        },
        KubectlFailureCase(name: "connection refused", expected: "unreachable", messageContains: "dial tcp 127.0.0.1:1") { seed, r in
            r.stubJSON(seed.configViewArgv, seed.configView)
            r.stub(seed.apiResourcesArgv, stderr: "Unable to connect to the server: dial tcp 127.0.0.1:1: connect: connection refused\n", exit: 1)
        },
        KubectlFailureCase(name: "not logged in", expected: "unauthorized", messageContains: "You must be logged in") { seed, r in
            r.stubJSON(seed.configViewArgv, seed.configView)
            r.stub(seed.apiResourcesArgv, stderr: "error: You must be logged in to the server (Unauthorized)\n", exit: 1)
        },
        KubectlFailureCase(name: "exec plugin fails", expected: "unauthorized", messageContains: "getting credentials") { seed, r in
            r.stubJSON(seed.configViewArgv, seed.configView)
            r.stub(seed.apiResourcesArgv, stderr: "Unable to retrieve credentials: getting credentials: exec: executable aws failed with exit code 255\n", exit: 1)
        },
        KubectlFailureCase(name: "kubectl timed out", expected: "timedOut", messageContains: "timed out") { seed, r in
            r.stubJSON(seed.configViewArgv, seed.configView)
            r.stub(seed.apiResourcesArgv, termination: .timedOut(seconds: 60))
        },
        KubectlFailureCase(name: "request deadline", expected: "timedOut", messageContains: "context deadline exceeded") { seed, r in
            r.stubJSON(seed.configViewArgv, seed.configView)
            r.stub(seed.apiResourcesArgv, stderr: "error: Get \"https://example/api\": context deadline exceeded\n", exit: 1)
        },
        KubectlFailureCase(name: "config view prints no JSON", expected: "malformed", messageContains: "not JSON") { seed, r in
            r.stub(seed.configViewArgv, stdout: "apiVersion: v1\nkind: Config\n")
            r.stub(seed.apiResourcesArgv, stdout: seed.apiResources.joined(separator: "\n"))
        },
        KubectlFailureCase(name: "get prints no JSON", expected: "malformed", messageContains: "not a JSON List") { seed, r in
            seed.stubKubectl(on: r)
            r.stub(seed.builtinBatchArgv, stdout: "<html>502 Bad Gateway</html>")
        },
        KubectlFailureCase(name: "no current context", expected: "noContext", messageContains: "current-context") { seed, r in
            r.stub(seed.configViewArgv, stderr: "error: current-context is not set\n", exit: 1)
            r.stub(seed.apiResourcesArgv, stderr: "error: current-context is not set\n", exit: 1)
        },
        KubectlFailureCase(name: "killed by a signal", expected: "other", messageContains: "signal 9") { seed, r in
            r.stub(seed.configViewArgv, termination: .signaled(9))
            r.stub(seed.apiResourcesArgv, stdout: seed.apiResources.joined(separator: "\n"))
        },
        KubectlFailureCase(name: "server error on the batch", expected: "other", messageContains: "InternalError") { seed, r in
            seed.stubKubectl(on: r)
            r.stub(seed.builtinBatchArgv, stderr: "Error from server (InternalError): an error on the server (\"\") has prevented the request from succeeding\n", exit: 1)
        },
    ]

    @Test("gather fails with the right classification", arguments: cases)
    func classification(_ c: KubectlFailureCase) async throws {
        let seed = SeedCluster()
        let runner = FakeCommandRunner()
        c.stub(seed, runner)
        let failure = try #require(await gather(runner).failureValue, "gather succeeded")
        #expect(caseName(failure) == c.expected, "\(failure)")
        #expect(failure.message.contains(c.messageContains), "\(failure.message)")
        // Round 1 reads the built-in kinds and the likely namespace beside the context and discovery.
        let roundOne: Set<[String]> = [seed.builtinBatchArgv, seed.crossplaneBatchArgv]
        #expect(runner.unexpected.allSatisfy(roundOne.contains), "\(runner.unexpected)")
        #expect(runner.calls(to: "aws").isEmpty)
    }

    @Test("fatalFailure: exit 0 and ordinary errors are not fatal")
    func notFatal() {
        #expect(Kubectl.fatalFailure(CommandResult(argv: ["kubectl"], termination: .exited(0))) == nil)
        let notFound = CommandResult(argv: ["kubectl"], termination: .exited(1), stderr: Data(#"Error from server (NotFound): deployments.apps "x" not found"#.utf8))
        #expect(Kubectl.fatalFailure(notFound) == nil)
    }
}

struct ForbiddenCase: Sendable, CustomTestStringConvertible {
    var line: String
    var verb: String
    var resource: String
    var group: String
    var namespace: String?
    var testDescription: String { "\(verb) \(resource).\(group) \(namespace ?? "cluster scope")" }
}

@Suite("ForbiddenError.parse")
struct ForbiddenErrorTests {
    static let cases: [ForbiddenCase] = [
        ForbiddenCase(
            line: #"Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "crossplane-system""#,
            verb: "list", resource: "pods", group: "", namespace: "crossplane-system"),
        ForbiddenCase(
            line: #"Error from server (Forbidden): nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope"#,
            verb: "list", resource: "nodes", group: "", namespace: nil),
        ForbiddenCase(
            line: #"Error from server (Forbidden): providers.pkg.crossplane.io is forbidden: User "alice" cannot list resource "providers" in API group "pkg.crossplane.io" at the cluster scope"#,
            verb: "list", resource: "providers", group: "pkg.crossplane.io", namespace: nil),
        ForbiddenCase(
            line: #"Error from server (Forbidden): daemonsets.apps is forbidden: User "system:serviceaccount:ci:reader" cannot get resource "daemonsets" in API group "apps" in the namespace "kube-system""#,
            verb: "get", resource: "daemonsets", group: "apps", namespace: "kube-system"),
        ForbiddenCase(
            line: #"Error from server (Forbidden): serviceaccounts "x" is forbidden: User "u" cannot patch resource "serviceaccounts" in API group "" in the namespace "ns""#,
            verb: "patch", resource: "serviceaccounts", group: "", namespace: "ns"),
    ]

    @Test("one line", arguments: cases)
    func parseLine(_ c: ForbiddenCase) throws {
        let parsed = ForbiddenError.parse(c.line)
        try #require(parsed.count == 1)
        #expect(parsed[0].verb == c.verb)
        #expect(parsed[0].resource == c.resource)
        #expect(parsed[0].group == c.group)
        #expect(parsed[0].namespace == c.namespace)
        #expect(!parsed[0].message.hasPrefix("Error from server"))
        #expect(parsed[0].message.hasSuffix(c.line.components(separatedBy: "(Forbidden): ").last ?? ""))
    }

    @Test("several lines; unrelated lines ignored")
    func parseSeveral() {
        let stderr = Self.cases[0].line + "\nWarning: something unrelated\n" + Self.cases[2].line + "\n"
        let parsed = ForbiddenError.parse(stderr)
        #expect(parsed.map(\.resource) == ["pods", "providers"])
        #expect(ForbiddenError.parse("error: You must be logged in to the server (Unauthorized)").isEmpty)
        #expect(ForbiddenError.parse("").isEmpty)
    }
}
