"""`sitegen publish --akamai SECTION@staging|@production` (and with --cloudfront at once), run as a
real process against the Fast Purge fake (EdgeGrid-verified) and a moto server over HTTP."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from bundles import site_files
from ops_support import FastPurgeServer, Site, invalidated_paths
from state import expected, snapshot_s3

CHANGED_URLS = (
    "https://alerts.test/",
    "https://alerts.test/alerts/a1/",
    "https://alerts.test/alerts/a1/index.html",
    "https://alerts.test/feed.atom",
    "https://alerts.test/index.html",
)


def change_a1(site: Site) -> None:
    files = site_files()
    files["alerts/a1/index.html"] = b"<h1>alert 1 updated</h1>"
    files["feed.atom"] = b"<feed>updated</feed>"
    files["index.html"] += b"<!-- updated -->"
    site.write(files)


@pytest.mark.parametrize("network", ["staging", "production"])
def test_publish_purges_the_chosen_network(
    site: Site, edgerc: Path, fastpurge: FastPurgeServer, network: str
) -> None:
    akamai = ("--akamai", f"alerts@{network}", "--edgerc", str(edgerc))
    site.write()
    site.run("publish", "--no-build", "-q", *akamai)
    assert fastpurge.purges == []  # a first publish has nothing cached to purge
    change_a1(site)
    out = site.run("publish", "--no-build", *akamai).stdout
    [purge] = fastpurge.purges
    assert (purge.action, purge.kind, purge.network) == ("invalidate", "url", network)
    assert tuple(sorted(purge.objects)) == CHANGED_URLS
    assert f"akamai:alerts@{network}: invalidation {purge.purge_id}" in out
    site.run("publish", "--no-build", "-q", *akamai)
    assert len(fastpurge.purges) == 1  # nothing changed: nothing purged


def test_cloudfront_and_akamai_at_once_from_site_toml(
    site: Site, bucket: str, distribution: str, edgerc: Path, fastpurge: FastPurgeServer
) -> None:
    site.configure(
        f'target = "s3://{bucket}/site"\ncloudfront = ["{distribution}"]\n'
        f'akamai = ["alerts@staging", "alerts@production"]\nedgerc = "{edgerc}"'
    )
    site.write()
    site.run("publish", "--no-build", "-q")
    change_a1(site)
    report = site.run_json("publish", "--no-build")
    assert snapshot_s3(bucket) == expected(site.public)
    assert sorted(r["cdn"] for r in report["invalidations"]) == [
        "akamai:alerts@production",
        "akamai:alerts@staging",
        f"cloudfront:{distribution}",
    ]
    assert {p.network for p in fastpurge.purges} == {"staging", "production"}
    assert all(tuple(sorted(p.objects)) == CHANGED_URLS for p in fastpurge.purges)
    assert invalidated_paths(distribution) == [
        sorted(url.removeprefix("https://alerts.test") for url in CHANGED_URLS)
    ]


def test_a_refused_purge_stops_publish_and_the_next_one_finishes_it(
    site: Site, edgerc: Path, fastpurge: FastPurgeServer
) -> None:
    akamai = ("--akamai", "alerts@production", "--edgerc", str(edgerc))
    site.write()
    site.run("publish", "--no-build", "-q", *akamai)
    change_a1(site)
    fastpurge.fail_next(5, status=503, retry_after="0")  # every attempt of one publish
    failed = site.run("publish", "--no-build", "-q", *akamai, ok=False)
    assert failed.returncode == 1 and "HTTP 503" in failed.stderr
    assert "Run `sitegen publish` again" in failed.stderr
    site.run("publish", "--no-build", "-q", *akamai)
    [purge] = fastpurge.purges
    assert tuple(sorted(purge.objects)) == CHANGED_URLS


def test_the_dry_run_shows_what_each_cdn_is_then_sent(
    site: Site, distribution: str, edgerc: Path, fastpurge: FastPurgeServer
) -> None:
    """The plan listed the site's paths (/alerts/a1/), while CloudFront was sent them under
    the base path and collapsed (/emergency/alerts/a1/*) and Akamai absolute URLs: an official
    checking the dry run against the CDN's console saw paths that were never sent."""
    site.toml.write_text(
        site.toml.read_text().replace("https://alerts.test/", "https://alerts.test/emergency/")
    )
    cdns = ("--cloudfront", distribution, "--akamai", "alerts@staging", "--edgerc", str(edgerc))
    site.write()
    site.run("publish", "--no-build", "-q", *cdns)
    files = site_files()
    files["alerts/a1/index.html"] = b"<h1>alert 1 updated</h1>"
    files["alerts/a1/cap.xml"] = b"<alert><identifier>a1</identifier><msgType>Update"
    site.write(files)
    text = site.run("publish", "--no-build", "--dry-run", *cdns).stdout
    planned = site.run_json("publish", "--no-build", "--dry-run", *cdns)["plan"]
    site.run("publish", "--no-build", "-q", *cdns)
    [sent_to_cloudfront] = invalidated_paths(distribution)
    [purge] = fastpurge.purges
    assert sent_to_cloudfront == ["/emergency/alerts/a1/*"]
    assert planned["invalidations"] == {
        f"cloudfront:{distribution}": sent_to_cloudfront,
        "akamai:alerts@staging": list(purge.objects),
    }
    assert "https://alerts.test/emergency/alerts/a1/cap.xml" in purge.objects
    assert planned["invalidation_paths"] == [
        "/alerts/a1/",
        "/alerts/a1/cap.xml",
        "/alerts/a1/index.html",
    ]
    assert f"invalidate 3 paths on cloudfront:{distribution}, sent as 1:" in text
    assert "\n      /emergency/alerts/a1/*\n" in text
    assert "invalidate 3 paths on akamai:alerts@staging, sent as 3:" in text
    for url in purge.objects:
        assert f"\n      {url}\n" in text
    assert "\n      /alerts/a1/\n" not in text


def test_publishing_a_state_again_makes_a_new_cloudfront_invalidation(
    site: Site, bucket: str, distribution: str
) -> None:
    """An alert changed, changed back, then changed again (or a rollback undone by publishing
    the same bundle) sends the same paths for the same manifest: its CallerReference was the
    manifest's id, and CloudFront answers a CallerReference it has seen with that old,
    completed invalidation instead of making one, so the edge kept the undone page for up
    to s-maxage. Each publish run now has a reference of its own."""
    site.configure(f'target = "s3://{bucket}/site"\ncloudfront = ["{distribution}"]')
    site.write()
    site.run("publish", "--no-build", "-q")
    for _ in range(2):
        change_a1(site)
        site.run("publish", "--no-build", "-q")
        site.write()  # back as it was
        site.run("publish", "--no-build", "-q")
    cloudfront = boto3.client("cloudfront")
    listed = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    references = [
        cloudfront.get_invalidation(DistributionId=distribution, Id=item["Id"])["Invalidation"][
            "InvalidationBatch"
        ]["CallerReference"]
        for item in listed["Items"]
    ]
    assert len(references) == 4 and len(set(references)) == 4, references
