import Foundation
import XpidGather

/// SIGINT/SIGTERM: stop every running child (its whole process group), let the run report what it
/// was doing (`fix` says what was applied, what was in flight and what was not), then exit 130/143.
/// A second signal, or a run that does not wind down within a few seconds, exits at once.
public enum SignalHandling {
    nonisolated(unsafe) private static var writeFD: Int32 = -1

    public static func install() {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        writeFD = fds[1]
        let readFD = fds[0]
        // A handler (not SIG_IGN) so that exec'd children get the default disposition back.
        let handler: @convention(c) (Int32) -> Void = { sig in
            var byte = UInt8(truncatingIfNeeded: sig)
            _ = write(SignalHandling.writeFD, &byte, 1)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        Thread {
            var byte: UInt8 = 0
            while read(readFD, &byte, 1) == 1 {
                let sig = Int32(byte)
                if Interruption.signal != nil {
                    ChildProcesses.shared.terminateAll(SIGKILL)
                    exit(128 + sig)
                }
                Interruption.record(sig)
                ChildProcesses.shared.terminateAll(SIGTERM)
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) {
                    FileHandle.standardError.write(Data("interrupted by \(signalName(sig)): exiting without a summary (the run did not stop in time)\n".utf8))
                    ChildProcesses.shared.terminateAll(SIGKILL)
                    exit(128 + sig)
                }
            }
        }.start()
    }
}
