"""A local stand-in for the Google Cloud APIs the REAL `gcloud` CLI (Google Cloud SDK 528) reads.

kubectl-xpid checks GKE Workload Identity through `gcloud ... --format json`: the cluster
(workload pool, node pools' metadata mode and service account), the project (number, IAM
policy), a Google service account's IAM policy and an Artifact Registry repository's IAM
policy. This module serves those reads over plain HTTP on 127.0.0.1. Standard library only.

How gcloud is pointed at it (GCPStandIn.env()):
- CLOUDSDK_API_ENDPOINT_OVERRIDES_{CONTAINER,CLOUDRESOURCEMANAGER,IAM,ARTIFACTREGISTRY} =
  http://127.0.0.1:PORT/{container,crm,iam,ar}/ -- gcloud accepts http and a path prefix in
  an override and keeps the prefix (measured), so every request says which API it was meant
  for. The bare form http://127.0.0.1:PORT/ (docs: testing.md) works too: then the API is
  guessed from the path (clusters -> container, serviceAccounts -> iam, repositories -> ar,
  the rest -> crm).
- CLOUDSDK_AUTH_ACCESS_TOKEN=<token> (sent as "Authorization: Bearer <token>"; the stand-in
  accepts any bearer token and logs whether one came) and a throwaway CLOUDSDK_CONFIG (an
  empty directory: no account, no project; gcloud writes its caches and logs there).
- CLOUDSDK_CORE_CHECK_GCE_METADATA=false and GCE_METADATA_ROOT=127.0.0.1:PORT/_metadata, so
  gcloud never probes metadata.google.internal; a probe that happens anyway lands here and
  shows in escapes(). HTTP(S)_PROXY point at this server too (NO_PROXY=127.0.0.1,localhost):
  a request for any other host arrives as a CONNECT or an absolute-URI request, is refused
  with 403 and shows in escapes(). Usage reporting, update checks, surveys and prompts off.

Choices, and what they cost in faithfulness:
- Only reads are served. GET anywhere, and POST only on a path ending in ":getIamPolicy"
  (CRM and IAM send getIamPolicy as POST; Artifact Registry v1 as GET -- both accepted for
  every API). Any other method or POST (":setIamPolicy", PATCH, DELETE, ...) is logged with
  "write": true and refused with 405 in a Google error body. requests() proves nothing wrote.
- Clusters are stored by (project, location, name) as GKE v1 JSON (a trimmed Cluster:
  name, location, zone, selfLink, status, versions, endpoint, nodePools[] with config
  {serviceAccount, workloadMetadataConfig{mode}, ...}, workloadIdentityConfig, nodeConfig
  mirroring the first pool, as GKE does). A cluster's project is created if not seeded.
- Unknown things: a cluster, node pool, service account or repository -> 404 NOT_FOUND with
  the API's message; an unknown project -> 403 PERMISSION_DENIED "The caller does not have
  permission", as Cloud Resource Manager v1 answers for a project that does not exist or
  that the caller cannot see (CRM never says 404 there). Empty IAM policies are {"etag":
  "ACAB"} as the IAM APIs send them; a policy with bindings carries "version": 1 (3 if a
  binding has a condition).
- Faults match a regular expression (re.search) against the path (prefix included when the
  prefixed overrides are used), optionally a method; a status makes the request fail with
  a Google error body {"error": {code, message, status}} (403 gets the API's "Permission
  '...' denied" message, 404 NOT_FOUND), a delay slows it. times=None means always.

How gcloud 528 behaves, measured against this stand-in and pinned by
Tests/E2E/test_gcp_standin.py (T = " This command is authenticated with an access token from
the CLOUDSDK_AUTH_ACCESS_TOKEN environment variable", which gcloud appends to every HTTP
error when the token comes from that variable; a real login would not show it):
- Success: exit 0, the API's JSON re-printed (2-space indent, keys sorted), stderr empty.
  gcloud adds nothing and drops nothing; an empty IAM policy prints {"etag": "ACAB"}.
- What each read sends (one request, Authorization: Bearer <token>):
    clusters describe C --location L   GET  container /v1/projects/P/locations/L/clusters/C
                                       (--zone Z: the same path with locations/Z)
    projects describe P                GET  crm /v1/projects/P
    projects get-iam-policy P          POST crm /v1/projects/P:getIamPolicy
                                       body {"options": {"requestedPolicyVersion": 3}}
    iam service-accounts get-iam-policy E   POST iam /v1/projects/-/serviceAccounts/E:getIamPolicy
                                       ?options.requestedPolicyVersion=3 (no body)
    artifacts repositories get-iam-policy R --location L   GET ar
                                       /v1/projects/P/locations/L/repositories/R:getIamPolicy
    config list, auth print-access-token   nothing
- Every HTTP error: exit 1, stdout empty, one stderr line (container: two after a 404):
    container 4xx  "ERROR: (gcloud.container.clusters.describe) ResponseError: code=404,
                   message=Not found: projects/P/locations/L/clusters/C.<T>." and then, after
                   gcloud lists GET .../locations/-/clusters, "No cluster named 'C' in P."
                   (403: "...code=403, message=Required "container.clusters.get" ...<T>.")
    crm 403        "ERROR: (gcloud.projects.describe) [None] does not have permission to access
                   projects instance [P] (or it may not exist): The caller does not have
                   permission.<T>" ([P:getIamPolicy] for get-iam-policy; [None] is the account,
                   which an access token does not have)
    iam, ar        "ERROR: (gcloud.<command>) NOT_FOUND: <message>.<T>" and
                   "... PERMISSION_DENIED: <message>.<T>." -- the error's status, then message
- 5xx (500, 503 measured): retried in the same process, 5 attempts with backoff; a single
  500 goes unnoticed, a persistent one fails after about 30 s with exit 1 (503 on crm prints
  an "HttpError accessing <url>: response: <...>" dump plus a network-connectivity hint).
- No credentials (no CLOUDSDK_AUTH_ACCESS_TOKEN, empty CLOUDSDK_CONFIG): exit 1, nothing sent,
    "ERROR: (gcloud.<command>) You do not currently have an active account selected." then
    "Please run:", "", "  $ gcloud auth login", ... (several lines).
- "Am I authenticated": `gcloud config list --format json` exits 0 without any credentials and
  shows no core/account for an access token, so it cannot tell. `gcloud auth print-access-token
  --format json` can: exit 0 and {"token": "<token>"} with one, exit 1 and the "no active
  account" line without (sends nothing with CLOUDSDK_AUTH_ACCESS_TOKEN; with a real user login
  it may refresh the token at oauth2.googleapis.com). `gcloud auth list` prints [] either way.
- A write (projects add-iam-policy-binding) reads the policy, then POSTs :setIamPolicy, which
  is refused: exit 1, "ERROR: (gcloud.projects.add-iam-policy-binding) METHOD_NOT_ALLOWED:
  kubectl-xpid's GCP stand-in serves reads only: POST /v1/projects/P:setIamPolicy".
- First run in a fresh CLOUDSDK_CONFIG: gcloud probes the metadata server (4 GETs) to decide
  whether it is on GCE, even with core/check_gce_metadata false, and caches the answer in
  CONFIG/gce for 10 minutes; start() writes that cache ("False") so no probe happens.

Test controls: the GCPStandIn methods act on the state directly. For a stand-in run as a
program (python3 gcp_standin.py [--seed SPEC.json]) the same over HTTP:
  POST /_standin/seed {projects?, clusters?, serviceAccounts?, repositories?: [...]}
  POST /_standin/faults {path, method?, status?, message?, times?, delay?}
  DELETE /_standin/faults, POST /_standin/reset, GET /_standin/requests
It prints one JSON line {"url", "env"} and serves until stdin closes or it is signalled.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse

from standin_http import (RawRequest, Reply, Server, StartStop, handler, inherited_env, proxy_env,
                          serve_as_program)

API_PREFIXES = {"container": "container", "crm": "cloudresourcemanager", "iam": "iam", "ar": "artifactregistry"}
DEFAULT_TOKEN = "xpid-standin-token"
DEFAULT_VERSION = "1.32.4-gke.1106006"
_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED", 409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_CREATE_TIME = "2026-01-15T10:00:00+00:00"


class GoogleError(Exception):
    """An error answer: {"error": {"code", "message", "status"}}."""

    def __init__(self, code: int, message: str, status: str | None = None):
        super().__init__(message)
        self.code, self.message = code, message
        self.status = status or _STATUS_NAMES.get(code, "UNKNOWN")

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def _etag(payload) -> str:
    digest = hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).digest()
    return base64.b64encode(b"\x07" + digest[:7]).decode()


def _policy(bindings: list[dict] | None) -> dict:
    """An IAM policy as the IAM APIs send it: {"etag": "ACAB"} when empty."""
    bindings = [{k: copy.deepcopy(v) for k, v in b.items() if k in ("role", "members", "condition")}
                for b in (bindings or [])]
    if not bindings:
        return {"etag": "ACAB"}
    version = 3 if any("condition" in b for b in bindings) else 1
    return {"version": version, "etag": _etag(bindings), "bindings": bindings}


def _project_number(project_id: str) -> str:
    return str(100000000000 + int(hashlib.sha1(project_id.encode()).hexdigest(), 16) % 900000000000)


class _State:
    """Everything seeded, the faults and the logs. Callers hold `lock`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.projects: dict[str, dict] = {}  # project id -> {"json", "bindings"}
        self.clusters: dict[tuple[str, str, str], dict] = {}  # (project, location, name) -> JSON
        self.service_accounts: dict[str, dict] = {}  # lower email -> {"json", "bindings"}
        self.repositories: dict[tuple[str, str, str], dict] = {}  # (project, location, name) -> {"json", "bindings"}
        self.faults: list[dict] = []
        self.requests: list[dict] = []
        self.escapes: list[dict] = []

    # --- seeding ------------------------------------------------------------------------

    def add_project(self, spec: dict) -> dict:
        project_id = spec["projectId"]
        number = str(spec.get("projectNumber") or _project_number(project_id))
        body = {
            "projectId": project_id, "projectNumber": number, "name": spec.get("name", project_id),
            "lifecycleState": spec.get("lifecycleState", "ACTIVE"), "createTime": "2026-01-15T10:00:00.000Z",
            "parent": spec.get("parent", {"type": "organization", "id": "123456789012"}),
        }
        self.projects[project_id] = {"json": body, "bindings": copy.deepcopy(spec.get("bindings", []))}
        return {**body, "bindings": self.projects[project_id]["bindings"]}

    def _ensure_project(self, project_id: str) -> None:
        if project_id not in self.projects:
            self.add_project({"projectId": project_id})

    def add_cluster(self, spec: dict) -> dict:
        project, location, name = spec["project"], spec["location"], spec["name"]
        self._ensure_project(project)
        master = spec.get("currentMasterVersion", DEFAULT_VERSION)
        node_version = spec.get("currentNodeVersion", master)
        base = f"https://container.googleapis.com/v1/projects/{project}/locations/{location}"
        zonal = location.count("-") == 2
        pools = []
        for pool in spec.get("nodePools", [{}]):
            pool_name = pool.get("name", "default-pool")
            config = {"machineType": "e2-medium", "diskSizeGb": 100, "diskType": "pd-balanced",
                      "imageType": "COS_CONTAINERD",
                      "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
                      "serviceAccount": pool.get("serviceAccount", "default"),
                      "metadata": {"disable-legacy-endpoints": "true"}}
            mode = pool.get("mode", "GKE_METADATA" if spec.get("workloadPool", True) else None)
            if mode:
                config["workloadMetadataConfig"] = {"mode": mode}
            if pool.get("config"):
                config.update(copy.deepcopy(pool["config"]))
            pools.append({
                "name": pool_name, "config": config, "initialNodeCount": pool.get("nodeCount", 3),
                "autoscaling": {}, "management": {"autoUpgrade": True, "autoRepair": True},
                "selfLink": f"{base}/clusters/{name}/nodePools/{pool_name}",
                "version": pool.get("version", node_version), "status": pool.get("status", "RUNNING"),
                "locations": [location if zonal else f"{location}-a"],
            })
        body = {
            "name": name, "location": location, "zone": location,
            "selfLink": f"{base}/clusters/{name}",
            "id": hashlib.sha1(f"{project}/{location}/{name}".encode()).hexdigest(),
            "status": spec.get("status", "RUNNING"),
            "currentMasterVersion": master, "currentNodeVersion": node_version,
            "initialClusterVersion": spec.get("initialClusterVersion", master),
            "endpoint": spec.get("endpoint", "34.118.0.10"),
            "createTime": _CREATE_TIME, "network": "default", "subnetwork": "default",
            "locations": [location if zonal else f"{location}-a"],
            "nodePools": pools,
            "releaseChannel": {"channel": "REGULAR"},
        }
        if pools:
            body["nodeConfig"] = copy.deepcopy(pools[0]["config"])
        pool_spec = spec.get("workloadPool", True)
        if pool_spec:
            body["workloadIdentityConfig"] = {"workloadPool": pool_spec if isinstance(pool_spec, str)
                                              else f"{project}.svc.id.goog"}
        if spec.get("autopilot"):
            body["autopilot"] = {"enabled": True}
        for key, value in (spec.get("extra") or {}).items():
            body[key] = copy.deepcopy(value)
        self.clusters[(project, location, name)] = body
        return body

    def add_service_account(self, spec: dict) -> dict:
        email = spec["email"]
        match = re.match(r"[^@]+@([^.]+)\.iam\.gserviceaccount\.com$", email)
        project = spec.get("project") or (match.group(1) if match else "unknown-project")
        unique_id = spec.get("uniqueId") or str(int(hashlib.sha1(email.encode()).hexdigest(), 16) % 10**21)
        body = {"name": f"projects/{project}/serviceAccounts/{email}", "projectId": project,
                "uniqueId": unique_id, "email": email, "displayName": spec.get("displayName", email.split("@")[0]),
                "etag": "MDEwMjE5MjA=", "oauth2ClientId": unique_id}
        self.service_accounts[email.lower()] = {"json": body, "bindings": copy.deepcopy(spec.get("bindings", []))}
        return {**body, "bindings": self.service_accounts[email.lower()]["bindings"]}

    def add_repository(self, spec: dict) -> dict:
        project, location, name = spec["project"], spec["location"], spec["name"]
        self._ensure_project(project)
        body = {"name": f"projects/{project}/locations/{location}/repositories/{name}",
                "format": spec.get("format", "DOCKER"), "mode": "STANDARD_REPOSITORY",
                "createTime": "2026-01-15T10:00:00.000000Z", "updateTime": "2026-01-15T10:00:00.000000Z"}
        self.repositories[(project, location, name)] = {"json": body,
                                                        "bindings": copy.deepcopy(spec.get("bindings", []))}
        return {**body, "bindings": self.repositories[(project, location, name)]["bindings"]}

    def seed(self, spec: dict) -> dict:
        return {
            "projects": [self.add_project(p) for p in spec.get("projects", [])],
            "clusters": [self.add_cluster(c) for c in spec.get("clusters", [])],
            "serviceAccounts": [self.add_service_account(s) for s in spec.get("serviceAccounts", [])],
            "repositories": [self.add_repository(r) for r in spec.get("repositories", [])],
        }

    # --- serving ------------------------------------------------------------------------

    def project(self, project_id: str) -> dict:
        if project_id not in self.projects:
            raise GoogleError(403, "The caller does not have permission")
        return self.projects[project_id]


