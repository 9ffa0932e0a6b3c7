import Foundation
import Testing
import XpidCore
@testable import XpidGather
import XpidTestSupport

@Suite("IAM roles: one bulk list-roles when many are needed, get-role otherwise, the same facts either way")
struct BulkRoleReadTests {
    /// The seed plus `extra` providers on Pod Identity, each with its own ServiceAccount, association and role.
    static func seed(extra: Int) -> SeedCluster {
        var seed = SeedCluster()
        let ns = SeedCluster.namespace
        for i in 0..<extra {
            let name = "provider-aws-svc\(i)"
            let revision = "\(name)-1a2b3c4d5e6f"
            let id = "a-bulk\(String(repeating: "0", count: 12 - String(i).count))\(i)"
            seed.packages.append(KubeJSON.package(name: name, package: "xpkg.upbound.io/upbound/\(name):v2.3.0", runtimeConfig: "\(name)-runtime", currentRevision: revision))
            seed.runtimeConfigs.append(KubeJSON.runtimeConfig("\(name)-runtime", serviceAccountName: name))
            seed.deployments.append(SeedCluster.packageDeployment(package: name, revision: revision, serviceAccount: name))
            seed.crossplanePods.append(SeedCluster.packagePod(package: name, revision: revision, serviceAccount: name, podIdentity: true, node: "ip-10-0-1-10.us-east-2.compute.internal"))
            seed.serviceAccounts.append(KubeJSON.serviceAccount(name, namespace: ns))
            let summary = AWSJSON.associationSummary(cluster: "prod-eks", namespace: ns, serviceAccount: name, id: id)
            seed.listedAssociations.append(summary)
            seed.describedAssociations[id] = AWSJSON.association(summary: summary, roleArn: "arn:aws:iam::123456789012:role/\(name)")
            seed.roles[name] = AWSJSON.podIdentityTrust
        }
        return seed
    }

    static var listRolesArgv: [String] { SeedCluster().awsArgv(["iam", "list-roles"]) }

    static func listRoles(_ seed: SeedCluster, except: Set<String> = []) -> JSONValue {
        let roles = seed.roles.keys.sorted().filter { !except.contains($0) }.map { AWSJSON.getRole(name: $0, trust: seed.roles[$0]!)["Role"] }
        return ["Roles": .array(roles + [AWSJSON.getRole(name: "unrelated", trust: ["Version": "2012-10-17", "Statement": []])["Role"]])]
    }

    static func findings(_ s: Snapshot) -> [Finding] { CheckEngine().run(EvaluationContext(s)) }

    @Test("five roles: one list-roles and no get-role; list-roles refused: get-role for each, a note, identical findings")
    func bulkAndFallback() async throws {
        let seed = Self.seed(extra: 4)
        let bulk = seed.runner()
        bulk.stubJSON(Self.listRolesArgv, Self.listRoles(seed))
        let a = try #require(await gather(bulk).successValue)
        #expect(bulk.unexpected.isEmpty, "\(bulk.unexpected)")
        #expect(bulk.calls.filter { $0.contains("list-roles") }.count == 1)
        #expect(bulk.calls.filter { $0.contains("get-role") }.isEmpty)
        #expect(a.snapshot.aws.roles.count == 5 && a.snapshot.aws.roles.values.allSatisfy { $0.value != nil })

        let refused = seed.runner()
        refused.stub(Self.listRolesArgv, stderr: "\nAn error occurred (AccessDenied) when calling the ListRoles operation: User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:ListRoles\n", exit: 254)
        let b = try #require(await gather(refused).successValue)
        #expect(refused.unexpected.isEmpty, "\(refused.unexpected)")
        #expect(refused.calls.filter { $0.contains("get-role") }.count == 5)
        #expect(b.notes.contains { $0.contains("list-roles was refused") })
        #expect(Self.findings(a.snapshot) == Self.findings(b.snapshot))
    }

    @Test("a role the list lacks (another account's) is read with get-role alone")
    func missingFromList() async throws {
        let seed = Self.seed(extra: 4)
        let runner = seed.runner()
        runner.stubJSON(Self.listRolesArgv, Self.listRoles(seed, except: ["provider-aws-svc3"]))
        let g = try #require(await gather(runner).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.filter { $0.contains("get-role") }.map { $0[4] } == ["provider-aws-svc3"])
        #expect(g.snapshot.aws.roles["arn:aws:iam::123456789012:role/provider-aws-svc3"]?.value != nil)
    }

    @Test("below the threshold: get-role per role, no list-roles")
    func fewRoles() async throws {
        let seed = Self.seed(extra: 1)
        let runner = seed.runner()
        _ = try #require(await gather(runner).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(!runner.calls.contains { $0.contains("list-roles") })
        #expect(runner.calls.filter { $0.contains("get-role") }.count == 2)
    }
}
