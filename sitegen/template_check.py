"""Template mistakes found before any page is rendered, all at once, each at its file and line.

`template_problems` looks at every template a page is made with (`render.PAGE_TEMPLATES`
and, transitively, what they extend, import and include, in the site's templates/ or
sitegen's theme): a syntax error, a file that is not UTF-8, a reference to a template that
neither folder has, and a block a template fills that the template it extends lacks (a
site's base.html that renames `{% block main %}` would leave every page of sitegen's theme
with no text, and Jinja says nothing). It runs once per build, not per page. Mistakes that
only rendering meets (`{{ title + 1 }}`) are reported by `render._render`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import cast

import jinja2
import jinja2.nodes as nodes

from sitegen.config import SiteConfig
from sitegen.errors import Problem, cannot_read, problem_order
from sitegen.render import (
    DEFAULT_TEMPLATES,
    PAGE_TEMPLATES,
    _Environment,
    make_environment,
    templates_folder_problem,
    theme_note,
)

# What the pages made with each page template are, for officials.
_PAGES = {
    "404.html": "the page-not-found page",
    "alert.html": "the alert pages",
    "archive.html": "the archive pages",
    "area.html": "the area pages",
    "areas.html": "the list of areas",
    "history.html": "the full history pages of long-running alerts",
    "index.html": "the home page",
    "page.html": "the pages of content/pages/",
}
_CLOSING = {"variable_begin": "}}", "block_begin": "%}"}  # a tag's opening token: its end


def site_template_problems(
    config: SiteConfig, environments: dict[str, jinja2.Environment]
) -> list[Problem]:
    """`template_problems` of a site, in its environment for the default language (made
    into `environments` if not there), or its missing templates/ folder as the problem."""
    missing = templates_folder_problem(config)
    if missing is not None:
        return [missing]
    language = config.default_language
    if language not in environments:
        environments[language] = make_environment(config, language)
    return template_problems(environments[language])


def stale_theme_warnings(config: SiteConfig) -> list[Problem]:
    """A warning for each file of the site's templates/ that is an unedited copy of an earlier
    version of sitegen's theme (`sitegen init` copies the theme; a copy wins over sitegen's
    own, so it keeps none of the fixes made since). Known by its sha256 against
    default_site/theme_history.json (scripts/theme_history.py)."""
    import hashlib
    import json

    folder = config.templates_path
    if folder.resolve() == DEFAULT_TEMPLATES.resolve():  # sitegen's own theme, as it is now
        return []
    history = json.loads((DEFAULT_TEMPLATES.parent / "theme_history.json").read_text("utf-8"))
    warnings = []
    for name, earlier in sorted(history.items()):
        try:
            data = (folder / name).read_bytes()
        except OSError:  # missing (sitegen's own stands in) or unreadable (reported elsewhere)
            continue
        if hashlib.sha256(data).hexdigest() in earlier:
            warnings.append(
                Problem(
                    f"templates/{name}",
                    0,
                    "an unedited copy of sitegen's theme from an earlier version, without the "
                    "fixes made since; delete it to use the current one (a template missing "
                    "from templates/ comes from sitegen's theme)",
                    "warning",
                )
            )
    return warnings


def unescaped_warnings(config: SiteConfig) -> list[Problem]:
    """A warning at each `|safe` and `{% autoescape false %}` in the site's templates/:
    there what an official or an imported CAP message wrote reaches the page as HTML, a
    `<script>` in a title included, which every page otherwise shows as text. sitegen's
    theme needs neither (the alert's body comes already made safe)."""
    folder = config.templates_path
    if not folder.is_dir() or folder.resolve() == DEFAULT_TEMPLATES.resolve():
        return []
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])  # parsing only
    warnings = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        try:
            tree = env.parse(path.read_text("utf-8"), name)
        except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
            continue  # template_problems names these when a page uses the file
        for line, what in sorted(set(_unescaping(tree))):
            warnings.append(
                Problem(
                    f"templates/{name}",
                    line,
                    f"{what} shows text as HTML, unescaped: a '<script>' in an alert's title "
                    "or area would run on the page. Remove it (sitegen escapes text for you; "
                    "the alert's body is safe HTML already)",
                    "warning",
                )
            )
    return warnings


