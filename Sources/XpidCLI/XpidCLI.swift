import Foundation
import XpidCore
import XpidGather

public enum ExitCode: Int32, Sendable, Error {
    case ok = 0
    case findings = 1
    case couldNotRun = 2
    case usage = 64
    /// 128 + SIGINT / SIGTERM, as a shell reports a command ended by that signal.
    case sigint = 130
    case sigterm = 143

    static func interrupted(_ signal: Int32) -> ExitCode { signal == SIGTERM ? .sigterm : .sigint }
}

func signalName(_ signal: Int32) -> String { signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "signal \(signal)" }

/// Where the CLI writes and what it knows about its terminal; injected so tests can drive `run`.
public struct Console: Sendable {
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void
    public var stdoutIsTTY: Bool
    public var stderrIsTTY: Bool
    public var environment: [String: String]
    public var runner: any CommandRunner
    /// Asks the user (only called when stdin is a terminal); nil when there is no answer.
    public var ask: @Sendable (String) -> String?
    public var stdinIsTTY: Bool
    /// What is at a path (the kubeconfig check before kubectl runs); tests see every path as a file.
    public var pathKind: @Sendable (String) -> PathKind
    /// Files the CLI reads and writes itself (snapshots, manifests); `-` is stdin for reads.
    public var readFile: @Sendable (String) -> Data? = Console.readRealFile
    public var writeFile: @Sendable (String, Data) -> Bool = Console.writeRealFile

    public static let readRealFile: @Sendable (String) -> Data? = { path in
        path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
    }

    /// Written owner-only: a snapshot describes the cluster's identity set-up.
    public static let writeRealFile: @Sendable (String, Data) -> Bool = { path, data in
        FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
    }

    public init(
        out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void, stdoutIsTTY: Bool, stderrIsTTY: Bool,
        environment: [String: String], runner: any CommandRunner, stdinIsTTY: Bool = false, ask: @escaping @Sendable (String) -> String? = { _ in nil },
        pathKind: @escaping @Sendable (String) -> PathKind = { _ in .file }
    ) {
        self.pathKind = pathKind
        self.out = out
        self.err = err
        self.stdoutIsTTY = stdoutIsTTY
        self.stderrIsTTY = stderrIsTTY
        self.environment = environment
        self.runner = runner
        self.stdinIsTTY = stdinIsTTY
        self.ask = ask
    }

