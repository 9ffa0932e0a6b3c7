"""The README's sample report is the output of a real run (Tests/E2E/readme_sample.py): this fails
when the program's output and the README drift apart."""
from __future__ import annotations

from harness import require_binary
from readme_sample import README, generate, readme_block


def test_readme_sample_report_is_a_real_run():
    require_binary()
    committed = readme_block(README.read_text())
    assert committed is not None, "README has no generated sample-report block"
    generated = generate()
    assert committed == generated, (
        "README's sample report differs from a real run; regenerate it with "
        "'XPID_BIN=.build/debug/kubectl-xpid python3 Tests/E2E/readme_sample.py --write'\n" + generated)
