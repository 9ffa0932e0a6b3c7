#!/usr/bin/env python3
"""Benchmark: how `kubectl xpid verify` scales with the number of Providers.

Eight parts, each can run alone (--parts):

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

aks     AKS clusters (seed 000's Azure tab: Crossplane on workload identity with its own identity,
        pulling packages from the ACR myregistry) with 1, 10 and 50 upjet Azure service providers
        from that registry, each with its own WI DeploymentRuntimeConfig and pinned ServiceAccount,
        federated on one of max(2, ceil(N/19)) shared identities (one ClusterProviderConfig per
        identity, so an identity keeps under the 20-credential limit), plus the family provider.
        `verify -v` with the real az CLI (--az, $XPID_TEST_AZ, az on PATH or .venv-az/bin/az)
        against the ARM stand-in, and `verify --no-cloud -v`: median wall, kubectl calls, az
        calls per subcommand, the most az calls in flight (a timing shim passed as --az). The az
        count must stay within 4 + distinct identities in use + registries (account show, aks
        show, identity list, acr list, then the identities' federated credentials -- an ARM batch,
        az rest POST /batch, per 20 identities from 2 identities on, which the table calls batch,
        else a list per identity -- and a role assignment list per registry), the kubectl count
        must not depend on the number of Providers, and the stand-in's request log must show no
        ARM write. Then 10 providers with `--concurrency 1` against the default (8), runs
        alternating. The tool warns (azure.providerconfig) for each ClusterProviderConfig whose
        clientID is not a provider's own identity: upjet authenticates with the ProviderConfig's
        clientID.

gke     GKE clusters (seed 000's Google Cloud GKE tab: the package manager on workload identity with
        its own GSA crossplane-gar-sa, reader on the Artifact Registry repository
        us-docker.pkg.dev/PROJECT/crossplane) with 1, 10 and 50 upjet GCP providers from that
        repository (provider-gcp-svcNN), each with its own DeploymentRuntimeConfig pinning its
        ServiceAccount and annotating (iam.gke.io/gcp-service-account) one of 2 shared GSAs, each GSA
        bound (roles/iam.workloadIdentityUser) to every provider ServiceAccount that uses it; a
        ProviderConfig InjectedIdentity and the family provider. `verify -v` with the real gcloud
        (--gcloud, $XPID_TEST_GCLOUD or gcloud on PATH) against the Google Cloud stand-in, and
        `verify --no-cloud -v`: median wall, kubectl calls, gcloud calls per subcommand. The gcloud
        count must stay within 3 + distinct GSAs in use + repositories (container clusters describe,
        projects describe, projects get-iam-policy, then an iam service-accounts get-iam-policy per
        GSA and an artifacts repositories get-iam-policy per repository), the kubectl count must not
        depend on the number of Providers, and the stand-in's request log must show no write.

bulk    One cloud identity per provider, where the shared-identity aks and gke parts hide the per-identity
        reads, at --bulk-sizes providers (default 10 and 50). AKS: build_aks with identities="per-provider"
        (each upjet Azure provider federated on its own user-assigned identity, with its own WI
        DeploymentRuntimeConfig and OIDCTokenFile ClusterProviderConfig), `verify -v -o json` with the real
        az, runs alternating: (a) as is, the federated credentials read in ARM batches (az rest POST /batch,
        20 GETs each); (b) the stand-in refusing every POST /batch (403), so the tool reads one identity at
        a time and says so in a note (the notes are in the text report only: one more `verify -v` per mode
        reads them). Median wall, az processes per subcommand, ARM GETs served, batches; (a) and (b) must
        give IDENTICAL findings (sorted JSON), (a) must read every identity in batches, (b) must carry the
        fallback note, and az processes stay within (a) 4 + ceil(ids/20) + registries, (b) 4 + ceil(ids/20)
        + ids + registries (the refused batches are az processes too). GKE: build_gke with
        gsas="per-provider", `verify -v` with the real gcloud: median wall, gcloud processes per
        subcommand, within 3 + GSAs + repositories. There is no bulk read on GCP, deliberately: Cloud
        Asset Inventory search is documented by Google as eventually consistent and unsuitable for
        real-time decisions, and a verify right after a fix must see the fix.

flux    EKS clusters with Crossplane AND Flux (Tests/E2E/scenarios_flux.py): --flux-providers upjet AWS
        providers as in `counts` (each with its own ServiceAccount and Pod Identity association on one
        role), plus Flux installed with the ObjectLevelWorkloadIdentity gate and source-controller on
        IRSA (role flux-source-controller), and 1, 10 and 50 OCIRepositories on this account's ECR with
        `provider: aws`: every even one controller level in flux-system (no serviceAccountName), every
        odd one object level in its own namespace tenant-NN naming ServiceAccount flux-oci, annotated
        with its own role flux-tenant-NN whose IRSA trust names that ServiceAccount. `verify -v -o json`
        with the real aws CLI against moto + the stand-in (--skip-cloud: `verify --no-cloud`): median
        wall, kubectl and aws calls (aws by subcommand), get-role calls against the distinct roles of
        the cluster, subjects by kind (flux-controller, flux-object, provider). Every run must verify
        something (exit 0 or 1, flux-object and provider subjects present); the kubectl count must not
        depend on the number of Flux objects, and no role may be read twice.

runbook Seed 002 option B at --runbook-sizes Providers (default 10 and 50): each upjet AWS provider with its
        own DeploymentRuntimeConfig, pinned ServiceAccount, Pod Identity association and IAM role (Pod
        Identity trust). In one run, alternating after --warmup warm-up each: `verify -o json` (real kubectl
        against the emulator, real aws CLI (--aws) against moto + the stand-in) and the seed's verification
        and troubleshooting commands typed one after another with the same kubectl, aws and environment:
        per Provider `kubectl get` of the Provider, its DRC, its ServiceAccount and its pods (-o yaml: the
        env), `aws eks list-pod-identity-associations` for that ServiceAccount, `describe-pod-identity-
        association` of each ID it lists, `aws iam get-role` of the role the describe names; once the agent
        DaemonSet and pods, `aws eks describe-addon`, the ProviderConfigs (-A -o yaml). Median walls, the
        median per-pair ratio runbook/verify (issue 12's target: >= 10 at 50 Providers) and, from a separate
        `verify -v` probe run, its kubectl and aws processes and the associations it described (target:
        aws processes <= associations described + 10). Both verdicts are printed, never failed on.

Not a test: it prints figures. It exits 1 only if a kubectl count grows with the number of
Providers (or Flux objects), a role is read twice, an AKS run makes more az calls than the bound or the ARM
stand-in saw a write, a GKE run makes more gcloud calls than the bound or the Google Cloud
stand-in saw a write, a bulk run makes more az or gcloud calls than its bound, the AKS batch read and
its fallback give different findings (or one of them is not used), a Flux run verified no Flux object,
2 if a run could not be made (binary, az or gcloud missing, a run failing, an
argv the replay had not recorded, a runbook command failing); the own, ratio and runbook targets print TARGET MET / TARGET NOT MET.

    python3 Tests/benchmark.py [--parts counts,own,ratio,aks,gke,bulk,flux,runbook] [--bin PATH]
        [--sizes 1,10,50,200] [--mixed 50,50] [--runs 3] [--skip-cloud]
        [--own-sizes 50,200,800] [--own-runs 5] [--ratio-size 200] [--ratio-runs 5]
        [--aks-sizes 1,10,50] [--aks-concurrency-size 10] [--az PATH]
        [--gke-sizes 1,10,50] [--gcloud PATH] [--bulk-sizes 10,50] [--flux-sizes 1,10,50] [--flux-providers 5]
        [--runbook-sizes 10,50] [--runbook-runs 3] [--aws PATH] [--warmup 1]

Machines are noisy: quote medians and ratios, not single times.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "E2E"))
sys.path.insert(0, str(HERE / "bench"))
from harness import canonical_findings, verbose_commands, xpid_env  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from kubectl_replay import (MISSING_EXIT, Timing, load_recording, missing_calls, replay_loop_cost,  # noqa: E402
                            timed_run, write_recorder, write_replay)
from scenarios import ACCOUNT, NS, POD_IDENTITY_TRUST, Cluster  # noqa: E402

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
    return [argv for tool, argv, _ in verbose_commands(stderr) if tool.startswith("kubectl")]


class _NoAWS:
    """--no-cloud runs call no aws CLI; the environment just carries none of the caller's AWS settings."""

    def env(self, inherit: bool = False) -> dict:
        return {"AWS_EC2_METADATA_DISABLED": "true"}


@contextmanager
def emulated(cluster, home: Path, aws=None, azure=None, gcp=None):
    """The emulator for `cluster` (scenarios.Cluster, scenarios_aks.AksCluster or
    scenarios_gke.GkeCluster) and kubectl-xpid's environment pointing at it (and at the Azure
    stand-in `azure` or the Google Cloud stand-in `gcp`, when given)."""
    emulator = KubeEmulator(cluster.kube_scenario())
    emulator.start()
    try:
        home.mkdir(parents=True, exist_ok=True)
        config = emulator.write_kubeconfig(str(home / "kubeconfig"), context=cluster.context, cluster_name=cluster.context,
                                           user_name=cluster.context)
        yield emulator, xpid_env(aws or _NoAWS(), home, config, azure=azure, gcp=gcp)
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


# ---- part: aks ---------------------------------------------------------------------------------

AKS_CORE_IDENTITY = "crossplane-acr-identity"
AKS_FIC_LIMIT = 20  # federated identity credentials per user-assigned identity
# The az reads of a verify, as `-v` prints them (az SUBCOMMAND ...), with the table's short names.
# `az rest` is the ARM batch read of federated credentials (POST /batch, up to AKS_BATCH_SIZE GETs each), which
# replaces the per-identity lists from 2 identities on.
AZ_READS = [("account show", "acct"), ("aks show", "aks"), ("identity list", "id-list"), ("acr list", "acr"),
            ("identity federated-credential list", "fic-list"), ("rest", "batch"), ("role assignment list", "ra-list")]
AKS_BATCH_SIZE = 20  # GETs per ARM batch the tool sends (one az rest process each)
BATCH_NOTE = "the ARM batch read of federated credentials (az rest POST /batch) was refused or failed"


def aks_identity_count(providers: int) -> int:
    """Shared provider identities: two, or as many as keep each under the 20-credential limit."""
    return max(2, math.ceil(providers / (AKS_FIC_LIMIT - 1)))


