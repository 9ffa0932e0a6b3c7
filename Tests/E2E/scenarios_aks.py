"""Builds AKS end-to-end scenarios: Kubernetes objects for the API emulator (`kube_scenario()`,
the same format as scenarios.Cluster) and a plain description of the Azure side (`azure_spec()`)
for an ARM stand-in, shaped like what AKS, the Azure Workload Identity webhook and Crossplane
really create (shared/reference/workload-identity-facts.md §3, §5, §6 and
azure-gke-flux-facts.md Q1, Q3).

`AksCluster` starts empty; helpers add the pieces a seed document describes, so a test reads
like the setup it checks: `AksCluster().seed_aks_core_acr()` is seed 000's Azure tab done right,
and a broken variant changes exactly one thing.

Pods are stored as the cluster admitted them. Which pods the Azure WI webhook mutated, and how,
is decided when `kube_scenario()` runs, by the emulator's own webhook code
(kube_emulator.apply_azure_wi_webhook) against the webhook installed at that point
(`wi_webhook()`), the pod's labels and the ServiceAccount's annotations (or
`sa_at_pod_creation`, the annotations as they were when the pod was made). `injected=True/False`
overrides that decision (a pod that predates the label, or one admitted by a webhook since
removed). Tests never compute revision names, volume names or token paths: they read them
(`revision_of()`, the pod, `token_file()`).

azure_spec() shape (all keys always present; names as `az ... -o json` prints them):
    {"subscription": {"id": SUBSCRIPTION, "tenantId": TENANT},       # `az account show`
     "managedCluster": {                                           # `az aks show -g RG -n C`
         "name", "resourceGroup", "location", "id", "nodeResourceGroup", "kubernetesVersion",
         "oidcIssuerProfile": {"enabled": bool, "issuerUrl": str | None},
         "securityProfile": {"workloadIdentity": {"enabled": bool}},
         "identityProfile": {"kubeletidentity": {"clientId", "objectId", "resourceId"}},
         "agentPoolProfiles": [{"name", "count", "mode"}]},
     "identities": [{                                              # `az identity show`, user-assigned
         "name", "resourceGroup", "location", "id", "clientId", "principalId", "tenantId",
         "federatedCredentials": [{"name", "issuer", "subject", "audiences": [str]}]}],
     "registries": [{                                              # `az acr show`
         "name", "resourceGroup", "location", "id", "loginServer", "roleAssignmentMode",
         "sku", "adminUserEnabled", "anonymousPullEnabled"}],
     "roleAssignments": [{                                         # `az role assignment list`
         "name", "id", "principalId", "principalType", "roleDefinitionName",
         "roleDefinitionId" (full /subscriptions/…/roleDefinitions/<guid> id; None for a role whose
        GUID is unverified, see ROLE_IDS), "scope"}]}
azure_standin.seed_spec() takes this dict as it is.
The kubelet identity (`<cluster>-agentpool` in the node resource group) is one of `identities`.
"""
from __future__ import annotations

import copy
import hashlib
from urllib.parse import quote

from kube_emulator import (AZURE_AUDIENCE, AZURE_WI_OBJECT_SELECTOR, AZURE_WI_USE_LABEL, AZURE_WI_WEBHOOK,
                           apply_azure_wi_webhook, azure_wi_layout, azure_wi_webhook_selects, find_azure_wi_webhook)
from scenarios import CROSSPLANE_CRDS, CROSSPLANE_IMAGE, HELM_ANNOTATIONS, HELM_LABELS, NS, PODS_CREATED, digest12

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000a1"
TENANT = "00000000-0000-0000-0000-0000000000b2"
ISSUER_ID = "00000000-0000-0000-0000-0000000000c3"  # the per-cluster GUID in the issuer URL
RESOURCE_GROUP = "rg-platform"
CLUSTER_NAME = "prod-aks"
LOCATION = "eastus"
NODE_RESOURCE_GROUP = "MC_rg-platform_prod-aks_eastus"
ISSUER = f"https://{LOCATION}.oic.prod-aks.azure.com/{TENANT}/{ISSUER_ID}/"  # the trailing slash is part of it
KUBERNETES_VERSION = "1.32"
POOL = "nodepool1"
VMSS_ID = "12345678"  # aks-<pool>-<id>-vmss

ACR_NAME = "myregistry"
ACR_LOGIN_SERVER = f"{ACR_NAME}.azurecr.io"
WI_AUDIENCE = AZURE_AUDIENCE
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id"
USE_LABEL = AZURE_WI_USE_LABEL
# Built-in role definition GUIDs: AcrPull from the facts file, the others Azure's well-known built-ins
# (the same as azure_standin.BUILTIN_ROLES). The ABAC-mode "Container Registry Repository Reader" has
# None: its GUID is unverified (azure-gke-flux-facts.md Q3.1), so its assignments carry
# roleDefinitionId None and are matched by roleDefinitionName.
ROLE_IDS = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Container Registry Repository Reader": None,
}

# The AKS workload identity add-on (kube-system; the upstream chart uses azure-workload-identity-system).
WEBHOOK_NAMESPACE = "kube-system"
WEBHOOK_DEPLOYMENT = "azure-wi-webhook-controller-manager"
WEBHOOK_MWC = "azure-wi-webhook-mutating-webhook-configuration"
WEBHOOK_CONFIGMAP = "azure-wi-webhook-config"
WEBHOOK_IMAGE = "mcr.microsoft.com/oss/v2/azure/workload-identity/webhook"
WEBHOOK_VERSION = "v1.6.0"
WEBHOOK_LABELS = {"azure-workload-identity.io/system": "true"}

