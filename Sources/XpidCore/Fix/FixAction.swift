import Foundation

/// One change `kubectl xpid fix` would make. Kubernetes changes run as exact kubectl argv; cloud-side
/// changes are never executed, only printed ready to run.
public struct FixAction: Sendable {
    public enum Kind: String, Sendable, Equatable {
        /// A change to a Kubernetes object, run with kubectl.
        case change
        /// `kubectl rollout restart` (then `rollout status`) of a workload whose pods are stale.
        case restart
        /// Printed only: aws/az/gcloud commands the user runs.
        case cloud
    }

    public var id: String
    public var kind: Kind
    public var check: String
    public var subject: String
    public var description: String
    /// The argv, starting with `kubectl` or `aws`; kubectl's passthrough flags are added when it runs.
    public var command: [String]
    /// A manifest for `kubectl apply -f FILE` actions (the applier writes it to a temporary file).
    public var manifest: JSONValue?
    public var managedBy: ManagedBy?
    /// Things the user should know before it runs (a Provider spec change can create a new revision …).
    public var notes: [String]
    /// What the cluster looks like after the action, for idempotence tests and plan previews.
    public var transform: @Sendable (inout Snapshot) -> Void

    public init(
        id: String = "", kind: Kind, check: String, subject: String, description: String, command: [String], manifest: JSONValue? = nil,
        managedBy: ManagedBy? = nil, notes: [String] = [], transform: @escaping @Sendable (inout Snapshot) -> Void = { _ in }
    ) {
        self.id = id
        self.kind = kind
        self.check = check
        self.subject = subject
        self.description = description
        self.command = command
        self.manifest = manifest
        self.managedBy = managedBy
        self.notes = notes
        self.transform = transform
    }

    /// The command as printed in the plan (a manifest is shown inline as `echo '…' | kubectl apply -f -`).
    public var displayCommand: String {
        if let manifest, let i = command.firstIndex(of: "-f"), i + 1 < command.count {
            var argv = command
            argv[i + 1] = "-"
            return "echo \(Commands.quote(manifest.compactText())) | " + argv.map(Commands.quote).joined(separator: " ")
        }
        return command.map(Commands.quote).joined(separator: " ")
    }
}

/// A fix that is not planned because running it would be unsafe; the reason says what to do instead.
public struct HeldFix: Sendable, Equatable {
    public var check: String
    public var subject: String
    public var reason: String
    /// What makes the change stick (Helm values, kustomize patch) or what to run by hand.
    public var instead: [String]
    public var managedBy: ManagedBy?

    public init(check: String, subject: String, reason: String, instead: [String] = [], managedBy: ManagedBy? = nil) {
        self.check = check
        self.subject = subject
        self.reason = reason
        self.instead = instead
        self.managedBy = managedBy
    }
}

public struct FixPlan: Sendable {
    public static let schema = "kubectl-xpid/plan/v1"

    public var actions: [FixAction]
    public var held: [HeldFix]

    public init(actions: [FixAction], held: [HeldFix]) {
        self.actions = actions
        self.held = held
    }

    public var isEmpty: Bool { actions.isEmpty && held.isEmpty }

    /// The snapshot as it will be once every in-cluster action has run.
    public func applied(to snapshot: Snapshot) -> Snapshot {
        var s = snapshot
        for action in actions where action.kind != .cloud { action.transform(&s) }
        return s
    }
}

public struct FixOptions: Sendable, Equatable {
    public var roleArn: String?
    public var restart = false
    public var force = false
    public var overwrite = false
    /// Roles found to trust a subject's ServiceAccount already (subject ID → role ARNs), used when `roleArn` is not given.
    public var discoveredRoles: [String: [String]] = [:]

    public init(roleArn: String? = nil, restart: Bool = false, force: Bool = false, overwrite: Bool = false) {
        self.roleArn = roleArn
        self.restart = restart
        self.force = force
        self.overwrite = overwrite
    }
}
