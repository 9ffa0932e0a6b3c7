"""End to end on GKE: the built kubectl-xpid binary, the real kubectl against the project's API
emulator, and the real gcloud against the project's Google Cloud stand-in (GKE, Resource Manager,
IAM, Artifact Registry). Each scenario builds a GKE cluster the way seed 000's Google Cloud tab or seed
004 describes it (done right, or broken in one way) and asserts which checks fail. The stand-in's
request log proves that no Google Cloud call writes.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import BIN, ReportView, require_binary, xpid_env  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from scenarios_gke import NS, GkeCluster  # noqa: E402

CORE = "crossplane-core/crossplane"
STORAGE = "provider/provider-gcp-storage"


def seed_gcp_spec(gcp, spec: dict) -> None:
    """Seeds the stand-in with a scenario's cloud side (scenarios_gke.GkeCluster.gcp_spec())."""
    project = spec["project"]
    gcp.add_project(project["projectId"], number=project["projectNumber"], bindings=project["iamPolicy"].get("bindings", []))
    cluster = spec["cluster"]
    pool = (cluster.get("workloadIdentityConfig") or {}).get("workloadPool") or False
    pools = [{"name": p["name"], "mode": (p["config"].get("workloadMetadataConfig") or {}).get("mode"), "serviceAccount": p["config"].get("serviceAccount")}
             for p in cluster["nodePools"]]
    gcp.add_cluster(cluster["name"], cluster["location"], project["projectId"], workload_pool=pool, node_pools=pools)
    for sa in spec["serviceAccounts"]:
        gcp.add_service_account(sa["email"], bindings=sa["iamPolicy"].get("bindings", []), project=sa["projectId"])
    for repo in spec["repositories"]:
        gcp.add_repository(repo["repositoryId"], repo["location"], project["projectId"], bindings=repo["iamPolicy"].get("bindings", []))


@dataclass
class Run(ReportView):
    """finding/status/failing from harness.ReportView (subject defaults to "cluster")."""
    kube_requests: list
    gcp_requests: list


def run_xpid(cluster: GkeCluster, gcp, tmp_path: Path, *args: str, command: str = "verify", emulator: KubeEmulator | None = None) -> Run:
    """Seeds the stand-in, starts the emulator (unless one is given, e.g. to run twice against one cluster) and runs the binary."""
    require_binary()
    own = emulator is None
    if own:
        gcp.reset()
        seed_gcp_spec(gcp, cluster.gcp_spec())
        emulator = KubeEmulator(cluster.kube_scenario())
        emulator.start()
    seen = len(gcp.requests())
    try:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        config = Path(emulator.write_kubeconfig(str(tmp_path / "kubeconfig"), context=cluster.context, cluster_name=cluster.context, user_name=cluster.context))
        env = xpid_env(None, home, config, gcp=gcp)
        proc = subprocess.run([str(BIN), command, *args], env=env, capture_output=True, text=True, timeout=300)
        report = json.loads(proc.stdout) if command == "verify" and proc.stdout.lstrip().startswith("{") else None
        return Run(proc, report, list(emulator.requests), gcp.requests()[seen:])
    finally:
        if own:
            emulator.stop()


def verify(cluster: GkeCluster, gcp, tmp_path, *args) -> Run:
    run = run_xpid(cluster, gcp, tmp_path, "-o", "json", *args)
    assert run.report is not None, run.proc.stdout + run.proc.stderr
    assert gcp.writes() == [], gcp.writes()
    return run


def test_seed_done_right_passes_and_discovers_without_flags(gcp, tmp_path):
    cluster = GkeCluster().seed_gke_core_gar()
    run = verify(cluster, gcp, tmp_path)
    assert run.proc.returncode == 0, run.proc.stdout + run.proc.stderr
    c = run.report["cluster"]
    assert c["cloud"] == "gcp" and c["name"] == cluster.name, c
    assert (c["project"], c["location"]) == (cluster.project, cluster.location), c
    for check in ["gke.sa-annotation", "gke.no-host-network", "gke.iam-binding", "crossplane.core-registry-identity", "crossplane.registry-permissions"]:
        assert run.status(check, CORE) == "pass", run.finding(check, CORE)
    assert run.status("gke.workload-pool") == "pass"
    core = next(s for s in run.report["subjects"] if s["id"] == CORE)
    assert core["method"] == "gke-wi", core
    # Only reads: the cluster, the project number and policy, the GSA's and the repository's policies.
    assert {r["api"] for r in run.gcp_requests} >= {"container", "cloudresourcemanager", "iam", "artifactregistry"}, run.gcp_requests


