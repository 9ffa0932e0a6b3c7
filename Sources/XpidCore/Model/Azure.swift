import Foundation

/// Names the Azure Workload Identity webhook reads and writes (Azure/azure-workload-identity v1.x).
public enum AzureWIFacts {
    /// The webhook's objectSelector matches this label on the **pod** (not the ServiceAccount).
    public static let useLabel = "azure.workload.identity/use"
    public static let clientIDAnnotation = "azure.workload.identity/client-id"
    public static let tenantIDAnnotation = "azure.workload.identity/tenant-id"
    public static let clientIDEnv = "AZURE_CLIENT_ID"
    public static let tenantIDEnv = "AZURE_TENANT_ID"
    public static let tokenFileEnv = "AZURE_FEDERATED_TOKEN_FILE"
    public static let authorityHostEnv = "AZURE_AUTHORITY_HOST"
    /// Set in AKS identity-binding mode (token proxy); not every client library supports it.
    public static let tokenProxyEnv = "AZURE_KUBERNETES_TOKEN_PROXY"
    public static let audience = "api://AzureADTokenExchange"
    /// Webhook ≤ v1.5 mounts the token here; provider-upjet-azure ≤ v2.6.0 reads only this path.
    public static let legacyTokenFile = "/var/run/secrets/azure/tokens/azure-identity-token"
    /// Webhook v1.6.0 and later (and AKS identity bindings).
    public static let currentTokenFile = "/var/run/secrets/azure/wi/token/azure-identity-token"
    public static let webhookName = "mutation.azure-workload-identity.io"
    /// The AKS add-on's webhook Deployment in kube-system (its image tag is the webhook version).
    public static let addonDeployment = "azure-wi-webhook-controller-manager"
    public static let selfManagedNamespace = "azure-workload-identity-system"
    /// Azure caps federated identity credentials per managed identity or app.
    public static let federatedCredentialLimit = 20
    public static let acrPullRoleID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    /// Roles that grant pulls in a registry whose `roleAssignmentMode` is `AbacRepositoryPermissions`
    /// (legacy AcrPull/AcrPush are not honoured there). Matched by name: their GUIDs are not pinned here.
    public static let abacPullRoles: Set<String> = [
        "Container Registry Repository Reader", "Container Registry Repository Writer", "Container Registry Repository Contributor",
    ]
    /// Roles that include AcrPull's data action in a registry with legacy permissions.
    public static let legacyPullRoles: Set<String> = ["AcrPull", "AcrPush", "Owner", "Contributor"]

    public static func subject(namespace: String, serviceAccount: String) -> String { "system:serviceaccount:\(namespace):\(serviceAccount)" }

    /// Client and tenant IDs are GUIDs; anything else is reported, never copied into a command.
    public static func isGUID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "-" || ("0"..."9").contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) }
    }

    /// Whether a pod (or template) label value turns the webhook on. The selector matches the string "true" exactly.
    public static func isOn(_ labels: [String: String]) -> Bool { labels[useLabel] == "true" }
}

/// `az aks show` / one item of `az aks list` (az prints the ARM properties flattened).
public struct AKSCluster: Sendable, Equatable {
    public var name: String
    public var resourceGroup: String?
    public var id: String?
    public var nodeResourceGroup: String?
    public var oidcIssuerEnabled: Bool
    public var issuerURL: String?
    public var workloadIdentityEnabled: Bool
    public var kubeletIdentity: KubeletIdentity?

    public struct KubeletIdentity: Sendable, Equatable {
        public var clientID: String?
        public var objectID: String?
        public var resourceID: String?

        public init(clientID: String? = nil, objectID: String? = nil, resourceID: String? = nil) {
            self.clientID = clientID
            self.objectID = objectID
            self.resourceID = resourceID
        }
    }

    public init(
        name: String, resourceGroup: String? = nil, id: String? = nil, nodeResourceGroup: String? = nil, oidcIssuerEnabled: Bool = true,
        issuerURL: String? = nil, workloadIdentityEnabled: Bool = true, kubeletIdentity: KubeletIdentity? = nil
    ) {
        self.name = name
        self.resourceGroup = resourceGroup
        self.id = id
        self.nodeResourceGroup = nodeResourceGroup
        self.oidcIssuerEnabled = oidcIssuerEnabled
        self.issuerURL = issuerURL
        self.workloadIdentityEnabled = workloadIdentityEnabled
        self.kubeletIdentity = kubeletIdentity
    }

