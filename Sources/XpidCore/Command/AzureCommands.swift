import Foundation

/// az commands printed in remediations (cloud-side changes are printed, never run). The reads the
/// gatherer runs are built by the az adapter from the same words.
extension Commands {
    public static func az(_ words: [Command.Word], subscription: String? = nil, effect: Command.Effect = .read) -> Command {
        Command(["az"] + words + (subscription.map { ["--subscription", .literal($0)] } ?? []), effect: effect)
    }

    public static func aksShow(_ context: EvaluationContext, query: String? = nil) -> Command {
        az(["aks", "show", "--resource-group", context.resourceGroupWord, "--name", context.aksNameWord] + (query.map { ["--query", .literal($0)] } ?? []),
           subscription: context.snapshot.cluster.subscription)
    }

    public static func enableWorkloadIdentity(_ context: EvaluationContext) -> Command {
        az(["aks", "update", "--resource-group", context.resourceGroupWord, "--name", context.aksNameWord, "--enable-oidc-issuer", "--enable-workload-identity"],
           subscription: context.snapshot.cluster.subscription, effect: .change)
    }

    public static func listFederatedCredentials(_ identity: ManagedIdentity, subscription: String?) -> Command {
        az(["identity", "federated-credential", "list", "--identity-name", .literal(identity.name), "--resource-group", identityGroupWord(identity)],
           subscription: subscription)
    }

    /// One credential; Azure rejects concurrent creations on one identity (409), so the plan lists them one per line.
    /// `update` rewrites an existing credential (a near miss) instead of adding one beside it.
    public static func createFederatedCredential(
        _ context: EvaluationContext, identity: ManagedIdentity?, name: String, subject: String, update: Bool = false
    ) -> Command {
        let identityName: Command.Word = identity.map { .literal($0.name) } ?? .variable("IDENTITY_NAME", meaning: "the user-assigned managed identity's name (az identity list)")
        let group: Command.Word = identity.map(identityGroupWord) ?? .variable("IDENTITY_RESOURCE_GROUP", meaning: "the identity's resource group")
        let issuer: Command.Word = context.snapshot.azure.cluster.value?.issuerURL.map(Command.Word.literal)
            ?? .variable("OIDC_ISSUER", meaning: "the cluster's OIDC issuer URL, trailing / included (az aks show --query oidcIssuerProfile.issuerUrl -o tsv)")
        return az(
            ["identity", "federated-credential", update ? "update" : "create", "--name", .literal(name), "--identity-name", identityName, "--resource-group", group,
             "--issuer", issuer, "--subject", .literal(subject), "--audiences", .literal(AzureWIFacts.audience)],
            subscription: identity?.id.flatMap(AzureResourceID.subscription) ?? context.snapshot.cluster.subscription, effect: .change)
    }

    /// Assignments that apply at a scope, filtered by the principal's object ID on the client side:
    /// `--assignee` would resolve the ID through Microsoft Graph, which can silently return nothing.
    public static func listRoleAssignments(scope: String, principalID: String) -> Command {
        az(["role", "assignment", "list", "--scope", .literal(scope), "--include-inherited", "--fill-principal-name", "false",
            "--query", .literal("[?principalId=='\(principalID)'].{role:roleDefinitionName,scope:scope}")])
    }

    /// Always by object ID with the principal type, so az does not look the assignee up in Microsoft Graph.
    public static func createRoleAssignment(principalID: Command.Word, role: String, scope: Command.Word) -> Command {
        az(["role", "assignment", "create", "--assignee-object-id", principalID, "--assignee-principal-type", "ServicePrincipal", "--role", .literal(role), "--scope", scope],
           effect: .change)
    }

    public static func identityByClientID(_ clientID: String, subscription: String?) -> Command {
        az(["identity", "list", "--query", .literal("[?clientId=='\(clientID)'].{name:name,resourceGroup:resourceGroup,principalId:principalId}")], subscription: subscription)
    }

    public static func appFederatedCredentials(clientID: String) -> Command {
        az(["ad", "app", "federated-credential", "list", "--id", .literal(clientID)])
    }

    /// The resource ID of a registry, for `--scope`, or a variable when the registry was not read.
    public static func registryScope(_ registry: ContainerRegistry?, loginServer: String) -> Command.Word {
        registry.map { .literal($0.id) } ?? .variable("ACR_ID", meaning: "the resource ID of registry \(loginServer) (az acr show --name NAME --query id -o tsv)")
    }

    static func identityGroupWord(_ identity: ManagedIdentity) -> Command.Word {
        identity.resourceGroup.map(Command.Word.literal) ?? .variable("IDENTITY_RESOURCE_GROUP", meaning: "the resource group of identity \(identity.name)")
    }

    /// Values az prints are validated before they reach a command: GUIDs stay GUIDs.
    public static func guidWord(_ value: String?, variable: String, meaning: String) -> Command.Word {
        if let value, AzureWIFacts.isGUID(value) { return .literal(value) }
        return .variable(variable, meaning: meaning)
    }
}

extension EvaluationContext {
    public var resourceGroupWord: Command.Word {
        snapshot.cluster.resourceGroup.map(Command.Word.literal) ?? .variable("RESOURCE_GROUP", meaning: "the AKS cluster's resource group (az aks list -o table)")
    }

