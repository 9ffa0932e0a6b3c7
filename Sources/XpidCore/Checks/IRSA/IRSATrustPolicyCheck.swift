import Foundation

public struct IRSATrustPolicyCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "irsa.trust-policy",
        title: "Role trusts this ServiceAccount",
        summary: "The annotated role exists and a trust statement allows `sts:AssumeRoleWithWebIdentity` for `Federated` = this cluster's OIDC provider, with `:sub` matching `system:serviceaccount:NS:SA` (StringEquals, or a StringLike wildcard that matches) and `:aud` (if present) matching the audience.",
        rationale: "STS checks the token's issuer, subject and audience against the trust policy; a wrong namespace, a wildcard that does not match the revision-hashed name, or `sts.amazon.com` for `sts.amazonaws.com` gives AccessDenied on AssumeRoleWithWebIdentity.",
        remediation: "`aws iam update-assume-role-policy` with the corrected document the report prints.",
        mechanism: .irsa, scope: .subject, cloud: true, dependsOn: ["irsa.sa-annotation", "eks.oidc-provider"],
        reads: [.serviceAccounts],
        passing: [
            CheckExample("StringEquals for the core SA", subject: "crossplane-core/crossplane", expect: .pass) { Examples.irsaSeed() },
            CheckExample("provider-aws-* wildcard for provider-aws-s3", subject: "provider/provider-aws-s3", expect: .pass) { Examples.irsaSeed() },
            CheckExample("cross-account role trusts that account's OIDC provider for the issuer", subject: "crossplane-core/crossplane", expect: .pass) {
                var s = Examples.irsaSeed()
                let role = "arn:aws:iam::111122223333:role/CrossplaneECRRole"
                s.updateServiceAccount(namespace: Examples.namespace, name: "crossplane") { $0.metadata.annotations[IRSAFacts.roleAnnotation] = role }
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) { $0.spec.containers[0].env = Examples.irsaEnv(role: role) }
                let trust = Examples.irsaTrust(subject: "system:serviceaccount:crossplane-system:crossplane").compactText()
                    .replacingOccurrences(of: "arn:aws:iam::123456789012:oidc-provider", with: "arn:aws:iam::111122223333:oidc-provider")
                s.aws.roles[role] = .value(IAMRole(name: "CrossplaneECRRole", arn: role, trustPolicy: (try? JSONValue.parse(trust)) ?? .null))
                return s
            },
        ],
        failing: [
            CheckExample("sub with the wrong namespace", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.irsaSeed()
                s.aws.roles[Examples.coreRole] = .value(IAMRole(name: "CrossplaneECRRole", arn: Examples.coreRole, trustPolicy: Examples.irsaTrust(subject: "system:serviceaccount:default:crossplane")))
                return s
            },
            CheckExample("provider-aws-* does not match a Provider named upbound-provider-aws-s3", subject: "provider/upbound-provider-aws-s3", expect: .fail) {
                Examples.irsaSeed(providerName: "upbound-provider-aws-s3")
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .irsa }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let roleArn = subject.serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation],
            let sa = subject.serviceAccountName
        else { return [.skip("no role annotation on the ServiceAccount")] }
        guard let cluster = context.snapshot.aws.cluster.value, let host = cluster.issuerHostPath, let clusterProvider = cluster.oidcProviderARN else {
            return [context.snapshot.aws.cluster.unavailableResult(what: "EKS cluster \(context.clusterLabel) (its OIDC issuer)") ?? .error("the cluster has no OIDC issuer")]
        }
        // A role in another account trusts the OIDC provider created in that account for this issuer.
        let provider = Self.providerARN(clusterProvider, forRole: roleArn)
        let name = ARN(roleArn)?.roleName ?? roleArn
        let audience = subject.serviceAccount?.metadata.annotations[IRSAFacts.audienceAnnotation] ?? IRSAFacts.defaultAudience
        let subjectName = "system:serviceaccount:\(subject.namespace):\(sa)"
        let pattern = Self.recommendedPattern(subject)
        switch context.snapshot.aws.roles[roleArn] {
        case .value(let role):
            let result = WebIdentityTrust.evaluate(role.trustPolicy, WebIdentityTrustQuery(providerARN: provider, issuerHostPath: host, subject: subjectName, audience: audience))
            var evidence = ["roleArn": roleArn, "subject": subjectName, "audience": audience]
            if !result.notes.isEmpty { evidence["notes"] = result.notes.joined(separator: "; ") }
            if result.allowed {
                return [.pass("role \(role.name) trusts \(subjectName) (audience \(audience)) from this cluster's OIDC provider", evidence: evidence)]
            }
            var why = result.problems.joined(separator: "; ")
            if let pitfall = Self.wildcardPitfall(result, saName: sa, subject: subject) { why += "; " + pitfall }
            evidence["trustPolicy"] = role.trustPolicy.compactText()
            let (fixed, how) = Self.fixedTrust(role, for: subject, pattern: pattern, provider: provider, host: host, audience: audience, in: context)
            return [
                .fail(
                    "role \(role.name) does not let \(subjectName) assume it: \(why)", evidence: evidence,
                    remediation: Remediation(
                        "update the trust policy (\(how))" + (pattern.contains("*") ? "; the SA name is revision-hashed, so the subject is a wildcard on the Provider name" : ""),
                        commands: [Commands.updateTrust(roleName: role.name, document: fixed)]))
            ]
        case .notFound(let message):
            let doc = WebIdentityTrust.corrected(["Version": "2012-10-17", "Statement": []], providerARN: provider, issuerHostPath: host, subjectPattern: pattern, audience: audience)
            return [
                .fail(
                    "role \(name) named by the ServiceAccount annotation does not exist (\(message))", evidence: ["roleArn": roleArn],
                    remediation: Remediation("create it with an IRSA trust policy (or fix the annotation)", commands: [Commands.createRole(roleName: name, trust: doc)]))
            ]
        case .some(let other):
            return [other.unavailableResult(what: "role \(name)") ?? .skip("")]
        case .none:
            return [.error("role \(roleArn) was not read")]
        }
    }

    /// The corrected trust document: every existing statement stays and one statement is added for this
    /// subject. A role's trust can serve workloads this tool does not see (other namespaces, other
    /// clusters, a `provider-aws-*` wildcard shared by several providers); narrowing or replacing a
    /// statement would silently revoke their access.
    static func fixedTrust(
        _ role: IAMRole, for subject: Subject, pattern: String, provider: String, host: String, audience: String, in context: EvaluationContext
    ) -> (JSONValue, String) {
        let sharers = (context.index.irsaByRole[role.arn] ?? []).filter { other in
            guard other.id != subject.id, let sa = other.serviceAccountName else { return false }
            let otherAudience = other.serviceAccount?.metadata.annotations[IRSAFacts.audienceAnnotation] ?? IRSAFacts.defaultAudience
            return WebIdentityTrust.evaluate(role.trustPolicy, WebIdentityTrustQuery(
                providerARN: provider, issuerHostPath: host, subject: "system:serviceaccount:\(other.namespace):\(sa)", audience: otherAudience)).allowed
        }
        let added = WebIdentityTrust.corrected(["Version": "2012-10-17", "Statement": []], providerARN: provider, issuerHostPath: host, subjectPattern: pattern, audience: audience)["Statement"].array
        var statements = role.trustPolicy["Statement"].array
        if statements.isEmpty, role.trustPolicy["Statement"] != .null { statements = [role.trustPolicy["Statement"]] }
        var document = role.trustPolicy.object
        document["Version"] = role.trustPolicy["Version"].string.map(JSONValue.string) ?? "2012-10-17"
        document["Statement"] = .array(statements + added)
        let shared = sharers.isEmpty ? "" : "the role is shared with \(sharers.map(\.id).joined(separator: ", ")): "
        return (.object(document), shared + "existing statements kept, one added for \(pattern)")
    }

    static func providerARN(_ clusterProvider: String, forRole roleArn: String) -> String {
        guard let role = ARN(roleArn), let provider = ARN(clusterProvider), role.account != provider.account else { return clusterProvider }
        return "arn:\(provider.partition):iam::\(role.account):\(provider.resource)"
    }

    /// Exact subject for stable names; for a revision-hashed ServiceAccount, a wildcard on the Provider's
    /// object name (which is what the revision and the SA are named after).
    static func recommendedPattern(_ subject: Subject) -> String {
        let sa = subject.serviceAccountName ?? subject.name
        if let revision = subject.revision, sa == revision {
            return "system:serviceaccount:\(subject.namespace):\(subject.name)-*"
        }
        return "system:serviceaccount:\(subject.namespace):\(sa)"
    }

    /// The upjet docs' `provider-aws-*` only matches Providers whose object name starts with `provider-aws-`.
    static func wildcardPitfall(_ result: WebIdentityTrustResult, saName: String, subject: Subject) -> String? {
        guard let like = result.subConditions.first(where: { $0.operator.contains("Like") && $0.value.hasSuffix(":provider-aws-*") }),
            !saName.hasPrefix("provider-aws-")
        else { return nil }
        return "\(like.value) only matches Providers whose object name starts with provider-aws- (revision and ServiceAccount names are built from the Provider's name, here \(subject.name))"
    }
}
