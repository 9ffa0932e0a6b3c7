import Foundation
import Testing
import XpidCLI
import XpidCore

/// The keys of every JSON object in `text`, in document order (one list per object).
func objectKeyLists(_ text: String) -> [[String]] {
    var lists: [[String]] = []
    var stack: [Int?] = []  // index into `lists` for an object, nil for an array
    var lastString: String?
    let chars = Array(text.unicodeScalars)
    var i = 0
    while i < chars.count {
        switch chars[i] {
        case "{":
            lists.append([])
            stack.append(lists.count - 1)
            lastString = nil
        case "[":
            stack.append(nil)
            lastString = nil
        case "}", "]":
            _ = stack.popLast()
            lastString = nil
        case "\"":
            var s = String.UnicodeScalarView()
            i += 1
            while i < chars.count, chars[i] != "\"" {
                if chars[i] == "\\", i + 1 < chars.count { s.append(chars[i]); i += 1 }
                s.append(chars[i])
                i += 1
            }
            lastString = String(s)
        case ":":
            if let top = stack.last, let index = top, let key = lastString { lists[index].append(key) }
            lastString = nil
        case ",":
            lastString = nil
        default:
            break
        }
        i += 1
    }
    return lists
}

@Suite("JSON report (schema kubectl-xpid/report/v1)")
struct ReportJSONTests {
    static func rendered() -> String { JSONRenderer.render(FixedReport.make()) }

    @Test("the key scanner itself")
    func scanner() {
        #expect(objectKeyLists(#"{"b":1,"a":{"d":[{"x":"y:z"}],"c":"{"}}"#) == [["b", "a"], ["d", "c"], ["x"]])
    }

    @Test("every object's keys are sorted")
    func keysSorted() {
        let lists = objectKeyLists(Self.rendered())
        #expect(lists.count > 10)
        for keys in lists { #expect(keys == keys.sorted(), "\(keys)") }
    }

    @Test("top level: schema, tool, generatedAt, cluster, summary, subjects, findings")
    func topLevel() throws {
        let json = try JSONValue.parse(Self.rendered())
        #expect(json.object.keys.sorted() == ["cluster", "findings", "generatedAt", "schema", "subjects", "summary", "tool"])
        #expect(json["schema"] == "kubectl-xpid/report/v1")
        #expect(json["tool"] == ["name": "kubectl-xpid", "version": "0.1.0"])
        #expect(json["generatedAt"] == "2026-11-22T10:00:00Z")
        #expect(json["cluster"].object.keys.sorted() == ["cloud", "cloudEvidence", "context", "name", "region", "server"])
    }

    @Test("every finding has all 7 keys; remediation is null when absent")
    func findingKeys() throws {
        let json = try JSONValue.parse(Self.rendered())
        let findings = json["findings"].array
        #expect(findings.count == 6)
        for f in findings {
            #expect(f.object.keys.sorted() == ["check", "evidence", "fixable", "message", "remediation", "status", "subject"], "\(f)")
            if case .object = f["evidence"] {} else { Issue.record("evidence is not an object: \(f["evidence"])") }
            #expect(f["fixable"].bool != nil)
        }
        #expect(findings[0]["remediation"] == .null)
        #expect(findings[2]["remediation"]["summary"] == "create the association")
        #expect(findings[2]["remediation"]["commands"].array.count == 1)
        // `null` is written out, not omitted.
        #expect(Self.rendered().contains("\"remediation\" : null") || Self.rendered().contains("\"remediation\":null"))
    }

    @Test("summary counts the findings by status")
    func summaryCounts() throws {
        let json = try JSONValue.parse(Self.rendered())
        #expect(json["summary"] == ["pass": 2, "warn": 1, "fail": 1, "skip": 1, "error": 1])
        let s = Report.Summary([
            Finding(check: "a", status: .pass, subject: "cluster", message: ""), Finding(check: "b", status: .pass, subject: "cluster", message: ""),
            Finding(check: "c", status: .error, subject: "cluster", message: ""),
        ])
        #expect((s.pass, s.warn, s.fail, s.skip, s.error) == (2, 0, 0, 0, 1))
    }

    @Test("subjects: id, kind, name, namespace, serviceAccount (null when unknown), method, methodEvidence")
    func subjects() throws {
        let json = try JSONValue.parse(Self.rendered())
        let subjects = json["subjects"].array
        #expect(subjects.map { $0["id"] } == ["provider/provider-aws-s3", "provider/upbound-provider-family-aws", "function/function-auto-ready"])
        for s in subjects {
            #expect(s.object.keys.sorted() == ["id", "kind", "method", "methodEvidence", "name", "namespace", "serviceAccount"])
        }
        #expect(subjects[1]["serviceAccount"] == .null)
        #expect(subjects[0]["method"] == "pod-identity")
    }

    @Test("an unknown cluster writes nulls, not empty strings")
    func nullCluster() throws {
        let report = Report(version: "0.1.0", generatedAt: FixedReport.generatedAt, cluster: ClusterInfo(cloud: .unknown, cloudEvidence: "no nodes visible"), subjects: [], findings: [])
        let json = try JSONValue.parse(JSONRenderer.render(report))
        #expect(json["cluster"] == ["context": nil, "server": nil, "cloud": "unknown", "cloudEvidence": "no nodes visible", "name": nil, "region": nil])
        #expect(json["findings"] == [])
        #expect(json["summary"] == ["pass": 0, "warn": 0, "fail": 0, "skip": 0, "error": 0])
    }

    struct FailOnCase: Sendable, CustomTestStringConvertible {
        var statuses: [FindingStatus]
        var threshold: FindingStatus
        var fails: Bool
        var testDescription: String { "\(statuses.map(\.rawValue)) --fail-on \(threshold.rawValue) → \(fails)" }
    }

    @Test("--fail-on", arguments: [
        FailOnCase(statuses: [], threshold: .fail, fails: false),
        FailOnCase(statuses: [.pass, .skip], threshold: .fail, fails: false),
        FailOnCase(statuses: [.pass, .skip], threshold: .warn, fails: false),
        FailOnCase(statuses: [.pass, .warn], threshold: .fail, fails: false),
        FailOnCase(statuses: [.pass, .warn], threshold: .warn, fails: true),
        FailOnCase(statuses: [.fail], threshold: .fail, fails: true),
        FailOnCase(statuses: [.fail], threshold: .warn, fails: true),
        FailOnCase(statuses: [.error], threshold: .fail, fails: true),
    ])
    func failOn(_ c: FailOnCase) {
        let report = Report(version: "0", generatedAt: FixedReport.generatedAt, cluster: ClusterInfo(), subjects: [],
            findings: c.statuses.map { Finding(check: "x", status: $0, subject: "cluster", message: "") })
        #expect(report.fails(at: c.threshold) == c.fails)
    }

    @Test("hasFixable only counts fixable warn/fail findings")
    func hasFixable() {
        var report = FixedReport.make()
        #expect(report.hasFixable)
        report.findings = [Finding(check: "x", status: .pass, subject: "cluster", message: "", fixable: true)]
        #expect(!report.hasFixable)
    }
}
