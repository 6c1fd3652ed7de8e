"""Issue 7: the work of finding where each message of an update chain stands, and of checking
its references, grows with the chain, not with its square."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sitegen.content import _check_references, load_site
from sitegen.errors import Problem
from sitegen.lifecycle import standings
from sitegen.model import Alert, AlertGroup, MsgType, Site
from sitegen_fixtures import NOW, TmpSite, alert_text

READS = [0]  # how many times a message's primary version was read


class CountedGroup(AlertGroup):
    """An AlertGroup that counts the reads of its primary version: the unit of work of
    walking a chain."""

    @property
    def primary(self) -> Alert:
        READS[0] += 1
        return self.versions[0]


def chain(tmp_path: Path, count: int) -> Site:
    site = TmpSite(tmp_path)
    site.add("m0000.md", alert_text(sent=(NOW - timedelta(hours=count)).isoformat()))
    loaded = load_site(site.config, NOW)
    assert loaded.site is not None
    first = loaded.site.groups[0].primary
    groups = []
    for i in range(count):
        alert = replace(
            first,
            id=f"m{i:04d}",
            msg_type=MsgType.ALERT if i == 0 else MsgType.UPDATE,
            sent=NOW - timedelta(hours=count - i),
            references=() if i == 0 else (f"m{i - 1:04d}",),
        )
        groups.append(CountedGroup(alert.id, (alert,)))
    return Site(tuple(groups), NOW, (), {g.id: g for g in groups})


def test_standings_of_a_long_chain_read_each_message_a_few_times(tmp_path: Path) -> None:
    site = chain(tmp_path, 400)
    READS[0] = 0
    found = standings(site)
    assert found["m0200"].latest.id == "m0399"
    assert len(found["m0000"].history) == 400
    assert READS[0] < 20 * 400, READS[0]  # N² was ~5 x 160,000


def test_checking_a_long_chain_s_references_reads_each_message_a_few_times(
    tmp_path: Path,
) -> None:
    site = chain(tmp_path, 400)
    problems: list[Problem] = []
    READS[0] = 0
    _check_references(list(site.groups), problems)
    assert problems == []
    assert READS[0] < 20 * 400, READS[0]
