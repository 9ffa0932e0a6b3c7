"""A local stand-in for the AWS APIs that kubectl-xpid reaches through the `aws` CLI.

moto_server (moto 5.2) serves EKS clusters, IAM and STS but answers 404 for EKS Pod
Identity associations and add-ons, and has no IAM policy simulator. This module runs a
small HTTP proxy in front of moto: it implements those operations itself and forwards
everything else to moto unchanged, so the REAL `aws` CLI can be pointed at it with
AWS_ENDPOINT_URL (see AWSStandIn.env()).

Choices, and what they cost in faithfulness:
- Requests are told apart by the service in the SigV4 credential scope
  (`Credential=AKID/20261122/us-east-2/eks/aws4_request`) and the path; the region in
  that scope is the region of everything created. Signatures are never checked (moto
  does not check them either). The account is moto's default, 123456789012.
- EKS operations on a cluster check that moto knows the cluster (a DescribeCluster is
  forwarded) and answer ResourceNotFoundException otherwise, like real EKS. The
  /_standin/ control endpoints do not check, so tests can seed state for any name.
- ListPodIdentityAssociations items carry no roleArn, exactly like the real API: only
  DescribePodIdentityAssociation tells which role an association uses. Lists return at
  most 100 items per page (or maxResults) with an opaque nextToken, as EKS does.
- Timestamps are epoch seconds (JSON numbers), which is what the REST-JSON API sends.
- CreateAddon answers status CREATING, as EKS does, but stores the add-on as ACTIVE, as
  if creation finished at once; set other states through POST /_standin/addons.
- SimulatePrincipalPolicy evaluates the role's (or user's) attached managed and inline
  policies, read from moto, plus PolicyInputList: an explicit Deny wins, then an Allow,
  else implicitDeny. Action patterns match case-insensitively, Resource patterns
  case-sensitively, both with `*` and `?`; NotAction/NotResource are honoured. Statements
  with a Condition never match (context keys are not simulated) and their keys are
  reported in MissingContextValues, as the real simulator does for keys it was not
  given. MatchedStatements carry SourcePolicyId/SourcePolicyType but no positions.
  Permissions boundaries, groups and resource policies are not evaluated.
- Error bodies follow the protocol of the service: JSON plus an x-amzn-ErrorType header
  for EKS (REST-JSON), the ErrorResponse XML for IAM and STS (query protocol).

How aws-cli 1.45.11 (botocore 1.43.11) reports failures, measured against this stand-in
and pinned by Tests/E2E/test_aws_standin.py. Every one exits 255 with nothing on stdout:
awscli v1 has no separate code for service errors (v2's 254 does not exist in v1), so the
plugin must classify failures by their stderr text, quoted here exactly (\n = newline):
- Not found (any service error has this shape; the code is whatever the service sent):
    "\nAn error occurred (ResourceNotFoundException) when calling the DescribeAddon
     operation: No addon: vpc-cni found in cluster: demo\n"
    "\nAn error occurred (ResourceNotFoundException) when calling the
     ListPodIdentityAssociations operation: No cluster found for name: ghost.\n"
    "\nAn error occurred (NoSuchEntity) when calling the SimulatePrincipalPolicy
     operation: Role ghost not found\n"
- Access denied (EKS sends the code AccessDeniedException, IAM and STS AccessDenied):
    "\nAn error occurred (AccessDeniedException) when calling the
     ListPodIdentityAssociations operation: User: arn:aws:iam::123456789012:user/dev is
     not authorized to perform: eks:ListPodIdentityAssociations on resource: ...\n"
    "\nAn error occurred (AccessDenied) when calling the SimulatePrincipalPolicy
     operation: <message>\n"
- Throttling is retried by the CLI (legacy retry mode: 5 attempts, random exponential
  backoff; about 12 s in all), so one ThrottlingException is invisible to the caller.
  Once every attempt failed:
    "\nAn error occurred (ThrottlingException) when calling the ListAddons operation
     (reached max retries: 4): Rate exceeded\n"
  AWS_MAX_ATTEMPTS=N makes that "(reached max retries: N-1)". Retried the same way: the
  codes Throttling/ThrottlingException whatever the status (EKS sends 429, IAM 400), and
  statuses 429, 500, 502, 503, 504. 400/403/404/409/501 errors are not retried.
- Missing credentials (no AWS_* keys, empty config and credentials files, instance
  metadata disabled) -- the only text WITHOUT the leading newline; nothing is sent:
    "Unable to locate credentials. You can configure credentials by running
     \"aws configure\".\n"
- Connection refused (retried like throttling: about 8 s before it gives up):
    "\nCould not connect to the endpoint URL:
     \"http://127.0.0.1:PORT/clusters/demo/addons\"\n"
- Read timeout (a delay fault longer than --cli-read-timeout; retried as well, so a
  single slow answer goes unnoticed):
    "\nRead timeout on endpoint URL:
     \"http://127.0.0.1:PORT/clusters/demo/addons/eks-pod-identity-agent\"\n"
- SimulatePrincipalPolicy switched off (the stand-in's NotImplemented, HTTP 501):
    "\nAn error occurred (NotImplemented) when calling the SimulatePrincipalPolicy
     operation: SimulatePrincipalPolicy is switched off in this stand-in\n"
On success the CLI prints EKS timestamps as the raw epoch numbers it received
("createdAt": 1767225600.0) and IAM ones as the ISO 8601 strings IAM sends, and it decodes
IAM policy documents (AssumeRolePolicyDocument, ...) into JSON objects.

Test controls (JSON over HTTP, never forwarded to moto):
  POST /_standin/associations  {clusterName, namespace, serviceAccount, roleArn,
                                createdAt?, modifiedAt? (ISO 8601 or epoch), region?,
                                ownerArn?, targetRoleArn?, disableSessionTags?, tags?}
  POST /_standin/addons        {clusterName, addonName?, status?, addonVersion?,
                                issues? [{code, message, resourceIds}], createdAt?,
                                modifiedAt?, region?, podIdentityAssociations?}
  POST /_standin/faults        {operation, status?, code?, message?, times? (null =
                                always, default 1), delay? (seconds)}: with a status the
                                operation fails with that code; a delay alone slows it
  DELETE /_standin/faults
  POST /_standin/config        {simulate: bool}
  POST /_standin/reset         {moto?: bool (default true)}
  GET  /_standin/requests      -> {"requests": [{service, operation, method, path,
                                   region, status}]}

Run as a program, it starts a stand-in (and moto), optionally seeds it from a JSON spec,
prints one JSON line {"url", "env", "seed"} and serves until stdin closes or it is
signalled; that is how a non-Python test harness can use it.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import random
import re
import shutil
import socket
import string
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from standin_http import RawRequest, Reply, Server, StartStop, control, handler, serve_as_program

ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-2"
POD_IDENTITY_ADDON = "eks-pod-identity-agent"
DEFAULT_ADDON_VERSION = "v1.3.4-eksbuild.1"
LIST_PAGE_LIMIT = 100  # EKS's maximum and default page size for list operations

_IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
# Services spoken to in the query protocol (form body, XML answers); the rest get JSON.
_QUERY_NAMESPACES = {"iam": _IAM_NS, "sts": "https://sts.amazonaws.com/doc/2011-06-15/"}
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade", "content-length",
}

_CLUSTER = r"/clusters/(?P<cluster>[^/]+)"
# (method, path pattern, operation). The pod identity and add-on operations are served
# here; the cluster ones go to moto and are listed only so that the request log and
# faults can name them.
_EKS_ROUTES = [
    ("POST", _CLUSTER + "/pod-identity-associations", "CreatePodIdentityAssociation"),
    ("GET", _CLUSTER + "/pod-identity-associations", "ListPodIdentityAssociations"),
    ("GET", _CLUSTER + "/pod-identity-associations/(?P<id>[^/]+)", "DescribePodIdentityAssociation"),
    ("POST", _CLUSTER + "/pod-identity-associations/(?P<id>[^/]+)", "UpdatePodIdentityAssociation"),
    ("DELETE", _CLUSTER + "/pod-identity-associations/(?P<id>[^/]+)", "DeletePodIdentityAssociation"),
    ("POST", _CLUSTER + "/addons", "CreateAddon"),
    ("GET", _CLUSTER + "/addons", "ListAddons"),
    ("GET", _CLUSTER + "/addons/(?P<addon>[^/]+)", "DescribeAddon"),
    ("POST", "/clusters", "CreateCluster"),
    ("GET", "/clusters", "ListClusters"),
    ("GET", _CLUSTER, "DescribeCluster"),
    ("DELETE", _CLUSTER, "DeleteCluster"),
]


class AWSError(Exception):
    """An error answer in the shape the `aws` CLI parses for the service concerned."""

    def __init__(self, status: int, code: str, message: str, **fields: str):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def response(self, service: str | None) -> "_Response":
        request_id = str(uuid.uuid4())
        if service in _QUERY_NAMESPACES:
            root = ET.Element("ErrorResponse", xmlns=_QUERY_NAMESPACES[service])
            error = ET.SubElement(root, "Error")
            ET.SubElement(error, "Type").text = "Receiver" if self.status >= 500 else "Sender"
            ET.SubElement(error, "Code").text = self.code
            ET.SubElement(error, "Message").text = self.message
            ET.SubElement(root, "RequestId").text = request_id
            return _Response(self.status, ET.tostring(root), "text/xml",
                             [("x-amzn-RequestId", request_id)])
        body = json.dumps({**self.fields, "message": self.message}).encode()
        return _Response(self.status, body, "application/json",
                         [("x-amzn-ErrorType", self.code), ("x-amzn-RequestId", request_id)])


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, payload: dict, status: int = 200) -> "_Response":
        return cls(status, json.dumps(payload).encode(), "application/json",
                   [("x-amzn-RequestId", str(uuid.uuid4()))])


@dataclass
class _Request:
    method: str
    target: str  # path and query exactly as received, for forwarding
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    service: str | None
    region: str
    operation: str
    route: dict[str, str]  # decoded path parameters of an EKS route

    @classmethod
    def parse(cls, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
              default_region: str) -> "_Request":
        url = urllib.parse.urlsplit(target)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        header_map = {name.lower(): value for name, value in headers}
        scope = _SCOPE.search(header_map.get("authorization", ""))
        region, service = scope.groups() if scope else (default_region, None)
        operation, route = f"{method} {url.path}", {}
        if service == "eks":
            for route_method, pattern, name in _EKS_ROUTES:
                match = re.fullmatch(pattern, url.path)
                if match and route_method == method:
                    operation = name
                    route = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                    break
        elif service in _QUERY_NAMESPACES:
            form = dict(urllib.parse.parse_qsl(body.decode(errors="replace")))
            query = {**query, **form}
            operation = query.get("Action", operation)
        elif "x-amz-target" in header_map:  # JSON-protocol services: "Service.Operation"
            operation = header_map["x-amz-target"].rpartition(".")[2]
        return cls(method, target, url.path, query, dict(headers), body, service, region,
                   operation, route)

    def auth(self) -> dict[str, str]:
        """The Authorization header alone: enough for moto to route a request we make."""
        return {k: v for k, v in self.headers.items() if k.lower() == "authorization"}


def _now() -> float:
    return round(time.time(), 3)


def _epoch(value: str | float | int | None, default: float) -> float:
    """Accepts epoch seconds or ISO 8601 (naive means UTC), as the control endpoints do."""
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return float(value)
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def _association_id() -> str:
    return "a-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=17))


def _without_nulls(record: dict) -> dict:
    # The real APIs leave out members that have no value rather than sending null.
    return {key: value for key, value in record.items() if value is not None}


def _wildcard_match(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL
    return re.fullmatch(regex, value, flags) is not None


def _as_list(value) -> list:
    return [value] if isinstance(value, (str, dict)) else list(value or [])


def _element_matches(statement: dict, element: str, value: str, ignore_case: bool) -> bool:
    """Whether `value` is covered by Action/Resource, or left out by NotAction/NotResource."""
    if element in statement:
        return any(_wildcard_match(p, value, ignore_case) for p in _as_list(statement[element]))
    negated = "Not" + element
    return negated in statement and not any(
        _wildcard_match(p, value, ignore_case) for p in _as_list(statement[negated]))


def _statement_matches(statement: dict, action: str, resource: str) -> bool:
    # IAM action names are case-insensitive; resource ARNs are not.
    return (_element_matches(statement, "Action", action, ignore_case=True)
            and _element_matches(statement, "Resource", resource, ignore_case=False))


def _query_list(params: dict[str, str], name: str) -> list[str]:
    """The values of a query-protocol list parameter (Name.member.1, Name.member.2, ...)."""
    members = {int(key.rsplit(".", 1)[1]): value for key, value in params.items()
               if re.fullmatch(re.escape(name) + r"\.member\.\d+", key)}
    return [members[index] for index in sorted(members)]


def _decode_policy(text: str) -> dict:
    # IAM sends policy documents URL-encoded; moto does too, except in GetPolicyVersion.
    text = text.strip()
    return json.loads(text if text.startswith("{") else urllib.parse.unquote(text))


class _State:
    """Everything the stand-in serves itself. Callers hold `lock` while touching it."""

    def __init__(self, simulate: bool):
        self.lock = threading.Lock()
        self.default_simulate = simulate
        self.generation = 0
        self.clear()

    def clear(self) -> None:
        # A request still in flight across a reset (say, one held by a delay fault after
        # the CLI timed out) must not land in the next test's request log.
        self.generation += 1
        self.simulate = self.default_simulate
        # (region, cluster) -> associationId -> association, in creation order
        self.associations: dict[tuple[str, str], dict[str, dict]] = {}
        # (region, cluster) -> addonName -> addon
        self.addons: dict[tuple[str, str], dict[str, dict]] = {}
        self.faults: list[dict] = []
        self.requests: list[dict] = []

    def new_association(self, region: str, cluster: str, namespace: str, service_account: str,
                        role_arn: str, created_at: float, modified_at: float, *,
                        owner_arn: str | None = None, target_role_arn: str | None = None,
                        disable_session_tags: bool = False, tags: dict | None = None) -> dict:
        existing = self.associations.setdefault((region, cluster), {})
        if any(a["namespace"] == namespace and a["serviceAccount"] == service_account
               for a in existing.values()):
            raise AWSError(409, "ResourceInUseException",
                           f"Association already exists: namespace {namespace}, "
                           f"service account {service_account}", clusterName=cluster)
        association_id = _association_id()
        association = {
            "clusterName": cluster,
            "namespace": namespace,
            "serviceAccount": service_account,
            "roleArn": role_arn,
            "associationArn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:podidentityassociation/"
                              f"{cluster}/{association_id}",
            "associationId": association_id,
            "tags": tags or {},
            "createdAt": created_at,
            "modifiedAt": modified_at,
            "ownerArn": owner_arn,
            "disableSessionTags": disable_session_tags,
            "targetRoleArn": target_role_arn,
            # EKS makes up an external ID only for cross-account role chaining.
            "externalId": str(uuid.uuid4()) if target_role_arn else None,
        }
        existing[association_id] = association
        return association

    def new_addon(self, region: str, cluster: str, name: str, status: str, version: str,
                  issues: list, created_at: float, modified_at: float,
                  service_account_role_arn: str | None = None,
                  association_arns: list | None = None) -> dict:
        existing = self.addons.setdefault((region, cluster), {})
        if name in existing:
            raise AWSError(409, "ResourceInUseException", f"Addon already exists: {name}",
                           clusterName=cluster, addonName=name)
        addon = {
            "addonName": name,
            "clusterName": cluster,
            "status": status,
            "addonVersion": version,
            "health": {"issues": issues},
            "addonArn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:addon/{cluster}/{name}/{uuid.uuid4()}",
            "createdAt": created_at,
            "modifiedAt": modified_at,
            "serviceAccountRoleArn": service_account_role_arn,
            "tags": {},
            "podIdentityAssociations": association_arns or [],
        }
        existing[name] = addon
        return addon

    def take_fault(self, operation: str) -> dict | None:
        for fault in self.faults:
            if fault["operation"] == operation:
                if fault["times"] is not None:
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self.faults.remove(fault)
                return fault
        return None


class _StandInApp:
    """Answers one request: control endpoint, local operation, or forward to moto."""

    def __init__(self, moto_port: int, region: str, simulate: bool):
        self.moto_port = moto_port
        self.region = region
        self.state = _State(simulate)
        self._eks = {
            "CreatePodIdentityAssociation": self._create_association,
            "ListPodIdentityAssociations": self._list_associations,
            "DescribePodIdentityAssociation": self._describe_association,
            "UpdatePodIdentityAssociation": self._update_association,
            "DeletePodIdentityAssociation": self._delete_association,
            "CreateAddon": self._create_addon,
            "ListAddons": self._list_addons,
            "DescribeAddon": self._describe_addon,
        }

    def handle(self, request: _Request) -> _Response:
        if request.path.startswith("/_standin/"):
            try:
                return self._control(request)
            except (KeyError, ValueError, TypeError) as error:
                return _Response.json({"error": f"bad control request: {error!r}"}, 400)
        with self.state.lock:
            fault = self.state.take_fault(request.operation)
            generation = self.state.generation
        try:
            if fault and fault.get("delay"):
                time.sleep(fault["delay"])
            if fault and fault.get("status"):
                raise AWSError(fault["status"], fault["code"], fault["message"])
            response = self._serve(request)
        except AWSError as error:
            response = error.response(request.service)
        with self.state.lock:
            if generation == self.state.generation:
                self.state.requests.append({
                    "service": request.service, "operation": request.operation,
                    "method": request.method, "path": request.path, "region": request.region,
                    "status": response.status,
                })
        return response

    def reply(self, raw: RawRequest) -> Reply:
        """handle() for one HTTP request as the server received it."""
        response = self.handle(_Request.parse(raw.method, raw.target, raw.headers, raw.body, self.region))
        content_type = [("Content-Type", response.content_type)] if response.content_type else []
        return Reply(response.status, [*response.headers, *content_type], response.body)

    def _serve(self, request: _Request) -> _Response:
        if request.service == "eks" and request.operation in self._eks:
            self._require_cluster(request)
            with self.state.lock:
                return self._eks[request.operation](request)
        if request.service == "iam" and request.operation == "SimulatePrincipalPolicy":
            return self._simulate_principal_policy(request)
        return self._forward(request.method, request.target, request.headers, request.body)

    # --- moto -------------------------------------------------------------------------

    def _forward(self, method: str, target: str, headers: dict, body: bytes) -> _Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.moto_port, timeout=60)
        try:
            connection.request(method, target, body=body,
                               headers={k: v for k, v in headers.items()
                                        if k.lower() not in _HOP_BY_HOP})
            answer = connection.getresponse()
            payload = answer.read()
            relayed = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
            return _Response(answer.status, payload, None, relayed)
        finally:
            connection.close()

    def _require_cluster(self, request: _Request) -> None:
        cluster = urllib.parse.quote(request.route["cluster"], safe="")
        answer = self._forward("GET", f"/clusters/{cluster}", request.auth(), b"")
        if answer.status == 404:
            raise AWSError(404, "ResourceNotFoundException",
                           f"No cluster found for name: {request.route['cluster']}.",
                           clusterName=request.route["cluster"])
        if answer.status != 200:
            raise AWSError(answer.status, "ServerException",
                           f"moto answered DescribeCluster with {answer.status}")

    def _iam(self, request: _Request, action: str, **params: str) -> ET.Element:
        """Calls IAM in moto on behalf of `request` (whose Authorization routes it)."""
        body = urllib.parse.urlencode({"Action": action, "Version": "2010-05-08", **params})
        answer = self._forward("POST", "/", {
            **request.auth(), "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            body.encode())
        root = ET.fromstring(answer.body)
        if answer.status != 200:
            raise AWSError(answer.status, root.findtext(f".//{{{_IAM_NS}}}Code") or "ServiceFailure",
                           root.findtext(f".//{{{_IAM_NS}}}Message") or "")
        return root

    def _iam_list(self, request: _Request, action: str, item: str, **params: str) -> list[ET.Element]:
        """All `item` elements of a paginated IAM list call."""
        items, marker = [], None
        while True:
            root = self._iam(request, action, **params, **({"Marker": marker} if marker else {}))
            items += root.iter(f"{{{_IAM_NS}}}{item}")
            marker = root.findtext(f".//{{{_IAM_NS}}}Marker")
            if root.findtext(f".//{{{_IAM_NS}}}IsTruncated") != "true" or not marker:
                return items

    # --- control endpoints --------------------------------------------------------------

    def _control(self, request: _Request) -> _Response:
        body = json.loads(request.body or b"{}")
        route = (request.method, request.path)
        if route == ("POST", "/_standin/associations"):
            created = _epoch(body.get("createdAt"), _now())
            try:
                with self.state.lock:
                    association = self.state.new_association(
                        body.get("region", self.region), body["clusterName"], body["namespace"],
                        body["serviceAccount"], body["roleArn"], created,
                        _epoch(body.get("modifiedAt"), created),
                        owner_arn=body.get("ownerArn"), target_role_arn=body.get("targetRoleArn"),
                        disable_session_tags=body.get("disableSessionTags", False),
                        tags=body.get("tags"))
            except AWSError as error:
                return _Response.json({"error": error.message}, error.status)
            return _Response.json({"association": _without_nulls(association)})
        if route == ("POST", "/_standin/addons"):
            created = _epoch(body.get("createdAt"), _now())
            try:
                with self.state.lock:
                    addon = self.state.new_addon(
                        body.get("region", self.region), body["clusterName"],
                        body.get("addonName", POD_IDENTITY_ADDON), body.get("status", "ACTIVE"),
                        body.get("addonVersion", DEFAULT_ADDON_VERSION), body.get("issues", []),
                        created, _epoch(body.get("modifiedAt"), created),
                        association_arns=body.get("podIdentityAssociations"))
            except AWSError as error:
                return _Response.json({"error": error.message}, error.status)
            return _Response.json({"addon": _without_nulls(addon)})
        if route == ("POST", "/_standin/faults"):
            fault = {"operation": body["operation"], "times": body.get("times", 1),
                     "delay": body.get("delay"), "status": body.get("status"),
                     "code": body.get("code", "InternalFailure"),
                     "message": body.get("message", "Injected fault")}
            with self.state.lock:
                self.state.faults.append(fault)
            return _Response.json({"fault": fault})
        if route == ("DELETE", "/_standin/faults"):
            with self.state.lock:
                self.state.faults.clear()
            return _Response.json({})
        if route == ("POST", "/_standin/config"):
            with self.state.lock:
                self.state.simulate = bool(body["simulate"])
            return _Response.json({"simulate": self.state.simulate})
        if route == ("POST", "/_standin/reset"):
            with self.state.lock:
                self.state.clear()
            if body.get("moto", True):
                self._forward("POST", "/moto-api/reset", {}, b"")
            return _Response.json({})
        if route == ("GET", "/_standin/requests"):
            with self.state.lock:
                return _Response.json({"requests": list(self.state.requests)})
        return _Response.json({"error": f"no control endpoint {request.method} {request.path}"}, 404)

    # --- EKS: pod identity associations ---------------------------------------------------

    def _body(self, request: _Request) -> dict:
        try:
            return json.loads(request.body or b"{}")
        except json.JSONDecodeError as error:
            raise AWSError(400, "InvalidParameterException", f"Malformed JSON body: {error}")

    def _page(self, request: _Request, items: list) -> tuple[list, str | None]:
        try:
            limit = int(request.query.get("maxResults", LIST_PAGE_LIMIT))
            token = request.query.get("nextToken")
            start = int(base64.urlsafe_b64decode(token).decode()) if token else 0
        except ValueError:
            raise AWSError(400, "InvalidParameterException", "Invalid maxResults or nextToken")
        if not 1 <= limit <= LIST_PAGE_LIMIT:
            raise AWSError(400, "InvalidParameterException",
                           f"maxResults must be between 1 and {LIST_PAGE_LIMIT}")
        end = start + limit
        next_token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
        return items[start:end], next_token

    def _find_association(self, request: _Request) -> dict:
        key = (request.region, request.route["cluster"])
        association = self.state.associations.get(key, {}).get(request.route["id"])
        if association is None:
            raise AWSError(404, "ResourceNotFoundException",
                           f"Could not find the association {request.route['id']} "
                           f"in cluster {request.route['cluster']}",
                           clusterName=request.route["cluster"])
        return association

    def _create_association(self, request: _Request) -> _Response:
        body = self._body(request)
        missing = [k for k in ("namespace", "serviceAccount", "roleArn") if not body.get(k)]
        if missing:
            raise AWSError(400, "InvalidParameterException", f"Missing required parameter(s): {missing}")
        now = _now()
        association = self.state.new_association(
            request.region, request.route["cluster"], body["namespace"], body["serviceAccount"],
            body["roleArn"], now, now, target_role_arn=body.get("targetRoleArn"),
            disable_session_tags=body.get("disableSessionTags", False), tags=body.get("tags"))
        return _Response.json({"association": _without_nulls(association)})

    def _list_associations(self, request: _Request) -> _Response:
        matching = [
            a for a in self.state.associations.get((request.region, request.route["cluster"]), {}).values()
            if request.query.get("namespace") in (None, a["namespace"])
            and request.query.get("serviceAccount") in (None, a["serviceAccount"])
        ]
        page, next_token = self._page(request, matching)
        summary_keys = ("clusterName", "namespace", "serviceAccount", "associationArn",
                        "associationId", "ownerArn")
        summaries = [_without_nulls({k: a[k] for k in summary_keys}) for a in page]
        return _Response.json(_without_nulls({"associations": summaries, "nextToken": next_token}))

    def _describe_association(self, request: _Request) -> _Response:
        return _Response.json({"association": _without_nulls(self._find_association(request))})

    def _update_association(self, request: _Request) -> _Response:
        association = self._find_association(request)
        changes = {k: v for k, v in self._body(request).items()
                   if k in ("roleArn", "disableSessionTags", "targetRoleArn")
                   and v is not None and association.get(k) != v}
        if changes:
            association.update(changes, modifiedAt=_now())
            if "targetRoleArn" in changes and not association["externalId"]:
                association["externalId"] = str(uuid.uuid4())
        return _Response.json({"association": _without_nulls(association)})

    def _delete_association(self, request: _Request) -> _Response:
        association = self._find_association(request)
        del self.state.associations[(request.region, request.route["cluster"])][association["associationId"]]
        return _Response.json({"association": _without_nulls(association)})

    # --- EKS: add-ons -----------------------------------------------------------------

    def _create_addon(self, request: _Request) -> _Response:
        body = self._body(request)
        if not body.get("addonName"):
            raise AWSError(400, "InvalidParameterException", "addonName is required")
        cluster, now = request.route["cluster"], _now()
        addon = self.state.new_addon(
            request.region, cluster, body["addonName"], "ACTIVE",
            body.get("addonVersion", DEFAULT_ADDON_VERSION), [], now, now,
            service_account_role_arn=body.get("serviceAccountRoleArn"))
        # Associations requested with an add-on belong to it: EKS sets their ownerArn.
        namespace = (body.get("namespaceConfig") or {}).get("namespace", "kube-system")
        for wanted in body.get("podIdentityAssociations", []):
            association = self.state.new_association(
                request.region, cluster, namespace, wanted["serviceAccount"], wanted["roleArn"],
                now, now, owner_arn=addon["addonArn"])
            addon["podIdentityAssociations"].append(association["associationArn"])
        return _Response.json({"addon": _without_nulls({**addon, "status": "CREATING"})})

    def _list_addons(self, request: _Request) -> _Response:
        names = list(self.state.addons.get((request.region, request.route["cluster"]), {}))
        page, next_token = self._page(request, names)
        return _Response.json(_without_nulls({"addons": page, "nextToken": next_token}))

    def _describe_addon(self, request: _Request) -> _Response:
        cluster, name = request.route["cluster"], request.route["addon"]
        addon = self.state.addons.get((request.region, cluster), {}).get(name)
        if addon is None:
            raise AWSError(404, "ResourceNotFoundException",
                           f"No addon: {name} found in cluster: {cluster}",
                           clusterName=cluster, addonName=name)
        return _Response.json({"addon": _without_nulls(addon)})

    # --- IAM: policy simulator --------------------------------------------------------

    def _simulate_principal_policy(self, request: _Request) -> _Response:
        if not self.state.simulate:
            raise AWSError(501, "NotImplemented",
                           "SimulatePrincipalPolicy is switched off in this stand-in")
        params = request.query
        source = params.get("PolicySourceArn", "")
        match = re.fullmatch(r"arn:aws:iam::\d{12}:(role|user)/(?:.*/)?([^/]+)", source)
        if not match:
            raise AWSError(400, "InvalidInput",
                           f"PolicySourceArn {source!r} is not a role or user ARN")
        kind, name = match.group(1), match.group(2)
        entity = {"RoleName" if kind == "role" else "UserName": name}
        capital = kind.capitalize()

        policies: list[tuple[str, str, dict]] = []  # (SourcePolicyId, SourcePolicyType, doc)
        for attached in self._iam_list(request, f"ListAttached{capital}Policies", "member", **entity):
            arn = attached.findtext(f"{{{_IAM_NS}}}PolicyArn")
            policy = self._iam(request, "GetPolicy", PolicyArn=arn)
            version = self._iam(request, "GetPolicyVersion", PolicyArn=arn,
                                VersionId=policy.findtext(f".//{{{_IAM_NS}}}DefaultVersionId"))
            policies.append((attached.findtext(f"{{{_IAM_NS}}}PolicyName"),
                             "aws-managed" if arn.startswith("arn:aws:iam::aws:") else "user-managed",
                             _decode_policy(version.findtext(f".//{{{_IAM_NS}}}Document"))))
        for inline in self._iam_list(request, f"List{capital}Policies", "member", **entity):
            document = self._iam(request, f"Get{capital}Policy", PolicyName=inline.text, **entity)
            policies.append((inline.text, kind,
                             _decode_policy(document.findtext(f".//{{{_IAM_NS}}}PolicyDocument"))))
        for index, document in enumerate(_query_list(params, "PolicyInputList"), start=1):
            policies.append((f"PolicyInputList.{index}", "none", json.loads(document)))

        actions = _query_list(params, "ActionNames")
        resources = _query_list(params, "ResourceArns") or ["*"]

        root = ET.Element("SimulatePrincipalPolicyResponse", xmlns=_IAM_NS)
        result = ET.SubElement(root, "SimulatePrincipalPolicyResult")
        ET.SubElement(result, "IsTruncated").text = "false"
        results = ET.SubElement(result, "EvaluationResults")
        for action in actions:
            for resource in resources:
                decision, matched, missing = self._evaluate(policies, action, resource)
                member = ET.SubElement(results, "member")
                ET.SubElement(member, "EvalActionName").text = action
                ET.SubElement(member, "EvalResourceName").text = resource
                ET.SubElement(member, "EvalDecision").text = decision
                statements = ET.SubElement(member, "MatchedStatements")
                for policy_id, policy_type in matched:
                    statement = ET.SubElement(statements, "member")
                    ET.SubElement(statement, "SourcePolicyId").text = policy_id
                    ET.SubElement(statement, "SourcePolicyType").text = policy_type
                context = ET.SubElement(member, "MissingContextValues")
                for key in missing:
                    ET.SubElement(context, "member").text = key
        metadata = ET.SubElement(root, "ResponseMetadata")
        ET.SubElement(metadata, "RequestId").text = str(uuid.uuid4())
        return _Response(200, ET.tostring(root), "text/xml")

    @staticmethod
    def _evaluate(policies, action: str, resource: str):
        """Returns (decision, [(policy id, type)] of the deciding statements, missing keys)."""
        allows, denies, missing = [], [], []
        for policy_id, policy_type, document in policies:
            for statement in _as_list(document.get("Statement")):
                if not _statement_matches(statement, action, resource):
                    continue
                if "Condition" in statement:
                    missing += [key for operator in statement["Condition"].values()
                                for key in operator if key not in missing]
                    continue
                target = denies if statement.get("Effect") == "Deny" else allows
                target.append((policy_id, policy_type))
        if denies:
            return "explicitDeny", denies, missing
        if allows:
            return "allowed", allows, missing
        return "implicitDeny", [], missing


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AWSStandIn(StartStop):
    """moto_server plus the stand-in proxy, for pointing the `aws` CLI at.

    With `moto_port` it uses a moto_server already listening there (and leaves it
    running on stop); otherwise it starts its own on a free port.
    """

    def __init__(self, moto_port: int | None = None, region: str = DEFAULT_REGION,
                 simulate: bool = True):
        self.region = region
        self.moto_port = moto_port
        self._own_moto = moto_port is None
        self._simulate = simulate
        self._moto: subprocess.Popen | None = None
        self._server: Server | None = None
        self._tmp: str | None = None

    @property
    def url(self) -> str:
        assert self._server, "not started"
        return self._server.url

    def start(self) -> str:
        self._tmp = tempfile.mkdtemp(prefix="aws-standin-")
        if self._own_moto:
            self.moto_port = _free_port()
            log = open(os.path.join(self._tmp, "moto.log"), "wb")
            self._moto = subprocess.Popen(
                [shutil.which("moto_server") or "moto_server", "-H", "127.0.0.1", "-p", str(self.moto_port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log.close()
        self._wait_for_moto()
        app = _StandInApp(self.moto_port, self.region, self._simulate)
        self._server = Server(handler(app.reply), "aws-standin").start()
        # Empty files, so that the developer's own ~/.aws config is never read.
        for name in ("config", "credentials"):
            open(os.path.join(self._tmp, name), "w").close()
        return self.url

    def _wait_for_moto(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._moto and self._moto.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self._moto.returncode}; "
                                   f"see {self._tmp}/moto.log")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.moto_port}/moto-api/", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto_server did not answer on port {self.moto_port} within {timeout}s")

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None
        if self._moto:
            self._moto.terminate()  # by PID: the Popen we started, nothing else
            try:
                self._moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._moto.kill()
                self._moto.wait()
            self._moto = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def env(self, inherit: bool = True) -> dict[str, str]:
        """Environment for running `aws` against the stand-in.

        With `inherit`, it is os.environ with every AWS_* variable removed (so a
        developer's AWS_PROFILE or session token cannot leak in) plus the variables
        below; without, just those variables.
        """
        assert self._tmp, "not started"
        aws = {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(self._tmp, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self._tmp, "credentials"),
        }
        if not inherit:
            return aws
        return {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **aws}

    def _control(self, method: str, path: str, payload: dict | None = None) -> dict:
        return control(self.url, method, path, payload)

    def add_association(self, cluster_name: str, namespace: str, service_account: str,
                        role_arn: str, created_at: str | float | None = None,
                        modified_at: str | float | None = None, **extra) -> dict:
        """Inserts an association with chosen timestamps; `extra` takes region, ownerArn,
        targetRoleArn, disableSessionTags, tags. Returns the association."""
        return self._control("POST", "/_standin/associations", {
            "clusterName": cluster_name, "namespace": namespace, "serviceAccount": service_account,
            "roleArn": role_arn, "createdAt": created_at, "modifiedAt": modified_at, **extra,
        })["association"]

    def add_addon(self, cluster_name: str, status: str = "ACTIVE",
                  addon_name: str = POD_IDENTITY_ADDON, issues: list | None = None, **extra) -> dict:
        """Inserts an add-on in any state; `extra` takes addonVersion, createdAt,
        modifiedAt, region, podIdentityAssociations. Returns the add-on."""
        return self._control("POST", "/_standin/addons", {
            "clusterName": cluster_name, "addonName": addon_name, "status": status,
            "issues": issues or [], **extra,
        })["addon"]

    def fault(self, operation: str, *, status: int | None = None, code: str | None = None,
              message: str | None = None, times: int | None = 1, delay: float | None = None) -> dict:
        """Makes `operation` fail (status + code) and/or wait `delay` seconds, for the next
        `times` calls (None: every call)."""
        return self._control("POST", "/_standin/faults", _without_nulls({
            "operation": operation, "status": status, "code": code, "message": message,
            "delay": delay}) | {"times": times})["fault"]

    def clear_faults(self) -> None:
        self._control("DELETE", "/_standin/faults")

    def configure(self, *, simulate: bool) -> None:
        self._control("POST", "/_standin/config", {"simulate": simulate})

    def requests(self) -> list[dict]:
        return self._control("GET", "/_standin/requests")["requests"]

    def reset(self, moto: bool = True) -> None:
        """Forgets associations, add-ons, faults, the request log and configuration;
        with `moto`, also everything in moto (clusters, IAM)."""
        self._control("POST", "/_standin/reset", {"moto": moto})


def _substitute(document, values: dict[str, str]):
    text = json.dumps(document)
    for placeholder, value in values.items():
        text = text.replace("${%s}" % placeholder, value)
    return json.loads(text)


def seed(standin: AWSStandIn, spec: dict) -> dict:
    """Creates a cluster, IAM roles, OIDC provider, associations and add-on from `spec`.

    spec = {
      "cluster": {"name", "region"?, "version"?},
      "oidcProvider": true | false | {"clientIds": [...]},   # default client: sts.amazonaws.com
      "roles": [{"name", "trust": {...},
                 "managedPolicies": [{"name", "document"} | {"arn"}],
                 "inlinePolicies": [{"name", "document"}]}],
      "associations": [{"namespace", "serviceAccount", "roleName" | "roleArn",
                        "createdAt"?, "modifiedAt"?}],
      "addon": {"status"?, "issues"?, "addonVersion"?} | null,
      "nodegroups": [{"name", "nodeRoleName" | "nodeRole" (ARN), "labels"?, "instanceTypes"?}],
    }
    Trust and policy documents may hold ${OIDC_PROVIDER} (issuer without https://),
    ${OIDC_PROVIDER_ARN} and ${ACCOUNT_ID}. A managed policy given by an AWS-managed ARN
    (arn:aws:iam::aws:policy/...) exists only when moto_server was started with
    MOTO_IAM_LOAD_MANAGED_POLICIES=true. Node groups are EKS managed node groups in moto, so
    `aws eks describe-nodegroup` returns their `nodeRole`. Returns {"clusterName", "region",
    "issuer", "oidcProviderArn" (also when no provider was created), "roleArns" (name -> ARN),
    "associationIds", "nodegroupArns" (name -> ARN)}.
    """
    import boto3  # only the seeder uses boto3; the proxy itself is standard library only

    cluster = spec["cluster"]
    region = cluster.get("region", standin.region)
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=region)
    eks = session.client("eks", endpoint_url=standin.url)
    iam = session.client("iam", endpoint_url=standin.url)

    created = eks.create_cluster(
        name=cluster["name"], version=cluster.get("version", "1.31"),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{cluster['name']}-cluster",
        resourcesVpcConfig={"subnetIds": ["subnet-0standin"]})["cluster"]
    issuer = created["identity"]["oidc"]["issuer"]
    provider = issuer.removeprefix("https://")
    values = {"OIDC_PROVIDER": provider, "ACCOUNT_ID": ACCOUNT_ID,
              "OIDC_PROVIDER_ARN": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{provider}"}

    oidc = spec.get("oidcProvider", False)
    if oidc:
        client_ids = oidc.get("clientIds", ["sts.amazonaws.com"]) if isinstance(oidc, dict) else ["sts.amazonaws.com"]
        iam.create_open_id_connect_provider(Url=issuer, ClientIDList=client_ids,
                                            ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])

    role_arns = {}
    for role in spec.get("roles", []):
        role_arns[role["name"]] = iam.create_role(
            RoleName=role["name"],
            AssumeRolePolicyDocument=json.dumps(_substitute(role["trust"], values)))["Role"]["Arn"]
        for managed in role.get("managedPolicies", []):
            arn = managed.get("arn") or iam.create_policy(
                PolicyName=managed["name"],
                PolicyDocument=json.dumps(_substitute(managed["document"], values)))["Policy"]["Arn"]
            try:
                iam.attach_role_policy(RoleName=role["name"], PolicyArn=arn)
            except iam.exceptions.NoSuchEntityException as error:
                if arn.startswith("arn:aws:iam::aws:policy/"):
                    raise RuntimeError(f"{arn} is AWS-managed: start moto_server with MOTO_IAM_LOAD_MANAGED_POLICIES=true "
                                       "to attach it") from error
                raise
        for inline in role.get("inlinePolicies", []):
            iam.put_role_policy(RoleName=role["name"], PolicyName=inline["name"],
                                PolicyDocument=json.dumps(_substitute(inline["document"], values)))

    association_ids = [
        standin.add_association(
            cluster["name"], wanted["namespace"], wanted["serviceAccount"],
            wanted.get("roleArn") or role_arns[wanted["roleName"]],
            wanted.get("createdAt"), wanted.get("modifiedAt"), region=region)["associationId"]
        for wanted in spec.get("associations", [])
    ]

    addon = spec.get("addon")
    if addon:
        standin.add_addon(cluster["name"], addon.get("status", "ACTIVE"), issues=addon.get("issues"),
                          region=region, addonVersion=addon.get("addonVersion", DEFAULT_ADDON_VERSION))

    nodegroup_arns = {}
    for group in spec.get("nodegroups", []):
        node_role = group.get("nodeRole") or role_arns.get(group.get("nodeRoleName", "")) \
            or f"arn:aws:iam::{ACCOUNT_ID}:role/{group['nodeRoleName']}"
        nodegroup_arns[group["name"]] = eks.create_nodegroup(
            clusterName=cluster["name"], nodegroupName=group["name"], nodeRole=node_role,
            subnets=["subnet-0standin"], labels=group.get("labels", {}),
            instanceTypes=group.get("instanceTypes", ["t3.medium"]))["nodegroup"]["nodegroupArn"]

    return {"clusterName": cluster["name"], "region": region, "issuer": issuer,
            "oidcProviderArn": values["OIDC_PROVIDER_ARN"], "roleArns": role_arns,
            "associationIds": association_ids, "nodegroupArns": nodegroup_arns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--moto-port", type=int, help="use a moto_server already listening here")
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--no-simulate", action="store_true", help="switch SimulatePrincipalPolicy off")
    parser.add_argument("--seed", metavar="SPEC.json", help="seed from this spec (see seed())")
    args = parser.parse_args()

    standin = AWSStandIn(args.moto_port, args.region, simulate=not args.no_simulate)

    def announce() -> dict:
        seeded = seed(standin, json.load(open(args.seed))) if args.seed else None
        return {"url": standin.url, "env": standin.env(inherit=False), "seed": seeded}

    serve_as_program(standin, announce)


if __name__ == "__main__":
    main()
