import Foundation
import Testing
import XpidCore
import XpidGather
import XpidTestSupport

@Suite("FakeCommandRunner (the contract tier's own tool)")
struct FakeCommandRunnerTests {
    @Test("argv is the key: [\"a b\"] and [\"a\", \"b\"] are different commands")
    func argvIsTheKey() async {
        let fake = FakeCommandRunner()
        fake.stub(["a b"], stdout: "joined")
        fake.stub(["a", "b"], stdout: "split")
        let joined = await fake.run(["a b"], timeout: 1)
        let split = await fake.run(["a", "b"], timeout: 1)
        #expect(joined.stdoutText == "joined")
        #expect(split.stdoutText == "split")
        let other = await fake.run(["a", "b", ""], timeout: 1)
        #expect(other.termination == .launchFailed("unstubbed: [\"a\", \"b\", \"\"]"))
        #expect(fake.unexpected == [["a", "b", ""]])
    }

    @Test("calls are recorded in order, with their timeouts")
    func callsRecorded() async {
        let fake = FakeCommandRunner()
        fake.stub(["kubectl", "version"], stdout: "v1.32")
        fake.stub(["aws", "--version"], stderr: "aws-cli/1.40", exit: 0)
        _ = await fake.run(["kubectl", "version"], timeout: 5)
        _ = await fake.run(["aws", "--version"], timeout: 7)
        _ = await fake.run(["kubectl", "version"], timeout: 9)
        #expect(fake.calls == [["kubectl", "version"], ["aws", "--version"], ["kubectl", "version"]])
        #expect(fake.timeouts == [5, 7, 9])
        #expect(fake.calls(to: "kubectl").count == 2)
        #expect(fake.unexpected.isEmpty)
    }

    @Test("unstubbed argv is a launch failure and is reported in unexpected")
    func unstubbedReported() async {
        let fake = FakeCommandRunner()
        let r = await fake.run(["kubectl", "get", "pods"], timeout: 1)
        guard case .launchFailed(let message) = r.termination else {
            Issue.record("expected launchFailed, got \(r.termination)")
            return
        }
        #expect(message.hasPrefix("unstubbed: "))
        #expect(message.contains("get"))
        #expect(fake.unexpected == [["kubectl", "get", "pods"]])
        #expect(fake.calls == [["kubectl", "get", "pods"]])
    }

    @Test("stubbed terminations and streams are returned as given")
    func terminations() async {
        let fake = FakeCommandRunner()
        fake.stub(["x"], termination: .timedOut(seconds: 3))
        fake.stub(["y"], stdout: "o", stderr: "e", exit: 3)
        fake.stub(["z"], termination: .signaled(9), stderr: "killed")
        #expect(await fake.run(["x"], timeout: 1).termination == .timedOut(seconds: 3))
        let y = await fake.run(["y"], timeout: 1)
        #expect(y.termination == .exited(3))
        #expect(y.stdoutText == "o")
        #expect(y.stderrText == "e")
        #expect(y.argv == ["y"])
        let z = await fake.run(["z"], timeout: 1)
        #expect(z.termination == .signaled(9))
        #expect(z.stderrText == "killed")
    }

    @Test("a later stub for the same argv replaces the earlier one")
    func restub() async {
        let fake = FakeCommandRunner()
        fake.stub(["k"], stdout: "first")
        fake.stub(["k"], stdout: "second")
        #expect(await fake.run(["k"], timeout: 1).stdoutText == "second")
    }

    @Test("concurrent calls are all recorded")
    func concurrent() async {
        let fake = FakeCommandRunner()
        for i in 0..<200 { fake.stub(["cmd", "\(i)"], stdout: "\(i)") }
        let outputs = await withTaskGroup(of: String.self) { group in
            for i in 0..<200 { group.addTask { await fake.run(["cmd", "\(i)"], timeout: 1).stdoutText } }
            var all: [String] = []
            for await o in group { all.append(o) }
            return all
        }
        #expect(Set(outputs) == Set((0..<200).map(String.init)))
        #expect(fake.calls.count == 200)
        #expect(Set(fake.calls) == Set((0..<200).map { ["cmd", "\($0)"] }))
        #expect(fake.unexpected.isEmpty)
    }

    @Test("the kubectl List helper prints what kubectl prints")
    func listHelper() throws {
        let text = KubeJSON.listText([KubeJSON.serviceAccount("a", namespace: "ns")])
        let parsed = try JSONValue.parse(text)
        #expect(parsed["kind"] == "List")
        #expect(parsed["apiVersion"] == "v1")
        #expect(parsed["items"].array.count == 1)
        #expect(parsed["items"][0].at("metadata", "name") == "a")
    }
}
