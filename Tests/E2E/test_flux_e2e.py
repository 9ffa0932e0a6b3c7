"""End to end for Flux: the built kubectl-xpid binary, the real kubectl against the project's API
emulator (Flux CRDs, controllers and objects from scenarios_flux), and the real aws / az / gcloud
against the stand-ins. Each scenario is seed 004 (Flux's workload identity guide) done right or
broken in one way, at the controller level or the object level, and asserts which (check, subject)
explains the break.

Subjects: `flux-controller/<deployment>` (kind flux-controller, namespace flux-system) and
`flux-object/<namespace>/<name>` (kind flux-object). Checks: flux.controller-identity,
flux.object-level-gate, flux.object-sa, flux.provider-field, flux.token-permission,
flux.object-health, plus each cloud's usual chain on Flux subjects (irsa.*, azure.*, gke.*).
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import scenarios_flux as flux  # noqa: E402
from azure_standin import is_write, seed_spec  # noqa: E402
from harness import BIN, ReportView, require_binary, start_cluster, xpid_env  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from scenarios import ROLE_ANNOTATION, Cluster  # noqa: E402
from test_gke_e2e import seed_gcp_spec  # noqa: E402

FNS = flux.FLUX_NS
SOURCE = "flux-controller/source-controller"
FLUX_PODINFO = f"flux-object/{FNS}/podinfo"
TENANT_PODINFO = f"flux-object/{flux.TENANT_NS}/podinfo"
WRITES = ("PATCH", "PUT", "POST", "DELETE")


@pytest.fixture(scope="module")
def azure(aks_azure):
    """The ARM stand-in logged in with the AKS scenarios' subscription and tenant (conftest's aks_azure)."""
    return aks_azure


@dataclass
class Run(ReportView):
    """findings/finding/status/failing/subjects/explain from harness.ReportView; every check is on a
    named subject (no "cluster" default), explain() leaves the passes out."""
    kube_requests: list

    default_subject = None

    def flux_failing(self) -> set:
        return {(c, s) for c, s in self.failing() if s.startswith(("flux-controller/", "flux-object/"))}

    def kubectl_calls(self) -> int:
        """kubectl processes the run started (-v prints each external command as `+ <argv>`)."""
        return len(self.external_commands("kubectl"))


def _execute(emulator: KubeEmulator, env: dict, command: str, args: tuple) -> Run:
    emulator.reset_requests()
    proc = subprocess.run([str(BIN), command, "-v", *args], env=env, capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout) if command == "verify" and proc.stdout.lstrip().startswith("{") else None
    return Run(proc, report, list(emulator.requests))


def verify_eks(cluster: Cluster, aws, tmp_path: Path, *args: str) -> Run:
    tmp_path.mkdir(parents=True, exist_ok=True)
    emulator, env, _ = start_cluster(cluster, aws, tmp_path / "home")
    try:
        return _execute(emulator, env, "verify", ("-o", "json", *args))
    finally:
        emulator.stop()


def _verify_in_emulator(cluster, tmp_path: Path, args: tuple, **clouds) -> Run:
    """verify -o json against an emulator of `cluster`, the cloud stand-ins already seeded (azure= or gcp=)."""
    emulator = KubeEmulator(cluster.kube_scenario())
    emulator.start()
    try:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        config = Path(emulator.write_kubeconfig(str(tmp_path / "kubeconfig"), context=cluster.context,
                                                cluster_name=cluster.context, user_name=cluster.context))
        return _execute(emulator, xpid_env(None, home, config, **clouds), "verify", ("-o", "json", *args))
    finally:
        emulator.stop()


def verify_aks(cluster, azure, tmp_path: Path, *args: str) -> Run:
    azure.reset()
    seed_spec(azure, cluster.azure_spec())
    run = _verify_in_emulator(cluster, tmp_path, args, azure=azure)
    assert [r for r in azure.requests() if is_write(r)] == []
    return run


def verify_gke(cluster, gcp, tmp_path: Path, *args: str) -> Run:
    require_binary()
    gcp.reset()
    seed_gcp_spec(gcp, cluster.gcp_spec())
    run = _verify_in_emulator(cluster, tmp_path, args, gcp=gcp)
    assert gcp.writes() == [], gcp.writes()
    return run


def assert_flux_only_ok(run: Run) -> None:
    """A Flux-only cluster verified: Flux subjects present, no Crossplane subject, exit not 2, no
    fail/error on a Flux subject."""
    subjects = run.subjects()
    assert SOURCE in subjects, sorted(subjects)
    assert subjects[SOURCE]["kind"] == "flux-controller" and subjects[SOURCE]["namespace"] == FNS, subjects[SOURCE]
    assert not [s for s in subjects if s.startswith(("provider/", "function/", "crossplane-core/"))], sorted(subjects)
    assert run.proc.returncode != 2, run.proc.stdout + run.proc.stderr[-3000:]
    assert run.flux_failing() == set(), run.explain()


# ---- EKS, controller level ----------------------------------------------------------------------

def test_eks_irsa_controller_level_done_right(aws, tmp_path):
    run = verify_eks(flux.eks_flux_irsa(), aws, tmp_path)
    assert_flux_only_ok(run)
    subjects = run.subjects()
    assert subjects[FLUX_PODINFO]["kind"] == "flux-object", subjects.get(FLUX_PODINFO)
    for check in ("irsa.sa-annotation", "irsa.pods-current", "irsa.injected", "irsa.trust-policy", "flux.controller-identity"):
        assert run.status(check, SOURCE) == "pass", run.finding(check, SOURCE)
    assert run.status("flux.provider-field", FLUX_PODINFO) == "pass", run.finding("flux.provider-field", FLUX_PODINFO)
    assert {r["method"] for r in run.kube_requests} <= {"GET"}, "verify is read-only"


def test_eks_irsa_annotated_but_controller_pod_not_recreated(aws, tmp_path):
    run = verify_eks(flux.eks_flux_irsa(fixed=False), aws, tmp_path)
    stale = {("irsa.pods-current", SOURCE), ("irsa.injected", SOURCE)} & run.failing()
    assert stale, run.explain()
    assert run.status("irsa.sa-annotation", SOURCE) == "pass"
    assert run.status("irsa.trust-policy", SOURCE) == "pass"


def test_eks_controller_without_role_annotation(aws, tmp_path):
    run = verify_eks(flux.eks_flux_no_annotation(), aws, tmp_path)
    f = run.finding("flux.controller-identity", SOURCE)
    assert f["status"] == "fail", run.explain()
    assert run.proc.returncode == 1
    # The object that needs it shows why in its own conditions.
    assert run.status("flux.object-health", FLUX_PODINFO) in ("warn", "fail"), run.explain()


def test_eks_controller_on_pod_identity_passes(aws, tmp_path):
    from scenarios import POD_IDENTITY_TRUST
    c = Cluster().node("ip-10-0-1-10").node("ip-10-0-2-20", "b").agent()
    c.role("flux-source-controller-pi", POD_IDENTITY_TRUST).association("source-controller", "flux-source-controller-pi", namespace=FNS)
    flux.flux_install(c)
    flux.oci_repository(c, "podinfo", FNS, flux.ecr_url(c, "podinfo"), provider="aws")
    run = verify_eks(c, aws, tmp_path)
    assert run.status("flux.controller-identity", SOURCE) == "pass", run.explain()
    assert run.flux_failing() == set(), run.explain()


# ---- EKS, object level ----------------------------------------------------------------------------

def test_eks_object_level_done_right(aws, tmp_path):
    run = verify_eks(flux.object_level("aws"), aws, tmp_path)
    assert_flux_only_ok(run)
    assert run.subjects()[TENANT_PODINFO]["kind"] == "flux-object"
    for check in ("flux.object-level-gate", "flux.object-sa", "irsa.sa-annotation", "irsa.trust-policy"):
        assert run.status(check, TENANT_PODINFO) == "pass", run.finding(check, TENANT_PODINFO)
    assert run.status("flux.token-permission", SOURCE) == "pass", run.finding("flux.token-permission", SOURCE)


def test_eks_object_level_with_the_gate_off(aws, tmp_path):
    run = verify_eks(flux.object_level("aws", gate=False), aws, tmp_path)
    f = run.finding("flux.object-level-gate", TENANT_PODINFO)
    assert f["status"] == "fail" and "FeatureGateDisabled" in f["message"], f
    assert run.status("flux.object-health", TENANT_PODINFO) in ("warn", "fail"), run.explain()
    assert run.proc.returncode == 1


def test_eks_object_level_without_token_permission(aws, tmp_path):
    run = verify_eks(flux.object_level("aws", token_create=False), aws, tmp_path)
    f = run.finding("flux.token-permission", SOURCE)
    assert f["status"] in ("warn", "fail") and "serviceaccounts/token" in f["message"], f


def test_eks_object_level_relying_on_pod_identity(aws, tmp_path):
    run = verify_eks(flux.eks_object_level_pod_identity(), aws, tmp_path)
    f = run.finding("flux.object-sa", TENANT_PODINFO)
    assert f["status"] == "fail" and "Pod Identity" in f["message"], f
    assert "eks.amazonaws.com/role-arn" in f["message"], f


def test_eks_object_service_account_missing(aws, tmp_path):
    run = verify_eks(flux.object_sa_missing("aws"), aws, tmp_path)
    f = run.finding("flux.object-sa", TENANT_PODINFO)
    assert f["status"] == "fail" and flux.OBJECT_SA in f["message"], f


def test_eks_object_service_account_with_image_pull_secrets(aws, tmp_path):
    run = verify_eks(flux.object_sa_with_image_pull_secrets("aws"), aws, tmp_path)
    f = run.finding("flux.object-sa", TENANT_PODINFO)
    assert f["status"] == "warn" and "imagePullSecrets" in f["message"], f


@pytest.mark.parametrize("provider", [None, "generic"])
def test_ecr_url_with_generic_provider_and_no_secret(aws, tmp_path, provider):
    run = verify_eks(flux.ecr_generic_no_secret(provider=provider), aws, tmp_path)
    f = run.finding("flux.provider-field", FLUX_PODINFO)
    assert f["status"] == "warn" and "aws" in f["message"], f
    assert run.status("flux.controller-identity", SOURCE) == "pass"


def test_secret_ref_next_to_a_cloud_provider(aws, tmp_path):
    c = flux.eks_flux_irsa()
    flux.oci_repository(c, "with-secret", FNS, flux.ecr_url(c, "podinfo"), provider="aws", secret_ref="ecr-auth")
    run = verify_eks(c, aws, tmp_path)
    f = run.finding("flux.provider-field", f"flux-object/{FNS}/with-secret")
    assert f["status"] == "warn" and "secretRef" in f["message"], f
    assert run.status("flux.provider-field", FLUX_PODINFO) == "pass"


# ---- flags --------------------------------------------------------------------------------------

def test_target_selects_crossplane_flux_or_both(aws, tmp_path):
    c = flux.crossplane_and_flux(2)
    runs = {target: verify_eks(c, aws, tmp_path / target, *(("--target", target) if target != "default" else ()))
            for target in ("default", "all", "crossplane", "flux")}
    for target, run in runs.items():
        assert run.proc.returncode != 2, (target, run.proc.stderr[-2000:])
    kinds = {t: {s["kind"] for s in r.subjects().values()} for t, r in runs.items()}
    assert {"flux-controller", "flux-object", "provider"} <= kinds["all"], kinds
    assert kinds["default"] == kinds["all"], kinds
    assert not kinds["crossplane"] & {"flux-controller", "flux-object"}, kinds
    assert "provider" in kinds["crossplane"]
    assert kinds["flux"] <= {"flux-controller", "flux-object"} and "flux-object" in kinds["flux"], kinds


def test_flux_namespace_flag(aws, tmp_path):
    c = Cluster().node("ip-10-0-1-10")
    arn = flux.flux_irsa_role(c, "flux-source-controller", namespace="gitops")
    flux.flux_controller(c, "source-controller", namespace="gitops", sa_annotations={ROLE_ANNOTATION: arn})
    flux.oci_repository(c, "podinfo", "gitops", flux.ecr_url(c, "podinfo"), provider="aws")
    run = verify_eks(c, aws, tmp_path, "--flux-namespace", "gitops")
    subject = run.subjects()[SOURCE]
    assert subject["kind"] == "flux-controller" and subject["namespace"] == "gitops", subject
    assert run.status("irsa.trust-policy", SOURCE) == "pass", run.explain()
    assert run.flux_failing() == set(), run.explain()


def test_kubectl_calls_do_not_grow_with_flux_objects(aws, tmp_path):
    counts, flux_subjects = [], []
    for n in (2, 10):
        run = verify_eks(flux.crossplane_and_flux(n), aws, tmp_path / f"n{n}")
        assert run.report is not None, run.proc.stderr[-3000:]
        assert "provider/provider-aws-s3" in run.subjects()
        flux_subjects.append(sum(1 for s in run.subjects().values() if s["kind"] == "flux-object"))
        counts.append(run.kubectl_calls())
    # Eight more OCIRepositories, eight more subjects (the bootstrap GitRepository and Kustomization
    # are in both clusters, whether or not they are subjects).
    assert flux_subjects[1] - flux_subjects[0] == 8 and flux_subjects[0] >= 2, flux_subjects
    assert counts[0] == counts[1] and counts[0] > 0, counts


# ---- fix (EKS) ----------------------------------------------------------------------------------

@pytest.fixture
def fix_session(aws, tmp_path):
    """The Flux-managed source-controller without its role annotation, the role on the AWS side."""
    cluster = flux.eks_flux_no_annotation()
    emulator, env, _ = start_cluster(cluster, aws, tmp_path / "home")
    yield cluster, emulator, env
    emulator.stop()


def _held_text(held: dict) -> str:
    advice = held.get("advice")
    parts = advice if isinstance(advice, list) else [advice or ""]
    return "\n".join([*parts, held.get("kustomizePatch") or ""])


def _flux_writes(requests: list) -> list:
    return [(r["method"], r["path"]) for r in requests if r["method"] in WRITES and f"/namespaces/{FNS}/" in r["path"]]


def test_fix_holds_the_flux_managed_controller_and_prints_the_kustomize_patch(fix_session):
    cluster, emulator, env = fix_session
    arn = cluster.role_arn("flux-source-controller")
    run = _execute(emulator, env, "fix", ("--role-arn", arn, "-o", "json"))
    assert run.proc.stdout.lstrip().startswith("{"), run.proc.stdout + run.proc.stderr[-3000:]
    plan = json.loads(run.proc.stdout)
    held = [h for h in plan["held"] if h["subject"] == SOURCE]
    assert held, plan
    assert held[0]["managedBy"] == "flux", held
    text = _held_text(held[0])
    for needle in ("kind: ServiceAccount", "eks.amazonaws.com/role-arn", arn, "target"):
        assert needle in text, (needle, text)
    assert [a for a in plan["actions"] if a["subject"] == SOURCE and a["kind"] == "change"] == [], plan["actions"]
    assert _flux_writes(run.kube_requests) == []


def test_fix_yes_without_force_writes_nothing_to_flux(fix_session):
    cluster, emulator, env = fix_session
    run = _execute(emulator, env, "fix", ("--role-arn", cluster.role_arn("flux-source-controller"), "--yes"))
    assert _flux_writes(run.kube_requests) == [], run.proc.stdout
    sa = next(o for o in emulator.objects("ServiceAccount") if o["metadata"]["name"] == "source-controller"
              and o["metadata"]["namespace"] == FNS)
    assert ROLE_ANNOTATION not in (sa["metadata"].get("annotations") or {})


def test_fix_force_restart_annotates_and_restarts_the_controller(fix_session):
    cluster, emulator, env = fix_session
    arn = cluster.role_arn("flux-source-controller")
    run = _execute(emulator, env, "fix", ("--role-arn", arn, "--force", "--restart", "--yes"))
    writes = _flux_writes(run.kube_requests)
    assert ("PATCH", f"/api/v1/namespaces/{FNS}/serviceaccounts/source-controller") in writes, run.proc.stdout + run.proc.stderr[-2000:]
    assert ("PATCH", f"/apis/apps/v1/namespaces/{FNS}/deployments/source-controller") in writes, writes
    sa = next(o for o in emulator.objects("ServiceAccount") if o["metadata"]["name"] == "source-controller"
              and o["metadata"]["namespace"] == FNS)
    assert sa["metadata"]["annotations"][ROLE_ANNOTATION] == arn
    deploy = next(o for o in emulator.objects("Deployment") if o["metadata"]["name"] == "source-controller"
                  and o["metadata"]["namespace"] == FNS)
    assert "kubectl.kubernetes.io/restartedAt" in deploy["spec"]["template"]["metadata"].get("annotations", {}), deploy
    pods = [p for p in emulator.objects("Pod") if p["metadata"].get("namespace") == FNS
            and p["metadata"].get("labels", {}).get("app") == "source-controller"]
    assert pods and all({"name": "AWS_ROLE_ARN", "value": arn} in p["spec"]["containers"][0]["env"] for p in pods), pods
    # The other controllers were left alone.
    assert not [w for w in writes if "kustomize-controller" in w[1] or "helm-controller" in w[1]], writes


# ---- AKS ----------------------------------------------------------------------------------------

def test_aks_controller_level_done_right(azure, tmp_path):
    run = verify_aks(flux.aks_flux_controller(label=True), azure, tmp_path)
    assert_flux_only_ok(run)
    for check in ("azure.sa-annotation", "azure.pod-label", "azure.injected", "azure.federated-credential",
                  "flux.controller-identity"):
        assert run.status(check, SOURCE) == "pass", run.finding(check, SOURCE)
    assert run.status("flux.provider-field", FLUX_PODINFO) == "pass"


def test_aks_controller_without_the_pod_label(azure, tmp_path):
    run = verify_aks(flux.aks_flux_controller(label=False), azure, tmp_path)
    f = run.finding("flux.controller-identity", SOURCE)
    assert f["status"] == "fail" and "azure.workload.identity/use" in f["message"], f
    if run.findings("azure.pod-label", SOURCE):
        assert run.status("azure.pod-label", SOURCE) == "fail", run.explain()
    assert run.proc.returncode == 1


def test_aks_object_level_service_account_without_tenant_id(azure, tmp_path):
    c = flux.object_level("azure")
    sa = next(o for o in c.objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == flux.OBJECT_SA)
    del sa["metadata"]["annotations"]["azure.workload.identity/tenant-id"]
    run = verify_aks(c, azure, tmp_path)
    f = run.finding("flux.object-sa", TENANT_PODINFO)
    assert f["status"] == "fail" and "tenant-id" in f["message"], f


def test_aks_object_level_done_right(azure, tmp_path):
    run = verify_aks(flux.object_level("azure"), azure, tmp_path)
    assert_flux_only_ok(run)
    for check in ("flux.object-level-gate", "flux.object-sa"):
        assert run.status(check, TENANT_PODINFO) == "pass", run.finding(check, TENANT_PODINFO)


# ---- GKE ----------------------------------------------------------------------------------------

def test_gke_controller_level_done_right(gcp, tmp_path):
    run = verify_gke(flux.gke_flux_controller(), gcp, tmp_path)
    assert_flux_only_ok(run)
    for check in ("gke.sa-annotation", "gke.iam-binding", "flux.controller-identity"):
        assert run.status(check, SOURCE) == "pass", run.finding(check, SOURCE)


def test_gke_controller_as_a_direct_principal(gcp, tmp_path):
    run = verify_gke(flux.gke_flux_controller(gsa=False), gcp, tmp_path)
    assert run.status("flux.controller-identity", SOURCE) == "pass", run.explain()
    assert run.flux_failing() == set(), run.explain()


def test_gke_object_level_with_the_gate_off(gcp, tmp_path):
    run = verify_gke(flux.object_level("gcp", gate=False), gcp, tmp_path)
    f = run.finding("flux.object-level-gate", TENANT_PODINFO)
    assert f["status"] == "fail" and "FeatureGateDisabled" in f["message"], f
