import Foundation

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
        let program = error.command.program.split(separator: "/").last.map(String.init)
        if program == "az" { return azureAdvice(for: error) }
        if program == "gcloud" { return gcloudAdvice(for: error) }
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

    static func gcloudAdvice(for error: CloudError) -> String {
        switch error.kind {
        case .cliMissing: return "install the Google Cloud CLI or pass --gcloud PATH; or run with --no-cloud for cluster-side checks only"
        case .notLoggedIn: return "log in to Google Cloud (gcloud auth login) and re-run; the command below shows the error"
        case .accessDenied: return "the Google identity lacks a read permission (roles/container.clusterViewer, roles/iam.securityReviewer, roles/artifactregistry.reader; see the README)"
        case .timeout: return "gcloud timed out; check network access to Google Cloud or raise --timeout"
        case .malformedOutput: return "gcloud printed output that is not the expected JSON; run the command below to see it"
        case .notFound: return "the object does not exist; check --project, --location and --cluster-name"
        case .other: return "run the command below to see the error"
        }
    }

    static func azureAdvice(for error: CloudError) -> String {
        switch error.kind {
        case .cliMissing: return "install the Azure CLI (pip install azure-cli) or pass --az PATH; or run with --no-cloud for cluster-side checks only"
        case .notLoggedIn: return "log in to Azure (az login) and re-run; the command below shows the error"
        case .accessDenied: return "the Azure identity lacks a read permission (Reader on the cluster, identities and registry; see the README's Azure roles)"
        case .timeout: return "the az CLI timed out; check network access to Azure or raise --timeout"
        case .malformedOutput: return "the az CLI printed output that is not the expected JSON; run the command below to see it"
        case .notFound: return "the object does not exist in this subscription; check --subscription, --resource-group and --cluster-name"
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
                return CheckResult(.error, "cannot resolve the runtime of \(subject.id): \(read.displayName) \(outcome.shortText)", remediation: ClusterAccessCheck.grant(verb: "list", read: read, outcome: outcome))
            }
        }
        return nil
    }
}
