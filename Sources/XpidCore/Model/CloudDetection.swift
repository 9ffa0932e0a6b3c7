import Foundation

/// Identifies the cloud from Node objects (`spec.providerID`, then well-known labels).
public enum CloudDetection {
    public static func detect(nodes: [Node]) -> (Cloud, String) {
        for node in nodes {
            if let id = node.providerID {
                if id.hasPrefix("aws://") { return (.aws, "node \(node.metadata.name) providerID \(id)") }
                if id.hasPrefix("azure://") { return (.azure, "node \(node.metadata.name) providerID \(id)") }
                if id.hasPrefix("gce://") { return (.gcp, "node \(node.metadata.name) providerID \(id)") }
            }
        }
        for node in nodes {
            let labels = node.metadata.labels
            if let key = labels.keys.sorted().first(where: { $0.hasPrefix("eks.amazonaws.com/") }) {
                return (.aws, "node \(node.metadata.name) label \(key)")
            }
            if labels["kubernetes.azure.com/cluster"] != nil { return (.azure, "node \(node.metadata.name) label kubernetes.azure.com/cluster") }
            if labels["cloud.google.com/gke-nodepool"] != nil { return (.gcp, "node \(node.metadata.name) label cloud.google.com/gke-nodepool") }
        }
        if nodes.isEmpty { return (.unknown, "no nodes visible") }
        return (.unknown, "no node carries an EKS, AKS or GKE providerID or label")
    }

    /// EKS API server URLs look like `https://<id>.<sk>.<region>.eks.amazonaws.com`.
    public static func eksRegion(fromServer server: String) -> String? {
        guard let host = URL(string: server)?.host, host.hasSuffix(".eks.amazonaws.com") else { return nil }
        let labels = host.split(separator: ".")
        guard labels.count >= 5 else { return nil }
        return String(labels[labels.count - 4])
    }

    /// EKS kubeconfig contexts written by `aws eks update-kubeconfig` are the cluster ARN.
    public static func eksCluster(fromARN text: String) -> (name: String, region: String)? {
        guard let arn = ARN(text), arn.service == "eks", arn.resource.hasPrefix("cluster/") else { return nil }
        return (String(arn.resource.dropFirst("cluster/".count)), arn.region)
    }

    /// `aws eks get-token --cluster-name X --region Y` or `aws-iam-authenticator token -i X`
    /// exec arguments in the kubeconfig user.
    public static func eksCluster(fromExecArgs args: [String]) -> (name: String?, region: String?) {
        var name: String?
        var region: String?
        var i = 0
        while i < args.count {
            let a = args[i]
            let next = i + 1 < args.count ? args[i + 1] : nil
            switch a {
            case "--cluster-name", "--cluster-id", "-i": name = next; i += 1
            case "--region": region = next; i += 1
            default:
                if a.hasPrefix("--cluster-name=") { name = String(a.dropFirst("--cluster-name=".count)) }
                if a.hasPrefix("--region=") { region = String(a.dropFirst("--region=".count)) }
            }
            i += 1
        }
        return (name, region)
    }
}
