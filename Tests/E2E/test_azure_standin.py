"""Drives the real `az` CLI (azure-cli from PyPI) against the ARM stand-in in azure_standin.py.

These tests pin both the stand-in's behaviour and what az prints and exits with for the
commands kubectl-xpid runs, since the plugin reads exactly that output. Every az process
costs about a second, so each test runs few of them.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from azure_standin import (BATCH_LIMIT, BUILTIN_ROLES, CLOUD_NAME, DEFAULT_SUBSCRIPTION_ID,  # noqa: E402
                           DEFAULT_TENANT_ID, LOGIN_PRINCIPAL_ID, AzureStandIn, find_az, is_write, seed_spec)
from harness import require_az, xpid_env  # noqa: E402

SUB = DEFAULT_SUBSCRIPTION_ID
RG = "rg-demo"
CLUSTER = "demo"
ACR_PULL = BUILTIN_ROLES["AcrPull"][0]
NOT_FOUND_HINT = "For more details please go to https://aka.ms/ARMResourceNotFoundFix"
NOT_LOGGED_IN = "ERROR: Please run 'az login' to setup account."
# What az's first run in a new config dir does (its version check); the proxy sink refuses it.
VERSION_CHECK = {"method": "CONNECT", "target": "azcliprod.blob.core.windows.net:443"}


@pytest.fixture(autouse=True)
def clean(azure):
    azure.reset()
    yield
    # Whatever the test ran, az only read: GETs (and batches of GETs) to ARM, GETs to the token
    # endpoint, Graph lookups (getByIds is a POST that writes nothing) -- and nothing tried to
    # leave 127.0.0.1.
    for request in azure.requests():
        assert request["api"] in ("arm", "identity", "graph") and not is_write(request), request
        if request["api"] != "arm" and request["method"] != "GET":
            assert (request["method"], request["path"]) == ("POST", "/graph/v1.0/directoryObjects/getByIds"), request
    assert azure.escapes() == []


def az(azure, *args, logged_in=True) -> subprocess.CompletedProcess:
    return azure.run_az(*args, "-o", "json", logged_in=logged_in)


def az_json(azure, *args):
    done = az(azure, *args)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return json.loads(done.stdout)


def arm_calls(azure, since: int = 0) -> list[tuple[str, str, str | None]]:
    """(method, path, $filter) of the ARM and Graph requests from the `since`-th on."""
    return [(r["method"], r["path"], r["query"].get("$filter")) for r in azure.requests()[since:]
            if r["api"] != "identity"]


def subset(printed, like):
    """`printed` cut down to the keys (recursively) that `like` has."""
    if isinstance(like, dict) and isinstance(printed, dict):
        return {k: subset(printed.get(k), v) for k, v in like.items()}
    if isinstance(like, list) and isinstance(printed, list) and like and isinstance(like[0], dict):
        return [subset(p, like[0]) for p in printed]
    return printed


def not_found(kind: str, name: str, group: str) -> str:
    message = f"The Resource '{kind}/{name}' under resource group '{group}' was not found. {NOT_FOUND_HINT}"
    return f"ERROR: (ResourceNotFound) {message}\nCode: ResourceNotFound\nMessage: {message}\n"


def denied(action: str, scope: str) -> str:
    return (f"ERROR: (AuthorizationFailed) The client '{LOGIN_PRINCIPAL_ID}' with object id "
            f"'{LOGIN_PRINCIPAL_ID}' does not have authorization to perform action '{action}' over scope "
            f"'{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.")


@pytest.fixture
def demo(azure):
    """A cluster with OIDC and workload identity, an app identity with one federated
    credential, and a registry the kubelet identity may pull from."""
    cluster = azure.add_cluster(CLUSTER, RG)
    identity = azure.add_identity("app-id", RG)
    issuer = cluster["properties"]["oidcIssuerProfile"]["issuerURL"]
    credential = azure.add_federated_credential("app-id", RG, "shop-cart", issuer=issuer,
                                                subject="system:serviceaccount:shop:cart")
    registry = azure.add_registry("demoacr", RG)
    kubelet = cluster["properties"]["identityProfile"]["kubeletidentity"]
    pull = azure.add_role_assignment(registry["id"], kubelet["objectId"], "AcrPull")
    return {"cluster": cluster, "identity": identity, "credential": credential, "registry": registry,
            "kubelet": kubelet, "pull": pull, "issuer": issuer}


# --- login ------------------------------------------------------------------------------

def test_account_show_after_login_and_without_it(azure):
    account = az_json(azure, "account", "show")
    assert account == {
        "environmentName": CLOUD_NAME, "homeTenantId": DEFAULT_TENANT_ID, "id": SUB, "isDefault": True,
        "managedByTenants": [], "name": "xpid stand-in subscription", "state": "Enabled",
        "tenantId": DEFAULT_TENANT_ID,
        "user": {"assignedIdentityInfo": "MSI", "name": "systemAssignedIdentity", "type": "servicePrincipal"}}
    assert azure.requests() == []  # account show reads the config dir only

    done = az(azure, "account", "show", logged_in=False)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", NOT_LOGGED_IN + "\n")


def test_login_from_scratch_with_two_subscriptions():
    """A fresh stand-in: the login asks for one token and lists subscriptions; az's only
    attempt to go elsewhere is its first-run version check, which the sink refuses."""
    tenant, second = "33333333-3333-3333-3333-333333333333", "00000000-0000-0000-0000-000000000002"
    with AzureStandIn(tenant_id=tenant, subscriptions=[
            {"subscriptionId": SUB, "displayName": "first"},
            {"subscriptionId": second, "displayName": "second"}]) as standin:
        printed = standin.login()
        assert [(s["id"], s["name"], s["tenantId"], s["isDefault"]) for s in printed] == [
            (SUB, "first", tenant, True), (second, "second", tenant, False)]
        assert [(r["api"], r["method"], r["path"], r["query"]) for r in standin.requests()] == [
            ("identity", "GET", "/msi/token", {"api-version": "2019-08-01", "resource": standin.url + "/"}),
            ("arm", "GET", "/subscriptions", {"api-version": "2022-12-01"})]
        assert standin.escapes() == [VERSION_CHECK]

        standin.add_cluster("other", "rg-other", subscription=second)
        listed = json.loads(standin.run_az("aks", "list", "--subscription", second, "-o", "json").stdout)
        assert [c["id"] for c in listed] == [
            f"/subscriptions/{second}/resourcegroups/rg-other/providers/Microsoft.ContainerService/managedClusters/other"]
        assert standin.escapes() == [VERSION_CHECK]  # the copied config dir has done its check


def test_unknown_subscription_fails_before_any_request(azure):
    done = az(azure, "aks", "list", "--subscription", "99999999-0000-0000-0000-000000000009")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("WARNING: Subscription '99999999-0000-0000-0000-000000000009' not recognized.\n"
                           "ERROR: Subscription '99999999-0000-0000-0000-000000000009' not found. "
                           "Check the spelling and casing and try again.\n")
    assert azure.requests() == []


# --- the reads kubectl-xpid makes -------------------------------------------------------

def test_aks_show_is_flattened(azure, demo):
    cluster = az_json(azure, "aks", "show", "--resource-group", RG, "--name", CLUSTER, "--subscription", SUB)
    assert "properties" not in cluster  # az lifts every ARM property to the top level
    assert cluster["id"] == demo["cluster"]["id"] == (
        f"/subscriptions/{SUB}/resourcegroups/{RG}/providers/Microsoft.ContainerService/managedClusters/{CLUSTER}")
    assert (cluster["name"], cluster["resourceGroup"], cluster["location"], cluster["type"]) == (
        CLUSTER, RG, "eastus", "Microsoft.ContainerService/ManagedClusters")
    # The REST field issuerURL is printed as issuerUrl, with its trailing slash.
    assert cluster["oidcIssuerProfile"] == {"enabled": True, "issuerUrl": demo["issuer"]}
    assert demo["issuer"].startswith(f"https://eastus.oic.prod-aks.azure.com/{DEFAULT_TENANT_ID}/")
    assert demo["issuer"].endswith("/")
    assert cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert cluster["identityProfile"] == {"kubeletidentity": demo["kubelet"]}
    assert demo["kubelet"]["resourceId"] == (
        f"/subscriptions/{SUB}/resourcegroups/MC_{RG}_{CLUSTER}_eastus/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{CLUSTER}-agentpool")
    assert (cluster["nodeResourceGroup"], cluster["provisioningState"], cluster["powerState"],
            cluster["kubernetesVersion"], cluster["enableRbac"]) == (
        f"MC_{RG}_{CLUSTER}_eastus", "Succeeded", {"code": "Running"}, "1.31.2", True)
    assert cluster["aadProfile"] is None  # members the RP did not send are printed as null
    assert arm_calls(azure) == [
        ("GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/managedClusters/{CLUSTER}",
         None)]


def test_aks_show_without_subscription_and_features_off(azure):
    azure.add_cluster("plain", RG, oidc_issuer=False, workload_identity=None, kubelet_identity=False)
    azure.add_cluster("wi-off", RG, workload_identity=False)
    plain = az_json(azure, "aks", "show", "--resource-group", RG, "--name", "plain")
    assert plain["oidcIssuerProfile"] == {"enabled": False, "issuerUrl": None}
    assert plain["securityProfile"] == {"azureKeyVaultKms": None, "customCaTrustCertificates": None,
                                        "defender": None, "imageCleaner": None, "workloadIdentity": None}
    assert plain["identityProfile"] is None
    listed = az_json(azure, "aks", "list")  # the default subscription
    assert [(c["name"], c["securityProfile"]["workloadIdentity"]) for c in listed] == [
        ("plain", None), ("wi-off", {"enabled": False})]
    assert [path for _, path, _ in arm_calls(azure)] == [
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/managedClusters/plain",
        f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/managedClusters"]


def test_identity_list_is_flattened_and_holds_the_kubelet_identity(azure, demo):
    identities = az_json(azure, "identity", "list", "--subscription", SUB)
    app = demo["identity"]["properties"]
    assert [i["name"] for i in identities] == [f"{CLUSTER}-agentpool", "app-id"]
    assert identities[1] == {
        "clientId": app["clientId"], "id": demo["identity"]["id"], "isolationScope": "None", "location": "eastus",
        "name": "app-id", "principalId": app["principalId"], "resourceGroup": RG, "tags": {},
        "tenantId": DEFAULT_TENANT_ID, "type": "Microsoft.ManagedIdentity/userAssignedIdentities"}
    assert (identities[0]["clientId"], identities[0]["principalId"], identities[0]["resourceGroup"]) == (
        demo["kubelet"]["clientId"], demo["kubelet"]["objectId"], f"MC_{RG}_{CLUSTER}_eastus")


def test_federated_credential_list(azure, demo):
    credentials = az_json(azure, "identity", "federated-credential", "list", "--identity-name", "app-id",
                          "--resource-group", RG, "--subscription", SUB)
    assert credentials == [{
        "audiences": ["api://AzureADTokenExchange"], "id": demo["credential"]["id"], "issuer": demo["issuer"],
        "name": "shop-cart", "resourceGroup": RG, "subject": "system:serviceaccount:shop:cart",
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"}]
    assert az_json(azure, "identity", "federated-credential", "list", "--identity-name", f"{CLUSTER}-agentpool",
                   "--resource-group", f"MC_{RG}_{CLUSTER}_eastus") == []


def test_acr_list_shows_the_role_assignment_mode(azure, demo):
    azure.add_registry("abacacr", "rg-abac", role_assignment_mode="AbacRepositoryPermissions", sku="Premium")
    registries = az_json(azure, "acr", "list", "--subscription", SUB)
    assert [(r["name"], r["resourceGroup"], r["loginServer"], r["roleAssignmentMode"], r["sku"]["name"])
            for r in registries] == [
        ("demoacr", RG, "demoacr.azurecr.io", "LegacyRegistryPermissions", "Standard"),
        ("abacacr", "rg-abac", "abacacr.azurecr.io", "AbacRepositoryPermissions", "Premium")]
    assert registries[0]["id"] == demo["registry"]["id"]
    assert "properties" not in registries[0]


def test_role_assignment_list_include_inherited(azure, demo):
    app = demo["identity"]["properties"]["principalId"]
    azure.add_subscription(SUB, "xpid stand-in subscription", management_groups=["mg-root"])
    registry = demo["registry"]["id"]
    group = f"/subscriptions/{SUB}/resourceGroups/{RG}"
    management_group = "/providers/Microsoft.Management/managementGroups/mg-root"
    azure.add_role_assignment(group, app, "Reader")
    azure.add_role_assignment(f"/subscriptions/{SUB}", app, "Contributor")
    azure.add_role_assignment(management_group, app, "AcrPull")
    azure.add_role_assignment(registry + "/scopeMaps/pull", app, "AcrPull")  # below: never listed
    azure.add_role_assignment(azure.add_registry("otheracr", RG)["id"], app, "AcrPull")  # a sibling

    inherited = az_json(azure, "role", "assignment", "list", "--scope", registry, "--include-inherited",
                        "--fill-principal-name", "false", "--subscription", SUB)
    assert [(a["scope"], a["roleDefinitionName"], a["principalId"]) for a in inherited] == [
        (registry, "AcrPull", demo["kubelet"]["objectId"]),
        (group, "Reader", app),
        (f"/subscriptions/{SUB}", "Contributor", app),
        # Above the subscription the role is named /providers/...; az cannot match that
        # against the definitions listed at the scope, so it prints null.
        (management_group, None, app)]
    assert inherited[0] == {
        "createdBy": LOGIN_PRINCIPAL_ID, "createdOn": "2026-01-15T10:00:00+00:00", "id": demo["pull"]["id"],
        "name": demo["pull"]["name"], "principalId": demo["kubelet"]["objectId"],
        "principalType": "ServicePrincipal", "resourceGroup": RG,
        "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}",
        "roleDefinitionName": "AcrPull", "scope": registry, "type": "Microsoft.Authorization/roleAssignments",
        "updatedBy": LOGIN_PRINCIPAL_ID, "updatedOn": "2026-01-15T10:00:00+00:00"}
    authorization = registry + "/providers/Microsoft.Authorization"
    # --include-inherited changes nothing on the wire: az always asks atScope() and filters.
    assert arm_calls(azure) == [("GET", authorization + "/roleAssignments", "atScope()"),
                                ("GET", authorization + "/roleDefinitions", None)]

    before = len(azure.requests())
    exact = az_json(azure, "role", "assignment", "list", "--scope", registry, "--fill-principal-name", "false")
    assert [a["id"] for a in exact] == [demo["pull"]["id"]]
    assert arm_calls(azure, before) == [("GET", authorization + "/roleAssignments", "atScope()"),
                                        ("GET", authorization + "/roleDefinitions", None)]


def test_role_assignment_list_fills_principal_names_from_graph_by_default(azure, demo):
    filled = az_json(azure, "role", "assignment", "list", "--scope", demo["registry"]["id"], "--include-inherited")
    # A managed identity's service principal name is its client id.
    assert [(a["principalId"], a["principalName"]) for a in filled] == [
        (demo["kubelet"]["objectId"], demo["kubelet"]["clientId"])]
    assert arm_calls(azure)[-1] == ("POST", "/graph/v1.0/directoryObjects/getByIds", None)
    tokens = [r["query"]["resource"] for r in azure.requests() if r["api"] == "identity"]
    assert tokens == [azure.url + "/", azure.url + "/graph/"]  # one token per audience


def test_lists_follow_next_links(azure, demo):
    azure.configure(page_size=1)
    azure.add_identity("second", RG)
    assert [i["name"] for i in az_json(azure, "identity", "list")] == [f"{CLUSTER}-agentpool", "app-id", "second"]
    assert [r["query"].get("$skiptoken") for r in azure.requests() if r["api"] == "arm"] == [None, "1", "2"]


# --- failures -----------------------------------------------------------------------------

def test_missing_cluster_group_identity_and_registry_exit_3(azure, demo):
    done = az(azure, "aks", "show", "--resource-group", RG, "--name", "ghost", "--subscription", SUB)
    assert (done.returncode, done.stdout, done.stderr) == (
        3, "", not_found("Microsoft.ContainerService/managedClusters", "ghost", RG))

    done = az(azure, "aks", "show", "--resource-group", "rg-ghost", "--name", CLUSTER)
    assert (done.returncode, done.stderr) == (3, (
        "ERROR: (ResourceGroupNotFound) Resource group 'rg-ghost' could not be found.\n"
        "Code: ResourceGroupNotFound\nMessage: Resource group 'rg-ghost' could not be found.\n"))

    done = az(azure, "identity", "federated-credential", "list", "--identity-name", "ghost", "--resource-group", RG)
    assert (done.returncode, done.stderr) == (3, not_found("Microsoft.ManagedIdentity/userAssignedIdentities", "ghost", RG))

    ghost_registry = demo["registry"]["id"].replace("demoacr", "ghostacr")
    done = az(azure, "role", "assignment", "list", "--scope", ghost_registry, "--include-inherited",
              "--fill-principal-name", "false")
    assert (done.returncode, done.stderr) == (3, not_found("Microsoft.ContainerRegistry/registries", "ghostacr", RG))


def test_subscription_gone_from_arm_exits_3_for_lists(azure):
    message = f"The subscription '{SUB}' could not be found."
    azure.fault(f"^/subscriptions/{SUB}/providers/", status=404, code="SubscriptionNotFound", message=message)
    done = az(azure, "acr", "list")
    assert (done.returncode, done.stderr) == (
        3, f"ERROR: (SubscriptionNotFound) {message}\nCode: SubscriptionNotFound\nMessage: {message}\n")


def read_commands(demo) -> dict[str, tuple[list[str], str, str]]:
    """label -> (az arguments, the action refused, the scope ARM names)."""
    registry = demo["registry"]["id"]
    identity = demo["identity"]["id"].replace("/resourcegroups/", "/resourceGroups/")
    return {
        "aks show": (["aks", "show", "--resource-group", RG, "--name", CLUSTER, "--subscription", SUB],
                     "Microsoft.ContainerService/managedClusters/read",
                     f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/managedClusters/{CLUSTER}"),
        "aks list": (["aks", "list", "--subscription", SUB],
                     "Microsoft.ContainerService/managedClusters/read", f"/subscriptions/{SUB}"),
        "identity list": (["identity", "list"], "Microsoft.ManagedIdentity/userAssignedIdentities/read",
                          f"/subscriptions/{SUB}"),
        "federated-credential list": (
            ["identity", "federated-credential", "list", "--identity-name", "app-id", "--resource-group", RG,
             "--subscription", SUB],
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read", identity),
        "acr list": (["acr", "list", "--subscription", SUB], "Microsoft.ContainerRegistry/registries/read",
                     f"/subscriptions/{SUB}"),
        "role assignment list": (["role", "assignment", "list", "--scope", registry, "--include-inherited",
                                  "--fill-principal-name", "false", "--subscription", SUB],
                                 "Microsoft.Authorization/roleAssignments/read", registry),
    }


@pytest.mark.parametrize("label", ["aks show", "aks list", "identity list", "federated-credential list",
                                   "acr list", "role assignment list"])
def test_authorization_failed_exits_1(azure, demo, label):
    args, action, scope = read_commands(demo)[label]
    azure.fault("^/subscriptions/", status=403)
    done = az(azure, *args)
    assert (done.returncode, done.stdout) == (1, "")
    lines = done.stderr.splitlines()
    assert lines[0] == denied(action, scope)
    assert lines[1:] == ["Code: AuthorizationFailed", "Message: " + lines[0].split(") ", 1)[1]]


@pytest.mark.parametrize("label", ["aks show", "role assignment list"])
def test_not_logged_in_exits_1_before_any_request(azure, demo, label):
    args = read_commands(demo)[label][0]
    done = az(azure, *args, logged_in=False)
    assert (done.returncode, done.stdout) == (1, "")
    # With --subscription, az first warns that it does not know the subscription.
    assert done.stderr == f"WARNING: Subscription '{SUB}' not recognized.\n{NOT_LOGGED_IN}\n"
    done = az(azure, "identity", "list", logged_in=False)
    assert (done.returncode, done.stderr) == (1, NOT_LOGGED_IN + "\n")
    assert azure.requests() == []


def test_one_server_error_is_retried_unseen(azure, demo):
    azure.fault("/federatedIdentityCredentials$", status=500)
    credentials = az_json(azure, "identity", "federated-credential", "list", "--identity-name", "app-id",
                          "--resource-group", RG)
    assert [c["name"] for c in credentials] == ["shop-cart"]
    assert [r["status"] for r in azure.requests() if r["api"] == "arm"] == [500, 200]


def test_persistent_server_error_exits_1_after_four_attempts(azure, demo):
    # Retry-After keeps the test fast; without it az backs off for about 5 s in all.
    azure.fault("/managedClusters/", status=500, times=None, retry_after=0.01)
    done = az(azure, "aks", "show", "--resource-group", RG, "--name", CLUSTER)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", (
        "ERROR: (InternalServerError) Injected fault: 500 InternalServerError\n"
        "Code: InternalServerError\nMessage: Injected fault: 500 InternalServerError\n"))
    assert [r["status"] for r in azure.requests() if r["api"] == "arm"] == [500] * 4


def test_token_endpoint_failure_exits_1_with_a_login_hint(azure, demo):
    azure.fault("^/msi/token$", status=400, message="Unable to load the proper Managed Identity.")
    done = az(azure, "acr", "list")
    assert (done.returncode, done.stdout, done.stderr) == (1, "", (
        "ERROR: 400, Unable to load the proper Managed Identity.\n"
        "Run the command below to authenticate interactively; additional arguments may be added as needed:\n"
        "az logout\naz login\n"))
    assert [r["api"] for r in azure.requests()] == ["identity"]


def test_unreachable_token_endpoint_exits_1_with_a_traceback(azure, demo):
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = azure.run_az("aks", "list", "-o", "json", env={"IDENTITY_ENDPOINT": f"https://127.0.0.1:{port}/msi/token"})
    assert (done.returncode, done.stdout) == (1, "")
    lines = done.stderr.splitlines()
    assert lines[0] == "ERROR: The command failed with an unexpected error. Here is the traceback:"
    assert lines[1].startswith(f"ERROR: HTTPSConnectionPool(host='127.0.0.1', port={port}): "
                               "Max retries exceeded with url: /msi/token?")
    assert "Connection refused" in lines[1]
    assert azure.requests() == []


# --- the ARM batch endpoint, through az rest ---------------------------------------------------

BATCH_URL = "/batch?api-version=2020-06-01"
FIC_API = "2023-01-31"


def credentials_path(group: str, identity: str) -> str:
    return (f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/"
            f"userAssignedIdentities/{identity}/federatedIdentityCredentials")


def batch(azure, *items, method: str = "GET", subscription: bool = True) -> subprocess.CompletedProcess:
    """`az rest` POSTing a batch of `items` ((name, url) or a ready request dict) to the relative
    /batch URL, as the plugin does."""
    requests = [item if isinstance(item, dict) else {"httpMethod": method, "name": item[0], "url": item[1]}
                for item in items]
    return azure.run_az("rest", "--method", "post", "--url", BATCH_URL, "--body", json.dumps({"requests": requests}),
                        *(["--subscription", SUB] if subscription else []), "-o", "json")


def rest_error(reason: str, code: str, message: str) -> str:
    """What az rest prints for an HTTP error: the reason phrase, then the raw body in parentheses."""
    return f'ERROR: {reason}({json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":"))})\n'


def test_batch_of_credential_lists_answers_each_like_its_own_get(azure, demo):
    kubelet_group = f"MC_{RG}_{CLUSTER}_eastus"
    lists = [("0", credentials_path(RG, "app-id")), ("1", credentials_path(kubelet_group, f"{CLUSTER}-agentpool")),
             ("2", credentials_path(RG, "ghost"))]
    done = batch(azure, *((name, f"{path}?api-version={FIC_API}") for name, path in lists))
    assert (done.returncode, done.stderr) == (0, "")
    printed = json.loads(done.stdout)
    assert list(printed) == ["responses"]
    responses = printed["responses"]
    assert [(r["name"], r["httpStatusCode"]) for r in responses] == [("0", 200), ("1", 200), ("2", 404)]
    assert {key for r in responses for key in r} == {"name", "httpStatusCode", "headers", "content", "contentLength"}
    # az rest prints the body as sent: ARM JSON with "properties", no flattening, no resourceGroup.
    assert responses[0]["content"] == {"value": [demo["credential"]]}
    assert responses[1]["content"] == {"value": []}
    missing = (f"The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/ghost' under resource group '{RG}' "
               f"was not found. {NOT_FOUND_HINT}")
    assert responses[2]["content"] == {"error": {"code": "ResourceNotFound", "message": missing}}
    for response in responses:
        assert response["contentLength"] == len(json.dumps(response["content"], separators=(",", ":")))
        assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
        assert set(response["headers"]) >= {"x-ms-request-id", "x-ms-correlation-request-id"}
    # The relative --url went to the stand-in (the cloud's ARM endpoint): the batch, then each
    # item as its own GET, marked batch; nothing tried another host (the fixture checks).
    logged = [r for r in azure.requests() if r["api"] == "arm"]
    assert logged == [
        {"api": "arm", "method": "POST", "path": "/batch", "query": {"api-version": "2020-06-01"}, "status": 200,
         "batchMethods": ["GET"] * 3},
        *({"api": "arm", "method": "GET", "path": path, "query": {"api-version": FIC_API}, "status": status,
           "batch": True} for (_, path), status in zip(lists, (200, 200, 404)))]
    assert [r["api"] for r in azure.requests()] == ["identity"] + ["arm"] * 4  # one token, one POST
    assert not any(is_write(r) for r in logged)

    # The same GETs sent alone answer the same bodies (az rest prints them as sent too).
    direct = azure.run_az("rest", "--method", "get", "--url", f"{lists[0][1]}?api-version={FIC_API}", "-o", "json")
    assert (direct.returncode, json.loads(direct.stdout)) == (0, responses[0]["content"])
    direct = azure.run_az("rest", "--method", "get", "--url", f"{lists[2][1]}?api-version={FIC_API}", "-o", "json")
    assert (direct.returncode, direct.stderr) == (1, rest_error("Not Found", "ResourceNotFound", missing))


def test_batch_item_fault_fails_that_item_only(azure, demo):
    azure.add_identity("second", RG)
    denied_path = credentials_path(RG, "second")
    azure.fault("/userAssignedIdentities/second/federatedIdentityCredentials$", status=403)
    azure.configure(page_size=1)
    azure.add_federated_credential("app-id", RG, "shop-orders", issuer=demo["issuer"],
                                   subject="system:serviceaccount:shop:orders")
    done = batch(azure, ("app", f"{credentials_path(RG, 'app-id')}?api-version={FIC_API}"),
                 ("second", f"{denied_path}?api-version={FIC_API}"),
                 ("no-version", credentials_path(RG, "app-id")))
    assert (done.returncode, done.stderr) == (0, "")  # the batch succeeded; one item did not
    first, second, third = json.loads(done.stdout)["responses"]
    assert second["httpStatusCode"] == 403
    identity = demo["identity"]["id"].replace("app-id", "second").replace("/resourcegroups/", "/resourceGroups/")
    error = second["content"]["error"]
    assert f"ERROR: ({error['code']}) {error['message']}" == denied(
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read", identity)
    assert (third["httpStatusCode"], third["content"]["error"]["code"]) == (400, "MissingApiVersionParameter")
    # A page size applies inside a batch too: the nextLink is the caller's to follow, e.g. as
    # an absolute url in the next batch.
    assert first["httpStatusCode"] == 200
    assert [c["name"] for c in first["content"]["value"]] == ["shop-cart"]
    next_link = first["content"]["nextLink"]
    assert next_link.startswith(azure.url + credentials_path(RG, "app-id") + "?")
    done = batch(azure, ("page-2", next_link))
    (page,) = json.loads(done.stdout)["responses"]
    assert [c["name"] for c in page["content"]["value"]] == ["shop-orders"] and "nextLink" not in page["content"]
    assert [(r["method"], r["status"], r.get("batch")) for r in azure.requests() if r["api"] == "arm"] == [
        ("POST", 200, None), ("GET", 200, True), ("GET", 403, True), ("GET", 400, True),
        ("POST", 200, None), ("GET", 200, True)]


def test_batch_refused_whole_exits_1_with_the_raw_body_and_no_retry(azure, demo):
    item = ("0", f"{credentials_path(RG, 'app-id')}?api-version={FIC_API}")
    message = "The client may not batch."
    azure.fault("^/batch$", status=403, message=message)
    done = batch(azure, item)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", rest_error("Forbidden", "AuthorizationFailed", message))

    azure.fault("^/batch$", status=429, times=None, retry_after=0.01)  # az rest does not retry, even 429
    done = batch(azure, item, subscription=False)
    assert (done.returncode, done.stderr) == (
        1, rest_error("Too Many Requests", "TooManyRequests", "Injected fault: 429 TooManyRequests"))
    azure.clear_faults()

    done = azure.run_az("rest", "--method", "post", "--url", BATCH_URL, "--body", '{"request": []}', "-o", "json")
    assert (done.returncode, done.stderr) == (1, rest_error(
        "Bad Request", "InvalidBatchRequest", "The batch request body must be an object with a 'requests' array."))
    done = batch(azure, *[item] * (BATCH_LIMIT + 1))
    assert (done.returncode, done.stderr) == (1, rest_error(
        "Bad Request", "InvalidBatchRequest", f"The batch holds {BATCH_LIMIT + 1} requests; at most {BATCH_LIMIT} are "
        "allowed."))
    assert len(json.loads(batch(azure, *[item] * BATCH_LIMIT).stdout)["responses"]) == BATCH_LIMIT
    # Each refusal is the batch alone, once: no item served, nothing retried.
    assert [(r["method"], r["path"], r["status"]) for r in azure.requests() if r["api"] == "arm"][:4] == [
        ("POST", "/batch", 403), ("POST", "/batch", 429), ("POST", "/batch", 400), ("POST", "/batch", 400)]


def test_batch_holding_a_write_is_refused_whole_and_counts_as_a_write(azure, demo):
    read = {"httpMethod": "GET", "name": "read", "url": f"{credentials_path(RG, 'app-id')}?api-version={FIC_API}"}
    put = {"httpMethod": "put", "name": "write", "url": f"{credentials_path(RG, 'app-id')}/new?api-version={FIC_API}",
           "content": {"properties": {"issuer": "https://issuer.example/", "subject": "s"}}}
    done = batch(azure, read, put)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == rest_error("Method Not Allowed", "MethodNotAllowed",
                                     f"The stand-in serves reads only; a batch holding PUT {put['url']} was refused.")
    (logged,) = [r for r in azure.requests() if r["api"] == "arm"]  # the read was not served either
    assert (logged["method"], logged["path"], logged["status"], logged["batchMethods"]) == (
        "POST", "/batch", 405, ["GET", "PUT"])
    assert is_write(logged)
    assert azure.escapes() == []
    azure.reset()  # the fixture asserts nothing was written


def test_is_write():
    def entry(method, path, **extra):
        return {"api": "arm", "method": method, "path": path, "query": {}, "status": 200, **extra}
    assert not is_write(entry("GET", "/subscriptions"))
    assert not is_write(entry("GET", "/subscriptions/x", batch=True))
    assert is_write(entry("PUT", "/subscriptions/x/resourceGroups/y"))
    assert is_write(entry("DELETE", "/subscriptions/x/resourceGroups/y"))
    assert is_write(entry("POST", "/subscriptions/x/providers/Microsoft.Foo/bar/action"))
    assert not is_write(entry("POST", "/batch", batchMethods=["GET", "GET"]))
    assert not is_write(entry("POST", "/Batch/", batchMethods=[]))  # unreadable, refused with 400
    assert is_write(entry("POST", "/batch", batchMethods=["GET", "PATCH"], status=403))  # a fault came first
    assert not is_write({"api": "graph", "method": "POST", "path": "/graph/v1.0/directoryObjects/getByIds"})
    assert not is_write({"api": "identity", "method": "GET", "path": "/msi/token"})


# --- plumbing -------------------------------------------------------------------------------

def test_seed_control_endpoint_and_reset(azure):
    created = azure.seed({"identities": [{"name": "x", "resourceGroup": "rg-x"}],
                          "federatedCredentials": [{"identityName": "x", "resourceGroup": "rg-x", "name": "f",
                                                    "issuer": "https://issuer.example/", "subject": "s"}]})
    assert created["federatedCredentials"][0]["properties"] == {
        "issuer": "https://issuer.example/", "subject": "s", "audiences": ["api://AzureADTokenExchange"]}
    with pytest.raises(RuntimeError, match="no identity ghost"):
        azure.add_federated_credential("ghost", "rg-x", "f", issuer="https://i/", subject="s")
    azure.reset()
    with pytest.raises(RuntimeError, match="no identity x"):
        azure.add_federated_credential("x", "rg-x", "f", issuer="https://i/", subject="s")


def test_seed_spec_round_trips_through_az(azure):
    """seed_spec() takes the Azure side as az prints it (scenarios_aks.AksCluster.azure_spec())
    and az prints it back."""
    node_rg = f"MC_{RG}_{CLUSTER}_westeurope"
    kubelet_id = (f"/subscriptions/{SUB}/resourcegroups/{node_rg}/providers/Microsoft.ManagedIdentity/"
                  f"userAssignedIdentities/{CLUSTER}-agentpool")
    issuer = f"https://westeurope.oic.prod-aks.azure.com/{DEFAULT_TENANT_ID}/fixed-issuer-id/"
    registry_id = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerRegistry/registries/specacr"
    cluster = {
        "name": CLUSTER, "resourceGroup": RG, "location": "westeurope", "nodeResourceGroup": node_rg,
        "id": f"/subscriptions/{SUB}/resourcegroups/{RG}/providers/Microsoft.ContainerService/managedClusters/{CLUSTER}",
        "kubernetesVersion": "1.32.4", "oidcIssuerProfile": {"enabled": True, "issuerUrl": issuer},
        "securityProfile": {"workloadIdentity": {"enabled": True}},
        "identityProfile": {"kubeletidentity": {"clientId": "c1", "objectId": "o1", "resourceId": kubelet_id}},
        "agentPoolProfiles": [{"name": "system", "count": 3, "mode": "System"}]}
    created = seed_spec(azure, {
        "subscription": {"id": SUB, "tenantId": DEFAULT_TENANT_ID},
        "managedCluster": cluster,
        "identities": [
            {"name": f"{CLUSTER}-agentpool", "resourceGroup": node_rg, "location": "westeurope", "id": kubelet_id,
             "clientId": "c1", "principalId": "o1", "tenantId": DEFAULT_TENANT_ID, "federatedCredentials": []},
            {"name": "crossplane", "resourceGroup": RG, "location": "westeurope", "clientId": "c2",
             "principalId": "o2", "tenantId": DEFAULT_TENANT_ID, "federatedCredentials": [
                 {"name": "xp", "issuer": issuer, "subject": "system:serviceaccount:crossplane-system:crossplane",
                  "audiences": ["api://AzureADTokenExchange"]}]}],
        "registries": [{"name": "specacr", "resourceGroup": RG, "location": "westeurope", "id": registry_id,
                        "loginServer": "specacr.azurecr.io", "roleAssignmentMode": "AbacRepositoryPermissions",
                        "sku": "Premium", "adminUserEnabled": False, "anonymousPullEnabled": True}],
        "roleAssignments": [{"name": "a1b2c3d4-0000-4000-8000-000000000001", "principalId": "o1",
                             "principalType": "ServicePrincipal", "roleDefinitionName": "AcrPull", "scope": registry_id,
                             "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                                                 f"roleDefinitions/{ACR_PULL}"}]})
    assert [i["id"] for i in created["identities"]] == [
        kubelet_id, f"/subscriptions/{SUB}/resourcegroups/{RG}/providers/Microsoft.ManagedIdentity/"
                    f"userAssignedIdentities/crossplane"]
    assert created["registries"][0]["id"] == registry_id
    assert created["registries"][0]["properties"]["anonymousPullEnabled"] is True
    assert created["roleAssignments"][0]["properties"]["roleDefinitionId"].endswith(ACR_PULL)
    printed = az_json(azure, "aks", "show", "--resource-group", RG, "--name", CLUSTER)
    assert subset(printed, cluster) == cluster  # az adds members (null or not), never changes these
    with pytest.raises(ValueError, match="is not the stand-in's"):
        seed_spec(azure, {"subscription": {"id": "other", "tenantId": DEFAULT_TENANT_ID}})


def test_xpid_env_carries_the_stand_in_and_drops_real_azure_settings(azure, tmp_path, monkeypatch):
    for leaked in ("AZURE_CLIENT_SECRET", "AZURE_CONFIG_DIR", "MSI_ENDPOINT", "IDENTITY_ENDPOINT", "IMDS_ENDPOINT",
                   "https_proxy"):
        monkeypatch.setenv(leaked, "leaked")
    plain = xpid_env(None, tmp_path, tmp_path / "kubeconfig")
    assert not {k for k in plain if k.upper().startswith(("AZURE_", "MSI_", "IDENTITY_", "IMDS_"))}
    env = xpid_env(None, tmp_path, tmp_path / "kubeconfig", azure=azure)
    assert {k: v for k, v in env.items() if v == "leaked"} == {}
    assert env["AZURE_CONFIG_DIR"] == azure.env()["AZURE_CONFIG_DIR"]
    assert env["IDENTITY_ENDPOINT"] == azure.url + "/msi/token"
    assert env["REQUESTS_CA_BUNDLE"] == azure.ca_file
    assert env["HOME"] == str(tmp_path)
    # A program that runs plain `az` with this environment reaches the stand-in.
    done = subprocess.run(["az", "account", "show", "--query", "id", "-o", "tsv"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, SUB + "\n"), done.stderr


def test_no_az_is_a_failure_not_a_skip(monkeypatch):
    monkeypatch.setenv("XPID_TEST_AZ", "/nonexistent/az")
    assert find_az() is None
    with pytest.raises(pytest.fail.Exception, match="XPID_TEST_AZ"):
        require_az()


def test_program_mode_prints_env_and_serves_until_stdin_closes(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"registries": [{"name": "progacr", "resourceGroup": "rg-prog"}]}))
    program = subprocess.Popen([sys.executable, str(pathlib.Path(__file__).parent / "azure_standin.py"),
                                "--no-login", "--seed", str(spec)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(program.stdout.readline())
        assert started["seed"]["registries"][0]["properties"]["loginServer"] == "progacr.azurecr.io"
        assert started["env"]["IDENTITY_ENDPOINT"] == started["url"] + "/msi/token"
        assert os.path.exists(started["env"]["REQUESTS_CA_BUNDLE"])
    finally:
        program.stdin.close()
        assert program.wait(timeout=10) == 0
