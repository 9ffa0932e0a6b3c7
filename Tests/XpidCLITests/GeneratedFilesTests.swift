import Foundation
import Testing
import XpidCLI
import XpidCore

/// Committed files generated from the code must not drift from it.
@Suite("Generated files in the repository")
struct GeneratedFilesTests {
    static func read(_ relative: String) throws -> String {
        let root = try #require(packageRoot(), "no Package.swift above \(#filePath)")
        let url = root.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            Issue.record("\(relative) does not exist at \(url.path)")
            throw CancellationError()
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test("README's checks table equals `kubectl xpid checks -o markdown`")
    func readmeTable() throws {
        let readme: String
        do { readme = try Self.read("README.md") } catch { return }
        let begin = "<!-- checks:begin -->"
        let end = "<!-- checks:end -->"
        guard let b = readme.range(of: begin), let e = readme.range(of: end, range: b.upperBound..<readme.endIndex) else {
            Issue.record("README.md has no \(begin) … \(end) block")
            return
        }
        let block = String(readme[b.upperBound..<e.lowerBound]).trimmingCharacters(in: .newlines)
        let generated = CatalogRenderer.markdown().trimmingCharacters(in: .newlines)
        #expect(block == generated, "regenerate the README block with: kubectl xpid checks -o markdown")
    }

    @Test("completion scripts equal `kubectl xpid completion SHELL`", arguments: [
        ("completions/kubectl-xpid.bash", Shell.bash), ("completions/_kubectl-xpid", .zsh), ("completions/kubectl-xpid.fish", .fish),
    ])
    func completionScripts(_ path: String, _ shell: Shell) throws {
        let committed: String
        do { committed = try Self.read(path) } catch { return }
        #expect(committed == Completion.script(shell), "regenerate with: kubectl xpid completion \(shell.rawValue) > \(path)")
    }

    @Test("the kubectl completion shim equals Completion.kubectlShim")
    func shim() throws {
        let committed: String
        do { committed = try Self.read("completions/kubectl_complete-xpid") } catch { return }
        #expect(committed == Completion.kubectlShim)
        #expect(committed.hasPrefix("#!"))
    }

    @Test("the markdown table has one row per check")
    func markdownRows() {
        let rows = CatalogRenderer.markdown().split(separator: "\n").filter { $0.hasPrefix("| `") }
        #expect(rows.count == Catalog.descriptions.count)
        for (row, d) in zip(rows, Catalog.descriptions) { #expect(row.hasPrefix("| `\(d.id)` |")) }
    }
}
