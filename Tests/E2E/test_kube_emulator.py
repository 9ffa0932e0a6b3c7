"""The real kubectl against kube_emulator: every emulated feature, as kubectl sees it.

Run: python3 -m pytest Tests/E2E/test_kube_emulator.py -q
"""
from __future__ import annotations

import base64
import copy
import hashlib
import http.client
import json
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest_kube import KUBECTL, Kube, kube  # noqa: F401  (kube is a fixture)
from kube_emulator import KubeEmulator, ScenarioError, write_kubeconfig

NS = "crossplane-system"
ROLE_ARN = "arn:aws:iam::123456789012:role/crossplane-provider-aws"
EKS_CONTEXT = "arn:aws:eks:us-east-2:123456789012:cluster/prod-eks"
POD_NAME = re.compile(r"^provider-aws-[0-9a-f]{10}-[a-z0-9]{5}$")

CRDS = [
    {"group": "pkg.crossplane.io", "version": "v1", "plural": "providers", "kind": "Provider",
     "namespaced": False, "categories": ["crossplane", "pkg"]},
    {"group": "pkg.crossplane.io", "version": "v1beta1", "plural": "deploymentruntimeconfigs",
     "kind": "DeploymentRuntimeConfig", "namespaced": False},
    {"group": "aws.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig",
     "namespaced": False},
]


def deployment(name="provider-aws", sa="provider-aws", replicas=1, labels=None, **pod_spec) -> dict:
    labels = labels or {"pkg.crossplane.io/provider": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "generation": 1, "creationTimestamp": "2024-05-01T10:00:00Z"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"serviceAccountName": sa,
                                       "containers": [{"name": "package-runtime", "image": "xpkg.upbound.io/p:v1"}],
                                       **pod_spec}}},
        "status": {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                   "readyReplicas": replicas, "availableReplicas": replicas},
    }


def seeded_pod(name="provider-aws-5d8f7c9b4f-abcde", owner="provider-aws-5d8f7c9b4f", sa="provider-aws",
               labels=None, node="ip-10-0-1-23", phase="Running", ns=NS) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": "2024-05-01T10:00:05Z",
                     "labels": labels or {"pkg.crossplane.io/provider": "provider-aws"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                          "uid": "rs-uid", "controller": True}]},
        "spec": {"serviceAccountName": sa, "nodeName": node,
                 "containers": [{"name": "package-runtime", "image": "xpkg.upbound.io/p:v1"}]},
        "status": {"phase": phase, "containerStatuses": [{"name": "package-runtime", "ready": True,
                                                          "restartCount": 0}]},
    }


def service_account(name="provider-aws", annotations=None, ns=NS) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}}}


def scenario(**overrides) -> dict:
    base = {
        "user": "alice",
        "crds": copy.deepcopy(CRDS),
        "objects": [
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ip-10-0-1-23"}},
            service_account(annotations={"eks.amazonaws.com/role-arn": ROLE_ARN}),
            deployment(),
            seeded_pod(),
            {"apiVersion": "pkg.crossplane.io/v1", "kind": "Provider",
             "metadata": {"name": "provider-aws", "creationTimestamp": "2024-05-01T09:59:00Z"},
             "spec": {"package": "xpkg.upbound.io/upbound/provider-aws-s3:v1.1.0"},
             "status": {"conditions": [{"type": "Healthy", "status": "True", "reason": "HealthyPackageRevision",
                                        "lastTransitionTime": "2024-05-01T10:00:00Z"}]}},
            {"apiVersion": "aws.upbound.io/v1beta1", "kind": "ProviderConfig", "metadata": {"name": "default"},
             "spec": {"credentials": {"source": "IRSA"}}},
        ],
    }
    base.update(overrides)
    return base


def pods(k: Kube, ns: str = NS) -> list:
    """Pods as stored (through the Python API: cheaper than another kubectl run)."""
    return [p for p in k.emulator.objects("Pod") if p["metadata"]["namespace"] == ns]


def env_of(pod: dict, container: int = 0) -> dict:
    return {e["name"]: e.get("value") for e in pod["spec"]["containers"][container].get("env", [])}


def call(k: Kube, method: str, path: str, body=None, headers=None) -> tuple:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(k.emulator.url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=k.emulator.ssl_context()) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read().decode()


# --------------------------------------------------------------------------- discovery

def test_version_discovery_and_unknown_paths(kube):
    k = kube(scenario())
    version = k.kubectl_json("version")
    assert version["serverVersion"]["gitVersion"] == "v1.32.0"
    groups = json.loads(k.kubectl("get", "--raw", "/apis", check=True).stdout)
    crossplane = next(g for g in groups["groups"] if g["name"] == "pkg.crossplane.io")
    assert crossplane["preferredVersion"] == {"groupVersion": "pkg.crossplane.io/v1", "version": "v1"}
    assert [v["version"] for v in crossplane["versions"]] == ["v1", "v1beta1"]

    missing = k.kubectl("get", "--raw", "/apis/nope.example.io/v1")
    assert missing.returncode == 1
    assert "Error from server (NotFound): the server could not find the requested resource" in missing.stderr
    assert call(k, "GET", "/apis/nope.example.io/v1") == (404, "text/plain; charset=utf-8", "404 page not found\n")
    assert call(k, "GET", "/api/v1/namespaces/default/nopes")[0] == 404


def test_api_resources_uses_aggregated_discovery(kube):
    k = kube(scenario())
    result = k.kubectl("api-resources", "-o", "name", check=True)
    names = result.stdout.split()
    for expected in ("pods", "namespaces", "deployments.apps", "providers.pkg.crossplane.io",
                     "deploymentruntimeconfigs.pkg.crossplane.io", "customresourcedefinitions.apiextensions.k8s.io",
                     "selfsubjectaccessreviews.authorization.k8s.io"):
        assert expected in names
    paths = [r["path"] for r in k.emulator.requests]
    assert paths == ["/version", "/api", "/apis"]
    assert k.emulator.requests[0]["userAgent"].startswith("kubectl-dispatcher/")
    assert "as=APIGroupDiscoveryList" in k.emulator.requests[1]["accept"]


def test_api_resources_with_legacy_discovery(kube):
    k = kube(scenario(aggregatedDiscovery=False))
    assert "providers.pkg.crossplane.io" in k.kubectl("api-resources", "-o", "name", check=True).stdout.split()
    paths = {r["path"] for r in k.emulator.requests}
    assert {"/api", "/apis", "/api/v1", "/apis/apps/v1", "/apis/pkg.crossplane.io/v1",
            "/apis/pkg.crossplane.io/v1beta1", "/apis/aws.upbound.io/v1beta1"} <= paths
    short = k.kubectl("api-resources", "--api-group=apps", check=True).stdout
    assert re.search(r"deployments\s+deploy\s+apps/v1\s+true\s+Deployment", short)


def test_fully_qualified_get_requests(kube):
    k = kube(scenario())
    first = k.kubectl("get", "providers.v1.pkg.crossplane.io", "-o", "name", check=True)
    assert first.stdout == "provider.pkg.crossplane.io/provider-aws\n"
    assert [r["path"] for r in k.emulator.requests] == [
        "/version", "/api", "/apis", "/apis/pkg.crossplane.io/v1/providers"]
    assert k.emulator.requests[-1]["query"] == {"limit": "500"}
    k.emulator.reset_requests()
    k.kubectl("get", "providers.v1.pkg.crossplane.io", "-o", "name", check=True)  # warm discovery cache
    assert [r["path"] for r in k.emulator.requests] == ["/version", "/apis/pkg.crossplane.io/v1/providers"]


def test_crds_are_served_as_objects(kube):
    k = kube(scenario())
    crd = k.kubectl_json("get", "crd", "providers.pkg.crossplane.io")
    assert crd["spec"]["names"]["kind"] == "Provider" and crd["spec"]["scope"] == "Cluster"
    assert k.kubectl("get", "crossplane", "-o", "name", check=True).stdout == \
        "provider.pkg.crossplane.io/provider-aws\n"


def test_crd_created_at_runtime_registers_resource(kube):
    k = kube(scenario())
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.io"},
           "spec": {"group": "example.io", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "versions": [{"name": "v1alpha1", "served": True, "storage": True}]}}
    k.kubectl("create", "-f", "-", stdin=json.dumps(crd), check=True)
    widget = {"apiVersion": "example.io/v1alpha1", "kind": "Widget", "metadata": {"name": "w1", "namespace": NS}}
    k.kubectl("create", "-f", "-", stdin=json.dumps(widget), check=True)
    assert k.kubectl("get", "widgets", "-n", NS, "-o", "name", check=True).stdout == "widget.example.io/w1\n"


# --------------------------------------------------------------------------- get / list / tables

