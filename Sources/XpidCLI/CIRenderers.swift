import Foundation
import XpidCore

/// SARIF 2.1.0 (code scanning) from the one result model: one rule per check of the catalogue, one result
/// per finding. A result points at the manifest file and line when the subject came from a file (`verify -f`),
/// and at the Kubernetes object (a logical location) otherwise.
public enum SARIFRenderer {
    public static let schema = "https://json.schemastore.org/sarif-2.1.0.json"
    public static let informationURI = "https://github.com/kubectl-xpid/kubectl-xpid"

    public static func render(_ report: Report) -> String {
        let descriptions = Catalog.descriptions
        let ruleIndex = Dictionary(descriptions.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let rules: [JSONValue] = descriptions.map { d in
            [
                "id": .string(d.id),
                "name": .string(ruleName(d.id)),
                "shortDescription": ["text": .string(d.title)],
                "fullDescription": ["text": .string(plain(d.summary))],
                "help": ["text": .string("\(plain(d.rationale)) Fix: \(plain(d.remediation))"), "markdown": .string("\(d.summary)\n\n**Why:** \(d.rationale)\n\n**Fix:** \(d.remediation)")],
                "defaultConfiguration": ["level": "error"],
                "properties": ["area": .string(d.mechanism.rawValue), "cloud": .bool(d.cloud), "tags": [.string(d.mechanism.rawValue)]],
            ]
        }
        let results: [JSONValue] = report.findings.map { f in
            var result: [String: JSONValue] = [
                "ruleId": .string(f.check),
                "level": .string(level(f.status)),
                "kind": .string(kind(f.status)),
                "message": ["text": .string(Printable.text(f.message))],
                "properties": .object([
                    "status": .string(f.status.rawValue), "subject": .string(f.subject), "fixable": .bool(f.fixable),
                    "evidence": .object(f.evidence.mapValues { .string(Printable.text($0)) }),
                ].merging(f.remediation.map { ["remediation": $0.json] } ?? [:]) { a, _ in a }),
            ]
            if let i = ruleIndex[f.check] { result["ruleIndex"] = .number(Double(i)) }
            if let location = location(for: f.subject, report) { result["locations"] = [location] }
            return .object(result)
        }
        let run: JSONValue = [
            "tool": ["driver": [
                "name": .string(report.tool.name), "version": .string(report.tool.version), "semanticVersion": .string(report.tool.version),
                "informationUri": .string(informationURI), "rules": .array(rules),
            ]],
            "invocations": [["executionSuccessful": true, "endTimeUtc": .string(Timestamp.format(report.generatedAt))]],
            "results": .array(results),
            "properties": ["cluster": .string(Printable.text(report.cluster.context ?? report.cluster.name ?? "")), "cloud": .string(report.cluster.cloud.rawValue)],
        ]
        return JSONRenderer.render(JSONValue.object(["$schema": .string(schema), "version": "2.1.0", "runs": [run]]))
    }

    static func location(for subject: String, _ report: Report) -> JSONValue? {
        var location: [String: JSONValue] = [:]
        if let source = report.locations[subject] {
            location["physicalLocation"] = [
                "artifactLocation": ["uri": .string(uri(source.file))],
                "region": ["startLine": .number(Double(max(1, source.line)))],
            ]
        }
        if let object = report.objects[subject] {
            let qualified = [object.namespace, object.kind, object.name].compactMap { $0 }.joined(separator: "/")
            location["logicalLocations"] = [["fullyQualifiedName": .string(qualified), "name": .string(object.name), "kind": "resource"]]
        } else if subject == clusterSubjectID {
            location["logicalLocations"] = [["fullyQualifiedName": "cluster", "name": "cluster", "kind": "resource"]]
        }
        return location.isEmpty ? nil : .object(location)
    }

    /// A relative path stays relative (code scanning resolves it against the repository); characters URIs forbid are escaped.
    /// An absolute path under the working directory becomes relative to it; another absolute path a `file://` URI.
    static func uri(_ path: String, cwd: String = FileManager.default.currentDirectoryPath) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ":")
        var relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        if relative.hasPrefix("/") {
            let base = cwd.hasSuffix("/") ? cwd : cwd + "/"
            guard relative.hasPrefix(base) else { return "file://" + (relative.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? relative) }
            relative = String(relative.dropFirst(base.count))
        }
        return relative.addingPercentEncoding(withAllowedCharacters: allowed) ?? relative
    }

    /// `azure.sa-annotation` → `AzureSaAnnotation` (SARIF rule names are identifiers).
    static func ruleName(_ id: String) -> String {
        id.split(whereSeparator: { $0 == "." || $0 == "-" }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func level(_ status: FindingStatus) -> String {
        switch status {
        case .fail, .error: return "error"
        case .warn: return "warning"
        case .pass, .skip: return "none"
        }
    }

    static func kind(_ status: FindingStatus) -> String {
        switch status {
        case .pass: return "pass"
        case .skip: return "notApplicable"
        case .warn, .fail: return "fail"
        case .error: return "review"
        }
    }

    /// Markdown emphasis and code marks out of a catalogue text.
    static func plain(_ text: String) -> String { text.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "`", with: "") }
}

