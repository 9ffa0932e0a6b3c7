"""The krew manifest checker (.ci/check-krew-manifest) and the template renderer
(.dev/render-plugin-manifest): each rule rejects its counter-example, and the committed
manifest, the template and a release render pass. Run by .ci/check-release-files
(python3 -m unittest discover -s Tests/packaging); needs PyYAML."""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load(path: Path, name: str):
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


checker = load(ROOT / ".ci" / "check-krew-manifest", "check_krew_manifest")
renderer = load(ROOT / ".dev" / "render-plugin-manifest", "render_plugin_manifest")
TEMPLATE = (ROOT / ".krew.yaml").read_text()
ARCHIVES = [f"kubectl-xpid_v1.2.3_{p}.tar.gz" for p in ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64")]


def digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def released() -> str:
    return renderer.render(TEMPLATE, "v1.2.3", digest)


def errors(text: str, placeholders: str = "error") -> list[str]:
    return checker.check(text, name="xpid", placeholders=placeholders, expect_version="v1.2.3")[0]


class Rules(unittest.TestCase):
    def test_a_release_render_passes(self):
        self.assertEqual(errors(released()), [])

    def test_the_committed_manifest_passes_with_placeholders_only_as_warnings(self):
        text = (ROOT / "plugin.yaml").read_text()
        errs, warns = checker.check(text, name="xpid", placeholders="warn", expect_version=None)
        self.assertEqual(errs, [])
        zeros = text.count('"' + "0" * 64 + '"')
        self.assertEqual(len(warns), zeros)
        if zeros:
            self.assertTrue(checker.check(text, name="xpid", placeholders="error", expect_version=None)[0])

    def assertRejected(self, old: str, new: str, why: str, count: int = 1, placeholders: str = "error"):
        text = released()
        self.assertIn(old, text)
        broken = text.replace(old, new, count)
        found = errors(broken, placeholders)
        self.assertTrue(any(why in e for e in found), f"{why!r} not in {found}")

    def test_each_rule(self):
        self.assertRejected("krew.googlecontainertools.github.com/v1alpha2", "krew.googlecontainertools.github.com/v1alpha1", "apiVersion")
        self.assertRejected("kind: Plugin", "kind: Plugins", "kind")
        self.assertRejected("name: xpid", "name: Xpid", "does not match")
        self.assertRejected("name: xpid", "name: xpid2", "expected 'xpid'")
        self.assertRejected("version: v1.2.3", "version: 1.2.3", "semantic version")
        self.assertRejected("version: v1.2.3", "version: v1.2", "semantic version")
        self.assertRejected("version: v1.2.3", "version: v1.2.4", "expected v1.2.3")
        self.assertRejected("  shortDescription:", "  shortdescription:", "unknown spec keys")
        self.assertRejected("  caveats: |", "  caveat: |", "spec.caveats is missing")
        self.assertRejected("uri: https://", "uri: http://", "is not https")
        self.assertRejected("linux_amd64.tar.gz", "linux_amd64.tgz", "does not end in .tar.gz or .zip")
        self.assertRejected("download/v1.2.3/kubectl-xpid_v1.2.3_", "download/latest/kubectl-xpid_", "does not contain the version")
        self.assertRejected("arch: arm64", "arch: amd64", "a second platform for linux/amd64")
        self.assertRejected("arch: arm64", "arch: aarch64", "selector.matchLabels")
        self.assertRejected("    bin: kubectl-xpid\n", "", "bin is missing")
        self.assertRejected('sha256: "', 'sha256: "A', "64 lowercase hex", count=1)
        self.assertRejected("  homepage:", "  homepage: x\n  homepage:", "duplicate key")
        text = released()
        self.assertTrue(any("platforms is missing or empty" in e for e in errors(text[: text.index("  platforms:")] + "  platforms: []\n")))

    def test_placeholder_digests(self):
        text = (released().replace(digest(f"https://github.com/kubectl-xpid/kubectl-xpid/releases/download/v1.2.3/{ARCHIVES[0]}"), "0" * 64))
        self.assertTrue(any("placeholder" in e for e in errors(text, "error")))
        self.assertEqual(errors(text, "warn"), [])

    def test_short_description_length_is_advisory(self):
        text = released().replace("shortDescription: ", "shortDescription: " + "x" * 60)
        errs, warns = checker.check(text, name="xpid", placeholders="error", expect_version="v1.2.3")
        self.assertEqual(errs, [])
        self.assertTrue(any("advises" in w for w in warns))


class Render(unittest.TestCase):
    def run_tool(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True)

    def test_sha256_dir_feeds_each_platform_and_the_result_is_a_release_manifest(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in ARCHIVES:
                Path(tmp, name + ".sha256").write_text(f"{digest(name)}  {name}\n")
            out = Path(tmp, "plugin.yaml")
            proc = self.run_tool(ROOT / ".dev" / "render-plugin-manifest", "--tag", "v1.2.3", "--sha256-dir", tmp, "-o", out)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            text = out.read_text()
            for name in ARCHIVES:
                self.assertIn(f'/v1.2.3/{name}\n    sha256: "{digest(name)}"', text)
            check = self.run_tool(ROOT / ".ci" / "check-krew-manifest", "--release", "--expect-version", "v1.2.3",
                                  "--consistent-with", ROOT / ".krew.yaml", out)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            # A .sha256 file naming another archive, or a missing one, stops the render.
            Path(tmp, ARCHIVES[1] + ".sha256").write_text(f"{digest('x')}  {ARCHIVES[0]}\n")
            self.assertNotEqual(self.run_tool(ROOT / ".dev" / "render-plugin-manifest", "--tag", "v1.2.3", "--sha256-dir", tmp).returncode, 0)
            Path(tmp, ARCHIVES[1] + ".sha256").unlink()
            self.assertNotEqual(self.run_tool(ROOT / ".dev" / "render-plugin-manifest", "--tag", "v1.2.3", "--sha256-dir", tmp).returncode, 0)

    def test_a_manifest_edited_apart_from_the_template_is_caught(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "plugin.yaml")
            out.write_text(renderer.render(TEMPLATE, "v1.2.3", digest).replace("Flux on EKS", "Flux on EKS (edited)"))
            check = self.run_tool(ROOT / ".ci" / "check-krew-manifest", "--consistent-with", ROOT / ".krew.yaml", out)
            self.assertNotEqual(check.returncode, 0)
            self.assertIn("differs from", check.stderr)

    def test_a_tag_that_is_not_semver_is_refused(self):
        proc = self.run_tool(ROOT / ".dev" / "render-plugin-manifest", "--tag", "1.2.3", "--fake-hashes")
        self.assertNotEqual(proc.returncode, 0)

    def test_the_description_names_crossplane_and_flux_on_the_three_clouds(self):
        import yaml
        spec = yaml.safe_load(released())["spec"]
        for word in ("Crossplane", "Flux", "EKS", "AKS", "GKE"):
            self.assertIn(word, spec["description"])
        self.assertIn("Flux", spec["shortDescription"])


if __name__ == "__main__":
    unittest.main()