def build_aks(providers: int, identities: str = "shared"):
    """Seed 000's Azure tab (the package manager on workload identity with identity
    crossplane-acr-identity, AcrPull on the ACR myregistry, the kubelet identity too) plus `providers`
    upjet Azure service providers pulled from that ACR, each with its own WI DeploymentRuntimeConfig
    pinning its ServiceAccount, federated on one of aks_identity_count() shared identities (round
    robin; identities="per-provider": each on its own identity), one OIDCTokenFile ClusterProviderConfig
    per identity, so the tool takes a provider's identity from its ServiceAccount, and the family
    provider from xpkg.upbound.io. Returns (cluster, distinct identities in use, registries)."""
    from scenarios_aks import FAMILY, UPJET_AZURE_VERSION, AksCluster

    c = AksCluster()
    c.node(0).node(1).wi_webhook()
    core = AKS_CORE_IDENTITY
    c.identity(core).registry().acr_pull(core).federated_credential(core, "crossplane", name="crossplane-federated-credential")
    c.acr_pull(c.kubelet_identity["name"])  # the nodes pull the providers' runtime images from the ACR
    c.crossplane_core(client_id=c.client_id(core), tenant_id=c.tenant)
    count = providers if identities == "per-provider" else aks_identity_count(providers)
    shared = [f"crossplane-providers-{j}" for j in range(count)]
    for j, identity in enumerate(shared):
        c.identity(identity).role_assignment(identity, "Contributor", c.rg_scope())
        c.provider_config("OIDCTokenFile", name="default" if j == 0 else f"providers-{j}", client_id=c.client_id(identity),
                          tenant_id=c.tenant, subscription_id=c.subscription)
    in_use = {core}
    for i in range(providers):
        name = f"provider-azure-svc{i:03d}"
        identity = shared[i % len(shared)]
        in_use.add(identity)
        c.federated_credential(identity, name)
        c.wi_drc(f"{name}-runtime", client_id=c.client_id(identity), sa_name=name)
        c.provider(name, c.acr(f"upbound/{name}:{UPJET_AZURE_VERSION}"), runtime_config=f"{name}-runtime")
    c.provider("upbound-provider-family-azure", f"xpkg.upbound.io/upbound/{FAMILY}:{UPJET_AZURE_VERSION}")
    return c, len(in_use), len(c.registries)


def aks_commands(stderr: str) -> dict:
    """kubectl and az calls of a `-v` run: counts, az calls by subcommand, the summed az call time."""
    kubectl, az, az_ms = 0, Counter(), 0
    for tool, argv, ms in verbose_commands(stderr):
        if tool == "kubectl":
            kubectl += 1
        elif tool == "az":
            az[" ".join(_before_flags(argv))] += 1
            az_ms += ms
    return {"kubectl": kubectl, "az": az, "az_s": az_ms / 1000}


def _before_flags(words: list) -> list:
    out = []
    for w in words:
        if w.startswith("-"):
            break
        out.append(w)
    return out


# The second round of az reads: a batch per 20 identities in use (or a list per identity), one per registry
# (bounded by --concurrency). The shim logs the first two words: `az rest --method post ...` is a batch.
AZ_SECOND_ROUND = ("identity federated-credential", "rest --method", "role assignment")


def write_az_shim(directory: Path, real_az: str) -> tuple:
    """An `az` that logs when each call starts and ends (nanoseconds, pid, first two words) and runs
    the real one; passed as --az, so `-v` still names it az. Returns (shim, log)."""
    directory.mkdir(parents=True, exist_ok=True)
    shim, log = directory / "az", directory / "az-calls.log"
    quoted = shlex.quote(str(log))
    shim.write_text("#!/bin/sh\n"
                    f"echo \"s $(date +%s%N) $$ $1 $2\" >> {quoted}\n"
                    f"{shlex.quote(real_az)} \"$@\"\n"
                    "rc=$?\n"
                    f"echo \"e $(date +%s%N) $$ $1 $2\" >> {quoted}\n"
                    "exit $rc\n")
    shim.chmod(0o755)
    return shim, log


def az_overlap(log: Path) -> tuple:
    """From the shim's log: (most az calls in flight at once, the same for the second-round reads,
    seconds from the first az start to the last az end)."""
    events = []
    for line in (log.read_text().splitlines() if log.exists() else []):
        kind, t, _, *words = line.split()
        events.append((int(t), 1 if kind == "s" else -1, " ".join(words) in AZ_SECOND_ROUND))
    events.sort()  # at the same instant an end sorts before a start
    peak = running = peak2 = running2 = 0
    for _, step, second in events:
        running += step
        peak = max(peak, running)
        if second:
            running2 += step
            peak2 = max(peak2, running2)
    return peak, peak2, ((events[-1][0] - events[0][0]) / 1e9 if events else 0.0)


class AksRuns:
    """Runs verify against one AKS cluster; checks each run's exit code and the stand-in's request log."""

    def __init__(self, binary: Path, env: dict, standin, shim: Path | None, log: Path | None, label: str, out: dict):
        self.binary, self.env, self.standin, self.shim, self.log = binary, env, standin, shim, log
        self.label, self.out = label, out

    def run(self, extra: list, text: bool = False) -> dict:
        """One `verify -v -o json` (text: `verify -v` with the text report, kept as result["stdout"]: the
        run's notes are in the text report only)."""
        before = len(self.standin.requests()) if self.standin else 0
        if self.log:
            self.log.write_text("")
        az = ["--az", str(self.shim)] if self.shim and "--no-cloud" not in extra else []
        output = [] if text else ["-o", "json"]
        start = time.monotonic()
        proc = subprocess.run([str(self.binary), "verify", "-v", *output, *az, *extra], env=self.env, capture_output=True,
                              text=True, timeout=900)
        wall = time.monotonic() - start
        if proc.returncode not in (0, 1) or not (text or proc.stdout.lstrip().startswith("{")):
            raise RunError(f"verify {' '.join(extra)} on AKS at {self.label} exited {proc.returncode}\n{proc.stderr[-2000:]}")
        result = aks_commands(proc.stderr)
        result["wall"] = wall
        result["stdout"] = proc.stdout
        findings = [] if text else json.loads(proc.stdout)["findings"]
        result["findings"] = Counter(f["status"] for f in findings)
        result["findings_list"] = findings
        result["warned"] = Counter(f["check"] for f in findings if f["status"] in ("warn", "fail", "error"))
        result["peak"], result["peak2"], result["span"] = az_overlap(self.log) if self.log and az else (0, 0, 0.0)
        if self.standin:
            from azure_standin import is_write

            requests = self.standin.requests()[before:]
            arm = [r for r in requests if r["api"] == "arm"]
            self.out["arm_requests"] += len(arm)
            result["arm_gets"] = sum(1 for r in arm if r["method"] == "GET")
            result["arm_batches"] = sum(1 for r in arm if r["method"] == "POST" and r["path"].lower() == "/batch")
            for r in arm:
                if is_write(r):  # anything but GET, or a batch holding anything but GETs
                    self.out["writes"].append(f"{self.label} {' '.join(extra) or 'verify'}: {r['method']} {r['path']} ({r['status']})")
        else:
            result["arm_gets"] = result["arm_batches"] = 0
        return result


def find_real_az(args, part: str) -> str:
    """--az, $XPID_TEST_AZ, az on PATH or .venv-az/bin/az (where Tests/run-all installs azure-cli)."""
    from azure_standin import find_az

    venv_az = HERE.parent / ".venv-az" / "bin" / "az"
    real_az = args.az or find_az() or (str(venv_az) if os.access(venv_az, os.X_OK) else None)
    if not real_az:
        raise RunError(f"no az CLI for the {part} part: set XPID_TEST_AZ or pass --az PATH (Tests/run-all installs azure-cli into "
                       ".venv-az/; python3 -m venv .venv-az && .venv-az/bin/pip install azure-cli), or pass --skip-cloud")
    return real_az


def start_azure_standin(real_az: str) -> tuple:
    """The ARM stand-in for the AKS scenarios' tenant and subscription, started, with az logged in to it:
    (stand-in, az version, seconds the login took). The caller stops it."""
    from azure_standin import AzureStandIn
    from scenarios_aks import SUBSCRIPTION, TENANT

    standin = AzureStandIn(tenant_id=TENANT, subscriptions=[{"subscriptionId": SUBSCRIPTION, "displayName": "xpid benchmark"}],
                           az=real_az)
    standin.start()
    try:
        started = time.monotonic()
        standin.login()
        version = subprocess.run([real_az, "version", "-o", "json"], env=standin.env(), capture_output=True, text=True, timeout=120)
        az_version = json.loads(version.stdout).get("azure-cli", "?") if version.returncode == 0 else "?"
    except BaseException:
        standin.stop()
        raise
    return standin, az_version, time.monotonic() - started


