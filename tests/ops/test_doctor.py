"""`sitegen doctor` against a moto server (S3 + CloudFront over HTTP) and the Fast Purge fake,
through the real command: every check can pass, each can fail with its fix, nothing changes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from ops_support import DENIED, INVALID_KEY, FastPurgeServer, Site, make_distribution, site_files
from state import snapshot_s3

from sitegen.infra import INDEX_FUNCTION

DENIED_CLOUDFRONT = (
    b'<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>'
    b"<Message>User is not authorized to perform: cloudfront:GetFunction</Message></Error>"
    b"</ErrorResponse>"
)

ALERT_CC = "public, max-age=60, s-maxage=300, stale-if-error=86400"


def checks(site: Site, *args: str, code: int) -> dict[str, dict[str, Any]]:
    done = site.run("doctor", *args, "--json", ok=False)
    assert done.returncode == code, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is (code == 0)
    return {c["name"]: c for c in report["checks"]}


def status(found: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: c["status"] for name, c in found.items()}


@pytest.fixture
def published(site: Site, bucket: str, distribution: str, edgerc: Path) -> Site:
    site.configure(
        f'target = "s3://{bucket}/site"\ncloudfront = ["{distribution}"]\n'
        f'akamai = ["alerts@staging"]\nedgerc = "{edgerc}"'
    )
    site.write()
    site.run("publish", "--no-build", "-q")
    return site


def test_all_checks_pass_and_nothing_changes(
    published: Site, bucket: str, distribution: str, fastpurge: FastPurgeServer
) -> None:
    before = snapshot_s3(bucket)
    found = checks(published, code=0)
    assert status(found) == {
        "AWS credentials": "ok",
        "bucket reachable": "ok",
        "bucket versioning": "ok",
        "Cache-Control of index.html": "ok",
        f"CloudFront {distribution} origin": "ok",
        f"CloudFront {distribution} function": "ok",
        "last publish": "ok",
        "Akamai alerts@staging": "ok",
    }
    assert "source: env" in found["AWS credentials"]["detail"]
    assert snapshot_s3(bucket) == before
    assert fastpurge.purges == []  # the probe was signed and checked, and purged nothing
    assert [r.status for r in fastpurge.received] == [400]
    text = published.run("doctor").stdout
    assert text.count("✓") == 8 and "All checks passed." in text


def test_each_failure_has_its_fix(
    published: Site, bucket: str, fastpurge: FastPurgeServer, tmp_path: Path
) -> None:
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=bucket, Key="site/index.html", Body=b"x", CacheControl="max-age=600")
    elsewhere = make_distribution("other-bucket.s3.us-east-1.amazonaws.com", "/site")
    bad_rc = fastpurge.write_edgerc(
        tmp_path / "bad.edgerc", section="alerts", client_secret="SENTINEL-OPS-WRONG="
    )
    found = checks(published, "--cloudfront", elsewhere, "--edgerc", str(bad_rc), code=1)
    assert status(found) == {
        "AWS credentials": "ok",
        "bucket reachable": "ok",
        "bucket versioning": "fail",
        "Cache-Control of index.html": "fail",
        f"CloudFront {elsewhere} origin": "fail",
        f"CloudFront {elsewhere} function": "fail",
        "last publish": "ok",
        "Akamai alerts@staging": "fail",
    }
    assert "put-bucket-versioning" in found["bucket versioning"]["fix"]
    assert ALERT_CC in found["Cache-Control of index.html"]["detail"]
    assert (
        "other-bucket.s3.us-east-1.amazonaws.com/site"
        in found[f"CloudFront {elsewhere} origin"]["detail"]
    )
    assert "401" in found["Akamai alerts@staging"]["detail"]
    text = published.run("doctor", "--edgerc", str(bad_rc), ok=False).stdout
    assert "✗ bucket versioning" in text and "fix: aws s3api put-bucket-versioning" in text


def test_missing_bucket_and_credentials_skip_what_follows(
    published: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = checks(published, "--target", "s3://no-such-bucket-ops/site", code=1)
    assert status(found)["bucket reachable"] == "fail"
    assert "does not exist" in found["bucket reachable"]["detail"]
    assert "bucket versioning" not in found
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    found = checks(published, "--no-probe", code=1)
    assert status(found)["AWS credentials"] == "fail"
    assert status(found)["bucket versioning"] == "skip"
    assert "AWS_PROFILE" in found["AWS credentials"]["fix"]
    assert "--no-probe" in found["Akamai alerts@staging"]["detail"]


def test_akamai_refusals_say_why_and_never_a_credential(
    published: Site, fastpurge: FastPurgeServer, echoing: Any, tmp_path: Path
) -> None:
    """Doctor said only "HTTP 401" whatever was wrong, and took any HTTP 400 for Fast Purge's
    refusal of the empty purge: a wrong host in .edgerc answering 400 got a ✓. It now says
    Fast Purge's own words (a wrong secret, token or clock), credentials hidden, and trusts
    a 400 only in Fast Purge's answer (its problem JSON with a supportId)."""
    wrong = "SENTINEL-OPS-WRONG="

    def akamai(**override: str) -> dict[str, Any]:
        rc = fastpurge.write_edgerc(tmp_path / "try.edgerc", section="alerts", **override)
        found = checks(published, "--edgerc", str(rc), code=1)["Akamai alerts@staging"]
        assert found["status"] == "fail" and wrong not in json.dumps(found), found
        return found

    found = akamai(client_secret=wrong)
    assert "HTTP 401" in found["detail"] and "The signature does not match" in found["detail"]
    assert "client_secret" in found["fix"]
    found = akamai(access_token=f"akab-{wrong}")
    assert "Invalid access_token" in found["detail"]
    with FastPurgeServer(fastpurge.credentials, max_skew_s=-1) as late:  # every clock is off
        found = akamai(host=late.host)
    assert "timestamp is too old" in found["detail"] and "clock" in found["fix"]
    for status in (400, 401):  # not Fast Purge; it repeats the Authorization header
        found = akamai(host=echoing(status))
        assert f"HTTP {status}" in found["detail"] and "bad request from" in found["detail"]
        assert "***" in found["detail"]  # the tokens, hidden (Site.run checks they are not shown)
        if status == 400:
            assert "not as Fast Purge does" in found["detail"]
            assert "host in .edgerc" in found["fix"]


