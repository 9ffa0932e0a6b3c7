import Foundation
import Testing
import XpidCore

@Suite("Subjects and method inference")
struct SubjectTests {
    /// The seed without any cloud facts, pod env, annotations: only the ProviderConfig speaks.
    static func bare() -> Snapshot {
        var s = Examples.podIdentitySeed()
        s.aws = .unavailable("--no-cloud")
        s.updatePods(where: { _ in true }) { pod in
            for i in pod.spec.containers.indices { pod.spec.containers[i].env = [] }
        }
        return s
    }

    static func function() -> CrossplanePackage {
        CrossplanePackage(
            kind: .function, metadata: ObjectMeta(name: "function-patch-and-transform"),
            package: "xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:v0.8.2",
            currentRevision: "function-patch-and-transform-0a1b2c3d4e5f", conditions: Examples.healthy())
    }

    struct MethodCase: Sendable, CustomTestStringConvertible {
        var name: String
        var subject: String
        var method: IdentityMethod
        var evidencePrefix: String
        var snapshot: @Sendable () -> Snapshot
        var testDescription: String { "\(name) → \(subject) \(method.rawValue)" }
    }

    static let methodCases: [MethodCase] = [
        MethodCase(name: "association", subject: s3, method: .podIdentity, evidencePrefix: "EKS Pod Identity association for crossplane-system/provider-aws-pod-identity") {
            Examples.podIdentitySeed()
        },
        MethodCase(name: "pod env", subject: s3, method: .podIdentity, evidencePrefix: "pod env AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            var s = Examples.podIdentitySeed()
            s.aws = .unavailable("--no-cloud")
            s.providerConfigs = []
            return s
        },
        MethodCase(name: "SA annotation", subject: s3, method: .irsa, evidencePrefix: "ServiceAccount annotation eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/irsa") {
            var s = bare()
            s.providerConfigs = []
            s.updateServiceAccount(namespace: Examples.namespace, name: Examples.podIdentitySA) {
                $0.metadata.annotations["eks.amazonaws.com/role-arn"] = "arn:aws:iam::123456789012:role/irsa"
            }
            return s
        },
        MethodCase(name: "DRC SA annotation", subject: s3, method: .irsa, evidencePrefix: "DeploymentRuntimeConfig pod-identity-runtimeconfig sets eks.amazonaws.com/role-arn") {
            var s = bare()
            s.providerConfigs = []
            for i in s.runtimeConfigs.indices where s.runtimeConfigs[i].metadata.name == "pod-identity-runtimeconfig" {
                s.runtimeConfigs[i].serviceAccountAnnotations["eks.amazonaws.com/role-arn"] = "arn:aws:iam::123456789012:role/irsa"
            }
            return s
        },
        MethodCase(name: "pod IRSA env", subject: s3, method: .irsa, evidencePrefix: "pod env AWS_ROLE_ARN") {
            var s = bare()
            s.providerConfigs = []
            s.updatePods(where: { $0.metadata.labels["pkg.crossplane.io/revision"] == Examples.s3Revision }) {
                $0.spec.containers[0].env = Examples.irsaEnv(role: "arn:aws:iam::123456789012:role/irsa")
            }
            return s
        },
        MethodCase(name: "ProviderConfig PodIdentity, AWS provider", subject: s3, method: .podIdentity, evidencePrefix: "providerconfig.aws.m.upbound.io default -n default credentials.source=PodIdentity") {
            bare()
        },
        MethodCase(name: "ProviderConfig IRSA, AWS provider", subject: s3, method: .irsa, evidencePrefix: "providerconfig.aws.m.upbound.io default -n default credentials.source=IRSA") {
            var s = bare()
            s.providerConfigs[0].source = "IRSA"
            return s
        },
        MethodCase(name: "ProviderConfig PodIdentity, family provider", subject: family, method: .none, evidencePrefix: "family provider") {
            bare()
        },
        MethodCase(name: "ProviderConfig PodIdentity, function", subject: "function/function-patch-and-transform", method: .none, evidencePrefix: "no workload identity configured") {
            var s = bare()
            s.packages.append(function())
            return s
        },
        MethodCase(name: "nothing at all", subject: s3, method: .none, evidencePrefix: "no workload identity configured") {
            var s = bare()
            s.providerConfigs = []
            return s
        },
        MethodCase(name: "--method overrides an association", subject: s3, method: .irsa, evidencePrefix: "--method irsa") {
            var s = Examples.podIdentitySeed()
            s.options.methodOverride = .irsa
            return s
        },
        MethodCase(name: "--method applies to every subject", subject: family, method: .podIdentity, evidencePrefix: "--method pod-identity") {
            var s = bare()
            s.options.methodOverride = .podIdentity
            return s
        },
    ]

    @Test("method inference", arguments: methodCases)
    func method(_ c: MethodCase) throws {
        let sub = try #require(subject(c.subject, in: c.snapshot()), "no subject \(c.subject)")
        #expect(sub.method == c.method, "\(sub.methodEvidence)")
        #expect(sub.methodEvidence.hasPrefix(c.evidencePrefix), "\(sub.methodEvidence)")
    }

