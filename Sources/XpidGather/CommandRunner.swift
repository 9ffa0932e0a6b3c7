import Foundation
import XpidCore

/// How a command ended. A non-zero exit is data, not an error.
public enum Termination: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
    /// The executable could not be started (not found, not executable).
    case launchFailed(String)
    /// Ended at the time limit (the `--timeout` setting when a `DeadlineRunner` ran it).
    case timedOut(seconds: Double)

    /// `--timeout 5s`, as the limit is stated in messages.
    public static func limitText(_ seconds: Double) -> String {
        seconds.rounded() == seconds ? "--timeout \(Int(seconds))s" : String(format: "--timeout %.1fs", seconds)
    }
}

public struct CommandResult: Sendable, Equatable {
    public var argv: [String]
    public var termination: Termination
    public var stdout: Data
    public var stderr: Data
    public var duration: Double

    public init(argv: [String], termination: Termination, stdout: Data = Data(), stderr: Data = Data(), duration: Double = 0) {
        self.argv = argv
        self.termination = termination
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration
    }

    public var succeeded: Bool { termination == .exited(0) }

    /// The first byte of stdout that is not white space (nil: nothing but white space). Read from the
    /// bytes: turning megabytes of JSON into a String only to trim it costs more than parsing it.
    public var firstOutputByte: UInt8? {
        stdout.first { !(0x09...0x0D).contains($0) && $0 != 0x20 }
    }
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// The command as a user would type it in a shell (for messages, never executed).
    public var displayCommand: String { ShellQuote.words(argv) }
}

/// Runs an argv (never through a shell). Implementations must not throw: every outcome is a `CommandResult`.
public protocol CommandRunner: Sendable {
    /// `input` is written to the command's stdin (a manifest for `kubectl apply -f -`); nil gives it /dev/null.
    func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult
}

extension CommandRunner {
    public func run(_ argv: [String], timeout: Double) async -> CommandResult { await run(argv, input: nil, timeout: timeout) }
}

/// Runs processes with Foundation's `Process`, waiting through `terminationHandler`
/// (`waitUntilExit` polls and costs ~50 ms per call on Linux) and draining stdout and
/// stderr concurrently so a large output cannot fill a pipe and deadlock.
public struct ProcessRunner: CommandRunner {
    public var environment: [String: String]?

    public init(environment: [String: String]? = nil) {
        self.environment = environment
    }

    public func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        guard let program = argv.first else { return CommandResult(argv: argv, termination: .launchFailed("empty command")) }
        guard let executable = Self.resolve(program, path: (environment ?? ProcessInfo.processInfo.environment)["PATH"]) else {
            return CommandResult(argv: argv, termination: .launchFailed(Self.whyNotRunnable(program)))
        }
        let start = Date()
        let process = Process()
        process.executableURL = executable
        process.arguments = Array(argv.dropFirst())
        if let environment { process.environment = environment }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        let inPipe: Pipe? = input == nil ? nil : Pipe()
        process.standardInput = inPipe ?? FileHandle.nullDevice

        let exited = AsyncSignal()
        process.terminationHandler = { _ in exited.fire() }
        let out = OutputCollector(outPipe.fileHandleForReading)
        let err = OutputCollector(errPipe.fileHandleForReading)
        if Interruption.signal != nil {
            return CommandResult(argv: argv, termination: .signaled(Interruption.signal ?? SIGINT))
        }
        do {
            try await Self.launch(process)
        } catch {
            return CommandResult(argv: argv, termination: .launchFailed("\(program): \(error.localizedDescription)"))
        }
        let pid = process.processIdentifier
        ChildProcesses.shared.add(pid)
        defer { ChildProcesses.shared.remove(pid) }
        out.start()
        err.start()
        if let inPipe, let input {
            // On its own thread: a large manifest must not block us while the child is not reading yet.
            let writer = inPipe.fileHandleForWriting
            Thread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }.start()
        }

        // The timer terminates (then kills) the command's whole process group when it outlives its
        // budget, so a wrapper script's grandchildren go too; the termination handler fires either way.
        let timedOut = Flag()
        let timer = DispatchWorkItem {
            timedOut.set()
            ChildProcesses.signalGroup(pid, SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + 1) { ChildProcesses.signalGroup(pid, SIGKILL) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(timeout, 0.001), execute: timer)
        await exited.wait()
        timer.cancel()
        // A grandchild (e.g. a kubeconfig exec plugin) may still hold the pipes open after the
        // command exited; take what arrived within a short grace period rather than wait for it,
        // and end what is left of the group so nothing outlives the run.
        let outDone = await out.finished.wait(timeout: 2)
        let errDone = await err.finished.wait(timeout: outDone ? 2 : 0.1)
        if !outDone || !errDone { ChildProcesses.signalGroup(pid, SIGKILL) }
        let stdout = out.data
        let stderr = err.data
        let duration = Date().timeIntervalSince(start)
        let termination: Termination
        if timedOut.isSet {
            termination = .timedOut(seconds: timeout)
        } else if process.terminationReason == .uncaughtSignal {
            termination = .signaled(process.terminationStatus)
        } else {
            termination = .exited(process.terminationStatus)
        }
        return CommandResult(argv: argv, termination: termination, stdout: stdout, stderr: stderr, duration: duration)
    }

    /// Starts the process from a fresh thread whose signal mask is empty: a child inherits the
    /// mask of the thread that spawns it, and Swift's worker threads block SIGTERM and SIGINT,
    /// which would make kubectl and aws ignore the timeout's SIGTERM.
    private static func launch(_ process: Process) async throws {
        let box = UncheckedBox(process)
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            let thread = Thread {
                var empty = sigset_t()
                sigemptyset(&empty)
                pthread_sigmask(SIG_SETMASK, &empty, nil)
                do {
                    try box.value.run()
                    c.resume()
                } catch {
                    c.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// Resolves a program through PATH; a name containing `/` is used as given. Directories are
    /// never programs (they have the execute bit too).
    public static func resolve(_ program: String, path: String?) -> URL? {
        if program.contains("/") {
            return isProgram(program) ? URL(fileURLWithPath: program) : nil
        }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if isProgram(candidate) { return URL(fileURLWithPath: candidate) }
        }
        return nil
    }

    /// Why `program` cannot be run, in words: missing, a directory, or not executable.
    static func whyNotRunnable(_ program: String) -> String {
        guard program.contains("/") else { return "\(program): command not found" }
        switch PathKind.inspect(program) {
        case .missing: return "\(program): no such file"
        case .directory: return "\(program) is a directory, not an executable"
        case .file: return "\(program) is not executable (chmod +x it)"
        }
    }

    static func isProgram(_ path: String) -> Bool {
        PathKind.inspect(path) == .file && FileManager.default.isExecutableFile(atPath: path)
    }
}

/// What is at a path; a directory is never a program or a kubeconfig, although it has the execute bit.
public enum PathKind: Sendable, Equatable {
    case missing, file, directory

    public static func inspect(_ path: String) -> PathKind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .missing }
        return isDirectory.boolValue ? .directory : .file
    }
}

