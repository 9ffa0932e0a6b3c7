"""End to end, hostile input (issue 7): a tool that tells a cluster admin what to paste into a shell
must never hand them something that runs more than it says.

Property: hostile strings (quotes, `$(…)`, backticks, `;`, `|`, `&&`, newlines, escape sequences,
leading `-`, `--kubeconfig=/x`, non-ASCII, spaces, `*`, `~`, `\\`) are put into every cluster value the
tool echoes or copies (ServiceAccount and DeploymentRuntimeConfig `eks.amazonaws.com/role-arn`
annotations, the Helm release annotations, DeploymentRuntimeConfig, ProviderConfig, node and pod
names, package images, the user named by a Forbidden answer) and into flags (`--cluster-name`,
`--region`, `--crossplane-namespace`, `--context`). The built binary runs against the real kubectl and
the emulator, the real aws CLI and moto. Then every command it printed (text `->` lines, JSON
`remediation.commands`/`argv`/`stdin`/`variables`, the plan's text and JSON, held `instead`/`insteadArgv`)
is run with `bash -c` in an empty directory whose PATH holds only recording stand-ins for kubectl, aws,
eksctl, helm and touch, with every `${NAME}` variable exported to a hostile value. Each stand-in must
receive exactly the argv (and stdin document) the JSON says, one call per command, and no CANARY file
may appear anywhere.

The emulator stores objects whatever their names (a real API server validates names; the tool's own
safety is what is tested here).
"""
from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import kube_emulator  # noqa: E402
from aws_standin import AWSStandIn, seed  # noqa: E402
from harness import BIN, require_binary, xpid_env  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from scenarios import ACCOUNT, HELM_ANNOTATIONS, NS, POD_IDENTITY_TRUST, ROLE_ANNOTATION, Cluster  # noqa: E402

BASH = "/usr/bin/bash" if os.path.exists("/usr/bin/bash") else "/bin/bash"
STUBS = ("kubectl", "aws", "eksctl", "helm", "touch")

# ---- the corpus ------------------------------------------------------------------------------
# Every fragment that could run something names its own CANARY file, so a leak says which one.
SUBST = "$(touch CANARY_subst)"
BACKTICK = "`touch CANARY_backtick`"
SEMI = ";touch CANARY_semicolon"
PIPE = "|touch CANARY_pipe"
AND = "&&touch CANARY_and"
REDIRECT = "$(echo>CANARY_redirect)"  # bash builtins only: creates the file even with nothing on PATH
NEWLINE = "\n-> touch CANARY_newline"  # a fake `->` line in the text report if printed raw
ESCAPE = "\x1b[2J\x1b]0;CANARY_escape\x07"  # clears the screen / sets the title if printed raw
SQ, DQ = "'", '"'
PLAIN_HOSTILE = ["-rf", "--kubeconfig=/x", "ünïcødé-名前", "a b", "*", "~", "a\\b"]
CANARY_FRAGMENTS = [SUBST, BACKTICK, SEMI, PIPE, AND, REDIRECT, NEWLINE, ESCAPE]

# What each `${NAME}` variable of a printed command is set to when the command is run.
VARIABLE_VALUE = "-x $(touch CANARY_variable) `touch CANARY_variable2` ' \" ;|&& ~ * \\ ü\nsecond line"
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")
VARIABLE_REF = re.compile(r"\$\{([^}]*)\}")
UPPER_IDENTIFIER = re.compile(r"[A-Z_][A-Z0-9_]*")
VALID_ROLE = f"arn:aws:iam::{ACCOUNT}:role/crossplane-valid-role"


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


# Role ARN annotations that are not role ARNs (contract C): reported invalid, never copied by fix.
BAD_CORE_ARN = arn("core" + SUBST)
BAD_S3_ARN = arn("s3" + BACKTICK + SQ + DQ)
BAD_EC2_ARN = arn("ec2" + NEWLINE + ESCAPE)
BAD_RDS_ARN = arn("rds" + SEMI + PIPE + AND + " a b")
BAD_DEPLOYMENT_ARN = arn("dep" + REDIRECT + "*~")
BAD_SHADOW_ARN = arn("shadow" + SUBST + "\\")

HOSTILE_RELEASE = "cross" + SQ + "plane" + SUBST + SEMI
HOSTILE_RELEASE_NS = "--kubeconfig=/x" + BACKTICK
HOSTILE_DRC = "--kubeconfig=/x" + PIPE + DQ
HOSTILE_PROVIDER = "provider-aws-sns" + BACKTICK + "*"
HOSTILE_SHADOW_DRC = "-rf" + REDIRECT + " ü"
HOSTILE_PC = "default" + SUBST + " " + DQ + SQ
HOSTILE_PC_NS = "team" + AND + "~"
HOSTILE_IMAGE = "xpkg.upbound.io/upbound/provider-aws-ec2" + DQ + SEMI + ":v1.3.0"
HOSTILE_NODE = "ip-10-0-3-30" + SEMI + NEWLINE
HOSTILE_POD = "provider-aws-sqs-pod" + BACKTICK + ESCAPE
HOSTILE_KIND_NODE = "kind-control-plane" + SUBST + "*"
HOSTILE_USER = "alice" + SUBST + SEMI
HOSTILE_CLUSTER = "prod" + SUBST + SQ
HOSTILE_REGION = "us-east-2" + SEMI
HOSTILE_NS = "cp" + PIPE + BACKTICK + " ü"
HOSTILE_CONTEXT = "ctx" + AND + DQ + "--kubeconfig=/x"


