#!/usr/bin/env python3
"""Kubernetes API server emulator that the real kubectl can talk to.

Standard library only (TLS certificates come from the openssl CLI, else the
`cryptography` package). Serves HTTP, or HTTPS, on 127.0.0.1 so E2E tests can run
kubectl (and tools that shell out to kubectl, like kubectl-xpid) against a
scripted cluster.

Command line:  kube_emulator.py --scenario FILE.json --port 0 --port-file PATH
               [--tls --ca-file CA.pem] [--auth none|token|anonymous]
               (runs until SIGTERM/SIGINT; the port file is written once listening)
Python:        KubeEmulator(scenario, tls=False, auth="none", tokens=None).start() -> port;
               .stop(); .url; .ca_pem; .ssl_context(); .requests;
               .write_kubeconfig(path, context=, cluster_name=, user_name=,
               namespace=, extra_user_fields=, token="dummy" | None for no credentials);
               .set_pod_identity_associations(); .set_forbidden(); .set_faults();
               .add_objects(); .objects(kind)
Control HTTP:  GET /_emulator/requests, POST /_emulator/reset-log,
               POST /_emulator/pod-identity-associations|forbidden|faults (new list),
               POST /_emulator/objects (objects to add or replace), GET /_emulator/objects?kind=Pod.
               Control requests are not logged and need no credentials.

Scenario keys (all optional):
  objects      full objects. They are stored as given, with no admission and no
               controllers (they are the state from "before"). A kind with no
               registered resource raises ScenarioError, and so does an object that
               breaks its CRD's schema (CRD_SCHEMAS: required fields, types, enums),
               which a real server would never have stored. API writes that break it
               get the real server's 422 Invalid.
  crds         [{group, version | versions, plural, kind, namespaced (default
               false), shortNames, categories, singular}]. Each entry is also
               served as a CustomResourceDefinition object.
  forbidden    [{verb, resource, group, namespace}]. A missing field or "*"
               matches anything. Cluster-scoped requests (including -A lists)
               only match namespace "*". A server-side apply that creates the
               object needs `create` as well as `patch`, as on a real server.
  faults       [{path_regex, method, status, body, delay_ms, times}]. The body
               "__malformed__" gives a 200 with broken JSON. A fault with only
               delay_ms just delays the request.
  user         name used in Forbidden messages and `auth whoami` (default test-user).
  podIdentityAssociations  [{namespace, serviceAccount}] for EKS Pod Identity.
  region       AWS region injected by the EKS webhooks (default us-east-2).
  azureWebhook {version (default v1.6.0; AKS tags like v1.5.1-20 work), tenantId}: the Azure
               Workload Identity webhook's image version and configured tenant (its ConfigMap's
               AZURE_TENANT_ID, the fallback for AZURE_TENANT_ID). The webhook itself runs only
               while a MutatingWebhookConfiguration (an object like any other: in `objects`, or
               created with kubectl) has an entry named mutation.azure-workload-identity.io; no
               such object = workload identity disabled on the cluster.
  azureTenantId  older spelling of azureWebhook.tenantId (used when that is absent).
  aggregatedDiscovery  false = answer discovery like a pre-1.30 server.

Identity webhooks (pod CREATE only: pods created by kubectl and by the Deployment controller below;
seeded pods are never touched; the ServiceAccount is read as it is at that moment):
  * EKS Pod Identity (scenario `podIdentityAssociations`) wins over IRSA (SA annotation
    eks.amazonaws.com/role-arn); both always on.
  * Azure WI (apply_azure_wi_webhook), only while its MutatingWebhookConfiguration exists, for pods
    its objectSelector matches (the chart's: pod label azure.workload.identity/use: "true"; a label
    on the ServiceAccount or on the Deployment object does nothing) and, if it has one, its
    namespaceSelector. <= v1.5: volume azure-identity-token at /var/run/secrets/azure/tokens;
    >= v1.6: volume azure-workload-identity-reserved-<sha256[:30]> of the name the webhook saw (a
    controller-created pod has none yet: `<generateName> (prefix)`) at /var/run/secrets/azure/wi,
    file token/azure-identity-token. A bad token expiration annotation is a denial: 400
    `admission webhook "mutation.azure-workload-identity.io" denied the request: ...` for a direct
    create; for the Deployment controller, no pod and a ReplicaFailure/FailedCreate condition.
    The webhook's rules, failurePolicy and the proxy sidecar are not modelled.

Measured with the real kubectl v1.32.4 (/usr/bin/kubectl is the Google Cloud SDK
dispatcher: it first sends `GET /version?timeout=5s` with User-Agent
`kubectl-dispatcher/v1.0` and picks the kubectl matching the server's minor
version, so SERVER_VERSION must stay v1.32.x). test_kube_emulator.py asserts
each of these:

(a) `kubectl get pods,secrets,providers -A -o json` with `list secrets` forbidden:
    exit code 1. stdout still holds a complete `{"kind": "List", ...}` document
    with the items of the types that worked (pods and providers). stderr has
    `Error from server (Forbidden): secrets is forbidden: User "alice" cannot
    list resource "secrets" in API group "" at the cluster scope`. Every list
    is sent: GET /api/v1/pods (200), /api/v1/secrets (403),
    /apis/pkg.crossplane.io/v1/providers (200). With `-o name` and with the
    table output the other types are printed as well; only the exit code
    shows the failure.
(b) `kubectl get pods,foos,providers -A -o json` where `foos` is unknown:
    exit code 1, stdout EMPTY (not even an empty List), stderr
    `error: the server doesn't have a resource type "foos"`. kubectl sends no
    list request at all. It only refreshes discovery (GET /api, GET /apis)
    before giving up.
(c) `kubectl api-resources -o name` always refreshes discovery, whatever is
    cached: GET /api and GET /apis (aggregated discovery, the default here
    and on real 1.30+ servers). With `"aggregatedDiscovery": false` it also
    sends GET /api/v1 and GET /apis/G/V for every group version.
    `kubectl get providers.v1.pkg.crossplane.io` with an empty discovery
    cache: the same discovery requests, then
    GET /apis/pkg.crossplane.io/v1/providers?limit=500. With a warm cache
    (under $KUBECACHEDIR or ~/.kube/cache, keyed by host:port) only the list
    is sent. Use a fresh cache directory per emulator, because ports get
    reused.

Other things kubectl depends on:
  * Plain `kubectl get` asks for `as=Table` and gets a meta.k8s.io/v1 Table.
  * kubectl 1.32 sends protobuf (application/vnd.kubernetes.protobuf) for
    writes through its typed clients (`create configmap|secret|namespace|sa`,
    `auth can-i`, `auth whoami`) and does not retry with JSON. Those types
    are decoded here (see PROTO_MESSAGES). `apply`, `create -f`, `patch`,
    `replace`, `delete` and `rollout` send JSON.
  * `apply` validation needs /openapi/v3. Each PATCH operation advertises
    `fieldValidation`, so kubectl sends `fieldValidation=Strict` and does not
    validate on the client. /openapi/v2 is 404, which kubectl tolerates.
  * `rollout status` does GET, then a list with fieldSelector
    metadata.name=X, then a watch. A watch here is a chunked response that
    stays open and sends no events. That is enough because the deployment
    controller below converges synchronously.
  * A 422 Invalid is printed from the Status details, e.g. `The ProviderConfig
    "x" is invalid: spec.credentials.source: Required value` (several causes:
    one `* field: ...` line each).

Credentials (`tls`, `auth`; measured with the same kubectl, test_kube_emulator.py asserts them):
  * kubectl sends the kubeconfig user's credentials (token, basic auth, exec) only
    over TLS: client-go merges the user into the client config only for an https
    server. Over plain HTTP every request carries no credentials at all.
  * Over HTTPS with a user that has no credentials (`user: {}`), kubectl asks for
    basic-auth credentials before any API request: it prints `Please enter
    Username: ` on stdout, and with stdin closed exits 1 with `error: EOF` on
    stderr. Only the gcloud dispatcher's /version probe reaches the server.
  * auth="token": no (or a rejected) bearer token gives 401 `kind: Status` reason
    Unauthorized; kubectl prints `error: You must be logged in to the server (the
    server has asked for the client to provide credentials)`.
  * auth="anonymous": a request with no Authorization header is system:anonymous
    and gets 403 on everything, /version, /api and /apis included (`forbidden:
    User "system:anonymous" cannot get path "/api"`). This is a cluster whose RBAC
    grants the anonymous user nothing (the default system:public-info-viewer
    binding would still allow /version, /healthz). `kubectl get --raw /api` prints
    that message; every command that needs discovery instead prints repeated
    memcache.go `couldn't get current server API group list: unknown` lines and
    `Error from server (Forbidden): unknown` (discovery reads the raw body and
    never decodes the Status), exit 1.
"""
from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SERVER_VERSION = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.0",
    "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53", "gitTreeState": "clean",
    "buildDate": "2024-12-11T17:59:15Z", "goVersion": "go1.23.3", "compiler": "gc",
    "platform": "linux/amd64",
}
STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
JSON = "application/json"
AUTH_MODES = ("none", "token", "anonymous")
ANONYMOUS = "system:anonymous"
AGGREGATED_DISCOVERY = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

# Pod identity webhook constants (values copied from what the EKS / Azure
# webhooks inject, so assertions in tests match real clusters).
EKS_POD_IDENTITY_URI = "http://169.254.170.23/v1/credentials"
EKS_POD_IDENTITY_DIR = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"
IRSA_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
# Azure Workload Identity webhook (Azure/azure-workload-identity pkg/webhook/consts.go, webhook.go;
# v1.5.1 and v1.6.0 compared): the webhook name in its MutatingWebhookConfiguration, the pod label
# its objectSelector matches, and the two token layouts (v1.6.0 moved the token, commit d878231).
AZURE_WI_WEBHOOK = "mutation.azure-workload-identity.io"
AZURE_WI_USE_LABEL = "azure.workload.identity/use"
AZURE_WI_OBJECT_SELECTOR = {"matchLabels": {AZURE_WI_USE_LABEL: "true"}}
AZURE_AUDIENCE = "api://AzureADTokenExchange"
AZURE_AUTHORITY_HOST = "https://login.microsoftonline.com/"
AZURE_WEBHOOK_VERSION = "v1.6.0"  # what a scenario's azureWebhook.version defaults to
AZURE_TOKEN_DIR = "/var/run/secrets/azure/tokens"  # <= v1.5.x mount; volume and file `azure-identity-token`
AZURE_WI_DIR = "/var/run/secrets/azure/wi"  # >= v1.6.0 mount; file token/azure-identity-token
AZURE_RESERVED_VOLUME_PREFIX = "azure-workload-identity-reserved-"  # >= v1.6.0: + sha256(pod name)[:30]


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple = ()
    verbs: tuple = STANDARD_VERBS
    categories: tuple = ()
    singular: str = ""
    has_status: bool = True   # status is a subresource: main-resource writes keep the old status
    custom: bool = False      # CRD-backed: no strategic merge patch, like a real server
    scalable: bool = False    # has the autoscaling/v1 `scale` subresource (`kubectl scale`)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """GroupResource string used in apiserver error messages, e.g. `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def tracks_generation(self) -> bool:
        return self.custom or self.group == "apps"

    def discovery_entries(self) -> list:
        entry = {"name": self.plural, "singularName": self.singular or self.kind.lower(),
                 "namespaced": self.namespaced, "kind": self.kind, "verbs": list(self.verbs)}
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        if self.has_status and "get" in self.verbs:
            entries.append({"name": f"{self.plural}/status", "singularName": "", "namespaced": self.namespaced,
                            "kind": self.kind, "verbs": ["get", "patch", "update"]})
        if self.scalable:
            entries.append({"name": f"{self.plural}/scale", "singularName": "", "namespaced": self.namespaced,
                            "group": "autoscaling", "version": "v1", "kind": "Scale",
                            "verbs": ["get", "patch", "update"]})
        return entries


def _rt(group, plural, kind, namespaced=True, short=(), **kw) -> ResourceType:
    return ResourceType(group, "v1", plural, kind, namespaced, tuple(short), **kw)


BUILTIN_RESOURCES = (
    _rt("", "namespaces", "Namespace", False, ["ns"]),
    _rt("", "nodes", "Node", False, ["no"]),
    _rt("", "pods", "Pod", True, ["po"], categories=("all",)),
    _rt("", "serviceaccounts", "ServiceAccount", True, ["sa"], has_status=False),
    _rt("", "configmaps", "ConfigMap", True, ["cm"], has_status=False),
    _rt("", "secrets", "Secret", True, has_status=False),
    _rt("", "events", "Event", True, ["ev"], has_status=False),
    _rt("", "services", "Service", True, ["svc"], categories=("all",)),
    _rt("apps", "deployments", "Deployment", True, ["deploy"], categories=("all",), scalable=True),
    _rt("apps", "daemonsets", "DaemonSet", True, ["ds"], categories=("all",)),
    _rt("apps", "replicasets", "ReplicaSet", True, ["rs"], categories=("all",)),
    _rt("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", False, ["crd", "crds"]),
    _rt("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False,
        has_status=False),
    _rt("admissionregistration.k8s.io", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", False,
        has_status=False),
    # RBAC objects are stored and served (Flux's crd-controller ClusterRole and its binding); the
    # emulator's own authorization is the scenario's `forbidden` list, never these rules.
    _rt("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", False, has_status=False),
    _rt("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", False, has_status=False),
    _rt("rbac.authorization.k8s.io", "roles", "Role", True, has_status=False),
    _rt("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", True, has_status=False),
    _rt("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False,
        verbs=("create",), has_status=False),
    _rt("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", False,
        verbs=("create",), has_status=False),
)