def test_binding_for_the_wrong_namespace(gcp, tmp_path):
    cluster = GkeCluster()
    cluster._gke_base()
    cluster.gsa("crossplane-gar-sa").repository().gar_reader("crossplane-gar-sa").gar_reader(cluster.node_gsa)
    cluster.bind_ksa("crossplane-gar-sa", "crossplane", namespace="upbound-system")
    cluster.crossplane_core(gsa_email="crossplane-gar-sa")
    cluster.provider("provider-gcp-storage", cluster.gar("provider-gcp-storage:v1.2.0"))
    run = verify(cluster, gcp, tmp_path)
    f = run.finding("gke.iam-binding", CORE)
    assert f["status"] == "fail" and "upbound-system" in f["message"], f
    add = next(argv for argv in f["remediation"]["argv"] if argv[:4] == ["gcloud", "iam", "service-accounts", "add-iam-policy-binding"])
    assert add[add.index("--member") + 1] == f"serviceAccount:{cluster.project}.svc.id.goog[{NS}/crossplane]", add


def test_no_workload_pool(gcp, tmp_path):
    cluster = GkeCluster().workload_identity(False)
    cluster.node_pool(mode="GCE_METADATA").node(0)
    cluster.gsa("crossplane-gar-sa").repository().gar_reader("crossplane-gar-sa").gar_reader(cluster.node_gsa)
    cluster.crossplane_core(gsa_email="crossplane-gar-sa")
    cluster.provider("provider-gcp-storage", cluster.gar("provider-gcp-storage:v1.2.0"))
    run = verify(cluster, gcp, tmp_path)
    assert any(f["check"] == "gke.workload-pool" and f["status"] == "fail" and "no workload pool" in f["message"] for f in run.report["findings"]), run.report["findings"]


def test_node_pool_in_gce_metadata_mode(gcp, tmp_path):
    cluster = GkeCluster().workload_identity()
    cluster.node_pool(mode="GCE_METADATA").node(0)
    cluster.gsa("crossplane-gar-sa").repository().gar_reader("crossplane-gar-sa").bind_ksa("crossplane-gar-sa", "crossplane").gar_reader(cluster.node_gsa)
    cluster.crossplane_core(gsa_email="crossplane-gar-sa")
    cluster.provider("provider-gcp-storage", cluster.gar("provider-gcp-storage:v1.2.0"))
    run = verify(cluster, gcp, tmp_path)
    messages = [f["message"] for f in run.report["findings"] if f["check"] == "gke.workload-pool" and f["status"] == "fail"]
    assert any("GCE_METADATA" in m for m in messages), messages
    update = [argv for f in run.report["findings"] if f["check"] == "gke.workload-pool" and f["remediation"] for argv in f["remediation"]["argv"]]
    assert any("--workload-metadata=GKE_METADATA" in argv for argv in update), update


def test_annotation_that_is_not_a_gsa_email(gcp, tmp_path):
    cluster = GkeCluster().seed_gke_core_gar(gsa_email=None, sa_annotations={"iam.gke.io/gcp-service-account": "crossplane-gar-sa"})
    run = verify(cluster, gcp, tmp_path)
    f = run.finding("gke.sa-annotation", CORE)
    assert f["status"] == "fail" and "not a Google service account email" in f["message"], f


def test_subject_pod_on_the_host_network(gcp, tmp_path):
    run = verify(GkeCluster().seed_gke_core_gar(host_network=True), gcp, tmp_path)
    assert run.status("gke.no-host-network", CORE) == "fail"


