import Foundation
import Testing
import XpidCore

private let issuer = "oidc.eks.us-east-2.amazonaws.com/id/ABC"
private let provider = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/ABC"
private let otherIssuer = "oidc.eks.us-east-2.amazonaws.com/id/OTHER"
private let otherProvider = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/OTHER"
private let crossplane = "system:serviceaccount:crossplane-system:crossplane"
private let revisionSA = "system:serviceaccount:crossplane-system:provider-aws-s3-92206523fff4"
private let contribSA = "system:serviceaccount:crossplane-system:crossplane-contrib-provider-aws-s3-1a2b3c4d5e6f"
private let familySA = "system:serviceaccount:crossplane-system:upbound-provider-family-aws-7c3d2e1f0a9b"
private let upjetPattern = "system:serviceaccount:crossplane-system:provider-aws-*"

private func trust(_ effect: String = "Allow", principal: JSONValue = ["Federated": .string(provider)],
                   action: JSONValue = "sts:AssumeRoleWithWebIdentity", condition: JSONValue? = nil) -> JSONValue {
    var s: [String: JSONValue] = ["Effect": .string(effect), "Principal": principal, "Action": action]
    if let condition { s["Condition"] = condition }
    return .object(s)
}

private func doc(_ statements: JSONValue...) -> JSONValue { ["Version": "2012-10-17", "Statement": .array(statements)] }

/// Seed 000's trust policy: StringEquals on sub and aud.
private func seedTrust(sub: String = crossplane, aud: String = "sts.amazonaws.com") -> JSONValue {
    trust(condition: ["StringEquals": [issuer + ":sub": .string(sub), issuer + ":aud": .string(aud)]])
}

/// provider-upjet-aws docs: StringLike on sub, no aud.
private let upjetTrust = trust(condition: ["StringLike": [issuer + ":sub": .string(upjetPattern)]])

private let podIdentityStatement: JSONValue = ["Sid": "PodIdentity", "Effect": "Allow", "Principal": ["Service": "pods.eks.amazonaws.com"], "Action": ["sts:AssumeRole", "sts:TagSession"]]

private typealias Sub = WebIdentityTrustResult.SubCondition

struct TrustCase: Sendable, CustomTestStringConvertible {
    var name: String
    var policy: JSONValue
    var subject = crossplane
    var audience = "sts.amazonaws.com"
    var issuerHostPath = issuer
    var allowed: Bool
    var granting: Int? = nil
    var deniedBy: Int? = nil
    var problems: [String] = []
    var notes: [String] = []
    var subs: [WebIdentityTrustResult.SubCondition]? = nil
    var testDescription: String { name }
}

