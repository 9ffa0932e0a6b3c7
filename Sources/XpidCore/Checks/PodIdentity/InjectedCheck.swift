import Foundation

public struct PodIdentityInjectedCheck: Check {
    /// Each pod's name and the env names of its first container.
    static let envNames: Command.Word = #"jsonpath={range .items[*]}{.metadata.name}{"\t"}{.spec.containers[0].env[*].name}{"\n"}{end}"#

    public init() {}

    public static let description = CheckDescription(
        id: "podid.injected",
        title: "Pod Identity env and token injected",
        summary: "Every running pod has `AWS_CONTAINER_CREDENTIALS_FULL_URI` (169.254.170.23 or [fd00:ec2::23]), `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, and a projected token with audience `pods.eks.amazonaws.com` mounted in the runtime container.",
        rationale: "These are what the AWS SDK in the provider reads; they prove the webhook matched the association when the pod was created.",
        remediation: "Restart the workload; if new pods still lack them, check the association's namespace/ServiceAccount and the EKS Pod Identity webhook.",
        mechanism: .podIdentity, scope: .subject, dependsOn: ["podid.pods-current"],
        reads: [.pods],
        liveOnly: true, passing: [CheckExample("env and token present", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("pod without the env", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.s3Revision }) {
                    $0.spec.containers[0].env = []
                    $0.spec.containers[0].volumeMounts = []
                    $0.spec.volumes = []
                }
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .podIdentity }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        let pods = subject.livePods
        if pods.isEmpty { return [.skip("no running pods to inspect")] }
        var problems: [String] = []
        for pod in pods {
            guard let container = subject.runtimeContainer(of: pod) else { problems.append("\(pod.metadata.name): no containers"); continue }
            var missing: [String] = []
            let uri = container.envValue(PodIdentityFacts.credentialsURIEnv)
            if uri == nil {
                missing.append(PodIdentityFacts.credentialsURIEnv)
            } else if let uri, !PodIdentityFacts.credentialsURIs.contains(uri) {
                missing.append("\(PodIdentityFacts.credentialsURIEnv)=\(uri) (expected the agent at 169.254.170.23 or [fd00:ec2::23])")
            }
            if !container.hasEnv(PodIdentityFacts.tokenFileEnv) { missing.append(PodIdentityFacts.tokenFileEnv) }
            let tokenVolumes = pod.spec.volumes.filter { $0.projectedTokens.contains { $0.audience == PodIdentityFacts.audience } }.map(\.name)
            if tokenVolumes.isEmpty {
                missing.append("projected token volume with audience \(PodIdentityFacts.audience)")
            } else if !container.volumeMounts.contains(where: { tokenVolumes.contains($0.name) }) {
                missing.append("mount of \(tokenVolumes[0]) in container \(container.name)")
            }
            if !missing.isEmpty { problems.append("\(pod.metadata.name) lacks \(missing.joined(separator: ", "))") }
        }
        if problems.isEmpty {
            return [.pass("\(pods.count) pod(s) carry the Pod Identity env and token")]
        }
        return [
            .fail(
                problems.joined(separator: "; "),
                evidence: ["pods": pods.map(\.metadata.name).sorted().joined(separator: ",")],
                remediation: Remediation(
                    "restart, then confirm new pods carry the env; if not, the association does not match the pod's namespace/ServiceAccount or the webhook skipped the pod",
                    commands: [Commands.restart(subject), Commands.list("pods", namespace: subject.namespace, selector: "pkg.crossplane.io/revision=\(subject.revision ?? subject.name)", extra: ["-o", Self.envNames])]))
        ]
    }
}
