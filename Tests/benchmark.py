#!/usr/bin/env python3
"""Benchmark: how `kubectl xpid verify` scales with the number of Providers.

Generates emulator clusters with 1, 10, 50 and 200 upjet AWS providers (each with its own
ServiceAccount and Pod Identity association, all trusting one role), then a mixed cluster
(by default 50 providers on IRSA spread over 5 roles and 50 on Pod Identity, with the
package manager on IRSA pulling from ECR), runs the built binary with `-v` and counts the
external commands it ran, for `verify --no-cloud` and with cloud checks (real aws CLI
against moto + the stand-in). The kubectl count must not depend on the number of
Providers, and each distinct role is read once. Not a test: it prints figures (and exits 1
only if the kubectl count grows or a role is read twice).

    python3 Tests/benchmark.py [--sizes 1,10,50,200] [--mixed 50,50] [--bin PATH] [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "E2E"))
from aws_standin import AWSStandIn, seed  # noqa: E402
from harness import xpid_env  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from scenarios import ACCOUNT, POD_IDENTITY_TRUST, Cluster  # noqa: E402


def build_cluster(providers: int) -> Cluster:
    c = Cluster().node("ip-10-0-1-10", "a").node("ip-10-0-2-20", "b").agent().crossplane_core()
    c.role("crossplane-providers", POD_IDENTITY_TRUST).provider_config("PodIdentity")
    for i in range(providers):
        name = f"provider-aws-svc{i:03d}"
        c.drc(f"{name}-runtime", sa_name=name)
        c.provider(name, f"xpkg.upbound.io/upbound/{name}:v2.3.0", runtime_config=f"{name}-runtime", service_account=name)
        c.association(name, "crossplane-providers")
    return c


def build_mixed(irsa: int, pod_identity: int) -> Cluster:
    c = Cluster().node("ip-10-0-1-10", "a").node("ip-10-0-2-20", "b").agent()
    registry = f"{ACCOUNT}.dkr.ecr.{c.region}.amazonaws.com"
    c.crossplane_core()
    core_role = c.role_arn("crossplane-ecr")
    for obj in c.objects:
        if obj["kind"] == "ServiceAccount" and obj["metadata"]["name"] == "crossplane":
            obj["metadata"]["annotations"] = {"eks.amazonaws.com/role-arn": core_role}
    c.role("crossplane-ecr", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "${OIDC_PROVIDER_ARN}"}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"${OIDC_PROVIDER}:sub": "system:serviceaccount:crossplane-system:crossplane"}}}]})
    c.roles[-1]["managedPolicies"] = [{"name": "ecr-pull", "document": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
         "Resource": f"arn:aws:ecr:{c.region}:{ACCOUNT}:repository/*"}]}}]
    c.provider_config("IRSA", api="aws.upbound.io", namespace=None).provider_config("PodIdentity")
    for r in range(5):
        c.role(f"provider-irsa-{r}", {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": "${OIDC_PROVIDER_ARN}"}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"${OIDC_PROVIDER}:sub": "system:serviceaccount:crossplane-system:provider-aws-*"}}}]})
    for i in range(irsa):
        name = f"provider-aws-irsa{i:03d}"
        role = c.role_arn(f"provider-irsa-{i % 5}")
        c.drc(f"{name}-runtime", sa_annotations={"eks.amazonaws.com/role-arn": role})
        c.provider(name, f"{registry}/upbound/{name}:v2.3.0", runtime_config=f"{name}-runtime", env="irsa", irsa_role=role)
        for obj in c.objects:
            if obj["kind"] == "ServiceAccount" and obj["metadata"]["name"].startswith(name + "-"):
                obj["metadata"]["annotations"] = {"eks.amazonaws.com/role-arn": role}
    c.role("crossplane-providers", POD_IDENTITY_TRUST)
    for i in range(pod_identity):
        name = f"provider-aws-podid{i:03d}"
        c.drc(f"{name}-runtime", sa_name=name)
        c.provider(name, f"xpkg.upbound.io/upbound/{name}:v2.3.0", runtime_config=f"{name}-runtime", service_account=name)
        c.association(name, "crossplane-providers")
    return c


def count_commands(stderr: str) -> dict:
    counts = {"kubectl": 0, "aws": 0, "get-role repeats": 0}
    roles = []
    for line in stderr.splitlines():
        if line.startswith("+ "):
            words = line[2:].split()
            tool = os.path.basename(words[0])
            if tool in counts:
                counts[tool] += 1
            if tool == "aws" and words[1:3] == ["iam", "get-role"]:
                roles.append(words[4])
    counts["get-role repeats"] = len(roles) - len(set(roles))
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,50,200")
    parser.add_argument("--mixed", default="50,50", help="IRSA,PodIdentity providers of the mixed cluster ('' to skip)")
    parser.add_argument("--bin", default=str(HERE.parent / ".build" / "release" / "kubectl-xpid"))
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration; the median time is printed")
    args = parser.parse_args()
    binary = Path(args.bin)
    if not binary.exists():
        print(f"error: {binary} not found; build it with: swift build -c release", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",") if s]
    configurations = [(f"{n}", build_cluster(n)) for n in sizes]
    if args.mixed:
        irsa, pod_identity = (int(x) for x in args.mixed.split(","))
        configurations.append((f"{irsa}+{pod_identity}", build_mixed(irsa, pod_identity)))
    print(f"binary: {binary} ({binary.stat().st_size / 1e6:.1f} MB)")
    print(f"{'providers':>9} {'mode':>9} {'wall s (median)':>16} {'kubectl calls':>14} {'aws calls':>10} {'findings':>9}")
    kubectl_counts = set()
    repeats = 0
    with AWSStandIn() as aws, tempfile.TemporaryDirectory() as tmp:
        for label, cluster in configurations:
            aws.reset()
            seed(aws, cluster.aws_spec())
            emulator = KubeEmulator(cluster.kube_scenario())
            emulator.start()
            try:
                home = Path(tmp) / f"home{label}"
                home.mkdir()
                config = emulator.write_kubeconfig(str(home / "kubeconfig"), context=cluster.context, cluster_name=cluster.context, user_name=cluster.context)
                env = xpid_env(aws, home, config)
                for mode, extra in (("no-cloud", ["--no-cloud"]), ("cloud", [])):
                    times, counts, findings = [], {}, 0
                    for _ in range(args.runs):
                        start = time.monotonic()
                        proc = subprocess.run([str(binary), "verify", "-v", "-o", "json", *extra], env=env, capture_output=True, text=True, timeout=900)
                        times.append(time.monotonic() - start)
                        counts = count_commands(proc.stderr)
                        if proc.returncode not in (0, 1):
                            print(proc.stderr, file=sys.stderr)
                            return 2
                        findings = len(json.loads(proc.stdout)["findings"])
                    kubectl_counts.add(counts["kubectl"])
                    repeats += counts["get-role repeats"]
                    print(f"{label:>9} {mode:>9} {statistics.median(times):>16.2f} {counts['kubectl']:>14} {counts['aws']:>10} {findings:>9}")
            finally:
                emulator.stop()
    if repeats:
        print(f"FAIL: {repeats} role(s) read more than once")
        return 1
    if len(kubectl_counts) != 1:
        print(f"FAIL: kubectl call count varies with the number of providers: {sorted(kubectl_counts)}")
        return 1
    print(f"kubectl calls constant across sizes: {kubectl_counts.pop()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
