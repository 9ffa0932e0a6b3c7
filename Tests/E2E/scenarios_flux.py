"""Adds Flux to the end-to-end scenario builders (scenarios.Cluster for EKS, scenarios_aks.AksCluster,
scenarios_gke.GkeCluster) without copying them: every helper takes the cluster as its first argument and
uses the builder's own pieces (its workload and pod-admission code, its role, identity and GSA helpers).
Shapes follow shared/reference/workload-identity-facts.md §7 and azure-gke-flux-facts.md Q5, and
seed 004 (Flux's workload identity guide).

    c = Cluster().node("ip-10-0-1-10")
    arn = flux_irsa_role(c, "flux-source-controller")           # trusts flux-system:source-controller
    flux_controller(c, "source-controller", sa_annotations={ROLE_ANNOTATION: arn})
    oci_repository(c, "podinfo", "flux-system", ecr_url(c, "podinfo"), provider="aws")

Pods: a controller's pods are created after its ServiceAccount got `sa_annotations`, so they carry
what the cloud's webhook injects at that point: on EKS the emulator's own webhook code
(kube_emulator.apply_identity_webhooks: Pod Identity when the cluster already has an association
for the ServiceAccount, else IRSA from the role annotation), on AKS the builder's admission
(AksCluster._workload with admission, decided at kube_scenario() time from the pod label and the
webhook), on GKE nothing (GKE injects nothing). On EKS, add an association before flux_controller();
`injected=False` makes pods that predate the annotation (stale pods).

Flux objects (OCIRepository, Bucket, HelmRepository, ImageRepository, Kustomization, notification
Provider) are custom resources served by FLUX_CRDS; `flux_managed=True` puts the labels the
flux-system Kustomization sets on what it applies.
"""
from __future__ import annotations

import copy

from scenarios import (POD_IDENTITY_TRUST, PODS_CREATED, ROLE_ANNOTATION, Cluster, ecr_pull_policy, ecr_registry,
                       irsa_trust)
from scenarios_aks import CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION, USE_LABEL, AksCluster
from scenarios_gke import GSA_ANNOTATION, GkeCluster
from kube_emulator import apply_identity_webhooks

FLUX_NS = "flux-system"
FLUX_VERSION = "v2.6.4"
GATE = "ObjectLevelWorkloadIdentity"
GATE_ARG = f"--feature-gates={GATE}=true"
KUSTOMIZE_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
KUSTOMIZE_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
FLUX_MANAGED_LABELS = {KUSTOMIZE_NAME_LABEL: "flux-system", KUSTOMIZE_NAMESPACE_LABEL: FLUX_NS}
CRD_CONTROLLER_ROLE = "crd-controller-flux-system"
CLUSTER_RECONCILER_BINDING = "cluster-reconciler-flux-system"
TENANT_NS = "apps"
OBJECT_SA = "flux-oci"

# Controller images of Flux v2.6.4 (illustrative tags; nothing reads them).
CONTROLLER_IMAGES = {
    "source-controller": "ghcr.io/fluxcd/source-controller:v1.6.2",
    "kustomize-controller": "ghcr.io/fluxcd/kustomize-controller:v1.6.1",
    "helm-controller": "ghcr.io/fluxcd/helm-controller:v1.3.0",
    "notification-controller": "ghcr.io/fluxcd/notification-controller:v1.6.0",
    "image-reflector-controller": "ghcr.io/fluxcd/image-reflector-controller:v0.35.2",
    "image-automation-controller": "ghcr.io/fluxcd/image-automation-controller:v0.41.2",
}
DEFAULT_CONTROLLERS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")

# The `gate` messages the controllers report (azure-gke-flux-facts.md Q5.1).
GATE_MESSAGE = ("to use spec.serviceAccountName for provider authentication please enable the "
                "ObjectLevelWorkloadIdentity feature gate in the controller")
SOPS_GATE_MESSAGE = ("to use spec.decryption.serviceAccountName for decryption authentication please enable the "
                     "ObjectLevelWorkloadIdentity feature gate in the controller")

FLUX_CRDS = [
    {"group": "source.toolkit.fluxcd.io", "version": "v1", "plural": "ocirepositories", "kind": "OCIRepository",
     "namespaced": True, "shortNames": ["ocirepo"]},
    {"group": "source.toolkit.fluxcd.io", "version": "v1", "plural": "buckets", "kind": "Bucket", "namespaced": True},
    {"group": "source.toolkit.fluxcd.io", "version": "v1", "plural": "gitrepositories", "kind": "GitRepository",
     "namespaced": True, "shortNames": ["gitrepo"]},
    {"group": "source.toolkit.fluxcd.io", "version": "v1", "plural": "helmrepositories", "kind": "HelmRepository",
     "namespaced": True, "shortNames": ["helmrepo"]},
    {"group": "image.toolkit.fluxcd.io", "versions": ["v1", "v1beta2"], "plural": "imagerepositories",
     "kind": "ImageRepository", "namespaced": True},
    {"group": "kustomize.toolkit.fluxcd.io", "version": "v1", "plural": "kustomizations", "kind": "Kustomization",
     "namespaced": True, "shortNames": ["ks"]},
    # The plural `providers` is also Crossplane's providers.pkg.crossplane.io: both are served.
    {"group": "notification.toolkit.fluxcd.io", "version": "v1beta3", "plural": "providers", "kind": "Provider",
     "namespaced": True},
]