# ---- clusters --------------------------------------------------------------------------------

def _objects(c: Cluster, kind: str, **labels) -> list:
    return [o for o in c.objects if o["kind"] == kind
            and all(o["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())]


def irsa_annotations() -> Cluster:
    """Invalid role ARNs wherever IRSA reads one: the core ServiceAccount (not Helm-managed), a
    DeploymentRuntimeConfig serviceAccountTemplate (two providers), and a pre-created provider
    ServiceAccount the DRC points the pods at."""
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core(BAD_CORE_ARN, helm=False)
    c.drc("s3-irsa", sa_annotations={ROLE_ANNOTATION: BAD_S3_ARN})
    c.provider("provider-aws-s3", c.ecr("crossplane/provider-aws-s3:v1.2.0"), runtime_config="s3-irsa", env="irsa")
    c.drc("ec2-irsa", sa_annotations={ROLE_ANNOTATION: BAD_EC2_ARN})
    c.provider("provider-aws-ec2", "xpkg.upbound.io/upbound/provider-aws-ec2:v2.3.0", runtime_config="ec2-irsa", env="irsa")
    c.drc("rds-irsa", pod_service_account="provider-aws-rds-sa")
    c.provider("provider-aws-rds", "xpkg.upbound.io/upbound/provider-aws-rds:v2.3.0", runtime_config="rds-irsa", env="irsa")
    sa = next(o for o in c.objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == "provider-aws-rds-sa")
    sa["metadata"].setdefault("annotations", {})[ROLE_ANNOTATION] = BAD_RDS_ARN
    c.provider("upbound-provider-family-aws", "xpkg.upbound.io/upbound/provider-family-aws:v2.3.0", env=None)
    c.provider_config("IRSA", api="aws.upbound.io", namespace=None)
    return c


def helm_release() -> Cluster:
    """Crossplane installed by Helm under a hostile release name and namespace annotation, with the
    package manager's role annotation misplaced on the Deployment (and not a role ARN)."""
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core(BAD_DEPLOYMENT_ARN, helm=True, annotation_on="deployment")
    for o in c.objects:
        if o["kind"] in ("ServiceAccount", "Deployment") and o["metadata"]["name"] == "crossplane":
            o["metadata"]["annotations"].update({"meta.helm.sh/release-name": HOSTILE_RELEASE,
                                                 "meta.helm.sh/release-namespace": HOSTILE_RELEASE_NS})
    c.provider("provider-aws-s3", c.ecr("crossplane/provider-aws-s3:v1.2.0"), env=None)
    c.provider("upbound-provider-family-aws", c.ecr("crossplane/provider-family-aws:v1.2.0"), env=None)
    return c


def object_names() -> Cluster:
    """Hostile object names: a provider on IRSA whose DRC lacks the role annotation (the fix patches
    that DRC by name), a DRC that still carries a (hostile) role annotation beside Pod Identity
    (podid.irsa-shadowing), a provider whose package image is hostile and too old for PodIdentity,
    and a provider with a hostile name and no stable ServiceAccount name (its revision, Deployment,
    ServiceAccount and pods are named after it)."""
    c = Cluster().node("ip-10-0-1-10").node("ip-10-0-2-20", "b").agent().crossplane_core()
    c.drc("pod-identity-runtimeconfig", sa_name="provider-aws-pod-identity")
    c.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", runtime_config="pod-identity-runtimeconfig",
               service_account="provider-aws-pod-identity")
    c.drc(HOSTILE_SHADOW_DRC, sa_name="provider-aws-ec2", sa_annotations={ROLE_ANNOTATION: BAD_SHADOW_ARN})
    c.provider("provider-aws-ec2", HOSTILE_IMAGE, runtime_config=HOSTILE_SHADOW_DRC, env="both")
    c.drc(HOSTILE_DRC, sa_name="provider-aws-iam")
    c.provider("provider-aws-iam", "xpkg.upbound.io/upbound/provider-aws-iam:v2.3.0", runtime_config=HOSTILE_DRC, env="irsa")
    c.provider(HOSTILE_PROVIDER, "xpkg.upbound.io/upbound/provider-aws-sns:v2.3.0", env=None)
    c.provider("upbound-provider-family-aws", "xpkg.upbound.io/upbound/provider-family-aws:v2.3.0", env=None)
    c.provider_config("PodIdentity")
    c.role("pi-role", POD_IDENTITY_TRUST).association("provider-aws-pod-identity", "pi-role").association("provider-aws-ec2", "pi-role")
    return c


def node_and_pod_names() -> Cluster:
    """A node the Pod Identity agent does not cover, a package whose pod cannot pull its image on a
    node without a node-group label, and a ProviderConfig on a source no provider uses (the fix
    patches it by name), all with hostile names."""
    c = Cluster().node("ip-10-0-1-10").agent().node(HOSTILE_NODE, "c").crossplane_core()
    for node in _objects(c, "Node"):
        if node["metadata"]["name"] == HOSTILE_NODE:
            node["metadata"]["labels"].pop("eks.amazonaws.com/nodegroup", None)
    c.s3_with_pinned_sa(node=HOSTILE_NODE)
    c.provider("provider-aws-sqs", c.ecr("crossplane/provider-aws-sqs:v1.2.0"), pull_error="ErrImagePull", node=HOSTILE_NODE)
    for pod in _objects(c, "Pod", **{"pkg.crossplane.io/provider": "provider-aws-sqs"}):
        pod["metadata"]["name"] = HOSTILE_POD
    c.provider("upbound-provider-family-aws", "xpkg.upbound.io/upbound/provider-family-aws:v2.3.0", env=None)
    c.provider_config("IRSA", name=HOSTILE_PC, namespace=HOSTILE_PC_NS)
    return c


def _relocate(value, old: str, new: str):
    if isinstance(value, dict):
        return {k: _relocate(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocate(v, old, new) for v in value]
    if isinstance(value, str):
        return value.replace(old, new)
    return value


def hostile_flags() -> Cluster:
    """Pod Identity without an agent, an add-on or an association, everything in a hostile
    namespace, reached through a hostile kubeconfig context; the (hostile) EKS cluster name comes
    from a flag."""
    c = Cluster(name=HOSTILE_CLUSTER).node("ip-10-0-1-10").crossplane_core()
    c.drc("pod-identity-runtimeconfig", sa_name="provider-aws-pod-identity")
    c.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", runtime_config="pod-identity-runtimeconfig",
               service_account="provider-aws-pod-identity")
    c.provider("upbound-provider-family-aws", "xpkg.upbound.io/upbound/provider-family-aws:v2.3.0", env=None)
    c.provider_config("PodIdentity")
    c.addon = None
    c.objects = _relocate(c.objects, NS, HOSTILE_NS)
    return c


def forbidden_user() -> Cluster:
    """A Forbidden answer that names a hostile user (the grant command fills it in); run with a
    hostile --region, which every aws command printed carries."""
    c = Cluster().pod_identity_seed().forbid("list", "pods", namespace=NS)
    c.forbid("list", "daemonsets", namespace="kube-system", group="apps")
    return c


def unknown_cloud() -> Cluster:
    """A kind-like cluster (no providerID, plain context name) with a hostile node name: nothing
    EKS-specific may be suggested with a `<CLUSTER_NAME>` placeholder."""
    c = Cluster()
    c.objects.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": HOSTILE_KIND_NODE, "labels": {"kubernetes.io/os": "linux"}},
                      "spec": {}, "status": {}})
    c.nodes.append(HOSTILE_KIND_NODE)
    c.crossplane_core()
    c.drc("pod-identity-runtimeconfig", sa_name="provider-aws-pod-identity")
    c.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", runtime_config="pod-identity-runtimeconfig",
               service_account="provider-aws-pod-identity", env=None)
    c.provider_config("PodIdentity")
    return c


