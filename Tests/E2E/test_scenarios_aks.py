"""The AKS scenario builder (scenarios_aks) read back with the real kubectl through kube_emulator:
the seeds look like what AKS, the Azure WI webhook, Helm and Crossplane create, and pods carry the
Azure variables exactly when the webhook would have injected them.

Run: python3 -m pytest Tests/E2E/test_scenarios_aks.py -q
"""
from __future__ import annotations

import time

import pytest

import scenarios_aks as aks
from conftest_kube import Kube, kube  # noqa: F401  (kube is a fixture)
from scenarios_aks import AksCluster

NS = "crossplane-system"
NEW_FILE = "/var/run/secrets/azure/wi/token/azure-identity-token"
OLD_FILE = "/var/run/secrets/azure/tokens/azure-identity-token"
AZURE_ENV = {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"}


def start(kube, cluster: AksCluster) -> Kube:
    name = cluster.context
    # `az aks get-credentials` names the context and cluster after the cluster, the user clusterUser_<rg>_<cluster>
    return kube(cluster.kube_scenario(), context=name, cluster_name=name,
                user_name=f"clusterUser_{aks.RESOURCE_GROUP}_{name}")


def env_of(pod: dict, container: str | None = None) -> dict:
    c = next(c for c in pod["spec"]["containers"] if container in (None, c["name"]))
    return {e["name"]: e.get("value") for e in c.get("env", [])}


def pods_by_owner(k: Kube, namespace: str = NS) -> dict:
    """Pods read with kubectl, keyed by their Deployment (owner ReplicaSet minus its hash)."""
    return {p["metadata"]["ownerReferences"][0]["name"].rsplit("-", 1)[0]: p
            for p in k.kubectl_json("get", "pods", "-n", namespace)["items"]}


def azure_token_volumes(pod: dict) -> list:
    return [v for v in pod["spec"].get("volumes", []) for s in v.get("projected", {}).get("sources", [])
            if s.get("serviceAccountToken", {}).get("audience") == "api://AzureADTokenExchange"]


def restart(k: Kube, deployment: str) -> None:
    result = k.kubectl("rollout", "restart", f"deployment/{deployment}", "-n", NS)
    if "within the past second" in result.stderr:
        time.sleep(1.05)
        result = k.kubectl("rollout", "restart", f"deployment/{deployment}", "-n", NS)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- seed 000, Azure tab

def test_seed_aks_core_acr_as_kubectl_reads_it(kube):
    c = AksCluster().seed_aks_core_acr()
    k = start(kube, c)
    assert k.kubectl("config", "current-context", check=True).stdout == "prod-aks\n"
    client_id = c.client_id("crossplane-acr-identity")

    sa = k.kubectl_json("get", "sa", "crossplane", "-n", NS)
    assert sa["metadata"]["annotations"]["azure.workload.identity/client-id"] == client_id
    assert sa["metadata"]["annotations"]["azure.workload.identity/tenant-id"] == aks.TENANT
    assert sa["metadata"]["annotations"]["meta.helm.sh/release-name"] == "crossplane"
    assert sa["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    deploy = k.kubectl_json("get", "deployment", "crossplane", "-n", NS)  # the seed's "Verify Configuration"
    assert deploy["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert deploy["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert deploy["metadata"]["annotations"]["meta.helm.sh/release-namespace"] == NS

    pods = pods_by_owner(k)
    core = pods["crossplane"]
    for container in core["spec"]["initContainers"] + core["spec"]["containers"]:
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["AZURE_CLIENT_ID"] == client_id and env["AZURE_TENANT_ID"] == aks.TENANT
        assert env["AZURE_FEDERATED_TOKEN_FILE"] == NEW_FILE == c.token_file()
        assert env["AZURE_AUTHORITY_HOST"] == "https://login.microsoftonline.com/"
    [token] = azure_token_volumes(core)
    assert token["name"].startswith("azure-workload-identity-reserved-") and len(token["name"]) == 63
    assert token["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600
    # customLabels also label the rbac-manager's pod: it is mutated too, with no client id on its SA
    assert AZURE_ENV - set(env_of(pods["crossplane-rbac-manager"])) == {"AZURE_CLIENT_ID"}
    for name in (c.revision_of("provider-azure-storage"), c.revision_of("upbound-provider-family-azure")):
        assert not AZURE_ENV & set(env_of(pods[name])), name
        assert azure_token_volumes(pods[name]) == []

    provider = k.kubectl_json("get", "provider", "provider-azure-storage")
    assert provider["spec"]["package"] == "myregistry.azurecr.io/crossplane/provider-azure-storage:v1.2.0"
    assert {x["type"]: x["status"] for x in provider["status"]["conditions"]} == {"Installed": "True", "Healthy": "True"}
    revision = k.kubectl_json("get", "providerrevision", provider["status"]["currentRevision"])
    assert revision["metadata"]["labels"]["pkg.crossplane.io/provider-family"] == "provider-family-azure"
    deployments = k.kubectl_json("get", "deployments", "-n", NS, "-l",
                                 f"pkg.crossplane.io/revision={provider['status']['currentRevision']}")["items"]
    assert [d["metadata"]["name"] for d in deployments] == [provider["status"]["currentRevision"]]

    webhook = k.kubectl_json("get", "deployment", "azure-wi-webhook-controller-manager", "-n", "kube-system")
    assert webhook["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "mcr.microsoft.com/oss/v2/azure/workload-identity/webhook:v1.6.0"
    [mwc] = k.kubectl_json("get", "mutatingwebhookconfigurations.v1.admissionregistration.k8s.io")["items"]
    assert mwc["metadata"]["name"] == "azure-wi-webhook-mutating-webhook-configuration"
    assert mwc["webhooks"][0]["name"] == "mutation.azure-workload-identity.io"
    assert mwc["webhooks"][0]["objectSelector"] == {"matchLabels": {"azure.workload.identity/use": "true"}}

    node = k.kubectl_json("get", "nodes")["items"][0]
    assert node["spec"]["providerID"] == (
        "azure:///subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/mc_rg-platform_prod-aks_eastus/"
        "providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/0")
    assert {k_: node["metadata"]["labels"][k_] for k_ in ("kubernetes.azure.com/cluster", "kubernetes.azure.com/agentpool",
                                                          "topology.kubernetes.io/region")} == {
        "kubernetes.azure.com/cluster": "MC_rg-platform_prod-aks_eastus",
        "kubernetes.azure.com/agentpool": "nodepool1", "topology.kubernetes.io/region": "eastus"}


def test_seed_aks_core_acr_azure_side():
    c = AksCluster().seed_aks_core_acr()
    spec = c.azure_spec()
    cluster = spec["managedCluster"]
    assert spec["subscription"] == {"id": aks.SUBSCRIPTION, "tenantId": aks.TENANT}
    assert cluster["oidcIssuerProfile"] == {"enabled": True, "issuerUrl": aks.ISSUER}
    assert aks.ISSUER.endswith("/") and aks.ISSUER.startswith("https://eastus.oic.prod-aks.azure.com/")
    assert cluster["securityProfile"] == {"workloadIdentity": {"enabled": True}}
    assert cluster["nodeResourceGroup"] == aks.NODE_RESOURCE_GROUP == "MC_rg-platform_prod-aks_eastus"
    identity = next(i for i in spec["identities"] if i["name"] == "crossplane-acr-identity")
    assert identity["clientId"] == c.client_id("crossplane-acr-identity") and identity["tenantId"] == aks.TENANT
    assert identity["federatedCredentials"] == [{
        "name": "crossplane-federated-credential", "issuer": cluster["oidcIssuerProfile"]["issuerUrl"],
        "subject": "system:serviceaccount:crossplane-system:crossplane", "audiences": ["api://AzureADTokenExchange"]}]
    [registry] = spec["registries"]
    assert registry["loginServer"] == "myregistry.azurecr.io" and registry["roleAssignmentMode"] == "LegacyRegistryPermissions"
    kubelet = cluster["identityProfile"]["kubeletidentity"]
    assert kubelet["resourceId"].endswith("/resourcegroups/MC_rg-platform_prod-aks_eastus/providers/"
                                          "Microsoft.ManagedIdentity/userAssignedIdentities/prod-aks-agentpool")
    pulls = {(a["principalId"], a["scope"]) for a in spec["roleAssignments"] if a["roleDefinitionName"] == "AcrPull"}
    assert pulls == {(identity["principalId"], registry["id"]), (kubelet["objectId"], registry["id"])}
    assert all(a["roleDefinitionId"].endswith("/7f951dda-4ed3-4680-a7ca-43fe172d538d")
               for a in spec["roleAssignments"] if a["roleDefinitionName"] == "AcrPull")
    # fixed=False is the seed as written: the nodes were never given pull rights
    broken = AksCluster().seed_aks_core_acr(fixed=False).azure_spec()
    assert [a["principalId"] for a in broken["roleAssignments"]] == [identity["principalId"]]


def test_seed_as_written_leaves_the_provider_pod_in_image_pull_back_off(kube):
    c = AksCluster().seed_aks_core_acr(fixed=False)
    k = start(kube, c)
    revision = c.revision_of("provider-azure-storage")
    table = k.kubectl("get", "pods", "-n", NS, "-o", "wide", check=True).stdout.splitlines()
    [row] = [line.split() for line in table if line.startswith(revision)]
    assert row[1:3] == ["0/1", "ImagePullBackOff"] and "aks-nodepool1-12345678-vmss000000" in row
    pod = pods_by_owner(k)[revision]
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "ImagePullBackOff",
                       "message": 'Back-off pulling image "myregistry.azurecr.io/crossplane/provider-azure-storage:v1.2.0"'}
    provider = k.kubectl_json("get", "provider", "provider-azure-storage")
    healthy = next(x for x in provider["status"]["conditions"] if x["type"] == "Healthy")
    assert healthy["status"] == "False" and "minimum availability" in healthy["message"]
    assert k.kubectl_json("get", "deployment", revision, "-n", NS)["status"]["availableReplicas"] == 0
    # the core still pulled the package with its workload identity
    assert env_of(pods_by_owner(k)["crossplane"])["AZURE_CLIENT_ID"] == c.client_id("crossplane-acr-identity")


# --------------------------------------------------------------------------- upjet provider on WI

def test_seed_aks_upjet_provider(kube):
    c = AksCluster().seed_aks_upjet_provider()
    k = start(kube, c)
    client_id = c.client_id("crossplane-provider-azure")
    drc = k.kubectl_json("get", "deploymentruntimeconfig", "azure-workload-identity")
    assert drc["spec"]["serviceAccountTemplate"]["metadata"] == {
        "name": "provider-azure-storage", "annotations": {"azure.workload.identity/client-id": client_id}}
    assert drc["spec"]["deploymentTemplate"]["spec"]["template"]["metadata"]["labels"] == {
        "azure.workload.identity/use": "true"}

    provider = k.kubectl_json("get", "provider", "provider-azure-storage")
    assert provider["spec"]["package"] == "xpkg.upbound.io/upbound/provider-azure-storage:v2.7.0"
    assert provider["spec"]["runtimeConfigRef"]["name"] == "azure-workload-identity"
    revision = provider["status"]["currentRevision"]
    deploy = k.kubectl_json("get", "deployment", revision, "-n", NS)
    assert deploy["spec"]["template"]["spec"]["serviceAccountName"] == "provider-azure-storage"
    assert deploy["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert deploy["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    sa = k.kubectl_json("get", "sa", "provider-azure-storage", "-n", NS)
    assert sa["metadata"]["annotations"] == {"azure.workload.identity/client-id": client_id}
    assert sa["metadata"]["ownerReferences"][0] == {"apiVersion": "pkg.crossplane.io/v1", "kind": "ProviderRevision",
                                                    "name": revision, "uid": f"rev-{revision}", "controller": True,
                                                    "blockOwnerDeletion": True}

    pods = pods_by_owner(k)
    env = env_of(pods[revision])
    assert env["AZURE_CLIENT_ID"] == client_id and env["AZURE_TENANT_ID"] == aks.TENANT
    assert env["AZURE_FEDERATED_TOKEN_FILE"] == NEW_FILE and env["REVISION_NAME"] == revision
    family = c.revision_of("upbound-provider-family-azure")
    assert not AZURE_ENV & set(env_of(pods[family]))  # the default runtime config: no label
    assert not AZURE_ENV & set(env_of(pods["crossplane"]))  # the core has no identity here

    config = k.kubectl_json("get", "clusterproviderconfigs.azure.m.upbound.io", "default")
    assert config["spec"] == {"credentials": {"source": "OIDCTokenFile"}, "clientID": client_id,
                              "tenantID": aks.TENANT, "subscriptionID": aks.SUBSCRIPTION}
    names = k.kubectl("api-resources", "-o", "name", check=True).stdout.split()
    assert {"providerconfigs.azure.upbound.io", "providerconfigs.azure.m.upbound.io",
            "clusterproviderconfigs.azure.m.upbound.io"} <= set(names)

    [fic] = next(i for i in c.azure_spec()["identities"] if i["name"] == "crossplane-provider-azure")["federatedCredentials"]
    assert fic["subject"] == f"system:serviceaccount:{NS}:{pods[revision]['spec']['serviceAccountName']}"
    assert fic["issuer"] == c.azure_spec()["managedCluster"]["oidcIssuerProfile"]["issuerUrl"]


# --------------------------------------------------------------------------- options

@pytest.mark.parametrize("label_on, injected", [("pod", True), ("sa", False), ("deployment", False), (None, False)])
def test_only_a_label_on_the_pod_gets_the_core_injected(kube, label_on, injected):
    c = AksCluster().node(0).wi_webhook().crossplane_core("11111111-1111-1111-1111-111111111111", aks.TENANT,
                                                          label_on=label_on, rbac_manager=False)
    k = start(kube, c)
    core = pods_by_owner(k)["crossplane"]
    assert (AZURE_ENV <= set(env_of(core))) is injected
    assert bool(azure_token_volumes(core)) is injected
    labelled = {"pod": ["deployment", "template", "sa"], "sa": ["sa"], "deployment": ["deployment"], None: []}[label_on]
    deploy = k.kubectl_json("get", "deployment", "crossplane", "-n", NS)
    sa = k.kubectl_json("get", "sa", "crossplane", "-n", NS)
    where = {"deployment": deploy["metadata"], "template": deploy["spec"]["template"]["metadata"], "sa": sa["metadata"]}
    assert sorted(w for w, meta in where.items() if (meta.get("labels") or {}).get("azure.workload.identity/use") == "true") \
        == sorted(labelled)


def test_workload_identity_disabled_means_no_webhook_and_no_injection(kube):
    c = AksCluster().node(0).crossplane_core("11111111-1111-1111-1111-111111111111", aks.TENANT)
    k = start(kube, c)
    assert k.kubectl_json("get", "mutatingwebhookconfigurations")["items"] == []
    assert not AZURE_ENV & set(env_of(pods_by_owner(k)["crossplane"]))
    restart(k, "crossplane")  # and the emulator's own admission agrees
    assert not AZURE_ENV & set(env_of(pods_by_owner(k)["crossplane"]))
    assert c.azure_spec()["managedCluster"]["securityProfile"]["workloadIdentity"]["enabled"] is False
    c.workload_identity_enabled = True  # enabled in ARM but the add-on's webhook is missing in the cluster
    assert c.azure_spec()["managedCluster"]["securityProfile"]["workloadIdentity"]["enabled"] is True


def test_webhook_v1_5_and_a_provider_pinned_to_the_old_path(kube):
    """An older add-on (v1.5.1 as AKS tags it) injects the old path; a ProviderConfig may carry
    oidcTokenFilePath."""
    c = AksCluster().node(0).wi_webhook("v1.5.1-20").crossplane_core(label_on=None).identity("provider-uami")
    c.wi_drc(client_id=c.client_id("provider-uami"), sa_name="provider-azure")
    c.provider("provider-azure-network", "xpkg.upbound.io/upbound/provider-azure-network:v2.6.0",
               runtime_config="azure-workload-identity")
    c.provider_config("OIDCTokenFile", api="azure.upbound.io", kind="ProviderConfig", client_id="c", tenant_id="t",
                      subscription_id="s", oidc_token_file_path=OLD_FILE)
    k = start(kube, c)
    pod = pods_by_owner(k)[c.revision_of("provider-azure-network")]
    assert env_of(pod)["AZURE_FEDERATED_TOKEN_FILE"] == OLD_FILE == c.token_file()
    assert [v["name"] for v in azure_token_volumes(pod)] == ["azure-identity-token"]
    assert pod["spec"]["containers"][0]["volumeMounts"][-1]["mountPath"] == "/var/run/secrets/azure/tokens"
    assert k.kubectl_json("get", "providerconfigs.azure.upbound.io", "default")["spec"]["oidcTokenFilePath"] == OLD_FILE
    image = k.kubectl_json("get", "deployment", "azure-wi-webhook-controller-manager", "-n", "kube-system")
    assert image["spec"]["template"]["spec"]["containers"][0]["image"].endswith("/webhook:v1.5.1-20")


def test_builder_pods_match_what_the_emulator_admits_on_restart(kube):
    """A pod the builder seeds and the pod the emulator's Deployment controller creates after a
    restart carry the same Azure env; the v1.6 volume name follows each pod's generateName."""
    c = AksCluster().seed_aks_upjet_provider()
    k = start(kube, c)
    revision = c.revision_of("provider-azure-storage")
    seeded = pods_by_owner(k)[revision]
    restart(k, revision)
    fresh = pods_by_owner(k)[revision]
    assert fresh["metadata"]["name"] != seeded["metadata"]["name"]
    assert {n: v for n, v in env_of(fresh).items() if n.startswith("AZURE_")} == \
        {n: v for n, v in env_of(seeded).items() if n.startswith("AZURE_")}
    [old], [new] = azure_token_volumes(seeded), azure_token_volumes(fresh)
    assert old["projected"] == new["projected"] and old["name"] != new["name"]


def test_sa_annotation_changed_after_the_pod_was_created(kube):
    """`sa_at_pod_creation`: the pod was admitted when the SA named another identity; a restart
    picks up the current annotation."""
    c = AksCluster().node(0).wi_webhook().identity("old").identity("new")
    c.crossplane_core(c.client_id("new"), aks.TENANT, sa_at_pod_creation={
        "azure.workload.identity/client-id": c.client_id("old")}, rbac_manager=False)
    k = start(kube, c)
    assert env_of(pods_by_owner(k)["crossplane"])["AZURE_CLIENT_ID"] == c.client_id("old")
    # the webhook's tenant applies: the SA had no tenant-id annotation then
    assert env_of(pods_by_owner(k)["crossplane"])["AZURE_TENANT_ID"] == aks.TENANT
    restart(k, "crossplane")
    assert env_of(pods_by_owner(k)["crossplane"])["AZURE_CLIENT_ID"] == c.client_id("new")


def test_injected_override_and_unpack_failure(kube):
    """`injected=True` keeps a pod admitted by a webhook that has since been removed; a package the
    core could not fetch from ACR has no revision and Installed False with the registry's refusal."""
    c = AksCluster().node(0).crossplane_core("11111111-1111-1111-1111-111111111111", label_on="pod", injected=True,
                                             rbac_manager=False)
    c.provider("provider-azure-storage", c.acr("crossplane/provider-azure-storage:v2.6.0"), installed=False)
    k = start(kube, c)
    assert env_of(pods_by_owner(k)["crossplane"])["AZURE_CLIENT_ID"] == "11111111-1111-1111-1111-111111111111"
    provider = k.kubectl_json("get", "provider", "provider-azure-storage")
    assert "currentRevision" not in provider["status"]
    installed = next(x for x in provider["status"]["conditions"] if x["type"] == "Installed")
    assert (installed["status"], installed["reason"]) == ("False", "UnpackingPackage")
    assert installed["message"].startswith(
        "cannot unpack package: cannot resolve myregistry.azurecr.io/crossplane/provider-azure-storage:v2.6.0 to "
        "digest: failed to fetch package descriptor with a GET request after a previous HEAD request failure: ")
    assert "GET https://myregistry.azurecr.io/oauth2/token?scope=repository%3Acrossplane%2Fprovider-azure-storage" \
           "%3Apull&service=myregistry.azurecr.io: UNAUTHORIZED: authentication required" in installed["message"]
    assert k.kubectl_json("get", "providerrevisions")["items"] == []


def test_provider_configs_and_registry_modes():
    c = AksCluster().registry("abacregistry", role_assignment_mode="AbacRepositoryPermissions")
    c.identity("puller").acr_pull("puller", "abacregistry", role="Container Registry Repository Reader")
    c.provider_config("Secret", api="azure.m.upbound.io", kind="ProviderConfig", namespace="team-a",
                      secret_ref={"name": "azure-creds", "namespace": "crossplane-system", "key": "creds"})
    c.provider_config("SystemAssignedManagedIdentity", api="azure.upbound.io", kind="ProviderConfig",
                      subscription_id=aks.SUBSCRIPTION)
    scenario = c.kube_scenario()  # the emulator validates them against the CRD schema on load
    from kube_emulator import KubeEmulator
    KubeEmulator(scenario)
    namespaced = next(o for o in scenario["objects"] if o["apiVersion"] == "azure.m.upbound.io/v1beta1")
    assert namespaced["metadata"] == {"name": "default", "namespace": "team-a"}
    with pytest.raises(AssertionError):
        c.provider_config("InjectedIdentity")
    [assignment] = c.azure_spec()["roleAssignments"]
    assert assignment["roleDefinitionName"] == "Container Registry Repository Reader"
    assert assignment["roleDefinitionId"] is None  # unverified GUID: matched by name
    assert assignment["scope"] == c.registry_id("abacregistry")
    assert c.azure_spec()["registries"][0]["roleAssignmentMode"] == "AbacRepositoryPermissions"