class ScenarioError(ValueError):
    """The scenario cannot be loaded (e.g. an object of an unregistered kind)."""


class ApiError(Exception):
    """An error answered as a `kind: Status` body, shaped like the real apiserver's."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message}
        if self.reason:  # omitempty: a webhook's denial carries no reason
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(rt: ResourceType, name: str | None) -> dict:
    # Field order matches metav1.StatusDetails (name, group, kind); empty values are omitted.
    details = {"name": name} if name else {}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def namespace_not_found(ns: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name))


def forbidden(group: str, plural: str, verb: str, ns: str | None, name: str | None, sub: str | None,
              user: str) -> ApiError:
    """RBAC's denial of a resource request, worded like the apiserver's."""
    resource = f"{plural}/{sub}" if sub else plural
    scope = f'in the namespace "{ns}"' if ns else "at the cluster scope"
    qualified = f"{plural}.{group}" if group else plural
    subject = f'{qualified} "{name}"' if name else qualified
    details = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = plural
    return ApiError(403, "Forbidden", f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" in '
                    f'API group "{group}" {scope}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


@dataclass(frozen=True)
class FieldError:
    """One entry of a 422 Invalid: `field` as the apiserver spells paths (`spec.items[0].name`),
    `cause` its StatusCause type, `body` the text after `field: ` (`Required value`, ...)."""
    field: str
    cause: str
    body: str

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


def invalid(group: str, kind: str, name: str, errors: list) -> ApiError:
    """422 Invalid shaped like apimachinery's errors.NewInvalid: the message names the qualified
    kind (`ProviderConfig.aws.upbound.io`, plain `ConfigMap` for the core group) and joins several
    field errors as `[a, b]`; details carry the Kind (not the resource) and one cause per error."""
    qualified = f"{kind}.{group}" if group else kind
    summary = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(map(str, errors)) + "]"
    details = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [{"reason": e.cause, "message": e.body, "field": e.field} for e in errors]
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}', details)


def unsupported_patch_type() -> ApiError:
    return ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media "
                    "types include: application/json-patch+json, application/merge-patch+json, "
                    "application/apply-patch+yaml")


# --------------------------------------------------------------------------- time

def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_age(timestamp: str | None) -> str:
    """The AGE column: like apimachinery's duration.HumanDuration, minus its mixed units (`5m30s`)."""
    try:
        created = datetime.strptime(timestamp or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return "<unknown>"
    seconds = max(int((datetime.now(timezone.utc) - created).total_seconds()), 0)
    for unit, size, below in (("s", 1, 120), ("m", 60, 180 * 60), ("h", 3600, 48 * 3600), ("d", 86400, 730 * 86400)):
        if seconds < below:
            return f"{seconds // size}{unit}"
    return f"{seconds // (365 * 86400)}y"


# --------------------------------------------------------------------------- selectors

_LABEL_REQUIREMENT = re.compile(r"""\s*(?:
      !\s*(?P<absent>[^\s!=,()]+)
    | (?P<setkey>[^\s!=,()]+)\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\)
    | (?P<key>[^\s!=,()]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=,()]*)
    | (?P<present>[^\s!=,()]+)
    )\s*""", re.X)


def _split_top_level(text: str) -> list:
    """Split on commas that are not inside `in (a,b)` parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p for p in parts + [current] if p.strip()]


def parse_label_selector(text: str):
    """Return a predicate over a labels dict for `k=v`, `k!=v`, `k`, `!k`, `k in (..)`, `k notin (..)`."""
    checks = []
    for requirement in _split_top_level(text or ""):
        m = _LABEL_REQUIREMENT.fullmatch(requirement)
        if not m:
            raise bad_request(f"unable to parse requirement: {requirement!r}")
        if m["absent"]:
            checks.append(lambda labels, k=m["absent"]: k not in labels)
        elif m["setkey"]:
            values = {v.strip() for v in m["values"].split(",") if v.strip()}
            wanted = m["setop"] == "in"
            checks.append(lambda labels, k=m["setkey"], vs=values, w=wanted:
                          (k in labels and labels[k] in vs) if w else labels.get(k) not in vs)
        elif m["key"]:
            equal = m["op"] != "!="
            checks.append(lambda labels, k=m["key"], v=m["value"], eq=equal: (labels.get(k) == v) == eq)
        else:
            checks.append(lambda labels, k=m["present"]: k in labels)
    return lambda labels: all(check(labels) for check in checks)


def _field_value(obj: dict, dotted: str) -> str:
    value = obj
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def parse_field_selector(text: str):
    """Predicate for `path=value` / `path!=value` over any dotted field (a superset of the real server)."""
    checks = []
    for requirement in _split_top_level(text or ""):
        m = re.fullmatch(r"\s*([\w.]+)\s*(==|=|!=)\s*(.*?)\s*", requirement)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{requirement}'")
        checks.append(lambda obj, p=m[1], v=m[3], eq=m[2] != "!=": (_field_value(obj, p) == v) == eq)
    return lambda obj: all(check(obj) for check in checks)


# --------------------------------------------------------------------------- patches

class PatchError(Exception):
    pass


def json_merge_patch(target, patch):
    """RFC 7386: objects merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


# Lists merged element-wise by key in strategic merge patch (a subset of the
# `patchMergeKey` tags of the Kubernetes API types, matched by field name).
STRATEGIC_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath",
    "ports": "containerPort", "conditions": "type", "ownerReferences": "uid",
}


def strategic_merge_patch(target, patch):
    """Merge patch plus keyed list merging and the `$patch`/`$deleteFromPrimitiveList` directives."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [item for item in result.get(field, []) if item not in value]
        elif key.startswith("$"):
            continue  # $setElementOrder / $retainKeys only affect ordering and pruning
        elif value is None:
            result.pop(key, None)
        elif key in STRATEGIC_MERGE_KEYS and isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_keyed_list(result[key], value, STRATEGIC_MERGE_KEYS[key])
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    return result


def _merge_keyed_list(current: list, patch: list, merge_key: str) -> list:
    if {"$patch": "replace"} in patch:
        return [copy.deepcopy(item) for item in patch if item != {"$patch": "replace"}]
    merged = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            merged.append(copy.deepcopy(item))
            continue
        index = next((i for i, e in enumerate(merged)
                      if isinstance(e, dict) and e.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del merged[index]
        elif index is None:
            merged.append(strategic_merge_patch({}, item))
        else:
            merged[index] = strategic_merge_patch(merged[index], item)
    return merged


def _pointer_tokens(pointer: str) -> list:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _walk(doc, tokens: list):
    node = doc
    for token in tokens:
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise PatchError(f"path /{'/'.join(tokens)} does not exist") from None
    return node


def _pointer_add(doc, pointer: str, value, replace: bool = False):
    tokens = _pointer_tokens(pointer)
    if not tokens:
        return value
    parent, last = _walk(doc, tokens[:-1]), tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"replace operation does not apply: doc is missing key: {pointer}")
        parent[last] = value
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if index > len(parent) or (replace and index >= len(parent)):
            raise PatchError(f"index out of range: {pointer}")
        parent[index:index + (1 if replace else 0)] = [value]
    else:
        raise PatchError(f"cannot add to {pointer}")
    return doc


def _pointer_remove(doc, pointer: str):
    tokens = _pointer_tokens(pointer)
    parent = _walk(doc, tokens[:-1])
    _walk(parent, tokens[-1:])  # raises if the target is missing
    del parent[int(tokens[-1]) if isinstance(parent, list) else tokens[-1]]
    return doc


def json_patch(doc, operations: list):
    """RFC 6902 (add, remove, replace, test, move, copy)."""
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in operations:
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            doc = _pointer_add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "replace":
            doc = _pointer_add(doc, path, copy.deepcopy(op.get("value")), replace=True)
        elif kind == "remove":
            doc = _pointer_remove(doc, path)
        elif kind == "test":
            if _walk(doc, _pointer_tokens(path)) != op.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        elif kind in ("move", "copy"):
            value = copy.deepcopy(_walk(doc, _pointer_tokens(op.get("from", ""))))
            if kind == "move":
                doc = _pointer_remove(doc, op["from"])
            doc = _pointer_add(doc, path, value)
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


def apply_patch(doc: dict, patch_type: str, patch) -> dict:
    """Apply a PATCH body; server-side apply is approximated as a strategic merge of the applied config."""
    try:
        if patch_type == "application/json-patch+json":
            return json_patch(doc, patch)
        if patch_type == "application/merge-patch+json":
            return json_merge_patch(doc, patch)
        return strategic_merge_patch(doc, patch)
    except PatchError as error:
        raise ApiError(422, "Invalid", str(error)) from None


# --------------------------------------------------------------------------- protobuf request bodies

# kubectl >= 1.32 encodes create/update bodies of built-in types as protobuf whenever it uses
# its typed clients (`kubectl create configmap|secret|namespace|serviceaccount`, `kubectl auth
# can-i`, `kubectl auth whoami`), and there is no JSON fallback. These are the field numbers
# of the types those commands send (from the Kubernetes generated.proto files); fields not
# listed are dropped. A leading `*` marks a repeated field, `map:` a map<string, ...>.
_METADATA = {1: ("metadata", "ObjectMeta")}
PROTO_MESSAGES = {
    "ObjectMeta": {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
                   5: ("uid", "string"), 6: ("resourceVersion", "string"), 11: ("labels", "map:string"),
                   12: ("annotations", "map:string"), 13: ("ownerReferences", "*OwnerReference"),
                   14: ("finalizers", "*string")},
    "OwnerReference": {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                       5: ("apiVersion", "string"), 6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")},
    "ObjectReference": {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"),
                        4: ("uid", "string"), 5: ("apiVersion", "string")},
    "LocalObjectReference": {1: ("name", "string")},
    "ConfigMap": {**_METADATA, 2: ("data", "map:string"), 3: ("binaryData", "map:bytes"), 4: ("immutable", "bool")},
    "Secret": {**_METADATA, 2: ("data", "map:bytes"), 3: ("type", "string"), 4: ("stringData", "map:string"),
               5: ("immutable", "bool")},
    "Namespace": {**_METADATA, 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "*string")},
    "ServiceAccount": {**_METADATA, 2: ("secrets", "*ObjectReference"),
                       3: ("imagePullSecrets", "*LocalObjectReference"), 4: ("automountServiceAccountToken", "bool")},
    "SelfSubjectAccessReview": {**_METADATA, 2: ("spec", "SelfSubjectAccessReviewSpec")},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes"),
                                    2: ("nonResourceAttributes", "NonResourceAttributes")},
    "ResourceAttributes": {1: ("namespace", "string"), 2: ("verb", "string"), 3: ("group", "string"),
                           4: ("version", "string"), 5: ("resource", "string"), 6: ("subresource", "string"),
                           7: ("name", "string")},
    "NonResourceAttributes": {1: ("path", "string"), 2: ("verb", "string")},
    "SelfSubjectReview": {**_METADATA},
}
PROTOBUF = "application/vnd.kubernetes.protobuf"


def _varint(buf: bytes, i: int) -> tuple:
    result = shift = 0
    while True:
        byte = buf[i]
        result |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if byte < 0x80:
            return result, i


def _proto_fields(buf: bytes):
    """Yield (field number, value) where value is an int (varint) or bytes (length-delimited)."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        wire_type = key & 7
        if wire_type == 0:
            value, i = _varint(buf, i)
        elif wire_type == 2:
            length, i = _varint(buf, i)
            value, i = buf[i:i + length], i + length
        else:  # fixed32/fixed64: no field we decode uses them
            value, i = None, i + (4 if wire_type == 5 else 8)
        yield key >> 3, value


def _decode_proto_value(value, kind: str):
    if kind == "string":
        return value.decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "bool":
        return bool(value)
    if kind.startswith("map:"):
        entry = dict(_proto_fields(value))
        return {entry.get(1, b"").decode("utf-8"): _decode_proto_value(entry.get(2, b""), kind[4:])}
    return _decode_proto_message(value, kind)


def _decode_proto_message(buf: bytes, message: str) -> dict:
    fields = PROTO_MESSAGES[message]
    out: dict = {}
    for number, value in _proto_fields(buf):
        if number not in fields:
            continue
        name, kind = fields[number]
        decoded = _decode_proto_value(value, kind.lstrip("*"))
        if kind.startswith("map:"):
            out.setdefault(name, {}).update(decoded)
        elif kind.startswith("*"):
            out.setdefault(name, []).append(decoded)
        elif decoded != "":  # gogo protobuf writes empty strings that JSON would omit
            out[name] = decoded
    return out


def decode_k8s_protobuf(body: bytes) -> dict:
    """Decode a `k8s\\0`-prefixed runtime.Unknown envelope into the equivalent JSON object."""
    if not body.startswith(b"k8s\x00"):
        raise bad_request("the body of the request was in an unknown format")
    envelope = dict(_proto_fields(body[4:]))
    type_meta = dict(_proto_fields(envelope.get(1, b"")))
    api_version, kind = type_meta.get(1, b"").decode(), type_meta.get(2, b"").decode()
    if kind not in PROTO_MESSAGES:
        raise ApiError(415, "UnsupportedMediaType", f"kube emulator cannot decode protobuf {kind}; "
                       f"send JSON instead (e.g. kubectl create -f / kubectl apply -f)")
    return {"apiVersion": api_version, "kind": kind, **_decode_proto_message(envelope.get(2, b""), kind)}


# --------------------------------------------------------------------------- identity webhooks

