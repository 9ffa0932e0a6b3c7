import Foundation
import Testing
import XpidCLI
import XpidCore

@Suite("Renderers")
struct RendererTests {
    static let expectedASCII = """
        kubectl xpid verify - context arn:aws:eks:us-east-2:123456789012:cluster/prod-eks (aws, prod-eks, us-east-2)
          Crossplane namespace crossplane-system (where Deployment crossplane runs)

        > cluster
          [OK]   cluster.cloud   cloud is aws (node ip-10-0-1-10 providerID aws:///us-east-2a/i-0abc)
          [ERR]  cluster.access  cannot list pods in namespace crossplane-system
              fix: grant list on pods
            -> kubectl create role xpid-read-pods -n crossplane-system --verb=get,list --resource=pods

        > provider/provider-aws-s3  method pod-identity (EKS Pod Identity association for crossplane-system/provider-aws-pod-identity); ServiceAccount crossplane-system/provider-aws-pod-identity
          [FAIL] podid.association     no EKS Pod Identity association for crossplane-system/provider-aws-pod-identity in cluster prod-eks
              fix: create the association
              set ROLE_ARN first: the ARN of the IAM role the ServiceAccount should get
            -> aws eks create-pod-identity-association --cluster-name prod-eks --namespace crossplane-system --service-account provider-aws-pod-identity --role-arn "${ROLE_ARN}" --region us-east-2
          [SKIP] podid.trust-policy    blocked by podid.association (fail)
          [WARN] podid.irsa-shadowing  ServiceAccount crossplane-system/provider-aws-pod-identity still has eks.amazonaws.com/role-arn
              fix: remove the stale annotation
            -> kubectl -n crossplane-system annotate serviceaccount provider-aws-pod-identity eks.amazonaws.com/role-arn-

        [OK]   provider/upbound-provider-family-aws  1 passed; method none

        Summary: 2 passed, 1 warning, 1 failed, 1 skipped, 1 error
        run 'kubectl xpid fix' to see the plan
        (subjects whose checks all pass are shown on one line; --show-all lists every check)

        """

    static let expectedUnicode = """
        kubectl xpid verify — context arn:aws:eks:us-east-2:123456789012:cluster/prod-eks (aws, prod-eks, us-east-2)
          Crossplane namespace crossplane-system (where Deployment crossplane runs)

        ► cluster
          ✔ cluster.cloud   cloud is aws (node ip-10-0-1-10 providerID aws:///us-east-2a/i-0abc)
          ! cluster.access  cannot list pods in namespace crossplane-system
              fix: grant list on pods
            → kubectl create role xpid-read-pods -n crossplane-system --verb=get,list --resource=pods

        ► provider/provider-aws-s3  method pod-identity (EKS Pod Identity association for crossplane-system/provider-aws-pod-identity); ServiceAccount crossplane-system/provider-aws-pod-identity
          ✗ podid.association     no EKS Pod Identity association for crossplane-system/provider-aws-pod-identity in cluster prod-eks
              fix: create the association
              set ROLE_ARN first: the ARN of the IAM role the ServiceAccount should get
            → aws eks create-pod-identity-association --cluster-name prod-eks --namespace crossplane-system --service-account provider-aws-pod-identity --role-arn "${ROLE_ARN}" --region us-east-2
          – podid.trust-policy    blocked by podid.association (fail)
          ⚠ podid.irsa-shadowing  ServiceAccount crossplane-system/provider-aws-pod-identity still has eks.amazonaws.com/role-arn
              fix: remove the stale annotation
            → kubectl -n crossplane-system annotate serviceaccount provider-aws-pod-identity eks.amazonaws.com/role-arn-

        ✔ provider/upbound-provider-family-aws  1 passed; method none

        Summary: 2 passed, 1 warning, 1 failed, 1 skipped, 1 error
        run 'kubectl xpid fix' to see the plan
        (subjects whose checks all pass are shown on one line; --show-all lists every check)

        """

    @Test("text report, ASCII tags (--no-color / non-UTF-8)")
    func textASCII() {
        #expect(TextRenderer.render(FixedReport.make(), style: TextStyle(unicode: false, color: false)) == Self.expectedASCII)
    }

    @Test("text report, Unicode glyphs")
    func textUnicode() {
        #expect(TextRenderer.render(FixedReport.make(), style: TextStyle(unicode: true, color: false)) == Self.expectedUnicode)
    }

    @Test("colour wraps glyphs and headings in ANSI codes; without colour there are none")
    func colour() {
        let coloured = TextRenderer.render(FixedReport.make(), style: TextStyle(unicode: true, color: true))
        #expect(coloured.contains("\u{1B}[31m✗\u{1B}[0m podid.association"))
        #expect(coloured.contains("\u{1B}[32m✔\u{1B}[0m cluster.cloud"))
        #expect(coloured.contains("\u{1B}[33m⚠\u{1B}[0m"))
        #expect(coloured.contains("\u{1B}[1m► cluster\u{1B}[0m"))
        #expect(!Self.expectedUnicode.contains("\u{1B}"))
        #expect(!TextRenderer.render(FixedReport.make(), style: TextStyle(unicode: false, color: false)).contains("\u{1B}"))
    }

