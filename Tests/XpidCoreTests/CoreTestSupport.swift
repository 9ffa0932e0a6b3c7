import Foundation
import XpidCore

/// The worst of several statuses: by severity, then `pass < skip < warn < fail < error`.
func worst(_ statuses: [FindingStatus]) -> FindingStatus? {
    statuses.max { a, b in a.severity != b.severity ? a.severity < b.severity : a < b }
}

func run(_ snapshot: Snapshot, only: Set<String> = [], skip: Set<String> = [], subjects: Set<String> = []) -> [Finding] {
    CheckEngine(checks: Catalog.all).run(EvaluationContext(snapshot), only: only, skip: skip, subjectFilter: subjects)
}

extension Array where Element == Finding {
    func of(_ check: String, _ subject: String = "provider/provider-aws-s3") -> [Finding] {
        filter { $0.check == check && $0.subject == subject }
    }

    func one(_ check: String, _ subject: String = "provider/provider-aws-s3") -> Finding? {
        let found = of(check, subject)
        return found.count == 1 ? found[0] : nil
    }
}

let s3 = "provider/provider-aws-s3"
let family = "provider/upbound-provider-family-aws"

func subject(_ id: String, in snapshot: Snapshot) -> Subject? {
    SubjectResolver.subjects(in: snapshot).first { $0.id == id }
}
