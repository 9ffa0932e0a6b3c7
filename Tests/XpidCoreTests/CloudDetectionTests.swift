import Foundation
import Testing
import XpidCore

@Suite("Cloud detection")
struct CloudDetectionTests {
    static func node(_ name: String, providerID: String? = nil, labels: [String: String] = [:]) -> Node {
        Node(metadata: ObjectMeta(name: name, labels: labels), providerID: providerID)
    }

    @Test("from providerID", arguments: [
        ("aws:///us-east-2a/i-0abc", Cloud.aws),
        ("azure:///subscriptions/0000/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-1/virtualMachines/0", .azure),
        ("gce://my-project/europe-west1-b/gke-prod-pool-1", .gcp),
        ("kind://docker/kind/kind-control-plane", .unknown),
    ])
    func providerID(_ id: String, _ cloud: Cloud) {
        let (detected, evidence) = CloudDetection.detect(nodes: [Self.node("n1", providerID: id)])
        #expect(detected == cloud)
        if cloud != .unknown { #expect(evidence == "node n1 providerID \(id)") }
    }

    @Test("from labels", arguments: [
        ("eks.amazonaws.com/nodegroup", Cloud.aws),
        ("eks.amazonaws.com/compute-type", .aws),
        ("kubernetes.azure.com/cluster", .azure),
        ("cloud.google.com/gke-nodepool", .gcp),
        ("node-role.kubernetes.io/control-plane", .unknown),
    ])
    func labels(_ label: String, _ cloud: Cloud) {
        let (detected, evidence) = CloudDetection.detect(nodes: [Self.node("n1", labels: [label: "x"])])
        #expect(detected == cloud)
        if cloud != .unknown { #expect(evidence == "node n1 label \(label)") }
    }

    @Test("a providerID on any node wins over labels on an earlier one")
    func providerIDFirst() {
        let nodes = [Self.node("a", labels: ["kubernetes.azure.com/cluster": "x"]), Self.node("b", providerID: "aws:///us-east-2a/i-1")]
        #expect(CloudDetection.detect(nodes: nodes).0 == .aws)
    }

    @Test("no nodes, or nodes without hints")
    func unknown() {
        #expect(CloudDetection.detect(nodes: []) == (.unknown, "no nodes visible"))
        #expect(CloudDetection.detect(nodes: [Self.node("kind-control-plane")]).0 == .unknown)
    }

    @Test("EKS region from the API server URL", arguments: [
        ("https://ABCDEF0123456789.gr7.us-east-2.eks.amazonaws.com", "us-east-2" as String?),
        ("https://0123456789ABCDEF0123456789ABCDEF.yl4.eu-west-1.eks.amazonaws.com:443", "eu-west-1"),
        ("https://10.0.0.1:6443", nil),
        ("https://prod.eks.amazonaws.com.evil.example.com", nil),
        ("https://prod-dns-abc.hcp.westeurope.azmk8s.io:443", nil),
        ("not a url", nil),
    ])
    func serverRegion(_ server: String, _ region: String?) {
        #expect(CloudDetection.eksRegion(fromServer: server) == region)
    }

    @Test("EKS cluster from a context ARN")
    func contextARN() throws {
        let c = try #require(CloudDetection.eksCluster(fromARN: "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks"))
        #expect(c.name == "prod-eks")
        #expect(c.region == "us-east-2")
        #expect(CloudDetection.eksCluster(fromARN: "kind-kind") == nil)
        #expect(CloudDetection.eksCluster(fromARN: "arn:aws:iam::123456789012:role/x") == nil)
        #expect(CloudDetection.eksCluster(fromARN: "arn:aws-cn:eks:cn-north-1:123456789012:cluster/cn")?.region == "cn-north-1")
    }

    struct ExecCase: Sendable, CustomTestStringConvertible {
        var args: [String]
        var name: String?
        var region: String?
        var testDescription: String { args.joined(separator: " ") }
    }

    @Test("EKS cluster from exec args", arguments: [
        ExecCase(args: ["--region", "us-east-2", "eks", "get-token", "--cluster-name", "prod-eks", "--output", "json"], name: "prod-eks", region: "us-east-2"),
        ExecCase(args: ["eks", "get-token", "--cluster-name", "X", "--region", "Y"], name: "X", region: "Y"),
        ExecCase(args: ["eks", "get-token", "--cluster-name=prod-eks", "--region=eu-west-1"], name: "prod-eks", region: "eu-west-1"),
        ExecCase(args: ["token", "-i", "prod-eks"], name: "prod-eks", region: nil),
        ExecCase(args: ["eks", "get-token", "--cluster-id", "prod-eks"], name: "prod-eks", region: nil),
        ExecCase(args: ["get-token", "--login", "azurecli", "--server-id", "6dae42f8"], name: nil, region: nil),
        ExecCase(args: ["eks", "get-token", "--cluster-name"], name: nil, region: nil),
        ExecCase(args: [], name: nil, region: nil),
    ])
    func execArgs(_ c: ExecCase) {
        let found = CloudDetection.eksCluster(fromExecArgs: c.args)
        #expect(found.name == c.name)
        #expect(found.region == c.region)
    }

    @Test("ARN parsing and role-ARN shape")
    func arns() {
        let arn = ARN("arn:aws:iam::123456789012:role/path/to/my-role")
        #expect(arn?.service == "iam")
        #expect(arn?.account == "123456789012")
        #expect(arn?.roleName == "my-role")
        #expect(ARN("not-an-arn") == nil)
        #expect(ARN.isWellFormedRoleARN("arn:aws:iam::123456789012:role/x"))
        #expect(ARN.isWellFormedRoleARN("arn:aws-us-gov:iam::123456789012:role/x"))
        #expect(!ARN.isWellFormedRoleARN("arn:aws:iam::12345678901:role/x"))
        #expect(!ARN.isWellFormedRoleARN("arn:aws:iam::123456789012:user/x"))
        #expect(!ARN.isWellFormedRoleARN("arn:aws:iam:us-east-1:123456789012:role/x"))
        #expect(!ARN.isWellFormedRoleARN("arn:aws:iam::123456789012:role/"))
        #expect(EKSCluster(name: "c", arn: "arn:aws:eks:us-east-2:123456789012:cluster/c").accountID == "123456789012")
    }
}
