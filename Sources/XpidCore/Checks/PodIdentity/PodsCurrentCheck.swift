import Foundation

public struct PodsCurrentCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "podid.pods-current",
        title: "Pods created after the association",
        summary: "Every running pod of the subject was created after the association's `createdAt`/`modifiedAt`.",
        rationale: "The EKS webhook mutates pods only at creation. A pod created before the association was made (or changed) never received the Pod Identity env vars and token; it must be restarted.",
        remediation: "`kubectl rollout restart` the subject's Deployment (`kubectl xpid fix --restart` does it for every stale workload).",
        mechanism: .podIdentity, scope: .subject, dependsOn: ["podid.association"],
        reads: [.pods],
        liveOnly: true, passing: [CheckExample("pods newer than the association", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("association created after the pods", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.updateAssociations { $0.createdAt = Examples.date("2026-11-15T12:00:00Z"); $0.modifiedAt = $0.createdAt }
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .podIdentity }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        if let reason = context.cloudDisabledReason { return [.skip("association time unknown: \(reason)")] }
        guard let association = context.association(for: subject) else { return [.skip("no association to compare with")] }
        guard let since = association.effectiveSince else { return [.skip("association \(association.id) has no createdAt/modifiedAt")] }
        let pods = subject.livePods
        if pods.isEmpty { return [.skip("no running pods")] }
        let stale = pods.filter { pod in pod.metadata.creationTimestamp.map { $0 < since } ?? false }
        if stale.isEmpty, pods.contains(where: { $0.metadata.creationTimestamp == nil }) {
            return [.skip("pod creation times unknown (no metadata.creationTimestamp)")]
        }
        if stale.isEmpty {
            return [.pass("all \(pods.count) pod(s) created after the association (\(Timestamp.format(since)))")]
        }
        let names = stale.map(\.metadata.name).sorted()
        let created = stale.compactMap(\.metadata.creationTimestamp).min().map(Timestamp.format) ?? "unknown"
        return [
            .fail(
                "pod(s) \(names.joined(separator: ", ")) created \(created), before the association was created/changed at \(Timestamp.format(since)): the webhook only mutates pods at creation",
                evidence: ["stalePods": names.joined(separator: ","), "associationSince": Timestamp.format(since)],
                remediation: Remediation("restart the workload so new pods get the Pod Identity env", commands: [Commands.restart(subject)]),
                fixable: true)
        ]
    }
}
