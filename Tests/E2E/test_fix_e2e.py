"""End to end for `kubectl xpid fix`: the built binary, the real kubectl against the project's
emulator (which creates new pods on a template change and mutates them from the ServiceAccount
and associations as they are at creation), and the real aws CLI against moto + the stand-in.
The emulator's request log proves what was written, with which PATCH content type, and that
plan-only and --dry-run runs stored nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import BIN, failing, start_cluster  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from scenarios import AFTER_PODS, NS, Cluster  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/CrossplaneECRRole"
ECR_S3 = "123456789012.dkr.ecr.us-east-2.amazonaws.com/crossplane/provider-aws-s3:v1.2.0"
HELM_LABELS = {"app.kubernetes.io/managed-by": "Helm"}
HELM_ANNOTATIONS = {"meta.helm.sh/release-name": "crossplane", "meta.helm.sh/release-namespace": NS}


@dataclass
class Session:
    """One emulator + AWS seed; runs kubectl-xpid commands against it."""

    emulator: KubeEmulator
    env: dict

    def run(self, *args: str) -> subprocess.CompletedProcess:
        self.emulator.reset_requests()
        return subprocess.run([str(BIN), *args], env=self.env, capture_output=True, text=True, timeout=300)

    def writes(self) -> list:
        return [r for r in self.emulator.requests if r["method"] not in ("GET", "HEAD")]

    def objects(self, kind: str) -> list:
        return self.emulator.objects(kind)


@pytest.fixture
def session(aws, tmp_path):
    sessions = []

    def start(cluster: Cluster) -> Session:
        emulator, env, _ = start_cluster(cluster, aws, tmp_path / f"home{len(sessions)}")
        s = Session(emulator, env)
        sessions.append(s)
        return s

    yield start
    for s in sessions:
        s.emulator.stop()


def core_without_identity(helm: bool) -> Cluster:
    """Seed 000 before its IRSA step: a provider package in private ECR, the crossplane
    ServiceAccount without a role annotation (Helm-managed or not)."""
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core()
    c.provider("provider-aws-s3", ECR_S3, env=None)
    for o in c.objects:
        if o["metadata"].get("name") == "crossplane" and o["kind"] in ("ServiceAccount", "Deployment"):
            meta = o["metadata"]
            if helm:
                meta.setdefault("labels", {}).update(HELM_LABELS)
                meta.setdefault("annotations", {}).update(HELM_ANNOTATIONS)
            else:
                for k in HELM_LABELS:
                    meta.get("labels", {}).pop(k, None)
                for k in HELM_ANNOTATIONS:
                    meta.get("annotations", {}).pop(k, None)
    return c


def stale_pod_identity() -> Cluster:
    c = Cluster().pod_identity_seed()
    c.associations[0]["createdAt"] = AFTER_PODS
    for o in c.objects:  # the pods were created before the association: the webhook injected nothing
        if o["kind"] == "Pod" and o["metadata"]["labels"].get("pkg.crossplane.io/provider") == "provider-aws-s3":
            c_ = o["spec"]["containers"][0]
            c_["env"] = [e for e in c_["env"] if not e["name"].startswith("AWS_")]
            c_.pop("volumeMounts", None)
            o["spec"]["volumes"] = []
    return c


def test_stale_pods_restart_then_verify_passes_and_second_fix_plans_nothing(session):
    s = session(stale_pod_identity())
    before = json.loads(s.run("verify", "-o", "json").stdout)
    assert failing(before) == {("podid.pods-current", "provider/provider-aws-s3")}

    plan_only = s.run("fix", "--restart")
    assert "kubectl rollout restart deployment/provider-aws-s3-" in plan_only.stdout
    assert s.writes() == [], "a plan without --yes must not write"

    applied = s.run("fix", "--restart", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    writes = s.writes()
    assert [(w["method"], w["contentType"]) for w in writes] == [("PATCH", "application/strategic-merge-patch+json")]
    assert writes[0]["path"].startswith(f"/apis/apps/v1/namespaces/{NS}/deployments/provider-aws-s3-")
    assert "now passes" in applied.stdout

    after = json.loads(s.run("verify", "-o", "json").stdout)
    assert after["summary"]["fail"] == 0 and after["summary"]["error"] == 0
    pods = [p for p in s.objects("Pod") if p["metadata"]["labels"].get("pkg.crossplane.io/provider") == "provider-aws-s3"]
    env = {e["name"] for p in pods for e in p["spec"]["containers"][0]["env"]}
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in env

    again = s.run("fix", "--restart", "-o", "json")
    plan = json.loads(again.stdout)
    assert plan["schema"] == "kubectl-xpid/plan/v1"
    assert plan["actions"] == [] and plan["held"] == []
    assert again.returncode == 0
    assert s.writes() == []


def test_core_annotation_then_restart_gives_the_new_pod_the_role(session):
    s = session(core_without_identity(helm=False))
    applied = s.run("fix", "--restart", "--yes", "--role-arn", ROLE)
    writes = s.writes()
    assert [(w["method"], w["path"], w["contentType"]) for w in writes] == [
        ("PATCH", f"/api/v1/namespaces/{NS}/serviceaccounts/crossplane", "application/merge-patch+json"),
        ("PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/crossplane", "application/strategic-merge-patch+json"),
    ], applied.stdout + applied.stderr
    sa = next(o for o in s.objects("ServiceAccount") if o["metadata"]["name"] == "crossplane")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == ROLE
    core_pods = [p for p in s.objects("Pod") if p["metadata"]["labels"].get("app") == "crossplane"]
    assert core_pods and all(
        {"name": "AWS_ROLE_ARN", "value": ROLE} in p["spec"]["containers"][0]["env"] for p in core_pods)
    assert "crossplane.core-registry-identity crossplane-core/crossplane now passes" in applied.stdout


def test_helm_managed_core_is_not_changed_without_force(session):
    s = session(core_without_identity(helm=True))
    out = s.run("fix", "--restart", "--yes", "--role-arn", ROLE)
    assert s.writes() == []
    assert "managed by Helm release crossplane" in out.stdout
    assert ("helm upgrade crossplane crossplane-stable/crossplane --namespace crossplane-system --reuse-values --set-string "
            "'serviceAccount.customAnnotations.eks\\.amazonaws\\.com/role-arn=" + ROLE + "'") in out.stdout
    assert "kubectl rollout restart deployment/crossplane -n crossplane-system --field-manager=kubectl-xpid" in out.stdout

    forced = s.run("fix", "--restart", "--yes", "--force", "--role-arn", ROLE)
    assert any(w["path"].endswith("/serviceaccounts/crossplane") for w in s.writes()), forced.stdout + forced.stderr
    assert "will revert this on its next sync" in forced.stdout


def test_forbidden_patch_stops_names_the_permission_and_applies_nothing_else(session):
    c = stale_pod_identity()
    for o in c.objects:
        if o["kind"] == "ProviderConfig":
            o["spec"]["credentials"]["source"] = "IRSA"
    c.forbid("patch", "providerconfigs", group="aws.m.upbound.io", namespace="default")
    s = session(c)
    out = s.run("fix", "--restart", "--yes")
    assert out.returncode == 1
    assert "forbidden" in out.stdout and "patch" in out.stdout and "providerconfigs.aws.m.upbound.io" in out.stdout
    assert "not applied: a2" in out.stdout
    writes = s.writes()
    assert len(writes) == 1 and writes[0]["status"] == 403, writes
    assert "Traceback" not in out.stderr


def test_dry_run_sends_dry_run_all_and_changes_nothing(session):
    c = stale_pod_identity()
    for o in c.objects:
        if o["kind"] == "ProviderConfig":
            o["spec"]["credentials"]["source"] = "IRSA"
    s = session(c)
    pods_before = sorted(p["metadata"]["name"] for p in s.objects("Pod"))
    out = s.run("fix", "--restart", "--dry-run")
    assert out.returncode == 0, out.stdout + out.stderr
    writes = s.writes()
    assert len(writes) == 2
    assert all(w["query"].get("dryRun") == "All" for w in writes), writes
    assert writes[0]["contentType"] == "application/merge-patch+json"  # a custom resource: never strategic merge
    pc = next(o for o in s.objects("ProviderConfig"))
    assert pc["spec"]["credentials"]["source"] == "IRSA"
    assert sorted(p["metadata"]["name"] for p in s.objects("Pod")) == pods_before
    assert "nothing was stored" in out.stdout


def test_stable_name_plan_creates_a_dedicated_runtime_config(session):
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core()
    c.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", env=None)
    c.provider_config("PodIdentity")
    s = session(c)
    out = s.run("fix", "-o", "json")
    plan = json.loads(out.stdout)
    changes = [a for a in plan["actions"] if a["kind"] == "change"]
    assert [a["check"] for a in changes] == ["podid.stable-sa-name", "podid.stable-sa-name"]
    assert changes[0]["command"] == ["kubectl", "apply", "--server-side", "--field-manager=kubectl-xpid", "-f", "-"]
    assert changes[0]["input"]["kind"] == "DeploymentRuntimeConfig"
    assert changes[0]["input"]["spec"]["serviceAccountTemplate"]["metadata"]["name"] == "provider-aws-s3"
    assert changes[1]["command"][:4] == ["kubectl", "patch", "providers.pkg.crossplane.io", "provider-aws-s3"]
    assert "--type" in changes[1]["command"] and "merge" in changes[1]["command"]
    assert any("new package revision" in n for n in changes[1]["notes"])
    assert s.writes() == []
    applied = s.run("fix", "--yes")
    kinds = [(w["method"], w["contentType"]) for w in s.writes()]
    assert kinds == [("PATCH", "application/apply-patch+yaml"), ("PATCH", "application/merge-patch+json")], applied.stdout + applied.stderr
    assert s.writes()[0]["query"].get("fieldManager") == "kubectl-xpid"
    drc = next(o for o in s.objects("DeploymentRuntimeConfig") if o["metadata"]["name"] == "provider-aws-s3-runtime")
    assert drc["spec"]["serviceAccountTemplate"]["metadata"]["name"] == "provider-aws-s3"
    # No Crossplane controller runs in the emulator, so the Deployment keeps the revision-hashed
    # ServiceAccount: the re-verify still fails that check, and fix must not claim success.
    assert applied.returncode == 1
    assert "podid.stable-sa-name provider/provider-aws-s3 still fail" in applied.stdout


def test_role_is_discovered_from_trust_policies_when_not_given(session):
    c = core_without_identity(helm=False)
    c.role("CrossplaneECRRole", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "${OIDC_PROVIDER_ARN}"}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"${OIDC_PROVIDER}:sub": "system:serviceaccount:crossplane-system:crossplane",
                                       "${OIDC_PROVIDER}:aud": "sts.amazonaws.com"}}}]})
    c.role("unrelated", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
    s = session(c)
    plan = json.loads(s.run("fix", "-o", "json").stdout)
    annotate = [a for a in plan["actions"] if a["kind"] == "change"]
    assert annotate and "eks.amazonaws.com/role-arn=" + ROLE in annotate[0]["command"], plan
    assert s.writes() == []
