"""Officials' Markdown is rendered safe: no raw HTML, no script URLs in any disguise."""

from __future__ import annotations

import pytest

from sitegen.body import fast_html, is_safe_url, render_body

DROPPED = [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#x09;script:alert(1))",  # entity-encoded tab: browsers decode, then drop it
    "[x](&#106;avascript:alert(1))",  # entity-encoded letter
    "[x](&#x6A;avascript:alert(1))",
    "[x](java%0ascript:alert(1))",
    "[x](\\javascript:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](file:///etc/passwd)",
    "[x][r]\n\n[r]: javascript:alert(1)",
]


@pytest.mark.parametrize("source", DROPPED)
def test_unsafe_links_become_plain_text(source: str) -> None:
    html = render_body(source).html
    assert "<a" not in html and "href" not in html, html
    assert "<span>x</span>" in html


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "[ok](https://a.example/?q=1&r=2)",
            '<a href="https://a.example/?q=1&amp;r=2" rel="nofollow noopener noreferrer">ok</a>',
        ),
        ("[in](/alerts/x/)", '<a href="/alerts/x/">in</a>'),
        ("[m](mailto:help@example.gov)", '<a href="mailto:help@example.gov">m</a>'),
        ("[t](tel:+82-2-120)", '<a href="tel:+82-2-120">t</a>'),
    ],
)
def test_safe_links_are_kept(source: str, expected: str) -> None:
    assert expected in render_body(source).html


def test_an_email_autolink_is_a_working_mailto_link() -> None:
    """Python-Markdown writes `<help@example.gov>`'s href as entities behind its own "&"
    placeholder; they are decoded before the href is checked and encoded (it was
    href="%02amp%03#109;…", a link to nowhere)."""
    body = render_body("Write to <help@example.gov>.")
    assert '<a href="mailto:help@example.gov">' in body.html, body.html
    assert body.description == "Write to help@example.gov."


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
        "<a href='javascript:alert(1)'>x</a>",
        "<style>body{display:none}</style>",
        "<meta http-equiv=refresh content='0;url=https://evil.example'>",
        "<base href='https://evil.example/'>",
        "Text <b onclick=alert(1)>bold</b> inline",
    ],
)
def test_raw_html_is_shown_as_text(source: str) -> None:
    html = render_body(source).html
    assert "<" not in html.replace("<p>", "").replace("</p>", "").replace(
        "<pre><code>", ""
    ).replace("</code></pre>", ""), html
    assert "&lt;" in html


def test_images_become_their_description() -> None:
    html = render_body("![flood map](https://evil.example/track.png)").html
    assert "<img" not in html and "evil.example" not in html and "[flood map]" in html


@pytest.mark.parametrize("url", ["https://x", "/a/b", "a/b", "#top", "?q=1", "mailto:a@b", "tel:1"])
def test_is_safe_url_allows(url: str) -> None:
    assert is_safe_url(url)


def test_description_and_instruction_are_plain_text() -> None:
    body = render_body("It **floods**.\n\n## What to do\n\n- Go [up](https://x.example).\n")
    assert body.description == "It floods."
    assert body.instruction == "Go up (https://x.example)."


@pytest.mark.parametrize(
    ("source", "href"),
    [
        (  # the audit's case: "<" in a mailto query was written as "&lt;", an invalid URL
            "[write](mailto:help@example.gov?subject=<flood> report&body=a|b)",
            "mailto:help@example.gov?subject=%3Cflood%3E%20report&amp;body=a%7Cb",
        ),
        ("[t](tel:+82 2 120)", "tel:+82%202%20120"),
        ('[q](https://x.example/a"b{c}^`d\\e)', "https://x.example/a%22b%7Bc%7D%5E%60d%5Ce"),
        ("[p](https://x.example/100%)", "https://x.example/100%25"),  # a "%" starting no escape
        ("[p](https://x.example/a%2Fb?x=%41)", "https://x.example/a%2Fb?x=%41"),  # escapes kept
        ("[v6](http://[2001:db8::1]/a[1]#x#y)", "http://[2001:db8::1]/a%5B1%5D#x%23y"),
        ("[ko](https://예시.한국/경로?q=a b)", "https://예시.한국/경로?q=a%20b"),  # IRIs stay
    ],
)
def test_link_targets_are_valid_urls(source: str, href: str) -> None:
    """Characters a URL may not hold are percent-encoded (the Nu checker refuses them)."""
    assert f'href="{href}"' in render_body(source).html


@pytest.mark.parametrize(
    ("target", "href"),
    [
        ("/areas/kr-11/", "/emergency/areas/kr-11/"),  # the site's own page: under its path
        ("/alerts/2026-11-24-x/#map", "/emergency/alerts/2026-11-24-x/#map"),
        ("/", "/emergency/"),
        ("/a b", "/emergency/a%20b"),  # encoded, then under the path
        ("/\\evil.example/", "/emergency/%5Cevil.example/"),  # never another host
        ("//other.example/p", "//other.example/p"),  # protocol-relative: another host
        ("../x/", "../x/"),
        ("x/", "x/"),
        ("#top", "#top"),
        ("?q=1", "?q=1"),
        ("https://www.example.gov/x/", "https://www.example.gov/x/"),
        ("mailto:help@example.gov", "mailto:help@example.gov"),
    ],
)
@pytest.mark.parametrize("markdown", ["fast", "Python-Markdown"])
def test_root_relative_links_carry_the_base_path(target: str, href: str, markdown: str) -> None:
    """Under base_url https://www.example.gov/emergency/, "/areas/kr-11/" in a body is
    /emergency/areas/kr-11/ (it was written as it was, a 404); other hrefs are as written."""
    # a "_" sends the body to Python-Markdown (the fast path declines it), "x" keeps it fast
    source = f"{'x' if markdown == 'fast' else '_'} [see]({target})"
    html = render_body(source, "/emergency/").html
    assert f'href="{href}"' in html, html
    assert render_body(source, "/").html == html.replace('"/emergency/', '"/')


