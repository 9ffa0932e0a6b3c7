"""What every end-to-end run of the built binary shares: where the binary is, and an
environment that points the real kubectl and aws CLI at the local stand-ins and nothing else
(no developer kubeconfig, no real AWS credentials, a private discovery cache)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("XPID_BIN", ROOT / ".build" / "debug" / "kubectl-xpid"))


def require_binary() -> None:
    import pytest

    if not BIN.exists():
        pytest.fail(f"{BIN} does not exist: build it first (swift build) or set XPID_BIN", pytrace=False)


def xpid_env(aws, home: Path, kubeconfig) -> dict:
    """The process environment for kubectl-xpid: the stand-in's AWS variables, a private HOME and
    discovery cache (kubectl caches discovery per host:port, and ports are reused)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "AWS_"))}
    env.update(aws.env(inherit=False))
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
