import Foundation

/// Who asks to assume the role with an IRSA token: this cluster's OIDC provider, the ServiceAccount
/// (`sub`) and the token audience (`aud`).
public struct WebIdentityTrustQuery: Sendable, Equatable {
    /// `arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-2.amazonaws.com/id/ABC`
    public var providerARN: String
    /// `oidc.eks.us-east-2.amazonaws.com/id/ABC`: the issuer URL without `https://` and without a trailing slash
    /// (both are tolerated and removed when evaluating).
    public var issuerHostPath: String
    /// `system:serviceaccount:NS:SA`
    public var subject: String
    /// From the ServiceAccount annotation `eks.amazonaws.com/audience`; `sts.amazonaws.com` by default.
    public var audience: String

    public init(providerARN: String, issuerHostPath: String, subject: String, audience: String = "sts.amazonaws.com") {
        self.providerARN = providerARN
        self.issuerHostPath = issuerHostPath
        self.subject = subject
        self.audience = audience
    }
}

public struct WebIdentityTrustResult: Sendable, Equatable {
    /// A `:sub` condition value (or pattern) and the operator it was written with, e.g. `StringLike`.
    public struct SubCondition: Sendable, Hashable {
        public var `operator`: String
        public var value: String

        public init(operator: String, value: String) {
            self.operator = `operator`
            self.value = value
        }
    }

    public var allowed: Bool
    /// Zero-based index (into `Statement`) of the first Allow statement that grants it.
    /// Messages in `problems` and `notes` number statements from 1.
    public var grantingStatement: Int?
    /// Zero-based index of the first Deny statement that applies.
    public var deniedBy: Int?
    /// Why each Allow statement for sts:AssumeRoleWithWebIdentity did not grant, in plain words naming the
    /// value and the condition, e.g. "statement 1: aud sts.amazonaws.com does not match StringEquals sts.amazon.com".
    /// May be non-empty when `allowed` (another statement granted); never empty when not `allowed`.
    public var problems: [String]
    /// Notes that do not block: no `:sub` condition, conditions that were not evaluated.
    public var notes: [String]
    /// The `:sub` values/patterns of the Allow statements for this provider, with their operator.
    public var subConditions: [SubCondition]

    public init(allowed: Bool, grantingStatement: Int? = nil, deniedBy: Int? = nil, problems: [String] = [], notes: [String] = [], subConditions: [SubCondition] = []) {
        self.allowed = allowed
        self.grantingStatement = grantingStatement
        self.deniedBy = deniedBy
        self.problems = problems
        self.notes = notes
        self.subConditions = subConditions
    }
}

/// Evaluates an IRSA role trust policy for one ServiceAccount, and writes a corrected one.
///
/// Only the token claims `<issuer>:sub` and `<issuer>:aud` are evaluated. Other condition keys cannot be
/// known offline: on an Allow they are assumed to hold (and noted); a Deny that depends on them is not
/// counted (and noted), the same way `IAMPolicyEvaluator` ignores conditional Denies.
public enum WebIdentityTrust {
    public static let action = "sts:AssumeRoleWithWebIdentity"