def _add_env(container: dict, name: str, value: str) -> None:
    env = container.setdefault("env", [])
    if not any(e.get("name") == name for e in env):
        env.append({"name": name, "value": value})


def _env_names(container: dict) -> set:
    return {e.get("name") for e in container.get("env", [])}


def _add_aws_common_env(container: dict, region: str) -> None:
    _add_env(container, "AWS_STS_REGIONAL_ENDPOINTS", "regional")
    # The EKS webhooks leave region alone when the workload already chose one.
    if not _env_names(container) & {"AWS_REGION", "AWS_DEFAULT_REGION"}:
        _add_env(container, "AWS_DEFAULT_REGION", region)
        _add_env(container, "AWS_REGION", region)


def _add_token_volume(pod: dict, name: str, audience: str, path: str, mount_path: str, expiration: int) -> None:
    spec = pod.setdefault("spec", {})
    volumes = spec.setdefault("volumes", [])
    if not any(v.get("name") == name for v in volumes):
        volumes.append({"name": name, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"audience": audience, "expirationSeconds": expiration, "path": path}}]}})
    for container in _all_containers(pod):
        mounts = container.setdefault("volumeMounts", [])
        if not any(m.get("name") == name or m.get("mountPath") == mount_path for m in mounts):
            mounts.append({"mountPath": mount_path, "name": name, "readOnly": True})


def _all_containers(pod: dict) -> list:
    spec = pod.get("spec", {})
    return spec.get("initContainers", []) + spec.get("containers", [])


def apply_identity_webhooks(pod: dict, service_account: dict | None, *, pod_identity: bool, region: str) -> None:
    """Mutate a pod being created the way the EKS Pod Identity and IRSA webhooks do (Azure: see
    apply_azure_wi_webhook, which only runs where its MutatingWebhookConfiguration is installed)."""
    annotations = (service_account or {}).get("metadata", {}).get("annotations") or {}
    if pod_identity:  # an association wins: such pods get the Pod Identity variables and never IRSA's
        for container in _all_containers(pod):
            _add_aws_common_env(container, region)
            _add_env(container, "AWS_CONTAINER_CREDENTIALS_FULL_URI", EKS_POD_IDENTITY_URI)
            _add_env(container, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                     f"{EKS_POD_IDENTITY_DIR}/eks-pod-identity-token")
        _add_token_volume(pod, "eks-pod-identity-token", "pods.eks.amazonaws.com",
                          "eks-pod-identity-token", EKS_POD_IDENTITY_DIR, 86400)
    elif "eks.amazonaws.com/role-arn" in annotations:
        for container in _all_containers(pod):
            has_role_env = bool(_env_names(container) & {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"})
            _add_aws_common_env(container, region)
            if not has_role_env:
                _add_env(container, "AWS_ROLE_ARN", annotations["eks.amazonaws.com/role-arn"])
                _add_env(container, "AWS_WEB_IDENTITY_TOKEN_FILE", f"{IRSA_DIR}/token")
        _add_token_volume(pod, "aws-iam-token", annotations.get("eks.amazonaws.com/audience", "sts.amazonaws.com"),
                          "token", IRSA_DIR, 86400)


class WebhookDenied(Exception):
    """A webhook refused the object (admission.Errored): the apiserver answers 400 with
    `admission webhook "<name>" denied the request: <message>` and no reason."""

    def __init__(self, webhook: str, message: str):
        super().__init__(message)
        self.webhook = webhook

    def api_error(self) -> ApiError:
        return ApiError(400, "", f'admission webhook "{self.webhook}" denied the request: {self}')


def webhook_version(version: str) -> tuple:
    """(major, minor, patch) of a webhook image tag such as `v1.6.0`, `v1.5.1-20` (AKS add-on builds)
    or `v1.6.0-alpha.1`; ValueError when it is none of these."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?", str(version).strip())
    if not m:
        raise ValueError(f"not a webhook version: {version!r}")
    return int(m[1]), int(m[2]), int(m[3] or 0)


def azure_wi_layout(version: str, pod_name: str) -> dict:
    """Where the Azure WI webhook of `version` puts the token: volume name, mount path, the path inside
    the projected volume, and the file (= AZURE_FEDERATED_TOKEN_FILE). `pod_name` is the name the
    webhook saw at admission: the pod's name, or `<generateName> (prefix)` for a pod that has none yet
    (every controller-created pod)."""
    if webhook_version(version) < (1, 6, 0):
        return {"volume": "azure-identity-token", "mountPath": AZURE_TOKEN_DIR, "path": "azure-identity-token",
                "file": f"{AZURE_TOKEN_DIR}/azure-identity-token"}
    # buildVolumeName: sha256 hex truncated so that the name stays within 63 characters.
    digest = hashlib.sha256(pod_name.encode()).hexdigest()[:63 - len(AZURE_RESERVED_VOLUME_PREFIX)]
    return {"volume": AZURE_RESERVED_VOLUME_PREFIX + digest, "mountPath": AZURE_WI_DIR,
            "path": "token/azure-identity-token", "file": f"{AZURE_WI_DIR}/token/azure-identity-token"}


def label_selector_matches(selector: dict | None, labels: dict) -> bool:
    """metav1.LabelSelector semantics: matchLabels and matchExpressions (In, NotIn, Exists,
    DoesNotExist) all hold; an empty or missing selector matches everything."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, op, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if not {"In": lambda: labels.get(key) in values, "NotIn": lambda: labels.get(key) not in values,
                "Exists": lambda: key in labels, "DoesNotExist": lambda: key not in labels}.get(op, lambda: False)():
            return False
    return True


def find_azure_wi_webhook(configurations: list) -> dict | None:
    """The `mutation.azure-workload-identity.io` entry of the first MutatingWebhookConfiguration
    that has one, or None (the webhook is not installed: workload identity is off on the cluster)."""
    for configuration in configurations:
        for webhook in configuration.get("webhooks") or []:
            if webhook.get("name") == AZURE_WI_WEBHOOK:
                return webhook
    return None


def azure_wi_webhook_selects(webhook: dict, pod_labels: dict, namespace_labels: dict) -> bool:
    """Whether the apiserver sends the pod to this webhook entry: its objectSelector against the pod's
    labels (an entry without one gets the chart's `azure.workload.identity/use: "true"`) and its
    namespaceSelector against the namespace's labels. Rules are taken as the chart's (CREATE pods)."""
    object_selector = webhook["objectSelector"] if "objectSelector" in webhook else AZURE_WI_OBJECT_SELECTOR
    return label_selector_matches(object_selector, pod_labels) and \
        label_selector_matches(webhook.get("namespaceSelector"), namespace_labels)


def apply_azure_wi_webhook(pod: dict, service_account: dict | None, *, version: str = AZURE_WEBHOOK_VERSION,
                           tenant_id: str = "", pod_name: str | None = None) -> None:
    """Mutate a pod the apiserver sent to the Azure WI webhook (podMutator.Handle), reading the
    ServiceAccount as it is now. Every container, init containers included, minus those named in the
    pod's `azure.workload.identity/skip-containers` (`;`-separated), gets AZURE_CLIENT_ID (SA
    annotation), AZURE_TENANT_ID (SA annotation when present, else `tenant_id`, the webhook's
    configured tenant), AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST, each only when the
    name is missing and the value non-empty, and a read-only mount of the projected token volume
    (the pod gets the volume even when every container is skipped). Raises WebhookDenied for a token expiration
    (pod annotation, else SA annotation) that is not an integer in 3600..86400.
    `pod_name`: the name at admission (see azure_wi_layout); default the pod's name, else
    `<generateName> (prefix)`."""
    meta = pod.get("metadata") or {}
    sa_annotations = ((service_account or {}).get("metadata") or {}).get("annotations") or {}
    pod_annotations = meta.get("annotations") or {}
    if pod_name is None:
        pod_name = meta.get("name") or f"{meta.get('generateName', '')} (prefix)"
    key = "azure.workload.identity/service-account-token-expiration"
    raw = pod_annotations.get(key) or sa_annotations.get(key) or "3600"
    try:
        expiration = int(raw, 10)
    except ValueError:
        raise WebhookDenied(AZURE_WI_WEBHOOK, f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None
    if not 3600 <= expiration <= 86400:
        raise WebhookDenied(AZURE_WI_WEBHOOK, f"token expiration {expiration} not valid. Expected value to be "
                            "between 3600 and 86400")
    layout = azure_wi_layout(version, pod_name)
    tenant = sa_annotations.get("azure.workload.identity/tenant-id", tenant_id)
    skip = {c.strip() for c in pod_annotations.get("azure.workload.identity/skip-containers", "").split(";")} \
        if pod_annotations.get("azure.workload.identity/skip-containers") else set()
    wanted = [("AZURE_CLIENT_ID", sa_annotations.get("azure.workload.identity/client-id", "")),
              ("AZURE_TENANT_ID", tenant), ("AZURE_FEDERATED_TOKEN_FILE", layout["file"]),
              ("AZURE_AUTHORITY_HOST", AZURE_AUTHORITY_HOST)]
    new_layout = layout["mountPath"] == AZURE_WI_DIR
    mount = {"mountPath": layout["mountPath"], "name": layout["volume"], "readOnly": True}
    for container in _all_containers(pod):
        if container.get("name") in skip:
            continue
        for name, value in wanted:
            if value:
                _add_env(container, name, value)
        mounts = container.setdefault("volumeMounts", [])
        index = next((i for i, m in enumerate(mounts) if m.get("name") == layout["volume"]), None)
        if index is None:
            mounts.append(dict(mount))
        elif new_layout:  # v1.6 overwrites a mount of its volume; v1.5 leaves it alone
            mounts[index] = dict(mount)
    volume = {"name": layout["volume"], "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {
        "audience": AZURE_AUDIENCE, "expirationSeconds": expiration, "path": layout["path"]}}]}}
    volumes = pod.setdefault("spec", {}).setdefault("volumes", [])
    if new_layout:  # replaced when a volume of that name exists
        index = next((i for i, v in enumerate(volumes) if v.get("name") == layout["volume"]), None)
        if index is None:
            volumes.append(volume)
        else:
            volumes[index] = volume
    elif not any(s.get("serviceAccountToken", {}).get("path") == layout["path"]
                 for v in volumes for s in (v.get("projected") or {}).get("sources", [])):
        volumes.append(volume)  # v1.5 skips it when any projected token already has that path


# --------------------------------------------------------------------------- tables

def _pod_cells(pod: dict) -> dict:
    status = pod.get("status", {})
    statuses = status.get("containerStatuses", [])
    waiting = [s["state"]["waiting"].get("reason") for s in statuses if "waiting" in s.get("state", {})]
    phase = "Terminating" if pod["metadata"].get("deletionTimestamp") else (
        (waiting and waiting[0]) or status.get("reason") or status.get("phase", "Pending"))
    return {
        "Ready": f"{sum(1 for s in statuses if s.get('ready'))}/{len(pod.get('spec', {}).get('containers', []))}",
        "Status": phase,
        "Restarts": str(sum(s.get("restartCount", 0) for s in statuses)),
        "IP": status.get("podIP", "<none>"),
        "Node": pod.get("spec", {}).get("nodeName", "<none>"),
    }


def _deployment_cells(deploy: dict) -> dict:
    status, spec = deploy.get("status", {}), deploy.get("spec", {})
    return {"Ready": f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            "Up-to-date": status.get("updatedReplicas", 0), "Available": status.get("availableReplicas", 0)}


# (column, type, priority) per kind; priority 1 columns only show with `-o wide`.
TABLE_COLUMNS = {
    "Pod": ([("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0)],
            [("IP", "string", 1), ("Node", "string", 1)], _pod_cells),
    "Deployment": ([("Ready", "string", 0), ("Up-to-date", "integer", 0), ("Available", "integer", 0)], [],
                   _deployment_cells),
    "Namespace": ([("Status", "string", 0)], [],
                  lambda ns: {"Status": ns.get("status", {}).get("phase", "Active")}),
    "MutatingWebhookConfiguration": ([("Webhooks", "integer", 0)], [],
                                     lambda o: {"Webhooks": len(o.get("webhooks") or [])}),
    "ValidatingWebhookConfiguration": ([("Webhooks", "integer", 0)], [],
                                       lambda o: {"Webhooks": len(o.get("webhooks") or [])}),
}


def build_table(rt: ResourceType, objects: list, include_object: str, resource_version: str) -> dict:
    """A meta.k8s.io/v1 Table, which is what `kubectl get` without `-o` asks for."""
    before, after, cells_of = TABLE_COLUMNS.get(rt.kind, ([], [], lambda _obj: {}))
    columns = [("Name", "string", 0)] + before + [("Age", "string", 0)] + after
    rows = []
    for obj in objects:
        cells = {**cells_of(obj), "Name": obj["metadata"]["name"],
                 "Age": human_age(obj["metadata"].get("creationTimestamp"))}
        row = {"cells": [cells[name] for name, _, _ in columns]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj["metadata"]}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": [{"name": name, "type": kind, "format": "name" if name == "Name" else "",
                                   "description": "", "priority": priority} for name, kind, priority in columns],
            "rows": rows}


# --------------------------------------------------------------------------- registry

