"""What every end-to-end run of the built binary shares: where the binary is, an environment
that points the real kubectl, aws and az CLIs at the local stand-ins and nothing else (no
developer kubeconfig, no real AWS or Azure credentials, a private discovery cache), and the
reading of its JSON report (ReportView, and the free functions for a bare report)."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("XPID_BIN", ROOT / ".build" / "debug" / "kubectl-xpid"))


def require_binary() -> None:
    import pytest

    if not BIN.exists():
        pytest.fail(f"{BIN} does not exist: build it first (swift build) or set XPID_BIN", pytrace=False)


def require_az() -> str:
    """The az CLI the Azure tests drive ($XPID_TEST_AZ, else az on PATH); fails the test without one."""
    import pytest
    from azure_standin import find_az

    az = find_az()
    if not az:
        configured = os.environ.get("XPID_TEST_AZ")
        why = f"XPID_TEST_AZ={configured} is not executable" if configured else "XPID_TEST_AZ is not set and no az is on PATH"
        pytest.fail(f"no az CLI for the Azure stand-in tests: {why}. Tests/run-all installs azure-cli into "
                    f".venv-az/ and sets XPID_TEST_AZ; or run: python3 -m venv .venv-az && "
                    f".venv-az/bin/pip install azure-cli && export XPID_TEST_AZ=$PWD/.venv-az/bin/az", pytrace=False)
    return az


# Variables through which a developer's own cloud logins could reach a test run.
_CLOUD_PREFIXES = ("KUBE", "AWS_", "AZURE_", "MSI_", "IDENTITY_", "IMDS_", "CLOUDSDK_", "GOOGLE_", "GCE_")


def xpid_env(aws, home: Path, kubeconfig, *, azure=None, gcp=None) -> dict:
    """The process environment for kubectl-xpid: the AWS stand-in's variables (`aws` may be None),
    with `azure` the Azure stand-in's (a logged-in az config dir, its CA, its token endpoint,
    and PATH leading to the az under test), `gcp` the GCP stand-in's (endpoint overrides, an
    access token, a throwaway gcloud config dir, PATH leading to the gcloud under test), a
    private HOME and discovery cache (kubectl caches discovery per host:port, and ports are
    reused). KUBE*, AWS_*, AZURE_*, MSI_*, IDENTITY_*, IMDS_*, CLOUDSDK_*, GOOGLE_* and GCE_*
    variables of this process never reach it."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_CLOUD_PREFIXES)}
    if aws is not None:
        env.update(aws.env(inherit=False))
    if azure is not None:
        env.update(azure.env(inherit=False))
    if gcp is not None:
        gcp_env = gcp.env(inherit=False)
        # Its PATH leads with a directory holding only gcloud; keep whatever PATH the others set.
        gcp_env["PATH"] = gcp_env["PATH"].split(os.pathsep, 1)[0] + os.pathsep + env.get("PATH", os.defpath)
        env.update(gcp_env)
    env.update({"HOME": str(home), "KUBECACHEDIR": str(home / "kube-cache"), "KUBECONFIG": str(kubeconfig), "LANG": "C.UTF-8"})
    return env


def start_cluster(cluster, aws, home: Path, context: str | None = None):
    """Seeds the AWS stand-in with `cluster`'s cloud side and starts an emulator with its Kubernetes
    side; returns (emulator, environment, kubeconfig). The caller stops the emulator."""
    from aws_standin import seed
    from kube_emulator import KubeEmulator

    aws.reset()
    seed(aws, cluster.aws_spec())
    emulator = KubeEmulator(cluster.kube_scenario())
    emulator.start()
    home.mkdir(exist_ok=True)
    name = context or cluster.context
    config = Path(emulator.write_kubeconfig(str(home / "kubeconfig"), context=name, cluster_name=name, user_name=name))
    return emulator, xpid_env(aws, home, config), config


def require_gcloud() -> str:
    """The gcloud CLI the GCP tests drive ($XPID_TEST_GCLOUD, else gcloud on PATH); fails the test without one."""
    import pytest
    from gcp_standin import find_gcloud

    gcloud = find_gcloud()
    if not gcloud:
        configured = os.environ.get("XPID_TEST_GCLOUD")
        why = f"XPID_TEST_GCLOUD={configured} is not executable" if configured else \
            "XPID_TEST_GCLOUD is not set and no gcloud is on PATH"
        pytest.fail(f"no gcloud CLI for the GCP stand-in tests: {why}. Install the Google Cloud SDK "
                    f"(apt package google-cloud-cli) or set XPID_TEST_GCLOUD", pytrace=False)
    return gcloud


@contextmanager
def running_gcp():
    """The Google Cloud API stand-in, started for the real gcloud, stopped afterwards."""
    from gcp_standin import GCPStandIn

    gcp = GCPStandIn(gcloud=require_gcloud())
    gcp.start()
    try:
        yield gcp
    finally:
        gcp.stop()


@contextmanager
def running_azure(**standin):
    """The ARM stand-in, started and logged in with the real az (its constructor's `standin`
    arguments: tenant_id, subscriptions), stopped afterwards."""
    from azure_standin import AzureStandIn

    azure = AzureStandIn(az=require_az(), **standin)
    azure.start()
    try:
        azure.login()
        yield azure
    finally:
        azure.stop()