    public static func evaluate(_ policy: JSONValue, _ query: WebIdentityTrustQuery) -> WebIdentityTrustResult {
        let statements = IAMStatementList.list(policy)
        guard !statements.isEmpty else {
            return WebIdentityTrustResult(allowed: false, problems: ["the trust policy has no statements"])
        }
        let issuer = normalizedIssuer(query.issuerHostPath)
        var result = WebIdentityTrustResult(allowed: false)

        for (index, s) in statements.enumerated() {
            let n = index + 1
            guard let effect = s["Effect"].string, effect == "Allow" || effect == "Deny" else { continue }
            let principal = TrustStatementPrincipal(s, providerARN: query.providerARN, allow: effect == "Allow")
            let actionMatches = coversWebIdentity(s)

            if effect == "Deny" {
                guard principal.matches, actionMatches else { continue }
                let outcome = TrustConditionOutcome(s["Condition"], issuer: issuer, query: query)
                guard outcome.failures.isEmpty, outcome.otherIssuerKeys.isEmpty else { continue }
                if !outcome.unevaluated.isEmpty {
                    result.notes.append("statement \(n): Deny depends on \(outcome.unevaluated.joined(separator: ", ")), which is not evaluated; it may still block")
                    continue
                }
                if result.deniedBy == nil { result.deniedBy = index }
                result.problems.append("statement \(n) denies \(action) to \(query.subject)")
                continue
            }

            switch (principal.matches, actionMatches) {
            case (true, true):
                let outcome = TrustConditionOutcome(s["Condition"], issuer: issuer, query: query)
                for sub in outcome.subConditions where !result.subConditions.contains(sub) { result.subConditions.append(sub) }
                let failures = outcome.otherIssuerKeys.map {
                    "statement \(n): condition key \($0) is for another OIDC issuer, not this cluster's \(issuer)"
                } + outcome.failures.map { "statement \(n): \($0)" }
                guard failures.isEmpty else {
                    result.problems += failures
                    continue
                }
                if result.grantingStatement == nil { result.grantingStatement = index }
                if principal.isWildcard {
                    result.notes.append("statement \(n): Principal \"*\" is not limited to this cluster's OIDC provider")
                }
                if !outcome.hasSub {
                    result.notes.append("statement \(n): no :sub condition: any ServiceAccount in the cluster may assume the role")
                }
                for key in outcome.unevaluated {
                    result.notes.append("statement \(n): condition on \(key) is not evaluated")
                }
            case (true, false):
                // Only statements naming this provider explicitly: a `"*"` principal with sts:AssumeRole is unrelated.
                if principal.namesProvider {
                    result.problems.append("statement \(n) allows \(actionDescription(s)), not \(action)")
                }
            case (false, true):
                if !principal.federated.isEmpty {
                    result.problems.append("statement \(n): Federated principal \(principal.federated.joined(separator: ", ")) is not this cluster's OIDC provider \(query.providerARN)")
                } else if namesWebIdentityExactly(s) {
                    result.problems.append("statement \(n) allows \(action) but has no Federated principal; it needs \(query.providerARN)")
                }
            case (false, false):
                continue
            }
        }

        result.allowed = result.grantingStatement != nil && result.deniedBy == nil
        if !result.allowed && result.problems.isEmpty {
            result.problems.append("no statement allows \(action) for \(query.providerARN)")
        }
        return result
    }

    /// A corrected copy: statements for other principals kept as they are (Deny statements too); the Allow
    /// statement(s) for this provider replaced, at the first one's position and keeping its Sid, by one that
    /// allows sts:AssumeRoleWithWebIdentity with `StringEquals` (or `StringLike` when `subjectPattern` contains
    /// `*` or `?`) on `:sub` and `StringEquals` on `:aud` (omitted when `audience` is empty). An Allow statement
    /// that also names other Federated providers is kept for those. When no statement for the provider exists,
    /// one is appended. Version "2012-10-17".
    public static func corrected(_ policy: JSONValue, providerARN: String, issuerHostPath: String, subjectPattern: String, audience: String) -> JSONValue {
        let issuer = normalizedIssuer(issuerHostPath)
        let document = policy.decodedPolicyDocument
        var kept: [JSONValue] = []
        var insertAt: Int?
        var sid: String?

        for s in IAMStatementList.list(document) {
            let federated = s["Principal"]["Federated"].stringOrStrings
            guard s["Effect"].string == "Allow", federated.contains(providerARN) else {
                kept.append(s)
                continue
            }
            if insertAt == nil {
                insertAt = kept.count
                sid = s["Sid"].string
            }
            let others = federated.filter { $0 != providerARN }
            if !others.isEmpty {
                var principal = s["Principal"].object
                principal["Federated"] = others.count == 1 ? .string(others[0]) : .array(others.map { .string($0) })
                var copy = s.object
                copy["Principal"] = .object(principal)
                kept.append(.object(copy))
            }
        }

        let subOperator = subjectPattern.contains("*") || subjectPattern.contains("?") ? "StringLike" : "StringEquals"
        var condition: [String: JSONValue] = [subOperator: .object(["\(issuer):sub": .string(subjectPattern)])]
        if !audience.isEmpty {
            var equals = condition["StringEquals"]?.object ?? [:]
            equals["\(issuer):aud"] = .string(audience)
            condition["StringEquals"] = .object(equals)
        }
        var statement: [String: JSONValue] = [
            "Effect": "Allow",
            "Principal": ["Federated": .string(providerARN)],
            "Action": .string(action),
            "Condition": .object(condition),
        ]
        if let sid { statement["Sid"] = .string(sid) }
        kept.insert(.object(statement), at: insertAt ?? kept.count)

        var result = document.object
        result["Version"] = "2012-10-17"
        result["Statement"] = .array(kept)
        return .object(result)
    }

