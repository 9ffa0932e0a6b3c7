import Foundation
import Testing
import XpidCore
@testable import XpidGather
import XpidTestSupport

struct AzureClassifyCase: Sendable, CustomTestStringConvertible {
    var status: Int32
    var stderr: String
    var kind: CloudError.Kind
    var testDescription: String { "exit \(status) \(kind): \(stderr.prefix(60))" }
}

@Suite("AzureCLI adapter")
struct AzureCLITests {
    static let sub = Examples.azureSubscription

    static let cases: [AzureClassifyCase] = [
        AzureClassifyCase(status: 1, stderr: "ERROR: Please run 'az login' to setup account.\n", kind: .notLoggedIn),
        AzureClassifyCase(status: 1, stderr: "ERROR: AADSTS700082: The refresh token has expired due to inactivity.\n", kind: .notLoggedIn),
        AzureClassifyCase(status: 3, stderr: "ERROR: (ResourceNotFound) The Resource 'Microsoft.ContainerService/managedClusters/ghost' under resource group 'rg' was not found.\nCode: ResourceNotFound\n", kind: .notFound),
        AzureClassifyCase(status: 3, stderr: "ERROR: (ResourceGroupNotFound) Resource group 'nope' could not be found.\n", kind: .notFound),
        AzureClassifyCase(status: 1, stderr: "ERROR: (AuthorizationFailed) The client 'x' with object id 'y' does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/read' over scope '/subscriptions/s'\nCode: AuthorizationFailed\n", kind: .accessDenied),
        AzureClassifyCase(status: 1, stderr: "ERROR: (InternalServerError) Something went wrong\n", kind: .other),
        // Measured with azure-cli 2.91.0 against the stand-in (Tests/E2E/azure_standin.py): with --subscription a WARNING comes first.
        AzureClassifyCase(status: 1, stderr: "WARNING: Subscription '00000000-0000-0000-0000-0000000000a1' not recognized.\nERROR: Please run 'az login' to setup account.\n", kind: .notLoggedIn),
        AzureClassifyCase(status: 1, stderr: "WARNING: Subscription 'X' not recognized.\nERROR: Subscription 'X' not found. Check the spelling and casing and try again.\n", kind: .notFound),
        AzureClassifyCase(status: 1, stderr: "ERROR: 400, invalid token\nRun the command below to authenticate interactively; additional arguments may be added as needed:\naz logout\naz login\n", kind: .notLoggedIn),
        AzureClassifyCase(status: 3, stderr: "ERROR: (SubscriptionNotFound) The subscription 'S' could not be found.\nCode: SubscriptionNotFound\nMessage: The subscription 'S' could not be found.\n", kind: .notFound),
    ]

    @Test("classify exit status and stderr", arguments: cases)
    func classify(_ c: AzureClassifyCase) {
        let e = AzureCLI.classify(status: c.status, stderr: c.stderr, command: Command(argv: ["az", "x"]))
        #expect(e.kind == c.kind)
        #expect(!e.message.hasPrefix("ERROR:"), "the message drops az's ERROR: prefix")
        #expect(!e.message.hasPrefix("WARNING:"), "the message is the error, not a warning before it")
        let errorLine = c.stderr.split(separator: "\n").first { $0.hasPrefix("ERROR: ") }.map { String($0.dropFirst(7)) }
        #expect(e.message == errorLine)
        #expect(!e.message.contains("\n"))
    }

    @Test("argv: JSON output and the subscription on every call")
    func argvShape() {
        let az = AzureCLI(subscription: Self.sub, runner: FakeCommandRunner())
        #expect(az.argv(["aks", "show", "--resource-group", "rg", "--name", "c"]) == ["az", "aks", "show", "--resource-group", "rg", "--name", "c", "--subscription", Self.sub, "-o", "json"])
        #expect(AzureCLI(executable: "/opt/az", subscription: nil, runner: FakeCommandRunner()).argv(["identity", "list"]) == ["/opt/az", "identity", "list", "-o", "json"])
    }

