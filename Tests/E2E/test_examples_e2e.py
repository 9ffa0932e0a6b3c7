"""End to end: every set-up under examples/ (the seeds' set-ups as manifests, a `broken` and a
`fixed` variant each) verified by the built binary with `verify -f` and no cluster at all: no
kubeconfig (KUBECONFIG unset, HOME a fresh temp dir), nothing but kubectl's offline conversion
and `kubectl kustomize`.

Each `fixed` variant exits 0 with no fail/error finding; each `broken` variant exits 1 and fails
exactly the (check, subject) pairs that explain its break (listed in examples/README.md), and those
same pairs pass in the `fixed` variant. Every finding about a subject defined in a file carries a
`location` inside the example's directory whose line starts the document that defines the object.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import BIN, ROOT, explain_report, failing, failing_statuses, require_binary  # noqa: E402

EXAMPLES = ROOT / "examples"

# (check, subject) -> the status the broken variant reports; nothing else may fail or error.
BROKEN: dict[str, dict[tuple[str, str], set[str]]] = {
    "eks-pod-identity": {
        # provider-aws-ec2 has no runtimeConfigRef: revision-hashed ServiceAccount name.
        ("podid.stable-sa-name", "provider/provider-aws-ec2"): {"fail"},
        # ProviderConfig "legacy" says credentials.source: IRSA next to Pod Identity providers.
        ("crossplane.providerconfig-source", "provider/provider-aws-ec2"): {"fail"},
        ("crossplane.providerconfig-source", "provider/provider-aws-s3"): {"fail"},
    },
    "eks-irsa-private-ecr": {
        # The role annotation sits on the crossplane Deployment, not its ServiceAccount.
        ("irsa.sa-annotation", "crossplane-core/crossplane"): {"fail"},
        # The DeploymentRuntimeConfig's serviceAccountTemplate lacks eks.amazonaws.com/role-arn.
        ("irsa.sa-annotation", "provider/provider-aws-s3"): {"fail"},
    },
    "aks-workload-identity": {
        # The label is on deploymentTemplate.metadata (the Deployment), not the pod template.
        ("azure.pod-label", "provider/provider-azure-storage"): {"fail"},
        # serviceAccountTemplate has no metadata.name.
        ("azure.stable-sa-name", "provider/provider-azure-storage"): {"fail"},
    },
    "gke-workload-identity": {
        # A malformed GSA email and the developer.gserviceaccount.com form.
        ("gke.sa-annotation", "provider/provider-gcp-storage"): {"fail"},
        ("gke.sa-annotation", "provider/provider-gcp-cloudplatform"): {"fail"},
    },
    "flux": {
        # apps/podinfo names a ServiceAccount; source-controller lacks the feature gate.
        ("flux.object-level-gate", "flux-object/apps/podinfo"): {"fail"},
    },
}

# Broken variants' warnings: source-controller's ServiceAccount has no role annotation. Manifests cannot show
# an EKS Pod Identity association (the other way to give it an identity), so it is a warning, not a failure.
WARNED = {
    "flux": {("flux.controller-identity", "flux-controller/source-controller")},
}

VARIANTS = [(name, variant) for name in sorted(BROKEN) for variant in ("broken", "fixed")]


def offline_env(home: Path) -> dict:
    """This process's environment without any kubeconfig or cloud login: KUBECONFIG unset and HOME a
    fresh directory (so there is no ~/.kube/config either)."""
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("KUBE", "AWS_", "AZURE_", "CLOUDSDK_", "GOOGLE_", "XPID_"))}
    home.mkdir(parents=True, exist_ok=True)
    env.update({"HOME": str(home), "LANG": "C.UTF-8", "NO_COLOR": "1"})
    return env


def verify(paths: list, tmp_path: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    require_binary()
    argv = [str(BIN), "verify"]
    for p in paths:
        argv += ["-f", str(p)]
    return subprocess.run(argv + list(args), env=offline_env(tmp_path / "home"), capture_output=True, text=True,
                          timeout=120, cwd=str(cwd or tmp_path))


def report_of(proc: subprocess.CompletedProcess) -> dict:
    assert proc.stdout.lstrip().startswith("{"), f"no JSON report (exit {proc.returncode}); stderr: {proc.stderr}"
    return json.loads(proc.stdout)


def explain(report: dict) -> str:
    return explain_report(report, hide=("pass", "skip"))


def is_kustomization(directory: Path) -> bool:
    return any((directory / n).exists() for n in ("kustomization.yaml", "kustomization.yml", "Kustomization"))


def test_every_example_has_both_variants():
    found = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    assert found == sorted(BROKEN), f"examples/ holds {found}; this test knows {sorted(BROKEN)}"
    for name in found:
        for variant in ("broken", "fixed"):
            files = [p for p in (EXAMPLES / name / variant).rglob("*") if p.suffix in (".yaml", ".yml")]
            assert files, f"examples/{name}/{variant} has no manifests"
    readme = (EXAMPLES / "README.md").read_text()
    for name, pairs in BROKEN.items():
        assert f"examples/{name}/" in readme or f"`{name}/`" in readme or f"({name}/)" in readme, name
        for check, _ in pairs:
            assert check in readme, f"examples/README.md does not list {check} for {name}"


@pytest.mark.parametrize("name,variant", VARIANTS)
def test_example_verdict(name, variant, tmp_path):
    directory = EXAMPLES / name / variant
    proc = verify([directory], tmp_path, "-o", "json")
    report = report_of(proc)
    got = failing_statuses(report)
    if variant == "fixed":
        assert proc.returncode == 0, f"exit {proc.returncode}\n{explain(report)}\n{proc.stderr}"
        assert got == {}, explain(report)
        # The checks that explain the broken variant's break pass here.
        statuses = {(f["check"], f["subject"]): f["status"] for f in report["findings"]}
        for pair in BROKEN[name]:
            assert statuses.get(pair) == "pass", f"{pair} is {statuses.get(pair)} in the fixed variant\n{explain(report)}"
    else:
        assert proc.returncode == 1, f"exit {proc.returncode}\n{explain(report)}\n{proc.stderr}"
        assert set(got) == set(BROKEN[name]), explain(report)
        for pair, status in got.items():
            assert status in BROKEN[name][pair], f"{pair} is {status}, expected {BROKEN[name][pair]}\n{explain(report)}"
        statuses = {(f["check"], f["subject"]): f["status"] for f in report["findings"]}
        for pair in WARNED.get(name, set()):
            assert statuses.get(pair) == "warn", f"{pair} is {statuses.get(pair)}, expected warn\n{explain(report)}"
    # Manifests only: nothing needing the running cluster or the cloud was evaluated.
    assert report["cluster"]["context"] == "manifests"


def _document_at(lines: list, line: int) -> str:
    """The YAML document that starts at 1-based `line` (up to the next `---` or the end)."""
    doc = []
    for text in lines[line - 1:]:
        if text.strip() == "---" and doc:
            break
        doc.append(text)
    return "\n".join(doc)


@pytest.mark.parametrize("name,variant", VARIANTS)
def test_findings_carry_their_location(name, variant, tmp_path):
    directory = EXAMPLES / name / variant
    report = report_of(verify([directory], tmp_path, "-o", "json"))
    kustomized = is_kustomization(directory)
    rendered = None
    if kustomized:
        rendered = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True,
                                  timeout=60, check=True, env=offline_env(tmp_path / "home-k")).stdout.splitlines()
    located = 0
    for f in report["findings"]:
        if f["subject"] == "cluster":
            continue  # not defined in a file
        where = f.get("location")
        assert where, f"{f['check']} on {f['subject']} has no location"
        assert isinstance(where["line"], int) and where["line"] >= 1, where
        if kustomized:
            # A rendered kustomization: findings point at its kustomization.yaml (rendered objects have no line).
            assert where["file"] == f"{directory}/kustomization.yaml" and where["line"] == 1, where
            located += 1
            continue
        else:
            path = Path(where["file"])
            path = path if path.is_absolute() else tmp_path / path
            assert path.resolve().is_relative_to(directory.resolve()), f"{where['file']} is outside {directory}"
            assert path.is_file(), where
            lines = path.read_text().splitlines()
        assert where["line"] <= len(lines), where
        obj = f["subject"].rsplit("/", 1)[-1]
        document = _document_at(lines, where["line"])
        assert f"name: {obj}" in document, f"{where} does not start the document of {f['subject']}:\n{document[:400]}"
        located += 1
    assert located, "no finding about a file-defined subject"


def test_text_header_shows_file_and_line(tmp_path):
    """The text report's subject header names the file and line (relative paths stay relative)."""
    proc = verify([Path("examples/eks-irsa-private-ecr/broken")], tmp_path, "--no-color", cwd=ROOT)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "[examples/eks-irsa-private-ecr/broken/crossplane.yaml:" in proc.stdout, proc.stdout
    assert "[examples/eks-irsa-private-ecr/broken/providers.yaml:" in proc.stdout, proc.stdout
    report = report_of(verify([Path("examples/eks-irsa-private-ecr/broken")], tmp_path, "-o", "json", cwd=ROOT))
    for f in report["findings"]:
        if f["subject"] != "cluster":
            assert f["location"]["file"].startswith("examples/eks-irsa-private-ecr/broken/"), f["location"]


