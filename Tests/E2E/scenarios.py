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
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
STS_AUDIENCE = "sts.amazonaws.com"
IRSA_TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
CROSSPLANE_IMAGE = "xpkg.crossplane.io/crossplane/crossplane:v2.3.4"
# What `helm install crossplane crossplane-stable/crossplane -n crossplane-system` puts on the objects it owns.
HELM_LABELS = {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "crossplane",
               "app.kubernetes.io/name": "crossplane", "app.kubernetes.io/part-of": "crossplane", "helm.sh/chart": "crossplane-2.3.4"}
HELM_ANNOTATIONS = {"meta.helm.sh/release-name": "crossplane", "meta.helm.sh/release-namespace": NS}

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


def _transitioned(conditions: list, when: str) -> list:
    """Crossplane conditions as the CRD requires them: with a lastTransitionTime."""
    return [{**c, "lastTransitionTime": c.get("lastTransitionTime", when)} for c in conditions]


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


def irsa_env(role_arn: str, region: str | None = None) -> list:
    """What the EKS webhook injects for IRSA; on EKS it also sets the region (when given)."""
    env = [
        {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
        {"name": "AWS_ROLE_ARN", "value": role_arn},
        {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": IRSA_TOKEN_DIR + "/token"},
    ]
    if region:
        env += [{"name": "AWS_DEFAULT_REGION", "value": region}, {"name": "AWS_REGION", "value": region}]
    return env


def irsa_volume(audience: str = STS_AUDIENCE) -> dict:
    return {"name": "aws-iam-token", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {
        "audience": audience, "expirationSeconds": 86400, "path": "token"}}]}}


IRSA_MOUNT = {"name": "aws-iam-token", "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount", "readOnly": True}


def irsa_trust(subject: str, *, like: bool = False, audience: str | None = STS_AUDIENCE) -> dict:
    """An IRSA trust policy in the seeder's placeholders: `Federated` = this cluster's OIDC provider,
    `:sub` with StringEquals (or StringLike for a wildcard) and, when given, `:aud` with StringEquals."""
    condition: dict = {("StringLike" if like else "StringEquals"): {"${OIDC_PROVIDER}:sub": subject}}
    if audience is not None:
        condition.setdefault("StringEquals", {})["${OIDC_PROVIDER}:aud"] = audience
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "${OIDC_PROVIDER_ARN}"},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]}


# The upjet AWS docs' IRSA trust for providers: StringLike on `provider-aws-*`, no `:aud` condition.
UPJET_IRSA_TRUST = irsa_trust(f"system:serviceaccount:{NS}:provider-aws-*", like=True, audience=None)
# Seed 000: the role the `crossplane` ServiceAccount assumes.
CORE_IRSA_TRUST = irsa_trust(f"system:serviceaccount:{NS}:crossplane")

ECR_REPOSITORY_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
EC2_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
ECR_READ_ONLY_ARN = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"


def ecr_registry(region: str) -> str:
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com"


