import Foundation

public struct IRSAShadowingCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "podid.irsa-shadowing",
        title: "No IRSA credentials shadowing Pod Identity",
        summary: "No pod carries IRSA env (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`) beside the Pod Identity env, and the ServiceAccount has no stale `eks.amazonaws.com/role-arn` annotation (warn).",
        rationale: "The AWS SDK tries web identity before container credentials: a pod with both sets runs as the IRSA role, not the association's. New pods get only Pod Identity env, but a leftover annotation keeps older pods and readers confused.",
        remediation: "Remove the `eks.amazonaws.com/role-arn` annotation (from the DeploymentRuntimeConfig `serviceAccountTemplate` if it sets it) and any hand-set AWS_ROLE_ARN env, then restart.",
        mechanism: .podIdentity, scope: .subject,
        reads: [.pods, .serviceAccounts],
        passing: [CheckExample("only Pod Identity env", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("pod carries both env sets", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.s3Revision }) {
                    $0.spec.containers[0].env += Examples.irsaEnv(role: "arn:aws:iam::123456789012:role/old-irsa-role")
                }
                return s
            },
            CheckExample("stale role-arn annotation", subject: "provider/provider-aws-s3", expect: .warn) {
                var s = Examples.podIdentitySeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: Examples.podIdentitySA) {
                    $0.metadata.annotations[IRSAFacts.roleAnnotation] = "arn:aws:iam::123456789012:role/old-irsa-role"
                }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .podIdentity }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        var both: [String] = []
        var irsaRole: String?
        for pod in subject.livePods {
            guard let c = subject.runtimeContainer(of: pod) else { continue }
            let hasIRSA = c.hasEnv(IRSAFacts.roleEnv) || c.hasEnv(IRSAFacts.tokenFileEnv)
            if hasIRSA && c.hasEnv(PodIdentityFacts.credentialsURIEnv) {
                both.append(pod.metadata.name)
                irsaRole = irsaRole ?? c.envValue(IRSAFacts.roleEnv)
            }
        }
        let sa = subject.serviceAccountName ?? ""
        let annotation = subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation]
        let drcAnnotation = subject.runtimeConfig?.serviceAccountAnnotations[IRSAFacts.roleAnnotation]
        var commands: [Command] = []
        if let drc = subject.runtimeConfig, drcAnnotation != nil {
            commands.append(Commands.patch(Commands.runtimeConfigResource, drc.metadata.name, type: .json, Patches.removeServiceAccountTemplateAnnotation(IRSAFacts.roleAnnotation)))
        }
        if annotation != nil {
            commands.append(Commands.annotate("serviceaccount", sa, namespace: subject.namespace, key: IRSAFacts.roleAnnotation, value: nil))
        }
        if !both.isEmpty {
            if let drc = subject.runtimeConfig, drc.containers.contains(where: { $0.hasEnv(IRSAFacts.roleEnv) || $0.hasEnv(IRSAFacts.tokenFileEnv) }) {
                // Which container and index holds the env differs per config: the user edits it.
                commands.append(Commands.kubectl(["edit", .literal(Commands.runtimeConfigResource), .literal(drc.metadata.name)], effect: .change))
            }
            commands.append(Commands.restart(subject))
            return [
                .fail(
                    "pod(s) \(both.sorted().joined(separator: ", ")) carry IRSA env (AWS_ROLE_ARN=\(irsaRole ?? "?")) beside Pod Identity env: the SDK uses web identity first, so they run as the IRSA role, not the association's",
                    evidence: ["pods": both.sorted().joined(separator: ",")],
                    remediation: Remediation("remove the IRSA settings (kubectl edit: drop AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE from the deploymentTemplate containers) and restart", commands: commands), fixable: annotation != nil)
            ]
        }
        if subject.serviceAccount == nil, let error = context.runtimeReadError(for: subject) {
            return [error]
        }
        if let value = annotation ?? drcAnnotation {
            return [
                .warn(
                    "ServiceAccount \(subject.namespace)/\(sa) still has \(IRSAFacts.roleAnnotation)=\(value)\(drcAnnotation != nil ? " (set by DeploymentRuntimeConfig \(subject.runtimeConfig?.metadata.name ?? ""))" : ""): Pod Identity wins for new pods, but pods created before the association keep using IRSA",
                    evidence: ["annotation": value],
                    remediation: Remediation("remove the stale annotation", commands: commands), fixable: true)
            ]
        }
        return [.pass("no IRSA env or role-arn annotation alongside Pod Identity")]
    }
}
