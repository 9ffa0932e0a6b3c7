import Foundation

/// Exact, copy-pasteable commands used in remediations. Kept in one place so every check
/// spells kubectl and aws the same way.
public enum Commands {
    public static func quote(_ s: String) -> String {
        if !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=@,+".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func restart(_ subject: Subject) -> String {
        let name = subject.deployment?.metadata.name ?? subject.revision ?? subject.name
        return "kubectl -n \(subject.namespace) rollout restart deployment/\(name)"
    }

    public static func createAssociation(_ context: EvaluationContext, namespace: String, serviceAccount: String, role: String = "<ROLE_ARN>") -> String {
        "aws eks create-pod-identity-association --cluster-name \(context.clusterName) --namespace \(namespace) --service-account \(serviceAccount) --role-arn \(role)\(context.regionFlag)"
    }

    public static func createAddon(_ context: EvaluationContext) -> String {
        "aws eks create-addon --cluster-name \(context.clusterName) --addon-name \(PodIdentityFacts.addonName)\(context.regionFlag)"
    }

    public static func updateTrust(roleName: String, document: JSONValue) -> String {
        "aws iam update-assume-role-policy --role-name \(roleName) --policy-document \(quote(document.compactText()))"
    }

    /// A dedicated DeploymentRuntimeConfig with a stable ServiceAccount name, then the package pointed at it.
    public static func stableServiceAccount(_ subject: Subject, serviceAccount: String) -> [String] {
        let drc = dedicatedRuntimeConfigName(subject)
        return [
            "echo \(quote(runtimeConfigManifest(name: drc, serviceAccountName: serviceAccount).compactText())) | kubectl apply -f -",
            "kubectl patch \(packageResource(subject)) \(subject.name) --type merge -p " + quote(runtimeConfigRefPatch(drc)),
        ]
    }

    /// `providers.pkg.crossplane.io` or `functions.pkg.crossplane.io`, as kubectl names the package's kind.
    public static func packageResource(_ subject: Subject) -> String {
        "\(subject.kind == .function ? "functions" : "providers").pkg.crossplane.io"
    }

    /// The runtime config made for one package, so the shared `default` one is never edited.
    public static func dedicatedRuntimeConfigName(_ subject: Subject) -> String { "\(subject.name)-runtime" }