# name -> build: the cluster; context/user: kubeconfig context and the user Forbidden answers name;
# flags: added to every run (--no-cloud where the hostile values are all in the
# cluster: the aws CLI costs seconds per call); fix_variants: the `fix` runs (each as JSON and text);
# bad_arns: role ARN annotations that are not role ARNs; bad_subjects: whose irsa.sa-annotation reads one;
# expect: hostile values that must reach some printed argv (so the property is not met vacuously).
CLUSTERS = {
    "irsa-annotations": dict(build=irsa_annotations, fix_variants=[[], ["--role-arn", VALID_ROLE, "--restart"]],
                             bad_arns=[BAD_CORE_ARN, BAD_S3_ARN, BAD_EC2_ARN, BAD_RDS_ARN],
                             bad_subjects=["crossplane-core/crossplane", "provider/provider-aws-s3", "provider/provider-aws-ec2",
                                           "provider/provider-aws-rds"]),
    "helm-release": dict(build=helm_release, fix_variants=[[], ["--role-arn", VALID_ROLE, "--restart"], ["--force", "--restart"]],
                         bad_arns=[BAD_DEPLOYMENT_ARN], expect=[HOSTILE_RELEASE, HOSTILE_RELEASE_NS]),
    "object-names": dict(build=object_names, flags=["--no-cloud"], fix_variants=[[], ["--restart", "--role-arn", VALID_ROLE]],
                         bad_arns=[BAD_SHADOW_ARN],
                         expect=[HOSTILE_DRC, HOSTILE_SHADOW_DRC, HOSTILE_PROVIDER, HOSTILE_IMAGE.rsplit(":", 1)[0]]),
    "node-and-pod-names": dict(build=node_and_pod_names, flags=["--no-cloud"], fix_variants=[[], ["--restart"]],
                               expect=[HOSTILE_NODE, HOSTILE_POD, HOSTILE_PC, HOSTILE_PC_NS]),
    "hostile-flags": dict(build=hostile_flags, context=HOSTILE_CONTEXT,
                          flags=["--context", HOSTILE_CONTEXT, f"--cluster-name={HOSTILE_CLUSTER}", "--region=us-east-2",
                                 f"--crossplane-namespace={HOSTILE_NS}"],
                          fix_variants=[[], ["--restart"]], expect=[HOSTILE_CLUSTER, HOSTILE_NS]),
    "forbidden-user": dict(build=forbidden_user, user=HOSTILE_USER, flags=[f"--region={HOSTILE_REGION}"], fix_variants=[[]],
                           expect=[HOSTILE_USER, HOSTILE_REGION]),
    "unknown-cloud": dict(build=unknown_cloud, context="kind-kind", fix_variants=[[]]),
    # The same hostile objects as manifests (verify -f, issue 11): nothing validates names there.
    "manifests-object-names": dict(build=object_names, offline=True, expect=[HOSTILE_PROVIDER]),
    "manifests-irsa-annotations": dict(build=irsa_annotations, offline=True, bad_arns=[BAD_CORE_ARN, BAD_S3_ARN, BAD_EC2_ARN, BAD_RDS_ARN]),
}


