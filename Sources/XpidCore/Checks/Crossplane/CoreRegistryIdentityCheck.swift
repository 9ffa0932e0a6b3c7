import Foundation

public struct CoreRegistryIdentityCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "crossplane.core-registry-identity",
        title: "Package manager has a registry identity",
        summary: "When any package comes from ECR or ACR, the `crossplane` ServiceAccount has that cloud's workload identity (on EKS an `eks.amazonaws.com/role-arn` annotation or a Pod Identity association; on AKS the `azure.workload.identity/client-id` annotation plus the pod label), and no package pull secret shadows it.",
        rationale: "The Crossplane pod pulls packages itself, with a cloud-aware keychain that uses its own identity; without one, installs fail with 'failed to get authorization token' or 'unauthorized'.",
        remediation: "Annotate the `crossplane` ServiceAccount (Helm `serviceAccount.customAnnotations`; on AKS also the pod label through Helm `customLabels`), then restart Crossplane.",
        mechanism: .crossplane, scope: .subject, dependsOn: ["irsa.sa-annotation", "azure.sa-annotation", "azure.pod-label"],
        reads: [.serviceAccounts],
        passing: [
            CheckExample("core on IRSA, provider from ECR", subject: "crossplane-core/crossplane", expect: .pass) { Examples.irsaSeed() },
            CheckExample("core on Azure WI, provider from ACR (seed 000, AKS tab)", subject: "crossplane-core/crossplane", expect: .pass) { Examples.aksSeed() },
            CheckExample("core impersonates a GSA, provider from Artifact Registry (seed 000, GKE tab)", subject: "crossplane-core/crossplane", expect: .pass) { Examples.gkeSeed() },
        ],
        failing: [
            CheckExample("ECR package, core without identity", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.irsaSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[IRSAFacts.roleAnnotation] = nil }
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.spec.containers[0].env = [] }
                return s
            },
            CheckExample("ACR package, core without Azure identity", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations = [:] }
                s.deployments[0].template.labels[AzureWIFacts.useLabel] = nil
                s.deployments[0].metadata.labels[AzureWIFacts.useLabel] = nil
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.metadata.labels[AzureWIFacts.useLabel] = nil; $0.spec.containers[0].env = [] }
                return s
            },
            CheckExample("pull secret shadows workload identity", subject: "crossplane-core/crossplane", expect: .warn) {
                var s = Examples.aksSeed()
                s.updatePackage("provider-azure-storage") { $0.packagePullSecrets = ["acr-creds"] }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.kind == .crossplaneCore }

    /// On GKE the package manager's identity is its GSA (annotation) or, without one, its own principal.
    func garResult(_ core: Subject, _ packages: [CrossplanePackage], _ context: EvaluationContext) -> [CheckResult] {
        let names = packages.map { "\($0.kind.rawValue)/\($0.metadata.name)" }.sorted()
        let registries = Set(packages.compactMap(\.reference.registry)).sorted()
        switch core.method {
        case .gkeWI, .gkeWIF:
            let how = core.method == .gkeWI ? "impersonates \(core.serviceAccount?.metadata.annotations[GKEFacts.gsaAnnotation] ?? "its GSA")" : "pulls as its own principal (no GSA annotation)"
            return [.pass("\(names.count) package(s) come from \(registries.joined(separator: ", ")); the package manager \(how)", evidence: ["packages": names.joined(separator: ",")])]
        default:
            return [.fail(
                "\(names.joined(separator: ", ")) come from Artifact Registry (\(registries.joined(separator: ", "))), but the package manager has no GKE identity (\(core.methodEvidence))",
                evidence: ["packages": names.joined(separator: ",")],
                remediation: Remediation("annotate the crossplane ServiceAccount with a GSA that may read the repository (or grant the reader role to its principal)",
                    commands: Commands.setServiceAccountAnnotation(core, key: GKEFacts.gsaAnnotation, value: .variable("GSA_EMAIL", meaning: "the Google service account, NAME@PROJECT.iam.gserviceaccount.com"))),
                fixable: true)]
        }
    }

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
        let acr = cloudPackages.filter { $0.reference.registryKind == .acr }
        guard !acr.isEmpty else { return garResult(core, cloudPackages.filter { $0.reference.registryKind == .gar }, context) }
        let acrNames = acr.map { "\($0.kind.rawValue)/\($0.metadata.name)" }.sorted()
        let acrRegistries = Set(acr.compactMap(\.reference.registry)).sorted()
        let clientID = core.serviceAccount?.metadata.annotations[AzureWIFacts.clientIDAnnotation]
        let labelled = core.deployment.map { AzureWIFacts.isOn($0.template.labels) } ?? false
        let evidence = ["packages": acrNames.joined(separator: ","), "registries": acrRegistries.joined(separator: ",")]
        guard let clientID, AzureWIFacts.isGUID(clientID), labelled else {
            let candidates = context.candidateIdentities(for: core)
            var missing: [String] = []
            if clientID.map(AzureWIFacts.isGUID) != true { missing.append("no \(AzureWIFacts.clientIDAnnotation) annotation on ServiceAccount \(core.namespace)/\(core.serviceAccountName ?? "crossplane")") }
            if !labelled { missing.append("no \(AzureWIFacts.useLabel)=true label on its pods") }
            return [.fail(
                "\(acrNames.joined(separator: ", ")) come from ACR (\(acrRegistries.joined(separator: ", "))), but the package manager has \(missing.joined(separator: " and ")): it pulls anonymously ('UNAUTHORIZED: authentication required')",
                evidence: evidence,
                remediation: Remediation(
                    "give the package manager a managed identity with AcrPull (see crossplane.registry-permissions), annotate its ServiceAccount and label its pods",
                    commands: AzureFixCommands.annotate(
                        core, context: context, clientID: candidates.count == 1 ? candidates[0].clientID : nil,
                        label: !labelled)),
                fixable: true)]
        }
        let shadowed = acr.filter { !$0.packagePullSecrets.isEmpty }
        if !shadowed.isEmpty {
            let list = shadowed.map { "\($0.kind.rawValue)/\($0.metadata.name) (\($0.packagePullSecrets.joined(separator: ",")))" }
            return [.warn(
                "\(list.joined(separator: ", ")) set packagePullSecrets: the package manager tries pull secrets before its workload identity, so an expired or wrong secret fails the pull although the identity may pull",
                evidence: evidence,
                remediation: Remediation("remove packagePullSecrets from packages that the workload identity can pull", commands: shadowed.map { p in
                    Commands.patch("\(p.kind == .function ? "functions" : "providers").pkg.crossplane.io", p.metadata.name, type: .json, Patches.remove("/spec/packagePullSecrets"))
                }))]
        }
        return [.pass("\(acrNames.count) package(s) come from \(acrRegistries.joined(separator: ", ")); the package manager uses azure-wi (client ID \(clientID), pods labelled)", evidence: evidence)]
    }
}