def test_table_output(kube):
    k = kube(scenario())
    table = k.kubectl("get", "pods", "-n", NS, check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[:4] == ["provider-aws-5d8f7c9b4f-abcde", "1/1", "Running", "0"]
    assert "as=Table" in k.requests()[-1]["accept"]

    wide = k.kubectl("get", "pods", "-A", "-o", "wide", check=True).stdout
    assert re.search(rf"^{NS}\s+provider-aws-5d8f7c9b4f-abcde\s+1/1\s+Running\s+0\s+\S+\s+<none>\s+ip-10-0-1-23",
                     wide, re.M)
    deploy = k.kubectl("get", "deployment", "provider-aws", "-n", NS, check=True).stdout.splitlines()
    assert deploy[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert deploy[1].split()[:4] == ["provider-aws", "1/1", "1", "1"]
    providers = k.kubectl("get", "providers", check=True).stdout.splitlines()
    assert providers[0].split() == ["NAME", "AGE"] and providers[1].startswith("provider-aws ")
    assert "No resources found in empty namespace." in k.kubectl("get", "pods", "-n", "empty").stderr


def test_list_json_shape(kube):
    k = kube(scenario())
    status, content_type, body = call(k, "GET", f"/api/v1/namespaces/{NS}/pods?limit=500")
    listing = json.loads(body)
    assert (status, content_type) == (200, "application/json")
    assert listing["kind"] == "PodList" and listing["apiVersion"] == "v1"
    assert listing["metadata"]["resourceVersion"].isdigit()
    assert all(item["kind"] == "Pod" and item["apiVersion"] == "v1" for item in listing["items"])
    everything = k.kubectl_json("get", "pods", "-A")
    assert everything["kind"] == "List" and [p["metadata"]["name"] for p in everything["items"]] == [
        "provider-aws-5d8f7c9b4f-abcde"]


def test_namespaces_exist_implicitly(kube):
    k = kube(scenario())
    names = k.kubectl("get", "namespaces", "-o", "name", check=True).stdout.split()
    assert names == ["namespace/crossplane-system", "namespace/default", "namespace/kube-system"]
    assert k.kubectl_json("get", "namespace", NS)["status"] == {"phase": "Active"}


@pytest.mark.parametrize("selector, expected", [
    ("app=web", ["web-1", "web-2"]),
    ("app==web,tier=frontend", ["web-1"]),
    ("app!=web", ["db-1", "plain"]),
    ("tier", ["db-1", "web-1"]),
    ("!tier", ["plain", "web-2"]),
    ("app in (db, web),tier notin (frontend)", ["db-1", "web-2"]),
])
def test_label_selectors(kube, selector, expected):
    labelled = [("web-1", {"app": "web", "tier": "frontend"}), ("web-2", {"app": "web"}),
                ("db-1", {"app": "db", "tier": "backend"}), ("plain", {})]
    objects = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "namespace": NS, "labels": labels}}
               for n, labels in labelled]
    k = kube(scenario(objects=objects))
    names = k.kubectl("get", "configmaps", "-n", NS, "-l", selector, "-o", "name", check=True).stdout.split()
    assert names == [f"configmap/{n}" for n in expected]
    assert k.requests()[-1]["query"]["labelSelector"] == selector


def test_field_selectors(kube):
    objects = scenario()["objects"] + [
        seeded_pod("other-1", node="ip-10-0-9-9"), seeded_pod("pending-1", phase="Pending"),
        seeded_pod("elsewhere-1", ns="default")]
    k = kube(scenario(objects=objects))

    def names(*args):
        return k.kubectl("get", "pods", *args, "-o", "name", check=True).stdout.split()

    assert names("-A", "--field-selector", "spec.nodeName=ip-10-0-9-9") == ["pod/other-1"]
    assert names("-n", NS, "--field-selector", "status.phase!=Running") == ["pod/pending-1"]
    assert names("-A", "--field-selector", "metadata.namespace=default") == ["pod/elsewhere-1"]
    assert names("-A", "--field-selector", "metadata.name=other-1,status.phase=Running") == ["pod/other-1"]


def test_get_missing_object(kube):
    k = kube(scenario())
    result = k.kubectl("get", "pod", "nope", "-n", NS)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    result = k.kubectl("get", "deployment", "nope", "-n", NS)
    assert result.stderr.strip() == 'Error from server (NotFound): deployments.apps "nope" not found'
    status = json.loads(call(k, "GET", f"/api/v1/namespaces/{NS}/pods/nope")[2])
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": 'pods "nope" not found', "reason": "NotFound",
                      "details": {"name": "nope", "kind": "pods"}, "code": 404}


# --------------------------------------------------------------------------- forbidden

def test_forbidden_list_in_namespace(kube):
    k = kube(scenario(forbidden=[{"verb": "list", "resource": "pods", "group": "", "namespace": NS}]))
    result = k.kubectl("get", "pods", "-n", NS)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
        'in the namespace "crossplane-system"')
    assert k.kubectl("get", "pods", "-n", "default").returncode == 0  # other namespaces are fine
    status, _, body = call(k, "GET", f"/api/v1/namespaces/{NS}/pods")
    assert status == 403 and json.loads(body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace '
                   '"crossplane-system"',
        "reason": "Forbidden", "details": {"kind": "pods"}, "code": 403}


def test_forbidden_cluster_scope_and_named_get(kube):
    k = kube(scenario(forbidden=[{"verb": "list", "resource": "pods", "group": "", "namespace": "*"},
                                 {"verb": "get", "resource": "deployments", "group": "apps", "namespace": NS}]))
    all_namespaces = k.kubectl("get", "pods", "-A")
    assert all_namespaces.stderr.strip().endswith(
        'cannot list resource "pods" in API group "" at the cluster scope')
    named = k.kubectl("get", "deployment", "provider-aws", "-n", NS)
    assert named.stderr.strip() == (
        'Error from server (Forbidden): deployments.apps "provider-aws" is forbidden: User "alice" cannot get '
        'resource "deployments" in API group "apps" in the namespace "crossplane-system"')
    # listing deployments is still allowed: the rule is for `get` only
    assert k.kubectl("get", "deployments", "-n", NS, "-o", "name", check=True).stdout.strip() == \
        "deployment.apps/provider-aws"


def test_batch_get_across_types_including_custom(kube):
    k = kube(scenario())
    listing = k.kubectl_json("get", "pods,deployments,providers.pkg.crossplane.io,providerconfigs", "-A")
    assert [(i["kind"], i["metadata"]["name"]) for i in listing["items"]] == [
        ("Pod", "provider-aws-5d8f7c9b4f-abcde"), ("Deployment", "provider-aws"),
        ("Provider", "provider-aws"), ("ProviderConfig", "default")]
    assert [r["path"] for r in k.requests()] == [
        "/api/v1/pods", "/apis/apps/v1/deployments", "/apis/pkg.crossplane.io/v1/providers",
        "/apis/aws.upbound.io/v1beta1/providerconfigs"]


def test_batch_get_with_one_forbidden_type(kube):
    """Documented in kube_emulator's docstring (a): other types are still printed, exit code 1."""
    k = kube(scenario(forbidden=[{"verb": "list", "resource": "secrets", "group": "", "namespace": "*"}]))
    result = k.kubectl("get", "pods,secrets,providers", "-A", "-o", "json")
    assert result.returncode == 1
    listing = json.loads(result.stdout)
    assert listing["kind"] == "List"
    assert [i["kind"] for i in listing["items"]] == ["Pod", "Provider"]
    assert result.stderr == ('Error from server (Forbidden): secrets is forbidden: User "alice" cannot list '
                             'resource "secrets" in API group "" at the cluster scope\n')
    assert [(r["path"], r["status"]) for r in k.requests()] == [
        ("/api/v1/pods", 200), ("/api/v1/secrets", 403), ("/apis/pkg.crossplane.io/v1/providers", 200)]

    names = k.kubectl("get", "pods,secrets,providers", "-A", "-o", "name")
    assert names.returncode == 1
    assert names.stdout.split() == ["pod/provider-aws-5d8f7c9b4f-abcde", "provider.pkg.crossplane.io/provider-aws"]
    table = k.kubectl("get", "pods,secrets,providers", "-A")
    assert table.returncode == 1 and "pod/provider-aws-5d8f7c9b4f-abcde" in table.stdout
    assert "provider.pkg.crossplane.io/provider-aws" in table.stdout