# The registry each cloud's `provider` reads, for ready-made URLs.
CLOUD_PROVIDER = {"aws": "aws", "azure": "azure", "gcp": "gcp"}


# --------------------------------------------------------------------------- cluster kind

def cloud_of(cluster) -> str:
    if isinstance(cluster, Cluster):
        return "aws"
    if isinstance(cluster, AksCluster):
        return "azure"
    if isinstance(cluster, GkeCluster):
        return "gcp"
    raise TypeError(f"not a scenario cluster: {cluster!r}")


def enable_flux(cluster):
    """Serves the Flux CRDs on `cluster` (idempotent; the Crossplane ones stay)."""
    have = {(c["group"], c["plural"]) for c in cluster.crds}
    cluster.crds = list(cluster.crds) + [copy.deepcopy(c) for c in FLUX_CRDS if (c["group"], c["plural"]) not in have]
    return cluster


def _workload(cluster, *args, **kwargs) -> list:
    """The builder's own Deployment-plus-pods code: AksCluster._workload (with the Azure admission),
    GkeCluster._workload; the EKS builder has none, so GkeCluster's (which only needs `objects` and
    `nodes`) builds the objects there and the emulator's EKS webhook code mutates the pods."""
    if isinstance(cluster, AksCluster):
        return cluster._workload(*args, **kwargs)
    kwargs.pop("admission", None)
    return GkeCluster._workload(cluster, *args, **kwargs)


def _find(cluster, kind: str, name: str, namespace: str | None = None) -> dict | None:
    return next((o for o in cluster.objects if o["kind"] == kind and o["metadata"]["name"] == name
                 and o["metadata"].get("namespace") == namespace), None)


# --------------------------------------------------------------------------- controllers

def controller_args(name: str, *, gate: bool = False, extra: list | None = None) -> list:
    """The flux2 manifests' args for controller `name` (plus the gate when `gate`)."""
    args = [f"--events-addr=http://notification-controller.{FLUX_NS}.svc.cluster.local./",
            "--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election"]
    if name == "notification-controller":
        args = args[1:]
    if name == "source-controller":
        args += ["--storage-path=/data", "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."]
    if gate:
        args.append(GATE_ARG)
    return args + list(extra or [])


