"""The Flux scenario builders (scenarios_flux) read back with the real kubectl through kube_emulator:
the Flux CRDs are served at their real groups and versions (notification's `providers` next to
Crossplane's), the controllers look like flux2's manifests, their pods carry what the cloud's
webhook injected when they were created, and RBAC objects are served. No kubectl-xpid binary.

Run: python3 -m pytest Tests/E2E/test_scenarios_flux.py -q -p no:cacheprovider
"""
from __future__ import annotations

import time

import pytest

import scenarios_flux as flux
from conftest_kube import Kube, kube  # noqa: F401  (kube is a fixture)
from scenarios import ROLE_ANNOTATION, Cluster

FNS = flux.FLUX_NS
OCI = "ocirepositories.v1.source.toolkit.fluxcd.io"


def start(kube, cluster) -> Kube:
    name = cluster.context
    return kube(cluster.kube_scenario(), context=name, cluster_name=name, user_name=name)


def env_of(pod: dict) -> dict:
    c = next(c for c in pod["spec"]["containers"] if c["name"] == "manager")
    return {e["name"]: e.get("value") for e in c.get("env", [])}


def controller_pod(k: Kube, name: str, namespace: str = FNS) -> dict:
    pods = k.kubectl_json("get", "pods", "-n", namespace, "-l", f"app={name}")["items"]
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    return pods[0]


def oci_repositories(k: Kube) -> dict:
    return {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in k.kubectl_json("get", OCI, "-A")["items"]}


def trust_subjects(cluster: Cluster, role: str) -> list:
    trust = next(r["trust"] for r in cluster.roles if r["name"] == role)
    return [v for s in trust["Statement"] for cond in s["Condition"].values() for k, v in cond.items() if k.endswith(":sub")]


# --------------------------------------------------------------------------- CRDs and RBAC served

def test_flux_and_crossplane_kinds_are_all_served(kube):
    c = Cluster().pod_identity_seed()
    flux.eks_flux_irsa(cluster=c)
    k = start(kube, c)
    names = k.kubectl("api-resources", "-o", "name", check=True).stdout.split()
    for expected in ("ocirepositories.source.toolkit.fluxcd.io", "buckets.source.toolkit.fluxcd.io",
                     "gitrepositories.source.toolkit.fluxcd.io", "helmrepositories.source.toolkit.fluxcd.io",
                     "imagerepositories.image.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io",
                     "providers.notification.toolkit.fluxcd.io", "providers.pkg.crossplane.io",
                     "clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io"):
        assert expected in names, expected
    table = k.kubectl("api-resources", check=True).stdout.splitlines()
    providers = [line.split() for line in table if line.startswith("providers ")]
    assert sorted((row[-3], row[-2], row[-1]) for row in providers) == [
        ("notification.toolkit.fluxcd.io/v1beta3", "true", "Provider"), ("pkg.crossplane.io/v1", "false", "Provider")]
    flux_rows = [line.split() for line in table if "fluxcd.io/" in line]
    assert flux_rows and all(row[-2] == "true" for row in flux_rows), flux_rows  # all namespaced
    # ImageRepository is served at v1 and v1beta2, one object behind both.
    c2 = Cluster()
    flux.image_repository(c2, "podinfo", "apps", image=flux.ecr_url(c2, "podinfo", scheme=""), provider="aws")
    k2 = start(kube, c2)
    for version in ("v1", "v1beta2"):
        items = k2.kubectl_json("get", f"imagerepositories.{version}.image.toolkit.fluxcd.io", "-A")["items"]
        assert [(i["apiVersion"], i["spec"]["image"]) for i in items] == [
            (f"image.toolkit.fluxcd.io/{version}", "123456789012.dkr.ecr.us-east-2.amazonaws.com/podinfo")]


def test_both_providers_kinds_hold_their_own_objects(kube):
    c = Cluster().pod_identity_seed()
    flux.notification_provider(c, "eventhub", "apps", "azureeventhub", service_account="notifier",
                               address="https://ns.servicebus.windows.net/hub")
    k = start(kube, c)
    crossplane = k.kubectl_json("get", "providers.v1.pkg.crossplane.io")["items"]
    notification = k.kubectl_json("get", "providers.v1beta3.notification.toolkit.fluxcd.io", "-A")["items"]
    assert {p["metadata"]["name"] for p in crossplane} >= {"provider-aws-s3"}
    assert [(p["metadata"]["namespace"], p["metadata"]["name"], p["spec"]["type"], p["spec"]["serviceAccountName"])
            for p in notification] == [("apps", "eventhub", "azureeventhub", "notifier")]


