import Foundation

public struct ProviderConfigSourceCheck: Check {
    public init() {}

    /// The workload-identity sources of each family's enum (managed-identity sources use the node, not the pod).
    static func identitySources(_ family: Cloud) -> Set<String> {
        switch family {
        case .aws: return ["IRSA", "WebIdentity", "PodIdentity"]
        case .azure: return ["OIDCTokenFile"]
        case .gcp: return ["InjectedIdentity", "ImpersonateServiceAccount"]
        default: return []
        }
    }

    public static let description = CheckDescription(
        id: "crossplane.providerconfig-source",
        title: "ProviderConfig credentials source matches the method",
        summary: "Every ProviderConfig/ClusterProviderConfig of the subject's family (`aws.upbound.io`, `aws.m.upbound.io`, `azure.upbound.io`, `azure.m.upbound.io`) that uses workload identity has the `credentials.source` of the subject's method (PodIdentity for Pod Identity; IRSA or WebIdentity for IRSA; OIDCTokenFile for Azure Workload Identity), and at least one does.",
        rationale: "The ProviderConfig decides how the provider looks for credentials; a source for another mechanism makes it look in the wrong place (upjet AWS 1.3.0 broke Pod Identity under `source: IRSA`).",
        remediation: "Set `spec.credentials.source` to the method in use (`kubectl patch … --type merge`).",
        mechanism: .crossplane, scope: .subject,
        passing: [
            CheckExample("PodIdentity source", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() },
            CheckExample("IRSA and PodIdentity ProviderConfigs for providers of each method", subject: "provider/provider-aws-s3", expect: .pass) {
                var s = Examples.podIdentitySeed()
                s.providerConfigs.append(ProviderConfig(api: .awsLegacy, metadata: ObjectMeta(name: "irsa"), source: "IRSA"))
                s.packages.append(CrossplanePackage(
                    kind: .provider, metadata: ObjectMeta(name: "provider-aws-ec2"), package: "xpkg.upbound.io/upbound/provider-aws-ec2:v2.3.0",
                    currentRevision: "provider-aws-ec2-1a2b3c4d5e6f", conditions: Examples.healthy()))
                s.serviceAccounts.append(ServiceAccount(metadata: ObjectMeta(name: "provider-aws-ec2-1a2b3c4d5e6f", namespace: Examples.namespace, annotations: [IRSAFacts.roleAnnotation: "arn:aws:iam::123456789012:role/ec2"])))
                s.deployments.append(Examples.packageDeployment(package: "provider-aws-ec2", revision: "provider-aws-ec2-1a2b3c4d5e6f", serviceAccount: "provider-aws-ec2-1a2b3c4d5e6f"))
                return s
            },
        ],
        failing: [
            CheckExample("source IRSA while the association exists", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.providerConfigs[0].source = "IRSA"
                return s
            },
            CheckExample("no ProviderConfig at all", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.providerConfigs = []
                return s
            },
            CheckExample("GCP ProviderConfig with the project number as projectID", subject: "provider/provider-gcp-storage", expect: .warn) {
                var s = Examples.gkeSeed()
                s.providerConfigs[0].projectID = Examples.gcpProjectNumber
                return s
            },
            CheckExample("Azure provider on workload identity, ProviderConfig uses the node's managed identity", subject: "provider/provider-azure-storage", expect: .fail) {
                var s = Examples.aksSeed()
                s.providerConfigs[0].source = "UserAssignedManagedIdentity"
                return s
            },
        ])

    /// ProviderConfigs with a workload-identity source that no AWS provider in the cluster can serve.
    /// In a cluster that runs IRSA and Pod Identity providers side by side, each method's ProviderConfig is fine.
    public static func unserved(in context: EvaluationContext) -> [ProviderConfig] {
        let inUse = Set(context.index.providerMethods.flatMap { sources(for: $0) })
        return context.snapshot.providerConfigs.filter { pc in
            let source = pc.source ?? "Secret"
            return identitySources(pc.api.family).contains(source) && !inUse.contains(source)
        }
    }