def _unescaping(tree: nodes.Template) -> Iterator[tuple[int, str]]:
    """(line, what) for each `|safe` filter and each autoescape turned off in `tree`."""
    for node in tree.find_all((nodes.Filter, nodes.ScopedEvalContextModifier)):
        if isinstance(node, nodes.Filter):
            body = isinstance(node.node, nodes.Name) and node.node.name == "body"  # safe HTML
            if node.name == "safe" and not body:
                yield node.lineno, "'|safe'"
        elif isinstance(node, nodes.ScopedEvalContextModifier) and any(
            o.key == "autoescape" and not _true(o.value) for o in node.options
        ):
            yield node.lineno, "'{% autoescape false %}'"


def _true(value: nodes.Expr) -> bool:
    return isinstance(value, nodes.Const) and bool(value.value)


def template_problems(env: jinja2.Environment) -> list[Problem]:
    """Every mistake in the templates pages are made with that can be found without
    rendering, sorted by file and line. Compiles them into `env` on the way (rendering
    reuses them)."""
    loader = cast(jinja2.FileSystemLoader, env.loader)
    available = set(loader.list_templates())
    trees: dict[str, nodes.Template] = {}
    problems: list[Problem] = []
    todo = sorted(PAGE_TEMPLATES, reverse=True)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = _parsed(env, name, problems)
        if tree is None:
            continue
        trees[name] = tree
        for kind, ref, line in _references(tree):
            if ref in available:
                todo.append(ref)
            else:
                problems.append(
                    Problem(
                        f"templates/{name}",
                        line,
                        f"{theme_note(loader, name)}{kind} '{ref}', which neither templates/ "
                        "nor sitegen's own theme has: check the name's spelling",
                    )
                )
    problems += _block_problems(trees, loader)
    return sorted(problems, key=problem_order)


def _parsed(env: jinja2.Environment, name: str, problems: list[Problem]) -> nodes.Template | None:
    """`name`'s syntax tree, once it compiles; else None, with its problem added."""
    kept: dict[str, nodes.Template] = {}
    if isinstance(env, _Environment):
        env.kept_trees = kept  # the tree compiling makes, unless from the bytecode cache
    try:
        env.get_template(name)  # compiled, as rendering will use it: an unknown filter too
        if name in kept:
            return kept[name]
        source, _, _ = cast(jinja2.BaseLoader, env.loader).get_source(env, name)
        return env.parse(source, name)
    except jinja2.TemplateSyntaxError as exc:
        problems.append(syntax_problem(env, exc))
    except jinja2.TemplateNotFound:  # a page template, in neither folder
        problems.append(
            Problem(f"templates/{name}", 0, "template not found, nor in sitegen's own theme")
        )
    except OSError as exc:  # the system's refusal (a permission), not the template's mistake
        problems.append(Problem(f"templates/{name}", 0, cannot_read(exc)))
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                f"templates/{name}",
                line,
                f"this line is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}): save the "
                "file as UTF-8 in your editor",
            )
        )
    finally:
        if isinstance(env, _Environment):
            env.kept_trees = None
    return None


def _references(tree: nodes.Template) -> Iterator[tuple[str, str, int]]:
    """(what the template does, the template it names, line) for each template it extends,
    imports or includes by a fixed name (a name computed at run time is rendering's)."""
    verbs = {nodes.Extends: "extends", nodes.Include: "includes"}
    found = tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))
    for node in cast(Iterator[nodes.Extends | nodes.Include | nodes.Import], found):
        if isinstance(node, nodes.Include) and node.ignore_missing:
            continue
        if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str):
            verb = verbs.get(type(node), "imports from")
            yield verb, node.template.value, node.lineno