def test_edgerc_problems_without_network(published: Site, tmp_path: Path) -> None:
    broken = tmp_path / "broken.edgerc"
    broken.write_text("[alerts]\nhost = akab-x.purge.akamaiapis.net\n")
    found = checks(published, "--edgerc", str(broken), code=1)
    assert "missing client_token" in found["Akamai alerts@staging"]["detail"]


def test_folder_target(site: Site, tmp_path: Path) -> None:
    site.write()
    site.run("publish", "--no-build", "-q")
    found = checks(site, code=0)
    assert status(found) == {
        "folder writable": "ok",
        "Cache-Control of index.html": "ok",
        "last publish": "ok",
    }
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    found = checks(site, "--target", f"folder:{blocker}/out", code=1)
    assert "is not a folder" in found["folder writable"]["detail"]
    assert "not published yet" in found["Cache-Control of index.html"]["detail"]


def test_a_site_never_published_passes_so_doctor_can_gate_its_first_publish(
    site: Site, bucket: str
) -> None:
    """Before the first publish, Cache-Control of index.html failed (exit 1): the documented
    `sitegen doctor && sitegen publish` never published a new site. Nothing to look at is a
    check not made, said as such, on a folder and on S3 alike."""
    site.write()
    for target in ("folder:_published", f"s3://{bucket}/site"):
        site.configure(f'target = "{target}"')
        found = checks(site, code=0)
        cache = found["Cache-Control of index.html"]
        assert cache["status"] == "skip", target
        assert cache["detail"].startswith("not checked: ")
        assert "not published yet" in cache["detail"]
        assert cache["fix"] == "run `sitegen publish`, then `sitegen doctor` again"
        text = site.run("doctor").stdout
        assert "All checks passed (1 not checked: see above)." in text, text
    site.run("publish", "--no-build", "-q")
    assert checks(site, code=0)["Cache-Control of index.html"]["status"] == "ok"


