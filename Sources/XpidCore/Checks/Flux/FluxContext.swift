import Foundation

/// Lookups the Flux checks share.
extension EvaluationContext {
    /// The controller Deployment in the Flux namespace.
    public func fluxDeployment(_ name: String) -> Deployment? {
        snapshot.deployments.first { $0.metadata.namespace == snapshot.fluxNamespace && $0.metadata.name == name }
    }

    public func fluxControllerSubject(_ name: String) -> Subject? {
        subjects.first { $0.kind == .fluxController && $0.name == name }
    }

    /// The Deployments of the AKS Flux extension (`microsoft.flux`), which reconciles Flux's controllers
    /// itself and reverts patches made by hand.
    public var aksFluxExtension: String? {
        let markers = ["fluxconfig-agent", "fluxconfig-controller"]
        return snapshot.deployments.first { $0.metadata.namespace == snapshot.fluxNamespace && markers.contains($0.metadata.name) }
            .map { "Deployment \(snapshot.fluxNamespace)/\($0.metadata.name) (the AKS Flux extension, microsoft.flux)" }
    }
}

enum FluxText {
    /// "OCIRepository a/b, Bucket c/d and 3 more".
    static func list(_ names: [String], limit: Int = 3) -> String {
        guard names.count > limit else { return names.joined(separator: ", ") }
        return names.prefix(limit).joined(separator: ", ") + " and \(names.count - limit) more"
    }
}