UPJET_AZURE_VERSION = "v2.7.0"
FAMILY = "provider-family-azure"
AZURE_FAMILY_CRDS = [
    {"group": "azure.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig",
     "namespaced": False, "categories": ["crossplane", "providerconfig", "azure"]},
    {"group": "azure.m.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig",
     "namespaced": True, "categories": ["crossplane", "providerconfig", "azure"]},
    {"group": "azure.m.upbound.io", "version": "v1beta1", "plural": "clusterproviderconfigs",
     "kind": "ClusterProviderConfig", "namespaced": False, "categories": ["crossplane", "providerconfig", "azure"]},
]
# The v2 revision kind is served too (the EKS builder's CRD list has only providers and functions' packages).
REVISION_CRDS = [
    {"group": "pkg.crossplane.io", "version": "v1", "plural": "functionrevisions", "kind": "FunctionRevision",
     "namespaced": False},
]
CREDENTIAL_SOURCES = ("None", "Secret", "UserAssignedManagedIdentity", "SystemAssignedManagedIdentity",
                      "OIDCTokenFile", "Upbound", "Filesystem")
NODE_CREATED = "2026-10-01T00:00:00Z"


def guid(*parts: str) -> str:
    """A stable GUID for an Azure object (client ids, principal ids, assignment names)."""
    h = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _transitioned(conditions: list, when: str) -> list:
    return [{**c, "lastTransitionTime": c.get("lastTransitionTime", when)} for c in conditions]


def acr_token_error(package: str) -> str:
    """What go-containerregistry reports when ACR refuses an anonymous token for `package`."""
    host, _, rest = package.partition("/")
    repository = rest.rsplit("@", 1)[0].rsplit(":", 1)[0]
    scope = quote(f"repository:{repository}:pull", safe="")
    return (f"GET https://{host}/oauth2/token?scope={scope}&service={host}: UNAUTHORIZED: authentication required, "
            "visit https://aka.ms/acr/authorization for more information.")


def unpack_failure(package: str) -> str:
    """The Provider's Installed=False message when the package manager cannot fetch `package` from
    ACR (crossplane-runtime v2.3.x xpkg client: HEAD then GET, both refused at the token step)."""
    token = acr_token_error(package)
    return (f"cannot unpack package: cannot resolve {package} to digest: failed to fetch package descriptor with a "
            f"GET request after a previous HEAD request failure: {token}: {token}")


def kubelet_pull_failure(package: str) -> str:
    """The kubelet's ErrImagePull message (containerd) when the node identity cannot pull `package`."""
    host, _, rest = package.partition("/")
    repository = rest.rsplit(":", 1)[0]
    scope = quote(f"repository:{repository}:pull", safe="")
    return (f'failed to pull and unpack image "{package}": failed to resolve reference "{package}": failed to '
            f"authorize: failed to fetch anonymous token: unexpected status from GET request to "
            f"https://{host}/oauth2/token?scope={scope}&service={host}: 401 Unauthorized")


def _api_access_volume(seed: str) -> tuple:
    """The kube-api-access volume and mount every pod gets from the ServiceAccount admission plugin."""
    name = f"kube-api-access-{digest12(seed)[:5]}"
    volume = {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    "path": "namespace"}]}}]}}
    return volume, {"name": name, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True}


def _drc_get(drc: dict | None, *path: str):
    node = (drc or {}).get("spec") or {}
    for key in path:
        node = (node or {}).get(key) or {}
    return node


