import Foundation

public struct RuntimeConfigCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "crossplane.runtime-config",
        title: "Runtime config exists and is the one in effect",
        summary: "`runtimeConfigRef` names an existing DeploymentRuntimeConfig; an ImageConfig `spec.runtime.configRef` that overrides it is reported.",
        rationale: "Identity settings (ServiceAccount name, annotations, pod labels) live in the DeploymentRuntimeConfig. A missing one stops the runtime from being built; an ImageConfig runtime silently replaces the package's own reference.",
        remediation: "Create the named DeploymentRuntimeConfig, or fix `runtimeConfigRef`; put identity settings in the DRC the ImageConfig selects when one matches.",
        mechanism: .crossplane, scope: .subject,
        reads: [.runtimeConfigs, .imageConfigs],
        passing: [CheckExample("referenced DRC exists", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("DRC missing", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.runtimeConfigs.removeAll { $0.metadata.name == "pod-identity-runtimeconfig" }
                return s
            },
            CheckExample("ImageConfig overrides the runtime config", subject: "provider/provider-aws-s3", expect: .warn) {
                var s = Examples.podIdentitySeed()
                s.imageConfigs = [ImageConfig(metadata: ObjectMeta(name: "upbound-runtime"), prefixes: ["xpkg.upbound.io/upbound/"], runtimeConfigName: "default")]
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.package != nil }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target, let package = subject.package else { return [] }
        let name = package.runtimeConfigName
        let exists = context.snapshot.runtimeConfig(named: name) != nil
        if !exists && (package.runtimeConfigRefSet || name != "default") {
            return [
                .fail(
                    "runtimeConfigRef names DeploymentRuntimeConfig \(name), which does not exist",
                    evidence: ["runtimeConfigRef": name],
                    remediation: Remediation(
                        "create it (or point runtimeConfigRef at an existing one)",
                        commands: [Commands.apply(Patches.emptyRuntimeConfig(name: name)), Commands.list(Commands.runtimeConfigResource)]))
            ]
        }
        if let override = SubjectResolver.imageConfigOverride(for: package, in: context.snapshot), let configName = override.config.runtimeConfigName, configName != name {
            return [
                .warn(
                    "ImageConfig \(override.config.metadata.name) (prefix \(override.prefix)) applies DeploymentRuntimeConfig \(configName), overriding runtimeConfigRef \(name)",
                    evidence: ["imageConfig": override.config.metadata.name, "effective": configName, "runtimeConfigRef": name],
                    remediation: Remediation(
                        "put the identity settings in \(configName), or narrow the ImageConfig's matchImages prefix",
                        commands: [Commands.getYAML("imageconfigs.pkg.crossplane.io", override.config.metadata.name)]))
            ]
        }
        return [.pass("runtime config \(name) exists and is in effect", evidence: ["runtimeConfig": name])]
    }
}
