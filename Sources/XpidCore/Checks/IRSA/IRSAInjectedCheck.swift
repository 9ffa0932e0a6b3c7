import Foundation

public struct IRSAInjectedCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "irsa.injected",
        title: "IRSA env and token injected",
        summary: "Every running pod has `AWS_ROLE_ARN` (equal to the annotation), `AWS_WEB_IDENTITY_TOKEN_FILE`, and a projected ServiceAccount token with the ServiceAccount's audience mounted in the runtime container.",
        rationale: "These are what the AWS SDK reads for web identity; a token with the wrong audience is rejected by STS (InvalidIdentityToken).",
        remediation: "Restart the workload; if new pods still lack them, check the EKS webhook and the `eks.amazonaws.com/audience` annotation.",
        mechanism: .irsa, scope: .subject, dependsOn: ["irsa.pods-current"],
        reads: [.pods],
        liveOnly: true, passing: [CheckExample("env and token present", subject: "provider/provider-aws-s3", expect: .pass) { Examples.irsaSeed() }],
        failing: [
            CheckExample("token volume missing", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.irsaSeed()
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.ecrS3Revision }) { $0.spec.volumes = [] }
                return s
            },
            CheckExample("token audience differs from the annotation", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.irsaSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: Examples.ecrS3Revision) { $0.metadata.annotations[IRSAFacts.audienceAnnotation] = "custom-audience" }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { (subject.method == .irsa) && subject.runsPods }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        let audience = subject.serviceAccount?.metadata.annotations[IRSAFacts.audienceAnnotation] ?? IRSAFacts.defaultAudience
        let pods = subject.livePods
        if pods.isEmpty { return [.skip("no running pods to inspect")] }
        var problems: [String] = []
        for pod in pods {
            guard let c = subject.runtimeContainer(of: pod) else { continue }
            var missing: [String] = []
            if !c.hasEnv(IRSAFacts.roleEnv) { missing.append(IRSAFacts.roleEnv) }
            if !c.hasEnv(IRSAFacts.tokenFileEnv) { missing.append(IRSAFacts.tokenFileEnv) }
            let tokens = pod.spec.volumes.filter { $0.projectedTokens.contains { ($0.audience ?? "") == audience } }.map(\.name)
            if tokens.isEmpty {
                let other = pod.spec.volumes.flatMap(\.projectedTokens).compactMap(\.audience).filter { $0 != PodIdentityFacts.audience }
                missing.append("projected token with audience \(audience)" + (other.isEmpty ? "" : " (has \(other.joined(separator: ", ")))"))
            } else if !c.volumeMounts.contains(where: { tokens.contains($0.name) }) {
                missing.append("mount of \(tokens[0]) in container \(c.name)")
            }
            if !missing.isEmpty { problems.append("\(pod.metadata.name) lacks \(missing.joined(separator: ", "))") }
        }
        if problems.isEmpty { return [.pass("\(pods.count) pod(s) carry the IRSA env and a token for audience \(audience)")] }
        return [
            .fail(
                problems.joined(separator: "; "), evidence: ["audience": audience],
                remediation: Remediation(
                    "restart; if new pods still lack them, the webhook skipped the pod (check its logs) or the audience annotation changed",
                    commands: [Commands.restart(subject), Commands.getYAML("serviceaccount", subject.serviceAccountName ?? subject.name, namespace: subject.namespace)]))
        ]
    }
}
