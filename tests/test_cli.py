"""The `sitegen` command as a user runs it: exit codes, messages, help, scaffolding."""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen_fixtures import TmpSite, alert_text, run_sitegen, unprivileged

NOW = "2026-11-25T12:00:00+09:00"


def sitegen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from sitegen.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,  # no terminal to ask at (`new --update` asks there)
    )


def test_check_ok_exit_0(example_site: TmpSite) -> None:
    result = sitegen("check", "--now", NOW, cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    assert "ok: 8 alerts (10 messages, 11 files), no errors" in result.stdout


def test_an_alert_its_update_and_their_translations_count_as_one_alert(
    tmp_site: TmpSite,
) -> None:
    """docs/content.md: a translation and an update are the same alert. An official who wrote
    one with `sitegen new`, its `--update` and a Korean file of each, and another alert, has
    2 alerts (3 messages, 5 files); check said "3 alerts in 5 files". check's text and
    --json, and status, say the same counts."""
    update = {"msg_type": "Update", "references": "[flood]", "sent": "2026-11-25T08:00:00+09:00"}
    tmp_site.add("flood.md", alert_text())
    tmp_site.add("flood.ko.md", alert_text(title="홍수 주의보"))
    tmp_site.add("flood-update.md", alert_text(**update))
    tmp_site.add("flood-update.ko.md", alert_text(title="홍수 주의보", **update))
    tmp_site.add("quake.md", alert_text(title="Earthquake"))
    result = sitegen("check", "--now", NOW, cwd=tmp_site.root)
    assert "ok: 2 alerts (3 messages, 5 files), no errors" in result.stdout, result.stderr
    for command in ("check", "status"):
        doc = json.loads(sitegen(command, "--json", "--now", NOW, cwd=tmp_site.root).stdout)
        assert (doc["alerts"], doc["messages"], doc["alert_files"]) == (2, 3, 5), command
    status = sitegen("status", "--now", NOW, cwd=tmp_site.root)
    assert "\n2 alerts (3 messages, 5 files) in content/ (what the next" in status.stdout
    # each list counts so too: the flood alert's update is active, its first message superseded
    # (a heading said "active (2)", messages, under a line counting alerts); the alert is
    # counted in its phase only, so the lists add up to the line above
    assert "\nactive: 2 alerts (2 messages, 3 files)\n  flood-update " in status.stdout
    assert "\nsuperseded: 1 message (2 files) of an alert counted under active\n" in status.stdout
    doc = json.loads(sitegen("status", "--json", "--now", NOW, cwd=tmp_site.root).stdout)
    assert doc["counts"]["active"] == {"alerts": 2, "messages": 2, "alert_files": 3}
    assert doc["counts"]["superseded"] == {"alerts": 0, "messages": 1, "alert_files": 2}
    assert doc["counts"]["drafts"] == {"alerts": 0, "messages": 0, "alert_files": 0}
    assert [a["id"] for a in doc["active"]] == ["flood-update", "quake"]  # the lists stay


def test_an_update_not_sent_yet_and_a_draft_leave_their_alert_counted_in_force(
    tmp_site: TmpSite,
) -> None:
    """An alert in force with an Update due tonight and a drafted Cancel is one alert, in
    force: status's lists name the two other messages, counted as messages of it."""
    tmp_site.add("flood.md", alert_text())
    later = {"msg_type": "Update", "references": "[flood]", "sent": "2026-11-25T18:00:00+09:00"}
    tmp_site.add("flood-update.md", alert_text(**later))
    tmp_site.add(
        "flood-cancel.md",
        alert_text(msg_type="Cancel", status="Draft", **{"references": "[flood]"}),
    )
    status = sitegen("status", "--now", NOW, cwd=tmp_site.root).stdout
    assert "\n1 alert (3 messages, 3 files) in content/" in status
    assert "\nactive: 1 alert (1 message, 1 file)\n" in status
    assert "\nupcoming: 1 message (1 file) of an alert counted under active\n" in status
    assert (
        "\ndrafts, never published, 1 message (1 file) of an alert counted under active:" in status
    )


def test_a_file_too_big_names_the_pasted_image_or_long_line_that_makes_it_so(
    tmp_site: TmpSite,
) -> None:
    """An official pasted a map into the text: the file was refused as "2,200,379 bytes ...
    Move long material to a linked page", with no line and no word of the image."""
    image = "![flood map](data:image/png;base64," + "iVBORw0KGgo" * 200_000 + ")"
    pasted = alert_text().replace("The river is rising.", f"The river is rising.\n\n{image}")
    tmp_site.add("map.md", pasted)
    tmp_site.add("report.md", alert_text().replace("The river is rising.", "word " * 220_000))
    result = sitegen("check", cwd=tmp_site.root)
    assert result.returncode == 1
    assert (
        "content/alerts/map.md:19: the file is 2,200,379 bytes; an alert file must be under "
        "1,000,000 bytes. Line 19 holds a pasted image (2,200,036 bytes, written as a 'data:' "
        "address). Alerts show no pictures, only their description"
    ) in result.stderr
    assert "link to the picture where it is published instead" in result.stderr
    assert (
        "content/alerts/report.md:17: the file is 1,100,321 bytes; an alert file must be under "
        "1,000,000 bytes. Line 17 alone is 1,100,000 bytes long. Move long material to a page "
        "of its own and link to it.\n"
    ) in result.stderr


def test_a_page_over_its_limit_says_it_is_the_compressed_page_not_the_file(
    tmp_site: TmpSite,
) -> None:
    """A 60,000-byte alert file, far under the 1,000,000 bytes a file may have, makes a page
    over the page limit. The warning said "… is 15,123 bytes after brotli, over the
    14,000-byte budget", which an official could not square with the file's limit; it now
    says the size is the page's as sent to readers (compressed), and what to shorten."""
    words = random.Random(6)
    noise = " ".join(
        "".join(words.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(words.randint(2, 9)))
        for _ in range(6000)
    )
    tmp_site.add("flood.md", alert_text().replace("The river is rising.", noise))
    result = sitegen("build", "--now", NOW, cwd=tmp_site.root)
    assert result.returncode == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert warning.startswith(
        "content/alerts/flood.md: warning: the page of alert 'flood' (alerts/flood/index.html) is "
    ), warning
    assert (
        "bytes as sent to readers (compressed), over the 14,000 bytes a page should stay under "
        "to arrive at once: citizens on slow networks wait longer for it; shorten this alert's "
        "text"
    ) in warning
    assert "brotli" not in warning and "budget" not in warning


@pytest.mark.parametrize(
    ("languages", "default", "sections"),
    [
        # the default language's text, then each other language's, with lang and dir
        ('["en", "ko", "ar"]', "en", [("ko", "ltr", "/ko/"), ("ar", "rtl", "/ar/")]),
        ('["en", "ko", "ar"]', "ar", [("en", "ltr", "/en/"), ("ko", "ltr", "/ko/")]),
        # German has no catalog: its text would be the English again
        ('["en", "de"]', "en", []),
        ('["ko", "de"]', "ko", [("en", "ltr", "/de/")]),
    ],
)
def test_the_404_page_speaks_every_site_language(
    tmp_site: TmpSite, languages: str, default: str, sections: list[tuple[str, str, str]]
) -> None:
    """A CDN answers every missing address with the one 404.html: a Korean or Arabic reader
    got it in the default language only. Each site language's text follows the default's,
    marked with its language and direction, its link to that language's home page."""
    toml = tmp_site.root / "site.toml"
    text = toml.read_text("utf-8").replace('["en", "ko"]', languages)
    toml.write_text(text.replace('"en"\n', f'"{default}"\n', 1), "utf-8")
    tmp_site.add("flood.md", alert_text())
    result = sitegen("build", "--now", NOW, cwd=tmp_site.root)
    assert result.returncode == 0, result.stderr
    page = (tmp_site.public / "404.html").read_text("utf-8")
    main = page.split('<main id="main">')[1].split("</main>")[0]
    found = re.findall(r'<section lang="([^"]+)" dir="([^"]+)">\n<h2>.+</h2>\n', main)
    assert found == [(lang, way) for lang, way, _ in sections], main
    assert main.count("<h1>") == 1 and "<section" not in main.split("<h1>")[0]
    for lang, _, home in sections:
        part = main.split(f'<section lang="{lang}"')[1].split("</section>")[0]
        assert f'<a href="{home}">' in part, part
    if default != "en":
        assert "Page not found" not in main.split("<section")[0]
    if ("ko", "ltr", "/ko/") in sections:
        assert "<h2>페이지를 찾을 수 없습니다</h2>" in main
        assert '<a href="/ko/">발효 중인 모든 경보 보기</a>' in main


def test_check_reports_every_problem_exit_1_without_traceback(tmp_site: TmpSite) -> None:
    tmp_site.add("a.md", alert_text(severity="Severe!"))
    tmp_site.add("b.md", "no front matter\n")
    result = sitegen("check", cwd=tmp_site.root)
    assert result.returncode == 1
    assert (
        "content/alerts/a.md:5: severity 'Severe!' is not one of Extreme, Severe, Moderate, "
        "Minor, Unknown"
    ) in result.stderr
    assert "content/alerts/b.md:1: no front matter" in result.stderr
    assert "2 problems found" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_says_a_misspelt_field_once_on_its_line_not_also_missing(
    tmp_site: TmpSite,
) -> None:
    text = alert_text().replace("severity:", "serverity:").replace("expires:", "expiry:")
    tmp_site.add("a.md", text)
    result = sitegen("check", cwd=tmp_site.root)
    assert result.returncode == 1
    assert result.stderr == (
        "content/alerts/a.md:5: unknown field 'serverity'; did you mean 'severity'?\n"
        "content/alerts/a.md:11: unknown field 'expiry'; did you mean 'expires'?\n"
        "Error: 2 problems found; fix them and run again.\n"
    )


def test_check_shows_how_to_write_several_references_and_areas_as_lists(
    tmp_site: TmpSite,
) -> None:
    tmp_site.add("a.md", alert_text())
    text = alert_text(msg_type="Update", references="a, b").replace(
        "areas:\n  - name: Seoul", "areas: Seoul, Incheon"
    )
    tmp_site.add("b.md", text.replace("    geocodes: {ISO3166-2: KR-11}\n", ""))
    result = sitegen("check", cwd=tmp_site.root)
    assert result.returncode == 1
    assert "content/alerts/b.md:" in result.stderr
    assert (
        ": 'areas' must be a list, one area per line starting with '- ', e.g.\n"
        "areas:\n  - Seoul\n  - Incheon\n"
    ) in result.stderr
    assert (
        ": 'references' names several alerts in one text: write them as a list, "
        "references: [a, b]\n"
    ) in result.stderr


def test_check_says_a_reference_to_itself_once(tmp_site: TmpSite) -> None:
    tmp_site.add("a.md", alert_text(msg_type="Update", references="[a]"))
    result = sitegen("check", cwd=tmp_site.root)
    assert result.returncode == 1
    assert result.stderr == (
        "content/alerts/a.md:15: an alert cannot reference itself\n"
        "Error: 1 problem found; fix it and run again.\n"
    )


def test_check_warns_about_an_alert_sent_years_ahead_a_mistyped_year(tmp_site: TmpSite) -> None:
    tmp_site.add(
        "a.md", alert_text(sent="2062-11-25T07:00:00+09:00", expires="2062-11-26T07:00:00+09:00")
    )
    tmp_site.add(
        "b.md", alert_text(sent="2026-12-20T07:00:00+09:00", expires="2026-12-21T07:00:00+09:00")
    )
    result = sitegen("check", "--now", "2026-11-25T08:00:00+09:00", cwd=tmp_site.root)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "content/alerts/a.md:10: warning: sent is 2062-11-25T07:00:00+09:00, 13148 days from "
        "now; nothing shows this alert before then: check the date (the year?)\n"
    )  # b.md, 25 days ahead, is a scheduled alert: no word