def ecr_pull_policy(resources, actions: list | None = None) -> dict:
    """Seed 000's CrossplaneECRPolicy: a token on `*`, the repository actions on `resources`."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {"Effect": "Allow", "Action": list(actions if actions is not None else ECR_REPOSITORY_ACTIONS), "Resource": resources},
    ]}


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
        # IAM OIDC provider for the cluster's issuer: True, False, or {"clientIds": [...]}.
        self.oidc_provider: bool | dict = True
        self.nodegroups: list = []

    @property
    def context(self) -> str:
        """`aws eks update-kubeconfig` names contexts after the cluster ARN."""
        return f"arn:aws:eks:{self.region}:{ACCOUNT}:cluster/{self.name}"

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/{name}"

    # ---- nodes and the Pod Identity agent -------------------------------------------
    def node(self, name: str, zone: str = "a", compute_type: str | None = None, nodegroup: str = "default") -> "Cluster":
        """A node; EC2 nodes carry the managed node group label (`nodegroup`), as EKS sets it."""
        labels = {"kubernetes.io/os": "linux", "topology.kubernetes.io/region": self.region,
                  "topology.kubernetes.io/zone": f"{self.region}{zone}"}
        if compute_type:
            labels["eks.amazonaws.com/compute-type"] = compute_type
            provider_id = f"aws:///{self.region}{zone}/{name}"
        else:
            labels["eks.amazonaws.com/nodegroup"] = nodegroup
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
    def crossplane_core(self, role_arn: str | None = None, *, helm: bool = True, annotation_on: str = "sa",
                        image: str = CROSSPLANE_IMAGE, injected: bool | None = None, created: str = PODS_CREATED,
                        node: str | None = None) -> "Cluster":
        """Crossplane as `helm install crossplane crossplane-stable/crossplane -n crossplane-system`
        leaves it: ServiceAccount `crossplane`, Deployment `crossplane` (selector `app`/`release`) and
        its running pod (init container `crossplane-init`, container `crossplane`), plus the `default`
        DeploymentRuntimeConfig Crossplane creates.

        `role_arn` is the IRSA role, put where `annotation_on` says: "sa" (Helm
        `serviceAccount.customAnnotations`, seed 000), "deployment" (Deployment metadata) or
        "pod-template" (the pod template, and so the pod). `injected` is whether the pod carries what
        the EKS webhook injects for IRSA; by default it does exactly when the ServiceAccount is annotated
        (the webhook reads the ServiceAccount only)."""
        assert annotation_on in ("sa", "deployment", "pod-template"), annotation_on
        selector = {"app": "crossplane", "release": "crossplane"}
        meta_labels = {**selector, **(HELM_LABELS if helm else {})}
        helm_annotations = dict(HELM_ANNOTATIONS) if helm else {}
        sa_annotations = dict(helm_annotations)
        deployment_annotations = dict(helm_annotations)
        template_annotations: dict = {}
        if role_arn:
            {"sa": sa_annotations, "deployment": deployment_annotations, "pod-template": template_annotations}[annotation_on][ROLE_ANNOTATION] = role_arn
        if injected is None:
            injected = bool(role_arn) and annotation_on == "sa"
        template_labels = {**selector, **({k: v for k, v in HELM_LABELS.items() if k != "helm.sh/chart"} if helm else {})}
        containers = [{"name": "crossplane", "image": image, "args": ["core", "start"],
                       "env": [{"name": "POD_NAMESPACE", "value": NS}, {"name": "POD_SERVICE_ACCOUNT", "value": "crossplane"}]}]
        init_containers = [{"name": "crossplane-init", "image": image, "args": ["core", "init"],
                            "env": [{"name": "POD_NAMESPACE", "value": NS}, {"name": "POD_SERVICE_ACCOUNT", "value": "crossplane"}]}]
        template = {"metadata": {"labels": template_labels, **({"annotations": template_annotations} if template_annotations else {})},
                    "spec": {"serviceAccountName": "crossplane", "initContainers": copy.deepcopy(init_containers),
                             "containers": copy.deepcopy(containers)}}
        sa_meta: dict = {"name": "crossplane", "namespace": NS}
        if helm:
            sa_meta["labels"] = dict(HELM_LABELS)
        if sa_annotations:
            sa_meta["annotations"] = sa_annotations
        deployment_meta: dict = {"name": "crossplane", "namespace": NS, "labels": meta_labels, "generation": 1}
        if deployment_annotations:
            deployment_meta["annotations"] = deployment_annotations
        self.objects += [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa_meta},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": deployment_meta,
             "spec": {"replicas": 1, "selector": {"matchLabels": selector}, "template": template},
             "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1, "observedGeneration": 1}},
        ]
        # The pod as the webhook admitted it: IRSA env and token in every container when injected.
        api_access = f"kube-api-access-{digest12('crossplane')[:5]}"
        volumes = [{"name": api_access, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}]}}]
        for c in containers + init_containers:
            c["volumeMounts"] = [{"name": api_access, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True}]
        if injected:
            role = role_arn or self.role_arn("irsa-role")
            for c in containers + init_containers:
                c["env"] += irsa_env(role, self.region)
                c["volumeMounts"].append(dict(IRSA_MOUNT))
            volumes.append(irsa_volume())
        replica_set = f"crossplane-{digest12('crossplane' + image)[:10]}"
        pod_meta: dict = {"name": f"{replica_set}-{digest12(replica_set)[:5]}", "namespace": NS, "labels": dict(template_labels),
                          "creationTimestamp": created,
                          "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set, "uid": "rs-crossplane", "controller": True}]}
        if template_annotations:
            pod_meta["annotations"] = dict(template_annotations)
        self.objects.append({
            "apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
            "spec": {"serviceAccountName": "crossplane", "nodeName": node or (self.nodes[0] if self.nodes else None),
                     "initContainers": init_containers, "containers": containers, "volumes": volumes},
            "status": {"phase": "Running",
                       "initContainerStatuses": [{"name": "crossplane-init", "ready": True, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                       "containerStatuses": [{"name": "crossplane", "ready": True, "state": {"running": {"startedAt": created}}}]},
        })
        if not any(o["kind"] == "DeploymentRuntimeConfig" and o["metadata"]["name"] == "default" for o in self.objects):
            self.drc("default")
        return self

    def drc(self, name: str, sa_name: str | None = None, sa_annotations: dict | None = None,
            pod_service_account: str | None = None, deployment_annotations: dict | None = None) -> "Cluster":
        """A DeploymentRuntimeConfig: `sa_name`/`sa_annotations` go to serviceAccountTemplate.metadata,
        `pod_service_account` to the pod template's serviceAccountName, `deployment_annotations` to
        deploymentTemplate.metadata (the Deployment object, not its pods nor the ServiceAccount)."""
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
        if deployment_annotations:
            spec.setdefault("deploymentTemplate", {})["metadata"] = {"annotations": deployment_annotations}
        self.objects.append({"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig",
                             "metadata": {"name": name}, "spec": spec})
        return self

    def provider(self, name: str, package: str, *, kind: str = "Provider", runtime_config: str | None = None,
                 service_account: str | None = None, env: str | None = "pod-identity", irsa_role: str | None = None,
                 created: str = PODS_CREATED, node: str | None = None, healthy: bool = True,
                 conditions: list | None = None, replicas: int = 1, pull_error: str | None = None,
                 installed: bool = True, skip_dependency_resolution: bool = False) -> "Cluster":
        """A package as Crossplane runs it: the package object with `status.currentRevision`,
        the revision's Deployment, its ServiceAccount and pods. `env` is what the webhook
        injected when the pods were created: "pod-identity", "irsa", "both" or None.

        The ServiceAccount is named after the DeploymentRuntimeConfig's
        `serviceAccountTemplate.metadata.name` (else the revision), and carries the template's
        annotations and labels, as Crossplane applies them; an IRSA pod gets the template's role
        unless `irsa_role` says otherwise.
        `pull_error` ("ImagePullBackOff" or "ErrImagePull"): the kubelet could not pull the runtime
        image, so the pods wait `Pending` and the package is unhealthy.
        `installed=False`: the package manager could not fetch the package (pass `conditions` with the
        message), so there is no revision and no runtime at all.
        Conditions get `lastTransitionTime` = `created` unless they carry one (the CRD requires
        type, status, reason and lastTransitionTime)."""
        revision = f"{name}-{digest12(package)}"
        label = "pkg.crossplane.io/provider" if kind == "Provider" else "pkg.crossplane.io/function"
        labels = {"pkg.crossplane.io/revision": revision, label: name}
        spec: dict = {"package": package}
        if runtime_config:
            spec["runtimeConfigRef"] = {"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig", "name": runtime_config}
        if skip_dependency_resolution:
            spec["skipDependencyResolution"] = True
        api = "pkg.crossplane.io/v1"
        if not installed:
            conditions = conditions or [{"type": "Installed", "status": "False", "reason": "UnpackingPackage"},
                                        {"type": "Healthy", "status": "False", "reason": "UnhealthyPackageRevision"}]
            self.objects.append({"apiVersion": api, "kind": kind, "metadata": {"name": name, "generation": 1},
                                 "spec": spec, "status": {"conditions": _transitioned(conditions, created)}})
            return self
        drc = next((o for o in self.objects if o["kind"] == "DeploymentRuntimeConfig"
                    and o["metadata"]["name"] == (runtime_config or "default")), None)
        sa_template = ((drc or {}).get("spec", {}).get("serviceAccountTemplate") or {}).get("metadata") or {}
        pod_sa = (((((drc or {}).get("spec", {}).get("deploymentTemplate") or {}).get("spec") or {}).get("template") or {})
                  .get("spec") or {}).get("serviceAccountName")
        sa = service_account or pod_sa or sa_template.get("name") or revision
        if conditions is None:
            if pull_error:
                healthy = False
            conditions = [
                {"type": "Installed", "status": "True", "reason": "ActivePackageRevision"},
                {"type": "Healthy", "status": "True" if healthy else "False",
                 "reason": "HealthyPackageRevision" if healthy else "UnhealthyPackageRevision",
                 **({} if healthy else {"message": "post establish runtime hook failed for package: provider package deployment is "
                                                   "unavailable with message: Deployment does not have minimum availability."})},
            ]
        self.objects.append({"apiVersion": api, "kind": kind, "metadata": {"name": name, "generation": 1},
                             "spec": spec, "status": {"currentRevision": revision,
                                                      "conditions": _transitioned(conditions, created)}})
        existing = next((o for o in self.objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == sa), None)
        if existing is None:
            existing = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": NS}}
            self.objects.append(existing)
        # Crossplane applies the ServiceAccount it names (not one the DRC points the pods at) from the template.
        if sa != pod_sa:
            meta = existing["metadata"]
            if sa_template.get("annotations"):
                meta["annotations"] = {**meta.get("annotations", {}), **sa_template["annotations"]}
            if sa_template.get("labels"):
                meta["labels"] = {**meta.get("labels", {}), **sa_template["labels"]}
            meta.setdefault("ownerReferences", [{"apiVersion": api, "kind": f"{kind}Revision", "name": revision,
                                                 "uid": f"rev-{revision}", "controller": True}])
        role = irsa_role or existing["metadata"].get("annotations", {}).get(ROLE_ANNOTATION) or self.role_arn("irsa-role")
        container = {"name": "package-runtime", "image": package,
                     "env": [{"name": "POD_NAMESPACE", "value": NS}, {"name": "REVISION_NAME", "value": revision}]}
        volumes, mounts = [], []
        if env in ("pod-identity", "both"):
            container["env"] += pod_identity_env(self.region)
            volumes.append({"name": "eks-pod-identity-token", "projected": {"sources": [{"serviceAccountToken": {
                "audience": "pods.eks.amazonaws.com", "expirationSeconds": 86400, "path": "eks-pod-identity-token"}}]}})
            mounts.append({"name": "eks-pod-identity-token", "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount", "readOnly": True})
        if env in ("irsa", "both"):
            # Pod Identity's env already has the region; the webhook never adds it twice.
            container["env"] += irsa_env(role, self.region if env == "irsa" else None)
            volumes.append(irsa_volume())
            mounts.append(dict(IRSA_MOUNT))
        if mounts:
            container["volumeMounts"] = mounts
        template_spec = {"serviceAccountName": sa, "containers": [{"name": "package-runtime", "image": container["image"]}]}
        ready = 0 if pull_error else replicas
        self.objects.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": revision, "namespace": NS, "labels": labels, "generation": 1,
                         "ownerReferences": [{"apiVersion": api, "kind": f"{kind}Revision", "name": revision, "uid": f"rev-{revision}", "controller": True}]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": template_spec}},
            "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
                       "updatedReplicas": replicas, "observedGeneration": 1,
                       **({"unavailableReplicas": replicas} if pull_error else {})},
        })
        for i in range(replicas):
            pod_spec = {"serviceAccountName": sa, "nodeName": node or (self.nodes[i % len(self.nodes)] if self.nodes else None),
                        "containers": [container], "volumes": volumes}
            if pull_error:
                status = {"phase": "Pending", "containerStatuses": [{
                    "name": "package-runtime", "image": package, "imageID": "", "ready": False, "started": False, "restartCount": 0,
                    "state": {"waiting": {"reason": pull_error, "message": f'Back-off pulling image "{package}"' if pull_error == "ImagePullBackOff"
                                          else f'failed to pull and unpack image "{package}": failed to resolve reference "{package}": '
                                               f'pulling from host {package.split("/", 1)[0]} failed with status code [manifests {package.rsplit(":", 1)[-1]}]: 403 Forbidden'}}}]}
            else:
                status = {"phase": "Running", "containerStatuses": [{"name": "package-runtime", "ready": True, "state": {"running": {}}}]}
            self.objects.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"{revision}-{digest12(revision)[:9]}-{digest12(str(i) + revision)[:5]}", "namespace": NS,
                             "labels": labels, "creationTimestamp": created,
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{revision}-{digest12(revision)[:9]}",
                                                  "uid": f"rs-{revision}", "controller": True}]},
                "spec": copy.deepcopy(pod_spec),
                "status": status,
            })
        return self

    def revision_of(self, name: str) -> str:
        """The revision name a package got (its `status.currentRevision`)."""
        return next(o["status"]["currentRevision"] for o in self.objects
                    if o["kind"] in ("Provider", "Function") and o["metadata"]["name"] == name)

    def provider_config(self, source: str, *, api: str = "aws.m.upbound.io", kind: str = "ProviderConfig",
                        name: str = "default", namespace: str | None = "default", chain: list | None = None) -> "Cluster":
        """An upjet AWS ProviderConfig; `source` is required by the CRD (None, Secret, IRSA,
        WebIdentity, PodIdentity or Upbound)."""
        spec: dict = {"credentials": {"source": source}}
        if chain:
            spec["assumeRoleChain"] = [{"roleARN": r} for r in chain]
        meta: dict = {"name": name}
        if api == "aws.m.upbound.io" and kind == "ProviderConfig":
            meta["namespace"] = namespace or "default"
        self.objects.append({"apiVersion": f"{api}/v1beta1", "kind": kind, "metadata": meta, "spec": spec})
        return self

    # ---- AWS side ------------------------------------------------------------------
    def role(self, name: str, trust: dict, *, managed: list | None = None, inline: list | None = None) -> "Cluster":
        """An IAM role. `managed`: policies to create and attach ({"name", "document"}) or existing
        ones to attach ({"arn"}); `inline`: {"name", "document"}. Documents may use the seeder's
        placeholders (${OIDC_PROVIDER}, ${OIDC_PROVIDER_ARN}, ${ACCOUNT_ID})."""
        role: dict = {"name": name, "trust": trust}
        if managed:
            role["managedPolicies"] = managed
        if inline:
            role["inlinePolicies"] = inline
        self.roles.append(role)
        return self

    def managed_node_group(self, name: str = "default", role: str = "eks-node-default", *, ecr_read: bool = True,
                           managed: list | None = None, inline: list | None = None) -> "Cluster":
        """An EKS managed node group (what `aws eks describe-nodegroup` returns) with its node role.
        `ecr_read` attaches the AWS-managed AmazonEC2ContainerRegistryReadOnly, as eksctl and the
        console do (moto must be started with MOTO_IAM_LOAD_MANAGED_POLICIES=true for that)."""
        attached = ([{"arn": ECR_READ_ONLY_ARN}] if ecr_read else []) + list(managed or [])
        self.role(role, EC2_TRUST, managed=attached, inline=inline)
        self.nodegroups.append({"name": name, "nodeRoleName": role})
        return self

    def ecr(self, path: str) -> str:
        """A package in this account's private ECR registry, in the cluster's region."""
        return f"{ecr_registry(self.region)}/{path}"

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

    def irsa_core_seed(self, *, role: str = "CrossplaneECRRole", trust: dict | None = None, policy: dict | None = None,
                       package: str = "crossplane/provider-aws-s3:v1.2.0", s3: dict | None = None, **core) -> "Cluster":
        """Seed 000 (AWS tab) done right: the package manager pulls `provider-aws-s3` from this
        account's private ECR with IRSA. Crossplane installed with Helm and
        `serviceAccount.customAnnotations` naming role CrossplaneECRRole, which trusts exactly
        `system:serviceaccount:crossplane-system:crossplane` for `sts.amazonaws.com` and has
        CrossplaneECRPolicy attached (a token on `*`, the three repository actions on
        `repository/*`). The provider's own dependency, the family provider, resolved from the
        public registry and is healthy. `core` overrides crossplane_core() arguments, `s3` provider()
        arguments of provider-aws-s3 (whose own identity seed 000 leaves alone)."""
        self.node("ip-10-0-1-10", "a").node("ip-10-0-2-20", "b")
        self.crossplane_core(**{"role_arn": self.role_arn(role), **core})
        self.provider("provider-aws-s3", self.ecr(package), **{"env": None, **(s3 or {})})
        self.provider("upbound-provider-family-aws", "xpkg.upbound.io/upbound/provider-family-aws:v1.2.0", env=None)
        policy = policy or ecr_pull_policy(f"arn:aws:ecr:{self.region}:${{ACCOUNT_ID}}:repository/*")
        self.role(role, trust or CORE_IRSA_TRUST, managed=[{"name": "CrossplaneECRPolicy", "document": policy}])
        return self

    def irsa_provider(self, name: str, package: str, *, role: str = "crossplane-provider-aws",
                      runtime_config: str = "irsa-runtimeconfig", trust: dict | None = None, **provider) -> "Cluster":
        """A provider on IRSA as the upjet AWS docs set it up: a DeploymentRuntimeConfig whose
        `serviceAccountTemplate.metadata.annotations` names the role (Crossplane copies it onto the
        revision-named ServiceAccount), the pods created after that with the IRSA env and token, and
        the role with the docs' `provider-aws-*` StringLike trust (added once)."""
        if not any(o["kind"] == "DeploymentRuntimeConfig" and o["metadata"]["name"] == runtime_config for o in self.objects):
            self.drc(runtime_config, sa_annotations={ROLE_ANNOTATION: self.role_arn(role)})
        self.provider(name, package, runtime_config=runtime_config, env="irsa", **provider)
        if not any(r["name"] == role for r in self.roles):
            self.role(role, trust or UPJET_IRSA_TRUST)
        return self

    def seed_001(self, fixed: bool = False) -> "Cluster":
        """Seed 001 (eu-west-2): Crossplane's own image comes from private ECR (the node group
        `regular_workloads` role pulls it), the package manager pulls with IRSA (role
        crossplane-package-pull, seed 000's trust and a `repository/upbound/*` pull policy), and
        `provider-aws-s3` comes from ECR. Unfixed: no skipDependencyResolution, so Crossplane
        installed the family dependency `upbound-provider-family-aws` from xpkg.upbound.io, which
        cannot be fetched (`unauthorized: authentication required`) and has no revision. Fixed:
        `provider-family-aws` installed by hand from ECR and `skipDependencyResolution: true`."""
        self.node("ip-10-0-1-10", "a", nodegroup="regular_workloads").node("ip-10-0-2-20", "b", nodegroup="regular_workloads")
        self.crossplane_core(self.role_arn("crossplane-package-pull"), image=self.ecr("crossplane/crossplane:latest"))
        self.role("crossplane-package-pull", CORE_IRSA_TRUST, managed=[{"name": "CrossplaneECRPolicy", "document": ecr_pull_policy(
            f"arn:aws:ecr:{self.region}:${{ACCOUNT_ID}}:repository/upbound/*")}])
        if fixed:
            self.provider("provider-family-aws", self.ecr("upbound/provider-family-aws:v2.2.0"), env=None)
            self.provider("provider-aws-s3", self.ecr("upbound/provider-aws-s3:v2.2.0"), env=None, skip_dependency_resolution=True)
            return self
        self.provider("provider-aws-s3", self.ecr("upbound/provider-aws-s3:v2.2.0"), env=None)
        family = "xpkg.upbound.io/upbound/provider-family-aws:v2.2.0"
        self.provider("upbound-provider-family-aws", family, installed=False, conditions=[
            {"type": "Installed", "status": "False", "reason": "UnpackingPackage",
             "message": f"cannot unpack package: failed to fetch package digest from {family}: GET https://xpkg.upbound.io/service/token"
                        "?scope=repository%3Aupbound%2Fprovider-family-aws%3Apull&service=xpkg.upbound.io: UNAUTHORIZED: "
                        "authentication required; [map[Action:pull Class: Name:upbound/provider-family-aws Type:repository]]"},
            {"type": "Healthy", "status": "False", "reason": "UnhealthyPackageRevision"}])
        return self

    def irsa_and_pod_identity(self) -> "Cluster":
        """IRSA and EKS Pod Identity side by side: provider-aws-s3 on IRSA the upjet docs' way (DRC
        annotation, `provider-aws-*` trust, `aws.upbound.io` ProviderConfig with source IRSA), and
        provider-aws-ec2 on Pod Identity (its own DRC pinning the ServiceAccount name
        `provider-aws-ec2`, an association, a namespaced `aws.m.upbound.io` ProviderConfig with
        source PodIdentity); the family resolved from the public registry."""
        self.node("ip-10-0-1-10", "a").node("ip-10-0-2-20", "b").agent().crossplane_core()
        self.irsa_provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v2.3.0")
        self.provider_config("IRSA", api="aws.upbound.io", namespace=None)
        self.drc("ec2-pod-identity", sa_name="provider-aws-ec2")
        self.provider("provider-aws-ec2", "xpkg.upbound.io/upbound/provider-aws-ec2:v2.3.0", runtime_config="ec2-pod-identity")
        self.role("crossplane-provider-aws-ec2", POD_IDENTITY_TRUST).association("provider-aws-ec2", "crossplane-provider-aws-ec2")
        self.provider_config("PodIdentity")
        self.provider("upbound-provider-family-aws", "xpkg.upbound.io/upbound/provider-family-aws:v2.3.0", env=None)
        return self

    def kube_scenario(self) -> dict:
        return {"objects": self.objects, "crds": self.crds, "forbidden": self.forbidden, "user": "alice", "faults": self.faults,
                "region": self.region,
                "aggregatedDiscovery": self.aggregated_discovery,
                "podIdentityAssociations": [{"namespace": a["namespace"], "serviceAccount": a["serviceAccount"]} for a in self.associations]}

    def aws_spec(self) -> dict:
        spec = {"cluster": {"name": self.name, "region": self.region, "version": "1.32"}, "oidcProvider": self.oidc_provider,
                "roles": self.roles, "associations": self.associations, "addon": self.addon}
        if self.nodegroups:
            spec["nodegroups"] = self.nodegroups
        return spec
