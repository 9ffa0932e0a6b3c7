import Foundation
import XpidCore
import XpidGather

/// The fix plan as text (for people) and as `kubectl-xpid/plan/v1` JSON (for scripts).
public enum PlanRenderer {
    public static func text(_ plan: FixPlan, context: String, style: TextStyle) -> String {
        let arrow = style.unicode ? "→" : "->"
        let changes = plan.actions.filter { $0.kind != .cloud }
        let cloud = plan.actions.filter { $0.kind == .cloud }
        var out = style.bold("kubectl xpid fix") + " \(style.unicode ? "—" : "-") plan for context \(context)\n"
        if plan.isEmpty {
            return out + "\nnothing to fix: no failing check has a fix\n"
        }
        if !changes.isEmpty {
            out += "\nChanges in the cluster (run in this order):\n"
            for a in changes {
                out += "  \(a.id). [\(a.check)] \(a.subject): \(Printable.text(a.description))\n"
                out += "     \(arrow) \(a.displayCommand)\n"
                if let owner = a.managedBy { out += "     note: managed by \(owner.label) (--force given); it will revert this on its next sync\n" }
                for note in a.notes { out += "     note: \(note)\n" }
                if a.managedBy != nil, let patch = a.kustomizePatch {
                    out += "     note: commit this patch to the Kustomization's kustomization.yaml so that it stays:\n"
                    for line in patch.yamlLines { out += "       \(Printable.text(line))\n" }
                }
            }
        }
        if !plan.held.isEmpty {
            out += "\nNot changed (would be unsafe or needs input):\n"
            for h in plan.held {
                out += "  - [\(h.check)] \(h.subject): \(Printable.text(h.reason))\n"
                // The patch follows the line that says where it goes; later advice comes after it.
                for line in h.advice.prefix(1) { out += "     \(Printable.text(line))\n" }
                for line in h.kustomizePatch?.yamlLines ?? [] { out += "       \(Printable.text(line))\n" }
                for line in h.advice.dropFirst() { out += "     \(Printable.text(line))\n" }
                out += TextRenderer.commandLines(h.instead, style: style, indent: "     ")
            }
        }
        if !cloud.isEmpty {
            out += "\nCloud-side changes (never run by kubectl xpid; run them yourself):\n"
            for a in cloud {
                out += "  \(a.id). [\(a.check)] \(a.subject): \(Printable.text(a.description))\n"
                out += TextRenderer.commandLines([a.command], style: style, indent: "     ")
            }
        }
        return out
    }

    public static func json(_ plan: FixPlan) -> String {
        let actions: [JSONValue] = plan.actions.map { a in
            [
                "id": .string(a.id), "check": .string(a.check), "subject": .string(a.subject), "description": .string(Printable.text(a.description)),
                "command": .array(a.command.argv.map(JSONValue.string)), "input": a.command.input ?? .null, "kind": .string(a.kind.rawValue),
                "managedBy": a.managedBy.map { .string($0.kind) } ?? .null,
                "notes": .array(a.notes.map { .string(Printable.text($0)) }),
                "kustomizePatch": a.kustomizePatch.map { .string($0.yamlLines.joined(separator: "\n") + "\n") } ?? .null,
            ]
        }
        let held: [JSONValue] = plan.held.map { h in
            [
                "check": .string(h.check), "subject": .string(h.subject), "reason": .string(Printable.text(h.reason)), "advice": .array(h.advice.map { .string(Printable.text($0)) }),
                "instead": .array(h.instead.map { .string($0.line) }), "insteadArgv": .array(h.instead.map { .array($0.argv.map(JSONValue.string)) }),
                "managedBy": h.managedBy.map { .string($0.kind) } ?? .null,
                "kustomizePatch": h.kustomizePatch.map { .string($0.yamlLines.joined(separator: "\n") + "\n") } ?? .null,
            ]
        }
        return JSONRenderer.render(JSONValue.object(["schema": .string(FixPlan.schema), "actions": .array(actions), "held": .array(held)]))
    }

    public static func progress(_ action: FixAction, _ outcome: ActionOutcome, dryRun: Bool, style: TextStyle) -> String {
        switch outcome {
        case .applied(let said): return "\(style.glyph(.pass)) \(action.id) \(dryRun ? "(dry run) " : "")\(Printable.text(action.description)): \(Printable.text(said))\n"
        case .failed(let why): return "\(style.glyph(.fail)) \(action.id) \(Printable.text(action.description)): \(Printable.text(why))\n"
        case .interrupted: return ""
        case .notRun: return ""
        }
    }

    public static func stopped(_ results: [(FixAction, ActionOutcome)], dryRun: Bool = false, style: TextStyle, why: String = "stopped at the first failure") -> String {
        var out = "\n\(Printable.text(why))\(dryRun ? " (dry run: nothing was stored)" : ""):\n"
        for (a, outcome) in results {
            switch outcome {
            case .applied: out += dryRun ? "  accepted:    \(a.id) \(Printable.text(a.description))\n" : "  applied:     \(a.id) \(Printable.text(a.description))\n"
            case .failed(let why): out += "  FAILED:      \(a.id) \(Printable.text(a.description))\n               \(Printable.text(why))\n"
            case .interrupted: out += "  in flight:   \(a.id) \(Printable.text(a.description)) (may or may not have taken effect; re-run 'kubectl xpid verify')\n"
            case .notRun: out += "  not applied: \(a.id) \(Printable.text(a.description))\n"
            }
        }
        return out
    }

    public static func beforeAfter(before: Report, after: Report, stillFailing: [Finding], style: TextStyle) -> String {
        let b = before.summary
        let a = after.summary
        var out = "\nre-verified: before \(b.fail) failed, \(b.warn) warnings, \(b.error) errors; after \(a.fail) failed, \(a.warn) warnings, \(a.error) errors\n"
        let fixed = before.findings.filter { f in (f.status == .fail || f.status == .warn) && after.findings.contains { $0.check == f.check && $0.subject == f.subject && $0.status == .pass } }
        for f in fixed { out += "  \(style.glyph(.pass)) \(f.check) \(f.subject) now passes\n" }
        for f in stillFailing { out += "  \(style.glyph(f.status)) \(f.check) \(f.subject) still \(f.status.rawValue): \(Printable.text(f.message))\n" }
        let remaining = after.findings.filter { ($0.status == .fail || $0.status == .error) && !stillFailing.contains($0) }
        if !remaining.isEmpty { out += "  \(remaining.count) other finding(s) still fail (cloud-side or not fixable here): run 'kubectl xpid verify'\n" }
        return out
    }
}
