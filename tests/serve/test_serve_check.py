"""`sitegen check --format json` and the advisory warnings."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sitegen.cli import cli
from sitegen_fixtures import TmpSite, alert_text

NOW = "2026-11-25T12:00:00+09:00"


def check_json(site: TmpSite) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(
        cli, ["check", "--site", str(site.root / "site.toml"), "--now", NOW, "--format", "json"]
    )
    return result.exit_code, json.loads(result.stdout)


def test_json_lists_errors_with_path_line_and_fails(tmp_site: TmpSite) -> None:
    tmp_site.add("flood.md", alert_text(severity="Severe!"))
    code, doc = check_json(tmp_site)
    assert code == 1 and doc["ok"] is False and doc["errors"] == 1
    [problem] = doc["problems"]  # type: ignore[misc]
    assert problem["path"] == "content/alerts/flood.md" and problem["line"] == 5
    assert problem["severity"] == "error" and "Severe!" in problem["message"]


def test_warnings_help_without_failing(tmp_site: TmpSite) -> None:
    tmp_site.add("long.md", alert_text(title="A" * 61))
    tmp_site.add(
        "past.md",
        alert_text(sent="2026-11-24T07:00:00+09:00", expires="2026-11-24T09:00:00+09:00"),
    )
    tmp_site.add(
        "old.md", alert_text(sent="2026-01-01T07:00:00+09:00", expires="2026-01-02T07:00:00+09:00")
    )
    tmp_site.add("short.md", alert_text().replace("## What to do\n", ""))
    code, doc = check_json(tmp_site)
    assert code == 0 and doc["ok"] is True
    found = {(p["path"].rsplit("/", 1)[1], p["line"]): p["message"] for p in doc["problems"]}  # type: ignore[attr-defined, index]
    assert "phones show about 60" in found[("long.md", 2)]
    assert "already past" in found[("past.md", 11)]
    assert not any(path == "old.md" for path, _ in found)  # long expired: archive, no advice
    assert any(path == "short.md" and "What to do" in m for (path, _), m in found.items())


def test_check_takes_json_as_status_publish_rollback_and_doctor_do(tmp_site: TmpSite) -> None:
    tmp_site.add("flood.md", alert_text(severity="Severe!"))
    site = ["--site", str(tmp_site.root / "site.toml"), "--now", NOW]
    spelled = CliRunner().invoke(cli, ["check", *site, "--json"])
    assert spelled.exit_code == 1, spelled.output  # was 2: no such option '--json'
    assert spelled.stdout == CliRunner().invoke(cli, ["check", *site, "--format", "json"]).stdout
    assert json.loads(spelled.stdout)["errors"] == 1