def test_check_warns_about_a_link_copied_from_the_address_bar(tmp_site: TmpSite) -> None:
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("alerts.test/", "alerts.test/emergency/"))
    body = "The river is rising. Shelters: [list](/emergency/areas/kr-11/)."
    tmp_site.add("a.md", alert_text().replace("The river is rising.", body))
    result = sitegen("check", "--now", NOW, cwd=tmp_site.root)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "content/alerts/a.md:17: warning: the link /emergency/areas/kr-11/ leads to no page "
        "of this site; write links to the site's pages from its root, /areas/kr-11/ (sitegen "
        "adds /emergency/ itself)\n"
    )
    assert "ok: 1 alert (1 message, 1 file), no errors, 1 warning" in result.stdout


def test_check_names_a_translation_with_another_geocode(tmp_site: TmpSite) -> None:
    tmp_site.add("a.md", alert_text().replace("{ISO3166-2: KR-11}", "{SAME: 006037}"))
    korean = alert_text().replace("{ISO3166-2: KR-11}", "{SAME: 6037}")
    tmp_site.add("a.ko.md", korean.replace("name: Seoul", "name: 서울"))
    result = sitegen("check", "--now", NOW, cwd=tmp_site.root)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "content/alerts/a.ko.md:13: the areas differ from content/alerts/a.md, which lists "
        "'Seoul' (SAME 006037) where this file lists '서울' (SAME 6037); all translations of "
        "an alert must list the same places"
    )


