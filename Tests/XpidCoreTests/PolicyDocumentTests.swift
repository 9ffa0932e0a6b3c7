import Foundation
import Testing
import XpidCore

struct WildcardCase: Sendable, CustomTestStringConvertible {
    var pattern: String
    var value: String
    var matches: Bool
    var caseInsensitive = true
    var testDescription: String { "\(pattern) ~ \(value) = \(matches)\(caseInsensitive ? "" : " (case-sensitive)")" }
}

@Suite("IAM policy documents")
struct PolicyDocumentTests {
    static let wildcards: [WildcardCase] = [
        WildcardCase(pattern: "sts:AssumeRole", value: "sts:AssumeRole", matches: true),
        WildcardCase(pattern: "sts:AssumeRole", value: "sts:AssumeRoleWithWebIdentity", matches: false),
        WildcardCase(pattern: "sts:*", value: "sts:AssumeRole", matches: true),
        WildcardCase(pattern: "sts:*", value: "sts:", matches: true),
        WildcardCase(pattern: "*", value: "sts:TagSession", matches: true),
        WildcardCase(pattern: "*", value: "", matches: true),
        WildcardCase(pattern: "sts:Assume*", value: "sts:AssumeRoleWithWebIdentity", matches: true),
        WildcardCase(pattern: "sts:*Session", value: "sts:TagSession", matches: true),
        WildcardCase(pattern: "sts:*Session", value: "sts:AssumeRole", matches: false),
        WildcardCase(pattern: "sts:AssumeRol?", value: "sts:AssumeRole", matches: true),
        WildcardCase(pattern: "sts:AssumeRol?", value: "sts:AssumeRol", matches: false),
        WildcardCase(pattern: "sts:?", value: "sts:AssumeRole", matches: false),
        WildcardCase(pattern: "s?s:*Ro*", value: "sts:AssumeRole", matches: true),
        WildcardCase(pattern: "a*b*c", value: "aXXbYYc", matches: true),
        WildcardCase(pattern: "a*b*c", value: "aXXbYY", matches: false),
        WildcardCase(pattern: "*a", value: "bab", matches: false),
        WildcardCase(pattern: "", value: "", matches: true),
        WildcardCase(pattern: "", value: "x", matches: false),
        WildcardCase(pattern: "STS:ASSUMEROLE", value: "sts:AssumeRole", matches: true),
        WildcardCase(pattern: "sts:tagsession", value: "sts:TagSession", matches: true),
        WildcardCase(pattern: "STS:ASSUMEROLE", value: "sts:AssumeRole", matches: false, caseInsensitive: false),
        WildcardCase(pattern: "system:serviceaccount:crossplane-system:provider-aws-*", value: "system:serviceaccount:crossplane-system:provider-aws-s3", matches: true, caseInsensitive: false),
    ]

    @Test("wildcardMatch", arguments: wildcards)
    func wildcard(_ c: WildcardCase) {
        #expect(PolicyDocument.wildcardMatch(c.pattern, c.value, caseInsensitive: c.caseInsensitive) == c.matches)
    }

    static let both = ["sts:AssumeRole", "sts:TagSession"]

    static func granted(_ doc: JSONValue, type: String = "Service", principal: String = "pods.eks.amazonaws.com") -> Set<String> {
        PolicyDocument(doc).granted(actions: both, principalType: type) { $0 == principal }
    }

    static func statement(_ effect: String = "Allow", principal: JSONValue = ["Service": "pods.eks.amazonaws.com"], action: JSONValue, condition: JSONValue? = nil) -> JSONValue {
        var s: [String: JSONValue] = ["Effect": .string(effect), "Principal": principal, "Action": action]
        if let condition { s["Condition"] = condition }
        return .object(s)
    }

    static func doc(_ statements: JSONValue...) -> JSONValue { ["Version": "2012-10-17", "Statement": .array(statements)] }

    @Test("Action as a string or an array")
    func actionShapes() {
        #expect(Self.granted(Self.doc(Self.statement(action: "sts:AssumeRole"))) == ["sts:AssumeRole"])
        #expect(Self.granted(Self.doc(Self.statement(action: ["sts:AssumeRole", "sts:TagSession"]))) == Set(Self.both))
        #expect(Self.granted(Self.doc(Self.statement(action: "sts:AssumeRole"), Self.statement(action: "sts:TagSession"))) == Set(Self.both))
    }

    @Test("wildcard actions grant, case-insensitively")
    func wildcardActions() {
        #expect(Self.granted(Self.doc(Self.statement(action: "sts:*"))) == Set(Self.both))
        #expect(Self.granted(Self.doc(Self.statement(action: "*"))) == Set(Self.both))
        #expect(Self.granted(Self.doc(Self.statement(action: ["STS:ASSUMEROLE", "sts:tag*"]))) == Set(Self.both))
    }