    @Test("the resolver follows status.currentRevision through labels to Deployment, pods and ServiceAccount")
    func resolverFollowsRevision() throws {
        var s = Examples.podIdentitySeed()
        // Rename the Deployment: only the revision label links it, never its name.
        for i in s.deployments.indices where s.deployments[i].metadata.name == Examples.s3Revision {
            s.deployments[i].metadata.name = "something-else-entirely"
        }
        let sub = try #require(subject(s3, in: s))
        #expect(sub.deployment?.metadata.name == "something-else-entirely")
        #expect(sub.pods.map(\.metadata.name) == ["\(Examples.s3Revision)-6d9f7c8b5-x2x4q"])
        #expect(sub.serviceAccountName == Examples.podIdentitySA)
        #expect(sub.serviceAccount?.metadata.name == Examples.podIdentitySA)
        #expect(sub.namespace == "crossplane-system")
        #expect(sub.revision == Examples.s3Revision)
    }

    @Test("no status.currentRevision → no Deployment, no pods, no ServiceAccount (names are never computed)")
    func neverComputesNames() throws {
        var s = Examples.podIdentitySeed()
        s.updatePackage("provider-aws-s3") { $0.currentRevision = nil }
        // Objects a name-guessing resolver would pick up.
        s.serviceAccounts.append(ServiceAccount(metadata: ObjectMeta(name: "provider-aws-s3", namespace: Examples.namespace)))
        let sub = try #require(subject(s3, in: s))
        #expect(sub.deployment == nil)
        #expect(sub.pods.isEmpty)
        #expect(sub.serviceAccountName == nil)
        #expect(sub.serviceAccount == nil)
    }

    @Test("objects of the revision in another namespace are not the subject's")
    func otherNamespaceIgnored() throws {
        var s = Examples.podIdentitySeed()
        s.crossplaneNamespace = "upbound-system"
        let sub = try #require(subject(s3, in: s))
        #expect(sub.namespace == "upbound-system")
        #expect(sub.deployment == nil)
        #expect(sub.pods.isEmpty)
    }

    @Test("the ServiceAccount comes from the pod when the Deployment is not visible")
    func serviceAccountFromPod() throws {
        var s = Examples.podIdentitySeed()
        s.deployments = []
        let sub = try #require(subject(s3, in: s))
        #expect(sub.serviceAccountName == Examples.podIdentitySA)
    }

    @Test("subjects: one per package, sorted by kind then name, with kind/name IDs")
    func subjectIDs() {
        var s = Examples.podIdentitySeed()
        s.packages.append(Self.function())
        #expect(SubjectResolver.subjects(in: s).map(\.id) == ["function/function-patch-and-transform", "provider/provider-aws-s3", "provider/upbound-provider-family-aws"])
    }

    @Test("ImageConfig runtime override: the longest matching prefix wins")
    func imageConfigLongestPrefix() throws {
        var s = Examples.podIdentitySeed()
        s.runtimeConfigs += [DeploymentRuntimeConfig(metadata: ObjectMeta(name: "broad")), DeploymentRuntimeConfig(metadata: ObjectMeta(name: "narrow"))]
        s.imageConfigs = [
            ImageConfig(metadata: ObjectMeta(name: "all-upbound"), prefixes: ["xpkg.upbound.io/"], runtimeConfigName: "broad"),
            ImageConfig(metadata: ObjectMeta(name: "aws-only"), prefixes: ["xpkg.example.com/", "xpkg.upbound.io/upbound/provider-aws"], runtimeConfigName: "narrow"),
            ImageConfig(metadata: ObjectMeta(name: "pull-secrets-only"), prefixes: ["xpkg.upbound.io/upbound/provider-aws-s3"], runtimeConfigName: nil),
        ]
        let sub = try #require(subject(s3, in: s))
        #expect(sub.runtimeConfig?.metadata.name == "narrow")
        #expect(sub.runtimeConfigEvidence == "ImageConfig aws-only (prefix xpkg.upbound.io/upbound/provider-aws) sets runtime config narrow")
        let package = try #require(sub.package)
        let override = try #require(SubjectResolver.imageConfigOverride(for: package, in: s))
        #expect(override.config.metadata.name == "aws-only")
        #expect(override.prefix == "xpkg.upbound.io/upbound/provider-aws")
        // The family provider matches only the broad prefix.
        #expect(subject(family, in: s)?.runtimeConfig?.metadata.name == "broad")
    }

    @Test("without a matching ImageConfig, runtimeConfigRef is in effect")
    func runtimeConfigRef() throws {
        var s = Examples.podIdentitySeed()
        s.imageConfigs = [ImageConfig(metadata: ObjectMeta(name: "other"), prefixes: ["registry.example.com/"], runtimeConfigName: "default")]
        let sub = try #require(subject(s3, in: s))
        #expect(sub.runtimeConfig?.metadata.name == "pod-identity-runtimeconfig")
        #expect(sub.runtimeConfigEvidence == "runtimeConfigRef pod-identity-runtimeconfig")
    }

    @Test("AWS provider and family detection from the package name")
    func providerKinds() {
        func sub(_ package: String, kind: PackageKind = .provider) -> Subject {
            Subject(kind: kind == .provider ? .provider : .function, name: "x", namespace: "ns", package: CrossplanePackage(kind: kind, metadata: ObjectMeta(name: "x"), package: package))
        }
        #expect(sub("xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0").isAWSProvider)
        #expect(sub("xpkg.upbound.io/upbound/provider-family-aws:v2.3.0").isAWSProvider)
        #expect(sub("xpkg.upbound.io/upbound/provider-family-aws:v2.3.0").isFamilyProvider)
        #expect(sub("xpkg.crossplane.io/crossplane-contrib/provider-aws:v0.50.0").isAWSProvider)
        #expect(!sub("xpkg.upbound.io/upbound/provider-gcp-storage:v2.0.0").isAWSProvider)
        #expect(!sub("xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", kind: .function).isAWSProvider)
        #expect(!sub("xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0").isFamilyProvider)
    }
}
