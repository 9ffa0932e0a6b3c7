#!/usr/bin/env python3
"""Benchmark: how `kubectl xpid verify` scales with the number of Providers.

Three parts, each can run alone (--parts):

counts  Generates emulator clusters with 1, 10, 50 and 200 upjet AWS providers (each with its
        own ServiceAccount and Pod Identity association, all trusting one role), then a mixed
        cluster (by default 50 providers on IRSA spread over 5 roles and 50 on Pod Identity,
        with the package manager on IRSA pulling from ECR), runs the built binary with `-v`
        and counts the external commands it ran, for `verify --no-cloud` and with cloud checks
        (real aws CLI against moto + the stand-in; --skip-cloud leaves those out). The kubectl
        count must not depend on the number of Providers, and each distinct role is read once.

own     kubectl-xpid's OWN time for `verify --no-cloud` at 50, 200 and 800 Providers (same
        cluster shape): one run against the emulator with the real kubectl behind a recording
        stand-in (`--kubectl RECORDER`), then --own-runs runs with `--kubectl REPLAY`, a /bin/sh
        script that prints the recorded answer for the exact argv at once (emulator stopped).
        Min/median wall and user+sys CPU (the binary plus the stand-ins it ran), the
        stand-in's own cost (the same calls run one after another through it, without the
        binary), and own(800)/own(200) of the median wall: target <= 4.

ratio   At --ratio-size Providers, the real kubectl + emulator: `verify --no-cloud` against the
        kubectl gets that read the same objects, one batched `kubectl get` per scope the binary
        reads (derived from its `-v` lines: the resource types of every `get` it runs, merged
        per --all-namespaces / -n NAMESPACE), run one after another; the two alternate, and
        the median ratio verify/gets is the figure: target <= 1.5 (the same gets run in
        parallel are shown too).

Not a test: it prints figures. It exits 1 only if the kubectl count grows with the number of
Providers or a role is read twice, 2 if a run could not be made (binary missing or failing,
an argv the replay had not recorded); the two targets print TARGET MET / TARGET NOT MET.

    python3 Tests/benchmark.py [--parts counts,own,ratio] [--bin PATH]
        [--sizes 1,10,50,200] [--mixed 50,50] [--runs 3] [--skip-cloud]
        [--own-sizes 50,200,800] [--own-runs 5] [--ratio-size 200] [--ratio-runs 5]

Machines are noisy: quote medians and ratios, not single times.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "E2E"))
sys.path.insert(0, str(HERE / "bench"))
from harness import xpid_env  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from kubectl_replay import (MISSING_EXIT, Timing, load_recording, missing_calls, replay_loop_cost,  # noqa: E402
                            timed_run, write_recorder, write_replay)
from scenarios import ACCOUNT, POD_IDENTITY_TRUST, Cluster  # noqa: E402

VERIFY = ["verify", "--no-cloud"]
OWN_TARGET = 4.0
RATIO_TARGET = 1.5


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


def kubectl_calls(stderr: str) -> list:
    """The kubectl argv lists (without argv[0]) of the binary's `-v` lines, in the order they finished."""
    calls = []
    for line in stderr.splitlines():
        if line.startswith("+ "):
            words = shlex.split(line[2:].rsplit("  (", 1)[0])
            if words and os.path.basename(words[0]).startswith("kubectl"):
                calls.append(words[1:])
    return calls


class _NoAWS:
    """--no-cloud runs call no aws CLI; the environment just carries none of the caller's AWS settings."""

    def env(self, inherit: bool = False) -> dict:
        return {"AWS_EC2_METADATA_DISABLED": "true"}


@contextmanager
def emulated(cluster: Cluster, home: Path, aws=None):
    """The emulator for `cluster` and kubectl-xpid's environment pointing at it."""
    emulator = KubeEmulator(cluster.kube_scenario())
    emulator.start()
    try:
        home.mkdir(parents=True, exist_ok=True)
        config = emulator.write_kubeconfig(str(home / "kubeconfig"), context=cluster.context, cluster_name=cluster.context,
                                           user_name=cluster.context)
        yield emulator, xpid_env(aws or _NoAWS(), home, config)
    finally:
        emulator.stop()


class RunError(Exception):
    pass