    /// A DeploymentRuntimeConfig whose `serviceAccountTemplate` sets a name and/or annotations.
    public static func runtimeConfigManifest(name: String, serviceAccountName: String? = nil, annotations: [String: String] = [:]) -> JSONValue {
        var metadata: [String: JSONValue] = [:]
        if let serviceAccountName { metadata["name"] = .string(serviceAccountName) }
        if !annotations.isEmpty { metadata["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
        return [
            "apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "metadata": ["name": .string(name)],
            "spec": ["serviceAccountTemplate": ["metadata": .object(metadata)]],
        ]
    }

    /// The merge patch that points a package's `runtimeConfigRef` at a DeploymentRuntimeConfig.
    public static func runtimeConfigRefPatch(_ runtimeConfig: String) -> String {
        #"{"spec":{"runtimeConfigRef":{"apiVersion":"pkg.crossplane.io/v1beta1","kind":"DeploymentRuntimeConfig","name":"\#(runtimeConfig)"}}}"#
    }

    /// The merge patch that sets the IRSA role in a DeploymentRuntimeConfig's `serviceAccountTemplate`.
    public static func roleAnnotationPatch(_ role: String) -> String {
        #"{"spec":{"serviceAccountTemplate":{"metadata":{"annotations":{"eks.amazonaws.com/role-arn":"\#(role)"}}}}}"#
    }

    public static func describePackage(_ subject: Subject) -> String {
        "kubectl describe \(packageResource(subject)) \(subject.name)"
    }

    public static func setSource(_ pc: ProviderConfig, source: String) -> String {
        let ns = pc.metadata.namespace.map { " -n \($0)" } ?? ""
        return "kubectl patch \(pc.api.plural).\(pc.api.group) \(pc.metadata.name)\(ns) --type merge -p "
            + quote(#"{"spec":{"credentials":{"source":"\#(source)"}}}"#)
    }
}

/// How a cloud read that did not produce a value becomes a check result.
extension CloudRead {
    public func unavailableResult(what: String) -> CheckResult? {
        switch self {
        case .value: return nil
        case .notFound(let message): return .error("\(what): not found (\(message))")
        case .notRequested(let reason): return .skip("\(what) not read: \(reason)")
        case .failed(let error):
            return .error(
                "\(what) could not be read: \(error.message)",
                remediation: Remediation(CloudErrorAdvice.advice(for: error), commands: [error.command]))
        }
    }
}

public enum CloudErrorAdvice {
    public static func advice(for error: CloudError) -> String {
        switch error.kind {
        case .cliMissing: return "install the aws CLI or pass --aws PATH; or run with --no-cloud for cluster-side checks only"
        case .notLoggedIn: return "log in to AWS (aws sso login, or set AWS_PROFILE) and re-run; the command below shows the error"
        case .accessDenied: return "the AWS identity lacks a read permission; see the README's IAM read policy"
        case .timeout: return "the aws CLI timed out; check network access to AWS or raise --timeout"
        case .malformedOutput: return "the aws CLI printed output that is not the expected JSON; run the command below to see it"
        case .notFound: return "the object does not exist in this account/region; check --cluster-name and --region"
        case .other: return "run the command below to see the error"
        }
    }
}

extension EvaluationContext {
    /// When the subject's runtime could not be found because a read was denied, the checks that
    /// need it report `error` naming the read instead of guessing.
    public func runtimeReadError(for subject: Subject) -> CheckResult? {
        for (resource, namespace) in [("deployments", subject.namespace), ("pods", subject.namespace), ("serviceaccounts", subject.namespace)] {
            if let (read, outcome) = snapshot.failedRead(resource, namespace: namespace) {
                if resource == "serviceaccounts" && subject.serviceAccountName == nil { continue }
                if resource != "serviceaccounts" && subject.serviceAccountName != nil { continue }
                return CheckResult(.error, "cannot resolve the runtime of \(subject.id): \(read.displayName) \(outcome.shortText)", remediation: ClusterAccessCheck.grant(verb: "list", read: read))
            }
        }
        return nil
    }
}

extension Commands {
    /// How to put `eks.amazonaws.com/role-arn` on a subject's ServiceAccount so that it stays:
    /// Helm values for a Helm-managed Crossplane core (seed 000), the DeploymentRuntimeConfig's
    /// `serviceAccountTemplate` for packages (Crossplane re-applies the SA from it), else the SA itself.
    public static func setRoleAnnotation(_ subject: Subject, role: String) -> [String] {
        let sa = subject.serviceAccountName ?? subject.name
        switch subject.kind {
        case .crossplaneCore:
            if let helm = helmRelease(subject) {
                return [
                    "helm upgrade \(helm.release) crossplane-stable/crossplane --namespace \(helm.namespace) --reuse-values --set "
                        + quote("serviceAccount.customAnnotations.eks\\.amazonaws\\.com/role-arn=\(role)"),
                    restart(subject),
                ]
            }
            return ["kubectl -n \(subject.namespace) annotate serviceaccount \(sa) \(IRSAFacts.roleAnnotation)=\(role)", restart(subject)]
        case .provider, .function:
            if let drc = subject.runtimeConfig, drc.podServiceAccountName == sa {
                // A pre-created ServiceAccount that Crossplane does not manage: annotate it directly.
                return ["kubectl -n \(subject.namespace) annotate serviceaccount \(sa) \(IRSAFacts.roleAnnotation)=\(role)", restart(subject)]
            }
            if let drc = subject.runtimeConfig, drc.metadata.name != "default" {
                return ["kubectl patch deploymentruntimeconfigs.pkg.crossplane.io \(drc.metadata.name) --type merge -p " + quote(roleAnnotationPatch(role)), restart(subject)]
            }
            // Never edit the shared `default` runtime config: give the package its own.
            let drc = dedicatedRuntimeConfigName(subject)
            let manifest = runtimeConfigManifest(name: drc, annotations: [IRSAFacts.roleAnnotation: role])
            return [
                "echo \(quote(manifest.compactText())) | kubectl apply -f -",
                "kubectl patch \(packageResource(subject)) \(subject.name) --type merge -p " + quote(runtimeConfigRefPatch(drc)),
            ]
        }
    }

    /// The Helm release managing the Crossplane core, from its ServiceAccount or Deployment.
    public static func helmRelease(_ subject: Subject) -> (release: String, namespace: String)? {
        for meta in [subject.serviceAccount?.metadata, subject.deployment?.metadata].compactMap({ $0 }) {
            if case .helm(let release, let namespace) = meta.managedBy {
                return (release ?? "crossplane", namespace ?? subject.namespace)
            }
        }
        return nil
    }

    public static func ecrPullPolicy(repositories: [String]) -> JSONValue {
        [
            "Version": "2012-10-17",
            "Statement": [
                ["Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"],
                ["Effect": "Allow", "Action": .array(IAMPolicyEvaluator.ecrRepositoryPullActions.map(JSONValue.string)), "Resource": .array(repositories.map(JSONValue.string))],
            ],
        ]
    }
}

/// Splits a command line as `Commands.quote` writes it (single quotes, `'\''` escapes) back into argv.
public enum ShellWords {
    public static func split(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quoted = false
        let chars = Array(line)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "'" { quoted = false } else { current.append(c) }
            } else if c == "'" {
                quoted = true
                inWord = true
            } else if c == "\\", i + 1 < chars.count {
                current.append(chars[i + 1])
                inWord = true
                i += 1
            } else if c == " " {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(c)
                inWord = true
            }
            i += 1
        }
        if inWord { words.append(current) }
        return words
    }
}
