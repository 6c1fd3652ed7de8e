"""One emergency from its alert to its Cancel, written with `sitegen new` as an official
writes it (the fourth walkthrough, docs/architecture.md): a flood warning, an Update, an
Update of that Update, a Cancel; what status, new and the site then say of it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sitegen_fixtures import run_sitegen


def soon() -> str:
    """`--now` for commands run after the chain: `new` sends a follow-up written within the
    second of the previous message a second after it."""
    return (datetime.now(UTC) + timedelta(minutes=10)).isoformat(timespec="seconds")


def new(root: Path, *args: str, words: str, to_do: str = "Keep away from the river.") -> Path:
    """`sitegen new ARGS` in `root`; the file it created, its TODO paragraph replaced by
    `words` and its TODO list items by `to_do`."""
    result = run_sitegen("new", *args, "--no-input", cwd=root)
    assert result.returncode == 0, result.stderr
    created = re.search(r"created (\S+\.md)", result.stdout + result.stderr)
    assert created, result.stdout + result.stderr
    path = root / created.group(1).rstrip(":")
    text = re.sub(r"^TODO: .*$", words, path.read_text("utf-8"), flags=re.M)
    text = re.sub(r"^- TODO: .*$", f"- {to_do}", text, flags=re.M)
    path.write_text(text, "utf-8")
    return path


def alert_id(path: Path) -> str:
    return path.name.removesuffix(".md")


def flood_until_cancel(folder: Path) -> tuple[Path, list[Path]]:
    """A fresh `sitegen init` site with a flood warning for Mapo and Yongsan, its Update, an
    Update of that Update, and its Cancel; the site's root and the four files in order."""
    root = folder / "site"
    assert run_sitegen("init", str(root), cwd=folder).returncode == 0
    first = new(
        root,
        "Flood warning for Mapo",
        *("--severity", "Extreme", "--urgency", "Immediate", "--certainty", "Observed"),
        *("--area", "Mapo", "--area", "Yongsan"),
        words="The Han river is overflowing at Mapo and Yongsan.",
    )
    update = new(root, "--update", alert_id(first), words="The water rose by one metre.")
    again = new(root, "--update", alert_id(update), words="The water is falling slowly.")
    cancel = new(
        root,
        *("--cancel", alert_id(first)),
        words="The danger has passed.",
        to_do="You may use the riverside roads again.",
    )
    checked = run_sitegen("check", "--now", soon(), cwd=root)
    assert checked.returncode == 0, checked.stderr
    return root, [first, update, again, cancel]


def test_status_counts_a_cancelled_alert_once_as_check_does(tmp_path: Path) -> None:
    """After a Cancel, status counted the flood warning under "cancelled" (the Cancel) and
    "superseded" (its three earlier messages): 3 alerts in the lists of a site check said had
    2. An alert is in one phase, its latest message's; the lists add up to check's count."""
    root, files = flood_until_cancel(tmp_path)
    check = json.loads(run_sitegen("check", "--json", "--now", soon(), cwd=root).stdout)
    assert (check["alerts"], check["messages"], check["alert_files"]) == (2, 5, 5)
    status = run_sitegen("status", "--now", soon(), cwd=root).stdout
    assert "\ncancelled: 1 alert (1 message, 1 file)\n" in status
    assert "\nsuperseded: 3 messages (3 files) of an alert counted under cancelled\n" in status
    counts = json.loads(run_sitegen("status", "--json", "--now", soon(), cwd=root).stdout)["counts"]
    assert counts["cancelled"] == {"alerts": 1, "messages": 1, "alert_files": 1}
    assert counts["superseded"] == {"alerts": 0, "messages": 3, "alert_files": 3}
    for unit in ("alerts", "messages", "alert_files"):
        assert sum(count[unit] for count in counts.values()) == check[unit], unit