def test_an_unreachable_endpoint_is_not_called_a_bucket_problem(
    published: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard: nothing listens
    found = checks(published, "--no-probe", code=1)
    reach = found["bucket reachable"]
    assert reach["status"] == "fail" and reach["cause"] == "endpoint_unreachable"
    assert "could not reach http://127.0.0.1:9" in reach["detail"]
    assert "AWS_ENDPOINT_URL" in reach["fix"] and "bucket name" not in reach["fix"]


def test_endpoints_that_never_answer_do_not_hang_doctor(
    published: Site,
    distribution: str,
    fastpurge: FastPurgeServer,
    silent: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A dropped connection (a firewall, a hung proxy) held doctor for minutes: publish's
    timeouts (60 s a read, 4 tries) for each AWS check, 30 s for Fast Purge. A check
    answers within seconds, naming what did not answer."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{silent}")
    edgerc = fastpurge.write_edgerc(tmp_path / "silent.edgerc", section="alerts", host=silent)
    started = time.monotonic()
    found = checks(published, "--edgerc", str(edgerc), code=1)
    took = time.monotonic() - started
    assert took < 90, (
        took
    )  # ~50 s: 2 x 10 s for S3 and for CloudFront, 10 s for Akamai; was > 8 min
    for name in ("bucket reachable", f"CloudFront {distribution} origin"):
        assert found[name]["cause"] == "endpoint_unreachable", found[name]
        assert f"http://{silent}" in found[name]["detail"]
    akamai = found["Akamai alerts@staging"]
    assert akamai["status"] == "fail" and "no answer" in akamai["detail"], akamai


def test_a_function_other_than_infra_prints_is_named_with_the_redeploy(
    published: Site, bucket: str
) -> None:
    """CloudFront runs a function's old code until the stack is deployed again: a sitegen
    whose template changed the function (the 404 under .sitegen/, the redirect of /x) left
    sites running the old one, unseen. Doctor compares the live code with what `sitegen
    infra cloudformation` prints and names the deploy that brings it."""
    old = INDEX_FUNCTION.replace("  if (key === null", "  if (false && key === null")
    stale = make_distribution(f"{bucket}.s3.us-east-1.amazonaws.com", "/site", old)
    none = make_distribution(f"{bucket}.s3.us-east-1.amazonaws.com", "/site")
    found = checks(published, "--cloudfront", stale, "--cloudfront", none, "--no-probe", code=1)
    check = found[f"CloudFront {stale} function"]
    assert check["status"] == "warn", check
    assert "runs other code than sitegen infra cloudformation prints" in check["detail"]
    assert "aws cloudformation deploy" in check["fix"]
    missing = found[f"CloudFront {none} function"]
    assert missing["status"] == "fail" and "answers 404" in missing["detail"], missing
    text = published.run("doctor", "--cloudfront", stale, "--no-probe").stdout
    assert f"! CloudFront {stale} function:" in text and "1 warning" in text


def test_a_publisher_that_may_not_read_the_function_gets_a_warning(
    published: Site, distribution: str, answering: Any
) -> None:
    """Publishing never reads the function: a policy without cloudfront:GetFunction (any
    made before doctor compared the code) is a warning that names the grant."""
    answering(403, DENIED_CLOUDFRONT, path="/function/")
    found = checks(published, "--no-probe", code=0)
    check = found[f"CloudFront {distribution} function"]
    assert (check["status"], check["cause"]) == ("warn", "access_denied"), check
    assert "access denied to cloudfront:GetFunction" in check["detail"]
    assert "cloudfront:GetFunction" in check["fix"] and "infra cloudformation" in check["fix"]


def test_a_distribution_that_does_not_exist_is_said_so(published: Site) -> None:
    found = checks(published, "--cloudfront", "E0000NOSUCHDIST", "--no-probe", code=1)
    check = found["CloudFront E0000NOSUCHDIST origin"]
    assert check["cause"] == "no_such_distribution"
    assert "there is no distribution E0000NOSUCHDIST in this AWS account" in check["detail"]
    assert "Check the id in --cloudfront" in check["fix"]
    assert "point an origin" not in check["fix"]


def test_an_unknown_access_key_fails_the_credentials_check(published: Site, answering: Any) -> None:
    answering(403, INVALID_KEY)
    found = checks(published, "--no-probe", code=1)
    creds = found["AWS credentials"]
    assert creds["status"] == "fail" and creds["cause"] == "unknown_key"
    assert "found (source: env), but AWS does not know this access key" in creds["detail"]
    assert "AWS_ACCESS_KEY_ID" in creds["fix"]
    assert status(found)["bucket reachable"] == "skip"
    assert "bucket name" not in json.dumps(found)


def test_write_test_puts_and_deletes_one_probe_and_only_when_asked(
    published: Site, bucket: str, answering: Any
) -> None:
    before = snapshot_s3(bucket)
    assert "write test" not in checks(published, "--no-probe", code=0)
    found = checks(published, "--no-probe", "--write-test", code=0)
    assert found["write test"]["status"] == "ok"
    assert "s3:PutObject, s3:DeleteObject" in found["write test"]["detail"]
    assert snapshot_s3(bucket) == before
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="site/.sitegen/")
    assert "site/.sitegen/doctor-probe" not in [o["Key"] for o in listed.get("Contents", [])]
    answering(403, DENIED, method="PUT")
    found = checks(published, "--no-probe", "--write-test", code=1)
    assert found["write test"]["cause"] == "access_denied"
    assert "access denied to s3:PutObject" in found["write test"]["detail"]
    assert status(found)["bucket reachable"] == "ok"  # reads alone would have said all ✓