def test_batch_get_with_one_unknown_type(kube):
    """Documented in kube_emulator's docstring (b): nothing printed, no list request sent."""
    k = kube(scenario())
    k.kubectl("get", "pods", "-A", check=True)  # warm the discovery cache first
    k.emulator.reset_requests()
    result = k.kubectl("get", "pods,foos,providers", "-A", "-o", "json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == 'error: the server doesn\'t have a resource type "foos"\n'
    assert [r["path"] for r in k.emulator.requests] == ["/version", "/api", "/apis"]  # discovery refresh only


def test_auth_can_i(kube):
    k = kube(scenario(forbidden=[{"verb": "list", "resource": "secrets", "group": "", "namespace": NS},
                                 {"verb": "get", "resource": "providers", "group": "pkg.crossplane.io"}]))

    def can_i(*args):
        result = k.kubectl("auth", "can-i", *args)
        return result.stdout.strip(), result.returncode

    assert can_i("list", "secrets", "-n", NS) == ("no", 1)
    assert can_i("list", "secrets", "-n", "default") == ("yes", 0)
    assert can_i("list", "secrets", "-A") == ("yes", 0)  # cluster scope only matches namespace "*"
    assert can_i("get", "providers.pkg.crossplane.io") == ("no", 1)
    review = k.requests()[0]
    assert review["contentType"] == "application/vnd.kubernetes.protobuf"  # decoded for the log
    assert review["body"]["spec"]["resourceAttributes"] == {"namespace": NS, "verb": "list", "resource": "secrets"}


def test_auth_whoami(kube):
    k = kube(scenario(user="system:serviceaccount:ci:deployer"))
    result = k.kubectl("auth", "whoami", check=True)
    assert re.search(r"Username\s+system:serviceaccount:ci:deployer", result.stdout)


# --------------------------------------------------------------------------- writes

def test_create_replace_delete_and_errors(kube):
    k = kube(scenario())
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": NS},
                  "data": {"region": "us-east-2"}}
    assert k.kubectl("create", "-f", "-", stdin=json.dumps(config_map), check=True).stdout == \
        "configmap/settings created\n"
    created = k.kubectl_json("get", "configmap", "settings", "-n", NS)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created["metadata"]["creationTimestamp"])
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"].isdigit()

    again = k.kubectl("create", "-f", "-", stdin=json.dumps(config_map))
    assert again.stderr.strip() == 'Error from server (AlreadyExists): error when creating "STDIN": ' \
                                   'configmaps "settings" already exists'
    config_map["data"]["region"] = "eu-west-1"
    k.kubectl("replace", "-f", "-", stdin=json.dumps(config_map), check=True)
    replaced = k.kubectl_json("get", "configmap", "settings", "-n", NS)
    assert replaced["data"] == {"region": "eu-west-1"}
    assert replaced["metadata"]["uid"] == created["metadata"]["uid"]
    assert int(replaced["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert [r["method"] for r in k.requests() if r["path"].endswith("/settings")][-2:] == ["PUT", "GET"]

    assert k.kubectl("delete", "configmap", "settings", "-n", NS, check=True).stdout == \
        'configmap "settings" deleted\n'
    assert k.kubectl("get", "configmap", "settings", "-n", NS).returncode == 1
    missing_ns = k.kubectl("create", "configmap", "x", "-n", "nowhere", "--from-literal=a=b")
    assert 'namespaces "nowhere" not found' in missing_ns.stderr


def test_typed_client_creates_are_decoded_from_protobuf(kube):
    k = kube(scenario())
    k.kubectl("create", "namespace", "team-a", check=True)
    k.kubectl("create", "serviceaccount", "builder", "-n", "team-a", check=True)
    k.kubectl("create", "secret", "generic", "token", "-n", "team-a", "--from-literal=key=s3cret", check=True)
    k.kubectl("create", "configmap", "cfg", "-n", "team-a", "--from-literal=a=1", check=True)
    assert k.kubectl_json("get", "secret", "token", "-n", "team-a")["data"] == {"key": "czNjcmV0"}
    assert k.kubectl_json("get", "configmap", "cfg", "-n", "team-a")["data"] == {"a": "1"}
    assert k.kubectl_json("get", "serviceaccount", "builder", "-n", "team-a")["metadata"]["namespace"] == "team-a"
    writes = [r for r in k.requests() if r["method"] == "POST"]
    assert {r["contentType"] for r in writes} == {"application/vnd.kubernetes.protobuf"}


def test_merge_patch_bumps_generation_only_for_spec(kube):
    k = kube(scenario())
    before = k.kubectl_json("get", "provider", "provider-aws")
    k.kubectl("patch", "provider", "provider-aws", "--type", "merge", "-p", '{"metadata":{"labels":{"a":"b"}}}',
              check=True)
    labelled = k.kubectl_json("get", "provider", "provider-aws")
    assert labelled["metadata"]["generation"] == before["metadata"]["generation"] == 1
    assert int(labelled["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    k.kubectl("patch", "provider", "provider-aws", "--type", "merge",
              "-p", '{"spec":{"package":"xpkg.upbound.io/upbound/provider-aws-s3:v1.2.0","x":null}}', check=True)
    patched = k.kubectl_json("get", "provider", "provider-aws", "--show-managed-fields")
    assert patched["metadata"]["generation"] == 2
    assert patched["spec"] == {"package": "xpkg.upbound.io/upbound/provider-aws-s3:v1.2.0"}
    assert patched["status"] == before["status"]  # main resource writes never touch status
    patch_request = [r for r in k.requests() if r["method"] == "PATCH"][-1]
    assert patch_request["contentType"] == "application/merge-patch+json"
    assert patch_request["query"]["fieldManager"] == "kubectl-patch"
    assert patched["metadata"]["managedFields"][0]["manager"] == "kubectl-patch"


def test_strategic_merge_patch_merges_lists_by_key(kube):
    k = kube(scenario())
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "package-runtime", "env": [{"name": "DEBUG", "value": "1"}]},
        {"name": "sidecar", "image": "busybox"}]}}}}
    k.kubectl("patch", "deployment", "provider-aws", "-n", NS, "-p", json.dumps(patch), check=True)
    containers = k.kubectl_json("get", "deployment", "provider-aws", "-n", NS)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["package-runtime", "sidecar"]
    assert containers[0]["image"] == "xpkg.upbound.io/p:v1"  # untouched fields survive
    assert containers[0]["env"] == [{"name": "DEBUG", "value": "1"}]
    assert [r["contentType"] for r in k.requests() if r["method"] == "PATCH"] == [
        "application/strategic-merge-patch+json"]
    delete = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    k.kubectl("patch", "deployment", "provider-aws", "-n", NS, "-p", json.dumps(delete), check=True)
    containers = k.kubectl_json("get", "deployment", "provider-aws", "-n", NS)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["package-runtime"]


def test_strategic_merge_patch_on_custom_resource_is_unsupported(kube):
    k = kube(scenario())
    result = k.kubectl("patch", "provider", "provider-aws", "-p", '{"spec":{"x":1}}')
    assert result.returncode == 1
    assert "the body of the request was in an unknown format - accepted media types include: " \
           "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml" in result.stderr
    assert [r["status"] for r in k.requests() if r["method"] == "PATCH"] == [415]


def test_json_patch(kube):
    k = kube(scenario())
    ops = [{"op": "test", "path": "/spec/credentials/source", "value": "IRSA"},
           {"op": "replace", "path": "/spec/credentials/source", "value": "PodIdentity"},
           {"op": "add", "path": "/metadata/annotations", "value": {"a/b": "c"}},
           {"op": "add", "path": "/spec/list", "value": [1, 3]},
           {"op": "add", "path": "/spec/list/1", "value": 2},
           {"op": "add", "path": "/spec/list/-", "value": 4},
           {"op": "remove", "path": "/spec/list/0"}]
    k.kubectl("patch", "providerconfig", "default", "--type", "json", "-p", json.dumps(ops), check=True)
    patched = k.kubectl_json("get", "providerconfig", "default")
    assert patched["spec"] == {"credentials": {"source": "PodIdentity"}, "list": [2, 3, 4]}
    assert patched["metadata"]["annotations"] == {"a/b": "c"}
    failed = k.kubectl("patch", "providerconfig", "default", "--type", "json",
                       "-p", '[{"op":"test","path":"/spec/credentials/source","value":"IRSA"}]')
    assert failed.returncode == 1 and "test failed" in failed.stderr
    missing = k.kubectl("patch", "providerconfig", "default", "--type", "json",
                        "-p", '[{"op":"remove","path":"/spec/nothing"}]')
    assert missing.returncode == 1


def test_server_side_apply_creates_and_records_field_manager(kube):
    k = kube(scenario())
    config = {"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig",
              "metadata": {"name": "irsa"},
              "spec": {"serviceAccountTemplate": {
                  "metadata": {"annotations": {"eks.amazonaws.com/role-arn": ROLE_ARN}}}}}
    result = k.kubectl("apply", "--server-side", "--field-manager", "xpid", "-f", "-", stdin=json.dumps(config),
                       check=True)
    assert result.stdout == "deploymentruntimeconfig.pkg.crossplane.io/irsa serverside-applied\n"
    stored = k.kubectl_json("get", "deploymentruntimeconfig", "irsa", "--show-managed-fields")
    assert stored["spec"] == config["spec"]
    assert [(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]] == [("xpid", "Apply")]
    # a deploymentTemplate.spec is a DeploymentSpec: selector and template (with containers) are required
    config["spec"]["deploymentTemplate"] = {"spec": {"replicas": 2, "selector": {},
                                                     "template": {"spec": {"containers": []}}}}
    k.kubectl("apply", "--server-side", "--field-manager", "xpid", "-f", "-", stdin=json.dumps(config), check=True)
    updated = k.kubectl_json("get", "deploymentruntimeconfig", "irsa")
    assert updated["spec"]["deploymentTemplate"] == config["spec"]["deploymentTemplate"]
    assert updated["metadata"]["generation"] == 2
    apply = [r for r in k.requests() if r["method"] == "PATCH"]
    assert [r["contentType"] for r in apply] == ["application/apply-patch+yaml"] * 2
    assert apply[0]["query"]["fieldManager"] == "xpid"


def test_server_side_apply_that_creates_also_needs_create(kube):
    """A real apiserver authorizes an apply that would create the object as `create` too."""
    k = kube(scenario(forbidden=[{"verb": "create", "resource": "deploymentruntimeconfigs",
                                  "group": "pkg.crossplane.io"}]))
    config = {"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig",
              "metadata": {"name": "irsa"}, "spec": {"serviceAccountTemplate": {"metadata": {"name": "irsa"}}}}
    refused = k.kubectl("apply", "--server-side", "--field-manager", "xpid", "-f", "-", stdin=json.dumps(config))
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith(
        'deploymentruntimeconfigs.pkg.crossplane.io "irsa" is forbidden: User "alice" cannot create resource '
        '"deploymentruntimeconfigs" in API group "pkg.crossplane.io" at the cluster scope'), refused.stderr
    assert [(r["method"], r["status"]) for r in k.requests()] == [("PATCH", 403)]
    assert not [o for o in k.emulator.objects("DeploymentRuntimeConfig") if o["metadata"]["name"] == "irsa"]
    # the same apply to an object that exists is a plain `patch`
    k.emulator.add_objects([config])
    config["spec"]["serviceAccountTemplate"]["metadata"]["annotations"] = {"eks.amazonaws.com/role-arn": ROLE_ARN}
    k.kubectl("apply", "--server-side", "--field-manager", "xpid", "-f", "-", stdin=json.dumps(config), check=True)
    stored = k.kubectl_json("get", "deploymentruntimeconfig", "irsa")
    assert stored["spec"]["serviceAccountTemplate"]["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": ROLE_ARN}
    # and `create` alone is not enough to apply: the request itself is a patch
    k.emulator.set_forbidden([{"verb": "patch", "resource": "deploymentruntimeconfigs", "group": "pkg.crossplane.io"}])
    config["metadata"]["name"] = "other"
    denied = k.kubectl("apply", "--server-side", "--field-manager", "xpid", "-f", "-", stdin=json.dumps(config))
    assert denied.returncode == 1 and 'cannot patch resource "deploymentruntimeconfigs"' in denied.stderr


# --------------------------------------------------------------------------- custom resource validation

ALL_CRDS = CRDS + [
    {"group": "pkg.crossplane.io", "version": "v1", "plural": "functions", "kind": "Function"},
    {"group": "pkg.crossplane.io", "version": "v1", "plural": "configurations", "kind": "Configuration"},
    {"group": "pkg.crossplane.io", "version": "v1beta1", "plural": "imageconfigs", "kind": "ImageConfig"},
    {"group": "aws.m.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig",
     "namespaced": True},
    {"group": "aws.m.upbound.io", "version": "v1beta1", "plural": "clusterproviderconfigs",
     "kind": "ClusterProviderConfig"},
    {"group": "azure.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig"},
    {"group": "azure.m.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig",
     "namespaced": True},
    {"group": "azure.m.upbound.io", "version": "v1beta1", "plural": "clusterproviderconfigs",
     "kind": "ClusterProviderConfig"},
]
CONDITION = {"type": "Healthy", "status": "True", "reason": "HealthyPackageRevision",
             "lastTransitionTime": "2024-05-01T10:00:00Z"}