def test_usage_error_exit_2(example_site: TmpSite) -> None:
    result = sitegen("build", "--now", "yesterday", cwd=example_site.root)
    assert result.returncode == 2
    assert "is not a date and time" in result.stderr


def test_missing_site_toml_is_a_clear_error(tmp_path: Path) -> None:
    result = sitegen("build", cwd=tmp_path)
    assert result.returncode == 1
    assert "no site.toml here" in result.stderr and "Traceback" not in result.stderr


def test_broken_site_toml_is_a_clear_error(tmp_site: TmpSite) -> None:
    (tmp_site.root / "site.toml").write_text("[site\ntitle=1")
    result = sitegen("check", cwd=tmp_site.root)
    assert result.returncode == 1 and "site.toml:1: not valid TOML" in result.stderr


def test_debug_shows_traceback_for_user_errors_too(tmp_site: TmpSite) -> None:
    (tmp_site.root / "templates" / "index.html").write_text("{{ nope }}")
    plain = sitegen("build", cwd=tmp_site.root)
    assert plain.returncode == 1 and "'nope' is undefined" in plain.stderr
    assert "Traceback" not in plain.stderr


def test_build_writes_site_and_reports(example_site: TmpSite) -> None:
    result = sitegen("build", "--now", NOW, cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    assert "largest page" in result.stdout  # flushed before the quick exit
    assert (example_site.root / "public" / "index.html").is_file()
    assert (example_site.root / ".sitegen" / "cache" / "state.bin").is_file()


@pytest.mark.parametrize(
    ("args", "ends_quickly"),
    [
        (("build",), True),
        (("publish",), True),  # builds, then publishes to the default folder target
        (("publish", "--no-build", "--json"), True),
        (("publish", "--target", "s3://No_Such_Bucket"), False),  # fails: the usual exit
    ],
)
def test_build_and_publish_end_without_interpreter_teardown(
    example_site: TmpSite, args: tuple[str, ...], ends_quickly: bool
) -> None:
    """A successful build or publish ends the process at once (no teardown of the build's
    objects and of botocore: ~0.1 s of a one-alert publish at 10,000 alerts), with its output
    complete; a failed one exits the usual way."""
    if "--no-build" in args:
        example_site.build()
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('TEARDOWN', flush=True))\n"
        "from sitegen.cli import main\n"
        "main()\n"
    )
    result = subprocess.run(
        # publish refuses a --now off the clock (it would put another instant's site online)
        [sys.executable, "-c", code, *args, *(("--now", NOW) if args == ("build",) else ())],
        cwd=example_site.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ("TEARDOWN" not in result.stdout) == ends_quickly, result.stdout + result.stderr
    assert (result.returncode == 0) == ends_quickly, result.stderr
    if "--json" in args:
        assert json.loads(result.stdout)["uploaded"] > 0  # whole, flushed before the end
    elif ends_quickly:
        assert "largest page" in result.stdout or "Published to" in result.stdout


def test_a_command_run_in_process_before_does_not_end_the_next_run(
    example_site: TmpSite,
) -> None:
    """The quick exit is decided by the command main() runs, not left over from an earlier
    command run in the same process (here a build through click's test runner)."""
    code = (
        "import atexit, sys\n"
        "from click.testing import CliRunner\n"
        "from sitegen.cli import cli, main\n"
        f"assert CliRunner().invoke(cli, ['build', '--now', '{NOW}']).exit_code == 0\n"
        "atexit.register(lambda: print('TEARDOWN', flush=True))\n"
        f"sys.argv = ['sitegen', 'check', '--now', '{NOW}']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=example_site.root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "no errors" in result.stdout and "TEARDOWN" in result.stdout


@pytest.mark.parametrize("command", ["", "check", "build", "new", "publish"])
def test_help_teaches_with_an_example(example_site: TmpSite, command: str) -> None:
    result = sitegen(*([command] if command else []), "--help", cwd=example_site.root)
    assert result.returncode == 0
    assert "sitegen" in result.stdout and ("Example" in result.stdout or "typical" in result.stdout)


def test_help_lists_every_command_with_its_whole_first_sentence(example_site: TmpSite) -> None:
    """Click cut the summaries at the width left beside the names, mid-sentence
    ("Build the whole static site into the output folder (public/...")."""
    import click

    from sitegen.cli import cli

    context = click.Context(cli)
    listing = sitegen("--help", cwd=example_site.root).stdout.partition("Commands:")[2]
    assert "..." not in listing
    flowing = " ".join(listing.split())
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None and command.help is not None
        first = command.help.split("\n\n")[0]
        first = " ".join(first.split()).partition(". ")[0].rstrip(".")
        assert f"{name} {first}" in flowing


def test_version(example_site: TmpSite) -> None:
    result = sitegen("--version", cwd=example_site.root)
    assert result.returncode == 0 and "sitegen, version" in result.stdout


def test_new_skeleton_passes_check_once_filled(tmp_site: TmpSite) -> None:
    result = sitegen(
        "new",
        "Heavy rain in Seoul",
        "--severity",
        "severe",
        "--area",
        "Seoul",
        "--area",
        "Incheon",
        cwd=tmp_site.root,
    )
    assert result.returncode == 0, result.stderr
    [path] = (tmp_site.root / "content" / "alerts").glob("*heavy-rain-in-seoul.md")
    unfilled = sitegen("check", cwd=tmp_site.root)
    assert unfilled.returncode == 1 and "replace the 'TODO:' text" in unfilled.stderr
    text = path.read_text().split("---\n")
    body = "Rain of 80 mm an hour.\n\n## What to do\n\n- Stay indoors.\n"
    path.write_text("---\n" + text[1] + "---\n" + body)
    filled = sitegen("check", cwd=tmp_site.root)
    assert filled.returncode == 0, filled.stderr


def test_new_handles_quotes_and_non_latin_titles(tmp_site: TmpSite) -> None:
    result = sitegen(
        "new", '호우 "경보": 서울', "--area", "서울", "--lang", "ko", cwd=tmp_site.root
    )
    assert result.returncode == 0, result.stderr
    [path] = (tmp_site.root / "content" / "alerts").glob("*.ko.md")
    assert 'title: "호우 \\"경보\\": 서울"' in path.read_text()


def test_new_refuses_unknown_language(tmp_site: TmpSite) -> None:
    result = sitegen("new", "X", "--lang", "xx", cwd=tmp_site.root)
    assert result.returncode == 2 and "not one of en, ko" in result.stderr


def test_update_carries_fields_over_and_references_original(example_site: TmpSite) -> None:
    original = "2026-11-25-han-river-flood-watch"
    result = sitegen("new", "--update", original, cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    [path] = (example_site.root / "content/alerts").glob(f"{original}-update.md")
    text = path.read_text()
    assert 'references: ["2026-11-25-han-river-flood-watch"]' in text
    assert "msg_type: Update" in text and "severity: Severe" in text
    assert '"name": "Seoul"' not in text and 'geocodes: {"ISO3166-2": "KR-11"}' in text
    assert "Heavy rain upstream" in text  # the previous wording, to edit
    checked = sitegen("check", cwd=example_site.root)
    assert checked.returncode == 1 and "replace the 'TODO:' text" in checked.stderr
    path.write_text(text.replace("TODO: say what has changed", "The river has peaked."))
    assert sitegen("check", cwd=example_site.root).returncode == 0


def test_a_follow_up_of_an_update_references_the_whole_chain(example_site: TmpSite) -> None:
    """`sitegen check` warns when an Update or Cancel leaves out an earlier message."""
    from datetime import datetime

    from sitegen.content import load_site
    from sitegen.model import MsgType
    from sitegen.scaffold import follow_up

    site = load_site(example_site.config, datetime.fromisoformat(NOW)).site
    assert site is not None
    update = site.by_id["2026-11-24-east-coast-tsunami-update"].primary
    cancel = follow_up(update, MsgType.CANCEL, update.sent.replace(hour=13))
    assert cancel.references == (
        "2026-11-24-east-coast-tsunami-warning",
        "2026-11-24-east-coast-tsunami-update",
    )


def test_cancel_of_unknown_id_is_a_usage_error(example_site: TmpSite) -> None:
    result = sitegen("new", "--cancel", "no-such-alert", cwd=example_site.root)
    assert result.returncode == 2 and "there is no alert with id 'no-such-alert'" in result.stderr
    assert "Invalid value for '--cancel':" in result.stderr  # quoted as click quotes the others


def test_an_unknown_language_names_the_option_as_click_does_elsewhere(
    example_site: TmpSite,
) -> None:
    result = sitegen("new", "X", "--lang", "xx", "--no-input", cwd=example_site.root)
    assert result.returncode == 2
    assert "Invalid value for '--lang': 'xx' is not one of en, ko" in result.stderr


def test_prompts_offer_the_sites_areas(example_site: TmpSite) -> None:
    answers = (
        "\n".join(
            [
                "Gas leak in Busan",
                "en",
                "Gas leak",
                "Safety",
                "Severe",
                "Immediate",
                "Observed",
                "1, Haeundae beach",
                "6",
            ]
        )
        + "\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "from sitegen.cli import main; main()", "new", "--interactive"],
        cwd=example_site.root,
        input=answers,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "1. Busan" in result.stdout  # areas already used, sorted by name, in English
    [path] = (example_site.root / "content/alerts").glob("*gas-leak-in-busan.md")
    text = path.read_text()
    assert 'name: "Busan"\n    geocodes: {"ISO3166-2": "KR-26"}' in text
    assert 'name: "Haeundae beach"' in text and "urgency: Immediate" in text
    assert "category: Safety" in text  # asked (it was always Other)
    assert "Severity (Extreme, Severe, Moderate, Minor, Unknown) [Moderate]:" in result.stdout
    assert "Category (Geo, Met, Safety," in result.stdout and "[Other]:" in result.stdout


def test_prompts_offer_the_areas_of_drafts(tmp_site: TmpSite) -> None:
    """An area only a draft names (TODO lines left from `sitegen new`, or `status: Draft`)
    is offered too; a draft given no area offers no "TODO: area name". Was: only the areas
    of alerts without errors, so the area just drafted for was not offered."""
    for args in (("Gas leak", "--area", "Daegu"), ("Fog",)):
        assert sitegen("new", *args, "--no-input", cwd=tmp_site.root).returncode == 0
    tmp_site.add("drafted.md", alert_text(status="Draft").replace("Seoul", "Ulsan"))
    answers = ["Storm", "en", "Storm", "Met", "Severe", "Immediate", "Observed", "1", "6"]
    result = subprocess.run(
        [sys.executable, "-c", "from sitegen.cli import main; main()", "new", "--interactive"],
        cwd=tmp_site.root,
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    offered = result.stdout.split("Areas already used in this site:\n")[1].split("Areas (")[0]
    assert offered.split() == ["1.", "Daegu", "2.", "Ulsan"], offered


def test_edit_opens_the_editor(tmp_site: TmpSite, tmp_path: Path) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nopen(sys.argv[1], 'a').write('edited\\n')\n")
    env_cmd = f"{sys.executable} {editor}"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from sitegen.cli import main; main()",
            "new",
            "Storm",
            "--edit",
            "--area",
            "Seoul",
        ],
        cwd=tmp_site.root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "EDITOR": env_cmd, "VISUAL": env_cmd},
    )
    assert result.returncode == 0, result.stderr
    [path] = (tmp_site.root / "content/alerts").glob("*storm.md")
    assert path.read_text().endswith("edited\n")


def test_no_title_without_terminal_is_a_usage_error(tmp_site: TmpSite) -> None:
    result = sitegen("new", "--no-input", cwd=tmp_site.root)
    assert result.returncode == 2 and "give the alert's TITLE" in result.stderr


def test_counts_are_written_with_the_right_plural(tmp_site: TmpSite) -> None:
    tmp_site.add("a.md", alert_text())
    ok = sitegen("check", cwd=tmp_site.root)
    assert "ok: 1 alert (1 message, 1 file), no errors" in ok.stdout
    tmp_site.add("b.md", alert_text(severity="Severe!"))
    failed = sitegen("check", cwd=tmp_site.root)
    assert "1 problem found; fix it and run again." in failed.stderr
    cap = tmp_site.root / "x.xml"
    cap.write_bytes(
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>imported</identifier>'
        b"<sender>s</sender><sent>2026-01-01T00:00:00-00:00</sent><status>Actual</status>"
        b"<msgType>Alert</msgType><scope>Public</scope><info><category>Met</category>"
        b"<event>Storm</event><urgency>Expected</urgency><severity>Severe</severity>"
        b"<certainty>Likely</certainty><expires>2026-01-02T00:00:00-00:00</expires>"
        b"<area><areaDesc>Coast</areaDesc></area></info></alert>"
    )
    (tmp_site.root / "content/alerts/b.md").unlink()
    assert sitegen("import-cap", "x.xml", cwd=tmp_site.root).returncode == 0
    again = sitegen("import-cap", "x.xml", cwd=tmp_site.root)
    assert "content/alerts/imported.md: already exists; nothing was written" in again.stderr
    assert "(s)" not in ok.stdout + failed.stderr + again.stderr


def test_serve_reports_counts_with_the_right_plural(tmp_site: TmpSite) -> None:
    from sitegen.rebuild import Rebuilder
    from sitegen.serve import Preview

    lines: list[str] = []
    tmp_site.add("a.md", alert_text(severity="Severe!"))
    Preview(Rebuilder(tmp_site.root / "site.toml"), lines.append, False).rebuild([])
    assert "1 problem; nothing to serve until they are fixed (save to retry)" in lines


def test_the_site_is_found_from_a_subfolder_and_said_so(example_site: TmpSite) -> None:
    alerts = example_site.root / "content" / "alerts"
    result = sitegen("check", "--now", NOW, cwd=alerts)
    assert result.returncode == 0, result.stderr  # was: "no site.toml here"
    assert f"using {example_site.root / 'site.toml'}" in result.stderr
    here = sitegen("check", "--now", NOW, cwd=example_site.root)
    assert "using" not in here.stderr  # nothing to say when it is here


def test_site_may_name_the_sites_folder(example_site: TmpSite, tmp_path: Path) -> None:
    result = sitegen("check", "--now", NOW, "--site", str(example_site.root), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = sitegen("check", "--site", str(empty), cwd=tmp_path)
    assert missing.returncode == 1 and f"{empty / 'site.toml'}: no site.toml here" in missing.stderr


def test_sitegen_site_names_the_site_as_the_docs_say(example_site: TmpSite, tmp_path: Path) -> None:
    env = {**os.environ, "SITEGEN_SITE": str(example_site.root)}
    result = run_sitegen("check", "--now", NOW, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


BUGGY = (
    "import sitegen.status as s\n"
    "s.format_status = lambda *args: 1 / 0\n"
    "from sitegen.cli import main\n"
    "main()\n"
)


def test_debug_after_the_command_name_and_the_exact_command_to_rerun(
    example_site: TmpSite,
) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", BUGGY, *args],
            cwd=example_site.root,
            capture_output=True,
            text=True,
            timeout=60,
        )

    plain = run("status", "--now", NOW)
    assert plain.returncode == 3 and "Traceback" not in plain.stderr
    assert f"  sitegen --debug status --now {NOW}\n" in plain.stderr
    after = run("status", "--now", NOW, "--debug")
    assert "Traceback" in after.stderr and "ZeroDivisionError" in after.stderr
    assert "No such option" not in after.stderr


def test_now_without_timezone_is_the_sites_local_time(tmp_site: TmpSite) -> None:
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("[site]\n", '[site]\ntimezone = "Asia/Seoul"\n'))
    tmp_site.add("flood.md", alert_text())  # in force 2026-11-25T07:00 to 11-26T07:00 +09:00
    # 06:30 in Seoul: still in force; read as UTC (15:30 in Seoul) it would have expired
    result = sitegen("status", "--json", "--now", "2026-11-26T06:30:00", cwd=tmp_site.root)
    status = json.loads(result.stdout)
    assert [alert["id"] for alert in status["active"]] == ["flood"], result.stdout
    assert status["now"] in ("2026-11-26T06:30:00+09:00", "2026-11-25T21:30:00+00:00")


@pytest.mark.parametrize(
    ("local", "said"),
    [
        ("2026-11-01T01:30", "happens twice in America/New_York: add the offset meant, -04:00"),
        ("2026-03-08T02:30", "never happens in America/New_York (the clocks skip it)"),
    ],
)
def test_now_at_a_clock_change_asks_for_the_offset(
    tmp_site: TmpSite, local: str, said: str
) -> None:
    """01:30 on the night clocks go back is two instants an hour apart, and 02:30 on the
    night they go forward is none: either was silently taken as one of them."""
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("[site]\n", '[site]\ntimezone = "America/New_York"\n'))
    tmp_site.add("flood.md", alert_text())
    result = sitegen("status", "--now", local, cwd=tmp_site.root)
    assert result.returncode == 2 and said in result.stderr, result.stderr
    assert sitegen("status", "--now", local + "-05:00", cwd=tmp_site.root).returncode == 0


# The --json contract: whatever ends a command run with --json (or check's --format json),
# stdout holds one JSON document; a failure's has the same shape for every command.
JSON_FAILURES = [
    # (command line, exit code, error kind, what else the document keeps)
    (("check", "--json", "--site", "{empty}"), 1, "config", ("alerts", "errors", "warnings")),
    (("check", "--format", "json"), 1, "content", ("alerts", "errors", "warnings")),
    (("check", "--json", "--now", "tomorrow"), 2, "usage", ("alerts", "errors", "warnings")),
    (("build", "--json", "--site", "{empty}"), 1, "config", ()),
    (("build", "--json"), 1, "content", ("errors", "warnings")),
    (("build", "--json", "--now", "tomorrow"), 2, "usage", ()),
    (("status", "--json", "--site", "{empty}"), 1, "config", ()),
    (("status", "--json"), 1, "content", ("active", "next_change")),
    (("status", "--json", "--now", "2026-03-08T02:30", "--site", "{ny}"), 2, "usage", ()),
    (("publish", "--json", "--site", "{empty}"), 1, "config", ("dry_run", "plan")),
    (("publish", "--json", "--dry-run"), 1, "content", ("dry_run", "plan")),
    (("publish", "--json", "--max-deletes", "x"), 2, "usage", ("dry_run", "plan")),
    (("doctor", "--json", "--site", "{empty}"), 1, "config", ()),
    (("doctor", "--json", "--target", "{blocked}"), 1, "doctor", ("checks", "target")),
    (("rollback", "--json", "--list", "--site", "{empty}"), 1, "config", ("dry_run", "plan")),
    (("rollback", "--json", "--previous", "--list"), 2, "usage", ("dry_run", "plan")),
    (("rollback", "--json", "--previous"), 1, "publish", ("dry_run", "plan")),
]


@pytest.mark.parametrize(("args", "code", "kind", "kept"), JSON_FAILURES)
def test_every_json_failure_has_one_shape(
    example_site: TmpSite,
    tmp_path: Path,
    args: tuple[str, ...],
    code: int,
    kind: str,
    kept: tuple[str, ...],
) -> None:
    """{"ok": false, "error": {"kind", "exit_code", "message", "cause"}, "problems": [...]}
    and what the command could still say; the message is also on stderr, as without --json.
    Was: `check` and `status` gave "error" as a string and nothing on stderr, `doctor` and
    every usage error printed no JSON at all."""
    (tmp_path / "empty").mkdir()
    ny = tmp_path / "ny"
    ny.mkdir()
    (ny / "site.toml").write_text(SITE_TOML_NY)
    example_site.add("zz-bad.md", alert_text(severity="Severe!"))
    (tmp_path / "a-file").write_text("")  # a folder target under it cannot be made
    blocked = f"folder:{tmp_path / 'a-file' / 'out'}"
    folders = {"{empty}": str(tmp_path / "empty"), "{ny}": str(ny), "{blocked}": blocked}
    result = sitegen(*(folders.get(a, a) for a in args), cwd=example_site.root)
    assert result.returncode == code, result.stdout + result.stderr
    doc = json.loads(result.stdout)  # one document, nothing else
    assert doc["ok"] is False
    assert set(doc["error"]) == {"kind", "exit_code", "message", "cause"}
    assert doc["error"]["kind"] == kind and doc["error"]["exit_code"] == code
    assert doc["error"]["message"] and doc["error"]["message"] in result.stderr
    assert isinstance(doc["problems"], list)
    for problem in doc["problems"]:
        assert set(problem) == {"path", "line", "severity", "message"}
    if kind == "content":
        assert "content/alerts/zz-bad.md" in [p["path"] for p in doc["problems"]]
    assert set(kept) <= set(doc), sorted(doc)


def test_json_says_the_problems_as_data_and_a_short_message(example_site: TmpSite) -> None:
    """publish --json with an invalid alert and a warning elsewhere: `error.message` is the
    closing line, the problems are in `problems` (error and warning told apart) and counted.
    Was: the message held every problem, the warning too, as one text."""
    example_site.add("zz-bad.md", alert_text(severity="Severe!"))
    example_site.add("zz-html.md", alert_text() + "\n<script>x</script>\n")
    result = sitegen("publish", "--json", "--dry-run", cwd=example_site.root)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["error"]["message"] == "1 problem found; nothing was built."
    kinds = {(p["path"], p["severity"]) for p in doc["problems"]}
    assert kinds == {
        ("content/alerts/zz-bad.md", "error"),
        ("content/alerts/zz-html.md", "warning"),
    }, doc["problems"]
    assert (doc["errors"], doc["warnings"]) == (1, 1)
    assert "zz-html.md:" in result.stderr and "zz-bad.md:" in result.stderr  # text: all


def test_json_message_of_several_site_toml_mistakes_is_their_count(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text('[site]\ntitle = 5\nbase_url = "ftp://x"\n')
    result = sitegen("publish", "--json", "--dry-run", cwd=tmp_path)
    doc = json.loads(result.stdout)
    assert doc["error"]["message"] == "3 problems in site.toml", doc["error"]
    assert (doc["errors"], doc["warnings"], len(doc["problems"])) == (3, 0, 3)


def test_check_json_counts_each_site_toml_mistake(tmp_path: Path) -> None:
    """A site.toml with three mistakes is three errors in check's counts, as its problems
    list them; the counts said `errors: 1` for any site.toml failure."""
    (tmp_path / "site.toml").write_text('[site]\ntitle = 5\nbase_url = "ftp://x"\n')
    result = sitegen("check", "--json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["problems"]) == 3, doc["problems"]  # title, base_url, sender
    assert (doc["errors"], doc["warnings"], doc["alerts"]) == (3, 0, 0)


SITE_TOML_NY = """[site]
title = "T"
base_url = "https://alerts.test/"
default_language = "en"
sender = "a@test.invalid"
timezone = "America/New_York"
"""


# A malformed value on the command line is a usage error (exit 2, click's words, before
# anything is read or built); the same mistake in site.toml stays exit 1, on its line.
USAGE_ERRORS = [
    (("publish", "--target", "s3://"), "--target", "'s3://': the bucket name is missing"),
    (("publish", "--target", "ftp://x"), "--target", "expected s3://BUCKET[/PREFIX] or folder:"),
    (("publish", "--target", "folder:"), "--target", "expected s3://BUCKET[/PREFIX] or folder:"),
    (("publish", "--target", "s3://Bad_Bucket"), "--target", "'Bad_Bucket' is not an S3 bucket"),
    (("publish", "--cloudfront", "abc"), "--cloudfront", "'abc': not a distribution id like"),
    (("publish", "--akamai", "x@nowhere"), "--akamai", "'x@nowhere': expected EDGERC_SECTION"),
    (("publish", "--akamai", "@staging"), "--akamai", "'@staging': expected EDGERC_SECTION"),
    (("publish", "--now", "tomorrow"), "--now", "'tomorrow' is not a date and time"),
    (("publish", "--max-deletes", "-1"), "--max-deletes", "-1 is not in the range x>=0"),
    (("doctor", "--target", "ftp://x"), "--target", "expected s3://BUCKET[/PREFIX] or folder:"),
    (("doctor", "--cloudfront", "abc"), "--cloudfront", "not a distribution id like"),
    (("doctor", "--akamai", "x@y"), "--akamai", "'x@y': expected EDGERC_SECTION"),
    (("rollback", "--list", "--target", "folder:"), "--target", "expected s3://BUCKET"),
    (("rollback", "--previous", "--cloudfront", "x"), "--cloudfront", "not a distribution id"),
    (("rollback", "--to", "abc"), "--to", "'abc': give 6 or more characters of"),
    (("rollback", "--to", "zzzzzzz"), "--to", "'zzzzzzz': not the id of a published state"),
    (("build", "--now", "2026-13-01"), "--now", "'2026-13-01' is not a date and time"),
]


@pytest.mark.parametrize(("args", "option", "said"), USAGE_ERRORS)
def test_a_malformed_value_is_a_usage_error(
    example_site: TmpSite, args: tuple[str, ...], option: str, said: str
) -> None:
    result = sitegen(*args, cwd=example_site.root)
    assert result.returncode == 2, result.stderr
    assert f"Error: Invalid value for '{option}': " in result.stderr
    assert said in result.stderr
    assert not (example_site.root / "public").exists()  # nothing was built


# A file sitegen may not read or write is the system's answer, not a bug in sitegen: the
# message names the file and says what to do (was: "internal error … This is a bug in
# sitegen", exit 3, or the build's advice to give the right to *write* a template).
def unprivileged_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_sitegen(*args, cwd=cwd, preexec_fn=unprivileged)


@pytest.mark.usefixtures("enforced_permissions")
@pytest.mark.parametrize("command", ["check", "build"])
def test_an_unreadable_template_is_named_with_what_to_do(
    example_site: TmpSite, command: str
) -> None:
    template = example_site.root / "templates" / "base.html"
    if template.is_symlink():
        template.write_text(template.read_text())
    template.chmod(0)
    result = unprivileged_run(command, "--now", NOW, cwd=example_site.root)
    assert result.returncode == 1, result.stderr
    assert "templates/base.html" in result.stderr
    assert "cannot read" in result.stderr and "the right to read it" in result.stderr
    assert "bug" not in result.stderr and "write" not in result.stderr


@pytest.mark.usefixtures("enforced_permissions")
@pytest.mark.parametrize("command", ["check", "build"])
def test_an_unreadable_templates_folder_is_not_replaced_by_the_theme(
    example_site: TmpSite, command: str
) -> None:
    """The theme stands in for a template the site lacks: a folder sitegen may not list
    looked empty, so the site silently built with sitegen's own theme."""
    (example_site.root / "templates").chmod(0)
    try:
        result = unprivileged_run(command, "--now", NOW, cwd=example_site.root)
    finally:
        (example_site.root / "templates").chmod(0o755)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "templates: cannot read the folder: Permission denied; give the user" in result.stderr
    assert "the right to read it" in result.stderr
    assert not (example_site.root / "public").exists()


@pytest.mark.usefixtures("enforced_permissions")
@pytest.mark.parametrize(
    "args",
    [
        ("new", "Storm", "--area", "Seoul", "--no-input"),
        ("new", "--cancel", "2026-11-25-han-river-flood-watch"),
    ],
)
def test_new_in_a_folder_it_may_not_write_says_so(
    example_site: TmpSite, args: tuple[str, ...]
) -> None:
    alerts = example_site.root / "content" / "alerts"
    alerts.chmod(0o555)
    try:
        result = unprivileged_run(*args, cwd=example_site.root)
    finally:
        alerts.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert "content/alerts/" in result.stderr and "cannot write it (Permission denied)" in (
        result.stderr
    )
    assert "the right to write there" in result.stderr and "bug" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("infra", "cloudformation", "--out", "{tmp}/no/such/folder/stack.json"),
        ("init", "{tmp}/file/site"),
    ],
)
def test_a_file_that_cannot_be_written_is_not_called_a_bug(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "file").write_text("a file where a folder is needed")
    result = sitegen(*(a.replace("{tmp}", str(tmp_path)) for a in args), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "bug" not in result.stderr and "internal error" not in result.stderr
    assert f"{tmp_path}/" in result.stderr and "cannot write" in result.stderr


@pytest.mark.usefixtures("enforced_permissions")
def test_an_unreadable_site_toml_is_not_a_usage_error(example_site: TmpSite) -> None:
    """Was exit 2, "Invalid value for '--site': Path 'site.toml' is not readable": nothing
    was wrong with the command line."""
    (example_site.root / "site.toml").chmod(0)
    result = unprivileged_run("check", cwd=example_site.root)
    assert result.returncode == 1, result.stderr
    assert "site.toml: cannot read the file: Permission denied; give the user" in result.stderr


# Every example a --help shows runs as shown: click accepts it, and those that need no
# network, terminal or file the site lacks are run for real on a copy of the example site.
def help_examples() -> list[list[str]]:
    """The words of each `sitegen …` command in the example blocks of every --help (up to
    where the shell command ends: a pipe, a redirection, a comment, `&&`)."""
    import click
    from click.testing import CliRunner

    from sitegen.cli import cli

    found: list[list[str]] = []
    paths: list[list[str]] = [[]]
    while paths:
        path = paths.pop(0)
        command = cli
        for name in path:
            sub = command.get_command(click.Context(command), name)  # type: ignore[attr-defined]
            assert sub is not None
            command = sub
        if isinstance(command, click.Group):
            paths += [[*path, n] for n in command.list_commands(click.Context(command))]
        text = CliRunner().invoke(cli, [*path, "--help"]).stdout
        heading = re.compile(r"^( *)(Examples?:|A typical session:)$")
        indent = None
        for line in text.splitlines():
            if (match := heading.match(line)) is not None:
                indent = len(match[1])
            elif indent is not None and len(line) - len(line.lstrip()) > indent and line.strip():
                for command_line in re.findall(r"(?<![\w.-])sitegen[ \t]+(\S.*)", line):
                    end = re.search(r"\s(?:\||&&|>|2>|#)|$", command_line)
                    found.append(shlex.split(command_line[: end.start() if end else None]))
            else:
                indent = None
    return found


HELP_EXAMPLES = help_examples()
NEEDS_MORE = ("serve", "import-cap", "--cloudfront", "--akamai", "--to")


def test_the_examples_of_every_help_are_found() -> None:
    shown = {" ".join(words) for words in HELP_EXAMPLES}
    assert "new Heavy rain warning --severity Severe --area Seoul" in shown  # sitegen --help
    assert "import-cap -" in shown  # after a pipe
    assert {"init alerts", "serve"} <= shown  # `sitegen init alerts && cd alerts && sitegen serve`
    assert "status --json" in shown and "infra cloudformation --out stack.json" in shown
    assert "rollback --to 3f9c2a71b0de --cloudfront E2QWRUHEXAMPLE" in shown
    assert len(HELP_EXAMPLES) >= 30


@pytest.mark.parametrize("words", HELP_EXAMPLES, ids=" ".join)
def test_every_help_example_runs_as_shown(
    example_site: TmpSite, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import click

    from sitegen.cli import cli

    monkeypatch.chdir(example_site.root)  # the site is found from the working folder
    command: click.Command = cli
    parent = click.Context(cli, info_name="sitegen")
    rest = list(words)
    while isinstance(command, click.Group):  # down to the command the words name
        sub = command.get_command(parent, rest[0])
        assert sub is not None, f"sitegen {' '.join(words)}: no command {rest[0]!r}"
        command, parent = sub, click.Context(sub, info_name=rest[0], parent=parent)
        rest = rest[1:]
    command.make_context(parent.info_name, rest, parent=parent.parent)  # click accepts them
    if any(w in NEEDS_MORE or w.startswith("s3://") for w in words):
        return  # the network, a terminal, a running server, or files the site lacks
    if words == ["new"]:  # asks step by step, at a terminal
        return
    if words[0] in ("publish", "rollback", "doctor"):
        assert run_sitegen("publish", "-q", cwd=example_site.root).returncode == 0
    if "--previous" in words:  # a state to go back to
        example_site.add("late.md", alert_text(expires="2099-01-01T00:00:00+09:00"))
        assert run_sitegen("publish", "-q", cwd=example_site.root).returncode == 0
    editor = {**os.environ, "EDITOR": "true", "VISUAL": "true"}  # --edit: saved as it is
    result = run_sitegen(*words, cwd=example_site.root, input="", env=editor)
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_json_gives_the_summary_s_figures_and_the_warnings_as_data(
    example_site: TmpSite,
) -> None:
    """`sitegen build --json`: one document on stdout (nothing on stderr, no progress), the
    figures of the summary line and every warning; a second build writes nothing."""
    example_site.add("zz-html.md", alert_text() + "\n<script>x</script>\n")
    result = sitegen("build", "--json", cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    files = [p for p in (example_site.root / "public").rglob("*") if p.is_file()]
    assert doc["files"] == len([p for p in files if ".sitegen" not in p.parts])
    assert doc["written"] == doc["files"] and doc["removed"] == 0
    assert doc["pages"] == len([p for p in files if p.suffix == ".html"])
    assert doc["output"] == str(example_site.root / "public")
    assert doc["largest_page"]["path"].endswith(".html") and doc["largest_page"]["brotli_bytes"]
    assert [(p["path"], p["severity"]) for p in doc["problems"]] == [
        ("content/alerts/zz-html.md", "warning")
    ]
    assert (doc["errors"], doc["warnings"]) == (0, 1)
    again = json.loads(sitegen("build", "--json", cwd=example_site.root).stdout)
    assert (again["written"], again["files"]) == (0, doc["files"])
