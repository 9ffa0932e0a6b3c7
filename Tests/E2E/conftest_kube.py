"""Shared pytest helpers for driving the real kubectl against kube_emulator.

Import the fixtures into a test module with `from conftest_kube import kube, Kube`.
Each emulator gets its own kubeconfig, HOME and discovery cache, because kubectl
caches discovery per host:port and ports are reused between tests.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from kube_emulator import KubeEmulator

KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")
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
        return subprocess.run([KUBECTL, "--kubeconfig", str(self.kubeconfig), *args], input=stdin,
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
    """Factory: `kube(scenario, **write_kubeconfig_kwargs) -> Kube`; emulators stop at teardown."""
    started = []

    def start(scenario: dict, **kubeconfig_kwargs) -> Kube:
        emulator = KubeEmulator(scenario)
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