    static func normalizedIssuer(_ issuer: String) -> String {
        var s = issuer.trimmingCharacters(in: .whitespaces)
        for scheme in ["https://", "http://"] where s.lowercased().hasPrefix(scheme) { s = String(s.dropFirst(scheme.count)) }
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }

    private static func coversWebIdentity(_ s: JSONValue) -> Bool {
        if !s["Action"].isNull { return s["Action"].stringOrStrings.contains { PolicyDocument.wildcardMatch($0, action) } }
        if !s["NotAction"].isNull { return !s["NotAction"].stringOrStrings.contains { PolicyDocument.wildcardMatch($0, action) } }
        return false
    }

    private static func namesWebIdentityExactly(_ s: JSONValue) -> Bool {
        s["Action"].stringOrStrings.contains { $0.caseInsensitiveCompare(action) == .orderedSame }
    }

    private static func actionDescription(_ s: JSONValue) -> String {
        let actions = s["Action"].stringOrStrings
        if !actions.isEmpty { return actions.joined(separator: ", ") }
        let notActions = s["NotAction"].stringOrStrings
        if !notActions.isEmpty { return "every action except " + notActions.joined(separator: ", ") }
        return "no action"
    }
}

private struct TrustStatementPrincipal {
    var federated: [String]
    var isWildcard: Bool
    var namesProvider: Bool
    var matches: Bool

    init(_ s: JSONValue, providerARN: String, allow: Bool) {
        let principal = s["Principal"]
        federated = principal["Federated"].stringOrStrings
        isWildcard = principal.string == "*" || principal["AWS"].stringOrStrings.contains("*") || federated.contains("*")
        namesProvider = federated.contains(providerARN)
        matches = isWildcard || namesProvider
        // A Deny with NotPrincipal applies to everyone it does not name.
        if !allow, principal.isNull, !s["NotPrincipal"].isNull {
            let notPrincipal = s["NotPrincipal"]
            matches = !(notPrincipal.string == "*" || notPrincipal["Federated"].stringOrStrings.contains(providerARN))
        }
    }
}

/// The outcome of a statement's Condition block for the query's token. Every (operator, key) pair must hold.
private struct TrustConditionOutcome {
    /// Plain-words reasons, without the "statement N: " prefix.
    var failures: [String] = []
    var otherIssuerKeys: [String] = []
    /// Keys (with operator) that were not evaluated.
    var unevaluated: [String] = []
    var subConditions: [WebIdentityTrustResult.SubCondition] = []
    var hasSub = false

    private struct Entry {
        var op: String
        var key: String
        var values: [String]
        var rank: Int
    }

