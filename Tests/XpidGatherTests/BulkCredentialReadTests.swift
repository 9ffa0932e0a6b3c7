import Foundation
import Testing
import XpidCore
@testable import XpidGather
import XpidTestSupport

@Suite("Azure federated credentials: one ARM batch for many identities, a list per identity otherwise, the same facts either way")
struct BulkCredentialReadTests {
    typealias A = AzureCLITests

    static func gather(_ runner: FakeCommandRunner) async -> (Snapshot, [String]) {
        var s = A.seed()
        var notes: [String] = []
        await AzureAdapter(executable: "az", runner: runner, options: GatherOptions()).gather(into: &s, notes: &notes)
        return (s, notes)
    }

    static func findings(_ s: Snapshot) -> [Finding] { CheckEngine().run(EvaluationContext(s)) }

    @Test("batch refused (403 on /batch): a list per identity, a note, identical facts and findings")
    func refused() async {
        let good = FakeCommandRunner()
        A.stubAll(good)
        let (a, aNotes) = await Self.gather(good)
        #expect(good.unexpected.isEmpty, "\(good.unexpected)")
        #expect(aNotes.allSatisfy { !$0.contains("batch") })

        let runner = FakeCommandRunner()
        A.stubAll(runner, batch: false)
        let inUse = A.identitiesInUse(Examples.aksSeed())
        runner.stub(A.batchArgv(inUse), stderr: "ERROR: Forbidden({\"error\":{\"code\":\"AuthorizationFailed\",\"message\":\"The client does not have authorization to perform action 'Microsoft.Resources/batch/action'\"}})\n", exit: 1)
        let (b, notes) = await Self.gather(runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.filter { $0.contains("federated-credential") }.count == inUse.count)
        #expect(notes.contains { $0.contains("az rest POST /batch") && $0.contains("one identity at a time") }, "\(notes)")
        #expect(a.azure == b.azure)
        #expect(Self.findings(a) == Self.findings(b))
    }

    @Test("one answer not a 200 (403 for that identity): that identity alone is read with its own list, and its error is that list's")
    func oneAnswerRefused() async {
        let runner = FakeCommandRunner()
        A.stubAll(runner, batch: false)
        let s = Examples.aksSeed()
        let inUse = A.identitiesInUse(s)
        #expect(inUse.count >= 2)
        let denied = "ERROR: (AuthorizationFailed) The client 'x' with object id 'x' does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read'\nCode: AuthorizationFailed\n"
        runner.stub(A.argv(["identity", "federated-credential", "list", "--identity-name", inUse[0].name, "--resource-group", Examples.aksResourceGroup]), stderr: denied, exit: 1)
        runner.stubJSON(A.batchArgv(inUse), ["responses": .array(inUse.enumerated().map { index, i -> JSONValue in
            index == 0
                ? ["name": "0", "httpStatusCode": 403, "content": ["error": ["code": "AuthorizationFailed", "message": "no"]]]
                : ["name": .string(String(index)), "httpStatusCode": 200, "content": ["value": .array((s.azure.credentials(of: i)?.value ?? []).map(A.armCredential))]]
        })])
        let (g, notes) = await Self.gather(runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.filter { $0.contains("federated-credential") }.map { $0[5] } == [inUse[0].name])
        #expect(notes.allSatisfy { !$0.contains("batch") })
        let first = g.azure.federatedCredentials[inUse[0].id!]
        if case .failed(let e) = first { #expect(e.kind == .accessDenied) } else { Issue.record("not a failed read: \(String(describing: first))") }
        #expect(g.azure.federatedCredentials[inUse[1].id!] == s.azure.federatedCredentials[inUse[1].id!])
    }

    @Test("a paged answer (nextLink) or an answer the batch lacks is read with its own list")
    func pagedOrMissing() async {
        let runner = FakeCommandRunner()
        A.stubAll(runner, batch: false)
        let s = Examples.aksSeed()
        let inUse = A.identitiesInUse(s)
        runner.stubJSON(A.batchArgv(inUse), ["responses": [
            ["name": "0", "httpStatusCode": 200, "content": ["value": [], "nextLink": "https://management.azure.com/next"]],
        ]])
        let (g, _) = await Self.gather(runner)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.filter { $0.contains("federated-credential") }.count == inUse.count)
        #expect(g.azure == Examples.aksSeed().azure)
    }

    @Test("the batch URL is built only from a plain user-assigned identity resource ID")
    func urls() {
        let id = "/subscriptions/1111/resourceGroups/rg-a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-1"
        #expect(AzureAdapter.credentialsURL(id) == id + "/federatedIdentityCredentials?api-version=2023-01-31")
        #expect(AzureAdapter.credentialsURL(id + "?x=1") == nil)
        #expect(AzureAdapter.credentialsURL("/subscriptions/1111/resourceGroups/rg a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-1") == nil)
        #expect(AzureAdapter.credentialsURL("/subscriptions/1111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x") == nil)
        #expect(AzureAdapter.credentialsURL("/subscriptions/1111/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id/../x") == nil)
    }
}
