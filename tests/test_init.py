"""`sitegen init`: a new site that checks and builds at once, from an installed sitegen too."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.new_site import DEFAULT_SITE, create_site
from sitegen_fixtures import NOW, REPO, run_sitegen


def test_a_new_site_checks_and_builds(tmp_path: Path) -> None:
    paths = create_site(tmp_path / "alerts", NOW)
    assert [p.name for p in paths[:2]] == ["site.toml", "templates"]
    result = run_sitegen("check", cwd=tmp_path / "alerts")
    assert result.returncode == 0, result.stderr
    assert "ok: 1 alert (1 message, 1 file), no errors" in result.stdout
    report = build_site(load_config(tmp_path / "alerts" / "site.toml"), NOW)
    assert report.pages > 0 and (tmp_path / "alerts/public/index.html").is_file()


def test_init_changes_nothing_where_a_site_is(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    result = run_sitegen("init", cwd=tmp_path)
    assert result.returncode == 1 and "templates: already there" in result.stderr
    assert not (tmp_path / "site.toml").exists()


def test_init_keeps_what_sitegen_writes_out_of_git(tmp_path: Path) -> None:
    """A new site goes into git (docs/operations.md: a second machine clones it); the build,
    its cache and the local publish folder must not, or `git add .` commits them all."""
    result = run_sitegen("init", "x", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "created x/.gitignore" in result.stdout
    config = load_config(tmp_path / "x/site.toml")
    ignored = (tmp_path / "x/.gitignore").read_text().splitlines()
    folder = config.publish.target.removeprefix("folder:")
    assert {f"/{config.output_dir}/", "/.sitegen/", f"/{folder}/"} <= set(ignored)


def test_init_leaves_an_existing_gitignore_alone(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.bak\n")
    assert run_sitegen("init", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".gitignore").read_text() == "*.bak\n"


def test_the_packaged_theme_is_the_example_sites_theme() -> None:
    """One theme, not two copies: the example site's templates/ is a link to the package data
    sitegen init copies (sitegen/default_site/templates/), so they can never drift apart."""
    assert (REPO / "templates").is_symlink()
    assert (REPO / "templates").resolve() == (DEFAULT_SITE / "templates").resolve()


@pytest.mark.slow
def test_pip_install_then_init_and_build(tmp_path: Path) -> None:
    """The wheel carries the default site: `pip install .` into a fresh venv, then
    `sitegen init x && cd x && sitegen build`. Dependencies come from this interpreter's
    site-packages (linked, without any sitegen found there); pip fetches only the build
    backend (setuptools) as build isolation requires."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in ("sitegen", "publish"):
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    deps = tmp_path / "deps"
    deps.mkdir()
    for folder in site.getsitepackages():
        for entry in Path(folder).iterdir():
            skip = entry.name.lower().startswith(("sitegen", "__editable__", "publish"))
            if not skip and not (deps / entry.name).exists() and not entry.name.endswith(".pth"):
                (deps / entry.name).symlink_to(entry)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    [packages] = list((venv / "lib").glob("python3*/site-packages"))
    (packages / "deps.pth").write_text(f"{deps}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    installed = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "-q", str(source)],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    sitegen = str(venv / "bin/sitegen")
    work = tmp_path / "work"
    work.mkdir()
    init = subprocess.run(
        [sitegen, "init", "x"], cwd=work, capture_output=True, text=True, env=env, timeout=120
    )
    assert init.returncode == 0, init.stderr
    built = subprocess.run(
        [sitegen, "build"], cwd=work / "x", capture_output=True, text=True, env=env, timeout=300
    )
    assert built.returncode == 0, built.stderr
    assert (work / "x/public/index.html").is_file()
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import sitegen; print(sitegen.__file__)"],
        capture_output=True, text=True, env=env, cwd=work,
    )  # fmt: skip
    assert where.stdout.startswith(str(packages)), where.stdout  # the installed copy ran


def test_init_is_listed_in_help() -> None:
    assert "  init " in run_sitegen("--help", cwd=REPO).stdout


def test_init_then_the_next_command_from_the_folder_above(tmp_path: Path) -> None:
    """README: `sitegen init mysite`, then `sitegen new`. Said nothing about `cd mysite`, and
    `sitegen new` run where init was gave "no site.toml here" without naming the new site."""
    made = run_sitegen("init", "my site", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "next: `cd 'my site'`, then edit site.toml" in made.stdout
    lost = run_sitegen("new", "Heavy rain", "--no-input", cwd=tmp_path)
    assert lost.returncode == 1
    assert "A site is in the folder 'my site' here: `cd 'my site'`, then run it again." in (
        lost.stderr
    )
    assert run_sitegen("init", "other", cwd=tmp_path).returncode == 0
    two = run_sitegen("status", cwd=tmp_path)
    assert "Sites are in these folders here: my site, other; `cd` into one" in two.stderr
    (tmp_path / "here").mkdir()
    here = run_sitegen("init", cwd=tmp_path / "here")
    assert here.returncode == 0 and "next: edit site.toml" in here.stdout  # no cd to type
