"""Drives the real `aws` CLI (awscli v1) against the stand-in in aws_standin.py.

These tests pin both the stand-in's behaviour and what the CLI prints and exits with,
since kubectl-xpid classifies failures from exactly that output.
"""

import json
import os
import pathlib
import re
import socket
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from aws_standin import ACCOUNT_ID, AWSStandIn, seed  # noqa: E402

CLUSTER = "demo"
APP_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/app"
DENIED = (f"User: arn:aws:iam::{ACCOUNT_ID}:user/dev is not authorized to perform: "
          f"eks:ListPodIdentityAssociations on resource: "
          f"arn:aws:eks:us-east-2:{ACCOUNT_ID}:cluster/{CLUSTER}")


@pytest.fixture(scope="module")
def standin():
    with AWSStandIn() as running:
        yield running


@pytest.fixture(autouse=True)
def clean(standin):
    standin.reset()


def demo_spec() -> dict:
    return {
        "cluster": {"name": CLUSTER, "region": "us-east-2", "version": "1.31"},
        "oidcProvider": {"clientIds": ["sts.amazonaws.com"]},
        "roles": [{
            "name": "app",
            "trust": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": "${OIDC_PROVIDER_ARN}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {
                    "${OIDC_PROVIDER}:sub": "system:serviceaccount:shop:cart"}},
            }]},
            "managedPolicies": [{"name": "s3-read", "document": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::orders/*"},
                {"Effect": "Deny", "Action": "s3:GetObjectAcl", "Resource": "*"},
            ]}}],
            "inlinePolicies": [{"name": "tables", "document": {"Version": "2012-10-17", "Statement": {
                "Effect": "Allow", "Action": ["dynamodb:Query"],
                "Resource": "arn:aws:dynamodb:*:${ACCOUNT_ID}:table/t?",
            }}}],
        }],
        "associations": [
            {"namespace": "shop", "serviceAccount": "cart", "roleName": "app",
             "createdAt": "2026-01-01T00:00:00Z"},
            {"namespace": "shop", "serviceAccount": "pay", "roleName": "app",
             "createdAt": 1767312000},
        ],
        "addon": {"status": "ACTIVE"},
    }


@pytest.fixture
def demo(standin):
    return seed(standin, demo_spec())


def aws(standin, *args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["aws", *args], env={**standin.env(), **(env or {})},
                          capture_output=True, text=True, timeout=60)


def aws_json(standin, *args) -> dict:
    done = aws(standin, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def operations(standin, since: int = 0) -> list[str]:
    """Operations the stand-in received, from the `since`-th on (seeding counts too)."""
    return [r["operation"] for r in standin.requests()[since:]]


# --- seeding and forwarding to moto -----------------------------------------------------

def test_seed_creates_cluster_provider_roles_and_associations(standin, demo):
    assert re.fullmatch(r"https://oidc\.eks\.us-east-2\.amazonaws\.com/id/\w+", demo["issuer"])
    provider = demo["issuer"].removeprefix("https://")
    assert demo["oidcProviderArn"] == f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{provider}"
    assert demo["roleArns"] == {"app": APP_ROLE_ARN}
    assert len(demo["associationIds"]) == 2
    oidc = aws_json(standin, "iam", "get-open-id-connect-provider",
                    "--open-id-connect-provider-arn", demo["oidcProviderArn"])
    assert oidc["ClientIDList"] == ["sts.amazonaws.com"]


def test_get_role_is_forwarded_and_trust_policy_printed_as_json_object(standin, demo):
    role = aws_json(standin, "iam", "get-role", "--role-name", "app")["Role"]
    # IAM sends the document URL-encoded; the CLI decodes it into an object.
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    provider = demo["issuer"].removeprefix("https://")
    assert statement["Principal"] == {"Federated": demo["oidcProviderArn"]}
    assert statement["Condition"]["StringEquals"] == {f"{provider}:sub": "system:serviceaccount:shop:cart"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", role["CreateDate"])  # IAM: ISO 8601 string


def test_describe_cluster_is_forwarded(standin, demo):
    before = len(standin.requests())
    cluster = aws_json(standin, "eks", "describe-cluster", "--name", CLUSTER)["cluster"]
    assert cluster["identity"]["oidc"]["issuer"] == demo["issuer"]
    assert operations(standin, before) == ["DescribeCluster"]


def test_sts_get_caller_identity_is_forwarded(standin):
    identity = aws_json(standin, "sts", "get-caller-identity")
    assert identity["Account"] == ACCOUNT_ID
    assert standin.requests()[0]["service"] == "sts"


# --- pod identity associations ----------------------------------------------------------

def test_list_associations_has_no_role_arn(standin, demo):
    listed = aws_json(standin, "eks", "list-pod-identity-associations", "--cluster-name", CLUSTER)
    assert [(a["namespace"], a["serviceAccount"]) for a in listed["associations"]] == [
        ("shop", "cart"), ("shop", "pay")]
    for association in listed["associations"]:
        assert set(association) == {"clusterName", "namespace", "serviceAccount",
                                    "associationArn", "associationId"}


def test_list_associations_filters_by_namespace_and_service_account(standin, demo):
    listed = aws_json(standin, "eks", "list-pod-identity-associations", "--cluster-name", CLUSTER,
                      "--namespace", "shop", "--service-account", "pay")
    assert [a["associationId"] for a in listed["associations"]] == [demo["associationIds"][1]]


def test_describe_association_has_role_arn_and_epoch_timestamps(standin, demo):
    association = aws_json(standin, "eks", "describe-pod-identity-association", "--cluster-name",
                           CLUSTER, "--association-id", demo["associationIds"][0])["association"]
    assert association["roleArn"] == APP_ROLE_ARN
    # awscli v1 prints REST-JSON timestamps as the raw epoch number it received.
    assert association["createdAt"] == 1767225600.0  # 2026-01-01T00:00:00Z
    assert association["modifiedAt"] == association["createdAt"]
    assert association["disableSessionTags"] is False
    assert association["associationArn"] == (f"arn:aws:eks:us-east-2:{ACCOUNT_ID}:podidentityassociation/"
                                             f"{CLUSTER}/{demo['associationIds'][0]}")


def test_create_update_delete_association(standin, demo):
    created = aws_json(standin, "eks", "create-pod-identity-association", "--cluster-name", CLUSTER,
                       "--namespace", "web", "--service-account", "front",
                       "--role-arn", APP_ROLE_ARN)["association"]
    assert re.fullmatch(r"a-[a-z0-9]{17}", created["associationId"])

    duplicate = aws(standin, "eks", "create-pod-identity-association", "--cluster-name", CLUSTER,
                    "--namespace", "web", "--service-account", "front", "--role-arn", APP_ROLE_ARN)
    assert duplicate.returncode == 255
    assert "An error occurred (ResourceInUseException) when calling the " \
           "CreatePodIdentityAssociation operation" in duplicate.stderr

    new_role = f"arn:aws:iam::{ACCOUNT_ID}:role/other"
    updated = aws_json(standin, "eks", "update-pod-identity-association", "--cluster-name", CLUSTER,
                       "--association-id", created["associationId"], "--role-arn", new_role)["association"]
    assert updated["roleArn"] == new_role
    assert updated["modifiedAt"] > created["modifiedAt"]

    aws_json(standin, "eks", "delete-pod-identity-association", "--cluster-name", CLUSTER,
             "--association-id", created["associationId"])
    gone = aws(standin, "eks", "describe-pod-identity-association", "--cluster-name", CLUSTER,
               "--association-id", created["associationId"])
    assert gone.returncode == 255
    assert "(ResourceNotFoundException) when calling the DescribePodIdentityAssociation" in gone.stderr


def test_unknown_cluster_is_resource_not_found(standin):
    done = aws(standin, "eks", "list-pod-identity-associations", "--cluster-name", "ghost")
    assert (done.returncode, done.stderr) == (255, (
        "\nAn error occurred (ResourceNotFoundException) when calling the "
        "ListPodIdentityAssociations operation: No cluster found for name: ghost.\n"))


def test_page_size_fetches_every_page(standin, demo):
    for index in range(3):
        standin.add_association(CLUSTER, "batch", f"job-{index}", APP_ROLE_ARN)
    before = len(standin.requests())
    listed = aws_json(standin, "eks", "list-pod-identity-associations", "--cluster-name", CLUSTER,
                      "--page-size", "2")
    assert len(listed["associations"]) == 5
    assert "nextToken" not in listed and "NextToken" not in listed
    assert operations(standin, before) == ["ListPodIdentityAssociations"] * 3


def test_max_items_returns_a_token_to_resume_from(standin, demo):
    for index in range(3):
        standin.add_association(CLUSTER, "batch", f"job-{index}", APP_ROLE_ARN)
    first = aws_json(standin, "eks", "list-pod-identity-associations", "--cluster-name", CLUSTER,
                     "--max-items", "3", "--page-size", "2")
    assert len(first["associations"]) == 3
    rest = aws_json(standin, "eks", "list-pod-identity-associations", "--cluster-name", CLUSTER,
                    "--starting-token", first["NextToken"])
    assert [a["serviceAccount"] for a in first["associations"] + rest["associations"]] == [
        "cart", "pay", "job-0", "job-1", "job-2"]


# --- add-ons ----------------------------------------------------------------------------

def test_describe_addon_active(standin, demo):
    addon = aws_json(standin, "eks", "describe-addon", "--cluster-name", CLUSTER,
                     "--addon-name", "eks-pod-identity-agent")["addon"]
    assert (addon["status"], addon["health"]) == ("ACTIVE", {"issues": []})
    assert addon["addonArn"].startswith(
        f"arn:aws:eks:us-east-2:{ACCOUNT_ID}:addon/{CLUSTER}/eks-pod-identity-agent/")
    assert isinstance(addon["createdAt"], float)


def test_describe_addon_not_found(standin, demo):
    done = aws(standin, "eks", "describe-addon", "--cluster-name", CLUSTER, "--addon-name", "vpc-cni")
    assert (done.returncode, done.stdout) == (255, "")
    assert done.stderr == ("\nAn error occurred (ResourceNotFoundException) when calling the "
                           "DescribeAddon operation: No addon: vpc-cni found in cluster: demo\n")


def test_degraded_addon_reports_health_issues(standin, demo):
    issue = {"code": "InsufficientNumberOfReplicas", "message": "0 of 2 pods ready",
             "resourceIds": ["eks-pod-identity-agent"]}
    standin.add_addon(CLUSTER, "DEGRADED", addon_name="coredns", issues=[issue])
    addon = aws_json(standin, "eks", "describe-addon", "--cluster-name", CLUSTER,
                     "--addon-name", "coredns")["addon"]
    assert (addon["status"], addon["health"]["issues"]) == ("DEGRADED", [issue])


def test_create_addon_and_list_addons(standin):
    seed(standin, {"cluster": {"name": CLUSTER}})
    created = aws_json(standin, "eks", "create-addon", "--cluster-name", CLUSTER,
                       "--addon-name", "eks-pod-identity-agent",
                       "--pod-identity-associations",
                       f"serviceAccount=agent,roleArn={APP_ROLE_ARN}")["addon"]
    assert created["status"] == "CREATING"
    assert aws_json(standin, "eks", "list-addons", "--cluster-name", CLUSTER) == {
        "addons": ["eks-pod-identity-agent"]}
    # The association made for the add-on is owned by it.
    listed = aws_json(standin, "eks", "list-pod-identity-associations", "--cluster-name", CLUSTER)
    assert [a["ownerArn"] for a in listed["associations"]] == [created["addonArn"]]
    assert listed["associations"][0]["associationArn"] == created["podIdentityAssociations"][0]


# --- IAM policy simulator ---------------------------------------------------------------

def simulate(standin, actions, resources=("*",)) -> list[tuple]:
    results = aws_json(standin, "iam", "simulate-principal-policy", "--policy-source-arn",
                       APP_ROLE_ARN, "--action-names", *actions,
                       "--resource-arns", *resources)["EvaluationResults"]
    return [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"],
             [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in r["MatchedStatements"]])
            for r in results]


def test_simulate_allowed_and_denied_with_wildcards(standin, demo):
    assert simulate(standin, ["S3:GETOBJECT", "s3:GetObjectAcl", "s3:PutObject"],
                    ["arn:aws:s3:::orders/2026/1.json"]) == [
        # "s3:Get*" matches case-insensitively; the resource "orders/*" matches.
        ("S3:GETOBJECT", "arn:aws:s3:::orders/2026/1.json", "allowed", [("s3-read", "user-managed")]),
        # The Deny wins over the matching Allow.
        ("s3:GetObjectAcl", "arn:aws:s3:::orders/2026/1.json", "explicitDeny", [("s3-read", "user-managed")]),
        ("s3:PutObject", "arn:aws:s3:::orders/2026/1.json", "implicitDeny", []),
    ]
    table = "arn:aws:dynamodb:us-east-2:123456789012:table/"
    assert simulate(standin, ["dynamodb:Query"], [table + "t1", table + "t10", "*"]) == [
        ("dynamodb:Query", table + "t1", "allowed", [("tables", "role")]),  # "t?" matches one character
        ("dynamodb:Query", table + "t10", "implicitDeny", []),
        ("dynamodb:Query", "*", "implicitDeny", []),
    ]


def test_simulate_reports_condition_keys_as_missing_context(standin, demo):
    condition = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sqs:*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "shop"}}}]})
    result = aws_json(standin, "iam", "simulate-principal-policy", "--policy-source-arn", APP_ROLE_ARN,
                      "--action-names", "sqs:SendMessage", "--policy-input-list", condition)
    assert result["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    assert result["EvaluationResults"][0]["MissingContextValues"] == ["aws:PrincipalTag/team"]


def test_simulate_unknown_role_is_no_such_entity(standin):
    done = aws(standin, "iam", "simulate-principal-policy", "--policy-source-arn",
               f"arn:aws:iam::{ACCOUNT_ID}:role/ghost", "--action-names", "s3:GetObject")
    assert (done.returncode, done.stderr) == (255, (
        "\nAn error occurred (NoSuchEntity) when calling the SimulatePrincipalPolicy "
        "operation: Role ghost not found\n"))


def test_simulate_switched_off_is_not_implemented(standin, demo):
    standin.configure(simulate=False)
    done = aws(standin, "iam", "simulate-principal-policy", "--policy-source-arn", APP_ROLE_ARN,
               "--action-names", "s3:GetObject")
    assert (done.returncode, done.stderr) == (255, (
        "\nAn error occurred (NotImplemented) when calling the SimulatePrincipalPolicy "
        "operation: SimulatePrincipalPolicy is switched off in this stand-in\n"))
    assert standin.requests()[-1]["status"] == 501


# --- faults and failures the plugin must classify -----------------------------------------

def test_access_denied_fault_fails_once(standin, demo):
    standin.fault("ListPodIdentityAssociations", status=403, code="AccessDeniedException", message=DENIED)
    done = aws(standin, "eks", "list-pod-identity-associations", "--cluster-name", CLUSTER)
    assert (done.returncode, done.stdout) == (255, "")
    assert done.stderr == ("\nAn error occurred (AccessDeniedException) when calling the "
                           f"ListPodIdentityAssociations operation: {DENIED}\n")
    aws_json(standin, "eks", "list-pod-identity-associations", "--cluster-name", CLUSTER)


def test_iam_access_denied_uses_the_query_error_shape(standin, demo):
    standin.fault("SimulatePrincipalPolicy", status=403, code="AccessDenied", message="not allowed")
    done = aws(standin, "iam", "simulate-principal-policy", "--policy-source-arn", APP_ROLE_ARN,
               "--action-names", "s3:GetObject")
    assert (done.returncode, done.stderr) == (255, (
        "\nAn error occurred (AccessDenied) when calling the SimulatePrincipalPolicy "
        "operation: not allowed\n"))


def test_single_throttle_is_retried_by_the_cli(standin, demo):
    standin.fault("ListAddons", status=429, code="ThrottlingException", message="Rate exceeded")
    before = len(standin.requests())
    assert aws_json(standin, "eks", "list-addons", "--cluster-name", CLUSTER)["addons"] == [
        "eks-pod-identity-agent"]
    assert [r["status"] for r in standin.requests()[before:]] == [429, 200]


def test_persistent_throttling_exhausts_retries(standin, demo):
    standin.fault("ListAddons", status=429, code="ThrottlingException", message="Rate exceeded", times=None)
    before = len(standin.requests())
    # By default the CLI makes 5 attempts over several seconds; 2 keep the test fast.
    done = aws(standin, "eks", "list-addons", "--cluster-name", CLUSTER, env={"AWS_MAX_ATTEMPTS": "2"})
    assert (done.returncode, done.stderr) == (255, (
        "\nAn error occurred (ThrottlingException) when calling the ListAddons operation "
        "(reached max retries: 1): Rate exceeded\n"))
    assert operations(standin, before) == ["ListAddons", "ListAddons"]
    standin.clear_faults()
    aws_json(standin, "eks", "list-addons", "--cluster-name", CLUSTER)


def test_delay_beyond_read_timeout(standin, demo):
    standin.fault("DescribeAddon", delay=2, times=None)
    done = aws(standin, "eks", "describe-addon", "--cluster-name", CLUSTER, "--addon-name",
               "eks-pod-identity-agent", "--cli-read-timeout", "1", env={"AWS_MAX_ATTEMPTS": "1"})
    assert (done.returncode, done.stderr) == (255, (
        f'\nRead timeout on endpoint URL: "{standin.url}/clusters/demo/addons/eks-pod-identity-agent"\n'))


def test_missing_credentials(standin):
    env = {k: v for k, v in standin.env().items()
           if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    done = subprocess.run(["aws", "sts", "get-caller-identity"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (255, "")
    assert done.stderr == ('Unable to locate credentials. You can configure credentials '
                           'by running "aws configure".\n')
    assert standin.requests() == []  # the CLI gave up before sending anything


def test_connection_refused(standin):
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    done = aws(standin, "eks", "list-addons", "--cluster-name", CLUSTER,
               env={"AWS_ENDPOINT_URL": closed, "AWS_MAX_ATTEMPTS": "1"})
    assert (done.returncode, done.stderr) == (255, (
        f'\nCould not connect to the endpoint URL: "{closed}/clusters/demo/addons"\n'))


def test_request_log_records_every_operation(standin, demo):
    aws_json(standin, "eks", "describe-addon", "--cluster-name", CLUSTER,
             "--addon-name", "eks-pod-identity-agent")
    aws(standin, "eks", "describe-addon", "--cluster-name", CLUSTER, "--addon-name", "vpc-cni")
    # Seeding went through the proxy too: cluster creation and IAM setup come first.
    assert standin.requests()[0] == {
        "service": "eks", "operation": "CreateCluster", "method": "POST", "path": "/clusters",
        "region": "us-east-2", "status": 200}
    assert [(r["operation"], r["path"], r["status"]) for r in standin.requests()[-2:]] == [
        ("DescribeAddon", "/clusters/demo/addons/eks-pod-identity-agent", 200),
        ("DescribeAddon", "/clusters/demo/addons/vpc-cni", 404),
    ]


def test_program_mode_seeds_and_serves_until_stdin_closes(standin, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(demo_spec()))
    # Reuses the module's moto_server, so no second one has to start.
    program = subprocess.Popen(
        [sys.executable, str(pathlib.Path(__file__).parent / "aws_standin.py"),
         "--moto-port", str(standin.moto_port), "--seed", str(spec)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(program.stdout.readline())
        assert started["env"]["AWS_ENDPOINT_URL"] == started["url"]
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **started["env"]}
        done = subprocess.run(["aws", "eks", "describe-pod-identity-association", "--cluster-name",
                               CLUSTER, "--association-id", started["seed"]["associationIds"][0]],
                              env=env, capture_output=True, text=True, timeout=60)
        assert json.loads(done.stdout)["association"]["roleArn"] == APP_ROLE_ARN
    finally:
        program.stdin.close()
        assert program.wait(timeout=10) == 0
