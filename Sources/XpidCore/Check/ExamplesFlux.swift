import Foundation

/// Flux states for the Flux examples (seed 004): the controllers of a bootstrap install in flux-system,
/// managed by the flux-system Kustomization, with controller-level identity patched in, and object-level
/// setups with a tenant namespace `apps`.
extension Examples {
    public static let fluxNS = FluxFacts.defaultNamespace
    public static let fluxRole = "arn:aws:iam::123456789012:role/flux-source-controller"
    public static let fluxObjectRole = "arn:aws:iam::123456789012:role/apps-podinfo-reader"
    public static let fluxClientID = "33333333-4444-4555-8666-777777777777"
    public static let fluxGSA = "flux-source@acme-platform.iam.gserviceaccount.com"
    static let fluxManaged = ["kustomize.toolkit.fluxcd.io/name": "flux-system", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"]

    /// A Flux controller as `flux bootstrap` installs it: Deployment and ServiceAccount of the same name.
    public static func fluxController(_ name: String, annotations: [String: String] = [:], podLabels: [String: String] = [:], args: [String] = [], env: [EnvVar] = [], node: String) -> (Deployment, ServiceAccount, Pod) {
        let labels = ["app": name, "app.kubernetes.io/component": name, "app.kubernetes.io/part-of": "flux", "app.kubernetes.io/instance": "flux-system"]
        let baseArgs = ["--events-addr=http://notification-controller.flux-system.svc.cluster.local./", "--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election"]
        var container = Container(name: FluxFacts.managerContainer, image: "ghcr.io/fluxcd/\(name):v1.7.0")
        container.args = baseArgs + args
        let template = PodTemplate(labels: labels.merging(podLabels) { a, _ in a }, spec: PodSpec(serviceAccountName: name, containers: [container]))
        let deployment = Deployment(metadata: ObjectMeta(name: name, namespace: fluxNS, labels: fluxManaged.merging(["app.kubernetes.io/part-of": "flux"]) { a, _ in a }), selector: ["app": name], template: template)
        let sa = ServiceAccount(metadata: ObjectMeta(name: name, namespace: fluxNS, labels: fluxManaged, annotations: annotations))
        var podContainer = container
        podContainer.env = env
        let pod = Pod(
            metadata: ObjectMeta(name: "\(name)-6d5b7c8f9-x2k4p", namespace: fluxNS, labels: labels.merging(podLabels) { a, _ in a }, creationTimestamp: podsCreated),
            spec: PodSpec(serviceAccountName: name, nodeName: node, containers: [podContainer]),
            containerStatuses: [ContainerState(name: FluxFacts.managerContainer, ready: true)])
        return (deployment, sa, pod)
    }

    /// Adds a Flux install (one controller with its ServiceAccount and pod, crd-controller RBAC) and one object.
    static func installFlux(_ s: inout Snapshot, _ controller: (Deployment, ServiceAccount, Pod), object: FluxObject) {
        s.deployments.append(controller.0)
        s.serviceAccounts.append(controller.1)
        s.pods.append(controller.2)
        s.fluxInstalled = true
        s.fluxObjects = [object]
        (s.clusterRoles, s.clusterRoleBindings) = fluxRBAC(tokenRule: true)
    }

    static func readyConditions() -> [Condition] { [Condition(type: "Ready", status: "True", reason: "Succeeded", message: "stored artifact for digest 'sha256:…'")] }

    /// The crd-controller ClusterRole of a Flux install, with or without the object-level token rule.
    static func fluxRBAC(tokenRule: Bool) -> ([ClusterRole], [ClusterRoleBinding]) {
        var rules = [ClusterRole.Rule(apiGroups: ["source.toolkit.fluxcd.io"], resources: ["*"], verbs: ["*"])]
        if tokenRule { rules.append(ClusterRole.Rule(apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"])) }
        let role = ClusterRole(metadata: ObjectMeta(name: "crd-controller-flux-system"), rules: rules)
        let subjects = FluxFacts.controllers.prefix(6).map { ClusterRoleBinding.Subject(kind: "ServiceAccount", name: $0, namespace: fluxNS) }
        return ([role], [ClusterRoleBinding(metadata: ObjectMeta(name: "crd-controller-flux-system"), roleName: role.metadata.name, subjects: Array(subjects))])
    }

    /// EKS (seed 004, IRSA): source-controller annotated with a role that trusts flux-system:source-controller,
    /// reading an OCIRepository `provider: aws` from ECR with no object-level ServiceAccount.
    public static func eksFlux(controllerRole: String? = fluxRole) -> Snapshot {
        var s = irsaSeed()
        let (d, sa, pod) = fluxController(
            "source-controller", annotations: controllerRole.map { [IRSAFacts.roleAnnotation: $0] } ?? [:], env: controllerRole.map { irsaEnv(role: $0) } ?? [], node: "ip-10-0-1-10")
        var irsaPod = pod
        if controllerRole != nil {
            irsaPod.spec.containers[0].volumeMounts = [irsaMount]
            irsaPod.spec.volumes = [irsaVolume()]
        }
        installFlux(&s, (d, sa, irsaPod), object: FluxObject(
            kind: .ociRepository, metadata: ObjectMeta(name: "podinfo", namespace: fluxNS), provider: "aws", address: "oci://\(ecrRegistry)/podinfo",
            conditions: readyConditions()))
        s.aws.roles[fluxRole] = .value(IAMRole(name: "flux-source-controller", arn: fluxRole, trustPolicy: irsaTrust(subject: "system:serviceaccount:flux-system:source-controller")))
        return s
    }

    /// EKS object level: OCIRepository apps/podinfo names ServiceAccount apps/podinfo-reader (IRSA), source-controller
    /// has the gate; `podIdentity` replaces the annotation with an EKS Pod Identity association.
    public static func eksFluxObjectLevel(gate: Bool = true, podIdentity: Bool = false, tokenRule: Bool = true) -> Snapshot {
        var s = eksFlux(controllerRole: nil)
        if gate { s.updateDeployment(namespace: fluxNS, name: "source-controller") { $0.template.spec.containers[0].args.append(FluxFacts.featureGateArgument) } }
        s.fluxObjects = [FluxObject(
            kind: .ociRepository, metadata: ObjectMeta(name: "podinfo", namespace: "apps"), provider: "aws", address: "oci://\(ecrRegistry)/podinfo",
            serviceAccountName: "podinfo-reader", conditions: readyConditions())]
        s.serviceAccounts.append(ServiceAccount(metadata: ObjectMeta(name: "podinfo-reader", namespace: "apps", annotations: podIdentity ? [:] : [IRSAFacts.roleAnnotation: fluxObjectRole])))
        if podIdentity {
            let association = PodIdentityAssociation(
                id: "a-flux0000000000001", namespace: "apps", serviceAccount: "podinfo-reader", roleArn: fluxObjectRole, createdAt: associationCreated)
            s.aws.associations = .value((s.aws.associations.value ?? []) + [association])
            s.aws.describedAssociations[association.id] = .value(association)
        }
        (s.clusterRoles, s.clusterRoleBindings) = fluxRBAC(tokenRule: tokenRule)
        s.aws.roles[fluxObjectRole] = .value(IAMRole(name: "apps-podinfo-reader", arn: fluxObjectRole, trustPolicy: irsaTrust(subject: "system:serviceaccount:apps:podinfo-reader")))
        return s
    }

    /// AKS (seed 004, Azure): source-controller with client-id/tenant-id on its ServiceAccount and the pod label
    /// on its Deployment's template (both from the bootstrap kustomization.yaml), an identity trusting it.
    public static func aksFlux(label: Bool = true) -> Snapshot {
        var s = aksSeed()
        let annotations = [AzureWIFacts.clientIDAnnotation: fluxClientID, AzureWIFacts.tenantIDAnnotation: azureTenant]
        var (d, sa, pod) = fluxController(
            "source-controller", annotations: annotations, podLabels: label ? [AzureWIFacts.useLabel: "true"] : [:],
            env: label ? azureEnv(clientID: fluxClientID) : [], node: "aks-nodepool1-12345678-vmss000000")
        if label {
            pod.spec.containers[0].volumeMounts = [azureTokenMount]
            pod.spec.volumes = [azureTokenVolume]
        }
        installFlux(&s, (d, sa, pod), object: FluxObject(
            kind: .ociRepository, metadata: ObjectMeta(name: "podinfo", namespace: fluxNS), provider: "azure", address: "oci://\(acrServer)/podinfo",
            conditions: readyConditions()))
        let identity = ManagedIdentity(
            name: "flux-source-controller", resourceGroup: aksResourceGroup,
            id: "/subscriptions/\(azureSubscription)/resourceGroups/\(aksResourceGroup)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/flux-source-controller",
            clientID: fluxClientID, principalID: "dddddddd-1111-4222-8333-444444444444", tenantID: azureTenant)
        s.azure.identities = .value((s.azure.identities.value ?? []) + [identity])
        s.azure.federatedCredentials[identity.id!] = .value([FederatedCredential(name: "flux-source-controller", issuer: aksIssuer, subject: "system:serviceaccount:flux-system:source-controller")])
        return s
    }

    /// AKS object level: the object's ServiceAccount in `apps` with client-id (and tenant-id unless `tenant` is false).
    public static func aksFluxObjectLevel(tenant: Bool = true) -> Snapshot {
        var s = aksFlux()
        s.updateDeployment(namespace: fluxNS, name: "source-controller") { $0.template.spec.containers[0].args.append(FluxFacts.featureGateArgument) }
        s.fluxObjects = [FluxObject(
            kind: .ociRepository, metadata: ObjectMeta(name: "podinfo", namespace: "apps"), provider: "azure", address: "oci://\(acrServer)/podinfo",
            serviceAccountName: "podinfo-reader", conditions: readyConditions())]
        var annotations = [AzureWIFacts.clientIDAnnotation: fluxClientID]
        if tenant { annotations[AzureWIFacts.tenantIDAnnotation] = azureTenant }
        s.serviceAccounts.append(ServiceAccount(metadata: ObjectMeta(name: "podinfo-reader", namespace: "apps", annotations: annotations)))
        return s
    }

    /// GKE (seed 004, GCP): source-controller with a GSA annotation and its workloadIdentityUser binding, or none
    /// (the ServiceAccount is the principal, granted on the repository).
    public static func gkeFlux(gsa: Bool = true) -> Snapshot {
        var s = gkeSeed()
        installFlux(&s, fluxController("source-controller", annotations: gsa ? [GKEFacts.gsaAnnotation: fluxGSA] : [:], node: "gke-prod-gke-default-pool-1a2b3c4d-0"), object: FluxObject(
            kind: .ociRepository, metadata: ObjectMeta(name: "podinfo", namespace: fluxNS), provider: "gcp", address: "oci://\(garRepository)/podinfo",
            conditions: readyConditions()))
        if gsa {
            s.gcp.serviceAccountPolicies[fluxGSA] = .value(GCPPolicy(bindings: [(role: GKEFacts.workloadIdentityUser, members: [GKEFacts.workloadIdentityMember(pool: gkePool, namespace: fluxNS, serviceAccount: "source-controller")])]))
        }
        return s
    }
}