def test_write_test_never_overwrites_a_probe_left_behind(published: Site, bucket: str) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key="site/.sitegen/doctor-probe", Body=b"x")
    found = checks(published, "--no-probe", "--write-test", code=1)
    assert "is already there" in found["write test"]["detail"]
    got = boto3.client("s3").get_object(Bucket=bucket, Key="site/.sitegen/doctor-probe")
    assert got["Body"].read() == b"x"


def test_folder_write_test(site: Site) -> None:
    site.write()
    site.run("publish", "--no-build", "-q")
    found = checks(site, "--write-test", code=0)
    assert found["write test"]["status"] == "ok"
    assert not list((site.root / "_published").glob(".sitegen-doctor-probe*"))


@pytest.mark.parametrize(
    ("target", "fine"),
    [("site/emergency", True), ("site", False), ("site/emergencyx", False)],
)
def test_a_site_under_a_path_is_published_under_that_path(
    site: Site, bucket: str, distribution: str, target: str, fine: bool
) -> None:
    """base_url https://…/emergency/: viewers ask for /emergency/alerts/x/, and the origin
    (the bucket's site/ prefix, as the distribution fixture has it) is asked for
    site/emergency/alerts/x/index.html. A target that publishes at site/alerts/x/ (any origin
    path misses it) fails, naming both settings and the target that works."""
    site.configure(f'target = "s3://{bucket}/{target}"\ncloudfront = ["{distribution}"]')
    site.toml.write_text(
        site.toml.read_text().replace("https://alerts.test/", "https://alerts.test/emergency/")
    )
    site.write()
    published = site.run("publish", "--no-build", "-q")
    # publish says so too, before it writes keys no viewer's URI reaches
    said = "does not end with /emergency/, the path of [site] base_url"
    assert (said in published.stderr) != fine
    if not fine:
        assert f"publish to s3://{bucket}/{target}/emergency" in published.stderr
    notes = site.run_json("publish", "--no-build", "-q")["notes"]
    assert any(said in note for note in notes) != fine
    found = checks(site, code=0 if fine else 1)
    check = found[f"CloudFront {distribution} origin"]
    assert check["status"] == ("ok" if fine else "fail"), check
    if not fine:
        assert "[publish] target" in check["detail"] and "[site] base_url" in check["detail"]
        assert f"publish to s3://{bucket}/{target}/emergency" in check["fix"]
        assert "origin path /site" in check["fix"]


