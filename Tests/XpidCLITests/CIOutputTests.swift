import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import XpidCLI
import XpidCore
import XpidGather
import XpidTestSupport

@Suite("CI outputs, snapshots and manifests through the CLI")
struct CIOutputTests {
    // MARK: SARIF

    @Test("-o sarif: version 2.1.0, one rule per check, one result per finding, rule indexes and levels consistent")
    func sarif() async throws {
        let (code, out, _) = await runCLI(["verify", "-o", "sarif"], runner: SeedCluster().runner())
        let (jsonCode, jsonOut, _) = await runCLI(["verify", "-o", "json"], runner: SeedCluster().runner())
        #expect(code == jsonCode, "exit codes do not depend on the format")
        let sarif = try JSONValue.parse(out)
        #expect(sarif["version"] == "2.1.0" && sarif["$schema"].string?.contains("sarif-2.1.0") == true)
        let run = sarif["runs"][0]
        let rules = run.at("tool", "driver")["rules"].array
        #expect(rules.map { $0["id"].string ?? "" } == Catalog.descriptions.map(\.id))
        let report = try JSONValue.parse(jsonOut)
        let results = run["results"].array
        #expect(results.count == report["findings"].array.count)
        for (r, f) in zip(results, report["findings"].array) {
            #expect(r["ruleId"] == f["check"])
            let index = try #require(r["ruleIndex"].int)
            #expect(rules[index]["id"] == r["ruleId"])
            let expected = ["fail": "error", "error": "error", "warn": "warning", "pass": "none", "skip": "none"][f["status"].string ?? ""]
            #expect(r["level"].string == expected)
            #expect(!(r.at("message", "text").string ?? "").isEmpty)
            #expect(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].string != nil, "\(r)")
        }
    }

    // MARK: JUnit