class AksCluster:
    """An AKS cluster in SUBSCRIPTION/RESOURCE_GROUP with Crossplane, and its Azure side."""

    def __init__(self, name: str = CLUSTER_NAME, *, resource_group: str = RESOURCE_GROUP, location: str = LOCATION,
                 subscription: str = SUBSCRIPTION, tenant: str = TENANT):
        self.name, self.resource_group, self.location = name, resource_group, location
        self.subscription, self.tenant = subscription, tenant
        self.objects: list = []
        self.crds = CROSSPLANE_CRDS + REVISION_CRDS + AZURE_FAMILY_CRDS
        self.forbidden: list = []
        self.faults: list = []
        self.aggregated_discovery = True
        self.nodes: list = []
        self.identities: list = []
        self.registries: list = []
        self.role_assignments: list = []
        self.webhook: dict | None = None  # {"version", "tenantId"} once wi_webhook() installed it
        self.oidc_issuer_enabled = True
        # None: follows whether the webhook is installed (the add-on is what the flag turns on).
        self.workload_identity_enabled: bool | None = None
        self._admission: dict = {}  # id(pod) -> (service account name, annotations at creation or None, injected)
        self.identity(f"{name}-agentpool", resource_group=self.node_resource_group)  # the kubelet identity

    # ---- names --------------------------------------------------------------------
    @property
    def context(self) -> str:
        """`az aks get-credentials` names the context after the cluster."""
        return self.name

    @property
    def node_resource_group(self) -> str:
        return f"MC_{self.resource_group}_{self.name}_{self.location}"

    @property
    def issuer(self) -> str:
        return f"https://{self.location}.oic.prod-aks.azure.com/{self.tenant}/{ISSUER_ID}/"

    @property
    def cluster_id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourcegroups/{self.resource_group}/providers/"
                f"Microsoft.ContainerService/managedClusters/{self.name}")

    @property
    def kubelet_identity(self) -> dict:
        return self.identities[0]

    def identity_id(self, name: str, resource_group: str | None = None) -> str:
        return (f"/subscriptions/{self.subscription}/resourcegroups/{resource_group or self.resource_group}/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}")

    def registry_id(self, name: str = ACR_NAME) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.ContainerRegistry/registries/{name}")

    def rg_scope(self, resource_group: str | None = None) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{resource_group or self.resource_group}"

    def client_id(self, identity: str) -> str:
        return self._identity(identity)["clientId"]

    def principal_id(self, identity: str) -> str:
        return self._identity(identity)["principalId"]

    def _identity(self, name: str) -> dict:
        return next(i for i in self.identities if i["name"] == name)

    def revision_of(self, name: str) -> str:
        """The revision name a package got (its `status.currentRevision`)."""
        return next(o["status"]["currentRevision"] for o in self.objects
                    if o["kind"] in ("Provider", "Function") and o["metadata"]["name"] == name)

    def token_file(self) -> str:
        """AZURE_FEDERATED_TOKEN_FILE as the installed webhook version injects it."""
        return azure_wi_layout((self.webhook or {}).get("version", WEBHOOK_VERSION), "")["file"]

    def acr(self, path: str, registry: str = ACR_NAME) -> str:
        """A package in the private registry, e.g. acr("crossplane/provider-azure-storage:v2.6.0")."""
        return f"{registry}.azurecr.io/{path}"

    # ---- nodes and the workload identity add-on --------------------------------------
    def node(self, index: int = 0, *, pool: str = POOL, vmss_id: str = VMSS_ID, zone: str | None = None) -> "AksCluster":
        """A VMSS node as AKS registers it. The providerID carries the node resource group in lower case
        (AKS lowercases it there); the `kubernetes.azure.com/cluster` label keeps its case."""
        vmss = f"aks-{pool}-{vmss_id}-vmss"
        name = f"{vmss}{index:06d}"
        labels = {"kubernetes.io/os": "linux", "kubernetes.io/hostname": name, "agentpool": pool,
                  "kubernetes.azure.com/agentpool": pool, "kubernetes.azure.com/cluster": self.node_resource_group,
                  "kubernetes.azure.com/mode": "system", "topology.kubernetes.io/region": self.location,
                  "topology.kubernetes.io/zone": f"{self.location}-{zone}" if zone else "0"}
        provider_id = (f"azure:///subscriptions/{self.subscription}/resourceGroups/{self.node_resource_group.lower()}/"
                       f"providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}/virtualMachines/{index}")
        self.nodes.append(name)
        self.objects.append({"apiVersion": "v1", "kind": "Node",
                             "metadata": {"name": name, "labels": labels, "creationTimestamp": NODE_CREATED},
                             "spec": {"providerID": provider_id}, "status": {}})
        return self

    def wi_webhook(self, version: str = WEBHOOK_VERSION, *, tenant_id: str | None = None, image: str | None = None,
                   replicas: int = 2) -> "AksCluster":
        """The workload identity add-on (`az aks update --enable-workload-identity`): the
        MutatingWebhookConfiguration with the chart's `mutation.azure-workload-identity.io` entry, the
        webhook's ConfigMap (AZURE_TENANT_ID = `tenant_id`, default the cluster's tenant) and Deployment
        `azure-wi-webhook-controller-manager` in kube-system running `image` (default
        WEBHOOK_IMAGE:`version`), with its pods. Without it, workload identity is off: nothing is injected."""
        tenant = tenant_id or self.tenant
        self.webhook = {"version": version, "tenantId": tenant}
        self.objects.append({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": WEBHOOK_MWC, "labels": dict(WEBHOOK_LABELS), "creationTimestamp": NODE_CREATED},
            "webhooks": [{
                "admissionReviewVersions": ["v1", "v1beta1"],
                "clientConfig": {"service": {"name": "azure-wi-webhook-webhook-service", "namespace": WEBHOOK_NAMESPACE,
                                             "path": "/mutate-v1-pod", "port": 443}},
                "failurePolicy": "Fail", "matchPolicy": "Equivalent", "name": AZURE_WI_WEBHOOK,
                "namespaceSelector": {}, "objectSelector": copy.deepcopy(AZURE_WI_OBJECT_SELECTOR),
                "reinvocationPolicy": "IfNeeded",
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"],
                           "scope": "*"}],
                "sideEffects": "None", "timeoutSeconds": 10}]})
        self.objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": WEBHOOK_CONFIGMAP, "namespace": WEBHOOK_NAMESPACE,
                                          "labels": dict(WEBHOOK_LABELS)},
                             "data": {"AZURE_ENVIRONMENT": "AzurePublicCloud", "AZURE_TENANT_ID": tenant}})
        container = {"name": "manager", "image": image or f"{WEBHOOK_IMAGE}:{version}", "command": ["/manager"],
                     "args": ["--log-level=info"], "envFrom": [{"configMapRef": {"name": WEBHOOK_CONFIGMAP}}],
                     "ports": [{"containerPort": 9443, "name": "webhook-server", "protocol": "TCP"}]}
        self._workload(WEBHOOK_DEPLOYMENT, WEBHOOK_NAMESPACE, WEBHOOK_LABELS, dict(WEBHOOK_LABELS),
                       {"serviceAccountName": "azure-wi-webhook-admin", "containers": [container]},
                       replicas=replicas, created=NODE_CREATED)
        return self

    def _workload(self, name: str, namespace: str, selector: dict, meta_labels: dict, pod_spec: dict, *,
                  replicas: int = 1, created: str = PODS_CREATED, template_labels: dict | None = None,
                  deployment_annotations: dict | None = None, owner: dict | None = None, node: str | None = None,
                  ready: bool = True, waiting: dict | None = None, admission: tuple | None = None) -> list:
        """A Deployment with its running pods, named like the ReplicaSet controller names them;
        `admission` = (annotations at creation or None, injected) makes the pods go through the Azure
        webhook at kube_scenario() time. Returns the pods."""
        template_labels = template_labels if template_labels is not None else dict(selector)
        template = {"metadata": {"labels": template_labels}, "spec": copy.deepcopy(pod_spec)}
        replica_set = f"{name}-{digest12(name + repr(pod_spec))[:10]}"
        deployment_meta: dict = {"name": name, "namespace": namespace, "labels": meta_labels, "generation": 1,
                                 "creationTimestamp": created}
        if deployment_annotations:
            deployment_meta["annotations"] = deployment_annotations
        if owner:
            deployment_meta["ownerReferences"] = [owner]
        available = replicas if ready else 0
        self.objects.append({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": deployment_meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(selector)}, "template": template},
            "status": {"replicas": replicas, "readyReplicas": available, "availableReplicas": available,
                       "updatedReplicas": replicas, "observedGeneration": 1,
                       **({} if ready else {"unavailableReplicas": replicas})}})
        pods = []
        for i in range(replicas):
            volume, mount = _api_access_volume(f"{replica_set}-{i}")
            spec = copy.deepcopy(pod_spec)
            for c in spec.get("initContainers", []) + spec.get("containers", []):
                c.setdefault("volumeMounts", []).append(dict(mount))
            spec["volumes"] = spec.get("volumes", []) + [volume]
            spec["nodeName"] = node or (self.nodes[i % len(self.nodes)] if self.nodes else None)
            if spec["nodeName"] is None:
                del spec["nodeName"]
            if waiting:
                status = {"phase": "Pending", "containerStatuses": [{
                    "name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False, "started": False,
                    "restartCount": 0, "state": {"waiting": dict(waiting)}} for c in spec.get("containers", [])]}
            else:
                status = {"phase": "Running", "startTime": created, "containerStatuses": [{
                    "name": c["name"], "image": c.get("image", ""), "ready": True, "started": True, "restartCount": 0,
                    "state": {"running": {"startedAt": created}}} for c in spec.get("containers", [])]}
                if spec.get("initContainers"):
                    status["initContainerStatuses"] = [{
                        "name": c["name"], "ready": True,
                        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}} for c in spec["initContainers"]]
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": f"{replica_set}-{digest12(replica_set + str(i))[:5]}", "generateName": f"{replica_set}-",
                "namespace": namespace, "labels": {**template_labels, "pod-template-hash": replica_set.rsplit("-", 1)[1]},
                "creationTimestamp": created,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
                                     "uid": f"rs-{replica_set}", "controller": True, "blockOwnerDeletion": True}]},
                "spec": spec, "status": status}
            self.objects.append(pod)
            if admission is not None:
                self._admission[id(pod)] = admission
            pods.append(pod)
        return pods

    # ---- Crossplane ----------------------------------------------------------------
    def crossplane_core(self, client_id: str | None = None, tenant_id: str | None = None, *, label_on: str | None = "pod",
                        helm: bool = True, image: str = CROSSPLANE_IMAGE, injected: bool | None = None,
                        sa_at_pod_creation: dict | None = None, created: str = PODS_CREATED, node: str | None = None,
                        rbac_manager: bool = True) -> "AksCluster":
        """Crossplane as `helm upgrade --install crossplane crossplane-stable/crossplane -n
        crossplane-system` leaves it: ServiceAccount and Deployment `crossplane` (selector
        `app`/`release`; init container `crossplane-init`, container `crossplane`) with its pod, the
        rbac-manager likewise (`rbac_manager`), and the `default` DeploymentRuntimeConfig.

        `client_id`/`tenant_id` become the `crossplane` SA's azure.workload.identity annotations (Helm
        `serviceAccount.customAnnotations`). `label_on` says where `azure.workload.identity/use: "true"`
        sits: "pod" = Helm `customLabels` (Deployment metadata, pod template and ServiceAccount, of
        crossplane and of the rbac-manager), "sa" (the ServiceAccount only), "deployment" (the
        Deployment object only) or None. Only a label on the pod makes the webhook inject.
        `injected`/`sa_at_pod_creation`: see the module docstring."""
        assert label_on in ("pod", "sa", "deployment", None), label_on
        use = {USE_LABEL: "true"}
        selector = {"app": "crossplane", "release": "crossplane"}
        chart_labels = dict(HELM_LABELS) if helm else {}
        helm_annotations = dict(HELM_ANNOTATIONS) if helm else {}
        custom_labels = use if label_on == "pod" else {}
        sa_annotations = dict(helm_annotations)
        if client_id:
            sa_annotations[CLIENT_ID_ANNOTATION] = client_id
        if tenant_id:
            sa_annotations[TENANT_ID_ANNOTATION] = tenant_id
        sa_meta: dict = {"name": "crossplane", "namespace": NS}
        sa_labels = {**chart_labels, **custom_labels, **(use if label_on == "sa" else {})}
        if sa_labels:
            sa_meta["labels"] = sa_labels
        if sa_annotations:
            sa_meta["annotations"] = sa_annotations
        self.objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa_meta})
        pod_chart_labels = {k: v for k, v in chart_labels.items() if k != "helm.sh/chart"}
        env = [{"name": "POD_NAMESPACE", "value": NS}, {"name": "POD_SERVICE_ACCOUNT", "value": "crossplane"}]
        self._workload(
            "crossplane", NS, selector,
            {**selector, **chart_labels, **custom_labels, **(use if label_on == "deployment" else {})},
            {"serviceAccountName": "crossplane",
             "initContainers": [{"name": "crossplane-init", "image": image, "args": ["core", "init"],
                                 "env": copy.deepcopy(env)}],
             "containers": [{"name": "crossplane", "image": image, "args": ["core", "start"],
                             "env": copy.deepcopy(env)}]},
            template_labels={**selector, **pod_chart_labels, **custom_labels},
            deployment_annotations=helm_annotations or None, created=created, node=node,
            admission=(sa_at_pod_creation, injected))
        if rbac_manager:
            rbac_selector = {"app": "crossplane-rbac-manager", "release": "crossplane"}
            rbac_sa: dict = {"name": "rbac-manager", "namespace": NS}
            if chart_labels or custom_labels:
                rbac_sa["labels"] = {**chart_labels, **custom_labels}
            if helm_annotations:
                rbac_sa["annotations"] = dict(helm_annotations)
            self.objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": rbac_sa})
            self._workload(
                "crossplane-rbac-manager", NS, rbac_selector, {**rbac_selector, **chart_labels, **custom_labels},
                {"serviceAccountName": "rbac-manager",
                 "initContainers": [{"name": "crossplane-init", "image": image, "args": ["rbac", "init"]}],
                 "containers": [{"name": "crossplane", "image": image, "args": [
                     "rbac", "start", "--provider-clusterrole=crossplane:allowed-provider-permissions"],
                                 "env": [{"name": "POD_NAMESPACE", "value": NS}]}]},
                template_labels={**rbac_selector, **pod_chart_labels, **custom_labels},
                deployment_annotations=helm_annotations or None, created=created, node=node, admission=(None, None))
        if not any(o["kind"] == "DeploymentRuntimeConfig" and o["metadata"]["name"] == "default" for o in self.objects):
            self.drc("default")
        return self

    def drc(self, name: str, *, sa_name: str | None = None, sa_annotations: dict | None = None,
            sa_labels: dict | None = None, pod_labels: dict | None = None, deployment_labels: dict | None = None,
            pod_service_account: str | None = None) -> "AksCluster":
        """A DeploymentRuntimeConfig: `sa_name`/`sa_annotations`/`sa_labels` go to
        serviceAccountTemplate.metadata; `pod_labels` to deploymentTemplate.spec.template.metadata.labels
        (the pods: this is where the Azure WI label works); `deployment_labels` to
        deploymentTemplate.metadata.labels (the Deployment object only); `pod_service_account` to the pod
        template's serviceAccountName (an existing SA Crossplane does not manage)."""
        spec: dict = {}
        sa_meta = {k: v for k, v in (("name", sa_name), ("annotations", sa_annotations), ("labels", sa_labels)) if v}
        if sa_meta:
            spec["serviceAccountTemplate"] = {"metadata": sa_meta}
        if pod_labels or pod_service_account or deployment_labels:
            template: dict = {"spec": {"containers": [{"name": "package-runtime", "args": []}]}}
            if pod_labels:
                template["metadata"] = {"labels": dict(pod_labels)}
            if pod_service_account:
                template["spec"]["serviceAccountName"] = pod_service_account
            spec["deploymentTemplate"] = {"spec": {"selector": {}, "template": template}}
            if deployment_labels:
                spec["deploymentTemplate"]["metadata"] = {"labels": dict(deployment_labels)}
        self.objects.append({"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig",
                             "metadata": {"name": name}, "spec": spec})
        return self

    def wi_drc(self, name: str = "azure-workload-identity", *, client_id: str, sa_name: str | None = "provider-azure",
               tenant_id: str | None = None, pod_label: bool = True) -> "AksCluster":
        """The Azure WI runtime config of the Crossplane docs (image-configs page: the client-id SA
        annotation, the label on the Deployment and on its pod template) with the SA name pinned
        (`sa_name`, None = the docs' unpinned form), so a federated credential subject can name it."""
        annotations = {CLIENT_ID_ANNOTATION: client_id, **({TENANT_ID_ANNOTATION: tenant_id} if tenant_id else {})}
        use = {USE_LABEL: "true"}
        return self.drc(name, sa_name=sa_name, sa_annotations=annotations, pod_labels=use if pod_label else None,
                        deployment_labels=use)

    def provider(self, name: str, package: str, *, kind: str = "Provider", runtime_config: str | None = None,
                 injected: bool | None = None, sa_at_pod_creation: dict | None = None, created: str = PODS_CREATED,
                 node: str | None = None, healthy: bool = True, conditions: list | None = None, replicas: int = 1,
                 pull_error: str | None = None, installed: bool = True, unpack_error: str | None = None,
                 skip_dependency_resolution: bool = False, family: str | None = None) -> "AksCluster":
        """A package as Crossplane runs it, built from its DeploymentRuntimeConfig (`runtime_config`,
        else `default`): the package with `status.currentRevision`, the ProviderRevision, the
        revision's Deployment (label `pkg.crossplane.io/revision`, pod-template labels from
        deploymentTemplate.spec.template.metadata.labels, Deployment labels from
        deploymentTemplate.metadata.labels), its ServiceAccount (serviceAccountTemplate name, else the
        revision name, with the template's annotations and labels; not managed when the DRC sets the
        pods' serviceAccountName) and its pods.

        `pull_error` ("ImagePullBackOff" or "ErrImagePull"): the node could not pull the runtime image
        (the kubelet identity has no pull right): pods Pending on `node`, the package unhealthy.
        `installed=False`: the package manager could not fetch the package: no revision, no runtime,
        Installed False with `unpack_error` (default: ACR's anonymous-token refusal, unpack_failure()).
        `family`: the revision's provider-family label (default provider-family-azure for
        `provider-azure-*` packages)."""
        revision = f"{name}-{digest12(package)}"
        package_label = "pkg.crossplane.io/provider" if kind == "Provider" else "pkg.crossplane.io/function"
        selector = {"pkg.crossplane.io/revision": revision, package_label: name}
        spec: dict = {"package": package}
        if runtime_config:
            spec["runtimeConfigRef"] = {"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig",
                                        "name": runtime_config}
        if skip_dependency_resolution:
            spec["skipDependencyResolution"] = True
        api = "pkg.crossplane.io/v1"
        if not installed:
            conditions = conditions or [
                {"type": "Installed", "status": "False", "reason": "UnpackingPackage",
                 "message": unpack_error or unpack_failure(package)},
                {"type": "Healthy", "status": "Unknown", "reason": "UnknownPackageRevisionHealth"}]
            self.objects.append({"apiVersion": api, "kind": kind, "metadata": {"name": name, "generation": 1},
                                 "spec": spec, "status": {"conditions": _transitioned(conditions, created)}})
            return self
        if pull_error:
            healthy = False
        unhealthy = ("post establish runtime hook failed for package: provider package deployment is unavailable "
                     "with message: Deployment does not have minimum availability.")
        if conditions is None:
            conditions = [
                {"type": "Installed", "status": "True", "reason": "ActivePackageRevision"},
                {"type": "Healthy", "status": "True" if healthy else "False",
                 "reason": "HealthyPackageRevision" if healthy else "UnhealthyPackageRevision",
                 **({} if healthy else {"message": unhealthy})}]
        self.objects.append({"apiVersion": api, "kind": kind, "metadata": {"name": name, "generation": 1},
                             "spec": spec, "status": {"currentRevision": revision, "currentIdentifier": package,
                                                      "conditions": _transitioned(conditions, created)}})
        repository = package.rsplit("@", 1)[0].rsplit(":", 1)[0].rsplit("/", 1)[-1]
        family = family if family is not None else (FAMILY if repository.startswith("provider-azure-") else None)
        revision_labels = {"pkg.crossplane.io/package": name, **({"pkg.crossplane.io/provider-family": family}
                                                                  if family else {})}
        revision_spec: dict = {"desiredState": "Active", "image": package, "revision": 1,
                               "ignoreCrossplaneConstraints": False, "skipDependencyResolution": skip_dependency_resolution}
        if runtime_config:
            revision_spec["runtimeConfigRef"] = spec["runtimeConfigRef"]
        owner = {"apiVersion": api, "kind": f"{kind}Revision", "name": revision, "uid": f"rev-{revision}",
                 "controller": True, "blockOwnerDeletion": True}
        self.objects.append({
            "apiVersion": api, "kind": f"{kind}Revision",
            "metadata": {"name": revision, "labels": revision_labels, "generation": 1,
                         "ownerReferences": [{"apiVersion": api, "kind": kind, "name": name, "uid": f"pkg-{name}",
                                              "controller": True, "blockOwnerDeletion": True}]},
            "spec": revision_spec,
            "status": {"conditions": _transitioned([
                {"type": "RevisionHealthy", "status": "True", "reason": "HealthyPackageRevision"},
                {"type": "RuntimeHealthy", "status": "True" if healthy else "False",
                 "reason": "HealthyPackageRevision" if healthy else "UnhealthyPackageRevision",
                 **({} if healthy else {"message": unhealthy})}], created)}})
        drc = next((o for o in self.objects if o["kind"] == "DeploymentRuntimeConfig"
                    and o["metadata"]["name"] == (runtime_config or "default")), None)
        sa_template = _drc_get(drc, "serviceAccountTemplate", "metadata")
        template = _drc_get(drc, "deploymentTemplate", "spec", "template")
        pod_sa = (template.get("spec") or {}).get("serviceAccountName")
        sa = pod_sa or sa_template.get("name") or revision
        if not pod_sa:  # Crossplane applies (and owns) the SA it names, from the template
            existing = next((o for o in self.objects if o["kind"] == "ServiceAccount"
                             and o["metadata"]["name"] == sa and o["metadata"].get("namespace") == NS), None)
            if existing is None:
                existing = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": NS}}
                self.objects.append(existing)
            meta = existing["metadata"]
            if sa_template.get("annotations"):
                meta["annotations"] = {**meta.get("annotations", {}), **sa_template["annotations"]}
            if sa_template.get("labels"):
                meta["labels"] = {**meta.get("labels", {}), **sa_template["labels"]}
            meta.setdefault("ownerReferences", [dict(owner)])
        deployment_meta = _drc_get(drc, "deploymentTemplate", "metadata")
        template_labels = {**((template.get("metadata") or {}).get("labels") or {}), **selector}
        container = {"name": "package-runtime", "image": package, "ports": [{"containerPort": 8080, "name": "metrics"}],
                     "env": [{"name": "POD_NAMESPACE", "value": NS}, {"name": "PROVIDER_NAME", "value": name},
                             {"name": "REVISION_NAME", "value": revision}]}
        waiting = None
        if pull_error:
            waiting = {"reason": pull_error, "message": f'Back-off pulling image "{package}"'
                       if pull_error == "ImagePullBackOff" else kubelet_pull_failure(package)}
        self._workload(deployment_meta.get("name") or revision, NS, selector,
                       {**(deployment_meta.get("labels") or {}), **selector},
                       {"serviceAccountName": sa, "securityContext": {"runAsNonRoot": True, "runAsUser": 2000,
                                                                      "runAsGroup": 2000},
                        "containers": [container]},
                       replicas=replicas, created=created, template_labels=template_labels, owner=owner,
                       node=node, ready=not pull_error, waiting=waiting, admission=(sa_at_pod_creation, injected))
        return self

    def provider_config(self, source: str = "OIDCTokenFile", *, api: str = "azure.m.upbound.io",
                        kind: str = "ClusterProviderConfig", name: str = "default", namespace: str = "default",
                        client_id: str | None = None, tenant_id: str | None = None, subscription_id: str | None = None,
                        oidc_token_file_path: str | None = None, secret_ref: dict | None = None) -> "AksCluster":
        """An upjet Azure ProviderConfig: `azure.upbound.io` ProviderConfig (cluster-scoped, legacy MRs),
        `azure.m.upbound.io` ProviderConfig (namespaced, in `namespace`) or ClusterProviderConfig.
        clientID/tenantID/subscriptionID/oidcTokenFilePath are top-level spec fields, as in the CRD."""
        assert source in CREDENTIAL_SOURCES, source
        assert (api, kind) in {("azure.upbound.io", "ProviderConfig"), ("azure.m.upbound.io", "ProviderConfig"),
                               ("azure.m.upbound.io", "ClusterProviderConfig")}, (api, kind)
        spec: dict = {"credentials": {"source": source, **({"secretRef": secret_ref} if secret_ref else {})}}
        for field, value in (("clientID", client_id), ("tenantID", tenant_id), ("subscriptionID", subscription_id),
                             ("oidcTokenFilePath", oidc_token_file_path)):
            if value is not None:
                spec[field] = value
        meta: dict = {"name": name}
        if api == "azure.m.upbound.io" and kind == "ProviderConfig":
            meta["namespace"] = namespace
        self.objects.append({"apiVersion": f"{api}/v1beta1", "kind": kind, "metadata": meta, "spec": spec})
        return self

    def forbid(self, verb: str, resource: str, namespace: str = "*", group: str = "") -> "AksCluster":
        self.forbidden.append({"verb": verb, "resource": resource, "group": group, "namespace": namespace})
        return self

    # ---- Azure side ----------------------------------------------------------------
    def identity(self, name: str, *, resource_group: str | None = None, client_id: str | None = None,
                 principal_id: str | None = None) -> "AksCluster":
        """A user-assigned managed identity (ids are stable GUIDs derived from the name unless given)."""
        rg = resource_group or self.resource_group
        self.identities.append({"name": name, "resourceGroup": rg, "location": self.location,
                                "id": self.identity_id(name, rg), "clientId": client_id or guid("client", name),
                                "principalId": principal_id or guid("principal", name), "tenantId": self.tenant,
                                "federatedCredentials": []})
        return self

    def federated_credential(self, identity: str, subject: str, *, name: str | None = None, issuer: str | None = None,
                             audiences: list | None = None) -> "AksCluster":
        """A FIC on `identity`: `subject` may be a full `system:serviceaccount:NS:SA` or just the SA name
        (in crossplane-system); `issuer` defaults to the cluster's, trailing slash included."""
        if not subject.startswith("system:"):
            subject = f"system:serviceaccount:{NS}:{subject}"
        self._identity(identity)["federatedCredentials"].append({
            "name": name or subject.rsplit(":", 1)[-1] + "-fic", "issuer": issuer or self.issuer, "subject": subject,
            "audiences": list(audiences or [WI_AUDIENCE])})
        return self

    def registry(self, name: str = ACR_NAME, *, role_assignment_mode: str = "LegacyRegistryPermissions") -> "AksCluster":
        """An ACR registry; `role_assignment_mode` LegacyRegistryPermissions or AbacRepositoryPermissions
        (where AcrPull is not honoured)."""
        self.registries.append({"name": name, "resourceGroup": self.resource_group, "location": self.location,
                                "id": self.registry_id(name), "loginServer": f"{name}.azurecr.io",
                                "roleAssignmentMode": role_assignment_mode, "sku": {"name": "Standard", "tier": "Standard"},
                                "adminUserEnabled": False, "anonymousPullEnabled": False})
        return self

    def role_assignment(self, principal: str, role: str, scope: str, *, role_definition_id: str | None = None,
                        principal_type: str = "ServicePrincipal") -> "AksCluster":
        """`principal`: an identity name of this builder (its principalId is used) or a principal id;
        `role`: a name of ROLE_IDS, or any name with `role_definition_id` (a GUID)."""
        principal_id = next((i["principalId"] for i in self.identities if i["name"] == principal), principal)
        role_guid = role_definition_id or ROLE_IDS[role]
        assignment = guid("assignment", principal_id, role, scope)
        definitions = f"/subscriptions/{self.subscription}/providers/Microsoft.Authorization/roleDefinitions"
        self.role_assignments.append({
            "name": assignment, "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{assignment}",
            "principalId": principal_id, "principalType": principal_type, "roleDefinitionName": role,
            "roleDefinitionId": f"{definitions}/{role_guid}" if role_guid else None, "scope": scope})
        return self

    def acr_pull(self, principal: str, registry: str = ACR_NAME, role: str = "AcrPull") -> "AksCluster":
        return self.role_assignment(principal, role, self.registry_id(registry))

    # ---- complete setups -----------------------------------------------------------
    def seed_aks_core_acr(self, fixed: bool = True, *, identity: str = "crossplane-acr-identity",
                          package: str = "crossplane/provider-azure-storage:v1.2.0", **core) -> "AksCluster":
        """Seed 000 (Azure AKS tab): the package manager pulls provider-azure-storage from the private
        ACR `myregistry` with workload identity. UAMI `crossplane-acr-identity` with AcrPull on the
        registry and a FIC (issuer = the cluster's, subject
        system:serviceaccount:crossplane-system:crossplane, audience api://AzureADTokenExchange);
        Crossplane installed with Helm `serviceAccount.customAnnotations` client-id and tenant-id and
        `customLabels` azure.workload.identity/use=true, so its pod got the Azure env. The family
        dependency resolved from xpkg.upbound.io and is healthy.
        fixed=True adds what the seed leaves out ("this guide only covers step 1"): the kubelet
        identity's AcrPull on the registry. fixed=False: without it the nodes cannot pull the provider's
        runtime image, so its pod is in ImagePullBackOff and the Provider unhealthy.
        `core` overrides crossplane_core() arguments."""
        self.node(0).node(1).wi_webhook()
        self.identity(identity).registry()
        self.acr_pull(identity).federated_credential(identity, "crossplane", name="crossplane-federated-credential")
        self.crossplane_core(**{"client_id": self.client_id(identity), "tenant_id": self.tenant, **core})
        version = package.rsplit(":", 1)[-1]
        if fixed:
            self.acr_pull(self.kubelet_identity["name"])
            self.provider("provider-azure-storage", self.acr(package))
        else:
            self.provider("provider-azure-storage", self.acr(package), pull_error="ImagePullBackOff", node=self.nodes[0])
        self.provider("upbound-provider-family-azure", f"xpkg.upbound.io/upbound/{FAMILY}:{version}")
        return self

    def seed_aks_upjet_provider(self, *, identity: str = "crossplane-provider-azure", sa: str = "provider-azure-storage",
                                version: str = UPJET_AZURE_VERSION, runtime_config: str = "azure-workload-identity",
                                **provider) -> "AksCluster":
        """An upjet Azure provider on workload identity done right: the WI DRC (SA name pinned to
        `sa`, client-id annotation, pod-template label), provider-azure-storage `version` from
        xpkg.upbound.io using it, the family provider installed as a dependency with the default
        runtime config, a ClusterProviderConfig `default` (azure.m.upbound.io) with source
        OIDCTokenFile and clientID/tenantID/subscriptionID, and UAMI `identity` with a FIC for
        system:serviceaccount:crossplane-system:`sa` and Contributor on the resource group.
        `provider` overrides provider() arguments of provider-azure-storage."""
        self.node(0).node(1).wi_webhook()
        self.crossplane_core(label_on=None)
        self.identity(identity).federated_credential(identity, sa)
        self.role_assignment(identity, "Contributor", self.rg_scope())
        self.wi_drc(runtime_config, client_id=self.client_id(identity), sa_name=sa)
        self.provider("provider-azure-storage", f"xpkg.upbound.io/upbound/provider-azure-storage:{version}",
                      runtime_config=runtime_config, **provider)
        self.provider("upbound-provider-family-azure", f"xpkg.upbound.io/upbound/{FAMILY}:{version}")
        self.provider_config("OIDCTokenFile", client_id=self.client_id(identity), tenant_id=self.tenant,
                             subscription_id=self.subscription)
        return self

    # ---- output --------------------------------------------------------------------
    def _admitted(self, objects: list) -> list:
        """Copies of the objects with each tracked pod mutated the way the Azure WI webhook admitted it."""
        webhook = find_azure_wi_webhook([o for o in objects if o["kind"] == "MutatingWebhookConfiguration"])
        config = self.webhook or {"version": WEBHOOK_VERSION, "tenantId": self.tenant}
        namespaces = {o["metadata"]["name"]: o["metadata"].get("labels") or {} for o in objects if o["kind"] == "Namespace"}
        out = []
        for obj in objects:
            admission = self._admission.get(id(obj))
            obj = copy.deepcopy(obj)
            if admission is not None:
                at_creation, injected = admission
                meta, spec = obj["metadata"], obj["spec"]
                sa = next((o for o in objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"] ==
                           spec.get("serviceAccountName") and o["metadata"].get("namespace") == meta["namespace"]), None)
                if at_creation is not None:
                    sa = {"metadata": {"annotations": at_creation}}
                if injected is None:
                    injected = webhook is not None and azure_wi_webhook_selects(
                        webhook, meta.get("labels") or {},
                        namespaces.get(meta["namespace"], {"kubernetes.io/metadata.name": meta["namespace"]}))
                if injected:
                    apply_azure_wi_webhook(obj, sa, version=config["version"], tenant_id=config["tenantId"],
                                           pod_name=f"{meta['generateName']} (prefix)")
            out.append(obj)
        return out

    def kube_scenario(self) -> dict:
        scenario = {"objects": self._admitted(self.objects), "crds": self.crds, "forbidden": self.forbidden,
                    "user": "alice", "faults": self.faults, "aggregatedDiscovery": self.aggregated_discovery}
        if self.webhook:
            scenario["azureWebhook"] = dict(self.webhook)
        return scenario

    def azure_spec(self) -> dict:
        """The Azure side, shaped as described in the module docstring."""
        kubelet = self.kubelet_identity
        wi_enabled = self.webhook is not None if self.workload_identity_enabled is None else self.workload_identity_enabled
        pools: dict = {}
        for node in self.objects:
            if node["kind"] == "Node":
                pool = node["metadata"]["labels"].get("kubernetes.azure.com/agentpool", POOL)
                pools[pool] = pools.get(pool, 0) + 1
        return {
            "subscription": {"id": self.subscription, "tenantId": self.tenant},
            "managedCluster": {
                "name": self.name, "resourceGroup": self.resource_group, "location": self.location,
                "id": self.cluster_id, "nodeResourceGroup": self.node_resource_group,
                "kubernetesVersion": KUBERNETES_VERSION,
                "oidcIssuerProfile": {"enabled": self.oidc_issuer_enabled,
                                      "issuerUrl": self.issuer if self.oidc_issuer_enabled else None},
                "securityProfile": {"workloadIdentity": {"enabled": wi_enabled}},
                "identityProfile": {"kubeletidentity": {"clientId": kubelet["clientId"], "objectId": kubelet["principalId"],
                                                        "resourceId": kubelet["id"]}},
                "agentPoolProfiles": [{"name": p, "count": n, "mode": "System"} for p, n in (pools or {POOL: 0}).items()],
            },
            "identities": copy.deepcopy(self.identities),
            "registries": copy.deepcopy(self.registries),
            "roleAssignments": copy.deepcopy(self.role_assignments),
        }