def check_exit(t: Timing, what: str, stderr: Path | None = None) -> None:
    if t.exit_code not in (0, 1):
        detail = stderr.read_text()[-2000:] if stderr and stderr.exists() else ""
        raise RunError(f"{what} exited {t.exit_code}\n{detail}")


def spread(values: list) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f}"


# ---- part: counts ------------------------------------------------------------------------------

def part_counts(args, binary: Path, tmp: Path, kubectl_counts: dict) -> int:
    from aws_standin import AWSStandIn, seed

    sizes = [int(s) for s in args.sizes.split(",") if s]
    configurations = [(f"{n}", lambda n=n: build_cluster(n)) for n in sizes]
    if args.mixed:
        irsa, pod_identity = (int(x) for x in args.mixed.split(","))
        configurations.append((f"{irsa}+{pod_identity}", lambda: build_mixed(irsa, pod_identity)))
    modes = [("no-cloud", ["--no-cloud"])] + ([] if args.skip_cloud else [("cloud", [])])
    print(f"\n== counts: external commands per run ({args.runs} run(s) each, median wall) ==")
    print(f"{'providers':>9} {'mode':>9} {'wall s (median)':>16} {'kubectl calls':>14} {'aws calls':>10} {'findings':>9}")
    repeats = 0
    aws = AWSStandIn() if not args.skip_cloud else None
    if aws:
        aws.__enter__()
    try:
        for label, make in configurations:
            cluster = make()
            if aws:
                aws.reset()
                seed(aws, cluster.aws_spec())
            with emulated(cluster, tmp / f"counts{label}", aws) as (_, env):
                for mode, extra in modes:
                    times, counts, findings = [], {}, 0
                    for _ in range(args.runs):
                        start = time.monotonic()
                        proc = subprocess.run([str(binary), "verify", "-v", "-o", "json", *extra], env=env, capture_output=True,
                                              text=True, timeout=900)
                        times.append(time.monotonic() - start)
                        counts = count_commands(proc.stderr)
                        if proc.returncode not in (0, 1):
                            raise RunError(f"verify {' '.join(extra)} at {label} providers exited {proc.returncode}\n{proc.stderr[-2000:]}")
                        findings = len(json.loads(proc.stdout)["findings"])
                    kubectl_counts[f"counts {label} {mode}"] = counts["kubectl"]
                    repeats += counts["get-role repeats"]
                    print(f"{label:>9} {mode:>9} {statistics.median(times):>16.2f} {counts['kubectl']:>14} {counts['aws']:>10} {findings:>9}")
    finally:
        if aws:
            aws.__exit__(None, None, None)
    return repeats


# ---- part: own time with kubectl replayed ------------------------------------------------------

