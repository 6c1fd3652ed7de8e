"""`sitegen publish` as a script sees it: exit codes, --json on failure as on success, and the
settings checked before anything is built (in process, through click, on the folder target)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bundles import SITE_TOML, site_files, write_bundle
from click.testing import CliRunner, Result

from publish.cli import publish_command
from publish.lock import lock_body
from publish.targets.folder import FolderTarget
from sitegen_fixtures import TmpSite


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site.toml").write_text(SITE_TOML)
    write_bundle(tmp_path / "public", site_files(3))
    return tmp_path


def publish(site: Path, *args: str) -> Result:
    return CliRunner().invoke(publish_command, ["--site", str(site / "site.toml"), *args])


def published(site: Path) -> dict[str, Any]:
    result = publish(site, "--no-build", "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_a_lock_held_by_a_live_publish_exits_75_try_again_later(site: Path) -> None:
    published(site)
    assert FolderTarget(site / "out").lock(lock_body(datetime.now(UTC))) is None
    result = publish(site, "--no-build")
    assert result.exit_code == 75, result.output
    assert "Another publish holds the lock" in result.stderr
    assert "Wait for it to finish" in result.stderr


def test_a_lock_whose_holder_died_exits_1_it_needs_take_over_lock(site: Path) -> None:
    published(site)
    stale = datetime.now(UTC) - timedelta(hours=2)
    assert FolderTarget(site / "out").lock(lock_body(stale)) is None
    result = publish(site, "--no-build")
    assert result.exit_code == 1, result.output
    assert "Run `sitegen publish --take-over-lock` to take its lock over" in result.stderr


def test_a_lock_of_an_older_sitegen_is_not_called_dead_it_may_run_elsewhere(site: Path) -> None:
    """A lock body before 2026-12 does not say which pid namespace (container) its holder ran
    in: a pid gone here may be a live publish in the container next door (was: "no longer
    running on this machine", and --force broke it at once; now --take-over-lock would)."""
    doc = json.loads(lock_body(datetime.now(UTC)))
    del doc["processes"]
    doc["holder"] = doc["holder"].rsplit(" pid ", 1)[0] + f" pid {gone_pid()}"
    assert FolderTarget(site / "out").lock(json.dumps(doc).encode()) is None
    result = publish(site, "--no-build", "--take-over-lock")
    assert result.exit_code == 75, result.output
    assert "no longer running" not in result.stderr
    assert "older sitegen" in result.stderr
    assert "Wait for it to finish" in result.stderr


def test_a_refusal_by_a_safety_limit_exits_4(site: Path) -> None:
    published(site)
    write_bundle(site / "public", site_files(1))  # two alerts gone: 4 deletes
    result = publish(site, "--no-build", "--max-deletes", "2")
    assert result.exit_code == 4, result.output
    assert "more than --max-deletes 2" in result.stderr
    assert "Refused, nothing was changed" in result.stderr


def test_a_quiet_refusal_says_the_refusal_and_its_numbers_not_the_plan(site: Path) -> None:
    # -q printed the whole plan ("Error: Publish plan for ...", each file), then the refusal
    published(site)
    write_bundle(site / "public", site_files(1))
    result = publish(site, "--no-build", "--max-deletes", "2", "-q")
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("Error: Refused, nothing was changed: this would delete 4 ")
    assert "more than --max-deletes 2" in result.stderr
    assert "Publish plan" not in result.output
    assert len(result.stderr.splitlines()) == 1


def test_help_documents_the_exit_codes() -> None:
    text = CliRunner().invoke(publish_command, ["--help"]).stdout
    assert "Exit codes:" in text
    for line in ("  4   refused by a safety limit", "  75  another publish holds the lock"):
        assert line in text


def failure(result: Result, code: int, kind: str) -> dict[str, Any]:
    """The one JSON object a failed `--json` run prints on stdout."""
    assert result.exit_code == code, result.output
    doc = dict(json.loads(result.stdout))
    assert doc["ok"] is False and doc["error"]["kind"] == kind
    assert doc["error"]["exit_code"] == code
    assert doc["error"]["message"] in result.stderr  # the same words as the text error
    return doc


def test_json_reports_success_with_ok_true(site: Path) -> None:
    assert published(site)["ok"] is True
    result = publish(site, "--no-build", "--json", "--dry-run")
    assert json.loads(result.stdout)["ok"] is True


def test_json_reports_a_held_lock_on_stdout(site: Path) -> None:
    published(site)
    assert FolderTarget(site / "out").lock(lock_body(datetime.now(UTC))) is None
    doc = failure(publish(site, "--no-build", "--json"), 75, "lock_held")
    assert "Another publish holds the lock" in doc["error"]["message"]
    assert doc["plan"] is None  # the lock comes before the plan


def test_json_reports_a_refusal_with_its_plan(site: Path) -> None:
    published(site)
    write_bundle(site / "public", site_files(1))
    doc = failure(publish(site, "--no-build", "--json", "--max-deletes", "2"), 4, "refused")
    assert len(doc["plan"]["deletes"]) == 4 and doc["plan"]["refusals"]


def test_json_reports_a_configuration_error(site: Path) -> None:
    (site / "site.toml").write_text(SITE_TOML.replace("folder:out", "s3://x"))
    doc = failure(publish(site, "--no-build", "--json"), 1, "config")
    assert "not an S3 bucket name" in doc["error"]["message"]


def test_json_reports_a_malformed_flag_as_a_usage_error(site: Path) -> None:
    doc = failure(publish(site, "--no-build", "--json", "--target", "s3://x"), 2, "usage")
    assert "Invalid value for '--target': 's3://x': 'x' is not an S3" in doc["error"]["message"]


def test_a_dry_run_of_a_plan_that_would_be_refused_exits_4(site: Path) -> None:
    published(site)
    write_bundle(site / "public", site_files(1))
    result = publish(site, "--no-build", "--dry-run", "--max-deletes", "2")
    assert result.exit_code == 4, result.output
    assert "REFUSED: this would delete 4 objects" in result.stdout
    assert "Without --dry-run it would be REFUSED" in result.stdout
    assert "but the real run would be refused: this would delete 4" in result.stderr
    doc = failure(
        publish(site, "--no-build", "--dry-run", "--json", "--max-deletes", "2"), 4, "refused"
    )
    assert doc["dry_run"] is True and len(doc["plan"]["deletes"]) == 4
    assert publish(site, "--no-build", "--dry-run", "--max-deletes", "4").exit_code == 0


@pytest.mark.parametrize(
    ("setting", "code", "message"),
    [
        (("--target", "s3://Bad_Bucket/x"), 2, "'Bad_Bucket' is not an S3 bucket name"),
        (("--target", "ftp://x"), 2, "expected s3://BUCKET[/PREFIX] or folder:PATH"),
        (("--cloudfront", "e-bad"), 2, "not a distribution id like E2QWRUHEXAMPLE"),
        (("--akamai", "x@nowhere"), 2, "expected EDGERC_SECTION"),
        (("--akamai", "x@staging", "--edgerc", "/nonexistent/.edgerc"), 1, "/nonexistent/.edgerc"),
        (("--target", "folder:content"), 1, "overlaps the site's own files"),
    ],
)
def test_settings_are_checked_before_the_build(
    tmp_path: Path, setting: tuple[str, ...], code: int, message: str
) -> None:
    """A malformed flag is a usage error (exit 2); a well-formed one that does not fit this
    site or machine (a folder inside the site, a missing .edgerc) fails as site.toml's would."""
    site = TmpSite(tmp_path / "site")
    result = CliRunner().invoke(publish_command, ["--site", str(site.root / "site.toml"), *setting])
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert not (site.root / "public").exists()  # nothing was built


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('target = "_published"', "target '_published': expected s3://BUCKET[/PREFIX] or folder:"),
        ('target = "s3://Bad_Bucket/x"', "target 's3://Bad_Bucket/x': 'Bad_Bucket' is not an S3"),
        ('cloudfront = ["e-bad"]', "cloudfront 'e-bad': not a distribution id like E2QWRUHEXAMPLE"),
        ('akamai = ["x@nowhere"]', "akamai 'x@nowhere': expected EDGERC_SECTION"),
    ],
)
def test_a_wrong_publish_setting_in_site_toml_is_named_on_its_line_not_as_a_flag(
    tmp_path: Path, setting: str, message: str
) -> None:
    """An official who typed no --target must not be told their --target is wrong."""
    toml = TmpSite(tmp_path / "site").root / "site.toml"
    toml.write_text(toml.read_text() + f"[publish]\n{setting}\n")
    line = len(toml.read_text().splitlines())
    result = CliRunner().invoke(publish_command, ["--site", str(toml), "--dry-run"])
    assert result.exit_code == 1, result.output
    assert f"site.toml:{line}: [publish] {message}" in result.stderr
    assert not any(flag in result.stderr for flag in ("--target", "--cloudfront", "--akamai"))


