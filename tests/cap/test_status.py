"""`sitegen status`: phases now, and the next instant the published site changes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

from sitegen.build import build_bundle
from sitegen.content import require_site
from sitegen.status import format_status, site_status
from sitegen_fixtures import NOW, TmpSite, alert_text


def status_at(site: TmpSite, now: datetime):  # type: ignore[no-untyped-def]
    loaded, _ = require_site(site.config, now)
    return site_status(loaded, site.config)


def bundle_bytes(site: TmpSite, now: datetime) -> dict[str, bytes]:
    bundle, manifest, _ = build_bundle(site.config, now)
    return {**{p: f.data for p, f in bundle.items()}, ".sitegen/manifest.json": manifest}


def test_lists_by_phase_and_names_the_next_change(tmp_site: TmpSite) -> None:
    tmp_site.add("now.md", alert_text(title="In force"))
    tmp_site.add(
        "soon.md",
        alert_text(title="Tomorrow's drill", status="Exercise")
        .replace("expires:", "effective: 2026-11-26T09:00:00+09:00\nexpires:")
        .replace("2026-11-26T07:00:00+09:00", "2026-11-26T18:00:00+09:00"),
    )
    tmp_site.add("old.md", alert_text(title="Over", expires="2026-11-25T08:00:00+09:00"))
    tmp_site.add(
        "draft.md", alert_text(title="Not yet", status="Draft", expires="2026-11-25T13:00:00+09:00")
    )
    status = status_at(tmp_site, NOW)
    assert [line.id for line in status.lists["active"]] == ["now"]
    assert [line.id for line in status.lists["upcoming"]] == ["soon"]
    assert [line.id for line in status.lists["expired"]] == ["old"]
    assert status.drafts == ("draft",)  # a Draft never changes the published site
    change = status.next_change
    assert change is not None
    assert (change.at.isoformat(), change.alert_id, change.event) == (
        "2026-11-26T07:00:00+09:00",
        "now",
        "expires",
    )
    text = format_status(status)
    assert "next change: 2026-11-26T07:00:00+09:00 (now expires)" in text
    assert "[Exercise]  Tomorrow's drill" in text


def test_the_site_does_not_change_before_next_change_and_does_at_it(
    example_site: TmpSite,
) -> None:
    """The promise a scheduler relies on, checked over the example site's whole timeline."""
    now = datetime.fromisoformat("2026-09-12T21:00:00+09:00")
    steps = 0
    while (change := status_at(example_site, now).next_change) is not None and steps < 40:
        before = bundle_bytes(example_site, now)
        assert bundle_bytes(example_site, change.at - timedelta(seconds=1)) == before
        assert bundle_bytes(example_site, change.at) != before, change
        now, steps = change.at, steps + 1
    assert change is None and steps >= 8  # every sent/effective/expires was visited


def test_json_for_schedulers(example_site: TmpSite) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from sitegen.cli import main; main()",
            "status",
            "--json",
            "--now",
            NOW.isoformat(),
        ],
        cwd=example_site.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["now"] == NOW.isoformat()
    assert data["next_change"] == {
        "at": "2027-11-26T21:00:00+09:00",
        "alert": "2026-11-22-busan-air-quality",
        "event": "expires",
    }
    assert data["seconds_until_next_change"] == int(
        (datetime.fromisoformat("2027-11-26T21:00:00+09:00") - NOW).total_seconds()
    )
    assert [a["id"] for a in data["cancelled"]] == ["2026-11-24-east-coast-tsunami-cancel"]
    assert {a["id"] for a in data["superseded"]} == {
        "2026-11-24-east-coast-tsunami-warning",
        "2026-11-24-east-coast-tsunami-update",
    }
    assert "2026-11-20-national-evacuation-drill" in {a["id"] for a in data["active"]}
    assert data["active"][0]["url"].startswith("https://alerts.example.gov/alerts/")


def test_nothing_left_to_change(tmp_site: TmpSite) -> None:
    tmp_site.add("old.md", alert_text(expires="2026-11-25T08:00:00+09:00"))
    status = status_at(tmp_site, NOW)
    assert status.next_change is None
    assert status.as_json()["next_change"] is None
    assert "next change: none" in format_status(status)


def test_a_message_not_sent_yet_is_listed_as_scheduled(example_site: TmpSite) -> None:
    """Before its `sent` a message is published nowhere (see test_feeds), so status is where
    an official sees it: upcoming, marked, and its `sent` as a change of the site."""
    status = status_at(example_site, datetime.fromisoformat("2026-11-24T07:00:00+09:00"))
    cancel = "2026-11-24-east-coast-tsunami-cancel"
    assert cancel in [line.id for line in status.lists["upcoming"]]
    text = format_status(status)
    line = next(t for t in text.splitlines() if cancel in t)
    assert "[not sent yet: published at 2026-11-24T12:15:00+09:00]" in line
    update = "2026-11-24-east-coast-tsunami-update"
    assert f"next change: 2026-11-24T08:40:00+09:00 ({update} is sent)" in text


