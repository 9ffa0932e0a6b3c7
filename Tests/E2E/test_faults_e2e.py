"""End to end, faults (issue 7): interrupts, timeouts, empty output, unread objects, errors that must
name their cause, and the field manager of every write. The built binary runs with the real kubectl
against the emulator (and the real aws CLI against moto + the stand-in); faults come from the
emulator's fault list or from a `--kubectl` wrapper script that runs the real kubectl except for the
one call it breaks. Every wrapper records the PIDs of what it starts, so the tests can tell whether
kubectl-xpid left processes behind; a test kills (by PID) whatever it finds still running.

Time bounds are hang bounds only: a 5 s `--timeout` must end the run well within 30 s (the bug
made it take 60 s).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import BIN, start_cluster, xpid_env  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from scenarios import AFTER_PODS, NS, Cluster  # noqa: E402

REAL_KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
ROLE = "arn:aws:iam::123456789012:role/CrossplaneECRRole"
KLOG_PREFIX = re.compile(r"(^|\n)\s*[IWEF]\d{4} \d\d:\d\d:\d\d")
EKS_CHECK = re.compile(r"^(eks|podid|irsa)\.")


@dataclass
class Session:
    emulator: KubeEmulator
    env: dict
    home: Path
    kubeconfig: Path
    started: list = field(default_factory=list)

    def run(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN), *args], env=self.env, cwd=self.home, capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen:
        """kubectl-xpid in its own session, so a signal sent to it reaches nothing else."""
        proc = subprocess.Popen([str(BIN), *args], env=self.env, cwd=self.home, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        self.started.append(proc)
        return proc

    def writes(self) -> list:
        return [r for r in self.emulator.requests if r["method"] not in ("GET", "HEAD")]


@pytest.fixture
def session(aws, tmp_path):
    sessions: list = []

    def start(cluster: Cluster, *, context: str | None = None) -> Session:
        home = tmp_path / f"home{len(sessions)}"
        emulator, env, config = start_cluster(cluster, aws, home, context)
        s = Session(emulator, env, home, config)
        sessions.append(s)
        return s

    yield start
    for s in sessions:
        for proc in s.started:  # kubectl-xpid runs this test started
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        s.emulator.stop()
    for pid in recorded_pids(tmp_path):  # what the wrappers of this test started
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ---- wrappers --------------------------------------------------------------------------------

def wrapper(tmp_path: Path, name: str, condition: str, action: str) -> Path:
    """A `--kubectl` stand-in: when the bash `condition` on " $* " holds, do `action`; else exec the
    real kubectl. The wrapper appends its PID to `pids`; `sleeper N` runs (not execs) a child that
    appends its own PID and sleeps N seconds with default SIGINT/SIGTERM handling (a background job
    of a script would otherwise ignore SIGINT)."""
    pids = tmp_path / "pids"
    code = ("import os, signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_DFL); "
            "signal.signal(signal.SIGTERM, signal.SIG_DFL); open(sys.argv[1], 'a').write(str(os.getpid()) + chr(10)); "
            "time.sleep(float(sys.argv[2]))")
    script = tmp_path / name
    script.write_text(f"""#!/bin/bash
PIDS={pids}
sleeper() {{ {sys.executable} -c "{code}" "$PIDS" "$1"; }}
args=" $* "
if {condition}; then
  echo $$ >> "$PIDS"
  {action}
