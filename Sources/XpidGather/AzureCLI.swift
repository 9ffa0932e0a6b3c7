import Foundation
import XpidCore

/// The az CLI adapter. Every call asks for JSON (`-o json`) and names the subscription when it is
/// known. Only reads: nothing here creates, updates or deletes anything in Azure.
public struct AzureCLI: Sendable {
    public var executable: String
    public var subscription: String?
    public var runner: any CommandRunner
    public var timeout: Double

    public init(executable: String = "az", subscription: String?, runner: any CommandRunner, timeout: Double = 60) {
        self.executable = executable
        self.subscription = subscription
        self.runner = runner
        self.timeout = timeout
    }

    public func argv(_ args: [String], subscription: Bool = true) -> [String] {
        [executable] + args + (subscription ? (self.subscription.map { ["--subscription", $0] } ?? []) : []) + ["-o", "json"]
    }

    /// Runs one call and returns its JSON, or how it failed.
    public func call(_ args: [String], subscription: Bool = true) async -> Result<JSONValue, CloudError> {
        await runner.run(argv(args, subscription: subscription), timeout: timeout).cloudJSON(cli: "az", classify: Self.classify)
    }

    /// az exits 3 when the resource does not exist and 1 for other service errors (the ARM error
    /// code is in stderr); 2 is a usage error. The message keeps az's first meaningful line.
    public static func classify(status: Int32, stderr: String, command: Command) -> CloudError {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let message = lines.first(where: { $0.hasPrefix("ERROR:") || $0.contains("(") }).map { $0.hasPrefix("ERROR: ") ? String($0.dropFirst(7)) : $0 }
            ?? lines.last ?? "failed without a message (exit \(status))"
        let kind: CloudError.Kind
        if stderr.contains("az login") || stderr.contains("AADSTS700082") || stderr.contains("refresh token has expired")
            || stderr.contains("No subscription found") || stderr.contains("InvalidAuthenticationToken") || stderr.contains("ExpiredAuthenticationToken")
        {
            kind = .notLoggedIn
        } else if status == 3 || stderr.contains("NotFound") || (stderr.contains("Subscription '") && stderr.contains("not found")) {
            kind = .notFound
        } else if stderr.contains("AuthorizationFailed") || stderr.contains("does not have authorization") || stderr.contains("Forbidden")
            || stderr.contains("LinkedAuthorizationFailed")
        {
            kind = .accessDenied
        } else if stderr.contains("timed out") || stderr.contains("Read timed out") || stderr.contains("ConnectTimeout") {
            kind = .timeout
        } else {
            kind = .other
        }
        return CloudError(kind: kind, message: message, command: command)
    }

    private func read<V: Sendable & Equatable>(_ args: [String], subscription: Bool = true, what: String, _ decode: (JSONValue) -> V?) async -> CloudRead<V> {
        switch await call(args, subscription: subscription) {
        case .success(let json):
            guard let value = decode(json) else {
                return .failed(CloudError(kind: .malformedOutput, message: "\(what): unexpected JSON (\(json.compactText().prefix(120)))", command: Command(argv: argv(args, subscription: subscription))))
            }
            return .value(value)
        case .failure(let e): return e.kind == .notFound ? .notFound(e.message) : .failed(e)
        }
    }

    /// Who is logged in: a failure here means every other call fails the same way.
    public func accountShow() async -> CloudRead<AzureAccount> {
        await read(["account", "show"], what: "az account show", AzureAccount.init)
    }

    public func aksShow(resourceGroup: String, name: String) async -> CloudRead<AKSCluster> {
        await read(["aks", "show", "--resource-group", resourceGroup, "--name", name], what: "az aks show", AKSCluster.init)
    }

    public func aksList() async -> CloudRead<[AKSCluster]> {
        await read(["aks", "list"], what: "az aks list") { json in json.isArray ? json.array.compactMap(AKSCluster.init) : nil }
    }

    /// Every user-assigned identity of the subscription, read once: identities are found by client ID.
    public func identityList() async -> CloudRead<[ManagedIdentity]> {
        await read(["identity", "list"], what: "az identity list") { json in json.isArray ? json.array.compactMap(ManagedIdentity.init) : nil }
    }

    public func federatedCredentials(identity: String, resourceGroup: String, subscription: String?) async -> CloudRead<[FederatedCredential]> {
        var cli = self
        if let subscription { cli.subscription = subscription }
        return await cli.read(
            ["identity", "federated-credential", "list", "--identity-name", identity, "--resource-group", resourceGroup], what: "az identity federated-credential list"
        ) { json in json.isArray ? json.array.compactMap(FederatedCredential.init) : nil }
    }

    /// ARM's batch endpoint version (`POST /batch`), as the Azure portal and `az rest` users call it.
    public static let batchAPIVersion = "2020-06-01"

    /// The GETs `urls` (ARM paths with their api-version) in one `az rest` POST to ARM's batch endpoint,
    /// in place of a process per read. Each answer is keyed by its index in `urls`; an answer the batch
    /// lacks is absent (the caller reads it on its own). Only GETs are ever put in a batch.
    public func batchGet(_ urls: [String]) async -> CloudRead<[Int: ARMBatchAnswer]> {
        let requests = urls.enumerated().map { index, url -> JSONValue in
            .object(["httpMethod": "GET", "name": .string(String(index)), "url": .string(url)])
        }
        let body = JSONValue.object(["requests": .array(requests)]).compactText()
        return await read(["rest", "--method", "post", "--url", "/batch?api-version=\(Self.batchAPIVersion)", "--body", body], what: "az rest POST /batch") { json in
            guard case .array(let responses) = json["responses"] else { return nil }
            var answers: [Int: ARMBatchAnswer] = [:]
            for response in responses {
                guard let name = response["name"].string, let index = Int(name), urls.indices.contains(index), let status = response["httpStatusCode"].int else { continue }
                answers[index] = ARMBatchAnswer(status: status, content: response["content"])
            }
            return answers
        }
    }

    public func registryList() async -> CloudRead<[ContainerRegistry]> {
        await read(["acr", "list"], what: "az acr list") { json in json.isArray ? json.array.compactMap(ContainerRegistry.init) : nil }
    }

    /// Assignments that apply at `scope`, inherited ones included. No `--assignee`: az would resolve it
    /// through Microsoft Graph; the caller filters by principal (object) ID instead.
    public func roleAssignments(scope: String) async -> CloudRead<[RoleAssignment]> {
        var cli = self
        cli.subscription = AzureResourceID.subscription(scope) ?? subscription
        return await cli.read(
            ["role", "assignment", "list", "--scope", scope, "--include-inherited", "--fill-principal-name", "false"], what: "az role assignment list"
        ) { json in json.isArray ? json.array.compactMap(RoleAssignment.init) : nil }
    }
}

/// One answer of an ARM batch: the inner request's HTTP status and its JSON body.
public struct ARMBatchAnswer: Sendable, Equatable {
    public var status: Int
    public var content: JSONValue
}

extension JSONValue {
    var isArray: Bool { if case .array = self { return true } else { return false } }
}
