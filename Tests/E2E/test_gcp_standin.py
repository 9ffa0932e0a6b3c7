"""Drives the real `gcloud` CLI (Google Cloud SDK 528) against the stand-in in gcp_standin.py.

These tests pin both the stand-in's behaviour and what gcloud prints and exits with for the
commands kubectl-xpid runs, since the plugin reads exactly that output. Every gcloud process
costs about a second, so each test runs few of them.
"""

import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from gcp_standin import DEFAULT_TOKEN, DEFAULT_VERSION  # noqa: E402
from harness import xpid_env  # noqa: E402

PROJECT, NUMBER, LOCATION, CLUSTER = "xpid-demo", "123456789012", "us-central1", "demo"
GSA = f"crossplane@{PROJECT}.iam.gserviceaccount.com"
NODE_GSA = f"nodes@{PROJECT}.iam.gserviceaccount.com"
REPO, REPO_LOCATION = "packages", "us"
KSA_MEMBER = f"serviceAccount:{PROJECT}.svc.id.goog[crossplane-system/provider-gcp]"
PRINCIPAL = (f"principal://iam.googleapis.com/projects/{NUMBER}/locations/global/workloadIdentityPools/"
             f"{PROJECT}.svc.id.goog/subject/ns/crossplane-system/sa/provider-gcp")
TOKEN_NOTE = "This command is authenticated with an access token from the CLOUDSDK_AUTH_ACCESS_TOKEN environment variable"

# The commands kubectl-xpid runs, by name: (argv without --format json, the same for a missing thing).
COMMANDS = {
    "cluster": (["container", "clusters", "describe", CLUSTER, "--location", LOCATION, "--project", PROJECT],
                ["container", "clusters", "describe", "ghost", "--location", LOCATION, "--project", PROJECT]),
    "project": (["projects", "describe", PROJECT], ["projects", "describe", "ghost-project"]),
    "project-policy": (["projects", "get-iam-policy", PROJECT], ["projects", "get-iam-policy", "ghost-project"]),
    "gsa-policy": (["iam", "service-accounts", "get-iam-policy", GSA, "--project", PROJECT],
                   ["iam", "service-accounts", "get-iam-policy", f"ghost@{PROJECT}.iam.gserviceaccount.com",
                    "--project", PROJECT]),
    "repository-policy": (["artifacts", "repositories", "get-iam-policy", REPO, "--location", REPO_LOCATION,
                           "--project", PROJECT],
                          ["artifacts", "repositories", "get-iam-policy", "ghost", "--location", REPO_LOCATION,
                           "--project", PROJECT]),
}
GROUPS = {"cluster": "container.clusters.describe", "project": "projects.describe",
          "project-policy": "projects.get-iam-policy", "gsa-policy": "iam.service-accounts.get-iam-policy",
          "repository-policy": "artifacts.repositories.get-iam-policy"}