SOURCES = '"None", "Secret", "IRSA", "WebIdentity", "PodIdentity", "Upbound"'
INVALID_OBJECTS = [
    ({"apiVersion": "pkg.crossplane.io/v1", "kind": "Provider", "metadata": {"name": "p"}, "spec": {}},
     'Provider.pkg.crossplane.io "p" is invalid: spec.package: Required value'),
    ({"apiVersion": "pkg.crossplane.io/v1", "kind": "Function", "metadata": {"name": "f"},
      "spec": {"package": 7, "runtimeConfigRef": {}}},
     'Function.pkg.crossplane.io "f" is invalid: [spec.package: Invalid value: "integer": spec.package in body must '
     'be of type string: "integer", spec.runtimeConfigRef.name: Required value]'),
    ({"apiVersion": "pkg.crossplane.io/v1", "kind": "Configuration", "metadata": {"name": "c"},
      "spec": {"package": "xpkg.upbound.io/c:v1"},
      "status": {"conditions": [{"type": "Healthy", "status": "True"}]}},
     'Configuration.pkg.crossplane.io "c" is invalid: [status.conditions[0].lastTransitionTime: Required value, '
     'status.conditions[0].reason: Required value]'),
    ({"apiVersion": "pkg.crossplane.io/v1", "kind": "Provider", "metadata": {"name": "p"},
      "spec": {"package": "xpkg.upbound.io/p:v1", "skipDependencyResolution": "yes"},
      "status": {"conditions": [{**CONDITION, "lastTransitionTime": "yesterday"}]}},
     'Provider.pkg.crossplane.io "p" is invalid: [spec.skipDependencyResolution: Invalid value: "string": '
     'spec.skipDependencyResolution in body must be of type boolean: "string", '
     'status.conditions[0].lastTransitionTime: Invalid value: "yesterday": status.conditions[0].lastTransitionTime '
     'in body must be of type date-time: "yesterday"]'),
    ({"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "metadata": {"name": "d"},
      "spec": {"deploymentTemplate": {"spec": {"template": {"spec": {"serviceAccountName": "x"}}}}}},
     'DeploymentRuntimeConfig.pkg.crossplane.io "d" is invalid: [spec.deploymentTemplate.spec.selector: Required '
     'value, spec.deploymentTemplate.spec.template.spec.containers: Required value]'),
    ({"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "ImageConfig", "metadata": {"name": "i"},
      "spec": {"matchImages": [{"prefix": "xpkg.upbound.io/", "type": "Glob"}]}},
     'ImageConfig.pkg.crossplane.io "i" is invalid: spec.matchImages[0].type: Unsupported value: "Glob": '
     'supported values: "Prefix"'),
    ({"apiVersion": "aws.upbound.io/v1beta1", "kind": "ProviderConfig", "metadata": {"name": "other"},
      "spec": {"credentials": {}}},
     'ProviderConfig.aws.upbound.io "other" is invalid: spec.credentials.source: Required value'),
    ({"apiVersion": "aws.m.upbound.io/v1beta1", "kind": "ProviderConfig",
      "metadata": {"name": "default", "namespace": "default"}, "spec": {"credentials": {"source": "Irsa"}}},
     f'ProviderConfig.aws.m.upbound.io "default" is invalid: spec.credentials.source: Unsupported value: "Irsa": '
     f'supported values: {SOURCES}'),
    ({"apiVersion": "aws.m.upbound.io/v1beta1", "kind": "ClusterProviderConfig", "metadata": {"name": "default"}},
     'ClusterProviderConfig.aws.m.upbound.io "default" is invalid: spec: Required value'),
    ({"apiVersion": "aws.m.upbound.io/v1beta1", "kind": "ClusterProviderConfig", "metadata": {"name": "default"},
      "spec": {"credentials": {"source": "Secret", "secretRef": {"name": "aws", "key": "creds"}}}},
     'ClusterProviderConfig.aws.m.upbound.io "default" is invalid: spec.credentials.secretRef.namespace: '
     'Required value'),
    # provider-upjet-azure: no InjectedIdentity in the enum (the field comments still name it)
    ({"apiVersion": "azure.upbound.io/v1beta1", "kind": "ProviderConfig", "metadata": {"name": "default"},
      "spec": {"credentials": {"source": "InjectedIdentity"}}},
     'ProviderConfig.azure.upbound.io "default" is invalid: spec.credentials.source: Unsupported value: '
     '"InjectedIdentity": supported values: "None", "Secret", "UserAssignedManagedIdentity", '
     '"SystemAssignedManagedIdentity", "OIDCTokenFile", "Upbound", "Filesystem"'),
    ({"apiVersion": "azure.m.upbound.io/v1beta1", "kind": "ClusterProviderConfig", "metadata": {"name": "default"},
      "spec": {"credentials": {"source": "OIDCTokenFile"}, "clientID": 42, "storageUseAzureAD": "true"}},
     'ClusterProviderConfig.azure.m.upbound.io "default" is invalid: [spec.clientID: Invalid value: "integer": '
     'spec.clientID in body must be of type string: "integer", spec.storageUseAzureAD: Invalid value: "string": '
     'spec.storageUseAzureAD in body must be of type boolean: "string"]'),
    ({"apiVersion": "azure.m.upbound.io/v1beta1", "kind": "ProviderConfig",
      "metadata": {"name": "default", "namespace": "default"}, "spec": {"clientID": "x"}},
     'ProviderConfig.azure.m.upbound.io "default" is invalid: spec.credentials: Required value'),
]


@pytest.mark.parametrize("obj, message", INVALID_OBJECTS, ids=[o["kind"] + "-" + str(i)
                                                              for i, (o, _) in enumerate(INVALID_OBJECTS)])
def test_invalid_custom_resources_are_refused_when_seeded_and_created(kube, obj, message):
    with pytest.raises(ScenarioError, match=re.escape(f"invalid scenario object: {message}")):
        KubeEmulator(scenario(crds=ALL_CRDS, objects=[obj]))
    k = kube(scenario(crds=ALL_CRDS))
    with pytest.raises(ScenarioError, match=re.escape(message)):
        k.emulator.add_objects([obj])
    assert call(k, "POST", "/_emulator/objects", [obj])[0] == 400
    created = k.kubectl("create", "-f", "-", stdin=json.dumps(obj))
    if "spec" not in message:  # only status is wrong: a create drops status (a subresource), so it passes
        assert created.returncode == 0 and "status" not in k.kubectl_json("get", "configuration", "c")
        return
    assert created.returncode == 1
    assert [r["status"] for r in k.requests() if r["method"] == "POST"] == [422]
    assert "is invalid" in created.stderr
    assert not [o for o in k.emulator.objects(obj["kind"]) if o["metadata"]["name"] == obj["metadata"]["name"]
                and o["apiVersion"] == obj["apiVersion"]]


def test_invalid_status_body_and_what_kubectl_prints(kube):
    k = kube(scenario())
    bad = {"apiVersion": "aws.upbound.io/v1beta1", "kind": "ProviderConfig", "metadata": {"name": "bad"},
           "spec": {"credentials": {}}}
    status, content_type, body = call(k, "POST", "/apis/aws.upbound.io/v1beta1/providerconfigs", bad,
                                      {"Content-Type": "application/json"})
    assert (status, content_type) == (422, "application/json")
    assert json.loads(body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'ProviderConfig.aws.upbound.io "bad" is invalid: spec.credentials.source: Required value',
        "reason": "Invalid",
        "details": {"name": "bad", "group": "aws.upbound.io", "kind": "ProviderConfig",
                    "causes": [{"reason": "FieldValueRequired", "message": "Required value",
                                "field": "spec.credentials.source"}]},
        "code": 422}
    # kubectl words a 422 from its details (the Kind) and causes, as it does for a real server's
    created = k.kubectl("create", "-f", "-", stdin=json.dumps(bad))
    assert created.stderr == 'The ProviderConfig "bad" is invalid: spec.credentials.source: Required value\n'
    function = dict(INVALID_OBJECTS[1][0])
    applied = kube(scenario(crds=ALL_CRDS)).kubectl("apply", "--server-side", "--field-manager", "xpid", "-f", "-",
                                                    stdin=json.dumps(function))
    assert applied.stderr == ('The Function "f" is invalid: \n* spec.package: Invalid value: "integer": spec.package '
                              'in body must be of type string: "integer"\n* spec.runtimeConfigRef.name: Required value\n')


def test_invalid_writes_are_refused_and_change_nothing(kube):
    k = kube(scenario())
    before = k.kubectl_json("get", "providerconfig", "default")
    merge = k.kubectl("patch", "providerconfig", "default", "--type", "merge",
                      "-p", '{"spec":{"credentials":{"source":"Irsa"}}}')
    assert merge.returncode == 1 and 'spec.credentials.source: Unsupported value: "Irsa"' in merge.stderr
    removed = k.kubectl("patch", "providerconfig", "default", "--type", "json",
                        "-p", '[{"op":"remove","path":"/spec/credentials/source"}]')
    assert removed.returncode == 1 and "spec.credentials.source: Required value" in removed.stderr
    dry_run = k.kubectl("patch", "providerconfig", "default", "--type", "merge", "--dry-run=server",
                        "-p", '{"spec":{"credentials":{"source":"Irsa"}}}')
    assert dry_run.returncode == 1  # validation runs on dry runs too
    replaced = {**before, "spec": {"credentials": {"source": None}}}
    assert k.kubectl("replace", "-f", "-", stdin=json.dumps(replaced)).returncode == 1
    status = k.kubectl("patch", "provider", "provider-aws", "--subresource=status", "--type", "merge",
                       "-p", '{"status":{"conditions":[{"type":"Healthy","status":"False"}]}}')
    assert status.returncode == 1 and "status.conditions[0].reason: Required value" in status.stderr
    drc = {"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "metadata": {"name": "d"},
           "spec": {"deploymentTemplate": {"spec": {"replicas": 2}}}}
    applied = k.kubectl("apply", "--server-side", "--field-manager", "xpid", "-f", "-", stdin=json.dumps(drc))
    assert applied.returncode == 1 and "spec.deploymentTemplate.spec.selector: Required value" in applied.stderr
    assert [r["status"] for r in k.requests() if r["method"] in ("PATCH", "PUT")] == [422] * 6
    after = k.kubectl_json("get", "providerconfig", "default")
    assert after["spec"] == before["spec"] and after["metadata"]["resourceVersion"] == \
        before["metadata"]["resourceVersion"]
    assert k.emulator.objects("DeploymentRuntimeConfig") == []
    assert k.kubectl_json("get", "provider", "provider-aws")["status"] == scenario()["objects"][4]["status"]