def _api_of(path: str) -> tuple[str, str]:
    """(api, path without the prefix) for a request path."""
    head, _, rest = path.lstrip("/").partition("/")
    if head in API_PREFIXES:
        return API_PREFIXES[head], "/" + rest
    if "/clusters" in path:
        return "container", path
    if "/serviceAccounts" in path:
        return "iam", path
    if "/repositories" in path:
        return "artifactregistry", path
    return "cloudresourcemanager", path


class _App:
    def __init__(self):
        self.state = _State()

    def handle(self, method: str, raw_path: str, query: dict, headers: dict, body: bytes) -> tuple[int, dict]:
        path = urllib.parse.unquote(raw_path)
        if path.startswith("/_standin/"):
            return self._control(method, path, body)
        if path.startswith("/_metadata/"):
            with self.state.lock:
                self.state.escapes.append({"method": method, "target": "metadata:" + path})
            return 404, GoogleError(404, "no metadata server in kubectl-xpid tests").body()
        api, inner = _api_of(path)
        write = not (method in ("GET", "HEAD") or (method == "POST" and inner.endswith(":getIamPolicy")))
        entry = {"api": api, "method": method, "path": inner, "query": query, "write": write,
                 "token": headers.get("authorization", "").removeprefix("Bearer ") or None}
        with self.state.lock:
            self.state.requests.append(entry)
            fault = self._fault(method, path)
        if fault and fault.get("delay"):
            time.sleep(fault["delay"])
        try:
            if write:
                raise GoogleError(405, f"kubectl-xpid's GCP stand-in serves reads only: {method} {inner}")
            if fault and fault.get("status"):
                raise GoogleError(fault["status"], fault.get("message") or self._fault_message(
                    api, inner, fault["status"]))
            with self.state.lock:
                status, payload = 200, self._serve(api, inner)
        except GoogleError as error:
            status, payload = error.code, error.body()
        entry["status"] = status
        return status, payload

    def reply(self, raw: RawRequest) -> Reply:
        """handle() for one HTTP request as the server received it; a request for another host
        is an escape."""
        if raw.method == "CONNECT" or not raw.target.startswith("/"):
            # A proxied request for some other host (HTTP(S)_PROXY point here).
            with self.state.lock:
                self.state.escapes.append({"method": raw.method, "target": raw.target})
            status, payload = 403, GoogleError(403, "kubectl-xpid tests never leave 127.0.0.1").body()
            close = True
        else:
            status, payload = self.handle(raw.method, raw.path, raw.query, raw.lower_headers(), raw.body)
            close = False
        return Reply(status, [("Content-Type", "application/json; charset=UTF-8")], json.dumps(payload).encode(),
                     close)

    def _fault(self, method: str, path: str) -> dict | None:
        for fault in self.state.faults:
            if fault.get("method") and fault["method"].upper() != method:
                continue
            if not re.search(fault["path"], path):
                continue
            if fault.get("times") is not None:
                if fault["times"] <= 0:
                    continue
                fault["times"] -= 1
            return dict(fault)
        return None

    @staticmethod
    def _fault_message(api: str, path: str, status: int) -> str:
        resource = path.removeprefix("/v1/").split(":")[0]
        if status == 403:
            return {
                "container": f'Required "container.clusters.get" permission(s) for "{resource}".',
                "cloudresourcemanager": "The caller does not have permission",
                "iam": f"Permission 'iam.serviceAccounts.getIamPolicy' denied on resource (or it may not exist).",
                "artifactregistry": f"Permission 'artifactregistry.repositories.getIamPolicy' denied on resource "
                                    f"'//artifactregistry.googleapis.com/{resource}' (or it may not exist).",
            }[api]
        if status == 404:
            return f"Not found: {resource}." if api == "container" else "Requested entity was not found."
        return {429: "Quota exceeded.", 500: "Internal error encountered.",
                503: "The service is currently unavailable."}.get(status, f"HTTP {status}")

    def _serve(self, api: str, path: str) -> dict:
        state = self.state
        if api == "container":
            listing = re.fullmatch(r"/v1/projects/([^/]+)/(?:locations|zones)/([^/]+)/clusters", path)
            if listing:  # gcloud lists every location ("-") after a 404 to suggest the right one
                project, location = listing.groups()
                found = [copy.deepcopy(c) for (p, l, _), c in state.clusters.items()
                         if p == project and location in ("-", l)]
                return {"clusters": found} if found else {}
            match = re.fullmatch(r"/v1/projects/([^/]+)/(?:locations|zones)/([^/]+)/clusters/([^/:]+)"
                                 r"(?:/nodePools/([^/:]+))?", path)
            if not match:
                raise GoogleError(404, f"Not found: {path}.")
            project, location, name, pool = match.groups()
            cluster = state.clusters.get((project, location, name))
            if cluster is None:
                raise GoogleError(404, f"Not found: projects/{project}/locations/{location}/clusters/{name}.")
            if pool is None:
                return copy.deepcopy(cluster)
            for node_pool in cluster["nodePools"]:
                if node_pool["name"] == pool:
                    return copy.deepcopy(node_pool)
            raise GoogleError(404, f"Not found: projects/{project}/locations/{location}/clusters/{name}/"
                                   f"nodePools/{pool}.")
        if api == "cloudresourcemanager":
            match = re.fullmatch(r"/v1/projects/([^/:]+)(:getIamPolicy)?", path)
            if not match:
                raise GoogleError(404, "Requested entity was not found.")
            project = state.project(match.group(1))
            return _policy(project["bindings"]) if match.group(2) else copy.deepcopy(project["json"])
        if api == "iam":
            match = re.fullmatch(r"/v1/projects/([^/]+)/serviceAccounts/([^/:]+)(:getIamPolicy)?", path)
            if not match:
                raise GoogleError(404, "Requested entity was not found.")
            account = state.service_accounts.get(match.group(2).lower())
            if account is None:
                raise GoogleError(404, f"Unknown service account")
            return _policy(account["bindings"]) if match.group(3) else copy.deepcopy(account["json"])
        match = re.fullmatch(r"/v1/projects/([^/]+)/locations/([^/]+)/repositories/([^/:]+)(:getIamPolicy)?", path)
        if not match:
            raise GoogleError(404, "Requested entity was not found.")
        project, location, name, iam = match.groups()
        repository = state.repositories.get((project, location, name))
        if repository is None:
            raise GoogleError(404, f'Repository "projects/{project}/locations/{location}/repositories/{name}" '
                                   f"not found")
        return _policy(repository["bindings"]) if iam else copy.deepcopy(repository["json"])

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        payload = json.loads(body or b"{}")
        with self.state.lock:
            if path == "/_standin/seed" and method == "POST":
                return 200, self.state.seed(payload)
            if path == "/_standin/faults" and method == "POST":
                self.state.faults.append(payload)
                return 200, {"fault": payload}
            if path == "/_standin/faults" and method == "DELETE":
                self.state.faults.clear()
                return 200, {}
            if path == "/_standin/reset" and method == "POST":
                self.state.clear()
                return 200, {}
            if path == "/_standin/requests" and method == "GET":
                return 200, {"requests": copy.deepcopy(self.state.requests),
                             "escapes": copy.deepcopy(self.state.escapes)}
        return 404, GoogleError(404, f"no control {method} {path}").body()


