"""The GKE scenario builder (scenarios_gke) read back with the real kubectl through kube_emulator:
the seeds look like what GKE, Helm and Crossplane create, nothing is injected into pods, and the
Google side (gcp_spec()) holds the IAM bindings each model needs.

Run: python3 -m pytest Tests/E2E/test_scenarios_gke.py -q
"""
from __future__ import annotations

import pytest

import scenarios_gke as gke
from conftest_kube import Kube, kube  # noqa: F401  (kube is a fixture)
from kube_emulator import KubeEmulator
from scenarios_gke import GkeCluster

NS = "crossplane-system"
EMAIL = "crossplane-gar-sa@acme-platform.iam.gserviceaccount.com"
CLOUD_ENV = ("AWS_", "AZURE_", "GOOGLE_", "GCE_")


def start(kube, cluster: GkeCluster) -> Kube:
    name = cluster.context  # gcloud get-credentials: context, cluster and user all gke_P_L_C
    return kube(cluster.kube_scenario(), context=name, cluster_name=name, user_name=name)


def env_of(pod: dict, container: str | None = None) -> dict:
    c = next(c for c in pod["spec"]["containers"] if container in (None, c["name"]))
    return {e["name"]: e.get("value") for e in c.get("env", [])}


def pods_by_owner(k: Kube, namespace: str = NS) -> dict:
    return {p["metadata"]["ownerReferences"][0]["name"].rsplit("-", 1)[0]: p
            for p in k.kubectl_json("get", "pods", "-n", namespace)["items"]}


def nothing_injected(pod: dict) -> bool:
    containers = pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
    audiences = [s["serviceAccountToken"].get("audience") for v in pod["spec"].get("volumes", [])
                 for s in v.get("projected", {}).get("sources", []) if "serviceAccountToken" in s]
    return audiences == [None] and not any(e["name"].startswith(CLOUD_ENV) for c in containers for e in c.get("env", []))


def binding(policy: dict, role: str) -> list:
    return next((b["members"] for b in policy["bindings"] if b["role"] == role), [])


# --------------------------------------------------------------------------- seed 000, GKE tab

