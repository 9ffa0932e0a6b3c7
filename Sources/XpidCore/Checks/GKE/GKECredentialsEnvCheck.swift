import Foundation

public struct GKECredentialsEnvCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "gke.credentials-env",
        title: "No key file overrides Workload Identity",
        summary: "The subject's pods (and its DeploymentRuntimeConfig) do not set `GOOGLE_APPLICATION_CREDENTIALS` (`warn`: a key file wins over Workload Identity in Google's default credentials).",
        rationale: "Application Default Credentials try the file named by GOOGLE_APPLICATION_CREDENTIALS before the metadata server, so a leftover key silently replaces the workload's identity (or fails when the key is revoked).",
        remediation: "Remove the variable (and the mounted key Secret) from the pod template or the DeploymentRuntimeConfig.",
        mechanism: .gke, scope: .subject,
        reads: [.pods],
        passing: [CheckExample("no key file in the pods", subject: "crossplane-core/crossplane", expect: .pass) { Examples.gkeSeed() }],
        failing: [
            CheckExample("GOOGLE_APPLICATION_CREDENTIALS in the pod", subject: "crossplane-core/crossplane", expect: .warn) {
                var s = Examples.gkeSeed()
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.spec.containers[0].env = [EnvVar(name: GKEFacts.credentialsEnv, value: "/var/secrets/google/key.json")] }
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { (subject.method == .gkeWI || subject.method == .gkeWIF) && subject.runsPods }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        let pods = subject.livePods.filter { pod in pod.allContainers.contains { $0.hasEnv(GKEFacts.credentialsEnv) } }.map(\.metadata.name)
        let drc = subject.runtimeConfig.flatMap { drc in drc.containers.contains { $0.hasEnv(GKEFacts.credentialsEnv) } ? drc.metadata.name : nil }
        if pods.isEmpty && drc == nil { return [.pass("no \(GKEFacts.credentialsEnv) in the pods\(subject.runtimeConfig == nil ? "" : " or the runtime config")")] }
        let places = pods.map { "pod \($0)" } + (drc.map { ["DeploymentRuntimeConfig \($0)"] } ?? [])
        return [.warn(
            "\(GKEFacts.credentialsEnv) is set in \(places.joined(separator: ", ")): that key file wins over Workload Identity",
            evidence: ["places": places.joined(separator: ",")],
            remediation: Remediation("remove the variable and the key it points to", commands: pods.first.map { [Commands.describePod(namespace: subject.namespace, name: $0)] } ?? [Commands.getYAML(Commands.runtimeConfigResource, drc ?? "")]))]
    }
}
