import Foundation

/// An IAM policy document (trust or permission policy), reduced to what evaluation needs.
public struct PolicyDocument: Sendable, Equatable {
    public struct Statement: Sendable, Equatable {
        public var sid: String?
        public var allow: Bool
        /// Principal type (`Service`, `AWS`, `Federated`) → values; `["*": ["*"]]` for `"Principal": "*"`.
        public var principals: [String: [String]]
        public var actions: [String]
        public var notActions: [String]
        public var resources: [String]
        public var hasConditions: Bool
        public var raw: JSONValue
    }

    public var statements: [Statement]
    public var raw: JSONValue

    public init(_ json: JSONValue) {
        raw = json
        let list: [JSONValue]
        if case .array(let a) = json["Statement"] { list = a } else if json["Statement"] != .null { list = [json["Statement"]] } else { list = [] }
        statements = list.map { s in
            var principals: [String: [String]] = [:]
            if s["Principal"].string == "*" {
                principals["*"] = ["*"]
            } else {
                for (type, value) in s["Principal"].object { principals[type] = value.stringOrStrings }
            }
            return Statement(
                sid: s["Sid"].string, allow: s["Effect"].string == "Allow", principals: principals,
                actions: s["Action"].stringOrStrings, notActions: s["NotAction"].stringOrStrings,
                resources: s["Resource"].stringOrStrings, hasConditions: !s["Condition"].object.isEmpty, raw: s)
        }
    }

    /// IAM wildcard match: `*` any run, `?` one character; case-insensitive (actions are).
    public static func wildcardMatch(_ pattern: String, _ value: String, caseInsensitive: Bool = true) -> Bool {
        let p = Array(caseInsensitive ? pattern.lowercased() : pattern)
        let v = Array(caseInsensitive ? value.lowercased() : value)
        var pi = 0, vi = 0, star = -1, mark = 0
        while vi < v.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == v[vi]) {
                pi += 1; vi += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = vi; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; vi = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    public static func statement(_ s: Statement, coversAction action: String) -> Bool {
        if !s.actions.isEmpty { return s.actions.contains { wildcardMatch($0, action) } }
        if !s.notActions.isEmpty { return !s.notActions.contains { wildcardMatch($0, action) } }
        return false
    }

    public static func statement(_ s: Statement, coversPrincipal type: String, _ matches: (String) -> Bool) -> Bool {
        if s.principals["*"] != nil { return true }
        return (s.principals[type] ?? []).contains(where: matches)
    }

    /// Which of `actions` the trust policy grants to the principal, honouring explicit Deny.
    /// Statements with conditions still count as granting (conditions are reported separately).
    public func granted(actions: [String], principalType: String, principal matches: (String) -> Bool) -> Set<String> {
        var allowed: Set<String> = []
        for action in actions {
            let relevant = statements.filter { Self.statement($0, coversPrincipal: principalType, matches) && Self.statement($0, coversAction: action) }
            if relevant.contains(where: { !$0.allow && !$0.hasConditions }) { continue }
            if relevant.contains(where: \.allow) { allowed.insert(action) }
        }
        return allowed
    }

    /// A copy in which the first Allow statement for the principal also grants `actions`,
    /// or a new statement is appended; other statements are kept unchanged.
    public func granting(actions: [String], principalType: String, principal: String) -> JSONValue {
        var list = raw["Statement"].array
        if list.isEmpty, raw["Statement"] != .null { list = [raw["Statement"]] }
        if let index = statements.firstIndex(where: { $0.allow && ($0.principals[principalType] ?? []).contains(principal) }) {
            var statement = list[index].object
            var current = list[index]["Action"].stringOrStrings
            for a in actions where !current.contains(where: { Self.wildcardMatch($0, a) }) { current.append(a) }
            statement["Action"] = .array(current.map { .string($0) })
            list[index] = .object(statement)
        } else {
            list.append(["Effect": "Allow", "Principal": .object([principalType: .string(principal)]), "Action": .array(actions.map { .string($0) })])
        }
        var doc = raw.object
        doc["Version"] = raw["Version"].string.map { .string($0) } ?? "2012-10-17"
        doc["Statement"] = .array(list)
        return .object(doc)
    }
}

extension JSONValue {
    /// The IAM API returns policy documents URL-encoded; awscli decodes them into JSON. Accept either,
    /// so a document is read the same way whoever produced it.
    public var decodedPolicyDocument: JSONValue {
        guard let text = string else { return self }
        let decoded = text.removingPercentEncoding ?? text
        return (try? JSONValue.parse(decoded)) ?? (try? JSONValue.parse(text)) ?? .null
    }
}