    @Test("Deny wins over Allow; a conditional Deny does not remove the grant")
    func denyWins() {
        let deny = Self.doc(Self.statement(action: "sts:*"), Self.statement("Deny", action: "sts:TagSession"))
        #expect(Self.granted(deny) == ["sts:AssumeRole"])
        let denyAll = Self.doc(Self.statement(action: "sts:*"), Self.statement("Deny", principal: "*", action: "*"))
        #expect(Self.granted(denyAll).isEmpty)
        let conditional = Self.doc(Self.statement(action: "sts:*"), Self.statement("Deny", action: "sts:TagSession", condition: ["StringEquals": ["aws:RequestTag/x": "y"]]))
        #expect(Self.granted(conditional) == Set(Self.both))
    }

    @Test("Principal \"*\" covers every principal type")
    func principalStar() {
        let doc = Self.doc(Self.statement(principal: "*", action: ["sts:AssumeRole", "sts:TagSession"]))
        #expect(Self.granted(doc) == Set(Self.both))
        #expect(Self.granted(doc, type: "AWS", principal: "arn:aws:iam::123456789012:role/x") == Set(Self.both))
        #expect(PolicyDocument(doc).statements[0].principals == ["*": ["*"]])
    }

    @Test("the principal type and value must match")
    func principalMismatch() {
        let federated = Self.doc(Self.statement(principal: ["Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/X"], action: "sts:AssumeRoleWithWebIdentity"))
        #expect(Self.granted(federated).isEmpty)
        let otherService = Self.doc(Self.statement(principal: ["Service": "ec2.amazonaws.com"], action: ["sts:AssumeRole", "sts:TagSession"]))
        #expect(Self.granted(otherService).isEmpty)
        let list = Self.doc(Self.statement(principal: ["Service": ["ec2.amazonaws.com", "pods.eks.amazonaws.com"]], action: ["sts:AssumeRole", "sts:TagSession"]))
        #expect(Self.granted(list) == Set(Self.both))
    }

    @Test("NotAction grants everything it does not name")
    func notAction() {
        let doc: JSONValue = ["Statement": [["Effect": "Allow", "Principal": ["Service": "pods.eks.amazonaws.com"], "NotAction": "sts:TagSession"]]]
        #expect(Self.granted(doc) == ["sts:AssumeRole"])
    }

    @Test("a single Statement object (not an array) is read")
    func singleStatement() {
        let doc: JSONValue = ["Version": "2012-10-17", "Statement": Self.statement(action: ["sts:AssumeRole", "sts:TagSession"])]
        #expect(PolicyDocument(doc).statements.count == 1)
        #expect(Self.granted(doc) == Set(Self.both))
        #expect(PolicyDocument(["Version": "2012-10-17"]).statements.isEmpty)
    }

    @Test("granting: adds the missing actions to the principal's statement, keeps the others unchanged")
    func grantingKeepsOthers() {
        let irsa = Self.statement(principal: ["Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/X"], action: "sts:AssumeRoleWithWebIdentity",
            condition: ["StringEquals": ["oidc.eks.us-east-2.amazonaws.com/id/X:sub": "system:serviceaccount:crossplane-system:provider-aws"]])
        var pods = Self.statement(action: "sts:AssumeRole").object
        pods["Sid"] = "PodIdentity"
        let original = Self.doc(irsa, .object(pods))
        let fixed = PolicyDocument(original).granting(actions: Self.both, principalType: "Service", principal: "pods.eks.amazonaws.com")
        let statements = fixed["Statement"].array
        #expect(statements.count == 2)
        #expect(statements[0] == irsa)
        #expect(statements[1]["Sid"] == "PodIdentity")
        #expect(statements[1]["Action"] == ["sts:AssumeRole", "sts:TagSession"])
        #expect(fixed["Version"] == "2012-10-17")
        #expect(Self.granted(fixed) == Set(Self.both))
    }

    @Test("granting: appends a statement when none is for the principal")
    func grantingAppends() {
        let irsa = Self.statement(principal: ["Federated": "arn:aws:iam::123456789012:oidc-provider/x"], action: "sts:AssumeRoleWithWebIdentity")
        let fixed = PolicyDocument(Self.doc(irsa)).granting(actions: Self.both, principalType: "Service", principal: "pods.eks.amazonaws.com")
        #expect(fixed["Statement"].array == [irsa, ["Effect": "Allow", "Principal": ["Service": "pods.eks.amazonaws.com"], "Action": ["sts:AssumeRole", "sts:TagSession"]]])
    }

    @Test("granting: a wildcard already present is not duplicated; an empty document gets a Version")
    func grantingWildcardAndEmpty() {
        let fixed = PolicyDocument(Self.doc(Self.statement(action: "sts:*"))).granting(actions: Self.both, principalType: "Service", principal: "pods.eks.amazonaws.com")
        #expect(fixed["Statement"][0]["Action"] == ["sts:*"])
        let fresh = PolicyDocument([:]).granting(actions: Self.both, principalType: "Service", principal: "pods.eks.amazonaws.com")
        #expect(fresh == ["Version": "2012-10-17", "Statement": [["Effect": "Allow", "Principal": ["Service": "pods.eks.amazonaws.com"], "Action": ["sts:AssumeRole", "sts:TagSession"]]]])
    }
}
