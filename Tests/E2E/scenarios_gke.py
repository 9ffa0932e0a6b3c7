"""Builds GKE end-to-end scenarios: Kubernetes objects for the API emulator (`kube_scenario()`,
the same format as scenarios.Cluster and scenarios_aks.AksCluster) and a plain description of
the Google Cloud side (`gcp_spec()`) for a GCP stand-in, shaped like what GKE, Helm and
Crossplane really create (shared/reference/workload-identity-facts.md §4, §5, §6.8, §6.9 and
azure-gke-flux-facts.md Q2, Q4).

`GkeCluster` starts empty; helpers add the pieces a seed document describes, so a test reads
like the setup it checks: `GkeCluster().seed_gke_core_gar()` is seed 000's Google Cloud GKE tab
done right, and a broken variant changes exactly one thing.

GKE injects nothing into pods: there is no webhook, no env and no projected volume. Pods get
tokens from the `gke-metadata-server` DaemonSet (kube-system, `k8s-app=gke-metadata-server`),
which runs on nodes of pools in GKE_METADATA mode (label
`iam.gke.io/gke-metadata-server-enabled: "true"`); pods on other pools, and hostNetwork pods,
reach the Compute Engine metadata server and act as the node's service account. Which identity
a pod has is therefore decided on the Google side (gcp_spec()) from its KSA and its node, never
from the pod. Nodes, their metadata-server label and the DaemonSet with its pods are derived at
kube_scenario() time from the node pools as they are then, so the order of builder calls does
not matter.

gcp_spec() shape (all keys always present; names as `gcloud ... --format=json` prints them):
    {"project": {                                               # `gcloud projects describe P`
         "projectId", "projectNumber" (str), "name", "lifecycleState",
         "iamPolicy": POLICY},                                  # `gcloud projects get-iam-policy P`
     "cluster": {                                               # `gcloud container clusters describe C --location L`
         "name", "location", "zone" (== location), "selfLink", "currentMasterVersion",
         "workloadIdentityConfig": {"workloadPool": "P.svc.id.goog"} | None,   # None: disabled
                                                                # (GKE then omits the block)
         "nodePools": [{                                        # `gcloud container node-pools describe`
             "name", "locations": [zone], "initialNodeCount",
             "config": {"serviceAccount": EMAIL, "machineType",
                        "workloadMetadataConfig": {"mode": "GKE_METADATA" | "GCE_METADATA"}}}]},
     "serviceAccounts": [{                                      # `gcloud iam service-accounts describe`
         "name": "projects/P/serviceAccounts/EMAIL", "email", "projectId", "uniqueId",
         "displayName", "oauth2ClientId", "disabled",
         "iamPolicy": POLICY}],                                 # `gcloud iam service-accounts get-iam-policy`
     "repositories": [{                                         # `gcloud artifacts repositories describe`
         "name": "projects/P/locations/L/repositories/R", "repositoryId", "location", "format",
         "mode", "registryUri": "L-docker.pkg.dev/P/R",
         "iamPolicy": POLICY}]}                                 # `... repositories get-iam-policy`
    POLICY = {"version": 1, "etag": str, "bindings": [{"role": str, "members": [str]}]}
    (bindings sorted by role, members in the order granted, like add-iam-policy-binding leaves them;
    an empty policy is {"version": 1, "etag": "ACAB", "bindings": []}).
Members: `serviceAccount:EMAIL` (a GSA), `serviceAccount:P.svc.id.goog[NS/KSA]` (the legacy
workload identity member, ksa_member()), `principal://iam.googleapis.com/projects/NUMBER/locations/
global/workloadIdentityPools/P.svc.id.goog/subject/ns/NS/sa/KSA` (a direct principal, principal()).
The node service account (NODE_GSA, least privilege: roles/container.defaultNodeServiceAccount on
the project) is one of `serviceAccounts`.
"""
from __future__ import annotations

import base64
import copy
import hashlib
from urllib.parse import quote

from scenarios import CROSSPLANE_CRDS, CROSSPLANE_IMAGE, HELM_ANNOTATIONS, HELM_LABELS, NS, PODS_CREATED, digest12

PROJECT = "acme-platform"
PROJECT_NUMBER = "738291046512"
CLUSTER_NAME = "prod-gke"
LOCATION = "us-central1"  # a regional cluster
ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")
KUBERNETES_VERSION = "1.32.4-gke.1106000"
POOL = "default-pool"
MACHINE_TYPE = "e2-standard-4"
NODE_GSA = "gke-nodes"  # the node pools' service account (least privilege, not the Compute default)
WORKLOAD_POOL = f"{PROJECT}.svc.id.goog"

GAR_LOCATION = "us"  # multi-region: host us-docker.pkg.dev (the seed's)
GAR_REPOSITORY = "crossplane"
GAR_HOST = f"{GAR_LOCATION}-docker.pkg.dev"