    /// The `credentials.source` values that serve a method; the first is the one fixes set.
    public static func sources(for method: IdentityMethod) -> [String] {
        switch method {
        case .podIdentity: return ["PodIdentity"]
        case .irsa: return ["IRSA", "WebIdentity"]
        case .azureWI: return ["OIDCTokenFile"]
        case .gkeWI, .gkeWIF: return ["InjectedIdentity", "ImpersonateServiceAccount"]
        default: return []
        }
    }

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool {
        guard !subject.isFamilyProvider else { return false }
        switch subject.providerFamily {
        case .aws?: return subject.method == .podIdentity || subject.method == .irsa
        case .azure?: return subject.method == .azureWI
        case .gcp?: return subject.method == .gkeWI || subject.method == .gkeWIF
        default: return false
        }
    }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let family = subject.providerFamily else { return [] }
        for kind in ProviderConfigAPI.allCases where kind.family == family {
            if let (read, outcome) = context.snapshot.failedRead(kind.plural, group: kind.group) {
                return [.error("cannot read \(read.displayName): \(outcome.shortText)", remediation: ClusterAccessCheck.grant(verb: "list", read: read))]
            }
        }
        let familyName = family == .azure ? "Azure" : family == .gcp ? "GCP" : "AWS"
        let expected = Self.sources(for: subject.method)
        let configs = context.snapshot.providerConfigs.filter { $0.api.family == family }.sorted { $0.displayName < $1.displayName }
        let mismatched = Self.unserved(in: context).filter { $0.api.family == family }.sorted { $0.displayName < $1.displayName }
        let matching = configs.filter { expected.contains($0.source ?? "Secret") }
        if !mismatched.isEmpty {
            let list = mismatched.map { "\($0.displayName) has source \($0.source ?? "Secret")" }.joined(separator: "; ")
            return [
                .fail(
                    "\(list), but no \(familyName) provider here authenticates that way: \(subject.id) uses \(subject.method.rawValue) (\(subject.methodEvidence))",
                    evidence: ["expected": expected.joined(separator: "|")],
                    remediation: Remediation("set credentials.source to \(expected[0])", commands: mismatched.map { Commands.setSource($0, source: expected[0]) }),
                    fixable: true)
            ]
        }
        if matching.isEmpty {
            let have = configs.isEmpty ? "no \(familyName) ProviderConfig or ClusterProviderConfig exists" : "none of \(configs.map(\.displayName).joined(separator: ", ")) uses \(expected[0])"
            if family == .gcp {
                return [.fail(
                    "\(have): managed resources of \(subject.id) have no workload identity credentials",
                    evidence: ["expected": expected.joined(separator: "|")],
                    remediation: Remediation(
                        "create a ProviderConfig with credentials.source InjectedIdentity and spec.projectID (the project ID, not its number)",
                        commands: [Commands.list("providerconfigs.gcp.upbound.io")]))]
            }
            if family == .azure {
                return [.fail(
                    "\(have): managed resources of \(subject.id) have no workload identity credentials",
                    evidence: ["expected": expected.joined(separator: "|")],
                    remediation: Remediation(
                        "create a ProviderConfig with credentials.source OIDCTokenFile and spec.clientID, spec.tenantID, spec.subscriptionID",
                        commands: [Commands.list("providerconfigs.azure.upbound.io")]))]
            }
            return [
                .fail(
                    "\(have): managed resources of \(subject.id) have no \(subject.method.rawValue) credentials",
                    evidence: ["expected": expected.joined(separator: "|")],
                    remediation: Remediation(
                        "create the default ClusterProviderConfig (namespaced MRs default to it; legacy MRs use aws.upbound.io ProviderConfig default)",
                        commands: [Commands.apply(Patches.clusterProviderConfig(source: expected[0]))]))
            ]
        }
        if family == .gcp {
            // provider-upjet-gcp: projectID is the project ID (not its number); an ImpersonateServiceAccount
            // without a name silently falls back to the pod's own identity.
            var warnings: [String] = []
            for pc in matching {
                if let id = pc.projectID, id.allSatisfy(\.isNumber) { warnings.append("\(pc.displayName) spec.projectID \(id) is a project number; the provider wants the project ID") }
                if pc.projectID == nil { warnings.append("\(pc.displayName) has no spec.projectID (required)") }
                if pc.source == "ImpersonateServiceAccount" && pc.impersonateServiceAccount == nil {
                    warnings.append("\(pc.displayName) uses ImpersonateServiceAccount without credentials.impersonateServiceAccount.name: the provider silently uses its own identity")
                }
            }
            if !warnings.isEmpty {
                return [.warn(warnings.joined(separator: "; "), evidence: ["expected": expected.joined(separator: "|")],
                    remediation: Remediation("set spec.projectID to the project ID (and the GSA to impersonate)", commands: matching.map { Commands.getYAML("\($0.api.plural).\($0.api.group)", $0.metadata.name, namespace: $0.metadata.namespace) }))]
            }
        }
        return [.pass(matching.map { "\($0.displayName) uses credentials.source \($0.source ?? "Secret")" }.joined(separator: "; "))]
    }
}