def test_client_side_apply_of_deployment_rolls_pods(kube):
    k = kube(scenario())
    manifest = deployment("web", sa="default", replicas=2, labels={"app": "web"})
    del manifest["status"], manifest["metadata"]["generation"], manifest["metadata"]["creationTimestamp"]
    assert k.kubectl("apply", "-f", "-", stdin=json.dumps(manifest), check=True).stdout == \
        "deployment.apps/web created\n"
    first = [p["metadata"]["name"] for p in pods(k) if p["metadata"]["labels"].get("app") == "web"]
    assert len(first) == 2
    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = "xpkg.upbound.io/p:v2"
    assert k.kubectl("apply", "-f", "-", stdin=json.dumps(manifest), check=True).stdout == \
        "deployment.apps/web configured\n"
    second = [p for p in pods(k) if p["metadata"]["labels"].get("app") == "web"]
    assert len(second) == 2 and not {p["metadata"]["name"] for p in second} & set(first)
    assert {p["spec"]["containers"][0]["image"] for p in second} == {"xpkg.upbound.io/p:v2"}
    patch = [r for r in k.requests() if r["method"] == "PATCH"][-1]
    assert patch["contentType"] == "application/strategic-merge-patch+json"
    assert patch["query"] == {"fieldManager": "kubectl-client-side-apply", "fieldValidation": "Strict"}


def test_dry_run_never_stores(kube):
    k = kube(scenario())
    k.kubectl("patch", "provider", "provider-aws", "--type", "merge", "--dry-run=server",
              "-p", '{"spec":{"package":"changed"}}', check=True)
    k.kubectl("create", "configmap", "dry", "-n", NS, "--from-literal=a=b", "--dry-run=server", check=True)
    k.kubectl("delete", "provider", "provider-aws", "--dry-run=server", check=True)
    scaled = k.kubectl("scale", "deployment/provider-aws", "-n", NS, "--replicas=3", "--dry-run=server", check=True)
    assert "scaled (server dry run)" in scaled.stdout
    assert k.kubectl_json("get", "provider", "provider-aws")["spec"]["package"].endswith("provider-aws-s3:v1.1.0")
    assert k.kubectl("get", "configmap", "dry", "-n", NS).returncode == 1
    assert [p["metadata"]["name"] for p in pods(k)] == ["provider-aws-5d8f7c9b4f-abcde"]
    writes = [r for r in k.requests() if r["method"] != "GET"]
    assert [r["method"] for r in writes] == ["PATCH", "POST", "DELETE", "PATCH"]
    assert [r["query"].get("dryRun") for r in writes] == ["All", "All", None, "All"]
    assert writes[2]["body"]["dryRun"] == ["All"]  # delete options travel in the body


def test_status_subresource(kube):
    k = kube(scenario())
    unhealthy = {"type": "Healthy", "status": "False", "reason": "UnhealthyPackageRevision",
                 "lastTransitionTime": "2024-05-02T08:00:00Z"}
    k.kubectl("patch", "provider", "provider-aws", "--subresource=status", "--type", "merge",
              "-p", json.dumps({"status": {"conditions": [unhealthy]}}), check=True)
    provider = k.kubectl_json("get", "provider", "provider-aws")
    assert provider["status"]["conditions"] == [unhealthy]
    assert provider["metadata"]["generation"] == 1
    assert k.requests()[-2]["path"] == "/apis/pkg.crossplane.io/v1/providers/provider-aws/status"


# --------------------------------------------------------------------------- deployment controller & webhooks

def test_seeded_pods_are_kept_as_given(kube):
    k = kube(scenario())
    [pod] = pods(k)
    assert pod["metadata"]["name"] == "provider-aws-5d8f7c9b4f-abcde"
    assert "env" not in pod["spec"]["containers"][0]  # the webhook never touches existing pods
    assert pod["spec"].get("volumes") is None


def test_rollout_restart_replaces_pods_and_status_succeeds(kube):
    k = kube(scenario())
    assert k.kubectl("rollout", "restart", "deployment/provider-aws", "-n", NS, check=True).stdout == \
        "deployment.apps/provider-aws restarted\n"
    patch = [r for r in k.requests() if r["method"] == "PATCH"][0]
    assert patch["contentType"] == "application/strategic-merge-patch+json"
    assert "kubectl.kubernetes.io/restartedAt" in patch["body"]["spec"]["template"]["metadata"]["annotations"]

    started = time.monotonic()
    status = k.kubectl("rollout", "status", "deployment/provider-aws", "-n", NS, "--timeout=30s", check=True)
    assert status.stdout == 'deployment "provider-aws" successfully rolled out\n'
    assert time.monotonic() - started < 10

    [pod] = pods(k)
    assert POD_NAME.match(pod["metadata"]["name"]), pod["metadata"]["name"]
    assert pod["status"]["phase"] == "Running" and pod["spec"]["nodeName"] == "ip-10-0-1-23"
    assert pod["metadata"]["labels"]["pkg.crossplane.io/provider"] == "provider-aws"
    assert "kubectl.kubernetes.io/restartedAt" in pod["metadata"]["annotations"]
    [owner] = pod["metadata"]["ownerReferences"]
    replica_set = k.kubectl_json("get", "replicaset", owner["name"], "-n", NS)
    assert replica_set["metadata"]["ownerReferences"][0]["name"] == "provider-aws"
    deploy = k.kubectl_json("get", "deployment", "provider-aws", "-n", NS)
    assert deploy["metadata"]["generation"] == 2 == deploy["status"]["observedGeneration"]
    assert deploy["status"]["updatedReplicas"] == deploy["status"]["availableReplicas"] == 1
    env = env_of(pod)
    assert env["AWS_ROLE_ARN"] == ROLE_ARN  # IRSA from the ServiceAccount annotation
    assert env["AWS_WEB_IDENTITY_TOKEN_FILE"] == "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
    assert env["AWS_STS_REGIONAL_ENDPOINTS"] == "regional"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-2"
    assert pod["spec"]["volumes"] == [{"name": "aws-iam-token", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}}]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [{
        "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount", "name": "aws-iam-token", "readOnly": True}]


def test_webhook_reads_service_account_at_pod_creation(kube):
    objects = [service_account(), deployment(), seeded_pod()]
    k = kube(scenario(objects=objects))
    k.kubectl("annotate", "serviceaccount", "provider-aws", "-n", NS,
              f"eks.amazonaws.com/role-arn={ROLE_ARN}", "eks.amazonaws.com/audience=sts.example.com", check=True)
    assert "env" not in pods(k)[0]["spec"]["containers"][0]  # annotating the SA changes nothing by itself
    k.kubectl("rollout", "restart", "deployment/provider-aws", "-n", NS, check=True)
    [pod] = pods(k)
    assert env_of(pod)["AWS_ROLE_ARN"] == ROLE_ARN
    token = pod["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]
    assert token["audience"] == "sts.example.com"


def test_pod_identity_takes_precedence_and_can_change_at_runtime(kube):
    k = kube(scenario(region="eu-central-1",
                      podIdentityAssociations=[{"namespace": NS, "serviceAccount": "provider-aws"}]))
    k.kubectl("rollout", "restart", "deployment/provider-aws", "-n", NS, check=True)
    [pod] = pods(k)
    env = env_of(pod)
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == "http://169.254.170.23/v1/credentials"
    assert env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] == \
        "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-central-1"
    assert "AWS_ROLE_ARN" not in env and "AWS_WEB_IDENTITY_TOKEN_FILE" not in env
    assert pod["spec"]["volumes"] == [{"name": "eks-pod-identity-token", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"audience": "pods.eks.amazonaws.com", "expirationSeconds": 86400,
                                 "path": "eks-pod-identity-token"}}]}}]
    assert pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"] == \
        "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"

    # dropping the association (through the HTTP control API) falls back to IRSA for new pods only
    assert call(k, "POST", "/_emulator/pod-identity-associations", [])[0] == 200
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in env_of(pods(k)[0])
    k.kubectl("delete", "pod", pod["metadata"]["name"], "-n", NS, check=True)  # the replacement is a new pod
    [replacement] = pods(k)
    assert env_of(replacement)["AWS_ROLE_ARN"] == ROLE_ARN
    k.emulator.set_pod_identity_associations([{"namespace": NS, "serviceAccount": "provider-aws"}])
    k.kubectl("delete", "pod", replacement["metadata"]["name"], "-n", NS, check=True)
    assert "AWS_ROLE_ARN" not in env_of(pods(k)[0])


def test_irsa_keeps_env_the_workload_already_sets(kube):
    preset = [{"name": "AWS_REGION", "value": "ap-south-1"}, {"name": "AWS_ROLE_ARN", "value": "arn:preset"}]
    sidecar = {"name": "init", "image": "busybox"}
    objects = [service_account(annotations={"eks.amazonaws.com/role-arn": ROLE_ARN}),
               deployment(initContainers=[sidecar])]
    objects[1]["spec"]["template"]["spec"]["containers"][0]["env"] = preset
    k = kube(scenario(objects=objects))
    k.kubectl("rollout", "restart", "deployment/provider-aws", "-n", NS, check=True)
    [pod] = pods(k)
    env = env_of(pod)
    assert env["AWS_REGION"] == "ap-south-1" and "AWS_DEFAULT_REGION" not in env
    assert env["AWS_ROLE_ARN"] == "arn:preset" and "AWS_WEB_IDENTITY_TOKEN_FILE" not in env
    init_env = {e["name"]: e["value"] for e in pod["spec"]["initContainers"][0]["env"]}
    assert init_env["AWS_ROLE_ARN"] == ROLE_ARN and init_env["AWS_DEFAULT_REGION"] == "us-east-2"
    assert pod["spec"]["initContainers"][0]["volumeMounts"][0]["name"] == "aws-iam-token"