def test_an_update_of_an_update_starts_from_the_text_still_true(tmp_path: Path) -> None:
    """`new --update` of an Update copied that Update's "what changed" paragraph under the
    new TODO line, so a chain's bodies piled up its changes; and its two Updates were both
    titled "… (update)". A follow-up starts from the text still true; Updates are numbered."""
    _, (_, update, again, cancel) = flood_until_cancel(tmp_path)
    body = again.read_text("utf-8").split("---\n", 2)[2]
    assert body == (
        "The water is falling slowly.\n\n"
        "The Han river is overflowing at Mapo and Yongsan.\n\n"
        "## What to do\n\n- Keep away from the river.\n- Keep away from the river.\n"
    ), body
    files = (update, again, cancel)
    titles = [re.search(r'^title: "(.*)"$', p.read_text("utf-8"), re.M) for p in files]
    assert [t.group(1) for t in titles if t] == [
        "Flood warning for Mapo (update)",
        "Flood warning for Mapo (update 2)",
        "Flood warning for Mapo",  # the site says "Cancelled" (test_alert_life.py)
    ]


def flood_warning(folder: Path) -> tuple[Path, str]:
    """A fresh `sitegen init` site with a flood warning for Mapo and Yongsan; root and id."""
    root = folder / "site"
    assert run_sitegen("init", str(root), cwd=folder).returncode == 0
    first = new(
        root,
        *("Flood warning for Mapo", "--severity", "Extreme", "--area", "Mapo", "--area", "Yongsan"),
        words="The Han river is overflowing at Mapo and Yongsan.",
    )
    return root, alert_id(first)


def test_an_interactive_update_asks_what_it_changes(tmp_path: Path) -> None:
    """`new --update ID --interactive` asked nothing, where `new` asks for every field of a
    new alert. It asks what an Update may change, each time offering the latest message's
    value (Enter keeps it); a Cancel, which has nothing to ask, says so."""
    root, flood = flood_warning(tmp_path)
    answers = "Severe\n\n\n2, Seongdong\nsoon\n6h\n"  # "soon" is no time: asked again
    made = run_sitegen("new", "--update", flood, "--interactive", cwd=root, input=answers)
    assert made.returncode == 0, made.stderr
    for prompt in (
        "Severity (Extreme, Severe, Moderate, Minor, Unknown) [Extreme]: ",
        "Urgency (Immediate, Expected, Future, Past, Unknown) [Expected]: ",
        "Areas (numbers or names, separated by commas, for all of them; Enter keeps Mapo, "
        "Yongsan): ",
        "'soon' is not a length of time",
    ):
        assert prompt in made.stdout + made.stderr, made.stdout
    text = (root / "content" / "alerts" / f"{flood}-update.md").read_text("utf-8")
    assert "severity: Severe\nurgency: Expected\n" in text, text
    assert '  - name: "Mapo"\n  - name: "Seongdong"\n' in text, text
    sent, expires = (
        datetime.fromisoformat(re.findall(rf"^{key}: (\S+)$", text, re.M)[0])
        for key in ("sent", "expires")
    )
    assert expires - sent == timedelta(hours=6)
    assert "Yongsan" in made.stderr  # left out: said, as for --area
    update = root / "content" / "alerts" / f"{flood}-update.md"
    update.write_text(text.replace("TODO: ", ""), "utf-8")
    cancel = run_sitegen("new", "--cancel", flood, "--interactive", cwd=root, input="")
    assert cancel.returncode == 0, cancel.stderr
    assert "note: a Cancel asks nothing: it ends the whole alert" in cancel.stderr


def test_areas_left_out_at_the_prompt_are_said_in_terms_of_the_answer(tmp_path: Path) -> None:
    """`new --update ID --interactive`, areas answered at the prompt with one of the latest
    message's left out: the note said "--area gives this Update all its areas", an option the
    official never gave. It names the answer, and how to answer again to keep every area."""
    root, flood = flood_warning(tmp_path)
    answers = "\n\n\n2, Seongdong\n\n"  # Mapo and Seongdong: Yongsan left out
    made = run_sitegen("new", "--update", flood, "--interactive", cwd=root, input=answers)
    assert made.returncode == 0, made.stderr
    note = " ".join(made.stderr.split())  # as one line, whatever the terminal's width
    assert (
        "note: the areas you answered (Mapo, Seongdong) are all this Update's areas, so "
        f"Yongsan (in the latest message, content/alerts/{flood}.md) is left out" in note
    ), note
    assert "--area gives" not in note
    assert (
        f"run `sitegen new --update {flood} --interactive` again and answer every area "
        f"(Mapo, Yongsan, Seongdong), or give them: `sitegen new --update {flood} --area Mapo "
        "--area Yongsan --area Seongdong`" in note
    ), note
