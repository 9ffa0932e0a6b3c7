import Foundation

/// A command the product prints or runs: an argv, never a shell string. Every printed command
/// is rendered by `ShellQuote.line`, every run command is `argv` handed to the runner, and the
/// JSON report carries both, so the report, the plan, `-v` and the applier cannot disagree.
public struct Command: Sendable, Hashable {
    /// Whether running the command changes anything (cloud fixes are the `change` commands of
    /// a remediation that do not start with kubectl).
    public enum Effect: String, Sendable, Hashable {
        case read, change
    }

    public enum Word: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
        case literal(String)
        /// A value the tool does not know: printed as `"${NAME}"`, with `meaning` telling the
        /// user what to set it to. Never a `<PLACEHOLDER>`, which a shell reads as a redirection.
        /// `prefix` is literal text glued to the front of the value (`--user=` + `"${KUBE_USER}"`).
        case variable(String, meaning: String, prefix: String = "")

        public init(stringLiteral value: String) { self = .literal(value) }

        public init(stringInterpolation: DefaultStringInterpolation) { self = .literal(String(stringInterpolation: stringInterpolation)) }

        /// The argv element: the text itself, or `${NAME}` for a variable.
        public var text: String {
            switch self {
            case .literal(let s): return s
            case .variable(let name, _, let prefix): return "\(prefix)${\(name)}"
            }
        }

        /// `prefix` joined to this word (`--user=` + a variable stays one word: `--user="${KUBE_USER}"`).
        public func prefixed(_ more: String) -> Word {
            switch self {
            case .literal(let s): return .literal(more + s)
            case .variable(let name, let meaning, let prefix): return .variable(name, meaning: meaning, prefix: more + prefix)
            }
        }

        public var isLiteral: Bool { if case .literal = self { return true } else { return false } }
    }

    public var words: [Word]
    /// A JSON document the command reads on stdin (`kubectl apply -f -`); replaces temporary files and `echo … |`.
    public var input: JSONValue?
    public var effect: Effect

    public init(_ words: [Word], input: JSONValue? = nil, effect: Effect = .read) {
        self.words = words
        self.input = input
        self.effect = effect
    }

    /// Wraps literal argv (e.g. a command that was run).
    public init(argv: [String], input: JSONValue? = nil, effect: Effect = .read) {
        self.init(argv.map(Word.literal), input: input, effect: effect)
    }

    public var program: String { words.first?.text ?? "" }

    /// The cloud CLIs: changes they make are printed, never run.
    public static let cloudPrograms: Set<String> = ["aws", "eksctl", "az", "gcloud"]

    public var isCloud: Bool { Self.cloudPrograms.contains(program) }

    /// The argv, with `${NAME}` standing for each variable.
    public var argv: [String] { words.map(\.text) }

    /// True when every word is known, so the command can be run as it is.
    public var isComplete: Bool { words.allSatisfy(\.isLiteral) }

    /// The variables the user must set, by name, with what each stands for.
    public var variables: [String: String] {
        var result: [String: String] = [:]
        for case .variable(let name, let meaning, _) in words { result[name] = meaning }
        return result
    }

    /// The command as one line of POSIX shell.
    public var line: String { ShellQuote.line(self) }

    /// The same command with extra words appended (e.g. `--dry-run=server`).
    public func appending(_ more: [Word]) -> Command {
        Command(words + more, input: input, effect: effect)
    }
}

/// The one quoting function: everything printed for a shell goes through it.
public enum ShellQuote {
    /// Characters that never need quoting in any POSIX shell word (not the first word's `=`
    /// concern: the first word is always a program name).
    private static let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@,+%")

    public static func word(_ s: String) -> String {
        if !s.isEmpty, s.allSatisfy({ plain.contains($0) }) { return s }
        if s.unicodeScalars.contains(where: isControl) { return ansiC(s) }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func words(_ argv: [String]) -> String { argv.map(word).joined(separator: " ") }

    public static func line(_ command: Command) -> String {
        let body = command.words.map { w -> String in
            switch w {
            case .literal(let s): return word(s)
            case .variable(let name, _, let prefix): return (prefix.isEmpty ? "" : word(prefix)) + "\"${\(name)}\""
            }
        }.joined(separator: " ")
        guard let input = command.input else { return body }
        return "printf '%s\\n' \(word(input.compactText())) | \(body)"
    }

    static func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || u.value == 0x7F || (0x80...0x9F).contains(u.value) }

    /// `$'…'` (POSIX.1-2024, bash, zsh, ksh) keeps a word holding control characters on one line.
    private static func ansiC(_ s: String) -> String { "$'" + escaped(s, shellQuote: true) + "'" }

    /// Control characters as C escapes (`\n`, `\x1b`); with `shellQuote`, `\` and `'` too, for `$'…'`.
    static func escaped(_ s: String, shellQuote: Bool) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\\" where shellQuote: out += "\\\\"
            case "'" where shellQuote: out += "\\'"
            default:
                if isControl(u) {
                    for byte in String(u).utf8 { out += String(format: "\\x%02x", byte) }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }
}

/// Text from the cluster or a CLI, made safe to print on a terminal: control characters
/// (newlines, escape sequences) are shown escaped instead of being interpreted.
public enum Printable {
    public static func text(_ s: String) -> String {
        s.unicodeScalars.contains(where: ShellQuote.isControl) ? ShellQuote.escaped(s, shellQuote: false) : s
    }
}