/// A one-shot signal that async code can wait on, with or without a timeout.
final class AsyncSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var waiters: [@Sendable () -> Void] = []

    func fire() {
        let pending: [@Sendable () -> Void] = lock.withLock {
            fired = true
            defer { waiters = [] }
            return waiters
        }
        pending.forEach { $0() }
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now: Bool = lock.withLock {
                if fired { return true }
                waiters.append { c.resume() }
                return false
            }
            if now { c.resume() }
        }
    }

    /// Returns whether the signal fired before the timeout.
    func wait(timeout: Double) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let once = ResumeOnce(c)
            let now: Bool = lock.withLock {
                if fired { return true }
                waiters.append { once.resume(true) }
                return false
            }
            if now {
                once.resume(true)
            } else {
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { once.resume(false) }
            }
        }
    }

    var hasFired: Bool { lock.withLock { fired } }
}

final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Bool, Never>?

    init(_ c: CheckedContinuation<Bool, Never>) { continuation = c }

    func resume(_ value: Bool) {
        let c: CheckedContinuation<Bool, Never>? = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        c?.resume(returning: value)
    }
}

/// Reads a pipe to its end on its own thread, so stdout and stderr drain concurrently.
final class OutputCollector: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    private var buffer = Data()
    let finished = AsyncSignal()

    init(_ handle: FileHandle) { self.handle = handle }

    func start() {
        Thread {
            while true {
                let chunk = self.handle.availableData
                if chunk.isEmpty { break }
                self.lock.withLock { self.buffer.append(chunk) }
            }
            self.finished.fire()
        }.start()
    }

    var data: Data { lock.withLock { buffer } }
}

final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// With `-v`, prints every command with its duration and outcome (to stderr in the CLI).
public struct VerboseRunner: CommandRunner {
    private let base: any CommandRunner
    private let verbose: Bool
    private let write: @Sendable (String) -> Void

    /// `write` receives the `-v` lines (the CLI passes its stderr writer).
    public init(_ base: any CommandRunner, verbose: Bool, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.base = base
        self.verbose = verbose
        self.write = write
    }

    public func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        let result = await base.run(argv, input: input, timeout: timeout)
        if verbose {
            let status: String
            switch result.termination {
            case .exited(let c): status = "exit \(c)"
            case .signaled(let s): status = "signal \(s)"
            case .launchFailed(let m): status = "not started: \(m)"
            case .timedOut(let t): status = "timed out (\(Termination.limitText(t)))"
            }
            write(String(format: "+ %@  (%.0f ms, %@)\n", result.displayCommand, result.duration * 1000, status))
        }
        return result
    }
}

/// The process groups of the commands running now. Each child is the leader of its own process
/// group (Foundation spawns it so), so a signal to the group also reaches what the command
/// started (a wrapper script's children, an exec credential plugin).
public final class ChildProcesses: @unchecked Sendable {
    public static let shared = ChildProcesses()
    private let lock = NSLock()
    private var running: Set<pid_t> = []

    func add(_ pid: pid_t) { _ = lock.withLock { running.insert(pid) } }
    func remove(_ pid: pid_t) { _ = lock.withLock { running.remove(pid) } }

    public var count: Int { lock.withLock { running.count } }

    /// Sends `signal` to every running command's group, then SIGKILL to whatever is left a second later.
    public func terminateAll(_ signal: Int32 = SIGTERM) {
        let groups = lock.withLock { running }
        for pid in groups { Self.signalGroup(pid, signal) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 1) {
            let left = self.lock.withLock { self.running }
            for pid in left { Self.signalGroup(pid, SIGKILL) }
        }
    }

    /// The group when the child leads one, else the child alone.
    static func signalGroup(_ pid: pid_t, _ signal: Int32) {
        if kill(-pid, signal) != 0 { kill(pid, signal) }
    }
}

/// The signal (SIGINT, SIGTERM) that interrupted the run, if any. Set by the CLI's handler;
/// once set, no new command starts.
public enum Interruption {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var received: Int32?

    public static var signal: Int32? { lock.withLock { received } }

    public static func record(_ signal: Int32) { lock.withLock { if received == nil { received = signal } } }
}
