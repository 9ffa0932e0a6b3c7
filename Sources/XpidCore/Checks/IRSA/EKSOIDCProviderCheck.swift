import Foundation

public struct EKSOIDCProviderCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "eks.oidc-provider",
        title: "IAM OIDC provider for the cluster",
        summary: "An IAM OIDC provider exists for the cluster's issuer and lists the audience `sts.amazonaws.com` (checked when a subject uses IRSA).",
        rationale: "Without it STS cannot verify the projected tokens and every AssumeRoleWithWebIdentity fails with InvalidIdentityToken.",
        remediation: "`eksctl utils associate-iam-oidc-provider --cluster … --approve`, or `aws iam create-open-id-connect-provider --url <issuer> --client-id-list sts.amazonaws.com`.",
        mechanism: .irsa, scope: .cluster, cloud: true,
        passing: [CheckExample("provider with sts.amazonaws.com", expect: .pass) { Examples.irsaSeed() }],
        failing: [
            CheckExample("no OIDC provider for the issuer", expect: .fail) {
                var s = Examples.irsaSeed()
                s.aws.oidcProviders = .value([])
                s.aws.clusterOIDCProvider = .notFound("no IAM OIDC provider")
                return s
            },
            CheckExample("audience missing", expect: .fail) {
                var s = Examples.irsaSeed()
                s.aws.clusterOIDCProvider = .value(OIDCProvider(arn: Examples.oidcProviderARN, clientIDs: ["sts.amazon.com"]))
                return s
            },
        ])

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        let irsa = context.subjects.filter { $0.method == .irsa }
        guard !irsa.isEmpty else { return [.skip("no subject uses IRSA")] }
        guard let cluster = context.snapshot.aws.cluster.value else {
            return [context.snapshot.aws.cluster.unavailableResult(what: "EKS cluster \(context.clusterLabel)") ?? .skip("")]
        }
        guard let issuer = cluster.oidcIssuer, let arn = cluster.oidcProviderARN else {
            return [.fail("cluster \(cluster.name) reports no OIDC issuer", remediation: Remediation("inspect the cluster", commands: [Commands.describeClusterIdentity(context, name: cluster.name)]))]
        }
        let audiences = Set(irsa.map { $0.serviceAccount?.metadata.annotations[IRSAFacts.audienceAnnotation] ?? IRSAFacts.defaultAudience }).sorted()
        switch context.snapshot.aws.clusterOIDCProvider {
        case .value(let provider):
            let missing = audiences.filter { !provider.clientIDs.contains($0) }
            if missing.isEmpty {
                return [.pass("IAM OIDC provider \(arn) exists with audience \(audiences.joined(separator: ", "))", evidence: ["issuer": issuer])]
            }
            return [
                .fail(
                    "IAM OIDC provider \(arn) does not list audience \(missing.joined(separator: ", ")) (has \(provider.clientIDs.joined(separator: ", "))): STS rejects the tokens (InvalidIdentityToken)",
                    evidence: ["clientIDs": provider.clientIDs.joined(separator: ",")],
                    remediation: Remediation("add the audience", commands: missing.map { Commands.addClientID(providerARN: arn, clientID: $0) }))
            ]
        case .notFound:
            return [
                .fail(
                    "no IAM OIDC provider for issuer \(issuer): STS cannot verify ServiceAccount tokens (InvalidIdentityToken)",
                    evidence: ["issuer": issuer, "expectedArn": arn],
                    remediation: Remediation(
                        "create the OIDC provider for the cluster",
                        commands: [
                            Commands.associateOIDCProvider(context, name: cluster.name),
                            Commands.createOIDCProvider(issuer: issuer, clientIDs: audiences),
                        ]))
            ]
        case let other:
            return [other.unavailableResult(what: "IAM OIDC providers") ?? .skip("")]
        }
    }
}
