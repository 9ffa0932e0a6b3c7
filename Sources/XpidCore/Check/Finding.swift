import Foundation

/// One line of the report: a check's verdict for a subject (or `cluster`).
public struct Finding: Sendable, Equatable {
    public var check: String
    public var status: FindingStatus
    public var subject: String
    public var message: String
    public var evidence: [String: String]
    public var remediation: Remediation?
    public var fixable: Bool

    public init(check: String, status: FindingStatus, subject: String, message: String, evidence: [String: String] = [:], remediation: Remediation? = nil, fixable: Bool = false) {
        self.check = check
        self.status = status
        self.subject = subject
        self.message = message
        self.evidence = evidence
        self.remediation = remediation
        self.fixable = fixable
    }
}

public let clusterSubjectID = "cluster"

/// Runs checks in catalogue order and applies chain semantics: once a link fails for a subject, the links that depend on it are `skip` with "blocked by <check>".
public struct CheckEngine: Sendable {
    public var checks: [any Check]

    public init(checks: [any Check] = Catalog.all) {
        self.checks = checks
    }

    public func run(_ context: EvaluationContext, only: Set<String> = [], skip: Set<String> = [], subjectFilter: Set<String> = []) -> [Finding] {
        var findings: [Finding] = []
        // Worst status per (check, subject), used to decide what dependent links do.
        var outcome: [String: [String: FindingStatus]] = [:]
        var blocked: [String: [String: String]] = [:]
        let subjects = subjectFilter.isEmpty
            ? context.subjects
            : context.subjects.filter { subjectFilter.contains($0.name) || subjectFilter.contains($0.id) }

        for check in checks {
            let d = type(of: check).description
            let selected = (only.isEmpty || only.contains(d.id)) && !skip.contains(d.id)
            switch d.scope {
            case .cluster:
                let results = evaluate(check, d, target: .cluster, subjectID: clusterSubjectID, context, outcome, &blocked)
                record(results, check: d.id, subjectID: clusterSubjectID, selected: selected, into: &findings, &outcome)
            case .subject:
                // A Flux object at controller level borrows its controller's identity: that subject carries the cloud's chain.
                for subject in subjects where check.applies(to: subject, in: context) && !(subject.delegatesIdentity && d.mechanism.platform != nil) {
                    let results = evaluate(check, d, target: .subject(subject), subjectID: subject.id, context, outcome, &blocked)
                    record(results, check: d.id, subjectID: subject.id, selected: selected, into: &findings, &outcome)
                }
            }
        }
        return findings
    }

    private func evaluate(
        _ check: any Check, _ d: CheckDescription, target: CheckTarget, subjectID: String, _ context: EvaluationContext,
        _ outcome: [String: [String: FindingStatus]], _ blocked: inout [String: [String: String]]
    ) -> [CheckResult] {
        // A mechanism of another cloud says nothing about this cluster; an unknown cloud is not proof either way.
        if let platform = d.mechanism.platform, context.snapshot.cluster.cloud != platform {
            let cloud = context.snapshot.cluster.cloud
            return [.skip(cloud == .unknown
                ? "cloud not identified (see cluster.cloud): \(d.mechanism.rawValue) checks run on \(platform.kubernetesService); pass --cloud \(platform.rawValue) if this is one"
                : "not \(platform == .gcp ? "a" : "an") \(platform.kubernetesService) cluster (cloud is \(cloud.rawValue)\(context.snapshot.cluster.cloudEvidence.isEmpty ? "" : ", \(context.snapshot.cluster.cloudEvidence)"))")]
        }
        for dep in d.dependsOn {
            let status = outcome[dep]?[subjectID] ?? outcome[dep]?[clusterSubjectID]
            // Only a failed link blocks: after an `error` (could not evaluate) the dependent
            // links still run and say for themselves what they cannot know.
            if let status, status == .fail {
                blocked[d.id, default: [:]][subjectID] = dep
                return [.skip("blocked by \(dep) (\(status.rawValue))")]
            }
            if let root = blocked[dep]?[subjectID] {
                blocked[d.id, default: [:]][subjectID] = root
                return [.skip("blocked by \(root) (\(outcome[root]?[subjectID]?.rawValue ?? "fail"))")]
            }
        }
        if d.liveOnly, context.snapshot.options.offline, context.snapshot.pods.isEmpty {
            return [.skip("manifests only (-f): this check needs the running cluster (pods, the env the webhook injected, status); run kubectl xpid verify against the cluster, or on a --snapshot of it")]
        }
        if d.cloud, let reason = context.cloudDisabledReason {
            return [.skip("cloud check skipped: \(reason)")]
        }
        if case .subject(let subject) = target, subject.deployment == nil,
            let (failed, outcome) = context.snapshot.failedRead("deployments", group: "apps", namespace: subject.namespace)
        {
            return [.error("cannot verify \(subject.id): \(failed.displayName) \(outcome.shortText)", remediation: ClusterAccessCheck.grant(verb: "list", read: failed, outcome: outcome))]
        }
        for read in d.reads {
            let namespace: String?
            switch read.scope {
            case .cluster: namespace = nil
            case .subjectNamespace:
                if case .subject(let subject) = target { namespace = subject.namespace } else { namespace = context.snapshot.crossplaneNamespace }
            case .kubeSystem: namespace = "kube-system"
            }
            if let (failed, outcome) = context.snapshot.failedRead(read.resource, group: read.group, namespace: namespace) {
                return [.error("cannot verify: \(failed.displayName) \(outcome.shortText)", remediation: ClusterAccessCheck.grant(verb: "list", read: failed, outcome: outcome))]
            }
        }
        return check.evaluate(target, in: context)
    }

    private static func lessSevere(_ a: FindingStatus, _ b: FindingStatus) -> Bool {
        if a.severity != b.severity { return a.severity < b.severity }
        return a < b
    }

    private func record(
        _ results: [CheckResult], check: String, subjectID: String, selected: Bool, into findings: inout [Finding],
        _ outcome: inout [String: [String: FindingStatus]]
    ) {
        let worst = results.map(\.status).max(by: Self.lessSevere)
        if let worst { outcome[check, default: [:]][subjectID] = worst }
        guard selected else { return }
        for r in results {
            findings.append(Finding(check: check, status: r.status, subject: subjectID, message: r.message, evidence: r.evidence, remediation: r.remediation, fixable: r.fixable))
        }
    }
}