GSA_ANNOTATION = "iam.gke.io/gcp-service-account"
RETURN_PRINCIPAL_ANNOTATION = "iam.gke.io/return-principal-id-as-email"
NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"
METADATA_SERVER_LABEL = "iam.gke.io/gke-metadata-server-enabled"
METADATA_SERVER = "gke-metadata-server"  # DaemonSet in kube-system, label k8s-app=gke-metadata-server
METADATA_SERVER_NAMESPACE = "kube-system"
METADATA_SERVER_IMAGE = "gke.gcr.io/gke-metadata-server:20250415_2300_RC0"  # illustrative tag
WORKLOAD_METADATA_MODES = ("GKE_METADATA", "GCE_METADATA")

READER = "roles/artifactregistry.reader"
WI_USER = "roles/iam.workloadIdentityUser"
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
NODE_ROLE = "roles/container.defaultNodeServiceAccount"

UPJET_GCP_VERSION = "v2.2.0"
FAMILY = "provider-family-gcp"
GCP_FAMILY_CRDS = [
    {"group": "gcp.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig",
     "namespaced": False, "categories": ["crossplane", "providerconfig", "gcp"]},
    {"group": "gcp.m.upbound.io", "version": "v1beta1", "plural": "providerconfigs", "kind": "ProviderConfig",
     "namespaced": True, "categories": ["crossplane", "providerconfig", "gcp"]},
    {"group": "gcp.m.upbound.io", "version": "v1beta1", "plural": "clusterproviderconfigs",
     "kind": "ClusterProviderConfig", "namespaced": False, "categories": ["crossplane", "providerconfig", "gcp"]},
]
REVISION_CRDS = [
    {"group": "pkg.crossplane.io", "version": "v1", "plural": "functionrevisions", "kind": "FunctionRevision",
     "namespaced": False},
]
CREDENTIAL_SOURCES = ("None", "Secret", "AccessToken", "ImpersonateServiceAccount", "InjectedIdentity",
                      "Environment", "Filesystem", "Upbound")
NODE_CREATED = "2026-10-01T00:00:00Z"
EMPTY_ETAG = "ACAB"


def _transitioned(conditions: list, when: str) -> list:
    return [{**c, "lastTransitionTime": c.get("lastTransitionTime", when)} for c in conditions]


def _drc_get(drc: dict | None, *path: str):
    node = (drc or {}).get("spec") or {}
    for key in path:
        node = (node or {}).get(key) or {}
    return node


def _api_access_volume(seed: str) -> tuple:
    name = f"kube-api-access-{digest12(seed)[:5]}"
    volume = {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    "path": "namespace"}]}}]}}
    return volume, {"name": name, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True}


def _policy(bindings: list) -> dict:
    if not bindings:
        return {"version": 1, "etag": EMPTY_ETAG, "bindings": []}
    etag = base64.b64encode(hashlib.sha256(repr(bindings).encode()).digest()[:8]).decode()
    return {"version": 1, "etag": etag, "bindings": sorted(copy.deepcopy(bindings), key=lambda b: b["role"])}


def gar_parts(package: str) -> tuple:
    """(host, location, project, repository, image path) of an Artifact Registry package reference."""
    host, _, rest = package.partition("/")
    path = rest.rsplit("@", 1)[0].rsplit(":", 1)[0]
    project, repository = path.split("/")[:2]
    return host, host.removesuffix("-docker.pkg.dev"), project, repository, path


def gar_denied(package: str) -> str:
    """Artifact Registry's token refusal for `package` as go-containerregistry reports it
    (azure-gke-flux-facts.md Q4.4; crossplane/crossplane#3023)."""
    host, location, project, repository, path = gar_parts(package)
    scope = quote(f"repository:{path}:pull", safe="")
    return (f"GET https://{host}/v2/token?scope={scope}&service={host}: DENIED: Permission "
            f'"artifactregistry.repositories.downloadArtifacts" denied on resource '
            f'"projects/{project}/locations/{location}/repositories/{repository}" (or it may not exist)')


def unpack_failure(package: str) -> str:
    """The Provider's Installed=False message when the package manager is refused by GAR
    (crossplane v2.3.x prefix `cannot resolve … to digest:`, Q3.3/Q4.4)."""
    denied = gar_denied(package)
    return (f"cannot unpack package: cannot resolve {package} to digest: failed to fetch package descriptor with a "
            f"GET request after a previous HEAD request failure: {denied}: {denied}")


def kubelet_pull_failure(package: str) -> str:
    """The kubelet's ErrImagePull message (containerd) when the node service account cannot pull `package`."""
    host, _, _, _, path = gar_parts(package)
    scope = quote(f"repository:{path}:pull", safe="")
    return (f'failed to pull and unpack image "{package}": failed to resolve reference "{package}": failed to '
            f"authorize: failed to fetch oauth token: unexpected status from GET request to "
            f"https://{host}/v2/token?scope={scope}&service={host}: 403 Forbidden")