    static func seed() -> Snapshot {
        var s = Examples.aksSeed()
        s.azure = .unavailable("not read yet")
        return s
    }

    static func argv(_ words: [String]) -> [String] { ["az"] + words + ["--subscription", sub, "-o", "json"] }

    /// The identities subjects use, in the order the gatherer batches them (by resource ID).
    static func identitiesInUse(_ s: Snapshot) -> [ManagedIdentity] {
        let context = EvaluationContext(s)
        let ids = Set(context.subjects.compactMap { context.azureClientID(of: $0)?.0 }.compactMap { s.azure.identity(clientID: $0)?.id })
        return (s.azure.identities.value ?? []).filter { ids.contains($0.id ?? "") }.sorted { ($0.id ?? "") < ($1.id ?? "") }
    }

    /// The `az rest` POST /batch of those identities' federated-credential GETs.
    static func batchArgv(_ identities: [ManagedIdentity]) -> [String] {
        let requests = identities.enumerated().map { index, i -> JSONValue in
            ["httpMethod": "GET", "name": .string(String(index)), "url": .string("\(i.id!)/federatedIdentityCredentials?api-version=2023-01-31")]
        }
        return argv(["rest", "--method", "post", "--url", "/batch?api-version=2020-06-01", "--body", JSONValue.object(["requests": .array(requests)]).compactText()])
    }

    /// A federated credential as ARM sends it (properties not flattened).
    static func armCredential(_ f: FederatedCredential) -> JSONValue {
        ["name": .string(f.name), "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
         "properties": ["issuer": .string(f.issuer), "subject": .string(f.subject ?? ""), "audiences": .array(f.audiences.map(JSONValue.string))]]
    }

    static func stubAll(_ runner: FakeCommandRunner, batch: Bool = true) {
        let s = Examples.aksSeed()
        let identities = s.azure.identities.value ?? []
        runner.stubJSON(argv(["account", "show"]), ["id": .string(sub), "tenantId": .string(Examples.azureTenant)])
        runner.stubJSON(argv(["aks", "show", "--resource-group", Examples.aksResourceGroup, "--name", Examples.aksName]), [
            "name": .string(Examples.aksName), "resourceGroup": .string(Examples.aksResourceGroup), "nodeResourceGroup": "MC_rg-platform_prod-aks_eastus",
            "oidcIssuerProfile": ["enabled": true, "issuerUrl": .string(Examples.aksIssuer)], "securityProfile": ["workloadIdentity": ["enabled": true]],
            "identityProfile": ["kubeletidentity": ["clientId": "dddddddd-eeee-4fff-8000-111111111111", "objectId": .string(Examples.kubeletObjectID)]],
        ])
        runner.stubJSON(argv(["identity", "list"]), .array(identities.map { i in
            ["name": .string(i.name), "id": .string(i.id ?? ""), "resourceGroup": .string(i.resourceGroup ?? ""), "clientId": .string(i.clientID), "principalId": .string(i.principalID ?? ""), "tenantId": .string(Examples.azureTenant)]
        }))
        for i in identities {
            let fics = s.azure.credentials(of: i)?.value ?? []
            runner.stubJSON(argv(["identity", "federated-credential", "list", "--identity-name", i.name, "--resource-group", Examples.aksResourceGroup]), .array(fics.map { f in
                ["name": .string(f.name), "issuer": .string(f.issuer), "subject": .string(f.subject ?? ""), "audiences": .array(f.audiences.map(JSONValue.string))]
            }))
        }
        if batch {
            let inUse = identitiesInUse(s)
            runner.stubJSON(batchArgv(inUse), ["responses": .array(inUse.enumerated().map { index, i in
                ["name": .string(String(index)), "httpStatusCode": 200, "content": ["value": .array((s.azure.credentials(of: i)?.value ?? []).map(armCredential))]]
            })])
        }
        runner.stubJSON(argv(["acr", "list"]), [["name": "myregistry", "id": .string(Examples.acrID), "loginServer": .string(Examples.acrServer), "roleAssignmentMode": "LegacyRegistryPermissions"]])
        runner.stubJSON(argv(["role", "assignment", "list", "--scope", Examples.acrID, "--include-inherited", "--fill-principal-name", "false"]),
            .array((s.azure.roleAssignments[Examples.acrID]?.value ?? []).map { a in
                ["principalId": .string(a.principalID), "roleDefinitionId": .string(a.roleDefinitionID), "roleDefinitionName": .string(a.roleDefinitionName ?? ""), "scope": .string(a.scope)]
            }))
    }

