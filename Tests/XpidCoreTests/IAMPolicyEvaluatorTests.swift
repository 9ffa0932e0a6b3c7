import Foundation
import Testing
import XpidCore

struct PermissionCase: Sendable, CustomTestStringConvertible {
    var name: String
    var policies: [NamedPolicy]
    var request: PermissionRequest
    var decision: PermissionDecision
    var decidedBy: [String] = []
    var conditionalAllows: [String] = []
    var testDescription: String { name }
}

struct ECRImageCase: Sendable, CustomTestStringConvertible {
    var image: String
    var arn: String?
    var testDescription: String { "\(image) → \(arn ?? "nil")" }
}

private let account = "123456789012"
private let repositories = "arn:aws:ecr:eu-west-2:123456789012:repository/*"
private let s3Repository = "arn:aws:ecr:eu-west-2:123456789012:repository/crossplane/provider-aws-s3"
private let upboundS3Repository = "arn:aws:ecr:eu-west-2:123456789012:repository/upbound/provider-aws-s3"
private let attached = "CrossplaneECRPolicy (attached)"
private let inline = "inline-ecr (inline)"

private func statement(_ effect: String = "Allow", sid: String? = nil, action: JSONValue? = nil, notAction: JSONValue? = nil,
                       resource: JSONValue? = nil, notResource: JSONValue? = nil, condition: JSONValue? = nil) -> JSONValue {
    var s: [String: JSONValue] = ["Effect": .string(effect)]
    if let sid { s["Sid"] = .string(sid) }
    if let action { s["Action"] = action }
    if let notAction { s["NotAction"] = notAction }
    if let resource { s["Resource"] = resource }
    if let notResource { s["NotResource"] = notResource }
    if let condition { s["Condition"] = condition }
    return .object(s)
}

private func policy(_ name: String, _ statements: JSONValue...) -> NamedPolicy {
    NamedPolicy(name: name, document: ["Version": "2012-10-17", "Statement": .array(statements)])
}

/// The CrossplaneECRPolicy of seed 000, with REGION and ACCOUNT_ID filled in.
private let seedPolicy = policy(attached,
    statement(action: ["ecr:GetAuthorizationToken"], resource: "*"),
    statement(action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], resource: .string(repositories)))

private func pull(_ action: String, _ resource: String = s3Repository) -> PermissionRequest {
    PermissionRequest(action: action, resource: resource)
}