@pytest.mark.parametrize(
    ("target", "fine"),
    [("site", True), ("site/emergency", False), ("emergency", False)],
)
def test_a_root_site_under_a_prefix_no_origin_reads_is_said_by_publish_and_doctor(
    site: Site, bucket: str, distribution: str, target: str, fine: bool
) -> None:
    """base_url https://alerts.test/ (no path) and target s3://BUCKET/site/emergency: every
    prefix ends with the root's empty path, so publish said nothing, while doctor found that
    the distribution (origin path /site) never reads site/emergency/. Both now read the
    origins and say the same words, naming the target that origin reads."""
    site.configure(f'target = "s3://{bucket}/{target}"\ncloudfront = ["{distribution}"]')
    site.write()
    published = site.run("publish", "--no-build")
    notes = site.run_json("publish", "--no-build", "-q")["notes"]
    found = checks(site, code=0 if fine else 1)[f"CloudFront {distribution} origin"]
    if fine:
        assert notes == [] and "note:" not in published.stderr
        assert found["status"] == "ok", found
        return
    assert found["status"] == "fail", found
    assert notes == [f"{found['detail']}. To fix: {found['fix']}"]  # one rule, one text
    assert f"note: {notes[0]}" in published.stderr
    assert (
        f"no origin of CloudFront {distribution} is the bucket {bucket} with the origin "
        in (found["detail"])
    )
    assert (
        f"origin path /{target}, where [publish] target s3://{bucket}/{target} "
        in (found["detail"])
    )
    assert found["fix"].startswith(f"publish to s3://{bucket}/site ([publish] target)")


def move_under_emergency(site: Site, bucket: str, distribution: str) -> None:
    site.configure(f'target = "s3://{bucket}/site/emergency"\ncloudfront = ["{distribution}"]')
    site.toml.write_text(
        site.toml.read_text().replace("https://alerts.test/", "https://alerts.test/emergency/")
    )


def test_old_copies_left_at_the_root_by_a_move_under_a_path_are_named_never_deleted(
    site: Site, bucket: str, distribution: str
) -> None:
    """Published at the root (s3://b/site), then moved under /emergency/ (s3://b/site/emergency,
    as docs/operations.md says): the root copies stayed online, and neither publish nor doctor
    said so. Both now name them and the command that removes them; nothing is deleted."""
    site.configure(f'target = "s3://{bucket}/site"\ncloudfront = ["{distribution}"]')
    site.write()
    site.run("publish", "--no-build", "-q")
    at_the_root = snapshot_s3(bucket)
    move_under_emergency(site, bucket, distribution)
    published = site.run("publish", "--no-build")
    notes = site.run_json("publish", "--no-build", "-q")["notes"]
    assert {k: v for k, v in snapshot_s3(bucket).items() if k in at_the_root} == at_the_root
    [note] = notes
    assert f"note: {note}" in published.stderr
    assert note.startswith(f"s3://{bucket}/site still holds this site as published before")
    assert "(10 files, 6 alert files in common with it;" in note
    assert f"aws s3 rm s3://{bucket}/site/ --recursive --exclude 'emergency/*'" in note
    found = checks(site, code=0)  # a warning: publishing works, a person deletes
    check = found["old copies at the host's root"]
    assert check["status"] == "warn"
    assert notes == [f"{check['detail']}. To fix: {check['fix']}"]  # one rule, one text
    text = site.run("doctor").stdout
    assert "! old copies at the host's root:" in text
    # and the function, still the one for a site at the root: the stack was not deployed again
    assert f"! CloudFront {distribution} function:" in text
    assert "All checks passed (2 warnings: see above)." in text
    # removed by hand as the note says: nothing more to say
    s3 = boto3.client("s3")
    for item in s3.list_objects_v2(Bucket=bucket, Prefix="site/")["Contents"]:
        if not item["Key"].startswith("site/emergency/"):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    assert site.run_json("publish", "--no-build", "-q")["notes"] == []
    check = checks(site, code=0)["old copies at the host's root"]
    assert (check["status"], check["detail"]) == ("ok", f"no sitegen site at s3://{bucket}/site")


