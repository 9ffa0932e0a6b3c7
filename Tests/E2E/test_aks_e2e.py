"""End to end on AKS: the built kubectl-xpid binary, the real kubectl against the project's API
emulator (with the Azure Workload Identity webhook simulated at pod CREATE), and the real az CLI
against the project's Azure Resource Manager stand-in. Each scenario builds an AKS cluster the way a
seed document describes it (done right, or broken in one way) and asserts which checks fail: exactly
the ones that explain the break. The stand-in's request log proves that no Azure call writes.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from azure_standin import AzureStandIn, is_write, seed_spec  # noqa: E402
from harness import BIN, ReportView, canonical_findings, xpid_env  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from scenarios_aks import SUBSCRIPTION, AksCluster  # noqa: E402

CORE = "crossplane-core/crossplane"
STORAGE = "provider/provider-azure-storage"
NS = "crossplane-system"


@pytest.fixture(scope="module")
def azure(aks_azure):
    """The ARM stand-in logged in with the scenarios' subscription and tenant (conftest's aks_azure)."""
    return aks_azure


@dataclass
class Run(ReportView):
    """status/finding/failing from harness.ReportView (subject defaults to "cluster")."""
    kube_requests: list
    azure_requests: list
    emulator: KubeEmulator | None = None

    def az_writes(self) -> list:
        return [r for r in self.azure_requests if is_write(r)]  # a batch of GETs is a read


def run_xpid(cluster: AksCluster, azure: AzureStandIn, tmp_path: Path, *args: str, command: str = "verify", keep: bool = False,
             prepare=None) -> Run:
    """Seeds the stand-in with the cluster's Azure side (then `prepare(azure)`, e.g. faults), starts the
    emulator with its Kubernetes side and runs the binary; `keep` leaves the emulator running in the Run."""
    azure.reset()
    seed_spec(azure, cluster.azure_spec())
    if prepare is not None:
        prepare(azure)
    seeded = len(azure.requests())
    emulator = KubeEmulator(cluster.kube_scenario())
    emulator.start()
    try:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        config = Path(emulator.write_kubeconfig(str(tmp_path / "kubeconfig"), context=cluster.context, cluster_name=cluster.context, user_name=cluster.context))
        env = xpid_env(None, home, config, azure=azure)
        proc = subprocess.run([str(BIN), command, "-v", *args], env=env, capture_output=True, text=True, timeout=300)
        report = json.loads(proc.stdout) if command == "verify" and proc.stdout.lstrip().startswith("{") else None
        return Run(proc, report, list(emulator.requests), azure.requests()[seeded:], emulator if keep else None)
    finally:
        if not keep:
            emulator.stop()


def verify(cluster: AksCluster, azure, tmp_path, *args) -> Run:
    run = run_xpid(cluster, azure, tmp_path, "-o", "json", *args)
    assert run.report is not None, run.proc.stdout + run.proc.stderr
    assert run.az_writes() == [], run.az_writes()
    assert azure.escapes() == [] or all("azcliprod" in e.get("target", "") for e in azure.escapes())
    return run


def core_seed(**core) -> AksCluster:
    return AksCluster().seed_aks_core_acr(**core)


def acr_core(*, subject: str = "crossplane", issuer: str | None = None, audiences: list | None = None, registry_mode: str = "LegacyRegistryPermissions",
             core_pull: bool = True, webhook: bool = True, **core) -> AksCluster:
    """Seed 000's Azure tab built piece by piece, so one piece can be wrong: the core pulls
    provider-azure-storage from the private ACR with identity `id`; the family comes from xpkg.upbound.io."""
    cluster = AksCluster()
    cluster.node(0)
    if webhook:
        cluster.wi_webhook()
    cluster.identity("id").registry(role_assignment_mode=registry_mode).acr_pull(cluster.kubelet_identity["name"])
    if core_pull:
        cluster.acr_pull("id")
    kwargs = {} if issuer is None else {"issuer": issuer}
    if audiences is not None:
        kwargs["audiences"] = audiences
    cluster.federated_credential("id", subject, **kwargs)
    cluster.crossplane_core(**{"client_id": cluster.client_id("id"), "tenant_id": cluster.tenant, **core})
    cluster.provider("provider-azure-storage", cluster.acr("crossplane/provider-azure-storage:v1.2.0"))
    cluster.provider("upbound-provider-family-azure", "xpkg.upbound.io/upbound/provider-family-azure:v1.2.0")
    return cluster


# ---- seed 000, Azure tab --------------------------------------------------------------------

def test_seed_done_right_passes(azure, tmp_path):
    run = verify(core_seed(), azure, tmp_path)
    assert run.proc.returncode == 0, run.proc.stdout + run.proc.stderr
    cluster = run.report["cluster"]
    assert cluster["cloud"] == "azure"
    assert (cluster["name"], cluster["resourceGroup"], cluster["subscription"]) == ("prod-aks", "rg-platform", SUBSCRIPTION)
    assert run.failing() == set()
    for check in ["azure.sa-annotation", "azure.pod-label", "azure.pods-current", "azure.injected", "azure.federated-credential",
                  "crossplane.core-registry-identity", "crossplane.registry-permissions"]:
        assert run.status(check, CORE) == "pass", run.finding(check, CORE)
    assert run.status("aks.workload-identity") == "pass"
    webhook = next(f for f in run.report["findings"] if f["check"] == "aks.workload-identity" and "webhookConfiguration" in f["evidence"])
    assert webhook["evidence"]["webhookVersion"] == "v1.6.0", webhook
    core = next(s for s in run.report["subjects"] if s["id"] == CORE)
    assert core["method"] == "azure-wi" and "azure.workload.identity/client-id" in core["methodEvidence"]
    # The az reads: one of each kind, a credential list per identity in use, assignments per registry.
    az = [c for c in run.proc.stderr.splitlines() if " az " in f" {c} " or c.lstrip().startswith("az ")]
    assert az, run.proc.stderr


def test_label_only_on_the_service_account(azure, tmp_path):
    run = verify(core_seed(label_on="sa"), azure, tmp_path)
    assert run.proc.returncode == 1
    f = run.finding("azure.pod-label", CORE)
    assert f["status"] == "fail" and "ServiceAccount crossplane" in f["message"], f
    assert any("customLabels.azure\\.workload\\.identity/use=true" in " ".join(argv) for argv in f["remediation"]["argv"]), f["remediation"]
    assert run.status("azure.injected", CORE) == "skip"


def test_label_only_on_the_deployment_metadata(azure, tmp_path):
    run = verify(core_seed(label_on="deployment"), azure, tmp_path)
    f = run.finding("azure.pod-label", CORE)
    assert f["status"] == "fail" and "Deployment crossplane metadata" in f["message"], f


def test_federated_credential_in_the_wrong_namespace(azure, tmp_path):
    cluster = acr_core(subject="system:serviceaccount:crossplane:crossplane")
    run = verify(cluster, azure, tmp_path)
    f = run.finding("azure.federated-credential", CORE)
    assert f["status"] == "fail" and "namespace crossplane, not crossplane-system" in f["message"], f
    create = next(argv for argv in f["remediation"]["argv"] if argv[:4] == ["az", "identity", "federated-credential", "create"])
    assert create[create.index("--subject") + 1] == "system:serviceaccount:crossplane-system:crossplane"
    assert create[create.index("--issuer") + 1] == cluster.issuer
    assert run.failing() == {("azure.federated-credential", CORE)}


def test_issuer_without_the_trailing_slash(azure, tmp_path):
    cluster = acr_core(issuer=AksCluster().issuer.rstrip("/"))
    run = verify(cluster, azure, tmp_path)
    f = run.finding("azure.federated-credential", CORE)
    assert f["status"] == "fail" and "trailing /" in f["message"], f
    # The credential meant for this ServiceAccount is corrected in place, not duplicated.
    update = next(argv for argv in f["remediation"]["argv"] if argv[:3] == ["az", "identity", "federated-credential"])
    assert update[3] == "update" and update[update.index("--issuer") + 1] == cluster.issuer, update


def test_wrong_audience(azure, tmp_path):
    cluster = acr_core(audiences=["api://AzureADTokenExchange/"])
    run = verify(cluster, azure, tmp_path)
    f = run.finding("azure.federated-credential", CORE)
    assert f["status"] == "fail" and "audience" in f["message"], f


def test_no_acr_pull(azure, tmp_path):
    cluster = acr_core(core_pull=False)
    run = verify(cluster, azure, tmp_path)
    f = run.finding("crossplane.registry-permissions", CORE)
    assert f["status"] == "fail" and "AcrPull" in f["message"] and "searched" in f["message"], f
    create = next(argv for argv in f["remediation"]["argv"] if argv[:4] == ["az", "role", "assignment", "create"])
    assert create[create.index("--assignee-object-id") + 1] == cluster.principal_id("id")
    assert create[create.index("--scope") + 1].lower() == cluster.registry_id().lower()
    assert run.failing() == {("crossplane.registry-permissions", CORE)}


def test_abac_registry_with_only_acr_pull(azure, tmp_path):
    cluster = acr_core(registry_mode="AbacRepositoryPermissions")
    run = verify(cluster, azure, tmp_path)
    f = run.finding("crossplane.registry-permissions", CORE)
    assert f["status"] == "fail" and "AbacRepositoryPermissions" in f["message"] and "Container Registry Repository Reader" in f["message"], f


def test_workload_identity_disabled_on_the_cluster(azure, tmp_path):
    cluster = acr_core(webhook=False)
    run = verify(cluster, azure, tmp_path)
    f = run.finding("aks.workload-identity")
    assert f["status"] == "fail", f
    assert any("workloadIdentity.enabled is false" in g["message"] for g in run.report["findings"] if g["check"] == "aks.workload-identity")
    assert run.status("azure.injected", CORE) == "skip"


def test_stale_pods_after_the_annotation_changed(azure, tmp_path):
    cluster = acr_core(sa_at_pod_creation={"azure.workload.identity/client-id": "99999999-0000-4000-8000-000000000000",
                                           "azure.workload.identity/tenant-id": AksCluster().tenant})
    run = verify(cluster, azure, tmp_path)
    f = run.finding("azure.pods-current", CORE)
    assert f["status"] == "fail" and f["fixable"], f
    assert run.failing() == {("azure.pods-current", CORE)}


def test_kubelet_identity_without_acr_pull(azure, tmp_path):
    run = verify(core_seed(fixed=False), azure, tmp_path)
    f = run.finding("crossplane.node-pull", STORAGE)
    assert f["status"] == "fail" and "kubelet identity" in f["message"], f
    assert any(argv[:4] == ["az", "role", "assignment", "create"] for argv in f["remediation"]["argv"])


# ---- upjet Azure providers -----------------------------------------------------------------

def test_upjet_provider_done_right(azure, tmp_path):
    run = verify(AksCluster().seed_aks_upjet_provider(), azure, tmp_path)
    assert run.proc.returncode == 0, run.proc.stdout + run.proc.stderr
    for check in ["azure.sa-annotation", "azure.pod-label", "azure.injected", "azure.stable-sa-name", "azure.federated-credential",
                  "azure.providerconfig", "crossplane.providerconfig-source"]:
        assert run.status(check, STORAGE) in ("pass",), run.finding(check, STORAGE)


def test_upjet_provider_without_subscription_id(azure, tmp_path):
    cluster = _without_subscription()
    run = verify(cluster, azure, tmp_path)
    f = run.finding("azure.providerconfig", STORAGE)
    assert f["status"] == "fail" and "subscriptionID" in f["message"] and f["fixable"], f
    patch = next(argv for argv in f["remediation"]["argv"] if argv[:2] == ["kubectl", "patch"])
    assert json.loads(patch[patch.index("-p") + 1]) == {"spec": {"subscriptionID": SUBSCRIPTION}}


def _without_subscription() -> AksCluster:
    cluster = AksCluster()
    identity, sa = "crossplane-provider-azure", "provider-azure-storage"
    cluster.node(0).wi_webhook()
    cluster.crossplane_core(label_on=None)
    cluster.identity(identity).federated_credential(identity, sa)
    cluster.wi_drc("azure-workload-identity", client_id=cluster.client_id(identity), sa_name=sa)
    cluster.provider("provider-azure-storage", "xpkg.upbound.io/upbound/provider-azure-storage:v2.7.0", runtime_config="azure-workload-identity")
    cluster.provider_config("OIDCTokenFile", client_id=cluster.client_id(identity), tenant_id=cluster.tenant)
    return cluster


def test_hashed_provider_service_account_is_a_fail_with_the_runtime_config_fix(azure, tmp_path):
    cluster = AksCluster()
    identity = "crossplane-provider-azure"
    cluster.node(0).wi_webhook()
    cluster.crossplane_core(label_on=None)
    cluster.identity(identity)
    cluster.drc("azure-workload-identity", sa_annotations={"azure.workload.identity/client-id": cluster.client_id(identity)},
                pod_labels={"azure.workload.identity/use": "true"})
    cluster.provider("provider-azure-storage", "xpkg.upbound.io/upbound/provider-azure-storage:v2.7.0", runtime_config="azure-workload-identity")
    cluster.provider_config("OIDCTokenFile", client_id=cluster.client_id(identity), tenant_id=cluster.tenant, subscription_id=cluster.subscription)
    run = verify(cluster, azure, tmp_path)
    f = run.finding("azure.stable-sa-name", STORAGE)
    assert f["status"] == "fail" and f["fixable"] and "revision name" in f["message"], f
    assert run.status("azure.federated-credential", STORAGE) == "skip"


# ---- fix --------------------------------------------------------------------------------------

def test_fix_adds_the_label_and_annotations_then_new_pods_carry_the_env(azure, tmp_path):
    cluster = acr_core(client_id=None, tenant_id=None, label_on=None, helm=False)
    before = verify(cluster, azure, tmp_path)
    assert before.status("crossplane.core-registry-identity", CORE) == "fail"

    run = run_xpid(cluster, azure, tmp_path, "--yes", "--restart", command="fix", keep=True)
    try:
        assert run.proc.returncode == 0, run.proc.stdout + run.proc.stderr
        assert [r for r in run.azure_requests if is_write(r)] == []
        writes = [(r["method"], r["path"]) for r in run.kube_requests if r["method"] in ("PATCH", "POST", "PUT", "DELETE")]
        assert any(m == "PATCH" and p.endswith("/serviceaccounts/crossplane") for m, p in writes), writes
        assert any(m == "PATCH" and p.endswith("/deployments/crossplane") for m, p in writes), writes
        sa = next(o for o in run.emulator.objects("ServiceAccount") if o["metadata"]["name"] == "crossplane" and o["metadata"].get("namespace") == NS)
        assert sa["metadata"]["annotations"]["azure.workload.identity/client-id"] == cluster.client_id("id")
        pods = [p for p in run.emulator.objects("Pod") if p["metadata"].get("labels", {}).get("app") == "crossplane" and not p["metadata"].get("deletionTimestamp")]
        assert pods and all(any(e["name"] == "AZURE_FEDERATED_TOKEN_FILE" for c in p["spec"]["containers"] for e in c.get("env", [])) for p in pods), pods
        # A second fix against the resulting cluster plans nothing.
        home = tmp_path / "home"
        env = xpid_env(None, home, tmp_path / "kubeconfig", azure=azure)
        again = subprocess.run([str(BIN), "fix", "-o", "json"], env=env, capture_output=True, text=True, timeout=300)
        plan = json.loads(again.stdout)
        assert [a for a in plan["actions"] if a["kind"] != "cloud"] == [], plan
        after = subprocess.run([str(BIN), "verify", "-o", "json"], env=env, capture_output=True, text=True, timeout=300)
        report = json.loads(after.stdout)
        statuses = {(f["check"], f["subject"]): f["status"] for f in report["findings"]}
        assert statuses[("azure.injected", CORE)] == "pass", after.stdout
        assert statuses[("crossplane.core-registry-identity", CORE)] == "pass"
    finally:
        run.emulator.stop()


def test_fix_holds_helm_managed_core_and_prints_the_values(azure, tmp_path):
    cluster = acr_core(label_on=None, helm=True)
    run = run_xpid(cluster, azure, tmp_path, "--yes", "-o", "json", command="fix")
    assert run.proc.stdout.lstrip().startswith("{"), run.proc.stdout + run.proc.stderr
    plan = json.loads(run.proc.stdout)
    held = [h for h in plan["held"] if h["subject"] == CORE]
    assert held and held[0]["managedBy"] == "helm", plan
    lines = [" ".join(argv) for h in held for argv in h["insteadArgv"]]
    assert any("--set-string customLabels.azure\\.workload\\.identity/use=true" in line for line in lines), lines
    writes = [r for r in run.kube_requests if r["method"] in ("PATCH", "POST", "PUT", "DELETE")]
    assert writes == [], writes


# ---- az failures ------------------------------------------------------------------------------

def test_az_forbidden_is_an_error_and_cluster_checks_still_run(azure, tmp_path):
    run = run_xpid(core_seed(), azure, tmp_path, "-o", "json", prepare=lambda a: a.fault(r"userAssignedIdentities$", status=403, times=10))
    proc, report = run.proc, run.report
    fic = [f for f in report["findings"] if f["check"] == "azure.federated-credential"]
    assert fic and fic[0]["status"] == "error" and "AuthorizationFailed" in fic[0]["message"], fic
    assert "Reader" in fic[0]["remediation"]["summary"]
    assert [f["status"] for f in report["findings"] if f["check"] == "azure.injected"] == ["pass"]
    assert proc.returncode == 1


# ---- bulk reads: federated credentials through ARM's batch endpoint --------------------------------

def _two_identities() -> AksCluster:
    """Seed 000's core on its own identity plus an upjet network provider on another: two identities in use."""
    from scenarios_aks import UPJET_AZURE_VERSION
    cluster = core_seed()
    cluster.identity("provider-id").federated_credential("provider-id", "provider-azure-network")
    cluster.wi_drc("network-runtime", client_id=cluster.client_id("provider-id"), sa_name="provider-azure-network")
    cluster.provider("provider-azure-network", f"xpkg.upbound.io/upbound/provider-azure-network:{UPJET_AZURE_VERSION}",
                     runtime_config="network-runtime")
    cluster.provider_config("OIDCTokenFile", client_id=cluster.client_id("provider-id"), tenant_id=cluster.tenant,
                            subscription_id=SUBSCRIPTION)
    return cluster