def _version_priority(version: str) -> tuple:
    """Kubernetes version ordering: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything else."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (0, 0, 0)
    return ({None: 3, "beta": 2, "alpha": 1}[m[2]], int(m[1]), int(m[3] or 0))


def crd_object_from_entry(entry: dict) -> dict:
    """Turn a scenario `crds` entry into a CustomResourceDefinition object."""
    versions = entry.get("versions") or [entry.get("version", "v1")]
    plural, group = entry["plural"], entry["group"]
    names = {"plural": plural, "singular": entry.get("singular", entry["kind"].lower()), "kind": entry["kind"],
             "listKind": f"{entry['kind']}List", "shortNames": entry.get("shortNames", []),
             "categories": entry.get("categories", [])}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "names": names, "scope": "Namespaced" if entry.get("namespaced", False) else "Cluster",
                 "versions": [{"name": v, "served": True, "storage": i == 0, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}
                              for i, v in enumerate(versions)]},
        "status": {"acceptedNames": names, "storedVersions": versions[:1],
                   "conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}]},
    }


def resource_types_from_crd(crd: dict) -> list:
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    return [ResourceType(spec["group"], v["name"], names["plural"], names["kind"], spec.get("scope") != "Cluster",
                         tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
                         singular=names.get("singular", ""), custom=True)
            for v in spec.get("versions", []) if v.get("served", True)]


class Registry:
    """Resource types by group/version/plural, and the discovery documents describing them."""

    def __init__(self):
        self._types: list = []
        for rt in BUILTIN_RESOURCES:
            self.add(rt)

    def add(self, rt: ResourceType) -> None:
        if not self.lookup(rt.group, rt.version, rt.plural):
            self._types.append(rt)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return next((t for t in self._types if (t.group, t.version, t.plural) == (group, version, plural)), None)

    def for_object(self, obj: dict) -> ResourceType | None:
        group, _, version = (obj.get("apiVersion") or "").rpartition("/")
        candidates = [t for t in self._types if t.group == group and t.kind == obj.get("kind")]
        return next((t for t in candidates if t.version == version), candidates[0] if candidates else None)

    def versions(self, group: str) -> list:
        found = {t.version for t in self._types if t.group == group}
        return sorted(found, key=_version_priority, reverse=True)

    def api_group(self, group: str) -> dict:
        versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in self.versions(group)]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    def group_list(self) -> dict:
        groups = list(dict.fromkeys(t.group for t in self._types if t.group))
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self.api_group(g) for g in groups]}

    def resource_list(self, group: str, version: str) -> dict:
        resources = [entry for t in self._types if (t.group, t.version) == (group, version)
                     for entry in t.discovery_entries()]
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version, "resources": resources}

    def aggregated(self, core: bool) -> dict:
        """apidiscovery.k8s.io/v2 APIGroupDiscoveryList: all of /api or /apis in one document."""
        groups = [""] if core else list(dict.fromkeys(t.group for t in self._types if t.group))
        items = [{"metadata": {"name": group, "creationTimestamp": None}, "versions": [
            {"version": version, "freshness": "Current",
             "resources": [_aggregated_resource(t) for t in self._types if (t.group, t.version) == (group, version)]}
            for version in self.versions(group)]} for group in groups]
        return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
                "items": items}

    def openapi_index(self) -> dict:
        paths = {}
        for group, version in dict.fromkeys((t.group, t.version) for t in self._types):
            gv_path = f"apis/{group}/{version}" if group else f"api/{version}"
            doc_hash = hashlib.sha512(json.dumps(self.openapi_document(group, version), sort_keys=True).encode())
            paths[gv_path] = {"serverRelativeURL": f"/openapi/v3/{gv_path}?hash={doc_hash.hexdigest()[:32].upper()}"}
        return {"paths": paths}

    def openapi_document(self, group: str, version: str) -> dict:
        """Just enough OpenAPI v3 for kubectl: each PATCH operation declares `fieldValidation`,
        so kubectl leaves validation to the server (which accepts anything) instead of needing
        schemas. Strategic merge is not declared, so `kubectl apply` builds strategic merge patches
        from its compiled-in types (built-ins) and JSON merge patches for custom resources."""
        paths = {}
        for t in self._types:
            if (t.group, t.version) != (group, version) or "patch" not in t.verbs:
                continue
            prefix = f"/apis/{t.group}/{t.version}" if t.group else f"/api/{t.version}"
            scope = "/namespaces/{namespace}" if t.namespaced else ""
            paths[f"{prefix}{scope}/{t.plural}/{{name}}"] = {"patch": {
                "x-kubernetes-group-version-kind": {"group": t.group, "version": t.version, "kind": t.kind},
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
                "requestBody": {"content": {c: {"schema": {"type": "object"}} for c in (
                    "application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")}},
                "responses": {"200": {"description": "OK"}}}}
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": SERVER_VERSION["gitVersion"]},
                "paths": paths, "components": {"schemas": {}}}


def _aggregated_resource(t: ResourceType) -> dict:
    kind = {"group": t.group, "version": t.version, "kind": t.kind}
    entry = {"resource": t.plural, "responseKind": kind, "scope": "Namespaced" if t.namespaced else "Cluster",
             "singularResource": t.singular or t.kind.lower(), "verbs": list(t.verbs)}
    if t.short_names:
        entry["shortNames"] = list(t.short_names)
    if t.categories:
        entry["categories"] = list(t.categories)
    subresources = [("status", kind)] if t.has_status and "get" in t.verbs else []
    if t.scalable:
        subresources.append(("scale", {"group": "autoscaling", "version": "v1", "kind": "Scale"}))
    if subresources:
        entry["subresources"] = [{"subresource": name, "responseKind": response_kind,
                                  "verbs": ["get", "patch", "update"]} for name, response_kind in subresources]
    return entry


# --------------------------------------------------------------------------- custom resource validation

# What a real apiserver enforces from the structural schemas of the CRDs the tests use
# (Crossplane v2.3.4 pkg.crossplane.io, provider-upjet-aws v2.6.0 and provider-upjet-azure v2.7.0
# ProviderConfigs), restated
# as a small table: required fields, JSON types, enums and the date-time format. Anything a
# schema here does not mention is accepted as is. Not modelled: pruning of unknown fields,
# defaulting (e.g. a Provider's runtimeConfigRef defaults to {name: default}), CEL rules
# (x-kubernetes-validations) and validation ratcheting on update.

def _obj(*required: str, **properties) -> dict:
    return {"type": "object", "required": required, "properties": properties}


def _arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def _enum(*values: str) -> dict:
    return {"type": "string", "enum": values}


_STR, _BOOL, _INT = {"type": "string"}, {"type": "boolean"}, {"type": "integer"}
_STR_MAP = {"type": "object", "additionalProperties": _STR}
_TIME = {"type": "string", "format": "date-time"}
# Crossplane's (and upjet's) condition type: all four are required.
_CONDITIONS = _arr(_obj("lastTransitionTime", "reason", "status", "type", type=_STR, status=_STR, reason=_STR,
                        message=_STR, lastTransitionTime=_TIME, observedGeneration=_INT))
_REF = _obj("name", apiVersion=_STR, kind=_STR, name=_STR)
_PACKAGE_SPEC = dict(package=_STR, packagePullPolicy=_STR, packagePullSecrets=_arr(_obj(name=_STR)),
                     revisionActivationPolicy=_STR, revisionHistoryLimit=_INT, ignoreCrossplaneConstraints=_BOOL,
                     skipDependencyResolution=_BOOL, commonLabels=_STR_MAP, commonAnnotations=_STR_MAP)
_PACKAGE_STATUS = _obj(conditions=_CONDITIONS, currentRevision=_STR, currentIdentifier=_STR, resolvedPackage=_STR,
                       appliedImageConfigRefs=_arr(_obj("name", "reason", name=_STR, reason=_STR)))
_REVISION = _obj(spec=_obj("desiredState", "image", "revision", desiredState=_STR, image=_STR, revision=_INT,
                           runtimeConfigRef=_REF, skipDependencyResolution=_BOOL, ignoreCrossplaneConstraints=_BOOL),
                 status=_obj(conditions=_CONDITIONS,
                             objectRefs=_arr(_obj("apiVersion", "kind", "name", apiVersion=_STR, kind=_STR, name=_STR))))
_TEMPLATE_META = _obj(name=_STR, labels=_STR_MAP, annotations=_STR_MAP)
# A DeploymentRuntimeConfig's deploymentTemplate.spec is a DeploymentSpec: selector and template
# are required, and so are the pod template's containers (each with a name).
_DEPLOYMENT_TEMPLATE = _obj(metadata=_TEMPLATE_META, spec=_obj(
    "selector", "template", replicas=_INT, selector=_obj(matchLabels=_STR_MAP),
    template=_obj(metadata=_obj(name=_STR, namespace=_STR, labels=_STR_MAP, annotations=_STR_MAP),
                  spec=_obj("containers", serviceAccountName=_STR, containers=_arr(_obj(
                      "name", name=_STR, image=_STR, args=_arr(_STR),
                      env=_arr(_obj("name", name=_STR, value=_STR))))))))
_SECRET_KEY = _obj("key", "name", "namespace", key=_STR, name=_STR, namespace=_STR)
_WEB_IDENTITY = _obj(roleARN=_STR, roleSessionName=_STR, tokenConfig=_obj(
    "source", source=_enum("Secret", "Filesystem"), fs=_obj("path", path=_STR), secretRef=_SECRET_KEY))
_AWS_PROVIDER_CONFIG = _obj(
    "spec",
    spec=_obj("credentials",
              credentials=_obj("source", source=_enum("None", "Secret", "IRSA", "WebIdentity", "PodIdentity", "Upbound"),
                               env=_obj("name", name=_STR), fs=_obj("path", path=_STR), secretRef=_SECRET_KEY,
                               webIdentity=_WEB_IDENTITY, upbound=_obj(webIdentity=_WEB_IDENTITY)),
              assumeRoleChain=_arr(_obj(roleARN=_STR, externalID=_STR, transitiveTagKeys=_arr(_STR),
                                        tags=_arr(_obj("key", "value", key=_STR, value=_STR)))),
              endpoint=_obj("url", source=_enum("ServiceMetadata", "Custom"), hostnameImmutable=_BOOL,
                            partitionId=_STR, services=_arr(_STR), signingMethod=_STR, signingName=_STR,
                            signingRegion=_STR,
                            url=_obj("type", type=_enum("Static", "Dynamic", "Auto"), static=_STR,
                                     dynamic=_obj("host", "protocol", host=_STR, protocol=_enum("http", "https")))),
              s3_use_path_style=_BOOL, skip_credentials_validation=_BOOL, skip_metadata_api_check=_BOOL,
              skip_region_validation=_BOOL, skip_requesting_account_id=_BOOL),
    status=_obj(conditions=_CONDITIONS, users=_INT))

# provider-upjet-azure v2.x ProviderConfigSpec (apis/cluster and apis/namespaced v1beta1 types.go): the
# credentials (source enum plus the common selectors) are required; clientID, subscriptionID, tenantID,
# msiEndpoint, environment, oidcTokenFilePath and storageUseAzureAD are optional top-level spec fields.
# The real CRDs are not in this repository, so fields the types do not document (e.g. `features`) are
# left unchecked, as everything a schema here does not mention is.
_AZURE_PROVIDER_CONFIG = _obj(
    "spec",
    spec=_obj("credentials",
              credentials=_obj("source", source=_enum("None", "Secret", "UserAssignedManagedIdentity",
                                                      "SystemAssignedManagedIdentity", "OIDCTokenFile", "Upbound",
                                                      "Filesystem"),
                               env=_obj("name", name=_STR), fs=_obj("path", path=_STR), secretRef=_SECRET_KEY),
              clientID=_STR, subscriptionID=_STR, tenantID=_STR, msiEndpoint=_STR, environment=_STR,
              oidcTokenFilePath=_STR, storageUseAzureAD=_BOOL),
    status=_obj(conditions=_CONDITIONS, users=_INT))

# provider-upjet-gcp ProviderConfigSpec (apis/cluster and apis/namespaced v1beta1 types.go @8da2207a5;
# azure-gke-flux-facts.md Q2.1): projectID and the credentials' source are required;
# credentials.impersonateServiceAccount.name is required when that block is present.
_GCP_PROVIDER_CONFIG = _obj(
    "spec",
    spec=_obj("credentials", "projectID",
              credentials=_obj("source", source=_enum("None", "Secret", "AccessToken", "ImpersonateServiceAccount",
                                                      "InjectedIdentity", "Environment", "Filesystem", "Upbound"),
                               env=_obj("name", name=_STR), fs=_obj("path", path=_STR), secretRef=_SECRET_KEY,
                               impersonateServiceAccount=_obj("name", name=_STR),
                               upbound=_obj(federation=_obj(providerID=_STR, serviceAccount=_STR))),
              projectID=_STR, userProjectOverride=_BOOL, billingProject=_STR),
    status=_obj(conditions=_CONDITIONS, users=_INT))

CRD_SCHEMAS = {
    ("pkg.crossplane.io", "Provider"): _obj(spec=_obj("package", runtimeConfigRef=_REF, **_PACKAGE_SPEC),
                                            status=_PACKAGE_STATUS),
    ("pkg.crossplane.io", "Function"): _obj(spec=_obj("package", runtimeConfigRef=_REF, **_PACKAGE_SPEC),
                                            status=_PACKAGE_STATUS),
    ("pkg.crossplane.io", "Configuration"): _obj(spec=_obj("package", **_PACKAGE_SPEC), status=_PACKAGE_STATUS),
    ("pkg.crossplane.io", "ProviderRevision"): _REVISION,
    ("pkg.crossplane.io", "FunctionRevision"): _REVISION,
    ("pkg.crossplane.io", "ConfigurationRevision"): _REVISION,
    ("pkg.crossplane.io", "DeploymentRuntimeConfig"): _obj(spec=_obj(
        deploymentTemplate=_DEPLOYMENT_TEMPLATE, serviceAccountTemplate=_obj(metadata=_TEMPLATE_META),
        serviceTemplate=_obj(metadata=_TEMPLATE_META))),
    ("pkg.crossplane.io", "ImageConfig"): _obj(spec=_obj(
        "matchImages",
        matchImages=_arr(_obj("prefix", prefix=_STR, type=_enum("Prefix"))),
        registry=_obj(authentication=_obj("pullSecretRef", pullSecretRef=_obj(name=_STR))),
        rewriteImage=_obj("prefix", prefix=_STR),
        runtime=_obj(configRef=_REF),
        verification=_obj("provider", provider=_enum("Cosign"), cosign=_obj("authorities", authorities=_arr(_obj(
            "name", name=_STR,
            key=_obj("hashAlgorithm", "secretRef", hashAlgorithm=_STR, secretRef=_obj("key", "name", key=_STR, name=_STR)),
            keyless=_obj("identities", identities=_arr({"type": "object"}), insecureIgnoreSCT=_BOOL),
            attestations=_arr(_obj("name", "predicateType", name=_STR, predicateType=_STR)))))))),
    ("aws.upbound.io", "ProviderConfig"): _AWS_PROVIDER_CONFIG,
    ("aws.m.upbound.io", "ProviderConfig"): _AWS_PROVIDER_CONFIG,
    ("aws.m.upbound.io", "ClusterProviderConfig"): _AWS_PROVIDER_CONFIG,
    ("azure.upbound.io", "ProviderConfig"): _AZURE_PROVIDER_CONFIG,
    ("azure.m.upbound.io", "ProviderConfig"): _AZURE_PROVIDER_CONFIG,
    ("azure.m.upbound.io", "ClusterProviderConfig"): _AZURE_PROVIDER_CONFIG,
    ("gcp.upbound.io", "ProviderConfig"): _GCP_PROVIDER_CONFIG,
    ("gcp.m.upbound.io", "ProviderConfig"): _GCP_PROVIDER_CONFIG,
    ("gcp.m.upbound.io", "ClusterProviderConfig"): _GCP_PROVIDER_CONFIG,
}
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def schema_errors(schema: dict, value, path: str) -> list:
    """FieldErrors for `value` at `path`, worded like the apiserver's OpenAPI validation.
    A null counts as absent: a real server prunes nulls of non-nullable fields first."""
    wanted, actual = schema.get("type"), _json_type(value)
    if wanted and actual != wanted and not (wanted == "number" and actual == "integer"):
        return [FieldError(path, "FieldValueTypeInvalid",
                           f'Invalid value: "{actual}": {path} in body must be of type {wanted}: "{actual}"')]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(json.dumps(v) for v in schema["enum"])
        errors.append(FieldError(path, "FieldValueNotSupported",
                                 f"Unsupported value: {json.dumps(value)}: supported values: {supported}"))
    if schema.get("format") == "date-time" and not _RFC3339.fullmatch(value):
        errors.append(FieldError(path, "FieldValueTypeInvalid", f'Invalid value: {json.dumps(value)}: {path} in body '
                                 f'must be of type date-time: {json.dumps(value)}'))
    if wanted == "object":
        prefix = f"{path}." if path else ""
        errors += [FieldError(prefix + name, "FieldValueRequired", "Required value")
                   for name in schema.get("required", ()) if value.get(name) is None]
        for name, child in value.items():
            child_schema = schema.get("properties", {}).get(name) or schema.get("additionalProperties")
            if child_schema and child is not None:
                errors += schema_errors(child_schema, child, prefix + name)
    elif wanted == "array" and "items" in schema:
        for index, item in enumerate(value):
            if item is not None:
                errors += schema_errors(schema["items"], item, f"{path}[{index}]")
    return errors


def validate_object(rt: ResourceType, obj: dict) -> None:
    """Raise the 422 a real server answers when `obj` breaks its CRD's schema (see CRD_SCHEMAS)."""
    schema = CRD_SCHEMAS.get((rt.group, rt.kind))
    errors = schema_errors(schema, _without(obj, "apiVersion", "kind", "metadata"), "") if schema else []
    if errors:
        raise invalid(rt.group, rt.kind, (obj.get("metadata") or {}).get("name", ""), errors)


