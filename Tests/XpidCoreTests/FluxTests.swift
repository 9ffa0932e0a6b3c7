import Foundation
import Testing
import XpidCore

@Suite("Flux: controller settings, objects, subjects, patches")
struct FluxTests {
    static let source = "flux-controller/source-controller"
    static let tenantObject = "flux-object/apps/podinfo"
    static let bootstrapObject = "flux-object/flux-system/podinfo"

    static func deployment(_ name: String, args: [String]) -> Deployment {
        var c = Container(name: FluxFacts.managerContainer, image: "ghcr.io/fluxcd/\(name):v1.7.0")
        c.args = args
        return Deployment(metadata: ObjectMeta(name: name, namespace: "flux-system"), selector: ["app": name], template: PodTemplate(spec: PodSpec(containers: [c])))
    }

    // MARK: controller arguments

    @Test("feature gates: merged in order, later entries win, both flag spellings")
    func featureGates() {
        #expect(FluxControllerSettings(Self.deployment("source-controller", args: ["--feature-gates=A=true,ObjectLevelWorkloadIdentity=true"])).objectLevelEnabled)
        #expect(FluxControllerSettings(Self.deployment("source-controller", args: ["--feature-gates", "ObjectLevelWorkloadIdentity=true"])).objectLevelEnabled)
        #expect(!FluxControllerSettings(Self.deployment("source-controller", args: [FluxFacts.featureGateArgument, "--feature-gates=ObjectLevelWorkloadIdentity=false"])).objectLevelEnabled)
        #expect(!FluxControllerSettings(Self.deployment("source-controller", args: ["--feature-gates=ObjectLevelWorkloadIdentity"])).objectLevelEnabled)
        #expect(!FluxControllerSettings(Self.deployment("source-controller", args: [])).objectLevelEnabled)
    }

    @Test("--default-service-account is a workload identity lockdown on source-controller, impersonation on kustomize-controller")
    func lockdownFlags() {
        #expect(FluxControllerSettings(Self.deployment("source-controller", args: ["--default-service-account=default"])).lockdownServiceAccount == "default")
        #expect(FluxControllerSettings(Self.deployment("kustomize-controller", args: ["--default-service-account=default"])).lockdownServiceAccount == nil)
        #expect(FluxControllerSettings(Self.deployment("kustomize-controller", args: ["--default-decryption-service-account=sops"])).lockdownServiceAccount == "sops")
        #expect(FluxControllerSettings(Self.deployment("helm-controller", args: ["--default-service-account=default"])).lockdownServiceAccount == nil)
    }

    @Test("the gate patch keeps the other gates, appends, or creates args")
    func gatePatch() {
        let merged = FluxCommands.enableGatePatch(Self.deployment("source-controller", args: ["--log-level=info", "--feature-gates=CacheSecretsAndConfigMaps=true,ObjectLevelWorkloadIdentity=false"]))
        #expect(merged == [["op": "replace", "path": "/spec/template/spec/containers/0/args/1", "value": "--feature-gates=CacheSecretsAndConfigMaps=true,ObjectLevelWorkloadIdentity=true"]])
        let appended = FluxCommands.enableGatePatch(Self.deployment("source-controller", args: ["--log-level=info"]))
        #expect(appended == [["op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": .string(FluxFacts.featureGateArgument)]])
        let created = FluxCommands.enableGatePatch(Self.deployment("source-controller", args: []))
        #expect(created == [["op": "add", "path": "/spec/template/spec/containers/0/args", "value": [.string(FluxFacts.featureGateArgument)]]])
    }

    // MARK: kustomize patches

