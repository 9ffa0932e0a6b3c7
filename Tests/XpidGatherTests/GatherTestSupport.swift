import Foundation
import XpidCore
import XpidGather
import XpidTestSupport

/// A fixed clock for gathers, so nothing depends on the wall clock.
let fixedNow = Date(timeIntervalSince1970: 1_795_341_600)  // 2026-11-22T10:00:00Z

func gatherOptions(_ change: (inout GatherOptions) -> Void = { _ in }) -> GatherOptions {
    var o = GatherOptions()
    o.now = fixedNow
    change(&o)
    return o
}

/// Runs a gather of `seed`'s argv shapes against `runner`.
func gather(
    _ runner: FakeCommandRunner, flags: KubectlFlags = KubectlFlags(), kubectl: String = "kubectl", aws: String = "aws",
    options: GatherOptions = gatherOptions()
) async -> Result<Gathered, KubectlFailure> {
    let gatherer = SnapshotGatherer(kubectl: Kubectl(executable: kubectl, flags: flags, runner: runner), awsExecutable: aws, runner: runner, options: options)
    return await gatherer.gather()
}

/// The name of a failure's case, for tables.
func caseName(_ f: KubectlFailure) -> String {
    switch f {
    case .missing: return "missing"
    case .unreachable: return "unreachable"
    case .unauthorized: return "unauthorized"
    case .noContext: return "noContext"
    case .timedOut: return "timedOut"
    case .malformed: return "malformed"
    case .forbidden: return "forbidden"
    case .other: return "other"
    }
}

extension Result {
    var successValue: Success? {
        if case .success(let v) = self { return v }
        return nil
    }

    var failureValue: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}

/// `kubectl config view --minify -o json` for a context that is not an EKS ARN and has no exec plugin.
func plainConfigView(context: String = "prod", server: String = "https://10.0.0.1:6443") -> JSONValue {
    [
        "kind": "Config", "apiVersion": "v1", "current-context": .string(context),
        "clusters": [["name": .string(context), "cluster": ["server": .string(server)]]],
        "contexts": [["name": .string(context), "context": ["cluster": .string(context), "user": "admin"]]],
        "users": [["name": "admin", "user": ["token": "REDACTED"]]],
    ]
}
