import Foundation
import Testing
import XpidCore
import XpidGather
import XpidTestSupport

@Test func scratchSeed() async throws {
    let seed = SeedCluster()
    let runner = seed.runner()
    var o = GatherOptions()
    o.now = Date(timeIntervalSince1970: 1_795_000_000)
    let g = SnapshotGatherer(kubectl: Kubectl(runner: runner), runner: runner, options: o)
    let r = await g.gather()
    for c in runner.calls { print("SCRATCH", c) }
    print("SCRATCH unexpected", runner.unexpected)
    guard case .success(let gathered) = r else { print("SCRATCH", r); return }
    print("SCRATCH notes", gathered.notes)
    print("SCRATCH reads", gathered.snapshot.reads)
    let ctx = EvaluationContext(gathered.snapshot)
    for s in ctx.subjects { print("SCRATCH subj", s.id, s.method, s.methodEvidence, s.serviceAccountName ?? "-") }
    for f in CheckEngine().run(ctx) { print("SCRATCH F", f.check, f.subject, f.status, f.message) }
}
