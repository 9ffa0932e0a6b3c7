import Foundation
import XpidCore

/// `verify -f PATH`: Kubernetes objects from files, directories (recursively; a directory with a
/// `kustomization.yaml` is rendered by `kubectl kustomize`) or stdin (`-`), without a cluster. kubectl does
/// the YAML work: `kubectl label --local -f - … -o json` converts every document to JSON offline (no YAML
/// parser is written here). Each object keeps the file and line its document starts on.
public struct ManifestLoader: Sendable {
    public var kubectl: Kubectl
    /// Reads a file (`-` is stdin); injected for tests.
    public var read: @Sendable (String) -> Data?
    public var isDirectory: @Sendable (String) -> Bool
    public var listDirectory: @Sendable (String) -> [String]

    public init(
        kubectl: Kubectl, read: @escaping @Sendable (String) -> Data?,
        isDirectory: @escaping @Sendable (String) -> Bool = ManifestLoader.isRealDirectory,
        listDirectory: @escaping @Sendable (String) -> [String] = ManifestLoader.listRealDirectory
    ) {
        self.kubectl = kubectl
        self.read = read
        self.isDirectory = isDirectory
        self.listDirectory = listDirectory
    }

    public static let isRealDirectory: @Sendable (String) -> Bool = { path in
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
    }

    public static let listRealDirectory: @Sendable (String) -> [String] = { path in
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    public struct Loaded: Sendable {
        public var objects: [JSONValue]
        public var locations: [ObjectReference: ManifestLocation]
        public var notes: [String]
    }

    public enum Failure: Error, Sendable, Equatable {
        case unreadable(String)
        case notManifests(String)
    }

    static let kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
    static let manifestSuffixes = [".yaml", ".yml", ".json"]

    /// One document of the input: its text and where it starts.
    struct Document {
        var text: String
        var location: ManifestLocation
    }

    public func load(_ paths: [String]) async -> Result<Loaded, Failure> {
        var documents: [Document] = []
        var notes: [String] = []
        for path in paths {
            switch await documentsOf(path, notes: &notes) {
            case .failure(let f): return .failure(f)
            case .success(let docs): documents += docs
            }
        }
        let meaningful = documents.filter { Self.hasContent($0.text) }
        guard !meaningful.isEmpty else { return .failure(.notManifests("no Kubernetes object in \(paths.joined(separator: ", "))")) }
        var objects: [JSONValue] = []
        var locations: [ObjectReference: ManifestLocation] = [:]
        switch await convert(meaningful.map(\.text)) {
        case .success(let converted) where converted.count == meaningful.count:
            for (object, doc) in zip(converted, meaningful) {
                objects.append(object)
                if let ref = Self.reference(object) { locations[ref] = doc.location }
            }
        case .success(let converted):
            // A `kind: List` document expands to several objects: locations by document are not known.
            objects = converted
            notes.append("\(converted.count) objects from \(meaningful.count) documents (a List expands): findings name files, not lines")
        case .failure:
            // One document kubectl cannot read spoils the batch: convert one by one and say which were skipped.
            for doc in meaningful {
                switch await convert([doc.text]) {
                case .success(let converted):
                    objects += converted
                    if converted.count == 1, let ref = Self.reference(converted[0]) { locations[ref] = doc.location }
                case .failure(let why):
                    notes.append("skipped \(doc.location.file):\(doc.location.line): not a Kubernetes object kubectl can read (\(why.message))")
                }
            }
        }
        guard !objects.isEmpty else { return .failure(.notManifests("no Kubernetes object could be read from \(paths.joined(separator: ", ")) (\(notes.joined(separator: "; ")))")) }
        return .success(Loaded(objects: objects, locations: locations, notes: notes))
    }

    func documentsOf(_ path: String, notes: inout [String]) async -> Result<[Document], Failure> {
        if path != "-" && isDirectory(path) {
            let entries = listDirectory(path)
            if let k = entries.first(where: Self.kustomizationNames.contains) {
                let r = await kubectl.run(["kustomize", path])
                guard r.succeeded else {
                    let command = Commands.kubectl(["kustomize", .literal(path)]).line
                    return .failure(.unreadable("\(command) failed: \(r.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))"))
                }
                // Rendered objects have no line of their own: findings point at the kustomization.
                let file = path.hasSuffix("/") ? path + k : path + "/" + k
                notes.append("\(path): rendered with kubectl kustomize; findings point at \(file)")
                return .success(Self.split(r.stdoutText, file: file).map { Document(text: $0.text, location: ManifestLocation(file: file, line: 1)) })
            }
            var docs: [Document] = []
            for entry in entries where !entry.hasPrefix(".") {
                let child = path.hasSuffix("/") ? path + entry : path + "/" + entry
                if isDirectory(child) || Self.manifestSuffixes.contains(where: { entry.lowercased().hasSuffix($0) }) {
                    switch await documentsOf(child, notes: &notes) {
                    case .failure(let f): return .failure(f)
                    case .success(let d): docs += d
                    }
                }
            }
            return .success(docs)
        }
        guard let data = read(path) else { return .failure(.unreadable("cannot read \(path == "-" ? "stdin" : path)")) }
        return .success(Self.split(String(decoding: data, as: UTF8.self), file: path == "-" ? "<stdin>" : path))
    }

    /// YAML documents by their `---` separators, each with the line it starts on (1-based).
    static func split(_ text: String, file: String) -> [Document] {
        var docs: [Document] = []
        var current: [Substring] = []
        var start = 1
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line == "---" || line.hasPrefix("--- ") || line.hasPrefix("---\t") || line == "---\r" {
                docs.append(Document(text: current.joined(separator: "\n"), location: ManifestLocation(file: file, line: start)))
                current = []
                start = lineNumber + 1
                continue
            }
            if current.isEmpty, !hasContent(String(line)) { start = lineNumber + 1 }
            current.append(line)
        }
        docs.append(Document(text: current.joined(separator: "\n"), location: ManifestLocation(file: file, line: start)))
        return docs
    }

