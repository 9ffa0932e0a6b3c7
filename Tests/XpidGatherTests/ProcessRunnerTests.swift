import Foundation
import Testing
import XpidGather

@Suite("ProcessRunner (real processes)")
struct ProcessRunnerTests {
    @Test("exit status and both streams")
    func exitAndStreams() async {
        let r = await ProcessRunner().run(["/bin/sh", "-c", "printf out; printf err >&2; exit 3"], timeout: 30)
        #expect(r.termination == .exited(3))
        #expect(r.stdoutText == "out")
        #expect(r.stderrText == "err")
        #expect(r.argv == ["/bin/sh", "-c", "printf out; printf err >&2; exit 3"])
        #expect(!r.succeeded)
    }

    @Test("arguments are passed as argv, never through a shell")
    func argvNotShell() async {
        let r = await ProcessRunner().run(["/bin/sh", "-c", "printf '%s|' \"$@\"", "sh", "a b", "$HOME", "*"], timeout: 30)
        #expect(r.termination == .exited(0))
        #expect(r.stdoutText == "a b|$HOME|*|")
    }

    @Test("1 MB on stdout and on stderr does not deadlock")
    func largeOutput() async {
        let r = await ProcessRunner().run(["/bin/sh", "-c", "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2"], timeout: 60)
        #expect(r.termination == .exited(0))
        #expect(r.stdout.count == 1_048_576)
        #expect(r.stderr.count == 1_048_576)
    }

    @Test("a missing executable is a launch failure", arguments: ["/nonexistent/xpid-no-such-tool", "xpid-no-such-tool-on-path"])
    func missingExecutable(program: String) async {
        let r = await ProcessRunner().run([program, "version"], timeout: 5)
        guard case .launchFailed(let message) = r.termination else {
            Issue.record("expected launchFailed, got \(r.termination)")
            return
        }
        #expect(message.contains(program))
    }

    @Test("an empty argv is a launch failure")
    func emptyArgv() async {
        let r = await ProcessRunner().run([], timeout: 5)
        #expect(r.termination == .launchFailed("empty command"))
    }

    @Test("a process that outlives its timeout is reported as timed out")
    func timeout() async {
        let r = await ProcessRunner().run(["sleep", "5"], timeout: 0.5)
        #expect(r.termination == .timedOut(seconds: 0.5))
    }

    /// A timed-out command is sent SIGTERM (then SIGKILL 2 s later). That only works when the child
    /// does not inherit a signal mask that blocks SIGTERM.
    @Test(
        "children start with SIGTERM and SIGINT unblocked",
        .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status"), "needs Linux /proc")
    )
    func childSignalMask() async throws {
        let r = await ProcessRunner().run(["/bin/cat", "/proc/self/status"], timeout: 30)
        #expect(r.termination == .exited(0))
        let line = try #require(r.stdoutText.split(separator: "\n").first { $0.hasPrefix("SigBlk:") })
        let mask = try #require(UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16))
        #expect(mask & (1 << (UInt64(SIGTERM) - 1)) == 0, "SIGTERM blocked in the child (SigBlk \(String(mask, radix: 16)))")
        #expect(mask & (1 << (UInt64(SIGINT) - 1)) == 0, "SIGINT blocked in the child (SigBlk \(String(mask, radix: 16)))")
    }

    @Test("the given environment is the child's environment, PATH included")
    func environment() async {
        let runner = ProcessRunner(environment: ["PATH": "/usr/bin:/bin", "XPID_TEST_VALUE": "hello"])
        let r = await runner.run(["sh", "-c", "printf %s \"$XPID_TEST_VALUE\""], timeout: 30)
        #expect(r.termination == .exited(0))
        #expect(r.stdoutText == "hello")
        let none = await ProcessRunner(environment: ["PATH": "/nonexistent"]).run(["sh", "-c", "true"], timeout: 5)
        #expect(none.termination == .launchFailed("sh: command not found"))
    }

    @Test("PATH resolution: names are looked up, paths with / are used as given")
    func resolve() {
        #expect(ProcessRunner.resolve("sh", path: "/nonexistent:/bin")?.path == "/bin/sh")
        #expect(ProcessRunner.resolve("sh", path: "/nonexistent") == nil)
        #expect(ProcessRunner.resolve("/bin/sh", path: "/nonexistent")?.path == "/bin/sh")
        #expect(ProcessRunner.resolve("./no-such-file", path: "/bin") == nil)
    }

    @Test("displayCommand quotes what a shell would need quoted")
    func displayCommand() {
        let r = CommandResult(argv: ["kubectl", "get", "pods", "-l", "a=b c", "it's"], termination: .exited(0))
        #expect(r.displayCommand == "kubectl get pods -l 'a=b c' 'it'\\''s'")
    }
}
