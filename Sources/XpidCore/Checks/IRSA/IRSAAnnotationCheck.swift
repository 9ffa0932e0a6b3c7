import Foundation

public struct IRSAAnnotationCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "irsa.sa-annotation",
        title: "ServiceAccount carries the role ARN",
        summary: "The subject's ServiceAccount has `eks.amazonaws.com/role-arn` with a well-formed role ARN (`fail` when the annotation sits on the Deployment, pod template or DeploymentRuntimeConfig deploymentTemplate instead).",
        rationale: "The EKS webhook reads the role only from the ServiceAccount; an annotation anywhere else injects nothing and the pod falls back to the node role.",
        remediation: "Annotate the ServiceAccount: Helm `serviceAccount.customAnnotations` for Crossplane, the DeploymentRuntimeConfig `serviceAccountTemplate.metadata.annotations` for packages.",
        mechanism: .irsa, scope: .subject,
        reads: [.serviceAccounts],
        passing: [CheckExample("core SA annotated through Helm", subject: "crossplane-core/crossplane", expect: .pass) { Examples.irsaSeed() }],
        failing: [
            CheckExample("annotation on the Deployment instead of the SA", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.irsaSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[IRSAFacts.roleAnnotation] = nil }
                s.deployments[0].metadata.annotations[IRSAFacts.roleAnnotation] = Examples.coreRole
                return s
            },
            CheckExample("malformed role ARN", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.irsaSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[IRSAFacts.roleAnnotation] = "CrossplaneECRRole" }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .irsa }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        guard let saName = subject.serviceAccountName else {
            return [context.runtimeReadError(for: subject) ?? .skip("no runtime Deployment or pod found; see crossplane.package-health")]
        }
        guard let sa = subject.serviceAccount else {
            if let error = context.runtimeReadError(for: subject) { return [error] }
            return [.fail("ServiceAccount \(subject.namespace)/\(saName) does not exist", remediation: Remediation("check the runtime config's ServiceAccount name", commands: [Commands.list("serviceaccounts", namespace: subject.namespace)]))]
        }
        if let value = sa.metadata.annotations[IRSAFacts.roleAnnotation] {
            if ARN.isWellFormedRoleARN(value) {
                return [.pass("ServiceAccount \(subject.namespace)/\(saName) has \(IRSAFacts.roleAnnotation)=\(value)", evidence: ["roleArn": value])]
            }
            return [
                .fail(
                    "ServiceAccount \(subject.namespace)/\(saName) has an invalid \(IRSAFacts.roleAnnotation) value \(value): not a role ARN (arn:aws:iam::ACCOUNT_ID:role/NAME of letters, digits and _+=,.@-); it is never copied",
                    evidence: ["annotation": value],
                    remediation: Remediation("set the full role ARN", commands: Commands.setRoleAnnotation(subject, role: .variable("ROLE_ARN", meaning: "the full ARN of the role to assume, arn:aws:iam::ACCOUNT_ID:role/NAME"), overwrite: true)),
                    fixable: true)
            ]
        }
        if let misplaced = IRSAFacts.misplacedRoleAnnotation(subject) {
            return [
                .fail(
                    "\(IRSAFacts.roleAnnotation) is set on \(misplaced.where_), not on ServiceAccount \(subject.namespace)/\(saName): the EKS webhook reads it only from the ServiceAccount",
                    evidence: ["misplacedOn": misplaced.where_, "roleArn": misplaced.value],
                    remediation: Remediation("put the annotation on the ServiceAccount (and remove the misplaced one)", commands: Commands.setRoleAnnotation(subject, role: Self.roleWord(misplaced.value))),
                    fixable: true)
            ]
        }
        return [
            .fail(
                "ServiceAccount \(subject.namespace)/\(saName) has no \(IRSAFacts.roleAnnotation), but \(subject.id) uses IRSA (\(subject.methodEvidence))",
                remediation: Remediation("annotate the ServiceAccount with the role to assume", commands: Commands.setRoleAnnotation(subject, role: .variable("ROLE_ARN", meaning: "the ARN of the IAM role the ServiceAccount should assume"))),
                fixable: true)
        ]
    }

    /// A role ARN read from the cluster, copied only when it is well formed.
    static func roleWord(_ value: String) -> Command.Word {
        ARN.isWellFormedRoleARN(value) ? .literal(value) : .variable("ROLE_ARN", meaning: "the full ARN of the role to assume, arn:aws:iam::ACCOUNT_ID:role/NAME")
    }
}