def part_aks(args, binary: Path, tmp: Path) -> dict:
    from azure_standin import seed_spec

    sizes = [int(s) for s in args.aks_sizes.split(",") if s]
    cloud = not args.skip_cloud
    real_az = find_real_az(args, "aks") if cloud else None
    out: dict = {"kubectl": {}, "bounded": [], "writes": [], "arm_requests": 0, "cloud_runs": 0, "concurrency": {}}
    standin = None
    shim = log = None
    if cloud:
        standin, az_version, login_s = start_azure_standin(real_az)
    try:
        if standin:
            escapes_before = len(standin.escapes())
            shim, log = write_az_shim(tmp / "aks-az", real_az)
            print(f"\n== aks: external commands per verify on AKS ({args.runs} run(s) each, median wall; az {az_version} "
                  f"against the ARM stand-in, logged in in {login_s:.1f} s) ==")
        else:
            print(f"\n== aks: external commands per verify --no-cloud on AKS ({args.runs} run(s) each, median wall; --skip-cloud) ==")
        print("  cluster: Crossplane on workload identity (its own identity, AcrPull on the ACR); N upjet Azure providers pulled\n"
              "  from the ACR, each with its own WI DeploymentRuntimeConfig and pinned ServiceAccount, federated on shared\n"
              f"  identities (max(2, ceil(N/{AKS_FIC_LIMIT - 1})), one ClusterProviderConfig each); the family provider")
        short = " ".join(s for _, s in AZ_READS)
        print(f"{'providers':>9} {'ids':>3} {'acr':>3} {'mode':>8} {'wall s':>6} {'kubectl':>7} {'az':>3} | {short} | "
              f"{'ARM GETs':>8} {'az peak':>7} {'bound':>5} {'az <= bound':<11} {'pass/warn/fail':>14}")
        warned: dict = {}
        for n in sizes:
            cluster, identities, registries = build_aks(n)
            bound = 4 + identities + registries
            if standin:
                standin.reset()
                seed_spec(standin, cluster.azure_spec())
            with emulated(cluster, tmp / f"aks{n}", azure=standin) as (_, env):
                runner = AksRuns(binary, env, standin, shim, log, f"{n} providers", out)
                for mode, extra in ([("cloud", [])] if cloud else []) + [("no-cloud", ["--no-cloud"])]:
                    results = [runner.run(extra) for _ in range(args.runs)]
                    r = results[-1]
                    wall = statistics.median(x["wall"] for x in results)
                    if mode == "cloud":
                        out["cloud_runs"] += len(results)
                    out["kubectl"][f"aks {n} {mode}"] = r["kubectl"]
                    az_total = sum(r["az"].values())
                    if mode == "cloud":
                        ok = all(sum(x["az"].values()) <= bound for x in results)
                        out["bounded"].append((n, az_total, bound, ok))
                        cells, verdict = read_cells(r["az"], AZ_READS, ok)
                        bound_cell = f"{bound:>5}"
                        peak = f"{max(x['peak'] for x in results):>7}"
                        for check, count in r["warned"].items():
                            warned.setdefault(check, {})[n] = count
                    else:
                        cells, _ = read_cells(r["az"], AZ_READS, True)
                        bound_cell, verdict, peak = f"{'':>5}", "-" if az_total == 0 else f"NO: {az_total} az call(s)", f"{'':>7}"
                        if az_total:
                            out["bounded"].append((n, az_total, 0, False))
                    f = r["findings"]
                    findings = status_counts(f)
                    print(f"{n:>9} {identities:>3} {registries:>3} {mode:>8} {wall:>6.2f} {r['kubectl']:>7} {az_total:>3} | {cells} | "
                          f"{r['arm_gets']:>8} {peak} {bound_cell} {verdict:<11} {findings:>14}")
        print("  ids: distinct identities in use (the package manager's + the providers' shared ones); acr: registries; "
              "bound = 4 + ids + acr")
        print("  az reads: " + ", ".join(f"{s} = az {sub}" for sub, s in AZ_READS)
              + "; ARM GETs: GETs the stand-in served during the last run (a batch's items each count); az peak: most az calls in flight at once")
        if warned:
            print("  warn/fail findings by check (providers: count): "
                  + "; ".join(f"{check} " + ", ".join(f"{n}: {c}" for n, c in per.items()) for check, per in sorted(warned.items())))
        if cloud and args.aks_concurrency_size > 0:
            out["concurrency"] = aks_concurrency(args, binary, tmp, standin, shim, log, out)
        if standin:
            escapes = [e for e in standin.escapes()[escapes_before:] if "azcliprod" not in e.get("target", "")]
            if escapes:
                print(f"  note: {len(escapes)} request(s) for other hosts reached the stand-in's proxy sink: {escapes[:3]}")
    finally:
        if standin:
            standin.stop()
    return out


def aks_concurrency(args, binary: Path, tmp: Path, standin, shim: Path, log: Path, out: dict) -> dict:
    """The same AKS cluster verified with --concurrency 1 and with the default, runs alternating."""
    from azure_standin import seed_spec

    n = args.aks_concurrency_size
    cluster, _, _ = build_aks(n)
    standin.reset()
    seed_spec(standin, cluster.azure_spec())
    variants = [("--concurrency 1", ["--concurrency", "1"]), ("default (8)", [])]
    print(f"\n== aks concurrency: verify at {n} providers, --concurrency 1 against the default "
          f"({args.runs} alternating run(s) each after {args.warmup} warm-up) ==")
    results: dict = {label: [] for label, _ in variants}
    with emulated(cluster, tmp / f"aks-concurrency{n}", azure=standin) as (_, env):
        runner = AksRuns(binary, env, standin, shim, log, f"{n} providers (concurrency)", out)
        for _ in range(args.warmup):
            runner.run([])
        for _ in range(args.runs):
            for label, extra in variants:
                results[label].append(runner.run(extra))
        out["cloud_runs"] += args.warmup + args.runs * len(variants)
    print(f"{'':>15} {'wall s min / med':>17} {'az span s (med)':>15} {'az busy s (med)':>15} {'az peak':>7} "
          f"{'round-2 peak':>12} {'az calls':>8} {'kubectl':>7}")
    summary = {}
    for label, runs in results.items():
        walls = [r["wall"] for r in runs]
        out["kubectl"][f"aks {n} {label}"] = runs[-1]["kubectl"]
        summary[label] = statistics.median(walls)
        print(f"{label:>15} {spread(walls):>17} {statistics.median(r['span'] for r in runs):>15.2f} "
              f"{statistics.median(r['az_s'] for r in runs):>15.2f} {max(r['peak'] for r in runs):>7} "
              f"{max(r['peak2'] for r in runs):>12} {sum(runs[-1]['az'].values()):>8} {runs[-1]['kubectl']:>7}")
    one, default = summary["--concurrency 1"], summary["default (8)"]
    print("  az span: first az start to last az end; az busy: the az call times `-v` printed, summed; az peak: most az "
          "calls in flight; round-2 peak: the same for the federated-credential batches and lists and the role assignment lists")
    print(f"  default / --concurrency 1, median wall: {default / one:.2f}x ({default - one:+.2f} s)")
    return {"one": one, "default": default, "size": n}


# ---- part: gke ---------------------------------------------------------------------------------

GKE_CORE_GSA = "crossplane-gar-sa"
GKE_SHARED_GSAS = 2
GKE_PROVIDER_VERSION = "v1.2.0"
# The gcloud reads of a verify, as `-v` prints them (gcloud SUBCOMMAND ...), with the table's short names.
GCLOUD_READS = [("container clusters describe", "cluster"), ("projects describe", "proj"),
                ("projects get-iam-policy", "proj-iam"), ("iam service-accounts get-iam-policy", "gsa-iam"),
                ("artifacts repositories get-iam-policy", "repo-iam")]


def build_gke(providers: int, gsas: str = "shared"):
    """Seed 000's Google Cloud GKE tab (workload pool, a GKE_METADATA node pool, the package manager
    on workload identity with GSA crossplane-gar-sa, reader on the repository crossplane, the node
    service account too) plus `providers` upjet GCP providers provider-gcp-svcNN pulled from that
    repository, each with its own DeploymentRuntimeConfig pinning its ServiceAccount and annotating one
    of GKE_SHARED_GSAS shared GSAs (round robin; gsas="per-provider": each its own GSA; roles/editor on the
    project, roles/iam.workloadIdentityUser for every provider ServiceAccount that uses it), a ProviderConfig
    InjectedIdentity and the family provider from xpkg.upbound.io. Returns (cluster, distinct GSAs in use,
    repositories)."""
    from scenarios_gke import FAMILY, GSA_ANNOTATION, GkeCluster

    c = GkeCluster()
    c._gke_base()
    core = GKE_CORE_GSA
    c.gsa(core, display_name="Crossplane Artifact Registry Service Account").repository()
    c.gar_reader(core).bind_ksa(core, "crossplane")
    c.gar_reader(c.node_gsa)  # the nodes pull the providers' runtime images from the repository
    c.crossplane_core(gsa_email=core)
    shared = [f"crossplane-providers-{j}" for j in range(providers if gsas == "per-provider" else GKE_SHARED_GSAS)]
    for gsa in shared:
        c.gsa(gsa).grant_project("roles/editor", f"serviceAccount:{c.gsa_email(gsa)}")
    in_use = {core}
    for i in range(providers):
        name = f"provider-gcp-svc{i:02d}"
        gsa = shared[i % len(shared)]
        in_use.add(gsa)
        c.bind_ksa(gsa, name)
        c.drc(f"{name}-runtime", sa_name=name, sa_annotations={GSA_ANNOTATION: c.gsa_email(gsa)})
        c.provider(name, c.gar(f"{name}:{GKE_PROVIDER_VERSION}"), runtime_config=f"{name}-runtime")
    c.provider("upbound-provider-family-gcp", f"xpkg.upbound.io/upbound/{FAMILY}:{GKE_PROVIDER_VERSION}")
    c.provider_config("InjectedIdentity")
    return c, len(in_use), len(c.repositories)


def seed_gcp_spec(gcp, spec: dict) -> None:
    """Seeds the Google Cloud stand-in with a GkeCluster.gcp_spec() (as Tests/E2E/test_gke_e2e.py does)."""
    project = spec["project"]
    gcp.add_project(project["projectId"], number=project["projectNumber"], bindings=project["iamPolicy"].get("bindings", []))
    cluster = spec["cluster"]
    pool = (cluster.get("workloadIdentityConfig") or {}).get("workloadPool") or False
    pools = [{"name": p["name"], "mode": (p["config"].get("workloadMetadataConfig") or {}).get("mode"),
              "serviceAccount": p["config"].get("serviceAccount")} for p in cluster["nodePools"]]
    gcp.add_cluster(cluster["name"], cluster["location"], project["projectId"], workload_pool=pool, node_pools=pools)
    for sa in spec["serviceAccounts"]:
        gcp.add_service_account(sa["email"], bindings=sa["iamPolicy"].get("bindings", []), project=sa["projectId"])
    for repo in spec["repositories"]:
        gcp.add_repository(repo["repositoryId"], repo["location"], project["projectId"],
                           bindings=repo["iamPolicy"].get("bindings", []))


def gke_commands(stderr: str) -> dict:
    """kubectl and gcloud calls of a `-v` run: counts, gcloud calls by subcommand (a known read's name,
    else the words before the first flag)."""
    kubectl, gcloud = 0, Counter()
    for tool, argv, _ in verbose_commands(stderr):
        if tool == "kubectl":
            kubectl += 1
        elif tool == "gcloud":
            line = " ".join(argv)
            known = next((sub for sub, _ in GCLOUD_READS if line == sub or line.startswith(sub + " ")), None)
            gcloud[known or " ".join(_before_flags(argv))] += 1
    return {"kubectl": kubectl, "gcloud": gcloud}


