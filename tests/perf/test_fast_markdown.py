"""The fast Markdown path renders exactly what Python-Markdown renders, or declines."""

from __future__ import annotations

import random
import re

import pytest

from sitegen import body
from sitegen.urls import split_base

PLAIN = ["word", "river", "Seoul", "서울", "été", "level", "(see", "above)", "a:b", "'quoted'"]
TOKENS = [
    "word",
    "river",
    "Seoul",
    "서울",
    "été",
    "level",
    "(see",
    "above)",
    "a:b",
    "#5",
    "'quoted'",
    '"q"',
    "**bold**",
    "**two words**",
    "** spaced **",
    "*em*",
    "_u_",
    "`code`",
    "\\*",
    "<b>",
    "&amp;",
    "&",
    ">",
    "![img](https://x.test/a.png)",
    "[link](https://x.test/p)",
    "[two words](http://x.test/a/b-c_d)",
    "[bad](javascript:alert(1))",
    "[rel](/local)",
    "[area](/areas/kr-11/)",
    "[root](/)",
    "[odd](/a.b~c/%20d//e)",
    "[other host](//x.test/p)",
    "[up](../x/)",
    "[frag](#top)",
    "[mail](mailto:a@x.test?subject=s)",
    "[a@x.test](mailto:a@x.test)",
    "[call](tel:+82-2-120)",
    "[+82 2 120](tel:+82-2-120)",
    "<a@x.test>",
    "[https://x.test/p](https://x.test/p)",
    "[ref][1]",
    "[x]",
    "a**b**c",
    "***",
    "--",
    "1.",
    "10.",
    "-",
    "+",
    "=",
    "*",
    "#",
    "##",
    "https://bare.test/",
    "<https://auto.test/>",
    "  ",
    "\t",
    "x]",
    "[y",
    "**[l](https://x.test/)**",
    "[**b**](https://x.test/)",
    "mid#hash",
    "a_b",
    "e.g.",
    "…",
    "—",
    "2+2=4",
]
LINE_STARTS = [
    "",
    "",
    "",
    "- ",
    "- ",
    "# ",
    "## ",
    "### ",
    "####### ",
    "1. ",
    "* ",
    "+ ",
    "> ",
    "    ",
    " ",
    "- - ",
    "- # ",
    "- 1. ",
    "#",
    "=== ",
    "--- ",
    "2) ",
]


def random_markdown(rng: random.Random) -> str:
    blocks = []
    for _ in range(rng.randint(1, 6)):
        lines = []
        start = rng.choice(LINE_STARTS if rng.random() < 0.3 else ["", "", "- ", "## "])
        for _ in range(rng.randint(1, 4)):
            words = " ".join(
                rng.choice(TOKENS if rng.random() < 0.06 else PLAIN)
                for _ in range(rng.randint(1, 6))
            )
            lines.append((start if rng.random() < 0.95 else rng.choice(LINE_STARTS)) + words)
        blocks.append("\n".join(lines))
    return rng.choice(["\n\n", "\n\n\n", "\n"]).join(blocks) + rng.choice(["", "\n", "\n\n"])


BASES = ["/", "/emergency/"]  # a site at its host's root, and under a path


def python_markdown(source: str, base_path: str = "/") -> str:
    converter = body._markdown(base_path)
    converter.reset()
    return converter.convert(source)


@pytest.mark.parametrize("seed", range(20))
def test_fast_path_equals_python_markdown_or_declines(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(1500):
        source = random_markdown(rng)
        base = BASES[seed % 2]
        fast = body.fast_html(source, base)
        if fast is not None:
            taken += 1
            assert fast == python_markdown(source, base), source
    assert taken > 100  # the comparison must exercise the fast path, not only its refusals


@pytest.mark.parametrize("base", BASES)
def test_fast_path_takes_a_typical_alert(base: str) -> None:
    source = (
        "Waves of 0.6 m were measured at Mukho at 07:31.\nSee [the forecast]"
        "(https://weather.example.gov/f) for **details**.\n\n## What to do\n\n"
        "- Stay away from beaches.\n- Go to [a shelter](/areas/kr-42/)."
    )
    fast = body.fast_html(source, base)
    assert fast == python_markdown(source, base)
    assert f'<a href="{base}areas/kr-42/">a shelter</a>' in fast


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "![i](https://x.test/i.png)",
        "# Title",
        "a & b",
        "x  \ny",
        "a heading\n-\nthen text",  # setext: "-" under a line makes it an <h2>
        "a heading\n-",
    ],
)
def test_unsafe_or_unusual_markdown_goes_to_python_markdown(source: str) -> None:
    assert body.fast_html(source) is None or body.fast_html(source) == python_markdown(source)
    assert body.to_html(source) == python_markdown(source)


# The refusal rule as one multi-line regex (how it was first written; 7x slower): the three
# cheap checks in body._fast_refuses must refuse exactly the same texts.
_REFUSE_AS_ONE_REGEX = re.compile(
    r"[`\\<>&_!\t\x00-\x08\x0b-\x1f\x7f]|^[ =+*>|~]|^-(?![^\S\n]\S)|^\d+[.)]| \n|[ ]$", re.M
)