# ---- running the tool --------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def percent_decoded_paths():
    """kubectl percent-encodes a hostile namespace in the URL path (`cp%7C…`); a real API server
    decodes it, this emulator (which other helpers own) does not. Decode for these tests only."""
    original = kube_emulator.urlsplit

    def decoding(url, *args, **kwargs):
        parts = original(url, *args, **kwargs)
        return parts._replace(path=unquote(parts.path))

    kube_emulator.urlsplit = decoding
    yield
    kube_emulator.urlsplit = original


class Captured:
    """Everything one hostile cluster made the tool print."""

    def __init__(self, name: str, root: Path):
        self.name = name
        self.root = root
        self.verify_json: dict | None = None
        self.verify_text = ""
        self.plans: list = []  # [(variant args, plan JSON dict, plan text)]
        self.failures: list = []  # runs that did not produce output
        self.tool_cwd = root / "tool-cwd"


_CAPTURED: dict = {}


def run_tool(env: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=240)


def capture(name: str, aws: AWSStandIn, tmp_path_factory) -> Captured:
    if name in _CAPTURED:
        return _CAPTURED[name]
    spec = CLUSTERS[name]
    cluster: Cluster = spec["build"]()
    root = tmp_path_factory.mktemp(f"hostile-{name}")
    out = Captured(name, root)
    out.tool_cwd.mkdir()
    if spec.get("offline"):
        return _capture_manifests(name, cluster, root, out)
    aws.reset()
    seed(aws, cluster.aws_spec())
    scenario = cluster.kube_scenario()
    if spec.get("user"):
        scenario["user"] = spec["user"]
    emulator = KubeEmulator(scenario)
    emulator.start()
    try:
        home = root / "home"
        home.mkdir()
        context = spec.get("context", cluster.context)
        config = emulator.write_kubeconfig(str(root / "kubeconfig"), context=context, cluster_name=context, user_name=context)
        env = xpid_env(aws, home, config)
        flags = list(spec.get("flags", []))
        proc = run_tool(env, out.tool_cwd, "verify", "-o", "json", *flags)
        if proc.stdout.lstrip().startswith("{"):
            out.verify_json = json.loads(proc.stdout)
        else:
            out.failures.append(("verify -o json", proc.returncode, proc.stderr[-2000:]))
        proc = run_tool(env, out.tool_cwd, "verify", "--no-color", *flags)
        out.verify_text = proc.stdout
        if proc.returncode not in (0, 1):
            out.failures.append(("verify --no-color", proc.returncode, proc.stderr[-2000:]))
        for variant in spec.get("fix_variants", [[]]):
            as_json = run_tool(env, out.tool_cwd, "fix", "-o", "json", *flags, *variant)
            as_text = run_tool(env, out.tool_cwd, "fix", "--no-color", *flags, *variant)
            plan = json.loads(as_json.stdout) if as_json.stdout.lstrip().startswith("{") else None
            if plan is None:
                out.failures.append((f"fix -o json {variant}", as_json.returncode, as_json.stderr[-2000:]))
            out.plans.append((variant, plan, as_text.stdout))
            assert not [w for w in emulator.requests if w["method"] not in ("GET", "HEAD")], "a plan without --yes wrote"
    finally:
        emulator.stop()
    _CAPTURED[name] = out
    return out