def _block_problems(
    trees: dict[str, nodes.Template], loader: jinja2.FileSystemLoader
) -> list[Problem]:
    """A problem for each block that templates fill and the template they extend lacks
    (with the templates that one extends in turn): what they put there would be on no page."""
    lacking: dict[tuple[str, str], list[str]] = {}
    for child, tree in sorted(trees.items()):
        parent = _extended(tree)
        chain = _chain(parent, trees) if parent else None
        if parent is None or chain is None:
            continue
        defined = {b.name for t in chain for b in t.find_all(nodes.Block)}
        called = _called_on_self([tree, *chain])
        for block in _outer_blocks(tree):
            if block.name not in defined and block.name not in called:
                lacking.setdefault((parent, block.name), []).append(child)
    return [
        _lacking_block(parent, block, children, trees[parent], loader)
        for (parent, block), children in sorted(lacking.items())
    ]


def _lacking_block(
    parent: str,
    block: str,
    children: list[str],
    tree: nodes.Template,
    loader: jinja2.FileSystemLoader,
) -> Problem:
    """`parent` has no `block`, which `children` fill, in plain words."""
    if len(children) <= 2:
        named = [c + (" (sitegen's own)" if theme_note(loader, c) else "") for c in children]
        fill = f"{_listing(named)} {'fills' if len(children) == 1 else 'fill'}"
        pages = _listing([_PAGES.get(c, f"the pages made with {c}") for c in children])
    else:
        theme = all(theme_note(loader, c) for c in children)
        whose = " of sitegen's own" if theme else ""
        fill = f"{len(children)} templates{whose} fill ({_listing(children)})"
        pages = "their pages"
    has = ", ".join(sorted({b.name for b in tree.find_all(nodes.Block)})) or "none"
    return Problem(
        f"templates/{parent}",
        0,
        f"{theme_note(loader, parent)}no block '{block}', which {fill}: {pages} would show "
        f"nothing of it. Put {{% block {block} %}}{{% endblock %}} back where it belongs, or "
        f"rename the block where it is filled (the blocks here: {has})",
    )


def _extended(tree: nodes.Template) -> str | None:
    """The template `tree` extends, when it names one fixed template (not one chosen at run
    time, nor one of several under conditions)."""
    names = {
        node.template.value if isinstance(node.template, nodes.Const) else None
        for node in tree.find_all(nodes.Extends)
    }
    if len(names) != 1:
        return None
    name = names.pop()
    return name if isinstance(name, str) else None


def _chain(name: str, trees: dict[str, nodes.Template]) -> list[nodes.Template] | None:
    """`name`'s tree and those of the templates it extends, in turn; None when one of them is
    missing or broken (reported as such)."""
    chain: list[nodes.Template] = []
    current: str | None = name
    while current is not None:
        tree = trees.get(current)
        if tree is None or any(tree is t for t in chain):
            return None
        chain.append(tree)
        current = _extended(tree)
    return chain


def _outer_blocks(tree: nodes.Template) -> list[nodes.Block]:
    """The blocks of a template not inside another of its blocks: in a template that extends
    another, only these need a place in what it extends (the others go where they stand)."""
    blocks = list(tree.find_all(nodes.Block))
    inner = {id(b) for outer in blocks for b in outer.find_all(nodes.Block)}
    return [b for b in blocks if id(b) not in inner]


def _called_on_self(trees: list[nodes.Template]) -> set[str]:
    """Blocks written out as `self.name()`, which need no place of their own."""
    return {
        node.attr
        for tree in trees
        for node in tree.find_all(nodes.Getattr)
        if isinstance(node.node, nodes.Name) and node.node.name == "self"
    }


