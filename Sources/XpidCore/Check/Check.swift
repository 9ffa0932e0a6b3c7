import Foundation

public enum FindingStatus: String, Sendable, Equatable, Codable, CaseIterable, Comparable {
    case pass, skip, warn, fail, error

    /// Order used by `--fail-on`: an `error` (could not verify) is at least as bad as a `fail`.
    public var severity: Int {
        switch self {
        case .pass: return 0
        case .skip: return 0
        case .warn: return 1
        case .fail: return 2
        case .error: return 2
        }
    }

    public static func < (a: FindingStatus, b: FindingStatus) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public struct Remediation: Sendable, Equatable {
    public var summary: String
    public var commands: [Command]

    public init(_ summary: String, commands: [Command] = []) {
        self.summary = summary
        self.commands = commands
    }
}

/// One check's verdict for one subject (or the cluster), before the engine adds IDs.
public struct CheckResult: Sendable, Equatable {
    public var status: FindingStatus
    public var message: String
    public var evidence: [String: String]
    public var remediation: Remediation?
    public var fixable: Bool

    public init(_ status: FindingStatus, _ message: String, evidence: [String: String] = [:], remediation: Remediation? = nil, fixable: Bool = false) {
        self.status = status
        self.message = message
        self.evidence = evidence
        self.remediation = remediation
        self.fixable = fixable
    }

    public static func pass(_ message: String, evidence: [String: String] = [:]) -> CheckResult {
        CheckResult(.pass, message, evidence: evidence)
    }

    public static func skip(_ message: String) -> CheckResult { CheckResult(.skip, message) }

    public static func warn(_ message: String, evidence: [String: String] = [:], remediation: Remediation, fixable: Bool = false) -> CheckResult {
        CheckResult(.warn, message, evidence: evidence, remediation: remediation, fixable: fixable)
    }

    public static func fail(_ message: String, evidence: [String: String] = [:], remediation: Remediation, fixable: Bool = false) -> CheckResult {
        CheckResult(.fail, message, evidence: evidence, remediation: remediation, fixable: fixable)
    }

    public static func error(_ message: String, remediation: Remediation? = nil) -> CheckResult {
        CheckResult(.error, message, remediation: remediation)
    }
}

public enum CheckScope: String, Sendable, Equatable {
    /// Evaluated once for the cluster.
    case cluster
    /// Evaluated for each subject the check applies to.
    case subject
}

public enum Mechanism: String, Sendable, Equatable, CaseIterable {
    case cluster = "Cluster and platform"
    case irsa = "EKS IRSA"
    case podIdentity = "EKS Pod Identity"
    case azureWI = "Azure Workload Identity"
    case gke = "GKE Workload Identity"
    case crossplane = "Registries and packages (Crossplane)"
    case flux = "Flux"

    /// The cloud whose clusters the mechanism exists on; its checks are `skip` on any other cloud.
    public var platform: Cloud? {
        switch self {
        case .irsa, .podIdentity: return .aws
        case .azureWI: return .azure
        case .gke: return .gcp
        case .cluster, .crossplane, .flux: return nil
        }
    }
}

/// A kind of Kubernetes object a check reads, and where. When that read was forbidden or failed,
/// the check reports `error` naming it (never a guess from the objects that were not read).
public struct KubeRead: Sendable, Hashable {
    public enum Scope: Sendable, Hashable {
        /// `subjectNamespace`: where the subject runs (the Crossplane namespace for cluster-wide checks).
        case cluster, subjectNamespace, kubeSystem
    }

    public var resource: String
    public var group: String
    public var scope: Scope

    public init(_ resource: String, group: String = "", _ scope: Scope) {
        self.resource = resource
        self.group = group
        self.scope = scope
    }