@pytest.mark.parametrize("token_create", [True, False])
def test_flux_rbac_grants_token_create_only_when_asked(kube, token_create):
    c = Cluster()
    flux.flux_install(c, token_create=token_create)
    k = start(kube, c)
    role = k.kubectl_json("get", "clusterroles.v1.rbac.authorization.k8s.io", flux.CRD_CONTROLLER_ROLE)
    token_rules = [r for r in role["rules"] if "serviceaccounts/token" in r.get("resources", [])]
    assert (token_rules == [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}]) is token_create
    binding = k.kubectl_json("get", "clusterrolebindings", flux.CRD_CONTROLLER_ROLE)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": flux.CRD_CONTROLLER_ROLE}
    assert {(s["kind"], s["namespace"], s["name"]) for s in binding["subjects"]} == {
        ("ServiceAccount", FNS, n) for n in flux.DEFAULT_CONTROLLERS}
    reconciler = k.kubectl_json("get", "clusterrolebindings", flux.CLUSTER_RECONCILER_BINDING)
    assert reconciler["roleRef"]["name"] == "cluster-admin"
    assert "source-controller" not in {s["name"] for s in reconciler["subjects"]}
    assert k.kubectl_json("get", "clusterroles", "cluster-admin")["rules"][0] == {
        "apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}


# --------------------------------------------------------------------------- controllers

def test_controller_layout_matches_flux2(kube):
    c = flux.eks_flux_irsa()
    k = start(kube, c)
    deploys = {d["metadata"]["name"]: d for d in k.kubectl_json("get", "deployments", "-n", FNS)["items"]}
    assert set(deploys) == set(flux.DEFAULT_CONTROLLERS)
    sas = {s["metadata"]["name"]: s for s in k.kubectl_json("get", "serviceaccounts", "-n", FNS)["items"]}
    assert set(flux.DEFAULT_CONTROLLERS) <= set(sas)
    d = deploys["source-controller"]
    assert d["spec"]["selector"]["matchLabels"] == {"app": "source-controller"}
    labels = d["spec"]["template"]["metadata"]["labels"]
    assert {k_: labels[k_] for k_ in ("app", "app.kubernetes.io/component", "app.kubernetes.io/part-of",
                                      "app.kubernetes.io/instance")} == {
        "app": "source-controller", "app.kubernetes.io/component": "source-controller",
        "app.kubernetes.io/part-of": "flux", "app.kubernetes.io/instance": FNS}
    pod_spec = d["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == "source-controller" and pod_spec["securityContext"]["fsGroup"] == 1337
    (manager,) = pod_spec["containers"]
    assert manager["name"] == "manager"
    for arg in ("--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election"):
        assert arg in manager["args"]
    assert any(a.startswith("--events-addr=") for a in manager["args"])
    assert flux.GATE_ARG not in manager["args"]
    for obj in (d, sas["source-controller"]):
        assert obj["metadata"]["labels"][flux.KUSTOMIZE_NAME_LABEL] == "flux-system"
        assert obj["metadata"]["labels"][flux.KUSTOMIZE_NAMESPACE_LABEL] == FNS
    assert deploys["source-controller"]["status"]["readyReplicas"] == 1
    # What `flux bootstrap github` syncs from: GitHub over SSH with the deploy key, no cloud provider.
    git = k.kubectl_json("get", "gitrepositories.v1.source.toolkit.fluxcd.io", "flux-system", "-n", FNS)
    assert git["spec"]["secretRef"] == {"name": "flux-system"} and "provider" not in git["spec"]
    ks = k.kubectl_json("get", "kustomizations.v1.kustomize.toolkit.fluxcd.io", "flux-system", "-n", FNS)
    assert ks["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
    assert ks["spec"]["path"] == "./clusters/prod-eks"


def test_gate_and_unmanaged_controller(kube):
    c = Cluster()
    flux.flux_controller(c, "source-controller", gate=True, flux_managed=False)
    flux.flux_controller(c, "image-reflector-controller", args=["--log-level=debug"], pods=False)
    k = start(kube, c)
    src = k.kubectl_json("get", "deployment", "source-controller", "-n", FNS)
    assert flux.GATE_ARG in src["spec"]["template"]["spec"]["containers"][0]["args"]
    assert flux.GATE_ARG == "--feature-gates=ObjectLevelWorkloadIdentity=true"
    assert flux.KUSTOMIZE_NAME_LABEL not in src["metadata"]["labels"]
    sa = k.kubectl_json("get", "serviceaccount", "source-controller", "-n", FNS)
    assert flux.KUSTOMIZE_NAME_LABEL not in sa["metadata"].get("labels", {})
    irc = k.kubectl_json("get", "deployment", "image-reflector-controller", "-n", FNS)
    assert irc["spec"]["template"]["spec"]["containers"][0]["args"] == ["--log-level=debug"]
    assert k.kubectl_json("get", "pods", "-n", FNS, "-l", "app=image-reflector-controller")["items"] == []


def test_eks_irsa_controller_pod_has_the_injected_role(kube):
    c = flux.eks_flux_irsa()
    k = start(kube, c)
    arn = c.role_arn("flux-source-controller")
    sa = k.kubectl_json("get", "serviceaccount", "source-controller", "-n", FNS)
    assert sa["metadata"]["annotations"][ROLE_ANNOTATION] == arn
    env = env_of(controller_pod(k, "source-controller"))
    assert env["AWS_ROLE_ARN"] == arn and env["AWS_REGION"] == "us-east-2"
    assert env["AWS_WEB_IDENTITY_TOKEN_FILE"] == "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
    pod = controller_pod(k, "source-controller")
    assert any(v["name"] == "aws-iam-token" for v in pod["spec"]["volumes"])
    # The other controllers have no identity.
    assert "AWS_ROLE_ARN" not in env_of(controller_pod(k, "kustomize-controller"))
    assert trust_subjects(c, "flux-source-controller") == ["system:serviceaccount:flux-system:source-controller"]
    (repo,) = oci_repositories(k).values()
    assert repo["spec"]["provider"] == "aws" and "serviceAccountName" not in repo["spec"]
    assert repo["spec"]["url"] == "oci://123456789012.dkr.ecr.us-east-2.amazonaws.com/podinfo"
    assert [cond["status"] for cond in repo["status"]["conditions"] if cond["type"] == "Ready"] == ["True"]


def test_eks_irsa_stale_pod_has_no_role(kube):
    c = flux.eks_flux_irsa(fixed=False)
    k = start(kube, c)
    sa = k.kubectl_json("get", "serviceaccount", "source-controller", "-n", FNS)
    assert ROLE_ANNOTATION in sa["metadata"]["annotations"]
    assert "AWS_ROLE_ARN" not in env_of(controller_pod(k, "source-controller"))
    repo = oci_repositories(k)[(FNS, "podinfo")]
    assert {cond["type"]: cond["reason"] for cond in repo["status"]["conditions"]}["Ready"] == "AuthenticationFailed"


def restart(k: Kube, deployment: str, namespace: str = FNS) -> None:
    result = k.kubectl("rollout", "restart", f"deployment/{deployment}", "-n", namespace)
    if "within the past second" in result.stderr:
        time.sleep(1.05)
        result = k.kubectl("rollout", "restart", f"deployment/{deployment}", "-n", namespace)
    assert result.returncode == 0, result.stderr


def test_eks_no_annotation_then_annotate_and_restart_injects(kube):
    """What `fix --force --restart` relies on: after annotating the Flux-managed SA and restarting
    the Deployment, the emulator's new pod carries the IRSA variables."""
    c = flux.eks_flux_no_annotation()
    k = start(kube, c)
    sa = k.kubectl_json("get", "serviceaccount", "source-controller", "-n", FNS)
    assert ROLE_ANNOTATION not in sa["metadata"].get("annotations", {})
    assert sa["metadata"]["labels"][flux.KUSTOMIZE_NAME_LABEL] == "flux-system"
    assert not any(n.startswith("AWS_") for n in env_of(controller_pod(k, "source-controller")))
    assert [r["name"] for r in c.roles] == ["flux-source-controller"]
    arn = c.role_arn("flux-source-controller")
    k.kubectl("annotate", "serviceaccount", "source-controller", "-n", FNS, f"{ROLE_ANNOTATION}={arn}", check=True)
    restart(k, "source-controller")
    deploy = k.kubectl_json("get", "deployment", "source-controller", "-n", FNS)
    assert "kubectl.kubernetes.io/restartedAt" in deploy["spec"]["template"]["metadata"]["annotations"]
    assert env_of(controller_pod(k, "source-controller"))["AWS_ROLE_ARN"] == arn


def test_eks_controller_on_pod_identity(kube):
    from scenarios import POD_IDENTITY_TRUST
    c = Cluster().node("ip-10-0-1-10").agent()
    c.role("flux-pi", POD_IDENTITY_TRUST).association("source-controller", "flux-pi", namespace=FNS)
    flux.flux_install(c)
    k = start(kube, c)
    env = env_of(controller_pod(k, "source-controller"))
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in env and "AWS_ROLE_ARN" not in env
    assert {"namespace": FNS, "serviceAccount": "source-controller"} in c.kube_scenario()["podIdentityAssociations"]


@pytest.mark.parametrize("label", [True, False])
def test_aks_controller_injected_only_with_the_pod_label(kube, label):
    c = flux.aks_flux_controller(label=label)
    k = start(kube, c)
    client_id = c.client_id("flux-source-controller")
    sa = k.kubectl_json("get", "serviceaccount", "source-controller", "-n", FNS)
    assert sa["metadata"]["annotations"] == {"azure.workload.identity/client-id": client_id,
                                             "azure.workload.identity/tenant-id": c.tenant}
    deploy = k.kubectl_json("get", "deployment", "source-controller", "-n", FNS)
    assert (deploy["spec"]["template"]["metadata"]["labels"].get("azure.workload.identity/use") == "true") is label
    env = env_of(controller_pod(k, "source-controller"))
    if label:
        assert env["AZURE_CLIENT_ID"] == client_id and env["AZURE_TENANT_ID"] == c.tenant
        assert env["AZURE_FEDERATED_TOKEN_FILE"] == c.token_file()
    else:
        assert not any(n.startswith("AZURE_") for n in env)
    identity = next(i for i in c.azure_spec()["identities"] if i["name"] == "flux-source-controller")
    assert [(f["subject"], f["issuer"], f["audiences"]) for f in identity["federatedCredentials"]] == [
        ("system:serviceaccount:flux-system:source-controller", c.issuer, ["api://AzureADTokenExchange"])]
    assert any(a["principalId"] == identity["principalId"] and a["roleDefinitionName"] == "AcrPull"
               for a in c.azure_spec()["roleAssignments"])
    repo = oci_repositories(k)[(FNS, "podinfo")]
    assert repo["spec"]["url"] == "oci://myregistry.azurecr.io/podinfo" and repo["spec"]["provider"] == "azure"


def test_gke_controller_gsa_and_binding(kube):
    c = flux.gke_flux_controller()
    k = start(kube, c)
    email = c.gsa_email("flux-source-controller")
    sa = k.kubectl_json("get", "serviceaccount", "source-controller", "-n", FNS)
    assert sa["metadata"]["annotations"] == {"iam.gke.io/gcp-service-account": email}
    assert not any(n.startswith(("GOOGLE_", "AZURE_", "AWS_")) for n in env_of(controller_pod(k, "source-controller")))
    spec = c.gcp_spec()
    gsa = next(s for s in spec["serviceAccounts"] if s["email"] == email)
    assert {"role": "roles/iam.workloadIdentityUser",
            "members": ["serviceAccount:acme-platform.svc.id.goog[flux-system/source-controller]"]} in gsa["iamPolicy"]["bindings"]
    repo = next(r for r in spec["repositories"] if r["repositoryId"] == "flux")
    assert {"role": "roles/artifactregistry.reader", "members": [f"serviceAccount:{email}"]} in repo["iamPolicy"]["bindings"]
    oci = oci_repositories(k)[(FNS, "podinfo")]
    assert oci["spec"]["url"] == "oci://us-docker.pkg.dev/acme-platform/flux/charts/podinfo"
    assert oci["spec"]["provider"] == "gcp"


def test_gke_controller_direct_principal(kube):
    c = flux.gke_flux_controller(gsa=False)
    k = start(kube, c)
    sa = k.kubectl_json("get", "serviceaccount", "source-controller", "-n", FNS)
    assert "iam.gke.io/gcp-service-account" not in sa["metadata"].get("annotations", {})
    repo = next(r for r in c.gcp_spec()["repositories"] if r["repositoryId"] == "flux")
    assert c.principal("source-controller", FNS) in repo["iamPolicy"]["bindings"][0]["members"]


# --------------------------------------------------------------------------- object level

@pytest.mark.parametrize("cloud,gate", [("aws", True), ("aws", False), ("azure", True), ("gcp", False)])
def test_object_level(kube, cloud, gate):
    c = flux.object_level(cloud, gate=gate)
    k = start(kube, c)
    sa = k.kubectl_json("get", "serviceaccount", flux.OBJECT_SA, "-n", flux.TENANT_NS)
    annotations = sa["metadata"]["annotations"]
    if cloud == "aws":
        assert annotations[ROLE_ANNOTATION] == c.role_arn("flux-apps-flux-oci")
        assert trust_subjects(c, "flux-apps-flux-oci") == ["system:serviceaccount:apps:flux-oci"]
    elif cloud == "azure":
        assert set(annotations) == {"azure.workload.identity/client-id", "azure.workload.identity/tenant-id"}
        identity = next(i for i in c.identities if i["name"] == "flux-apps-flux-oci")
        assert [f["subject"] for f in identity["federatedCredentials"]] == ["system:serviceaccount:apps:flux-oci"]
    else:
        assert annotations == {"iam.gke.io/gcp-service-account": c.gsa_email("flux-apps-flux-oci")}
    repo = oci_repositories(k)[(flux.TENANT_NS, "podinfo")]
    assert repo["spec"]["serviceAccountName"] == flux.OBJECT_SA
    assert repo["spec"]["provider"] == {"aws": "aws", "azure": "azure", "gcp": "gcp"}[cloud]
    args = k.kubectl_json("get", "deployment", "source-controller", "-n", FNS)["spec"]["template"]["spec"]["containers"][0]["args"]
    assert (flux.GATE_ARG in args) is gate
    conditions = {cond["type"]: cond for cond in repo["status"]["conditions"]}
    if gate:
        assert conditions["Ready"]["status"] == "True"
    else:
        assert conditions["Stalled"]["status"] == "True" and conditions["Stalled"]["reason"] == "FeatureGateDisabled"
        assert conditions["Ready"]["status"] == "False" and "ObjectLevelWorkloadIdentity" in conditions["Ready"]["message"]


def test_object_level_image_repository(kube):
    c = flux.object_level("aws", kind="ImageRepository")
    k = start(kube, c)
    (repo,) = k.kubectl_json("get", "imagerepositories.v1.image.toolkit.fluxcd.io", "-A")["items"]
    assert repo["spec"]["serviceAccountName"] == flux.OBJECT_SA
    args = k.kubectl_json("get", "deployment", "image-reflector-controller", "-n", FNS)["spec"]["template"]["spec"]["containers"][0]["args"]
    assert flux.GATE_ARG in args


def test_eks_object_level_pod_identity(kube):
    c = flux.eks_object_level_pod_identity()
    k = start(kube, c)
    sa = k.kubectl_json("get", "serviceaccount", flux.OBJECT_SA, "-n", flux.TENANT_NS)
    assert ROLE_ANNOTATION not in sa["metadata"].get("annotations", {})
    assert {"namespace": flux.TENANT_NS, "serviceAccount": flux.OBJECT_SA} in c.kube_scenario()["podIdentityAssociations"]
    assert [(a["namespace"], a["serviceAccount"]) for a in c.aws_spec()["associations"]] == [(flux.TENANT_NS, flux.OBJECT_SA)]
    assert oci_repositories(k)[(flux.TENANT_NS, "podinfo")]["spec"]["serviceAccountName"] == flux.OBJECT_SA


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_object_sa_missing(kube, cloud):
    c = flux.object_sa_missing(cloud)
    k = start(kube, c)
    result = k.kubectl("get", "serviceaccount", flux.OBJECT_SA, "-n", flux.TENANT_NS)
    assert result.returncode == 1 and "NotFound" in result.stderr
    repo = oci_repositories(k)[(flux.TENANT_NS, "podinfo")]
    assert repo["spec"]["serviceAccountName"] == flux.OBJECT_SA
    host = {"aws": ".dkr.ecr.", "azure": ".azurecr.io/", "gcp": "-docker.pkg.dev/"}[cloud]
    assert host in repo["spec"]["url"]


@pytest.mark.parametrize("provider", [None, "generic"])
def test_ecr_generic_no_secret(kube, provider):
    c = flux.ecr_generic_no_secret(provider=provider)
    k = start(kube, c)
    repo = oci_repositories(k)[(FNS, "podinfo")]
    assert repo["spec"].get("provider") == provider and "secretRef" not in repo["spec"]
    assert ".dkr.ecr." in repo["spec"]["url"]


def test_object_sa_with_image_pull_secrets(kube):
    c = flux.object_sa_with_image_pull_secrets()
    k = start(kube, c)
    sa = k.kubectl_json("get", "serviceaccount", flux.OBJECT_SA, "-n", flux.TENANT_NS)
    assert sa["imagePullSecrets"] == [{"name": "regcred"}] and ROLE_ANNOTATION in sa["metadata"]["annotations"]
    assert k.kubectl_json("get", "secret", "regcred", "-n", flux.TENANT_NS)["type"] == "kubernetes.io/dockerconfigjson"


def test_other_object_builders(kube):
    c = Cluster()
    flux.bucket(c, "artifacts", "apps", endpoint="s3.amazonaws.com", bucket_name="my-artifacts", provider="aws",
                region="us-east-2", service_account="flux-s3")
    flux.helm_repository(c, "charts", FNS, "oci://123456789012.dkr.ecr.us-east-2.amazonaws.com/charts", provider="aws")
    flux.kustomization_sops(c, "secrets", FNS, decryption_sa="sops-kms")
    flux.oci_repository(c, "static", FNS, "oci://ghcr.io/stefanprodan/manifests/podinfo", secret_ref="ghcr-auth",
                        provider="aws", flux_managed=True)
    k = start(kube, c)
    (b,) = k.kubectl_json("get", "buckets.v1.source.toolkit.fluxcd.io", "-A")["items"]
    assert {key: b["spec"][key] for key in ("endpoint", "bucketName", "provider", "region", "serviceAccountName")} == {
        "endpoint": "s3.amazonaws.com", "bucketName": "my-artifacts", "provider": "aws", "region": "us-east-2",
        "serviceAccountName": "flux-s3"}
    (h,) = k.kubectl_json("get", "helmrepositories.v1.source.toolkit.fluxcd.io", "-A")["items"]
    assert h["spec"]["type"] == "oci" and "serviceAccountName" not in h["spec"]
    (ks,) = k.kubectl_json("get", "kustomizations.v1.kustomize.toolkit.fluxcd.io", "-A")["items"]
    assert ks["spec"]["decryption"] == {"provider": "sops", "serviceAccountName": "sops-kms"}
    assert "serviceAccountName" not in ks["spec"]
    static = oci_repositories(k)[(FNS, "static")]
    assert static["spec"]["secretRef"] == {"name": "ghcr-auth"}
    assert static["metadata"]["labels"][flux.KUSTOMIZE_NAME_LABEL] == "flux-system"


def test_crossplane_and_flux_in_one_cluster(kube):
    c = flux.crossplane_and_flux(6)
    k = start(kube, c)
    repos = oci_repositories(k)
    assert len(repos) == 6
    object_level = [r for r in repos.values() if r["spec"].get("serviceAccountName")]
    assert len(object_level) == 3 and {r["metadata"]["namespace"] for r in object_level} == {"tenant-1", "tenant-3", "tenant-5"}
    assert {p["metadata"]["name"] for p in k.kubectl_json("get", "providers.pkg.crossplane.io")["items"]} >= {
        "provider-aws-s3", "provider-aws-svc0", "provider-aws-svc2"}
    assert trust_subjects(c, "flux-tenants") == ["system:serviceaccount:tenant-*:flux-oci"]