@pytest.mark.parametrize("spec", ["folder:content", "folder:public"])
def test_a_target_from_site_toml_that_overlaps_the_site_names_no_flag(
    tmp_path: Path, spec: str
) -> None:
    toml = TmpSite(tmp_path / "site").root / "site.toml"
    toml.write_text(toml.read_text() + f'[publish]\ntarget = "{spec}"\n')
    result = CliRunner().invoke(publish_command, ["--site", str(toml), "--dry-run"])
    assert result.exit_code == 1 and "overlaps" in result.stderr, result.output
    assert "--target" not in result.stderr


def test_a_folder_target_in_the_home_folder_expands_the_tilde(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = publish(site, "--no-build", "-q", "--target", "folder:~/pubhome")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "home/pubhome/index.html").exists()
    assert not (site / "~").exists()
    assert f"folder:{tmp_path / 'home/pubhome'}" in result.stdout


def test_wait_without_cloudfront_is_said_to_have_no_effect(site: Path) -> None:
    result = publish(site, "--no-build", "-q", "--wait")
    assert result.exit_code == 0, result.output
    note = "note: --wait has no effect: it waits for CloudFront invalidations, and no CDN is"
    assert f"{note} configured" in result.stderr
    result = publish(site, "--no-build", "--dry-run", "--wait", "--cloudfront", "E2QWRUHEXAMPLE")
    assert result.exit_code == 0, result.output
    assert "--wait" not in result.stderr