# ---- reading a `verify -o json` report ------------------------------------------------------

# Least to most severe; a (check, subject) with several findings has the most severe one's status.
STATUS_ORDER = ["pass", "skip", "warn", "fail", "error"]
FAILED = ("fail", "error")


def verbose_commands(stderr: str):
    """(tool, argv after argv[0], milliseconds) for each external command a `-v` run printed (`+ argv  (N ms)`)."""
    for line in stderr.splitlines():
        if not line.startswith("+ "):
            continue
        command, _, timing = line[2:].rpartition("  (")
        words = shlex.split(command or line[2:])
        if words:
            ms = int(timing.split(" ms", 1)[0]) if " ms" in timing and timing.split(" ms", 1)[0].isdigit() else 0
            yield os.path.basename(words[0]), words[1:], ms


def canonical_findings(findings: list) -> tuple:
    """A findings list in a canonical order (each finding as JSON with sorted keys), for comparing two runs."""
    return tuple(sorted(json.dumps(f, sort_keys=True) for f in findings))


def worst(findings: list) -> dict:
    """The most severe of `findings` (the first of equals)."""
    return max(findings, key=lambda f: STATUS_ORDER.index(f["status"]))


def pairs(report: dict, *statuses: str) -> set:
    """(check, subject) of every finding whose status is one of `statuses`."""
    return {(f["check"], f["subject"]) for f in report["findings"] if f["status"] in statuses}


def failing(report: dict) -> set:
    """(check, subject) of every fail/error finding."""
    return pairs(report, *FAILED)


def failing_statuses(report: dict) -> dict:
    """{(check, subject): status} of every fail/error finding."""
    return {(f["check"], f["subject"]): f["status"] for f in report["findings"] if f["status"] in FAILED}


def explain_report(report: dict, hide: tuple = ()) -> str:
    """The report's findings a line each (those whose status is in `hide` left out), for assertion messages."""
    return "\n".join(f"{f['status']:5} {f['check']:36} {f['subject']:40} {f['message']}" for f in report["findings"]
                     if f["status"] not in hide)


@dataclass
class ReportView:
    """One run of the binary and its JSON report (None when stdout held none), read by check and
    subject. Each e2e module's Run extends it with what it recorded around the run (requests,
    emulator handles). `subject` defaults to `default_subject` (None: it must be named)."""

    proc: subprocess.CompletedProcess
    report: dict | None

    # Class attributes (no annotation: not dataclass fields), for a subclass to set.
    default_subject = "cluster"
    explain_hides = ("pass",)  # the statuses explain() leaves out

    def need_report(self) -> dict:
        assert self.report is not None, (f"no JSON report (exit {self.proc.returncode})\nstdout: {self.proc.stdout}\n"
                                         f"stderr: {self.proc.stderr}")
        return self.report

    def _subject(self, subject: str | None) -> str:
        subject = subject if subject is not None else self.default_subject
        assert subject is not None, "name the subject: this run has no default subject"
        return subject

    def findings(self, check: str, subject: str | None = None) -> list:
        """Every finding of `check` on `subject`, in report order (possibly none)."""
        subject = self._subject(subject)
        return [f for f in self.need_report()["findings"] if f["check"] == check and f["subject"] == subject]

    def statuses(self, check: str, subject: str | None = None) -> list:
        return [f["status"] for f in self.findings(check, subject)]

    def finding(self, check: str, subject: str | None = None) -> dict:
        """The most severe finding of `check` on `subject`; fails naming the (check, subject) pairs there are."""
        found = self.findings(check, subject)
        assert found, (f"no finding for {check} on {self._subject(subject)}; have: "
                       f"{sorted({(f['check'], f['subject']) for f in self.report['findings']})}")
        return worst(found)

    def status(self, check: str, subject: str | None = None) -> str:
        """The most severe status of `check` on `subject`."""
        return self.finding(check, subject)["status"]

    def failing(self) -> set:
        """(check, subject) of every fail/error finding."""
        return failing(self.need_report())

    def failing_checks(self) -> set:
        """The checks with a fail/error finding on any subject."""
        return {check for check, _ in self.failing()}

    def warnings(self) -> set:
        """(check, subject) of every warn finding."""
        return pairs(self.need_report(), "warn")

    def subjects(self) -> dict:
        return {s["id"]: s for s in self.need_report()["subjects"]}

    def subject(self, subject_id: str) -> dict:
        found = [s for s in self.need_report()["subjects"] if s["id"] == subject_id]
        assert found, f"no subject {subject_id}; have: {sorted(s['id'] for s in self.report['subjects'])}"
        return found[0]

    def external_commands(self, tool: str) -> list:
        """The argv (after argv[0]) of each `tool` process a `-v` run printed, in the order they finished."""
        return [argv for name, argv, _ in verbose_commands(self.proc.stderr) if name == tool]

    def explain(self) -> str:
        """The report's findings (but `explain_hides`), or the output when there is no report."""
        if self.report is None:
            return self.proc.stdout + self.proc.stderr
        return explain_report(self.report, self.explain_hides)