    public init?(_ json: JSONValue) {
        guard let name = json["name"].string else { return nil }
        let p = json.flattenedARM
        self.name = name
        id = json["id"].string
        resourceGroup = json["resourceGroup"].string ?? id.flatMap(AzureResourceID.resourceGroup)
        nodeResourceGroup = p["nodeResourceGroup"].string
        oidcIssuerEnabled = p.at("oidcIssuerProfile", "enabled").bool ?? false
        issuerURL = p.at("oidcIssuerProfile", "issuerUrl").string ?? p.at("oidcIssuerProfile", "issuerURL").string
        workloadIdentityEnabled = p.at("securityProfile", "workloadIdentity", "enabled").bool ?? false
        let k = p.at("identityProfile", "kubeletidentity")
        kubeletIdentity = k.isNull ? nil : KubeletIdentity(clientID: k["clientId"].string, objectID: k["objectId"].string, resourceID: k["resourceId"].string)
    }
}

/// A user-assigned managed identity (`az identity list`).
public struct ManagedIdentity: Sendable, Equatable {
    public var name: String
    public var resourceGroup: String?
    public var id: String?
    public var clientID: String
    public var principalID: String?
    public var tenantID: String?

    public init(name: String, resourceGroup: String? = nil, id: String? = nil, clientID: String, principalID: String? = nil, tenantID: String? = nil) {
        self.name = name
        self.resourceGroup = resourceGroup
        self.id = id
        self.clientID = clientID
        self.principalID = principalID
        self.tenantID = tenantID
    }

    public init?(_ json: JSONValue) {
        let p = json.flattenedARM
        guard let name = json["name"].string, let clientID = p["clientId"].string else { return nil }
        self.name = name
        id = json["id"].string
        resourceGroup = json["resourceGroup"].string ?? id.flatMap(AzureResourceID.resourceGroup)
        self.clientID = clientID
        principalID = p["principalId"].string
        tenantID = p["tenantId"].string
    }
}

/// A federated identity credential of a managed identity.
public struct FederatedCredential: Sendable, Equatable {
    public var name: String
    public var issuer: String
    public var subject: String?
    public var audiences: [String]

    public init(name: String, issuer: String, subject: String?, audiences: [String] = [AzureWIFacts.audience]) {
        self.name = name
        self.issuer = issuer
        self.subject = subject
        self.audiences = audiences
    }

    public init?(_ json: JSONValue) {
        let p = json.flattenedARM
        guard let name = json["name"].string, let issuer = p["issuer"].string else { return nil }
        self.name = name
        self.issuer = issuer
        subject = p["subject"].string
        audiences = p["audiences"].strings
    }
}

/// A container registry (`az acr list`).
public struct ContainerRegistry: Sendable, Equatable {
    public var name: String
    public var id: String
    public var loginServer: String
    /// `LegacyRegistryPermissions` or `AbacRepositoryPermissions`; nil when the API did not say (legacy).
    public var roleAssignmentMode: String?

    public init(name: String, id: String, loginServer: String, roleAssignmentMode: String? = nil) {
        self.name = name
        self.id = id
        self.loginServer = loginServer
        self.roleAssignmentMode = roleAssignmentMode
    }

    public init?(_ json: JSONValue) {
        let p = json.flattenedARM
        guard let name = json["name"].string, let id = json["id"].string, let server = p["loginServer"].string else { return nil }
        self.name = name
        self.id = id
        loginServer = server.lowercased()
        roleAssignmentMode = p["roleAssignmentMode"].string
    }

    public var isABAC: Bool { roleAssignmentMode?.caseInsensitiveCompare("AbacRepositoryPermissions") == .orderedSame }
}

/// One role assignment (`az role assignment list`).
public struct RoleAssignment: Sendable, Equatable {
    public var principalID: String
    public var roleDefinitionID: String
    public var roleDefinitionName: String?
    public var scope: String

    public init(principalID: String, roleDefinitionID: String, roleDefinitionName: String? = nil, scope: String) {
        self.principalID = principalID
        self.roleDefinitionID = roleDefinitionID
        self.roleDefinitionName = roleDefinitionName
        self.scope = scope
    }

    public init?(_ json: JSONValue) {
        let p = json.flattenedARM
        guard let principal = p["principalId"].string, let role = p["roleDefinitionId"].string, let scope = p["scope"].string else { return nil }
        principalID = principal
        roleDefinitionID = role
        roleDefinitionName = p["roleDefinitionName"].string
        self.scope = scope
    }

    /// The role's GUID, the last segment of its definition ID.
    public var roleGUID: String { roleDefinitionID.split(separator: "/").last.map { String($0).lowercased() } ?? "" }