SITE = "https://www.example.gov/emergency/"  # config.base_url of a site under a path


@pytest.mark.parametrize(
    ("link", "text"),
    [
        (
            "[evacuation map](https://maps.example.gov/evac)",
            "evacuation map (https://maps.example.gov/evac)",
        ),
        ("[the shelters](/areas/kr-11/)", f"the shelters ({SITE}areas/kr-11/)"),  # absolute
        ("[home](/)", f"home ({SITE})"),
        ("[see](/alerts/x/#map)", f"see ({SITE}alerts/x/#map)"),
        ("[other host](//other.example/p)", "other host (https://other.example/p)"),
        ("[q](https://a.example/?q=1&r=2)", "q (https://a.example/?q=1&r=2)"),
        ("[sp](https://a.example/a b)", "sp (https://a.example/a%20b)"),  # the href, encoded
        # the text is the address already: said once
        (
            "[https://maps.example.gov/evac](https://maps.example.gov/evac)",
            "https://maps.example.gov/evac",
        ),
        ("<https://maps.example.gov/evac>", "https://maps.example.gov/evac"),
        ("[HTTPS://MAPS.Example.gov](https://maps.example.gov/)", "HTTPS://MAPS.Example.gov"),
        (f"[{SITE}areas/kr-11/](/areas/kr-11/)", f"{SITE}areas/kr-11/"),
        # ... and only then: the address actually linked follows any other text
        ("[http://x.gov](https://x.gov)", "http://x.gov (https://x.gov)"),
        ("[X.GOV/A](https://x.gov/a)", "X.GOV/A (https://x.gov/a)"),
        ("[https://x.gov/A](https://x.gov/a)", "https://x.gov/A (https://x.gov/a)"),
        ("[https://x.gov/a](https://x.gov/a/)", "https://x.gov/a (https://x.gov/a/)"),
        ("[x.gov/a](https://x.gov/a)", "x.gov/a (https://x.gov/a)"),
        (
            "[MAPS.example.gov](https://maps.example.gov)",
            "MAPS.example.gov (https://maps.example.gov)",
        ),
        # mailto: and tel: give the address and the number, without the scheme
        ("[write to us](mailto:help@example.gov?subject=Flood)", "write to us (help@example.gov)"),
        ("[help@example.gov](mailto:help@example.gov)", "help@example.gov"),
        ("[mailto:Help@EXAMPLE.gov](mailto:Help@example.gov)", "mailto:Help@EXAMPLE.gov"),
        ("[HELP@example.gov](mailto:help@example.gov)", "HELP@example.gov (help@example.gov)"),
        ("<help@example.gov>", "help@example.gov"),
        ("[call us](tel:+82-2-120)", "call us (+82-2-120)"),
        ("[+82 2 120](tel:+82-2-120)", "+82 2 120"),
        # nowhere a receiver could follow: the text alone
        ("[up](../x/)", "up"),
        ("[top](#top)", "top"),
        ("[x](javascript:alert(1))", "x"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "x"),
    ],
)
@pytest.mark.parametrize("markdown", ["fast", "Python-Markdown"])
def test_cap_text_keeps_where_a_link_points(link: str, text: str, markdown: str) -> None:
    """CAP receivers (text-to-speech, TV crawls, cell broadcast, other agencies) get no HTML:
    the description and instruction say the address after the link's text, in brackets."""
    # a "_" sends the body to Python-Markdown (the fast path declines it), "x" may keep it fast
    mark = "x" if markdown == "fast" else "_"
    body = render_body(f"{mark} {link} now.\n\n## What to do\n\n- {mark} {link}", SITE)
    assert body.description == f"{mark} {text} now."
    assert body.instruction == f"{mark} {text}"
    assert "(" not in body.summary  # the summary (meta description, feeds) stays short


@pytest.mark.parametrize(
    "link",
    [
        "[evacuation map](https://maps.example.gov/evac)",
        "[the shelters](/areas/kr-11/)",
        "[home](/)",
        "[https://maps.example.gov/evac](https://maps.example.gov/evac)",
        "[maps.example.gov/evac](https://maps.example.gov/evac/)",
        "[http://x.gov](https://x.gov)",
        "[X.GOV/A](https://x.gov/a)",
    ],
)
def test_the_fast_path_takes_the_usual_links(link: str) -> None:
    """So that the "fast" cases above test the fast path's text, not Python-Markdown's."""
    assert fast_html(f"x {link} now.") is not None


@pytest.mark.parametrize("markdown", ["fast", "Python-Markdown"])
@pytest.mark.parametrize(
    ("base_url", "address"),
    [
        ("https://www.example.gov/", "https://www.example.gov/areas/kr-11/"),
        (SITE, "https://www.example.gov/emergency/areas/kr-11/"),
        ("/", "/areas/kr-11/"),  # no site (import compares texts): as written
    ],
)
def test_a_link_to_the_sites_own_page_is_absolute_in_cap_text(
    base_url: str, address: str, markdown: str
) -> None:
    mark = "x" if markdown == "fast" else "_"
    body = render_body(f"{mark} [the shelters](/areas/kr-11/)", base_url)
    assert body.description == f"{mark} the shelters ({address})"
    href = address.removeprefix("https://www.example.gov")
    assert f'<a href="{href}">the shelters</a>' in body.html  # the page's link is unchanged
