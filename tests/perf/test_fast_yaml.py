"""The fast front matter reader gives exactly what libyaml gives, or declines."""

from __future__ import annotations

import random

import pytest

from sitegen import source

KEYS = ["title", "event", "severity", "sent", "areas", "references", "on", "yes", "1", "Null", "_x"]
GOOD = ["Flood warning", "서울 홍수 경보", "2021-11-26T16:07:31+00:00", "KR-017", "37.5", "Severe"]
PLAIN = [
    "Flood warning",
    "서울 홍수 경보",
    "a  b",
    "2021-11-26T16:07:31+00:00",
    "2021-11-26",
    "2021-11-26 16:07:31",
    "025017",
    "0x1F",
    "1_000",
    "1:20",
    "-5",
    "+5",
    ".5",
    "37.5",
    "-126.9",
    "1e5",
    "6.02e+23",
    ".inf",
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "null",
    "Null",
    "~",
    "KR-017",
    "ISO3166-2",
    "Flood [update]",
    "a, b",
    "a {b}",
    "it's",
    'say "hi"',
    "50%",
    "a:b",
    "a: b",
    "a #b",
    "a#b",
    "trailing:",
    "- x",
    "-x",
    "? x",
    "&anchor x",
    "*alias",
    "!!str x",
    "|",
    ">",
    "@x",
    "`x`",
    "%x",
    "\tx",
    "x\t",
    "a\u00a0b",
    "é",
    "",
]
QUOTED = ['"plain"', '"025017"', '"a: b # c"', '"\\u00e9"', '"a\\"b"', '""', "'single'", '"open']
FLOW_ATOMS = [
    "KR-017",
    "006037",
    "0101",
    "~",
    '"KR-017"',
    "37.5",
    "-126.9",
    "yes",
    "x y",
    "a:b",
    "",
    " x",
    "x ",
    '"q"',
]


