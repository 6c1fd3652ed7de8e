"""docs/content.md stays true: its example alert passes `sitegen check`, and it explains every
key site.toml may have (site.toml says it does)."""

from __future__ import annotations

import re

from sitegen.config import SECTIONS
from sitegen.content import ALERT_FIELDS, AREA_FIELDS
from sitegen_fixtures import REPO, TmpSite, run_sitegen

CONTENT_MD = (REPO / "docs" / "content.md").read_text(encoding="utf-8")


def test_the_example_alert_passes_check(tmp_site: TmpSite) -> None:
    example = CONTENT_MD.split("```markdown\n", 1)[1].split("```\n", 1)[0]
    tmp_site.add("2026-11-25-han-river-flood-watch.md", example)
    result = run_sitegen("check", "--now", "2026-11-25T12:00:00+09:00", cwd=tmp_site.root)
    assert result.returncode == 0, result.stderr


def test_every_front_matter_field_is_shown() -> None:
    example = CONTENT_MD.split("```markdown\n", 1)[1].split("```\n", 1)[0]
    keys = set(re.findall(r"^\s*(?:- )?([a-z_]+):", example, re.MULTILINE))
    assert (ALERT_FIELDS - {"msgType"}) - keys == set()  # msgType: CAP's spelling, accepted
    assert AREA_FIELDS - {"polygon", "polygons"} - keys == set()
    assert {"polygon", "polygons"} <= keys


def test_every_site_toml_key_is_explained() -> None:
    table = CONTENT_MD.split("## site.toml", 1)[1]
    for section, keys in SECTIONS.items():
        assert f"**[{section}]**" in table, section
        for key in keys:
            assert f"| `{key}` |" in table, (section, key)