def gke_run(binary: Path, env: dict, standin, label: str, extra: list, out: dict) -> dict:
    """One verify -v on GKE: its exit code, calls, findings, and the stand-in's requests (writes noted in `out`)."""
    before = len(standin.requests()) if standin else 0
    start = time.monotonic()
    proc = subprocess.run([str(binary), "verify", "-v", "-o", "json", *extra], env=env, capture_output=True, text=True,
                          timeout=900)
    wall = time.monotonic() - start
    if proc.returncode not in (0, 1) or not proc.stdout.lstrip().startswith("{"):
        raise RunError(f"verify {' '.join(extra)} on GKE at {label} exited {proc.returncode}\n{proc.stderr[-2000:]}")
    result = gke_commands(proc.stderr)
    result["wall"] = wall
    findings = json.loads(proc.stdout)["findings"]
    result["findings"] = Counter(f["status"] for f in findings)
    result["warned"] = Counter(f["check"] for f in findings if f["status"] in ("warn", "fail", "error"))
    result["api_requests"] = 0
    if standin:
        requests = standin.requests()[before:]
        result["api_requests"] = len(requests)
        out["gcp_requests"] += len(requests)
        for r in requests:
            if r["write"]:  # the stand-in marks anything but GET/HEAD and POST …:getIamPolicy (and refuses it)
                out["writes"].append(f"{label} {' '.join(extra) or 'verify'}: {r['method']} {r['api']} {r['path']} ({r['status']})")
    return result


def find_real_gcloud(args, part: str) -> str:
    """--gcloud, $XPID_TEST_GCLOUD or gcloud on PATH."""
    from gcp_standin import find_gcloud

    gcloud = args.gcloud or find_gcloud()
    if not gcloud:
        raise RunError(f"no gcloud CLI for the {part} part: set XPID_TEST_GCLOUD or pass --gcloud PATH, or pass --skip-cloud")
    return gcloud


def start_gcp_standin(gcloud: str) -> tuple:
    """The Google Cloud stand-in, started: (stand-in, gcloud version). The caller stops it."""
    from gcp_standin import GCPStandIn

    standin = GCPStandIn(gcloud=gcloud)
    standin.start()
    try:
        version = subprocess.run([gcloud, "version", "--format=json"], env=standin.env(), capture_output=True, text=True,
                                 timeout=120, stdin=subprocess.DEVNULL)
        try:
            gcloud_version = json.loads(version.stdout).get("Google Cloud SDK", "?")
        except ValueError:
            gcloud_version = "?"
    except BaseException:
        standin.stop()
        raise
    return standin, gcloud_version


def part_gke(args, binary: Path, tmp: Path) -> dict:
    sizes = [int(s) for s in args.gke_sizes.split(",") if s]
    cloud = not args.skip_cloud
    out: dict = {"kubectl": {}, "bounded": [], "writes": [], "gcp_requests": 0, "cloud_runs": 0}
    standin = None
    if cloud:
        standin, gcloud_version = start_gcp_standin(find_real_gcloud(args, "gke"))
    try:
        if standin:
            escapes_before = len(standin.escapes())
            print(f"\n== gke: external commands per verify on GKE ({args.runs} run(s) each, median wall; gcloud "
                  f"{gcloud_version} against the Google Cloud stand-in) ==")
        else:
            print(f"\n== gke: external commands per verify --no-cloud on GKE ({args.runs} run(s) each, median wall; --skip-cloud) ==")
        print(f"  cluster: Crossplane on workload identity (GSA {GKE_CORE_GSA}, reader on the Artifact Registry repository);\n"
              "  N upjet GCP providers pulled from the repository, each with its own DeploymentRuntimeConfig pinning its\n"
              f"  ServiceAccount and annotating one of {GKE_SHARED_GSAS} shared GSAs (each bound to its providers' ServiceAccounts);\n"
              "  a ProviderConfig InjectedIdentity; the family provider")
        short = " ".join(s for _, s in GCLOUD_READS)
        print(f"{'providers':>9} {'gsa':>3} {'repo':>4} {'mode':>8} {'wall s':>6} {'kubectl':>7} {'gcloud':>6} | {short} | "
              f"{'API reqs':>8} {'bound':>5} {'gcloud <= bound':<15} {'pass/warn/fail':>14}")
        warned: dict = {}
        for n in sizes:
            cluster, gsas, repositories = build_gke(n)
            bound = 3 + gsas + repositories
            if standin:
                standin.reset()
                seed_gcp_spec(standin, cluster.gcp_spec())
            with emulated(cluster, tmp / f"gke{n}", gcp=standin) as (_, env):
                for mode, extra in ([("cloud", [])] if cloud else []) + [("no-cloud", ["--no-cloud"])]:
                    results = [gke_run(binary, env, standin, f"{n} providers", extra, out) for _ in range(args.runs)]
                    r = results[-1]
                    wall = statistics.median(x["wall"] for x in results)
                    out["kubectl"][f"gke {n} {mode}"] = r["kubectl"]
                    total = sum(r["gcloud"].values())
                    if mode == "cloud":
                        out["cloud_runs"] += len(results)
                        ok = all(sum(x["gcloud"].values()) <= bound for x in results)
                        out["bounded"].append((n, total, bound, ok))
                        cells, verdict = read_cells(r["gcloud"], GCLOUD_READS, ok)
                        bound_cell = f"{bound:>5}"
                        for check, count in r["warned"].items():
                            warned.setdefault(check, {})[n] = count
                    else:
                        cells, _ = read_cells(r["gcloud"], GCLOUD_READS, True)
                        bound_cell, verdict = f"{'':>5}", "-" if total == 0 else f"NO: {total} gcloud call(s)"
                        if total:
                            out["bounded"].append((n, total, 0, False))
                    f = r["findings"]
                    findings = status_counts(f)
                    print(f"{n:>9} {gsas:>3} {repositories:>4} {mode:>8} {wall:>6.2f} {r['kubectl']:>7} {total:>6} | {cells} | "
                          f"{r['api_requests']:>8} {bound_cell} {verdict:<15} {findings:>14}")
        print("  gsa: distinct GSAs in use (the package manager's + the providers' shared ones); repo: Artifact Registry "
              "repositories; bound = 3 + gsa + repo")
        print("  gcloud reads: " + ", ".join(f"{s} = gcloud {sub}" for sub, s in GCLOUD_READS)
              + "; API reqs: requests the stand-in served during the last run")
        if warned:
            print("  warn/fail findings by check (providers: count): "
                  + "; ".join(f"{check} " + ", ".join(f"{n}: {c}" for n, c in per.items()) for check, per in sorted(warned.items())))
        if standin:
            escapes = standin.escapes()[escapes_before:]
            if escapes:
                print(f"  note: {len(escapes)} request(s) for other hosts or the metadata server reached the stand-in: {escapes[:3]}")
    finally:
        if standin:
            standin.stop()
    return out


def status_counts(f: dict) -> str:
    """pass/warn/fail of a findings Counter (error counted with fail)."""
    return f"{f.get('pass', 0)}/{f.get('warn', 0)}/{f.get('fail', 0) + f.get('error', 0)}"


def read_cells(by: dict, reads: list, ok: bool) -> tuple:
    """A table row's cells for the known reads (subcommand, short name) and its bound verdict, naming unknown reads."""
    cells = " ".join(f"{by.get(sub, 0):>{len(s)}}" for sub, s in reads)
    verdict = "yes" if ok else "NO"
    others = set(by) - {sub for sub, _ in reads}
    if others:
        verdict += f" (+{', '.join(sorted(others))})"
    return cells, verdict


def bound_verdict(bounded: list, what: str, bound: str) -> int:
    """One line for (providers, calls, bound, ok) rows: FAIL naming the rows over the bound, else all of them; 1 on FAIL."""
    over = [b for b in bounded if not b[3]]
    if over:
        print(f"FAIL: {what} exceed {bound} (providers: calls > bound): "
              + ", ".join(f"{n}: {calls} > {limit}" for n, calls, limit, _ in over))
        return 1
    if bounded:
        print(f"{what[0].upper() + what[1:]} within {bound} (providers: calls <= bound): "
              + ", ".join(f"{n}: {calls} <= {limit}" for n, calls, limit, _ in bounded))
    return 0


def gke_summary(gke: dict) -> int:
    """The gke part's verdicts; 1 if one fails."""
    status = 0
    status |= bound_verdict(gke["bounded"], "on GKE, gcloud calls", "3 + distinct GSAs in use + repositories")
    if gke["writes"]:
        print(f"FAIL: Google Cloud write(s) in the stand-in's request log: {gke['writes'][:5]}")
        status = 1
    elif gke["cloud_runs"]:
        print(f"no Google Cloud write ({gke['gcp_requests']} request(s) over {gke['cloud_runs']} gcloud-backed run(s), "
              "all reads)")
    distinct = set(gke["kubectl"].values())
    if len(distinct) > 1:
        print(f"FAIL: kubectl call count on GKE varies with the number of providers: {gke['kubectl']}")
        status = 1
    elif distinct:
        print(f"GKE kubectl calls constant across sizes: {distinct.pop()} ({len(gke['kubectl'])} configuration(s))")
    return status


# ---- part: bulk --------------------------------------------------------------------------------

GCP_NO_BULK = ("no bulk read on GCP, deliberately: each GSA's policy is read with its own `gcloud iam service-accounts "
               "get-iam-policy`; Cloud Asset Inventory search was rejected because Google documents it as eventually "
               "consistent and unsuitable for real-time decisions, and a verify right after a fix must see the fix")


def findings_diff(a: list, b: list) -> list:
    """What differs between two findings lists, per (subject, check): one line each."""
    def index(findings):
        out: dict = {}
        for f in findings:
            out.setdefault((str(f.get("subject")), str(f.get("check"))), []).append(json.dumps(f, sort_keys=True))
        return {k: sorted(v) for k, v in out.items()}
    ia, ib = index(a), index(b)
    return [f"{subject} {check}: (a) {ia.get((subject, check), 'absent')} / (b) {ib.get((subject, check), 'absent')}"
            for subject, check in sorted(set(ia) | set(ib)) if ia.get((subject, check)) != ib.get((subject, check))]


def has_batch_note(text_report: str) -> bool:
    return " ".join(BATCH_NOTE.split()) in " ".join(text_report.split())


