"""docs/examples/: the CI workflow, systemd units, crontab line and sitegen-due only run commands
and options that `sitegen --help` has, read keys that `sitegen status --json` prints, and
sitegen-due decides right."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen_fixtures import REPO, TmpSite

EXAMPLES = REPO / "docs" / "examples"
_CALL = re.compile(r"(?<![\w/$-])(?:/usr/local/bin/)?sitegen\s+([a-z][a-z-]*)([^|;&\n]*)")


def help_text(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def sitegen_calls(text: str) -> list[tuple[str, list[str]]]:
    """Every `sitegen COMMAND --options…` in shell text (comment lines left out)."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return [
        (cmd, re.findall(r"(?<!\S)(--?[a-z][a-z-]*)", rest)) for cmd, rest in _CALL.findall(text)
    ]


def assert_known(text: str) -> set[str]:
    calls = sitegen_calls(text)
    assert calls, "no sitegen command found"
    commands = help_text().split("Commands:")[1]
    for command, options in calls:
        assert re.search(rf"^\s+{command}\s", commands, re.M), f"sitegen {command}: no such command"
        own = help_text(command)
        for option in options:
            assert re.search(rf"(?<![\w-]){re.escape(option)}\b", own), (
                f"sitegen {command} {option}"
            )
    return {command for command, _ in calls}


def workflow() -> dict[Any, Any]:
    doc = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    assert isinstance(doc, dict)
    return doc


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_workflow_triggers_and_jobs() -> None:
    doc = workflow()
    on = doc[True]  # YAML 1.1 reads the key `on` as a boolean
    assert set(on) >= {"pull_request", "push", "schedule"}
    assert on["push"]["branches"] == ["main"]
    crons = [s["cron"] for s in on["schedule"]]
    jobs = doc["jobs"]
    assert "sitegen check" in runs(jobs["check"]) and "sitegen build" in runs(jobs["check"])
    assert "pull_request" not in jobs["check"]["if"]  # i.e. runs on pull requests
    assert "sitegen status --now" in runs(jobs["due"]) and crons[0] in jobs["due"]["if"]
    assert jobs["publish"]["needs"] == ["check", "due"]
    assert "needs.due.outputs.publish == 'true'" in jobs["publish"]["if"]
    assert "refs/heads/main" in jobs["publish"]["if"]
    assert "sitegen publish" in runs(jobs["publish"])
    assert doc["concurrency"]["cancel-in-progress"] is False


def test_every_sitegen_call_in_the_examples_exists() -> None:
    used = assert_known("\n".join(runs(job) for job in workflow()["jobs"].values()))
    assert used == {"check", "build", "status", "publish", "doctor"}
    for name in ("sitegen-publish.service", "crontab", "sitegen-due"):
        assert_known((EXAMPLES / name).read_text())


def test_due_reads_what_status_prints(example_site: TmpSite) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "status",
            "--site",
            str(example_site.root / "site.toml"),
            "--now",
            "2000-01-01T00:00:00Z",
            "--json",
        ],
    )
    doc = json.loads(result.output)
    assert set(doc["next_change"]) >= {"at"}  # the jq path `.next_change.at`
    for text in (runs(workflow()["jobs"]["due"]), (EXAMPLES / "sitegen-due").read_text()):
        assert "jq -r '.next_change.at // empty'" in text


def test_systemd_units_parse() -> None:
    units = {}
    for name in ("sitegen-publish.service", "sitegen-publish.timer"):
        parser = configparser.ConfigParser(interpolation=None, strict=True)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string((EXAMPLES / name).read_text())
        units[name] = parser
    service, timer = units["sitegen-publish.service"], units["sitegen-publish.timer"]
    assert service["Service"]["Type"] == "oneshot"
    assert "sitegen-due" in service["Service"]["ExecStart"]
    assert (timer["Timer"]["OnCalendar"], timer["Timer"]["Persistent"]) == ("*:0/5", "true")
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.skipif(not (shutil.which("jq") and shutil.which("date")), reason="needs jq, date")
def test_sitegen_due_decides(example_site: TmpSite) -> None:
    root = example_site.root
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def due(stamp: str | None) -> bool:
        file = root / ".sitegen-last-publish"
        file.unlink(missing_ok=True)
        if stamp is not None:
            file.write_text(stamp + "\n")
        done = subprocess.run(
            ["sh", str(EXAMPLES / "sitegen-due")],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode in (0, 1), done.stderr
        return done.returncode == 0

    assert due(None)  # never published from here
    assert due("2000-01-01T00:00:00Z")  # alerts were sent since
    assert not due("2999-01-01T00:00:00Z")  # nothing changes after that
    stamp = root / ".sitegen-last-publish"
    alert = next((root / "content").rglob("*.md"))
    os.utime(alert, (stamp.stat().st_mtime + 5,) * 2)
    assert due("2999-01-01T00:00:00Z")  # content edited since the last publish
