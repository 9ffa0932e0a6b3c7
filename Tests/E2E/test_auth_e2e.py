"""Authentication against an HTTPS API server (issue 7, item 9): a kubeconfig user with no
credentials makes kubectl print `Please enter Username: ` on stdout and exit 1 with `error: EOF`;
an anonymous user gets 403 on /api. Neither may be read as an empty, healthy cluster."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness import BIN, require_binary, xpid_env
from kube_emulator import KubeEmulator
from scenarios import Cluster


class NoCloud:
    """verify --no-cloud needs no AWS stand-in; the env builder only asks for its variables."""

    def env(self, inherit: bool = False) -> dict:
        return {}


def run(tmp_path: Path, command: str, *, auth: str, token: str | None, args: tuple = (), tls: bool = True) -> subprocess.CompletedProcess:
    require_binary()
    cluster = Cluster().pod_identity_seed()
    emulator = KubeEmulator(cluster.kube_scenario(), tls=tls, auth=auth, tokens=["good-token"])
    emulator.start()
    try:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        config = emulator.write_kubeconfig(str(tmp_path / "kubeconfig"), context=cluster.context, cluster_name=cluster.context,
                                           user_name="alice", token=token)
        env = xpid_env(NoCloud(), home, Path(config))
        return subprocess.run([str(BIN), command, "--no-cloud", *args], env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
    finally:
        emulator.stop()


@pytest.mark.parametrize("command", ["verify", "fix"])
def test_user_without_credentials_over_https_is_not_authenticated(tmp_path, command):
    proc = run(tmp_path, command, auth="token", token=None, args=("-o", "json"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "not authenticated" in proc.stderr, proc.stderr
    assert "Please enter" not in proc.stdout
    assert proc.stdout == "", "no report or plan for a cluster that was never read"


def test_anonymous_user_is_not_authenticated(tmp_path):
    # Over plain HTTP kubectl does not prompt: the server sees system:anonymous and answers 403 on /api.
    proc = run(tmp_path, "verify", auth="anonymous", token=None, tls=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "not authenticated" in proc.stderr and "system:anonymous" in proc.stderr, proc.stderr
    assert "memcache.go" not in proc.stderr


def test_a_valid_token_over_https_verifies(tmp_path):
    proc = run(tmp_path, "verify", auth="token", token="good-token", args=("-o", "json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert any(s["id"] == "provider/provider-aws-s3" for s in report["subjects"])