def _capture_manifests(name: str, cluster: Cluster, root: Path, out: Captured) -> Captured:
    """The scenario's objects (pods left out, as a repository holds none) as one JSON List file, verified
    with -f and no kubeconfig at all."""
    objects = [o for o in cluster.kube_scenario()["objects"] if o.get("kind") not in ("Pod", "Node", "Event")]
    manifest = root / "manifests.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("KUBE", "AWS_", "AZURE_", "XPID_"))}
    env["HOME"] = str(home)
    proc = run_tool(env, out.tool_cwd, "verify", "-o", "json", "-f", str(manifest))
    if proc.stdout.lstrip().startswith("{"):
        out.verify_json = json.loads(proc.stdout)
    else:
        out.failures.append(("verify -f -o json", proc.returncode, proc.stderr[-2000:]))
    proc = run_tool(env, out.tool_cwd, "verify", "--no-color", "-f", str(manifest))
    out.verify_text = proc.stdout
    if proc.returncode not in (0, 1):
        out.failures.append(("verify -f --no-color", proc.returncode, proc.stderr[-2000:]))
    _CAPTURED[name] = out
    return out


# ---- running what it printed -----------------------------------------------------------------

class Sandbox:
    """An empty directory and a PATH of recording stand-ins: running a printed command here shows
    which programs it starts, with which argv and stdin, and whether anything else ran."""

    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "stub-bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        stub = self.bin / "_record.py"
        stub.write_text(
            f"#!{sys.executable} -S\n"
            "import json, os, sys\n"
            "name = os.path.basename(sys.argv[0])\n"
            "data = sys.stdin.read() if sys.stdin is not None else ''\n"
            "with open(os.environ['XPID_STUB_LOG'], 'a', encoding='utf-8') as log:\n"
            "    log.write(json.dumps({'program': name, 'argv': sys.argv[1:], 'stdin': data}) + '\\n')\n"
            "if name == 'touch':\n"
            "    for a in sys.argv[1:]:\n"
            "        try:\n"
            "            open(a.replace('/', '_').replace(chr(10), '_'), 'a').close()\n"
            "        except OSError:\n"
            "            open('CANARY_touched', 'a').close()\n")
        stub.chmod(0o755)
        for program in STUBS:
            link = self.bin / program
            if not link.exists():
                link.symlink_to(stub)
        self.count = 0

    def run(self, line: str, variables: dict | None = None) -> dict:
        """Runs one printed line with bash; returns {rc, stderr, calls, canaries}."""
        self.count += 1
        work = self.root / f"run{self.count}"
        work.mkdir()
        log = self.root / f"run{self.count}.log"
        env = {"PATH": str(self.bin), "HOME": str(work), "XPID_STUB_LOG": str(log), "LC_ALL": "C.UTF-8"}
        env.update(variables or {})
        before = set(self.root.rglob("*CANARY*"))
        proc = subprocess.run([BASH, "--noprofile", "--norc", "-c", line], cwd=work, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
        calls = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
        canaries = sorted(str(p.relative_to(self.root)) for p in set(self.root.rglob("*CANARY*")) - before)
        return {"line": line, "rc": proc.returncode, "stderr": proc.stderr, "calls": calls, "canaries": canaries}


def variables_in(words) -> set:
    return {m for w in words for m in VARIABLE_REF.findall(w)}


def substituted(words, names) -> list:
    out = []
    for w in words:
        for n in names:
            w = w.replace("${%s}" % n, VARIABLE_VALUE)
        out.append(w)
    return out


def canonical(document) -> str | None:
    if document is None:
        return None
    if isinstance(document, str):
        document = json.loads(document)
    return json.dumps(document, sort_keys=True)


def received(call: dict) -> tuple:
    """What a stand-in got: (argv with the program's name first, its stdin as canonical JSON or None)."""
    stdin = call["stdin"]
    document = None
    if stdin.strip():
        try:
            document = canonical(stdin)
        except ValueError:
            document = "not JSON: " + stdin
    return (tuple([call["program"]] + call["argv"]), document)


def clean(result: dict) -> list:
    """Problems with one run: something else ran, or not exactly one stand-in call."""
    problems = []
    if result["canaries"]:
        problems.append(f"created {result['canaries']}")
    if result["rc"] != 0 or result["stderr"]:
        problems.append(f"bash exit {result['rc']}, stderr {result['stderr']!r}")
    programs = [c["program"] for c in result["calls"]]
    if len(programs) != 1 or "touch" in programs:
        problems.append(f"{len(programs)} program(s) ran: {programs}")
    return problems


def arrow_lines(text: str) -> list:
    return [line.strip()[3:] for line in text.splitlines() if line.strip().startswith("-> ")]


def report_findings_with_commands(report: dict) -> list:
    return [f for f in report["findings"] if f.get("remediation")]


def plan_entries(plan: dict) -> list:
    """(argv, input or None, where) for every action and every held alternative of a plan."""
    entries = []
    for a in plan.get("actions", []):
        entries.append((a["command"], a.get("input"), f"action {a.get('id')} [{a.get('check')}]"))
    for h in plan.get("held", []):
        assert "insteadArgv" in h, f"held fix for {h.get('check')} {h.get('subject')} has no insteadArgv: {h}"
        assert len(h["insteadArgv"]) == len(h["instead"]), h
        for argv in h["insteadArgv"]:
            entries.append((argv, None, f"held [{h.get('check')}] {h.get('subject')}"))
    return entries


def fragment_problems(word: str) -> str | None:
    """A word that mentions a CANARY must hold the whole hostile fragment (or its JSON escape):
    a fragment split across words or cut in half means the argv was built by splitting a string."""
    rest = word
    for fragment in sorted(CANARY_FRAGMENTS, key=len, reverse=True):
        rest = rest.replace(fragment, "").replace(json.dumps(fragment)[1:-1], "")
    return word if "CANARY" in rest else None


def prose_problems(text: str) -> bool:
    return "\x1b" in text or "\n-> touch" in text or "\x07" in text


CLUSTER_NAMES = list(CLUSTERS)


@pytest.fixture
def captured(request, aws, tmp_path_factory):
    result = capture(request.param, aws, tmp_path_factory)
    assert not result.failures, f"runs without output: {result.failures}"
    return result


# ---- the property ----------------------------------------------------------------------------

@pytest.mark.parametrize("captured", CLUSTER_NAMES, indirect=True)
def test_pasting_any_printed_line_runs_one_program_and_nothing_else(captured, tmp_path):
    """Every `->` line of the text report and of every text plan, pasted into bash: one stand-in
    call, no error, no CANARY file (the issue's `$(touch${IFS}pwned)` finding)."""
    box = Sandbox(tmp_path)
    lines = arrow_lines(captured.verify_text) + [line for _, _, text in captured.plans for line in arrow_lines(text)]
    assert lines, "the scenario printed no command at all"
    problems = []
    for line in dict.fromkeys(lines):
        names = set(VARIABLE_REF.findall(line))
        result = box.run(line, {n: VARIABLE_VALUE for n in names if UPPER_IDENTIFIER.fullmatch(n)})
        if clean(result):
            problems.append((line, clean(result)))
    assert not problems, "\n".join(f"{line!r}: {p}" for line, p in problems)
    assert not list(captured.root.rglob("*CANARY*")), "kubectl-xpid itself ran a payload"


@pytest.mark.parametrize("captured", CLUSTER_NAMES, indirect=True)
def test_report_commands_are_their_argv_and_stdin_under_bash(captured, tmp_path):
    """JSON report: commands, argv and stdin are parallel; commands[i] run by bash gives exactly
    argv[i] (with each `${NAME}` set) and feeds exactly stdin[i]; every `${NAME}` is a declared
    variable, shown as "${NAME}"."""
    report = captured.verify_json
    findings = report_findings_with_commands(report)
    assert findings, "the scenario produced no remediation"
    box = Sandbox(tmp_path)
    problems = []
    for f in findings:
        r = f["remediation"]
        where = f"{f['check']} {f['subject']}"
        for key in ("summary", "commands", "argv", "stdin", "variables"):
            assert key in r, f"{where}: remediation has no {key!r}: {sorted(r)}"
        assert len(r["commands"]) == len(r["argv"]) == len(r["stdin"]), (where, r)
        for command, argv, stdin in zip(r["commands"], r["argv"], r["stdin"]):
            names = variables_in(argv)
            for n in names:
                assert UPPER_IDENTIFIER.fullmatch(n), f"{where}: variable {n!r} is not an uppercase identifier"
                assert n in r["variables"], f"{where}: ${{{n}}} in {argv} is not in variables {r['variables']}"
                assert '"${%s}"' % n in command, f"{where}: {command!r} does not quote ${{{n}}} as \"${{{n}}}\""
            assert set(VARIABLE_REF.findall(command)) <= names, f"{where}: {command!r} uses a variable its argv does not"
            issues = run_expecting(box, command, {n: VARIABLE_VALUE for n in names}, (tuple(substituted(argv, names)), canonical(stdin)))
            if issues:
                problems.append((where, command, issues))
    assert not problems, "\n".join(f"{w}: {c!r}: {p}" for w, c, p in problems)


def run_expecting(box, command: str, env: dict, want: tuple) -> list:
    """Runs one printed command in the sandbox: what went wrong (something else ran, a canary
    appeared, …), including a recorded call other than `want` (argv, stdin)."""
    result = box.run(command, env)
    issues = clean(result)
    if not issues and received(result["calls"][0]) != want:
        issues.append(f"ran {received(result['calls'][0])}, expected {want}")
    return issues


@pytest.mark.parametrize("captured", CLUSTER_NAMES, indirect=True)
def test_text_report_arrows_are_exactly_the_json_commands(captured):
    """The text report's `->` lines are the JSON commands of its warn/fail/error findings, one line
    each: a newline in a cluster value must not add a line, an escape sequence must not reach the
    terminal."""
    report = captured.verify_json
    want = Counter(c for f in report["findings"] if f["status"] in ("warn", "fail", "error") and f.get("remediation")
                   for c in f["remediation"]["commands"])
    got = Counter(arrow_lines(captured.verify_text))
    assert got == want, f"only in text: {got - want}\nonly in JSON: {want - got}"
    assert "\x1b" not in captured.verify_text and "\x07" not in captured.verify_text
    for line in captured.verify_text.splitlines():
        assert not line.startswith("-> touch"), line


@pytest.mark.parametrize("captured", CLUSTER_NAMES, indirect=True)
def test_plan_text_and_json_agree_under_bash(captured, tmp_path):
    """Plan: every text `->` line (actions, held alternatives, cloud commands) run by bash gives
    exactly one action's `command` (fed its `input`) or one held `insteadArgv`; held `instead[i]`
    is `insteadArgv[i]` rendered."""
    box = Sandbox(tmp_path)
    problems = []
    for variant, plan, text in captured.plans:
        assert plan["schema"] == "kubectl-xpid/plan/v1"
        for a in plan["actions"]:
            assert "input" in a, f"action {a['id']} has no 'input' (stdin JSON or null): {sorted(a)}"
        entries = plan_entries(plan)
        names = set().union(*(variables_in(argv) for argv, _, _ in entries)) if entries else set()
        env = {n: VARIABLE_VALUE for n in names}
        want = Counter((tuple(substituted(argv, names)), canonical(doc)) for argv, doc, _ in entries)
        got: Counter = Counter()
        for line in arrow_lines(text):
            result = box.run(line, {n: VARIABLE_VALUE for n in set(VARIABLE_REF.findall(line)) | names
                                    if UPPER_IDENTIFIER.fullmatch(n)})
            issues = clean(result)
            if issues:
                problems.append((variant, line, issues))
                continue
            got[received(result["calls"][0])] += 1
        if got != want:
            problems.append((variant, "text plan vs JSON plan", f"only in text: {got - want}; only in JSON: {want - got}"))
        for h in plan["held"]:
            for line, argv in zip(h["instead"], h["insteadArgv"]):
                issues = run_expecting(box, line, env, (tuple(substituted(argv, names)), None))
                if issues:
                    problems.append((variant, line, issues))
    assert not problems, "\n".join(f"{v} {line!r}: {p}" for v, line, p in problems)


@pytest.mark.parametrize("captured", CLUSTER_NAMES, indirect=True)
def test_hostile_values_stay_whole_words_and_bodies_are_json(captured):
    """In every argv (report and plan), a hostile value is one word (or a JSON string inside one),
    never split or cut; patch and policy bodies and stdin documents parse as JSON."""
    argvs = []
    report = captured.verify_json
    for f in report_findings_with_commands(report):
        r = f["remediation"]
        assert "argv" in r, f"{f['check']} {f['subject']}: remediation has no argv"
        argvs += [(argv, stdin, f"{f['check']} {f['subject']}") for argv, stdin in zip(r["argv"], r.get("stdin", [None] * len(r["argv"])))]
    for _, plan, _ in captured.plans:
        argvs += [(argv, doc, where) for argv, doc, where in plan_entries(plan)]
    problems = []
    for argv, doc, where in argvs:
        for i, word in enumerate(argv):
            if fragment_problems(word):
                problems.append((where, argv, f"word {word!r} holds part of a hostile value"))
            if i > 0 and argv[i - 1] in ("-p", "--patch", "--policy-document", "--assume-role-policy-document"):
                try:
                    json.loads(word)
                except ValueError:
                    problems.append((where, argv, f"body {word!r} is not JSON"))
        if isinstance(doc, str):
            try:
                json.loads(doc)
            except ValueError:
                problems.append((where, argv, f"stdin {doc!r} is not JSON"))
    assert not problems, "\n".join(f"{w}: {a}: {p}" for w, a, p in problems)


@pytest.mark.parametrize("captured", CLUSTER_NAMES, indirect=True)
def test_no_placeholders_and_no_raw_control_characters(captured):
    """No `<PLACEHOLDER>` word in any command (a shell reads `<X>` as a redirection), and no raw
    newline or escape sequence from the cluster in prose (messages, summaries, descriptions)."""
    report = captured.verify_json
    commands = [c for f in report_findings_with_commands(report) for c in f["remediation"]["commands"]]
    commands += arrow_lines(captured.verify_text)
    prose = [f["message"] for f in report["findings"]]
    prose += [f["remediation"]["summary"] for f in report_findings_with_commands(report)]
    prose += [d for f in report_findings_with_commands(report) for d in (f["remediation"].get("variables") or {}).values()]
    prose += [s.get("methodEvidence", "") for s in report.get("subjects", [])] + list(report.get("notes", []))
    for _, plan, text in captured.plans:
        commands += arrow_lines(text) + [i for h in plan["held"] for i in h["instead"]]
        prose += [a["description"] for a in plan["actions"]] + [n for a in plan["actions"] for n in a["notes"]]
        prose += [h["reason"] for h in plan["held"]]
        assert "\x1b" not in text and "\x07" not in text, "raw escape sequence in the text plan"
    placeholders = sorted({c for c in commands if PLACEHOLDER.search(c)})
    assert not placeholders, f"placeholder words in commands: {placeholders}"
    multiline = [c for c in commands if "\n" in c or "\r" in c]
    assert not multiline, f"commands that are not one line: {multiline}"
    raw = [p for p in prose if prose_problems(p)]
    assert not raw, f"raw control characters from the cluster in prose: {raw}"


@pytest.mark.parametrize("captured", [n for n, s in CLUSTERS.items() if s.get("expect")], indirect=True)
def test_hostile_values_reach_the_printed_commands(captured):
    """Each scenario's hostile values are echoed by some printed command (report argv or stdin, plan
    command or input, held insteadArgv), so the properties above are not met by printing nothing."""
    texts = []
    for f in report_findings_with_commands(captured.verify_json):
        texts += [w for argv in f["remediation"].get("argv", []) for w in argv]
        texts += [s for s in f["remediation"].get("stdin", []) if s]
        texts += f["remediation"]["commands"]
    for _, plan, _ in captured.plans:
        for a in plan["actions"]:
            texts += list(a["command"]) + [json.dumps(a.get("input"), ensure_ascii=False)]
        texts += [w for h in plan["held"] for argv in h.get("insteadArgv", []) for w in argv]
    missing = [v for v in CLUSTERS[captured.name]["expect"]
               if not any(v in t or json.dumps(v, ensure_ascii=False)[1:-1] in t for t in texts)]
    assert not missing, f"never printed: {missing}"


# ---- role ARNs read from the cluster (contract C) ------------------------------------------------

@pytest.mark.parametrize("captured", ["irsa-annotations"], indirect=True)
def test_invalid_role_arn_annotations_are_reported_invalid(captured):
    report = captured.verify_json
    for subject in CLUSTERS["irsa-annotations"]["bad_subjects"]:
        found = [f for f in report["findings"] if f["check"] == "irsa.sa-annotation" and f["subject"] == subject]
        assert found, f"no irsa.sa-annotation finding for {subject}"
        assert found[0]["status"] == "fail" and "invalid" in found[0]["message"].lower(), (subject, found[0])


@pytest.mark.parametrize("captured", [n for n, s in CLUSTERS.items() if s.get("bad_arns")], indirect=True)
def test_fix_never_copies_an_invalid_role_arn(captured):
    """No plan action (argv word or input document) carries a role ARN annotation that is not a
    role ARN, nor the role name cut out of it."""
    bad = CLUSTERS[captured.name]["bad_arns"]
    needles = bad + [b.split(":role/", 1)[1] for b in bad]
    for variant, plan, _ in captured.plans:
        for a in plan["actions"]:
            texts = list(a["command"]) + [" ".join(a["command"]), json.dumps(a.get("input"), ensure_ascii=False),
                                          json.dumps(a.get("manifest"), ensure_ascii=False)]
            for needle in needles:
                escaped = json.dumps(needle, ensure_ascii=False)[1:-1]
                assert not any(needle in t or escaped in t for t in texts), \
                    f"fix {variant}: action {a['id']} [{a['check']}] copies {needle!r}: {a['command']}"


def test_role_arn_flag_that_is_not_a_role_arn_is_a_usage_error(aws, tmp_path):
    """`--role-arn` is validated like a role ARN read from the cluster: a value that would break a
    JSON patch body is a usage error naming the flag, and nothing is planned or written."""
    c = Cluster().node("ip-10-0-1-10").agent().crossplane_core(helm=False)
    c.provider("provider-aws-s3", c.ecr("crossplane/provider-aws-s3:v1.2.0"), env=None)
    aws.reset()
    seed(aws, c.aws_spec())
    emulator = KubeEmulator(c.kube_scenario())
    emulator.start()
    try:
        home = tmp_path / "home"
        home.mkdir()
        config = emulator.write_kubeconfig(str(tmp_path / "kubeconfig"), context=c.context, cluster_name=c.context, user_name=c.context)
        env = xpid_env(aws, home, config)
        for value in [arn('a"}},"x":{"y'), arn("x" + SUBST), arn("a b"), arn("x\ny"), "arn:aws:iam::12345:role/short-account"]:
            proc = run_tool(env, tmp_path, "fix", "--yes", "--role-arn", value)
            assert proc.returncode == 64, (value, proc.returncode, proc.stdout[-1500:], proc.stderr[-1500:])
            assert "--role-arn" in proc.stderr, (value, proc.stderr)
        assert not [r for r in emulator.requests if r["method"] not in ("GET", "HEAD")]
    finally:
        emulator.stop()
    assert not list(tmp_path.rglob("*CANARY*"))
