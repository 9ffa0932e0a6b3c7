import Foundation

/// A JSON document as it came from kubectl or a cloud CLI.
///
/// Kubernetes objects are open-ended (CRDs, webhooks, odd clusters), so they are read
/// as `JSONValue` and typed views pick out only the fields the checks need. A missing
/// or mistyped field yields `nil`, never a crash.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue {
        if case .object(let members) = self, let value = members[key] { return value }
        return .null
    }

    public subscript(index: Int) -> JSONValue {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return .null
    }

    /// Follows a dotted path of object keys, e.g. `value.at("spec", "credentials", "source")`.
    public func at(_ keys: String...) -> JSONValue {
        keys.reduce(self) { $0[$1] }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return s == "true" ? true : (s == "false" ? false : nil)
        default: return nil
        }
    }

    public var double: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var int: Int? {
        if case .number(let n) = self, n.isFinite, n.rounded() == n, abs(n) < 1e15 { return Int(n) }
        return nil
    }

    public var array: [JSONValue] { if case .array(let a) = self { return a } else { return [] } }

    public var object: [String: JSONValue] { if case .object(let o) = self { return o } else { return [:] } }

    public var isNull: Bool { self == .null }

    /// A `[String: String]` view of an object whose values are strings (labels, annotations).
    public var stringMap: [String: String] {
        object.compactMapValues { $0.string }
    }

    /// Strings of an array, ignoring non-string members.
    public var strings: [String] { array.compactMap(\.string) }

    /// Either a single string or an array of strings (IAM's `Action`, `Resource`).
    public var stringOrStrings: [String] {
        if let s = string { return [s] }
        return strings
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n):
            if let i = int { try container.encode(i) } else { try container.encode(n) }
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

public enum JSONParseError: Error, Equatable, Sendable {
    case malformed(String)
}

extension JSONValue {
    /// Parses JSON text. Errors carry a short, printable reason (never the whole document).
    public static func parse(_ data: Data) throws -> JSONValue {
        do {
            return try JSONParser.parse(data)
        } catch {
            let preview = String(decoding: data.prefix(80), as: UTF8.self)
                .replacingOccurrences(of: "\n", with: " ")
            throw JSONParseError.malformed("not valid JSON (starts with \"\(preview)\")")
        }
    }

    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Data(text.utf8))
    }

    /// Compact JSON with sorted keys, for documents printed in remediations.
    public func compactText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByIntegerLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}
