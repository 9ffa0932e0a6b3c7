import Foundation

public struct ClusterCloudCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "cluster.cloud",
        title: "Cloud identified",
        summary: "The cluster's cloud (EKS, AKS or GKE) is identified from Node `spec.providerID` or labels, or given with `--cloud`.",
        rationale: "Which webhook, annotations and cloud calls apply depends on the cloud; a wrong guess makes every later check meaningless.",
        remediation: "Pass `--cloud aws|azure|gcp` when nodes are not readable or carry no provider ID.",
        mechanism: .cluster, scope: .cluster,
        passing: [CheckExample("EKS node providerID", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("kind cluster without provider IDs", expect: .warn) {
                var s = Examples.podIdentitySeed()
                s.cluster.cloud = .unknown
                s.cluster.cloudEvidence = "no node carries an EKS, AKS or GKE providerID or label"
                return s
            }
        ])

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        let info = context.snapshot.cluster
        if info.cloud != .unknown {
            return [.pass("cloud is \(info.cloud.rawValue) (\(info.cloudEvidence))", evidence: ["evidence": info.cloudEvidence])]
        }
        if let (read, outcome) = context.snapshot.failedRead("nodes"), case .forbidden = outcome {
            return [.error("cannot identify the cloud: \(read.displayName) is forbidden", remediation: Remediation("grant list on nodes, or name the cloud with --cloud aws|azure|gcp", commands: [Commands.xpid(["verify", "--cloud", Self.cloudVariable])]))]
        }
        return [
            .warn(
                "cloud not identified: \(info.cloudEvidence)", evidence: ["evidence": info.cloudEvidence],
                remediation: Remediation("name the cloud explicitly", commands: [Commands.xpid(["verify", "--cloud", Self.cloudVariable])]))
        ]
    }

    /// The cloud is exactly what is unknown here: the user names it.
    static let cloudVariable = Command.Word.variable("CLOUD", meaning: "the cluster's cloud: aws (EKS), azure (AKS) or gcp (GKE)")
}
