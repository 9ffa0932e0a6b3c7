import Foundation
import XpidCore
import XpidGather

/// A `CommandRunner` for contract tests: answers only the argv it was told about.
///
/// Stubs are keyed by the whole argv `[String]` (never a joined string, so `["a b"]` and
/// `["a", "b"]` are different commands). Every call is recorded in order; a call nobody
/// stubbed answers `.launchFailed("unstubbed: …")` and is also recorded in `unexpected`,
/// so a test can assert `unexpected.isEmpty`. Thread-safe: the gatherer runs calls concurrently.
public final class FakeCommandRunner: CommandRunner, @unchecked Sendable {
    public struct Answer: Sendable, Equatable {
        public var termination: Termination
        public var stdout: Data
        public var stderr: Data

        public init(termination: Termination, stdout: Data = Data(), stderr: Data = Data()) {
            self.termination = termination
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    private let lock = NSLock()
    private var answers: [[String]: Answer] = [:]
    private var log: [[String]] = []
    private var timeoutLog: [Double] = []
    private var unstubbed: [[String]] = []
    private var inputLog: [Data?] = []

    public init() {}

    /// Answers `argv` with an exit status and output.
    public func stub(_ argv: [String], stdout: String = "", stderr: String = "", exit: Int32 = 0) {
        stub(argv, termination: .exited(exit), stdout: stdout, stderr: stderr)
    }

    /// Answers `argv` with any termination (launch failure, timeout, signal).
    public func stub(_ argv: [String], termination: Termination, stdout: String = "", stderr: String = "") {
        lock.withLock { answers[argv] = Answer(termination: termination, stdout: Data(stdout.utf8), stderr: Data(stderr.utf8)) }
    }

    /// Answers `argv` with a JSON document on stdout and exit 0.
    public func stubJSON(_ argv: [String], _ json: JSONValue) {
        stub(argv, stdout: json.compactText() + "\n")
    }

    public func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        let answer: Answer? = lock.withLock {
            log.append(argv)
            inputLog.append(input)
            timeoutLog.append(timeout)
            let a = answers[argv]
            if a == nil { unstubbed.append(argv) }
            return a
        }
        guard let answer else {
            return CommandResult(argv: argv, termination: .launchFailed("unstubbed: \(argv)"))
        }
        return CommandResult(argv: argv, termination: answer.termination, stdout: answer.stdout, stderr: answer.stderr)
    }

    /// Every argv run, in the order the runner received them.
    public var calls: [[String]] { lock.withLock { log } }

    /// What each call got on stdin (nil: nothing), parallel to `calls`.
    public var inputs: [Data?] { lock.withLock { inputLog } }

    /// The timeout passed with each call, parallel to `calls`.
    public var timeouts: [Double] { lock.withLock { timeoutLog } }

    /// Calls that matched no stub.
    public var unexpected: [[String]] { lock.withLock { unstubbed } }

    /// Calls whose program (argv[0]) is `program`.
    public func calls(to program: String) -> [[String]] { calls.filter { $0.first == program } }
}