def flux_controller(cluster, name: str, *, namespace: str = FLUX_NS, sa_annotations: dict | None = None,
                    pod_labels: dict | None = None, args: list | None = None, flux_managed: bool = True,
                    pods: bool = True, env: dict | None = None, gate: bool = False, injected: bool | None = None,
                    created: str = PODS_CREATED, replicas: int = 1) -> list:
    """Controller `name` as `flux bootstrap` / `flux install` leaves it: ServiceAccount and Deployment
    of that name (selector `app: <name>`, container `manager`, pod labels app,
    app.kubernetes.io/component, part-of flux, instance flux-system; fsGroup 1337), and its running
    pods (`pods=False`: the Deployment has none) created after the ServiceAccount got `sa_annotations`.

    `args` replaces controller_args(name) (then `gate` is ignored); `gate=True` adds
    --feature-gates=ObjectLevelWorkloadIdentity=true. `pod_labels` go on the pod template (e.g. the
    Azure WI label). `flux_managed`: Deployment and ServiceAccount carry the flux-system
    Kustomization's labels. `env`: extra container env. `injected` (EKS, AKS): override whether the
    webhook mutated the pods (False: pods that predate the annotation). Enables the Flux CRDs.
    Returns the pods (as stored; on AKS they are mutated at kube_scenario() time)."""
    enable_flux(cluster)
    selector = {"app": name}
    common = {"app.kubernetes.io/component": name, "app.kubernetes.io/instance": FLUX_NS,
              "app.kubernetes.io/part-of": "flux", "app.kubernetes.io/version": FLUX_VERSION}
    managed = dict(FLUX_MANAGED_LABELS) if flux_managed else {}
    sa_meta: dict = {"name": name, "namespace": namespace, "labels": {**common, **managed}}
    if sa_annotations:
        sa_meta["annotations"] = dict(sa_annotations)
    sa = _find(cluster, "ServiceAccount", name, namespace)
    if sa is None:
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa_meta}
        cluster.objects.append(sa)
    else:
        sa["metadata"].setdefault("annotations", {}).update(sa_annotations or {})
    container_env = [{"name": "RUNTIME_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                                "fieldPath": "metadata.namespace"}}}]
    if name == "source-controller":
        container_env.append({"name": "TUF_ROOT", "value": "/tmp/.sigstore"})
    container_env += [{"name": k, "value": v} for k, v in (env or {}).items()]
    container = {"name": "manager", "image": CONTROLLER_IMAGES.get(name, f"ghcr.io/fluxcd/{name}:v1.6.0"),
                 "imagePullPolicy": "IfNotPresent",
                 "args": list(args) if args is not None else controller_args(name, gate=gate),
                 "env": container_env,
                 "ports": [{"containerPort": 8080, "name": "http-prom", "protocol": "TCP"},
                           {"containerPort": 9440, "name": "healthz", "protocol": "TCP"}],
                 "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                     "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                     "seccompProfile": {"type": "RuntimeDefault"}}}
    pod_spec = {"serviceAccountName": name, "terminationGracePeriodSeconds": 10,
                "securityContext": {"fsGroup": 1337}, "nodeSelector": {"kubernetes.io/os": "linux"},
                "containers": [container]}
    template_labels = {**selector, "app.kubernetes.io/component": name, "app.kubernetes.io/instance": FLUX_NS,
                       "app.kubernetes.io/part-of": "flux", **(pod_labels or {})}
    deployment_labels = {**common, "control-plane": "controller", **managed}
    before = len(cluster.objects)
    created_pods = _workload(cluster, name, namespace, selector, deployment_labels, pod_spec, replicas=replicas,
                             created=created, template_labels=template_labels, admission=(None, injected))
    deployment = next(o for o in cluster.objects[before:] if o["kind"] == "Deployment")
    deployment["spec"]["template"]["metadata"]["annotations"] = {"prometheus.io/port": "8080",
                                                                 "prometheus.io/scrape": "true"}
    for pod in created_pods:
        pod["metadata"]["annotations"] = {"prometheus.io/port": "8080", "prometheus.io/scrape": "true"}
    if not pods:
        cluster.objects[:] = [o for o in cluster.objects if not any(o is p for p in created_pods)]
        deployment["status"].update(readyReplicas=0, availableReplicas=0, unavailableReplicas=replicas)
        return []
    if isinstance(cluster, Cluster) and injected is not False:
        pod_identity = any(a["namespace"] == namespace and a["serviceAccount"] == name for a in cluster.associations)
        for pod in created_pods:
            apply_identity_webhooks(pod, sa, pod_identity=pod_identity, region=cluster.region)
    return created_pods


def flux_install(cluster, *, controllers=DEFAULT_CONTROLLERS, gate: bool = False, rbac: bool = True,
                 token_create: bool = True, bootstrap: bool = True, **per_controller) -> None:
    """`flux bootstrap` with `controllers` (none of them with a cloud identity unless
    `per_controller` says so) and its RBAC; `per_controller` = {controller name with - as _:
    flux_controller kwargs} for the ones to vary. `bootstrap`: also the flux-system GitRepository
    (GitHub over SSH with the flux-system deploy-key Secret, no cloud provider) and Kustomization
    that `flux bootstrap github` creates."""
    for name in controllers:
        kwargs = {"gate": gate, **per_controller.get(name.replace("-", "_"), {})}
        flux_controller(cluster, name, **kwargs)
    if rbac:
        flux_rbac(cluster, token_create=token_create)
    if bootstrap and not _find(cluster, "GitRepository", "flux-system", FLUX_NS):
        git_repository(cluster, "flux-system", FLUX_NS, "ssh://git@github.com/acme/fleet-infra", secret_ref="flux-system",
                       flux_managed=True)
        _flux_object(cluster, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", FLUX_NS,
                     {"interval": "10m0s", "path": f"./clusters/{cluster.name}", "prune": True,
                      "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
                     conditions=[{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                                  "message": "Applied revision: main@sha1:4f1a2b3c", "lastTransitionTime": PODS_CREATED,
                                  "observedGeneration": 1}], flux_managed=True)


def flux_rbac(cluster, *, token_create: bool = True, controllers: tuple | None = None) -> None:
    """flux2 manifests/rbac: ClusterRole crd-controller-flux-system (the `serviceaccounts/token` create
    rule flux2 PR #5332 added "required for object-level workload identity", when `token_create`)
    bound by ClusterRoleBinding crd-controller-flux-system to every controller ServiceAccount in
    flux-system (default: the controller Deployments present, else the six), and cluster-admin bound to
    kustomize-controller and helm-controller (cluster-reconciler-flux-system), cluster-admin included."""
    if controllers is None:
        present = [o["metadata"]["name"] for o in cluster.objects if o["kind"] == "Deployment"
                   and o["metadata"].get("namespace") == FLUX_NS and o["metadata"]["name"] in CONTROLLER_IMAGES]
        controllers = tuple(present) or tuple(CONTROLLER_IMAGES)
    labels = {"app.kubernetes.io/instance": FLUX_NS, "app.kubernetes.io/part-of": "flux",
              "app.kubernetes.io/version": FLUX_VERSION, **FLUX_MANAGED_LABELS}
    rules = [{"apiGroups": [g], "resources": ["*"], "verbs": ["*"]} for g in (
        "source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io",
        "notification.toolkit.fluxcd.io", "image.toolkit.fluxcd.io", "source.extensions.fluxcd.io")]
    rules += [
        {"apiGroups": [""], "resources": ["namespaces", "secrets", "configmaps", "serviceaccounts"],
         "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": [""], "resources": ["configmaps"],
         "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
        {"apiGroups": [""], "resources": ["configmaps/status"], "verbs": ["get", "update", "patch"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    ]
    if token_create:
        rules.append({"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]})
    rbac = "rbac.authorization.k8s.io/v1"
    cluster.objects += [
        {"apiVersion": rbac, "kind": "ClusterRole", "metadata": {"name": CRD_CONTROLLER_ROLE, "labels": dict(labels)},
         "rules": rules},
        {"apiVersion": rbac, "kind": "ClusterRoleBinding",
         "metadata": {"name": CRD_CONTROLLER_ROLE, "labels": dict(labels)},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CRD_CONTROLLER_ROLE},
         "subjects": [{"kind": "ServiceAccount", "name": n, "namespace": FLUX_NS} for n in controllers]},
    ]
    if not _find(cluster, "ClusterRole", "cluster-admin"):
        cluster.objects.append({
            "apiVersion": rbac, "kind": "ClusterRole",
            "metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                         "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]})
    reconcilers = [n for n in ("kustomize-controller", "helm-controller") if n in controllers]
    if reconcilers:
        cluster.objects.append({
            "apiVersion": rbac, "kind": "ClusterRoleBinding",
            "metadata": {"name": CLUSTER_RECONCILER_BINDING, "labels": dict(labels)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": n, "namespace": FLUX_NS} for n in reconcilers]})


# --------------------------------------------------------------------------- Flux objects

def ready(message: str = "stored artifact for digest 'latest@sha256:2f0c1b4c'", when: str = PODS_CREATED) -> list:
    return [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": message,
             "lastTransitionTime": when, "observedGeneration": 1},
            {"type": "ArtifactInStorage", "status": "True", "reason": "Succeeded", "message": message,
             "lastTransitionTime": when, "observedGeneration": 1}]


def gate_disabled(message: str = GATE_MESSAGE, when: str = PODS_CREATED) -> list:
    """Stalled, Ready=False and FetchFailed, all FeatureGateDisabled (fluxcd/source-controller PR #1871)."""
    return [{"type": t, "status": s, "reason": "FeatureGateDisabled", "message": message,
             "lastTransitionTime": when, "observedGeneration": 1}
            for t, s in (("Stalled", "True"), ("Ready", "False"), ("FetchFailed", "True"))]


def auth_failed(message: str, when: str = PODS_CREATED) -> list:
    """Ready=False and FetchFailed with reason AuthenticationFailed (source-controller's reason)."""
    return [{"type": t, "status": s, "reason": "AuthenticationFailed", "message": message,
             "lastTransitionTime": when, "observedGeneration": 1}
            for t, s in (("Ready", "False"), ("FetchFailed", "True"))]


def _flux_object(cluster, api: str, kind: str, name: str, namespace: str, spec: dict, *, conditions: list | None,
                 flux_managed: bool, status: dict | None = None) -> dict:
    enable_flux(cluster)
    meta: dict = {"name": name, "namespace": namespace, "generation": 1}
    if flux_managed:
        meta["labels"] = dict(FLUX_MANAGED_LABELS)
    obj = {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec,
           "status": {"observedGeneration": 1, "conditions": ready() if conditions is None else conditions,
                      **(status or {})}}
    cluster.objects.append(obj)
    return obj


def _identity_spec(spec: dict, provider, service_account, secret_ref) -> dict:
    if provider is not None:
        spec["provider"] = provider
    if service_account is not None:
        spec["serviceAccountName"] = service_account
    if secret_ref is not None:
        spec["secretRef"] = {"name": secret_ref}
    return spec


def oci_repository(cluster, name: str, namespace: str, url: str, *, provider: str | None = None,
                   service_account: str | None = None, secret_ref: str | None = None, conditions: list | None = None,
                   flux_managed: bool = False, tag: str = "latest") -> dict:
    """An OCIRepository (source.toolkit.fluxcd.io/v1): `url` oci://…, `provider` generic|aws|azure|gcp
    (None: unset, which means generic), `service_account`, `secret_ref` (a Secret name). Ready unless
    `conditions`. Returns the object."""
    spec = _identity_spec({"interval": "5m", "url": url, "ref": {"tag": tag}}, provider, service_account, secret_ref)
    return _flux_object(cluster, "source.toolkit.fluxcd.io/v1", "OCIRepository", name, namespace, spec,
                        conditions=conditions, flux_managed=flux_managed)


def git_repository(cluster, name: str, namespace: str, url: str, *, provider: str | None = None,
                   service_account: str | None = None, secret_ref: str | None = None, branch: str = "main",
                   conditions: list | None = None, flux_managed: bool = False) -> dict:
    """A GitRepository (source.toolkit.fluxcd.io/v1); `provider` generic|aws (CodeCommit)|azure (Azure
    DevOps)|github."""
    spec = _identity_spec({"interval": "1m0s", "url": url, "ref": {"branch": branch}}, provider, service_account,
                          secret_ref)
    if conditions is None:
        conditions = ready("stored artifact for revision 'main@sha1:4f1a2b3c'")
    return _flux_object(cluster, "source.toolkit.fluxcd.io/v1", "GitRepository", name, namespace, spec,
                        conditions=conditions, flux_managed=flux_managed)


def bucket(cluster, name: str, namespace: str, *, endpoint: str, bucket_name: str, provider: str | None = None,
           region: str | None = None, service_account: str | None = None, secret_ref: str | None = None,
           conditions: list | None = None, flux_managed: bool = False) -> dict:
    """A Bucket (source.toolkit.fluxcd.io/v1): endpoint, bucketName, provider generic|aws|gcp|azure,
    region, serviceAccountName, secretRef."""
    spec = {"interval": "5m", "endpoint": endpoint, "bucketName": bucket_name}
    if region is not None:
        spec["region"] = region
    spec = _identity_spec(spec, provider, service_account, secret_ref)
    return _flux_object(cluster, "source.toolkit.fluxcd.io/v1", "Bucket", name, namespace, spec,
                        conditions=conditions, flux_managed=flux_managed)


def helm_repository(cluster, name: str, namespace: str, url: str, *, type: str = "oci", provider: str | None = None,
                    secret_ref: str | None = None, conditions: list | None = None, flux_managed: bool = False) -> dict:
    """A HelmRepository (source.toolkit.fluxcd.io/v1); `type` oci|default. It has no serviceAccountName
    (controller-level identity only). An OCI HelmRepository reports no artifact: Ready with reason
    Succeeded and "Helm repository is ready"."""
    spec = _identity_spec({"interval": "5m", "url": url}, provider, None, secret_ref)
    if type:
        spec["type"] = type
    if conditions is None and type == "oci":
        conditions = [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "Helm repository is ready",
                       "lastTransitionTime": PODS_CREATED, "observedGeneration": 1}]
    return _flux_object(cluster, "source.toolkit.fluxcd.io/v1", "HelmRepository", name, namespace, spec,
                        conditions=conditions, flux_managed=flux_managed)


def image_repository(cluster, name: str, namespace: str, *, image: str, provider: str | None = None,
                     service_account: str | None = None, secret_ref: str | None = None, conditions: list | None = None,
                     flux_managed: bool = False, api_version: str = "v1") -> dict:
    """An ImageRepository (image.toolkit.fluxcd.io/`api_version`, v1 or v1beta2); `image` without a scheme."""
    spec = _identity_spec({"interval": "5m", "image": image}, provider, service_account, secret_ref)
    if conditions is None:
        conditions = [{"type": "Ready", "status": "True", "reason": "Succeeded",
                       "message": "successful scan: found 12 tags", "lastTransitionTime": PODS_CREATED,
                       "observedGeneration": 1}]
    return _flux_object(cluster, f"image.toolkit.fluxcd.io/{api_version}", "ImageRepository", name, namespace, spec,
                        conditions=conditions, flux_managed=flux_managed,
                        status={"canonicalImageName": image, "lastScanResult": {"tagCount": 12,
                                                                                 "scanTime": PODS_CREATED}})


def kustomization_sops(cluster, name: str, namespace: str, *, decryption_sa: str | None = None,
                       source: str = "flux-system", conditions: list | None = None, flux_managed: bool = False) -> dict:
    """A Kustomization (kustomize.toolkit.fluxcd.io/v1) decrypting with SOPS; `decryption_sa` is
    spec.decryption.serviceAccountName (cloud KMS identity; spec.serviceAccountName would be
    impersonation, which this does not set)."""
    decryption: dict = {"provider": "sops"}
    if decryption_sa is not None:
        decryption["serviceAccountName"] = decryption_sa
    spec = {"interval": "10m", "path": "./secrets", "prune": True, "decryption": decryption,
            "sourceRef": {"kind": "GitRepository", "name": source, "namespace": FLUX_NS}}
    if conditions is None:
        conditions = [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                       "message": "Applied revision: main@sha1:4f1a2b3c", "lastTransitionTime": PODS_CREATED,
                       "observedGeneration": 1}]
    return _flux_object(cluster, "kustomize.toolkit.fluxcd.io/v1", "Kustomization", name, namespace, spec,
                        conditions=conditions, flux_managed=flux_managed)


def notification_provider(cluster, name: str, namespace: str, type: str, *, service_account: str | None = None,
                          address: str | None = None, channel: str | None = None, flux_managed: bool = False) -> dict:
    """A notification Provider (notification.toolkit.fluxcd.io/v1beta3; kind Provider, plural providers
    like Crossplane's). WI types: azureeventhub, azuredevops, googlepubsub. v1beta3 Providers have no
    status conditions (a disabled gate shows only in the controller log)."""
    spec: dict = {"type": type}
    if address is not None:
        spec["address"] = address
    if channel is not None:
        spec["channel"] = channel
    if service_account is not None:
        spec["serviceAccountName"] = service_account
    enable_flux(cluster)
    meta: dict = {"name": name, "namespace": namespace, "generation": 1}
    if flux_managed:
        meta["labels"] = dict(FLUX_MANAGED_LABELS)
    obj = {"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider", "metadata": meta, "spec": spec}
    cluster.objects.append(obj)
    return obj


def object_sa(cluster, name: str, namespace: str, annotations: dict | None = None,
              image_pull_secrets: list | None = None) -> dict:
    """A ServiceAccount an object names in serviceAccountName (object-level workload identity)."""
    meta: dict = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = dict(annotations)
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    if image_pull_secrets:
        sa["imagePullSecrets"] = [{"name": n} for n in image_pull_secrets]
    cluster.objects.append(sa)
    return sa


# --------------------------------------------------------------------------- cloud side

def flux_irsa_role(cluster: Cluster, role: str, namespace: str = FLUX_NS, sa: str = "source-controller", *,
                   subject: str | None = None, like: bool = False) -> str:
    """EKS: IAM role `role` whose IRSA trust names system:serviceaccount:`namespace`:`sa` (or `subject`),
    with an ECR pull policy; returns its ARN. Added once."""
    if not any(r["name"] == role for r in cluster.roles):
        cluster.role(role, irsa_trust(subject or f"system:serviceaccount:{namespace}:{sa}", like=like), managed=[
            {"name": f"{role}-ecr", "document": ecr_pull_policy(f"arn:aws:ecr:{cluster.region}:${{ACCOUNT_ID}}:repository/*")}])
    return cluster.role_arn(role)


def ecr_url(cluster: Cluster, repository: str, *, scheme: str = "oci://") -> str:
    """oci://ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY (scheme "" for an ImageRepository image)."""
    return f"{scheme}{ecr_registry(cluster.region)}/{repository}"


def flux_azure_identity(cluster: AksCluster, identity: str, namespace: str = FLUX_NS, sa: str = "source-controller",
                        *, acr_pull: bool = True) -> dict:
    """AKS: user-assigned identity `identity` with a federated credential for
    system:serviceaccount:`namespace`:`sa` (and AcrPull on the registry, created when missing);
    returns the SA annotations (client-id and tenant-id)."""
    if not any(i["name"] == identity for i in cluster.identities):
        cluster.identity(identity)
    cluster.federated_credential(identity, f"system:serviceaccount:{namespace}:{sa}", name=f"{namespace}-{sa}")
    if acr_pull:
        if not cluster.registries:
            cluster.registry()
        cluster.acr_pull(identity, cluster.registries[0]["name"])
    return {CLIENT_ID_ANNOTATION: cluster.client_id(identity), TENANT_ID_ANNOTATION: cluster.tenant}


def acr_url(cluster: AksCluster, repository: str, *, scheme: str = "oci://") -> str:
    registry = cluster.registries[0]["loginServer"] if cluster.registries else "myregistry.azurecr.io"
    return f"{scheme}{registry}/{repository}"


def flux_gsa(cluster: GkeCluster, gsa: str, namespace: str = FLUX_NS, sa: str = "source-controller", *,
             repository: str = "flux", reader: bool = True) -> dict:
    """GKE: GSA `gsa` with roles/iam.workloadIdentityUser for serviceAccount:P.svc.id.goog[`namespace`/`sa`]
    and (`reader`) roles/artifactregistry.reader on `repository` (created when missing); returns the
    SA annotation."""
    email = cluster.gsa_email(gsa)
    if not any(s["email"] == email for s in cluster.service_accounts):
        cluster.gsa(gsa)
    cluster.bind_ksa(gsa, sa, namespace)
    if reader:
        _gar_repository(cluster, repository)
        cluster.gar_reader(gsa, repository)
    return {GSA_ANNOTATION: email}


def _gar_repository(cluster: GkeCluster, repository: str) -> None:
    if not any(r["repositoryId"] == repository for r in cluster.repositories):
        cluster.repository(repository)


def gar_url(cluster: GkeCluster, path: str, repository: str = "flux", *, scheme: str = "oci://") -> str:
    """oci://LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/PATH."""
    return f"{scheme}{cluster.gar(path, repository)}"


def registry_url(cluster, path: str, *, scheme: str = "oci://") -> str:
    """The cloud's own private registry URL for `path`: ECR, ACR or Artifact Registry."""
    return {"aws": ecr_url, "azure": acr_url, "gcp": gar_url}[cloud_of(cluster)](cluster, path, scheme=scheme)


def cloud_identity(cluster, name: str, namespace: str, sa: str) -> dict:
    """The cloud identity for KSA `namespace`/`sa` (role, managed identity + FIC, or GSA + binding,
    each able to pull from the cloud's registry); returns the SA annotations that name it."""
    cloud = cloud_of(cluster)
    if cloud == "aws":
        return {ROLE_ANNOTATION: flux_irsa_role(cluster, name, namespace, sa)}
    if cloud == "azure":
        return flux_azure_identity(cluster, name, namespace, sa)
    return flux_gsa(cluster, name, namespace, sa)


def _base(cluster) -> None:
    """Nodes (and the cloud's identity plumbing) once: EKS two nodes; AKS two nodes and the WI webhook;
    GKE the workload pool, a GKE_METADATA pool and two nodes."""
    if cluster.nodes:
        return
    cloud = cloud_of(cluster)
    if cloud == "aws":
        cluster.node("ip-10-0-1-10", "a").node("ip-10-0-2-20", "b")
    elif cloud == "azure":
        cluster.node(0).node(1).wi_webhook()
        if not cluster.registries:
            cluster.registry()
    else:
        cluster._gke_base()


# --------------------------------------------------------------------------- complete setups

def _new(cloud: str):
    return {"aws": Cluster, "azure": AksCluster, "gcp": GkeCluster}[cloud]()


def eks_flux_irsa(fixed: bool = True, cluster: Cluster | None = None) -> Cluster:
    """Seed 004's AWS IRSA set-up, controller level: role flux-source-controller trusting
    system:serviceaccount:flux-system:source-controller (ECR pull policy), the flux-system
    kustomization's patch on the source-controller ServiceAccount (eks.amazonaws.com/role-arn), the
    controllers and their RBAC, and OCIRepository flux-system/podinfo on this account's ECR with
    `provider: aws` and no serviceAccountName. fixed=False: the annotation is there but the pod was
    not deleted afterwards (the guide's "make sure to delete the affected controller pod"), so it has
    no IRSA variables and the object cannot authenticate."""
    c = cluster or Cluster()
    _base(c)
    arn = flux_irsa_role(c, "flux-source-controller")
    flux_install(c, source_controller={"sa_annotations": {ROLE_ANNOTATION: arn},
                                       **({} if fixed else {"injected": False})})
    conditions = None if fixed else auth_failed(
        "failed to get credential from 'aws': failed to create provider access token for the controller: "
        "failed to get AWS credentials: no EC2 IMDS role found")
    oci_repository(c, "podinfo", FLUX_NS, ecr_url(c, "podinfo"), provider="aws", conditions=conditions)
    return c


def eks_flux_no_annotation(cluster: Cluster | None = None, *, role: bool = True) -> Cluster:
    """eks_flux_irsa without the kustomize patch: the source-controller ServiceAccount (Flux-managed)
    has no role annotation, so its pod has no IRSA variables. `role`: the role trusting
    flux-system:source-controller exists on the AWS side (what `fix --role-arn` names)."""
    c = cluster or Cluster()
    _base(c)
    if role:
        flux_irsa_role(c, "flux-source-controller")
    flux_install(c)
    oci_repository(c, "podinfo", FLUX_NS, ecr_url(c, "podinfo"), provider="aws", conditions=auth_failed(
        "failed to get credential from 'aws': failed to create provider access token for the controller: "
        "failed to get AWS credentials: no EC2 IMDS role found"))
    return c


def aks_flux_controller(label: bool = True, cluster: AksCluster | None = None) -> AksCluster:
    """Seed 004's Azure set-up, controller level: identity flux-source-controller with AcrPull on
    myregistry and a FIC for system:serviceaccount:flux-system:source-controller; the
    source-controller ServiceAccount annotated with client-id and tenant-id; the Deployment's pod
    template labelled azure.workload.identity/use=true when `label` (else the webhook skips the pod);
    OCIRepository flux-system/podinfo on ACR with `provider: azure`."""
    c = cluster or AksCluster()
    _base(c)
    annotations = flux_azure_identity(c, "flux-source-controller")
    flux_install(c, source_controller={"sa_annotations": annotations,
                                       **({"pod_labels": {USE_LABEL: "true"}} if label else {})})
    conditions = None if label else auth_failed(
        "failed to get credential from 'azure': failed to create provider access token for the controller: "
        "DefaultAzureCredential: failed to acquire a token.\nAttempted credentials:\n\tEnvironmentCredential: "
        "missing environment variable AZURE_TENANT_ID\n\tWorkload Identity: missing environment variables for "
        "workload identity. Check webhook and pod configuration\n\tManagedIdentity: no default identity is "
        "assigned to this resource")
    oci_repository(c, "podinfo", FLUX_NS, acr_url(c, "podinfo"), provider="azure", conditions=conditions)
    return c


def gke_flux_controller(cluster: GkeCluster | None = None, *, gsa: bool = True) -> GkeCluster:
    """Seed 004's GCP set-up, controller level: GSA flux-source-controller with reader on the
    Artifact Registry repository `flux` and roles/iam.workloadIdentityUser for
    serviceAccount:P.svc.id.goog[flux-system/source-controller], named in the source-controller
    ServiceAccount's iam.gke.io/gcp-service-account; OCIRepository flux-system/podinfo on GAR with
    `provider: gcp`. gsa=False: the direct-principal model (no GSA, no annotation; the repository's
    reader granted to principal://…/ns/flux-system/sa/source-controller)."""
    c = cluster or GkeCluster()
    _base(c)
    if gsa:
        annotations = flux_gsa(c, "flux-source-controller")
    else:
        _gar_repository(c, "flux")
        c.gar_reader(c.principal("source-controller", FLUX_NS), "flux")
        annotations = None
    flux_install(c, source_controller={"sa_annotations": annotations})
    oci_repository(c, "podinfo", FLUX_NS, gar_url(c, "charts/podinfo"), provider="gcp")
    return c


def object_level(cloud: str = "aws", gate: bool = True, *, cluster=None, namespace: str = TENANT_NS,
                 sa: str = OBJECT_SA, name: str = "podinfo", token_create: bool = True, kind: str = "OCIRepository"):
    """Object-level workload identity: ServiceAccount `namespace`/`sa` annotated with its own cloud
    identity (role / managed identity + FIC / GSA + binding for that KSA), and an object in
    `namespace` (`kind` OCIRepository or ImageRepository) on the cloud's registry with the cloud
    `provider` and serviceAccountName `sa`. The controllers have no identity of their own; the gate is
    on source-controller and image-reflector-controller when `gate` (else the object is Stalled with
    FeatureGateDisabled), and the crd-controller ClusterRole grants serviceaccounts/token create when
    `token_create`."""
    c = cluster or _new(cloud)
    _base(c)
    annotations = cloud_identity(c, f"flux-{namespace}-{sa}", namespace, sa)
    object_sa(c, sa, namespace, annotations)
    controllers = DEFAULT_CONTROLLERS + (("image-reflector-controller",) if kind == "ImageRepository" else ())
    flux_install(c, controllers=controllers, gate=gate, token_create=token_create)
    provider = CLOUD_PROVIDER[cloud_of(c)]
    conditions = None if gate else gate_disabled()
    if kind == "ImageRepository":
        image_repository(c, name, namespace, image=registry_url(c, "podinfo", scheme=""), provider=provider,
                         service_account=sa, conditions=conditions)
    else:
        oci_repository(c, name, namespace, registry_url(c, "podinfo"), provider=provider, service_account=sa,
                       conditions=conditions)
    return c


def eks_object_level_pod_identity(cluster: Cluster | None = None) -> Cluster:
    """Object level on EKS relying on Pod Identity: the object's ServiceAccount apps/flux-oci has an
    EKS Pod Identity association (role with the pods.eks.amazonaws.com trust) but no role-arn
    annotation. Flux cannot use Pod Identity at the object level. Gate on, token RBAC present."""
    c = cluster or Cluster()
    _base(c)
    if not _find(c, "DaemonSet", "eks-pod-identity-agent", "kube-system"):
        c.agent()
    c.role("flux-apps-pod-identity", POD_IDENTITY_TRUST).association(OBJECT_SA, "flux-apps-pod-identity",
                                                                     namespace=TENANT_NS)
    object_sa(c, OBJECT_SA, TENANT_NS)
    flux_install(c, gate=True)
    oci_repository(c, "podinfo", TENANT_NS, ecr_url(c, "podinfo"), provider="aws", service_account=OBJECT_SA,
                   conditions=auth_failed(
                       f"failed to get credential from 'aws': failed to get provider identity from service account "
                       f"'{TENANT_NS}/{OBJECT_SA}' annotations: invalid eks.amazonaws.com/role-arn annotation: ''. "
                       f"must match ^arn:aws[\\w-]*:iam::[0-9]{{1,30}}:role/.{{1,200}}$"))
    return c


def object_sa_missing(cloud: str = "aws", cluster=None):
    """Object level where the named ServiceAccount apps/flux-oci does not exist (gate on, RBAC present)."""
    c = cluster or _new(cloud)
    _base(c)
    flux_install(c, gate=True)
    oci_repository(c, "podinfo", TENANT_NS, registry_url(c, "podinfo"), provider=CLOUD_PROVIDER[cloud_of(c)],
                   service_account=OBJECT_SA, conditions=auth_failed(
                       f"failed to get credential from '{CLOUD_PROVIDER[cloud_of(c)]}': failed to create provider "
                       f"access token for service account '{TENANT_NS}/{OBJECT_SA}': serviceaccounts "
                       f"\"{OBJECT_SA}\" not found"))
    return c


def ecr_generic_no_secret(cluster: Cluster | None = None, *, provider: str | None = None) -> Cluster:
    """An OCIRepository flux-system/podinfo on this account's ECR with `provider` unset (or "generic")
    and no secretRef: the controller pulls anonymously and ECR refuses. The source-controller itself
    has IRSA done right (so only the object's provider field is wrong)."""
    c = cluster or Cluster()
    _base(c)
    arn = flux_irsa_role(c, "flux-source-controller")
    flux_install(c, source_controller={"sa_annotations": {ROLE_ANNOTATION: arn}})
    url = ecr_url(c, "podinfo")
    oci_repository(c, "podinfo", FLUX_NS, url, provider=provider, conditions=auth_failed(
        f"failed to determine artifact digest: GET https://{ecr_registry(c.region)}/v2/podinfo/manifests/latest: "
        f"UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:podinfo Type:repository]]"))
    return c


def object_sa_with_image_pull_secrets(cloud: str = "aws", cluster=None):
    """object_level done right, except that the object's ServiceAccount also lists imagePullSecrets:
    source-controller then uses those and silently skips workload identity (Q5.3)."""
    c = object_level(cloud, gate=True, cluster=cluster)
    sa = _find(c, "ServiceAccount", OBJECT_SA, TENANT_NS)
    sa["imagePullSecrets"] = [{"name": "regcred"}]
    c.objects.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                      "metadata": {"name": "regcred", "namespace": TENANT_NS},
                      "data": {".dockerconfigjson": "eyJhdXRocyI6e319"}})
    return c


def crossplane_and_flux(objects: int, *, providers: int = 3) -> Cluster:
    """EKS with Crossplane (seed 002 done right plus `providers` more providers on its Pod Identity
    ServiceAccount) AND Flux: source-controller on IRSA and `objects` OCIRepositories, every second
    one object level in its own namespace tenant-<i> (ServiceAccount flux-oci annotated with one
    shared role whose trust is StringLike system:serviceaccount:tenant-*:flux-oci), the others
    controller level in flux-system. The size of the Flux part changes no kubectl call count."""
    c = Cluster().pod_identity_seed()
    for i in range(providers):
        c.provider(f"provider-aws-svc{i}", f"xpkg.upbound.io/upbound/provider-aws-svc{i}:v2.3.0",
                   runtime_config="pod-identity-runtimeconfig", service_account="provider-aws-pod-identity")
    arn = flux_irsa_role(c, "flux-source-controller")
    tenants = flux_irsa_role(c, "flux-tenants", subject="system:serviceaccount:tenant-*:flux-oci", like=True)
    flux_install(c, gate=True, source_controller={"sa_annotations": {ROLE_ANNOTATION: arn}})
    for i in range(objects):
        if i % 2:
            ns = f"tenant-{i}"
            object_sa(c, OBJECT_SA, ns, {ROLE_ANNOTATION: tenants})
            oci_repository(c, f"app-{i}", ns, ecr_url(c, f"apps/app-{i}"), provider="aws", service_account=OBJECT_SA)
        else:
            oci_repository(c, f"app-{i}", FLUX_NS, ecr_url(c, f"apps/app-{i}"), provider="aws")
    return c