def part_bulk(args, binary: Path, tmp: Path) -> dict:
    """One identity (AKS) or GSA (GKE) per provider: the per-identity cloud reads the shared-identity
    parts barely show. AKS: the ARM batch read against the same run with the batch refused."""
    sizes = [int(s) for s in args.bulk_sizes.split(",") if s]
    out: dict = {"aks": [], "gke": [], "writes": [], "arm_requests": 0, "gcp_requests": 0, "cloud_runs": 0,
                 "kubectl_aks": {}, "kubectl_gke": {}, "bounded_gke": []}
    if args.skip_cloud:
        print("\n== bulk: skipped (--skip-cloud; the part measures cloud reads) ==")
        return out
    real_az, gcloud = find_real_az(args, "bulk"), find_real_gcloud(args, "bulk")
    bulk_aks(args, binary, tmp, sizes, real_az, out)
    bulk_gke(args, binary, tmp, sizes, gcloud, out)
    return out


def bulk_aks(args, binary: Path, tmp: Path, sizes: list, real_az: str, out: dict) -> None:
    from azure_standin import seed_spec

    standin, az_version, login_s = start_azure_standin(real_az)
    try:
        escapes_before = len(standin.escapes())
        shim, log = write_az_shim(tmp / "bulk-az", real_az)
        print(f"\n== bulk (AKS): one identity per provider, the ARM batch read (a) against the batch refused (b) "
              f"({args.runs} alternating run(s) each, median wall; az {az_version} against the ARM stand-in, logged in in "
              f"{login_s:.1f} s) ==")
        print("  cluster: as in aks, but each upjet Azure provider federated on its OWN user-assigned identity (one\n"
              "  OIDCTokenFile ClusterProviderConfig each); (a) verify as is: the federated credentials of all identities in\n"
              f"  ARM batches (az rest POST /batch, {AKS_BATCH_SIZE} GETs each); (b) the stand-in answers every POST /batch 403,\n"
              "  so the tool falls back to one az identity federated-credential list per identity")
        short = " ".join(s for _, s in AZ_READS)
        print(f"{'providers':>9} {'ids':>3} {'acr':>3} {'mode':>4} {'wall s':>6} {'kubectl':>7} {'az':>3} | {short} | "
              f"{'ARM GETs':>8} {'batches':>7} {'az peak':>7} {'bound':>5} {'az <= bound':<11} {'note':>4} {'pass/warn/fail':>14}")
        for n in sizes:
            cluster, identities, registries = build_aks(n, identities="per-provider")
            batches = math.ceil(identities / AKS_BATCH_SIZE)
            bounds = {"a": 4 + batches + registries, "b": 4 + batches + identities + registries}
            standin.reset()
            seed_spec(standin, cluster.azure_spec())
            runs: dict = {"a": [], "b": []}
            notes: dict = {}
            with emulated(cluster, tmp / f"bulk-aks{n}", azure=standin) as (_, env):
                runner = AksRuns(binary, env, standin, shim, log, f"{n} providers (bulk)", out)

                def run(mode: str, text: bool = False) -> dict:
                    if mode == "b":
                        standin.fault(r"^/batch$", status=403, times=None)
                    try:
                        return runner.run([], text=text)
                    finally:
                        if mode == "b":
                            standin.clear_faults()

                for _ in range(args.runs):
                    for mode in ("a", "b"):
                        runs[mode].append(run(mode))
                for mode in ("a", "b"):  # the notes are in the text report only (not in -o json, not on stderr)
                    notes[mode] = run(mode, text=True)
                out["cloud_runs"] += 2 * args.runs + 2
            row: dict = {"n": n, "identities": identities, "registries": registries, "batches": batches, "bounds": bounds}
            for mode in ("a", "b"):
                results, r = runs[mode], runs[mode][-1]
                totals = [sum(x["az"].values()) for x in results]
                ok = all(t <= bounds[mode] for t in totals)
                note = has_batch_note(notes[mode]["stdout"])
                if mode == "a":  # the batch read: every identity in az rest batches, no per-identity list
                    read_as_designed = all(x["az"].get("rest", 0) == batches and x["arm_batches"] == batches
                                           and x["az"].get("identity federated-credential list", 0) == 0 for x in results)
                else:  # every batch refused, then one list per identity
                    read_as_designed = all(x["az"].get("rest", 0) == batches
                                           and x["az"].get("identity federated-credential list", 0) == identities for x in results)
                row[mode] = {"wall": statistics.median(x["wall"] for x in results), "az": max(totals), "ok": ok, "note": note,
                             "as_designed": read_as_designed, "kubectl": r["kubectl"]}
                out["kubectl_aks"][f"{n} {mode}"] = r["kubectl"]
                cells, verdict = read_cells(r["az"], AZ_READS, ok)
                f = r["findings"]
                counts = status_counts(f)
                print(f"{n:>9} {identities:>3} {registries:>3} {mode:>4} {row[mode]['wall']:>6.2f} {r['kubectl']:>7} "
                      f"{sum(r['az'].values()):>3} | {cells} | {r['arm_gets']:>8} {r['arm_batches']:>7} "
                      f"{max(x['peak'] for x in results):>7} {bounds[mode]:>5} {verdict:<11} {'yes' if note else 'no':>4} {counts:>14}")
            canon = {mode: {canonical_findings(x["findings_list"]) for x in runs[mode]} for mode in ("a", "b")}
            row["identical"] = len(canon["a"] | canon["b"]) == 1
            row["diff"] = [] if row["identical"] else findings_diff(runs["a"][-1]["findings_list"], runs["b"][-1]["findings_list"])
            if not row["identical"] and not row["diff"]:
                row["diff"] = [f"the findings vary between runs of the same mode: {len(canon['a'])} distinct in (a), "
                               f"{len(canon['b'])} in (b)"]
            row["findings"] = len(runs["a"][-1]["findings_list"])
            row["note_text"] = next((line.strip() for line in notes["b"]["stdout"].splitlines()
                                     if line.strip().startswith(BATCH_NOTE[:40])), "")
            out["aks"].append(row)
            if row["identical"]:
                print(f"{'':>9} findings of (a) and (b): IDENTICAL ({row['findings']} findings, compared as sorted JSON)")
            else:
                print(f"{'':>9} findings of (a) and (b): DIFFER in {len(row['diff'])} (subject, check) pair(s):")
                for line in row["diff"][:10]:
                    print(f"{'':>11}{line[:800]}")
        print(f"  ids: identities in use (the package manager's + one per provider); acr: registries; batches: POST /batch the "
              f"stand-in saw; bound (a) = 4 + ceil(ids/{AKS_BATCH_SIZE}) + acr (account show, aks show, identity list, acr list,\n"
              f"  the batches, a role assignment list per registry); bound (b) = 4 + ceil(ids/{AKS_BATCH_SIZE}) + ids + acr (the "
              "refused batches are az processes too, then a list per identity)")
        print("  az reads: " + ", ".join(f"{s} = az {sub}" for sub, s in AZ_READS)
              + "; ARM GETs: GETs the stand-in served during the last run (a batch's items each count); note: the text report "
              "of one more run in that mode carries the fallback note")
        if out["aks"] and out["aks"][-1]["note_text"]:
            print(f"  fallback note (b), {out['aks'][-1]['n']} providers: {out['aks'][-1]['note_text'][:400]}")
        escapes = [e for e in standin.escapes()[escapes_before:] if "azcliprod" not in e.get("target", "")]
        if escapes:
            print(f"  note: {len(escapes)} request(s) for other hosts reached the stand-in's proxy sink: {escapes[:3]}")
    finally:
        standin.stop()


def bulk_gke(args, binary: Path, tmp: Path, sizes: list, gcloud: str, out: dict) -> None:
    standin, gcloud_version = start_gcp_standin(gcloud)
    try:
        escapes_before = len(standin.escapes())
        print(f"\n== bulk (GKE): one GSA per provider ({args.runs} run(s) each, median wall; gcloud {gcloud_version} "
              "against the Google Cloud stand-in) ==")
        print("  cluster: as in gke, but each upjet GCP provider's ServiceAccount annotated with its OWN GSA (bound to it)")
        print(f"  {GCP_NO_BULK}")
        short = " ".join(s for _, s in GCLOUD_READS)
        print(f"{'providers':>9} {'gsa':>3} {'repo':>4} {'wall s':>6} {'kubectl':>7} {'gcloud':>6} | {short} | "
              f"{'API reqs':>8} {'bound':>5} {'gcloud <= bound':<15} {'pass/warn/fail':>14}")
        for n in sizes:
            cluster, gsas, repositories = build_gke(n, gsas="per-provider")
            bound = 3 + gsas + repositories
            standin.reset()
            seed_gcp_spec(standin, cluster.gcp_spec())
            with emulated(cluster, tmp / f"bulk-gke{n}", gcp=standin) as (_, env):
                results = [gke_run(binary, env, standin, f"{n} providers (bulk)", [], out) for _ in range(args.runs)]
            out["cloud_runs"] += len(results)
            r = results[-1]
            wall = statistics.median(x["wall"] for x in results)
            total = max(sum(x["gcloud"].values()) for x in results)
            ok = total <= bound
            out["kubectl_gke"][n] = r["kubectl"]
            out["bounded_gke"].append((n, total, bound, ok))
            out["gke"].append({"n": n, "gsas": gsas, "repositories": repositories, "wall": wall, "gcloud": total,
                               "bound": bound, "ok": ok, "by": dict(r["gcloud"])})
            cells, verdict = read_cells(r["gcloud"], GCLOUD_READS, ok)
            f = r["findings"]
            counts = status_counts(f)
            print(f"{n:>9} {gsas:>3} {repositories:>4} {wall:>6.2f} {r['kubectl']:>7} {sum(r['gcloud'].values()):>6} | {cells} | "
                  f"{r['api_requests']:>8} {bound:>5} {verdict:<15} {counts:>14}")
        print("  gsa: GSAs in use (the package manager's + one per provider); repo: Artifact Registry repositories; "
              "bound = 3 + gsa + repo")
        print("  gcloud reads: " + ", ".join(f"{s} = gcloud {sub}" for sub, s in GCLOUD_READS))
        escapes = standin.escapes()[escapes_before:]
        if escapes:
            print(f"  note: {len(escapes)} request(s) for other hosts or the metadata server reached the stand-in: {escapes[:3]}")
    finally:
        standin.stop()


