"""§1 Consistency at every instant: after EVERY single request of a publish, a crawler reads the
bucket through moto over HTTP and checks every internal link, feed entry and CAP link reachable
from the entry points and from every page that was online before the publish (bookmarks), that
no home page lists an alert whose page is missing, and that the remote manifest lists only
objects that exist. Parallel uploads are released in an adversarial order (reverse, shuffled)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_support import ENTRY_POINTS, CheckedTarget, Crawler, reverse, shuffled
from state import expected, snapshot_s3

from publish.apply import PublishOptions, publish
from publish.local import read_local
from publish.targets.s3 import S3Target
from sitegen_fixtures import TmpSite, alert_text

BASE_URL = "https://alerts.test/"


def in_area(text: str, name: str, code: str) -> str:
    return text.replace("name: Seoul", f"name: {name}").replace("KR-11", code)


def korean(text: str) -> str:
    return text.replace("references:", "language: ko\nreferences:")


def site_v1(root: Path) -> TmpSite:
    site = TmpSite(root)
    site.add("flood.md", alert_text())
    site.add("flood.ko.md", korean(alert_text(title="홍수 주의보")))
    site.add("quake.md", in_area(alert_text(title="Quake", severity="Extreme"), "Busan", "KR-26"))
    site.add("heat.md", alert_text(title="Heat", severity="Moderate"))
    return site


def update(site: TmpSite) -> None:
    """An Update in a new area: the updated page links the new page, which links a new area."""
    site.add(
        "flood-up.md",
        in_area(
            alert_text(
                title="Flood warning",
                msg_type="Update",
                references="[flood]",
                sent="2026-11-25T09:00:00+09:00",
            ),
            "Gyeonggi-do",
            "KR-41",
        ),
    )


def cancel(site: TmpSite) -> None:
    site.add(
        "quake-cancel.md",
        in_area(
            alert_text(
                title="Quake, all clear",
                msg_type="Cancel",
                references="[quake]",
                sent="2026-11-25T09:00:00+09:00",
            ),
            "Busan",
            "KR-26",
        ),
    )


def delete(site: TmpSite) -> None:
    (site.root / "content/alerts/quake.md").unlink()  # its page, CAP and area page go


def template(site: TmpSite) -> None:
    base = site.root / "templates/base.html"
    text = base.read_text(encoding="utf-8")
    assert "</body>" in text
    base.write_text(text.replace("</body>", "<!-- v2 -->\n</body>"), encoding="utf-8")


def v1_and_v2(
    factory: pytest.TempPathFactory, *more: Callable[[TmpSite], None]
) -> tuple[TmpSite, TmpSite]:
    """Built: v1, and v2 = a new Update in a new area, one alert removed (so v2 owes deletes),
    and ``more`` changes."""
    v1 = site_v1(factory.mktemp("v1") / "site")
    v1.build()
    v2 = site_v1(factory.mktemp("v2") / "site")
    update(v2)
    for change in more:
        change(v2)
    (v2.root / "content/alerts/heat.md").unlink()
    v2.build()
    return v1, v2


SCENARIOS: dict[str, Callable[[TmpSite], None] | None] = {
    "first publish": None,
    "update": update,
    "cancel": cancel,
    "deletion": delete,
    "template change": template,
}
ORDERS = {"reverse": reverse, "shuffled": shuffled("reliability-1")}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_site_is_consistent_after_every_request(
    tmp_path: Path, bucket: str, scenario: str, order: str
) -> None:
    site = site_v1(tmp_path / "site")
    site.build()
    change = SCENARIOS[scenario]
    crawler = Crawler(bucket, BASE_URL)
    if change is not None:
        publish(read_local(site.public), S3Target(bucket, "site"))
        assert crawler.problems(()) == []
        change(site)
        site.build()
    before = [k for k in crawler.objects() if not k.startswith(".sitegen/")]
    # A first publish has no live site yet: it must be complete once its home page appears.
    # Afterwards every entry point and every page already online must keep working.
    roots = [*ENTRY_POINTS, *before] if before else ["index.html"]
    target = CheckedTarget(S3Target(bucket, "site"), crawler, roots, ORDERS[order])
    local = read_local(site.public)
    outcome = publish(local, target, options=PublishOptions(workers=16))
    assert outcome.uploaded > 0
    assert target.violations == [], _explain(target)
    assert crawler.crawls >= len(target.operations) >= outcome.uploaded + 3
    assert snapshot_s3(bucket) == expected(site.public)


def _explain(target: CheckedTarget) -> str:
    lines = [f"{len(target.violations)} inconsistent instants; request order:"]
    bad = {n for n, _, _ in target.violations}
    for n, what in enumerate(target.operations, 1):
        lines.append(f"  {n:3} {what}" + ("   <-- broken after this" if n in bad else ""))
    n, what, problems = target.violations[0]
    lines += [f"first broken instant, after request {n} ({what}):", *problems[:10]]
    return "\n".join(lines)
