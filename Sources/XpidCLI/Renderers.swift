import Foundation
import XpidCore

/// How text output looks: glyphs or ASCII tags, colour or not.
public struct TextStyle: Sendable, Equatable {
    public var unicode: Bool
    public var color: Bool

    public init(unicode: Bool, color: Bool) {
        self.unicode = unicode
        self.color = color
    }

    /// Colour only on a TTY and never with --no-color/NO_COLOR; ASCII tags with --no-color or a non-UTF-8 locale.
    public static func detect(noColor: Bool, isTTY: Bool, environment: [String: String]) -> TextStyle {
        let locale = environment["LC_ALL"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["LC_CTYPE"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["LANG"] ?? ""
        let utf8 = locale.uppercased().contains("UTF-8") || locale.uppercased().contains("UTF8")
        return TextStyle(unicode: utf8 && !noColor, color: isTTY && !noColor)
    }

    /// The status mark, padded so messages line up (`[OK]` and `[FAIL]` differ in width).
    func glyph(_ status: FindingStatus) -> String {
        var text: String
        switch (status, unicode) {
        case (.pass, true): text = "✔"
        case (.warn, true): text = "⚠"
        case (.fail, true): text = "✗"
        case (.skip, true): text = "–"
        case (.error, true): text = "!"
        case (.pass, false): text = "[OK]"
        case (.warn, false): text = "[WARN]"
        case (.fail, false): text = "[FAIL]"
        case (.skip, false): text = "[SKIP]"
        case (.error, false): text = "[ERR]"
        }
        if !unicode { text = text.padding(toLength: 6, withPad: " ", startingAt: 0) }
        guard color else { return text }
        let code: String
        switch status {
        case .pass: code = "32"
        case .warn: code = "33"
        case .fail, .error: code = "31"
        case .skip: code = "2"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
}

public enum TextRenderer {
    /// Subjects with a failure come first (worst first); a subject whose checks all pass or skip is
    /// one line unless `showAll`. Text from the cluster is printed with control characters escaped.
    public static func render(_ report: Report, style: TextStyle, showAll: Bool = false) -> String {
        var out = ""
        let c = report.cluster
        var place = [c.cloud.rawValue]
        if let n = c.name { place.append(n) }
        if let g = c.resourceGroup { place.append("resource group \(g)") }
        if let p = c.project { place.append("project \(p)") }
        if let l = c.location { place.append(l) }
        if let r = c.region { place.append(r) }
        let dash = style.unicode ? "—" : "-"
        let bullet = style.unicode ? "►" : ">"
        out += style.bold("kubectl xpid verify") + " \(dash) context \(c.context ?? "(none)") (\(place.joined(separator: ", ")))\n"
        for note in report.notes { out += "  \(Printable.text(note))\n" }

        var bySubject: [String: [Finding]] = [:]
        for f in report.findings { bySubject[f.subject, default: []].append(f) }
        let subjects = Dictionary(report.subjects.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var order = [clusterSubjectID] + report.subjects.map(\.id).filter { bySubject[$0] != nil && $0 != clusterSubjectID }
        // Worst first, stable within a rank, so 34 failures are not buried among 300 passing providers.
        let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        func worst(_ id: String) -> Int { bySubject[id]?.map(\.status.severity).max() ?? 0 }
        order.sort { (worst($0), rank[$1] ?? 0) > (worst($1), rank[$0] ?? 0) }
        var collapsed = 0
        for id in order {
            guard let findings = bySubject[id], !findings.isEmpty else { continue }
            let subject = subjects[id]
            if !showAll, findings.allSatisfy({ $0.status == .pass || $0.status == .skip }) {
                let passed = findings.filter { $0.status == .pass }.count
                let skipped = findings.count - passed
                if collapsed == 0 { out += "\n" }
                collapsed += 1
                let method = subject.map { "; method \($0.method)" } ?? ""
                out += "\(style.glyph(passed > 0 ? .pass : .skip)) \(style.bold(Printable.text(id)))  \(passed) passed\(skipped > 0 ? ", \(skipped) skipped" : "")\(method)\n"
                continue
            }
            let header: String
            if let s = subject {
                let sa = s.serviceAccount.map { "ServiceAccount \(s.namespace)/\($0)" } ?? (s.kind == SubjectKind.fluxObject.rawValue ? "no ServiceAccount of its own" : "no ServiceAccount found")
                let place = report.locations[id].map { "  [\(Printable.text($0.file)):\($0.line)]" } ?? ""
                header = style.bold("\(bullet) \(Printable.text(id))") + place + "  method \(s.method) (\(Printable.text(s.methodEvidence))); \(Printable.text(sa))"
            } else {
                header = style.bold("\(bullet) \(id)")
            }
            collapsed = 0
            out += "\n" + header + "\n"
            let width = min(36, findings.map(\.check.count).max() ?? 0)
            for f in findings {
                out += "  \(style.glyph(f.status)) \(f.check.padding(toLength: max(width, f.check.count), withPad: " ", startingAt: 0))  \(Printable.text(f.message))\n"
                if let r = f.remediation, f.status == .warn || f.status == .fail || f.status == .error {
                    out += "      fix: \(Printable.text(r.summary))\n"
                    out += commandLines(r.commands, style: style, indent: "    ")
                }
            }
        }
        let s = report.summary
        out += "\n" + style.bold("Summary:") + " \(s.pass) passed, \(s.warn) warning\(s.warn == 1 ? "" : "s"), \(s.fail) failed, \(s.skip) skipped, \(s.error) error\(s.error == 1 ? "" : "s")\n"
        if report.hasFixable { out += "run 'kubectl xpid fix' to see the plan\n" }
        if !showAll, order.contains(where: { id in bySubject[id]?.allSatisfy { $0.status == .pass || $0.status == .skip } == true }) {
            out += "(subjects whose checks all pass are shown on one line; --show-all lists every check)\n"
        }
        return out
    }

    /// `→ command` lines, after a line naming each shell variable the commands need.
    static func commandLines(_ commands: [Command], style: TextStyle, indent: String) -> String {
        var out = ""
        var variables: [String: String] = [:]
        for c in commands { variables.merge(c.variables) { a, _ in a } }
        for (name, meaning) in variables.sorted(by: { $0.key < $1.key }) {
            out += "\(indent)  set \(name) first: \(meaning)\n"
        }
        for c in commands { out += "\(indent)\(style.unicode ? "→" : "->") \(c.line)\n" }
        return out
    }
}


public enum JSONRenderer {
    public static func render<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// The catalogue in three forms: `checks`, `checks -o json`, `checks -o markdown` (the README table).
public enum CatalogRenderer {
    public static func text() -> String {
        var out = ""
        for m in Mechanism.allCases {
            let list = Catalog.descriptions.filter { $0.mechanism == m }
            guard !list.isEmpty else { continue }
            out += "\(m.rawValue)\n"
            for d in list {
                out += "  \(d.id.padding(toLength: 34, withPad: " ", startingAt: 0))\(d.title)\(d.cloud ? " (cloud)" : "")\n"
            }
        }
        return out
    }

    public static func json() -> String {
        let items: [JSONValue] = Catalog.descriptions.map { d in
            [
                "id": .string(d.id), "title": .string(d.title), "summary": .string(d.summary), "rationale": .string(d.rationale),
                "remediation": .string(d.remediation), "mechanism": .string(d.mechanism.rawValue), "scope": .string(d.scope.rawValue),
                "cloud": .bool(d.cloud), "dependsOn": .array(d.dependsOn.map(JSONValue.string)),
            ]
        }
        return JSONRenderer.render(JSONValue.object(["schema": "kubectl-xpid/checks/v1", "checks": .array(items)]))
    }

    public static func markdown() -> String {
        var out = "| ID | Area | What passes | Cloud |\n|---|---|---|---|\n"
        for d in Catalog.descriptions {
            let summary = d.summary.replacingOccurrences(of: "|", with: "\\|")
            out += "| `\(d.id)` | \(d.mechanism.rawValue) | \(summary) | \(d.cloud ? "yes" : "") |\n"
        }
        return out
    }

    public static func explain(_ id: String) -> String? {
        guard let d = Catalog.description(id) else { return nil }
        var out = "\(d.id) — \(d.title)\n\n"
        out += "What passes:\n  \(d.summary)\n\nWhy it matters:\n  \(d.rationale)\n\nHow to fix:\n  \(d.remediation)\n"
        out += "\nArea: \(d.mechanism.rawValue); evaluated per \(d.scope == .cluster ? "cluster" : "subject")\(d.cloud ? "; needs the cloud CLI (skipped with --no-cloud)" : "")\n"
        if !d.dependsOn.isEmpty { out += "Skipped when these fail first: \(d.dependsOn.joined(separator: ", "))\n" }
        out += "\nExamples:\n"
        for e in d.passing { out += "  pass: \(e.name)\n" }
        for e in d.failing { out += "  \(e.expected.rawValue): \(e.name)\n" }
        return out
    }
}
