import Foundation

/// What the EKS webhook does to a pod at CREATE, from the ServiceAccount and associations as they
/// are at that moment. Used by restart transforms to predict the pods a restart produces.
public enum EKSWebhook {
    public static func mutate(_ pod: inout Pod, serviceAccount: ServiceAccount?, podIdentity: Bool, region: String?) {
        let role = serviceAccount?.metadata.annotations[IRSAFacts.roleAnnotation]
        for i in pod.spec.containers.indices {
            var c = pod.spec.containers[i]
            c.env.removeAll { [PodIdentityFacts.credentialsURIEnv, PodIdentityFacts.tokenFileEnv, IRSAFacts.roleEnv, IRSAFacts.tokenFileEnv].contains($0.name) }
            c.volumeMounts.removeAll { $0.name == "eks-pod-identity-token" || $0.name == "aws-iam-token" }
            if podIdentity {
                c.env += [
                    EnvVar(name: PodIdentityFacts.credentialsURIEnv, value: PodIdentityFacts.credentialsURIs[0]),
                    EnvVar(name: PodIdentityFacts.tokenFileEnv, value: PodIdentityFacts.tokenFile),
                ]
                c.volumeMounts.append(VolumeMount(name: "eks-pod-identity-token", mountPath: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"))
            } else if let role {
                c.env += [EnvVar(name: IRSAFacts.roleEnv, value: role), EnvVar(name: IRSAFacts.tokenFileEnv, value: IRSAFacts.tokenFile)]
                c.volumeMounts.append(VolumeMount(name: "aws-iam-token", mountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount"))
            }
            if (podIdentity || role != nil), let region, !c.hasEnv("AWS_REGION") {
                c.env += [EnvVar(name: "AWS_REGION", value: region), EnvVar(name: "AWS_DEFAULT_REGION", value: region)]
            }
            pod.spec.containers[i] = c
        }
        pod.spec.volumes.removeAll { $0.name == "eks-pod-identity-token" || $0.name == "aws-iam-token" }
        if podIdentity {
            pod.spec.volumes.append(Volume(name: "eks-pod-identity-token", projectedTokens: [ProjectedToken(audience: PodIdentityFacts.audience, path: "eks-pod-identity-token")]))
        } else if role != nil {
            let audience = serviceAccount?.metadata.annotations[IRSAFacts.audienceAnnotation] ?? IRSAFacts.defaultAudience
            pod.spec.volumes.append(Volume(name: "aws-iam-token", projectedTokens: [ProjectedToken(audience: audience, path: "token")]))
        }
    }
}

extension Snapshot {
    /// Replaces a subject's pods the way a rollout does: new pods, created now, mutated from the
    /// ServiceAccount and associations as they are now.
    public mutating func recreatePods(namespace: String, selector: [String: String], serviceAccount: String?) {
        let now = options.now
        let region = cluster.region
        for i in pods.indices where pods[i].metadata.namespace == namespace && !selector.isEmpty && selector.allSatisfy({ pods[i].metadata.labels[$0.key] == $0.value }) {
            var pod = pods[i]
            if let serviceAccount { pod.spec.serviceAccountName = serviceAccount }
            let sa = self.serviceAccount(namespace: namespace, name: pod.spec.effectiveServiceAccountName)
            let podIdentity = !associations(namespace: namespace, serviceAccount: pod.spec.effectiveServiceAccountName).isEmpty
            pod.metadata.creationTimestamp = now
            pod.metadata.name += "-r"
            pod.containerStatuses = pod.containerStatuses.map { ContainerState(name: $0.name, ready: true) }
            pod.phase = "Running"
            if let template = deployments.first(where: { d in d.metadata.namespace == namespace && !d.selector.isEmpty && d.selector.allSatisfy { pod.metadata.labels[$0.key] == $0.value } })?.template {
                // New pods carry the template's labels as they are now.
                for (k, v) in template.labels { pod.metadata.labels[k] = v }
                if !AzureWIFacts.isOn(template.labels) { pod.metadata.labels[AzureWIFacts.useLabel] = nil }
            }
            EKSWebhook.mutate(&pod, serviceAccount: sa, podIdentity: podIdentity, region: region)
            if webhookConfigurations.contains(where: { $0.webhooks.contains(AzureWIFacts.webhookName) }) {
                AzureWebhook.mutate(&pod, serviceAccount: sa, defaultTenant: azure.account.value?.tenantID)
            }
            pods[i] = pod
        }
    }
}

/// What the Azure Workload Identity webhook does to a pod at CREATE: only pods labelled
/// `azure.workload.identity/use: "true"`, env from the ServiceAccount as it is at that moment.
public enum AzureWebhook {
    public static func mutate(_ pod: inout Pod, serviceAccount: ServiceAccount?, defaultTenant: String?) {
        let names = [AzureWIFacts.clientIDEnv, AzureWIFacts.tenantIDEnv, AzureWIFacts.tokenFileEnv, AzureWIFacts.authorityHostEnv]
        for i in pod.spec.containers.indices {
            pod.spec.containers[i].env.removeAll { names.contains($0.name) }
            pod.spec.containers[i].volumeMounts.removeAll { $0.name == "azure-identity-token" }
        }
        pod.spec.volumes.removeAll { $0.name == "azure-identity-token" }
        guard AzureWIFacts.isOn(pod.metadata.labels) else { return }
        let annotations = serviceAccount?.metadata.annotations ?? [:]
        let values: [(String, String?)] = [
            (AzureWIFacts.clientIDEnv, annotations[AzureWIFacts.clientIDAnnotation]),
            (AzureWIFacts.tenantIDEnv, annotations[AzureWIFacts.tenantIDAnnotation] ?? defaultTenant),
            (AzureWIFacts.tokenFileEnv, AzureWIFacts.legacyTokenFile),
            (AzureWIFacts.authorityHostEnv, "https://login.microsoftonline.com/"),
        ]
        for i in pod.spec.containers.indices {
            for (name, value) in values { if let value, !value.isEmpty { pod.spec.containers[i].env.append(EnvVar(name: name, value: value)) } }
            pod.spec.containers[i].volumeMounts.append(VolumeMount(name: "azure-identity-token", mountPath: "/var/run/secrets/azure/tokens"))
        }
        pod.spec.volumes.append(Volume(name: "azure-identity-token", projectedTokens: [ProjectedToken(audience: AzureWIFacts.audience, path: "azure-identity-token")]))
    }
}