# What each command sends, measured: (api, method, path).
SENT = {
    "cluster": ("container", "GET", f"/v1/projects/{PROJECT}/locations/{LOCATION}/clusters/{CLUSTER}"),
    "project": ("cloudresourcemanager", "GET", f"/v1/projects/{PROJECT}"),
    "project-policy": ("cloudresourcemanager", "POST", f"/v1/projects/{PROJECT}:getIamPolicy"),
    "gsa-policy": ("iam", "POST", f"/v1/projects/-/serviceAccounts/{GSA}:getIamPolicy"),
    "repository-policy": ("artifactregistry", "GET",
                          f"/v1/projects/{PROJECT}/locations/{REPO_LOCATION}/repositories/{REPO}:getIamPolicy"),
}
NOT_FOUND = {  # first stderr line, exit 1
    "cluster": "ERROR: (gcloud.container.clusters.describe) ResponseError: code=404, message=Not found: "
               f"projects/{PROJECT}/locations/{LOCATION}/clusters/ghost. {TOKEN_NOTE}.",
    # Resource Manager answers 403 for a project that does not exist (the stand-in does too).
    "project": "ERROR: (gcloud.projects.describe) [None] does not have permission to access projects instance "
               f"[ghost-project] (or it may not exist): The caller does not have permission. {TOKEN_NOTE}",
    "project-policy": "ERROR: (gcloud.projects.get-iam-policy) [None] does not have permission to access projects "
                      "instance [ghost-project:getIamPolicy] (or it may not exist): The caller does not have "
                      f"permission. {TOKEN_NOTE}",
    "gsa-policy": f"ERROR: (gcloud.iam.service-accounts.get-iam-policy) NOT_FOUND: Unknown service account. {TOKEN_NOTE}",
    "repository-policy": "ERROR: (gcloud.artifacts.repositories.get-iam-policy) NOT_FOUND: Repository "
                         f"\"projects/{PROJECT}/locations/{REPO_LOCATION}/repositories/ghost\" not found. {TOKEN_NOTE}",
}
DENIED = {  # first stderr line with a 403 fault on every path, exit 1
    "cluster": "ERROR: (gcloud.container.clusters.describe) ResponseError: code=403, message=Required "
               f"\"container.clusters.get\" permission(s) for \"projects/{PROJECT}/locations/{LOCATION}/clusters/"
               f"{CLUSTER}\". {TOKEN_NOTE}.",
    "project": "ERROR: (gcloud.projects.describe) [None] does not have permission to access projects instance "
               f"[{PROJECT}] (or it may not exist): The caller does not have permission. {TOKEN_NOTE}",
    "project-policy": "ERROR: (gcloud.projects.get-iam-policy) [None] does not have permission to access projects "
                      f"instance [{PROJECT}:getIamPolicy] (or it may not exist): The caller does not have "
                      f"permission. {TOKEN_NOTE}",
    "gsa-policy": "ERROR: (gcloud.iam.service-accounts.get-iam-policy) PERMISSION_DENIED: Permission "
                  f"'iam.serviceAccounts.getIamPolicy' denied on resource (or it may not exist). {TOKEN_NOTE}.",
    "repository-policy": "ERROR: (gcloud.artifacts.repositories.get-iam-policy) PERMISSION_DENIED: Permission "
                         "'artifactregistry.repositories.getIamPolicy' denied on resource '//artifactregistry."
                         f"googleapis.com/projects/{PROJECT}/locations/{REPO_LOCATION}/repositories/{REPO}' (or it "
                         f"may not exist). {TOKEN_NOTE}.",
}
NO_ACCOUNT = "You do not currently have an active account selected."


@pytest.fixture(autouse=True)
def seeded(gcp):
    gcp.reset()
    gcp.add_project(PROJECT, number=NUMBER, bindings=[
        {"role": "roles/artifactregistry.reader", "members": [PRINCIPAL]},
        {"role": "roles/owner", "members": ["user:admin@example.com"]}])
    gcp.add_cluster(CLUSTER, LOCATION, PROJECT, node_pools=[
        {"name": "default-pool", "mode": "GKE_METADATA", "serviceAccount": NODE_GSA},
        {"name": "legacy", "mode": "GCE_METADATA", "serviceAccount": "default"}])
    gcp.add_service_account(GSA, bindings=[{"role": "roles/iam.workloadIdentityUser", "members": [KSA_MEMBER]}])
    gcp.add_repository(REPO, REPO_LOCATION, PROJECT, bindings=[
        {"role": "roles/artifactregistry.reader", "members": [f"serviceAccount:{GSA}"]}])
    yield
    # Whatever the test ran, gcloud only read, and nothing tried to leave 127.0.0.1.
    assert gcp.writes() == []
    assert gcp.escapes() == []


def gcloud(gcp, *args, logged_in=True):
    return gcp.run_gcloud(*args, "--format", "json", logged_in=logged_in)