# --------------------------------------------------------------------------- cluster state

def _meta(obj: dict) -> dict:
    return obj.setdefault("metadata", {})


def _without(obj: dict, *keys: str) -> dict:
    return {k: v for k, v in obj.items() if k not in keys}


def _random_suffix(length: int) -> str:
    # Same alphabet as apimachinery's rand.String (no vowels, no confusable characters).
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(length))


class Cluster:
    """Object store plus the controllers and admission webhooks that matter for workload identity."""

    def __init__(self, scenario: dict):
        self.lock = threading.RLock()
        self.registry = Registry()
        self.scenario = scenario
        self._objects: dict = {}  # (group, plural, namespace or "", name) -> object
        self._rv = 0
        self._current_rs: dict = {}  # (namespace, deployment) -> name of the ReplicaSet owning its pods
        try:
            webhook_version(self.azure_webhook_config()["version"])
        except ValueError as error:
            raise ScenarioError(f"azureWebhook.version: {error}") from None
        given = scenario.get("objects", [])
        given_crd_names = {o["metadata"]["name"] for o in given if o.get("kind") == "CustomResourceDefinition"}
        self.put_objects([c for c in map(crd_object_from_entry, scenario.get("crds", []))
                          if c["metadata"]["name"] not in given_crd_names])
        # CRDs first so that custom objects in the same list can be resolved.
        self.put_objects(sorted(given, key=lambda o: o.get("kind") != "CustomResourceDefinition"))

    # -- low level store

    def _rt(self, kind: str, group: str = "") -> ResourceType:
        return next(t for t in BUILTIN_RESOURCES if (t.group, t.kind) == (group, kind))

    def _key(self, rt: ResourceType, ns: str | None, name: str) -> tuple:
        return (rt.group, rt.plural, ns or "", name)

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _store(self, rt: ResourceType, obj: dict) -> dict:
        meta = _meta(obj)
        meta["resourceVersion"] = self._next_rv()
        self._objects[self._key(rt, meta.get("namespace"), meta["name"])] = obj
        return obj

    def _find(self, rt: ResourceType, ns: str | None = None) -> list:
        return [o for (g, p, n, _), o in sorted(self._objects.items())
                if (g, p) == (rt.group, rt.plural) and (ns is None or n == ns)]

    def _present(self, rt: ResourceType, obj: dict) -> dict:
        """A copy as served at the requested version (objects are stored version-agnostic)."""
        return {"apiVersion": rt.api_version, "kind": rt.kind, **_without(copy.deepcopy(obj), "apiVersion", "kind")}

    def namespace_exists(self, ns: str) -> bool:
        return self._key(self._rt("Namespace"), None, ns) in self._objects

    # -- seeding (scenario objects and the control API: stored as-is, no admission, no controllers)

    def put_objects(self, objects: list) -> None:
        with self.lock:
            for given in objects:
                obj = copy.deepcopy(given)
                rt = self.registry.for_object(obj)
                if rt is None:
                    raise ScenarioError(f"no resource is registered for apiVersion={obj.get('apiVersion')!r} "
                                        f"kind={obj.get('kind')!r}; add it to the scenario's `crds`")
                meta = _meta(obj)
                if not meta.get("name"):
                    raise ScenarioError(f"{obj.get('kind')} object without metadata.name")
                if rt.namespaced:
                    meta.setdefault("namespace", "default")
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", now_rfc3339())
                if rt.tracks_generation:
                    meta.setdefault("generation", 1)
                try:
                    validate_object(rt, obj)
                except ApiError as error:  # a real server would never have stored it
                    raise ScenarioError(f"invalid scenario object: {error.message}") from None
                self._store(rt, obj)
                if rt.kind == "CustomResourceDefinition":
                    for crd_type in resource_types_from_crd(obj):
                        self.registry.add(crd_type)
            self._ensure_namespaces()
            self._adopt_existing_pods()

    def _ensure_namespaces(self) -> None:
        """Namespaces referenced by objects exist implicitly, like on any real cluster."""
        wanted = {"default", "kube-system"} | {k[2] for k in self._objects if k[2]}
        ns_rt = self._rt("Namespace")
        for ns in sorted(wanted):
            if not self.namespace_exists(ns):
                self._store(ns_rt, {"apiVersion": "v1", "kind": "Namespace", "metadata": {
                    "name": ns, "uid": str(uuid.uuid4()), "creationTimestamp": now_rfc3339(),
                    "labels": {"kubernetes.io/metadata.name": ns}}, "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"}})

    def _adopt_existing_pods(self) -> None:
        """Remember which ReplicaSet owns a seeded Deployment's pods, so scaling it keeps them."""
        for deploy in self._find(self._rt("Deployment", "apps")):
            key = (deploy["metadata"]["namespace"], deploy["metadata"]["name"])
            owners = [self._owner_rs(p) for p in self._pods_of(deploy)]
            if key not in self._current_rs and owners:
                self._current_rs[key] = owners[-1]

    def objects(self, kind: str | None = None) -> list:
        with self.lock:
            return [copy.deepcopy(o) for _, o in sorted(self._objects.items()) if kind in (None, o.get("kind"))]

    # -- API operations (raise ApiError)

    def list(self, rt: ResourceType, ns: str | None, label_selector: str = "", field_selector: str = ""):
        labels_match, fields_match = parse_label_selector(label_selector), parse_field_selector(field_selector)
        with self.lock:
            items = [self._present(rt, o) for o in self._find(rt, ns)]
            rv = str(self._rv)
        return [o for o in items if labels_match(o["metadata"].get("labels") or {}) and fields_match(o)], rv

    def exists(self, rt: ResourceType, ns: str | None, name: str) -> bool:
        with self.lock:
            return self._key(rt, ns, name) in self._objects

    def get(self, rt: ResourceType, ns: str | None, name: str) -> dict:
        with self.lock:
            obj = self._objects.get(self._key(rt, ns, name))
            if obj is None:
                raise not_found(rt, name)
            return self._present(rt, obj)

    def create(self, rt: ResourceType, ns: str | None, body: dict, dry_run: bool, manager: str | None,
               operation: str = "Update") -> dict:
        obj = copy.deepcopy(body)
        meta = _meta(obj)
        named = bool(meta.get("name"))
        if not named and meta.get("generateName"):
            meta["name"] = meta["generateName"] + _random_suffix(5)
        if not meta.get("name"):
            raise invalid(rt.group, rt.kind, "", [FieldError("metadata.name", "FieldValueRequired",
                                                             "Required value: name or generateName is required")])
        if rt.namespaced:
            if meta.get("namespace", ns) != ns:
                raise bad_request("the namespace of the provided object does not match the namespace sent "
                                  "on the request")
            meta["namespace"] = ns
        with self.lock:
            if rt.namespaced and not self.namespace_exists(ns):
                raise namespace_not_found(ns)
            if self._key(rt, ns, meta["name"]) in self._objects:
                raise already_exists(rt, meta["name"])
            obj = self._present(rt, obj)
            self._prepare_for_create(rt, obj, manager, operation, named)
            validate_object(rt, obj)
            if dry_run:
                return obj
            self._store(rt, obj)
            self._after_write(rt, None, obj)
            return self._present(rt, obj)

    def _prepare_for_create(self, rt: ResourceType, obj: dict, manager: str | None, operation: str = "Update",
                            named: bool = True) -> None:
        """`named=False`: the name was generated from generateName, which the apiserver does after
        admission, so the webhooks saw a pod without a name."""
        meta = _meta(obj)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339())
        if rt.tracks_generation:
            meta["generation"] = 1
        if rt.has_status:
            obj.pop("status", None)  # status is owned by controllers, like the real strategies do
        if rt.kind == "Namespace":
            obj["status"] = {"phase": "Active"}
        if rt.kind == "Pod":
            self._admit_pod(obj, named)
            self._run_pod(obj)
        _record_manager(obj, manager, operation)

    def update(self, rt, ns, name, body: dict, dry_run: bool, manager: str | None, subresource: str = "") -> dict:
        with self.lock:
            old = self._objects.get(self._key(rt, ns, name))
            if old is None:
                raise not_found(rt, name)
            sent_rv = (body.get("metadata") or {}).get("resourceVersion")
            if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {rt.qualified} "{name}": the object '
                               "has been modified; please apply your changes to the latest version and try again",
                               _details(rt, name))
            return self._write(rt, old, body, dry_run, manager, "Update", subresource)

    def patch(self, rt, ns, name, patch_type: str, patch, dry_run: bool, manager: str | None,
              subresource: str = "") -> dict:
        if patch_type == "application/strategic-merge-patch+json" and rt.custom:
            raise unsupported_patch_type()  # CRDs have no patch strategy metadata
        with self.lock:
            old = self._objects.get(self._key(rt, ns, name))
            if patch_type == "application/apply-patch+yaml":
                if not manager:
                    raise invalid("meta.k8s.io", "PatchOptions", "", [FieldError(
                        "fieldManager", "FieldValueRequired", "Required value: is required for apply patch")])
                if old is None:  # server-side apply creates missing objects
                    body = {**patch, "metadata": {**(patch.get("metadata") or {}), "name": name}}
                    return self.create(rt, ns, body, dry_run, manager, "Apply")
            if old is None:
                raise not_found(rt, name)
            patched = apply_patch(self._present(rt, old), patch_type, patch)
            operation = "Apply" if patch_type == "application/apply-patch+yaml" else "Update"
            return self._write(rt, old, patched, dry_run, manager, operation, subresource)

    def _write(self, rt, old: dict, new: dict, dry_run: bool, manager, operation: str, subresource: str) -> dict:
        if subresource == "status":  # the status endpoint only changes status
            new = {**copy.deepcopy(old), "status": copy.deepcopy(new.get("status"))}
        elif rt.has_status:  # and the main endpoint never does
            new = {**_without(new, "status"), **({"status": copy.deepcopy(old["status"])} if "status" in old else {})}
        new = self._present(rt, new)
        meta, old_meta = _meta(new), old["metadata"]
        for field in ("name", "namespace", "uid", "creationTimestamp", "resourceVersion", "generation"):
            if field in old_meta:
                meta[field] = old_meta[field]
        ignored = ("apiVersion", "kind", "metadata", "status")
        if rt.tracks_generation and _without(new, *ignored) != _without(old, *ignored):
            meta["generation"] = old_meta.get("generation", 1) + 1
        _record_manager(new, manager, operation)
        validate_object(rt, new)
        if dry_run:
            return new
        self._store(rt, new)
        self._after_write(rt, old, new)
        return self._present(rt, new)

    def delete(self, rt: ResourceType, ns: str | None, name: str, dry_run: bool) -> dict:
        with self.lock:
            key = self._key(rt, ns, name)
            if key not in self._objects:
                raise not_found(rt, name)
            obj = self._present(rt, self._objects[key])
            if not dry_run:
                del self._objects[key]
                self._after_delete(rt, obj)
            return obj

    # -- admission

    def _admit_pod(self, pod: dict, named: bool = True) -> None:
        """Webhooks only mutate at CREATE, reading the ServiceAccount as it is right now. The EKS
        webhooks are always there; the Azure WI webhook only while a MutatingWebhookConfiguration
        with its entry is stored (see apply_azure_wi_webhook). Raises the 400 of a denial."""
        spec = pod.setdefault("spec", {})
        spec.setdefault("serviceAccountName", spec.get("serviceAccount", "default"))
        spec["serviceAccount"] = spec["serviceAccountName"]
        ns = pod["metadata"]["namespace"]
        sa = self._objects.get(self._key(self._rt("ServiceAccount"), ns, spec["serviceAccountName"]))
        associations = self.scenario.get("podIdentityAssociations") or []
        pod_identity = any(a.get("namespace") == ns and a.get("serviceAccount") == spec["serviceAccountName"]
                           for a in associations)
        azure = find_azure_wi_webhook(self._find(self._rt("MutatingWebhookConfiguration", "admissionregistration.k8s.io")))
        if azure is not None:
            namespace = self._objects.get(self._key(self._rt("Namespace"), None, ns)) or {}
            if azure_wi_webhook_selects(azure, pod["metadata"].get("labels") or {},
                                        namespace.get("metadata", {}).get("labels") or {}):
                meta = pod["metadata"]
                config = self.azure_webhook_config()
                try:
                    apply_azure_wi_webhook(pod, sa, version=config["version"], tenant_id=config["tenantId"],
                                           pod_name=meta["name"] if named else f"{meta.get('generateName', '')} (prefix)")
                except WebhookDenied as denied:
                    raise denied.api_error() from None
        apply_identity_webhooks(pod, sa, pod_identity=pod_identity, region=self.scenario.get("region", "us-east-2"))

    def azure_webhook_config(self) -> dict:
        """The scenario's `azureWebhook` with defaults: version v1.6.0, tenantId from `azureTenantId`."""
        given = self.scenario.get("azureWebhook") or {}
        return {"version": given.get("version") or AZURE_WEBHOOK_VERSION,
                "tenantId": given.get("tenantId", self.scenario.get("azureTenantId", ""))}

    def _run_pod(self, pod: dict) -> None:
        """What the scheduler and kubelet would do: bind to the first node and report Running/Ready."""
        nodes = self._find(self._rt("Node"))
        spec = pod["spec"]
        if nodes and not spec.get("nodeName"):
            spec["nodeName"] = nodes[0]["metadata"]["name"]
        now = now_rfc3339()
        pod["status"] = {
            "phase": "Running", "hostIP": "10.0.0.10", "startTime": now, "qosClass": "BestEffort",
            "podIP": f"10.244.{random.randint(0, 255)}.{random.randint(2, 254)}",
            "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now} for t in
                           ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "containerStatuses": [{"name": c.get("name"), "image": c.get("image", ""), "imageID": "",
                                   "containerID": f"containerd://{uuid.uuid4().hex}", "ready": True, "started": True,
                                   "restartCount": 0, "state": {"running": {"startedAt": now}}, "lastState": {}}
                                  for c in spec.get("containers", [])],
        }

    # -- controllers (run synchronously after API writes; never on seeded objects)

    def _after_write(self, rt: ResourceType, old: dict | None, new: dict) -> None:
        if rt.kind == "CustomResourceDefinition":
            for crd_type in resource_types_from_crd(new):
                self.registry.add(crd_type)
        if rt.kind == "Deployment" and (old is None or old.get("spec") != new.get("spec")):
            self._reconcile_deployment(new, rollout=old is None or
                                       old.get("spec", {}).get("template") != new.get("spec", {}).get("template"))

    def _after_delete(self, rt: ResourceType, obj: dict) -> None:
        meta = obj["metadata"]
        if rt.kind == "Namespace":
            for key in [k for k in self._objects if k[2] == meta["name"]]:
                del self._objects[key]
        elif rt.kind == "Deployment":  # garbage collection of the owned ReplicaSets and pods
            for pod in self._pods_of(obj):
                self._objects.pop(self._key(self._rt("Pod"), meta["namespace"], pod["metadata"]["name"]), None)
            for rs in self._replicasets_of(obj):
                self._objects.pop(self._key(self._rt("ReplicaSet", "apps"), meta["namespace"], rs["metadata"]["name"]))
            self._current_rs.pop((meta["namespace"], meta["name"]), None)
        elif rt.kind == "Pod":  # the ReplicaSet controller replaces deleted pods
            for (ns, deploy_name), rs_name in list(self._current_rs.items()):
                if ns == meta["namespace"] and self._owner_rs(obj) == rs_name:
                    deploy = self._objects.get(self._key(self._rt("Deployment", "apps"), ns, deploy_name))
                    if deploy:
                        self._scale_pods(deploy)

    @staticmethod
    def _owner_rs(pod: dict) -> str | None:
        return next((r.get("name") for r in pod["metadata"].get("ownerReferences", [])
                     if r.get("kind") == "ReplicaSet"), None)

    def _pods_of(self, deploy: dict) -> list:
        """Pods owned by one of the Deployment's ReplicaSets (named `<deployment>-<hash>`)."""
        pattern = re.compile(re.escape(deploy["metadata"]["name"]) + r"-[a-z0-9]+")
        return sorted((p for p in self._find(self._rt("Pod"), deploy["metadata"]["namespace"])
                       if pattern.fullmatch(self._owner_rs(p) or "")),
                      key=lambda p: p["metadata"].get("creationTimestamp", ""))

    def _replicasets_of(self, deploy: dict) -> list:
        return [rs for rs in self._find(self._rt("ReplicaSet", "apps"), deploy["metadata"]["namespace"])
                if any(r.get("kind") == "Deployment" and r.get("name") == deploy["metadata"]["name"]
                       for r in rs["metadata"].get("ownerReferences", []))]

    def _reconcile_deployment(self, deploy: dict, rollout: bool) -> None:
        key = (deploy["metadata"]["namespace"], deploy["metadata"]["name"])
        if rollout or key not in self._current_rs:
            self._rollout(deploy)
        self._scale_pods(deploy)

    def _rollout(self, deploy: dict) -> None:
        """A new template means a new ReplicaSet; the old pods go away (a Recreate-style rollout)."""
        meta, template = deploy["metadata"], deploy.get("spec", {}).get("template", {})
        pod_hash = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        rs_name = f"{meta['name']}-{pod_hash}"
        pod_rt, rs_rt = self._rt("Pod"), self._rt("ReplicaSet", "apps")
        for pod in self._pods_of(deploy):
            if self._owner_rs(pod) != rs_name:
                del self._objects[self._key(pod_rt, meta["namespace"], pod["metadata"]["name"])]
        existing = self._replicasets_of(deploy)
        revision = 1 + max((int(rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", 0))
                            for rs in existing), default=0)
        for rs in existing:
            rs = copy.deepcopy(rs)
            rs["spec"]["replicas"] = 0
            rs["status"] = {"replicas": 0, "observedGeneration": rs["metadata"].get("generation", 1)}
            self._store(rs_rt, rs)
        labels = {**(template.get("metadata", {}).get("labels") or {}), "pod-template-hash": pod_hash}
        rs_meta = {"name": rs_name, "namespace": meta["namespace"], "labels": labels,
                   "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                   "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"],
                                        "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]}
        old_rs = next((rs for rs in existing if rs["metadata"]["name"] == rs_name), None)
        rs_meta.update(uid=old_rs["metadata"]["uid"] if old_rs else str(uuid.uuid4()),
                       creationTimestamp=old_rs["metadata"]["creationTimestamp"] if old_rs else now_rfc3339(),
                       generation=1)
        pod_template = {**template, "metadata": {**template.get("metadata", {}), "labels": labels}}
        selector = {"matchLabels": {**deploy.get("spec", {}).get("selector", {}).get("matchLabels", {}),
                                    "pod-template-hash": pod_hash}}
        self._store(rs_rt, {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": rs_meta,
                            "spec": {"replicas": 0, "selector": selector, "template": pod_template}})
        self._current_rs[(meta["namespace"], meta["name"])] = rs_name
        meta.setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(revision)

    def _scale_pods(self, deploy: dict) -> None:
        meta, spec = deploy["metadata"], deploy.get("spec", {})
        ns, rs_name = meta["namespace"], self._current_rs[(meta["namespace"], meta["name"])]
        wanted = spec.get("replicas", 1)
        pods = [p for p in self._pods_of(deploy) if self._owner_rs(p) == rs_name]
        for pod in pods[wanted:]:
            del self._objects[self._key(self._rt("Pod"), ns, pod["metadata"]["name"])]
        failure = None
        running = min(len(pods), wanted)
        for _ in range(wanted - len(pods)):
            try:
                self._create_owned_pod(deploy, rs_name)
                running += 1
            except ApiError as error:  # e.g. a webhook denied it: the ReplicaSet reports FailedCreate
                failure = error.message
                break
        rs_key = self._key(self._rt("ReplicaSet", "apps"), ns, rs_name)
        if rs_key in self._objects:
            rs = copy.deepcopy(self._objects[rs_key])
            rs["spec"]["replicas"] = wanted
            rs["status"] = {"replicas": running, "fullyLabeledReplicas": running, "readyReplicas": running,
                            "availableReplicas": running, "observedGeneration": rs["metadata"].get("generation", 1)}
            if failure:
                rs["status"]["conditions"] = [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                               "message": failure, "lastTransitionTime": now_rfc3339()}]
            self._store(self._rt("ReplicaSet", "apps"), rs)
        deploy = copy.deepcopy(deploy)
        deploy["status"] = _deployment_status(deploy, wanted, rs_name) if failure is None else \
            _failed_deployment_status(deploy, wanted, running, rs_name, failure)
        self._store(self._rt("Deployment", "apps"), deploy)

    def _create_owned_pod(self, deploy: dict, rs_name: str) -> None:
        """A pod as the ReplicaSet controller creates it: from the template, with generateName
        `<replicaset>-` (so the webhooks see no name) and a name the apiserver then generates."""
        template = deploy.get("spec", {}).get("template", {})
        template_meta = template.get("metadata", {})
        rs = self._objects.get(self._key(self._rt("ReplicaSet", "apps"), deploy["metadata"]["namespace"], rs_name))
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": f"{rs_name}-{_random_suffix(5)}", "generateName": f"{rs_name}-",
            "namespace": deploy["metadata"]["namespace"],
            "labels": {**(template_meta.get("labels") or {}), "pod-template-hash": rs_name.rsplit("-", 1)[-1]},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
                                 "uid": rs["metadata"]["uid"] if rs else str(uuid.uuid4()),
                                 "controller": True, "blockOwnerDeletion": True}]},
            "spec": copy.deepcopy(template.get("spec", {}))}
        if template_meta.get("annotations"):
            pod["metadata"]["annotations"] = dict(template_meta["annotations"])
        self._prepare_for_create(self._rt("Pod"), pod, None, named=False)
        self._store(self._rt("Pod"), pod)