    public static let pods = KubeRead("pods", .subjectNamespace)
    public static let serviceAccounts = KubeRead("serviceaccounts", .subjectNamespace)
    public static let nodes = KubeRead("nodes", .cluster)
    public static let runtimeConfigs = KubeRead("deploymentruntimeconfigs", group: "pkg.crossplane.io", .cluster)
    public static let imageConfigs = KubeRead("imageconfigs", group: "pkg.crossplane.io", .cluster)
    public static let agentDaemonSet = KubeRead("daemonsets", group: "apps", .kubeSystem)
    public static let webhookConfigurations = KubeRead("mutatingwebhookconfigurations", group: "admissionregistration.k8s.io", .cluster)
    public static let clusterRoles = KubeRead("clusterroles", group: "rbac.authorization.k8s.io", .cluster)
    public static let clusterRoleBindings = KubeRead("clusterrolebindings", group: "rbac.authorization.k8s.io", .cluster)
}

/// What a check is, for people and for tests: the catalogue, `explain`, the README table and
/// the parameterised example test are all generated from this value.
public struct CheckDescription: Sendable {
    public var id: String
    public var title: String
    /// What passes, in one sentence.
    public var summary: String
    public var rationale: String
    public var remediation: String
    public var mechanism: Mechanism
    public var scope: CheckScope
    /// Needs the cloud CLI; skipped with `--no-cloud`.
    public var cloud: Bool
    /// Earlier links of the chain: when one of them fails or errors for a subject, this check is skipped.
    public var dependsOn: [String]
    /// The Kubernetes objects the check reads beyond the subject's own workload.
    public var reads: [KubeRead]
    /// Its evidence exists only in a running cluster (pods, injected env, status): from manifests
    /// (`verify -f`) it is `skip`, unless the files hold pods (a dump of a cluster).
    public var liveOnly = false
    public var passing: [CheckExample]
    public var failing: [CheckExample]

    public init(
        id: String, title: String, summary: String, rationale: String, remediation: String, mechanism: Mechanism,
        scope: CheckScope, cloud: Bool = false, dependsOn: [String] = [], reads: [KubeRead] = [], liveOnly: Bool = false, passing: [CheckExample], failing: [CheckExample]
    ) {
        self.liveOnly = liveOnly
        self.reads = reads
        self.id = id
        self.title = title
        self.summary = summary
        self.rationale = rationale
        self.remediation = remediation
        self.mechanism = mechanism
        self.scope = scope
        self.cloud = cloud
        self.dependsOn = dependsOn
        self.passing = passing
        self.failing = failing
    }
}

/// An example cluster state and the status a check must report for it. The examples are
/// the check's documentation and its tests at once.
public struct CheckExample: Sendable {
    public var name: String
    public var subject: String?
    public var expected: FindingStatus
    public var snapshot: @Sendable () -> Snapshot
    public var file: String
    public var line: Int

    public init(
        _ name: String, subject: String? = nil, expect expected: FindingStatus, file: String = #filePath, line: Int = #line,
        snapshot: @escaping @Sendable () -> Snapshot
    ) {
        self.name = name
        self.subject = subject
        self.expected = expected
        self.snapshot = snapshot
        self.file = file
        self.line = line
    }
}

/// The target a check evaluates: the cluster as a whole, or one subject.
public enum CheckTarget: Sendable {
    case cluster
    case subject(Subject)
}

public protocol Check: Sendable {
    static var description: CheckDescription { get }
    init()
    /// Whether the check speaks about this subject at all (e.g. Pod Identity checks only for
    /// pod-identity subjects). Subjects it does not apply to get no finding.
    func applies(to subject: Subject, in context: EvaluationContext) -> Bool
    func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult]
}

extension Check {
    public var id: String { Self.description.id }

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { true }
}

/// What checks evaluate against: the snapshot plus the subjects resolved from it once.
public struct EvaluationContext: Sendable {
    public let snapshot: Snapshot
    public let subjects: [Subject]
    /// Derived once, so no check scans every subject or object for each subject.
    public let index: SubjectIndex

    public init(_ snapshot: Snapshot) {
        self.snapshot = snapshot
        self.subjects = SubjectResolver.subjects(in: snapshot)
        self.index = SubjectIndex(subjects, snapshot)
    }

    public var cloudDisabledReason: String? { snapshot.options.cloudDisabledReason }
}