@pytest.mark.parametrize(("hours", "shows"), [(30, "alerts not sent yet"), (-30, "cancelled")])
def test_publishing_the_site_of_another_instant_needs_force(
    site: Path, hours: int, shows: str
) -> None:
    """`publish --now` in the future put a scheduled alert online early (its page, CAP and
    feed entry, exit 0); in the past, it shows expired or cancelled alerts as in force."""
    other = (datetime.now(UTC) + timedelta(hours=hours)).isoformat()
    result = publish(site, "--no-build", "--now", other)
    assert result.exit_code == 4, result.output
    assert shows in result.stderr and "Nothing was changed" in result.stderr
    assert not (site / "out").exists()
    assert publish(site, "--no-build", "--now", other, "--force").exit_code == 0
    assert (site / "out" / "index.html").is_file()
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()  # a clock's drift: fine
    assert publish(site, "--no-build", "--now", soon).exit_code == 0


@pytest.mark.parametrize("command", [("publish", "--dry-run"), ("doctor",), ("rollback", "--list")])
def test_a_folder_target_in_site_toml_that_cannot_be_used_is_named_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    """site.toml's `target = "folder:content"` is a site.toml mistake: it was told as
    `publish target folder:content: /full/path/content overlaps…`, at no line, and --json
    listed no problem."""
    from sitegen.cli import cli

    site = TmpSite(tmp_path / "site")
    toml = site.root / "site.toml"
    toml.write_text(toml.read_text() + '[publish]\ntarget = "folder:content"\n')
    monkeypatch.chdir(site.root)
    result = CliRunner().invoke(cli, [*command])
    assert result.exit_code == 1, result.output
    expected = "site.toml:8: [publish] target 'folder:content': "
    assert f"Error: {expected}" in result.stderr and "overlaps" in result.stderr
    document = json.loads(CliRunner().invoke(cli, [*command, "--json"]).stdout)
    assert [(p["path"], p["line"]) for p in document["problems"]] == [("site.toml", 8)]
    flag = CliRunner().invoke(cli, [*command, "--target", "folder:templates"])
    assert "Error: publish target folder:templates: " in flag.stderr  # the flag's, as typed


