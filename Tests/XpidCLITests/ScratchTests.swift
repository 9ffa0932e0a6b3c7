import Foundation
import Testing
import XpidCLI
import XpidCore

@Test func scratchRender() {
    let r = FixedReport.make()
    print("<<<ASCII")
    print(TextRenderer.render(r, style: TextStyle(unicode: false, color: false)), terminator: "")
    print(">>>\n<<<UNI")
    print(TextRenderer.render(r, style: TextStyle(unicode: true, color: false)), terminator: "")
    print(">>>\n<<<JSON")
    print(JSONRenderer.render(r), terminator: "")
    print(">>>")
    for a in [["ver"], ["verify", "--cloud", ""], ["verify", "--c"], ["verify", "-o", ""], ["verify", "--only", "podid.a"], ["explain", "podid.t"], ["completion", ""], ["verify", "--kubeconfig", ""], [""], ["verify", ""]] {
        print("COMPLETE", a, Completion.complete(a).debugDescription)
    }
}