def test_another_sitegen_site_at_the_root_is_not_taken_for_an_old_copy(
    site: Site, bucket: str, distribution: str
) -> None:
    """The host's root may hold a site of its own: no alert page in common, no note."""
    site.configure(f'target = "s3://{bucket}/site"\ncloudfront = ["{distribution}"]')
    site.write({p.replace("alerts/a", "alerts/other-"): d for p, d in site_files().items()})
    site.run("publish", "--no-build", "-q")
    move_under_emergency(site, bucket, distribution)
    site.write()
    assert site.run_json("publish", "--no-build", "-q")["notes"] == []
    check = checks(site, code=0)["old copies at the host's root"]
    assert check["status"] == "ok" and "another sitegen site" in check["detail"]


def test_publish_reads_the_origins_again_only_for_settings_not_found_fine(
    site: Site, bucket: str, distribution: str
) -> None:
    """Each publish asking CloudFront for the origins costs a request while an alert waits:
    settings found fine once are not checked again (doctor always checks), and settings that
    gave a note are checked on every publish until they are fine."""
    site.configure(f'target = "s3://{bucket}/site"\ncloudfront = ["{distribution}"]')
    site.write()
    assert site.run_json("publish", "--no-build", "-q")["notes"] == []
    cloudfront = boto3.client("cloudfront")
    got = cloudfront.get_distribution_config(Id=distribution)
    config = got["DistributionConfig"]
    config["Origins"]["Items"][0]["OriginPath"] = "/elsewhere"  # changed behind sitegen's back
    cloudfront.update_distribution(Id=distribution, IfMatch=got["ETag"], DistributionConfig=config)
    assert site.run_json("publish", "--no-build", "-q")["notes"] == []  # not asked again
    (site.root / ".sitegen" / "publish-checks").unlink()
    for _ in range(2):  # asked, and asked again while the note stands
        [note] = site.run_json("publish", "--no-build", "-q")["notes"]
        assert f"no origin of CloudFront {distribution} is the bucket {bucket}" in note
    assert checks(site, code=1)[f"CloudFront {distribution} origin"]["status"] == "fail"


def test_a_publish_that_stopped_before_it_finished_is_named_with_the_command_to_finish(
    published: Site, fastpurge: FastPurgeServer
) -> None:
    """Every check passed while a stopped publish still owed its invalidations: the verify
    step of an emergency said all was well while the CDN kept serving the old pages."""
    assert status(checks(published, code=0))["last publish"] == "ok"
    files = site_files()
    files["alerts/a1/index.html"] = b"<h1>alert 1 updated</h1>"
    published.write(files)
    fastpurge.fail_next(5, status=503, retry_after="0")  # every attempt of one publish
    assert published.run("publish", "--no-build", "-q", ok=False).returncode == 1
    last = checks(published, "--no-probe", code=0)["last publish"]
    assert last["status"] == "warn"
    assert "stopped before it finished" in last["detail"]
    assert "still to invalidate" in last["detail"]
    assert "run `sitegen publish` again" in last["fix"]
    published.run("publish", "--no-build", "-q")
    assert status(checks(published, "--no-probe", code=0))["last publish"] == "ok"
