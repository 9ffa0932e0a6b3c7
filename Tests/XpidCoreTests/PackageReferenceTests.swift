import Foundation
import Testing
import XpidCore

struct ReferenceCase: Sendable, CustomTestStringConvertible {
    var text: String
    var registry: String?
    var repository: String
    var tag: String?
    var digest: String?
    var kind: RegistryKind
    var name: String
    var version: [Int]?
    var testDescription: String { text }
}

@Suite("Package references")
struct PackageReferenceTests {
    static let cases: [ReferenceCase] = [
        ReferenceCase(text: "xpkg.upbound.io/upbound/provider-aws-s3:v1.21.0", registry: "xpkg.upbound.io", repository: "upbound/provider-aws-s3", tag: "v1.21.0", kind: .publicCrossplane, name: "provider-aws-s3", version: [1, 21, 0]),
        ReferenceCase(text: "xpkg.crossplane.io/crossplane-contrib/provider-aws:v0.50.0", registry: "xpkg.crossplane.io", repository: "crossplane-contrib/provider-aws", tag: "v0.50.0", kind: .publicCrossplane, name: "provider-aws", version: [0, 50, 0]),
        ReferenceCase(text: "crossplane-contrib/provider-aws:v0.50.0", registry: nil, repository: "crossplane-contrib/provider-aws", tag: "v0.50.0", kind: .publicCrossplane, name: "provider-aws", version: [0, 50, 0]),
        ReferenceCase(text: "upbound/provider-aws-s3", registry: nil, repository: "upbound/provider-aws-s3", tag: nil, kind: .publicCrossplane, name: "provider-aws-s3", version: nil),
        ReferenceCase(text: "123456789012.dkr.ecr.us-east-2.amazonaws.com/crossplane/provider-aws-s3:v1.2.0", registry: "123456789012.dkr.ecr.us-east-2.amazonaws.com", repository: "crossplane/provider-aws-s3", tag: "v1.2.0", kind: .ecr, name: "provider-aws-s3", version: [1, 2, 0]),
        ReferenceCase(text: "myregistry.azurecr.io/crossplane/provider-azure-storage:v1.3.0", registry: "myregistry.azurecr.io", repository: "crossplane/provider-azure-storage", tag: "v1.3.0", kind: .acr, name: "provider-azure-storage", version: [1, 3, 0]),
        ReferenceCase(text: "europe-west1-docker.pkg.dev/my-project/crossplane/provider-gcp-storage:v1.0.0", registry: "europe-west1-docker.pkg.dev", repository: "my-project/crossplane/provider-gcp-storage", tag: "v1.0.0", kind: .gar, name: "provider-gcp-storage", version: [1, 0, 0]),
        ReferenceCase(text: "gcr.io/my-project/provider-gcp:v1.0.0", registry: "gcr.io", repository: "my-project/provider-gcp", tag: "v1.0.0", kind: .gar, name: "provider-gcp", version: [1, 0, 0]),
        ReferenceCase(text: "ghcr.io/acme/provider-aws-s3:latest", registry: "ghcr.io", repository: "acme/provider-aws-s3", tag: "latest", kind: .other, name: "provider-aws-s3", version: nil),
        ReferenceCase(text: "localhost:5000/provider-aws-s3:v1.0.0", registry: "localhost:5000", repository: "provider-aws-s3", tag: "v1.0.0", kind: .other, name: "provider-aws-s3", version: [1, 0, 0]),
        ReferenceCase(text: "localhost:5000/provider-aws-s3", registry: "localhost:5000", repository: "provider-aws-s3", tag: nil, kind: .other, name: "provider-aws-s3", version: nil),
        ReferenceCase(text: "xpkg.upbound.io/upbound/provider-aws-s3@sha256:0123abcd", registry: "xpkg.upbound.io", repository: "upbound/provider-aws-s3", tag: nil, digest: "sha256:0123abcd", kind: .publicCrossplane, name: "provider-aws-s3", version: nil),
        ReferenceCase(text: "xpkg.upbound.io/upbound/provider-aws-s3:v1.12.0-rc.1@sha256:0123abcd", registry: "xpkg.upbound.io", repository: "upbound/provider-aws-s3", tag: "v1.12.0-rc.1", digest: "sha256:0123abcd", kind: .publicCrossplane, name: "provider-aws-s3", version: [1, 12, 0]),
        ReferenceCase(text: "xpkg.upbound.io/upbound/provider-aws-s3:1.2", registry: "xpkg.upbound.io", repository: "upbound/provider-aws-s3", tag: "1.2", kind: .publicCrossplane, name: "provider-aws-s3", version: [1, 2, 0]),
    ]

    @Test("parse", arguments: cases)
    func parse(_ c: ReferenceCase) {
        let r = PackageReference(c.text)
        #expect(r.registry == c.registry)
        #expect(r.repository == c.repository)
        #expect(r.tag == c.tag)
        #expect(r.digest == c.digest)
        #expect(r.registryKind == c.kind)
        #expect(r.name == c.name)
        let v = r.semanticVersion.map { [$0.major, $0.minor, $0.patch] }
        #expect(v == c.version)
        #expect(r.text == c.text, "text round-trips")
    }

    @Test("organization is the path part before the name")
    func organization() {
        #expect(PackageReference("xpkg.upbound.io/upbound/provider-aws-s3:v1").organization == "upbound")
        #expect(PackageReference("europe-west1-docker.pkg.dev/p/crossplane/provider-gcp:v1").organization == "crossplane")
        #expect(PackageReference("localhost:5000/provider-aws-s3").organization == nil)
    }

    @Test("registry host detection", arguments: [
        ("123456789012.dkr.ecr.us-east-2.amazonaws.com", RegistryKind.ecr),
        ("123456789012.DKR.ECR.eu-west-1.AMAZONAWS.COM", .ecr),
        ("public.ecr.aws", .other),
        ("myreg.azurecr.io", .acr),
        ("us-docker.pkg.dev", .gar),
        ("eu.gcr.io", .gar),
        ("xpkg.upbound.io", .publicCrossplane),
        ("xpkg.crossplane.io", .publicCrossplane),
        ("registry.example.com", .other),
    ])
    func hosts(_ host: String, _ kind: RegistryKind) {
        #expect(RegistryKind(host: host) == kind)
    }

    @Test("a package's reference prefers status.resolvedPackage")
    func resolvedPackage() {
        let p = CrossplanePackage(kind: .provider, metadata: ObjectMeta(name: "p"), package: "upbound/provider-aws-s3:v1", resolvedPackage: "xpkg.upbound.io/upbound/provider-aws-s3:v1")
        #expect(p.reference.registry == "xpkg.upbound.io")
    }
}
