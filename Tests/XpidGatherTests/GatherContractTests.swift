import Foundation
import Testing
import XpidCore
import XpidGather
import XpidTestSupport

@Suite("SnapshotGatherer contract (fake runner)")
struct GatherContractTests {
    @Test("seed-like EKS cluster: the exact argv of every call, phase by phase")
    func seedArgvSequence() async throws {
        let seed = SeedCluster()
        let runner = seed.runner()
        let result = await gather(runner)
        let gathered = try #require(result.successValue, "gather failed: \(String(describing: result.failureValue))")
        #expect(runner.unexpected.isEmpty, "unstubbed commands: \(runner.unexpected)")

        let calls = runner.calls
        try #require(calls.count == 11, "calls: \(calls)")
        // kubectl round 1 (concurrent): context, discovery, the built-in kinds, the likely Crossplane namespace.
        #expect(Set(calls[0..<4]) == [
            ["kubectl", "config", "view", "--minify", "-o", "json"],
            ["kubectl", "api-resources", "-o", "wide"],
            ["kubectl", "get", "nodes,deployments.v1.apps", "--all-namespaces", "-o", "json"],
            ["kubectl", "get", "pods,serviceaccounts", "-n", "crossplane-system", "-o", "json"],
        ])
        // kubectl round 2 (concurrent): the custom resources by plural.version.group, and kube-system on EKS.
        #expect(Set(calls[4..<6]) == [
            [
                "kubectl", "get",
                "providers.v1.pkg.crossplane.io,functions.v1.pkg.crossplane.io,configurations.v1.pkg.crossplane.io,deploymentruntimeconfigs.v1beta1.pkg.crossplane.io,imageconfigs.v1beta1.pkg.crossplane.io,providerconfigs.v1beta1.aws.upbound.io,providerconfigs.v1beta1.aws.m.upbound.io,clusterproviderconfigs.v1beta1.aws.m.upbound.io",
                "--all-namespaces", "-o", "json",
            ],
            ["kubectl", "get", "daemonsets.v1.apps,pods", "-n", "kube-system", "-o", "json"],
        ])
        let calls5 = Array(calls.dropFirst())
        // aws round 1 (concurrent): cluster, add-on, association list.
        #expect(Set(calls5[5..<8]) == [
            ["aws", "eks", "describe-cluster", "--name", "prod-eks", "--region", "us-east-2", "--output", "json"],
            ["aws", "eks", "describe-addon", "--cluster-name", "prod-eks", "--addon-name", "eks-pod-identity-agent", "--region", "us-east-2", "--output", "json"],
            ["aws", "eks", "list-pod-identity-associations", "--cluster-name", "prod-eks", "--region", "us-east-2", "--output", "json"],
        ])
        // Phase 5: describe only the association of a subject's ServiceAccount (not team-a/app).
        #expect(calls5[8] == ["aws", "eks", "describe-pod-identity-association", "--cluster-name", "prod-eks", "--association-id", "a-abcdefghij0123456", "--region", "us-east-2", "--output", "json"])
        // Phase 6: the role, once.
        #expect(calls5[9] == ["aws", "iam", "get-role", "--role-name", "crossplane-provider-aws-pod-identity", "--region", "us-east-2", "--output", "json"])

        let s = gathered.snapshot
        #expect(s.cluster.cloud == .aws)
        #expect(s.cluster.name == "prod-eks")
        #expect(s.cluster.region == "us-east-2")
        #expect(s.cluster.context == SeedCluster.contextARN)
        #expect(s.cluster.server == SeedCluster.server)
        #expect(s.crossplaneInstalled)
        #expect(s.crossplaneNamespace == "crossplane-system")
        #expect(s.packages.map(\.metadata.name).sorted() == ["provider-aws-s3", "upbound-provider-family-aws"])
        #expect(s.deployments.allSatisfy { $0.metadata.namespace == "crossplane-system" }, "deployments outside the Crossplane namespace are dropped")
        let otherFamilies = { (read: ResourceRead) in read.group.hasPrefix("azure.") || read.group.hasPrefix("gcp.") }
        #expect(s.reads.filter { !otherFamilies($0.key) }.values.allSatisfy { $0 == .ok })
        #expect(s.reads.filter { otherFamilies($0.key) }.values.allSatisfy { $0 == .notInstalled }, "the Azure and GCP families are not installed here")
        #expect(s.aws.describedAssociations.keys.sorted() == [SeedCluster.associationID])
        #expect(s.aws.roles[SeedCluster.roleArn]?.value?.name == SeedCluster.roleName)
        #expect(s.aws.associations.value?.count == 2)
        #expect(s.aws.podIdentityAddon.value?.status == "ACTIVE")
        #expect(s.aws.cluster.value?.oidcIssuer == "https://oidc.eks.us-east-2.amazonaws.com/id/ABCDEF0123456789")
        let described = try #require(s.aws.describedAssociations[SeedCluster.associationID]?.value)
        #expect(described.roleArn == SeedCluster.roleArn)
        #expect(described.createdAt == Timestamp.parse("2026-11-01T08:00:00.123Z"))
        #expect(gathered.notes.contains { $0.contains("EKS cluster name prod-eks") })
        #expect(gathered.notes.contains { $0.contains("AWS region us-east-2") })
    }

    @Test("get-role runs once per distinct role; chained roles are read too")
    func rolesReadOncePerDistinctRole() async throws {
        var seed = SeedCluster()
        // provider-aws-ec2 gets its own ServiceAccount and association, with the SAME role.
        let ns = SeedCluster.namespace
        let revision = "provider-aws-ec2-1a2b3c4d5e6f"
        seed.packages.append(KubeJSON.package(name: "provider-aws-ec2", package: "xpkg.upbound.io/upbound/provider-aws-ec2:v2.3.0", runtimeConfig: "ec2-runtime", currentRevision: revision))
        seed.runtimeConfigs.append(KubeJSON.runtimeConfig("ec2-runtime", serviceAccountName: "provider-aws-ec2"))
        seed.deployments.append(SeedCluster.packageDeployment(package: "provider-aws-ec2", revision: revision, serviceAccount: "provider-aws-ec2"))
        seed.crossplanePods.append(SeedCluster.packagePod(package: "provider-aws-ec2", revision: revision, serviceAccount: "provider-aws-ec2", podIdentity: true, node: "ip-10-0-1-10.us-east-2.compute.internal"))
        seed.serviceAccounts.append(KubeJSON.serviceAccount("provider-aws-ec2", namespace: ns))
        let ec2 = AWSJSON.associationSummary(cluster: "prod-eks", namespace: ns, serviceAccount: "provider-aws-ec2", id: "a-ec2ec2ec2ec2ec2ec")
        seed.listedAssociations.append(ec2)
        seed.describedAssociations["a-ec2ec2ec2ec2ec2ec"] = AWSJSON.association(summary: ec2, roleArn: SeedCluster.roleArn)
        // A ProviderConfig chains to a cross-account role.
        seed.providerConfigs = [KubeJSON.providerConfig(source: "PodIdentity", assumeRoleChain: ["arn:aws:iam::111122223333:role/target"])]
        seed.roles["target"] = ["Version": "2012-10-17", "Statement": []]
        let runner = seed.runner()
        _ = try #require(await gather(runner).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        let describes = runner.calls.filter { $0.count > 2 && $0[2] == "describe-pod-identity-association" }
        #expect(describes.count == 2)
        let getRoles = runner.calls.filter { $0.count > 2 && $0[2] == "get-role" }.map { $0[4] }
        #expect(getRoles.sorted() == ["crossplane-provider-aws-pod-identity", "target"])
    }

    @Test("kubectl passthrough flags come before the subcommand in every kubectl argv, and never reach aws")
    func passthroughFlags() async throws {
        var flags = KubectlFlags()
        flags.kubeconfig = "/home/alice/.kube/prod.yaml"
        flags.context = "prod"
        flags.cluster = "prod-cluster"
        flags.user = "alice"
        flags.asUser = "alice@example.com"
        flags.asGroups = ["platform", "sre"]
        flags.requestTimeout = "15s"
        let prefix = [
            "kubectl", "--kubeconfig", "/home/alice/.kube/prod.yaml", "--context", "prod", "--cluster", "prod-cluster", "--user", "alice",
            "--as", "alice@example.com", "--as-group", "platform", "--as-group", "sre", "--request-timeout", "15s",
        ]
        #expect(flags.arguments == Array(prefix.dropFirst()))
        var seed = SeedCluster()
        seed.kubectl = prefix
        let runner = seed.runner()
        _ = try #require(await gather(runner, flags: flags).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        let kubectlCalls = runner.calls(to: "kubectl")
        #expect(kubectlCalls.count == 6)
        for argv in kubectlCalls {
            #expect(Array(argv.prefix(prefix.count)) == prefix, "\(argv)")
            #expect(["config", "api-resources", "get"].contains(argv[prefix.count]), "\(argv)")
        }
        for argv in runner.calls(to: "aws") {
            #expect(!argv.contains("--context") && !argv.contains("--as-group") && !argv.contains("--kubeconfig"), "\(argv)")
        }
    }

    @Test("custom kubectl and aws executables are used as given")
    func customExecutables() async throws {
        var seed = SeedCluster()
        seed.kubectl = ["/opt/bin/kubectl-1.33"]
        seed.aws = "/opt/aws/bin/aws"
        let runner = seed.runner()
        _ = try #require(await gather(runner, kubectl: "/opt/bin/kubectl-1.33", aws: "/opt/aws/bin/aws").successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(Set(runner.calls.map { $0[0] }) == ["/opt/bin/kubectl-1.33", "/opt/aws/bin/aws"])
    }

    @Test("the number of kubectl calls does not grow with the number of Providers")
    func constantKubectlCalls() async throws {
        func kubectlCalls(extraProviders: Int) async throws -> ([[String]], Int) {
            var seed = SeedCluster()
            seed.addProviders(extraProviders)
            let runner = seed.runner()
            let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
            #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
            return (runner.calls(to: "kubectl"), gathered.snapshot.packages.count)
        }
        let (one, onePackages) = try await kubectlCalls(extraProviders: 0)
        let (fifty, fiftyPackages) = try await kubectlCalls(extraProviders: 48)
        #expect(onePackages == 2)
        #expect(fiftyPackages == 50)
        #expect(one.count == 6)
        #expect(fifty.count == one.count)
        #expect(Set(fifty) == Set(one))
    }

    @Test("no Crossplane CRDs: no Crossplane types requested, crossplaneInstalled == false")
    func crossplaneMissing() async throws {
        var seed = SeedCluster()
        seed.removeCrossplane()
        let runner = seed.runner()
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        let batches = runner.calls.filter { $0.count > 2 && $0[1] == "get" && $0.contains("--all-namespaces") }
        #expect(batches == [["kubectl", "get", "nodes,deployments.v1.apps", "--all-namespaces", "-o", "json"]], "no custom resource batch at all")
        for argv in runner.calls { #expect(!argv.joined(separator: " ").contains("crossplane.io") && !argv.joined(separator: " ").contains("upbound.io"), "\(argv)") }
        let s = gathered.snapshot
        #expect(!s.crossplaneInstalled)
        #expect(s.packages.isEmpty)
        #expect(s.reads[ResourceRead(resource: "providers", group: "pkg.crossplane.io")] == .notInstalled)
        #expect(s.reads[ResourceRead(resource: "clusterproviderconfigs", group: "aws.m.upbound.io")] == .notInstalled)
        #expect(gathered.notes.contains { $0.contains("Crossplane is not installed") })
        #expect(EvaluationContext(s).subjects.isEmpty)
    }

    @Test("only the served ProviderConfig APIs are requested (legacy-only cluster)")
    func servedSubsetOnly() async throws {
        var seed = SeedCluster()
        seed.apiResources.removeAll { $0.hasSuffix(".aws.m.upbound.io") }
        seed.providerConfigs = [KubeJSON.providerConfig(group: "aws.upbound.io", kind: "ProviderConfig", source: "PodIdentity")]
        let runner = seed.runner()
        let gathered = try #require(await gather(runner).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.contains([
            "kubectl", "get",
            "providers.v1.pkg.crossplane.io,functions.v1.pkg.crossplane.io,configurations.v1.pkg.crossplane.io,deploymentruntimeconfigs.v1beta1.pkg.crossplane.io,imageconfigs.v1beta1.pkg.crossplane.io,providerconfigs.v1beta1.aws.upbound.io",
            "--all-namespaces", "-o", "json",
        ]))
        #expect(gathered.snapshot.providerConfigs.map(\.api) == [.awsLegacy])
        #expect(gathered.snapshot.reads[ResourceRead(resource: "providerconfigs", group: "aws.m.upbound.io")] == .notInstalled)
    }

    @Test("--crossplane-namespace changes the namespaced batch")
    func crossplaneNamespaceFlag() async throws {
        let seed = SeedCluster()
        let runner = seed.runner()
        runner.stub(["kubectl", "get", "pods,serviceaccounts", "-n", "xp", "-o", "json"], stdout: KubeJSON.listText([]))
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.crossplaneNamespace = "xp"; $0.noCloud = true }).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(!runner.calls.contains(seed.crossplaneBatchArgv))
        #expect(gathered.snapshot.crossplaneNamespace == "xp")
        #expect(gathered.notes.contains("Crossplane namespace xp (--crossplane-namespace)"))
    }

    @Test("Crossplane namespace is found from where the Crossplane Deployment runs")
    func crossplaneNamespaceDiscovered() async throws {
        var seed = SeedCluster()
        seed.deployments = seed.deployments.map { d in
            guard d.at("metadata", "namespace") == "crossplane-system" else { return d }
            var m = d.object
            var meta = d["metadata"].object
            meta["namespace"] = "upbound-system"
            m["metadata"] = .object(meta)
            return .object(m)
        }
        let runner = seed.runner()
        runner.stub(["kubectl", "get", "pods,serviceaccounts", "-n", "upbound-system", "-o", "json"], stdout: KubeJSON.listText([]))
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(gathered.snapshot.crossplaneNamespace == "upbound-system")
        // Round 1 guessed crossplane-system; round 2 read the right namespace, and the guess left no trace.
        #expect(runner.calls.contains(seed.crossplaneBatchArgv))
        #expect(runner.calls.contains(["kubectl", "get", "pods,serviceaccounts", "-n", "upbound-system", "-o", "json"]))
        #expect(gathered.snapshot.pods.allSatisfy { $0.metadata.namespace != "crossplane-system" })
        #expect(gathered.snapshot.reads[ResourceRead(resource: "pods", namespace: "crossplane-system")] == nil)
        #expect(gathered.snapshot.reads[ResourceRead(resource: "pods", namespace: "upbound-system")] == .ok)
    }

    @Test("-n narrows namespaced ProviderConfigs only")
    func namespaceNarrowsProviderConfigs() async throws {
        var seed = SeedCluster()
        seed.providerConfigs = [
            KubeJSON.providerConfig(source: "PodIdentity"),
            KubeJSON.providerConfig(kind: "ProviderConfig", name: "team-a", namespace: "team-a", source: "PodIdentity"),
            KubeJSON.providerConfig(kind: "ProviderConfig", name: "team-b", namespace: "team-b", source: "IRSA"),
        ]
        let runner = seed.runner()
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.namespace = "team-a"; $0.noCloud = true }).successValue)
        #expect(gathered.snapshot.providerConfigs.map(\.metadata.name).sorted() == ["default", "team-a"])
    }

    @Test("--no-cloud: zero aws calls, every cloud read not requested")
    func noCloud() async throws {
        let runner = SeedCluster().runner()
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        #expect(runner.calls(to: "aws").isEmpty)
        #expect(runner.calls.count == 6)
        let s = gathered.snapshot
        #expect(s.aws == .unavailable("--no-cloud"))
        #expect(s.options.cloudDisabledReason == "--no-cloud")
    }

    @Test("unknown EKS cluster name: zero aws calls, cloud reads fail naming --cluster-name")
    func clusterNameUnknown() async throws {
        var seed = SeedCluster()
        seed.configView = plainConfigView()
        let runner = seed.runner()
        let gathered = try #require(await gather(runner).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls(to: "aws").isEmpty)
        let s = gathered.snapshot
        #expect(s.cluster.cloud == .aws)
        #expect(s.cluster.name == nil)
        #expect(s.cluster.region == "us-east-2", "region still comes from the node label")
        for read in [s.aws.cluster.failedError, s.aws.podIdentityAddon.failedError, s.aws.associations.failedError] {
            let error = try #require(read)
            #expect(error.message.contains("--cluster-name"))
        }
    }

    @Test("--cluster-name and --region win over discovery")
    func clusterNameFlag() async throws {
        var seed = SeedCluster()
        seed.configView = plainConfigView()
        seed.clusterName = "other-eks"
        seed.region = "eu-west-1"
        seed.listedAssociations = []
        let runner = seed.runner()
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.clusterName = "other-eks"; $0.region = "eu-west-1" }).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.contains(["aws", "eks", "describe-cluster", "--name", "other-eks", "--region", "eu-west-1", "--output", "json"]))
        #expect(gathered.snapshot.cluster.nameEvidence == "--cluster-name")
        #expect(gathered.snapshot.cluster.regionEvidence == "--region")
    }

    @Test("cluster name and region from the exec args when the context is not an ARN")
    func execArgsDiscovery() async throws {
        var seed = SeedCluster()
        seed.configView = SeedCluster.eksConfigView(context: "prod", execArgs: ["eks", "get-token", "--cluster-name=prod-eks", "--region=us-east-2"])
        let runner = seed.runner()
        let gathered = try #require(await gather(runner).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(gathered.snapshot.cluster.name == "prod-eks")
        #expect(gathered.snapshot.cluster.region == "us-east-2")
        #expect(gathered.snapshot.cluster.nameEvidence?.contains("exec args") == true)
    }

    @Test(
        "discovery notes name where the cluster name came from, exactly")
    func execArgsEvidence() async throws {
        var seed = SeedCluster()
        seed.configView = SeedCluster.eksConfigView(context: "prod", execArgs: ["eks", "get-token", "--cluster-name", "prod-eks", "--region", "us-east-2"])
        let gathered = try #require(await gather(seed.runner()).successValue)
        #expect(gathered.snapshot.cluster.nameEvidence == "kubeconfig exec args (aws)")
        #expect(gathered.snapshot.cluster.regionEvidence == "kubeconfig exec args (aws)")
        #expect(gathered.notes.contains("EKS cluster name prod-eks (from kubeconfig exec args (aws))"), "\(gathered.notes)")
    }

    @Test("a GKE cluster: no kube-system batch, no aws calls; project, location and name from the gke_ context; the gcloud reads")
    func gkeCluster() async throws {
        var seed = SeedCluster()
        seed.configView = plainConfigView(context: "gke_proj_europe-west1_prod")
        seed.nodes = [KubeJSON.node("gke-prod-default-pool-1", providerID: "gce://proj/europe-west1-b/gke-prod-default-pool-1", labels: ["cloud.google.com/gke-nodepool": "default-pool"])]
        let runner = seed.runner()
        let describe = ["gcloud", "container", "clusters", "describe", "prod", "--location", "europe-west1", "--project", "proj", "--format", "json"]
        runner.stubJSON(describe, [
            "name": "prod", "location": "europe-west1", "workloadIdentityConfig": ["workloadPool": "proj.svc.id.goog"],
            "nodePools": [["name": "default-pool", "config": ["workloadMetadataConfig": ["mode": "GKE_METADATA"], "serviceAccount": "default"]]],
        ])
        runner.stubJSON(["gcloud", "projects", "describe", "proj", "--project", "proj", "--format", "json"], ["projectId": "proj", "projectNumber": "123456789012"])
        runner.stubJSON(["gcloud", "projects", "get-iam-policy", "proj", "--project", "proj", "--format", "json"], ["bindings": [["role": "roles/viewer", "members": ["user:a@example.com"]]], "etag": "x"])
        let gathered = try #require(await gather(runner).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(!runner.calls.contains(seed.kubeSystemBatchArgv))
        #expect(runner.calls(to: "aws").isEmpty)
        #expect(runner.calls(to: "kubectl").count == 5)
        #expect(runner.calls(to: "gcloud").count == 3, "no GSA annotation and no Artifact Registry package: cluster, project number, project policy")
        let s = gathered.snapshot
        #expect(s.cluster.cloud == .gcp)
        #expect((s.cluster.project, s.cluster.location, s.cluster.name) == ("proj", "europe-west1", "prod"))
        #expect(gathered.notes.contains("project proj (from kubeconfig context gke_proj_europe-west1_prod)"), "\(gathered.notes)")
        #expect(s.gcp.cluster.value?.workloadPool == "proj.svc.id.goog")
        #expect(s.gcp.cluster.value?.nodePools.first?.metadataMode == "GKE_METADATA")
        #expect(s.gcp.projectNumber == .value("123456789012"))
        #expect(s.gcp.projectPolicy.value?.roles(of: "user:a@example.com") == ["roles/viewer"])
        #expect(s.aws == .unavailable("not an EKS cluster"))
    }

    @Test("--cloud aws overrides detection on nodes without provider IDs")
    func cloudOverride() async throws {
        var seed = SeedCluster()
        seed.nodes = [KubeJSON.node("kind-control-plane", providerID: "kind://docker/kind/kind-control-plane")]
        let runner = seed.runner()
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.cloud = .aws }).successValue)
        #expect(gathered.snapshot.cluster.cloud == .aws)
        #expect(gathered.snapshot.cluster.cloudEvidence == "--cloud aws")
        #expect(!runner.calls(to: "aws").isEmpty)
    }

    @Test("a forbidden type in a batch: that read is forbidden, the others ok")
    func forbiddenInBatch() async throws {
        let seed = SeedCluster()
        let runner = seed.runner()
        let stderr = #"Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "crossplane-system""# + "\n"
        runner.stub(seed.crossplaneBatchArgv, stdout: KubeJSON.listText(seed.serviceAccounts), stderr: stderr, exit: 1)
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        let s = gathered.snapshot
        #expect(s.reads[ResourceRead(resource: "pods", namespace: "crossplane-system")] == .forbidden(
            verb: "list", message: #"pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "crossplane-system""#))
        #expect(s.reads[ResourceRead(resource: "serviceaccounts", namespace: "crossplane-system")] == .ok)
        #expect(s.serviceAccounts.count == seed.serviceAccounts.count)
        #expect(s.pods.allSatisfy { $0.metadata.namespace == "kube-system" })
        #expect(s.failedRead("pods")?.0 == ResourceRead(resource: "pods", namespace: "crossplane-system"))
    }

    @Test("a forbidden CRD in the cluster-wide batch")
    func forbiddenProviders() async throws {
        let seed = SeedCluster()
        let runner = seed.runner()
        let stderr = #"Error from server (Forbidden): providers.pkg.crossplane.io is forbidden: User "alice" cannot list resource "providers" in API group "pkg.crossplane.io" at the cluster scope"#
        runner.stub(seed.crdBatchArgv, stdout: KubeJSON.listText(seed.runtimeConfigs + seed.providerConfigs), stderr: stderr, exit: 1)
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        #expect(gathered.snapshot.reads[ResourceRead(resource: "providers", group: "pkg.crossplane.io")] == .forbidden(
            verb: "list", message: #"providers.pkg.crossplane.io is forbidden: User "alice" cannot list resource "providers" in API group "pkg.crossplane.io" at the cluster scope"#))
        #expect(gathered.snapshot.reads[ResourceRead(resource: "functions", group: "pkg.crossplane.io")] == .ok)
        #expect(gathered.snapshot.reads[ResourceRead(resource: "nodes")] == .ok)
    }

    @Test("a type the server stopped serving is dropped from the batch and read as not installed")
    func unknownTypeRetried() async throws {
        var seed = SeedCluster()
        let runner = seed.runner()
        runner.stub(seed.crdBatchArgv, stderr: "error: the server doesn't have a resource type \"providers\"\n", exit: 1)
        seed.apiResources.removeAll { $0 == "providers.pkg.crossplane.io" }
        seed.packages = []
        runner.stub(seed.crdBatchArgv, stdout: KubeJSON.listText(seed.crdItems))
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.filter { $0.contains("--all-namespaces") }.count == 3, "the built-in batch, then the CRD batch twice")
        #expect(gathered.snapshot.reads[ResourceRead(resource: "providers", group: "pkg.crossplane.io")] == .notInstalled)
        #expect(!gathered.snapshot.crossplaneInstalled)
    }

    @Test("discovery forbidden: every type is asked for, with a note saying so")
    func discoveryForbidden() async throws {
        let seed = SeedCluster()
        let runner = seed.runner()
        runner.stub(seed.apiResourcesArgv, stderr: #"Error from server (Forbidden): apis is forbidden: User "alice" cannot list resource "apis" in API group "" at the cluster scope"#, exit: 1)
        // Without discovery the versions are unknown: the types are named plural.group.
        // Flux's kinds may be served too: they, the RBAC and every namespace's ServiceAccounts join the batch.
        let fluxTypes = SeedCluster.fluxAPIResources + ["clusterroles.v1.rbac.authorization.k8s.io", "clusterrolebindings.v1.rbac.authorization.k8s.io", "serviceaccounts"]
        let unversioned = seed.kubectlArgv(["get", (SeedCluster.crdOrder + fluxTypes).joined(separator: ","), "--all-namespaces", "-o", "json"])
        runner.stub(unversioned, stdout: KubeJSON.listText(seed.crdItems))
        runner.stub(seed.fluxBatchArgv, stdout: KubeJSON.listText([]))
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.contains(unversioned))
        #expect(gathered.notes.contains { $0.hasPrefix("API discovery (kubectl api-resources) failed") })
        #expect(gathered.snapshot.crossplaneInstalled)
    }

    @Test("api-resources that exits 1 for an unavailable aggregated API still gives its list")
    func partialDiscovery() async throws {
        let seed = SeedCluster()
        let runner = seed.runner()
        runner.stub(seed.apiResourcesArgv, stdout: SeedCluster.wideTable(seed.apiResources),
            stderr: "error: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request\n", exit: 1)
        let gathered = try #require(await gather(runner, options: gatherOptions { $0.noCloud = true }).successValue)
        #expect(gathered.snapshot.crossplaneInstalled)
    }
}

extension CloudRead {
    var failedError: CloudError? {
        if case .failed(let e) = self { return e }
        return nil
    }
}
