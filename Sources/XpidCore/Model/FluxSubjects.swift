import Foundation

/// Resolves Flux subjects: each object that reaches a cloud (or points at a cloud registry), and each
/// controller Deployment in the Flux namespace that such an object needs or that carries an identity.
public enum FluxSubjectResolver {
    public static func subjects(in s: Snapshot) -> [Subject] {
        guard s.options.target.includesFlux, s.fluxInstalled || !s.fluxObjects.isEmpty else { return [] }
        let ns = s.fluxNamespace
        var deployments: [String: Deployment] = [:]
        for name in FluxFacts.controllers { deployments[name] = s.deployment(namespace: ns, name: name) }
        let settings = deployments.mapValues(FluxControllerSettings.init)

        var objects: [Subject] = []
        var controllerLevel: [String: [FluxObject]] = [:]
        var objectLevel: [String: [String]] = [:]
        let sorted = s.fluxObjects.sorted { ($0.namespace, $0.name, $0.kind.rawValue) < ($1.namespace, $1.name, $1.kind.rawValue) }
        for object in sorted {
            let cloud = identityCloud(of: object, cluster: s.cluster.cloud)
            guard cloud != nil || object.addressCloud != nil else { continue }
            let controller = object.kind.controller
            var sa: String?
            var source: String?
            if cloud != nil, let field = object.kind.serviceAccountField {
                if let named = object.serviceAccountName {
                    sa = named
                    source = "\(field)=\(named)"
                } else if object.secretRef == nil, let setting = settings[controller], let lock = setting.lockdownServiceAccount, let flag = setting.lockdownFlag {
                    sa = lock
                    source = "\(controller) \(flag)=\(lock) (multi-tenant lockdown: an object without a ServiceAccount uses this one in its own namespace)"
                }
            }
            var subject = Subject(kind: .fluxObject, name: object.name, namespace: object.namespace)
            subject.flux = FluxBinding(object: object, controller: controller, objectLevel: sa != nil, cloud: cloud, serviceAccountSource: source)
            if let sa {
                subject.serviceAccountName = sa
                subject.serviceAccount = s.serviceAccount(namespace: object.namespace, name: sa)
                (subject.method, subject.methodEvidence) = objectLevelMethod(cloud, subject, source: source ?? "")
                objectLevel[controller, default: []].append(object.displayName)
            } else if cloud != nil {
                controllerLevel[controller, default: []].append(object)
            }
            objects.append(subject)
        }

        var controllers: [Subject] = []
        for name in FluxFacts.controllers {
            guard let deployment = deployments[name] else { continue }
            var subject = Subject(kind: .fluxController, name: name, namespace: ns, deployment: deployment)
            let selector = deployment.selector
            subject.pods = selector.isEmpty ? [] : s.pods.filter { pod in pod.metadata.namespace == ns && selector.allSatisfy { pod.metadata.labels[$0.key] == $0.value } }
            subject.serviceAccountName = deployment.template.spec.effectiveServiceAccountName
            subject.serviceAccount = s.serviceAccount(namespace: ns, name: subject.serviceAccountName ?? name)
            let users = controllerLevel[name] ?? []
            subject.flux = FluxBinding(controller: name, controllerLevelObjects: users.map(\.displayName), objectLevelObjects: objectLevel[name] ?? [])
            (subject.method, subject.methodEvidence) = MethodInference.infer(subject, in: s)
            if subject.method == .none, s.cluster.cloud == .gcp, users.contains(where: { identityCloud(of: $0, cluster: s.cluster.cloud) == .gcp }) {
                subject.method = .gkeWIF
                subject.methodEvidence = "ServiceAccount \(ns)/\(subject.serviceAccountName ?? name) has no \(GKEFacts.gsaAnnotation) annotation: direct principal"
            }
            let needed = !users.isEmpty || !(objectLevel[name] ?? []).isEmpty
            if needed || subject.method != .none { controllers.append(subject) }
        }

        // Objects at controller level take their controller's method (its subject carries the chain).
        let byController = Dictionary(controllers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for i in objects.indices where objects[i].flux?.objectLevel == false {
            let name = objects[i].flux?.controller ?? ""
            if objects[i].flux?.cloud == nil {
                objects[i].methodEvidence = "no cloud provider set: Flux reads \(objects[i].flux?.object?.address ?? "it") anonymously or with its secretRef"
            } else if let controller = byController[name] {
                objects[i].method = controller.method
                objects[i].methodEvidence = "controller level: uses the identity of \(controller.id) (\(controller.method.rawValue))"
            } else {
                objects[i].methodEvidence = "controller level, but Deployment \(ns)/\(name) was not found"
            }
        }
        return controllers + objects
    }

    /// The cloud an object authenticates to: its provider, or for SOPS the cluster's cloud (the KMS key is in the files).
    static func identityCloud(of object: FluxObject, cluster: Cloud) -> Cloud? {
        if object.kind == .kustomization {
            guard object.decrypts, cluster != .unknown, object.serviceAccountName != nil || object.secretRef == nil else { return nil }
            return cluster
        }
        return object.providerCloud
    }

    static func objectLevelMethod(_ cloud: Cloud?, _ subject: Subject, source: String) -> (IdentityMethod, String) {
        let controller = subject.flux?.controller ?? "the controller"
        let sa = "\(subject.namespace)/\(subject.serviceAccountName ?? "")"
        switch cloud {
        case .aws?: return (.irsa, "object level (\(source)): \(controller) assumes the role annotated on ServiceAccount \(sa) with a token it mints")
        case .azure?: return (.azureWI, "object level (\(source)): \(controller) exchanges a token for ServiceAccount \(sa) with the identity it names")
        case .gcp?:
            if let gsa = subject.serviceAccount?.metadata.annotations[GKEFacts.gsaAnnotation] {
                return (.gkeWI, "object level (\(source)): \(controller) impersonates \(gsa) as ServiceAccount \(sa)")
            }
            return (.gkeWIF, "object level (\(source)): ServiceAccount \(sa) is the principal (no \(GKEFacts.gsaAnnotation) annotation)")
        default: return (.none, "object level (\(source))")
        }
    }
}