def test_a_corrupt_published_manifest_is_said_on_every_publish_not_only_in_dry_run(
    site: Path,
) -> None:
    """The manifest of what is online no longer parses: publish lists every object instead
    (the objects are the truth), deletes only what the listing shows the bundle no longer has
    (within --max-deletes) and writes a good manifest. It said so only in the plan, which a
    publish does not print: the official was never told."""
    published(site)
    manifest = site / "out" / ".sitegen" / "manifest.json"
    manifest.write_bytes(b"\x00\xff not json")
    write_bundle(site / "public", site_files(1))  # two alerts fewer: 4 deletes
    limited = publish(site, "--no-build", "--max-deletes", "3")
    assert limited.exit_code == 4 and "more than --max-deletes 3" in limited.stderr
    assert manifest.read_bytes() == b"\x00\xff not json"  # refused: nothing changed
    result = publish(site, "--no-build")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert (
        f"the manifest of what is published ({FolderTarget(site / 'out').name}/.sitegen/"
        "manifest.json) was damaged (not valid UTF-8 JSON"
    ) in said, said
    assert "listed every object instead" in said and "wrote a good manifest" in said
    assert manifest.read_bytes() == (site / "public" / ".sitegen" / "manifest.json").read_bytes()
    assert "damaged" not in publish(site, "--no-build").stdout  # repaired: said once


# `sitegen ARGS`, SIGKILLed just before it renames its first written file of the site into place
_KILLED_WHILE_WRITING = """
import os, signal
real = os.replace
def killed(src, dst, *args, **kwargs):
    if "/.sitegen/" not in str(dst):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *args, **kwargs)
os.replace = killed
from sitegen.cli import main
main()
"""

# A live publish's write of one file of the site, stopped before its rename until told to go on
_WRITING = """
import os, sys
from pathlib import Path
from publish.targets.base import ObjectMeta
from publish.targets.folder import FolderTarget
real = os.replace
def paused(src, dst, *args, **kwargs):
    print(src, flush=True)
    sys.stdin.readline()
    return real(src, dst, *args, **kwargs)
os.replace = paused
meta = ObjectMeta(content_type="text/html", cache_control="no-cache", sha256="0" * 64)
FolderTarget(Path(sys.argv[1])).put("alerts/a0/index.html", b"written meanwhile", meta)
"""


def temporary(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob(".sitegen-tmp-*"))


def test_what_a_killed_publish_was_writing_goes_with_the_next_publish(site: Path) -> None:
    """A publish to a folder killed while writing (SIGKILL, the OOM killer, a power cut)
    left its temporary files in the folder for ever, where whatever serves it served them."""
    assert publish(site, "--no-build").exit_code == 0
    write_bundle(site / "public", site_files(3, version="v2"))
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_WRITING, "publish", "--site", "site.toml"]
        + ["--no-build"],
        cwd=site,
        capture_output=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    out = site / "out"
    assert temporary(out)  # what it left
    result = publish(site, "--no-build", "--take-over-lock", "--json")  # a dead process's lock
    assert result.exit_code == 0, result.output
    assert temporary(out) == []
    plan = json.loads(result.stdout)["plan"]
    assert plan["deletes"] == [] and plan["foreign"]["kept"] == []


def test_what_an_older_sitegen_left_in_the_folder_served_goes_with_the_first_publish(
    site: Path,
) -> None:
    """Before 2026-12-07 the temporary files were written beside each file, unlocked."""
    assert publish(site, "--no-build").exit_code == 0
    out = site / "out"
    shutil.rmtree(out / ".sitegen" / "tmp", ignore_errors=True)  # as an older sitegen left it
    left = [
        out / "alerts" / "a0" / f".sitegen-tmp-index.html.{gone_pid()}-0a1b2c3d.140211",
        out / ".sitegen" / "meta" / f".sitegen-tmp-index.html.json.{gone_pid()}.140211",
    ]
    for path in left:
        path.write_text("half a file")
    result = publish(site, "--no-build", "--verify", "--json")
    assert result.exit_code == 0, result.output
    assert temporary(out) == []
    plan = json.loads(result.stdout)["plan"]
    assert plan["deletes"] == [] and plan["foreign"]["kept"] == []


