#!/usr/bin/env bash
# Install everything the tests need, then run lint, types and the whole test suite.
# Works on a fresh Debian machine with Python 3.11 (root for apt, or the packages already there).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
# A Korean font, so screenshots of Korean pages show glyphs rather than boxes.
fc-list :lang=ko 2>/dev/null | grep -q . || need_apt+=(fonts-nanum)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "== Python environment (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
# setuptools too: a venv of Python 3.11 starts with 65.5, which has known vulnerabilities
.venv/bin/python -m pip install -q --upgrade pip setuptools
.venv/bin/python -m pip install -q -e '.[test]'

if [ -f tests/browser/package.json ]; then
  echo "== axe-core (npm)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi

echo "== ruff"
.venv/bin/ruff check sitegen publish tests bench scripts
echo "== mypy --strict"
.venv/bin/mypy sitegen publish scripts/audit.py

echo "== pip-audit (known vulnerabilities in the installed dependencies)"
# A vulnerability fails the run. Where no vulnerability service can be reached (pip-audit then
# skips every package and still says "No known vulnerabilities"), say so loudly instead of
# reporting a clean audit that did not happen.
rc=0; audit=$(timeout 600 .venv/bin/pip-audit --progress-spinner off --skip-editable 2>&1) || rc=$?
if [ $rc -ne 0 ] && echo "$audit" | grep -qi "known vulnerabilit"; then
  echo "$audit"; exit 1
elif [ $rc -ne 0 ]; then
  echo "pip-audit: NOT AUDITED - it failed to run (exit $rc):"; echo "$audit" | tail -3
elif echo "$audit" | grep -q "could not be audited"; then
  echo "pip-audit: NOT AUDITED - no vulnerability service was reachable from this machine"
  echo "$audit" | grep -c "could not be audited" | xargs echo "  packages skipped:"
else
  echo "$audit" | head -3
fi
echo "== PyPI advisories (scripts/audit.py: the same data, from PyPI pages this network reaches)"
# Exit 1 (a known vulnerability) fails the run; packages it cannot audit are listed, not failed,
# and so is an audit that could not run at all (exit 3).
rc=0; .venv/bin/python scripts/audit.py || rc=$?
if [ $rc -eq 1 ]; then exit 1; fi
if [ $rc -ne 0 ]; then echo "PyPI advisories: NOT AUDITED - scripts/audit.py failed (exit $rc)"; fi

echo "== pytest"
# Browser tests skip without Chromium only outside CI; this script installed it, so insist.
export CI="${CI:-true}"
.venv/bin/python -m pytest -q "$@"