def test_two_identities_credentials_in_one_batch_and_the_same_findings_when_the_batch_is_refused(azure, tmp_path):
    cluster = _two_identities()
    (tmp_path / "bulk").mkdir()
    bulk = verify(cluster, azure, tmp_path / "bulk")
    calls = bulk.external_commands("az")
    assert [c[:2] for c in calls].count(["rest", "--method"]) == 1, calls
    assert not [c for c in calls if c[:2] == ["identity", "federated-credential"]], calls
    batch = [r for r in bulk.azure_requests if r.get("batch")]
    assert len(batch) == 2 and all(r["path"].lower().endswith("/federatedidentitycredentials") for r in batch), batch
    assert bulk.status("azure.federated-credential", CORE) == "pass"

    (tmp_path / "refused").mkdir()
    refused = run_xpid(cluster, azure, tmp_path / "refused", "-o", "json",
                       prepare=lambda a: a.fault(r"^/batch$", status=403, times=None))
    assert refused.report is not None and refused.az_writes() == [], refused.proc.stderr
    calls = refused.external_commands("az")
    assert len([c for c in calls if c[:2] == ["identity", "federated-credential"]]) == 2, calls
    assert [c[:2] for c in calls].count(["rest", "--method"]) == 1, calls  # tried once, refused, not retried
    assert canonical_findings(refused.report["findings"]) == canonical_findings(bulk.report["findings"])
    assert refused.proc.returncode == bulk.proc.returncode