def run_cli(site: TmpSite, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from sitegen.cli import main; main()", *args],
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_broken_file_does_not_hide_the_valid_alerts(tmp_site: TmpSite) -> None:
    """status builds nothing: it lists what is valid, reports the problems, and exits 1."""
    tmp_site.add("fine.md", alert_text(title="In force"))
    tmp_site.add("broken.md", alert_text(title="Half written", severity="Severe!"))
    tmp_site.add("follows.md", alert_text(msg_type="Cancel", references="[broken]"))
    result = run_cli(tmp_site, "status", "--now", NOW.isoformat())
    assert result.returncode == 1
    assert "  fine  Severe  Alert" in result.stdout and "broken" not in result.stdout
    assert "content/alerts/broken.md:5: severity 'Severe!'" in result.stderr
    assert "nothing was built" not in result.stderr
    assert "leave out the alerts they affect (broken, follows)" in result.stderr
    data = json.loads(run_cli(tmp_site, "status", "--json", "--now", NOW.isoformat()).stdout)
    assert [a["id"] for a in data["active"]] == ["fine"] and data["ok"] is False
    assert data["problems"][0]["path"] == "content/alerts/broken.md"
    # JSON has no "lists above": its message speaks of the status it holds
    assert data["error"]["message"].endswith(
        "the status leaves out the alerts they affect (broken, follows)."
    ), data["error"]


def test_json_is_one_document_even_when_nothing_can_be_read(tmp_site: TmpSite) -> None:
    tmp_site.add("fine.md", alert_text())
    tmp_site.add("broken.md", alert_text(severity="Severe!"))
    checked = json.loads(run_cli(tmp_site, "check", "--format", "json").stdout)
    assert checked["alerts"] == 1 and checked["errors"] == 1  # the valid ones are counted
    # and said to be: "alerts": 1 for two files read as one alert checked
    assert (checked["alert_files"], checked["warnings"]) == (1, 0)
    said = "Checked without errors: 1 alert (1 message, 1 file); files with errors are not counted."
    assert said in checked["error"]["message"]
    assert said in run_cli(tmp_site, "check").stderr
    (tmp_site.root / "content/alerts/broken.md").unlink()
    (tmp_site.root / "templates" / "index.html").write_text("{% if %}")
    result = run_cli(tmp_site, "check", "--format", "json")  # status renders nothing
    document = json.loads(result.stdout)  # a template's mistake is located like the content's
    assert result.returncode == 1 and document["errors"] == 1
    assert [(p["path"], p["line"]) for p in document["problems"]] == [("templates/index.html", 1)]
    (tmp_site.root / "site.toml").unlink()
    for args in (("check", "--format", "json"), ("status", "--json")):
        result = run_cli(tmp_site, *args)
        document = json.loads(result.stdout)
        assert result.returncode == 1 and "no site.toml" in document["error"]["message"], args


def test_status_says_it_lists_the_content_not_what_is_online(tmp_site: TmpSite) -> None:
    """After `sitegen rollback` the site online differs from content/: an official reading
    status must not take the wrong alert still listed here for the rollback having failed.
    Rollback is named only once there is a publish to go back to, with the exact command:
    it was named always, before any publish and after the first (nothing to go back to).
    --json says it as `rollback_possible` (a script had only the text's line): null for an
    s3:// target, which status does not ask."""
    tmp_site.add("fine.md", alert_text(title="In force"))
    said = "1 alert (1 message, 1 file) in content/ (what the next `sitegen publish` puts online)"
    for published in range(3):  # none, the first publish, a second one
        result = run_cli(tmp_site, "status", "--now", NOW.isoformat())
        lines = result.stdout.splitlines()
        assert lines[:2] == [f"now: {NOW.isoformat()}", said], published
        assert ("rollback" in result.stdout) is (published == 2), result.stdout
        as_json = json.loads(run_cli(tmp_site, "status", "--json", "--now", NOW.isoformat()).stdout)
        assert as_json["rollback_possible"] is (published == 2), published
        tmp_site.add("fine.md", alert_text(title=f"In force {published}"))
        done = run_cli(tmp_site, "publish", "--now", NOW.isoformat(), "--force", "-q")
        assert done.returncode == 0, done.stderr
    assert lines[2] == (
        "to go back to what was online before: `sitegen rollback --previous` (the site online "
        "then differs from content/; every kept state: `sitegen rollback --list`)"
    )
    elsewhere = run_cli(tmp_site, "status", "--site", "site.toml", "--now", NOW.isoformat())
    assert "`sitegen rollback --site site.toml --previous`" in elsewhere.stdout
    rolled = run_cli(tmp_site, "rollback", "--site", "site.toml", "--previous", "-q")
    assert rolled.returncode == 0, rolled.stderr  # the command said does what it says
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text() + '\n[publish]\ntarget = "s3://alerts-example-gov/site"\n')
    on_s3 = run_cli(tmp_site, "status", "--json", "--now", NOW.isoformat())
    assert json.loads(on_s3.stdout)["rollback_possible"] is None, on_s3.stderr


def test_status_says_every_time_in_the_sites_timezone(tmp_site: TmpSite) -> None:
    """A site in Seoul was told `now:` in UTC (the machine's zone) beside times in +09:00."""
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("[site]\n", '[site]\ntimezone = "Asia/Seoul"\n', 1))
    tmp_site.add("now.md", alert_text(title="In force").replace("+09:00", "+00:00"))
    done = run_cli(tmp_site, "status", "--now", "2026-11-25T08:00:00+00:00")
    assert done.returncode == 0, done.stderr
    assert "now: 2026-11-25T17:00:00+09:00" in done.stdout, done.stdout
    assert "until 2026-11-26T16:00:00+09:00" in done.stdout  # written 07:00+00:00
    assert "next change: 2026-11-26T16:00:00+09:00" in done.stdout
    as_json = json.loads(run_cli(tmp_site, "status", "--json", "--now", "2026-11-25T03:00Z").stdout)
    assert as_json["now"] == "2026-11-25T03:00:00+00:00"  # scripts get the instant as given
