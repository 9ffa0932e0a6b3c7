import Foundation
import XpidCore
import XpidGather

public enum OutputFormat: String, Sendable, Equatable {
    case text, json, markdown, sarif, junit
}

public enum Shell: String, Sendable, Equatable, CaseIterable {
    case bash, zsh, fish
}

public struct VerifyOptions: Sendable, Equatable {
    public var kubectlFlags = KubectlFlags()
    public var gather = GatherOptions()
    public var subjects: [String] = []
    public var only: [String] = []
    public var skip: [String] = []
    public var output: OutputFormat = .text
    public var noColor = false
    public var failOn: FindingStatus = .fail
    public var verbose = false
    /// `--show-all`: every check of every subject in the text report.
    public var showAll = false
    /// `--timeout`: the budget of the whole run, shared by every external command.
    public var timeout: Double = 300
    public var kubectl: String?
    public var aws: String?
    public var az: String?
    public var gcloud: String?
    /// `--snapshot FILE` (evaluate a saved snapshot offline) and `--save-snapshot FILE`.
    public var snapshot: String?
    public var saveSnapshot: String?
    /// `-f PATH` (repeatable): verify manifests instead of a cluster.
    public var files: [String] = []

    public init() {}
}

public struct FixCommandOptions: Sendable, Equatable {
    public var verify = VerifyOptions()
    public var yes = false
    public var dryRun = false
    public var fix = FixOptions()

    public init() {}
}

/// What the user asked for: a pure value parsed from argv, run by `XpidCLI.run`.
public enum Invocation: Sendable, Equatable {
    case verify(VerifyOptions)
    case fix(FixCommandOptions)
    case checks(OutputFormat)
    case explain(String)
    case version
    case completion(Shell)
    /// kubectl's plugin completion protocol (`kubectl_complete-xpid` calls `kubectl-xpid __complete ARGS…`).
    case complete([String])
    /// Help for the root (nil) or for a command.
    case help(String?)
}

public struct UsageError: Error, Equatable, Sendable {
    public var message: String
    public var command: String?
}
