"""A local stand-in for Azure Resource Manager, for the REAL `az` CLI (azure-cli from PyPI).

kubectl-xpid reads AKS clusters, user-assigned managed identities and their federated
credentials, container registries and role assignments through `az ... -o json`. This
module serves those ARM reads over HTTPS on 127.0.0.1, plus the two side doors az needs
to log in without a browser: a managed-identity token endpoint and a sliver of Microsoft
Graph. Standard library only; the certificates are made with the `openssl` program.

How az is pointed at it (AzureStandIn.login(), once per stand-in):
- A custom cloud: `az cloud register --name XpidStandIn --skip-endpoint-discovery` with the
  resource manager, management, active directory (login) and both resource ids set to
  https://127.0.0.1:PORT/, and the Microsoft Graph resource id set to
  https://127.0.0.1:PORT/graph/ (az uses the Graph *resource id* as the Graph base URL);
  then `az cloud set`. az trusts the stand-in's CA through REQUESTS_CA_BUNDLE.
- `az login --identity` with IDENTITY_ENDPOINT + IDENTITY_HEADER set: MSAL takes the App
  Service managed-identity protocol (GET IDENTITY_ENDPOINT?api-version=2019-08-01&
  resource=... with header X-IDENTITY-HEADER) and gets an unsigned JWT whose `tid` claim
  is the tenant; az decodes it without verifying, then lists subscriptions (GET
  /subscriptions). No authority, instance discovery or OIDC metadata is involved, so MSAL
  never leaves 127.0.0.1. A managed-identity login keeps no token: every later az process
  asks the token endpoint again (one GET /msi/token per process), so IDENTITY_ENDPOINT and
  IDENTITY_HEADER must stay in the environment of every az call (AzureStandIn.env()).
  `--assignee` works too: az resolves it through Graph (GET /v1.0/servicePrincipals with
  `servicePrincipalNames/any(c:c eq '...')`, then getByIds), both served here.
- The config dir of a freshly registered cloud is copied before login: env(logged_in=False)
  points at that copy, where `az account show` fails with "Please run 'az login'".
- env() also sets HTTP(S)_PROXY to a sink on 127.0.0.1 (NO_PROXY=127.0.0.1,localhost): any
  attempt to reach another host lands there, is refused, and shows in escapes(); the CA
  bundle holds only the stand-in's CA, so real Azure would fail TLS anyway.

Choices, and what they cost in faithfulness:
- Resources are stored as ARM JSON (id, name, type, location, tags, properties, ...) and
  served generically: GET of a resource id, of a collection at subscription or resource
  group level (/providers/NS/type), or of a child collection (.../identities/N/
  federatedIdentityCredentials). Paths are matched case-insensitively, like ARM. Any
  api-version is accepted (one is required, as in ARM); lists come in one page unless a
  page size is configured, then with an ARM nextLink.
- AKS answers with `resourcegroups` in lower case in the cluster id and the type
  `Microsoft.ContainerService/ManagedClusters`, as the real RP does; the OIDC issuer is
  sent as `issuerURL` (the REST spelling). A cluster's kubelet identity is also created as
  a user-assigned identity `<cluster>-agentpool` in the node resource group (as AKS does),
  so `az identity list` shows it.
- Not found: an unknown subscription is 404 SubscriptionNotFound, an unknown resource group
  404 ResourceGroupNotFound, a missing resource (or the missing parent of a child list)
  404 ResourceNotFound with ARM's message. Lists never 404 for an empty result.
- Role assignments live at any scope. `$filter=atScope()` (what `az role assignment list
  --scope` always sends, with or without --include-inherited) returns the assignments at
  the scope and at every ancestor: parents by path, the subscription's management groups
  (seeded with the subscription) and "/". `principalId eq '...'` and `assignedTo('...')`
  filter by principal (groups are not expanded). Without a filter: at, above and below.
  The CLI itself then drops ancestors unless --include-inherited is given.
- Role definitions: built-ins Owner, Contributor, Reader, AcrPull, AcrPush (real GUIDs) and
  "Container Registry Repository Reader" with a MADE-UP GUID (BUILTIN_ROLES), plus any
  seeded custom role. Listed at a scope under a subscription their ids are
  /subscriptions/S/providers/Microsoft.Authorization/roleDefinitions/GUID; elsewhere
  /providers/.... An assignment names its role the same way for its own scope, so an
  assignment above the subscription (management group, "/") carries a /providers/... id
  that az cannot match while filling roleDefinitionName (it prints null) -- derived from
  az's code, not observed on a live tenant.
- Microsoft Graph: POST /v1.0/directoryObjects/getByIds (az fills principalName with it
  unless --fill-principal-name false) and GET /v1.0/servicePrincipals and /v1.0/users with
  the `$filter`s az sends to resolve --assignee. Every seeded identity is also a service
  principal (appId = clientId, servicePrincipalNames[0] = clientId).
- Only reads are served: any ARM request other than GET (or than a batch of GETs, below) is
  logged and refused with 405 MethodNotAllowed, so a test can prove from requests() that
  nothing was written; is_write(entry) says which entries would have been writes.
- The ARM batch endpoint, POST /batch?api-version=... (path case-insensitive; what the
  portal and many scripts use, with api-version 2020-06-01; undocumented by Microsoft).
  Body {"requests": [{"httpMethod": "GET", "name": "<any string>", "url": "<https://host/
  path?query, or /path?query>"}, ...]}; the host of an absolute url is not checked. Answer:
  200 {"responses": [{"name", "httpStatusCode", "headers": {Cache-Control, Pragma,
  x-ms-request-id, x-ms-correlation-request-id, Content-Type, plus the answer's own such as
  Retry-After}, "content": <the JSON body>, "contentLength": <its bytes>}]}, in request
  order ("name" echoed when sent). Each inner GET is answered exactly as the same GET sent
  alone (api-version required, the 404 shapes, one page plus a nextLink when a page size is
  set -- nobody follows it for you) and goes through the fault list on its own path, so one
  item can fail (its status, the ARM error body as content) inside a 200 batch; a fault's
  delay holds up the whole batch, the items being answered one after another. The batch
  itself is one ARM request too: authenticated, api-version required, and a fault whose
  path matches /batch answers it instead (no inner request is served then). Refused whole,
  before any item is served: a body that is not JSON, or has no "requests" array, or an
  item without a string httpMethod and url -> 400 InvalidBatchRequest; more than BATCH_LIMIT
  (20) items -> 400 InvalidBatchRequest (several third-party clients cap batches at 20 for
  this reason; the real limit is not measured here, and the error codes are made up);
  any httpMethod but GET (case-insensitive) -> 405 MethodNotAllowed.
  requests() logs the batch ({method POST, path /batch, ..., batchMethods: the items'
  httpMethods upper-cased, [] if the body could not be read}) and then each item served, as
  {method GET, path, query, status, batch: true}.
- Faults match a regular expression (re.search) against the path, optionally a method; a
  status makes the request fail with an ARM error body ({"error": {code, message}}; a 403
  gets an AuthorizationFailed message naming the action and scope), a delay slows it, and
  retryAfter adds a Retry-After header (seconds). A batch's items are matched each on its
  own path (a regex matching "/batch" fails the whole batch; "^/subscriptions/" only items).
- Answers are compact JSON (no blank after ',' or ':'), as ARM sends them; it shows where
  az prints a body verbatim (az rest's errors, below).

How azure-cli 2.91.0 (msal 1.39.0) behaves, measured against this stand-in and pinned by
Tests/E2E/test_azure_standin.py (\n = newline):
- Success: exit 0, JSON on stdout, nothing on stderr. ARM properties are FLATTENED to the
  top level (no "properties" key), named as the Python SDK names them (issuerURL ->
  issuerUrl, enableRBAC -> enableRbac, dnsServiceIP -> dnsServiceIp), keys sorted; az adds
  `resourceGroup` (taken from the id). aks prints every model member, null when not sent.
  `role assignment list` drops null members (condition, description), adds
  roleDefinitionName (null when the assignment's role id is not among the definitions
  listed at the scope) and, unless --fill-principal-name false, principalName from Graph.
- What each read sends (besides a GET /msi/token for each ARM or Graph client az makes, so
  one to three per process):
    aks show      GET /subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/
                  managedClusters/N (api-version 2026-06-01); aks list: .../managedClusters
    identity list GET /subscriptions/S/providers/Microsoft.ManagedIdentity/userAssignedIdentities
    federated-credential list  GET .../userAssignedIdentities/N/federatedIdentityCredentials
    acr list      GET /subscriptions/S/providers/Microsoft.ContainerRegistry/registries
    role assignment list --scope X [--include-inherited]  GET X/providers/Microsoft.Authorization/
                  roleAssignments?$filter=atScope() -- the same request with or without
                  --include-inherited, which only stops az dropping the ancestors' ones --
                  then GET X/providers/Microsoft.Authorization/roleDefinitions; without
                  --fill-principal-name false also POST <graph>/v1.0/directoryObjects/getByIds
    account show  nothing (the config dir only)
  Lists follow nextLink. Without --subscription the default subscription of the login is
  used.
- Not found, any HTTP 404 whatever its code: exit 3.
    "ERROR: (ResourceNotFound) The Resource 'Microsoft.ContainerService/managedClusters/ghost'
     under resource group 'rg-demo' was not found. For more details please go to
     https://aka.ms/ARMResourceNotFoundFix\nCode: ResourceNotFound\nMessage: <the message>\n"
  (ResourceGroupNotFound and SubscriptionNotFound the same way.)
- Access denied (403) and every other HTTP error: exit 1, the same three-line shape.
    "ERROR: (AuthorizationFailed) The client '<oid>' with object id '<oid>' does not have
     authorization to perform action 'Microsoft.ContainerService/managedClusters/read' over
     scope '<scope>' or the scope is invalid. If access was recently granted, please refresh
     your credentials.\nCode: AuthorizationFailed\nMessage: <the message>\n"
    "ERROR: (InternalServerError) <message>\nCode: InternalServerError\nMessage: <message>\n"
  Retried (measured for 429, 500 and 503; 408, 502, 504 by azure-core's list): 4 attempts in
  all, the second at once, then after 1.6 s and 3.2 s (a persistent 500 costs about 5 s)
  unless the answer carries Retry-After, which is obeyed; a single 500 goes unnoticed. A 400
  is not retried.
- Not logged in: exit 1, nothing sent. "ERROR: Please run 'az login' to setup account.\n",
  preceded, when --subscription is given, by "WARNING: Subscription 'S' not recognized.\n".
- Logged in, --subscription unknown to the login: exit 1, nothing sent.
    "WARNING: Subscription 'X' not recognized.\nERROR: Subscription 'X' not found. Check the
     spelling and casing and try again.\n"
  AZURE_CORE_ONLY_SHOW_ERRORS=true (or --only-show-errors) removes the WARNING lines.
- The token endpoint answers an error (no retry): exit 1.
    "ERROR: 400, <message>\nRun the command below to authenticate interactively; additional
     arguments may be added as needed:\naz logout\naz login\n"
- The token endpoint cannot be reached: exit 1, a traceback.
    "ERROR: The command failed with an unexpected error. Here is the traceback:\nERROR:
     HTTPSConnectionPool(host='127.0.0.1', port=P): Max retries exceeded with url: /msi/token?..."
- `az rest --method post --url "/batch?api-version=2020-06-01" --body '{"requests": ...}'
  [--subscription S] [-o json]` (the batch read), unlike the commands above:
    A relative --url is prefixed with the cloud's resource manager endpoint (the stand-in),
    and a URL under that endpoint gets an ARM token (one GET /msi/token per process). It
    sends POST /batch once, with Content-Type: application/json, x-ms-client-request-id,
    CommandName: rest, ParameterSetName: "--method --url --body --subscription -o" (the
    option names given) and a User-Agent "... AZURECLI/2.91.0 (PIP)". --subscription is
    accepted (it only fills a {subscriptionId} placeholder in the url). JSON is the default
    output.
    Success (any 2xx): exit 0, nothing on stderr, the body printed AS SENT apart from
    re-indentation and sorted keys: {"responses": [{"content", "contentLength", "headers",
    "httpStatusCode", "name"}]} -- no flattening (`properties` stays), no resourceGroup
    added, nextLinks left as they are. An item's failure (404, 403, ...) is only its
    httpStatusCode and content; az still exits 0.
    Any HTTP error on the batch itself: exit 1 whatever the status (404 too, not 3), one
    line "ERROR: <HTTP reason phrase>(<the raw response body>)\n", e.g.
      "ERROR: Forbidden({"error":{"code":"AuthorizationFailed","message":"..."}})\n"
      "ERROR: Bad Request({"error":{"code":"InvalidBatchRequest","message":"..."}})\n"
      "ERROR: Method Not Allowed({"error":{"code":"MethodNotAllowed",...}})\n"
    NOT the "(Code) message\nCode: ...\nMessage: ..." shape of the SDK-backed commands.
    Never retried: 429, 500 and 503 are answered once (Retry-After or not).
    Not logged in: as above (exit 1, nothing sent, the WARNING when --subscription is given).
- Not one of the plugin's reads, but worth knowing: `az acr show -n MISSING` exits 1, not 3:
  it looks the name up in GET /subscriptions/S/resources?$filter=resourceType eq '...' and says
  "ERROR: The resource with name 'ghostacr' and type 'Microsoft.ContainerRegistry/registries'
   could not be found in subscription '<name> (S)'."
- az's first run in a new config dir checks for a newer az at
  azcliprod.blob.core.windows.net (cached in versionCheck.json); here that is the one
  CONNECT escapes() shows after login(), refused by the sink. The logged-in config dir is a
  copy made after it, so no later call tries.

Test controls (JSON over HTTPS; verify with the CA, AzureStandIn.ca_file):
  POST /_standin/seed     {subscriptions?, resourceGroups?, clusters?, identities?,
                           federatedCredentials?, registries?, roleDefinitions?,
                           roleAssignments?, principals?, resources?: [...]} -> the same
                           keys with the created ARM objects (see AzureStandIn.add_*)
  POST /_standin/faults   {path (regex), method?, status?, code?, message?, times? (null =
                           always, default 1), delay? (seconds), retryAfter? (seconds)}
  DELETE /_standin/faults
  POST /_standin/config   {pageSize?: int | null}
  POST /_standin/reset    forgets everything seeded, faults, the request log and config;
                          the constructor's subscriptions stay
  GET  /_standin/requests -> {"requests": [{api: arm|graph|identity, method, path, query,
                              status, batchMethods? (POST /batch), batch? (true: an item
                              of the batch logged before it)}], "escapes": [{method, target}]}

Run as a program, it starts a stand-in, logs az in (unless --no-login), optionally seeds it
from a JSON file of the /_standin/seed shape, prints one JSON line {"url", "env", "seed"}
and serves until stdin closes or it is signalled.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

from standin_http import (QuietHandler, RawRequest, Reply, Server, StartStop, control, handler, inherited_env,
                          proxy_env, serve_as_program)

CLOUD_NAME = "XpidStandIn"
DEFAULT_TENANT_ID = "11111111-1111-1111-1111-111111111111"
DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001"
DEFAULT_LOCATION = "eastus"
# The object id of the system-assigned identity az logs in as (the token's oid).
LOGIN_PRINCIPAL_ID = "22222222-2222-2222-2222-222222222222"
WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"

# name -> (GUID, description, actions, notActions, dataActions)
BUILTIN_ROLES = {
    "Owner": ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
              "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
              ["*"], [], []),
    "Contributor": ("b24988ac-6180-42a0-ab88-20f7382dd24c",
                    "Grants full access to manage all resources, but does not allow you to assign roles in "
                    "Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
                    ["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                            "Microsoft.Authorization/elevateAccess/Action"], []),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "View all resources, but does not allow you to make any changes.",
               ["*/read"], [], []),
    "AcrPull": ("7f951dda-4ed3-4680-a7ca-43fe172d538d", "acr pull",
                ["Microsoft.ContainerRegistry/registries/pull/read"], [], []),
    "AcrPush": ("8311e382-0749-4cb8-b61a-304f252e45ec", "acr push",
                ["Microsoft.ContainerRegistry/registries/pull/read",
                 "Microsoft.ContainerRegistry/registries/push/write"], [], []),
    # The GUID is MADE UP: the real one was not available when this was written. Match this
    # role by name (or by its data actions), never by GUID.
    "Container Registry Repository Reader": (
        "c0ffee00-0000-4000-8000-00000000a001",
        "Allows read access to Azure Container Registry repositories (made-up GUID in this stand-in).",
        [], [], ["Microsoft.ContainerRegistry/registries/repositories/content/read",
                 "Microsoft.ContainerRegistry/registries/repositories/metadata/read"]),
}

_ROLE_DEFINITIONS = "/providers/microsoft.authorization/roledefinitions"
_ROLE_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_CREATED_ON = "2026-01-15T10:00:00.0000000Z"
# The most requests one POST /batch may hold. The endpoint is undocumented; several
# third-party clients cap their batches at 20 because ARM refuses more (not measured here).
BATCH_LIMIT = 20


class ARMError(Exception):
    """An error answer: {"error": {"code", "message"}} for ARM and Graph."""

    def __init__(self, status: int, code: str, message: str, headers: list | None = None):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or []


@dataclass
class _Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    inner: list[dict] = field(default_factory=list)  # a batch's inner requests, logged after it

    @classmethod
    def json(cls, payload, status: int = 200, headers: list | None = None) -> "_Response":
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(), [
            ("Content-Type", "application/json; charset=utf-8"), *(headers or [])])


@dataclass
class _Request:
    method: str
    path: str  # percent-decoded
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    batch: bool = False  # one of the requests inside a POST /batch: always ARM

    @property
    def api(self) -> str:
        if self.batch:
            return "arm"
        if self.path.startswith("/msi/"):
            return "identity"
        if self.path.startswith("/graph/"):
            return "graph"
        if self.path.startswith("/_standin/"):
            return "control"
        return "arm"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _merge(base: dict, extra: dict | None) -> dict:
    """Deep-merges `extra` into `base` (in place); a None value deletes the key."""
    for key, value in (extra or {}).items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _is_under(scope: str, ancestor: str) -> bool:
    """Whether `ancestor` is `scope` itself or a parent of it by path (case-insensitive)."""
    scope, ancestor = scope.lower().rstrip("/"), ancestor.lower().rstrip("/")
    return scope == ancestor or scope.startswith(ancestor + "/") or ancestor == ""


def _subscription_of(scope: str) -> str | None:
    match = re.match(r"/subscriptions/([^/]+)", scope, re.IGNORECASE)
    return match.group(1) if match else None


def _role_definition_id(scope: str, guid: str) -> str:
    subscription = _subscription_of(scope)
    prefix = f"/subscriptions/{subscription}" if subscription else ""
    return f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


class _State:
    """Everything seeded, the faults and the request log. Callers hold `lock`."""

    def __init__(self, tenant_id: str, subscriptions: list[dict]):
        self.lock = threading.Lock()
        self.tenant_id = tenant_id
        self.initial_subscriptions = subscriptions
        self.generation = 0
        self.clear()

    def clear(self) -> None:
        self.generation += 1
        self.subscriptions: dict[str, dict] = {}  # lower id -> {"json", "managementGroups"}
        self.resource_groups: dict[tuple[str, str], dict] = {}  # (sub, rg) lower -> JSON
        self.resources: dict[str, dict] = {}  # lower id -> ARM JSON, in insertion order
        self.role_definitions: dict[str, dict] = {}  # lower GUID -> spec
        self.role_assignments: list[dict] = []
        self.principals: dict[str, dict] = {}  # object id -> Graph object
        self.faults: list[dict] = []
        self.requests: list[dict] = []
        self.escapes: list[dict] = []
        self.page_size: int | None = None
        for name, (guid, description, actions, not_actions, data_actions) in BUILTIN_ROLES.items():
            self.role_definitions[guid] = {
                "name": guid, "roleName": name, "roleType": "BuiltInRole", "description": description,
                "assignableScopes": ["/"], "permissions": [{
                    "actions": actions, "notActions": not_actions, "dataActions": data_actions,
                    "notDataActions": []}]}
        for subscription in self.initial_subscriptions:
            self.add_subscription(dict(subscription))

    # --- seeding ------------------------------------------------------------------------

    def add_subscription(self, spec: dict) -> dict:
        sub = spec["subscriptionId"]
        body = {
            "id": f"/subscriptions/{sub}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": sub,
            "tenantId": spec.get("tenantId", self.tenant_id),
            "displayName": spec.get("displayName", f"Stand-in subscription {sub[-4:]}"),
            "state": spec.get("state", "Enabled"),
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"},
        }
        self.subscriptions[sub.lower()] = {"json": body, "managementGroups": list(spec.get("managementGroups", []))}
        return body

    def _subscription(self, spec: dict) -> str:
        sub = spec.get("subscription") or next(iter(self.subscriptions.values()))["json"]["subscriptionId"]
        if sub.lower() not in self.subscriptions:
            raise ValueError(f"unknown subscription {sub}: seed it first (subscriptions)")
        return self.subscriptions[sub.lower()]["json"]["subscriptionId"]

    def add_resource_group(self, spec: dict) -> dict:
        sub, name = self._subscription(spec), spec["name"]
        key = (sub.lower(), name.lower())
        if key not in self.resource_groups:
            self.resource_groups[key] = {
                "id": f"/subscriptions/{sub}/resourceGroups/{name}", "name": name,
                "type": "Microsoft.Resources/resourceGroups", "location": spec.get("location", DEFAULT_LOCATION),
                "properties": {"provisioningState": "Succeeded"}}
            if spec.get("managedBy"):
                self.resource_groups[key]["managedBy"] = spec["managedBy"]
        return self.resource_groups[key]

    def add_resource(self, body: dict) -> dict:
        """Stores raw ARM JSON under its id; creates the resource group if there is one."""
        match = re.match(r"/subscriptions/([^/]+)/resourcegroups/([^/]+)/", body["id"], re.IGNORECASE)
        if match:
            self.add_resource_group({"subscription": self._subscription({"subscription": match.group(1)}),
                                     "name": match.group(2), "location": body.get("location", DEFAULT_LOCATION)})
        self.resources[body["id"].lower()] = body
        return body

    def add_cluster(self, spec: dict) -> dict:
        sub, rg, name = self._subscription(spec), spec["resourceGroup"], spec["name"]
        location = spec.get("location", DEFAULT_LOCATION)
        tenant = self.subscriptions[sub.lower()]["json"]["tenantId"]
        version = spec.get("kubernetesVersion", "1.31.2")
        node_rg = spec.get("nodeResourceGroup", f"MC_{rg}_{name}_{location}")
        self.add_resource_group({"subscription": sub, "name": rg, "location": location})
        cluster_id = f"/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"
        self.add_resource_group({"subscription": sub, "name": node_rg, "location": location,
                                 "managedBy": cluster_id})
        dns_prefix = spec.get("dnsPrefix", f"{name}-dns")
        fqdn = f"{dns_prefix}-{secrets.token_hex(4)}.hcp.{location}.azmk8s.io"
        properties = {
            "provisioningState": spec.get("provisioningState", "Succeeded"),
            "powerState": {"code": spec.get("powerState", "Running")},
            "kubernetesVersion": version,
            "currentKubernetesVersion": version,
            "dnsPrefix": dns_prefix,
            "fqdn": fqdn,
            "azurePortalFQDN": fqdn.replace(".hcp.", ".portal.hcp."),
            "agentPoolProfiles": [{
                "name": pool.get("name", "nodepool1"), "count": pool.get("count", 2),
                "vmSize": "Standard_D2s_v3", "osDiskSizeGB": 128,
                "osDiskType": "Managed", "kubeletDiskType": "OS", "maxPods": 250,
                "type": "VirtualMachineScaleSets", "enableAutoScaling": False,
                "provisioningState": "Succeeded", "powerState": {"code": "Running"},
                "orchestratorVersion": version, "currentOrchestratorVersion": version,
                "mode": pool.get("mode", "System"), "osType": "Linux", "osSKU": "Ubuntu",
                "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202601.07.0", "enableFIPS": False,
            } for pool in spec.get("agentPools", [{}])],
            "nodeResourceGroup": node_rg,
            "enableRBAC": True,
            "supportPlan": "KubernetesOfficial",
            "networkProfile": {
                "networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "10.244.0.0/16",
                "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer",
                "loadBalancerSku": "standard"},
            "maxAgentPools": 100,
            "disableLocalAccounts": False,
            "securityProfile": {},
            "oidcIssuerProfile": {"enabled": False},
        }
        issuer = spec.get("oidcIssuer", True)
        if issuer:
            url = issuer if isinstance(issuer, str) else \
                f"https://{location}.oic.prod-aks.azure.com/{tenant}/{uuid.uuid4()}/"
            properties["oidcIssuerProfile"] = {"enabled": True, "issuerURL": url}
        workload = spec.get("workloadIdentity", True)
        if workload is not None:
            properties["securityProfile"]["workloadIdentity"] = {"enabled": bool(workload)}
        kubelet = spec.get("kubeletIdentity", True)
        if kubelet:
            if isinstance(kubelet, dict):
                properties["identityProfile"] = {"kubeletidentity": dict(kubelet)}
            else:
                identity = self.add_identity({"subscription": sub, "resourceGroup": node_rg,
                                              "name": f"{name}-agentpool", "location": location})
                properties["identityProfile"] = {"kubeletidentity": {
                    "resourceId": identity["id"], "clientId": identity["properties"]["clientId"],
                    "objectId": identity["properties"]["principalId"]}}
        body = {
            "id": cluster_id,
            "location": location,
            "name": name,
            "type": "Microsoft.ContainerService/ManagedClusters",
            "sku": {"name": "Base", "tier": "Free"},
            "identity": {"type": "SystemAssigned", "principalId": str(uuid.uuid4()), "tenantId": tenant},
            "properties": _merge(properties, spec.get("properties")),
        }
        if spec.get("tags"):
            body["tags"] = spec["tags"]
        return self.add_resource(body)

    def add_identity(self, spec: dict) -> dict:
        sub, rg, name = self._subscription(spec), spec["resourceGroup"], spec["name"]
        tenant = spec.get("tenantId", self.subscriptions[sub.lower()]["json"]["tenantId"])
        body = {
            "id": f"/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/"
                  f"userAssignedIdentities/{name}",
            "name": name,
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "location": spec.get("location", DEFAULT_LOCATION),
            "tags": spec.get("tags", {}),
            "properties": {
                "isolationScope": "None",
                "tenantId": tenant,
                "principalId": spec.get("principalId") or str(uuid.uuid4()),
                "clientId": spec.get("clientId") or str(uuid.uuid4()),
            },
        }
        self.add_resource(body)
        self.add_principal({"id": body["properties"]["principalId"], "type": "servicePrincipal",
                            "displayName": name, "appId": body["properties"]["clientId"],
                            "servicePrincipalType": "ManagedIdentity",
                            "servicePrincipalNames": [body["properties"]["clientId"], body["id"]]})
        return body

    def add_federated_credential(self, spec: dict) -> dict:
        sub = self._subscription(spec)
        parent = (f"/subscriptions/{sub}/resourcegroups/{spec['resourceGroup']}/providers/"
                  f"Microsoft.ManagedIdentity/userAssignedIdentities/{spec['identityName']}")
        if parent.lower() not in self.resources:
            raise ValueError(f"no identity {spec['identityName']} in {spec['resourceGroup']}: seed it first")
        identity_id = self.resources[parent.lower()]["id"]
        body = {
            "id": f"{identity_id}/federatedIdentityCredentials/{spec['name']}",
            "name": spec["name"],
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
            "properties": {
                "issuer": spec["issuer"],
                "subject": spec["subject"],
                "audiences": list(spec.get("audiences", [WORKLOAD_IDENTITY_AUDIENCE])),
            },
        }
        return self.add_resource(body)

    def add_registry(self, spec: dict) -> dict:
        sub, rg, name = self._subscription(spec), spec["resourceGroup"], spec["name"]
        sku = spec.get("sku", "Standard")
        properties = {
            "loginServer": spec.get("loginServer", f"{name.lower()}.azurecr.io"),
            "creationDate": "2026-01-15T10:00:00.000000+00:00",
            "provisioningState": "Succeeded",
            "adminUserEnabled": spec.get("adminUserEnabled", False),
            "policies": {
                "quarantinePolicy": {"status": "disabled"},
                "trustPolicy": {"type": "Notary", "status": "disabled"},
                "retentionPolicy": {"days": 7, "lastUpdatedTime": "2026-01-15T10:00:00.000000+00:00",
                                    "status": "disabled"},
                "exportPolicy": {"status": "enabled"},
            },
            "encryption": {"status": "disabled"},
            "dataEndpointEnabled": False,
            "dataEndpointHostNames": [],
            "privateEndpointConnections": [],
            "publicNetworkAccess": "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "zoneRedundancy": "Disabled",
            "anonymousPullEnabled": False,
            "roleAssignmentMode": spec.get("roleAssignmentMode", "LegacyRegistryPermissions"),
        }
        body = {
            "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{name}",
            "name": name,
            "type": "Microsoft.ContainerRegistry/registries",
            "location": spec.get("location", DEFAULT_LOCATION),
            "tags": spec.get("tags", {}),
            "sku": {"name": sku, "tier": sku},
            "properties": _merge(properties, spec.get("properties")),
        }
        return self.add_resource(body)

    def add_role_definition(self, spec: dict) -> dict:
        guid = spec.get("name") or str(uuid.uuid4())
        self.role_definitions[guid.lower()] = {
            "name": guid, "roleName": spec["roleName"], "roleType": spec.get("roleType", "CustomRole"),
            "description": spec.get("description", ""),
            "assignableScopes": list(spec.get("assignableScopes", ["/"])),
            "permissions": [{k: list(spec.get(k, [])) for k in
                             ("actions", "notActions", "dataActions", "notDataActions")}]}
        return self.role_definition_json(self.role_definitions[guid.lower()], "/")

    def _role_guid(self, role: str) -> str:
        tail = role.rstrip("/").rsplit("/", 1)[-1]
        if _GUID.fullmatch(tail):
            return tail
        for guid, definition in self.role_definitions.items():
            if definition["roleName"].lower() == role.lower():
                return definition["name"]
        raise ValueError(f"unknown role {role!r}: seed it first (roleDefinitions)")

    def add_role_assignment(self, spec: dict) -> dict:
        scope = spec["scope"].rstrip("/") or "/"
        guid = spec.get("name") or str(uuid.uuid4())
        role = spec["role"]
        role_id = role if role.startswith("/") else _role_definition_id(scope, self._role_guid(role))
        assignment = {
            "id": f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{guid}",
            "name": guid,
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "roleDefinitionId": role_id,
                "principalId": spec["principalId"],
                "principalType": spec.get("principalType", "ServicePrincipal"),
                "scope": scope,
                "condition": spec.get("condition"),
                "conditionVersion": spec.get("conditionVersion"),
                "createdOn": _CREATED_ON,
                "updatedOn": _CREATED_ON,
                "createdBy": LOGIN_PRINCIPAL_ID,
                "updatedBy": LOGIN_PRINCIPAL_ID,
                "delegatedManagedIdentityResourceId": None,
                "description": spec.get("description"),
            },
        }
        self.role_assignments.append(assignment)
        return assignment

    def add_principal(self, spec: dict) -> dict:
        kind = spec.get("type", "servicePrincipal")
        principal = {"@odata.type": f"#microsoft.graph.{kind}", "id": spec["id"],
                     "displayName": spec.get("displayName", spec["id"])}
        if kind == "servicePrincipal":
            principal.update({"appId": spec.get("appId", spec["id"]),
                              "servicePrincipalType": spec.get("servicePrincipalType", "Application"),
                              "servicePrincipalNames": spec.get("servicePrincipalNames",
                                                                [spec.get("appId", spec["id"])])})
        elif kind == "user":
            principal["userPrincipalName"] = spec.get("userPrincipalName", f"{spec['id']}@standin.example")
        self.principals[spec["id"]] = principal
        return principal

    # --- reading ------------------------------------------------------------------------

    def role_definition_json(self, definition: dict, scope: str) -> dict:
        return {
            "id": _role_definition_id(scope, definition["name"]),
            "name": definition["name"],
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {
                "roleName": definition["roleName"], "type": definition["roleType"],
                "description": definition["description"],
                "assignableScopes": definition["assignableScopes"],
                "permissions": definition["permissions"],
                "createdOn": _CREATED_ON, "updatedOn": _CREATED_ON, "createdBy": None, "updatedBy": None,
            },
        }

    def ancestors_of(self, scope: str):
        """A predicate: is an assignment scope at `scope` or above it?"""
        groups = []
        subscription = _subscription_of(scope)
        if subscription and subscription.lower() in self.subscriptions:
            groups = [g.lower() for g in self.subscriptions[subscription.lower()]["managementGroups"]]

        def above(candidate: str) -> bool:
            if _is_under(scope, candidate):
                return True
            match = re.fullmatch(r"/providers/microsoft\.management/managementgroups/([^/]+)",
                                 candidate.lower().rstrip("/"))
            return bool(match) and match.group(1) in groups
        return above

    def take_fault(self, request: _Request) -> dict | None:
        for fault in self.faults:
            if fault["method"] not in (None, request.method):
                continue
            if re.search(fault["path"], request.path, re.IGNORECASE):
                if fault["times"] is not None:
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self.faults.remove(fault)
                return fault
        return None


def _default_code(status: int) -> str:
    return {400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "AuthorizationFailed",
            404: "ResourceNotFound", 409: "Conflict", 429: "TooManyRequests",
            500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable",
            504: "GatewayTimeout"}.get(status, "InternalServerError")


def _action_of(path: str) -> str:
    """The ARM action a GET of `path` needs, e.g. Microsoft.ContainerService/managedClusters/read."""
    tail = path.rsplit("/providers/", 1)
    if len(tail) == 2:
        segments = tail[1].strip("/").split("/")
        types = [segments[0]] + segments[1::2]
        return "/".join(types) + "/read"
    if re.fullmatch(r"/subscriptions/[^/]+/resourcegroups/[^/]+", path, re.IGNORECASE):
        return "Microsoft.Resources/subscriptions/resourceGroups/read"
    return "Microsoft.Resources/subscriptions/read"


def _scope_of(path: str) -> str:
    """The scope ARM names when refusing a GET of `path`: the resource itself, the parent of
    a collection, or the scope an extension (role assignments, definitions) hangs off."""
    path = path.rstrip("/")
    lower = path.lower()
    for marker in (_ROLE_ASSIGNMENTS, _ROLE_DEFINITIONS):
        if marker in lower:
            return path[:lower.rfind(marker)] or "/"
    head, _, tail = path.partition("/providers/")
    if not tail:
        return path
    segments = tail.split("/")
    if len(segments) == 2:  # NS/type: a collection at subscription or group level
        return head
    if len(segments) % 2 == 0:  # NS/type/name/childType: the parent resource
        return path.rsplit("/", 1)[0]
    return path  # a resource


def _is_batch(request: _Request) -> bool:
    """POST /batch (any case, trailing slash or not) to ARM, not one of a batch's own requests."""
    return (request.api == "arm" and not request.batch and request.method == "POST"
            and request.path.rstrip("/").lower() == "/batch")