def part_own(args, binary: Path, tmp: Path, real_kubectl: str, kubectl_counts: dict) -> dict:
    sizes = [int(s) for s in args.own_sizes.split(",") if s]
    print(f"\n== own: kubectl-xpid {' '.join(VERIFY)} with kubectl replayed ({args.own_runs} run(s) after {args.warmup} warm-up) ==")
    results = {}
    for n in sizes:
        work = tmp / f"own{n}"
        cluster = build_cluster(n)
        recorder = write_recorder(work / "recording", real_kubectl)
        real_out, real_err = work / "real.out", work / "real.err"
        with emulated(cluster, work / "home") as (_, env):
            recorded = timed_run([str(binary), *VERIFY, "-v", "--kubectl", str(recorder)], env, real_out, real_err)
        check_exit(recorded, f"recording run at {n} providers", real_err)
        calls = load_recording(work / "recording")
        replay = write_replay(calls, work / "replay")
        sequence = [tuple(c) for c in kubectl_calls(real_err.read_text())]
        kubectl_counts[f"own {n}"] = len(sequence)
        replay_env = env  # its kubeconfig names the stopped emulator: nothing can reach a server now
        runs = []
        for i in range(args.warmup + args.own_runs):
            out, err = work / "replay.out", work / "replay.err"
            t = timed_run([str(binary), *VERIFY, "--kubectl", str(replay)], replay_env, out, err)
            missing = missing_calls(replay)
            if missing:
                raise RunError(f"at {n} providers the binary ran kubectl with arguments that were not recorded "
                               f"(the recording run made {len(calls)} distinct call(s)):\n  "
                               + "\n  ".join("kubectl " + m.replace("\x1f", " ") for m in missing))
            check_exit(t, f"replayed run at {n} providers", err)
            if i == 0 and out.read_bytes() != real_out.read_bytes():
                print(f"  note: at {n} providers the replayed report differs from the recorded run's "
                      f"({out.stat().st_size} vs {real_out.stat().st_size} bytes)")
            if i >= args.warmup:
                runs.append(t)
        standin = [replay_loop_cost(replay, sequence, replay_env) for _ in range(max(3, args.own_runs))]
        if any(s.exit_code == MISSING_EXIT for s in standin):
            raise RunError(f"the stand-in loop at {n} providers hit an unrecorded argv: {missing_calls(replay)}")
        results[n] = {"recorded": recorded, "runs": runs, "standin": standin, "calls": len(sequence),
                      "stdout_bytes": real_out.stat().st_size,
                      "answer_bytes": sum(len(c.stdout) for c in calls)}
        r = results[n]
        print(f"  {n} providers: recording run (real kubectl) {recorded.wall:.2f} s; {len(sequence)} kubectl calls, "
              f"{r['answer_bytes'] / 1e6:.1f} MB of kubectl output, report {r['stdout_bytes'] / 1e6:.1f} MB")
    if not results:
        return {}
    print(f"{'providers':>9} {'wall s min / med':>17} {'cpu s min / med':>16} {'user s med':>10} {'sys s med':>9} "
          f"{'stand-in wall ms':>16} {'stand-in cpu ms':>15} {'net cpu s med':>13}")
    for n, r in results.items():
        walls = [t.wall for t in r["runs"]]
        cpus = [t.cpu for t in r["runs"]]
        s_wall = statistics.median(s.wall for s in r["standin"])
        s_cpu = statistics.median(s.cpu for s in r["standin"])
        r.update(wall=statistics.median(walls), cpu=statistics.median(cpus), standin_wall=s_wall, standin_cpu=s_cpu)
        print(f"{n:>9} {spread(walls):>17} {spread(cpus):>16} {statistics.median(t.user for t in r['runs']):>10.3f} "
              f"{statistics.median(t.sys for t in r['runs']):>9.3f} {s_wall * 1000:>16.1f} {s_cpu * 1000:>15.1f} "
              f"{r['cpu'] - s_cpu:>13.3f}")
    print("  wall/cpu: the binary, with the replay stand-ins it ran (their cpu is counted in the binary's);"
          " stand-in: the same kubectl calls run one after another through the replay script alone (median);"
          " net cpu = cpu - stand-in cpu")
    return results


# ---- part: verify against batched kubectl gets -------------------------------------------------

def baseline_gets(calls: list, real_kubectl: str) -> list:
    """One batched `kubectl get TYPES SCOPE -o json` per scope the binary reads, with the union of the
    resource types it reads in that scope (first-seen order)."""
    scopes: dict = {}
    for c in calls:
        if not c or c[0] != "get":
            continue
        types = c[1].split(",")
        scope = []
        rest = c[2:]
        for i, word in enumerate(rest):
            if word in ("--all-namespaces", "-A"):
                scope = ["--all-namespaces"]
            elif word in ("-n", "--namespace") and i + 1 < len(rest):
                scope = ["-n", rest[i + 1]]
            elif word.startswith("--namespace="):
                scope = ["-n", word.split("=", 1)[1]]
        merged = scopes.setdefault(tuple(scope), [])
        merged += [t for t in types if t not in merged]
    return [[real_kubectl, "get", ",".join(types), *scope, "-o", "json"] for scope, types in scopes.items()]


def timed_parallel(argvs: list, env: dict, outputs: list) -> float:
    handles = [open(o, "wb") for o in outputs]
    try:
        start = time.perf_counter()
        procs = [subprocess.Popen(a, env=env, stdin=subprocess.DEVNULL, stdout=h, stderr=subprocess.DEVNULL)
                 for a, h in zip(argvs, handles)]
        codes = [p.wait(timeout=900) for p in procs]
        wall = time.perf_counter() - start
    finally:
        for h in handles:
            h.close()
    if any(codes):
        raise RunError(f"parallel gets exited {codes}")
    return wall


