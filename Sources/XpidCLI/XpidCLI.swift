import Foundation
import XpidCore
import XpidGather

public enum ExitCode: Int32, Sendable {
    case ok = 0
    case findings = 1
    case couldNotRun = 2
    case usage = 64
}

/// Where the CLI writes and what it knows about its terminal; injected so tests can drive `run`.
public struct Console: Sendable {
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void
    public var stdoutIsTTY: Bool
    public var stderrIsTTY: Bool
    public var environment: [String: String]
    public var runner: any CommandRunner

    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void, stdoutIsTTY: Bool, stderrIsTTY: Bool, environment: [String: String], runner: any CommandRunner) {
        self.out = out
        self.err = err
        self.stdoutIsTTY = stdoutIsTTY
        self.stderrIsTTY = stderrIsTTY
        self.environment = environment
        self.runner = runner
    }

    public static var live: Console {
        Console(
            out: { FileHandle.standardOutput.write(Data($0.utf8)) },
            err: { FileHandle.standardError.write(Data($0.utf8)) },
            stdoutIsTTY: isatty(1) == 1, stderrIsTTY: isatty(2) == 1,
            environment: ProcessInfo.processInfo.environment, runner: ProcessRunner())
    }
}

public enum XpidCLI {
    /// Runs one invocation and returns the exit code; never calls `exit` itself.
    public static func run(_ arguments: [String], console: Console) async -> Int32 {
        switch Parser.parse(arguments, environment: console.environment) {
        case .failure(let e):
            console.err(Help.usageError(e))
            return ExitCode.usage.rawValue
        case .success(let invocation):
            return await run(invocation, console: console).rawValue
        }
    }

    static func run(_ invocation: Invocation, console: Console) async -> ExitCode {
        switch invocation {
        case .help(let topic):
            console.out(topic.flatMap(CommandModel.command).map(Help.command) ?? Help.root())
            return .ok
        case .version:
            console.out("kubectl-xpid \(CommandModel.version)\n")
            return .ok
        case .checks(let format):
            switch format {
            case .text: console.out(CatalogRenderer.text())
            case .json: console.out(CatalogRenderer.json())
            case .markdown: console.out(CatalogRenderer.markdown())
            }
            return .ok
        case .explain(let id):
            console.out(CatalogRenderer.explain(id) ?? "")
            return .ok
        case .completion(let shell):
            console.out(Completion.script(shell))
            return .ok
        case .complete(let args):
            console.out(Completion.complete(args))
            return .ok
        case .verify(let options):
            return await verify(options, console: console)
        }
    }

    static func verify(_ o: VerifyOptions, console: Console) async -> ExitCode {
        let recorder = RecordingRunner(console.runner, verbose: o.verbose, write: console.err)
        let deadline = DeadlineRunner(base: recorder, deadline: Date().addingTimeInterval(o.timeout))
        let kubectl = Kubectl(executable: o.kubectl ?? "kubectl", flags: o.kubectlFlags, runner: deadline, timeout: o.timeout)
        let gatherer = SnapshotGatherer(kubectl: kubectl, awsExecutable: o.aws ?? "aws", runner: deadline, options: o.gather)
        if console.stderrIsTTY && o.output == .text && !o.verbose { console.err("reading the cluster and cloud…\r") }
        let gathered: Gathered
        switch await gatherer.gather() {
        case .failure(let failure):
            if console.stderrIsTTY && o.output == .text && !o.verbose { console.err("\u{1B}[2K") }
            console.err("error: \(failure.message)\n")
            return .couldNotRun
        case .success(let g): gathered = g
        }
        if console.stderrIsTTY && o.output == .text && !o.verbose { console.err("\u{1B}[2K") }
        if gathered.snapshot.crossplaneInstalled,
            let (read, outcome) = gathered.snapshot.failedRead("providers"), case .forbidden(let verb, let message) = outcome
        {
            console.err("error: cannot \(verb) \(read.displayName): \(message)\nkubectl xpid needs get/list on providers.pkg.crossplane.io to find its subjects; see the README's read-only ClusterRole.\n")
            return .couldNotRun
        }
        let context = EvaluationContext(gathered.snapshot)
        let findings = CheckEngine().run(context, only: Set(o.only), skip: Set(o.skip), subjectFilter: Set(o.subjects))
        var subjects = context.subjects
        if !o.subjects.isEmpty { subjects = subjects.filter { o.subjects.contains($0.name) || o.subjects.contains($0.id) } }
        var notes = gathered.notes
        if !o.subjects.isEmpty && subjects.isEmpty { notes.append("no subject matches --subject \(o.subjects.joined(separator: ", "))") }
        let report = Report(version: CommandModel.version, generatedAt: o.gather.now, cluster: gathered.snapshot.cluster, subjects: subjects, findings: findings, notes: notes)
        switch o.output {
        case .json, .markdown: console.out(JSONRenderer.render(report))
        case .text: console.out(TextRenderer.render(report, style: TextStyle.detect(noColor: o.noColor, isTTY: console.stdoutIsTTY, environment: console.environment)))
        }
        return report.fails(at: o.failOn) ? .findings : .ok
    }
}

/// Enforces `--timeout` for the whole run: each command gets what is left of the budget.
struct DeadlineRunner: CommandRunner {
    var base: any CommandRunner
    var deadline: Date

    func run(_ argv: [String], timeout: Double) async -> CommandResult {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { return CommandResult(argv: argv, termination: .timedOut(seconds: 0)) }
        return await base.run(argv, timeout: min(timeout, remaining))
    }
}
