import Foundation
import XpidCore
import XpidGather

/// A `CommandRunner` for `kubectl xpid fix` tests, in front of a `FakeCommandRunner`.
///
/// Adds what the fix flow needs on top of whole-argv stubs:
/// - the stdin of each call (the manifest of `kubectl apply -f -`) is kept in `manifests`;
/// - `stubSequence`: the same argv answers differently on successive calls (a re-verify after the fix);
/// - `stubPrefix`: answers every argv that starts with a prefix (an argv carrying a timestamp).
///
/// Lookup order: sequence, exact stub (the base runner), then prefix. `calls` records every argv in order;
/// `unexpected` lists the calls nothing answered.
public final class ScriptedRunner: CommandRunner, @unchecked Sendable {
    public typealias Answer = FakeCommandRunner.Answer

    public let base: FakeCommandRunner
    private let lock = NSLock()
    private var sequences: [[String]: [Answer]] = [:]
    private var prefixes: [([String], Answer)] = []
    private var log: [[String]] = []
    private var manifestLog: [String] = []
    private var unanswered: [[String]] = []

    public init(_ base: FakeCommandRunner = FakeCommandRunner()) {
        self.base = base
    }

    public func stub(_ argv: [String], stdout: String = "", stderr: String = "", exit: Int32 = 0) {
        base.stub(argv, stdout: stdout, stderr: stderr, exit: exit)
    }

    public func stub(_ argv: [String], termination: Termination, stdout: String = "", stderr: String = "") {
        base.stub(argv, termination: termination, stdout: stdout, stderr: stderr)
    }

    /// The n-th call of `argv` gets `answers[n]`; once they are used up the last one repeats.
    public func stubSequence(_ argv: [String], _ answers: [Answer]) {
        precondition(!answers.isEmpty)
        lock.withLock { sequences[argv] = answers }
    }

    /// Answers every argv that starts with `prefix`.
    public func stubPrefix(_ prefix: [String], stdout: String = "", stderr: String = "", exit: Int32 = 0) {
        lock.withLock { prefixes.append((prefix, Answer(termination: .exited(exit), stdout: Data(stdout.utf8), stderr: Data(stderr.utf8)))) }
    }

    public func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        let answer: Answer? = lock.withLock {
            log.append(argv)
            if let input { manifestLog.append(String(decoding: input, as: UTF8.self)) }
            if var list = sequences[argv] {
                let a = list.count > 1 ? list.removeFirst() : list[0]
                sequences[argv] = list
                return a
            }
            return nil
        }
        if let answer { return CommandResult(argv: argv, termination: answer.termination, stdout: answer.stdout, stderr: answer.stderr) }
        let r = await base.run(argv, input: input, timeout: timeout)
        if case .launchFailed(let m) = r.termination, m.hasPrefix("unstubbed: ") {
            let prefixed: Answer? = lock.withLock { prefixes.first { argv.starts(with: $0.0) }?.1 }
            if let prefixed { return CommandResult(argv: argv, termination: prefixed.termination, stdout: prefixed.stdout, stderr: prefixed.stderr) }
            lock.withLock { unanswered.append(argv) }
        }
        return CommandResult(argv: argv, termination: r.termination, stdout: r.stdout, stderr: r.stderr)
    }

    /// Every argv run, in order.
    public var calls: [[String]] { lock.withLock { log } }

    /// Calls that no sequence, stub or prefix answered.
    public var unexpected: [[String]] { lock.withLock { unanswered } }

    /// What each call that had stdin got (the manifests `kubectl apply -f -` read), in order.
    public var manifests: [String] { lock.withLock { manifestLog } }

    /// Calls whose program (argv[0]) is `program`.
    public func calls(to program: String) -> [[String]] { calls.filter { $0.first == program } }

    /// Calls that change the cluster (kubectl annotate, patch, apply, create, delete, label, rollout restart, …).
    public var mutatingCalls: [[String]] {
        calls.filter { argv in
            argv.contains { ["annotate", "patch", "apply", "create", "delete", "label", "replace", "edit", "set", "scale"].contains($0) }
                || (argv.contains("rollout") && argv.contains("restart"))
        }
    }
}

extension ScriptedRunner.Answer {
    public static func ok(_ stdout: String = "") -> Self { Self(termination: .exited(0), stdout: Data(stdout.utf8)) }
    public static func failed(_ stderr: String, exit: Int32 = 1) -> Self { Self(termination: .exited(exit), stderr: Data(stderr.utf8)) }
}

extension SeedCluster {
    /// Every argv a gather of this cluster runs, with the answer `stub(on:)` gives it.
    public func stubbedAnswers() async -> [([String], FakeCommandRunner.Answer)] {
        let r = runner()
        var argvs = [configViewArgv, apiResourcesArgv, builtinBatchArgv, crdBatchArgv, crossplaneBatchArgv, kubeSystemBatchArgv, describeClusterArgv, describeAddonArgv, listAssociationsArgv]
        argvs += describedAssociations.keys.sorted().map(describeAssociationArgv)
        argvs += roles.keys.sorted().map(getRoleArgv)
        var answers: [([String], FakeCommandRunner.Answer)] = []
        for argv in argvs {
            let result = await r.run(argv, timeout: 1)
            answers.append((argv, FakeCommandRunner.Answer(termination: result.termination, stdout: result.stdout, stderr: result.stderr)))
        }
        return answers
    }

    /// `seed` with every Crossplane-namespace pod created at `created` (as after a rollout restart).
    public func withPodsCreated(_ created: String) -> SeedCluster {
        var s = self
        s.crossplanePods = s.crossplanePods.map { pod in
            var p = pod.object
            var meta = pod["metadata"].object
            meta["creationTimestamp"] = .string(created)
            p["metadata"] = .object(meta)
            return .object(p)
        }
        return s
    }
}

extension ScriptedRunner {
    /// Successive gathers see successive clusters: the n-th call of each gather argv gets `seeds[n]`'s
    /// answer (the last cluster repeats).
    public func stubGathers(_ seeds: [SeedCluster]) async {
        var byArgv: [[String]: [Answer]] = [:]
        var order: [[String]] = []
        for seed in seeds {
            for (argv, answer) in await seed.stubbedAnswers() {
                if byArgv[argv] == nil { order.append(argv) }
                byArgv[argv, default: []].append(answer)
            }
        }
        for argv in order { stubSequence(argv, byArgv[argv]!) }
    }
}