def _batch_methods(body: bytes) -> list[str]:
    """The upper-cased httpMethod of each request in a batch body ([] if it cannot be read)."""
    try:
        requests = json.loads(body or b"").get("requests")
        return [str(item.get("httpMethod")).upper() for item in requests if isinstance(item, dict)]
    except (ValueError, AttributeError, TypeError):
        return []


def is_write(entry: dict) -> bool:
    """Whether an entry of requests() is an ARM request that could write: any method but GET,
    except a POST /batch whose requests are all GETs (logged with `batchMethods`). A batch
    holding anything else counts as a write whether the stand-in refused it (405) or a fault
    answered first; its inner requests are never served, so never logged."""
    if entry["api"] != "arm" or entry["method"] == "GET":
        return False
    if entry["method"] == "POST" and entry["path"].rstrip("/").lower() == "/batch":
        return any(method != "GET" for method in entry.get("batchMethods", []))
    return True


class _App:
    """Answers one request: control endpoint, token endpoint, Graph or ARM."""

    def __init__(self, tenant_id: str, subscriptions: list[dict], identity_header: str):
        self.state = _State(tenant_id, subscriptions)
        self.identity_header = identity_header
        self.base_url = ""  # set once the server is bound

    def handle(self, request: _Request) -> _Response:
        if request.api == "control":
            try:
                return self._control(request)
            except (KeyError, ValueError, TypeError) as error:
                return _Response.json({"error": f"bad control request: {error!r}"}, 400)
        with self.state.lock:
            generation = self.state.generation
        response = self._answer(request)
        with self.state.lock:
            if generation == self.state.generation:
                entry = {"api": request.api, "method": request.method, "path": request.path,
                         "query": request.query, "status": response.status}
                if _is_batch(request):
                    entry["batchMethods"] = _batch_methods(request.body)
                self.state.requests.append(entry)
                self.state.requests.extend(response.inner)
        return response

    def reply(self, raw: RawRequest) -> Reply:
        """handle() for one HTTP request as the server received it (the path percent-decoded)."""
        response = self.handle(_Request(raw.method, urllib.parse.unquote(raw.path), raw.query,
                                        raw.lower_headers(), raw.body))
        return Reply(response.status, response.headers, response.body)

    def _answer(self, request: _Request) -> _Response:
        """A request's answer after the fault list: a batch's inner requests come here too."""
        with self.state.lock:
            fault = self.state.take_fault(request)
        try:
            if fault and fault.get("delay"):
                time.sleep(fault["delay"])
            if fault and fault.get("status"):
                status = fault["status"]
                code = fault.get("code") or _default_code(status)
                message = fault.get("message") or self._fault_message(request, status, code)
                headers = [("Retry-After", str(fault["retryAfter"]))] if fault.get("retryAfter") is not None else []
                raise ARMError(status, code, message, headers)
            return self._serve(request)
        except ARMError as error:
            return self._error(request, error)

    def _fault_message(self, request: _Request, status: int, code: str) -> str:
        if status == 403 and code == "AuthorizationFailed":
            return (f"The client '{LOGIN_PRINCIPAL_ID}' with object id '{LOGIN_PRINCIPAL_ID}' does not have "
                    f"authorization to perform action '{_action_of(request.path)}' over scope "
                    f"'{_scope_of(request.path)}' or the scope is invalid. If access was recently granted, please "
                    f"refresh your credentials.")
        return f"Injected fault: {status} {code}"

    def _error(self, request: _Request, error: ARMError) -> _Response:
        if request.api == "identity":  # the App Service token endpoint's own shape
            return _Response.json({"statusCode": error.status, "message": error.message,
                                   "correlationId": str(uuid.uuid4())}, error.status, error.headers)
        headers = [("x-ms-failure-cause", "gateway"), *error.headers]
        if request.api == "arm":
            headers.append(("x-ms-request-id", str(uuid.uuid4())))
        return _Response.json({"error": {"code": error.code, "message": error.message}}, error.status, headers)

    def _serve(self, request: _Request) -> _Response:
        if request.api == "identity":
            return self._token(request)
        self._authenticate(request)
        if request.api == "graph":
            return self._graph(request)
        batch = _is_batch(request)
        if request.method != "GET" and not batch:
            raise ARMError(405, "MethodNotAllowed",
                           f"The stand-in serves reads only; {request.method} {request.path} was refused.")
        if "api-version" not in request.query:
            raise ARMError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
        if batch:
            return self._batch(request)
        with self.state.lock:
            return self._arm_get(request)

    # --- ARM batch (POST /batch) ------------------------------------------------------------

    def _batch(self, outer: _Request) -> _Response:
        """Each inner request answered as the same GET sent on its own would be (the fault
        list included), in order; the whole batch is refused first if it is malformed, too
        big or holds anything but a GET."""
        try:
            body = json.loads(outer.body or b"")
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ARMError(400, "InvalidBatchRequest", f"The batch request body is not valid JSON: {error}.") from None
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list):
            raise ARMError(400, "InvalidBatchRequest", "The batch request body must be an object with a "
                           "'requests' array.")
        if len(requests) > BATCH_LIMIT:
            raise ARMError(400, "InvalidBatchRequest", f"The batch holds {len(requests)} requests; at most "
                           f"{BATCH_LIMIT} are allowed.")
        inner = []
        for index, item in enumerate(requests):
            if not (isinstance(item, dict) and isinstance(item.get("url"), str)
                    and isinstance(item.get("httpMethod"), str)):
                raise ARMError(400, "InvalidBatchRequest", f"Batch request {index} needs a string 'httpMethod' "
                               f"and a string 'url'.")
            method = item["httpMethod"].upper()
            if method != "GET":
                raise ARMError(405, "MethodNotAllowed", f"The stand-in serves reads only; a batch holding "
                               f"{method} {item['url']} was refused.")
            url = urllib.parse.urlsplit(item["url"])  # the host of an absolute URL is not checked
            inner.append(_Request(method, urllib.parse.unquote(url.path),
                                  dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
                                  outer.headers, b"", batch=True))
        responses, log = [], []
        for item, request in zip(requests, inner):
            answer = self._answer(request)
            headers = {"Cache-Control": "no-cache", "Pragma": "no-cache",
                       "x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": str(uuid.uuid4()),
                       **dict(answer.headers)}
            responses.append({**({"name": item["name"]} if "name" in item else {}),
                              "httpStatusCode": answer.status, "headers": headers,
                              "content": json.loads(answer.body), "contentLength": len(answer.body)})
            log.append({"api": "arm", "method": request.method, "path": request.path, "query": request.query,
                        "status": answer.status, "batch": True})
        response = _Response.json({"responses": responses})
        response.inner = log
        return response

    # --- managed identity token endpoint and authentication -------------------------------

    def _token(self, request: _Request) -> _Response:
        if request.path != "/msi/token":
            raise ARMError(404, "NotFound", f"No such endpoint {request.path}")
        if request.headers.get("x-identity-header") != self.identity_header:
            raise ARMError(401, "Unauthorized", "The X-IDENTITY-HEADER is missing or wrong.")
        resource = request.query.get("resource")
        if not resource:
            raise ARMError(400, "BadRequest", "resource is required")
        now = int(time.time())
        claims = {"aud": resource, "iss": f"https://sts.windows.net/{self.state.tenant_id}/", "iat": now,
                  "nbf": now, "exp": now + 86400, "tid": self.state.tenant_id, "oid": LOGIN_PRINCIPAL_ID,
                  "sub": LOGIN_PRINCIPAL_ID, "appid": LOGIN_PRINCIPAL_ID, "idtyp": "app", "ver": "1.0",
                  "xpid_standin": True}
        token = ".".join([_b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "standin"}).encode()),
                          _b64url(json.dumps(claims).encode()), _b64url(b"not-signed")])
        return _Response.json({"access_token": token, "expires_on": str(now + 86400), "resource": resource,
                               "token_type": "Bearer", "client_id": LOGIN_PRINCIPAL_ID})

    def _authenticate(self, request: _Request) -> None:
        header = request.headers.get("authorization", "")
        try:
            scheme, token = header.split(" ", 1)
            claims = json.loads(_b64url_decode(token.split(".")[1]))
            assert scheme.lower() == "bearer" and claims.get("xpid_standin")
        except (ValueError, IndexError, AssertionError, json.JSONDecodeError):
            raise ARMError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is missing or not a "
                           "token from this stand-in.") from None

    # --- Microsoft Graph ----------------------------------------------------------------

    def _graph(self, request: _Request) -> _Response:
        path = request.path.removeprefix("/graph")
        with self.state.lock:
            principals = list(self.state.principals.values())
        if (request.method, path) == ("POST", "/v1.0/directoryObjects/getByIds"):
            body = json.loads(request.body or b"{}")
            wanted = set(body.get("ids", []))
            types = {t.lower() for t in body.get("types", [])}
            found = [p for p in principals if p["id"] in wanted
                     and (not types or p["@odata.type"].rsplit(".", 1)[1].lower() in types)]
            return _Response.json({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
                                   "value": found})
        match = re.fullmatch(r"/v1\.0/(servicePrincipals|users|groups)", path)
        if request.method == "GET" and match:
            kind = match.group(1)[:-1]
            candidates = [p for p in principals if p["@odata.type"] == f"#microsoft.graph.{kind}"]
            text = request.query.get("$filter", "")
            value = re.search(r"eq '([^']*)'", text)
            value = value.group(1).lower() if value else None
            if value is not None:
                if "servicePrincipalNames" in text:
                    candidates = [p for p in candidates if value in [n.lower() for n in p["servicePrincipalNames"]]]
                elif "userPrincipalName" in text:
                    candidates = [p for p in candidates if p.get("userPrincipalName", "").lower() == value]
                elif "appId" in text:
                    candidates = [p for p in candidates if p.get("appId", "").lower() == value]
                elif "displayName" in text:
                    candidates = [p for p in candidates if p["displayName"].lower() == value]
            return _Response.json({"value": candidates})
        match = re.fullmatch(r"/v1\.0/(?:directoryObjects|servicePrincipals|users|groups)/([^/]+)", path)
        if request.method == "GET" and match:
            for principal in principals:
                if principal["id"] == match.group(1):
                    return _Response.json(principal)
        raise ARMError(404, "Request_ResourceNotFound",
                       f"Resource '{path.rsplit('/', 1)[-1]}' does not exist or one of its queried "
                       f"reference-property objects are not present.")

    # --- ARM ----------------------------------------------------------------------------

    def _page(self, request: _Request, items: list) -> _Response:
        size = self.state.page_size
        if not size:
            return _Response.json({"value": items})
        start = int(request.query.get("$skiptoken", "0"))
        body = {"value": items[start:start + size]}
        if start + size < len(items):
            query = {**request.query, "$skiptoken": str(start + size)}
            body["nextLink"] = (self.base_url + urllib.parse.quote(request.path) + "?" +
                                urllib.parse.urlencode(query))
        return _Response.json(body)

    def _require_subscription(self, sub: str) -> None:
        if sub.lower() not in self.state.subscriptions:
            raise ARMError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")

    def _require_resource_group(self, sub: str, rg: str) -> None:
        self._require_subscription(sub)
        if (sub.lower(), rg.lower()) not in self.state.resource_groups:
            raise ARMError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")

    def _arm_get(self, request: _Request) -> _Response:
        path = request.path.rstrip("/") or "/"
        lower = path.lower()
        for marker in (_ROLE_ASSIGNMENTS, _ROLE_DEFINITIONS):
            position = lower.rfind(marker)
            if position >= 0:
                scope = path[:position] or "/"
                rest = path[position + len(marker):].strip("/")
                self._require_scope(scope)
                if marker == _ROLE_ASSIGNMENTS:
                    return self._role_assignments(request, scope, rest)
                return self._role_definitions(request, scope, rest)
        if lower == "/subscriptions":
            return self._page(request, [s["json"] for s in self.state.subscriptions.values()])
        match = re.fullmatch(r"/subscriptions/([^/]+)(?:/resourcegroups/([^/]+))?/resources", path, re.IGNORECASE)
        if match:
            return self._generic_list(request, *match.groups())
        match = re.fullmatch(r"/subscriptions/([^/]+)(?:/resourcegroups(?:/([^/]+))?)?(/providers/.*)?",
                             path, re.IGNORECASE)
        if not match:
            raise ARMError(404, "NotFound", f"The stand-in has no route for GET {path}.")
        sub, rg, providers = match.groups()
        self._require_subscription(sub)
        if providers is None:
            if rg is not None:
                self._require_resource_group(sub, rg)
                return _Response.json(self.state.resource_groups[(sub.lower(), rg.lower())])
            if lower.endswith("/resourcegroups"):
                return self._page(request, [g for (s, _), g in self.state.resource_groups.items()
                                            if s == sub.lower()])
            return _Response.json(self.state.subscriptions[sub.lower()]["json"])
        if rg is not None:
            self._require_resource_group(sub, rg)
        segments = providers.strip("/").split("/")[1:]  # drop "providers"
        if len(segments) < 2:
            raise ARMError(404, "NotFound", f"The stand-in has no route for GET {path}.")
        namespace, rest = segments[0], segments[1:]
        if len(rest) % 2 == 0:  # a resource: NS/type/name[/childType/childName]
            resource = self.state.resources.get(lower)
            if resource is None:
                self._not_found(sub, rg, namespace, rest)
            return _Response.json(resource)
        if len(rest) == 1:  # a collection at subscription or resource group level
            kind = f"{namespace}/{rest[0]}".lower()
            prefix = f"/subscriptions/{sub}/".lower() if rg is None else f"/subscriptions/{sub}/resourcegroups/{rg}/".lower()
            items = [r for key, r in self.state.resources.items()
                     if key.startswith(prefix) and r["type"].lower() == kind]
            return self._page(request, items)
        parent = lower.rsplit("/", 1)[0]  # a child collection: the parent must exist
        if parent not in self.state.resources:
            self._not_found(sub, rg, namespace, rest[:-1])
        items = [r for key, r in self.state.resources.items()
                 if key.rsplit("/", 2)[0] == parent]
        return self._page(request, items)

    def _generic_list(self, request: _Request, sub: str, rg: str | None) -> _Response:
        """Resources - List (what `az acr show -n` uses to find a registry's group): the
        top-level fields only, filtered by `resourceType eq '...'` and `name eq '...'`."""
        self._require_subscription(sub)
        prefix = f"/subscriptions/{sub}/".lower()
        if rg is not None:
            self._require_resource_group(sub, rg)
            prefix += f"resourcegroups/{rg}/".lower()
        text = request.query.get("$filter", "")
        kind = re.search(r"resourceType eq '([^']*)'", text, re.IGNORECASE)
        name = re.search(r"(?<![\w.])name eq '([^']*)'", text, re.IGNORECASE)
        items = []
        for key, resource in self.state.resources.items():
            if not key.startswith(prefix) or resource["type"].count("/") != 1:
                continue
            if kind and resource["type"].lower() != kind.group(1).lower():
                continue
            if name and resource["name"].lower() != name.group(1).lower():
                continue
            items.append({k: resource[k] for k in ("id", "name", "type", "sku", "kind", "managedBy", "location",
                                                    "identity", "tags") if k in resource})
        return self._page(request, items)

    def _not_found(self, sub: str, rg: str | None, namespace: str, rest: list[str]) -> None:
        kind = "/".join([namespace] + rest[0::2])
        name = "/".join(rest[1::2])
        where = f"under resource group '{rg}'" if rg else f"under subscription '{sub}'"
        raise ARMError(404, "ResourceNotFound",
                       f"The Resource '{kind}/{name}' {where} was not found. For more details please go to "
                       f"https://aka.ms/ARMResourceNotFoundFix")

    def _require_scope(self, scope: str) -> None:
        match = re.match(r"/subscriptions/([^/]+)(?:/resourcegroups/([^/]+))?", scope, re.IGNORECASE)
        if not match:
            return  # "/" and management groups: always there
        sub, rg = match.groups()
        if rg:
            self._require_resource_group(sub, rg)
        else:
            self._require_subscription(sub)
        if "/providers/" in scope.lower() and scope.lower() not in self.state.resources:
            segments = scope.split("/providers/", 1)[1].split("/")
            self._not_found(sub, rg, segments[0], segments[1:])

    def _role_assignments(self, request: _Request, scope: str, name: str) -> _Response:
        if name:
            for assignment in self.state.role_assignments:
                if assignment["id"].lower() == request.path.rstrip("/").lower():
                    return _Response.json(assignment)
            raise ARMError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")
        text = request.query.get("$filter", "")
        above = self.state.ancestors_of(scope)
        if "atscope()" in text.lower():
            chosen = [a for a in self.state.role_assignments if above(a["properties"]["scope"])]
        else:  # at, above and below the scope
            chosen = [a for a in self.state.role_assignments
                      if above(a["properties"]["scope"]) or _is_under(a["properties"]["scope"], scope)]
        principal = re.search(r"(?:principalId eq|assignedTo\()\s*'([^']*)'", text, re.IGNORECASE)
        if principal:
            chosen = [a for a in chosen if a["properties"]["principalId"].lower() == principal.group(1).lower()]
        return self._page(request, chosen)

    def _role_definitions(self, request: _Request, scope: str, name: str) -> _Response:
        definitions = [d for d in self.state.role_definitions.values()
                       if any(_is_under(scope, s) for s in d["assignableScopes"])]
        if name:
            for definition in definitions:
                if definition["name"].lower() == name.lower():
                    return _Response.json(self.state.role_definition_json(definition, scope))
            raise ARMError(404, "RoleDefinitionDoesNotExist", "The specified role definition with ID "
                           f"'{name}' does not exist.")
        text = request.query.get("$filter", "")
        wanted = re.search(r"roleName eq '([^']*)'", text, re.IGNORECASE)
        if wanted:
            definitions = [d for d in definitions if d["roleName"].lower() == wanted.group(1).lower()]
        kind = re.search(r"type eq '([^']*)'", text, re.IGNORECASE)
        if kind:
            definitions = [d for d in definitions if d["roleType"].lower() == kind.group(1).lower()]
        return self._page(request, [self.state.role_definition_json(d, scope) for d in definitions])

    # --- control endpoints --------------------------------------------------------------

    _SEEDERS = {
        "subscriptions": "add_subscription", "resourceGroups": "add_resource_group",
        "clusters": "add_cluster", "identities": "add_identity",
        "federatedCredentials": "add_federated_credential", "registries": "add_registry",
        "roleDefinitions": "add_role_definition", "roleAssignments": "add_role_assignment",
        "principals": "add_principal", "resources": "add_resource",
    }

    def _control(self, request: _Request) -> _Response:
        body = json.loads(request.body or b"{}")
        route = (request.method, request.path)
        if route == ("POST", "/_standin/seed"):
            unknown = set(body) - set(self._SEEDERS)
            if unknown:
                raise ValueError(f"unknown kinds {sorted(unknown)}; known: {sorted(self._SEEDERS)}")
            created = {}
            with self.state.lock:
                for kind, method in self._SEEDERS.items():  # in dependency order
                    for spec in body.get(kind, []):
                        created.setdefault(kind, []).append(copy.deepcopy(getattr(self.state, method)(spec)))
            return _Response.json(created)
        if route == ("POST", "/_standin/faults"):
            fault = {"path": body["path"], "method": body.get("method"), "times": body.get("times", 1),
                     "delay": body.get("delay"), "status": body.get("status"), "code": body.get("code"),
                     "message": body.get("message"), "retryAfter": body.get("retryAfter")}
            re.compile(fault["path"])
            with self.state.lock:
                self.state.faults.append(fault)
            return _Response.json({"fault": fault})
        if route == ("DELETE", "/_standin/faults"):
            with self.state.lock:
                self.state.faults.clear()
            return _Response.json({})
        if route == ("POST", "/_standin/config"):
            with self.state.lock:
                if "pageSize" in body:
                    self.state.page_size = body["pageSize"]
                return _Response.json({"pageSize": self.state.page_size})
        if route == ("POST", "/_standin/reset"):
            with self.state.lock:
                self.state.clear()
            return _Response.json({})
        if route == ("GET", "/_standin/requests"):
            with self.state.lock:
                return _Response.json({"requests": copy.deepcopy(self.state.requests),
                                       "escapes": list(self.state.escapes)})
        return _Response.json({"error": f"no control endpoint {request.method} {request.path}"}, 404)