    /// Something other than blank lines and comments.
    static func hasContent(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return !t.isEmpty && !t.hasPrefix("#") && t != "..."
        }
    }

    /// kubectl converts the documents to JSON offline. `label --local` with the removal of a label nobody
    /// has changes nothing and needs no server or kubeconfig.
    struct ConvertError: Error { var message: String }

    func convert(_ documents: [String]) async -> Result<[JSONValue], ConvertError> {
        let input = Data(documents.joined(separator: "\n---\n").utf8)
        let r = await kubectl.run(["label", "--local", "-f", "-", "kubectl-xpid.dev/offline-", "-o", "json"], input: input)
        guard r.succeeded else {
            let why = r.stderrText.split(separator: "\n").first.map(String.init) ?? "the offline conversion ended with \(r.termination)"
            return .failure(ConvertError(message: why))
        }
        return JSONStream.values(r.stdout).mapError { ConvertError(message: $0.message) }
    }

    static func reference(_ object: JSONValue) -> ObjectReference? {
        guard let kind = object["kind"].string, let name = object.at("metadata", "name").string else { return nil }
        return ObjectReference(kind: kind, namespace: object.at("metadata", "namespace").string, name: name)
    }
}

/// Consecutive JSON values (kubectl prints one object after another for several inputs).
enum JSONStream {
    struct Malformed: Error { var message: String }

    static func values(_ data: Data) -> Result<[JSONValue], Malformed> {
        var values: [JSONValue] = []
        let bytes = [UInt8](data)
        var depth = 0
        var inString = false
        var escaped = false
        var start: Int?
        for (i, b) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 0 { start = i }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0, let s = start {
                    guard let value = try? JSONValue.parse(Data(bytes[s...i])) else { return .failure(Malformed(message: "kubectl printed output that is not JSON")) }
                    if value["kind"].string == "List" { values += value["items"].array } else { values.append(value) }
                    start = nil
                }
            default: break
            }
        }
        return depth == 0 ? .success(values) : .failure(Malformed(message: "kubectl's JSON output ended early"))
    }
}