    @Test("pass and skip findings print no remediation lines")
    func noRemediationForPass() {
        var report = FixedReport.make()
        report.findings = [Finding(check: "cluster.cloud", status: .pass, subject: "cluster", message: "ok", remediation: Remediation("never shown", commands: [Command(argv: ["never", "run"])]))]
        let text = TextRenderer.render(report, style: TextStyle(unicode: true, color: false))
        #expect(!text.contains("never"))
        #expect(text.contains("\nSummary: 1 passed, 0 warnings, 0 failed, 0 skipped, 0 errors\n"))
    }

    struct StyleCase: Sendable, CustomTestStringConvertible {
        var noColor: Bool
        var tty: Bool
        var env: [String: String]
        var unicode: Bool
        var color: Bool
        var testDescription: String { "noColor=\(noColor) tty=\(tty) \(env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) → unicode=\(unicode) color=\(color)" }
    }

    @Test("style detection", arguments: [
        StyleCase(noColor: false, tty: true, env: ["LANG": "en_US.UTF-8"], unicode: true, color: true),
        StyleCase(noColor: false, tty: false, env: ["LANG": "en_US.UTF-8"], unicode: true, color: false),
        StyleCase(noColor: true, tty: true, env: ["LANG": "en_US.UTF-8"], unicode: false, color: false),
        StyleCase(noColor: false, tty: true, env: ["LANG": "C"], unicode: false, color: true),
        StyleCase(noColor: false, tty: false, env: [:], unicode: false, color: false),
        StyleCase(noColor: false, tty: false, env: ["LC_ALL": "C.UTF-8"], unicode: true, color: false),
        StyleCase(noColor: false, tty: false, env: ["LC_ALL": "C", "LANG": "en_US.UTF-8"], unicode: false, color: false),
        StyleCase(noColor: false, tty: false, env: ["LC_ALL": "", "LANG": "de_DE.utf8"], unicode: true, color: false),
        StyleCase(noColor: false, tty: false, env: ["LC_CTYPE": "en_US.UTF-8", "LANG": "C"], unicode: true, color: false),
    ])
    func style(_ c: StyleCase) {
        #expect(TextStyle.detect(noColor: c.noColor, isTTY: c.tty, environment: c.env) == TextStyle(unicode: c.unicode, color: c.color))
    }