class GkeCluster:
    """A GKE cluster in PROJECT/LOCATION with Crossplane, and its Google Cloud side."""

    def __init__(self, name: str = CLUSTER_NAME, *, project: str = PROJECT, project_number: str = PROJECT_NUMBER,
                 location: str = LOCATION, node_gsa: str = NODE_GSA):
        self.name, self.project, self.project_number, self.location = name, project, project_number, location
        self.objects: list = []
        self.crds = CROSSPLANE_CRDS + REVISION_CRDS + GCP_FAMILY_CRDS
        self.forbidden: list = []
        self.faults: list = []
        self.aggregated_discovery = True
        self.workload_pool: str | None = None  # set by workload_identity()
        self.pools: list = []  # [{"name", "mode", "serviceAccount", "zones"}]
        self.nodes: list = []  # node names, in creation order
        self._node_pool: dict = {}  # node name -> pool name
        self.service_accounts: list = []
        self.repositories: list = []
        self.project_bindings: list = []
        self.gsa(node_gsa, display_name="GKE node service account")
        self.node_gsa = self.gsa_email(node_gsa)
        self.grant_project(NODE_ROLE, f"serviceAccount:{self.node_gsa}")

    # ---- names --------------------------------------------------------------------
    @property
    def context(self) -> str:
        """`gcloud container clusters get-credentials` names context, cluster and user gke_P_L_C."""
        return f"gke_{self.project}_{self.location}_{self.name}"

    @property
    def pool_id(self) -> str:
        """The workload identity pool PROJECT.svc.id.goog (whether or not enabled)."""
        return f"{self.project}.svc.id.goog"

    def gsa_email(self, name: str) -> str:
        return name if "@" in name else f"{name}@{self.project}.iam.gserviceaccount.com"

    def ksa_member(self, sa: str, namespace: str = NS) -> str:
        """The legacy member a GSA's roles/iam.workloadIdentityUser names: serviceAccount:P.svc.id.goog[NS/KSA]."""
        return f"serviceAccount:{self.pool_id}[{namespace}/{sa}]"

    def principal(self, sa: str, namespace: str = NS) -> str:
        """The direct-principal member for a KSA (Workload Identity Federation for GKE)."""
        return (f"principal://iam.googleapis.com/projects/{self.project_number}/locations/global/workloadIdentityPools/"
                f"{self.pool_id}/subject/ns/{namespace}/sa/{sa}")

    def principal_set(self, namespace: str = NS) -> str:
        return (f"principalSet://iam.googleapis.com/projects/{self.project_number}/locations/global/"
                f"workloadIdentityPools/{self.pool_id}/namespace/{namespace}")

    def gar(self, path: str, repository: str = GAR_REPOSITORY, location: str = GAR_LOCATION) -> str:
        """A package in the private registry, e.g. gar("provider-gcp-storage:v1.2.0")."""
        return f"{location}-docker.pkg.dev/{self.project}/{repository}/{path}"

    def repository_name(self, repository: str = GAR_REPOSITORY, location: str = GAR_LOCATION) -> str:
        return f"projects/{self.project}/locations/{location}/repositories/{repository}"

    def revision_of(self, name: str) -> str:
        """The revision name a package got (its `status.currentRevision`)."""
        return next(o["status"]["currentRevision"] for o in self.objects
                    if o["kind"] in ("Provider", "Function") and o["metadata"]["name"] == name)

    def pool_of(self, node: str) -> dict:
        return next(p for p in self.pools if p["name"] == self._node_pool[node])

    # ---- cluster, node pools and nodes ---------------------------------------------
    def workload_identity(self, enabled: bool = True) -> "GkeCluster":
        """`--workload-pool=P.svc.id.goog` on the cluster (the gke-metadata-server DaemonSet follows)."""
        self.workload_pool = self.pool_id if enabled else None
        return self

    def node_pool(self, name: str = POOL, *, mode: str | None = None, service_account: str | None = None,
                  zones: tuple = ZONES[:1]) -> "GkeCluster":
        """A node pool; `mode` = config.workloadMetadataConfig.mode, by default GKE_METADATA when
        workload identity is on (what a new pool gets), else GCE_METADATA. GKE refuses GKE_METADATA
        without a workload pool. Calling it again for an existing pool changes it (`node-pools update`)."""
        mode = mode or ("GKE_METADATA" if self.workload_pool else "GCE_METADATA")
        assert mode in WORKLOAD_METADATA_MODES, mode
        assert mode != "GKE_METADATA" or self.workload_pool, "GKE_METADATA needs workload identity on the cluster"
        pool = {"name": name, "mode": mode, "serviceAccount": self.gsa_email(service_account or self.node_gsa),
                "zones": list(zones)}
        existing = next((p for p in self.pools if p["name"] == name), None)
        if existing:
            existing.update(pool)
        else:
            self.pools.append(pool)
        return self

    def node(self, index: int = 0, *, pool: str = POOL, zone: str | None = None) -> "GkeCluster":
        """A node of `pool` (created with the cluster's defaults when missing), named like GKE names its
        instances (gke-CLUSTER-POOL-HASH-SUFFIX); providerID gce://PROJECT/ZONE/INSTANCE."""
        if not any(p["name"] == pool for p in self.pools):
            self.node_pool(pool)
        zone = zone or self.pool_of_name(pool)["zones"][index % len(self.pool_of_name(pool)["zones"])]
        group = digest12(f"{self.name}/{pool}/{zone}")[:8]
        name = f"gke-{self.name}-{pool}-{group}-{digest12(f'{pool}{index}')[:4]}"
        labels = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
                  NODEPOOL_LABEL: pool, "cloud.google.com/gke-os-distribution": "cos",
                  "cloud.google.com/machine-family": MACHINE_TYPE.split("-")[0],
                  "node.kubernetes.io/instance-type": MACHINE_TYPE, "topology.kubernetes.io/region": self.location,
                  "topology.kubernetes.io/zone": zone}
        self.nodes.append(name)
        self._node_pool[name] = pool
        self.objects.append({"apiVersion": "v1", "kind": "Node",
                             "metadata": {"name": name, "labels": labels, "creationTimestamp": NODE_CREATED},
                             "spec": {"providerID": f"gce://{self.project}/{zone}/{name}",
                                      "podCIDR": f"10.52.{len(self.nodes) - 1}.0/24"},
                             "status": {}})
        return self

    def pool_of_name(self, name: str) -> dict:
        return next(p for p in self.pools if p["name"] == name)

    def _workload(self, name: str, namespace: str, selector: dict, meta_labels: dict, pod_spec: dict, *,
                  replicas: int = 1, created: str = PODS_CREATED, template_labels: dict | None = None,
                  deployment_annotations: dict | None = None, owner: dict | None = None, node: str | None = None,
                  ready: bool = True, waiting: dict | None = None) -> list:
        """A Deployment with its running pods, named like the ReplicaSet controller names them."""
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
            pods.append(pod)
        return pods

    # ---- Crossplane ----------------------------------------------------------------
    def crossplane_core(self, gsa_email: str | None = None, *, helm: bool = True, image: str = CROSSPLANE_IMAGE,
                        host_network: bool = False, env: dict | None = None, sa_annotations: dict | None = None,
                        created: str = PODS_CREATED, node: str | None = None, rbac_manager: bool = True) -> "GkeCluster":
        """Crossplane as `helm upgrade --install crossplane crossplane-stable/crossplane -n
        crossplane-system` leaves it: ServiceAccount and Deployment `crossplane` (selector
        `app`/`release`; init container `crossplane-init`, container `crossplane`) with its pod, the
        rbac-manager likewise (`rbac_manager`), and the `default` DeploymentRuntimeConfig.

        `gsa_email` becomes the `crossplane` SA's iam.gke.io/gcp-service-account annotation (Helm
        `serviceAccount.customAnnotations`; a bare name gets @PROJECT.iam.gserviceaccount.com);
        `sa_annotations` adds others. `host_network`: the pod runs on the host network (it then
        reaches the Compute Engine metadata server, not GKE's). `env`: extra env on both containers
        (e.g. GOOGLE_APPLICATION_CREDENTIALS, which wins over workload identity in ADC)."""
        selector = {"app": "crossplane", "release": "crossplane"}
        chart_labels = dict(HELM_LABELS) if helm else {}
        helm_annotations = dict(HELM_ANNOTATIONS) if helm else {}
        annotations = {**helm_annotations, **(sa_annotations or {})}
        if gsa_email:
            annotations[GSA_ANNOTATION] = self.gsa_email(gsa_email)
        sa_meta: dict = {"name": "crossplane", "namespace": NS}
        if chart_labels:
            sa_meta["labels"] = dict(chart_labels)
        if annotations:
            sa_meta["annotations"] = annotations
        self.objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa_meta})
        pod_chart_labels = {k: v for k, v in chart_labels.items() if k != "helm.sh/chart"}
        base_env = [{"name": "POD_NAMESPACE", "value": NS}, {"name": "POD_SERVICE_ACCOUNT", "value": "crossplane"}]
        base_env += [{"name": k, "value": v} for k, v in (env or {}).items()]
        pod_spec: dict = {"serviceAccountName": "crossplane",
                          "initContainers": [{"name": "crossplane-init", "image": image, "args": ["core", "init"],
                                              "env": copy.deepcopy(base_env)}],
                          "containers": [{"name": "crossplane", "image": image, "args": ["core", "start"],
                                          "env": copy.deepcopy(base_env)}]}
        if host_network:
            pod_spec["hostNetwork"] = True
            pod_spec["dnsPolicy"] = "ClusterFirstWithHostNet"
        self._workload("crossplane", NS, selector, {**selector, **chart_labels}, pod_spec,
                       template_labels={**selector, **pod_chart_labels},
                       deployment_annotations=helm_annotations or None, created=created, node=node)
        if rbac_manager:
            rbac_selector = {"app": "crossplane-rbac-manager", "release": "crossplane"}
            rbac_sa: dict = {"name": "rbac-manager", "namespace": NS}
            if chart_labels:
                rbac_sa["labels"] = dict(chart_labels)
            if helm_annotations:
                rbac_sa["annotations"] = dict(helm_annotations)
            self.objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": rbac_sa})
            self._workload(
                "crossplane-rbac-manager", NS, rbac_selector, {**rbac_selector, **chart_labels},
                {"serviceAccountName": "rbac-manager",
                 "initContainers": [{"name": "crossplane-init", "image": image, "args": ["rbac", "init"]}],
                 "containers": [{"name": "crossplane", "image": image, "args": [
                     "rbac", "start", "--provider-clusterrole=crossplane:allowed-provider-permissions"],
                                 "env": [{"name": "POD_NAMESPACE", "value": NS}]}]},
                template_labels={**rbac_selector, **pod_chart_labels},
                deployment_annotations=helm_annotations or None, created=created, node=node)
        if not any(o["kind"] == "DeploymentRuntimeConfig" and o["metadata"]["name"] == "default" for o in self.objects):
            self.drc("default")
        return self

    def drc(self, name: str, *, sa_name: str | None = None, sa_annotations: dict | None = None,
            sa_labels: dict | None = None, pod_labels: dict | None = None, pod_service_account: str | None = None,
            host_network: bool = False, env: dict | None = None) -> "GkeCluster":
        """A DeploymentRuntimeConfig: `sa_name`/`sa_annotations`/`sa_labels` go to
        serviceAccountTemplate.metadata; `pod_labels` to deploymentTemplate.spec.template.metadata.labels;
        `pod_service_account` to the pod template's serviceAccountName (an existing SA Crossplane does
        not manage); `host_network` to the pod template's hostNetwork; `env` to the package-runtime
        container's env (e.g. GOOGLE_APPLICATION_CREDENTIALS)."""
        spec: dict = {}
        sa_meta = {k: v for k, v in (("name", sa_name), ("annotations", sa_annotations), ("labels", sa_labels)) if v}
        if sa_meta:
            spec["serviceAccountTemplate"] = {"metadata": sa_meta}
        if pod_labels or pod_service_account or host_network or env:
            container: dict = {"name": "package-runtime", "args": []}
            if env:
                container["env"] = [{"name": k, "value": v} for k, v in env.items()]
            template: dict = {"spec": {"containers": [container]}}
            if pod_labels:
                template["metadata"] = {"labels": dict(pod_labels)}
            if pod_service_account:
                template["spec"]["serviceAccountName"] = pod_service_account
            if host_network:
                template["spec"]["hostNetwork"] = True
            spec["deploymentTemplate"] = {"spec": {"selector": {}, "template": template}}
        self.objects.append({"apiVersion": "pkg.crossplane.io/v1beta1", "kind": "DeploymentRuntimeConfig",
                             "metadata": {"name": name}, "spec": spec})
        return self

    def wi_drc(self, name: str = "gcp-workload-identity", *, sa_name: str | None = "provider-gcp",
               gsa_email: str | None = None, **drc) -> "GkeCluster":
        """The GKE workload identity runtime config: the provider SA name pinned (`sa_name`) so an IAM
        member can name it, plus the iam.gke.io/gcp-service-account annotation when `gsa_email` is
        given (legacy GSA impersonation; none for a direct principal). `drc`: more drc() arguments."""
        annotations = {GSA_ANNOTATION: self.gsa_email(gsa_email)} if gsa_email else None
        return self.drc(name, sa_name=sa_name, sa_annotations=annotations, **drc)

    def provider(self, name: str, package: str, *, kind: str = "Provider", runtime_config: str | None = None,
                 created: str = PODS_CREATED, node: str | None = None, healthy: bool = True,
                 conditions: list | None = None, replicas: int = 1, pull_error: str | None = None,
                 installed: bool = True, unpack_error: str | None = None, skip_dependency_resolution: bool = False,
                 family: str | None = None) -> "GkeCluster":
        """A package as Crossplane runs it, built from its DeploymentRuntimeConfig (`runtime_config`,
        else `default`): the package with `status.currentRevision`, the revision, the revision's
        Deployment (pod template from deploymentTemplate: labels, hostNetwork, package-runtime env),
        its ServiceAccount (serviceAccountTemplate name, else the revision name, with the template's
        annotations and labels; not managed when the DRC sets the pods' serviceAccountName) and pods.

        `pull_error` ("ImagePullBackOff" or "ErrImagePull"): the node service account could not pull
        the runtime image: pods Pending on `node`, the package unhealthy. `installed=False`: the
        package manager could not fetch the package: no revision, no runtime, Installed False with
        `unpack_error` (default: GAR's downloadArtifacts denial, unpack_failure()). `family`: the
        revision's provider-family label (default provider-family-gcp for `provider-gcp-*`)."""
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
        family = family if family is not None else (FAMILY if repository.startswith("provider-gcp-") else None)
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
        template_spec = template.get("spec") or {}
        pod_sa = template_spec.get("serviceAccountName")
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
        template_labels = {**((template.get("metadata") or {}).get("labels") or {}), **selector}
        runtime = next((c for c in template_spec.get("containers") or [] if c.get("name") == "package-runtime"), {})
        container = {"name": "package-runtime", "image": package, "ports": [{"containerPort": 8080, "name": "metrics"}],
                     "env": [{"name": "POD_NAMESPACE", "value": NS}, {"name": "PROVIDER_NAME", "value": name},
                             {"name": "REVISION_NAME", "value": revision}] + copy.deepcopy(runtime.get("env") or [])}
        pod_spec: dict = {"serviceAccountName": sa, "securityContext": {"runAsNonRoot": True, "runAsUser": 2000,
                                                                         "runAsGroup": 2000},
                          "containers": [container]}
        if template_spec.get("hostNetwork"):
            pod_spec["hostNetwork"] = True
        waiting = None
        if pull_error:
            waiting = {"reason": pull_error, "message": f'Back-off pulling image "{package}"'
                       if pull_error == "ImagePullBackOff" else kubelet_pull_failure(package)}
        self._workload(revision, NS, selector, dict(selector), pod_spec, replicas=replicas, created=created,
                       template_labels=template_labels, owner=owner, node=node, ready=not pull_error, waiting=waiting)
        return self

    def provider_config(self, source: str = "InjectedIdentity", *, api: str = "gcp.m.upbound.io",
                        kind: str = "ClusterProviderConfig", name: str = "default", namespace: str = "default",
                        project_id: str | None = None, impersonate: str | None = None,
                        secret_ref: dict | None = None) -> "GkeCluster":
        """An upjet GCP ProviderConfig: `gcp.upbound.io` ProviderConfig (cluster-scoped, legacy MRs),
        `gcp.m.upbound.io` ProviderConfig (namespaced, in `namespace`) or ClusterProviderConfig.
        `project_id` (default the cluster's project) is spec.projectID, required by the CRD;
        `impersonate` (a GSA name or email) is spec.credentials.impersonateServiceAccount.name."""
        assert source in CREDENTIAL_SOURCES, source
        assert (api, kind) in {("gcp.upbound.io", "ProviderConfig"), ("gcp.m.upbound.io", "ProviderConfig"),
                               ("gcp.m.upbound.io", "ClusterProviderConfig")}, (api, kind)
        credentials: dict = {"source": source}
        if impersonate is not None:
            credentials["impersonateServiceAccount"] = {"name": self.gsa_email(impersonate) if impersonate else ""}
        if secret_ref:
            credentials["secretRef"] = secret_ref
        meta: dict = {"name": name}
        if api == "gcp.m.upbound.io" and kind == "ProviderConfig":
            meta["namespace"] = namespace
        self.objects.append({"apiVersion": f"{api}/v1beta1", "kind": kind, "metadata": meta,
                             "spec": {"credentials": credentials, "projectID": project_id or self.project}})
        return self

    def forbid(self, verb: str, resource: str, namespace: str = "*", group: str = "") -> "GkeCluster":
        self.forbidden.append({"verb": verb, "resource": resource, "group": group, "namespace": namespace})
        return self

    # ---- Google Cloud side ----------------------------------------------------------
    def gsa(self, name: str, *, display_name: str | None = None) -> "GkeCluster":
        """A Google service account NAME@PROJECT.iam.gserviceaccount.com with an empty IAM policy."""
        email = self.gsa_email(name)
        unique = str(int(hashlib.sha256(email.encode()).hexdigest()[:15], 16)).rjust(21, "1")[:21]
        self.service_accounts.append({
            "name": f"projects/{self.project}/serviceAccounts/{email}", "email": email, "projectId": self.project,
            "uniqueId": unique, "oauth2ClientId": unique, "displayName": display_name or name.split("@")[0],
            "disabled": False, "bindings": []})
        return self

    def repository(self, repository: str = GAR_REPOSITORY, *, location: str = GAR_LOCATION) -> "GkeCluster":
        """A DOCKER-format Artifact Registry repository with an empty IAM policy."""
        self.repositories.append({
            "name": self.repository_name(repository, location), "repositoryId": repository, "location": location,
            "format": "DOCKER", "mode": "STANDARD_REPOSITORY",
            "registryUri": f"{location}-docker.pkg.dev/{self.project}/{repository}", "bindings": []})
        return self

    @staticmethod
    def _bind(bindings: list, role: str, member: str) -> None:
        binding = next((b for b in bindings if b["role"] == role), None)
        if binding is None:
            bindings.append({"role": role, "members": [member]})
        elif member not in binding["members"]:
            binding["members"].append(member)

    def grant_project(self, role: str, member: str) -> "GkeCluster":
        """`gcloud projects add-iam-policy-binding P --role ROLE --member MEMBER`."""
        self._bind(self.project_bindings, role, member)
        return self

    def grant_gsa(self, gsa: str, role: str, member: str) -> "GkeCluster":
        """`gcloud iam service-accounts add-iam-policy-binding GSA --role ROLE --member MEMBER`."""
        email = self.gsa_email(gsa)
        self._bind(next(s for s in self.service_accounts if s["email"] == email)["bindings"], role, member)
        return self

    def grant_repository(self, role: str, member: str, repository: str = GAR_REPOSITORY,
                         location: str = GAR_LOCATION) -> "GkeCluster":
        """`gcloud artifacts repositories add-iam-policy-binding R --location L --role ROLE --member MEMBER`."""
        name = self.repository_name(repository, location)
        self._bind(next(r for r in self.repositories if r["name"] == name)["bindings"], role, member)
        return self

    def bind_ksa(self, gsa: str, sa: str, namespace: str = NS) -> "GkeCluster":
        """The legacy link: roles/iam.workloadIdentityUser on `gsa` for serviceAccount:P.svc.id.goog[NS/KSA]."""
        return self.grant_gsa(gsa, WI_USER, self.ksa_member(sa, namespace))

    def gar_reader(self, member: str, repository: str = GAR_REPOSITORY) -> "GkeCluster":
        """roles/artifactregistry.reader on the repository; `member` a full member or a GSA name/email."""
        if ":" not in member:
            member = f"serviceAccount:{self.gsa_email(member)}"
        return self.grant_repository(READER, member, repository)

    # ---- complete setups -----------------------------------------------------------
    def _gke_base(self) -> None:
        if self.workload_pool is None:
            self.workload_identity()
        if not any(p["name"] == POOL for p in self.pools):
            self.node_pool(POOL, mode="GKE_METADATA")
        self.node(0).node(1)

    def seed_gke_core_gar(self, fixed: bool = True, *, gsa: str = "crossplane-gar-sa",
                          package: str = "provider-gcp-storage:v1.2.0", **core) -> "GkeCluster":
        """Seed 000 (Google Cloud GKE tab): the package manager pulls provider-gcp-storage from the
        private Artifact Registry repository us-docker.pkg.dev/PROJECT/crossplane with workload
        identity. Cluster with workload pool PROJECT.svc.id.goog, node pool in GKE_METADATA mode;
        GSA `crossplane-gar-sa` with roles/artifactregistry.reader on the repository and
        roles/iam.workloadIdentityUser for serviceAccount:P.svc.id.goog[crossplane-system/crossplane];
        Crossplane installed with Helm `serviceAccount.customAnnotations`
        iam.gke.io/gcp-service-account=GSA. The family dependency resolved from xpkg.upbound.io.
        fixed=True adds what the seed leaves out ("this guide only covers step 1"): the node service
        account's reader role on the repository. fixed=False: without it the nodes cannot pull the
        provider's runtime image, so its pod is in ImagePullBackOff and the Provider unhealthy.
        `core` overrides crossplane_core() arguments."""
        self._gke_base()
        self.gsa(gsa, display_name="Crossplane Artifact Registry Service Account").repository()
        self.gar_reader(gsa).bind_ksa(gsa, "crossplane")
        self.crossplane_core(**{"gsa_email": gsa, **core})
        version = package.rsplit(":", 1)[-1]
        if fixed:
            self.gar_reader(self.node_gsa)
            self.provider("provider-gcp-storage", self.gar(package))
        else:
            self.provider("provider-gcp-storage", self.gar(package), pull_error="ImagePullBackOff", node=self.nodes[0])
        self.provider("upbound-provider-family-gcp", f"xpkg.upbound.io/upbound/{FAMILY}:{version}")
        return self

    def seed_gke_direct_principal(self, *, package: str = "provider-gcp-storage:v1.2.0", **core) -> "GkeCluster":
        """Seed 004's GCP model applied to the Crossplane core: no GSA and no annotation; the
        repository's roles/artifactregistry.reader is granted directly to the principal://…/subject/
        ns/crossplane-system/sa/crossplane member. The node service account can pull too (step 2).
        `core` overrides crossplane_core() arguments."""
        self._gke_base()
        self.repository().gar_reader(self.principal("crossplane")).gar_reader(self.node_gsa)
        self.crossplane_core(**core)
        version = package.rsplit(":", 1)[-1]
        self.provider("provider-gcp-storage", self.gar(package))
        self.provider("upbound-provider-family-gcp", f"xpkg.upbound.io/upbound/{FAMILY}:{version}")
        return self

    def seed_gke_upjet_provider(self, model: str = "annotation", *, gsa: str = "crossplane-provider-gcp",
                                sa: str = "provider-gcp-storage", version: str = UPJET_GCP_VERSION,
                                runtime_config: str = "gcp-workload-identity", role: str = "roles/storage.admin",
                                **provider) -> "GkeCluster":
        """An upjet GCP provider on workload identity done right: the DRC `runtime_config` with the SA
        name pinned to `sa`, provider-gcp-storage `version` from xpkg.upbound.io using it, the family
        installed as a dependency with the default runtime config, and a ClusterProviderConfig
        `default` (gcp.m.upbound.io) with source InjectedIdentity and projectID.
        model "annotation": GSA `gsa` with `role` on the project and roles/iam.workloadIdentityUser for
        serviceAccount:P.svc.id.goog[crossplane-system/`sa`], named in the DRC's SA annotation.
        model "principal": no GSA, no annotation; `role` granted to principal://…/ns/crossplane-system/sa/`sa`.
        `provider` overrides provider() arguments of provider-gcp-storage."""
        assert model in ("annotation", "principal"), model
        self._gke_base()
        self.crossplane_core()
        if model == "annotation":
            self.gsa(gsa).grant_project(role, f"serviceAccount:{self.gsa_email(gsa)}").bind_ksa(gsa, sa)
            self.wi_drc(runtime_config, sa_name=sa, gsa_email=gsa)
        else:
            self.grant_project(role, self.principal(sa))
            self.wi_drc(runtime_config, sa_name=sa)
        self.provider("provider-gcp-storage", f"xpkg.upbound.io/upbound/provider-gcp-storage:{version}",
                      runtime_config=runtime_config, **provider)
        self.provider("upbound-provider-family-gcp", f"xpkg.upbound.io/upbound/{FAMILY}:{version}")
        self.provider_config("InjectedIdentity")
        return self

    # ---- output --------------------------------------------------------------------
    def _metadata_server(self) -> list:
        """The gke-metadata-server DaemonSet (when workload identity is on) and its pods, one per node
        of a GKE_METADATA pool (its nodeSelector is the metadata-server label)."""
        if not self.workload_pool:
            return []
        selector = {"k8s-app": METADATA_SERVER}
        nodes = [n for n in self.nodes if self.pool_of(n)["mode"] == "GKE_METADATA"]
        pod_spec = {"serviceAccountName": METADATA_SERVER, "hostNetwork": True, "priorityClassName": "system-node-critical",
                    "nodeSelector": {METADATA_SERVER_LABEL: "true", "kubernetes.io/os": "linux"},
                    "containers": [{"name": METADATA_SERVER, "image": METADATA_SERVER_IMAGE,
                                    "command": ["/gke-metadata-server"],
                                    "args": [f"--identity-namespace={self.workload_pool}",
                                             f"--identity-provider-id=https://container.googleapis.com/v1/projects/"
                                             f"{self.project}/locations/{self.location}/clusters/{self.name}"]}]}
        n = len(nodes)
        out = [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": METADATA_SERVER, "namespace": METADATA_SERVER_NAMESPACE,
                             "labels": {**selector, "addonmanager.kubernetes.io/mode": "Reconcile"},
                             "generation": 1, "creationTimestamp": NODE_CREATED},
                "spec": {"selector": {"matchLabels": dict(selector)},
                         "template": {"metadata": {"labels": dict(selector)}, "spec": copy.deepcopy(pod_spec)}},
                "status": {"currentNumberScheduled": n, "desiredNumberScheduled": n, "numberAvailable": n,
                           "numberMisscheduled": 0, "numberReady": n, "updatedNumberScheduled": n,
                           "observedGeneration": 1}}]
        for node in nodes:
            spec = {**copy.deepcopy(pod_spec), "nodeName": node}
            out.append({"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": f"{METADATA_SERVER}-{digest12(node)[:5]}", "generateName": f"{METADATA_SERVER}-",
                "namespace": METADATA_SERVER_NAMESPACE, "labels": dict(selector), "creationTimestamp": NODE_CREATED,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": METADATA_SERVER,
                                     "uid": f"ds-{METADATA_SERVER}", "controller": True, "blockOwnerDeletion": True}]},
                "spec": spec, "status": {"phase": "Running", "startTime": NODE_CREATED, "containerStatuses": [{
                    "name": METADATA_SERVER, "image": METADATA_SERVER_IMAGE, "ready": True, "started": True,
                    "restartCount": 0, "state": {"running": {"startedAt": NODE_CREATED}}}]}})
        return out

    def kube_scenario(self) -> dict:
        objects = copy.deepcopy(self.objects)
        for obj in objects:
            if obj["kind"] == "Node" and self.pool_of(obj["metadata"]["name"])["mode"] == "GKE_METADATA":
                obj["metadata"]["labels"][METADATA_SERVER_LABEL] = "true"
        return {"objects": objects + self._metadata_server(), "crds": self.crds, "forbidden": self.forbidden,
                "user": "alice", "faults": self.faults, "aggregatedDiscovery": self.aggregated_discovery}

    def gcp_spec(self) -> dict:
        """The Google Cloud side, shaped as described in the module docstring."""
        counts: dict = {}
        for node in self.nodes:
            counts[self._node_pool[node]] = counts.get(self._node_pool[node], 0) + 1
        pools = self.pools or [{"name": POOL, "mode": "GCE_METADATA", "serviceAccount": self.node_gsa,
                                "zones": list(ZONES[:1])}]
        return {
            "project": {"projectId": self.project, "projectNumber": self.project_number, "name": self.project,
                        "lifecycleState": "ACTIVE", "iamPolicy": _policy(self.project_bindings)},
            "cluster": {
                "name": self.name, "location": self.location, "zone": self.location,
                "selfLink": (f"https://container.googleapis.com/v1/projects/{self.project}/locations/{self.location}/"
                             f"clusters/{self.name}"),
                "currentMasterVersion": KUBERNETES_VERSION,
                "workloadIdentityConfig": {"workloadPool": self.workload_pool} if self.workload_pool else None,
                "nodePools": [{"name": p["name"], "locations": list(p["zones"]),
                               "initialNodeCount": counts.get(p["name"], 0),
                               "config": {"serviceAccount": p["serviceAccount"], "machineType": MACHINE_TYPE,
                                          "workloadMetadataConfig": {"mode": p["mode"]}}} for p in pools]},
            "serviceAccounts": [{**{k: v for k, v in s.items() if k != "bindings"}, "iamPolicy": _policy(s["bindings"])}
                                for s in self.service_accounts],
            "repositories": [{**{k: v for k, v in r.items() if k != "bindings"}, "iamPolicy": _policy(r["bindings"])}
                             for r in self.repositories],
        }