    public var roleLabel: String { roleDefinitionName ?? roleGUID }
}

/// The logged-in account (`az account show`).
public struct AzureAccount: Sendable, Equatable {
    public var subscriptionID: String
    public var tenantID: String?
    public var user: String?

    public init(subscriptionID: String, tenantID: String? = nil, user: String? = nil) {
        self.subscriptionID = subscriptionID
        self.tenantID = tenantID
        self.user = user
    }

    public init?(_ json: JSONValue) {
        guard let id = json["id"].string else { return nil }
        subscriptionID = id
        tenantID = json["tenantId"].string
        user = json.at("user", "name").string
    }
}

/// Parts of ARM resource IDs (`/subscriptions/S/resourceGroups/RG/providers/…`), case-insensitively.
public enum AzureResourceID {
    public static func segment(after key: String, in id: String) -> String? {
        let parts = id.split(separator: "/").map(String.init)
        guard let i = parts.firstIndex(where: { $0.caseInsensitiveCompare(key) == .orderedSame }), i + 1 < parts.count else { return nil }
        return parts[i + 1]
    }

    public static func resourceGroup(_ id: String) -> String? { segment(after: "resourceGroups", in: id) }
    public static func subscription(_ id: String) -> String? { segment(after: "subscriptions", in: id) }

    /// Whether an assignment at `scope` applies to `resource` (the scope is the resource or a parent of it).
    public static func covers(_ scope: String, _ resource: String) -> Bool {
        let s = scope.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let r = resource.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return s.isEmpty || r == s || r.hasPrefix(s + "/")
    }
}

/// Everything the Azure-side checks read, gathered up front and concurrently.
public struct AzureFacts: Sendable, Equatable {
    public var account: CloudRead<AzureAccount>
    public var cluster: CloudRead<AKSCluster>
    /// Every user-assigned identity of the subscription (read once; identities are found by client ID).
    public var identities: CloudRead<[ManagedIdentity]>
    /// Federated credentials by identity resource ID (or name when no ID was printed).
    public var federatedCredentials: [String: CloudRead<[FederatedCredential]>]
    public var registries: CloudRead<[ContainerRegistry]>
    /// Role assignments that apply at a registry (inherited ones included), by registry resource ID.
    public var roleAssignments: [String: CloudRead<[RoleAssignment]>]

    public init(
        account: CloudRead<AzureAccount>, cluster: CloudRead<AKSCluster>, identities: CloudRead<[ManagedIdentity]>,
        federatedCredentials: [String: CloudRead<[FederatedCredential]>] = [:], registries: CloudRead<[ContainerRegistry]>,
        roleAssignments: [String: CloudRead<[RoleAssignment]>] = [:]
    ) {
        self.account = account
        self.cluster = cluster
        self.identities = identities
        self.federatedCredentials = federatedCredentials
        self.registries = registries
        self.roleAssignments = roleAssignments
    }

    public static func unavailable(_ reason: String) -> AzureFacts {
        AzureFacts(account: .notRequested(reason), cluster: .notRequested(reason), identities: .notRequested(reason), registries: .notRequested(reason))
    }

    public func identity(clientID: String) -> ManagedIdentity? {
        identities.value?.first { $0.clientID.caseInsensitiveCompare(clientID) == .orderedSame }
    }

    public func credentials(of identity: ManagedIdentity) -> CloudRead<[FederatedCredential]>? {
        federatedCredentials[identity.id ?? identity.name]
    }

    public func registry(loginServer: String) -> ContainerRegistry? {
        registries.value?.first { $0.loginServer == loginServer.lowercased() }
    }
}

/// `admissionregistration.k8s.io/v1` MutatingWebhookConfiguration: only the webhook names.
public struct MutatingWebhookConfiguration: Sendable, Equatable {
    public var metadata: ObjectMeta
    public var webhooks: [String]

    public init(metadata: ObjectMeta, webhooks: [String]) {
        self.metadata = metadata
        self.webhooks = webhooks
    }

    public init(_ json: JSONValue) {
        metadata = ObjectMeta(json["metadata"])
        webhooks = json["webhooks"].array.compactMap { $0["name"].string }
    }
}

extension JSONValue {
    /// az prints most ARM resources with `properties` flattened into the top level; some commands and
    /// API versions keep them nested. Reading both keeps the decoders honest about either shape.
    var flattenedARM: JSONValue {
        guard case .object(var top) = self, case .object(let props) = self["properties"] else { return self }
        for (k, v) in props where top[k] == nil { top[k] = v }
        return .object(top)
    }
}
