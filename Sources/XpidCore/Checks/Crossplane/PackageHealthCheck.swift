import Foundation

public struct PackageHealthCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "crossplane.package-health",
        title: "Package installed and healthy",
        summary: "The Provider/Function has `Installed` and `Healthy` True; on failure the condition message is decoded (ECR token, InvalidIdentityToken, ecr:BatchGetImage, registry auth, AADSTS70021, …) into what it means.",
        rationale: "Identity problems of the package manager and of the runtime surface first as package conditions; decoding the message points at the broken link instead of a generic 'unhealthy'.",
        remediation: "Read the decoded cause in the finding; `kubectl describe` the package and its revision for the full message.",
        mechanism: .crossplane, scope: .subject,
        liveOnly: true, passing: [CheckExample("installed and healthy", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("ECR authorization token denied", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.updatePackage("provider-aws-s3") {
                    $0.conditions = [
                        Condition(type: "Installed", status: "False", reason: "UnpackingPackage",
                            message: "cannot unpack package: failed to fetch package digest from 123456789012.dkr.ecr.us-east-2.amazonaws.com/crossplane/provider-aws-s3:v1.2.0: failed to get authorization token: AccessDeniedException"),
                        Condition(type: "Healthy", status: "Unknown", reason: "UnknownPackageRevisionHealth"),
                    ]
                }
                return s
            },
            CheckExample("ACR refuses the package manager (seed 000's Azure tab, no identity)", subject: "provider/provider-azure-storage", expect: .fail) {
                var s = Examples.aksSeed()
                s.updatePackage("provider-azure-storage") {
                    $0.conditions = [
                        Condition(type: "Installed", status: "False", reason: "UnpackingPackage",
                            message: "cannot unpack package: cannot resolve myregistry.azurecr.io/crossplane/provider-azure-storage:v2.7.0 to digest: failed to fetch package descriptor with a GET request after a previous HEAD request failure: HEAD https://myregistry.azurecr.io/v2/crossplane/provider-azure-storage/manifests/v2.7.0: unexpected status code 401 Unauthorized (HEAD responses have no body, use GET for details): GET https://myregistry.azurecr.io/oauth2/token?scope=repository%3Acrossplane%2Fprovider-azure-storage%3Apull&service=myregistry.azurecr.io: UNAUTHORIZED: authentication required, visit https://aka.ms/acr/authorization for more information."),
                        Condition(type: "Healthy", status: "Unknown", reason: "UnknownPackageRevisionHealth"),
                    ]
                }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.package != nil }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let package = subject.package else { return [] }
        let installed = package.condition("Installed")
        let healthy = package.condition("Healthy")
        if installed?.status == "True" && healthy?.status == "True" {
            return [.pass("Installed and Healthy (revision \(package.currentRevision ?? "?"))")]
        }
        if installed == nil && healthy == nil {
            return [.warn("no Installed/Healthy conditions yet: the package manager has not processed \(subject.id)",
                remediation: Remediation("check the Crossplane pod and the package events", commands: [Commands.describePackage(subject)]))]
        }
        let bad = [installed, healthy].compactMap { $0 }.filter { $0.status != "True" }
        let text = bad.map { "\($0.type)=\($0.status)" + ($0.reason.map { " (\($0))" } ?? "") + ($0.message.map { ": \($0)" } ?? "") }.joined(separator: "; ")
        let explanations = bad.compactMap(\.message).flatMap(ErrorDecoder.decode)
        var evidence: [String: String] = [:]
        var explanation = explanations.first
        // A family provider pulled from the public registry because a private-registry provider
        // depends on it: the cause is dependency resolution (seed 001), not the package manager's identity.
        if subject.isFamilyProvider, package.reference.registryKind == .publicCrossplane,
            context.subjects.contains(where: { other in
                guard let ref = other.package?.reference, ref.registryKind != .publicCrossplane else { return false }
                return PrivateDependenciesCheck.family(of: ref) == package.reference.name
            })
        {
            explanation = ErrorDecoder.Explanation(
                signature: explanation?.signature ?? "",
                meaning: "this family provider was installed as a dependency of a provider from a private registry and resolved from the public registry; install it from the private registry and skip dependency resolution",
                relatedCheck: "crossplane.private-dependencies")
        }
        if let first = explanation {
            evidence["decoded"] = first.meaning
            if let related = first.relatedCheck, related != Self.description.id { evidence["seeCheck"] = related }
        }
        let summary = explanation.map { "cause: \($0.meaning)" + ($0.relatedCheck.flatMap { $0 == Self.description.id ? nil : " (see \($0))" } ?? "") }
            ?? "read the condition message and the revision's events"
        return [
            .fail(
                "\(subject.id) is not healthy: \(text)", evidence: evidence,
                remediation: Remediation(summary, commands: [Commands.describePackage(subject), Commands.packageRevisions(subject)]))
        ]
    }
}
