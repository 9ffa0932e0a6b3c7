import Foundation
import Testing
import XpidCore

/// One passing or failing example of one check; the test case is named `check-id: example name`.
struct CatalogExample: Sendable, CustomTestStringConvertible {
    var checkID: String
    var isPassing: Bool
    var example: CheckExample

    var testDescription: String { "\(checkID): \(example.name)" }

    static var all: [CatalogExample] {
        Catalog.descriptions.flatMap { d in
            d.passing.map { CatalogExample(checkID: d.id, isPassing: true, example: $0) }
                + d.failing.map { CatalogExample(checkID: d.id, isPassing: false, example: $0) }
        }
    }

    /// Points failures at the example's definition in Sources.
    var sourceLocation: Testing.SourceLocation {
        let file = URL(fileURLWithPath: example.file).lastPathComponent
        return Testing.SourceLocation(fileID: "XpidCore/\(file)", filePath: example.file, line: example.line, column: 1)
    }
}

@Suite("Catalogue examples")
struct CatalogExampleTests {
    @Test("every example yields its expected status", arguments: CatalogExample.all)
    func example(_ c: CatalogExample) throws {
        let e = c.example
        if c.isPassing {
            #expect(e.expected == .pass, "a passing example must expect pass", sourceLocation: c.sourceLocation)
        } else {
            #expect(e.expected != .pass && e.expected != .skip, "a failing example must expect warn, fail or error", sourceLocation: c.sourceLocation)
        }
        let findings = CheckEngine(checks: Catalog.all).run(EvaluationContext(e.snapshot()))
        let subject = e.subject ?? "cluster"
        let mine = findings.filter { $0.check == c.checkID && $0.subject == subject }
        try #require(!mine.isEmpty, "no finding of \(c.checkID) for \(subject); subjects with findings: \(Set(findings.map(\.subject)).sorted())", sourceLocation: c.sourceLocation)
        #expect(
            worst(mine.map(\.status)) == e.expected,
            "\(c.checkID) for \(subject): \(mine.map { "\($0.status.rawValue): \($0.message)" })", sourceLocation: c.sourceLocation)
    }
}
