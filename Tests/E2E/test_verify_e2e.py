"""End to end: the built kubectl-xpid binary, the real kubectl against the project's API
emulator, and the real aws CLI against moto plus the stand-in. Each scenario builds a
cluster like a seed document describes (done right, or broken in one way) and asserts
which checks fail: exactly the ones that explain the break.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from aws_standin import AWSStandIn, seed  # noqa: E402
from harness import BIN, ReportView, require_binary, xpid_env  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from scenarios import AFTER_PODS, NS, POD_IDENTITY_TRUST, Cluster  # noqa: E402

S3 = "provider/provider-aws-s3"


@dataclass
class Run(ReportView):
    """statuses/status/finding/failing_checks from harness.ReportView (subject defaults to "cluster")."""
    kube_requests: list
    aws_requests: list


def run_verify(cluster: Cluster, aws: AWSStandIn, tmp_path: Path, *args: str, kubeconfig: Path | None = None) -> Run:
    aws.reset()
    seed(aws, cluster.aws_spec())
    seeded = len(aws.requests())
    emulator = KubeEmulator(cluster.kube_scenario())
    emulator.start()
    try:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        config = kubeconfig or Path(emulator.write_kubeconfig(str(tmp_path / "kubeconfig"), context=cluster.context,
                                                              cluster_name=cluster.context, user_name=cluster.context))
        env = xpid_env(aws, home, config)
        proc = subprocess.run([str(BIN), "verify", "-v", *args], env=env, capture_output=True, text=True, timeout=180)
        report = None
        if proc.stdout.lstrip().startswith("{"):
            report = json.loads(proc.stdout)
        return Run(proc, report, list(emulator.requests), aws.requests()[seeded:])
    finally:
        emulator.stop()


def test_seed_pod_identity_done_right_passes(aws, tmp_path):
    run = run_verify(Cluster().pod_identity_seed(), aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 0, run.proc.stdout + run.proc.stderr
    report = run.report
    assert report["schema"] == "kubectl-xpid/report/v1"
    assert report["cluster"]["cloud"] == "aws"
    assert report["cluster"]["name"] == "prod-eks" and report["cluster"]["region"] == "us-east-2"
    assert run.failing_checks() == set()
    assert not [f for f in report["findings"] if f["status"] == "warn"]
    for check in ["podid.stable-sa-name", "podid.shared-sa", "podid.association", "podid.trust-policy", "podid.pods-current",
                  "podid.injected", "podid.irsa-shadowing", "eks.pod-identity-agent", "crossplane.providerconfig-source",
                  "crossplane.pod-identity-support", "crossplane.runtime-config", "crossplane.package-health"]:
        assert run.status(check, S3) == "pass", check
    assert run.status("eks.pod-identity-addon") == "pass"
    assert run.status("cluster.access") == "pass"
    subjects = {s["id"]: s for s in report["subjects"]}
    assert subjects[S3]["method"] == "pod-identity"
    assert subjects[S3]["serviceAccount"] == "provider-aws-pod-identity"
    assert subjects["provider/upbound-provider-family-aws"]["method"] == "none"
    assert "association" in subjects[S3]["methodEvidence"]
    # verify is read-only: the emulator saw nothing but reads.
    assert {r["method"] for r in run.kube_requests} <= {"GET"}
    # Each distinct role read once; one describe per relevant association.
    ops = [r["operation"] for r in run.aws_requests]
    assert ops.count("GetRole") == 1 and ops.count("DescribePodIdentityAssociation") == 1


def test_revision_hashed_service_account_without_runtime_config(aws, tmp_path):
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core()
    # Seed 003's association names the provider, but no DRC pins that name: the SA is the revision.
    c.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v1.21.0", env=None)
    c.provider_config("PodIdentity", api="aws.upbound.io", namespace=None, name="provider-aws-s3")
    c.role("crossplane-eu-west-1-s3-Role", POD_IDENTITY_TRUST).association("provider-aws-s3", "crossplane-eu-west-1-s3-Role")
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 1
    assert run.failing_checks() == {"podid.stable-sa-name"}
    assert run.status("podid.association", S3) == "skip"
    assert "blocked by podid.stable-sa-name" in run.finding("podid.association", S3)["message"]
    commands = " ".join(run.finding("podid.stable-sa-name", S3)["remediation"]["commands"])
    assert "DeploymentRuntimeConfig" in commands and "runtimeConfigRef" in commands


def test_association_created_after_the_pods(aws, tmp_path):
    c = Cluster().node("ip-10-0-1-10").node("ip-10-0-2-20", "b").agent().crossplane_core()
    c.s3_with_pinned_sa(association_created=AFTER_PODS, env=None)
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 1
    assert run.failing_checks() == {"podid.pods-current"}
    f = run.finding("podid.pods-current", S3)
    assert f["fixable"] is True
    assert any("rollout restart deployment/" in cmd for cmd in f["remediation"]["commands"])
    assert run.status("podid.injected", S3) == "skip"


def test_trust_policy_without_tag_session(aws, tmp_path):
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    run = run_verify(Cluster().pod_identity_seed(trust=trust), aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 1
    assert run.failing_checks() == {"podid.trust-policy"}
    commands = run.finding("podid.trust-policy", S3)["remediation"]["commands"]
    assert len(commands) == 1 and commands[0].startswith("aws iam update-assume-role-policy --role-name crossplane-provider-aws-pod-identity")
    document = json.loads(commands[0].split("--policy-document ", 1)[1].strip("'"))
    actions = document["Statement"][0]["Action"]
    assert set(actions) == {"sts:AssumeRole", "sts:TagSession"}


def test_agent_daemonset_missing(aws, tmp_path):
    c = Cluster().node("ip-10-0-1-10").crossplane_core()
    c.s3_with_pinned_sa()
    c.addon = None
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 1
    assert run.failing_checks() == {"eks.pod-identity-agent", "eks.pod-identity-addon"}
    assert "create-addon" in run.finding("eks.pod-identity-agent", S3)["remediation"]["commands"][0]


def test_agent_not_ready(aws, tmp_path):
    c = Cluster().pod_identity_seed()
    for obj in c.objects:
        if obj["kind"] == "DaemonSet":
            obj["status"]["numberReady"] = 1
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.failing_checks() == {"eks.pod-identity-agent"}
    assert "1/2" in run.finding("eks.pod-identity-agent", S3)["message"]


def test_subject_on_fargate_node(aws, tmp_path):
    c = Cluster().node("ip-10-0-1-10").agent().node("fargate-ip-10-0-9-9", "c", compute_type="fargate").crossplane_core()
    c.s3_with_pinned_sa(node="fargate-ip-10-0-9-9")
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.failing_checks() == {"eks.pod-identity-agent"}
    assert "fargate" in run.finding("eks.pod-identity-agent", S3)["message"]


def test_providerconfig_source_irsa_while_association_exists(aws, tmp_path):
    c = Cluster().pod_identity_seed()
    for obj in c.objects:
        if obj["kind"] == "ProviderConfig":
            obj["spec"]["credentials"]["source"] = "IRSA"
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 1
    assert run.failing_checks() == {"crossplane.providerconfig-source"}
    f = run.finding("crossplane.providerconfig-source", S3)
    assert f["fixable"] is True
    assert "PodIdentity" in f["remediation"]["commands"][0] and "providerconfigs.aws.m.upbound.io default -n default" in f["remediation"]["commands"][0]


def test_irsa_and_pod_identity_env_on_one_pod(aws, tmp_path):
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core()
    c.s3_with_pinned_sa(env="both")
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.failing_checks() == {"podid.irsa-shadowing"}
    assert "AWS_ROLE_ARN" in run.finding("podid.irsa-shadowing", S3)["message"]


def test_list_pods_forbidden_still_reports(aws, tmp_path):
    c = Cluster().pod_identity_seed().forbid("list", "pods", namespace=NS)
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 1
    assert run.report is not None
    access = [f for f in run.report["findings"] if f["check"] == "cluster.access" and f["status"] == "error"]
    assert len(access) == 1
    assert "list" in access[0]["message"] and "pods" in access[0]["message"] and NS in access[0]["message"]
    assert any("kubectl create role" in c for c in access[0]["remediation"]["commands"])
    assert run.status("podid.injected", S3) == "error"
    # The association and trust are still verified: one forbidden read does not hide the rest.
    assert run.status("podid.association", S3) == "pass"
    assert run.status("podid.trust-policy", S3) == "pass"


def test_no_cloud_makes_no_aws_calls(aws, tmp_path):
    run = run_verify(Cluster().pod_identity_seed(), aws, tmp_path, "-o", "json", "--no-cloud")
    assert run.proc.returncode == 0, run.proc.stdout
    assert run.aws_requests == []
    assert run.status("podid.association", S3) == "skip"
    assert "--no-cloud" in run.finding("podid.association", S3)["message"]
    assert run.status("podid.injected", S3) == "pass"


def test_aws_cli_missing_cluster_checks_still_run(aws, tmp_path):
    run = run_verify(Cluster().pod_identity_seed(), aws, tmp_path, "-o", "json", "--aws", str(tmp_path / "no-such-aws"))
    assert run.proc.returncode == 1
    assert run.status("podid.association", S3) == "error"
    assert "aws CLI not found" in run.finding("podid.association", S3)["message"]
    assert run.status("podid.injected", S3) == "pass"
    assert run.status("eks.pod-identity-agent", S3) == "pass"


def test_crossplane_not_installed(aws, tmp_path):
    c = Cluster().node("ip-10-0-1-10")
    c.crds = []
    run = run_verify(c, aws, tmp_path, "-o", "json")
    # A run that verified nothing must not pass a CI gate: exit 2, saying why.
    assert run.proc.returncode == 2, run.proc.stderr
    assert "Crossplane is not installed" in run.proc.stderr
    assert run.proc.stdout == ""


def test_unreachable_cluster_exits_2(aws, tmp_path):
    config = tmp_path / "dead-kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: http://127.0.0.1:9\n"
                      "contexts:\n- name: dead\n  context:\n    cluster: dead\n    user: dead\ncurrent-context: dead\n"
                      "users:\n- name: dead\n  user:\n    token: dummy\n")
    run = run_verify(Cluster(), aws, tmp_path, "-o", "json", "--request-timeout", "5s", kubeconfig=config)
    assert run.proc.returncode == 2
    assert "unreachable" in run.proc.stderr
    assert "Traceback" not in run.proc.stderr and "Fatal error" not in run.proc.stderr


def test_text_report_ascii_names_object_and_fix(aws, tmp_path):
    c = Cluster().pod_identity_seed()
    c.associations[0]["createdAt"] = AFTER_PODS
    run = run_verify(c, aws, tmp_path, "--no-color")
    assert run.proc.returncode == 1
    out = run.proc.stdout
    assert "[FAIL] podid.pods-current" in out
    assert "-> kubectl rollout restart deployment/provider-aws-s3-" in out and " -n crossplane-system --field-manager=kubectl-xpid" in out
    assert "[OK]   podid.association" in out
    assert "Summary:" in out and "1 failed" in out


def test_kubectl_calls_do_not_grow_with_providers(aws, tmp_path):
    counts = []
    for n in (1, 12):
        c = Cluster().pod_identity_seed()
        for i in range(n):
            c.provider(f"provider-aws-svc{i}", f"xpkg.upbound.io/upbound/provider-aws-svc{i}:v2.3.0", runtime_config="pod-identity-runtimeconfig",
                       service_account="provider-aws-pod-identity")
        sub = tmp_path / f"n{n}"
        sub.mkdir()
        run = run_verify(c, aws, sub, "-o", "json")
        assert run.report is not None
        counts.append(len(run.external_commands("kubectl")))
    assert counts[0] == counts[1] and counts[0] > 0, counts


def test_malformed_kubectl_output_is_an_unread_list_not_an_empty_one(aws, tmp_path):
    c = Cluster().pod_identity_seed()
    c.faults.append({"path_regex": r"^/api/v1/namespaces/crossplane-system/pods$", "method": "GET", "body": "__malformed__"})
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 1, run.proc.stderr
    errors = [f for f in run.report["findings"] if f["check"] == "cluster.access" and f["status"] == "error"]
    assert len(errors) == 1 and "pods" in errors[0]["message"] and "unexpected end of JSON input" in errors[0]["message"]
    assert run.status("podid.injected", S3) == "error"
    assert "Fatal error" not in run.proc.stderr


def test_server_error_on_one_list_is_reported_not_fatal(aws, tmp_path):
    c = Cluster().pod_identity_seed()
    c.faults.append({"path_regex": r"^/apis/pkg.crossplane.io/v1beta1/imageconfigs$", "method": "GET", "status": 500})
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.report is not None, run.proc.stderr
    errors = [f for f in run.report["findings"] if f["check"] == "cluster.access" and f["status"] == "error"]
    assert errors and "imageconfigs" in errors[0]["message"]
    assert run.status("podid.association", S3) == "pass"


def test_unauthorized_exits_2(aws, tmp_path):
    c = Cluster().pod_identity_seed()
    c.faults.append({"path_regex": r"^/api", "status": 401,
                     "body": {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401}})
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 2
    assert "not authenticated" in run.proc.stderr


def test_listing_providers_forbidden_exits_2_naming_the_permission(aws, tmp_path):
    c = Cluster().pod_identity_seed().forbid("list", "providers", group="pkg.crossplane.io")
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 2
    assert "cannot list providers.pkg.crossplane.io" in run.proc.stderr


def test_kube_system_pods_forbidden_only_affects_agent_coverage(aws, tmp_path):
    c = Cluster().pod_identity_seed().forbid("list", "pods", namespace="kube-system")
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.status("podid.injected", S3) == "pass"
    assert run.status("eks.pod-identity-agent", S3) == "pass"
    denied = [f for f in run.report["findings"] if f["check"] == "cluster.access" and f["status"] == "error"]
    assert len(denied) == 1 and "kube-system" in denied[0]["message"]


def test_deployments_forbidden_runtime_checks_error(aws, tmp_path):
    c = Cluster().pod_identity_seed().forbid("list", "deployments", group="apps")
    c.forbid("list", "pods", namespace=NS)
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 1
    assert run.status("podid.stable-sa-name", S3) == "error"
    assert "deployments.apps" in run.finding("podid.stable-sa-name", S3)["message"]


def test_seed_003_done_right_passes(aws, tmp_path):
    run = run_verify(Cluster(region="eu-west-1").seed_003(), aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 0, run.proc.stdout
    assert run.failing_checks() == set()
    assert run.status("crossplane.pod-identity-support", S3) == "pass"
    assert run.status("crossplane.providerconfig-source", S3) == "pass"
    subjects = {s["id"]: s for s in run.report["subjects"]}
    assert subjects["provider/provider-family-aws"]["method"] == "none"


def test_agent_pods_not_listed_uses_daemonset_status(aws, tmp_path):
    c = Cluster().pod_identity_seed()
    c.objects = [o for o in c.objects if not (o["kind"] == "Pod" and o["metadata"]["namespace"] == "kube-system")]
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.failing_checks() == set()
    assert run.status("eks.pod-identity-agent", S3) == "pass"


def test_server_without_aggregated_discovery_or_imageconfigs(aws, tmp_path):
    c = Cluster().pod_identity_seed()
    c.aggregated_discovery = False
    c.crds = [crd for crd in c.crds if crd["plural"] != "imageconfigs"]
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.proc.returncode == 0, run.proc.stderr
    assert run.failing_checks() == set()


def test_nodes_without_provider_ids_but_an_eks_context_is_aws(aws, tmp_path):
    c = Cluster().pod_identity_seed()
    for o in c.objects:
        if o["kind"] == "Node":
            o["spec"].pop("providerID", None)
            o["metadata"]["labels"] = {k: v for k, v in o["metadata"]["labels"].items() if not k.startswith("eks.amazonaws.com/")}
    run = run_verify(c, aws, tmp_path, "-o", "json")
    assert run.report["cluster"]["cloud"] == "aws"
    assert "EKS cluster ARN" in run.report["cluster"]["cloudEvidence"]
    assert run.proc.returncode == 0, run.proc.stdout
    assert run.status("podid.association", S3) == "pass"