fi
exec {REAL_KUBECTL} "$@"
""")
    script.chmod(0o755)
    return script


def recorded_pids(tmp_path: Path) -> list:
    path = tmp_path / "pids"
    if not path.exists():
        return []
    return [int(x) for x in path.read_text().split() if x.strip().isdigit()]


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (an orphan whose parent is gone may wait
    to be reaped by PID 1; it runs nothing any more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(predicate, seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def survivors(tmp_path: Path, grace: float = 5) -> list:
    """Recorded PIDs still running after a short grace (kubectl-xpid may reap them as it exits)."""
    wait_for(lambda: not [p for p in recorded_pids(tmp_path) if alive(p)], grace)
    return [p for p in recorded_pids(tmp_path) if alive(p)]


# ---- scenarios --------------------------------------------------------------------------------

def strip_pod_identity_env(c: Cluster, provider: str) -> None:
    for o in c.objects:
        if o["kind"] == "Pod" and o["metadata"].get("labels", {}).get("pkg.crossplane.io/provider") == provider:
            container = o["spec"]["containers"][0]
            container["env"] = [e for e in container["env"] if not e["name"].startswith("AWS_")]
            container.pop("volumeMounts", None)
            o["spec"]["volumes"] = []


def stale_two_providers() -> Cluster:
    """Pod Identity for provider-aws-s3 and provider-aws-ec2, both associations made after their pods
    (two restarts), and the ProviderConfig on the wrong source (one patch first)."""
    c = Cluster().pod_identity_seed()
    c.associations[0]["createdAt"] = AFTER_PODS
    c.drc("ec2-runtimeconfig", sa_name="provider-aws-ec2")
    c.provider("provider-aws-ec2", "xpkg.upbound.io/upbound/provider-aws-ec2:v2.3.0", runtime_config="ec2-runtimeconfig",
               service_account="provider-aws-ec2", env=None)
    c.association("provider-aws-ec2", "crossplane-provider-aws-pod-identity", created_at=AFTER_PODS)
    strip_pod_identity_env(c, "provider-aws-s3")
    for o in c.objects:
        if o["kind"] == "ProviderConfig":
            o["spec"]["credentials"]["source"] = "IRSA"
    return c


def unknown_cloud_cluster() -> Cluster:
    """kind-like: nodes without providerID or EKS labels, a plain context name."""
    c = Cluster()
    c.objects.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "kind-control-plane", "labels": {
        "kubernetes.io/os": "linux", "kubernetes.io/hostname": "kind-control-plane"}}, "spec": {}, "status": {}})
    c.nodes.append("kind-control-plane")
    c.crossplane_core()
    c.s3_with_pinned_sa(env=None)
    c.irsa_provider("provider-aws-ec2", "xpkg.upbound.io/upbound/provider-aws-ec2:v2.3.0")
    return c


def core_without_identity() -> Cluster:
    """Crossplane (not Helm-managed) pulling a provider from private ECR, no role annotation yet."""
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core(helm=False)
    c.provider("provider-aws-s3", c.ecr("crossplane/provider-aws-s3:v1.2.0"), env=None)
    return c


def pod_identity_shadowed() -> Cluster:
    """Pod Identity whose ServiceAccount and DRC still carry an IRSA role annotation."""
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core()
    c.drc("pod-identity-runtimeconfig", sa_name="provider-aws-pod-identity",
          sa_annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/old-irsa-role"})
    c.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", runtime_config="pod-identity-runtimeconfig",
               service_account="provider-aws-pod-identity", env="both")
    c.provider_config("PodIdentity").role("pi-role", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
    return c.association("provider-aws-pod-identity", "pi-role")


def no_stable_name() -> Cluster:
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core()
    c.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", env=None)
    return c.provider_config("PodIdentity")


# ---- D: interrupts --------------------------------------------------------------------------------

def summary_lines(text: str, label: str) -> list:
    return [line.strip() for line in text.splitlines() if line.strip().lower().startswith(label)]


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_interrupted_fix_stops_its_children_and_says_what_was_applied(session, tmp_path, sig, code):
    """`fix --yes --restart` interrupted while it waits for a rollout: the waiting kubectl (and what it
    started) is stopped, the summary says interrupted, what was applied, what was in flight and what
    was not applied, and the exit code is 128 + the signal."""
    s = session(stale_two_providers())
    plan = json.loads(s.run("fix", "--restart", "-o", "json").stdout)
    changes = [a for a in plan["actions"] if a["kind"] != "cloud"]
    restarts = [a for a in changes if a["kind"] == "restart"]
    assert len(changes) == 3 and len(restarts) == 2 and changes[0]["kind"] == "change", plan
    kubectl = wrapper(tmp_path, "kubectl-slow-rollout", '[[ "$args" == *" rollout "* && "$args" == *" status "* ]]',
                      "sleeper 30; exit 0")
    s.emulator.reset_requests()
    proc = s.start("fix", "--yes", "--restart", "--kubectl", str(kubectl))

    def restart_sent_and_waiting() -> bool:
        patched = [w for w in s.writes() if "/deployments/" in w["path"] and w["method"] == "PATCH"]
        return bool(patched) and len(recorded_pids(tmp_path)) >= 2

    assert wait_for(restart_sent_and_waiting, 120), (proc.poll(), s.writes(), recorded_pids(tmp_path))
    in_flight_pids = [p for p in recorded_pids(tmp_path) if alive(p)]
    assert in_flight_pids, "the slow rollout status is not running"
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"kubectl-xpid still running 30 s after {sig.name}")
    text = out + err
    left = survivors(tmp_path)
    assert proc.returncode == code, (proc.returncode, text[-3000:])
    assert not left, f"processes left running after {sig.name}: {left}"

    patched = [w["path"].rsplit("/", 1)[1] for w in s.writes() if "/deployments/" in w["path"] and w["method"] == "PATCH"]
    assert len(patched) == 1, patched
    flying = next(a for a in restarts if any(word.endswith("/" + patched[0]) for word in a["command"]))
    waiting = next(a for a in restarts if a is not flying)
    assert "interrupted" in text.lower(), text[-3000:]
    applied, in_flight, not_applied = (summary_lines(text, label) for label in ("applied:", "in flight:", "not applied:"))
    assert any(re.search(rf"\b{changes[0]['id']}\b", line) for line in applied), (applied, text[-3000:])
    assert any(re.search(rf"\b{flying['id']}\b", line) for line in in_flight), (in_flight, text[-3000:])
    assert any(re.search(rf"\b{waiting['id']}\b", line) for line in not_applied), (not_applied, text[-3000:])
    assert not any(re.search(rf"\b{waiting['id']}\b", line) for line in applied + in_flight)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_interrupted_verify_leaves_no_child(session, tmp_path, sig, code):
    s = session(Cluster().pod_identity_seed())
    kubectl = wrapper(tmp_path, "kubectl-slow-get", '[[ "$args" == *" get "* ]]', "sleeper 30; exit 0")
    proc = s.start("verify", "--no-cloud", "--kubectl", str(kubectl))
    assert wait_for(lambda: len(recorded_pids(tmp_path)) >= 2, 60), (proc.poll(), recorded_pids(tmp_path))
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"kubectl-xpid verify still running 30 s after {sig.name}")
    left = survivors(tmp_path)
    assert proc.returncode == code, (proc.returncode, out[-1500:], err[-1500:])
    assert not left, f"processes left running after {sig.name}: {left}"


# ---- E: --timeout -------------------------------------------------------------------------------

@pytest.mark.parametrize("action", [
    "sleeper 60; exit 0",  # does not exec: the real work is a child of the wrapper
    "sleeper 60 & wait; exit 0",  # a background grandchild the wrapper waits for
], ids=["no-exec", "background"])
def test_timeout_ends_the_run_and_kills_grandchildren(session, tmp_path, action):
    s = session(Cluster().pod_identity_seed())
    kubectl = wrapper(tmp_path, "kubectl-hang", '[[ "$args" == *" get "* ]]', action)
    started = time.monotonic()
    proc = s.start("verify", "--no-cloud", "--timeout", "5s", "--kubectl", str(kubectl))
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    elapsed = time.monotonic() - started
    left = survivors(tmp_path)
    assert elapsed < 30, f"--timeout 5s: the run took {elapsed:.0f} s"
    assert proc.returncode == 2, (proc.returncode, err[-2000:])
    assert "timed out" in err and "--timeout 5s" in err, err[-2000:]
    assert not left, f"processes left running after the timeout: {left}"


# ---- F: no silent success -----------------------------------------------------------------------

def test_batched_get_that_prints_nothing_is_an_error(session, tmp_path):
    s = session(Cluster().pod_identity_seed())
    kubectl = wrapper(tmp_path, "kubectl-empty-get", '[[ "$args" == *" get "* && "$args" == *" -o json "* ]]', "exit 0")
    run = s.run("verify", "--no-cloud", "-o", "json", "--kubectl", str(kubectl))
    assert run.returncode == 2, (run.returncode, run.stdout[-2000:], run.stderr[-2000:])
    assert "kubectl" in run.stderr and "get" in run.stderr, run.stderr


@pytest.mark.parametrize("what, condition", [
    ("api-resources", '[[ "$args" == *" api-resources "* ]]'),
    ("config view", '[[ "$args" == *" config "* && "$args" == *" view "* ]]'),
], ids=["api-resources", "config-view"])
def test_discovery_that_prints_nothing_is_an_error(session, tmp_path, what, condition):
    s = session(Cluster().pod_identity_seed())
    kubectl = wrapper(tmp_path, "kubectl-empty", condition, "exit 0")
    run = s.run("verify", "--no-cloud", "-o", "json", "--kubectl", str(kubectl))
    assert run.returncode == 2, (run.returncode, run.stdout[-2000:], run.stderr[-2000:])
    assert all(word in run.stderr for word in what.split()), run.stderr


def test_cluster_without_crossplane_exits_2(session):
    c = Cluster().node("ip-10-0-1-10")
    c.crds = []
    run = session(c).run("verify", "--no-cloud")
    assert run.returncode == 2, (run.returncode, run.stdout[-2000:], run.stderr[-2000:])
    assert "crossplane" in run.stderr.lower() and "not installed" in run.stderr.lower(), run.stderr


def test_subject_that_matches_nothing_is_a_usage_error(session):
    run = session(Cluster().pod_identity_seed()).run("verify", "--no-cloud", "--subject", "nosuch")
    assert run.returncode == 64, (run.returncode, run.stdout[-2000:], run.stderr[-2000:])
    assert "--subject" in run.stderr and "nosuch" in run.stderr, run.stderr


def test_method_without_checks_is_a_usage_error(session):
    c = Cluster().pod_identity_seed()
    c.associations[0]["createdAt"] = AFTER_PODS  # a failing cluster: --method must not hide the failure
    run = session(c).run("verify", "--method", "none")
    assert run.returncode == 64, (run.returncode, run.stdout[-2000:], run.stderr[-2000:])
    assert "--method" in run.stderr, run.stderr


# ---- G: unread is error, never absent, fail or pass -------------------------------------------------

def report_of(run: subprocess.CompletedProcess) -> dict:
    assert run.stdout.lstrip().startswith("{"), (run.returncode, run.stderr[-2000:])
    return json.loads(run.stdout)


def test_cloud_forced_to_azure_skips_eks_checks_on_an_eks_cluster(session):
    c = Cluster().irsa_and_pod_identity()
    run = session(c).run("verify", "-o", "json", "--cloud", "azure")
    report = report_of(run)
    eks = [f for f in report["findings"] if EKS_CHECK.match(f["check"])]
    wrong = [(f["check"], f["subject"], f["status"], f["message"]) for f in eks
             if f["status"] != "skip" or not re.search(r"EKS|cloud", f["message"])]
    assert not wrong, wrong


def test_unknown_cloud_skips_eks_checks_and_does_not_pass_the_cloud(session):
    run = session(unknown_cloud_cluster(), context="kind-kind").run("verify", "-o", "json")
    report = report_of(run)
    eks = [f for f in report["findings"] if EKS_CHECK.match(f["check"])]
    wrong = [(f["check"], f["subject"], f["status"], f["message"]) for f in eks if f["status"] != "skip"]
    assert not wrong, wrong
    cloud = [f for f in report["findings"] if f["check"] == "cluster.cloud"]
    assert cloud and all(f["status"] != "pass" for f in cloud), cloud
    commands = [cmd for f in report["findings"] if f.get("remediation") for cmd in f["remediation"]["commands"]]
    assert not [cmd for cmd in commands if re.search(r"<[A-Z_]+>", cmd)], commands


def test_pods_forbidden_makes_the_pod_checks_error_not_skip(session):
    c = Cluster().irsa_and_pod_identity().forbid("list", "pods", namespace=NS)
    report = report_of(session(c).run("verify", "-o", "json"))
    expected = {("podid.pods-current", "provider/provider-aws-ec2"), ("podid.injected", "provider/provider-aws-ec2"),
                ("irsa.pods-current", "provider/provider-aws-s3"), ("irsa.injected", "provider/provider-aws-s3")}
    got = {(f["check"], f["subject"]): f for f in report["findings"] if (f["check"], f["subject"]) in expected}
    assert set(got) == expected, sorted(got)
    wrong = [(k, f["status"], f["message"]) for k, f in got.items()
             if f["status"] != "error" or "pods" not in f["message"] or "list" not in f["message"]]
    assert not wrong, wrong


@pytest.mark.parametrize("fault", ["500", "timeout"])
def test_failed_deployments_read_keeps_the_crossplane_core_subject(session, fault):
    c = Cluster().irsa_core_seed()
    args = ["verify", "-o", "json", "--no-cloud"]
    if fault == "500":
        c.faults.append({"path_regex": r"^/apis/apps/v1/deployments$", "method": "GET", "status": 500})
    else:
        c.faults.append({"path_regex": r"^/apis/apps/v1/deployments$", "method": "GET", "delay_ms": 8000})
        args += ["--request-timeout", "2s"]
    report = report_of(session(c).run(*args))
    subjects = [s["id"] for s in report["subjects"]]
    assert "crossplane-core/crossplane" in subjects, subjects
    core = [f for f in report["findings"] if f["subject"] == "crossplane-core/crossplane"]
    assert any(f["status"] == "error" for f in core), [(f["check"], f["status"], f["message"]) for f in core]


# ---- H: errors name the cause -----------------------------------------------------------------------

def test_missing_kubeconfig_file_is_named(session, tmp_path):
    s = session(Cluster().pod_identity_seed())
    missing = str(tmp_path / "nonexistent" / "config")
    run = s.run("verify", "--no-cloud", "--kubeconfig", missing)
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert missing in run.stderr and "does not exist" in run.stderr, run.stderr
    assert "current-context must exist" not in run.stderr, run.stderr


def test_kubectl_path_that_is_a_directory_is_named(session, tmp_path):
    directory = tmp_path / "not-a-program"
    directory.mkdir()
    run = session(Cluster().pod_identity_seed()).run("verify", "--no-cloud", "--kubectl", str(directory))
    assert run.returncode in (2, 64), (run.returncode, run.stderr)
    assert "directory" in run.stderr or "not executable" in run.stderr, run.stderr
    assert "doesn't exist" not in run.stderr, run.stderr


def test_unreachable_server_is_said_without_kubectl_log_prefixes(aws, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "dead-kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n"
                      f"    server: http://127.0.0.1:{port}\n"
                      "contexts:\n- name: dead\n  context:\n    cluster: dead\n    user: dead\ncurrent-context: dead\n"
                      "users:\n- name: dead\n  user:\n    token: dummy\n")
    home = tmp_path / "home"
    home.mkdir()
    run = subprocess.run([str(BIN), "verify", "--no-cloud", "--request-timeout", "5s"], env=xpid_env(aws, home, config),
                         cwd=home, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert "unreachable" in run.stderr, run.stderr
    assert not KLOG_PREFIX.search(run.stderr) and "memcache.go" not in run.stderr, run.stderr


# ---- I: every write names its field manager ----------------------------------------------------------

@pytest.mark.parametrize("build, args, expected", [
    (core_without_identity, ["--restart", "--role-arn", ROLE],
     [("PATCH", f"/api/v1/namespaces/{NS}/serviceaccounts/crossplane"), ("PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/crossplane")]),
    (stale_two_providers, ["--restart"],
     [("PATCH", "/apis/aws.m.upbound.io/v1beta1/namespaces/default/providerconfigs/default"),
      ("PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/")]),
    (pod_identity_shadowed, ["--restart"],
     [("PATCH", "/apis/pkg.crossplane.io/v1beta1/deploymentruntimeconfigs/pod-identity-runtimeconfig"),
      ("PATCH", f"/api/v1/namespaces/{NS}/serviceaccounts/provider-aws-pod-identity")]),
    (no_stable_name, [],
     [("PATCH", "/apis/pkg.crossplane.io/v1beta1/deploymentruntimeconfigs/provider-aws-s3-runtime"),
      ("PATCH", "/apis/pkg.crossplane.io/v1/providers/provider-aws-s3")]),
], ids=["annotate-and-restart", "patch-and-restart", "annotation-removal", "apply-and-patch"])
def test_every_write_names_the_kubectl_xpid_field_manager(session, build, args, expected):
    s = session(build())
    s.emulator.reset_requests()
    run = s.run("fix", "--yes", *args)
    writes = [w for w in s.writes() if w["method"] in ("POST", "PUT", "PATCH")]
    for method, prefix in expected:
        assert any(w["method"] == method and w["path"].startswith(prefix) for w in writes), \
            (method, prefix, [(w["method"], w["path"]) for w in writes], run.stdout[-2000:], run.stderr[-2000:])
    wrong = [(w["method"], w["path"], w["query"].get("fieldManager")) for w in writes if w["query"].get("fieldManager") != "kubectl-xpid"]
    assert not wrong, wrong