    final class XMLCounter: NSObject, XMLParserDelegate, @unchecked Sendable {
        var counts: [String: Int] = [:]
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            counts[name, default: 0] += 1
        }
    }

    @Test("-o junit: well-formed XML, a case per finding, failures and errors as the statuses say", arguments: [FindingStatus.fail, .warn])
    func junit(_ failOn: FindingStatus) async throws {
        let level = failOn == .warn ? "warn" : "fail"
        let (_, out, _) = await runCLI(["verify", "-o", "junit", "--fail-on", level], runner: SeedCluster().runner())
        let (_, jsonOut, _) = await runCLI(["verify", "-o", "json"], runner: SeedCluster().runner())
        let statuses = try JSONValue.parse(jsonOut)["findings"].array.compactMap { $0["status"].string }
        let parser = XMLParser(data: Data(out.utf8))
        let counter = XMLCounter()
        parser.delegate = counter
        #expect(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        #expect(counter.counts["testcase"] == statuses.count)
        let failures = statuses.filter { $0 == "fail" || (failOn == .warn && $0 == "warn") }.count
        #expect(counter.counts["failure", default: 0] == failures)
        #expect(counter.counts["error", default: 0] == statuses.filter { $0 == "error" }.count)
        #expect(counter.counts["skipped", default: 0] == statuses.filter { $0 == "skip" }.count)
    }

    @Test("JUnit escapes markup and characters XML cannot carry")
    func junitEscaping() {
        #expect(JUnitRenderer.attr("a\"<b>&'\n\u{1}") == "a&quot;&lt;b&gt;&amp;&apos;&#10;\u{FFFD}")
    }

    // MARK: snapshots

    final class Files: @unchecked Sendable {
        let lock = NSLock()
        var stored: [String: Data] = [:]
        func write(_ path: String, _ data: Data) -> Bool { lock.withLock { stored[path] = data }; return true }
        func read(_ path: String) -> Data? { lock.withLock { stored[path] } }
    }

    @Test("--save-snapshot then --snapshot: the same findings, no command runs on replay, planted secrets never stored")
    func snapshotRoundTrip() async throws {
        var seed = SeedCluster()
        // Planted secrets: an env value, an argument, a last-applied annotation.
        seed.crossplanePods = seed.crossplanePods.map { pod in
            var p = pod
            if case .object(var spec) = p["spec"], case .array(var containers) = spec["containers"], case .object(var c) = containers[0] {
                c["env"] = .array((c["env"]?.array ?? []) + [["name": "DB_PASSWORD", "value": "hunter2-planted"]])
                c["args"] = ["--password=hunter2-planted", "--feature-gates=X=true"]
                containers[0] = .object(c)
                spec["containers"] = .array(containers)
                p = .object(p.object.merging(["spec": .object(spec)]) { _, b in b })
            }
            return p
        }
        let files = Files()
        let capture = Capture()
        var console = capture.console(runner: seed.runner())
        console.writeFile = files.write
        let live = await XpidCLI.run(["verify", "-o", "json", "--save-snapshot", "snap.json"], console: console)
        let stored = try #require(files.read("snap.json"))
        let text = String(decoding: stored, as: UTF8.self)
        #expect(!text.contains("hunter2-planted"))
        #expect(text.contains("--feature-gates=X=true"), "Flux's identity flags are kept")
        #expect(text.contains(SnapshotRedaction.redacted))

        let replayCapture = Capture()
        let empty = FakeCommandRunner()
        var replayConsole = replayCapture.console(runner: empty)
        replayConsole.readFile = files.read
        let replay = await XpidCLI.run(["verify", "-o", "json", "--snapshot", "snap.json"], console: replayConsole)
        #expect(replay == live)
        #expect(empty.calls.isEmpty, "a replay runs nothing")
        var a = try JSONValue.parse(capture.out).object
        var b = try JSONValue.parse(replayCapture.out).object
        a["generatedAt"] = nil
        b["generatedAt"] = nil
        #expect(a["findings"] == b["findings"])
        #expect(a["subjects"] == b["subjects"])
    }

    @Test("a file that is not a snapshot is refused with exit 2")
    func badSnapshot() async {
        let capture = Capture()
        var console = capture.console()
        console.readFile = { _ in Data(#"{"schema":"other"}"#.utf8) }
        let code = await XpidCLI.run(["verify", "--snapshot", "x.json"], console: console)
        #expect(code == 2)
        #expect(capture.err.contains("not a usable snapshot"))
    }

    // MARK: manifests

    @Test("-f: documents located by file and line, converted once by kubectl offline")
    func manifests() async throws {
        let yaml = """
            # comment
            apiVersion: pkg.crossplane.io/v1beta1
            kind: DeploymentRuntimeConfig
            metadata:
              name: azure-wi
            ---
            apiVersion: pkg.crossplane.io/v1
            kind: Provider
            metadata:
              name: provider-azure-storage
            spec:
              package: xpkg.upbound.io/upbound/provider-azure-storage:v2.7.0
              runtimeConfigRef:
                name: azure-wi
            """
        let runner = FakeCommandRunner()
        let drc: JSONValue = ["apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "metadata": ["name": "azure-wi"],
            "spec": ["deploymentTemplate": ["metadata": ["labels": ["azure.workload.identity/use": "true"]]],
                     "serviceAccountTemplate": ["metadata": ["annotations": ["azure.workload.identity/client-id": "22222222-3333-4444-8555-666666666666"]]]]]
        let provider: JSONValue = ["apiVersion": "pkg.crossplane.io/v1", "kind": "Provider", "metadata": ["name": "provider-azure-storage"],
            "spec": ["package": "xpkg.upbound.io/upbound/provider-azure-storage:v2.7.0", "runtimeConfigRef": ["name": "azure-wi"]]]
        runner.stub(["kubectl", "label", "--local", "-f", "-", "kubectl-xpid.dev/offline-", "-o", "json"], stdout: drc.compactText() + "\n" + provider.compactText() + "\n")
        let capture = Capture()
        var console = capture.console(runner: runner)
        console.readFile = { $0 == "m.yaml" ? Data(yaml.utf8) : nil }
        let code = await XpidCLI.run(["verify", "-f", "m.yaml", "-o", "json"], console: console)
        #expect(runner.unexpected.isEmpty, "\(runner.unexpected)")
        #expect(runner.calls.count == 1, "no cluster read: only the offline conversion")
        #expect(code == 1, "\(capture.err)")
        let report = try JSONValue.parse(capture.out)
        #expect(report.at("cluster", "cloud") == "azure")
        let label = try #require(report["findings"].array.first { $0["check"] == "azure.pod-label" })
        #expect(label["status"] == "fail")
        #expect(label["location"] == ["file": "m.yaml", "line": 7])
        let stable = try #require(report["findings"].array.first { $0["check"] == "azure.stable-sa-name" })
        #expect(stable["status"] == "fail")
        let injected = try #require(report["findings"].array.first { $0["check"] == "crossplane.package-health" })
        #expect(injected["status"] == "skip" && (injected["message"].string ?? "").contains("manifests only"))
    }

    @Test("-f on something that holds no Kubernetes object: exit 2 saying so")
    func noManifests() async {
        let capture = Capture()
        var console = capture.console()
        console.readFile = { _ in Data("# nothing\n---\n".utf8) }
        let code = await XpidCLI.run(["verify", "-f", "empty.yaml"], console: console)
        #expect(code == 2)
        #expect(capture.err.contains("no Kubernetes object"))
    }
}