@Suite("IAMPolicyEvaluator")
struct IAMPolicyEvaluatorTests {
    static let cases: [PermissionCase] = [
        // Seed 000.
        PermissionCase(name: "seed 000: GetAuthorizationToken on *", policies: [seedPolicy],
                       request: pull("ecr:GetAuthorizationToken", "*"), decision: .allowed, decidedBy: [attached]),
        PermissionCase(name: "seed 000: BatchGetImage on repository/*", policies: [seedPolicy],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [attached]),
        PermissionCase(name: "seed 000: GetDownloadUrlForLayer on repository/*", policies: [seedPolicy],
                       request: pull("ecr:GetDownloadUrlForLayer"), decision: .allowed, decidedBy: [attached]),
        PermissionCase(name: "seed 000: BatchCheckLayerAvailability on repository/*", policies: [seedPolicy],
                       request: pull("ecr:BatchCheckLayerAvailability"), decision: .allowed, decidedBy: [attached]),
        PermissionCase(name: "seed 000: repository/* crosses '/' in a nested repository name", policies: [seedPolicy],
                       request: pull("ecr:BatchGetImage", "arn:aws:ecr:eu-west-2:123456789012:repository/a/b/c"), decision: .allowed, decidedBy: [attached]),
        PermissionCase(name: "seed 000: another account's repository is not covered", policies: [seedPolicy],
                       request: pull("ecr:BatchGetImage", "arn:aws:ecr:eu-west-2:210987654321:repository/crossplane/provider-aws-s3"), decision: .implicitDeny),
        PermissionCase(name: "seed 000: another region's repository is not covered", policies: [seedPolicy],
                       request: pull("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/crossplane/provider-aws-s3"), decision: .implicitDeny),
        PermissionCase(name: "seed 000: an action it does not name", policies: [seedPolicy],
                       request: pull("ecr:PutImage"), decision: .implicitDeny),

        // Missing actions, wildcards, case.
        PermissionCase(name: "missing ecr:BatchGetImage → implicitDeny for it",
                       policies: [policy(inline, statement(action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"], resource: .string(repositories)))],
                       request: pull("ecr:BatchGetImage"), decision: .implicitDeny),
        PermissionCase(name: "missing ecr:BatchGetImage → the others still allowed",
                       policies: [policy(inline, statement(action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"], resource: .string(repositories)))],
                       request: pull("ecr:GetDownloadUrlForLayer"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "ecr:* on *", policies: [policy(inline, statement(action: "ecr:*", resource: "*"))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "* on *", policies: [policy(inline, statement(action: "*", resource: "*"))],
                       request: pull("ecr:GetAuthorizationToken", "*"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "ecr:batchgetimage in lower case", policies: [policy(inline, statement(action: "ecr:batchgetimage", resource: .string(repositories)))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "ECR:BatchGet* in mixed case", policies: [policy(inline, statement(action: "ECR:BatchGet*", resource: .string(repositories)))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "? matches one character in an action", policies: [policy(inline, statement(action: "ecr:BatchGetImag?", resource: "*"))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "ecr:Get* does not cover BatchGetImage", policies: [policy(inline, statement(action: "ecr:Get*", resource: "*"))],
                       request: pull("ecr:BatchGetImage"), decision: .implicitDeny),
        PermissionCase(name: "s3:* does not cover ecr", policies: [policy(inline, statement(action: "s3:*", resource: "*"))],
                       request: pull("ecr:BatchGetImage"), decision: .implicitDeny),

        // Resources.
        PermissionCase(name: "exact repository ARN", policies: [policy(inline, statement(action: "ecr:BatchGetImage", resource: .string(s3Repository)))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "pitfall: ARN without repository/ does not match a real repository ARN",
                       policies: [policy(inline, statement(action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], resource: "arn:aws:ecr:eu-west-2:123456789012:upbound/provider-*"))],
                       request: pull("ecr:BatchGetImage", upboundS3Repository), decision: .implicitDeny),
        PermissionCase(name: "the same pattern with repository/ matches",
                       policies: [policy(inline, statement(action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], resource: "arn:aws:ecr:eu-west-2:123456789012:repository/upbound/provider-*"))],
                       request: pull("ecr:BatchGetImage", upboundS3Repository), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "resources are case-sensitive", policies: [policy(inline, statement(action: "ecr:*", resource: "arn:aws:ecr:eu-west-2:123456789012:repository/Crossplane/*"))],
                       request: pull("ecr:BatchGetImage"), decision: .implicitDeny),
        PermissionCase(name: "? matches one character in a resource", policies: [policy(inline, statement(action: "ecr:*", resource: "arn:aws:ecr:eu-west-?:123456789012:repository/*"))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "Resource array, the second matches", policies: [policy(inline, statement(action: "ecr:*", resource: ["arn:aws:ecr:eu-west-2:123456789012:repository/other", .string(s3Repository)]))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "a statement without Resource matches nothing", policies: [policy(inline, statement(action: "ecr:*"))],
                       request: pull("ecr:BatchGetImage"), decision: .implicitDeny),
        PermissionCase(name: "GetAuthorizationToken on a repository ARN does not cover the request on *",
                       policies: [policy(inline, statement(action: "ecr:GetAuthorizationToken", resource: .string(repositories)))],
                       request: pull("ecr:GetAuthorizationToken", "*"), decision: .implicitDeny),

        // Deny.
        PermissionCase(name: "Deny on the repository wins over Allow",
                       policies: [seedPolicy, policy("deny-s3 (inline)", statement("Deny", sid: "NoS3", action: "ecr:BatchGetImage", resource: .string(s3Repository)))],
                       request: pull("ecr:BatchGetImage"), decision: .explicitDeny, decidedBy: ["deny-s3 (inline)/NoS3"]),
        PermissionCase(name: "Deny on another repository does not apply",
                       policies: [seedPolicy, policy("deny-s3 (inline)", statement("Deny", action: "ecr:*", resource: "arn:aws:ecr:eu-west-2:123456789012:repository/private/*"))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [attached]),
        PermissionCase(name: "Deny in the same document wins",
                       policies: [policy(inline, statement(action: "ecr:*", resource: "*"), statement("Deny", action: "ecr:*", resource: "*"))],
                       request: pull("ecr:BatchGetImage"), decision: .explicitDeny, decidedBy: [inline]),
        PermissionCase(name: "Deny with a Condition is ignored",
                       policies: [seedPolicy, policy("deny (inline)", statement("Deny", action: "ecr:*", resource: "*", condition: ["Bool": ["aws:SecureTransport": "false"]]))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [attached]),
        PermissionCase(name: "Deny with NotAction denies what it does not name",
                       policies: [seedPolicy, policy("deny (inline)", statement("Deny", notAction: "ecr:GetAuthorizationToken", resource: "*"))],
                       request: pull("ecr:BatchGetImage"), decision: .explicitDeny, decidedBy: ["deny (inline)"]),
        PermissionCase(name: "Deny with NotAction spares what it names",
                       policies: [seedPolicy, policy("deny (inline)", statement("Deny", notAction: "ecr:GetAuthorizationToken", resource: "*"))],
                       request: pull("ecr:GetAuthorizationToken", "*"), decision: .allowed, decidedBy: [attached]),
        PermissionCase(name: "a Deny alone is an explicit deny, not an implicit one",
                       policies: [policy(inline, statement("Deny", action: "ecr:*", resource: "*"))],
                       request: pull("ecr:BatchGetImage"), decision: .explicitDeny, decidedBy: [inline]),

        // NotAction / NotResource on Allow.
        PermissionCase(name: "Allow NotAction grants other actions", policies: [policy(inline, statement(notAction: "ecr:BatchGetImage", resource: "*"))],
                       request: pull("ecr:GetDownloadUrlForLayer"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "Allow NotAction does not grant the named action", policies: [policy(inline, statement(notAction: ["iam:*", "ECR:BATCHGETIMAGE"], resource: "*"))],
                       request: pull("ecr:BatchGetImage"), decision: .implicitDeny),
        PermissionCase(name: "Allow NotResource grants other resources",
                       policies: [policy(inline, statement(action: "ecr:*", notResource: "arn:aws:ecr:eu-west-2:123456789012:repository/private/*"))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "Allow NotResource does not grant the named resource",
                       policies: [policy(inline, statement(action: "ecr:*", notResource: "arn:aws:ecr:eu-west-2:123456789012:repository/private/*"))],
                       request: pull("ecr:BatchGetImage", "arn:aws:ecr:eu-west-2:123456789012:repository/private/x"), decision: .implicitDeny),

        // Conditions on Allow.
        PermissionCase(name: "a conditional Allow is listed and does not grant",
                       policies: [policy(inline, statement(sid: "OnlyFromVPC", action: "ecr:*", resource: "*", condition: ["StringEquals": ["aws:SourceVpc": "vpc-1"]]))],
                       request: pull("ecr:BatchGetImage"), decision: .implicitDeny, conditionalAllows: ["inline-ecr (inline)/OnlyFromVPC"]),
        PermissionCase(name: "a conditional Allow next to an unconditional one",
                       policies: [seedPolicy, policy(inline, statement(sid: "OnlyFromVPC", action: "ecr:*", resource: "*", condition: ["StringEquals": ["aws:SourceVpc": "vpc-1"]]))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [attached], conditionalAllows: ["inline-ecr (inline)/OnlyFromVPC"]),
        PermissionCase(name: "an empty Condition object is no condition",
                       policies: [policy(inline, statement(action: "ecr:*", resource: "*", condition: [:]))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),

        // Document shapes.
        PermissionCase(name: "policies spread across two documents",
                       policies: [policy("token (inline)", statement(action: "ecr:GetAuthorizationToken", resource: "*")),
                                  policy("pull (attached)", statement(sid: "Pull", action: ["ecr:BatchGetImage"], resource: .string(repositories)))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: ["pull (attached)/Pull"]),
        PermissionCase(name: "two granting policies are both named, in order, once each",
                       policies: [policy("a (attached)", statement(action: "ecr:*", resource: "*"), statement(action: "ecr:BatchGetImage", resource: "*")),
                                  policy("b (inline)", statement(sid: "S", action: "ecr:BatchGetImage", resource: .string(repositories)))],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: ["a (attached)", "b (inline)/S"]),
        PermissionCase(name: "Statement as a single object",
                       policies: [NamedPolicy(name: inline, document: ["Version": "2012-10-17", "Statement": statement(action: "ecr:BatchGetImage", resource: "*")])],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "a URL-encoded document string (raw IAM API)",
                       policies: [NamedPolicy(name: inline, document: "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ecr%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D")],
                       request: pull("ecr:BatchGetImage"), decision: .allowed, decidedBy: [inline]),
        PermissionCase(name: "an Effect other than Allow/Deny is ignored", policies: [policy(inline, statement("allow", action: "ecr:*", resource: "*"))],
                       request: pull("ecr:BatchGetImage"), decision: .implicitDeny),
        PermissionCase(name: "no policies", policies: [], request: pull("ecr:BatchGetImage"), decision: .implicitDeny),
        PermissionCase(name: "a document without Statement", policies: [NamedPolicy(name: inline, document: ["Version": "2012-10-17"])],
                       request: pull("ecr:BatchGetImage"), decision: .implicitDeny),
    ]

    @Test("evaluate", arguments: cases)
    func evaluate(_ c: PermissionCase) {
        let result = IAMPolicyEvaluator.evaluate([c.request], policies: c.policies)
        #expect(result == [PermissionEvaluation(request: c.request, decision: c.decision, decidedBy: c.decidedBy, conditionalAllows: c.conditionalAllows)])
    }

    @Test("evaluate keeps the order of the requests; seed 000 allows a full pull")
    func orderAndSeedPull() {
        let requests = IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: [s3Repository])
        let results = IAMPolicyEvaluator.evaluate(requests, policies: [seedPolicy])
        #expect(results.map(\.request) == requests)
        #expect(results.allSatisfy { $0.decision == .allowed })

        let reversed = Array(requests.reversed())
        let missingBatchGetImage = policy(inline, statement(action: ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"], resource: "*"))
        let decisions = IAMPolicyEvaluator.evaluate(reversed, policies: [missingBatchGetImage]).map { "\($0.request.action)=\($0.decision.rawValue)" }
        #expect(decisions == ["ecr:BatchCheckLayerAvailability=allowed", "ecr:GetDownloadUrlForLayer=allowed", "ecr:BatchGetImage=implicitDeny", "ecr:GetAuthorizationToken=allowed"])
    }

    @Test("ecrPullRequests: the token once, then three actions per repository, duplicates dropped")
    func pullRequests() {
        let other = "arn:aws:ecr:eu-west-2:123456789012:repository/upbound/provider-family-aws"
        #expect(IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: [s3Repository, other, s3Repository]) == [
            PermissionRequest(action: "ecr:GetAuthorizationToken", resource: "*"),
            PermissionRequest(action: "ecr:BatchGetImage", resource: s3Repository),
            PermissionRequest(action: "ecr:GetDownloadUrlForLayer", resource: s3Repository),
            PermissionRequest(action: "ecr:BatchCheckLayerAvailability", resource: s3Repository),
            PermissionRequest(action: "ecr:BatchGetImage", resource: other),
            PermissionRequest(action: "ecr:GetDownloadUrlForLayer", resource: other),
            PermissionRequest(action: "ecr:BatchCheckLayerAvailability", resource: other),
        ])
        #expect(IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: []) == [PermissionRequest(action: "ecr:GetAuthorizationToken", resource: "*")])
    }

    static let images: [ECRImageCase] = [
        ECRImageCase(image: "123456789012.dkr.ecr.eu-west-2.amazonaws.com/upbound/provider-aws-s3:v2.2.0", arn: upboundS3Repository),
        ECRImageCase(image: "123456789012.dkr.ecr.eu-west-2.amazonaws.com/upbound/provider-aws-s3", arn: upboundS3Repository),
        ECRImageCase(image: "123456789012.dkr.ecr.eu-west-2.amazonaws.com/upbound/provider-aws-s3@sha256:4c1e1b5fbd7a0d0a8e5c0b2f0d4f6b3a2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f", arn: upboundS3Repository),
        ECRImageCase(image: "123456789012.dkr.ecr.eu-west-2.amazonaws.com/upbound/provider-aws-s3:v2.2.0@sha256:4c1e1b5f", arn: upboundS3Repository),
        ECRImageCase(image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/provider-aws-s3:v1", arn: "arn:aws:ecr:us-east-1:123456789012:repository/provider-aws-s3"),
        ECRImageCase(image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/a/b/c:latest", arn: "arn:aws:ecr:us-east-1:123456789012:repository/a/b/c"),
        ECRImageCase(image: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/crossplane/provider-aws-s3:v1", arn: "arn:aws-cn:ecr:cn-north-1:123456789012:repository/crossplane/provider-aws-s3"),
        ECRImageCase(image: "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/crossplane/provider-aws-s3:v1", arn: "arn:aws:ecr:us-east-1:123456789012:repository/crossplane/provider-aws-s3"),
        ECRImageCase(image: "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/crossplane/provider-aws-s3:v1", arn: "arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/crossplane/provider-aws-s3"),
        ECRImageCase(image: "123456789012.DKR.ECR.EU-WEST-2.AMAZONAWS.COM/upbound/provider-aws-s3:v2.2.0", arn: upboundS3Repository),
        ECRImageCase(image: "xpkg.upbound.io/upbound/provider-aws-s3:v2.2.0", arn: nil),
        ECRImageCase(image: "xpkg.crossplane.io/crossplane-contrib/provider-aws-s3:v2.2.0", arn: nil),
        ECRImageCase(image: "public.ecr.aws/upbound/provider-aws-s3:v2.2.0", arn: nil),
        ECRImageCase(image: "provider-aws-s3:v2.2.0", arn: nil),
        ECRImageCase(image: "123456789012.dkr.ecr.eu-west-2.amazonaws.com", arn: nil),
        ECRImageCase(image: "123456789012.dkr.ecr.eu-west-2.amazonaws.com/", arn: nil),
        ECRImageCase(image: "12345.dkr.ecr.eu-west-2.amazonaws.com/upbound/provider-aws-s3", arn: nil),
        ECRImageCase(image: "123456789012.dkr.ecr.eu-west-2.amazonaws.com.example.com/upbound/provider-aws-s3", arn: nil),
        ECRImageCase(image: "123456789012.dkr.ecr.eu-west-2.amazonaws.org/upbound/provider-aws-s3", arn: nil),
        ECRImageCase(image: "", arn: nil),
    ]

    @Test("ecrRepositoryARN", arguments: images)
    func repositoryARN(_ c: ECRImageCase) {
        #expect(IAMPolicyEvaluator.ecrRepositoryARN(image: c.image) == c.arn)
    }

    @Test("an image's repository ARN feeds the seed 000 policy")
    func imageToDecision() throws {
        let arn = try #require(IAMPolicyEvaluator.ecrRepositoryARN(image: "\(account).dkr.ecr.eu-west-2.amazonaws.com/crossplane/provider-aws-s3:v2.2.0"))
        #expect(arn == s3Repository)
        let results = IAMPolicyEvaluator.evaluate(IAMPolicyEvaluator.ecrPullRequests(repositoryARNs: [arn]), policies: [seedPolicy])
        #expect(results.count == 4)
        #expect(results.allSatisfy { $0.decision == .allowed && $0.decidedBy == [attached] })
    }
}
