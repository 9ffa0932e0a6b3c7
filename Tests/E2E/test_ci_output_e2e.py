"""End to end: the CI outputs of `verify` and its snapshots, with the built binary.

- `-o sarif` on a broken example (manifests only, no kubeconfig): validated with the PyPI package
  sarif-pydantic and with explicit structural checks from the SARIF 2.1.0 specification.
- `-o junit` parsed with the PyPI package junitparser: its failures, errors and skipped counts are
  those of the JSON report of the same run.
- `--save-snapshot FILE` on a live run (the real kubectl against the API emulator, the real aws CLI
  against the AWS stand-in) of a cluster whose provider pod carries planted secrets: the secret is
  nowhere in FILE, FILE is mode 0600, and `--snapshot FILE` with no kubeconfig gives the same findings.

sarif-pydantic and junitparser are test dependencies (Tests/run-all installs them); without them the
tests fail, naming the install.
"""
from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import BIN, ROOT, require_binary, start_cluster  # noqa: E402
from scenarios import NS, Cluster  # noqa: E402

BROKEN_EXAMPLE = "examples/eks-irsa-private-ecr/broken"
KUSTOMIZED_EXAMPLE = "examples/flux/broken"

SARIF_LEVELS = {"none", "note", "warning", "error"}
SARIF_KINDS = {"pass", "open", "informational", "notApplicable", "review", "fail"}


def require_module(module: str, package: str):
    try:
        return __import__(module)
    except ImportError:
        pytest.fail(f"the Python module {module} is missing: pip install {package} "
                    f"(Tests/run-all installs it with the other test dependencies)", pytrace=False)


def offline_env(home: Path) -> dict:
    """No kubeconfig, no cloud login: KUBECONFIG unset, HOME a fresh directory."""
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("KUBE", "AWS_", "AZURE_", "CLOUDSDK_", "GOOGLE_", "XPID_"))}
    home.mkdir(parents=True, exist_ok=True)
    env.update({"HOME": str(home), "LANG": "C.UTF-8", "NO_COLOR": "1"})
    return env


