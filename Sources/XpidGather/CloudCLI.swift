import Foundation
import XpidCore

extension CommandResult {
    /// A cloud CLI's answer as JSON, or how the call failed. What is common to every cloud CLI lives
    /// here (not started, timed out, killed, exit 0 without JSON); a non-zero exit is the adapter's to
    /// classify, since each CLI reports errors its own way (aws only in stderr, az also by exit status).
    func cloudJSON(cli: String, classify: (Int32, String, Command) -> CloudError) -> Result<JSONValue, CloudError> {
        let command = Command(argv: argv)
        switch termination {
        case .launchFailed(let m):
            return .failure(CloudError(kind: .cliMissing, message: "the \(cli) CLI could not be started (\(m)): \(cli) CLI not found or not executable", command: command))
        case .timedOut(let t):
            return .failure(CloudError(kind: .timeout, message: "timed out (\(Termination.limitText(t)))", command: command))
        case .signaled(let s):
            return .failure(CloudError(kind: .other, message: "killed by signal \(s)", command: command))
        case .exited(0):
            guard let json = try? JSONValue.parse(stdout) else {
                return .failure(CloudError(kind: .malformedOutput, message: "output is not JSON", command: command))
            }
            return .success(json)
        case .exited(let status):
            return .failure(classify(status, stderrText, command))
        }
    }
}
