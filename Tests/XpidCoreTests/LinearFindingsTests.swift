import Foundation
import Testing
import XpidCore

@Suite("Findings stay linear: complete ProviderConfigs are one finding per provider, not one per pair")
struct LinearFindingsTests {
    /// The AKS seed with `count` OIDCTokenFile ClusterProviderConfigs, all complete.
    static func seed(configs count: Int) -> Snapshot {
        var s = Examples.aksSeed()
        let base = s.providerConfigs[0]
        s.providerConfigs = (0..<count).map { i in
            var pc = base
            pc.metadata.name = i == 0 ? base.metadata.name : "identity-\(i)"
            return pc
        }
        return s
    }

    static func findings(_ s: Snapshot) -> [Finding] {
        CheckEngine().run(EvaluationContext(s)).filter { $0.check == "azure.providerconfig" && $0.subject == "provider/provider-azure-storage" }
    }

    @Test("one complete ProviderConfig: one pass naming it")
    func one() {
        let f = Self.findings(Self.seed(configs: 1))
        #expect(f.count == 1 && f[0].status == .pass && f[0].evidence["providerConfig"] != nil, "\(f)")
    }

    @Test("three complete: one pass listing the three; eight: five named and 3 more")
    func many() {
        let three = Self.findings(Self.seed(configs: 3))
        #expect(three.count == 1 && three[0].status == .pass, "\(three)")
        #expect(three[0].message.hasPrefix("3 OIDCTokenFile ProviderConfigs ("), "\(three[0].message)")
        let eight = Self.findings(Self.seed(configs: 8))
        #expect(eight.count == 1 && eight[0].message.contains("and 3 more"), "\(eight.map(\.message))")
    }

    @Test("a broken one among complete ones: its fail plus one pass for the rest")
    func brokenAmongComplete() {
        var s = Self.seed(configs: 4)
        s.providerConfigs[2].subscriptionID = nil
        let f = Self.findings(s)
        #expect(f.filter { $0.status == .fail }.count == 1)
        #expect(f.filter { $0.status == .pass }.count == 1 && f.contains { $0.message.hasPrefix("3 OIDCTokenFile ProviderConfigs") }, "\(f.map(\.message))")
    }
}
