import Foundation
import XpidCore

/// What happened to one action when the plan ran.
public enum ActionOutcome: Sendable, Equatable {
    case applied(String)
    case failed(String)
    /// Not run because an earlier action failed.
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
            if stopped {
                results.append((action, .notRun))
                continue
            }
            let outcome = await run(action)
            progress(action, outcome)
            results.append((action, outcome))
            if case .failed = outcome { stopped = true }
        }
        return results
    }

    func run(_ action: FixAction) async -> ActionOutcome {
        var args = Array(action.command.dropFirst())
        var manifestFile: URL?
        if let manifest = action.manifest, let i = args.firstIndex(of: "FILE") {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-xpid-\(UUID().uuidString).json")
            do {
                try Data(manifest.compactText().utf8).write(to: file)
            } catch {
                return .failed("cannot write a temporary manifest: \(error.localizedDescription)")
            }
            args[i] = file.path
            manifestFile = file
        }
        defer { if let manifestFile { try? FileManager.default.removeItem(at: manifestFile) } }
        if dryRun, action.kind == .restart, let deployment = args.first(where: { $0.hasPrefix("deployment/") }), let nsIndex = args.firstIndex(of: "-n"), nsIndex + 1 < args.count {
            // `rollout restart` has no --dry-run; send the patch it would send, as a server-side dry run.
            let stamp = Timestamp.format(Date())
            args = ["patch", deployment, "-n", args[nsIndex + 1], "-p", #"{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"\#(stamp)"}}}}}"#]
        }
        if dryRun { args.append("--dry-run=server") }
        let r = await kubectl.run(args)
        guard r.succeeded else { return .failed(Self.explain(r)) }
        var said = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        if action.kind == .restart, !dryRun, let name = args.first(where: { $0.hasPrefix("deployment/") }), let nsIndex = args.firstIndex(of: "-n"), nsIndex + 1 < args.count {
            // Bounded: a stuck rollout is reported, not waited on forever.
            let status = await kubectl.run(["rollout", "status", name, "-n", args[nsIndex + 1], "--timeout=\(rolloutTimeout)"])
            guard status.succeeded else {
                return .failed("restarted, but the rollout did not complete within \(rolloutTimeout): \(Self.explain(status))")
            }
            said += said.isEmpty ? "" : "; "
            said += status.stdoutText.split(separator: "\n").last.map(String.init) ?? "rolled out"
        }
        return .applied(said.isEmpty ? "done" : said)
    }

    /// A failed kubectl call in words, naming the RBAC permission when it was forbidden.
    static func explain(_ r: CommandResult) -> String {
        if let f = ForbiddenError.parse(r.stderrText).first {
            let resource = f.group.isEmpty ? f.resource : "\(f.resource).\(f.group)"
            let scope = f.namespace.map { " in namespace \($0)" } ?? " (cluster-wide)"
            return "forbidden: the current user may not \(f.verb) \(resource)\(scope); grant verb \"\(f.verb)\" on \(resource) (apiGroups [\"\(f.group)\"]) — \(f.message)"
        }
        if let fatal = Kubectl.fatalFailure(r) { return fatal.message }
        let text = r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "kubectl failed (\(r.termination))" : text
    }
}
