import Foundation

/// From manifests (`verify -f`) a package has no revision, Deployment or ServiceAccount yet: this builds
/// what Crossplane will create from the package and its runtime config (crossplane `internal/controller/pkg/
/// runtime`): a Deployment whose metadata labels are `deploymentTemplate.metadata.labels` and whose pod
/// template carries `deploymentTemplate.spec.template.metadata.labels`, running as the ServiceAccount the
/// config pins, else as one named after the revision (a name with a hash, unknown before install); that
/// ServiceAccount gets `serviceAccountTemplate`'s annotations unless a pre-created one is in the files.
public enum OfflineRuntime {
    /// Stands for the hash Crossplane appends to a revision name.
    public static let revisionHash = "xxxxxxxxxxxx"

    public static func build(_ subject: inout Subject, in snapshot: Snapshot) {
        guard subject.isPackage, var package = subject.package else { return }
        let ns = subject.namespace
        let drc = subject.runtimeConfig
        let revision = package.currentRevision ?? "\(subject.name)-\(revisionHash)"
        package.currentRevision = revision
        subject.package = package
        let pinned = drc?.podServiceAccountName ?? drc?.serviceAccountName
        let sa = pinned ?? revision
        var template = PodTemplate(labels: (drc?.podLabels ?? [:]).merging(["pkg.crossplane.io/revision": revision]) { a, _ in a },
            spec: PodSpec(serviceAccountName: sa, containers: drc?.containers ?? []))
        template.annotations = drc?.podAnnotations ?? [:]
        subject.deployment = Deployment(
            metadata: ObjectMeta(name: revision, namespace: ns, labels: (drc?.deploymentLabels ?? [:]).merging(["pkg.crossplane.io/revision": revision]) { a, _ in a }, annotations: drc?.deploymentAnnotations ?? [:]),
            selector: ["pkg.crossplane.io/revision": revision], template: template)
        subject.serviceAccountName = sa
        if let existing = snapshot.serviceAccount(namespace: ns, name: sa) {
            subject.serviceAccount = existing
        } else if drc?.podServiceAccountName == nil {
            // Crossplane creates (and owns) this ServiceAccount from the serviceAccountTemplate.
            subject.serviceAccount = ServiceAccount(metadata: ObjectMeta(
                name: sa, namespace: ns, labels: drc?.serviceAccountLabels ?? [:], annotations: drc?.serviceAccountAnnotations ?? [:]))
        }
    }
}
