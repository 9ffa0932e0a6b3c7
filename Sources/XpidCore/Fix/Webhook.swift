import Foundation

/// What the EKS webhook does to a pod at CREATE, from the ServiceAccount and associations as they
/// are at that moment. Used by restart transforms to predict the pods a restart produces.
public enum Webhook {
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
            Webhook.mutate(&pod, serviceAccount: sa, podIdentity: podIdentity, region: region)
            pods[i] = pod
        }
    }
}
