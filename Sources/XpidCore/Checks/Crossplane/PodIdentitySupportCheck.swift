import Foundation

public struct PodIdentitySupportCheck: Check {
    public init() {}

    /// `credentials.source: PodIdentity` first shipped in provider-upjet-aws v1.12.0.
    static let firstSupporting = (major: 1, minor: 12, patch: 0)

    public static let description = CheckDescription(
        id: "crossplane.pod-identity-support",
        title: "Provider supports Pod Identity",
        summary: "Pod Identity is used only with providers that support it: upjet AWS family providers from v1.12.0, not the classic `provider-aws` nor the old monolith.",
        rationale: "The classic crossplane-contrib/provider-aws and upjet releases before v1.12.0 have no `PodIdentity` credentials source; the ProviderConfig is rejected or the provider never finds credentials.",
        remediation: "Move to the upjet family provider (e.g. `xpkg.upbound.io/upbound/provider-aws-s3`) v1.12.0 or later, or use IRSA.",
        mechanism: .crossplane, scope: .subject,
        passing: [
            CheckExample("upjet provider v2.3.0", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() },
            CheckExample("floating major tag v1 (seed 003)", subject: "provider/provider-aws-s3", expect: .pass) {
                var s = Examples.podIdentitySeed()
                s.updatePackage("provider-aws-s3") { $0.package = "xpkg.upbound.io/upbound/provider-aws-s3:v1" }
                return s
            },
        ],
        failing: [
            CheckExample("classic provider-aws", subject: "provider/provider-aws", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.updatePackage("provider-aws-s3") {
                    $0.metadata.name = "provider-aws"
                    $0.package = "xpkg.crossplane.io/crossplane-contrib/provider-aws:v0.50.0"
                }
                s.updatePods(where: { _ in true }) { if $0.metadata.labels["pkg.crossplane.io/provider"] == "provider-aws-s3" { $0.metadata.labels["pkg.crossplane.io/provider"] = "provider-aws" } }
                return s
            },
            CheckExample("upjet provider older than v1.12.0", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.updatePackage("provider-aws-s3") { $0.package = "xpkg.upbound.io/upbound/provider-aws-s3:v1.3.0" }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool {
        subject.method == .podIdentity && subject.isAWSProvider && !subject.isFamilyProvider
    }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let ref = subject.package?.reference else { return [] }
        let version = ref.tag ?? "(no tag)"
        if ref.name == "provider-aws" {
            let which = ref.organization == "upbound" ? "the upjet monolith upbound/provider-aws" : "the classic \(ref.organization ?? "crossplane-contrib")/provider-aws"
            return [
                .fail(
                    "\(subject.id) is \(which) \(version), which has no PodIdentity credentials source",
                    evidence: ["package": ref.text],
                    remediation: Remediation(
                        "install the upjet family providers (one per service), or use IRSA with this provider",
                        commands: [Commands.apply(Patches.provider(name: "provider-aws-s3", package: "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0"))]))
            ]
        }
        // A floating major tag such as seed 003's `:v1` resolves to the newest v1.x, which supports it.
        let floating = (ref.tag ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "v")).split(separator: ".").count == 1
        if let v = ref.semanticVersion, floating ? v.major < Self.firstSupporting.major : (v.major, v.minor, v.patch) < Self.firstSupporting {
            return [
                .fail(
                    "\(subject.id) is \(ref.repository) \(version); credentials.source PodIdentity needs v1.12.0 or later",
                    evidence: ["package": ref.text],
                    remediation: Remediation("upgrade the provider", commands: [Commands.patch(Commands.packageResource(subject), subject.name, Patches.package((ref.registry.map { $0 + "/" } ?? "") + ref.repository + ":v2.3.0"))]))
            ]
        }
        return [.pass("\(ref.repository) \(version) supports credentials.source PodIdentity", evidence: ["package": ref.text])]
    }
}
