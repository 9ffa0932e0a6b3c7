import Foundation
import XpidCLI

SignalHandling.install()
exit(await XpidCLI.run(Array(CommandLine.arguments.dropFirst()), console: .live))
