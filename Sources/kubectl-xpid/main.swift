import Foundation
import XpidCLI

exit(await XpidCLI.run(Array(CommandLine.arguments.dropFirst()), console: .live))