    public static var live: Console {
        Console(
            out: { FileHandle.standardOutput.write(Data($0.utf8)) },
            err: { FileHandle.standardError.write(Data($0.utf8)) },
            stdoutIsTTY: isatty(1) == 1, stderrIsTTY: isatty(2) == 1,
            environment: ProcessInfo.processInfo.environment, runner: ProcessRunner(),
            stdinIsTTY: isatty(0) == 1,
            ask: { prompt in
                FileHandle.standardError.write(Data(prompt.utf8))
                return readLine()
            },
            pathKind: PathKind.inspect)
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
            case .json, .sarif, .junit: console.out(CatalogRenderer.json())
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
        case .fix(let options):
            return await fix(options, console: console)
        }
    }

    /// Everything verify computes, shared by `verify` and `fix`.
    struct Evaluation {
        var gathered: Gathered
        var context: EvaluationContext
        var findings: [Finding]
        var report: Report
    }

    static func evaluate(_ options: VerifyOptions, console: Console, runner base: any CommandRunner, quiet: Bool = false) async -> Result<Evaluation, ExitCode> {
        var o = options
        var runner = base
        var recorder: RecordingRunner?
        var offlineNote: String?
        if let path = o.snapshot {
            // Replay: the snapshot's own settings gather again, from its recorded commands; nothing is contacted.
            guard let data = console.readFile(path) else {
                console.err("error: cannot read snapshot \(ShellQuote.word(path))\n")
                return .failure(.couldNotRun)
            }
            switch SnapshotFile.decode(data) {
            case .failure(let e):
                console.err("error: \(ShellQuote.word(path)) is not a usable snapshot: \(e.message)\n")
                return .failure(.couldNotRun)
            case .success(let file):
                o.gather = file.options
                o.kubectlFlags = file.kubectlFlags
                o.kubectl = nil
                o.aws = nil
                o.az = nil
                o.gcloud = nil
                runner = VerboseRunner(ReplayRunner(file), verbose: o.verbose, write: console.err)
                offlineNote = "snapshot \(path), saved \(Timestamp.format(file.savedAt)) by kubectl-xpid \(file.toolVersion): evaluated offline, nothing was contacted"
            }
        } else if !o.files.isEmpty {
            offlineNote = "manifests: \(o.files.joined(separator: ", ")) (read with kubectl offline; no cluster was contacted)"
        } else {
            if let problem = Preflight.problem(o, environment: console.environment, pathKind: console.pathKind) {
                console.err("error: \(problem)\n")
                return .failure(.couldNotRun)
            }
            if o.saveSnapshot != nil {
                let r = RecordingRunner(base)
                recorder = r
                runner = r
            }
        }
        let progress = console.stderrIsTTY && o.output == .text && !o.verbose && !quiet
        let counted: any CommandRunner = progress ? ProgressRunner(base: runner, write: console.err) : runner
        let deadline = DeadlineRunner(base: counted, deadline: Date().addingTimeInterval(o.timeout), limit: o.timeout)
        let kubectl = Kubectl(executable: o.kubectl ?? "kubectl", flags: o.kubectlFlags, runner: deadline, timeout: o.timeout)
        let gatherer = SnapshotGatherer(kubectl: kubectl, awsExecutable: o.aws ?? "aws", azExecutable: o.az ?? "az", gcloudExecutable: o.gcloud ?? "gcloud", runner: deadline, options: o.gather)
        if progress { console.err("reading the cluster and cloud…\r") }
        let gathered: Gathered
        var locations: [ObjectReference: ManifestLocation] = [:]
        let result: Result<Gathered, KubectlFailure>
        if !o.files.isEmpty {
            // kubectl converts the YAML offline: no kubeconfig, context or server is involved.
            let converter = Kubectl(executable: o.kubectl ?? "kubectl", runner: deadline, timeout: o.timeout)
            switch await ManifestLoader(kubectl: converter, read: console.readFile).load(o.files) {
            case .failure(.unreadable(let why)), .failure(.notManifests(let why)):
                console.err("error: \(Printable.text(why))\n")
                return .failure(.couldNotRun)
            case .success(let loaded):
                locations = loaded.locations
                result = .success(await gatherer.gatherOffline(loaded))
            }
        } else {
            result = await gatherer.gather()
        }
        if progress { console.err("\u{1B}[2K") }
        if let recorder, let path = o.saveSnapshot {
            let file = SnapshotFile(savedAt: o.gather.now, toolVersion: CommandModel.version, options: o.gather, kubectlFlags: o.kubectlFlags, entries: recorder.entries)
            guard console.writeFile(path, file.encoded()) else {
                console.err("error: cannot write snapshot \(ShellQuote.word(path))\n")
                return .failure(.couldNotRun)
            }
            console.err("snapshot saved to \(ShellQuote.word(path)) (\(recorder.entries.count) commands; secret values redacted)\n")
        }
        if let signal = Interruption.signal {
            console.err("interrupted by \(signalName(signal)): kubectl xpid stopped its running commands; nothing was verified\n")
            return .failure(.interrupted(signal))
        }
        switch result {
        case .failure(let failure):
            console.err("error: \(Printable.text(failure.message))\n")
            return .failure(.couldNotRun)
        case .success(let g): gathered = g
        }
        let target = o.gather.target
        let snapshot = gathered.snapshot
        if !snapshot.crossplaneInstalled && !snapshot.fluxInstalled && snapshot.options.offline {
            console.err("error: the manifests hold no Crossplane or Flux object kubectl xpid verifies (a Provider, Function, DeploymentRuntimeConfig, the Crossplane Deployment, a Flux source or controller): there is nothing to verify\n")
            return .failure(.couldNotRun)
        }
        if !snapshot.crossplaneInstalled && !snapshot.fluxInstalled {
            let what: String
            switch target {
            case .crossplane: what = "Crossplane is not installed in this cluster (the API server serves no providers.pkg.crossplane.io)"
            case .flux: what = "Flux is not installed in this cluster (the API server serves none of the toolkit.fluxcd.io kinds kubectl xpid reads)"
            case .all: what = "Crossplane is not installed in this cluster (the API server serves no providers.pkg.crossplane.io), and Flux is not installed either (no toolkit.fluxcd.io kinds)"
            }
            console.err("error: \(what): there is nothing to verify\n")
            return .failure(.couldNotRun)
        }
        if gathered.snapshot.crossplaneInstalled,
            let (read, outcome) = gathered.snapshot.failedRead("providers"), case .forbidden(let verb, let message) = outcome
        {
            console.err("error: cannot \(verb) \(read.displayName): \(message)\nkubectl xpid needs get/list on providers.pkg.crossplane.io to find its subjects; see the README's read-only ClusterRole.\n")
            return .failure(.couldNotRun)
        }
        let context = EvaluationContext(gathered.snapshot)
        let findings = CheckEngine().run(context, only: Set(o.only), skip: Set(o.skip), subjectFilter: Set(o.subjects))
        var subjects = context.subjects
        if !o.subjects.isEmpty { subjects = subjects.filter { o.subjects.contains($0.name) || o.subjects.contains($0.id) } }
        if !o.subjects.isEmpty && subjects.isEmpty {
            let known = context.subjects.map(\.id)
            console.err("error: --subject \(o.subjects.map(ShellQuote.word).joined(separator: ", ")) matched no subject; the subjects are: \(known.isEmpty ? "(none)" : known.joined(separator: ", "))\n")
            return .failure(.usage)
        }
        if context.subjects.isEmpty {
            var places: [String] = []
            if target.includesCrossplane && snapshot.crossplaneInstalled { places.append("Crossplane's Deployment and packages were not found in namespace \(snapshot.crossplaneNamespace) (pass --crossplane-namespace)") }
            if target.includesFlux && snapshot.fluxInstalled { places.append("no Flux object uses a cloud provider and no controller in \(snapshot.fluxNamespace) carries a workload identity (pass --flux-namespace if Flux runs elsewhere)") }
            console.err("error: no subject to verify: \(places.joined(separator: "; "))\n")
            return .failure(.couldNotRun)
        }
        let notes = (offlineNote.map { [$0] } ?? []) + gathered.notes
        let report = Report(version: CommandModel.version, generatedAt: o.gather.now, cluster: gathered.snapshot.cluster, subjects: subjects, findings: findings, notes: notes, locations: locations)
        return .success(Evaluation(gathered: gathered, context: context, findings: findings, report: report))
    }

    static func verify(_ o: VerifyOptions, console: Console) async -> ExitCode {
        let runner = VerboseRunner(console.runner, verbose: o.verbose, write: console.err)
        let evaluation: Evaluation
        switch await evaluate(o, console: console, runner: runner) {
        case .failure(let code): return code
        case .success(let e): evaluation = e
        }
        let report = evaluation.report
        let verified = report.findings.contains { $0.status != .skip }
        switch o.output {
        case .json, .markdown: console.out(JSONRenderer.render(report))
        case .sarif: console.out(SARIFRenderer.render(report))
        case .junit: console.out(JUnitRenderer.render(report, failOn: o.failOn))
        case .text: console.out(TextRenderer.render(report, style: TextStyle.detect(noColor: o.noColor, isTTY: console.stdoutIsTTY, environment: console.environment), showAll: o.showAll))
        }
        if !verified {
            console.err("error: nothing was verified: every selected check was skipped (see the reasons above; --only/--skip/--no-cloud narrow what runs)\n")
            return .couldNotRun
        }
        return report.fails(at: o.failOn) ? .findings : .ok
    }

    static func fix(_ f: FixCommandOptions, console: Console) async -> ExitCode {
        let o = f.verify
        let runner = VerboseRunner(console.runner, verbose: o.verbose, write: console.err)
        let before: Evaluation
        switch await evaluate(o, console: console, runner: runner) {
        case .failure(let code): return code
        case .success(let e): before = e
        }
        var fixOptions = f.fix
        let needRole = FixPlanner.subjectsNeedingRole(before.context, findings: before.findings)
        if fixOptions.roleArn == nil, !needRole.isEmpty, !o.gather.noCloud, let cluster = before.gathered.snapshot.aws.cluster.value {
            // Discover the role: one that already trusts the ServiceAccount from this cluster's issuer.
            let aws = AWSCLI(executable: o.aws ?? "aws", region: before.gathered.snapshot.cluster.region, runner: runner, timeout: o.timeout)
            if case .value(let roles) = await aws.listRoles() {
                for subject in needRole {
                    fixOptions.discoveredRoles[subject.id] = FixPlanner.rolesTrusting(subject, roles: roles, cluster: cluster)
                }
            }
        }
        let plan = FixPlanner.plan(before.context, findings: before.findings, options: fixOptions)
        let style = TextStyle.detect(noColor: o.noColor, isTTY: console.stdoutIsTTY, environment: console.environment)
        let context = before.gathered.snapshot.cluster.context ?? "(current context)"
        if o.output == .json {
            console.out(PlanRenderer.json(plan))
        } else {
            console.out(PlanRenderer.text(plan, context: context, style: style))
        }
        let changes = plan.actions.filter { $0.kind != .cloud }
        guard !changes.isEmpty else { return before.report.fails(at: o.failOn) ? .findings : .ok }
        var proceed = f.yes || f.dryRun
        if !proceed {
            guard console.stdinIsTTY, o.output == .text else {
                console.err("nothing was changed: re-run with --yes to apply (or --dry-run to have the server check every change)\n")
                return before.report.fails(at: o.failOn) ? .findings : .ok
            }
            let answer = console.ask("Apply these \(changes.count) change\(changes.count == 1 ? "" : "s") to context \(context)? [y/N] ")?.lowercased()
            proceed = answer == "y" || answer == "yes"
            if !proceed {
                console.err("nothing was changed\n")
                return before.report.fails(at: o.failOn) ? .findings : .ok
            }
        }
        // With -o json, stdout carries exactly one JSON document (the plan); the rest is commentary on stderr.
        let report: @Sendable (String) -> Void = o.output == .json ? console.err : console.out
        let kubectl = Kubectl(executable: o.kubectl ?? "kubectl", flags: o.kubectlFlags, runner: runner, timeout: o.timeout)
        let applier = FixApplier(kubectl: kubectl, dryRun: f.dryRun)
        let results = await applier.apply(plan) { action, outcome in
            report(PlanRenderer.progress(action, outcome, dryRun: f.dryRun, style: style))
        }
        if let signal = Interruption.signal {
            report(PlanRenderer.stopped(results, dryRun: f.dryRun, style: style, why: "interrupted by \(signalName(signal)); kubectl xpid stopped its running commands"))
            return .interrupted(signal)
        }
        let failed = results.filter { if case .failed = $0.1 { return true } else { return false } }
        if !failed.isEmpty {
            report(PlanRenderer.stopped(results, dryRun: f.dryRun, style: style))
            return .findings
        }
        if f.dryRun {
            report("\ndry run: the server accepted all \(results.count) change\(results.count == 1 ? "" : "s"); nothing was stored\n")
            return .ok
        }
        // Re-verify: the fixed checks must now pass for the fix to count.
        let after: Evaluation
        switch await evaluate(o, console: console, runner: runner, quiet: true) {
        case .failure(let code): return code
        case .success(let e): after = e
        }
        let targeted = Set(changes.map { "\($0.check)|\($0.subject)" })
        let stillFailing = after.findings.filter { ($0.status == .fail || $0.status == .warn || $0.status == .error) && targeted.contains("\($0.check)|\($0.subject)") }
        report(PlanRenderer.beforeAfter(before: before.report, after: after.report, stillFailing: stillFailing, style: style))
        return stillFailing.isEmpty ? .ok : .findings
    }
}