    @Test("gather: one read of each kind, credentials per identity in use, assignments per registry; only reads")
    func gather() async throws {
        let runner = FakeCommandRunner()
        Self.stubAll(runner)
        let adapter = AzureAdapter(executable: "az", runner: runner, options: GatherOptions())
        var s = Self.seed()
        var notes: [String] = []
        await adapter.gather(into: &s, notes: &notes)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.count == 6, "account, aks, identities, registries, 1 batch of 2 credential lists, 1 assignment list: \(runner.calls)")
        for call in runner.calls { #expect(call.contains("list") || call.contains("show") || call.starts(with: ["az", "rest", "--method", "post", "--url", "/batch?api-version=2020-06-01"]), "a write: \(call)") }
        #expect(!runner.calls.contains { $0.contains("federated-credential") })
        #expect(s.azure == Examples.aksSeed().azure)
        let findings = CheckEngine().run(EvaluationContext(s))
        #expect(findings.filter { $0.status != .pass && $0.status != .skip }.isEmpty, "\(findings.filter { $0.status != .pass && $0.status != .skip }.map { "\($0.check) \($0.subject): \($0.message)" })")
    }

    @Test("not logged in: every Azure check says so and the cluster-side checks still run")
    func notLoggedIn() async throws {
        let runner = FakeCommandRunner()
        let login = "ERROR: Please run 'az login' to setup account.\n"
        for words in [["account", "show"], ["aks", "show", "--resource-group", Examples.aksResourceGroup, "--name", Examples.aksName], ["identity", "list"], ["acr", "list"]] {
            runner.stub(Self.argv(words), stderr: login, exit: 1)
        }
        let adapter = AzureAdapter(executable: "az", runner: runner, options: GatherOptions())
        var s = Self.seed()
        var notes: [String] = []
        await adapter.gather(into: &s, notes: &notes)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        let findings = CheckEngine().run(EvaluationContext(s))
        let fic = findings.filter { $0.check == "azure.federated-credential" }
        #expect(!fic.isEmpty && fic.allSatisfy { $0.status == .error && $0.remediation?.summary.contains("az login") == true }, "\(fic.map(\.message))")
        #expect(findings.contains { $0.check == "azure.injected" && $0.status == .pass })
    }

    @Test("az missing: a clear error naming --az")
    func missing() async throws {
        let runner = FakeCommandRunner()
        let adapter = AzureAdapter(executable: "/nonexistent/az", runner: runner, options: GatherOptions())
        var s = Self.seed()
        var notes: [String] = []
        await adapter.gather(into: &s, notes: &notes)
        let findings = CheckEngine().run(EvaluationContext(s))
        let aks = findings.filter { $0.check == "aks.workload-identity" && $0.status == .error }
        #expect(!aks.isEmpty)
        #expect(aks.first?.remediation?.summary.contains("--az") == true)
    }
}

/// Counts the calls in flight; each call waits a little so that calls overlap.
final class OverlapRunner: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var inFlight = 0
    private(set) var peak = 0

    func run(_ argv: [String], input: Data?, timeout: Double) async -> CommandResult {
        lock.withLock { inFlight += 1; peak = max(peak, inFlight) }
        try? await Task.sleep(nanoseconds: 20_000_000)
        lock.withLock { inFlight -= 1 }
        return CommandResult(argv: argv, termination: .exited(0), stdout: Data("{}".utf8), stderr: Data(), duration: 0)
    }
}

