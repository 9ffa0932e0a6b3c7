import Foundation

public struct GKEAnnotationCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "gke.sa-annotation",
        title: "ServiceAccount names a Google service account",
        summary: "When present, `iam.gke.io/gcp-service-account` on the subject's ServiceAccount is a Google service account email (`NAME@PROJECT.iam.gserviceaccount.com`); without it the ServiceAccount is itself the identity (a direct principal, method `gke-wif`).",
        rationale: "The metadata server impersonates exactly the annotated GSA; a name, a project number or a typo fails every token request with a 403 on `iam.serviceAccounts.getAccessToken`.",
        remediation: "Annotate the ServiceAccount with the GSA's email (Helm `serviceAccount.customAnnotations` for the core; the DeploymentRuntimeConfig's `serviceAccountTemplate` for packages).",
        mechanism: .gke, scope: .subject,
        reads: [.serviceAccounts],
        passing: [
            CheckExample("GSA email on the core's ServiceAccount", subject: "crossplane-core/crossplane", expect: .pass) { Examples.gkeSeed() },
            CheckExample("direct principal: no annotation", subject: "provider/provider-gcp-storage", expect: .pass) { Examples.gkeSeed() },
        ],
        failing: [
            CheckExample("annotation is not a GSA email", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.gkeSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[GKEFacts.gsaAnnotation] = "crossplane-gar" }
                return s
            },
            CheckExample("a provider's runtime config sets a project number instead of an email", subject: "provider/provider-gcp-storage", expect: .fail) {
                var s = Examples.gkeSeed()
                for i in s.runtimeConfigs.indices where s.runtimeConfigs[i].metadata.name == "gcp-storage" { s.runtimeConfigs[i].serviceAccountAnnotations[GKEFacts.gsaAnnotation] = "123456789012" }
                s.updateServiceAccount(namespace: Examples.namespace, name: "provider-gcp-storage") { $0.metadata.annotations[GKEFacts.gsaAnnotation] = "123456789012" }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .gkeWI || subject.method == .gkeWIF }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let saName = subject.serviceAccountName else {
            if case .subject(let s) = target, let error = context.runtimeReadError(for: s) { return [error] }
            return [.skip("no runtime Deployment or pod found; see crossplane.package-health")]
        }
        guard let gsa = subject.serviceAccount?.metadata.annotations[GKEFacts.gsaAnnotation] else {
            if let drcValue = subject.runtimeConfig?.serviceAccountAnnotations[GKEFacts.gsaAnnotation] {
                return [.fail(
                    "DeploymentRuntimeConfig \(subject.runtimeConfig?.metadata.name ?? "") sets \(GKEFacts.gsaAnnotation)=\(Printable.text(drcValue)), but ServiceAccount \(subject.namespace)/\(saName) does not carry it (the package's ServiceAccount is another one)",
                    remediation: Remediation("check which ServiceAccount the package runs as", commands: [Commands.list("serviceaccounts", namespace: subject.namespace)]))]
            }
            return [.pass("ServiceAccount \(subject.namespace)/\(saName) has no \(GKEFacts.gsaAnnotation): it is its own identity (direct principal); roles must be granted to its principal (see gke.iam-binding)")]
        }
        guard GKEFacts.isServiceAccountEmail(gsa) else {
            return [.fail(
                "\(GKEFacts.gsaAnnotation)=\(Printable.text(gsa)) on ServiceAccount \(subject.namespace)/\(saName) is not a Google service account email (NAME@PROJECT.iam.gserviceaccount.com)",
                evidence: ["gsa": Printable.text(gsa)],
                remediation: Remediation(
                    "annotate the GSA's email (kubectl xpid fix --overwrite --gcp-service-account EMAIL)",
                    commands: [Commands.gcloud(["iam", "service-accounts", "list", "--format", "value(email)"], project: context.snapshot.cluster.project)]),
                fixable: true)]
        }
        return [.pass("ServiceAccount \(subject.namespace)/\(saName) impersonates \(gsa)", evidence: ["gsa": gsa])]
    }
}