@pytest.mark.parametrize("seed", range(5))
def test_refusal_checks_equal_the_single_regex(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = [
        " ",
        "\n",
        "-",
        "1",
        ".",
        ")",
        "=",
        "+",
        "*",
        ">",
        "|",
        "~",
        "a",
        "b",
        "\t",
        "_",
        "<",
        "#",
        "\u00a0",
        "\u0663",
        "\u2003",
        "x y",
    ]
    for _ in range(4000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert body._fast_refuses(text) == bool(_REFUSE_AS_ONE_REGEX.search(text)), repr(text)


HEADINGS = ["## What to do", "## what to do", "##  What to do", "## 행동 요령", "# What to do"]


# Links as officials write them; in CAP text each says its address, absolute, unless its
# text is the address already.
LINKS = [
    "[link](https://x.test/p)",
    "[area](/areas/kr-11/)",
    "[home](/)",
    "[https://x.test/p](https://x.test/p)",
    "[x.test/p](https://x.test/p/)",
    "[X.TEST](http://x.test)",
    "[http://x.test](https://x.test)",
    "[X.TEST/P](https://x.test/p)",
    "[HTTPS://X.TEST/p](https://x.test/p)",
    "[https://x.test/p/](https://x.test/p)",
    "[https://www.example.gov/areas/kr-11/](/areas/kr-11/)",
    "[two\nlines](https://x.test/a)",
]
BASE_URLS = ["/", "https://www.example.gov/", "https://www.example.gov/emergency/"]


def simple_markdown(rng: random.Random) -> str:
    """What officials write: paragraphs, lists, bold and links (mostly the fast path)."""
    blocks = []
    for _ in range(rng.randint(1, 4)):
        start = rng.choice(["", "", "- "])
        words = [*PLAIN, "**bold**", *LINKS]
        lines = [
            start + " ".join(rng.choice(words) for _ in range(rng.randint(1, 5)))
            for _ in range(rng.randint(1, 3))
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# The heading as first written: "^" with re.MULTILINE (body.find_instruction_heading finds
# the same)
REFERENCE_HEADING = re.compile(
    r"^##\s+(What to do|행동\s?요령|Was zu tun ist|Que faire|Qué hacer|ماذا تفعل)\s*$",
    re.MULTILINE | re.IGNORECASE,
)


@pytest.mark.parametrize(
    "source",
    [
        "## What to do\n- x",
        "a ## What to do\n## what to do  \n",
        "x## What to do\n\n\n## Que faire",
        "##\nWhat to do\n",
        "text\n##  행동 요령\n- 대피",
        "no heading ## What to do",
        "# What to do\n### What to do",
        "",
    ],
)
def test_instruction_heading_is_the_line_start_regex(source: str) -> None:
    found, expected = body.find_instruction_heading(source), REFERENCE_HEADING.search(source)
    assert (found and found.span()) == (expected and expected.span())


@pytest.mark.parametrize("seed", range(4))
def test_instruction_heading_matches_the_reference_on_random_bodies(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        source = random_markdown(rng) if rng.random() < 0.5 else simple_markdown(rng)
        if rng.random() < 0.5:
            source = source.replace("\n\n", rng.choice(["\n## What to do\n", "x## Que faire\n"]), 1)
        found, expected = body.find_instruction_heading(source), REFERENCE_HEADING.search(source)
        assert (found and found.span()) == (expected and expected.span()), source


def reference_render(source: str, base_url: str = "/") -> body.RenderedBody:
    """render_body as first written: three renders, one per part (slower, obviously right).
    Its text is taken back out of the HTML (links and their addresses too), and that HTML is
    Python-Markdown's (test_fast_path_equals_python_markdown_or_declines)."""
    html = body.to_html(source, split_base(base_url)[0])
    match = REFERENCE_HEADING.search(source)
    before, after = (source[: match.start()], source[match.end() :]) if match else (source, "")
    return body.RenderedBody(
        html,
        body.markdown_to_text(before, base_url),
        body.markdown_to_text(after, base_url),
        body._summary(html),
    )


@pytest.mark.parametrize("seed", range(6))
def test_render_body_in_one_pass_equals_three_renders(seed: int) -> None:
    rng = random.Random(seed)
    base_url = BASE_URLS[seed % len(BASE_URLS)]
    fast = linked = 0
    for _ in range(800):
        parts = [
            random_markdown(rng) if rng.random() < 0.3 else simple_markdown(rng)
            for _ in range(rng.randint(1, 3))
        ]
        seps = ["\n\n", "\n", "\n\n\n"]
        source = parts[0]
        for part in parts[1:]:
            heading = rng.choice(HEADINGS)
            source += rng.choice(seps) + heading + rng.choice([*seps, " \n", "\n  \n"]) + part
        fast += body.fast_html(source) is not None
        body.render_body.cache_clear()
        rendered = body.render_body(source, base_url)
        assert rendered == reference_render(source, base_url), source
        linked += f"({base_url}areas/kr-11/)" in rendered.description + rendered.instruction
    assert fast > 80  # the one-pass route must be exercised
    assert linked > 80  # and links with their address in the text


@pytest.mark.parametrize(
    "source",
    [
        "## Heading first\n\nthen  the\nparagraph **with** [a link](https://x.test/p)\n\nmore",
        "- only\n- a  list\n\n## What to do\n\n- go **up**",
        "# Only a heading",
        "- a list first\n\ntext" + " word" * 60 + "\n\n## What to do\n\nstay",
        "para\n\n## What to do",
        "## What to do\n\n- before nothing",
        "[https://x.test/p](https://x.test/p) and [x](/a/)\n\n## What to do\n\n- [b](/b/)",
        "## [Heading](/h/) link\n\n- [i](https://x.test/i)\n\n[p](/p/)" + " word" * 60,
    ],
)
@pytest.mark.parametrize("base_url", BASE_URLS)
def test_fast_path_text_equals_the_text_of_its_html(source: str, base_url: str) -> None:
    """render_body takes the plain text (description, instruction, summary) from the fast
    path's blocks: the same as taking it back out of the HTML, headings, lists and links
    included."""
    assert body.fast_html(source) is not None
    body.render_body.cache_clear()
    assert body.render_body(source, base_url) == reference_render(source, base_url)
