"""End to end, IRSA and private registries: the built kubectl-xpid against the API emulator and
the real aws CLI (moto plus the stand-in). Each scenario is a seed set-up done right, or broken
in exactly one way, and asserts the exit code, the exact set of failing checks and the
remediation a user would copy:

- seed 000 (AWS tab): the Crossplane package manager pulls from private ECR with IRSA, the role
  annotation set through Helm `serviceAccount.customAnnotations`;
- seed 001: the node group role pulls the runtime images, and a private-registry service
  provider's family dependency resolves from the public registry and fails (fixed by installing
  the family from ECR and `skipDependencyResolution: true`);
- providers on IRSA the way the upjet AWS docs set them up (DeploymentRuntimeConfig annotation,
  `provider-aws-*` StringLike trust), next to providers on EKS Pod Identity.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import BIN, ReportView, require_binary, xpid_env  # noqa: E402
from aws_standin import AWSStandIn, seed  # noqa: E402
from kube_emulator import KubeEmulator  # noqa: E402
from scenarios import (ACCOUNT, ECR_READ_ONLY_ARN, NS, ROLE_ANNOTATION, UPJET_IRSA_TRUST, Cluster, digest12,  # noqa: E402
                       ecr_pull_policy, irsa_trust)

CORE = "crossplane-core/crossplane"
S3 = "provider/provider-aws-s3"
CORE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/CrossplaneECRRole"
IRSA_CHECKS = ["irsa.sa-annotation", "irsa.pods-current", "irsa.injected", "irsa.trust-policy"]


def _start_standin(load_aws_managed_policies: bool = False) -> AWSStandIn:
    require_binary()
    standin = AWSStandIn()
    # moto reads this when it starts; set only around the start so no other moto is affected.
    saved = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    if load_aws_managed_policies:
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    try:
        standin.start()
    finally:
        if load_aws_managed_policies:
            if saved is None:
                os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
            else:
                os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = saved
    return standin


@pytest.fixture(scope="module")
def aws():
    standin = _start_standin()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def aws_managed():
    """A stand-in whose moto knows the AWS-managed policies (AmazonEC2ContainerRegistryReadOnly on
    node roles). Loading them costs about a second per reset, so only node-pull scenarios use it."""
    standin = _start_standin(load_aws_managed_policies=True)
    yield standin
    standin.stop()


@dataclass
class Run(ReportView):
    """status/finding/failing/warnings/subject/explain from harness.ReportView (subject defaults to
    "cluster"; explain() shows every finding, passes too)."""
    kube_requests: list
    aws_requests: list
    seeded: dict

    explain_hides = ()

    def commands(self, check: str, subject: str = "cluster") -> list:
        remediation = self.finding(check, subject)["remediation"]
        assert remediation, f"{check} on {subject} has no remediation"
        return remediation["commands"]


def verify(cluster: Cluster, aws: AWSStandIn, tmp_path: Path, *args: str, simulate: bool = True) -> Run:
    """Seeds moto and the stand-in from the cluster's AWS spec, serves its objects from the API
    emulator, and runs `kubectl-xpid verify -v -o json ARGS` with the real kubectl and aws CLI."""
    aws.reset()
    seeded = seed(aws, cluster.aws_spec())
    if not simulate:
        aws.configure(simulate=False)
    before = len(aws.requests())
    emulator = KubeEmulator(cluster.kube_scenario())
    emulator.start()
    try:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        config = emulator.write_kubeconfig(str(tmp_path / "kubeconfig"), context=cluster.context,
                                           cluster_name=cluster.context, user_name=cluster.context)
        env = xpid_env(aws, home, config)
        proc = subprocess.run([str(BIN), "verify", "-v", "-o", "json", *args], env=env, capture_output=True, text=True, timeout=180)
        report = json.loads(proc.stdout) if proc.stdout.lstrip().startswith("{") else None
        return Run(proc, report, list(emulator.requests), aws.requests()[before:], seeded)
    finally:
        emulator.stop()


_SHARED_RUNS: dict = {}


def shared_verify(key: str, build, aws: AWSStandIn, tmp_path_factory, **options) -> Run:
    """One run per scenario for the whole module, for tests that assert different things (a
    bug's xfail apart from the behaviour that works) about the same cluster."""
    if key not in _SHARED_RUNS:
        _SHARED_RUNS[key] = verify(build(), aws, tmp_path_factory.mktemp(key), **options)
    return _SHARED_RUNS[key]


def policy_document(command: str) -> dict:
    """The JSON document of an `aws iam … --policy-document '…'` command."""
    quoted = command.split("--policy-document ", 1)[1]
    assert quoted.startswith("'") and quoted.endswith("'"), command
    return json.loads(quoted[1:-1].replace("'\\''", "'"))


def trust_allows(document: dict, subject: str, audience: str = "sts.amazonaws.com") -> bool:
    """Whether an IRSA trust document (as printed by a fix) lets `subject` assume the role: an
    Allow statement for sts:AssumeRoleWithWebIdentity whose :sub and :aud conditions match."""
    from fnmatch import fnmatchcase
    for statement in document["Statement"]:
        actions = statement.get("Action")
        if statement.get("Effect") != "Allow" or "sts:AssumeRoleWithWebIdentity" not in ([actions] if isinstance(actions, str) else actions):
            continue
        ok = True
        for operator, conditions in statement.get("Condition", {}).items():
            for key, wanted in conditions.items():
                value = subject if key.endswith(":sub") else audience if key.endswith(":aud") else None
                patterns = [wanted] if isinstance(wanted, str) else wanted
                match = (lambda p: fnmatchcase(value, p)) if operator == "StringLike" else (lambda p: value == p)
                ok = ok and value is not None and any(match(p) for p in patterns)
        if ok:
            return True
    return False


# ---- seed 000: the package manager pulls from private ECR with IRSA ----------------------------

def test_seed_000_done_right_passes(aws, tmp_path):
    run = verify(Cluster().irsa_core_seed(), aws, tmp_path)
    assert run.proc.returncode == 0, run.explain()
    assert run.failing() == set() and run.warnings() == set(), run.explain()
    for check in IRSA_CHECKS + ["crossplane.core-registry-identity", "crossplane.registry-permissions"]:
        assert run.status(check, CORE) == "pass", (check, run.explain())
    assert run.status("eks.oidc-provider") == "pass"
    core = run.subject(CORE)
    assert core["method"] == "irsa" and core["serviceAccount"] == "crossplane"
    assert ROLE_ANNOTATION in core["methodEvidence"]
    permissions = run.finding("crossplane.registry-permissions", CORE)
    assert permissions["evidence"]["decidedBy"] == "iam simulate-principal-policy"
    assert permissions["evidence"]["roleArn"] == CORE_ROLE
    assert run.finding("irsa.trust-policy", CORE)["evidence"]["subject"] == f"system:serviceaccount:{NS}:crossplane"
    # The simulator answered, so the role's policies were not read one by one; nothing was written.
    ops = [r["operation"] for r in run.aws_requests]
    assert ops.count("SimulatePrincipalPolicy") == 1 and "ListAttachedRolePolicies" not in ops
    assert ops.count("GetRole") == 1 and "GetOpenIDConnectProvider" in ops
    assert {r["method"] for r in run.kube_requests} <= {"GET"}


def test_seed_000_without_the_simulator_evaluates_the_policies_locally(aws, tmp_path):
    run = verify(Cluster().irsa_core_seed(), aws, tmp_path, simulate=False)
    assert run.proc.returncode == 0, run.explain()
    assert run.failing() == set() and run.warnings() == set(), run.explain()
    permissions = run.finding("crossplane.registry-permissions", CORE)
    assert permissions["status"] == "pass"
    assert permissions["evidence"]["decidedBy"] == "attached and inline policies evaluated locally"
    assert "SimulatePrincipalPolicy" in permissions["evidence"]["simulatorUnavailable"]
    assert "evaluated locally" in permissions["message"]
    ops = [r["operation"] for r in run.aws_requests]
    assert {"ListAttachedRolePolicies", "ListRolePolicies", "GetPolicy", "GetPolicyVersion"} <= set(ops)


def test_seed_000_with_the_provider_on_irsa_too_passes(aws, tmp_path):
    """The unit-level seed (ExamplesIRSA.irsaSeed) end to end: besides the package manager, the
    ECR provider itself runs on IRSA through its DeploymentRuntimeConfig; Crossplane copies the
    annotation onto the revision-named ServiceAccount, and the role trusts `provider-aws-*`."""
    c = Cluster()
    c.drc("irsa-runtimeconfig", sa_annotations={ROLE_ANNOTATION: c.role_arn("crossplane-provider-aws")})
    c.irsa_core_seed(s3={"runtime_config": "irsa-runtimeconfig", "env": "irsa"})
    c.role("crossplane-provider-aws", UPJET_IRSA_TRUST)
    c.provider_config("IRSA", api="aws.upbound.io", namespace=None)
    run = verify(c, aws, tmp_path)
    assert run.proc.returncode == 0, run.explain()
    assert run.failing() == set() and run.warnings() == set(), run.explain()
    s3 = run.subject(S3)
    revision = c.revision_of("provider-aws-s3")
    assert s3["method"] == "irsa" and s3["serviceAccount"] == revision
    assert "ServiceAccount annotation" in s3["methodEvidence"]
    for check in IRSA_CHECKS + ["irsa.stable-sa-name", "crossplane.providerconfig-source"]:
        assert run.status(check, S3) == "pass", (check, run.explain())
    assert "provider-aws-*" in run.finding("irsa.stable-sa-name", S3)["message"]
    assert run.subject(CORE)["method"] == "irsa"


def test_core_service_account_without_role_annotation(aws, tmp_path):
    """Crossplane installed without `serviceAccount.customAnnotations` while a package comes from
    ECR (it was installed before, through the node role): the package manager has no identity
    of its own for the next pull."""
    run = verify(Cluster().irsa_core_seed(role_arn=None), aws, tmp_path)
    assert run.proc.returncode == 1
    assert run.failing() == {("crossplane.core-registry-identity", CORE)}, run.explain()
    assert run.subject(CORE)["method"] == "none"
    finding = run.finding("crossplane.core-registry-identity", CORE)
    assert "provider/provider-aws-s3" in finding["message"] and f"{ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com" in finding["message"]
    assert finding["fixable"] is True
    # The role is not known: a shell variable the user sets (never a <PLACEHOLDER>, which a shell reads as a redirection).
    assert run.commands("crossplane.core-registry-identity", CORE) == [
        "helm upgrade crossplane crossplane-stable/crossplane --namespace crossplane-system --reuse-values --set-string "
        "'serviceAccount.customAnnotations.eks\\.amazonaws\\.com/role-arn='\"${ROLE_ARN}\"",
        "kubectl rollout restart deployment/crossplane -n crossplane-system --field-manager=kubectl-xpid",
    ]
    remediation = run.finding("crossplane.core-registry-identity", CORE)["remediation"]
    assert f"account {ACCOUNT}" in remediation["variables"]["ROLE_ARN"]
    assert run.status("crossplane.registry-permissions", CORE) == "skip"
    assert "blocked by crossplane.core-registry-identity" in run.finding("crossplane.registry-permissions", CORE)["message"]
    assert run.status("eks.oidc-provider") == "skip"  # nothing uses IRSA


def test_core_annotation_dropped_by_helm_upgrade_while_the_pod_still_has_the_role(aws, tmp_path):
    """`helm upgrade` without --reuse-values dropped the annotation; the running pod still carries
    the IRSA env from before, so the next restart loses the identity."""
    c = Cluster().irsa_core_seed()
    sa = next(o for o in c.objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == "crossplane")
    del sa["metadata"]["annotations"][ROLE_ANNOTATION]
    run = verify(c, aws, tmp_path)
    assert run.proc.returncode == 1
    assert run.failing() == {("irsa.sa-annotation", CORE)}, run.explain()
    assert run.subject(CORE)["method"] == "irsa" and "AWS_ROLE_ARN" in run.subject(CORE)["methodEvidence"]
    commands = run.commands("irsa.sa-annotation", CORE)
    assert commands[0].startswith("helm upgrade crossplane crossplane-stable/crossplane --namespace crossplane-system --reuse-values --set-string "
                                  "'serviceAccount.customAnnotations.eks\\.amazonaws\\.com/role-arn=")
    assert commands[1] == "kubectl rollout restart deployment/crossplane -n crossplane-system --field-manager=kubectl-xpid"
    for check in ["irsa.pods-current", "irsa.injected", "irsa.trust-policy"]:
        assert "blocked by irsa.sa-annotation" in run.finding(check, CORE)["message"]


@pytest.mark.parametrize("place, named", [("deployment", "Deployment crossplane"),
                                          ("pod-template", "the pod template of Deployment crossplane")])
def test_role_annotation_not_on_the_service_account(aws, tmp_path_factory, place, named):
    run = shared_verify(f"annotation-on-{place}", lambda: Cluster().irsa_core_seed(annotation_on=place), aws, tmp_path_factory)
    assert run.proc.returncode == 1
    assert run.failing() == {("irsa.sa-annotation", CORE)}, run.explain()
    finding = run.finding("irsa.sa-annotation", CORE)
    assert f"is set on {named}, not on ServiceAccount crossplane-system/crossplane" in finding["message"]
    assert finding["evidence"] == {"misplacedOn": named, "roleArn": CORE_ROLE}
    assert run.commands("irsa.sa-annotation", CORE) == [
        "helm upgrade crossplane crossplane-stable/crossplane --namespace crossplane-system --reuse-values --set-string "
        f"'serviceAccount.customAnnotations.eks\\.amazonaws\\.com/role-arn={CORE_ROLE}'",
        "kubectl rollout restart deployment/crossplane -n crossplane-system --field-manager=kubectl-xpid",
    ]
    assert run.status("irsa.trust-policy", CORE) == "skip"


def test_misplaced_core_annotation_is_not_a_registry_identity(aws, tmp_path_factory):
    run = shared_verify("annotation-on-deployment", lambda: Cluster().irsa_core_seed(annotation_on="deployment"), aws, tmp_path_factory)
    assert run.status("crossplane.core-registry-identity", CORE) != "pass", run.finding("crossplane.core-registry-identity", CORE)["message"]


def test_core_annotated_but_not_restarted(aws, tmp_path):
    """Seed 000's `helm upgrade … --set serviceAccount.customAnnotations…` without its
    `kubectl rollout restart`: the running pod predates the annotation and has no role."""
    run = verify(Cluster().irsa_core_seed(injected=False), aws, tmp_path)
    assert run.proc.returncode == 1
    assert run.failing() == {("irsa.pods-current", CORE)}, run.explain()
    finding = run.finding("irsa.pods-current", CORE)
    assert "(no AWS_ROLE_ARN) predate the ServiceAccount's" in finding["message"] and finding["fixable"] is True
    assert run.commands("irsa.pods-current", CORE) == ["kubectl rollout restart deployment/crossplane -n crossplane-system --field-manager=kubectl-xpid"]
    assert "blocked by irsa.pods-current" in run.finding("irsa.injected", CORE)["message"]
    # The role, its trust and its permissions are right: the restart is all that is missing.
    for check in ["irsa.trust-policy", "crossplane.core-registry-identity", "crossplane.registry-permissions"]:
        assert run.status(check, CORE) == "pass", check


def test_provider_role_annotation_on_the_runtime_config_deployment_template(aws, tmp_path):
    """The role put in the DeploymentRuntimeConfig's deploymentTemplate.metadata (the Deployment
    object) instead of serviceAccountTemplate.metadata: the revision's ServiceAccount has none."""
    c = Cluster().node("ip-10-0-1-10").crossplane_core()
    role = c.role_arn("crossplane-provider-aws")
    c.drc("irsa-runtimeconfig", deployment_annotations={ROLE_ANNOTATION: role})
    c.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", runtime_config="irsa-runtimeconfig", env=None)
    c.role("crossplane-provider-aws", UPJET_IRSA_TRUST).provider_config("IRSA", api="aws.upbound.io", namespace=None)
    run = verify(c, aws, tmp_path)
    assert run.proc.returncode == 1
    assert run.failing() == {("irsa.sa-annotation", S3)}, run.explain()
    revision = c.revision_of("provider-aws-s3")
    assert (f"is set on DeploymentRuntimeConfig irsa-runtimeconfig deploymentTemplate.metadata, not on ServiceAccount "
            f"crossplane-system/{revision}") in run.finding("irsa.sa-annotation", S3)["message"]
    assert run.commands("irsa.sa-annotation", S3) == [
        "kubectl patch deploymentruntimeconfigs.pkg.crossplane.io irsa-runtimeconfig --type merge -p "
        f"'{{\"spec\":{{\"serviceAccountTemplate\":{{\"metadata\":{{\"annotations\":{{\"eks.amazonaws.com/role-arn\":\"{role}\"}}}}}}}}}}' --field-manager=kubectl-xpid",
        f"kubectl rollout restart deployment/{revision} -n crossplane-system --field-manager=kubectl-xpid",
    ]


def test_trust_names_the_wrong_namespace(aws, tmp_path):
    run = verify(Cluster().irsa_core_seed(trust=irsa_trust("system:serviceaccount:default:crossplane")), aws, tmp_path)
    assert run.proc.returncode == 1
    assert run.failing() == {("irsa.trust-policy", CORE)}, run.explain()
    finding = run.finding("irsa.trust-policy", CORE)
    assert "system:serviceaccount:default:crossplane" in finding["message"]
    [command] = run.commands("irsa.trust-policy", CORE)
    assert command.startswith("aws iam update-assume-role-policy --role-name CrossplaneECRRole --policy-document '")
    document = policy_document(command)
    provider = run.seeded["oidcProviderArn"].split(":oidc-provider/", 1)[1]
    # The existing statement stays (the role may serve workloads the tool does not see); one is added.
    original, statement = document["Statement"]
    assert original["Condition"]["StringEquals"][f"{provider}:sub"] == "system:serviceaccount:default:crossplane"
    assert statement["Principal"] == {"Federated": run.seeded["oidcProviderArn"]}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {f"{provider}:sub": "system:serviceaccount:crossplane-system:crossplane",
                                                      f"{provider}:aud": "sts.amazonaws.com"}


def test_trust_audience_misspelt(aws, tmp_path):
    trust = irsa_trust(f"system:serviceaccount:{NS}:crossplane", audience="sts.amazon.com")
    run = verify(Cluster().irsa_core_seed(trust=trust), aws, tmp_path)
    assert run.proc.returncode == 1
    assert run.failing() == {("irsa.trust-policy", CORE)}, run.explain()
    assert "sts.amazon.com" in run.finding("irsa.trust-policy", CORE)["message"]
    document = policy_document(run.commands("irsa.trust-policy", CORE)[0])
    assert trust_allows(document, f"system:serviceaccount:{NS}:crossplane")
    assert list(document["Statement"][-1]["Condition"]["StringEquals"].values()).count("sts.amazonaws.com") == 1
    assert len(document["Statement"]) == 2, "the misspelt statement is kept, a correct one is added"


def test_no_iam_oidc_provider_for_the_issuer(aws, tmp_path):
    c = Cluster().irsa_core_seed()
    c.oidc_provider = False
    run = verify(c, aws, tmp_path)
    assert run.proc.returncode == 1
    assert run.failing() == {("eks.oidc-provider", "cluster")}, run.explain()
    issuer = run.seeded["issuer"]
    assert issuer in run.finding("eks.oidc-provider")["message"]
    assert run.commands("eks.oidc-provider") == [
        "eksctl utils associate-iam-oidc-provider --cluster prod-eks --region us-east-2 --approve",
        f"aws iam create-open-id-connect-provider --url {issuer} --client-id-list sts.amazonaws.com",
    ]
    assert run.status("irsa.trust-policy", CORE) == "skip"
    assert "blocked by eks.oidc-provider" in run.finding("irsa.trust-policy", CORE)["message"]
    # The cluster-side links are unaffected.
    for check in ["irsa.sa-annotation", "irsa.pods-current", "irsa.injected", "crossplane.registry-permissions"]:
        assert run.status(check, CORE) == "pass", check


def test_oidc_provider_without_the_sts_audience(aws, tmp_path):
    c = Cluster().irsa_core_seed()
    c.oidc_provider = {"clientIds": ["sts.amazon.com"]}
    run = verify(c, aws, tmp_path)
    assert run.failing() == {("eks.oidc-provider", "cluster")}, run.explain()
    assert run.commands("eks.oidc-provider") == [
        f"aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {run.seeded['oidcProviderArn']} "
        "--client-id sts.amazonaws.com"]


REPO = f"arn:aws:ecr:us-east-2:{ACCOUNT}:repository/crossplane/provider-aws-s3"


@pytest.mark.parametrize("simulate", [True, False], ids=["simulator", "local-evaluation"])
def test_core_policy_without_batch_get_image(aws, tmp_path, simulate):
    policy = ecr_pull_policy(f"arn:aws:ecr:us-east-2:{ACCOUNT}:repository/*",
                             actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"])
    run = verify(Cluster().irsa_core_seed(policy=policy), aws, tmp_path, simulate=simulate)
    assert run.proc.returncode == 1
    assert run.failing() == {("crossplane.registry-permissions", CORE)}, run.explain()
    finding = run.finding("crossplane.registry-permissions", CORE)
    assert f"may not ecr:BatchGetImage on {REPO} (implicitDeny)" in finding["message"]
    assert "GetDownloadUrlForLayer" not in finding["message"] and "GetAuthorizationToken" not in finding["message"]
    assert finding["evidence"]["decidedBy"] == ("iam simulate-principal-policy" if simulate else "attached and inline policies evaluated locally")
    [command] = run.commands("crossplane.registry-permissions", CORE)
    assert command.startswith("aws iam put-role-policy --role-name CrossplaneECRRole --policy-name crossplane-ecr-pull --policy-document '")
    statements = policy_document(command)["Statement"]
    assert any("ecr:BatchGetImage" in s["Action"] and s["Resource"] == [REPO] for s in statements)


@pytest.mark.parametrize("simulate", [True, False], ids=["simulator", "local-evaluation"])
def test_core_policy_resource_without_repository_prefix(aws, tmp_path, simulate):
    """Seed 001's policy: `arn:aws:ecr:REGION:ACCOUNT:upbound/provider-*` lacks `repository/`, so
    it matches no repository ARN and every pull is denied (the token alone is allowed)."""
    policy = ecr_pull_policy([f"arn:aws:ecr:us-east-2:{ACCOUNT}:crossplane/provider-*", f"arn:aws:ecr:us-east-2:{ACCOUNT}:crossplane/function-*"])
    run = verify(Cluster().irsa_core_seed(policy=policy), aws, tmp_path, simulate=simulate)
    assert run.proc.returncode == 1
    assert run.failing() == {("crossplane.registry-permissions", CORE)}, run.explain()
    finding = run.finding("crossplane.registry-permissions", CORE)
    for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]:
        assert f"{action} on {REPO}" in finding["message"], action
    assert "GetAuthorizationToken" not in finding["message"]
    assert "repository/NAME" in finding["remediation"]["summary"]


# ---- seed 000's warning and seed 001: the nodes pull the runtime images ------------------------

def image_pull_backoff(ecr_read: bool) -> Cluster:
    """Seed 000 done right, but the provider's runtime pod cannot pull its image on node
    ip-10-0-2-20 of managed node group `default`, whose role has (or lacks) ECR read."""
    c = Cluster().irsa_core_seed(s3={"pull_error": "ImagePullBackOff", "node": "ip-10-0-2-20"})
    return c.managed_node_group("default", "eks-node-default", ecr_read=ecr_read)


def test_image_pull_backoff_node_role_without_ecr_read(aws_managed, tmp_path):
    run = verify(image_pull_backoff(ecr_read=False), aws_managed, tmp_path)
    assert run.proc.returncode == 1
    assert run.failing() == {("crossplane.node-pull", S3), ("crossplane.package-health", S3)}, run.explain()
    finding = run.finding("crossplane.node-pull", S3)
    image = f"{ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com/crossplane/provider-aws-s3:v1.2.0"
    assert f"is in ImagePullBackOff for {image}" in finding["message"]
    assert "role eks-node-default (node group default) may not" in finding["message"]
    assert f"ecr:BatchGetImage on {REPO}" in finding["message"]
    assert finding["evidence"]["nodegroup"] == "default" and finding["evidence"]["node"] == "ip-10-0-2-20"
    assert finding["evidence"]["nodeRole"] == f"arn:aws:iam::{ACCOUNT}:role/eks-node-default"
    commands = run.commands("crossplane.node-pull", S3)
    assert f"aws iam attach-role-policy --role-name eks-node-default --policy-arn {ECR_READ_ONLY_ARN}" in commands
    # The node group was read only because a pod could not pull, and the node role was simulated.
    paths = [r["path"] for r in run.aws_requests]
    assert paths.count("/clusters/prod-eks/node-groups/default") == 1
    assert [r["operation"] for r in run.aws_requests].count("SimulatePrincipalPolicy") == 2  # package manager + node role
    # The package manager's identity is fine: only the node side is reported.
    assert run.status("crossplane.registry-permissions", CORE) == "pass"


def test_image_pull_backoff_node_role_with_ecr_read(aws_managed, tmp_path_factory):
    """Control: the node role has AmazonEC2ContainerRegistryReadOnly. The pod still cannot pull,
    so node-pull still fails, but it says the role is allowed and to look elsewhere."""
    run = shared_verify("pull-ecr-read", lambda: image_pull_backoff(ecr_read=True), aws_managed, tmp_path_factory)
    assert run.proc.returncode == 1
    assert run.failing() == {("crossplane.node-pull", S3), ("crossplane.package-health", S3)}, run.explain()
    finding = run.finding("crossplane.node-pull", S3)
    assert "the node role eks-node-default is allowed to pull, so check the repository policy, the tag and the registry's region" in finding["message"]
    assert finding["evidence"]["decidedBy"] == "iam simulate-principal-policy"


def test_image_pull_backoff_with_allowed_node_role_does_not_ask_to_grant_ecr_read(aws_managed, tmp_path_factory):
    run = shared_verify("pull-ecr-read", lambda: image_pull_backoff(ecr_read=True), aws_managed, tmp_path_factory)
    remediation = run.finding("crossplane.node-pull", S3)["remediation"]
    assert not any("AmazonEC2ContainerRegistryReadOnly" in command or "put-role-policy" in command for command in remediation["commands"]), remediation
    assert "grant" not in remediation["summary"], remediation


def test_seed_001_family_dependency_from_the_public_registry_fails(aws, tmp_path_factory):
    run = shared_verify("seed-001", lambda: Cluster(region="eu-west-2").seed_001(), aws, tmp_path_factory)
    assert run.proc.returncode == 1
    family = "provider/upbound-provider-family-aws"
    assert run.failing() == {("crossplane.private-dependencies", S3), ("crossplane.package-health", family)}, run.explain()
    registry = f"{ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com"
    finding = run.finding("crossplane.private-dependencies", S3)
    assert f"comes from private registry {registry}, and its dependency did not resolve: upbound-provider-family-aws from " \
           "xpkg.upbound.io/upbound/provider-family-aws:v2.2.0" in finding["message"]
    assert "unauthorized: authentication required" in finding["message"].lower()
    assert run.commands("crossplane.private-dependencies", S3) == [
        "printf '%s\\n' '{\"apiVersion\":\"pkg.crossplane.io/v1\",\"kind\":\"Provider\",\"metadata\":{\"name\":\"provider-family-aws\"},"
        f"\"spec\":{{\"package\":\"{registry}/upbound/provider-family-aws:v2.2.0\"}}}}' | kubectl apply --server-side --field-manager=kubectl-xpid -f -",
        "kubectl patch providers.pkg.crossplane.io provider-aws-s3 --type merge -p '{\"spec\":{\"skipDependencyResolution\":true}}' --field-manager=kubectl-xpid",
        "kubectl delete providers.pkg.crossplane.io upbound-provider-family-aws",
    ]
    health = run.finding("crossplane.package-health", family)
    assert "Installed=False (UnpackingPackage)" in health["message"]
    assert health["evidence"]["decoded"].startswith("this family provider was installed as a dependency of a provider from a private registry")
    # Seed 001's core pulls from ECR fine: its identity, trust and policy all pass.
    for check in IRSA_CHECKS + ["crossplane.core-registry-identity", "crossplane.registry-permissions"]:
        assert run.status(check, CORE) == "pass", check


def test_seed_001_failing_family_points_at_private_dependencies(aws, tmp_path_factory):
    run = shared_verify("seed-001", lambda: Cluster(region="eu-west-2").seed_001(), aws, tmp_path_factory)
    health = run.finding("crossplane.package-health", "provider/upbound-provider-family-aws")
    assert health["evidence"].get("seeCheck") == "crossplane.private-dependencies", health


def test_seed_001_fixed_family_from_ecr_and_skip_dependency_resolution(aws, tmp_path):
    run = verify(Cluster(region="eu-west-2").seed_001(fixed=True), aws, tmp_path)
    assert run.proc.returncode == 0, run.explain()
    assert run.failing() == set() and run.warnings() == set(), run.explain()
    finding = run.finding("crossplane.private-dependencies", S3)
    assert finding["status"] == "pass"
    assert f"provider-family-aws installed and healthy from {ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com" in finding["message"]
    assert "2 ECR repositories" in run.finding("crossplane.registry-permissions", CORE)["message"]
    assert run.subject("provider/provider-family-aws")["method"] == "none"


# ---- providers on IRSA (upjet docs) and next to Pod Identity ------------------------------------

def test_irsa_and_pod_identity_providers_side_by_side(aws, tmp_path):
    c = Cluster().irsa_and_pod_identity()
    run = verify(c, aws, tmp_path)
    assert run.failing() == set() and run.warnings() == set(), run.explain()
    assert run.proc.returncode == 0
    ec2 = "provider/provider-aws-ec2"
    s3, ec2_subject = run.subject(S3), run.subject(ec2)
    assert s3["method"] == "irsa" and s3["serviceAccount"] == c.revision_of("provider-aws-s3")
    assert ec2_subject["method"] == "pod-identity" and ec2_subject["serviceAccount"] == "provider-aws-ec2"
    assert run.subject("provider/upbound-provider-family-aws")["method"] == "none"
    for check in IRSA_CHECKS + ["irsa.stable-sa-name"]:
        assert run.status(check, S3) == "pass", check
    for check in ["podid.stable-sa-name", "podid.association", "podid.trust-policy", "podid.pods-current", "podid.injected",
                  "podid.irsa-shadowing", "eks.pod-identity-agent"]:
        assert run.status(check, ec2) == "pass", check
    assert run.status("eks.oidc-provider") == "pass" and run.status("eks.pod-identity-addon") == "pass"
    # Each provider's ProviderConfig is the one of its own method.
    assert run.status("crossplane.providerconfig-source", S3) == "pass"
    assert "providerconfig.aws.upbound.io default uses credentials.source IRSA" in run.finding("crossplane.providerconfig-source", S3)["message"]
    assert run.status("crossplane.providerconfig-source", ec2) == "pass"
    assert "credentials.source PodIdentity" in run.finding("crossplane.providerconfig-source", ec2)["message"]


def test_upjet_wildcard_does_not_match_a_provider_named_upbound_provider_aws_s3(aws, tmp_path):
    c = Cluster().node("ip-10-0-1-10").crossplane_core()
    c.irsa_provider("upbound-provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0")
    c.provider_config("IRSA", api="aws.upbound.io", namespace=None)
    run = verify(c, aws, tmp_path)
    subject = "provider/upbound-provider-aws-s3"
    assert run.proc.returncode == 1
    assert run.failing() == {("irsa.trust-policy", subject)}, run.explain()
    message = run.finding("irsa.trust-policy", subject)["message"]
    assert f"system:serviceaccount:{NS}:provider-aws-* only matches Providers whose object name starts with provider-aws-" in message
    assert "here upbound-provider-aws-s3" in message
    document = policy_document(run.commands("irsa.trust-policy", subject)[0])
    assert trust_allows(document, f"system:serviceaccount:{NS}:{c.revision_of('upbound-provider-aws-s3')}")
    assert trust_allows(document, f"system:serviceaccount:{NS}:upbound-provider-aws-s3-0123456789ab"), "the next revision must match too"
    assert run.status("irsa.stable-sa-name", subject) == "skip"


def test_trust_fix_on_a_shared_role_keeps_the_providers_that_match(aws, tmp_path):
    c = Cluster().node("ip-10-0-1-10").crossplane_core()
    c.irsa_provider("provider-aws-ec2", "xpkg.upbound.io/upbound/provider-aws-ec2:v2.3.0")
    c.irsa_provider("upbound-provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0")
    c.provider_config("IRSA", api="aws.upbound.io", namespace=None)
    run = verify(c, aws, tmp_path)
    assert run.failing() == {("irsa.trust-policy", "provider/upbound-provider-aws-s3")}, run.explain()
    assert run.status("irsa.trust-policy", "provider/provider-aws-ec2") == "pass"
    document = policy_document(run.commands("irsa.trust-policy", "provider/upbound-provider-aws-s3")[0])
    assert trust_allows(document, f"system:serviceaccount:{NS}:{c.revision_of('upbound-provider-aws-s3')}")
    assert trust_allows(document, f"system:serviceaccount:{NS}:{c.revision_of('provider-aws-ec2')}"), document


@pytest.mark.parametrize("fail_on, code", [(None, 0), ("warn", 1)])
def test_trust_pins_the_revision_hashed_service_account(aws, tmp_path, fail_on, code):
    c = Cluster().node("ip-10-0-1-10").crossplane_core()
    package = "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0"
    revision = f"provider-aws-s3-{digest12(package)}"
    c.irsa_provider("provider-aws-s3", package, trust=irsa_trust(f"system:serviceaccount:{NS}:{revision}"))
    c.provider_config("IRSA", api="aws.upbound.io", namespace=None)
    assert c.revision_of("provider-aws-s3") == revision
    run = verify(c, aws, tmp_path, *(["--fail-on", fail_on] if fail_on else []))
    assert run.proc.returncode == code, run.explain()
    assert run.failing() == set(), run.explain()
    assert run.warnings() == {("irsa.stable-sa-name", S3)}
    assert run.status("irsa.trust-policy", S3) == "pass"
    finding = run.finding("irsa.stable-sa-name", S3)
    assert f"trusts exactly system:serviceaccount:{NS}:{revision}, the revision-hashed name" in finding["message"]
    document = policy_document(run.commands("irsa.stable-sa-name", S3)[0])
    assert trust_allows(document, f"system:serviceaccount:{NS}:{revision}")
    assert trust_allows(document, f"system:serviceaccount:{NS}:provider-aws-s3-0123456789ab"), "the next revision must match too"


# ---- the seeder ---------------------------------------------------------------------------------

def test_seeded_managed_node_group_is_what_describe_nodegroup_returns(aws, tmp_path):
    c = Cluster().managed_node_group("workers", "eks-node-workers", ecr_read=False,
                                     inline=[{"name": "ecr-pull", "document": ecr_pull_policy("*")}])
    aws.reset()
    seeded = seed(aws, c.aws_spec())
    assert seeded["nodegroupArns"]["workers"].startswith(f"arn:aws:eks:us-east-2:{ACCOUNT}:nodegroup/prod-eks/workers/")
    proc = subprocess.run(["aws", "eks", "describe-nodegroup", "--cluster-name", "prod-eks", "--nodegroup-name", "workers",
                           "--query", "nodegroup.nodeRole", "--output", "text"],
                          env=aws.env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == seeded["roleArns"]["eks-node-workers"]