def _listing(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def syntax_problem(env: jinja2.Environment, exc: jinja2.TemplateSyntaxError) -> Problem:
    """A syntax error at its file and line. A `{{` or `{%` left open, or a block such as
    `{% if %}` left without its end, is reported where it opens: Jinja reads on into the next
    lines and stops wherever they stop making sense."""
    name = exc.name or "?"
    loader = cast(jinja2.FileSystemLoader, env.loader)
    where, note = f"templates/{name}", theme_note(loader, name)
    message = exc.message or "syntax error"
    source = exc.source
    if source is None and exc.name is not None:
        with contextlib.suppress(jinja2.TemplateNotFound, UnicodeDecodeError, OSError):
            source = loader.get_source(env, exc.name)[0]
    if source is None:
        return Problem(where, exc.lineno, f"{note}{message}")
    if opened := _unclosed(env, source, exc.lineno):
        line, opener, closer = opened
        return Problem(
            where,
            line,
            f"{note}the {opener} on this line is never closed: add {closer} where it should "
            f"end (Jinja read on to line {exc.lineno}: {message})",
        )
    block = re.search(r"The innermost block that needs to be closed is '(\w+)'", message)
    if block and (opens := _unended(env, source, exc.lineno, block[1])):
        return Problem(
            where,
            opens,
            f"{note}the {{% {block[1]} %}} on this line is never closed: add "
            f"{{% end{block[1]} %}} where it should end (Jinja noticed at line {exc.lineno}: "
            f"{message.split('. ')[0]})",
        )
    return Problem(where, exc.lineno, f"{note}{message}")


def _unclosed(env: jinja2.Environment, source: str, line: int) -> tuple[int, str, str] | None:
    """(line, opener, closer) of the `{{` or `{%` opened before `line` that no `}}` or `%}`
    ever closes, when the rest of its own line is a whole expression (no bracket left open:
    else the tag may just go on over lines, and Jinja's line is right)."""
    start, opener, closer = 0, "", ""  # start: the line of the tag open, 0 when none is
    depth, at_end_of_line = 0, -1  # brackets open in the tag; how many at its line's end
    try:
        for lineno, kind, value in env.lex(source):
            if kind in _CLOSING:
                start, opener, closer = lineno, value.strip(), _CLOSING[kind]
                depth, at_end_of_line = 0, -1
            elif kind in ("variable_end", "block_end"):
                start = 0
            elif start:
                if at_end_of_line < 0 and lineno > start:
                    at_end_of_line = depth
                if kind == "operator" and value in ("(", "[", "{", ")", "]", "}"):
                    depth += 1 if value in "([{" else -1
    except jinja2.TemplateSyntaxError:
        pass  # the lexer's own error: the tag open then is the one it read on into
    if not start or start >= line or (depth if at_end_of_line < 0 else at_end_of_line):
        return None
    return start, opener, closer


# Tags that a matching {% end… %} closes ({% set x %} only without "=").
_ENDED = {"autoescape", "block", "call", "filter", "for", "if", "macro", "set", "trans", "with"}


def _unended(env: jinja2.Environment, source: str, line: int, block: str) -> int | None:
    """The line of the `{% block %}` still open at `line`, where Jinja found that a block
    lacks its end (at an end tag that does not match, or at the end of the file), when every
    tag before `line` matches up as Jinja's parser matches them."""
    stack: list[tuple[str, int]] = []
    tag: tuple[str, int] | None = None  # the tag being read: its name and line
    try:
        for lineno, kind, value in env.lex(source):
            if lineno >= line:
                break
            if kind == "block_begin":
                tag = ("", lineno)
            elif tag is None:
                continue
            elif kind == "name" and not tag[0]:
                tag = (value, tag[1])
            elif kind == "operator" and value == "=" and tag[0] == "set":
                tag = ("set=", tag[1])  # {% set x = … %}: nothing to close
            elif kind == "block_end":
                (name, start), tag = tag, None
                if name in _ENDED:
                    stack.append((name, start))
                elif name[3:] in _ENDED and (not stack or stack.pop()[0] != name[3:]):
                    return None  # not as Jinja matched them: trust its line
    except jinja2.TemplateSyntaxError:
        return None
    return stack[-1][1] if stack and stack[-1][0] == block else None