def _sink_handler(state: _State) -> type[QuietHandler]:
    """The proxy every non-local request is sent to: it records the request and refuses it."""

    class _SinkHandler(QuietHandler):
        def _refuse(self) -> None:
            with state.lock:
                state.escapes.append({"method": self.command, "target": self.path})
            self.send_error(403, "kubectl-xpid tests never leave 127.0.0.1")

        do_CONNECT = do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _refuse

    return _SinkHandler


def find_az() -> str | None:
    """The az the tests use: $XPID_TEST_AZ, else `az` on PATH."""
    configured = os.environ.get("XPID_TEST_AZ")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("az")


def _make_certificates(directory: str) -> tuple[str, str, str]:
    """A CA and a server certificate for 127.0.0.1 and localhost, made with openssl."""
    openssl = shutil.which("openssl")
    if not openssl:
        raise RuntimeError("the Azure stand-in needs the openssl program to make its certificates")
    ca_key, ca_cert = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, cert = (os.path.join(directory, name) for name in ("server.key", "server.csr", "server.pem"))
    extensions = os.path.join(directory, "server.ext")
    with open(extensions, "w") as handle:
        handle.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                     "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)

    # P-256 keys: generated in milliseconds, where RSA takes a noticeable part of a second.
    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")
    run("req", "-x509", *curve, "-nodes", "-keyout", ca_key, "-out", ca_cert, "-days", "2",
        "-subj", "/CN=kubectl-xpid Azure stand-in CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *curve, "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "2", "-extfile", extensions)
    return ca_cert, cert, key


