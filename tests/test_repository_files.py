"""What a public book repository carries: a CI workflow that passes actionlint, licences,
and a pre-commit configuration whose hooks point at real tools and tests."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint() -> str:
    found = Path(sys.executable).with_name("actionlint")
    if found.is_file():
        return str(found)
    found = shutil.which("actionlint")
    if found is None:
        pytest.fail("actionlint not found: install the pinned requirements.txt")
    return found


def run_actionlint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [actionlint(), "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_workflows_pass_actionlint():
    assert WORKFLOWS, "no GitHub Actions workflow in .github/workflows"
    result = run_actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v5\n        with:\n          no-such-input: 1\n"
        "      - run: echo ${{ github.no_such_context }}\n"
    )
    result = run_actionlint(broken)
    assert result.returncode != 0
    assert "no-such-input" in result.stdout


def test_workflow_runs_the_readme_test_command_and_publishes_the_html():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    assert any(step.get("run") == "make test" for step in steps)
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert [s["with"]["path"] for s in uploads] == ["_build/html"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps)


def test_licences_are_present_and_named():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "Attribution 4.0 International" in (ROOT / "LICENSE-prose").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "LICENSE" in readme and "LICENSE-prose" in readme
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    footer = config["html"]["extra_footer"]
    assert "MIT License" in footer and "CC BY 4.0" in footer


def test_pre_commit_hooks_use_existing_tools_and_tests():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff-check", "ruff-format", "notebook-pairs"} <= set(hooks)
    for hook in hooks.values():
        words = shlex.split(hook["entry"])
        assert words[0].startswith(".venv/bin/"), f"{hook['id']}: use the pinned .venv tools"
        for word in words[1:]:
            if word.startswith("tests/"):
                assert (ROOT / word).is_file(), f"{hook['id']}: {word} does not exist"