@Suite("WebIdentityTrust")
struct WebIdentityTrustTests {
    static let cases: [TrustCase] = [
        // Seed 000.
        TrustCase(name: "seed 000: StringEquals sub + aud for crossplane-system:crossplane", policy: doc(seedTrust()), allowed: true, granting: 0,
                  subs: [Sub(operator: "StringEquals", value: crossplane)]),
        TrustCase(name: "wrong namespace", policy: doc(seedTrust(sub: "system:serviceaccount:default:crossplane")), allowed: false,
                  problems: ["statement 1: sub system:serviceaccount:crossplane-system:crossplane does not match StringEquals system:serviceaccount:default:crossplane"],
                  subs: [Sub(operator: "StringEquals", value: "system:serviceaccount:default:crossplane")]),
        TrustCase(name: "wrong aud sts.amazon.com", policy: doc(seedTrust(aud: "sts.amazon.com")), allowed: false,
                  problems: ["statement 1: aud sts.amazonaws.com does not match StringEquals sts.amazon.com"]),
        TrustCase(name: "wrong sub and wrong aud: both reported, sub first", policy: doc(seedTrust(sub: "system:serviceaccount:default:x", aud: "sts.amazon.com")), allowed: false,
                  problems: ["statement 1: sub system:serviceaccount:crossplane-system:crossplane does not match StringEquals system:serviceaccount:default:x",
                             "statement 1: aud sts.amazonaws.com does not match StringEquals sts.amazon.com"]),
        TrustCase(name: "a custom audience from the SA annotation must be in the policy", policy: doc(seedTrust()), audience: "my-audience", allowed: false,
                  problems: ["statement 1: aud my-audience does not match StringEquals sts.amazonaws.com"]),
        TrustCase(name: "missing aud condition is allowed", policy: doc(trust(condition: ["StringEquals": [issuer + ":sub": .string(crossplane)]])), allowed: true, granting: 0),

        // Upjet docs' StringLike wildcard.
        TrustCase(name: "upjet StringLike provider-aws-* matches the revision SA", policy: doc(upjetTrust), subject: revisionSA, allowed: true, granting: 0,
                  subs: [Sub(operator: "StringLike", value: upjetPattern)]),
        TrustCase(name: "upjet StringLike does not match crossplane-contrib-provider-aws-s3-…", policy: doc(upjetTrust), subject: contribSA, allowed: false,
                  problems: ["statement 1: sub \(contribSA) does not match StringLike \(upjetPattern)"]),
        TrustCase(name: "upjet StringLike does not match upbound-provider-family-aws-…", policy: doc(upjetTrust), subject: familySA, allowed: false,
                  problems: ["statement 1: sub \(familySA) does not match StringLike \(upjetPattern)"]),
        TrustCase(name: "StringEquals does not expand wildcards", policy: doc(trust(condition: ["StringEquals": [issuer + ":sub": .string(upjetPattern)]])), subject: revisionSA, allowed: false,
                  problems: ["statement 1: sub \(revisionSA) does not match StringEquals \(upjetPattern)"]),
        TrustCase(name: "? matches exactly one character", policy: doc(trust(condition: ["StringLike": [issuer + ":sub": "system:serviceaccount:crossplane-system:provider-aws-s3-????????????"]])),
                  subject: revisionSA, allowed: true, granting: 0),
        TrustCase(name: "? does not match a missing character", policy: doc(trust(condition: ["StringLike": [issuer + ":sub": "system:serviceaccount:crossplane-system:provider-aws-s3-?????????????"]])),
                  subject: revisionSA, allowed: false,
                  problems: ["statement 1: sub \(revisionSA) does not match StringLike system:serviceaccount:crossplane-system:provider-aws-s3-?????????????"]),
        TrustCase(name: "StringLike on sub is case-sensitive", policy: doc(trust(condition: ["StringLike": [issuer + ":sub": "system:serviceaccount:Crossplane-system:*"]])), allowed: false,
                  problems: ["statement 1: sub \(crossplane) does not match StringLike system:serviceaccount:Crossplane-system:*"]),
        TrustCase(name: "a value array: any value may match", policy: doc(trust(condition: ["StringEquals": [issuer + ":sub": ["system:serviceaccount:default:x", .string(crossplane)]]])),
                  allowed: true, granting: 0,
                  subs: [Sub(operator: "StringEquals", value: "system:serviceaccount:default:x"), Sub(operator: "StringEquals", value: crossplane)]),
        TrustCase(name: "a value array with no match names all values", policy: doc(trust(condition: ["StringEquals": [issuer + ":sub": ["system:serviceaccount:a:x", "system:serviceaccount:b:x"]]])),
                  allowed: false,
                  problems: ["statement 1: sub \(crossplane) does not match StringEquals system:serviceaccount:a:x or system:serviceaccount:b:x"]),

        // Several statements, Deny.
        TrustCase(name: "multiple statements, the second grants", policy: doc(seedTrust(sub: "system:serviceaccount:default:crossplane"), seedTrust()), allowed: true, granting: 1,
                  problems: ["statement 1: sub system:serviceaccount:crossplane-system:crossplane does not match StringEquals system:serviceaccount:default:crossplane"],
                  subs: [Sub(operator: "StringEquals", value: "system:serviceaccount:default:crossplane"), Sub(operator: "StringEquals", value: crossplane)]),
        TrustCase(name: "Deny wins", policy: doc(seedTrust(), trust("Deny", condition: ["StringEquals": [issuer + ":sub": .string(crossplane)]])), allowed: false, granting: 0, deniedBy: 1,
                  problems: ["statement 2 denies sts:AssumeRoleWithWebIdentity to \(crossplane)"]),
        TrustCase(name: "an unconditional Deny for every principal wins", policy: doc(seedTrust(), trust("Deny", principal: "*", action: "sts:*")), allowed: false, granting: 0, deniedBy: 1,
                  problems: ["statement 2 denies sts:AssumeRoleWithWebIdentity to \(crossplane)"]),
        TrustCase(name: "a Deny whose condition does not hold does not apply",
                  policy: doc(seedTrust(), trust("Deny", condition: ["StringNotLike": [issuer + ":sub": "system:serviceaccount:crossplane-system:*"]])), allowed: true, granting: 0),
        TrustCase(name: "a Deny depending on an unevaluated key is noted, not counted",
                  policy: doc(seedTrust(), trust("Deny", condition: ["NotIpAddress": ["aws:SourceIp": "10.0.0.0/8"]])), allowed: true, granting: 0,
                  notes: ["statement 2: Deny depends on aws:SourceIp, which is not evaluated; it may still block"]),
        TrustCase(name: "a Deny for another provider does not apply", policy: doc(seedTrust(), trust("Deny", principal: ["Federated": .string(otherProvider)])), allowed: true, granting: 0),

        // Operators.
        TrustCase(name: "ForAnyValue:StringLike on aud", policy: doc(trust(condition: ["StringEquals": [issuer + ":sub": .string(crossplane)], "ForAnyValue:StringLike": [issuer + ":aud": "sts.*"]])),
                  allowed: true, granting: 0),
        TrustCase(name: "ForAnyValue:StringLike on aud that does not match", policy: doc(trust(condition: ["ForAnyValue:StringLike": [issuer + ":aud": ["other.*", "x"]]])),
                  allowed: false, problems: ["statement 1: aud sts.amazonaws.com does not match ForAnyValue:StringLike other.* or x"]),
        TrustCase(name: "StringLikeIfExists on sub", policy: doc(trust(condition: ["StringLikeIfExists": [issuer + ":sub": "system:serviceaccount:crossplane-system:*"]])),
                  allowed: true, granting: 0, subs: [Sub(operator: "StringLikeIfExists", value: "system:serviceaccount:crossplane-system:*")]),
        TrustCase(name: "StringEqualsIfExists on sub that does not match", policy: doc(trust(condition: ["StringEqualsIfExists": [issuer + ":sub": "system:serviceaccount:default:x"]])),
                  allowed: false, problems: ["statement 1: sub \(crossplane) does not match StringEqualsIfExists system:serviceaccount:default:x"]),
        TrustCase(name: "StringEqualsIgnoreCase", policy: doc(trust(condition: ["StringEqualsIgnoreCase": [issuer + ":sub": "SYSTEM:ServiceAccount:CROSSPLANE-SYSTEM:crossplane"]])),
                  allowed: true, granting: 0),
        TrustCase(name: "StringNotEquals excluding this SA", policy: doc(trust(condition: ["StringNotEquals": [issuer + ":sub": .string(crossplane)]])), allowed: false,
                  problems: ["statement 1: sub \(crossplane) is excluded by StringNotEquals \(crossplane)"]),
        TrustCase(name: "Null false on sub holds", policy: doc(trust(condition: ["Null": [issuer + ":sub": "false"], "StringEquals": [issuer + ":sub": .string(crossplane)]])),
                  allowed: true, granting: 0),
        TrustCase(name: "an operator that is not evaluated on sub is noted", policy: doc(trust(condition: ["ArnLike": [issuer + ":sub": "x"]])),
                  allowed: true, granting: 0, notes: ["statement 1: condition on ArnLike \(issuer):sub is not evaluated"]),

        // Condition keys.
        TrustCase(name: "condition keys compare case-insensitively", policy: doc(trust(condition: ["StringEquals": [issuer.uppercased() + ":SUB": .string(crossplane), issuer + ":Aud": "sts.amazonaws.com"]])),
                  allowed: true, granting: 0, subs: [Sub(operator: "StringEquals", value: crossplane)]),
        TrustCase(name: "condition values stay case-sensitive", policy: doc(trust(condition: ["StringEquals": [issuer.uppercased() + ":SUB": "SYSTEM:SERVICEACCOUNT:CROSSPLANE-SYSTEM:CROSSPLANE"]])),
                  allowed: false, problems: ["statement 1: sub \(crossplane) does not match StringEquals SYSTEM:SERVICEACCOUNT:CROSSPLANE-SYSTEM:CROSSPLANE"]),
        TrustCase(name: "a key for another cluster's issuer", policy: doc(trust(condition: ["StringEquals": [otherIssuer + ":sub": .string(crossplane)]])), allowed: false,
                  problems: ["statement 1: condition key \(otherIssuer):sub is for another OIDC issuer, not this cluster's \(issuer)"], subs: []),
        TrustCase(name: "aws:SourceIp is noted and assumed to hold", policy: doc(trust(condition: ["StringEquals": [issuer + ":sub": .string(crossplane)], "IpAddress": ["aws:SourceIp": "10.0.0.0/8"]])),
                  allowed: true, granting: 0, notes: ["statement 1: condition on aws:SourceIp is not evaluated"]),
        TrustCase(name: "the issuer's amr claim is noted", policy: doc(trust(condition: ["StringEquals": [issuer + ":sub": .string(crossplane), issuer + ":amr": "x"]])),
                  allowed: true, granting: 0, notes: ["statement 1: condition on \(issuer):amr is not evaluated"]),
        TrustCase(name: "no :sub condition is a note", policy: doc(trust(condition: ["StringEquals": [issuer + ":aud": "sts.amazonaws.com"]])), allowed: true, granting: 0,
                  notes: ["statement 1: no :sub condition: any ServiceAccount in the cluster may assume the role"], subs: []),
        TrustCase(name: "no Condition at all is a note", policy: doc(trust()), allowed: true, granting: 0,
                  notes: ["statement 1: no :sub condition: any ServiceAccount in the cluster may assume the role"]),
        TrustCase(name: "an issuer given as a URL with a trailing slash", policy: doc(seedTrust()), issuerHostPath: "https://\(issuer)/", allowed: true, granting: 0),

        // Principals and actions.
        TrustCase(name: "Federated principal of another cluster", policy: doc(trust(principal: ["Federated": .string(otherProvider)], condition: ["StringEquals": [otherIssuer + ":sub": .string(crossplane)]])),
                  allowed: false, problems: ["statement 1: Federated principal \(otherProvider) is not this cluster's OIDC provider \(provider)"], subs: []),
        TrustCase(name: "Federated array containing this provider", policy: doc(trust(principal: ["Federated": [.string(otherProvider), .string(provider)]], condition: ["StringEquals": [issuer + ":sub": .string(crossplane)]])),
                  allowed: true, granting: 0),
        TrustCase(name: "Principal \"*\"", policy: doc(trust(principal: "*", condition: ["StringEquals": [issuer + ":sub": .string(crossplane)]])), allowed: true, granting: 0,
                  notes: ["statement 1: Principal \"*\" is not limited to this cluster's OIDC provider"]),
        TrustCase(name: "no Federated principal", policy: doc(trust(principal: ["AWS": "arn:aws:iam::123456789012:root"])), allowed: false,
                  problems: ["statement 1 allows sts:AssumeRoleWithWebIdentity but has no Federated principal; it needs \(provider)"]),
        TrustCase(name: "Action array", policy: doc(trust(action: ["sts:TagSession", "sts:AssumeRoleWithWebIdentity"], condition: ["StringEquals": [issuer + ":sub": .string(crossplane)]])),
                  allowed: true, granting: 0),
        TrustCase(name: "Action sts:*", policy: doc(trust(action: "sts:*", condition: ["StringEquals": [issuer + ":sub": .string(crossplane)]])), allowed: true, granting: 0),
        TrustCase(name: "Action in other case", policy: doc(trust(action: "STS:assumerolewithwebidentity", condition: ["StringEquals": [issuer + ":sub": .string(crossplane)]])), allowed: true, granting: 0),
        TrustCase(name: "only sts:AssumeRole", policy: doc(trust(action: "sts:AssumeRole", condition: ["StringEquals": [issuer + ":sub": .string(crossplane)]])), allowed: false,
                  problems: ["statement 1 allows sts:AssumeRole, not sts:AssumeRoleWithWebIdentity"], subs: []),
        TrustCase(name: "only a Pod Identity statement", policy: doc(podIdentityStatement), allowed: false,
                  problems: ["no statement allows sts:AssumeRoleWithWebIdentity for \(provider)"]),
        TrustCase(name: "Pod Identity statement next to the IRSA one", policy: doc(podIdentityStatement, seedTrust()), allowed: true, granting: 1),
        TrustCase(name: "Statement as a single object", policy: ["Version": "2012-10-17", "Statement": seedTrust()], allowed: true, granting: 0),
        TrustCase(name: "no statements", policy: doc(), allowed: false, problems: ["the trust policy has no statements"]),
        TrustCase(name: "no Statement key", policy: ["Version": "2012-10-17"], allowed: false, problems: ["the trust policy has no statements"]),
    ]

