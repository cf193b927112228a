"""`make browser` (run by `make test`): Chromium for the browser checks is installed in CI only.

Run with a PATH holding stand-ins for ``id``, ``apt-get`` and, where wanted, ``chromium``,
so no package is installed and the rule's decisions can be read from what was called.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")


def _stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


def run_browser_rule(tmp_path: Path, env: dict, *, browser: bool = False, apt_ok: bool = True):
    """``make browser`` with stand-ins; returns (stdout, the apt-get calls made)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-calls"
    _stand_in(bin_dir, "id", "echo 0")  # root, as in CI
    _stand_in(bin_dir, "apt-get", f'echo "$*" >> {calls}\nexit {0 if apt_ok else 100}')
    if browser:
        _stand_in(bin_dir, "chromium", "exit 0")
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "RNN_BOOK_CHROMIUM")}
    result = subprocess.run(
        [MAKE, "--no-print-directory", "-C", str(ROOT), "browser"],
        env=base | {"PATH": str(bin_dir)} | env,
        capture_output=True,
        text=True,
        check=True,
    )
    made = calls.read_text().splitlines() if calls.exists() else []
    return result.stdout, made


pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def test_ci_without_a_browser_installs_debians_chromium(tmp_path):
    out, calls = run_browser_rule(tmp_path, {"CI": "true"})
    assert calls == ["update -qq", "install -y -qq chromium"]
    assert "installing Debian's chromium" in out


@pytest.mark.parametrize(
    ("env", "browser"),
    [
        ({}, False),
        ({"CI": "true"}, True),
        ({"CI": "true", "RNN_BOOK_CHROMIUM": "/opt/chrome"}, False),
    ],
    ids=["not CI", "CI with a browser", "CI with a named browser"],
)
def test_nothing_is_installed_outside_ci_or_where_a_browser_exists(tmp_path, env, browser):
    out, calls = run_browser_rule(tmp_path, env, browser=browser)
    assert calls == [] and out == ""


def test_a_failed_install_is_reported_and_does_not_stop_the_tests(tmp_path):
    out, calls = run_browser_rule(tmp_path, {"CI": "true"}, apt_ok=False)
    assert calls == ["update -qq"]
    assert "could not install chromium: the browser checks will skip" in out


def test_the_rule_looks_for_the_browsers_the_checks_use():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("browser_checks", ROOT / "tests/test_browser.py")
    checks = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("browser_checks", checks)  # its dataclasses look their module up
    spec.loader.exec_module(checks)
    printed = subprocess.run(
        [MAKE, "-s", "-C", str(ROOT), "--eval", "names: ; @echo $(BROWSERS)", "names"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tuple(printed) == checks.CHROMIUM_NAMES
