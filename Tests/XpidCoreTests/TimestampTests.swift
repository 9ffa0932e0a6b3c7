import Foundation
import Testing
import XpidCore

struct TimestampCase: Sendable, CustomTestStringConvertible {
    var input: JSONValue
    var epoch: Double?
    var testDescription: String { input.compactText() }
}

@Suite("Timestamps")
struct TimestampTests {
    /// 2026-11-05T10:00:00Z
    static let base = 1_793_872_800.0

    static let cases: [TimestampCase] = [
        TimestampCase(input: "2026-11-05T10:00:00Z", epoch: base),
        TimestampCase(input: "2026-11-05T10:00:00.5Z", epoch: base + 0.5),
        TimestampCase(input: "2026-11-05T10:00:00.123Z", epoch: base + 0.123),
        TimestampCase(input: "2026-11-05T10:00:00+00:00", epoch: base),
        TimestampCase(input: "2026-11-05T12:00:00+02:00", epoch: base),
        TimestampCase(input: "2026-11-05T05:00:00-05:00", epoch: base),
        TimestampCase(input: "2026-11-05T10:00:00.123000+00:00", epoch: base + 0.123),
        TimestampCase(input: "2026-11-05T10:00:00.123456Z", epoch: base + 0.123),
        TimestampCase(input: .number(base), epoch: base),
        TimestampCase(input: .number(base + 0.25), epoch: base + 0.25),
        TimestampCase(input: "1793872800", epoch: base),
        TimestampCase(input: "yesterday", epoch: nil),
        TimestampCase(input: "2026-13-45T99:00:00Z", epoch: nil),
        TimestampCase(input: "", epoch: nil),
        TimestampCase(input: .null, epoch: nil),
        TimestampCase(input: true, epoch: nil),
    ]

    @Test("parse", arguments: cases)
    func parse(_ c: TimestampCase) throws {
        let parsed = Timestamp.parse(c.input)
        guard let epoch = c.epoch else {
            #expect(parsed == nil)
            return
        }
        let date = try #require(parsed)
        #expect(abs(date.timeIntervalSince1970 - epoch) < 0.0005, "\(date.timeIntervalSince1970)")
    }

    @Test("format is RFC 3339 UTC without fractions")
    func format() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.base)) == "2026-11-05T10:00:00Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.base + 0.9)) == "2026-11-05T10:00:00Z")
    }

    @Test("objects read their timestamps")
    func fromObjects() throws {
        let meta = ObjectMeta(["name": "x", "creationTimestamp": "2026-11-05T10:00:00Z"])
        #expect(meta.creationTimestamp?.timeIntervalSince1970 == Self.base)
        let a = try #require(PodIdentityAssociation(["associationId": "a-1", "namespace": "ns", "serviceAccount": "sa", "createdAt": "2026-11-05T10:00:00.123000+00:00", "modifiedAt": .number(Self.base + 60)]))
        #expect(a.effectiveSince?.timeIntervalSince1970 == Self.base + 60, "the later of createdAt and modifiedAt")
    }
}
