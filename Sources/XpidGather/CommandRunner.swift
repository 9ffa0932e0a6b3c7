import Foundation
import XpidCore

/// How a command ended. A non-zero exit is data, not an error.
public enum Termination: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
    /// The executable could not be started (not found, not executable).
    case launchFailed(String)
    case timedOut(seconds: Double)
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
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// The command as a user would type it in a shell (for messages, never executed).
    public var displayCommand: String { argv.map(Commands.quote).joined(separator: " ") }
}

/// Runs an argv (never through a shell). Implementations must not throw: every outcome is a `CommandResult`.
public protocol CommandRunner: Sendable {
    func run(_ argv: [String], timeout: Double) async -> CommandResult
}

/// Runs processes with Foundation's `Process`, waiting through `terminationHandler`
/// (`waitUntilExit` polls and costs ~50 ms per call on Linux) and draining stdout and
/// stderr concurrently so a large output cannot fill a pipe and deadlock.
public struct ProcessRunner: CommandRunner {
    public var environment: [String: String]?

    public init(environment: [String: String]? = nil) {
        self.environment = environment
    }

    public func run(_ argv: [String], timeout: Double) async -> CommandResult {
        guard let program = argv.first else { return CommandResult(argv: argv, termination: .launchFailed("empty command")) }
        guard let executable = Self.resolve(program, path: (environment ?? ProcessInfo.processInfo.environment)["PATH"]) else {
            return CommandResult(argv: argv, termination: .launchFailed("\(program): command not found"))
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
        process.standardInput = FileHandle.nullDevice

        let exited = AsyncSignal()
        process.terminationHandler = { _ in exited.fire() }
        let out = OutputCollector(outPipe.fileHandleForReading)
        let err = OutputCollector(errPipe.fileHandleForReading)
        do {
            try await Self.launch(process)
        } catch {
            return CommandResult(argv: argv, termination: .launchFailed("\(program): \(error.localizedDescription)"))
        }
        out.start()
        err.start()

        // The timer terminates (then kills) a process that outlives its budget; the
        // termination handler fires either way.
        let timedOut = Flag()
        let pid = process.processIdentifier
        let timer = DispatchWorkItem {
            timedOut.set()
            kill(pid, SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { if !exited.hasFired { kill(pid, SIGKILL) } }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(timeout, 0.001), execute: timer)
        await exited.wait()
        timer.cancel()
        // A grandchild (e.g. a kubeconfig exec plugin) may still hold the pipes open after the
        // command exited; take what arrived within a short grace period rather than wait for it.
        _ = await out.finished.wait(timeout: 2)
        _ = await err.finished.wait(timeout: 2)
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

    /// Resolves a program through PATH; a name containing `/` is used as given.
    public static func resolve(_ program: String, path: String?) -> URL? {
        let fm = FileManager.default
        if program.contains("/") {
            return fm.isExecutableFile(atPath: program) ? URL(fileURLWithPath: program) : nil
        }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if fm.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        return nil
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

    public func run(_ argv: [String], timeout: Double) async -> CommandResult {
        let result = await base.run(argv, timeout: timeout)
        if verbose {
            let status: String
            switch result.termination {
            case .exited(let c): status = "exit \(c)"
            case .signaled(let s): status = "signal \(s)"
            case .launchFailed(let m): status = "not started: \(m)"
            case .timedOut(let t): status = "timed out after \(Int(t))s"
            }
            write(String(format: "+ %@  (%.0f ms, %@)\n", result.displayCommand, result.duration * 1000, status))
        }
        return result
    }
}
