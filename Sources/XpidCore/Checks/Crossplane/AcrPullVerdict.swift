import Foundation

/// Whether a principal may pull from an ACR registry, from the role assignments that apply there.
/// Shared by the package manager's check (its managed identity) and node-pull (the kubelet identity).
enum AcrPullVerdict {
    static func verdict(principalID: String, who: String, loginServer: String, context: EvaluationContext) -> CheckResult {
        let azure = context.snapshot.azure
        let registry: ContainerRegistry
        switch azure.registries {
        case .value:
            guard let found = azure.registry(loginServer: loginServer) else {
                let subscription = context.snapshot.cluster.subscription ?? azure.account.value?.subscriptionID ?? "(current)"
                return .error(
                    "registry \(loginServer) is not among the registries of subscription \(subscription) (az acr list): its role assignments could not be read",
                    remediation: Remediation("pass --subscription for the registry's subscription, or check the role assignment yourself", commands: [
                        Commands.az(["acr", "show", "--name", .literal(String(loginServer.split(separator: ".")[0])), "--query", "id", "-o", "tsv"]),
                    ]))
            }
            registry = found
        default:
            return azure.registries.unavailableResult(what: "container registries (az acr list)") ?? .skip("")
        }
        let assignments: [RoleAssignment]
        switch azure.roleAssignments[registry.id] {
        case .value(let list)?: assignments = list.filter { $0.principalID.caseInsensitiveCompare(principalID) == .orderedSame }
        case let other?: return other.unavailableResult(what: "role assignments on \(registry.name)") ?? .skip("")
        case nil: return .error("role assignments on registry \(registry.name) were not read")
        }
        let mode = registry.roleAssignmentMode ?? "LegacyRegistryPermissions"
        var evidence = ["registry": registry.id, "principalId": principalID, "roleAssignmentMode": mode, "assignments": assignments.map { "\($0.roleLabel)@\($0.scope)" }.joined(separator: ",")]
        let roles = assignments.map(\.roleLabel)
        let granting = assignments.filter { a in
            let name = a.roleDefinitionName ?? ""
            if registry.isABAC { return AzureWIFacts.abacPullRoles.contains(name) }
            return a.roleGUID == AzureWIFacts.acrPullRoleID || AzureWIFacts.legacyPullRoles.contains(name)
        }
        if let g = granting.first {
            evidence["grantedBy"] = "\(g.roleLabel) at \(g.scope)"
            return .pass("\(who) (principal \(principalID)) may pull from \(registry.name): \(g.roleLabel) at \(g.scope == registry.id ? "the registry" : g.scope)", evidence: evidence)
        }
        let role = registry.isABAC ? "Container Registry Repository Reader" : "AcrPull"
        let searched = "searched the assignments that apply at \(registry.id) (the registry, its resource group and subscription) for principal \(principalID); grants through Entra groups or management groups are not visible to that query"
        let scope = Commands.registryScope(registry, loginServer: loginServer)
        let principal = Commands.guidWord(principalID, variable: "PRINCIPAL_ID", meaning: "the identity's principal (object) ID")
        if registry.isABAC && roles.contains(where: { AzureWIFacts.legacyPullRoles.contains($0) || $0 == AzureWIFacts.acrPullRoleID }) {
            return .fail(
                "\(who) has \(roles.joined(separator: ", ")) on \(registry.name), but the registry uses AbacRepositoryPermissions, where AcrPull is not honoured: it needs \(role)",
                evidence: evidence,
                remediation: Remediation("assign a repository role (ABAC registries ignore AcrPull)", commands: [Commands.createRoleAssignment(principalID: principal, role: role, scope: scope)]))
        }
        return .fail(
            "\(who) (principal \(principalID)) has no \(role) on \(registry.name)\(roles.isEmpty ? "" : " (it has \(roles.joined(separator: ", ")))"): \(searched)",
            evidence: evidence,
            remediation: Remediation("assign \(role) on the registry", commands: [
                Commands.createRoleAssignment(principalID: principal, role: role, scope: scope),
                Commands.listRoleAssignments(scope: registry.id, principalID: principalID),
            ]))
    }
}