def test_stdin_and_several_files(tmp_path):
    """`-f -` reads stdin; -f repeats; the verdict is the same as for the directory."""
    directory = EXAMPLES / "eks-pod-identity" / "broken"
    require_binary()
    proc = subprocess.run([str(BIN), "verify", "-o", "json", "-f", "-", "-f", str(directory / "providerconfig.yaml")],
                          input=(directory / "providers.yaml").read_text(), env=offline_env(tmp_path / "home"),
                          capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    report = report_of(proc)
    assert proc.returncode == 1, explain(report)
    assert failing(report) == set(BROKEN["eks-pod-identity"]), explain(report)


def test_nothing_verifiable_exits_2(tmp_path):
    manifest = tmp_path / "configmap.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\ndata:\n  k: v\n")
    proc = verify([manifest], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr


def test_manifests_with_cluster_coordinates_check_the_cloud_side(aws, tmp_path):
    """-f with --cluster-name/--region: the cloud checks run (real aws CLI against the stand-in) on the
    objects of the files; without them they are skip, saying which flags would allow them."""
    from aws_standin import seed
    from harness import xpid_env
    from scenarios import Cluster

    seed(aws, Cluster().irsa_core_seed().aws_spec())
    home = tmp_path / "home"
    home.mkdir()
    env = xpid_env(aws, home, home / "no-kubeconfig")
    env.pop("KUBECONFIG", None)
    example = str(EXAMPLES / "eks-irsa-private-ecr" / "fixed")
    with_cloud = subprocess.run([str(BIN), "verify", "-o", "json", "-f", example, "--cluster-name", "prod-eks", "--region", "us-east-2"],
                                env=env, capture_output=True, text=True, timeout=240)
    report = json.loads(with_cloud.stdout)
    statuses = {(f["check"], f["subject"]): f["status"] for f in report["findings"]}
    assert statuses[("eks.oidc-provider", "cluster")] == "pass", with_cloud.stdout[-3000:]
    assert statuses[("irsa.trust-policy", "crossplane-core/crossplane")] == "pass"
    without = subprocess.run([str(BIN), "verify", "-o", "json", "-f", example], env=env, capture_output=True, text=True, timeout=240)
    skipped = [f for f in json.loads(without.stdout)["findings"] if f["check"] == "irsa.trust-policy"]
    assert skipped and all(f["status"] == "skip" and "--cluster-name" in f["message"] for f in skipped), skipped
