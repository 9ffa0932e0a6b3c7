import Foundation
import Testing
import XpidCore

@Suite("Catalogue metadata")
struct CatalogMetadataTests {
    /// Every check ID in the spec (`checks.md`), copied verbatim: the spec is the contract.
    static let specIDs: Set<String> = [
        "cluster.cloud", "cluster.access", "eks.pod-identity-agent", "eks.oidc-provider", "eks.pod-identity-addon",
        "aks.workload-identity", "gke.workload-pool",
        "irsa.sa-annotation", "irsa.injected", "irsa.pods-current", "irsa.trust-policy", "irsa.stable-sa-name",
        "podid.stable-sa-name", "podid.shared-sa", "podid.association", "podid.trust-policy", "podid.injected",
        "podid.pods-current", "podid.irsa-shadowing", "podid.role-chain",
        "azure.sa-annotation", "azure.pod-label", "azure.injected", "azure.pods-current", "azure.federated-credential", "azure.providerconfig",
        "gke.sa-annotation", "gke.no-host-network", "gke.iam-binding",
        "crossplane.package-health", "crossplane.core-registry-identity", "crossplane.registry-permissions", "crossplane.node-pull",
        "crossplane.private-dependencies", "crossplane.providerconfig-source", "crossplane.runtime-config", "crossplane.pod-identity-support",
        "flux.controller-identity", "flux.object-level-gate", "flux.object-sa", "flux.provider-field",
    ]

    /// The checks implemented so far, in catalogue order.
    static let implementedIDs = [
        "cluster.cloud", "cluster.access", "eks.pod-identity-agent", "eks.pod-identity-addon", "eks.oidc-provider",
        "irsa.sa-annotation", "irsa.pods-current", "irsa.injected", "irsa.trust-policy", "irsa.stable-sa-name",
        "podid.stable-sa-name", "podid.shared-sa", "podid.association", "podid.trust-policy", "podid.pods-current",
        "podid.injected", "podid.irsa-shadowing", "podid.role-chain",
        "aks.workload-identity", "azure.sa-annotation", "azure.pod-label", "azure.pods-current", "azure.injected", "azure.stable-sa-name",
        "azure.federated-credential", "azure.providerconfig",
        "gke.workload-pool", "gke.sa-annotation", "gke.no-host-network", "gke.credentials-env", "gke.iam-binding",
        "crossplane.package-health", "crossplane.runtime-config", "crossplane.core-registry-identity", "crossplane.registry-permissions",
        "crossplane.node-pull", "crossplane.private-dependencies", "crossplane.pod-identity-support", "crossplane.providerconfig-source",
        "flux.controller-identity", "flux.object-level-gate", "flux.object-sa", "flux.provider-field", "flux.token-permission", "flux.object-health",
    ]

    static let ids = Catalog.descriptions.map(\.id)

    @Test("the catalogue holds exactly the implemented checks, in order")
    func exactlyImplemented() {
        #expect(Self.ids == Self.implementedIDs)
    }

    /// Checks the spec does not list but users need (the spec is the minimum).
    static let beyondSpec: Set<String> = ["azure.stable-sa-name", "gke.credentials-env", "flux.token-permission", "flux.object-health"]

    @Test("every implemented ID comes from the spec")
    func idsFromSpec() {
        for id in Self.implementedIDs where !Self.beyondSpec.contains(id) { #expect(Self.specIDs.contains(id), "\(id) is not in the spec") }
        #expect(Self.specIDs.count == 41)
    }

    @Test("IDs are unique")
    func unique() {
        #expect(Set(Self.ids).count == Self.ids.count, "duplicates: \(Dictionary(grouping: Self.ids, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted())")
    }

    @Test("IDs have the lowercase area.kebab-name form", arguments: Catalog.descriptions.map(\.id))
    func idForm(_ id: String) throws {
        let pattern = try Regex("^[a-z]+\\.[a-z0-9]+(-[a-z0-9]+)*$")
        #expect(id.wholeMatch(of: pattern) != nil, "\(id)")
        #expect(id == id.lowercased())
    }

    @Test("examples and texts", arguments: Catalog.descriptions.map(\.id))
    func content(_ id: String) throws {
        let d = try #require(Catalog.description(id))
        #expect(!d.passing.isEmpty, "\(id) has no passing example")
        #expect(!d.failing.isEmpty, "\(id) has no failing example")
        for text in [d.title, d.summary, d.rationale, d.remediation] {
            #expect(!text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(id) has an empty text")
        }
        let names = (d.passing + d.failing).map(\.name)
        #expect(Set(names).count == names.count, "\(id): example names must be unique (they name test cases)")
    }

    @Test("dependsOn only names checks that come earlier in Catalog.all", arguments: Catalog.descriptions.map(\.id))
    func dependenciesEarlier(_ id: String) throws {
        let d = try #require(Catalog.description(id))
        let index = try #require(Self.ids.firstIndex(of: id))
        for dep in d.dependsOn {
            let depIndex = Self.ids.firstIndex(of: dep)
            #expect(depIndex != nil, "\(id) depends on unknown check \(dep)")
            if let depIndex { #expect(depIndex < index, "\(id) depends on \(dep), which comes later") }
        }
    }

    @Test("scope and cloud flags match the spec's (cloud) marks")
    func cloudMarks() {
        let cloud = Set(Catalog.descriptions.filter(\.cloud).map(\.id))
        #expect(cloud == ["eks.pod-identity-addon", "eks.oidc-provider", "irsa.trust-policy", "podid.association", "podid.trust-policy", "podid.role-chain", "crossplane.registry-permissions", "azure.federated-credential", "gke.iam-binding"])
        let cluster = Set(Catalog.descriptions.filter { $0.scope == .cluster }.map(\.id))
        #expect(cluster == ["cluster.cloud", "cluster.access", "eks.pod-identity-addon", "eks.oidc-provider", "aks.workload-identity", "gke.workload-pool"])
    }

    @Test("Catalog.description finds by ID")
    func lookup() {
        #expect(Catalog.description("podid.association")?.title == "Pod Identity association exists")
        #expect(Catalog.description("nope.nope") == nil)
    }
}
