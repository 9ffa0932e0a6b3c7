import Foundation

public struct ClusterAccessCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "cluster.access",
        title: "Read access",
        summary: "Every read the checks need (get/list on the objects they inspect) is allowed for the current user.",
        rationale: "A forbidden read silently hides the objects a check needs; the report must say which permission is missing instead of guessing.",
        remediation: "Grant the missing verb on the resource (see the README's read-only ClusterRole), or run as a user who has it.",
        mechanism: .cluster, scope: .cluster,
        liveOnly: true, passing: [CheckExample("all reads allowed", expect: .pass) { Examples.podIdentitySeed() }],
        failing: [
            CheckExample("list pods forbidden", expect: .error) {
                var s = Examples.podIdentitySeed()
                s.reads[ResourceRead(resource: "pods", namespace: "crossplane-system")] = .forbidden(
                    verb: "list", message: "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"crossplane-system\"")
                return s
            }
        ])

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        let denied = context.snapshot.reads.filter { !$0.value.isUsable }.sorted { $0.key < $1.key }
        if denied.isEmpty {
            return [.pass("all \(context.snapshot.reads.count) reads allowed")]
        }
        return denied.compactMap { read, outcome -> CheckResult? in
            switch outcome {
            case .forbidden(let verb, let message):
                return CheckResult(
                    .error, "cannot \(verb) \(read.displayName): \(message)",
                    evidence: ["verb": verb, "resource": read.resource, "apiGroup": read.group, "namespace": read.namespace ?? "*"],
                    remediation: Self.grant(verb: verb, read: read, outcome: outcome))
            case .failed(let message):
                return CheckResult(.error, "could not read \(read.displayName): \(message)", evidence: ["resource": read.resource])
            case .ok, .notInstalled:
                return nil
            }
        }
    }

    /// How to grant the read; the user is taken from the Forbidden message when it names one.
    static func grant(verb: String, read: ResourceRead, outcome: ReadOutcome? = nil) -> Remediation {
        let resource = read.group.isEmpty ? read.resource : "\(read.resource).\(read.group)"
        var user: String?
        if case .forbidden(_, let message) = outcome { user = ForbiddenUser.parse(message) }
        return Remediation(
            "grant \(verb) on \(resource) (RBAC rule: apiGroups [\"\(read.group)\"], resources [\"\(read.resource)\"], verbs [\"get\", \"list\"])",
            commands: Commands.grantRead(resource: read.resource, group: read.group, namespace: read.namespace, verb: verb, user: user))
    }
}

/// The user a Kubernetes Forbidden message names: `User "alice" cannot list …`.
public enum ForbiddenUser {
    public static func parse(_ message: String) -> String? {
        guard let start = message.range(of: "User \"") else { return nil }
        let tail = message[start.upperBound...]
        guard let end = tail.firstIndex(of: "\"") else { return nil }
        let user = String(tail[..<end])
        return user.isEmpty ? nil : user
    }
}