def run_offline(tmp_path: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    require_binary()
    return subprocess.run([str(BIN), "verify", *args], env=offline_env(tmp_path / "home"), capture_output=True,
                          text=True, timeout=120, cwd=str(cwd))


# --------------------------------------------------------------------------- SARIF

def test_sarif_of_a_broken_example_is_valid_sarif_2_1_0(tmp_path):
    sarif_pydantic = require_module("sarif_pydantic", "sarif-pydantic")
    proc = run_offline(tmp_path, "-f", BROKEN_EXAMPLE, "-o", "sarif")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    log = json.loads(proc.stdout)

    # The schema's object model, by a third party.
    model = sarif_pydantic.Sarif.model_validate(log)
    assert model.version == "2.1.0"
    assert len(model.runs) == 1

    # §3.13: sarifLog.
    assert log["version"] == "2.1.0"
    assert isinstance(log.get("$schema"), str) and "sarif" in log["$schema"] and "2.1.0" in log["$schema"], log.get("$schema")
    run = log["runs"][0]
    # §3.18/§3.19: tool.driver with a name and its rules (reportingDescriptors, unique ids).
    driver = run["tool"]["driver"]
    assert driver["name"], driver
    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    assert ids and len(ids) == len(set(ids)), ids
    for rule in rules:
        level = rule.get("defaultConfiguration", {}).get("level")
        assert level is None or level in SARIF_LEVELS, rule
    # §3.27: results.
    results = run["results"]
    assert results
    uris = set()
    for result in results:
        rule_id = result["ruleId"]
        assert rule_id in ids, rule_id
        if "ruleIndex" in result:
            assert 0 <= result["ruleIndex"] < len(rules) and rules[result["ruleIndex"]]["id"] == rule_id, result
        assert result.get("level", "warning") in SARIF_LEVELS, result
        assert result.get("kind", "fail") in SARIF_KINDS, result
        # §3.27.9: level must be "none" unless kind is "fail".
        if result.get("kind", "fail") != "fail":
            assert result.get("level", "none") == "none", result
        assert result["message"]["text"].strip(), result
        subject = (result.get("properties") or {}).get("subject")
        physical = [loc["physicalLocation"] for loc in result.get("locations", []) if "physicalLocation" in loc]
        if subject and subject != "cluster":
            # A subject defined in a file: a relative artifact URI and a 1-based start line.
            assert physical, f"{rule_id} on {subject} has no physical location"
        for loc in physical:
            uri = loc["artifactLocation"]["uri"]
            assert "://" not in uri and not uri.startswith("/"), f"not a relative URI: {uri}"
            assert loc["region"]["startLine"] >= 1, loc
            uris.add(uri)
    assert uris == {f"{BROKEN_EXAMPLE}/crossplane.yaml", f"{BROKEN_EXAMPLE}/providers.yaml"}, uris
    for uri in uris:
        assert (ROOT / uri).is_file(), uri

    # The failures are the JSON report's.
    report = json.loads(run_offline(tmp_path, "-f", BROKEN_EXAMPLE, "-o", "json").stdout)
    failed_json = sorted((f["check"], f["subject"]) for f in report["findings"] if f["status"] in ("fail", "error"))
    failed_sarif = sorted((r["ruleId"], r["properties"]["subject"]) for r in results if r.get("kind") == "fail")
    assert failed_sarif == failed_json
    assert len(results) == len(report["findings"])


def test_sarif_locations_of_a_kustomization(tmp_path):
    """A rendered kustomization still gives every file-defined result a physical location with a
    relative URI and a start line (the binary names the rendered output, not a source file)."""
    require_module("sarif_pydantic", "sarif-pydantic")
    proc = run_offline(tmp_path, "-f", KUSTOMIZED_EXAMPLE, "-o", "sarif")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["runs"][0]["results"]
    for result in results:
        subject = result["properties"].get("subject")
        if subject and subject != "cluster":
            loc = result["locations"][0]["physicalLocation"]
            assert loc["artifactLocation"]["uri"].startswith(KUSTOMIZED_EXAMPLE), loc
            assert loc["region"]["startLine"] >= 1, loc


# --------------------------------------------------------------------------- JUnit

@pytest.mark.parametrize("example", [BROKEN_EXAMPLE, KUSTOMIZED_EXAMPLE, "examples/eks-pod-identity/fixed"])
def test_junit_counts_are_the_json_report_statuses(example, tmp_path):
    junitparser = require_module("junitparser", "junitparser")
    proc = run_offline(tmp_path, "-f", example, "-o", "junit")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    xml_path = tmp_path / "report.xml"
    xml_path.write_text(proc.stdout)
    report = json.loads(run_offline(tmp_path, "-f", example, "-o", "json").stdout)
    statuses = [f["status"] for f in report["findings"]]

    xml = junitparser.JUnitXml.fromfile(str(xml_path))
    suites = list(xml) if isinstance(xml, junitparser.JUnitXml) else [xml]
    cases = [case for suite in suites for case in suite]
    assert len(cases) == len(statuses)

    def count(kind) -> int:
        return sum(1 for case in cases if any(isinstance(r, kind) for r in case.result))

    # Default --fail-on fail: a warn is a passing testcase.
    assert count(junitparser.Failure) == statuses.count("fail")
    assert count(junitparser.Error) == statuses.count("error")
    assert count(junitparser.Skipped) == statuses.count("skip")
    # The suite totals the XML declares agree with its testcases.
    assert sum(s.failures for s in suites) == statuses.count("fail")
    assert sum(s.errors for s in suites) == statuses.count("error")
    assert sum(s.skipped for s in suites) == statuses.count("skip")
    assert sum(s.tests for s in suites) == len(statuses)
    # One suite per subject, one case per finding.
    assert sorted(s.name for s in suites) == sorted({f["subject"] for f in report["findings"]})
    for suite in suites:
        names = sorted(case.name for case in suite)
        assert names == sorted(f["check"] for f in report["findings"] if f["subject"] == suite.name), suite.name


def test_junit_warn_is_a_failure_only_with_fail_on_warn(tmp_path):
    junitparser = require_module("junitparser", "junitparser")
    example = "examples/eks-pod-identity/fixed"  # podid.shared-sa warns
    report = json.loads(run_offline(tmp_path, "-f", example, "-o", "json").stdout)
    warns = sum(1 for f in report["findings"] if f["status"] == "warn")
    fails = sum(1 for f in report["findings"] if f["status"] == "fail")
    assert warns >= 1
    proc = run_offline(tmp_path, "-f", example, "-o", "junit", "--fail-on", "warn")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (tmp_path / "warn.xml").write_text(proc.stdout)
    xml = junitparser.JUnitXml.fromfile(str(tmp_path / "warn.xml"))
    suites = list(xml) if isinstance(xml, junitparser.JUnitXml) else [xml]
    failures = sum(1 for s in suites for c in s if any(isinstance(r, junitparser.Failure) for r in c.result))
    assert failures == warns + fails


# --------------------------------------------------------------------------- snapshots

SECRET = "hunter2-planted"


def planted_cluster() -> Cluster:
    """Seed 002 done right, with secrets the provider's pod (and its Deployment's template) carries:
    an env value, a container argument and a last-applied-configuration annotation holding both."""
    cluster = Cluster().pod_identity_seed()
    last_applied = json.dumps({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{
        "name": "package-runtime", "args": [f"--password={SECRET}"], "env": [{"name": "DB_PASSWORD", "value": SECRET}]}]}})
    planted = 0
    for obj in cluster.objects:
        if obj["kind"] not in ("Pod", "Deployment") or obj["metadata"].get("namespace") != NS:
            continue
        if not obj["metadata"]["name"].startswith("provider-aws-s3"):
            continue
        spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
        for container in spec["containers"]:
            container.setdefault("env", []).append({"name": "DB_PASSWORD", "value": SECRET})
            container["args"] = ["--debug", f"--password={SECRET}"]
        obj["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = last_applied
        planted += 1
    assert planted == 2, "the provider's Pod and Deployment were not found"
    return cluster


def findings_key(report: dict) -> list:
    return sorted((f["check"], f["subject"], f["status"], f["message"]) for f in report["findings"])


def test_snapshot_holds_no_secret_and_replays_the_same_findings(aws, tmp_path):
    emulator, env, kubeconfig = start_cluster(planted_cluster(), aws, tmp_path / "home")
    snapshot = tmp_path / "cluster.snapshot"
    try:
        # The secret really is in what kubectl reads from the cluster.
        pods = subprocess.run(["kubectl", "get", "pods", "-n", NS, "-o", "json"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert pods.returncode == 0, pods.stderr
        assert pods.stdout.count(SECRET) >= 3, "the planted secret is not in the emulator's pods"
        live = subprocess.run([str(BIN), "verify", "-o", "json", "--save-snapshot", str(snapshot)], env=env,
                              capture_output=True, text=True, timeout=180)
    finally:
        emulator.stop()
    assert live.returncode == 0, live.stdout + live.stderr
    live_report = json.loads(live.stdout)

    text = snapshot.read_text()
    raw = snapshot.read_bytes()
    for form in (SECRET, base64.b64encode(SECRET.encode()).decode(), json.dumps(SECRET)[1:-1]):
        assert form not in text, f"{form!r} is in the snapshot"
    assert SECRET.encode() not in raw
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600, oct(snapshot.stat().st_mode)
    # The snapshot did record the pods (the redaction, not an omission, keeps the secret out).
    assert "DB_PASSWORD" in text and "provider-aws-s3" in text

    # Replay with no kubeconfig, no cluster (it is stopped) and no cloud login.
    replay_env = offline_env(tmp_path / "replay-home")
    replay = subprocess.run([str(BIN), "verify", "-o", "json", "--snapshot", str(snapshot)], env=replay_env,
                            capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert replay.returncode == live.returncode, replay.stdout + replay.stderr
    replay_report = json.loads(replay.stdout)
    assert findings_key(replay_report) == findings_key(live_report)
    assert replay_report["cluster"] == live_report["cluster"]
    assert SECRET not in replay.stdout + replay.stderr