def part_ratio(args, binary: Path, tmp: Path, real_kubectl: str, kubectl_counts: dict) -> dict:
    n = args.ratio_size
    work = tmp / f"ratio{n}"
    cluster = build_cluster(n)
    print(f"\n== ratio: {' '.join(VERIFY)} against batched kubectl gets of the same objects, {n} providers, "
          f"real kubectl + emulator ({args.ratio_runs} alternating run(s) after {args.warmup} warm-up) ==")
    with emulated(cluster, work / "home") as (_, env):
        probe_err = work / "probe.err"
        probe = timed_run([str(binary), *VERIFY, "-v"], env, work / "probe.out", probe_err)
        check_exit(probe, f"verify -v at {n} providers", probe_err)
        calls = kubectl_calls(probe_err.read_text())
        kubectl_counts[f"ratio {n}"] = len(calls)
        print(f"  the binary's kubectl calls ({len(calls)}):")
        for c in calls:
            print(f"    kubectl {shlex.join(c)}")
        gets = baseline_gets(calls, real_kubectl)
        print(f"  baseline ({len(gets)} batched get(s), one per scope):")
        for g in gets:
            print(f"    {shlex.join(['kubectl', *g[1:]])}")
        outs = [work / f"get{i}.out" for i in range(len(gets))]
        verify_runs, seq_runs, par_runs = [], [], []
        for i in range(args.warmup + args.ratio_runs):
            t = timed_run([str(binary), *VERIFY], env, work / "verify.out", work / "verify.err")
            check_exit(t, f"verify at {n} providers", work / "verify.err")
            start = time.perf_counter()
            for g, o in zip(gets, outs):
                gt = timed_run(g, env, o, work / "get.err")
                if gt.exit_code != 0:
                    raise RunError(f"{shlex.join(g)} exited {gt.exit_code}: {(work / 'get.err').read_text()[-1000:]}")
            seq = time.perf_counter() - start
            par = timed_parallel(gets, env, outs)
            if i >= args.warmup:
                verify_runs.append(t.wall)
                seq_runs.append(seq)
                par_runs.append(par)
    pair = [v / s for v, s in zip(verify_runs, seq_runs)]
    pair_par = [v / p for v, p in zip(verify_runs, par_runs)]
    print(f"{'':>28} {'wall s min / med':>17}")
    print(f"{'verify ' + ' '.join(VERIFY[1:]):>28} {spread(verify_runs):>17}")
    print(f"{'gets, one after another':>28} {spread(seq_runs):>17}")
    print(f"{'gets, in parallel':>28} {spread(par_runs):>17}")
    print(f"  verify / gets one after another: median of pairs {statistics.median(pair):.2f} "
          f"(min {min(pair):.2f}, max {max(pair):.2f}); verify / parallel gets: {statistics.median(pair_par):.2f}")
    return {"verify": statistics.median(verify_runs), "sequential": statistics.median(seq_runs),
            "parallel": statistics.median(par_runs), "ratio": statistics.median(pair), "ratio_parallel": statistics.median(pair_par),
            "gets": len(gets)}