    public var aksNameWord: Command.Word {
        snapshot.cluster.name.map(Command.Word.literal) ?? .variable("CLUSTER_NAME", meaning: "the AKS cluster's name (az aks list -o table)")
    }
}

/// The cluster-side changes Azure Workload Identity needs, in the place where each one sticks.
public enum AzureFixCommands {
    public static func clientIDWord(_ id: String?) -> Command.Word {
        Commands.guidWord(id, variable: "CLIENT_ID", meaning: "the managed identity's client ID (az identity show --name NAME --resource-group RG --query clientId -o tsv)")
    }

    /// `azure.workload.identity/client-id` (and the tenant when it is missing and known), and the pod
    /// label when `label`: for a Helm-managed core one `helm upgrade` with every value, then a restart.
    public static func annotate(_ subject: Subject, context: EvaluationContext, clientID: String?, label: Bool = false) -> [Command] {
        var values: [(key: String, value: Command.Word)] = [(AzureWIFacts.clientIDAnnotation, clientIDWord(clientID))]
        if subject.serviceAccount?.metadata.annotations[AzureWIFacts.tenantIDAnnotation] == nil, let tenant = context.snapshot.azure.account.value?.tenantID, AzureWIFacts.isGUID(tenant) {
            values.append((AzureWIFacts.tenantIDAnnotation, .literal(tenant)))
        }
        if subject.kind == .crossplaneCore, let helm = Commands.helmRelease(subject) {
            var settings = values.map { (key: Commands.helmAnnotationKey($0.key), value: $0.value) }
            if label { settings.append((Commands.helmLabelKey(AzureWIFacts.useLabel), "true")) }
            return [Commands.helmSet(helm, settings), Commands.restart(subject)]
        }
        let list = values.flatMap { Commands.setServiceAccountAnnotation(subject, key: $0.key, value: $0.value) }
        return unique(label ? addPodLabel(subject) + list : list)
    }

    public static func annotate(_ subject: Subject, context: EvaluationContext, key: String, value: String?, variable: String, meaning: String) -> [Command] {
        unique(Commands.setServiceAccountAnnotation(subject, key: key, value: Commands.guidWord(value, variable: variable, meaning: meaning)))
    }

    /// The pod label, on the pod template: Helm `customLabels` for a Helm-managed core, the Deployment's
    /// template otherwise; for packages the DeploymentRuntimeConfig's deployment template.
    public static func addPodLabel(_ subject: Subject) -> [Command] {
        switch subject.kind {
        case .crossplaneCore:
            if let helm = Commands.helmRelease(subject) {
                return [Commands.helmSet(helm, key: Commands.helmLabelKey(AzureWIFacts.useLabel), value: "true")]
            }
            let name = subject.deployment?.metadata.name ?? "crossplane"
            return [Commands.patch("deployment", name, namespace: subject.namespace, Patches.podTemplateLabel(AzureWIFacts.useLabel, "true"))]
        case .provider, .function:
            if let drc = subject.runtimeConfig, drc.metadata.name != "default" {
                return [Commands.patch(Commands.runtimeConfigResource, drc.metadata.name, Patches.runtimeConfigPodLabel(AzureWIFacts.useLabel, "true"))]
            }
            let drc = Commands.dedicatedRuntimeConfigName(subject)
            return [
                Commands.apply(Patches.runtimeConfigManifest(name: drc, serviceAccountName: subject.name, podLabels: [AzureWIFacts.useLabel: "true"])),
                Commands.patch(Commands.packageResource(subject), subject.name, Patches.runtimeConfigRef(drc)),
            ]
        case .fluxController:
            let name = subject.deployment?.metadata.name ?? subject.name
            return [Commands.patch("deployment", name, namespace: subject.namespace, Patches.podTemplateLabel(AzureWIFacts.useLabel, "true"))]
        case .fluxObject:
            // Object level: the controller issues the token; no pod carries the label.
            return []
        }
    }

    static func unique(_ commands: [Command]) -> [Command] {
        var seen: Set<Command> = []
        return commands.filter { seen.insert($0).inserted }
    }
}

extension Commands {
    /// A merge patch of top-level fields of an Azure ProviderConfig; unknown values become variables.
    public static func setProviderConfigFields(_ pc: ProviderConfig, _ fields: [String: String], variables: [String] = []) -> Command {
        var body = fields
        for name in variables { body[name] = nil }
        if variables.isEmpty {
            return patch("\(pc.api.plural).\(pc.api.group)", pc.metadata.name, namespace: pc.metadata.namespace, Patches.providerConfigFields(body))
        }
        // The patch body must carry the values themselves: print one patch per unknown field with a variable.
        let name = variables[0]
        let variable = name.uppercased().replacingOccurrences(of: "ID", with: "_ID")
        var words: [Command.Word] = ["patch", .literal("\(pc.api.plural).\(pc.api.group)"), .literal(pc.metadata.name)]
        if let ns = pc.metadata.namespace { words += ["-n", .literal(ns)] }
        words += ["--type", "merge", "-p", .variable(variable, meaning: "the merge patch {\"spec\":{\"\(name)\":\"…\"}} with the value of \(name)", prefix: ""), fieldManager]
        return kubectl(words, effect: .change)
    }
}