def _deployment_status(deploy: dict, replicas: int, rs_name: str) -> dict:
    """Everything `kubectl rollout status` checks, already converged."""
    now = now_rfc3339()
    return {"observedGeneration": deploy["metadata"].get("generation", 1), "replicas": replicas,
            "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                 "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                 "reason": "NewReplicaSetAvailable",
                 "message": f'ReplicaSet "{rs_name}" has successfully progressed.'}]}


def _failed_deployment_status(deploy: dict, wanted: int, running: int, rs_name: str, failure: str) -> dict:
    """The ReplicaSet could not create every pod (FailedCreate): `rollout status` keeps waiting.
    Available follows the default maxUnavailable of 25% (rounded down)."""
    now = now_rfc3339()
    available = running >= wanted - wanted // 4
    status = {"observedGeneration": deploy["metadata"].get("generation", 1), "replicas": running,
              "updatedReplicas": running, "readyReplicas": running, "availableReplicas": running,
              "unavailableReplicas": wanted - running, "conditions": [
                  {"type": "Available", "status": "True" if available else "False", "lastUpdateTime": now,
                   "lastTransitionTime": now,
                   "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                   "message": "Deployment has minimum availability." if available
                   else "Deployment does not have minimum availability."},
                  {"type": "Progressing", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                   "reason": "ReplicaSetUpdated", "message": f'ReplicaSet "{rs_name}" is progressing.'},
                  {"type": "ReplicaFailure", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                   "reason": "FailedCreate", "message": failure}]}
    if not running:
        for key in ("readyReplicas", "availableReplicas", "updatedReplicas"):
            status.pop(key)  # omitempty
    return status