def test_what_a_live_publish_is_writing_is_left_alone_and_never_counted(site: Path) -> None:
    assert publish(site, "--no-build").exit_code == 0
    writing = subprocess.Popen(
        [sys.executable, "-c", _WRITING, str(site / "out")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writing.stdin is not None and writing.stdout is not None
    try:
        held = Path(writing.stdout.readline().strip())
        assert held.exists(), "the writer failed"
        # another container's publish: its pid means nothing here
        held = held.rename(held.with_name(held.name.replace(str(writing.pid), str(gone_pid()), 1)))
        result = publish(site, "--no-build", "--verify", "--json")  # lists the folder
        assert result.exit_code == 0, result.output
        assert held.exists()
        assert held.name not in result.stdout
        plan = json.loads(result.stdout)["plan"]
        assert plan["deletes"] == [] and plan["foreign"]["kept"] == []
    finally:
        writing.kill()
        writing.wait()


def gone_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert not os.path.exists(f"/proc/{gone.pid}")
    return gone.pid


def test_publishing_for_real_with_init_s_example_address_is_said(site: Path) -> None:
    """`sitegen init` writes base_url https://alerts.example.org/; an operator who set up
    S3 or a CDN and forgot it got feeds, CAP files and Akamai purges for example.org, unsaid."""
    toml = site / "site.toml"
    toml.write_text(toml.read_text().replace("alerts.test", "alerts.example.org"))
    trial = publish(site, "--no-build", "--dry-run")  # the local folder alone: a trial
    assert trial.exit_code == 0, trial.output
    assert "example address" not in trial.output
    real = publish(site, "--no-build", "--dry-run", "--json", "--cloudfront", "E2QWRUHEXAMPLE")
    assert real.exit_code == 0, real.output
    note = (
        "note: [site] base_url in site.toml is still https://alerts.example.org/, an example "
        "address: the links in the feeds, the sitemap and the CAP files (and the addresses "
        "Akamai is asked to purge) point there, not at your site. Set base_url to the site's "
        "public address (and sender to your office's), then publish again"
    )
    assert note in real.stderr
    assert json.loads(real.stdout)["notes"][0] == note.removeprefix("note: ")


def test_a_deletes_limit_set_in_site_toml_is_named_there_not_as_a_flag(site: Path) -> None:
    """The refusal said "more than --max-deletes 2" to someone who had passed no flag: the
    limit was site.toml's, which the message did not name."""
    published(site)
    (site / "site.toml").write_text(SITE_TOML + "max_deletes = 2\n")
    write_bundle(site / "public", site_files(1))
    result = publish(site, "--no-build", "-q")
    assert result.exit_code == 4, result.output
    assert "more than the limit of 2 (max_deletes in site.toml's [publish]" in result.stderr
    assert "--max-deletes 2" not in result.stderr
    assert "pass --max-deletes 4 (or --force)" in result.stderr


def test_the_plan_lists_its_steps_in_the_order_they_run(site: Path) -> None:
    """The plan listed the deletes before the invalidations, while publish deletes last (a
    page goes only once nothing links to it and the CDN no longer serves it)."""
    published(site)
    write_bundle(site / "public", {**site_files(1), "index.html": b"<h1>new home</h1>"})
    result = publish(site, "--no-build", "--dry-run", "--cloudfront", "E2QWRUHEXAMPLE")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith(", in the order it runs:")
    steps = [line.split()[0] for line in lines if line.startswith("  ") and line[2] != " "]
    order = [s for s in steps if s in ("upload", "manifest:", "invalidate", "delete")]
    assert order == ["upload", "manifest:", "invalidate", "delete"], result.stdout
