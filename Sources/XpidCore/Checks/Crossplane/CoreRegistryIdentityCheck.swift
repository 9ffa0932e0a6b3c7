import Foundation

public struct CoreRegistryIdentityCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "crossplane.core-registry-identity",
        title: "Package manager has a registry identity",
        summary: "When any package comes from ECR (ACR, GAR), the `crossplane` ServiceAccount has that cloud's workload identity (on EKS an `eks.amazonaws.com/role-arn` annotation or a Pod Identity association).",
        rationale: "The Crossplane pod pulls packages itself, with a cloud-aware keychain that uses its own identity; without one, installs fail with 'failed to get authorization token' or 'unauthorized'.",
        remediation: "Annotate the `crossplane` ServiceAccount (Helm `serviceAccount.customAnnotations`), then restart Crossplane.",
        mechanism: .crossplane, scope: .subject, dependsOn: ["irsa.sa-annotation"],
        reads: [.serviceAccounts],
        passing: [CheckExample("core on IRSA, provider from ECR", subject: "crossplane-core/crossplane", expect: .pass) { Examples.irsaSeed() }],
        failing: [
            CheckExample("ECR package, core without identity", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.irsaSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[IRSAFacts.roleAnnotation] = nil }
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.spec.containers[0].env = [] }
                return s
            }
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.kind == .crossplaneCore }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let core) = target else { return [] }
        let cloudPackages = context.snapshot.packages.filter { [.ecr, .acr, .gar].contains($0.reference.registryKind) }
        guard !cloudPackages.isEmpty else { return [.skip("no package comes from a private cloud registry (ECR, ACR, GAR)")] }
        let names = cloudPackages.map { "\($0.kind.rawValue)/\($0.metadata.name)" }.sorted()
        let registries = Set(cloudPackages.compactMap(\.reference.registry)).sorted()
        let ecr = cloudPackages.filter { $0.reference.registryKind == .ecr }
        if !ecr.isEmpty {
            let annotated = core.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation].map(ARN.isWellFormedRoleARN) ?? false
            if (core.method == .irsa && annotated) || core.method == .podIdentity {
                return [.pass("\(names.count) package(s) come from \(registries.joined(separator: ", ")); the package manager uses \(core.method.rawValue) (\(core.methodEvidence))", evidence: ["packages": names.joined(separator: ",")])]
            }
            return [
                .fail(
                    "\(names.joined(separator: ", ")) come from ECR (\(registries.joined(separator: ", "))), but ServiceAccount \(core.namespace)/\(core.serviceAccountName ?? "crossplane") has no AWS identity: the package manager cannot get an ECR token",
                    evidence: ["packages": names.joined(separator: ","), "registries": registries.joined(separator: ",")],
                    remediation: Remediation(
                        "give the package manager a role that may pull from ECR (see crossplane.registry-permissions for the policy)",
                        commands: Commands.setRoleAnnotation(core, role: .variable("ROLE_ARN", meaning: "the ARN of a role that may pull from ECR" + (ecr[0].reference.registry?.split(separator: ".").first.map { ", in account \($0)" } ?? "")))),
                    fixable: true)
            ]
        }
        return [.skip("packages come from ACR/GAR; Azure and GKE identity checks are not in this version")]
    }
}