def bulk_summary(bulk: dict) -> int:
    """The bulk part's figures and verdicts; 1 if one fails."""
    status = 0
    for row in bulk["aks"]:
        a, b = row["a"], row["b"]
        label = f"AKS bulk at {row['n']} providers ({row['identities']} ids), az processes (b)/(a)"
        print(f"{label:<58} {b['az']:>3}/{a['az']:<3} = {b['az'] / a['az']:.2f}x; wall (b)/(a) {b['wall']:.2f}/{a['wall']:.2f} s "
              f"= {b['wall'] / a['wall']:.2f}x; findings {'identical' if row['identical'] else 'DIFFER'}")
        if not row["identical"]:
            print(f"FAIL: at {row['n']} providers the findings with the batch refused (b) differ from the batch read (a) in "
                  f"{len(row['diff'])} (subject, check) pair(s); first: {row['diff'][0][:600]}")
            status = 1
        for mode, what in (("a", f"4 + ceil(ids/{AKS_BATCH_SIZE}) + registries"),
                           ("b", f"4 + ceil(ids/{AKS_BATCH_SIZE}) + ids + registries")):
            if not row[mode]["ok"]:
                print(f"FAIL: at {row['n']} providers ({mode}) az processes {row[mode]['az']} > {row['bounds'][mode]} = {what}")
                status = 1
        if not a["as_designed"]:
            print(f"FAIL: at {row['n']} providers (a) did not read the federated credentials in {row['batches']} batch(es) "
                  "without a per-identity list")
            status = 1
        if not b["as_designed"]:
            print(f"FAIL: at {row['n']} providers (b) did not fall back to one list per identity after the refused batch(es)")
            status = 1
        if a["note"] or not b["note"]:
            print(f"FAIL: at {row['n']} providers the fallback note is {'present in (a)' if a['note'] else 'missing from (b)'}")
            status = 1
    if bulk["aks"] and status == 0:
        print("AKS bulk: (a) batch read and (b) per-identity fallback give identical findings; az processes within "
              "(a) 4 + ceil(ids/20) + registries and (b) 4 + ceil(ids/20) + ids + registries: "
              + ", ".join(f"{r['n']}: {r['a']['az']} <= {r['bounds']['a']}, {r['b']['az']} <= {r['bounds']['b']}" for r in bulk["aks"]))
    status |= bound_verdict(bulk["bounded_gke"], "on GKE with a GSA per provider (no bulk read), gcloud calls",
                            "3 + GSAs + repositories")
    if bulk["writes"]:
        print(f"FAIL: cloud write(s) in the stand-ins' request logs (bulk): {bulk['writes'][:5]}")
        status = 1
    elif bulk["cloud_runs"]:
        print(f"no cloud write in the bulk part ({bulk['arm_requests']} ARM and {bulk['gcp_requests']} Google Cloud request(s) "
              f"over {bulk['cloud_runs']} run(s), all reads)")
    for cloud in ("aks", "gke"):
        distinct = set(bulk[f"kubectl_{cloud}"].values())
        if len(distinct) > 1:
            print(f"FAIL: kubectl call count of the bulk part on {cloud.upper()} varies: {bulk[f'kubectl_{cloud}']}")
            status = 1
    return status


# ---- part: flux --------------------------------------------------------------------------------

FLUX_SUBJECT_KINDS = ("flux-controller", "flux-object", "provider")


def build_flux(objects: int, providers: int):
    """build_cluster(providers) (upjet AWS providers on Pod Identity, one role) plus Flux: the
    controllers with the ObjectLevelWorkloadIdentity gate and their RBAC, source-controller annotated
    with role flux-source-controller (IRSA trust for flux-system:source-controller, ECR pull), and
    `objects` OCIRepositories on this account's ECR with `provider: aws`: even ones controller level in
    flux-system (no serviceAccountName), odd ones object level in namespace tenant-NN, naming
    ServiceAccount flux-oci annotated with its own role flux-tenant-NN (IRSA trust for
    tenant-NN:flux-oci). Returns (cluster, controller-level objects, object-level objects)."""
    import scenarios_flux as flux
    from scenarios import ROLE_ANNOTATION

    c = build_cluster(providers)
    arn = flux.flux_irsa_role(c, "flux-source-controller")
    flux.flux_install(c, gate=True, source_controller={"sa_annotations": {ROLE_ANNOTATION: arn}})
    controller_level = object_level = 0
    for i in range(objects):
        name = f"app-{i:02d}"
        url = flux.ecr_url(c, f"apps/{name}")
        if i % 2:
            ns = f"tenant-{i:02d}"
            role = flux.flux_irsa_role(c, f"flux-tenant-{i:02d}", ns, flux.OBJECT_SA)
            flux.object_sa(c, flux.OBJECT_SA, ns, {ROLE_ANNOTATION: role})
            flux.oci_repository(c, name, ns, url, provider="aws", service_account=flux.OBJECT_SA)
            object_level += 1
        else:
            flux.oci_repository(c, name, flux.FLUX_NS, url, provider="aws")
            controller_level += 1
    return c, controller_level, object_level


def flux_commands(stderr: str) -> dict:
    """kubectl and aws calls of a `-v` run: counts, aws calls by `SERVICE OPERATION`, the roles get-role read."""
    kubectl, aws, roles = 0, Counter(), []
    for tool, argv, _ in verbose_commands(stderr):
        if tool == "kubectl":
            kubectl += 1
        elif tool == "aws":
            op = " ".join(_before_flags(argv)[:2])
            aws[op] += 1
            if op == "iam get-role" and "--role-name" in argv:
                roles.append(argv[argv.index("--role-name") + 1])
    return {"kubectl": kubectl, "aws": aws, "roles": roles}


def part_flux(args, binary: Path, tmp: Path) -> dict:
    from aws_standin import AWSStandIn, seed

    sizes = [int(s) for s in args.flux_sizes.split(",") if s]
    cloud = not args.skip_cloud
    mode, extra = ("cloud", []) if cloud else ("no-cloud", ["--no-cloud"])
    out: dict = {"kubectl": {}, "repeats": [], "empty": [], "rows": []}
    print(f"\n== flux: Crossplane ({args.flux_providers} upjet AWS providers on Pod Identity) and Flux on one EKS cluster, "
          f"verify -v -o json{' --no-cloud' if not cloud else ' (real aws CLI against moto + the stand-in)'}, "
          f"{args.runs} run(s) each, median wall ==")
    print("  Flux: the gate on, source-controller on IRSA (role flux-source-controller); N OCIRepositories on ECR with\n"
          "  provider aws: even ones controller level (flux-system, no serviceAccountName), odd ones object level\n"
          "  (tenant-NN/flux-oci, annotated with its own IRSA role flux-tenant-NN)")
    print(f"{'objects':>7} {'ctl/obj':>7} {'roles':>5} {'mode':>8} {'wall s':>6} {'kubectl':>7} {'aws':>4} {'get-role':>8} "
          f"{'flux-controller':>15} {'flux-object':>11} {'provider':>8} {'exit':>4} {'pass/warn/fail':>14}")
    aws = AWSStandIn() if cloud else None
    if aws:
        aws.__enter__()
    try:
        for n in sizes:
            cluster, controller_level, object_level = build_flux(n, args.flux_providers)
            roles = len(cluster.roles)
            if aws:
                aws.reset()
                seed(aws, cluster.aws_spec())
            with emulated(cluster, tmp / f"flux{n}", aws) as (_, env):
                results = []
                for _ in range(args.runs):
                    start = time.monotonic()
                    proc = subprocess.run([str(binary), "verify", "-v", "-o", "json", *extra], env=env, capture_output=True,
                                          text=True, timeout=900)
                    wall = time.monotonic() - start
                    if proc.returncode not in (0, 1) or not proc.stdout.lstrip().startswith("{"):
                        raise RunError(f"verify {' '.join(extra)} with {n} Flux object(s) exited {proc.returncode}\n"
                                       f"{proc.stderr[-2000:]}")
                    r = flux_commands(proc.stderr)
                    report = json.loads(proc.stdout)
                    r.update(wall=wall, exit=proc.returncode,
                             subjects=Counter(s["kind"] for s in report["subjects"]),
                             findings=Counter(f["status"] for f in report["findings"]),
                             warned=Counter(f["check"] for f in report["findings"] if f["status"] in ("warn", "fail", "error")))
                    results.append(r)
            r = results[-1]
            wall = statistics.median(x["wall"] for x in results)
            out["kubectl"][f"flux {n} {mode}"] = r["kubectl"]
            for x in results:
                repeated = len(x["roles"]) - len(set(x["roles"]))
                if repeated:
                    out["repeats"].append((n, repeated))
                if not x["subjects"].get("flux-object") or not x["subjects"].get("provider"):
                    out["empty"].append((n, dict(x["subjects"])))
            f = r["findings"]
            findings = status_counts(f)
            subjects = r["subjects"]
            aws_total = sum(r["aws"].values())
            out["rows"].append({"n": n, "roles": roles, "aws": aws_total, "get_role": len(r["roles"]),
                                "distinct_read": len(set(r["roles"])), "by_op": dict(r["aws"]), "warned": dict(r["warned"])})
            print(f"{n:>7} {f'{controller_level}/{object_level}':>7} {roles:>5} {mode:>8} {wall:>6.2f} {r['kubectl']:>7} "
                  f"{aws_total:>4} {len(r['roles']):>8} {subjects.get('flux-controller', 0):>15} "
                  f"{subjects.get('flux-object', 0):>11} {subjects.get('provider', 0):>8} {r['exit']:>4} {findings:>14}")
    finally:
        if aws:
            aws.__exit__(None, None, None)
    print("  ctl/obj: controller-level / object-level OCIRepositories; roles: IAM roles of the cluster (the providers' "
          "Pod Identity role, flux-source-controller, one per tenant); get-role: aws iam get-role calls of the last run")
    rows = out["rows"]
    if rows and cloud:
        for row in rows:
            print(f"  {row['n']} object(s), aws calls by operation: "
                  + ", ".join(f"{op} {count}" for op, count in sorted(row["by_op"].items())))
        first = rows[0]
        for row in rows[1:]:
            print(f"  {first['n']} -> {row['n']} objects: aws calls {first['aws']} -> {row['aws']} (+{row['aws'] - first['aws']}), "
                  f"get-role {first['get_role']} -> {row['get_role']} (+{row['get_role'] - first['get_role']}), "
                  f"roles {first['roles']} -> {row['roles']} (+{row['roles'] - first['roles']})")
    warned: dict = {}
    for row in rows:
        for check, count in row["warned"].items():
            warned.setdefault(check, {})[row["n"]] = count
    if warned:
        print("  warn/fail findings by check (objects: count): "
              + "; ".join(f"{check} " + ", ".join(f"{n}: {c}" for n, c in per.items()) for check, per in sorted(warned.items())))
    return out