def test_gsa_without_the_reader_role(gcp, tmp_path):
    cluster = GkeCluster()
    cluster._gke_base()
    cluster.gsa("crossplane-gar-sa").repository().bind_ksa("crossplane-gar-sa", "crossplane").gar_reader(cluster.node_gsa)
    cluster.crossplane_core(gsa_email="crossplane-gar-sa")
    cluster.provider("provider-gcp-storage", cluster.gar("provider-gcp-storage:v1.2.0"))
    run = verify(cluster, gcp, tmp_path)
    f = run.finding("crossplane.registry-permissions", CORE)
    assert f["status"] == "fail" and "reader" in f["message"], f
    assert any(argv[:4] == ["gcloud", "artifacts", "repositories", "add-iam-policy-binding"] for argv in f["remediation"]["argv"])


def test_direct_principal_with_its_grant(gcp, tmp_path):
    run = verify(GkeCluster().seed_gke_direct_principal(), gcp, tmp_path)
    core = next(s for s in run.report["subjects"] if s["id"] == CORE)
    assert core["method"] == "gke-wif", core
    assert run.status("crossplane.registry-permissions", CORE) == "pass", run.finding("crossplane.registry-permissions", CORE)
    assert run.status("gke.iam-binding", CORE) == "pass", run.finding("gke.iam-binding", CORE)


def test_direct_principal_without_a_grant(gcp, tmp_path):
    cluster = GkeCluster()
    cluster._gke_base()
    cluster.repository().gar_reader(cluster.node_gsa)
    cluster.crossplane_core()
    cluster.provider("provider-gcp-storage", cluster.gar("provider-gcp-storage:v1.2.0"))
    run = verify(cluster, gcp, tmp_path)
    assert run.status("crossplane.registry-permissions", CORE) == "fail"
    assert run.status("gke.iam-binding", CORE) == "warn"


def test_upjet_gcp_provider_done_right(gcp, tmp_path):
    for model in ("annotation", "principal"):
        run = verify(GkeCluster().seed_gke_upjet_provider(model=model), gcp, tmp_path)
        assert run.proc.returncode == 0, (model, run.proc.stdout + run.proc.stderr)
        for check in ["gke.sa-annotation", "gke.iam-binding", "crossplane.providerconfig-source"]:
            assert run.status(check, STORAGE) == "pass", (model, run.finding(check, STORAGE))


def test_fix_annotates_the_core_then_plans_nothing(gcp, tmp_path):
    """The core's annotation holds the GSA's name instead of its email: fix --overwrite --gcp-service-account."""
    cluster = GkeCluster()
    cluster._gke_base()
    cluster.gsa("crossplane-gar-sa").repository().gar_reader("crossplane-gar-sa").bind_ksa("crossplane-gar-sa", "crossplane").gar_reader(cluster.node_gsa)
    cluster.crossplane_core(helm=False, sa_annotations={"iam.gke.io/gcp-service-account": "crossplane-gar-sa"})
    cluster.provider("provider-gcp-storage", cluster.gar("provider-gcp-storage:v1.2.0"))
    gcp.reset()
    seed_gcp_spec(gcp, cluster.gcp_spec())
    emulator = KubeEmulator(cluster.kube_scenario())
    emulator.start()
    try:
        gsa = cluster.gsa_email("crossplane-gar-sa")
        applied = run_xpid(cluster, gcp, tmp_path, "--yes", "--restart", "--overwrite", "--gcp-service-account", gsa, command="fix", emulator=emulator)
        assert applied.proc.returncode == 0, applied.proc.stdout + applied.proc.stderr
        assert gcp.writes() == []
        sa = next(o for o in emulator.objects("ServiceAccount") if o["metadata"]["name"] == "crossplane" and o["metadata"].get("namespace") == NS)
        assert sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == gsa
        again = run_xpid(cluster, gcp, tmp_path, "-o", "json", "--overwrite", "--gcp-service-account", gsa, command="fix", emulator=emulator)
        plan = json.loads(again.proc.stdout)
        assert [a for a in plan["actions"] if a["kind"] != "cloud"] == [], plan
    finally:
        emulator.stop()