# ---- main --------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="counts,own,ratio", help="which parts to run (comma-separated: counts, own, ratio)")
    parser.add_argument("--bin", default=str(HERE.parent / ".build" / "release" / "kubectl-xpid"))
    parser.add_argument("--kubectl", default=None, help="the real kubectl (default: kubectl on PATH)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs first, for own and ratio")
    parser.add_argument("--sizes", default="1,10,50,200", help="counts: provider counts ('' to skip)")
    parser.add_argument("--mixed", default="50,50", help="counts: IRSA,PodIdentity providers of the mixed cluster ('' to skip)")
    parser.add_argument("--runs", type=int, default=3, help="counts: runs per configuration; the median time is printed")
    parser.add_argument("--skip-cloud", action="store_true", help="counts: only --no-cloud runs (no moto, no aws CLI)")
    parser.add_argument("--own-sizes", default="50,200,800", help="own: provider counts ('' to skip)")
    parser.add_argument("--own-runs", type=int, default=5, help="own: counted replayed runs per size")
    parser.add_argument("--ratio-size", type=int, default=200, help="ratio: provider count (0 to skip)")
    parser.add_argument("--ratio-runs", type=int, default=5, help="ratio: counted verify/gets pairs")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (must be empty) and keep it: recordings, replay scripts "
                        "(ownN/replay/kubectl-replay, usable as --kubectl for profiling), reports")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - {"counts", "own", "ratio"}
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    binary = Path(args.bin)
    if not binary.exists():
        print(f"error: {binary} not found; build it with: swift build -c release", file=sys.stderr)
        return 2
    real_kubectl = args.kubectl or shutil.which("kubectl")
    if ("own" in parts or "ratio" in parts) and not real_kubectl:
        print("error: kubectl not found on PATH (pass --kubectl PATH)", file=sys.stderr)
        return 2
    print(f"binary: {binary} ({binary.stat().st_size / 1e6:.1f} MB); kubectl: {real_kubectl}; {os.cpu_count()} CPU(s)")
    kubectl_counts: dict = {}
    repeats = 0
    own: dict = {}
    ratio: dict = {}
    with tempfile.TemporaryDirectory(prefix="xpid-bench-") as tmp_name:
        tmp = Path(args.keep) if args.keep else Path(tmp_name)
        if args.keep:
            if tmp.exists() and any(tmp.iterdir()):
                print(f"error: --keep {tmp} is not empty", file=sys.stderr)
                return 2
            tmp.mkdir(parents=True, exist_ok=True)
        try:
            if "counts" in parts and (args.sizes or args.mixed):
                repeats = part_counts(args, binary, tmp, kubectl_counts)
            if "own" in parts and args.own_sizes:
                own = part_own(args, binary, tmp, real_kubectl, kubectl_counts)
            if "ratio" in parts and args.ratio_size > 0:
                ratio = part_ratio(args, binary, tmp, real_kubectl, kubectl_counts)
        except RunError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    print("\n== summary ==")
    print(f"{'figure':<58} {'value':>9} {'target':>8}  verdict")
    if own:
        for n, r in own.items():
            print(f"{f'own time at {n} providers, median wall / cpu s':<58} {r['wall']:>4.2f}/{r['cpu']:<4.2f} {'':>8}")
        big, small = max(own), (200 if 200 in own else min(own))
        if big != small:
            wall_ratio = own[big]["wall"] / own[small]["wall"]
            cpu_ratio = own[big]["cpu"] / own[small]["cpu"]
            verdict = "TARGET MET" if wall_ratio <= OWN_TARGET else "TARGET NOT MET"
            if (big, small) != (800, 200):
                verdict += f" (sizes {big}/{small}, not 800/200)"
            print(f"{f'own({big})/own({small}), median wall':<58} {wall_ratio:>8.2f}x {'<= ' + str(OWN_TARGET):>8}  {verdict}")
            print(f"{f'own({big})/own({small}), median cpu':<58} {cpu_ratio:>8.2f}x")
            min_ratio = min(t.wall for t in own[big]["runs"]) / min(t.wall for t in own[small]["runs"])
            print(f"{f'own({big})/own({small}), min wall':<58} {min_ratio:>8.2f}x")
        worst = max(r["standin_wall"] / r["wall"] for r in own.values())
        print(f"{'stand-in cost, share of the binary wall (worst size)':<58} {worst * 100:>8.1f}%")
    if ratio:
        verdict = "TARGET MET" if ratio["ratio"] <= RATIO_TARGET else "TARGET NOT MET"
        label = f"verify / {ratio['gets']} batched gets at {args.ratio_size}, median of pairs"
        print(f"{label:<58} {ratio['ratio']:>8.2f}x {'<= ' + str(RATIO_TARGET):>8}  {verdict}")
        print(f"{'verify / the same gets in parallel':<58} {ratio['ratio_parallel']:>8.2f}x")
    status = 0
    if repeats:
        print(f"FAIL: {repeats} role(s) read more than once")
        status = 1
    distinct = set(kubectl_counts.values())
    if len(distinct) > 1:
        print(f"FAIL: kubectl call count varies with the number of providers: {kubectl_counts}")
        status = 1
    elif distinct:
        print(f"kubectl calls constant across sizes: {distinct.pop()} ({len(kubectl_counts)} configuration(s))")
    return status


if __name__ == "__main__":
    sys.exit(main())