@Suite("--concurrency bounds every cloud call")
struct LimitedRunnerTests {
    @Test("never more than the limit in flight, and every call answered", arguments: [1, 2, 8])
    func bounded(_ limit: Int) async {
        let base = OverlapRunner()
        let limited = LimitedRunner(base, limit: limit)
        let results = await withTaskGroup(of: CommandResult.self) { group in
            for i in 0..<6 { group.addTask { await limited.run(["az", "x\(i)"], input: nil, timeout: 5) } }
            return await group.reduce(into: [CommandResult]()) { $0.append($1) }
        }
        #expect(results.count == 6)
        #expect(base.peak <= limit)
        #expect(base.peak >= 1)
    }
}

struct GCloudClassifyCase: Sendable, CustomTestStringConvertible {
    var stderr: String
    var kind: CloudError.Kind
    var testDescription: String { "\(kind): \(stderr.prefix(70))" }
}

/// First stderr lines measured with gcloud 528 against Tests/E2E/gcp_standin.py (every failure exits 1).
@Suite("GCloudCLI adapter")
struct GCloudCLITests {
    static let token = " This command is authenticated with an access token from the CLOUDSDK_AUTH_ACCESS_TOKEN environment variable"
    static let cases: [GCloudClassifyCase] = [
        GCloudClassifyCase(stderr: "ERROR: (gcloud.container.clusters.describe) ResponseError: code=404, message=Not found: projects/p/locations/l/clusters/ghost.\(token).\nNo cluster named 'ghost' in p.\n", kind: .notFound),
        GCloudClassifyCase(stderr: "ERROR: (gcloud.container.clusters.describe) ResponseError: code=403, message=Required \"container.clusters.get\" permission(s) for \"projects/p/locations/l/clusters/c\".\(token).\n", kind: .accessDenied),
        GCloudClassifyCase(stderr: "ERROR: (gcloud.projects.describe) [None] does not have permission to access projects instance [ghost-project] (or it may not exist): The caller does not have permission.\(token)\n", kind: .accessDenied),
        GCloudClassifyCase(stderr: "ERROR: (gcloud.iam.service-accounts.get-iam-policy) NOT_FOUND: Unknown service account.\(token)\n", kind: .notFound),
        GCloudClassifyCase(stderr: "ERROR: (gcloud.iam.service-accounts.get-iam-policy) PERMISSION_DENIED: Permission 'iam.serviceAccounts.getIamPolicy' denied on resource (or it may not exist).\(token).\n", kind: .accessDenied),
        GCloudClassifyCase(stderr: "ERROR: (gcloud.artifacts.repositories.get-iam-policy) NOT_FOUND: Repository \"projects/p/locations/us/repositories/ghost\" not found.\(token)\n", kind: .notFound),
        GCloudClassifyCase(stderr: "ERROR: (gcloud.container.clusters.describe) You do not currently have an active account selected.\nPlease run:\n\n  $ gcloud auth login\n", kind: .notLoggedIn),
    ]

    @Test("classify stderr", arguments: cases)
    func classify(_ c: GCloudClassifyCase) {
        let e = GCloudCLI.classify(stderr: c.stderr, command: Command(argv: ["gcloud", "x"]))
        #expect(e.kind == c.kind)
        #expect(e.message == String(c.stderr.split(separator: "\n")[0].dropFirst("ERROR: ".count)))
    }

    @Test("argv: JSON output and the project on every call")
    func argvShape() {
        let g = GCloudCLI(project: "acme", runner: FakeCommandRunner())
        #expect(g.argv(["container", "clusters", "describe", "c", "--location", "l"]) == ["gcloud", "container", "clusters", "describe", "c", "--location", "l", "--project", "acme", "--format", "json"])
        #expect(g.argv(["iam", "service-accounts", "get-iam-policy", "a@other.iam.gserviceaccount.com"], project: "other").suffix(4) == ["--project", "other", "--format", "json"])
    }
}
