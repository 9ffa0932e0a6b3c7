"""Packaging: the krew manifest, the kubectl completion shim, and the README's set-up
command, checked against the built binary (these are what a user meets first)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

from harness import BIN, ROOT



def tool_version() -> str:
    out = subprocess.run([str(BIN), "version"], capture_output=True, text=True, check=True).stdout
    return out.split()[-1]


def test_krew_manifest_is_complete():
    manifest = yaml.safe_load((ROOT / "plugin.yaml").read_text())
    assert manifest["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert manifest["kind"] == "Plugin"
    assert manifest["metadata"]["name"] == "xpid"
    spec = manifest["spec"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", spec["version"])
    assert spec["version"] == "v" + tool_version(), "plugin.yaml version must match `kubectl xpid version`"
    assert 0 < len(spec["shortDescription"]) <= 80
    assert spec["description"].strip()
    for tool in ("kubectl", "aws", "az", "gcloud"):
        assert tool in spec["caveats"], tool
    seen = set()
    for platform in spec["platforms"]:
        labels = platform["selector"]["matchLabels"]
        seen.add((labels["os"], labels["arch"]))
        assert platform["uri"].startswith("https://") and platform["uri"].endswith(".tar.gz")
        assert spec["version"] in platform["uri"]
        assert f"{labels['os']}_{labels['arch']}" in platform["uri"]
        assert re.fullmatch(r"[0-9a-f]{64}", platform["sha256"])
        assert platform["bin"] == "kubectl-xpid"
    assert seen == {("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")}


def test_kubectl_completion_shim_completes_through_the_binary(tmp_path):
    shim = ROOT / "completions" / "kubectl_complete-xpid"
    assert os.access(shim, os.X_OK)
    link = tmp_path / "kubectl-xpid"
    link.symlink_to(BIN)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    out = subprocess.run([str(shim), "verify", "--cl"], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines() == ["--cluster", "--cloud", "--cluster-name", ":4"]
    out = subprocess.run([str(shim), "explain", "podid.tr"], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines() == ["podid.trust-policy", ":4"]


def test_readme_names_the_set_up_and_test_commands_that_ci_runs():
    readme = (ROOT / "README.md").read_text()
    head = readme[: readme.index("## What a report looks like")]
    assert "\n.dev/setup\n" in head
    assert "\nTests/run-all\n" in head
    assert "Tests/run-all" in (ROOT / ".ci" / "run").read_text()


def test_set_up_command_installs_a_working_plugin(tmp_path):
    env = {**os.environ, "PREFIX": str(tmp_path)}
    proc = subprocess.run([str(ROOT / ".dev" / "setup")], capture_output=True, text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = tmp_path / "bin" / "kubectl-xpid"
    assert (tmp_path / "bin" / "kubectl_complete-xpid").exists()
    out = subprocess.run([str(installed), "version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"kubectl-xpid {tool_version()}"
    # kubectl finds plugins on PATH: `kubectl xpid version` must run it.
    kenv = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    via_kubectl = subprocess.run(["kubectl", "xpid", "version"], capture_output=True, text=True, env=kenv)
    assert via_kubectl.returncode == 0, via_kubectl.stderr
    assert via_kubectl.stdout.strip() == out.strip()