class AzureStandIn(StartStop):
    """The ARM stand-in plus the az configuration that points at it."""

    def __init__(self, tenant_id: str = DEFAULT_TENANT_ID,
                 subscriptions: list[dict] | None = None, az: str | None = None):
        """`subscriptions`: [{subscriptionId, displayName?, tenantId?, state?, managementGroups?}];
        default one subscription DEFAULT_SUBSCRIPTION_ID. They survive reset()."""
        self.tenant_id = tenant_id
        self._subscriptions = subscriptions or [{"subscriptionId": DEFAULT_SUBSCRIPTION_ID,
                                                 "displayName": "xpid stand-in subscription"}]
        self._az = az
        self._identity_header = secrets.token_hex(16)
        self._app: _App | None = None
        self._server: Server | None = None
        self._sink: Server | None = None
        self._tmp: str | None = None
        self.ca_file: str | None = None
        self._logged_in = False

    @property
    def subscription_id(self) -> str:
        return self._subscriptions[0]["subscriptionId"]

    @property
    def url(self) -> str:
        assert self._server, "not started"
        return self._server.url

    @property
    def az(self) -> str:
        path = self._az or find_az()
        if not path:
            raise RuntimeError("no az CLI: set XPID_TEST_AZ to an az executable or put az on PATH "
                               "(Tests/run-all installs azure-cli into .venv-az/)")
        return path

    def start(self) -> str:
        self._tmp = tempfile.mkdtemp(prefix="azure-standin-")
        self.ca_file, cert, key = _make_certificates(self._tmp)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._app = _App(self.tenant_id, self._subscriptions, self._identity_header)
        self._server = Server(handler(self._app.reply), "azure-standin", context)
        self._app.base_url = self.url
        self._sink = Server(_sink_handler(self._app.state), "azure-standin-sink")
        for server in (self._server, self._sink):
            server.start()
        for directory in ("logged-out", "logged-in", "bin"):
            os.mkdir(os.path.join(self._tmp, directory))
        return self.url

    def stop(self) -> None:
        for server in (self._server, self._sink):
            if server:
                server.stop()
        self._server = self._sink = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._logged_in = False

    # --- az -------------------------------------------------------------------------------

    def env(self, inherit: bool = True, logged_in: bool = True) -> dict[str, str]:
        """The environment for running az against the stand-in.

        With `inherit`: os.environ without AZURE_*, MSI_*, IDENTITY_*, IMDS_*, the proxy and CA
        bundle variables, plus the variables below; without: just those. PATH is always set,
        with a directory holding only an `az` link in front, so a program that runs `az`
        finds this one. `logged_in=False` gives a config dir where the cloud is registered
        but nobody logged in (call login() first either way).
        """
        assert self._tmp, "not started"
        sink = self._sink.url
        link, az = os.path.join(self._tmp, "bin", "az"), self._az or find_az()
        if az and not os.path.lexists(link):
            os.symlink(os.path.abspath(az), link)
        variables = {
            "AZURE_CONFIG_DIR": os.path.join(self._tmp, "logged-in" if logged_in else "logged-out"),
            "REQUESTS_CA_BUNDLE": self.ca_file,
            "IDENTITY_ENDPOINT": f"{self.url}/msi/token",
            "IDENTITY_HEADER": self._identity_header,
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
            **proxy_env(sink),
            "PATH": os.path.join(self._tmp, "bin") + os.pathsep + os.environ.get("PATH", os.defpath),
        }
        if not inherit:
            return variables
        return inherited_env(variables, ("AZURE_", "MSI_", "IDENTITY_", "IMDS_"))

    def run_az(self, *args: str, logged_in: bool = True, env: dict | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([self.az, *args], env={**self.env(logged_in=logged_in), **(env or {})},
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def login(self) -> list[dict]:
        """Registers the cloud and logs az in with the managed identity (once per stand-in).
        Returns what `az login` printed (the subscriptions), or [] if already logged in."""
        if self._logged_in:
            return []
        out_dir = os.path.join(self._tmp, "logged-out")
        in_dir = os.path.join(self._tmp, "logged-in")
        for directory in (out_dir, in_dir):
            shutil.rmtree(directory)
            os.mkdir(directory)
        url = self.url + "/"
        self._checked_az(["cloud", "register", "--name", CLOUD_NAME, "--skip-endpoint-discovery",
                          "--endpoint-resource-manager", url,
                          "--endpoint-management", url,
                          "--endpoint-active-directory", self.url,
                          "--endpoint-active-directory-resource-id", url,
                          "--endpoint-active-directory-graph-resource-id", url + "graph/",
                          "--endpoint-microsoft-graph-resource-id", url + "graph/",
                          "--suffix-acr-login-server-endpoint", ".azurecr.io"], logged_in=False)
        self._checked_az(["cloud", "set", "--name", CLOUD_NAME], logged_in=False)
        shutil.rmtree(in_dir)
        shutil.copytree(out_dir, in_dir)
        done = self._checked_az(["login", "--identity", "-o", "json"])
        self._logged_in = True
        return json.loads(done.stdout)

    def _checked_az(self, args: list[str], logged_in: bool = True) -> subprocess.CompletedProcess:
        done = self.run_az(*args, logged_in=logged_in)
        if done.returncode != 0:
            raise RuntimeError(f"az {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    # --- control --------------------------------------------------------------------------

    def _control(self, method: str, path: str, payload: dict | None = None) -> dict:
        return control(self.url, method, path, payload, context=ssl.create_default_context(cafile=self.ca_file))

    def seed(self, spec: dict) -> dict:
        """Seeds several kinds at once (the /_standin/seed shape); returns the created objects."""
        return self._control("POST", "/_standin/seed", spec)

    def _one(self, kind: str, spec: dict, keep_null: tuple[str, ...] = ()) -> dict:
        spec = {k: v for k, v in spec.items() if v is not None or k in keep_null}
        return self.seed({kind: [spec]})[kind][0]

    def add_subscription(self, subscription_id: str, display_name: str | None = None, *,
                         tenant_id: str | None = None, state: str = "Enabled",
                         management_groups: list[str] | None = None) -> dict:
        """A subscription until the next reset(); `management_groups` are its ancestors' names."""
        return self._one("subscriptions", {"subscriptionId": subscription_id, "displayName": display_name,
                                           "tenantId": tenant_id, "state": state,
                                           "managementGroups": management_groups})

    def add_resource_group(self, name: str, *, subscription: str | None = None,
                           location: str = DEFAULT_LOCATION) -> dict:
        return self._one("resourceGroups", {"name": name, "subscription": subscription, "location": location})

    def add_cluster(self, name: str, resource_group: str, *, subscription: str | None = None,
                    location: str = DEFAULT_LOCATION, oidc_issuer: bool | str = True,
                    workload_identity: bool | None = True, kubelet_identity: bool | dict = True,
                    kubernetes_version: str = "1.31.2", provisioning_state: str = "Succeeded",
                    power_state: str = "Running", node_resource_group: str | None = None,
                    agent_pools: list[dict] | None = None, properties: dict | None = None,
                    tags: dict | None = None) -> dict:
        """An AKS cluster. oidc_issuer: True (an issuer URL is made up), a URL, or False
        (disabled). workload_identity: True/False, or None to leave securityProfile empty.
        kubelet_identity: True (a UAMI `<name>-agentpool` in the node resource group),
        a {clientId, objectId, resourceId} dict, or False (no identityProfile). agent_pools:
        [{name, count?, mode?}] (default one System pool "nodepool1" of 2). `properties`
        is deep-merged into the ARM properties (a None value deletes a key). Returns ARM JSON."""
        return self._one("clusters", {
            "name": name, "resourceGroup": resource_group, "subscription": subscription, "location": location,
            "oidcIssuer": oidc_issuer, "workloadIdentity": workload_identity,
            "kubeletIdentity": kubelet_identity, "kubernetesVersion": kubernetes_version,
            "provisioningState": provisioning_state, "powerState": power_state,
            "nodeResourceGroup": node_resource_group, "agentPools": agent_pools, "properties": properties,
            "tags": tags,
        }, keep_null=("workloadIdentity",))

    def add_identity(self, name: str, resource_group: str, *, subscription: str | None = None,
                     location: str = DEFAULT_LOCATION, client_id: str | None = None,
                     principal_id: str | None = None, tenant_id: str | None = None,
                     tags: dict | None = None) -> dict:
        """A user-assigned managed identity (and its service principal in Graph); ids are
        made up unless given. Returns ARM JSON."""
        return self._one("identities", {"name": name, "resourceGroup": resource_group,
                                        "subscription": subscription, "location": location,
                                        "clientId": client_id, "principalId": principal_id,
                                        "tenantId": tenant_id, "tags": tags})

    def add_federated_credential(self, identity_name: str, resource_group: str, name: str, *,
                                 issuer: str, subject: str,
                                 audiences: list[str] = (WORKLOAD_IDENTITY_AUDIENCE,),
                                 subscription: str | None = None) -> dict:
        """A federated identity credential on an identity seeded before. Returns ARM JSON."""
        return self._one("federatedCredentials", {
            "identityName": identity_name, "resourceGroup": resource_group, "name": name,
            "issuer": issuer, "subject": subject, "audiences": list(audiences), "subscription": subscription})

    def add_registry(self, name: str, resource_group: str, *, subscription: str | None = None,
                     location: str = DEFAULT_LOCATION,
                     role_assignment_mode: str = "LegacyRegistryPermissions", sku: str = "Standard",
                     login_server: str | None = None, properties: dict | None = None) -> dict:
        """A container registry; role_assignment_mode LegacyRegistryPermissions or
        AbacRepositoryPermissions. Returns ARM JSON."""
        return self._one("registries", {
            "name": name, "resourceGroup": resource_group, "subscription": subscription, "location": location,
            "roleAssignmentMode": role_assignment_mode, "sku": sku, "loginServer": login_server,
            "properties": properties})

    def add_role_definition(self, role_name: str, *, guid: str | None = None, actions: list[str] = (),
                            data_actions: list[str] = (), not_actions: list[str] = (),
                            assignable_scopes: list[str] = ("/",), description: str = "") -> dict:
        """A custom role. Returns it as listed at "/"."""
        return self._one("roleDefinitions", {
            "roleName": role_name, "name": guid, "actions": list(actions), "dataActions": list(data_actions),
            "notActions": list(not_actions), "assignableScopes": list(assignable_scopes),
            "description": description})

    def add_role_assignment(self, scope: str, principal_id: str, role: str, *,
                            principal_type: str = "ServicePrincipal", name: str | None = None,
                            condition: str | None = None, condition_version: str | None = None) -> dict:
        """`role`: a role name ("AcrPull"), a GUID or a full role definition id. `scope`: any
        ARM scope ("/", a management group, subscription, resource group or resource id).
        Returns ARM JSON."""
        return self._one("roleAssignments", {
            "scope": scope, "principalId": principal_id, "role": role, "principalType": principal_type,
            "name": name, "condition": condition, "conditionVersion": condition_version})

    def add_principal(self, object_id: str, display_name: str, *, kind: str = "servicePrincipal",
                      app_id: str | None = None, user_principal_name: str | None = None) -> dict:
        """A Graph directory object (servicePrincipal, user or group)."""
        return self._one("principals", {"id": object_id, "displayName": display_name, "type": kind,
                                        "appId": app_id, "userPrincipalName": user_principal_name})

    def add_resource(self, body: dict) -> dict:
        """Any ARM resource, stored and served as given (its id decides where it is listed)."""
        return self._one("resources", body)

    def fault(self, path: str, *, method: str | None = None, status: int | None = None,
              code: str | None = None, message: str | None = None, times: int | None = 1,
              delay: float | None = None, retry_after: float | None = None) -> dict:
        """Requests whose path matches the regex `path` (and `method`) fail with `status` (an
        ARM error; code and message default by status) and/or wait `delay` seconds, for the
        next `times` requests (None: all). `retry_after` adds a Retry-After header."""
        return self._control("POST", "/_standin/faults", {
            "path": path, "method": method, "status": status, "code": code, "message": message,
            "times": times, "delay": delay, "retryAfter": retry_after})["fault"]

    def clear_faults(self) -> None:
        self._control("DELETE", "/_standin/faults")

    def configure(self, *, page_size: int | None) -> None:
        """Lists answer `page_size` items per page with an ARM nextLink (None: one page)."""
        self._control("POST", "/_standin/config", {"pageSize": page_size})

    def requests(self) -> list[dict]:
        """[{api: arm|graph|identity, method, path, query, status}], oldest first. A POST
        /batch also has batchMethods, and is followed by its items served, each with
        batch: True (see is_write())."""
        return self._control("GET", "/_standin/requests")["requests"]

    def escapes(self) -> list[dict]:
        """Requests for any other host that reached the proxy sink: [{method, target}]."""
        return self._control("GET", "/_standin/requests")["escapes"]

    def reset(self) -> None:
        """Forgets everything seeded, faults, the request log and configuration. The
        constructor's subscriptions and the az login stay."""
        self._control("POST", "/_standin/reset", {})


def seed_spec(standin: AzureStandIn, spec: dict) -> dict:
    """Seeds the Azure side of a scenario given as az prints it (scenarios_aks.AksCluster.
    azure_spec(): subscription, managedCluster, identities with their federatedCredentials,
    registries, roleAssignments). The kubelet identity is expected among `identities`. The
    subscription and tenant must be the stand-in's own (az logged in with them). Returns the
    created ARM objects by kind."""
    subscription = spec["subscription"]
    if (subscription["id"], subscription["tenantId"]) != (standin.subscription_id, standin.tenant_id):
        raise ValueError(f"the spec's subscription {subscription['id']} (tenant {subscription['tenantId']}) is not "
                         f"the stand-in's: construct AzureStandIn(tenant_id=..., subscriptions=[{{'subscriptionId': "
                         f"...}}]) with them, since az logs in once")
    cluster = spec["managedCluster"]
    oidc = cluster.get("oidcIssuerProfile") or {}
    workload = ((cluster.get("securityProfile") or {}).get("workloadIdentity") or {}).get("enabled")
    kubelet = (cluster.get("identityProfile") or {}).get("kubeletidentity")
    seeded = {
        "clusters": [{
            "name": cluster["name"], "resourceGroup": cluster["resourceGroup"], "location": cluster["location"],
            "nodeResourceGroup": cluster["nodeResourceGroup"],
            "kubernetesVersion": cluster.get("kubernetesVersion", "1.31.2"),
            "oidcIssuer": (oidc.get("issuerUrl") or True) if oidc.get("enabled") else False,
            "workloadIdentity": workload, "kubeletIdentity": dict(kubelet) if kubelet else False,
            "agentPools": [{k: p[k] for k in ("name", "count", "mode") if k in p}
                           for p in cluster.get("agentPoolProfiles") or [{}]],
        }],
        "identities": [], "federatedCredentials": [], "registries": [], "roleAssignments": [],
    }
    for identity in spec.get("identities", []):
        seeded["identities"].append({k: identity[k] for k in ("name", "resourceGroup", "location", "clientId",
                                                              "principalId", "tenantId") if k in identity})
        seeded["federatedCredentials"] += [
            {"identityName": identity["name"], "resourceGroup": identity["resourceGroup"], "name": credential["name"],
             "issuer": credential["issuer"], "subject": credential["subject"],
             "audiences": credential.get("audiences", [WORKLOAD_IDENTITY_AUDIENCE])}
            for credential in identity.get("federatedCredentials", [])]
    for registry in spec.get("registries", []):
        sku = registry.get("sku", "Standard")
        seeded["registries"].append({
            "name": registry["name"], "resourceGroup": registry["resourceGroup"],
            "location": registry.get("location", DEFAULT_LOCATION), "sku": sku["name"] if isinstance(sku, dict) else sku,
            "roleAssignmentMode": registry.get("roleAssignmentMode", "LegacyRegistryPermissions"),
            **({"loginServer": registry["loginServer"]} if registry.get("loginServer") else {}),
            "properties": {k: registry[k] for k in ("adminUserEnabled", "anonymousPullEnabled") if k in registry}})
    for assignment in spec.get("roleAssignments", []):
        seeded["roleAssignments"].append({
            "scope": assignment["scope"], "principalId": assignment["principalId"],
            "principalType": assignment.get("principalType", "ServicePrincipal"), "name": assignment.get("name"),
            "role": assignment.get("roleDefinitionId") or assignment["roleDefinitionName"]})
    return standin.seed(seeded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenant", default=DEFAULT_TENANT_ID)
    parser.add_argument("--subscription", default=DEFAULT_SUBSCRIPTION_ID)
    parser.add_argument("--seed", metavar="SPEC.json", help="seed from this file (the /_standin/seed shape)")
    parser.add_argument("--no-login", action="store_true", help="do not run az (no cloud registration)")
    args = parser.parse_args()

    standin = AzureStandIn(args.tenant, [{"subscriptionId": args.subscription}])

    def announce() -> dict:
        if not args.no_login:
            standin.login()
        seeded = standin.seed(json.load(open(args.seed))) if args.seed else None
        return {"url": standin.url, "env": standin.env(inherit=False), "seed": seeded}

    serve_as_program(standin, announce)


if __name__ == "__main__":
    main()
