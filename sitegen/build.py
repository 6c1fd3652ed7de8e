"""build = load → render → write. The one function the CLI, serve and publish all call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import brotli

from sitegen.bundle import Bundle, manifest_bytes, write_bundle
from sitegen.config import SiteConfig
from sitegen.content import require_site
from sitegen.errors import Problem
from sitegen.render import render_site

PAGE_BUDGET_BYTES = 14_000  # brotli-compressed HTML: one request, first TCP round trips


@dataclass(frozen=True, slots=True)
class BuildReport:
    files: int
    bytes: int
    written: int
    seconds: float
    warnings: tuple[Problem, ...]
    largest_page: tuple[str, int]  # (path, brotli bytes) of the heaviest HTML page

    def summary(self) -> str:
        path, size = self.largest_page
        return (
            f"built {self.files} files ({self.bytes / 1024:.0f} KiB), {self.written} changed, "
            f"in {self.seconds:.2f} s; largest page {path} = {size:,} bytes brotli"
        )


def build_bundle(config: SiteConfig, now: datetime) -> tuple[Bundle, bytes, tuple[Problem, ...]]:
    """Pure part of a build: content → (bundle, manifest bytes, warnings). Raises on errors."""
    site, warnings = require_site(config, now)
    bundle, updated = render_site(site, config)
    return bundle, manifest_bytes(bundle, config.cache, updated), warnings


def build_site(config: SiteConfig, now: datetime) -> BuildReport:
    """Build the site into config.output_path, atomically."""
    started = time.perf_counter()
    bundle, manifest, warnings = build_bundle(config, now)
    budget = tuple(page_budget_warnings(bundle))
    written = write_bundle(bundle, manifest, config.output_path)
    return BuildReport(
        written.files,
        written.bytes,
        written.written,
        time.perf_counter() - started,
        warnings + budget,
        largest_page(bundle),
    )


def compressed_size(data: bytes) -> int:
    return len(brotli.compress(data, quality=11))


def largest_page(bundle: Bundle) -> tuple[str, int]:
    """The heaviest HTML page after brotli. Compresses only the largest few raw pages: brotli
    at quality 11 costs milliseconds a page, and raw size ranks pages closely enough."""
    pages = sorted(
        ((len(f.data), path) for path, f in bundle.items() if path.endswith(".html")), reverse=True
    )[:5]
    sizes = [(compressed_size(bundle[path].data), path) for _, path in pages]
    size, path = max(sizes, default=(0, ""))
    return path, size


def page_budget_warnings(bundle: Bundle) -> list[Problem]:
    """A warning for each HTML page over the 14,000-byte brotli budget."""
    return [
        Problem(
            path,
            0,
            f"page is {size:,} bytes after brotli, over the {PAGE_BUDGET_BYTES:,}"
            "-byte budget: citizens on slow networks wait for extra round trips",
            "warning",
        )
        for path, f in sorted(bundle.items())
        if path.endswith(".html")
        # brotli never shrinks HTML below ~1/20; only pages that could be over are compressed
        and len(f.data) > PAGE_BUDGET_BYTES
        and (size := compressed_size(f.data)) > PAGE_BUDGET_BYTES
    ]