def flow(rng: random.Random, depth: int = 0) -> str:
    if depth < 3 and rng.random() < 0.3:
        inner = [flow(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    else:
        inner = [rng.choice(FLOW_ATOMS) for _ in range(rng.randint(0, 3))]
    sep = rng.choice([", ", ", ", ", ", ",", " , ", ",  "])
    if rng.random() < 0.5:
        body = sep.join(inner)
        return "[" + body + rng.choice(["", "", "", ", ", " "]) + "]"
    keys = rng.sample(["ISO3166-2", '"ISO3166-2"', "FIPS", "1", "a b", "x:y", "KR"], len(inner))
    pairs = [f"{k}{rng.choice([': ', ': ', ': ', ':', ' : '])}{v}" for k, v in zip(keys, inner)]
    return "{" + sep.join(pairs) + "}"


def value(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(GOOD)
    if roll < 0.5:
        return rng.choice(PLAIN)
    if roll < 0.7:
        return rng.choice(QUOTED)
    return flow(rng)


def area_list(rng: random.Random) -> list[str]:
    indent = " " * rng.choice([2, 2, 2, 0, 4])
    rows = []
    for _ in range(rng.randint(0, 3)):
        rows.append(f"{indent}- name: {value(rng)}")
        for key in rng.sample(["geocodes", "polygon", "name", "circle", "id"], rng.randint(0, 2)):
            pad = indent + rng.choice(["  ", "  ", "  ", " ", "   "])
            rows.append(f"{pad}{key}:{rng.choice([' ', ' ', '  ', ''])}{value(rng)}")
        if rng.random() < 0.05:
            rows.append(rng.choice(["", "    # comment", "      continued", f"{indent}- plain"]))
    return rows


def front_matter(rng: random.Random) -> str:
    rows = []
    for _ in range(rng.randint(1, 5)):
        key = rng.choice(KEYS) if rng.random() < 0.1 else f"{rng.choice(KEYS)}{len(rows)}"
        roll = rng.random()
        if roll < 0.25:
            rows.append(f"{key}:{rng.choice(['', ' ', '  '])}")
            rows += area_list(rng)
        else:
            rows.append(f"{key}:{rng.choice([' ', ' ', ' ', '  ', ''])}{value(rng)}")
        if rng.random() < 0.05:
            rows.append(
                rng.choice(
                    ["", "# note", "#", "#x: y", "# a: [b", "#\tx", "  more words", "\t", "---"]
                    + ["key:value", "  "]
                )
            )
        if rng.random() < 0.05:
            rows[-1] += rng.choice(["  ", " # c", "\r"])
    return "\n".join(rows)


def typical(rng: random.Random) -> str:
    """Front matter as sitegen writes it (JSON-quoted strings) or as officials type it."""
    quote = rng.random() < 0.5

    def text(words: str) -> str:
        return f'"{words}"' if quote else words

    rows = [
        *(["# imported from the CAP message urn:oid:2.49.0.1.840.0.x#1"] if quote else []),
        f"title: {text(rng.choice(['Flood warning', '서울 호우 경보', 'Heat (update 2)']))}",
        f"event: {text('Flood')}",
        "severity: Severe",
        "urgency: Immediate",
        "certainty: Likely",
        "status: Actual",
        "msg_type: Alert",
        "sent: 2026-11-25T01:00:00+09:00",
        "expires: 2026-11-25T09:00:00+09:00",
        "areas:",
    ]
    for n in range(rng.randint(1, 3)):
        rows.append(f"  - name: {text(f'District {n:03d}')}")
        rows.append(f'    geocodes: {{"ISO3166-2": "KR-{n:03d}"}}')
        if rng.random() < 0.3:
            rows.append("    polygon: [[37.5, 126.9], [37.6, 127.0], [37.5, 127.1], [37.5, 126.9]]")
    rows.append(rng.choice(["references: []", 'references: ["a-1", "b-2"]']))
    return "\n".join(rows)


def slow(text: str) -> object:
    """What the libyaml path makes of `text` (with the fast path turned off)."""
    saved = source.fast_yaml
    source.fast_yaml = lambda _text: None  # type: ignore[assignment]
    try:
        return source._parse_yaml(text, "a.md")
    finally:
        source.fast_yaml = saved


@pytest.mark.parametrize("seed", range(12))
def test_fast_yaml_equals_libyaml_or_declines(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(1500):
        text = front_matter(rng)
        fast = source.fast_yaml(text)
        if fast is not None:
            taken += 1
            assert slow(text) == (fast[0], fast[1], []), text
    assert taken > 60  # the comparison must exercise the fast path, not only its refusals


@pytest.mark.parametrize("seed", range(3))
def test_fast_yaml_reads_typical_front_matter(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        text = typical(rng)
        fast = source.fast_yaml(text)
        assert fast is not None, text
        assert slow(text) == (fast[0], fast[1], [])


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("006037", "006037"),
        ("[006037, 0101]", ["006037", "0101"]),
        ('[006037, "0101"]', ["006037", "0101"]),
        ("[[006037], {a: 0101}]", [["006037"], {"a": "0101"}]),
        ("[Null, null, 1.50, yes]", [None, None, "1.50", "yes"]),
    ],
)
@pytest.mark.parametrize("key", ["geocodes: {SAME: %s}", "id: %s"])
def test_both_readers_take_area_codes_as_written(written: str, read: object, key: str) -> None:
    """Codes keep their text at any depth (YAML reads 006037 as 3103) and null stays None,
    on the fast path and on libyaml's alike; the code system's name is typed as before."""
    text = f"areas:\n  - name: Seoul\n    {key % written}\nyes: 0101"
    fast = source.fast_yaml(text)
    assert fast is not None and slow(text) == (fast[0], fast[1], [])
    area = fast[0]["areas"][0]
    assert (area["geocodes"]["SAME"] if key.startswith("geocodes") else area["id"]) == read
    assert fast[0]["True"] == 65  # elsewhere YAML's reading stands