# ---- Azure Workload Identity: the webhook runs only where its MutatingWebhookConfiguration is

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
OTHER_CLIENT_ID = "99999999-8888-7777-6666-555555555555"
TENANT = "00000000-0000-0000-0000-0000000000b2"
AZ_LABEL = {"azure.workload.identity/use": "true"}
AZ_AUDIENCE = "api://AzureADTokenExchange"
AZ_OLD_FILE = "/var/run/secrets/azure/tokens/azure-identity-token"
AZ_NEW_FILE = "/var/run/secrets/azure/wi/token/azure-identity-token"
MWC_NAME = "azure-wi-webhook-mutating-webhook-configuration"


def azure_mwc(name=MWC_NAME, **webhook) -> dict:
    """The smallest configuration the emulator needs: the webhook entry by name (an entry without
    objectSelector gets the chart's `azure.workload.identity/use: "true"`)."""
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": name}, "webhooks": [{"name": "mutation.azure-workload-identity.io", **webhook}]}


def azure_scenario(*objects, version="v1.6.0", mwc=True) -> dict:
    return scenario(objects=[{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "aks-nodepool1-vmss000000"}},
                             *([azure_mwc()] if mwc else []), *objects],
                    azureWebhook={"version": version, "tenantId": TENANT})


def azure_sa(name="provider-azure", labels=None, **annotations) -> dict:
    sa = service_account(name, {f"azure.workload.identity/{k.replace('_', '-')}": v for k, v in annotations.items()})
    if labels:
        sa["metadata"]["labels"] = labels
    return sa


def azure_deployment(**pod_spec) -> dict:
    """Deployment provider-azure whose pod template carries the Azure WI label."""
    return deployment("provider-azure", sa="provider-azure", labels={"app": "a", **AZ_LABEL}, **pod_spec)


def restart(k: Kube, *deployments: str) -> None:
    """`kubectl rollout restart`; kubectl refuses a second restart within the same second (the
    restartedAt annotation has second precision), so wait that out."""
    for name in deployments:
        result = k.kubectl("rollout", "restart", f"deployment/{name}", "-n", NS)
        if "within the past second" in result.stderr:
            time.sleep(1.05)
            result = k.kubectl("rollout", "restart", f"deployment/{name}", "-n", NS)
        assert result.returncode == 0, result.stderr


def kubectl_pods(k: Kube) -> dict:
    """The pods in NS as the real kubectl reads them, by Deployment name (owner ReplicaSet minus hash)."""
    return {p["metadata"]["ownerReferences"][0]["name"].rsplit("-", 1)[0] if p["metadata"].get("ownerReferences")
            else p["metadata"]["name"]: p for p in k.kubectl_json("get", "pods", "-n", NS)["items"]}


def test_azure_wi_mutates_only_pods_that_carry_the_label(kube):
    """The webhook's objectSelector matches pod labels: the label on the pod template (what Helm
    customLabels and the DRC pod-template labels do) works; on the ServiceAccount only, or on the
    Deployment object only, nothing is injected."""
    on_deployment = deployment("on-deployment", sa="provider-azure", labels={"app": "d"})
    on_deployment["metadata"]["labels"] = dict(AZ_LABEL)
    k = kube(azure_scenario(
        azure_sa(labels=dict(AZ_LABEL), client_id=CLIENT_ID),
        deployment("on-pod", sa="provider-azure", labels={"app": "p", **AZ_LABEL}),
        deployment("on-sa", sa="provider-azure", labels={"app": "s"}),
        on_deployment))
    restart(k, "on-pod", "on-sa", "on-deployment")
    by_deployment = kubectl_pods(k)
    assert env_of(by_deployment["on-pod"]) == {
        "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_TENANT_ID": TENANT, "AZURE_FEDERATED_TOKEN_FILE": AZ_NEW_FILE,
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/"}
    for name in ("on-sa", "on-deployment"):
        assert "env" not in by_deployment[name]["spec"]["containers"][0], name
        assert "volumes" not in by_deployment[name]["spec"], name


def test_azure_wi_reads_the_service_account_as_it_is_at_pod_creation(kube):
    """Changing the client-id annotation changes nothing in running pods; a restart picks it up. The
    client-id is not needed for the mutation: without it the pod gets everything but AZURE_CLIENT_ID.
    A tenant-id annotation wins over the webhook's configured tenant."""
    k = kube(azure_scenario(azure_sa(), azure_deployment()))
    restart(k, "provider-azure")
    [first] = pods(k)
    assert env_of(first) == {"AZURE_TENANT_ID": TENANT, "AZURE_FEDERATED_TOKEN_FILE": AZ_NEW_FILE,
                             "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/"}
    k.kubectl("annotate", "sa", "provider-azure", "-n", NS, f"azure.workload.identity/client-id={CLIENT_ID}",
              "azure.workload.identity/tenant-id=tenant-from-sa", check=True)
    assert "AZURE_CLIENT_ID" not in env_of(kubectl_pods(k)["provider-azure"])  # the old pod keeps its env
    restart(k, "provider-azure")
    [second] = pods(k)
    assert second["metadata"]["name"] != first["metadata"]["name"]
    assert env_of(second)["AZURE_CLIENT_ID"] == CLIENT_ID and env_of(second)["AZURE_TENANT_ID"] == "tenant-from-sa"
    k.kubectl("annotate", "sa", "provider-azure", "-n", NS, f"azure.workload.identity/client-id={OTHER_CLIENT_ID}",
              "--overwrite", check=True)
    assert env_of(kubectl_pods(k)["provider-azure"])["AZURE_CLIENT_ID"] == CLIENT_ID
    k.kubectl("delete", "pod", second["metadata"]["name"], "-n", NS, check=True)  # the replacement is new
    assert env_of(kubectl_pods(k)["provider-azure"])["AZURE_CLIENT_ID"] == OTHER_CLIENT_ID


@pytest.mark.parametrize("version, volume_prefix, mount, file, path", [
    ("v1.5.0", "azure-identity-token", "/var/run/secrets/azure/tokens", AZ_OLD_FILE, "azure-identity-token"),
    ("v1.5.1-20", "azure-identity-token", "/var/run/secrets/azure/tokens", AZ_OLD_FILE, "azure-identity-token"),
    ("v1.6.0", "azure-workload-identity-reserved-", "/var/run/secrets/azure/wi", AZ_NEW_FILE,
     "token/azure-identity-token"),
])
def test_azure_wi_token_layout_follows_the_webhook_version(kube, version, volume_prefix, mount, file, path):
    """v1.6.0 moved the token and names the volume after sha256 of the pod name as the webhook saw it
    (truncated to 63 characters in all): a controller-created pod has no name at admission, so the
    hash is over `<generateName> (prefix)`; a pod created with a name hashes that name."""
    k = kube(azure_scenario(azure_sa(client_id=CLIENT_ID), azure_deployment(), version=version))
    restart(k, "provider-azure")
    named = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": NS, "labels": AZ_LABEL},
             "spec": {"serviceAccountName": "provider-azure", "containers": [{"name": "shell", "image": "busybox"}]}}
    k.kubectl("create", "-f", "-", stdin=json.dumps(named), check=True)
    by_name = kubectl_pods(k)
    for pod, hashed in ((by_name["provider-azure"], by_name["provider-azure"]["metadata"].get("generateName", "?") +
                         " (prefix)"), (by_name["debug"], "debug")):
        [volume] = pod["spec"]["volumes"]
        expected_name = volume_prefix if version < "v1.6" else \
            volume_prefix + hashlib.sha256(hashed.encode()).hexdigest()[:30]
        assert volume == {"name": expected_name, "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {
            "audience": AZ_AUDIENCE, "expirationSeconds": 3600, "path": path}}]}}
        assert len(volume["name"]) <= 63
        assert pod["spec"]["containers"][0]["volumeMounts"] == [{"mountPath": mount, "name": expected_name,
                                                                 "readOnly": True}]
        assert env_of(pod)["AZURE_FEDERATED_TOKEN_FILE"] == file
    assert by_name["provider-azure"]["metadata"]["generateName"].startswith("provider-azure-")


def test_azure_wi_needs_its_webhook_configuration(kube):
    """No MutatingWebhookConfiguration (workload identity disabled on the cluster): nothing is
    injected. Creating one with kubectl turns the webhook on for new pods; deleting it turns it off.
    The configurations are served (cluster-scoped) for kubectl get, batched gets included."""
    k = kube(azure_scenario(azure_sa(client_id=CLIENT_ID), azure_deployment(), mwc=False))
    restart(k, "provider-azure")
    assert "env" not in pods(k)[0]["spec"]["containers"][0]
    assert k.kubectl_json("get", "mutatingwebhookconfigurations.v1.admissionregistration.k8s.io")["items"] == []

    k.kubectl("create", "-f", "-", stdin=json.dumps(azure_mwc()), check=True)
    assert "env" not in pods(k)[0]["spec"]["containers"][0]  # existing pods stay as they were
    restart(k, "provider-azure")
    assert env_of(pods(k)[0])["AZURE_CLIENT_ID"] == CLIENT_ID

    listed = k.kubectl_json("get", "mutatingwebhookconfigurations.v1.admissionregistration.k8s.io")
    assert [m["metadata"]["name"] for m in listed["items"]] == [MWC_NAME]
    assert listed["items"][0]["webhooks"][0]["name"] == "mutation.azure-workload-identity.io"
    got = k.kubectl_json("get", "mutatingwebhookconfiguration", MWC_NAME)
    assert got["apiVersion"] == "admissionregistration.k8s.io/v1" and "namespace" not in got["metadata"]
    batched = k.kubectl_json("get", "mutatingwebhookconfigurations.v1.admissionregistration.k8s.io,pods,serviceaccounts",
                             "-A")
    assert [i["kind"] for i in batched["items"]].count("MutatingWebhookConfiguration") == 1
    assert {"Pod", "ServiceAccount"} <= {i["kind"] for i in batched["items"]}
    table = k.kubectl("get", "mutatingwebhookconfigurations", check=True).stdout.split()
    assert table[:3] == ["NAME", "WEBHOOKS", "AGE"] and table[3:5] == [MWC_NAME, "1"]
    assert "validatingwebhookconfigurations.admissionregistration.k8s.io" in \
        k.kubectl("api-resources", "-o", "name", check=True).stdout.split()

    k.kubectl("delete", "mutatingwebhookconfiguration", MWC_NAME, check=True)
    restart(k, "provider-azure")
    assert "env" not in pods(k)[0]["spec"]["containers"][0]


