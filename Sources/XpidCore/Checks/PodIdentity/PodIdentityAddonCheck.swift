import Foundation

public struct PodIdentityAddonCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "eks.pod-identity-addon",
        title: "Pod Identity add-on active",
        summary: "The EKS add-on `eks-pod-identity-agent` is installed and `ACTIVE` (checked when any subject uses EKS Pod Identity).",
        rationale: "A DEGRADED or failed add-on leaves agent pods missing or outdated on some nodes; the add-on status and health issues say why.",
        remediation: "Create or repair the add-on with `aws eks create-addon` / `aws eks update-addon`.",
        mechanism: .podIdentity, scope: .cluster, cloud: true,
        passing: [CheckExample("add-on ACTIVE", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("add-on DEGRADED", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.aws.podIdentityAddon = .value(EKSAddon(name: PodIdentityFacts.addonName, status: "DEGRADED", healthIssues: ["InsufficientNumberOfReplicas: 1 of 2 ready"]))
                return s
            },
            CheckExample("add-on and DaemonSet missing", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.aws.podIdentityAddon = .notFound("No addon: eks-pod-identity-agent found in cluster: prod-eks")
                s.daemonSets = []
                return s
            },
        ])

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard context.index.hasPodIdentitySubject else {
            return [.skip("no subject uses EKS Pod Identity")]
        }
        if context.snapshot.nodes.contains(where: { $0.eksComputeType == "auto" }) && !context.snapshot.nodes.contains(where: { $0.eksComputeType == nil }) {
            return [.skip("EKS Auto Mode has Pod Identity built in; no add-on needed")]
        }
        switch context.snapshot.aws.podIdentityAddon {
        case .value(let addon):
            if addon.status == "ACTIVE" {
                return [.pass("add-on \(addon.name) \(addon.version ?? "") is ACTIVE", evidence: ["status": addon.status])]
            }
            let issues = addon.healthIssues.isEmpty ? "" : " (\(addon.healthIssues.joined(separator: "; ")))"
            return [
                .fail(
                    "add-on \(addon.name) is \(addon.status)\(issues)", evidence: ["status": addon.status],
                    remediation: Remediation(
                        "inspect and repair the add-on",
                        commands: [Commands.describeAddon(context, addon: addon.name), Commands.updateAddon(context, addon: addon.name)]))
            ]
        case .notFound:
            if let agent = context.snapshot.podIdentityAgent {
                return [
                    .warn(
                        "the EKS add-on is not installed, but DaemonSet kube-system/\(agent.metadata.name) exists (self-managed install): EKS will not keep it updated",
                        remediation: Remediation("adopt it as a managed add-on", commands: [Commands.createAddon(context).appending(["--resolve-conflicts", "OVERWRITE"])]))
                ]
            }
            return [
                .fail(
                    "add-on \(PodIdentityFacts.addonName) is not installed in cluster \(context.clusterLabel)",
                    remediation: Remediation("install the add-on", commands: [Commands.createAddon(context)]))
            ]
        default:
            return [context.snapshot.aws.podIdentityAddon.unavailableResult(what: "add-on \(PodIdentityFacts.addonName)") ?? .skip("")]
        }
    }
}