def flux_summary(flux: dict) -> int:
    """The flux part's verdicts; 1 if one fails."""
    status = 0
    if flux["empty"]:
        print(f"FAIL: a Crossplane + Flux run verified no flux-object or no provider subject (objects: subjects): {flux['empty']}")
        status = 1
    if flux["repeats"]:
        print(f"FAIL: Crossplane + Flux, role(s) read more than once (objects: repeats): {flux['repeats']}")
        status = 1
    elif flux["rows"] and any(r["get_role"] for r in flux["rows"]):
        print("Crossplane + Flux: each role read once (objects: get-role calls / roles of the cluster): "
              + ", ".join(f"{r['n']}: {r['get_role']}/{r['roles']}" for r in flux["rows"]))
    distinct = set(flux["kubectl"].values())
    if len(distinct) > 1:
        print(f"FAIL: kubectl call count on Crossplane + Flux varies with the number of Flux objects: {flux['kubectl']}")
        status = 1
    elif distinct:
        print(f"Crossplane + Flux verified in one run, kubectl calls constant across Flux object counts: {distinct.pop()} "
              f"({len(flux['kubectl'])} size(s): {', '.join(k.split()[1] for k in flux['kubectl'])})")
    return status


# ---- part: runbook -----------------------------------------------------------------------------

RUNBOOK_TARGET = 10.0  # issue 12: verify at least 10x faster than the runbook script at 50 Providers
RUNBOOK_AWS_SLACK = 10  # aws processes <= associations described + this


def build_runbook(providers: int) -> Cluster:
    """Seed 002 option B: `providers` upjet AWS providers, each with its own DeploymentRuntimeConfig
    pinning its own ServiceAccount, its own Pod Identity association and its own IAM role
    (crossplane-NAME) whose trust policy is the Pod Identity trust; the agent on two nodes, the
    add-on, one namespaced aws.m.upbound.io ProviderConfig with source PodIdentity."""
    c = Cluster().node("ip-10-0-1-10", "a").node("ip-10-0-2-20", "b").agent().crossplane_core()
    c.provider_config("PodIdentity")
    for i in range(providers):
        name = f"provider-aws-svc{i:03d}"
        c.drc(f"{name}-runtime", sa_name=name)
        c.provider(name, f"xpkg.upbound.io/upbound/{name}:v2.3.0", runtime_config=f"{name}-runtime", service_account=name)
        c.role(f"crossplane-{name}", POD_IDENTITY_TRUST).association(name, f"crossplane-{name}")
    return c


def runbook_targets(cluster: Cluster) -> list:
    """(provider, DRC, ServiceAccount, revision) of each Provider with a runtime config, in order."""
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in cluster.objects}
    out = []
    for o in cluster.objects:
        if o["kind"] != "Provider" or "runtimeConfigRef" not in o["spec"]:
            continue
        drc = o["spec"]["runtimeConfigRef"]["name"]
        sa = by_name[("DeploymentRuntimeConfig", drc)]["spec"]["serviceAccountTemplate"]["metadata"]["name"]
        out.append((o["metadata"]["name"], drc, sa, o["status"]["currentRevision"]))
    return out


def providerconfig_resources(cluster: Cluster) -> list:
    """`kubectl get` resource names (plural.group) of the ProviderConfig kinds the cluster has objects of."""
    kinds = {(o["apiVersion"].split("/")[0], o["kind"]) for o in cluster.objects if o["kind"].endswith("ProviderConfig")}
    return [f"{crd['plural']}.{crd['group']}" for crd in cluster.crds if (crd["group"], crd["kind"]) in kinds]