def test_azure_wi_selectors_of_the_stored_configuration_are_honoured(kube):
    """The entry's objectSelector and namespaceSelector are evaluated as stored (here: a custom pod
    label, and only namespaces labelled wi=on)."""
    custom = azure_mwc(objectSelector={"matchExpressions": [{"key": "wi", "operator": "In", "values": ["yes"]}]},
                       namespaceSelector={"matchLabels": {"wi": "on"}})
    k = kube(scenario(objects=[custom, azure_sa(client_id=CLIENT_ID),
                               deployment("provider-azure", sa="provider-azure", labels={"app": "a", "wi": "yes"})]))
    restart(k, "provider-azure")
    assert "env" not in pods(k)[0]["spec"]["containers"][0]  # the namespace is not labelled
    k.kubectl("label", "namespace", NS, "wi=on", check=True)
    restart(k, "provider-azure")
    assert env_of(pods(k)[0])["AZURE_CLIENT_ID"] == CLIENT_ID


def test_azure_wi_skip_containers_and_env_the_workload_sets(kube):
    """`skip-containers` (semicolon-separated, on the pod) leaves those containers alone, init
    containers included; the volume is still added. Variables a container already sets are kept."""
    template = azure_deployment(initContainers=[
        {"name": "init", "image": "busybox"}, {"name": "init-skipped", "image": "busybox"}])
    template["spec"]["template"]["metadata"]["annotations"] = {
        "azure.workload.identity/skip-containers": "sidecar; init-skipped"}
    template["spec"]["template"]["spec"]["containers"] += [{"name": "sidecar", "image": "envoy"}]
    template["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "AZURE_CLIENT_ID", "value": "preset"}]
    k = kube(azure_scenario(azure_sa(client_id=CLIENT_ID), template, version="v1.5.0"))
    restart(k, "provider-azure")
    [pod] = pods(k)
    containers = {c["name"]: c for c in pod["spec"]["initContainers"] + pod["spec"]["containers"]}
    assert env_of(pod)["AZURE_CLIENT_ID"] == "preset" and env_of(pod)["AZURE_FEDERATED_TOKEN_FILE"] == AZ_OLD_FILE
    assert {e["name"] for e in containers["init"]["env"]} == {
        "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"}
    assert containers["init"]["volumeMounts"][0]["name"] == "azure-identity-token"
    for skipped in ("sidecar", "init-skipped"):
        assert "env" not in containers[skipped] and "volumeMounts" not in containers[skipped], skipped
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["azure-identity-token"]


def test_azure_wi_token_expiration_and_its_denial(kube):
    """The expiration comes from the pod annotation, else the SA's; outside 3600..86400 the webhook
    denies the pod: kubectl create fails with the apiserver's wording, and the Deployment controller
    creates no pod (ReplicaFailure FailedCreate)."""
    k = kube(azure_scenario(azure_sa(client_id=CLIENT_ID, service_account_token_expiration="7200"),
                            azure_deployment()))
    restart(k, "provider-azure")
    token = pods(k)[0]["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]
    assert token["expirationSeconds"] == 7200
    bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "short", "namespace": NS, "labels": AZ_LABEL,
        "annotations": {"azure.workload.identity/service-account-token-expiration": "600"}},
        "spec": {"serviceAccountName": "provider-azure", "containers": [{"name": "c", "image": "busybox"}]}}
    denied = k.kubectl("create", "-f", "-", stdin=json.dumps(bad))
    assert denied.returncode == 1
    assert 'admission webhook "mutation.azure-workload-identity.io" denied the request: token expiration 600 not ' \
           'valid. Expected value to be between 3600 and 86400' in denied.stderr, denied.stderr
    assert [r["status"] for r in k.requests() if r["method"] == "POST"] == [400]
    assert "short" not in kubectl_pods(k)

    k.kubectl("annotate", "sa", "provider-azure", "-n", NS,
              "azure.workload.identity/service-account-token-expiration=100000", "--overwrite", check=True)
    restart(k, "provider-azure")
    assert pods(k) == []
    deploy = k.kubectl_json("get", "deployment", "provider-azure", "-n", NS)
    failure = next(c for c in deploy["status"]["conditions"] if c["type"] == "ReplicaFailure")
    assert failure["reason"] == "FailedCreate" and "token expiration 100000 not valid" in failure["message"]
    assert deploy["status"]["unavailableReplicas"] == 1
    assert next(c for c in deploy["status"]["conditions"] if c["type"] == "Available")["status"] == "False"


def test_azure_wi_and_irsa_are_independent(kube):
    """An EKS-style scenario (no Azure configuration) is unchanged by the Azure label, and the
    Azure webhook leaves the AWS variables alone."""
    sa = service_account(annotations={"eks.amazonaws.com/role-arn": ROLE_ARN,
                                      "azure.workload.identity/client-id": CLIENT_ID})
    k = kube(scenario(objects=[sa, deployment(labels={"app": "a", **AZ_LABEL})]))
    restart(k, "provider-aws")
    assert not any(name.startswith("AZURE_") for name in env_of(pods(k)[0]))
    k.emulator.add_objects([azure_mwc()])
    restart(k, "provider-aws")
    env = env_of(pods(k)[0])
    assert env["AWS_ROLE_ARN"] == ROLE_ARN and env["AZURE_CLIENT_ID"] == CLIENT_ID
    assert sorted(v["name"] for v in pods(k)[0]["spec"]["volumes"])[0] == "aws-iam-token"


def test_azure_webhook_version_must_parse():
    with pytest.raises(ScenarioError, match="azureWebhook.version"):
        KubeEmulator(scenario(azureWebhook={"version": "latest"}))


def test_deleted_pod_is_replaced_and_scaling_follows_replicas(kube):
    k = kube(scenario())
    k.kubectl("delete", "pod", "provider-aws-5d8f7c9b4f-abcde", "-n", NS, check=True)
    [replacement] = pods(k)
    assert replacement["metadata"]["name"].startswith("provider-aws-5d8f7c9b4f-")  # same (adopted) ReplicaSet
    assert env_of(replacement)["AWS_ROLE_ARN"] == ROLE_ARN  # new pods go through the webhook
    k.kubectl("scale", "deployment/provider-aws", "-n", NS, "--replicas=3", check=True)
    assert len(pods(k)) == 3
    assert k.kubectl("rollout", "status", "deployment/provider-aws", "-n", NS, "--timeout=10s").returncode == 0
    k.kubectl("delete", "deployment", "provider-aws", "-n", NS, check=True)
    assert pods(k) == []


def test_create_deployment_from_manifest(kube):
    k = kube(scenario(objects=[service_account(annotations={"eks.amazonaws.com/role-arn": ROLE_ARN})]))
    manifest = deployment(replicas=2)
    del manifest["status"]
    k.kubectl("create", "-f", "-", stdin=json.dumps(manifest), check=True)
    created = pods(k)
    assert len(created) == 2 and all(POD_NAME.match(p["metadata"]["name"]) for p in created)
    assert all(env_of(p)["AWS_ROLE_ARN"] == ROLE_ARN for p in created)
    assert "nodeName" not in created[0]["spec"]  # no Node objects in this scenario


# --------------------------------------------------------------------------- HTTPS and authentication

def test_https_with_ca_data_in_the_kubeconfig(kube):
    k = kube(scenario(), tls=True)
    assert k.emulator.url.startswith("https://127.0.0.1:")
    cluster = k.kubectl_json("config", "view", "--raw")["clusters"][0]["cluster"]
    assert base64.b64decode(cluster["certificate-authority-data"]).decode() == k.emulator.ca_pem
    assert k.kubectl("get", "providers", "-o", "name", check=True).stdout == "provider.pkg.crossplane.io/provider-aws\n"
    assert call(k, "GET", "/version")[0] == 200  # trusting the CA (Kube.emulator.ssl_context())
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(k.emulator.url + "/version", context=ssl.create_default_context())
    with pytest.raises((ConnectionError, http.client.HTTPException)):  # plain HTTP to the TLS port
        connection = http.client.HTTPConnection("127.0.0.1", k.emulator.port, timeout=5)
        connection.request("GET", "/version")
        connection.getresponse().read()


def test_https_user_without_credentials_is_prompted_for_a_username(kube):
    """Real kubectl over HTTPS with a kubeconfig user that has no credentials asks for basic-auth
    credentials on stdout before any API request, and fails with `error: EOF` on a closed stdin.
    (Over plain HTTP it never prompts: it sends the requests without credentials.)"""
    for auth in ("token", "anonymous"):
        k = kube(scenario(), tls=True, auth=auth, token=None)
        assert k.kubectl_json("config", "view", "--raw")["users"][0]["user"] == {}
        k.emulator.reset_requests()
        result = k.kubectl("get", "pods", "-A")
        assert (result.returncode, result.stdout, result.stderr) == (1, "Please enter Username: ", "error: EOF\n")
        # nothing from kubectl itself; at most the gcloud dispatcher's version probe (no credentials either)
        assert [(r["path"], r["userAgent"].split("/")[0]) for r in k.emulator.requests] in (
            [], [("/version", "kubectl-dispatcher")])


def test_tls_without_the_openssl_cli(kube, monkeypatch):
    """The certificates come from the `cryptography` package when there is no openssl on PATH."""
    pytest.importorskip("cryptography", reason="the fallback needs the cryptography package (a moto dependency)")
    import kube_emulator
    monkeypatch.setattr(kube_emulator.shutil, "which", lambda _name: None)
    k = kube(scenario(), tls=True, auth="token")
    assert k.kubectl("get", "providers", "-o", "name", check=True).stdout == "provider.pkg.crossplane.io/provider-aws\n"