def find_gcloud() -> str | None:
    """$XPID_TEST_GCLOUD if executable, else gcloud on PATH."""
    configured = os.environ.get("XPID_TEST_GCLOUD")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("gcloud")


class GCPStandIn(StartStop):
    """The Google Cloud API stand-in plus the gcloud configuration that points at it."""

    def __init__(self, gcloud: str | None = None, token: str = DEFAULT_TOKEN):
        self._gcloud = gcloud
        self.token = token
        self._app: _App | None = None
        self._server: Server | None = None
        self._tmp: str | None = None

    @property
    def url(self) -> str:
        assert self._server, "not started"
        return self._server.url

    @property
    def gcloud(self) -> str:
        path = self._gcloud or find_gcloud()
        if not path:
            raise RuntimeError("no gcloud CLI: set XPID_TEST_GCLOUD or put gcloud on PATH")
        return path

    def start(self) -> str:
        self._tmp = tempfile.mkdtemp(prefix="gcp-standin-")
        for directory in ("config", "empty-config", "bin"):
            os.mkdir(os.path.join(self._tmp, directory))
        self._mark_not_gce()
        self._app = _App()
        self._server = Server(handler(self._app.reply, connect=True), "gcp-standin").start()
        return self.url

    def _mark_not_gce(self) -> None:
        """gcloud caches "am I on GCE?" in CONFIG/gce for 10 minutes and otherwise probes the
        metadata server (4 GETs of .../project/numeric-project-id in the first call, even with
        core/check_gce_metadata false). Writing the cache keeps the probe away; a probe after
        the cache expired reaches GCE_METADATA_ROOT (here) and shows in escapes()."""
        for directory in ("config", "empty-config"):
            with open(os.path.join(self._tmp, directory, "gce"), "w") as cache:
                cache.write("False")

    def stop(self) -> None:
        if self._server:
            self._server.stop()
        self._server = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # --- gcloud ---------------------------------------------------------------------------

    def env(self, inherit: bool = True, logged_in: bool = True, prefixed: bool = True) -> dict[str, str]:
        """The environment for running gcloud against the stand-in.

        With `inherit`: os.environ without CLOUDSDK_*, GOOGLE_*, GCE_*, the proxy and CA
        variables, plus the variables below; without: just those. PATH always leads with a
        directory holding only a `gcloud` link. `logged_in=False`: no CLOUDSDK_AUTH_ACCESS_TOKEN
        and a config dir of its own nobody logged in to. `prefixed=False` gives the bare
        overrides (http://127.0.0.1:PORT/) of testing.md instead of per-API prefixes."""
        assert self._tmp, "not started"
        link, gcloud = os.path.join(self._tmp, "bin", "gcloud"), self._gcloud or find_gcloud()
        if gcloud and not os.path.lexists(link):
            os.symlink(os.path.abspath(gcloud), link)
        port = self._server.port
        variables = {
            f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}": f"{self.url}/{prefix + '/' if prefixed else ''}"
            for prefix, api in API_PREFIXES.items()}
        variables.update({
            "CLOUDSDK_CONFIG": os.path.join(self._tmp, "config" if logged_in else "empty-config"),
            "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
            "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
            "CLOUDSDK_SURVEY_DISABLE_PROMPTS": "true",
            "GCE_METADATA_ROOT": f"127.0.0.1:{port}/_metadata",
            "GCE_METADATA_IP": f"127.0.0.1:{port}",
            **proxy_env(self.url),
            "PATH": os.path.join(self._tmp, "bin") + os.pathsep + os.environ.get("PATH", os.defpath),
        })
        if logged_in:
            variables["CLOUDSDK_AUTH_ACCESS_TOKEN"] = self.token
        if not inherit:
            return variables
        return inherited_env(variables, ("CLOUDSDK_", "GOOGLE_", "GCE_"))

    def run_gcloud(self, *args: str, logged_in: bool = True, env: dict | None = None,
                   timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([self.gcloud, *args], env={**self.env(logged_in=logged_in), **(env or {})},
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    # --- seeding --------------------------------------------------------------------------

    def _locked(self, fn, *args):
        with self._app.state.lock:
            return copy.deepcopy(fn(*args))

    def seed(self, spec: dict) -> dict:
        """{projects?, clusters?, serviceAccounts?, repositories?: [spec]} (the add_* specs
        in their dict form) -> the same keys with what was stored."""
        return self._locked(self._app.state.seed, spec)

    def add_project(self, project_id: str, *, number: str | int | None = None,
                    bindings: list[dict] = ()) -> dict:
        """A project; `bindings` its IAM policy [{role, members[], condition?}]. The number
        defaults to a stable 12-digit one derived from the id."""
        return self._locked(self._app.state.add_project, {
            "projectId": project_id, "projectNumber": number, "bindings": list(bindings)})

    def add_cluster(self, name: str, location: str, project: str, *, workload_pool: str | bool = True,
                    node_pools: list[dict] | None = None, master_version: str = DEFAULT_VERSION,
                    node_version: str | None = None, status: str = "RUNNING", autopilot: bool = False,
                    extra: dict | None = None) -> dict:
        """A GKE cluster. `workload_pool`: True for PROJECT.svc.id.goog, a string for another
        pool, False/None for Workload Identity off (no workloadIdentityConfig). `node_pools`:
        [{name, mode: GKE_METADATA|GCE_METADATA|None (no workloadMetadataConfig), serviceAccount
        (email or "default"), version?, status?, config? (merged)}]; default one default-pool
        whose mode follows the cluster. `extra`: top-level keys set as given."""
        return self._locked(self._app.state.add_cluster, {
            "name": name, "location": location, "project": project, "workloadPool": workload_pool,
            "nodePools": node_pools if node_pools is not None else [{}],
            "currentMasterVersion": master_version, "currentNodeVersion": node_version or master_version,
            "status": status, "autopilot": autopilot, "extra": extra})

    def add_service_account(self, email: str, *, bindings: list[dict] = (), project: str | None = None,
                            display_name: str | None = None) -> dict:
        """A Google service account; `bindings` its own IAM policy (who may act as it), e.g.
        [{"role": "roles/iam.workloadIdentityUser", "members": ["serviceAccount:P.svc.id.goog[NS/KSA]"]}]."""
        spec = {"email": email, "bindings": list(bindings), "project": project}
        if display_name:
            spec["displayName"] = display_name
        return self._locked(self._app.state.add_service_account, spec)

    def add_repository(self, name: str, location: str, project: str, *, bindings: list[dict] = (),
                       format: str = "DOCKER") -> dict:
        """An Artifact Registry repository with its IAM policy `bindings`."""
        return self._locked(self._app.state.add_repository, {
            "name": name, "location": location, "project": project, "bindings": list(bindings), "format": format})

    # --- faults and logs ------------------------------------------------------------------

    def fault(self, path: str, *, method: str | None = None, status: int | None = None,
              message: str | None = None, times: int | None = None, delay: float | None = None) -> dict:
        """Requests whose path matches the regex `path` (and `method`) fail with `status` (a
        Google error body; the message defaults by API and status) and/or wait `delay`
        seconds, for the next `times` requests (None: always)."""
        fault = {"path": path, "method": method, "status": status, "message": message, "times": times,
                 "delay": delay}
        with self._app.state.lock:
            self._app.state.faults.append(fault)
        return dict(fault)

    def clear_faults(self) -> None:
        with self._app.state.lock:
            self._app.state.faults.clear()

    def requests(self) -> list[dict]:
        """[{api, method, path (without the API prefix), query, write, token, status}], oldest first."""
        with self._app.state.lock:
            return copy.deepcopy(self._app.state.requests)

    def writes(self) -> list[dict]:
        """The requests that would have changed something (all refused)."""
        return [r for r in self.requests() if r["write"]]

    def escapes(self) -> list[dict]:
        """Requests meant for another host, or for the metadata server: [{method, target}]."""
        with self._app.state.lock:
            return copy.deepcopy(self._app.state.escapes)

    def reset(self) -> None:
        """Forgets everything seeded, the faults and the logs."""
        with self._app.state.lock:
            self._app.state.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", metavar="SPEC.json", help="seed from this file (the /_standin/seed shape)")
    args = parser.parse_args()
    standin = GCPStandIn()

    def announce() -> dict:
        seeded = standin.seed(json.load(open(args.seed))) if args.seed else None
        return {"url": standin.url, "env": standin.env(inherit=False), "seed": seeded}

    serve_as_program(standin, announce)


if __name__ == "__main__":
    main()
