"""Fixtures every end-to-end module shares (pytest loads this file by itself)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from aws_standin import AWSStandIn  # noqa: E402
from harness import require_binary, running_azure, running_gcp  # noqa: E402


@pytest.fixture(scope="module")
def aws():
    """The AWS stand-in (moto plus the APIs moto lacks), one per test module; the built binary must exist."""
    require_binary()
    standin = AWSStandIn()
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def azure():
    """The Azure Resource Manager stand-in with the real az logged in to it, one per test module.
    Fails (never skips) when there is no az: $XPID_TEST_AZ, else az on PATH."""
    with running_azure() as standin:
        yield standin


@pytest.fixture(scope="module")
def aks_azure():
    """The ARM stand-in logged in with the AKS scenarios' subscription and tenant (scenarios_aks; az logs in
    once per module); the AKS and Flux-on-AKS modules use it as their `azure`."""
    from scenarios_aks import SUBSCRIPTION, TENANT

    require_binary()
    with running_azure(tenant_id=TENANT, subscriptions=[{"subscriptionId": SUBSCRIPTION, "displayName": "aks scenarios"}]) as standin:
        yield standin


@pytest.fixture(scope="module")
def gcp():
    """The Google Cloud API stand-in (GKE, Resource Manager, IAM, Artifact Registry) for the real
    gcloud, one per test module. Fails (never skips) when there is no gcloud: $XPID_TEST_GCLOUD,
    else gcloud on PATH."""
    with running_gcp() as standin:
        yield standin
