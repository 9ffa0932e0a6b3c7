import Foundation

/// Lookups the Flux checks share.
extension EvaluationContext {
    /// The controller Deployment in the Flux namespace (a lookup: checks call it once per object).
    public func fluxDeployment(_ name: String) -> Deployment? {
        snapshot.deployment(namespace: snapshot.fluxNamespace, name: name)
    }

    /// The Deployments of the AKS Flux extension (`microsoft.flux`), which reconciles Flux's controllers
    /// itself and reverts patches made by hand.
    public var aksFluxExtension: String? {
        ["fluxconfig-agent", "fluxconfig-controller"].first { fluxDeployment($0) != nil }
            .map { "Deployment \(snapshot.fluxNamespace)/\($0) (the AKS Flux extension, microsoft.flux)" }
    }
}

enum FluxText {
    /// "OCIRepository a/b, Bucket c/d and 3 more".
    static func list(_ names: [String], limit: Int = 3) -> String {
        guard names.count > limit else { return names.joined(separator: ", ") }
        return names.prefix(limit).joined(separator: ", ") + " and \(names.count - limit) more"
    }
}
