"""Builds end-to-end scenarios: Kubernetes objects for the API emulator and an AWS seed
spec for the stand-in, shaped like what Crossplane, the EKS webhook and the Pod Identity
agent really create (see the project's reference notes on workload identity).

`Cluster` starts empty; helpers add the pieces a seed document describes, so a test
reads like the setup it checks: `c.pod_identity_seed()` is seed 002 done right, and a
broken variant changes exactly one thing.
"""
from __future__ import annotations

import copy
import hashlib

NS = "crossplane-system"
ACCOUNT = "123456789012"
PODS_CREATED = "2026-11-10T09:00:00Z"
BEFORE_PODS = "2026-11-01T08:00:00Z"
AFTER_PODS = "2026-11-15T12:00:00Z"

POD_IDENTITY_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                   "Action": ["sts:AssumeRole", "sts:TagSession"]}],
}

CROSSPLANE_CRDS = [
    {"group": "pkg.crossplane.io", "version": "v1", "plural": "providers", "kind": "Provider", "namespaced": False},
    {"group": "pkg.crossplane.io", "version": "v1", "plural": "functions", "kind": "Function", "namespaced": False},
    {"group": "pkg.crossplane.io", "version": "v1", "plural": "providerrevisions", "kind": "ProviderRevision", "namespaced": False},
    {"group": "pkg.crossplane.io", "version": "v1beta1", "plural": "deploymentruntimeconfigs", "kind": "DeploymentRuntimeConfig", "namespaced": False},
    {"group": "pkg.crossplane.io", "version": "v1beta1", "plural": "imageconfigs", "kind": "ImageConfig", "namespaced": False},
]
AWS_FAMILY_CRDS = [
    {"group": "aws.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig", "namespaced": False},
    {"group": "aws.m.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig", "namespaced": True},
    {"group": "aws.m.upbound.io", "version": "v1beta1", "plural": "clusterproviderconfigs", "kind": "ClusterProviderConfig", "namespaced": False},
]