class Runbook:
    """The seed's verification and troubleshooting commands typed one after another with the real
    kubectl and aws: per Provider the Provider, its DRC, its ServiceAccount, its pods (their env),
    the association list for that ServiceAccount, the describe of each association it lists, the
    role's trust (get-role on the role the describe names); once the agent DaemonSet and pods, the
    add-on and the ProviderConfigs. Each command waits for the one before; the association ID and
    the role name are read from the previous command's output, as a person would."""

    def __init__(self, cluster: Cluster, kubectl: str, aws: str, env: dict):
        self.cluster, self.kubectl, self.aws, self.env = cluster, kubectl, aws, env
        self.targets = runbook_targets(cluster)
        self.provider_configs = providerconfig_resources(cluster)
        self.commands = Counter()
        self.described = 0

    def _run(self, tool: str, argv: list) -> str:
        proc = subprocess.run([tool, *argv], env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        self.commands[os.path.basename(tool)] += 1
        if proc.returncode != 0:
            raise RunError(f"runbook: {shlex.join([os.path.basename(tool), *argv])} exited {proc.returncode}\n{proc.stderr[-1500:]}")
        return proc.stdout

    def run(self) -> float:
        self.commands, self.described = Counter(), 0
        k, a, c, ns = self.kubectl, self.aws, self.cluster.name, NS
        start = time.perf_counter()
        for provider, drc, sa, revision in self.targets:
            self._run(k, ["get", "provider", provider, "-o", "yaml"])
            self._run(k, ["get", "deploymentruntimeconfig", drc, "-o", "yaml"])
            self._run(k, ["get", "serviceaccount", sa, "-n", ns, "-o", "yaml"])
            self._run(k, ["get", "pods", "-n", ns, "-l", f"pkg.crossplane.io/revision={revision}", "-o", "yaml"])
            listed = json.loads(self._run(a, ["eks", "list-pod-identity-associations", "--cluster-name", c,
                                              "--namespace", ns, "--service-account", sa]))["associations"]
            if not listed:
                raise RunError(f"runbook: no Pod Identity association listed for {ns}/{sa}")
            for association in listed:
                described = json.loads(self._run(a, ["eks", "describe-pod-identity-association", "--cluster-name", c,
                                                     "--association-id", association["associationId"]]))["association"]
                self.described += 1
                self._run(a, ["iam", "get-role", "--role-name", described["roleArn"].rsplit("/", 1)[-1]])
        self._run(k, ["get", "daemonset", "eks-pod-identity-agent", "-n", "kube-system"])
        self._run(k, ["get", "pods", "-n", "kube-system", "-l", "app.kubernetes.io/name=eks-pod-identity-agent"])
        self._run(a, ["eks", "describe-addon", "--cluster-name", c, "--addon-name", "eks-pod-identity-agent"])
        for resource in self.provider_configs:
            self._run(k, ["get", resource, "-A", "-o", "yaml"])
        return time.perf_counter() - start


def verify_cloud_commands(stderr: str) -> dict:
    """kubectl and aws processes of a `-v` run, aws by operation, and the associations it described."""
    kubectl, aws = 0, Counter()
    for tool, argv, _ in verbose_commands(stderr):
        if tool.startswith("kubectl"):
            kubectl += 1
        elif tool == "aws":
            aws[" ".join(_before_flags(argv))] += 1
    return {"kubectl": kubectl, "aws": sum(aws.values()), "by_op": aws,
            "described": aws.get("eks describe-pod-identity-association", 0)}


def part_runbook(args, binary: Path, tmp: Path, real_kubectl: str, real_aws: str) -> dict:
    from aws_standin import AWSStandIn, seed

    sizes = [int(s) for s in args.runbook_sizes.split(",") if s]
    print(f"\n== runbook: verify -o json against the seed 002 runbook typed one after another, seed 002 option B "
          f"(each Provider with its own DRC, ServiceAccount, Pod Identity association and role), real kubectl + emulator, "
          f"real aws CLI against moto + the stand-in ({args.runbook_runs} alternating run(s) after {args.warmup} "
          f"warm-up each) ==")
    print(f"  kubectl: {real_kubectl}; aws: {real_aws}")
    rows = []
    with AWSStandIn() as aws:
        for n in sizes:
            cluster = build_runbook(n)
            work = tmp / f"runbook{n}"
            aws.reset()
            seed(aws, cluster.aws_spec())
            with emulated(cluster, work / "home", aws) as (_, env):
                tools = ["--kubectl", real_kubectl, "--aws", real_aws]
                probe_err = work / "probe.err"
                probe = timed_run([str(binary), "verify", "-v", "-o", "json", *tools], env, work / "probe.out", probe_err)
                check_exit(probe, f"verify -v -o json at {n} providers (runbook)", probe_err)
                counts = verify_cloud_commands(probe_err.read_text())
                report = json.loads((work / "probe.out").read_text())
                findings = Counter(f["status"] for f in report["findings"])
                book = Runbook(cluster, real_kubectl, real_aws, env)
                verify_runs, book_runs, verify_cpu = [], [], []
                for i in range(args.warmup + args.runbook_runs):
                    t = timed_run([str(binary), "verify", "-o", "json", *tools], env, work / "verify.out", work / "verify.err")
                    check_exit(t, f"verify -o json at {n} providers (runbook)", work / "verify.err")
                    b = book.run()
                    if i >= args.warmup:
                        verify_runs.append(t.wall)
                        verify_cpu.append(t.cpu)  # kubectl-xpid and every kubectl/aws process it ran
                        book_runs.append(b)
            pairs = [b / v for v, b in zip(verify_runs, book_runs)]
            cores = os.cpu_count() or 1
            # No schedule can finish verify's processes faster than their CPU time spread over every core.
            floor = statistics.median(verify_cpu) / cores
            row = {"n": n, "verify": statistics.median(verify_runs), "runbook": statistics.median(book_runs),
                   "cpu": statistics.median(verify_cpu), "floor": floor, "best": statistics.median(book_runs) / floor,
                   "ratio": statistics.median(pairs), "ratio_min": min(pairs), "ratio_max": max(pairs),
                   "kubectl": counts["kubectl"], "aws": counts["aws"], "by_op": dict(counts["by_op"]),
                   "described": counts["described"], "associations": len(cluster.associations),
                   "book_commands": dict(book.commands), "book_described": book.described,
                   "exit": probe.exit_code, "findings": findings}
            row["aws_bounded"] = row["aws"] <= row["described"] + RUNBOOK_AWS_SLACK
            rows.append(row)
            f = findings
            print(f"  {n} providers: verify exit {probe.exit_code}, findings pass/warn/fail "
                  f"{f.get('pass', 0)}/{f.get('warn', 0)}/{f.get('fail', 0) + f.get('error', 0)}; verify's aws calls by operation: "
                  + ", ".join(f"{op} {count}" for op, count in sorted(counts["by_op"].items())))
            print(f"  {n} providers: the runbook ran {sum(book.commands.values())} commands "
                  f"(kubectl {book.commands.get('kubectl', 0)}, aws {book.commands.get('aws', 0)}), "
                  f"described {book.described} association(s)")
    print(f"{'providers':>9} {'verify s':>9} {'runbook s':>10} {'runbook/verify':>14} {'verify CPU s':>12} {'floor s':>7} "
          f"{'best ratio':>10} {'kubectl':>7} {'aws':>4} {'described':>9} {'aws <= described + ' + str(RUNBOOK_AWS_SLACK):>22}")
    for r in rows:
        bounded = f"{'yes' if r['aws_bounded'] else 'NO'} ({r['aws']} <= {r['described'] + RUNBOOK_AWS_SLACK})"
        print(f"{r['n']:>9} {r['verify']:>9.2f} {r['runbook']:>10.2f} {r['ratio']:>13.2f}x {r['cpu']:>12.2f} {r['floor']:>7.2f} "
              f"{r['best']:>9.2f}x {r['kubectl']:>7} {r['aws']:>4} {r['described']:>9} {bounded:>22}")
    print(f"  verify CPU s: user+system CPU of kubectl-xpid and every process it ran (median); floor s = that / {os.cpu_count()} "
          "core(s), the least wall time any schedule of those processes can take; best ratio = runbook s / floor s, the "
          "most this machine allows while each association needs its own aws process")
    print("  verify s / runbook s: median wall; runbook/verify: median of the per-pair ratios (min "
          + ", ".join(f"{r['ratio_min']:.2f}" for r in rows) + "; max " + ", ".join(f"{r['ratio_max']:.2f}" for r in rows)
          + "); kubectl, aws, described: processes of verify's separate `-v` probe run "
          "(described: its eks describe-pod-identity-association calls)")
    return {"rows": rows}


def runbook_summary(runbook: dict) -> None:
    """The runbook part's verdicts: printed, never failing the run."""
    for r in runbook["rows"]:
        label = f"runbook / verify at {r['n']} providers, median of pairs"
        verdict = "TARGET MET" if r["ratio"] >= RUNBOOK_TARGET else "TARGET NOT MET"
        if r["n"] != 50:
            verdict += " (the target is set at 50 providers)"
        print(f"{label:<58} {r['ratio']:>8.2f}x {'>= ' + str(RUNBOOK_TARGET):>8}  {verdict}")
        label = f"runbook / verify's CPU floor at {r['n']} providers"
        print(f"{label:<58} {r['best']:>8.2f}x {'':>8}  the most any schedule reaches on {os.cpu_count()} core(s) "
              f"({r['cpu']:.1f} CPU s of verify's processes)")
        label = f"verify aws processes at {r['n']} providers"
        bound = r["described"] + RUNBOOK_AWS_SLACK
        print(f"{label:<58} {r['aws']:>9} {'<= ' + str(bound):>8}  "
              f"{'TARGET MET' if r['aws_bounded'] else 'TARGET NOT MET'} (associations described + {RUNBOOK_AWS_SLACK}: "
              f"{r['described']} described of {r['associations']})")


# ---- main --------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="counts,own,ratio,aks,gke,bulk,flux,runbook",
                        help="which parts to run (comma-separated: counts, own, ratio, aks, gke, bulk, flux, runbook)")
    parser.add_argument("--bin", default=str(HERE.parent / ".build" / "release" / "kubectl-xpid"))
    parser.add_argument("--kubectl", default=None, help="the real kubectl (default: kubectl on PATH)")
    parser.add_argument("--aws", default=None, help="runbook: the real aws CLI (default: aws on PATH)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="uncounted runs first, for own, ratio, runbook and the aks concurrency comparison")
    parser.add_argument("--sizes", default="1,10,50,200", help="counts: provider counts ('' to skip)")
    parser.add_argument("--mixed", default="50,50", help="counts: IRSA,PodIdentity providers of the mixed cluster ('' to skip)")
    parser.add_argument("--runs", type=int, default=3,
                        help="counts, aks, gke, bulk, flux: runs per configuration; the median time is printed")
    parser.add_argument("--skip-cloud", action="store_true",
                        help="counts, aks, gke, flux: only --no-cloud runs (no moto, no aws, az or gcloud CLI); runbook and bulk are skipped")
    parser.add_argument("--own-sizes", default="50,200,800", help="own: provider counts ('' to skip)")
    parser.add_argument("--own-runs", type=int, default=5, help="own: counted replayed runs per size")
    parser.add_argument("--ratio-size", type=int, default=200, help="ratio: provider count (0 to skip)")
    parser.add_argument("--ratio-runs", type=int, default=5, help="ratio: counted verify/gets pairs")
    parser.add_argument("--aks-sizes", default="1,10,50", help="aks: upjet Azure provider counts ('' to skip)")
    parser.add_argument("--aks-concurrency-size", type=int, default=10,
                        help="aks: provider count of the --concurrency 1 / default comparison (0 to skip)")
    parser.add_argument("--az", default=None, help="aks, bulk: the real az CLI (default $XPID_TEST_AZ, else az on PATH, else .venv-az/bin/az)")
    parser.add_argument("--gke-sizes", default="1,10,50", help="gke: upjet GCP provider counts ('' to skip)")
    parser.add_argument("--gcloud", default=None, help="gke, bulk: the real gcloud CLI (default $XPID_TEST_GCLOUD, else gcloud on PATH)")
    parser.add_argument("--bulk-sizes", default="10,50",
                        help="bulk: upjet Azure and GCP provider counts, one identity / GSA each ('' to skip)")
    parser.add_argument("--flux-sizes", default="1,10,50", help="flux: OCIRepository counts ('' to skip)")
    parser.add_argument("--flux-providers", type=int, default=5, help="flux: upjet AWS providers on Pod Identity next to Flux")
    parser.add_argument("--runbook-sizes", default="10,50", help="runbook: upjet AWS provider counts ('' to skip)")
    parser.add_argument("--runbook-runs", type=int, default=3, help="runbook: counted verify/runbook pairs per size")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (must be empty) and keep it: recordings, replay scripts "
                        "(ownN/replay/kubectl-replay, usable as --kubectl for profiling), reports")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - {"counts", "own", "ratio", "aks", "gke", "bulk", "flux", "runbook"}
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    binary = Path(args.bin)
    if not binary.exists():
        print(f"error: {binary} not found; build it with: swift build -c release", file=sys.stderr)
        return 2
    real_kubectl = args.kubectl or shutil.which("kubectl")
    real_aws = args.aws or shutil.which("aws")
    if ("own" in parts or "ratio" in parts or ("runbook" in parts and args.runbook_sizes)) and not real_kubectl:
        print("error: kubectl not found on PATH (pass --kubectl PATH)", file=sys.stderr)
        return 2
    if "runbook" in parts and args.runbook_sizes and not args.skip_cloud and not real_aws:
        print("error: aws not found on PATH (pass --aws PATH)", file=sys.stderr)
        return 2
    print(f"binary: {binary} ({binary.stat().st_size / 1e6:.1f} MB); kubectl: {real_kubectl}; {os.cpu_count()} CPU(s)")
    kubectl_counts: dict = {}
    repeats = 0
    own: dict = {}
    ratio: dict = {}
    aks: dict = {}
    gke: dict = {}
    bulk: dict = {}
    flux: dict = {}
    runbook: dict = {}
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
            if "aks" in parts and (args.aks_sizes or (args.aks_concurrency_size > 0 and not args.skip_cloud)):
                aks = part_aks(args, binary, tmp)
            if "gke" in parts and args.gke_sizes:
                gke = part_gke(args, binary, tmp)
            if "bulk" in parts and args.bulk_sizes:
                bulk = part_bulk(args, binary, tmp)
            if "flux" in parts and args.flux_sizes:
                flux = part_flux(args, binary, tmp)
            if "runbook" in parts and args.runbook_sizes:
                if args.skip_cloud:
                    print("\n== runbook: skipped (--skip-cloud; the runbook needs moto and the aws CLI) ==")
                else:
                    runbook = part_runbook(args, binary, tmp, real_kubectl, real_aws)
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
    if aks:
        status = max(status, aks_summary(aks))
    if gke:
        status = max(status, gke_summary(gke))
    if bulk:
        status = max(status, bulk_summary(bulk))
    if flux:
        status = max(status, flux_summary(flux))
    if runbook:
        runbook_summary(runbook)
    return status


def aks_summary(aks: dict) -> int:
    """The aks part's verdicts; 1 if one fails."""
    status = 0
    if aks["concurrency"]:
        c = aks["concurrency"]
        label = f"AKS at {c['size']} providers, median wall s, --concurrency 1 / 8"
        print(f"{label:<58} {c['one']:>4.2f}/{c['default']:<4.2f}")
    unbounded = [b for b in aks["bounded"] if not b[3]]
    if unbounded:
        print("FAIL: on AKS, az calls exceed 4 + distinct identities in use + registries (providers: calls > bound): "
              + ", ".join(f"{n}: {calls} > {bound}" for n, calls, bound, _ in unbounded))
        status = 1
    elif aks["bounded"]:
        print("AKS az calls within 4 + distinct identities in use + registries (providers: calls <= bound): "
              + ", ".join(f"{n}: {calls} <= {bound}" for n, calls, bound, _ in aks["bounded"]))
    if aks["writes"]:
        print(f"FAIL: Azure write(s) in the ARM stand-in's request log: {aks['writes'][:5]}")
        status = 1
    elif aks["cloud_runs"]:
        print(f"no Azure write ({aks['arm_requests']} ARM request(s) over {aks['cloud_runs']} az-backed run(s), all reads: GETs and batches of GETs)")
    distinct = set(aks["kubectl"].values())
    if len(distinct) > 1:
        print(f"FAIL: kubectl call count on AKS varies with the number of providers: {aks['kubectl']}")
        status = 1
    elif distinct:
        print(f"AKS kubectl calls constant across sizes: {distinct.pop()} ({len(aks['kubectl'])} configuration(s))")
    return status


if __name__ == "__main__":
    sys.exit(main())