    static let expectedJSON = """
        {
          "cluster" : {
            "cloud" : "aws",
            "cloudEvidence" : "node ip-10-0-1-10 providerID aws:///us-east-2a/i-0abc",
            "context" : "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks",
            "name" : "prod-eks",
            "region" : "us-east-2",
            "server" : "https://ABCDEF0123456789.gr7.us-east-2.eks.amazonaws.com"
          },
          "findings" : [
            {
              "check" : "cluster.cloud",
              "evidence" : {
                "evidence" : "node ip-10-0-1-10 providerID aws:///us-east-2a/i-0abc"
              },
              "fixable" : false,
              "message" : "cloud is aws (node ip-10-0-1-10 providerID aws:///us-east-2a/i-0abc)",
              "remediation" : null,
              "status" : "pass",
              "subject" : "cluster"
            },
            {
              "check" : "cluster.access",
              "evidence" : {
                "resource" : "pods",
                "verb" : "list"
              },
              "fixable" : false,
              "message" : "cannot list pods in namespace crossplane-system",
              "remediation" : {
                "argv" : [
                  [
                    "kubectl",
                    "create",
                    "role",
                    "xpid-read-pods",
                    "-n",
                    "crossplane-system",
                    "--verb=get,list",
                    "--resource=pods"
                  ]
                ],
                "commands" : [
                  "kubectl create role xpid-read-pods -n crossplane-system --verb=get,list --resource=pods"
                ],
                "stdin" : [
                  null
                ],
                "summary" : "grant list on pods",
                "variables" : {

                }
              },
              "status" : "error",
              "subject" : "cluster"
            },
            {
              "check" : "podid.association",
              "evidence" : {
                "listed" : "2 associations in crossplane-system, none for this service account"
              },
              "fixable" : false,
              "message" : "no EKS Pod Identity association for crossplane-system/provider-aws-pod-identity in cluster prod-eks",
              "remediation" : {
                "argv" : [
                  [
                    "aws",
                    "eks",
                    "create-pod-identity-association",
                    "--cluster-name",
                    "prod-eks",
                    "--namespace",
                    "crossplane-system",
                    "--service-account",
                    "provider-aws-pod-identity",
                    "--role-arn",
                    "${ROLE_ARN}",
                    "--region",
                    "us-east-2"
                  ]
                ],
                "commands" : [
                  "aws eks create-pod-identity-association --cluster-name prod-eks --namespace crossplane-system --service-account provider-aws-pod-identity --role-arn \\"${ROLE_ARN}\\" --region us-east-2"
                ],
                "stdin" : [
                  null
                ],
                "summary" : "create the association",
                "variables" : {
                  "ROLE_ARN" : "the ARN of the IAM role the ServiceAccount should get"
                }
              },
              "status" : "fail",
              "subject" : "provider/provider-aws-s3"
            },
            {
              "check" : "podid.trust-policy",
              "evidence" : {

              },
              "fixable" : false,
              "message" : "blocked by podid.association (fail)",
              "remediation" : null,
              "status" : "skip",
              "subject" : "provider/provider-aws-s3"
            },
            {
              "check" : "podid.irsa-shadowing",
              "evidence" : {
                "annotation" : "arn:aws:iam::123456789012:role/old"
              },
              "fixable" : true,
              "message" : "ServiceAccount crossplane-system/provider-aws-pod-identity still has eks.amazonaws.com/role-arn",
              "remediation" : {
                "argv" : [
                  [
                    "kubectl",
                    "-n",
                    "crossplane-system",
                    "annotate",
                    "serviceaccount",
                    "provider-aws-pod-identity",
                    "eks.amazonaws.com/role-arn-"
                  ]
                ],
                "commands" : [
                  "kubectl -n crossplane-system annotate serviceaccount provider-aws-pod-identity eks.amazonaws.com/role-arn-"
                ],
                "stdin" : [
                  null
                ],
                "summary" : "remove the stale annotation",
                "variables" : {

                }
              },
              "status" : "warn",
              "subject" : "provider/provider-aws-s3"
            },
            {
              "check" : "crossplane.package-health",
              "evidence" : {

              },
              "fixable" : false,
              "message" : "Installed and Healthy (revision upbound-provider-family-aws-7d1a4b5c6e2f)",
              "remediation" : null,
              "status" : "pass",
              "subject" : "provider/upbound-provider-family-aws"
            }
          ],
          "generatedAt" : "2026-11-22T10:00:00Z",
          "schema" : "kubectl-xpid/report/v1",
          "subjects" : [
            {
              "id" : "provider/provider-aws-s3",
              "kind" : "provider",
              "method" : "pod-identity",
              "methodEvidence" : "EKS Pod Identity association for crossplane-system/provider-aws-pod-identity",
              "name" : "provider-aws-s3",
              "namespace" : "crossplane-system",
              "serviceAccount" : "provider-aws-pod-identity"
            },
            {
              "id" : "provider/upbound-provider-family-aws",
              "kind" : "provider",
              "method" : "none",
              "methodEvidence" : "family provider",
              "name" : "upbound-provider-family-aws",
              "namespace" : "crossplane-system",
              "serviceAccount" : null
            },
            {
              "id" : "function/function-auto-ready",
              "kind" : "function",
              "method" : "none",
              "methodEvidence" : "no workload identity configured",
              "name" : "function-auto-ready",
              "namespace" : "crossplane-system",
              "serviceAccount" : "function-auto-ready"
            }
          ],
          "summary" : {
            "error" : 1,
            "fail" : 1,
            "pass" : 2,
            "skip" : 1,
            "warn" : 1
          },
          "tool" : {
            "name" : "kubectl-xpid",
            "version" : "0.1.0"
          }
        }

        """

    /// Whitespace inside the pretty-printed document is Foundation's business (it differs between
    /// platforms and versions, e.g. `{\n\n}` for an empty object); the content, key order and line
    /// structure are the renderer's.
    static func normalised(_ json: String) -> String {
        json.split(separator: "\n", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "\n")
    }

    @Test("JSON report snapshot")
    func jsonSnapshot() throws {
        let rendered = JSONRenderer.render(FixedReport.make())
        #expect(Self.normalised(rendered) == Self.normalised(Self.expectedJSON))
        #expect(try JSONValue.parse(rendered) == JSONValue.parse(Self.expectedJSON))
        #expect(rendered.hasSuffix("}\n"))
    }

    @Test("text and JSON never disagree: every finding's message and status appear in both")
    func textAndJSONAgree() throws {
        let report = FixedReport.make()
        let text = TextRenderer.render(report, style: TextStyle(unicode: false, color: false), showAll: true)
        let json = try JSONValue.parse(JSONRenderer.render(report))
        let findings = json["findings"].array
        #expect(findings.count == report.findings.count)
        for (f, j) in zip(report.findings, findings) {
            #expect(text.contains("\(f.check)") && text.contains(f.message))
            #expect(j["message"].string == f.message)
            #expect(j["status"].string == f.status.rawValue)
            for command in f.remediation?.commands ?? [] where f.status != .pass && f.status != .skip {
                #expect(text.contains("-> \(command.line)"))
            }
        }
    }
}