def digest12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def pod_identity_env(region: str) -> list:
    return [
        {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
        {"name": "AWS_DEFAULT_REGION", "value": region},
        {"name": "AWS_REGION", "value": region},
        {"name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://169.254.170.23/v1/credentials"},
        {"name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
         "value": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"},
    ]


def irsa_env(role_arn: str) -> list:
    return [
        {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
        {"name": "AWS_ROLE_ARN", "value": role_arn},
        {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
    ]


class Cluster:
    def __init__(self, name: str = "prod-eks", region: str = "us-east-2"):
        self.name = name
        self.region = region
        self.objects: list = []
        self.crds = CROSSPLANE_CRDS + AWS_FAMILY_CRDS
        self.forbidden: list = []
        self.roles: list = []
        self.associations: list = []
        self.addon: dict | None = {"status": "ACTIVE"}
        self.nodes: list = []
        self.faults: list = []
        self.aggregated_discovery = True

    @property
    def context(self) -> str:
        """`aws eks update-kubeconfig` names contexts after the cluster ARN."""
        return f"arn:aws:eks:{self.region}:{ACCOUNT}:cluster/{self.name}"

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/{name}"

    # ---- nodes and the Pod Identity agent -------------------------------------------
    def node(self, name: str, zone: str = "a", compute_type: str | None = None) -> "Cluster":
        labels = {"kubernetes.io/os": "linux", "topology.kubernetes.io/region": self.region,
                  "topology.kubernetes.io/zone": f"{self.region}{zone}"}
        if compute_type:
            labels["eks.amazonaws.com/compute-type"] = compute_type
            provider_id = f"aws:///{self.region}{zone}/{name}"
        else:
            labels["eks.amazonaws.com/nodegroup"] = "default"
            provider_id = f"aws:///{self.region}{zone}/i-0{digest12(name)[:16]}"
        self.nodes.append(name)
        self.objects.append({"apiVersion": "v1", "kind": "Node",
                             "metadata": {"name": name, "labels": labels, "creationTimestamp": "2026-10-01T00:00:00Z"},
                             "spec": {"providerID": provider_id}, "status": {}})
        return self

    def agent(self, ready: int | None = None, on_nodes: list | None = None) -> "Cluster":
        nodes = on_nodes if on_nodes is not None else [n for n in self.nodes]
        desired = len(nodes)
        ready = desired if ready is None else ready
        labels = {"app.kubernetes.io/name": "eks-pod-identity-agent", "app.kubernetes.io/instance": "eks-pod-identity-agent"}
        self.objects.append({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "eks-pod-identity-agent", "namespace": "kube-system", "labels": labels,
                         "creationTimestamp": "2026-10-01T00:00:00Z"},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"hostNetwork": True, "containers": [{"name": "eks-pod-identity-agent", "image": "agent:v0.1"}]}}},
            "status": {"desiredNumberScheduled": desired, "currentNumberScheduled": desired, "numberReady": ready,
                       "numberAvailable": ready, "updatedNumberScheduled": desired},
        })
        for i, node in enumerate(nodes):
            self.objects.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"eks-pod-identity-agent-{digest12(node)[:5]}", "namespace": "kube-system", "labels": labels,
                             "creationTimestamp": "2026-10-01T00:00:00Z",
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "eks-pod-identity-agent",
                                                  "uid": "ds-1", "controller": True}]},
                "spec": {"nodeName": node, "hostNetwork": True, "containers": [{"name": "eks-pod-identity-agent", "image": "agent:v0.1"}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": "eks-pod-identity-agent", "ready": i < ready}]},
            })
        return self

    # ---- Crossplane ----------------------------------------------------------------
    def crossplane_core(self) -> "Cluster":
        labels = {"app": "crossplane", "release": "crossplane"}
        self.objects += [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "crossplane", "namespace": NS}},
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "crossplane", "namespace": NS, "labels": labels, "generation": 1},
             "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels},
                                   "spec": {"serviceAccountName": "crossplane",
                                            "containers": [{"name": "crossplane", "image": "xpkg.crossplane.io/crossplane/crossplane:v2.3.4"}]}}},
             "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1, "observedGeneration": 1}},
        ]
        self.drc("default")
        return self

    def drc(self, name: str, sa_name: str | None = None, sa_annotations: dict | None = None,
            pod_service_account: str | None = None) -> "Cluster":
        spec: dict = {}
        if sa_name or sa_annotations:
            meta: dict = {}
            if sa_name:
                meta["name"] = sa_name
            if sa_annotations:
                meta["annotations"] = sa_annotations
            spec["serviceAccountTemplate"] = {"metadata": meta}
        if pod_service_account:
            spec["deploymentTemplate"] = {"spec": {"selector": {}, "template": {"spec": {"serviceAccountName": pod_service_account, "containers": []}}}}
        self.objects.append({"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig",
                             "metadata": {"name": name}, "spec": spec})
        return self

    def provider(self, name: str, package: str, *, kind: str = "Provider", runtime_config: str | None = None,
                 service_account: str | None = None, env: str | None = "pod-identity", irsa_role: str | None = None,
                 created: str = PODS_CREATED, node: str | None = None, healthy: bool = True,
                 conditions: list | None = None, replicas: int = 1) -> "Cluster":
        """A package as Crossplane runs it: the package object with `status.currentRevision`,
        the revision's Deployment, its ServiceAccount and pods. `env` is what the webhook
        injected when the pods were created: "pod-identity", "irsa", "both" or None."""
        revision = f"{name}-{digest12(package)}"
        sa = service_account or revision
        label = "pkg.crossplane.io/provider" if kind == "Provider" else "pkg.crossplane.io/function"
        labels = {"pkg.crossplane.io/revision": revision, label: name}
        spec: dict = {"package": package}
        if runtime_config:
            spec["runtimeConfigRef"] = {"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "name": runtime_config}
        if conditions is None:
            conditions = [
                {"type": "Installed", "status": "True", "reason": "ActivePackageRevision"},
                {"type": "Healthy", "status": "True" if healthy else "False",
                 "reason": "HealthyPackageRevision" if healthy else "UnhealthyPackageRevision"},
            ]
        api = "pkg.crossplane.io/v1"
        self.objects.append({"apiVersion": api, "kind": kind, "metadata": {"name": name, "generation": 1},
                             "spec": spec, "status": {"currentRevision": revision, "conditions": conditions}})
        if not any(o["kind"] == "ServiceAccount" and o["metadata"]["name"] == sa for o in self.objects):
            self.objects.append({"apiVersion": "v1", "kind": "ServiceAccount",
                                 "metadata": {"name": sa, "namespace": NS}})
        container = {"name": "package-runtime", "image": package.replace("xpkg.upbound.io", "xpkg.upbound.io"),
                     "env": [{"name": "POD_NAMESPACE", "value": NS}, {"name": "REVISION_NAME", "value": revision}]}
        volumes, mounts = [], []
        if env in ("pod-identity", "both"):
            container["env"] += pod_identity_env(self.region)
            volumes.append({"name": "eks-pod-identity-token", "projected": {"sources": [{"serviceAccountToken": {
                "audience": "pods.eks.amazonaws.com", "expirationSeconds": 86400, "path": "eks-pod-identity-token"}}]}})
            mounts.append({"name": "eks-pod-identity-token", "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount", "readOnly": True})
        if env in ("irsa", "both"):
            container["env"] += irsa_env(irsa_role or self.role_arn("irsa-role"))
            volumes.append({"name": "aws-iam-token", "projected": {"sources": [{"serviceAccountToken": {
                "audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}})
            mounts.append({"name": "aws-iam-token", "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount", "readOnly": True})
        if mounts:
            container["volumeMounts"] = mounts
        template_spec = {"serviceAccountName": sa, "containers": [{"name": "package-runtime", "image": container["image"]}]}
        self.objects.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": revision, "namespace": NS, "labels": labels, "generation": 1,
                         "ownerReferences": [{"apiVersion": api, "kind": f"{kind}Revision", "name": revision, "uid": f"rev-{revision}", "controller": True}]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": template_spec}},
            "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                       "updatedReplicas": replicas, "observedGeneration": 1},
        })
        for i in range(replicas):
            pod_spec = {"serviceAccountName": sa, "nodeName": node or (self.nodes[i % len(self.nodes)] if self.nodes else None),
                        "containers": [container], "volumes": volumes}
            self.objects.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"{revision}-{digest12(revision)[:9]}-{digest12(str(i) + revision)[:5]}", "namespace": NS,
                             "labels": labels, "creationTimestamp": created,
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{revision}-{digest12(revision)[:9]}",
                                                  "uid": f"rs-{revision}", "controller": True}]},
                "spec": copy.deepcopy(pod_spec),
                "status": {"phase": "Running", "containerStatuses": [{"name": "package-runtime", "ready": True, "state": {"running": {}}}]},
            })
        return self

    def provider_config(self, source: str | None, *, api: str = "aws.m.upbound.io", kind: str = "ProviderConfig",
                        name: str = "default", namespace: str | None = "default", chain: list | None = None) -> "Cluster":
        spec: dict = {"credentials": {"source": source}} if source else {"credentials": {}}
        if chain:
            spec["assumeRoleChain"] = [{"roleARN": r} for r in chain]
        meta: dict = {"name": name}
        if api == "aws.m.upbound.io" and kind == "ProviderConfig":
            meta["namespace"] = namespace or "default"
        self.objects.append({"apiVersion": f"{api}/v1beta1", "kind": kind, "metadata": meta, "spec": spec})
        return self

    # ---- AWS side ------------------------------------------------------------------
    def role(self, name: str, trust: dict) -> "Cluster":
        self.roles.append({"name": name, "trust": trust})
        return self

    def association(self, service_account: str, role: str, created_at: str = BEFORE_PODS, namespace: str = NS) -> "Cluster":
        self.associations.append({"namespace": namespace, "serviceAccount": service_account, "roleName": role, "createdAt": created_at})
        return self

    def forbid(self, verb: str, resource: str, namespace: str = "*", group: str = "") -> "Cluster":
        self.forbidden.append({"verb": verb, "resource": resource, "group": group, "namespace": namespace})
        return self

    # ---- complete setups -----------------------------------------------------------
    def pod_identity_seed(self, sa: str = "provider-aws-pod-identity", role: str = "crossplane-provider-aws-pod-identity",
                          trust: dict | None = None) -> "Cluster":
        """Seed 002 done right: agent, DRC pinning the SA name, Provider pointing at it, an
        association made before the pods, a trust with AssumeRole + TagSession, and a
        ProviderConfig with source PodIdentity. The family provider was installed as a
        dependency with the default runtime config."""
        self.node("ip-10-0-1-10", "a").node("ip-10-0-2-20", "b").agent().crossplane_core()
        self.drc("pod-identity-runtimeconfig", sa_name=sa)
        self.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0",
                      runtime_config="pod-identity-runtimeconfig", service_account=sa)
        self.provider("upbound-provider-family-aws", "xpkg.upbound.io/upbound/provider-family-aws:v2.3.0", env=None)
        self.provider_config("PodIdentity")
        self.role(role, trust or POD_IDENTITY_TRUST)
        self.association(sa, role)
        return self

    def s3_with_pinned_sa(self, association_created: str = BEFORE_PODS, **provider) -> "Cluster":
        """The Crossplane half of seed 002 (DRC, provider-aws-s3, ProviderConfig, role, association),
        for scenarios that set up nodes and the agent themselves; `provider` overrides how the
        provider's pods look (env, node, …)."""
        self.drc("pod-identity-runtimeconfig", sa_name="provider-aws-pod-identity")
        self.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0", runtime_config="pod-identity-runtimeconfig",
                      service_account="provider-aws-pod-identity", **provider)
        self.provider_config("PodIdentity").role("pi-role", POD_IDENTITY_TRUST)
        return self.association("provider-aws-pod-identity", "pi-role", created_at=association_created)

    def seed_003(self) -> "Cluster":
        """Seed 003 done right: the family provider created by hand (floating `:v1` tags), a DRC
        pinning the SA name `provider-aws-s3`, a legacy `aws.upbound.io` ProviderConfig named
        after the provider, and an association made by Terraform before the provider."""
        self.node("ip-10-0-1-10", "a").node("ip-10-0-2-20", "b").agent().crossplane_core()
        self.provider("provider-family-aws", "xpkg.upbound.io/upbound/provider-family-aws:v1", env=None)
        self.drc("provider-aws-pod-id-drc", sa_name="provider-aws-s3")
        self.provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v1", runtime_config="provider-aws-pod-id-drc",
                      service_account="provider-aws-s3")
        self.provider_config("PodIdentity", api="aws.upbound.io", name="provider-aws-s3", namespace=None)
        self.role("crossplane-eu-west-1-s3-Role", POD_IDENTITY_TRUST).association("provider-aws-s3", "crossplane-eu-west-1-s3-Role")
        return self

    def kube_scenario(self) -> dict:
        return {"objects": self.objects, "crds": self.crds, "forbidden": self.forbidden, "user": "alice", "faults": self.faults,
                "region": self.region,
                "aggregatedDiscovery": self.aggregated_discovery,
                "podIdentityAssociations": [{"namespace": a["namespace"], "serviceAccount": a["serviceAccount"]} for a in self.associations]}

    def aws_spec(self) -> dict:
        return {"cluster": {"name": self.name, "region": self.region, "version": "1.32"}, "oidcProvider": True,
                "roles": self.roles, "associations": self.associations, "addon": self.addon}