/// JUnit XML: one test suite per subject, one test case per finding. `fail` is a failure, `error` an error,
/// `skip` skipped; a `warn` is a failure with `--fail-on warn` and a passing case with its message otherwise,
/// so the test result agrees with the exit code.
public enum JUnitRenderer {
    public static func render(_ report: Report, failOn: FindingStatus) -> String {
        var order: [String] = []
        var bySubject: [String: [Finding]] = [:]
        for f in report.findings {
            if bySubject[f.subject] == nil { order.append(f.subject) }
            bySubject[f.subject, default: []].append(f)
        }
        func failing(_ f: Finding) -> Bool { f.status == .fail || (f.status == .warn && failOn == .warn) }
        let all = report.findings
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"kubectl-xpid\" tests=\"\(all.count)\" failures=\"\(all.filter(failing).count)\" errors=\"\(all.filter { $0.status == .error }.count)\" skipped=\"\(all.filter { $0.status == .skip }.count)\" time=\"0\" timestamp=\"\(Timestamp.format(report.generatedAt))\">\n"
        for subject in order {
            let findings = bySubject[subject] ?? []
            out += "  <testsuite name=\"\(attr(subject))\" tests=\"\(findings.count)\" failures=\"\(findings.filter(failing).count)\" errors=\"\(findings.filter { $0.status == .error }.count)\" skipped=\"\(findings.filter { $0.status == .skip }.count)\" time=\"0\">\n"
            if let source = report.locations[subject] {
                out += "    <properties><property name=\"file\" value=\"\(attr(source.file))\"/><property name=\"line\" value=\"\(source.line)\"/></properties>\n"
            }
            for f in findings {
                let message = Printable.text(f.message)
                let file = report.locations[subject].map { " file=\"\(attr($0.file))\" line=\"\($0.line)\"" } ?? ""
                out += "    <testcase classname=\"\(attr(subject))\" name=\"\(attr(f.check))\" time=\"0\"\(file)>\n"
                let detail = ([message] + (f.remediation.map { r in ["fix: " + Printable.text(r.summary)] + r.commands.map { "$ " + $0.line } } ?? [])).joined(separator: "\n")
                switch f.status {
                case _ where failing(f):
                    out += "      <failure message=\"\(attr(message))\" type=\"\(f.status.rawValue)\">\(text(detail))</failure>\n"
                case .fail:
                    break  // failing(f) holds for every fail
                case .error:
                    out += "      <error message=\"\(attr(message))\" type=\"error\">\(text(detail))</error>\n"
                case .skip:
                    out += "      <skipped message=\"\(attr(message))\"/>\n"
                case .warn:
                    out += "      <system-out>\(text("warning: " + detail))</system-out>\n"
                case .pass:
                    out += "      <system-out>\(text(message))</system-out>\n"
                }
                out += "    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    /// XML 1.0 text: markup characters escaped, characters XML cannot carry replaced (Printable already escaped controls).
    static func text(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || (0xFFFE...0xFFFF).contains(v) || (0xD800...0xDFFF).contains(v) { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    public static func attr(_ s: String) -> String {
        text(s).replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&apos;")
            .replacingOccurrences(of: "\n", with: "&#10;").replacingOccurrences(of: "\r", with: "&#13;").replacingOccurrences(of: "\t", with: "&#9;")
    }
}