    @Test("evaluate", arguments: cases)
    func evaluate(_ c: TrustCase) {
        let query = WebIdentityTrustQuery(providerARN: provider, issuerHostPath: c.issuerHostPath, subject: c.subject, audience: c.audience)
        let result = WebIdentityTrust.evaluate(c.policy, query)
        #expect(result.allowed == c.allowed)
        #expect(result.grantingStatement == c.granting)
        #expect(result.deniedBy == c.deniedBy)
        #expect(result.problems == c.problems)
        #expect(result.notes == c.notes)
        if let subs = c.subs { #expect(result.subConditions == subs) }
    }

    @Test("the audience defaults to sts.amazonaws.com")
    func defaultAudience() {
        #expect(WebIdentityTrustQuery(providerARN: provider, issuerHostPath: issuer, subject: crossplane).audience == "sts.amazonaws.com")
    }

    static func query(_ subject: String = crossplane, audience: String = "sts.amazonaws.com") -> WebIdentityTrustQuery {
        WebIdentityTrustQuery(providerARN: provider, issuerHostPath: issuer, subject: subject, audience: audience)
    }

    @Test("corrected: replaces the wrong statement in place, keeps the Pod Identity statement, and then allows")
    func correctedKeepsOthers() {
        var wrong = seedTrust(sub: "system:serviceaccount:default:crossplane").object
        wrong["Sid"] = "IRSA"
        let original: JSONValue = ["Version": "2012-10-17", "Id": "keep-me", "Statement": [.object(wrong), podIdentityStatement]]
        #expect(!WebIdentityTrust.evaluate(original, Self.query()).allowed)

        let fixed = WebIdentityTrust.corrected(original, providerARN: provider, issuerHostPath: issuer, subjectPattern: crossplane, audience: "sts.amazonaws.com")
        #expect(fixed == [
            "Version": "2012-10-17", "Id": "keep-me",
            "Statement": [
                ["Sid": "IRSA", "Effect": "Allow", "Principal": ["Federated": .string(provider)], "Action": "sts:AssumeRoleWithWebIdentity",
                 "Condition": ["StringEquals": [issuer + ":sub": .string(crossplane), issuer + ":aud": "sts.amazonaws.com"]]],
                podIdentityStatement,
            ],
        ])
        let result = WebIdentityTrust.evaluate(fixed, Self.query())
        #expect(result.allowed && result.problems.isEmpty && result.notes.isEmpty)
    }

    @Test("corrected: a wildcard subject uses StringLike on sub and StringEquals on aud")
    func correctedWildcard() {
        let fixed = WebIdentityTrust.corrected(doc(seedTrust()), providerARN: provider, issuerHostPath: issuer, subjectPattern: upjetPattern, audience: "sts.amazonaws.com")
        #expect(fixed["Statement"][0]["Condition"] == ["StringLike": [issuer + ":sub": .string(upjetPattern)], "StringEquals": [issuer + ":aud": "sts.amazonaws.com"]])
        #expect(WebIdentityTrust.evaluate(fixed, Self.query(revisionSA)).allowed)
        #expect(!WebIdentityTrust.evaluate(fixed, Self.query(contribSA)).allowed)
        let question = WebIdentityTrust.corrected(doc(), providerARN: provider, issuerHostPath: issuer, subjectPattern: "system:serviceaccount:ns:sa-?", audience: "sts.amazonaws.com")
        #expect(question["Statement"][0]["Condition"]["StringLike"] == [issuer + ":sub": "system:serviceaccount:ns:sa-?"])
    }

    @Test("corrected: appends when no statement is for the provider; other clusters' statements and Denies are kept")
    func correctedAppends() {
        let otherCluster = trust(principal: ["Federated": .string(otherProvider)], condition: ["StringEquals": [otherIssuer + ":sub": .string(crossplane)]])
        let deny = trust("Deny", principal: ["Federated": .string(provider)], condition: ["StringEquals": [issuer + ":sub": "system:serviceaccount:default:x"]])
        let original: JSONValue = ["Statement": otherCluster]
        let fixed = WebIdentityTrust.corrected(original, providerARN: provider, issuerHostPath: "https://\(issuer)/", subjectPattern: crossplane, audience: "my-audience")
        #expect(fixed["Version"] == "2012-10-17")
        #expect(fixed["Statement"].array.count == 2)
        #expect(fixed["Statement"][0] == otherCluster)
        #expect(fixed["Statement"][1]["Condition"] == ["StringEquals": [issuer + ":sub": .string(crossplane), issuer + ":aud": "my-audience"]])
        #expect(WebIdentityTrust.evaluate(fixed, Self.query(audience: "my-audience")).allowed)

        let withDeny = WebIdentityTrust.corrected(doc(deny, seedTrust(sub: "x")), providerARN: provider, issuerHostPath: issuer, subjectPattern: crossplane, audience: "sts.amazonaws.com")
        #expect(withDeny["Statement"][0] == deny)
        #expect(withDeny["Statement"].array.count == 2)
        #expect(WebIdentityTrust.evaluate(withDeny, Self.query()).allowed)
    }

    @Test("corrected: a statement shared with another provider keeps that provider; duplicates for this one collapse")
    func correctedShared() {
        let shared = trust(principal: ["Federated": [.string(otherProvider), .string(provider)]])
        let fixed = WebIdentityTrust.corrected(doc(shared, seedTrust(sub: "a"), seedTrust(sub: "b")), providerARN: provider, issuerHostPath: issuer, subjectPattern: crossplane, audience: "sts.amazonaws.com")
        let statements = fixed["Statement"].array
        #expect(statements.count == 2)
        #expect(statements[0]["Principal"] == ["Federated": .string(provider)])
        #expect(statements[1]["Principal"] == ["Federated": .string(otherProvider)])
        let result = WebIdentityTrust.evaluate(fixed, Self.query())
        #expect(result.allowed && result.grantingStatement == 0)
    }

    @Test("corrected: an empty or null policy becomes a fresh one; correcting twice changes nothing more")
    func correctedFreshAndIdempotent() {
        let expected: JSONValue = ["Version": "2012-10-17", "Statement": [
            ["Effect": "Allow", "Principal": ["Federated": .string(provider)], "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": ["StringEquals": [issuer + ":sub": .string(crossplane), issuer + ":aud": "sts.amazonaws.com"]]],
        ]]
        for empty: JSONValue in [nil, [:], doc()] {
            #expect(WebIdentityTrust.corrected(empty, providerARN: provider, issuerHostPath: issuer, subjectPattern: crossplane, audience: "sts.amazonaws.com") == expected)
        }
        let once = WebIdentityTrust.corrected(doc(podIdentityStatement, upjetTrust), providerARN: provider, issuerHostPath: issuer, subjectPattern: upjetPattern, audience: "sts.amazonaws.com")
        let twice = WebIdentityTrust.corrected(once, providerARN: provider, issuerHostPath: issuer, subjectPattern: upjetPattern, audience: "sts.amazonaws.com")
        #expect(once == twice)
        let noAudience = WebIdentityTrust.corrected(nil, providerARN: provider, issuerHostPath: issuer, subjectPattern: crossplane, audience: "")
        #expect(noAudience["Statement"][0]["Condition"] == ["StringEquals": [issuer + ":sub": .string(crossplane)]])
    }
}
