"""The README's sample reports are the output of real runs (Tests/E2E/readme_sample.py): this fails
when the program's output and the README drift apart."""
from __future__ import annotations

import pytest

from harness import require_binary
from readme_sample import README, SAMPLES, readme_block


@pytest.mark.parametrize("start,end,make", SAMPLES, ids=["eks", "aks", "flux", "first-run"])
def test_readme_sample_report_is_a_real_run(start, end, make):
    require_binary()
    committed = readme_block(README.read_text(), start, end)
    assert committed is not None, f"README has no generated {start} block"
    generated = make()
    assert committed == generated, (
        "README's sample report differs from a real run; regenerate it with "
        "'XPID_BIN=.build/debug/kubectl-xpid python3 Tests/E2E/readme_sample.py --write'\n" + generated)