    @Test("the ServiceAccount patch has the form of Flux's bootstrap docs")
    func serviceAccountPatchYAML() {
        let patch = KustomizePatch.serviceAccountAnnotations("source-controller", namespace: "flux-system", [IRSAFacts.roleAnnotation: Examples.fluxRole])
        #expect(patch.yamlLines == [
            "patches:",
            "  - patch: |",
            "      apiVersion: v1",
            "      kind: ServiceAccount",
            "      metadata:",
            "        name: source-controller",
            "        annotations:",
            "          eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/flux-source-controller",
            "    target:",
            "      kind: ServiceAccount",
            "      name: source-controller",
        ])
    }

    @Test("the gate patch is a JSON 6902 list; a ServiceAccount outside flux-system names its namespace")
    func gateAndNamespacedYAML() {
        let gate = KustomizePatch.featureGate(Self.deployment("source-controller", args: ["--log-level=info"]))
        #expect(gate.yamlLines.contains("      - op: add"))
        #expect(gate.yamlLines.contains("        path: /spec/template/spec/containers/0/args/-"))
        #expect(gate.yamlLines.contains("        value: \"--feature-gates=ObjectLevelWorkloadIdentity=true\""))
        let tenant = KustomizePatch.serviceAccountAnnotations("podinfo-reader", namespace: "apps", [AzureWIFacts.tenantIDAnnotation: Examples.azureTenant])
        #expect(tenant.yamlLines.suffix(3) == ["      kind: ServiceAccount", "      name: podinfo-reader", "      namespace: apps"])
    }

    @Test("YAML scalars that could change meaning are written as JSON strings", arguments: [
        ("true", "\"true\""), ("123", "\"123\""), ("a: b", "\"a: b\""), ("x #y", "\"x #y\""), ("line\nbreak", "\"line\\nbreak\""),
        ("'quoted'", "\"'quoted'\""), ("- item", "\"- item\""), ("arn:aws:iam::1:role/r", "arn:aws:iam::1:role/r"), ("null", "\"null\""),
    ])
    func yamlScalars(_ value: String, _ rendered: String) {
        #expect(YAMLText.scalar(value) == rendered)
    }

    // MARK: objects

    @Test("objects from the API: provider, address, ServiceAccount field per kind")
    func objects() throws {
        let oci = FluxObject(kind: .ociRepository, try JSONValue.parse(#"{"metadata":{"name":"a","namespace":"apps"},"spec":{"url":"oci://123456789012.dkr.ecr.eu-west-1.amazonaws.com/app","provider":"aws","serviceAccountName":"reader"}}"#))
        #expect(oci.providerCloud == .aws && oci.addressCloud == .aws && oci.serviceAccountName == "reader" && oci.host == "123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        let helm = FluxObject(kind: .helmRepository, try JSONValue.parse(#"{"metadata":{"name":"h","namespace":"apps"},"spec":{"url":"oci://europe-west1-docker.pkg.dev/p/charts","type":"oci","provider":"gcp","serviceAccountName":"ignored"}}"#))
        #expect(helm.serviceAccountName == nil && helm.providerCloud == .gcp && helm.addressCloud == .gcp)
        let httpHelm = FluxObject(kind: .helmRepository, try JSONValue.parse(#"{"metadata":{"name":"h","namespace":"apps"},"spec":{"url":"https://charts.example.com","provider":"aws"}}"#))
        #expect(httpHelm.providerCloud == nil, "provider only applies to type: oci")
        let sops = FluxObject(kind: .kustomization, try JSONValue.parse(#"{"metadata":{"name":"k","namespace":"apps"},"spec":{"serviceAccountName":"impersonated","decryption":{"provider":"sops","serviceAccountName":"kms"}}}"#))
        #expect(sops.decrypts && sops.serviceAccountName == "kms", "spec.serviceAccountName is impersonation, not cloud identity")
        let hub = FluxObject(kind: .notificationProvider, try JSONValue.parse(#"{"metadata":{"name":"n","namespace":"apps"},"spec":{"type":"azureeventhub","address":"https://ns.servicebus.windows.net/hub","serviceAccountName":"hub"}}"#))
        #expect(hub.providerCloud == .azure)
        let bucket = FluxObject(kind: .bucket, try JSONValue.parse(#"{"metadata":{"name":"b","namespace":"apps"},"spec":{"endpoint":"s3.amazonaws.com","bucketName":"x","provider":"generic"}}"#))
        #expect(bucket.providerCloud == nil && bucket.addressCloud == .aws)
    }

    // MARK: subjects

    @Test("controller level: the object borrows the controller's method and gets no cloud chain of its own")
    func controllerLevel() throws {
        let s = Examples.eksFlux()
        let object = try #require(subject(Self.bootstrapObject, in: s))
        #expect(object.delegatesIdentity && object.method == .irsa)
        let controller = try #require(subject(Self.source, in: s))
        #expect(controller.method == .irsa && controller.flux?.controllerLevelObjects == ["OCIRepository flux-system/podinfo"])
        let findings = run(s)
        #expect(findings.of("irsa.sa-annotation", Self.bootstrapObject).isEmpty)
        #expect(findings.one("irsa.trust-policy", Self.source)?.status == .pass)
        #expect(findings.one("irsa.injected", Self.source)?.status == .pass)
    }

    @Test("object level: annotation and trust are checked for the object's ServiceAccount, pod checks are not")
    func objectLevel() throws {
        let s = Examples.eksFluxObjectLevel()
        let object = try #require(subject(Self.tenantObject, in: s))
        #expect(object.flux?.objectLevel == true && object.method == .irsa && object.serviceAccountName == "podinfo-reader")
        let findings = run(s)
        #expect(findings.one("irsa.trust-policy", Self.tenantObject)?.status == .pass)
        #expect(findings.of("irsa.injected", Self.tenantObject).isEmpty && findings.of("irsa.pods-current", Self.tenantObject).isEmpty)
        #expect(findings.one("flux.controller-identity", Self.source)?.status == .skip, "only object-level objects: the controller's own identity is not needed")
        var wrongTrust = s
        wrongTrust.aws.roles[Examples.fluxObjectRole] = .value(IAMRole(name: "apps-podinfo-reader", arn: Examples.fluxObjectRole, trustPolicy: Examples.irsaTrust(subject: "system:serviceaccount:flux-system:source-controller")))
        #expect(run(wrongTrust).one("irsa.trust-policy", Self.tenantObject)?.status == .fail, "the trust policy must admit the object's namespace and ServiceAccount")
    }

    @Test("lockdown: an object without a ServiceAccount uses the controller's default one in its namespace")
    func lockdown() throws {
        var s = Examples.eksFluxObjectLevel()
        s.updateDeployment(namespace: "flux-system", name: "source-controller") { $0.template.spec.containers[0].args.append("--default-service-account=flux-reader") }
        s.updateFluxObject(namespace: "apps", name: "podinfo") { $0.serviceAccountName = nil }
        let object = try #require(subject(Self.tenantObject, in: s))
        #expect(object.flux?.objectLevel == true && object.serviceAccountName == "flux-reader")
        #expect(object.flux?.serviceAccountSource?.contains("--default-service-account=flux-reader") == true)
        let missing = try #require(run(s).one("flux.object-sa", Self.tenantObject))
        #expect(missing.status == .fail && missing.message.contains("multi-tenant workload identity lockdown"))
        // A secretRef keeps the object on its static credentials: no lockdown for it.
        s.updateFluxObject(namespace: "apps", name: "podinfo") { $0.secretRef = "pull" }
        let withSecret = try #require(subject(Self.tenantObject, in: s))
        #expect(withSecret.flux?.objectLevel == false)
    }

    @Test("a controller nothing needs and with no identity is not a subject; --target crossplane drops Flux")
    func controllerSelection() {
        var s = Examples.eksFlux(controllerRole: nil)
        s.fluxObjects = []
        #expect(subject(Self.source, in: s) == nil)
        var crossplaneOnly = Examples.eksFlux()
        crossplaneOnly.options.target = .crossplane
        #expect(!SubjectResolver.subjects(in: crossplaneOnly).contains { $0.isFlux })
        var fluxOnly = Examples.eksFlux()
        fluxOnly.options.target = .flux
        #expect(SubjectResolver.subjects(in: fluxOnly).allSatisfy { $0.isFlux })
    }

    @Test("GKE: a controller without an annotation is a direct principal")
    func gkeDirectPrincipal() throws {
        let controller = try #require(subject(Self.source, in: Examples.gkeFlux(gsa: false)))
        #expect(controller.method == .gkeWIF)
        let annotated = try #require(subject(Self.source, in: Examples.gkeFlux()))
        #expect(annotated.method == .gkeWI)
    }

    // MARK: fixes

    @Test("a Flux-managed ServiceAccount: held with the kustomize patch without --force, changed with it")
    func fluxManagedHeld() throws {
        let s = Examples.eksFlux(controllerRole: nil)
        let context = EvaluationContext(s)
        let findings = CheckEngine().run(context)
        let held = FixPlanner.plan(context, findings: findings, options: FixOptions(roleArn: Examples.fluxRole, restart: true))
        #expect(!held.actions.contains { $0.kind == .change && $0.subject == Self.source })
        let h = try #require(held.held.first { $0.subject == Self.source && $0.check == "flux.controller-identity" })
        #expect(h.managedBy == .flux(kustomization: "flux-system", namespace: "flux-system"))
        #expect(h.kustomizePatch?.yamlLines.contains("          eks.amazonaws.com/role-arn: \(Examples.fluxRole)") == true)
        let forced = FixPlanner.plan(context, findings: findings, options: FixOptions(roleArn: Examples.fluxRole, restart: true, force: true))
        let change = try #require(forced.actions.first { $0.kind == .change && $0.subject == Self.source })
        #expect(change.managedBy != nil && change.kustomizePatch != nil)
        #expect(forced.actions.contains { $0.kind == .restart && $0.subject == Self.source }, "controller level: the pod must be recreated")
        let forcedNoRestart = FixPlanner.plan(context, findings: findings, options: FixOptions(roleArn: Examples.fluxRole, force: true))
        #expect(forcedNoRestart.actions.contains { $0.kind == .restart && $0.subject == Self.source }, "--force on a Flux controller restarts it even without --restart")
    }

    @Test("EKS controller without identity: the Pod Identity association is printed only when the role to annotate is unknown")
    func podIdentityAlternative() throws {
        let s = Examples.eksFlux(controllerRole: nil)
        let context = EvaluationContext(s)
        let findings = CheckEngine().run(context)
        let unknownRole = FixPlanner.plan(context, findings: findings, options: FixOptions(restart: true, force: true))
        let cloud = try #require(unknownRole.actions.first { $0.kind == .cloud && $0.subject == Self.source })
        #expect(Array(cloud.command.argv.prefix(3)) == ["aws", "eks", "create-pod-identity-association"])
        #expect(cloud.command.argv.contains("source-controller") && cloud.command.argv.contains("flux-system"))
        #expect(unknownRole.held.contains { $0.subject == Self.source && $0.reason.contains("role to annotate is unknown") })
        let knownRole = FixPlanner.plan(context, findings: findings, options: FixOptions(roleArn: Examples.fluxRole, restart: true, force: true))
        #expect(!knownRole.actions.contains { $0.kind == .cloud && $0.subject == Self.source })
        #expect(knownRole.actions.contains { $0.kind == .change && $0.subject == Self.source })
    }

    @Test("controllers the AKS Flux extension manages are never patched, even with --force")
    func aksExtension() {
        var s = Examples.aksFlux(label: false)
        s.deployments.append(Deployment(metadata: ObjectMeta(name: "fluxconfig-agent", namespace: "flux-system"), template: PodTemplate(spec: PodSpec(containers: []))))
        let context = EvaluationContext(s)
        let findings = CheckEngine().run(context)
        let plan = FixPlanner.plan(context, findings: findings, options: FixOptions(restart: true, force: true))
        #expect(!plan.actions.contains { $0.subject == Self.source && $0.kind != .cloud })
        #expect(plan.held.contains { $0.subject == Self.source && $0.reason.contains("AKS Flux extension") })
    }

    @Test("object level on the AKS: the tenant from the account completes the ServiceAccount; nothing restarts")
    func aksObjectTenant() throws {
        let s = Examples.aksFluxObjectLevel(tenant: false)
        let context = EvaluationContext(s)
        let plan = FixPlanner.plan(context, findings: CheckEngine().run(context), options: FixOptions(restart: true, force: true))
        let a = try #require(plan.actions.first { $0.subject == Self.tenantObject && $0.kind == .change })
        #expect(a.body == ["metadata": ["annotations": [AzureWIFacts.tenantIDAnnotation: .string(Examples.azureTenant)]]])
        #expect(!plan.actions.contains { $0.kind == .restart })
    }
}