def _record_manager(obj: dict, manager: str | None, operation: str) -> None:
    """Keep a managedFields entry per field manager so tests can see who wrote what."""
    if not manager:
        return
    entries = [e for e in _meta(obj).get("managedFields", [])
               if (e.get("manager"), e.get("operation")) != (manager, operation)]
    entries.append({"manager": manager, "operation": operation, "apiVersion": obj.get("apiVersion"),
                    "time": now_rfc3339(), "fieldsType": "FieldsV1", "fieldsV1": {}})
    _meta(obj)["managedFields"] = entries


# --------------------------------------------------------------------------- HTTP semantics

@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict  # lower-cased names
    body: bytes
    user: str = ""  # who the request authenticated as (set by Api.handle)

    def json_body(self):
        if self.headers.get("content-type", "").startswith(PROTOBUF):
            return decode_k8s_protobuf(self.body)
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise bad_request("the body of the request was in an unknown format") from None

    def logged_body(self):
        """The body as JSON when it decodes (protobuf included), else as text; None when empty."""
        if not self.body:
            return None
        try:
            return self.json_body()
        except ApiError:
            return self.body.decode("utf-8", "replace")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    watch_seconds: float | None = None  # set for watch requests: stream (no events) for that long

    @classmethod
    def json(cls, status: int, payload) -> "Response":
        return cls(status, (json.dumps(payload, separators=(",", ":")) + "\n").encode())

    @classmethod
    def page_not_found(cls) -> "Response":
        return cls(404, b"404 page not found\n", "text/plain; charset=utf-8")


class Api:
    """Maps HTTP requests onto the Cluster: authentication, faults, authorization, discovery, CRUD, tables."""

    def __init__(self, cluster: Cluster, scenario: dict, auth: str = "none", tokens: list | None = None):
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}, not {auth!r}")
        self.cluster = cluster
        self.scenario = scenario
        self.user = scenario.get("user", "test-user")
        self.auth = auth
        self.tokens = None if tokens is None else set(tokens)
        self.log: list = []
        self._log_lock = threading.Lock()

    def logged_requests(self) -> list:
        with self._log_lock:
            return copy.deepcopy(self.log)

    def clear_log(self) -> None:
        with self._log_lock:
            self.log.clear()

    def replace_faults(self, faults: list) -> None:
        with self._log_lock:  # the same lock that guards consuming a fault's `times`
            self.scenario["faults"] = copy.deepcopy(faults)

    def handle(self, req: Request) -> Response:
        response = self._authenticate(req)
        if response is None:
            response = self._injected_fault(req)
        if response is None:
            try:
                response = self._route(req)
            except ApiError as error:
                response = Response.json(error.code, error.status())
            except Exception as error:  # an emulator bug: answer like a server would, keep serving
                traceback.print_exc()
                response = Response.json(500, ApiError(500, "InternalError", f"kube emulator: {error!r}").status())
        with self._log_lock:
            self.log.append({"method": req.method, "path": req.path, "query": req.query,
                             "contentType": req.headers.get("content-type"), "accept": req.headers.get("accept"),
                             "body": req.logged_body(), "status": response.status, "user": req.user,
                             "userAgent": req.headers.get("user-agent")})
        return response

    def _authenticate(self, req: Request) -> Response | None:
        """Set `req.user`, or answer 401 like a real server whose authenticators all said no.

        auth="none": every request is the scenario's user, credentials or not (the default).
        auth="token": a bearer token is required (any non-empty one, or one of `tokens`).
        auth="anonymous": like "token", except that a request with no Authorization header at
        all is user system:anonymous (anonymous auth enabled), whom RBAC allows nothing, not even
        discovery or /version; a credential that is sent and rejected is still a 401."""
        if self.auth == "none":
            req.user = self.user
            return None
        header = req.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip() and (self.tokens is None or token.strip() in self.tokens):
            req.user = self.user
            return None
        if not header and self.auth == "anonymous":
            req.user = ANONYMOUS
            return None
        req.user = ""
        return Response.json(401, ApiError(401, "Unauthorized", "Unauthorized").status())

    def _injected_fault(self, req: Request) -> Response | None:
        with self._log_lock:  # `times` is consumed atomically
            fault = next((f for f in self.scenario.get("faults") or []
                          if re.search(f.get("path_regex", ""), req.path)
                          and f.get("method", req.method).upper() == req.method
                          and f.get("times") != 0), None)
            if fault and fault.get("times") is not None:
                fault["times"] -= 1
        if fault is None:
            return None
        time.sleep(fault.get("delay_ms", 0) / 1000)
        if "status" not in fault and "body" not in fault:
            return None  # a pure delay
        status, body = fault.get("status", 500), fault.get("body")
        if body == "__malformed__":
            return Response(200, b'{"kind": "PodList", "items": [')
        if isinstance(body, (dict, list)):
            return Response.json(status, body)
        if body is None:
            return Response.json(status, ApiError(status, "InternalError", "injected fault").status())
        try:
            json.loads(body)
            return Response(status, body.encode())
        except ValueError:
            return Response(status, body.encode(), "text/plain; charset=utf-8")

    # -- routing

    def _route(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        registry = self.cluster.registry
        if req.user == ANONYMOUS:  # RBAC grants system:anonymous nothing (authorization precedes routing)
            raise self._anonymous_forbidden(req, path)
        if path == "/version":
            return Response.json(200, SERVER_VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path in ("/api", "/apis") and self._wants_aggregated_discovery(req):
            with self.cluster.lock:
                response = Response.json(200, registry.aggregated(core=path == "/api"))
            response.content_type = AGGREGATED_DISCOVERY
            return response
        if path == "/api":
            return Response.json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": req.headers.get("host", "127.0.0.1")}]})
        if path == "/apis":
            with self.cluster.lock:
                return Response.json(200, registry.group_list())
        if path.startswith("/openapi/"):
            return self._openapi(path)
        m = re.fullmatch(r"/api/(v1)(/.*)?|/apis/([^/]+)/([^/]+)(/.*)?|/apis/([^/]+)", path)
        if not m:
            return Response.page_not_found()
        if m[6]:
            with self.cluster.lock:
                if not registry.versions(m[6]):
                    return Response.page_not_found()
                return Response.json(200, {"kind": "APIGroup", "apiVersion": "v1", **registry.api_group(m[6])})
        group, version, rest = ("", m[1], m[2]) if m[1] else (m[3], m[4], m[5])
        with self.cluster.lock:
            if version not in registry.versions(group):
                return Response.page_not_found()
            if not rest:
                return Response.json(200, registry.resource_list(group, version))
        return self._resource_request(req, group, version, rest.strip("/").split("/"))

    def _wants_aggregated_discovery(self, req: Request) -> bool:
        # Real 1.30+ servers answer kubectl's first Accept choice, so kubectl needs just /api and /apis.
        # `"aggregatedDiscovery": false` emulates an older server: kubectl then fetches every group/version.
        return self.scenario.get("aggregatedDiscovery", True) and \
            "as=APIGroupDiscoveryList" in req.headers.get("accept", "") and "v=v2;" in req.headers.get("accept", "")

    def _openapi(self, path: str) -> Response:
        # OpenAPI v2 is answered 404: kubectl tolerates that once v3 is available.
        registry = self.cluster.registry
        with self.cluster.lock:
            if path == "/openapi/v3":
                return Response.json(200, registry.openapi_index())
            m = re.fullmatch(r"/openapi/v3/(?:api/(v1)|apis/([^/]+)/([^/]+))", path)
            group, version = ("", m[1]) if m and m[1] else (m[2], m[3]) if m else (None, None)
            if group is None or version not in registry.versions(group):
                return Response.page_not_found()
            return Response.json(200, registry.openapi_document(group, version))

    def _anonymous_forbidden(self, req: Request, path: str) -> ApiError:
        m = re.fullmatch(r"/api/v1/(.+)|/apis/([^/]+)/[^/]+/(.+)", path)
        parsed = m and self._parse_resource_path((m[1] or m[3]).split("/"))
        if not parsed:  # a non-resource URL: discovery, /version, /openapi, /healthz, anything else
            return ApiError(403, "Forbidden", f'forbidden: User "{ANONYMOUS}" cannot {req.method.lower()} path '
                            f'"{req.path}"', {})
        ns, plural, name, sub = parsed
        return forbidden(m[2] or "", plural, self._verb(req, name), ns, name, sub, ANONYMOUS)

    @staticmethod
    def _parse_resource_path(parts: list):
        """-> (namespace, plural, name, subresource), mirroring apiserver's RequestInfoFactory."""
        ns = None
        if parts[0] == "namespaces" and len(parts) > 2 and parts[2] not in ("status", "finalize"):
            ns, parts = parts[1], parts[2:]
        if len(parts) > 3:
            return None
        return (ns, *parts, *[None] * (3 - len(parts)))

    def _resource_request(self, req: Request, group: str, version: str, parts: list) -> Response:
        parsed = self._parse_resource_path(parts)
        rt = parsed and self.cluster.registry.lookup(group, version, parsed[1])
        if not rt:
            return Response.page_not_found()
        ns, _, name, sub = parsed
        # Namespaced resources may be listed across namespaces but never addressed by name without one;
        # cluster-scoped ones never live under /namespaces/.
        if (ns is not None and not rt.namespaced) or (ns is None and rt.namespaced and name is not None) \
                or sub not in (None, "status", "scale") or (sub == "status" and not rt.has_status) \
                or (sub == "scale" and not rt.scalable):
            return Response.page_not_found()
        verb = self._verb(req, name)
        if verb not in rt.verbs:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                           {})
        self._authorize(verb, rt, ns, name, sub, req.user)
        if rt.kind in ("SelfSubjectAccessReview", "SelfSubjectReview"):
            return Response.json(201, self._review(rt, req.json_body(), req.user))
        if sub == "scale":
            return self._scale(req, verb, rt, ns, name)
        return self._crud(req, verb, rt, ns, name, sub or "")

    def _scale(self, req: Request, verb: str, rt: ResourceType, ns: str, name: str) -> Response:
        """The autoscaling/v1 Scale view of a Deployment; writes go to its spec.replicas."""
        obj = self.cluster.get(rt, ns, name)
        if verb in ("patch", "update"):
            body = req.json_body()
            content_type = req.headers.get("content-type", "").split(";")[0].strip()
            scale = apply_patch(_scale_of(obj), content_type, body) if verb == "patch" else body
            replicas = (scale.get("spec") or {}).get("replicas", 0)
            obj = self.cluster.patch(rt, ns, name, "application/merge-patch+json", {"spec": {"replicas": replicas}},
                                     req.query.get("dryRun") == "All", req.query.get("fieldManager"))
        return Response.json(200, _scale_of(obj))

    @staticmethod
    def _verb(req: Request, name: str | None) -> str:
        if name is None:
            verbs = {"GET": "watch" if req.query.get("watch") in ("true", "1") else "list",
                     "POST": "create", "DELETE": "deletecollection"}
        else:
            verbs = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
        return verbs.get(req.method, "unsupported")

    def _crud(self, req: Request, verb: str, rt: ResourceType, ns, name, sub: str) -> Response:
        cluster, query = self.cluster, req.query
        dry_run, manager = query.get("dryRun") == "All", query.get("fieldManager")
        wants_table = "as=Table" in req.headers.get("accept", "")
        if verb == "watch":  # kubectl (rollout status, wait) only needs the stream to stay open
            return Response(200, watch_seconds=min(float(query.get("timeoutSeconds", 1800)), 1800))
        if verb == "list":
            items, rv = cluster.list(rt, ns, query.get("labelSelector", ""), query.get("fieldSelector", ""))
            if wants_table:
                return Response.json(200, build_table(rt, items, query.get("includeObject", "Metadata"), rv))
            return Response.json(200, {"kind": f"{rt.kind}List", "apiVersion": rt.api_version,
                                       "metadata": {"resourceVersion": rv}, "items": items})
        if verb == "get":
            obj = cluster.get(rt, ns, name)
            if wants_table:
                table = build_table(rt, [obj], query.get("includeObject", "Metadata"),
                                    obj["metadata"]["resourceVersion"])
                return Response.json(200, table)
            return Response.json(200, obj)
        if verb == "create":
            return Response.json(201, cluster.create(rt, ns, req.json_body(), dry_run, manager))
        if verb == "update":
            return Response.json(200, cluster.update(rt, ns, name, req.json_body(), dry_run, manager, sub))
        if verb == "patch":
            content_type = req.headers.get("content-type", "").split(";")[0].strip()
            if content_type not in ("application/json-patch+json", "application/merge-patch+json",
                                    "application/strategic-merge-patch+json", "application/apply-patch+yaml"):
                raise unsupported_patch_type()
            if content_type == "application/apply-patch+yaml" and not sub and not cluster.exists(rt, ns, name):
                # An apply that creates the object is authorized as `create` too (the request itself
                # passed as `patch`), like the apiserver's create-on-update authorization check.
                self._authorize("create", rt, ns, name, sub, req.user)
            return Response.json(200, cluster.patch(rt, ns, name, content_type, req.json_body(), dry_run, manager, sub))
        # kubectl sends delete options, dryRun included, as a DeleteOptions body
        dry_run = dry_run or "All" in (req.json_body() or {}).get("dryRun", [])
        if verb == "delete":
            return Response.json(200, cluster.delete(rt, ns, name, dry_run))
        # deletecollection (_resource_request already refused verbs the resource does not have)
        items, rv = cluster.list(rt, ns, query.get("labelSelector", ""), query.get("fieldSelector", ""))
        deleted = [cluster.delete(rt, o["metadata"].get("namespace"), o["metadata"]["name"], dry_run) for o in items]
        return Response.json(200, {"kind": f"{rt.kind}List", "apiVersion": rt.api_version,
                                   "metadata": {"resourceVersion": rv}, "items": deleted})

    # -- authorization

    def is_forbidden(self, verb: str, group: str, resource: str, ns: str | None, user: str = "") -> bool:
        def matches(rule_value, actual):
            return rule_value in (None, "*") or rule_value == actual
        if user == ANONYMOUS:
            return True
        # Cluster-scoped requests (including lists across all namespaces) only match namespace "*".
        return any(matches(rule.get("verb"), verb) and matches(rule.get("resource"), resource)
                   and matches(rule.get("group"), group)
                   and (rule.get("namespace") in (None, "*") or (ns and rule.get("namespace") == ns))
                   for rule in self.scenario.get("forbidden") or [])

    def _authorize(self, verb: str, rt: ResourceType, ns, name, sub, user: str) -> None:
        resource = f"{rt.plural}/{sub}" if sub else rt.plural
        if self.is_forbidden(verb, rt.group, resource, ns, user):
            raise forbidden(rt.group, rt.plural, verb, ns, name, sub, user)

    def _review(self, rt: ResourceType, body: dict, user: str) -> dict:
        body = body or {}
        if rt.kind == "SelfSubjectReview":
            status = {"userInfo": {"username": user, "groups": ["system:authenticated"]}}
        else:
            attrs = body.get("spec", {}).get("resourceAttributes")
            resource = attrs and "/".join(filter(None, [attrs.get("resource"), attrs.get("subresource")]))
            denied = bool(attrs) and self.is_forbidden(attrs.get("verb"), attrs.get("group", ""), resource,
                                                       attrs.get("namespace") or None, user)
            status = {"allowed": not denied}
        return {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": {"creationTimestamp": None},
                "spec": body.get("spec", {}), "status": status}


def _scale_of(obj: dict) -> dict:
    meta = obj["metadata"]
    selector = obj.get("spec", {}).get("selector", {}).get("matchLabels", {})
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 1)},
            "status": {"replicas": obj.get("status", {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in selector.items())}}


