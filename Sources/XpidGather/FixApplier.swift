import Foundation
import XpidCore

/// What happened to one action when the plan ran.
public enum ActionOutcome: Sendable, Equatable {
    case applied(String)
    case failed(String)
    /// Running when the run was interrupted: it may or may not have taken effect.
    case interrupted(String)
    /// Not run because an earlier action failed or the run was interrupted.
    case notRun
}

/// Runs a plan's in-cluster actions in order with kubectl, stopping at the first failure.
/// Cloud actions are never run.
public struct FixApplier: Sendable {
    public var kubectl: Kubectl
    public var dryRun: Bool
    public var rolloutTimeout: String

    public init(kubectl: Kubectl, dryRun: Bool, rolloutTimeout: String = "120s") {
        self.kubectl = kubectl
        self.dryRun = dryRun
        self.rolloutTimeout = rolloutTimeout
    }

    public func apply(_ plan: FixPlan, progress: @Sendable (FixAction, ActionOutcome) -> Void = { _, _ in }) async -> [(FixAction, ActionOutcome)] {
        var results: [(FixAction, ActionOutcome)] = []
        var stopped = false
        for action in plan.actions where action.kind != .cloud {
            if stopped || Interruption.signal != nil {
                results.append((action, .notRun))
                continue
            }
            var outcome = await run(action)
            if let signal = Interruption.signal {
                outcome = .interrupted("interrupted by signal \(signal) while running: \(action.command.line)")
            }
            progress(action, outcome)
            results.append((action, outcome))
            switch outcome {
            case .failed, .interrupted: stopped = true
            case .applied, .notRun: break
            }
        }
        return results
    }

    func run(_ action: FixAction) async -> ActionOutcome {
        guard action.command.program == "kubectl", action.command.isComplete else {
            return .failed("not a complete kubectl command: \(action.command.line)")
        }
        var command = action.command
        if dryRun, action.kind == .restart, let d = action.deployment {
            // `rollout restart` has no --dry-run; send the patch it would send, as a server-side dry run.
            command = Commands.patch("deployment", d.name, namespace: d.namespace, type: .strategic, Patches.restartedAt(Timestamp.format(Date())))
        }
        if dryRun { command = command.appending(["--dry-run=server"]) }
        let r = await kubectl.run(command)
        guard r.succeeded else { return .failed(Self.explain(r)) }
        var said = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        if action.kind == .restart, !dryRun, let d = action.deployment {
            // Bounded: a stuck rollout is reported, not waited on forever.
            let status = await kubectl.run(Commands.rolloutStatus(namespace: d.namespace, deployment: d.name, timeout: rolloutTimeout))
            guard status.succeeded else {
                return .failed("restarted, but the rollout did not complete within \(rolloutTimeout): \(Self.explain(status))")
            }
            said += said.isEmpty ? "" : "; "
            said += status.stdoutText.split(separator: "\n").last.map(String.init) ?? "rolled out"
        }
        return .applied(said.isEmpty ? "done" : Printable.text(said))
    }

    /// A failed kubectl call in words, naming the RBAC permission when it was forbidden.
    static func explain(_ r: CommandResult) -> String {
        if let f = ForbiddenError.parse(r.stderrText).first {
            let resource = f.group.isEmpty ? f.resource : "\(f.resource).\(f.group)"
            let scope = f.namespace.map { " in namespace \($0)" } ?? " (cluster-wide)"
            return "forbidden: the current user may not \(f.verb) \(resource)\(scope); grant verb \"\(f.verb)\" on \(resource) (apiGroups [\"\(f.group)\"]) — \(f.message)"
        }
        if let fatal = Kubectl.fatalFailure(r) { return fatal.message }
        return Kubectl.firstMeaningfulLine(r.stderrText) ?? "the command failed (\(r.termination))"
    }
}
