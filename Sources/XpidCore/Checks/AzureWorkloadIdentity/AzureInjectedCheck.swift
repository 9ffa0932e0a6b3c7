import Foundation

public struct AzureInjectedCheck: Check {
    public init() {}

    public static let description = CheckDescription(
        id: "azure.injected",
        title: "Webhook injected the Azure token and env",
        summary: "Every running pod's runtime container has `AZURE_CLIENT_ID` (equal to the annotation), `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE` and `AZURE_AUTHORITY_HOST`, and a projected ServiceAccount token with audience `api://AzureADTokenExchange` (found by audience, not by volume name) mounted where the token file points.",
        rationale: "These are what the Azure SDKs read; the webhook only adds them at pod creation, to pods selected by the label, so a pod can carry the label and still lack them (created before the webhook, or skipped container).",
        remediation: "Restart the workload once the label and annotations are right; check `azure.workload.identity/skip-containers`.",
        mechanism: .azureWI, scope: .subject, dependsOn: ["aks.workload-identity", "azure.sa-annotation", "azure.pod-label", "azure.pods-current"],
        reads: [.pods],
        liveOnly: true, passing: [CheckExample("env and projected token", subject: "crossplane-core/crossplane", expect: .pass) { Examples.aksSeed() }],
        failing: [
            CheckExample("client ID set by hand, no token (not mutated by the webhook)", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) {
                    $0.spec.containers[0].env = [EnvVar(name: AzureWIFacts.clientIDEnv, value: Examples.coreClientID)]
                    $0.spec.volumes = []
                    $0.spec.containers[0].volumeMounts = []
                }
                return s
            },
            CheckExample("token volume with the wrong audience", subject: "crossplane-core/crossplane", expect: .fail) {
                var s = Examples.aksSeed()
                s.updatePods(where: { $0.metadata.labels["app"] == "crossplane" }) {
                    $0.spec.volumes = [Volume(name: "azure-identity-token", projectedTokens: [ProjectedToken(audience: "api://AzureADTokenExchangeX", path: "azure-identity-token")])]
                }
                return s
            },
        ])

    public func applies(to subject: Subject, in context: EvaluationContext) -> Bool { (subject.method == .azureWI) && subject.runsPods }

    public func evaluate(_ target: CheckTarget, in context: EvaluationContext) -> [CheckResult] {
        guard case .subject(let subject) = target else { return [] }
        let pods = subject.livePods
        if pods.isEmpty { return [.skip("no running pods")] }
        let annotated = subject.serviceAccount?.metadata.annotations[AzureWIFacts.clientIDAnnotation]
        var problems: [String] = []
        var proxy: [String] = []
        for pod in pods {
            guard let c = subject.runtimeContainer(of: pod) else { continue }
            var missing = [AzureWIFacts.clientIDEnv, AzureWIFacts.tenantIDEnv, AzureWIFacts.tokenFileEnv, AzureWIFacts.authorityHostEnv].filter { !c.hasEnv($0) }
            if let env = c.envValue(AzureWIFacts.clientIDEnv), let annotated, env != annotated { missing.append("\(AzureWIFacts.clientIDEnv)=\(env) (annotation says \(annotated))") }
            let tokenVolumes = Set(pod.spec.volumes.filter { $0.projectedTokens.contains { $0.audience == AzureWIFacts.audience } }.map(\.name))
            if tokenVolumes.isEmpty {
                missing.append("projected token with audience \(AzureWIFacts.audience)")
            } else if let file = c.envValue(AzureWIFacts.tokenFileEnv),
                !c.volumeMounts.contains(where: { tokenVolumes.contains($0.name) && file.hasPrefix($0.mountPath.hasSuffix("/") ? $0.mountPath : $0.mountPath + "/") })
            {
                missing.append("a mount of the token volume at the directory of \(file)")
            }
            if !missing.isEmpty { problems.append("\(pod.metadata.name): no \(missing.joined(separator: ", "))") }
            if c.hasEnv(AzureWIFacts.tokenProxyEnv) { proxy.append(pod.metadata.name) }
        }
        if !problems.isEmpty {
            return [.fail(
                "\(problems.joined(separator: "; ")): the pod was created before the webhook could mutate it (or the container is skipped)",
                remediation: Remediation("restart the workload so the webhook mutates new pods (kubectl xpid fix --restart)", commands: [Commands.restart(subject)]))]
        }
        let file = context.injectedTokenFile(of: subject) ?? ""
        if !proxy.isEmpty {
            return [.warn(
                "pod(s) \(proxy.joined(separator: ", ")) run in AKS identity-binding mode (\(AzureWIFacts.tokenProxyEnv)): clients must support the token proxy, which is not established for the Terraform azurerm provider",
                evidence: ["tokenFile": file],
                remediation: Remediation("use a federated identity credential instead of an identity binding if the provider cannot authenticate", commands: [Commands.describePod(namespace: subject.namespace, name: proxy[0])]))]
        }
        return [.pass("\(pods.count) pod(s) have the Azure env and a projected token (\(AzureWIFacts.tokenFileEnv)=\(file))", evidence: ["tokenFile": file])]
    }
}