def test_token_mode_requires_a_bearer_token(kube):
    k = kube(scenario(), tls=True, auth="token")
    assert k.kubectl("get", "providers", "-o", "name", check=True).stdout == "provider.pkg.crossplane.io/provider-aws\n"
    assert {r["user"] for r in k.emulator.requests} == {"alice"}
    status, content_type, body = call(k, "GET", "/api/v1/pods")
    assert (status, content_type) == (401, "application/json")
    assert json.loads(body) == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    assert call(k, "GET", "/version", headers={"Authorization": "Bearer anything"})[0] == 200

    # kubectl sends the kubeconfig user's credentials over TLS only (see the module docstring)
    rejected = kube(scenario(), tls=True, auth="token", tokens=["good"], token="expired")
    result = rejected.kubectl("get", "pods", "-A")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == \
        "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
    assert {r["status"] for r in rejected.emulator.requests} == {401}
    accepted = kube(scenario(), tls=True, auth="token", tokens=["good"], token="good")
    accepted.kubectl("get", "pods", "-A", check=True)
    over_http = kube(scenario(), auth="token", token="good")
    assert over_http.kubectl("get", "pods", "-A").returncode == 1
    assert {r["status"] for r in over_http.emulator.requests} == {401}


def test_anonymous_mode_forbids_everything_to_system_anonymous(kube):
    """A server with anonymous auth on and no RBAC for system:anonymous. Real kubectl: `get --raw`
    prints the Status message; discovery (any `get`, `version`) decodes no Status body from a 403
    and prints `Error from server (Forbidden): unknown` after repeated memcache.go
    `couldn't get current server API group list: unknown` lines."""
    # Plain HTTP: kubectl sends no credentials at all there, whatever the kubeconfig says (over
    # HTTPS a user without credentials gets the username prompt instead, see above).
    k = kube(scenario(), auth="anonymous", token=None)
    raw = k.kubectl("get", "--raw", "/api")
    assert (raw.returncode, raw.stderr) == (
        1, 'Error from server (Forbidden): forbidden: User "system:anonymous" cannot get path "/api"\n')
    listing = k.kubectl("get", "pods", "-A", "-o", "json")
    assert listing.returncode == 1 and listing.stdout == ""
    assert listing.stderr.splitlines()[-1] == "Error from server (Forbidden): unknown"
    assert re.search(r"(?i)couldn't get current server API group list\W+(err=\W)?unknown", listing.stderr)
    assert {(r["status"], r["user"]) for r in k.emulator.requests} == {(403, "system:anonymous")}
    assert not [r for r in k.emulator.requests if r["path"] == "/api/v1/pods"]
    for path, message in (
            ("/version", 'forbidden: User "system:anonymous" cannot get path "/version"'),
            ("/apis", 'forbidden: User "system:anonymous" cannot get path "/apis"'),
            ("/api/v1/pods", 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" '
                             'at the cluster scope')):
        status, _, body = call(k, "GET", path)
        assert status == 403 and json.loads(body)["message"] == message and json.loads(body)["reason"] == "Forbidden"
    assert json.loads(call(k, "GET", "/apis")[2])["details"] == {}
    # with a bearer token the same server answers as the scenario's user; other credentials are a 401
    assert call(k, "GET", "/api/v1/pods", headers={"Authorization": "Bearer t"})[0] == 200
    assert call(k, "GET", "/api/v1/pods", headers={"Authorization": "Basic dTpw"})[0] == 401
    with_token = kube(scenario(), tls=True, auth="anonymous")
    assert with_token.kubectl("get", "providers", "-o", "name", check=True).stdout == \
        "provider.pkg.crossplane.io/provider-aws\n"
    assert {r["user"] for r in with_token.emulator.requests} == {"alice"}


# --------------------------------------------------------------------------- faults, control API, plumbing

def test_faults(kube):
    k = kube(scenario(faults=[{"path_regex": r"/pods$", "method": "GET", "status": 500, "times": 1}]))
    first = k.kubectl("get", "pods", "-A", "-o", "name")
    assert first.returncode == 1 and "Error from server (InternalError)" in first.stderr
    assert k.kubectl("get", "pods", "-A", "-o", "name").returncode == 0  # `times` used up

    k.emulator.set_faults([{"path_regex": r"/pods$", "body": "__malformed__"}])
    malformed = k.kubectl("get", "pods", "-A", "-o", "name")
    assert malformed.returncode == 1 and "unexpected end of JSON input" in malformed.stderr

    assert call(k, "POST", "/_emulator/faults", [{"path_regex": "/providers", "status": 503,
                                                   "body": "upstream down"}])[0] == 200
    unavailable = k.kubectl("get", "providers")
    assert "Error from server (ServiceUnavailable)" in unavailable.stderr
    assert call(k, "GET", "/apis/pkg.crossplane.io/v1/providers") == (503, "text/plain; charset=utf-8",
                                                                      "upstream down")

    k.emulator.set_faults([{"path_regex": r"/pods$", "delay_ms": 1500, "times": 1}])
    started = time.monotonic()
    slow = k.kubectl("get", "pods", "-A", "--request-timeout=1s")
    # Go reports either "context deadline exceeded" or "Client.Timeout exceeded", whichever fires first
    assert slow.returncode == 1 and slow.stderr.startswith("Unable to connect to the server: ")
    assert time.monotonic() - started >= 1


def test_control_api_and_request_log(kube):
    k = kube(scenario())
    k.kubectl("label", "provider", "provider-aws", "team=platform", check=True)
    status, content_type, body = call(k, "GET", "/_emulator/requests")
    assert (status, content_type) == (200, "application/json")
    patch = [r for r in json.loads(body) if r["method"] == "PATCH"][0]
    assert patch["path"] == "/apis/pkg.crossplane.io/v1/providers/provider-aws"
    assert patch["query"] == {"fieldManager": "kubectl-label"}
    assert patch["contentType"] == "application/merge-patch+json"
    assert patch["body"] == {"metadata": {"labels": {"team": "platform"}}}
    assert patch["status"] == 200 and patch["userAgent"].startswith("kubectl/v1.32")
    assert not any(r["path"].startswith("/_emulator") for r in k.emulator.requests)  # control calls are not logged

    assert call(k, "POST", "/_emulator/reset-log")[0] == 200
    assert k.emulator.requests == []
    extra = seeded_pod("added-later-xyz12", owner="other")
    assert call(k, "POST", "/_emulator/objects", [extra])[0] == 200
    dumped = json.loads(call(k, "GET", "/_emulator/objects?kind=Pod")[2])
    assert sorted(p["metadata"]["name"] for p in dumped) == ["added-later-xyz12", "provider-aws-5d8f7c9b4f-abcde"]
    assert "env" not in k.kubectl_json("get", "pod", "added-later-xyz12", "-n", NS)["spec"]["containers"][0]
    unknown = call(k, "POST", "/_emulator/objects", [{"apiVersion": "x.io/v1", "kind": "Thing",
                                                      "metadata": {"name": "t"}}])
    assert unknown[0] == 400 and "no resource is registered" in unknown[2]


def test_unknown_kind_in_scenario_is_an_error():
    with pytest.raises(ScenarioError, match="kind='Composition'"):
        KubeEmulator({"objects": [{"apiVersion": "apiextensions.crossplane.io/v1", "kind": "Composition",
                                   "metadata": {"name": "c"}}]})


def test_kubeconfig_with_eks_style_context(kube):
    k = kube(scenario(), context=EKS_CONTEXT, cluster_name=EKS_CONTEXT, user_name=EKS_CONTEXT, namespace=NS,
             extra_user_fields={"token": "eks-style-token", "as": "xpid-tester"})
    assert k.kubectl("config", "current-context", check=True).stdout.strip() == EKS_CONTEXT
    minified = k.kubectl_json("config", "view", "--minify", "--raw")
    assert minified["clusters"][0]["name"] == EKS_CONTEXT
    assert minified["clusters"][0]["cluster"]["server"] == k.emulator.url
    assert minified["contexts"][0]["context"]["namespace"] == NS
    assert minified["users"][0]["user"] == {"token": "eks-style-token", "as": "xpid-tester"}
    # the context namespace is used when -n is absent
    assert k.kubectl("get", "pods", "-o", "name", check=True).stdout == "pod/provider-aws-5d8f7c9b4f-abcde\n"


def test_keep_alive_connection_serves_several_requests(kube):
    import http.client
    k = kube(scenario())
    connection = http.client.HTTPConnection("127.0.0.1", k.emulator.port, timeout=5)
    for path in ("/version", "/api/v1/namespaces", "/apis/apps/v1/deployments"):
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("Content-Type") == "application/json"
        json.loads(response.read())
    connection.close()


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https-token"])
def test_runs_as_a_script(tmp_path, tls):
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(scenario()))
    port_file, ca_file = tmp_path / "port", tmp_path / "ca.crt"
    module = Path(__file__).with_name("kube_emulator.py")
    serve = ["--tls", "--auth", "token", "--ca-file", str(ca_file)] if tls else []
    process = subprocess.Popen([sys.executable, str(module), "--scenario", str(scenario_file), "--port", "0",
                                "--port-file", str(port_file), *serve], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        ca_pem = ca_file.read_text() if tls else None  # written before the port file
        write_kubeconfig(str(tmp_path / "kubeconfig"), url, ca_pem=ca_pem)
        env = {"HOME": str(tmp_path), "KUBECACHEDIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
        result = subprocess.run([KUBECTL, "--kubeconfig", str(tmp_path / "kubeconfig"), "get", "providers",
                                 "-o", "name"], capture_output=True, text=True, env=env, timeout=30)
        assert result.stdout == "provider.pkg.crossplane.io/provider-aws\n", result.stderr
        context = ssl.create_default_context(cadata=ca_pem) if tls else None
        with urllib.request.urlopen(f"{url}/_emulator/requests", context=context) as response:  # no token needed
            assert any(r["path"] == "/apis/pkg.crossplane.io/v1/providers" for r in json.load(response))
        if tls:
            with pytest.raises(urllib.error.HTTPError, match="401"):
                urllib.request.urlopen(f"{url}/api", context=context)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
