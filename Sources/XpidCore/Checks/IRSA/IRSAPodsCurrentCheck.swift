import Foundation

public struct IRSAPodsCurrentCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "irsa.pods-current",
        title: "Pods carry the current role",
        summary: "No running pod predates the ServiceAccount's current annotation: every pod's `AWS_ROLE_ARN` equals the annotation.",
        rationale: "The EKS webhook only mutates pods at creation: a pod created before the annotation was added or changed has no role (or the old one) until it is recreated.",
        remediation: "`kubectl rollout restart` the workload (`kubectl xpid fix --restart` restarts exactly the stale ones).",
        mechanism: .irsa, scope: .subject, dependsOn: ["irsa.sa-annotation"],
        reads: [.pods, .serviceAccounts],
        liveOnly: true, passing: [CheckExample("pods have the annotated role", subject: "crossplane-core/crossplane", expect: .pass) { Examples.irsaSeed() }],
        failing: [
            CheckExample("pod created before the annotation", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.irsaSeed()
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.spec.containers[0].env = []; $0.spec.volumes = []; $0.spec.containers[0].volumeMounts = [] }
                return s
            },
            CheckExample("pod has the previous role", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.irsaSeed()
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.spec.containers[0].env = Examples.irsaEnv(role: "arn:aws:iam::123456789012:role/OldRole") }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { (subject.method == .irsa) && subject.runsPods }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let role = subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation] else {
            return [.skip("no role annotation to compare with")]
        }
        let pods = subject.livePods
        if pods.isEmpty { return [.skip("no running pods")] }
        var stale: [String] = []
        for pod in pods {
            let current = subject.runtimeContainer(of: pod)?.envValue(IRSAFacts.roleEnv)
            if current != role { stale.append("\(pod.metadata.name) (\(current.map { "AWS_ROLE_ARN=\($0)" } ?? "no AWS_ROLE_ARN"))") }
        }
        if stale.isEmpty { return [.pass("all \(pods.count) pod(s) run with AWS_ROLE_ARN=\(role)")] }
        return [
            .fail(
                "pod(s) \(stale.joined(separator: ", ")) predate the ServiceAccount's \(IRSAFacts.roleAnnotation)=\(role): the webhook only mutates pods at creation",
                evidence: ["roleArn": role],
                remediation: Remediation("restart the workload so new pods get the role", commands: [Commands.restart(subject)]),
                fixable: true)
        ]
    }
}