# --------------------------------------------------------------------------- TLS

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = kube-emulator
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_tls_files(directory: str) -> tuple:
    """Write a throwaway CA and a server certificate for 127.0.0.1/localhost signed by it (P-256,
    valid two days) into `directory`; return the paths (ca.crt, server.crt, server.key).

    Uses the `openssl` CLI when it is on PATH, else the `cryptography` package (a moto
    dependency, so present wherever the AWS stand-in runs)."""
    ca_cert, ca_key, cert, key, csr, config = (os.path.join(directory, n) for n in (
        "ca.crt", "ca.key", "server.crt", "server.key", "server.csr", "openssl.cnf"))
    openssl = shutil.which("openssl")
    if openssl:
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(_OPENSSL_CONFIG)
        new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for argv in (
                ["req", "-x509", "-config", config, "-extensions", "ca", *new_key, "-keyout", ca_key, "-out", ca_cert,
                 "-days", "2", "-subj", "/CN=kube-emulator-ca"],
                ["req", "-new", "-config", config, *new_key, "-keyout", key, "-out", csr, "-subj", "/CN=kube-apiserver"],
                ["x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-set_serial", str(random.getrandbits(63)),
                 "-days", "2", "-extfile", config, "-extensions", "server", "-out", cert]):
            subprocess.run([openssl, *argv], check=True, capture_output=True, env={**os.environ, "OPENSSL_CONF": config})
        return ca_cert, cert, key
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        raise RuntimeError("serving TLS needs the openssl CLI or the Python cryptography package") from None
    import ipaddress
    from datetime import timedelta
    now = datetime.now(timezone.utc)

    def issue(subject: str, public_key, issuer: str, signing_key, ca: bool):
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])).public_key(public_key)
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
                   .not_valid_after(now + timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=not ca, key_encipherment=not ca, key_cert_sign=ca,
                                                crl_sign=ca, content_commitment=False, data_encipherment=False,
                                                key_agreement=False, encipher_only=False, decipher_only=False),
                                  critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    authority_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    authority = issue("kube-emulator-ca", authority_key.public_key(), "kube-emulator-ca", authority_key, True)
    server = issue("kube-apiserver", server_key.public_key(), "kube-emulator-ca", authority_key, False)
    for path, data in ((ca_cert, authority.public_bytes(serialization.Encoding.PEM)),
                       (cert, server.public_bytes(serialization.Encoding.PEM)),
                       (key, server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))):
        with open(path, "wb") as handle:
            handle.write(data)
    return ca_cert, cert, key


# --------------------------------------------------------------------------- HTTP plumbing

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: "KubeEmulator"

    def handle_error(self, request, client_address) -> None:
        # Clients hanging up (timeouts) and refusing the certificate are routine.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: kubectl reuses connections
    server: _Server

    def log_message(self, *args) -> None:  # the request log replaces stderr noise
        pass

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        req = Request(self.command, url.path, query, {k.lower(): v for k, v in self.headers.items()}, body)
        emulator = self.server.emulator
        if url.path.startswith("/_emulator/"):
            response = emulator.control(req)
        else:
            response = emulator.api.handle(req)
        if response.watch_seconds is not None:
            self._stream_nothing(response.watch_seconds)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(response.body)

    def _stream_nothing(self, seconds: float) -> None:
        """An open watch that never sends events, ended by timeout, client hang-up or server stop."""
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.server.emulator.stopping.wait(0.2):
            if self._client_gone():
                break
        try:
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        self.close_connection = True

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if isinstance(self.connection, ssl.SSLSocket):  # no MSG_PEEK; a watch client only ever closes
                return bool(readable)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True


# --------------------------------------------------------------------------- public API

class KubeEmulator:
    """A scripted Kubernetes API server on 127.0.0.1.

    >>> with KubeEmulator({"objects": [...]}) as emu:
    ...     emu.write_kubeconfig("/tmp/kubeconfig")
    ...     subprocess.run(["kubectl", "--kubeconfig", "/tmp/kubeconfig", "get", "pods", "-A"])

    `tls=True` serves HTTPS with a certificate from a CA generated at the first start
    (`ca_pem`; `write_kubeconfig` embeds it as certificate-authority-data). `auth` is "none"
    (default: no credentials needed), "token" (a bearer token is required: 401 without one) or
    "anonymous" (no credentials = system:anonymous, forbidden everything); see Api._authenticate.
    `tokens` limits the accepted bearer tokens (default: any).
    """

    def __init__(self, scenario: dict, port: int = 0, *, tls: bool = False, auth: str = "none",
                 tokens: list | None = None):
        self.scenario = copy.deepcopy(scenario)  # runtime changes (set_*) must not leak into the caller's dict
        self.cluster = Cluster(self.scenario)
        self.api = Api(self.cluster, self.scenario, auth, tokens)
        self.tls = tls
        self._ca_pem: str | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self.stopping = threading.Event()
        self._address = ("127.0.0.1", port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            directory = tempfile.mkdtemp(prefix="kube-emulator-tls-")
            try:
                ca_cert, cert, key = make_tls_files(directory)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(cert, key)
                context.set_alpn_protocols(["http/1.1"])
                with open(ca_cert, encoding="ascii") as handle:
                    self._ca_pem = handle.read()
            finally:
                shutil.rmtree(directory, ignore_errors=True)
            self._ssl_context = context
        return self._ssl_context

    def start(self) -> int:
        self.stopping.clear()
        self._server = _Server(self._address, _Handler)
        if self.tls:  # the handshake happens in the connection's thread, on its first read
            self._server.socket = self._tls_context().wrap_socket(self._server.socket, server_side=True,
                                                                  do_handshake_on_connect=False)
        self._server.emulator = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="kube-emulator", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> "KubeEmulator":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> str | None:
        """PEM of the CA that signed the serving certificate (None without TLS)."""
        if not self.tls:
            return None
        self._tls_context()
        return self._ca_pem

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context trusting this server's CA (for urllib/http.client), None without TLS."""
        return ssl.create_default_context(cadata=self.ca_pem) if self.tls else None

    # inspection and runtime changes

    @property
    def requests(self) -> list:
        """The request log: [{method, path, query, contentType, accept, body, status, user, userAgent}]
        (`user`: who the request authenticated as, "" for a 401)."""
        return self.api.logged_requests()

    def reset_requests(self) -> None:
        self.api.clear_log()

    def set_pod_identity_associations(self, associations: list) -> None:
        self.scenario["podIdentityAssociations"] = copy.deepcopy(associations)

    def set_forbidden(self, rules: list) -> None:
        self.scenario["forbidden"] = copy.deepcopy(rules)

    def set_faults(self, faults: list) -> None:
        self.api.replace_faults(faults)

    def add_objects(self, objects: list) -> None:
        """Add or replace objects as-is (no admission, no controllers): state 'created earlier'."""
        self.cluster.put_objects(objects)

    def objects(self, kind: str | None = None) -> list:
        return self.cluster.objects(kind)

    def control(self, req: Request) -> Response:
        """The /_emulator/ HTTP API, for callers that run this module as a separate process."""
        try:
            body = req.json_body()
        except ApiError as error:
            return Response.json(400, error.status())
        routes = {
            ("GET", "/_emulator/requests"): lambda: self.requests,
            ("POST", "/_emulator/reset-log"): self.reset_requests,
            ("POST", "/_emulator/pod-identity-associations"): lambda: self.set_pod_identity_associations(body),
            ("POST", "/_emulator/forbidden"): lambda: self.set_forbidden(body),
            ("POST", "/_emulator/faults"): lambda: self.set_faults(body),
            ("POST", "/_emulator/objects"): lambda: self.add_objects(body if isinstance(body, list) else [body]),
            ("GET", "/_emulator/objects"): lambda: self.objects(req.query.get("kind")),
        }
        action = routes.get((req.method, req.path.rstrip("/")))
        if action is None:
            return Response.page_not_found()
        try:
            result = action()
        except ScenarioError as error:
            return Response.json(400, {"error": str(error)})
        return Response.json(200, {"ok": True} if result is None else result)

    def write_kubeconfig(self, path: str, context: str = "test", cluster_name: str = "test-cluster",
                         user_name: str = "test-user", namespace: str | None = None,
                         extra_user_fields: dict | None = None, token: str | None = "dummy") -> str:
        """Write a kubeconfig whose current context points at this server (see module `write_kubeconfig`);
        with TLS it carries the CA as certificate-authority-data."""
        return write_kubeconfig(path, self.url, context=context, cluster_name=cluster_name, user_name=user_name,
                                namespace=namespace, extra_user_fields=extra_user_fields, token=token,
                                ca_pem=self.ca_pem)


def write_kubeconfig(path: str, server: str, *, context: str = "test", cluster_name: str = "test-cluster",
                     user_name: str = "test-user", namespace: str | None = None,
                     extra_user_fields: dict | None = None, token: str | None = "dummy",
                     ca_pem: str | None = None) -> str:
    """Write a YAML kubeconfig for `server`. The user has a bearer token (`token`; no exec plugin
    binary needed) plus `extra_user_fields`; `token=None` and no extra fields is a user with no
    credentials at all (`user: {}`). `ca_pem` becomes the cluster's certificate-authority-data."""
    q = json.dumps  # JSON strings are valid YAML double-quoted scalars, even for ARNs with ':' and '/'
    user_fields = {**({"token": token} if token is not None else {}), **(extra_user_fields or {})}
    lines = ["apiVersion: v1", "kind: Config", "clusters:", f"- name: {q(cluster_name)}", "  cluster:",
             f"    server: {q(server)}"]
    if ca_pem:
        lines.append(f"    certificate-authority-data: {q(base64.b64encode(ca_pem.encode()).decode())}")
    lines += ["contexts:", f"- name: {q(context)}", "  context:",
              f"    cluster: {q(cluster_name)}", f"    user: {q(user_name)}"]
    if namespace:
        lines.append(f"    namespace: {q(namespace)}")
    lines += [f"current-context: {q(context)}", "users:", f"- name: {q(user_name)}",
              "  user:" if user_fields else "  user: {}"]
    lines += [f"    {key}: {q(value)}" for key, value in user_fields.items()]  # flow style for nested values
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", required=True, help="scenario JSON file")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--port-file", help="write the chosen port here once listening")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a certificate from a generated CA")
    parser.add_argument("--ca-file", help="with --tls: write the CA certificate (PEM) here before the port file")
    parser.add_argument("--auth", choices=AUTH_MODES, default="none",
                        help="none: no credentials needed; token: bearer token required (401); "
                             "anonymous: no credentials = system:anonymous, forbidden everything")
    args = parser.parse_args(argv)
    with open(args.scenario, encoding="utf-8") as handle:
        scenario = json.load(handle)
    emulator = KubeEmulator(scenario, port=args.port, tls=args.tls, auth=args.auth)
    port = emulator.start()
    if args.tls and args.ca_file:
        with open(args.ca_file, "w", encoding="ascii") as handle:
            handle.write(emulator.ca_pem)
    if args.port_file:  # written atomically so a poller never reads a partial number
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"kube emulator listening on {emulator.url}", file=sys.stderr, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(1):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
