"""Fixtures every end-to-end module shares (pytest loads this file by itself)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from aws_standin import AWSStandIn  # noqa: E402
from harness import require_binary  # noqa: E402


@pytest.fixture(scope="module")
def aws():
    """The AWS stand-in (moto plus the APIs moto lacks), one per test module; the built binary must exist."""
    require_binary()
    standin = AWSStandIn()
    standin.start()
    yield standin
    standin.stop()