def gcloud_json(gcp, name):
    done = gcloud(gcp, *COMMANDS[name][0])
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    sent = [(r["api"], r["method"], r["path"]) for r in gcp.requests()]
    assert sent == [SENT[name]]
    assert gcp.requests()[0]["token"] == DEFAULT_TOKEN
    return json.loads(done.stdout)


def test_cluster_describe_shape(gcp):
    cluster = gcloud_json(gcp, "cluster")
    assert {"name", "location", "status", "currentMasterVersion", "currentNodeVersion", "nodePools",
            "workloadIdentityConfig", "nodeConfig", "selfLink"} <= set(cluster)
    assert (cluster["name"], cluster["location"], cluster["status"]) == (CLUSTER, LOCATION, "RUNNING")
    assert cluster["currentMasterVersion"] == cluster["currentNodeVersion"] == DEFAULT_VERSION
    assert cluster["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT}.svc.id.goog"}
    pools = {p["name"]: p["config"] for p in cluster["nodePools"]}
    assert pools["default-pool"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert pools["default-pool"]["serviceAccount"] == NODE_GSA
    assert pools["legacy"]["workloadMetadataConfig"] == {"mode": "GCE_METADATA"}
    assert pools["legacy"]["serviceAccount"] == "default"


def test_cluster_without_workload_identity(gcp):
    gcp.add_cluster("plain", "europe-west1-b", PROJECT, workload_pool=False, node_pools=[{"name": "p"}])
    done = gcloud(gcp, "container", "clusters", "describe", "plain", "--zone", "europe-west1-b", "--project", PROJECT)
    cluster = json.loads(done.stdout)
    assert "workloadIdentityConfig" not in cluster
    assert "workloadMetadataConfig" not in cluster["nodePools"][0]["config"]
    assert gcp.requests()[-1]["path"] == f"/v1/projects/{PROJECT}/locations/europe-west1-b/clusters/plain"  # --zone too


def test_project_describe_shape(gcp):
    project = gcloud_json(gcp, "project")
    assert project == {"createTime": "2026-01-15T10:00:00.000Z", "lifecycleState": "ACTIVE", "name": PROJECT,
                       "parent": {"id": "123456789012", "type": "organization"}, "projectId": PROJECT,
                       "projectNumber": NUMBER}  # the number is a string


def test_project_policy_shape(gcp):
    policy = gcloud_json(gcp, "project-policy")
    assert set(policy) == {"bindings", "etag", "version"}
    assert policy["bindings"][0] == {"members": [PRINCIPAL], "role": "roles/artifactregistry.reader"}


def test_service_account_policy_shape(gcp):
    policy = gcloud_json(gcp, "gsa-policy")
    assert policy["bindings"] == [{"members": [KSA_MEMBER], "role": "roles/iam.workloadIdentityUser"}]
    assert policy["version"] == 1
    assert gcp.requests()[0]["query"]["options.requestedPolicyVersion"] == "3"
    # An empty policy is the etag alone, as the IAM API sends it.
    gcp.add_service_account(f"empty@{PROJECT}.iam.gserviceaccount.com")
    done = gcloud(gcp, "iam", "service-accounts", "get-iam-policy", f"empty@{PROJECT}.iam.gserviceaccount.com")
    assert json.loads(done.stdout) == {"etag": "ACAB"}


def test_repository_policy_shape(gcp):
    policy = gcloud_json(gcp, "repository-policy")
    assert policy["bindings"] == [{"members": [f"serviceAccount:{GSA}"], "role": "roles/artifactregistry.reader"}]
    assert set(policy) == {"bindings", "etag", "version"}


def test_auth_check(gcp):
    """`gcloud config list` succeeds with no credentials at all and shows no account for an
    access token, so it cannot tell; `gcloud auth print-access-token` can (exit 0 / 1) and
    sends nothing when the token comes from CLOUDSDK_AUTH_ACCESS_TOKEN."""
    done = gcloud(gcp, "auth", "print-access-token")
    assert (done.returncode, json.loads(done.stdout), done.stderr) == (0, {"token": DEFAULT_TOKEN}, "")
    done = gcloud(gcp, "auth", "print-access-token", logged_in=False)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == f"ERROR: (gcloud.auth.print-access-token) {NO_ACCOUNT}"
    done = gcloud(gcp, "config", "list", logged_in=False)
    assert done.returncode == 0 and "account" not in json.loads(done.stdout).get("core", {})
    assert gcp.requests() == []


@pytest.mark.parametrize("name", COMMANDS)
def test_not_found(gcp, name):
    done = gcloud(gcp, *COMMANDS[name][1])
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines()[0] == NOT_FOUND[name]
    if name == "cluster":  # gcloud then lists the clusters of every location to suggest one
        assert done.stderr.splitlines()[1] == f"No cluster named 'ghost' in {PROJECT}."
        assert gcp.requests()[-1]["path"] == f"/v1/projects/{PROJECT}/locations/-/clusters"


@pytest.mark.parametrize("name", COMMANDS)
def test_permission_denied(gcp, name):
    gcp.fault(r"/v1/", status=403)
    done = gcloud(gcp, *COMMANDS[name][0])
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines()[0] == DENIED[name]
    assert [r["status"] for r in gcp.requests()] == [403]


@pytest.mark.parametrize("name", COMMANDS)
def test_no_credentials(gcp, name):
    done = gcloud(gcp, *COMMANDS[name][0], logged_in=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines()[0] == f"ERROR: (gcloud.{GROUPS[name]}) {NO_ACCOUNT}"
    assert gcp.requests() == []  # nothing is sent


def test_writes_are_refused_and_logged(gcp):
    done = gcloud(gcp, "projects", "add-iam-policy-binding", PROJECT, "--member", KSA_MEMBER, "--role", "roles/viewer")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == ("ERROR: (gcloud.projects.add-iam-policy-binding) METHOD_NOT_ALLOWED: "
                                           f"kubectl-xpid's GCP stand-in serves reads only: POST /v1/projects/"
                                           f"{PROJECT}:setIamPolicy")
    assert [(r["method"], r["path"], r["write"], r["status"]) for r in gcp.requests()] == [
        ("POST", f"/v1/projects/{PROJECT}:getIamPolicy", False, 200),
        ("POST", f"/v1/projects/{PROJECT}:setIamPolicy", True, 405)]
    gcp.reset()  # the autouse fixture checks that no other test wrote


def test_bare_overrides_and_retried_fault(gcp):
    """testing.md's form (one bare http://127.0.0.1:PORT/ for every API) works too. gcloud
    retries a 5xx in the same process (a single 500 goes unnoticed; a persistent one costs
    5 attempts and about 30 s, measured, so no test waits for it)."""
    gcp.fault(r"clusters/demo$", status=500, times=1)
    done = gcp.run_gcloud(*COMMANDS["cluster"][0], "--format", "json", env=gcp.env(prefixed=False))
    assert done.returncode == 0 and json.loads(done.stdout)["name"] == CLUSTER
    assert [(r["api"], r["status"]) for r in gcp.requests()] == [("container", 500), ("container", 200)]


def test_xpid_env_drops_developer_gcloud(gcp, tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDSDK_CORE_ACCOUNT", "me@example.com")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent.json")
    monkeypatch.setenv("GCE_METADATA_HOST", "169.254.169.254")
    env = xpid_env(None, tmp_path, tmp_path / "kubeconfig", gcp=gcp)
    assert "CLOUDSDK_CORE_ACCOUNT" not in env and "GOOGLE_APPLICATION_CREDENTIALS" not in env
    assert "GCE_METADATA_HOST" not in env
    assert env["CLOUDSDK_AUTH_ACCESS_TOKEN"] == DEFAULT_TOKEN
    assert env["PATH"].split(":")[0].endswith("/bin") and env["CLOUDSDK_CONFIG"].startswith("/")