    init(_ condition: JSONValue, issuer: String, query: WebIdentityTrustQuery) {
        let issuerKey = issuer.lowercased()
        var entries: [Entry] = []
        for (op, block) in condition.object {
            for (key, value) in block.object {
                let lower = key.lowercased()
                let rank = lower == issuerKey + ":sub" ? 0 : lower == issuerKey + ":aud" ? 1 : 2
                entries.append(Entry(op: op, key: key, values: Self.strings(value), rank: rank))
            }
        }
        entries.sort { ($0.rank, $0.op, $0.key) < ($1.rank, $1.op, $1.key) }

        for entry in entries {
            let lower = entry.key.lowercased()
            guard let colon = lower.lastIndex(of: ":") else {
                unevaluated.append(entry.key)
                continue
            }
            let prefix = String(lower[..<colon])
            if prefix != issuerKey {
                // `<host>/<path>:claim` or `<host>:claim` is another identity provider's claim (another cluster's
                // issuer); `aws:…`, `sts:…` and similar service keys have no dot or slash in the prefix.
                if prefix.contains(".") || prefix.contains("/") {
                    otherIssuerKeys.append(entry.key)
                } else {
                    unevaluated.append(entry.key)
                }
                continue
            }
            let claim = String(lower[lower.index(after: colon)...])
            let actual: String
            switch claim {
            case "sub":
                hasSub = true
                actual = query.subject
                for value in entry.values {
                    let sub = WebIdentityTrustResult.SubCondition(operator: entry.op, value: value)
                    if !subConditions.contains(sub) { subConditions.append(sub) }
                }
            case "aud":
                actual = query.audience
            default:
                unevaluated.append(entry.key)
                continue
            }
            switch Self.evaluate(entry.op, values: entry.values, actual: actual) {
            case .some(true):
                continue
            case .some(false):
                failures.append(Self.failure(claim: claim, actual: actual, op: entry.op, values: entry.values))
            case .none:
                unevaluated.append("\(entry.op) \(entry.key)")
            }
        }
    }

    private static func strings(_ value: JSONValue) -> [String] {
        let items: [JSONValue]
        if case .array(let a) = value { items = a } else { items = [value] }
        return items.compactMap { item in
            switch item {
            case .string(let s): return s
            case .bool(let b): return b ? "true" : "false"
            case .number: return item.int.map(String.init) ?? item.double.map { "\($0)" }
            default: return nil
            }
        }
    }

    private static func parse(_ op: String) -> (base: String, negated: Bool) {
        var base = op.lowercased()
        for prefix in ["foranyvalue:", "forallvalues:"] where base.hasPrefix(prefix) { base = String(base.dropFirst(prefix.count)) }
        if base.hasSuffix("ifexists") { base = String(base.dropLast("ifexists".count)) }
        return (base, base.hasPrefix("stringnot"))
    }

    /// `nil` when the operator is not one that can be evaluated here.
    /// The token's `sub` and `aud` are single values that always exist, so `ForAnyValue:`, `ForAllValues:`
    /// and `IfExists` do not change the outcome.
    private static func evaluate(_ op: String, values: [String], actual: String) -> Bool? {
        let (base, _) = parse(op)
        switch base {
        case "stringequals": return values.contains(actual)
        case "stringnotequals": return !values.contains(actual)
        case "stringequalsignorecase": return values.contains { $0.lowercased() == actual.lowercased() }
        case "stringnotequalsignorecase": return !values.contains { $0.lowercased() == actual.lowercased() }
        case "stringlike": return values.contains { PolicyDocument.wildcardMatch($0, actual, caseInsensitive: false) }
        case "stringnotlike": return !values.contains { PolicyDocument.wildcardMatch($0, actual, caseInsensitive: false) }
        case "null": return values.allSatisfy { $0.lowercased() == "false" }
        default: return nil
        }
    }

    private static func failure(claim: String, actual: String, op: String, values: [String]) -> String {
        let (base, negated) = parse(op)
        let listed = values.isEmpty ? "(no values)" : values.joined(separator: " or ")
        if base == "null" { return "\(op) \(listed) on :\(claim) requires the claim to be absent, but the token always has \(claim)" }
        return negated ? "\(claim) \(actual) is excluded by \(op) \(listed)" : "\(claim) \(actual) does not match \(op) \(listed)"
    }
}