/// Enforces `--timeout` for the whole run: each command gets what is left of the budget, and a
/// command cut short reports the configured limit (`--timeout 5s`), not the remainder it had.
struct DeadlineRunner: CommandRunner {
    var base: any CommandRunner
    var deadline: Date
    var limit: Double

    func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { return CommandResult(argv: argv, termination: .timedOut(seconds: limit)) }
        var result = await base.run(argv, input: input, timeout: min(timeout, remaining))
        if case .timedOut = result.termination { result.termination = .timedOut(seconds: limit) }
        return result
    }
}

/// Problems with the inputs kubectl would report obscurely (a missing kubeconfig file makes
/// `config view --minify` say "current-context must exist in order to minify").
enum Preflight {
    static func problem(_ o: VerifyOptions, environment: [String: String], pathKind: (String) -> PathKind) -> String? {
        if let path = o.kubectlFlags.kubeconfig {
            switch pathKind(path) {
            case .missing: return "kubeconfig file \(ShellQuote.word(path)) (--kubeconfig) does not exist"
            case .directory: return "--kubeconfig \(ShellQuote.word(path)) is a directory, not a kubeconfig file"
            case .file: break
            }
        } else if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            if !paths.isEmpty, paths.allSatisfy({ pathKind($0) == .missing }) {
                return "KUBECONFIG names \(paths.map(ShellQuote.word).joined(separator: ", ")), and none of these files exists"
            }
        }
        return nil
    }
}

/// On a terminal, a one-line count of the commands run so far on stderr (`cloud reads: 12/30 done`),
/// so a run with hundreds of cloud calls visibly progresses. Commands are counted as they start
/// (the total grows as later rounds are planned) and as they finish.
final class ProgressRunner: CommandRunner, @unchecked Sendable {
    private let base: any CommandRunner
    private let write: @Sendable (String) -> Void
    private let lock = NSLock()
    private var started = 0
    private var finished = 0

    init(base: any CommandRunner, write: @escaping @Sendable (String) -> Void) {
        self.base = base
        self.write = write
    }

    func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        let program = URL(fileURLWithPath: argv.first ?? "").lastPathComponent
        let isCloud = Command.cloudPrograms.contains(program)
        if isCloud { update { $0.started += 1 } }
        let result = await base.run(argv, input: input, timeout: timeout)
        if isCloud { update { $0.finished += 1 } }
        return result
    }

    private func update(_ change: (ProgressRunner) -> Void) {
        let line: String = lock.withLock {
            change(self)
            return "\u{1B}[2Kcloud reads: \(finished)/\(started) done\r"
        }
        write(line)
    }
}