def test_seed_gke_core_gar_as_kubectl_reads_it(kube):
    c = GkeCluster().seed_gke_core_gar()
    k = start(kube, c)
    assert k.kubectl("config", "current-context", check=True).stdout == "gke_acme-platform_us-central1_prod-gke\n"

    sa = k.kubectl_json("get", "sa", "crossplane", "-n", NS)  # the seed's "Verify Configuration"
    assert sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == EMAIL
    assert sa["metadata"]["annotations"]["meta.helm.sh/release-name"] == "crossplane"
    assert sa["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"

    pods = pods_by_owner(k)
    for name in ("crossplane", "crossplane-rbac-manager", c.revision_of("provider-gcp-storage"),
                 c.revision_of("upbound-provider-family-gcp")):
        assert nothing_injected(pods[name]), name
        assert not pods[name]["spec"].get("hostNetwork")

    provider = k.kubectl_json("get", "provider", "provider-gcp-storage")
    assert provider["spec"]["package"] == "us-docker.pkg.dev/acme-platform/crossplane/provider-gcp-storage:v1.2.0"
    assert {x["type"]: x["status"] for x in provider["status"]["conditions"]} == {"Installed": "True", "Healthy": "True"}
    revision = k.kubectl_json("get", "providerrevision", provider["status"]["currentRevision"])
    assert revision["metadata"]["labels"]["pkg.crossplane.io/provider-family"] == "provider-family-gcp"
    family = k.kubectl_json("get", "provider", "upbound-provider-family-gcp")
    assert family["spec"]["package"] == "xpkg.upbound.io/upbound/provider-family-gcp:v1.2.0"

    nodes = k.kubectl_json("get", "nodes")["items"]
    assert len(nodes) == 2
    for node in nodes:
        name, labels = node["metadata"]["name"], node["metadata"]["labels"]
        assert name.startswith("gke-prod-gke-default-pool-")
        assert node["spec"]["providerID"] == f"gce://acme-platform/us-central1-a/{name}"
        assert labels["cloud.google.com/gke-nodepool"] == "default-pool"
        assert labels["topology.kubernetes.io/region"] == "us-central1"
        assert labels["topology.kubernetes.io/zone"] == "us-central1-a"
        assert labels["iam.gke.io/gke-metadata-server-enabled"] == "true"
    ds = k.kubectl_json("get", "daemonset", "-n", "kube-system", "-l", "k8s-app=gke-metadata-server")["items"]
    assert [d["metadata"]["name"] for d in ds] == ["gke-metadata-server"]
    assert ds[0]["status"]["numberReady"] == 2
    assert ds[0]["spec"]["template"]["spec"]["nodeSelector"]["iam.gke.io/gke-metadata-server-enabled"] == "true"
    md_pods = k.kubectl_json("get", "pods", "-n", "kube-system", "-l", "k8s-app=gke-metadata-server")["items"]
    assert sorted(p["spec"]["nodeName"] for p in md_pods) == sorted(n["metadata"]["name"] for n in nodes)
    # no admission webhook on GKE
    assert k.kubectl_json("get", "mutatingwebhookconfigurations")["items"] == []


def test_seed_gke_core_gar_gcp_side():
    c = GkeCluster().seed_gke_core_gar()
    spec = c.gcp_spec()
    assert spec["project"]["projectId"] == gke.PROJECT and spec["project"]["projectNumber"] == gke.PROJECT_NUMBER
    cluster = spec["cluster"]
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "acme-platform.svc.id.goog"}
    [pool] = cluster["nodePools"]
    assert pool["name"] == "default-pool" and pool["config"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    node_sa = pool["config"]["serviceAccount"]
    assert node_sa == "gke-nodes@acme-platform.iam.gserviceaccount.com"
    gsa = next(s for s in spec["serviceAccounts"] if s["email"] == EMAIL)
    assert gsa["name"] == f"projects/acme-platform/serviceAccounts/{EMAIL}"
    assert gsa["iamPolicy"]["bindings"] == [{"role": "roles/iam.workloadIdentityUser",
                                              "members": ["serviceAccount:acme-platform.svc.id.goog[crossplane-system/crossplane]"]}]
    [repo] = spec["repositories"]
    assert repo["name"] == "projects/acme-platform/locations/us/repositories/crossplane"
    assert repo["registryUri"] == "us-docker.pkg.dev/acme-platform/crossplane" and repo["format"] == "DOCKER"
    assert binding(repo["iamPolicy"], "roles/artifactregistry.reader") == [f"serviceAccount:{EMAIL}",
                                                                           f"serviceAccount:{node_sa}"]
    # fixed=False is the seed as written: the node service account was never given the reader role
    broken = GkeCluster().seed_gke_core_gar(fixed=False).gcp_spec()
    assert binding(broken["repositories"][0]["iamPolicy"], "roles/artifactregistry.reader") == [f"serviceAccount:{EMAIL}"]


def test_seed_as_written_leaves_the_provider_pod_in_image_pull_back_off(kube):
    c = GkeCluster().seed_gke_core_gar(fixed=False)
    k = start(kube, c)
    revision = c.revision_of("provider-gcp-storage")
    table = k.kubectl("get", "pods", "-n", NS, "-o", "wide", check=True).stdout.splitlines()
    [row] = [line.split() for line in table if line.startswith(revision)]
    assert row[1:3] == ["0/1", "ImagePullBackOff"] and c.nodes[0] in row
    provider = k.kubectl_json("get", "provider", "provider-gcp-storage")
    healthy = next(x for x in provider["status"]["conditions"] if x["type"] == "Healthy")
    assert healthy["status"] == "False" and "minimum availability" in healthy["message"]
    # the core still pulled the package with its workload identity
    assert k.kubectl_json("get", "sa", "crossplane", "-n", NS)["metadata"]["annotations"][gke.GSA_ANNOTATION] == EMAIL


# --------------------------------------------------------------------------- seed 004: direct principal

def test_seed_gke_direct_principal(kube):
    c = GkeCluster().seed_gke_direct_principal()
    k = start(kube, c)
    sa = k.kubectl_json("get", "sa", "crossplane", "-n", NS)
    assert gke.GSA_ANNOTATION not in sa["metadata"].get("annotations", {})
    assert nothing_injected(pods_by_owner(k)["crossplane"])
    provider = k.kubectl_json("get", "provider", "provider-gcp-storage")
    assert {x["type"]: x["status"] for x in provider["status"]["conditions"]} == {"Installed": "True", "Healthy": "True"}

    spec = c.gcp_spec()
    assert [s["email"] for s in spec["serviceAccounts"]] == ["gke-nodes@acme-platform.iam.gserviceaccount.com"]
    members = binding(spec["repositories"][0]["iamPolicy"], "roles/artifactregistry.reader")
    assert members[0] == ("principal://iam.googleapis.com/projects/738291046512/locations/global/workloadIdentityPools/"
                          "acme-platform.svc.id.goog/subject/ns/crossplane-system/sa/crossplane")
    assert members[0] == c.principal("crossplane")


# --------------------------------------------------------------------------- upjet provider

@pytest.mark.parametrize("model", ["annotation", "principal"])
def test_seed_gke_upjet_provider(kube, model):
    c = GkeCluster().seed_gke_upjet_provider(model)
    k = start(kube, c)
    email = "crossplane-provider-gcp@acme-platform.iam.gserviceaccount.com"
    drc = k.kubectl_json("get", "deploymentruntimeconfig", "gcp-workload-identity")
    expected_annotations = {"iam.gke.io/gcp-service-account": email} if model == "annotation" else None
    assert drc["spec"]["serviceAccountTemplate"]["metadata"] == {
        "name": "provider-gcp-storage", **({"annotations": expected_annotations} if expected_annotations else {})}

    provider = k.kubectl_json("get", "provider", "provider-gcp-storage")
    assert provider["spec"]["package"] == f"xpkg.upbound.io/upbound/provider-gcp-storage:{gke.UPJET_GCP_VERSION}"
    assert provider["spec"]["runtimeConfigRef"]["name"] == "gcp-workload-identity"
    revision = provider["status"]["currentRevision"]
    deploy = k.kubectl_json("get", "deployment", revision, "-n", NS)
    assert deploy["spec"]["template"]["spec"]["serviceAccountName"] == "provider-gcp-storage"
    sa = k.kubectl_json("get", "sa", "provider-gcp-storage", "-n", NS)
    assert sa["metadata"].get("annotations") == expected_annotations
    assert sa["metadata"]["ownerReferences"][0]["name"] == revision
    pods = pods_by_owner(k)
    assert nothing_injected(pods[revision]) and env_of(pods[revision])["REVISION_NAME"] == revision
    family = c.revision_of("upbound-provider-family-gcp")
    assert pods[family]["spec"]["serviceAccountName"] == family  # the default runtime config

    config = k.kubectl_json("get", "clusterproviderconfigs.gcp.m.upbound.io", "default")
    assert config["spec"] == {"credentials": {"source": "InjectedIdentity"}, "projectID": "acme-platform"}
    names = k.kubectl("api-resources", "-o", "name", check=True).stdout.split()
    assert {"providerconfigs.gcp.upbound.io", "providerconfigs.gcp.m.upbound.io",
            "clusterproviderconfigs.gcp.m.upbound.io"} <= set(names)

    spec = c.gcp_spec()
    if model == "annotation":
        gsa = next(s for s in spec["serviceAccounts"] if s["email"] == email)
        assert binding(gsa["iamPolicy"], "roles/iam.workloadIdentityUser") == [
            "serviceAccount:acme-platform.svc.id.goog[crossplane-system/provider-gcp-storage]"]
        assert binding(spec["project"]["iamPolicy"], "roles/storage.admin") == [f"serviceAccount:{email}"]
    else:
        assert len(spec["serviceAccounts"]) == 1
        assert binding(spec["project"]["iamPolicy"], "roles/storage.admin") == [c.principal("provider-gcp-storage")]


# --------------------------------------------------------------------------- options

def test_gce_metadata_pool_has_no_metadata_server_label_or_pod(kube):
    c = GkeCluster().workload_identity().node_pool("default-pool", mode="GKE_METADATA")
    c.node_pool("legacy", mode="GCE_METADATA").node(0).node(0, pool="legacy").crossplane_core(rbac_manager=False)
    k = start(kube, c)
    labels = {n["metadata"]["labels"]["cloud.google.com/gke-nodepool"]: n["metadata"]["labels"]
              for n in k.kubectl_json("get", "nodes")["items"]}
    assert labels["default-pool"]["iam.gke.io/gke-metadata-server-enabled"] == "true"
    assert "iam.gke.io/gke-metadata-server-enabled" not in labels["legacy"]
    [md] = k.kubectl_json("get", "pods", "-n", "kube-system", "-l", "k8s-app=gke-metadata-server")["items"]
    assert c.pool_of(md["spec"]["nodeName"])["name"] == "default-pool"
    modes = {p["name"]: p["config"]["workloadMetadataConfig"]["mode"] for p in c.gcp_spec()["cluster"]["nodePools"]}
    assert modes == {"default-pool": "GKE_METADATA", "legacy": "GCE_METADATA"}


def test_workload_identity_off_means_no_pool_and_no_metadata_server(kube):
    c = GkeCluster().node(0).crossplane_core(EMAIL, rbac_manager=False)
    k = start(kube, c)
    assert k.kubectl_json("get", "daemonsets", "-n", "kube-system")["items"] == []
    node = k.kubectl_json("get", "nodes")["items"][0]
    assert "iam.gke.io/gke-metadata-server-enabled" not in node["metadata"]["labels"]
    spec = c.gcp_spec()["cluster"]
    assert spec["workloadIdentityConfig"] is None
    assert spec["nodePools"][0]["config"]["workloadMetadataConfig"] == {"mode": "GCE_METADATA"}
    with pytest.raises(AssertionError):
        GkeCluster().node_pool("p", mode="GKE_METADATA")


def test_host_network_and_google_application_credentials(kube):
    creds = {"GOOGLE_APPLICATION_CREDENTIALS": "/var/secrets/google/key.json"}
    c = GkeCluster().workload_identity().node(0).crossplane_core(EMAIL, host_network=True, env=creds, rbac_manager=False)
    c.drc("keyfile", sa_name="provider-gcp", env=creds, host_network=True)
    c.provider("provider-gcp-storage", c.gar("provider-gcp-storage:v1.2.0"), runtime_config="keyfile")
    k = start(kube, c)
    pods = pods_by_owner(k)
    core = pods["crossplane"]
    assert core["spec"]["hostNetwork"] is True
    assert env_of(core)["GOOGLE_APPLICATION_CREDENTIALS"] == "/var/secrets/google/key.json"
    runtime = pods[c.revision_of("provider-gcp-storage")]
    assert runtime["spec"]["hostNetwork"] is True
    assert env_of(runtime)["GOOGLE_APPLICATION_CREDENTIALS"] == "/var/secrets/google/key.json"
    drc = k.kubectl_json("get", "deploymentruntimeconfig", "keyfile")
    template = drc["spec"]["deploymentTemplate"]["spec"]["template"]["spec"]
    assert template["hostNetwork"] is True and template["containers"][0]["env"] == [
        {"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/var/secrets/google/key.json"}]


def test_unpack_denied_by_artifact_registry(kube):
    c = GkeCluster().workload_identity().node(0).crossplane_core(EMAIL, rbac_manager=False)
    c.provider("provider-gcp-storage", c.gar("provider-gcp-storage:v1.2.0"), installed=False)
    k = start(kube, c)
    provider = k.kubectl_json("get", "provider", "provider-gcp-storage")
    installed = next(x for x in provider["status"]["conditions"] if x["type"] == "Installed")
    assert (installed["status"], installed["reason"]) == ("False", "UnpackingPackage")
    assert installed["message"].startswith(
        "cannot unpack package: cannot resolve us-docker.pkg.dev/acme-platform/crossplane/provider-gcp-storage:v1.2.0 "
        "to digest: ")
    assert ('DENIED: Permission "artifactregistry.repositories.downloadArtifacts" denied on resource '
            '"projects/acme-platform/locations/us/repositories/crossplane" (or it may not exist)') in installed["message"]
    assert "scope=repository%3Aacme-platform%2Fcrossplane%2Fprovider-gcp-storage%3Apull" in installed["message"]
    assert k.kubectl_json("get", "providerrevisions")["items"] == []


def test_provider_configs_are_checked_against_the_gcp_crd_schema():
    c = GkeCluster()
    c.provider_config("ImpersonateServiceAccount", api="gcp.upbound.io", kind="ProviderConfig",
                      impersonate="target-sa")
    c.provider_config("Secret", api="gcp.m.upbound.io", kind="ProviderConfig", namespace="team-a",
                      secret_ref={"name": "gcp-creds", "namespace": NS, "key": "creds"}, project_id="other")
    scenario = c.kube_scenario()
    KubeEmulator(scenario)  # validated against CRD_SCHEMAS on load
    cluster_pc, namespaced = [o for o in scenario["objects"] if o["kind"] == "ProviderConfig"]
    assert cluster_pc["spec"]["credentials"]["impersonateServiceAccount"] == {
        "name": "target-sa@acme-platform.iam.gserviceaccount.com"}
    assert namespaced["metadata"] == {"name": "default", "namespace": "team-a"}
    with pytest.raises(AssertionError):
        c.provider_config("OIDCTokenFile")
    bad = GkeCluster().provider_config("InjectedIdentity").kube_scenario()
    del next(o for o in bad["objects"] if o["kind"] == "ClusterProviderConfig")["spec"]["projectID"]
    with pytest.raises(Exception, match="projectID"):
        KubeEmulator(bad)
    bad = GkeCluster().provider_config("InjectedIdentity").kube_scenario()
    next(o for o in bad["objects"] if o["kind"] == "ClusterProviderConfig")["spec"]["credentials"]["source"] = "IRSA"
    with pytest.raises(Exception, match="Unsupported value"):
        KubeEmulator(bad)
