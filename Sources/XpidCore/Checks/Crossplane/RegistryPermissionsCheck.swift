import Foundation

public struct RegistryPermissionsCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "crossplane.registry-permissions",
        title: "Package manager may pull its packages",
        summary: "The package manager's identity may pull every ACR package in use (`AcrPull` at the registry, its resource group or subscription; a repository reader role in an `AbacRepositoryPermissions` registry), and its role every ECR package: `ecr:GetAuthorizationToken` on `*`, and `ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer`, `ecr:BatchCheckLayerAvailability` on each repository ARN (IAM's simulator when it answers, else the role's attached and inline policies; the finding says which decided).",
        rationale: "A role that can log in but not read the repository fails with 'is not authorized to perform: ecr:BatchGetImage'; a Resource written without `repository/` matches nothing.",
        remediation: "Attach a policy granting the four actions (the report prints it with the exact repository ARNs).",
        mechanism: .crossplane, scope: .subject, cloud: true, dependsOn: ["crossplane.core-registry-identity"],
        passing: [
            CheckExample("simulator allows every pull", subject: "crossplane-core/crossplane", expect: .pass) { Examples.irsaSeed() },
            CheckExample("AcrPull on the registry", subject: "crossplane-core/crossplane", expect: .pass) { Examples.aksSeed() },
            CheckExample("the GSA reads the Artifact Registry repository", subject: "crossplane-core/crossplane", expect: .pass) { Examples.gkeSeed() },
        ],
        failing: [
            CheckExample("policy without ecr:BatchGetImage", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.irsaSeed()
                let repo = "arn:aws:ecr:us-east-2:123456789012:repository/crossplane/provider-aws-s3"
                let policy = NamedPolicy(name: "CrossplaneECRPolicy (attached)", document: [
                    "Version": "2012-10-17",
                    "Statement": [
                        ["Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"],
                        ["Effect": "Allow", "Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], "Resource": "arn:aws:ecr:us-east-2:123456789012:repository/*"],
                    ],
                ])
                s.aws.permissions[Examples.coreRole] = .value(RolePermissions(
                    roleArn: Examples.coreRole, method: .policies,
                    evaluations: IAMPolicyEvaluator.evaluate(IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: [repo]), policies: [policy]),
                    simulatorUnavailable: "AccessDenied"))
                return s
            },
            CheckExample("no AcrPull for the package manager", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.azure.roleAssignments[Examples.acrID] = .value(s.azure.roleAssignments[Examples.acrID]?.value?.filter { $0.principalID != Examples.corePrincipalID } ?? [])
                return s
            },
            CheckExample("GSA without the Artifact Registry reader role", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.gkeSeed()
                s.gcp.repositoryPolicies["europe-west1/acme-platform/crossplane"] = .value(GCPPolicy(bindings: []))
                return s
            },
            CheckExample("ABAC registry with only AcrPull", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.azure.registries = .value([ContainerRegistry(name: "myregistry", id: Examples.acrID, loginServer: Examples.acrServer, roleAssignmentMode: "AbacRepositoryPermissions")])
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.kind == .crossplaneCore }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let core) = target else { return [] }
        let repos = context.snapshot.ecrPackageRepositories
        let acr = context.snapshot.acrPackageRegistries
        let gar = context.snapshot.garPackageRepositories
        if repos.isEmpty && acr.isEmpty && gar.isEmpty { return [.skip("no package comes from ECR, ACR or Artifact Registry")] }
        var results: [CheckResult] = []
        if !repos.isEmpty {
            if let role = context.identityRole(of: core) {
                results.append(Self.verdict(for: context.snapshot.aws.permissions[role], role: role, repositories: repos, who: "the package manager"))
            } else {
                results.append(.skip("the package manager has no AWS role to check"))
            }
        }
        if !acr.isEmpty {
            results += acrResults(core, registries: acr, context)
        }
        if !gar.isEmpty {
            results += gar.map { garResult(core, repository: $0, context) }
        }
        return results
    }

    /// The package manager's GSA or principal holds a reader role on the repository or its project.
    func garResult(_ core: Subject, repository: ArtifactRepository, _ context: EvaluationContext) -> CheckResult {
        let gcp = context.snapshot.gcp
        let member: String
        if let gsa = core.serviceAccount?.metadata.annotations[GKEFacts.gsaAnnotation], GKEFacts.isServiceAccountEmail(gsa) {
            member = "serviceAccount:\(gsa)"
        } else if core.method == .gkeWIF, let pool = gcp.cluster.value?.workloadPool, let number = gcp.projectNumber.value, let sa = core.serviceAccountName {
            member = GKEFacts.principal(projectNumber: number, pool: pool, namespace: core.namespace, serviceAccount: sa)
        } else {
            return .skip("the package manager has no GKE identity to check")
        }
        let repoPolicy = gcp.repositoryPolicies[repository.key]
        if case .failed(let e)? = repoPolicy { return CloudRead<GCPPolicy>.failed(e).unavailableResult(what: "the IAM policy of repository \(repository.repository)") ?? .skip("") }
        let repoRoles = repoPolicy?.value?.roles(of: member) ?? []
        let projectRoles = repository.project == context.snapshot.cluster.project ? (gcp.projectPolicy.value?.roles(of: member) ?? []) : []
        if let role = (repoRoles + projectRoles).first(where: GKEFacts.readerRoles.contains) {
            return .pass("\(member) has \(role) on \(repoRoles.contains(role) ? "repository \(repository.repository)" : "project \(repository.project)")", evidence: ["member": member])
        }
        return .fail(
            "\(member) has no Artifact Registry reader role on repository \(repository.key) or its project: pulls fail with DENIED: Permission \"artifactregistry.repositories.downloadArtifacts\" denied",
            evidence: ["member": member, "repository": repository.key],
            remediation: Remediation("grant roles/artifactregistry.reader on the repository", commands: [Commands.addRepositoryReader(repository, member: member)]))
    }

    func acrResults(_ core: Subject, registries: [String], _ context: EvaluationContext) -> [CheckResult] {
        guard core.method == .azureWI, let (clientID, _) = context.azureClientID(of: core), AzureWIFacts.isGUID(clientID) else {
            return [.skip("the package manager has no Azure identity to check")]
        }
        let azure = context.snapshot.azure
        guard case .value = azure.identities else {
            return [azure.identities.unavailableResult(what: "managed identities (az identity list)") ?? .skip("")]
        }
        guard let identity = azure.identity(clientID: clientID), let principal = identity.principalID else {
            return [.skip("no managed identity with client ID \(clientID) (see azure.federated-credential)")]
        }
        return registries.map { AcrPullVerdict.verdict(principalID: principal, who: "the package manager's identity \(identity.name)", loginServer: $0, context: context) }
    }

    /// Shared with node-pull: turns a permission read into a finding.
    static func verdict(for read: CloudRead<RolePermissions>?, role: String, repositories: [String], who: String) -> CheckResult {
        let name = ARN(role)?.roleName ?? role
        switch read {
        case .value(let permissions):
            let denied = permissions.denied()
            var evidence = ["roleArn": role, "decidedBy": permissions.method.rawValue]
            if let why = permissions.simulatorUnavailable { evidence["simulatorUnavailable"] = why }
            if denied.isEmpty {
                return .pass("role \(name) may pull from \(repositories.count) ECR repositor\(repositories.count == 1 ? "y" : "ies") (decided by \(permissions.method.rawValue))", evidence: evidence)
            }
            let list = denied.map { "\($0.request.action) on \($0.request.resource) (\($0.decision.rawValue)\($0.decidedBy.isEmpty ? "" : " by \($0.decidedBy.joined(separator: ", "))"))" }
            let conditional = denied.flatMap(\.conditionalAllows)
            if !conditional.isEmpty { evidence["conditionalAllows"] = Array(Set(conditional)).sorted().joined(separator: ",") }
            return .fail(
                "role \(name) (\(who)) may not \(list.joined(separator: "; ")) — decided by \(permissions.method.rawValue)", evidence: evidence,
                remediation: Remediation(
                    "grant ECR pull on the repositories (a Resource must be arn:aws:ecr:REGION:ACCOUNT:repository/NAME)",
                    commands: [Commands.putRolePolicy(roleName: name, policyName: "crossplane-ecr-pull", document: Patches.ecrPullPolicy(repositories: repositories))]))
        case .some(let other):
            return other.unavailableResult(what: "permissions of role \(name)") ?? .skip("")
        case .none:
            return .error("permissions of role \(name) were not read")
        }
    }
}

extension EvaluationContext {
    /// The IAM role a subject's pods run as: the IRSA annotation, or its Pod Identity association's role.
    public func identityRole(of subject: Subject) -> String? {
        switch subject.method {
        case .irsa: return subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation]
        case .podIdentity: return association(for: subject)?.roleArn
        default: return nil
        }
    }
}
