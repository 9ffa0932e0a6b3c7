import Foundation
import Testing
import XpidCore

struct DecoderCase: Sendable, CustomTestStringConvertible {
    var message: String
    var signature: String
    var relatedCheck: String?
    var testDescription: String { signature }
}

@Suite("Package condition decoding")
struct ErrorDecoderTests {
    static let cases: [DecoderCase] = [
        DecoderCase(message: "cannot unpack package: failed to fetch package digest from 123456789012.dkr.ecr.us-east-2.amazonaws.com/crossplane/provider-aws-s3:v1.2.0: failed to get authorization token: AccessDeniedException", signature: "failed to get authorization token", relatedCheck: "crossplane.registry-permissions"),
        DecoderCase(message: "WebIdentityErr: failed to retrieve credentials\ncaused by: InvalidIdentityToken: No OpenIDConnect provider found in your account for https://oidc.eks.us-east-2.amazonaws.com/id/X", signature: "InvalidIdentityToken", relatedCheck: "eks.oidc-provider"),
        DecoderCase(message: "GET https://123456789012.dkr.ecr.us-east-2.amazonaws.com/v2/x/manifests/v1: DENIED: User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: ecr:BatchGetImage on resource", signature: "not authorized to perform: ecr:BatchGetImage", relatedCheck: "crossplane.registry-permissions"),
        DecoderCase(message: "operation error STS: AssumeRole, https response error StatusCode: 403, api error AccessDenied: User: arn:aws:sts::123:assumed-role/pi/eks-prod is not authorized to perform: sts:TagSession on resource: arn:aws:iam::456:role/target", signature: "not authorized to perform: sts:TagSession", relatedCheck: "podid.trust-policy"),
        DecoderCase(message: "GET https://myreg.azurecr.io/oauth2/token: unauthorized: authentication required", signature: "unauthorized: authentication required", relatedCheck: "crossplane.core-registry-identity"),
        DecoderCase(message: "failed to fetch oauth token: unexpected status code 401 Unauthorized", signature: "failed to fetch oauth token", relatedCheck: nil),
        DecoderCase(message: "GET https://europe-west1-docker.pkg.dev/v2/p/r/x/manifests/v1: DENIED: Permission \"artifactregistry.repositories.downloadArtifacts\" denied; PERMISSION_DENIED", signature: "PERMISSION_DENIED", relatedCheck: nil),
        DecoderCase(message: "AADSTS70021: No matching federated identity record found for presented assertion.", signature: "AADSTS70021", relatedCheck: "azure.federated-credential"),
        DecoderCase(message: "failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds", signature: "no EC2 IMDS role found", relatedCheck: "podid.injected"),
        // The AADSTS codes and provider-upjet-azure messages of the facts file (azure-gke-flux-facts.md Q1 §1.2, §1.4, §1.5).
        DecoderCase(message: "AADSTS700211: No matching federated identity record found for presented assertion issuer 'https://eastus.oic.prod-aks.azure.com/t/g'.", signature: "AADSTS700211", relatedCheck: "azure.federated-credential"),
        DecoderCase(message: "AADSTS7002138: The subject matches with case-insensitive comparison, but not with case-sensitive comparison", signature: "AADSTS7002138", relatedCheck: "azure.federated-credential"),
        DecoderCase(message: "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.", signature: "AADSTS700016", relatedCheck: "azure.sa-annotation"),
        DecoderCase(message: "AADSTS70023: External OIDC Provider token must have a lifetime of less than or equal to 1.01:00:00", signature: "AADSTS70023", relatedCheck: "azure.injected"),
        DecoderCase(message: "WorkloadIdentityCredential: open /var/run/secrets/azure/tokens/azure-identity-token: no such file or directory", signature: "azure-identity-token: no such file or directory", relatedCheck: "azure.providerconfig"),
        DecoderCase(message: "cannot initialize the Terraform plugin SDK async external client: cannot get terraform setup: failed to prepare terraform.Setup: subscription ID must be set in ProviderConfig when credential source is InjectedIdentity, OIDCTokenFile or Upbound", signature: "must be set in ProviderConfig when credential source is", relatedCheck: "azure.providerconfig"),
        DecoderCase(message: "failed to resolve reference: invalid federated token", signature: "invalid federated token", relatedCheck: "azure.federated-credential"),
        DecoderCase(message: "cannot unpack package: failed to fetch package digest from remote: GET https://europe-docker.pkg.dev/v2/token?scope=x: DENIED: Permission \"artifactregistry.repositories.downloadArtifacts\" denied on resource \"projects/p/locations/europe/repositories/r\" (or it may not exist)", signature: "artifactregistry.repositories.downloadArtifacts", relatedCheck: "crossplane.registry-permissions"),
        DecoderCase(message: "Unable to generate access token; IAM returned 403 Forbidden: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).", signature: "iam.serviceAccounts.getAccessToken", relatedCheck: "gke.iam-binding"),
    ]

    @Test("known signatures", arguments: cases)
    func decode(_ c: DecoderCase) throws {
        let found = ErrorDecoder.decode(c.message)
        let match = try #require(found.first { $0.signature == c.signature }, "\(found.map(\.signature))")
        #expect(match.relatedCheck == c.relatedCheck)
        #expect(!match.meaning.isEmpty)
    }

    @Test("matching is case-insensitive")
    func caseInsensitive() {
        #expect(ErrorDecoder.decode("FAILED TO GET AUTHORIZATION TOKEN").map(\.signature) == ["failed to get authorization token"])
    }

    @Test("unknown messages decode to nothing")
    func unknown() {
        #expect(ErrorDecoder.decode("package is being unpacked").isEmpty)
        #expect(ErrorDecoder.decode("").isEmpty)
    }

    @Test("every related check names a catalogue check")
    func relatedChecksExist() {
        let known = Set(Catalog.descriptions.map(\.id))
        for c in Self.cases { if let r = c.relatedCheck { #expect(known.contains(r), "\(r)") } }
    }

    @Test("package-health puts the decoded cause in its finding")
    func packageHealthUsesDecoder() throws {
        var s = Examples.podIdentitySeed()
        s.updatePackage("provider-aws-s3") {
            $0.conditions = [Condition(type: "Installed", status: "True"), Condition(type: "Healthy", status: "False", reason: "UnhealthyPackageRevision", message: Self.cases[1].message)]
        }
        let f = try #require(run(s).one("crossplane.package-health"))
        #expect(f.status == .fail)
        #expect(f.evidence["decoded"]?.contains("IRSA") == true)
        #expect(f.remediation?.summary.hasPrefix("cause: ") == true)
    }
}
