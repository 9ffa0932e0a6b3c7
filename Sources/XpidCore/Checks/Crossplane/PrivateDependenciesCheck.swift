import Foundation

public struct PrivateDependenciesCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "crossplane.private-dependencies",
        title: "Family provider resolved from the private registry",
        summary: "A family service provider from a private registry either has `skipDependencyResolution: true` with its family provider installed and healthy (ideally from the same registry), or its dependency resolved healthy.",
        rationale: "Dependencies resolve from the public registry (and packagePullSecrets are not passed on), so a private-registry provider's auto-installed family provider fails; the service provider may look healthy but its ProviderConfig CRDs are missing (seed 001).",
        remediation: "Install the family provider yourself from the private registry and set `skipDependencyResolution: true` on the service provider.",
        mechanism: .crossplane, scope: .subject,
        liveOnly: true, passing: [
            CheckExample("family installed by hand, dependency resolution skipped", subject: "provider/provider-aws-s3", expect: .pass) {
                var s = Examples.irsaSeed()
                s.updatePackage("provider-aws-s3") { $0.skipDependencyResolution = true }
                s.packages.append(CrossplanePackage(
                    kind: .provider, metadata: ObjectMeta(name: "provider-family-aws"), package: "\(Examples.ecrRegistry)/crossplane/provider-family-aws:v1.21.0",
                    currentRevision: "provider-family-aws-0a1b2c3d4e5f", conditions: Examples.healthy()))
                return s
            }
        ],
        failing: [
            CheckExample("dependency auto-installed from the public registry and failing", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.irsaSeed()
                s.packages.append(CrossplanePackage(
                    kind: .provider, metadata: ObjectMeta(name: "upbound-provider-family-aws"), package: "xpkg.upbound.io/upbound/provider-family-aws:v1.21.0",
                    currentRevision: "upbound-provider-family-aws-0a1b2c3d4e5f",
                    conditions: [Condition(type: "Installed", status: "False", reason: "UnpackingPackage", message: "cannot unpack package: failed to fetch package digest from xpkg.upbound.io/upbound/provider-family-aws:v1.21.0: unauthorized: authentication required"), Condition(type: "Healthy", status: "False")]))
                return s
            },
            CheckExample("skipDependencyResolution without the family", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.irsaSeed()
                s.updatePackage("provider-aws-s3") { $0.skipDependencyResolution = true }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool {
        guard subject.kind == .provider, let ref = subject.package?.reference else { return false }
        return Self.family(of: ref) != nil && ref.registryKind != .publicCrossplane
    }

    /// `provider-aws-s3` → `provider-family-aws` (likewise azure, gcp); nil for the family itself and non-family providers.
    static func family(of ref: PackageReference) -> String? {
        for cloud in ["aws", "azure", "azuread", "gcp"] where ref.name.hasPrefix("provider-\(cloud)-") {
            return "provider-family-\(cloud)"
        }
        return nil
    }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let package = subject.package, let familyName = Self.family(of: package.reference) else { return [] }
        let ref = package.reference
        let families = context.index.packagesByName[familyName] ?? []
        let healthy = families.filter { $0.condition("Installed")?.status == "True" && $0.condition("Healthy")?.status == "True" }
        // The family at the same version as the provider that needs it (untagged when the provider is pinned by digest).
        let privateFamily = "\((ref.registry.map { $0 + "/" } ?? ""))\(ref.repository.split(separator: "/").dropLast().joined(separator: "/"))/\(familyName)" + (ref.tag.map { ":\($0)" } ?? "")
        let installFamily = Commands.apply(Patches.provider(name: familyName, package: privateFamily))
        let skip = Commands.patch(Commands.packageResource(subject), subject.name, Patches.skipDependencyResolution)
        if package.skipDependencyResolution {
            guard let family = healthy.first else {
                let state = families.isEmpty ? "is not installed" : "is not healthy (\(families.map(\.metadata.name).joined(separator: ", ")))"
                return [
                    .fail(
                        "\(subject.id) skips dependency resolution, but \(familyName) \(state): its ProviderConfig CRDs are missing and managed resources cannot authenticate",
                        evidence: ["family": familyName],
                        remediation: Remediation("install the family provider from the same registry", commands: [installFamily]))
                ]
            }
            if family.reference.registry != ref.registry {
                return [
                    .warn(
                        "\(familyName) (\(family.metadata.name)) comes from \(family.reference.registry ?? "the default registry"), not \(ref.registry ?? "?") like \(subject.id)",
                        remediation: Remediation("pull the family from the same private registry", commands: [installFamily]))
                ]
            }
            return [.pass("skipDependencyResolution with \(family.metadata.name) installed and healthy from \(family.reference.registry ?? "the default registry")")]
        }
        if let family = healthy.first {
            return [.pass("dependency \(family.metadata.name) resolved and healthy")]
        }
        let failing = families.map { f in
            let message = [f.condition("Installed"), f.condition("Healthy")].compactMap { $0 }.first { $0.status != "True" }?.message
            return "\(f.metadata.name) from \(f.package)" + (message.map { ": \($0)" } ?? " is not healthy")
        }
        let what = failing.isEmpty ? "\(familyName) is not installed" : failing.joined(separator: "; ")
        return [
            .fail(
                "\(subject.id) comes from private registry \(ref.registry ?? "?"), and its dependency did not resolve: \(what). Dependencies resolve from the public registry without the private credentials; the provider may look healthy while its ProviderConfig CRDs are missing",
                evidence: ["family": familyName, "registry": ref.registry ?? ""],
                remediation: Remediation(
                    "install the family from the private registry yourself and skip dependency resolution (then delete the failed auto-installed family provider)",
                    commands: [installFamily, skip] + families.filter { $0.reference.registry != ref.registry }.map { Commands.delete("providers.pkg.crossplane.io", $0.metadata.name) }))
        ]
    }
}
