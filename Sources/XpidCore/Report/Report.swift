import Foundation

/// A Kubernetes object by kind, namespace and name.
public struct ObjectReference: Sendable, Hashable {
    public var kind: String
    public var namespace: String?
    public var name: String

    public init(kind: String, namespace: String?, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// `Kind namespace/name` (or `Kind name` for cluster-scoped objects).
    public var text: String { namespace.map { "\(kind) \($0)/\(name)" } ?? "\(kind) \(name)" }
}

/// Where an object was read from: a manifest file and the line its document starts on.
public struct ManifestLocation: Sendable, Equatable {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
}

/// The one result model every renderer reads (text and JSON never disagree).
public struct Report: Sendable, Equatable {
    public static let schema = "kubectl-xpid/report/v1"

    public struct Tool: Sendable, Equatable { public var name: String; public var version: String }

    public struct SubjectSummary: Sendable, Equatable {
        public var id: String
        public var kind: String
        public var name: String
        public var namespace: String
        public var serviceAccount: String?
        public var method: String
        public var methodEvidence: String
    }

    public struct Summary: Sendable, Equatable {
        public var pass = 0, warn = 0, fail = 0, skip = 0, error = 0

        public init(_ findings: [Finding]) {
            for f in findings {
                switch f.status {
                case .pass: pass += 1
                case .warn: warn += 1
                case .fail: fail += 1
                case .skip: skip += 1
                case .error: error += 1
                }
            }
        }
    }

    public var tool: Tool
    public var generatedAt: Date
    public var cluster: ClusterInfo
    public var subjects: [SubjectSummary]
    public var findings: [Finding]
    /// Notes about how the run went (what was discovered, what was not possible); text output only.
    public var notes: [String]
    /// The object behind each subject (by subject ID), and where it was read from when it came from a manifest.
    public var objects: [String: ObjectReference]
    public var locations: [String: ManifestLocation]

    public init(
        version: String, generatedAt: Date, cluster: ClusterInfo, subjects: [Subject], findings: [Finding], notes: [String] = [],
        locations: [ObjectReference: ManifestLocation] = [:]
    ) {
        var objects: [String: ObjectReference] = [:]
        var located: [String: ManifestLocation] = [:]
        for s in subjects {
            objects[s.id] = s.primaryObject
            if let l = locations[s.primaryObject] { located[s.id] = l }
        }
        self.objects = objects
        self.locations = located
        tool = Tool(name: "kubectl-xpid", version: version)
        self.generatedAt = generatedAt
        self.cluster = cluster
        self.subjects = subjects.map {
            SubjectSummary(id: $0.id, kind: $0.kind.rawValue, name: $0.name, namespace: $0.namespace, serviceAccount: $0.serviceAccountName, method: $0.method.rawValue, methodEvidence: $0.methodEvidence)
        }
        self.findings = findings
        self.notes = notes
    }

    public var summary: Summary { Summary(findings) }

    public var hasFixable: Bool { findings.contains { $0.fixable && ($0.status == .fail || $0.status == .warn) } }

    /// True when some finding is at or above the threshold (`--fail-on`).
    public func fails(at threshold: FindingStatus) -> Bool {
        findings.contains { $0.status.severity >= threshold.severity && $0.status.severity > 0 }
    }
}

extension Report: Encodable {
    private enum Keys: String, CodingKey {
        case schema, tool, generatedAt, cluster, summary, subjects, findings
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(Self.schema, forKey: .schema)
        try c.encode(["name": tool.name, "version": tool.version], forKey: .tool)
        try c.encode(Timestamp.format(generatedAt), forKey: .generatedAt)
        let cluster: [String: JSONValue] = [
            "context": self.cluster.context.map(JSONValue.string) ?? .null,
            "server": self.cluster.server.map(JSONValue.string) ?? .null,
            "cloud": .string(self.cluster.cloud.rawValue),
            "cloudEvidence": .string(self.cluster.cloudEvidence),
            "name": self.cluster.name.map(JSONValue.string) ?? .null,
            "region": self.cluster.region.map(JSONValue.string) ?? .null,
        ]
        var clusterBlock = cluster
        // Cloud coordinates appear only where they mean something (keys stay stable for EKS reports).
        if self.cluster.cloud == .azure {
            clusterBlock["resourceGroup"] = self.cluster.resourceGroup.map(JSONValue.string) ?? .null
            clusterBlock["subscription"] = self.cluster.subscription.map(JSONValue.string) ?? .null
        }
        if self.cluster.cloud == .gcp {
            clusterBlock["project"] = self.cluster.project.map(JSONValue.string) ?? .null
            clusterBlock["location"] = self.cluster.location.map(JSONValue.string) ?? .null
        }
        try c.encode(clusterBlock, forKey: .cluster)
        let s = summary
        try c.encode(["pass": s.pass, "warn": s.warn, "fail": s.fail, "skip": s.skip, "error": s.error], forKey: .summary)
        let subjects: [JSONValue] = self.subjects.map {
            [
                "id": .string($0.id), "kind": .string($0.kind), "name": .string($0.name), "namespace": .string($0.namespace),
                "serviceAccount": $0.serviceAccount.map(JSONValue.string) ?? .null, "method": .string($0.method), "methodEvidence": .string(Printable.text($0.methodEvidence)),
            ]
        }
        try c.encode(subjects, forKey: .subjects)
        let findings: [JSONValue] = self.findings.map { f in
            var finding: [String: JSONValue] = [
                "check": .string(f.check), "status": .string(f.status.rawValue), "subject": .string(f.subject), "message": .string(Printable.text(f.message)),
                "evidence": .object(f.evidence.mapValues { .string(Printable.text($0)) }),
                "remediation": f.remediation.map(\.json) ?? .null,
                "fixable": .bool(f.fixable),
            ]
            // From manifests (verify -f): where the subject's object is defined.
            if let l = locations[f.subject] { finding["location"] = ["file": .string(Printable.text(l.file)), "line": .number(Double(l.line))] }
            return .object(finding)
        }
        try c.encode(findings, forKey: .findings)
    }
}

extension Remediation {
    /// `commands` are the shell renderings of `argv` (same order); `stdin` is the JSON each command
    /// reads (or null); `variables` names the values the user sets (`"${NAME}"` in a command,
    /// `${NAME}` in its argv).
    public var json: JSONValue {
        var variables: [String: JSONValue] = [:]
        for c in commands { for (name, meaning) in c.variables { variables[name] = .string(Printable.text(meaning)) } }
        return [
            "summary": .string(Printable.text(summary)),
            "commands": .array(commands.map { .string($0.line) }),
            "argv": .array(commands.map { .array($0.argv.map(JSONValue.string)) }),
            "stdin": .array(commands.map { $0.input.map { .string($0.compactText()) } ?? .null }),
            "variables": .object(variables),
        ]
    }
}
