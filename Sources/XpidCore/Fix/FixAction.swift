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
    /// What runs (kubectl actions) or is printed (cloud actions); a manifest travels as its stdin.
    public var command: Command
    /// The object the action changes, in words ("DeploymentRuntimeConfig x"), for held-fix advice.
    public var target: String
    /// The Deployment a restart action restarts (a dry run sends the equivalent patch instead).
    public var deployment: (namespace: String, name: String)?
    public var managedBy: ManagedBy?
    /// For an object Flux manages: the patch that makes the change stick in its Kustomization.
    public var kustomizePatch: KustomizePatch?
    /// Things the user should know before it runs (a Provider spec change can create a new revision …).
    public var notes: [String]
    /// What the cluster looks like after the action, for idempotence tests and plan previews.
    public var transform: @Sendable (inout Snapshot) -> Void

    public init(
        id: String = "", kind: Kind, check: String, subject: String, description: String, command: Command, target: String = "",
        deployment: (namespace: String, name: String)? = nil, managedBy: ManagedBy? = nil, kustomizePatch: KustomizePatch? = nil, notes: [String] = [],
        transform: @escaping @Sendable (inout Snapshot) -> Void = { _ in }
    ) {
        self.kustomizePatch = kustomizePatch
        self.id = id
        self.kind = kind
        self.check = check
        self.subject = subject
        self.description = description
        self.command = command
        self.target = target
        self.deployment = deployment
        self.managedBy = managedBy
        self.notes = notes
        self.transform = transform
    }

    /// The command as printed in the plan (a manifest is piped in with `printf`).
    public var displayCommand: String { command.line }

    /// The body the action sends: the manifest it applies or the patch it sends.
    public var body: JSONValue? {
        if let input = command.input { return input }
        guard let i = command.argv.firstIndex(of: "-p"), i + 1 < command.argv.count else { return nil }
        return try? JSONValue.parse(command.argv[i + 1])
    }
}

/// A fix that is not planned because running it would be unsafe; the reason says what to do instead.
public struct HeldFix: Sendable, Equatable {
    public var check: String
    public var subject: String
    public var reason: String
    /// What makes the change stick (where in the Helm values or Kustomization), in words.
    public var advice: [String]
    /// What to run instead.
    public var instead: [Command]
    public var managedBy: ManagedBy?
    /// For an object Flux manages: the `patches:` entry to commit to its Kustomization.
    public var kustomizePatch: KustomizePatch?

    public init(check: String, subject: String, reason: String, advice: [String] = [], instead: [Command] = [], managedBy: ManagedBy? = nil, kustomizePatch: KustomizePatch? = nil) {
        self.kustomizePatch = kustomizePatch
        self.check = check
        self.subject = subject
        self.reason = reason
        self.advice = advice
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
    /// Azure: the client and tenant IDs to annotate when the plan cannot discover them.
    public var clientID: String?
    public var tenantID: String?
    /// GKE: the Google service account to annotate when the plan cannot discover it.
    public var gcpServiceAccount: String?
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
