import Foundation
import Testing
import XpidCore
@testable import XpidGather
import XpidTestSupport

@Suite("SnapshotGatherer with Flux (fake runner)")
struct FluxGatherTests {
    /// The seed cluster plus a Flux install: source-controller, `count` OCIRepositories in tenant namespaces,
    /// each naming a ServiceAccount there.
    static func seed(objects count: Int) -> SeedCluster {
        var seed = SeedCluster()
        seed.apiResources += SeedCluster.fluxAPIResources
        let labels = ["app": "source-controller"]
        seed.deployments.append(KubeJSON.deployment(
            name: "source-controller", namespace: "flux-system", selector: labels, templateLabels: labels, serviceAccount: "source-controller",
            containers: [KubeJSON.container("manager", image: "ghcr.io/fluxcd/source-controller:v1.7.0", args: [FluxFacts.featureGateArgument])]))
        seed.fluxPods = [KubeJSON.pod(
            name: "source-controller-6d5b7c8f9-x2k4p", namespace: "flux-system", labels: labels, serviceAccount: "source-controller", node: "ip-10-0-1-10",
            containers: [KubeJSON.container("manager", image: "ghcr.io/fluxcd/source-controller:v1.7.0")])]
        seed.otherServiceAccounts = [KubeJSON.serviceAccount("source-controller", namespace: "flux-system")]
        for i in 0..<count {
            let ns = "team-\(i)"
            seed.fluxObjects.append([
                "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
                "metadata": ["name": "app", "namespace": .string(ns)],
                "spec": ["url": "oci://123456789012.dkr.ecr.us-east-2.amazonaws.com/app", "provider": "aws", "serviceAccountName": "reader"],
            ])
            seed.otherServiceAccounts.append(KubeJSON.serviceAccount("reader", namespace: ns, annotations: [IRSAFacts.roleAnnotation: "arn:aws:iam::123456789012:role/team-\(i)"]))
        }
        return seed
    }

    @Test("Flux kinds, RBAC and ServiceAccounts join the round-2 batch: the kubectl calls do not grow with the objects")
    func batched() async throws {
        var calls: [Int] = []
        for count in [2, 20] {
            let seed = Self.seed(objects: count)
            let runner = seed.runner()
            let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
            #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
            #expect(gathered.snapshot.fluxObjects.count == count)
            #expect(gathered.snapshot.fluxInstalled)
            #expect(gathered.snapshot.serviceAccount(namespace: "team-1", name: "reader") != nil)
            #expect(gathered.snapshot.serviceAccounts.filter { $0.metadata.namespace == SeedCluster.namespace }.count == seed.serviceAccounts.count, "the Crossplane namespace's ServiceAccounts are not counted twice")
            #expect(gathered.snapshot.pods.contains { $0.metadata.namespace == "flux-system" })
            #expect(gathered.snapshot.deployments.contains { $0.metadata.name == "source-controller" })
            let subjects = SubjectResolver.subjects(in: gathered.snapshot)
            #expect(subjects.filter { $0.kind == .fluxObject }.count == count)
            calls.append(runner.calls.filter { $0.first == "kubectl" }.count)
        }
        #expect(calls[0] == calls[1] && calls[0] == 7, "context, discovery, built-ins, Crossplane namespace; then CRDs+Flux, kube-system, flux-system pods: \(calls)")
    }

    @Test("a cluster without Flux CRDs: no Flux reads, no Flux subjects, no Flux note")
    func noFlux() async throws {
        let seed = SeedCluster()
        let runner = seed.runner()
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(!gathered.snapshot.fluxInstalled)
        #expect(!runner.calls.contains(seed.fluxBatchArgv))
        #expect(!gathered.notes.contains { $0.contains("Flux") })
    }

    @Test("--target crossplane reads no Flux kind; --target flux reads no Crossplane kind")
    func target() async throws {
        let seed = Self.seed(objects: 1)
        let runner = seed.runner()
        let crossplaneArgv = seed.kubectlArgv(["get", seed.crdTypes.map(SeedCluster.versioned).joined(separator: ","), "--all-namespaces", "-o", "json"])
        runner.stub(crossplaneArgv, stdout: KubeJSON.listText(seed.packages + seed.runtimeConfigs + seed.providerConfigs))
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true; $0.target = .crossplane }).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(!runner.calls.contains(seed.crdBatchArgv) && !runner.calls.contains(seed.fluxBatchArgv))
        #expect(gathered.snapshot.fluxObjects.isEmpty && !gathered.snapshot.fluxInstalled)
        let fluxRunner = seed.runner()
        let fluxArgv = seed.kubectlArgv(["get", (SeedCluster.fluxAPIResources.map(SeedCluster.versioned) + ["clusterroles.v1.rbac.authorization.k8s.io", "clusterrolebindings.v1.rbac.authorization.k8s.io", "serviceaccounts"]).joined(separator: ","), "--all-namespaces", "-o", "json"])
        fluxRunner.stub(fluxArgv, stdout: KubeJSON.listText(seed.fluxObjects + seed.otherServiceAccounts))
        let fluxOnly = try #require(await gather(fluxRunner, options: gatherOptions { $0.noCloud = true; $0.target = .flux }).successValue)
        #expect(fluxRunner.unexpected.isEmpty, "\(fluxRunner.unexpected)")
        #expect(fluxOnly.snapshot.packages.isEmpty && !fluxOnly.snapshot.crossplaneInstalled)
        #expect(fluxOnly.snapshot.fluxObjects.count == 1)
    }

    @Test("ServiceAccounts forbidden across namespaces: the objects' namespaces are unread, the Crossplane namespace is not")
    func serviceAccountsForbidden() async throws {
        let seed = Self.seed(objects: 1)
        let runner = seed.runner()
        let stderr = #"Error from server (Forbidden): serviceaccounts is forbidden: User "alice" cannot list resource "serviceaccounts" in API group "" at the cluster scope"#
        runner.stub(seed.crdBatchArgv, stdout: KubeJSON.listText(seed.packages + seed.runtimeConfigs + seed.providerConfigs + seed.fluxObjects), stderr: stderr, exit: 1)
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        let s = gathered.snapshot
        #expect(s.failedRead("serviceaccounts", namespace: "team-0") != nil)
        #expect(s.failedRead("serviceaccounts", namespace: SeedCluster.namespace) == nil)
        let findings = CheckEngine().run(EvaluationContext(s))
        #expect(findings.first { $0.check == "flux.object-sa" && $0.subject == "flux-object/team-0/app" }?.status == .error)
        #expect(!findings.contains { $0.subject.hasPrefix("provider/") && $0.status == .error && $0.message.contains("serviceaccounts") })
    }
}
