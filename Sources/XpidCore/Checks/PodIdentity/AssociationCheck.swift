import Foundation

public struct AssociationCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "podid.association",
        title: "Pod Identity association exists",
        summary: "An EKS Pod Identity association exists in this cluster for the subject's (namespace, ServiceAccount); its role ARN is read with `describe-pod-identity-association`.",
        rationale: "The association is what maps the ServiceAccount to an IAM role; without one for the exact namespace and name, the webhook injects nothing and the agent has no role to hand out.",
        remediation: "`aws eks create-pod-identity-association --cluster-name … --namespace … --service-account … --role-arn …`.",
        mechanism: .podIdentity, scope: .subject, cloud: true, dependsOn: ["podid.stable-sa-name"],
        passing: [CheckExample("association for the pinned SA", subject: "provider/provider-aws-s3", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("association for another SA name", subject: "provider/provider-aws-s3", expect: .fail) {
                var s = Examples.podIdentitySeed()
                s.updateAssociations { $0.serviceAccount = "provider-aws-s3" }
                return s
            },
            CheckExample("aws CLI not logged in", subject: "provider/provider-aws-s3", expect: .error) {
                var s = Examples.podIdentitySeed()
                s.aws.associations = .failed(CloudError(kind: .notLoggedIn, message: "Unable to locate credentials", command: Command(argv: ["aws", "eks", "list-pod-identity-associations", "--cluster-name", "prod-eks"])))
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { subject.method == .podIdentity }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        guard let sa = subject.serviceAccountName else { return [.skip("ServiceAccount unknown (no runtime Deployment or pod)")] }
        let listed: [PodIdentityAssociation]
        switch context.snapshot.aws.associations {
        case .value(let all): listed = all
        case let other: return [other.unavailableResult(what: "pod identity associations of cluster \(context.clusterLabel)") ?? .skip("")]
        }
        let matching = listed.filter { $0.namespace == subject.namespace && $0.serviceAccount == sa }
        guard let summary = matching.first else {
            let sameNamespace = listed.filter { $0.namespace == subject.namespace }.map(\.serviceAccount).sorted()
            let listedText = sameNamespace.isEmpty
                ? "\(listed.count) associations in the cluster, none in \(subject.namespace)"
                : "\(sameNamespace.count) associations in \(subject.namespace) (\(sameNamespace.joined(separator: ", "))), none for this service account"
            return [
                .fail(
                    "no EKS Pod Identity association for \(subject.namespace)/\(sa) in cluster \(context.clusterLabel)",
                    evidence: ["listed": listedText],
                    remediation: Remediation("create the association", commands: [Commands.createAssociation(context, namespace: subject.namespace, serviceAccount: sa)]))
            ]
        }
        switch context.snapshot.aws.describedAssociations[summary.id] {
        case .value(let association):
            var evidence = ["associationId": association.id, "roleArn": association.roleArn ?? ""]
            if let created = association.createdAt { evidence["createdAt"] = Timestamp.format(created) }
            if let target = association.targetRoleArn { evidence["targetRoleArn"] = target }
            return [.pass("association \(association.id) maps \(subject.namespace)/\(sa) to \(association.roleArn ?? "(no role)")", evidence: evidence)]
        case .some(let other):
            return [other.unavailableResult(what: "association \(summary.id)") ?? .skip("")]
        case .none:
            return [.error("association \(summary.id) was listed but not described")]
        }
    }
}

extension EvaluationContext {
    /// The described association for a subject's ServiceAccount, when there is exactly one to use.
    public func association(for subject: Subject) -> PodIdentityAssociation? {
        guard let sa = subject.serviceAccountName else { return nil }
        return snapshot.associations(namespace: subject.namespace, serviceAccount: sa).first
    }
}
