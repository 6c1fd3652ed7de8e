"""`sitegen infra cloudformation`: valid for cfn-lint and configured for bursts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sitegen.infra import (
    CONTENT_SECURITY_POLICY,
    INDEX_FUNCTION,
    cloudformation_template,
    index_function_code,
)
from sitegen_fixtures import TmpSite, file_size_limit, run_sitegen


@pytest.mark.parametrize("base_path", ["/", "/emergency/"])
def test_template_passes_cfn_lint(tmp_path: Path, base_path: str) -> None:
    cfn_lint = shutil.which("cfn-lint")
    if cfn_lint is None:
        pytest.fail("cfn-lint is not installed (it is in the test extra)")
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(cloudformation_template(base_path)))
    result = subprocess.run([cfn_lint, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bucket_is_private_versioned_encrypted() -> None:
    props = cloudformation_template()["Resources"]["SiteBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_distribution_is_https_http3_compressed_and_honours_origin() -> None:
    resources = cloudformation_template()["Resources"]
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["Compress"] is True and config["HttpVersion"] == "http2and3"
    policy = resources["HonourOriginCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert (policy["MinTTL"], policy["DefaultTTL"]) == (0, 0)
    assert config["CustomErrorResponses"][1]["ResponsePagePath"] == "/404.html"
    assert "OriginAccessControlId" in config["Origins"][0]


def test_publisher_policy_is_least_privilege() -> None:
    statements = cloudformation_template()["Resources"]["PublisherPolicy"]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    assert actions == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "s3:GetBucketVersioning",
        "s3:GetObjectVersion",
        "s3:ListBucketVersions",
        "cloudfront:CreateInvalidation",
        "cloudfront:GetInvalidation",
        "cloudfront:GetDistributionConfig",
        "cloudfront:GetFunction",
    }
    assert not any("*" in a for a in actions)


def test_the_publisher_may_read_the_index_function_and_no_other() -> None:
    """doctor compares the function's live code with the template's (a stack not deployed
    again runs the old one): GetFunction on that one function."""
    statements = policy_for("/", "site")
    function = NAMES["IndexFunction.FunctionARN"]
    assert allowed(statements, "cloudfront:GetFunction", function)
    assert not allowed(statements, "cloudfront:GetFunction", function + "-other")


def test_csp_is_satisfied_by_built_pages(built_site: TmpSite) -> None:
    """The CSP allows inline styles and data: images only; pages must need nothing else."""
    assert "script-src" not in CONTENT_SECURITY_POLICY  # falls back to default-src 'none'
    for page in built_site.public.rglob("*.html"):
        html = page.read_text()
        assert "<script" not in html, page
        assert 'rel="stylesheet"' not in html and "@import" not in html, page
        assert ' src="http' not in html and " style=" not in html, page


def run_index_function(uris: list[str], code: str = INDEX_FUNCTION) -> list[dict[str, object]]:
    """The CloudFront Function's answer to a viewer request for each URI, run by node (the
    cloudfront-js-2.0 runtime is ES5.1 and a part of ES6+, which node runs as well)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (it runs the CloudFront Function in tests)")
    script = code + (
        "const uris = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "console.log(JSON.stringify(uris.map((uri) => handler({request: {uri: uri}}))));\n"
    )
    done = subprocess.run(
        [node, "-e", script], input=json.dumps(uris), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    answers: list[dict[str, object]] = json.loads(done.stdout)
    return answers


@pytest.mark.parametrize(
    ("uri", "origin_uri"),
    [
        ("/", "/index.html"),
        ("/alerts/x/", "/alerts/x/index.html"),
        ("/alerts/x/cap.xml", "/alerts/x/cap.xml"),
        ("/feed.atom", "/feed.atom"),
        ("/emergency/areas/kr-11/", "/emergency/areas/kr-11/index.html"),
        ("/%EC%84%9C%EC%9A%B8/", "/%EC%84%9C%EC%9A%B8/index.html"),
        ("/x.sitegen/", "/x.sitegen/index.html"),  # only the folder .sitegen is the publisher's
        ("/.sitegenx/", "/.sitegenx/index.html"),
    ],
)
def test_the_function_maps_folders_to_their_index(uri: str, origin_uri: str) -> None:
    assert run_index_function([uri]) == [{"uri": origin_uri}]


@pytest.mark.parametrize("uri", ["/alerts/x", "/emergency", "/areas/kr-11"])
def test_the_function_redirects_a_folder_without_its_slash(uri: str) -> None:
    """Served as /x/index.html, /x was a second URL of the page (another cache entry), whose
    body links written relative (../areas/) resolved from the wrong folder."""
    assert run_index_function([uri]) == [
        {
            "statusCode": 301,
            "statusDescription": "Moved Permanently",
            "headers": {"location": {"value": uri + "/"}},
        }
    ]


@pytest.mark.parametrize(
    "uri",
    [
        "/.sitegen/manifest.json",
        "/.sitegen/lock",  # names user@host and pid while a publish runs
        "/.sitegen/",
        "/.sitegen",
        "/emergency/.sitegen/lock",  # a site under a path keeps it under the path
        "/%2Esitegen/lock",  # S3 decodes the key: this is .sitegen/lock
        "/.sitegen%2Flock",
        "/%2esitegen%2fmanifest.json",
        "/./.sitegen/lock",
        "/%E0%A4%A",  # no URI S3 could decode: nothing sitegen published
    ],
)
def test_the_function_answers_404_for_the_publisher_s_objects(uri: str) -> None:
    """The manifest and the lock are read by the publisher from S3, never through the CDN."""
    assert run_index_function([uri]) == [{"statusCode": 404, "statusDescription": "Not Found"}]


def test_under_a_path_the_host_root_redirects_to_the_site() -> None:
    """Nothing sitegen published is at the host's root when the site lives under a path:
    "/" answered 404 there (the default root object is /index.html, never written)."""
    code = index_function_code("/emergency/")
    assert run_index_function(["/", "/emergency/", "/emergency", "/.sitegen/lock"], code) == [
        {
            "statusCode": 302,
            "statusDescription": "Found",
            "headers": {"location": {"value": "/emergency/"}},
        },
        {"uri": "/emergency/index.html"},
        {
            "statusCode": 301,
            "statusDescription": "Moved Permanently",
            "headers": {"location": {"value": "/emergency/"}},
        },
        {"statusCode": 404, "statusDescription": "Not Found"},
    ]
    function = cloudformation_template("/emergency/")["Resources"]["IndexFunction"]
    assert function["Properties"]["FunctionCode"] == code
    assert index_function_code("/") == INDEX_FUNCTION  # at the root "/" is the home page


def test_a_site_under_a_path_is_keyed_under_it() -> None:
    """base_url https://www.example.gov/emergency/: viewers ask for /emergency/alerts/x/,
    CloudFront asks the origin for origin path + /emergency/alerts/x/index.html, so the
    objects are published under PublisherPrefix/emergency/ and the 404 page is
    /emergency/404.html (it was /404.html, an object no publish wrote)."""
    template = cloudformation_template("/emergency/")
    resources = template["Resources"]
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    assert {r["ResponsePagePath"] for r in config["CustomErrorResponses"]} == {
        "/emergency/404.html"
    }
    # the origin path stays PublisherPrefix: the viewer's URI already holds /emergency/
    assert (
        config["Origins"][0]["OriginPath"]
        == cloudformation_template()["Resources"]["Distribution"]["Properties"][
            "DistributionConfig"
        ]["Origins"][0]["OriginPath"]
    )
    keys = {"Fn::If": ["HasPrefix", {"Fn::Sub": "${PublisherPrefix}/emergency/"}, "emergency/"]}
    objects = resources["PublisherPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert objects["Resource"] == {"Fn::Sub": ["${SiteBucket.Arn}/${Keys}*", {"Keys": keys}]}
    command = template["Outputs"]["PublishCommand"]["Value"]["Fn::Sub"]
    assert command[0].startswith("sitegen publish --target s3://${SiteBucket}/${Keys} ")
    assert command[1] == {"Keys": keys}


def test_the_command_reads_the_base_path_from_site_toml(tmp_site: TmpSite) -> None:
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("https://alerts.test/", "https://x.test/emergency/"))
    done = run_sitegen("infra", "cloudformation", cwd=tmp_site.root)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == cloudformation_template("/emergency/")
    elsewhere = run_sitegen("infra", "cloudformation", cwd=tmp_site.root.parent)
    assert json.loads(elsewhere.stdout) == cloudformation_template()
    assert "for a site at its host's root" in elsewhere.stderr


def test_a_site_named_with_site_that_is_not_there_is_an_error(tmp_site: TmpSite) -> None:
    """A typo in --site (or SITEGEN_SITE) must not give the template of a site at the root:
    deployed for a site under a path, its 404 page, redirect and publisher policy are wrong."""
    typo = tmp_site.root / "sites" / "site.toml"
    done = run_sitegen("infra", "cloudformation", "--site", str(typo), cwd=tmp_site.root)
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert f"{typo}: no site.toml here" in done.stderr


def test_a_template_that_does_not_fit_leaves_the_old_file_whole(tmp_site: TmpSite) -> None:
    """--out was written in place: a full disk (here a file size limit, which fails a write
    as a full disk does) left stack.json cut short where last week's good one had been."""
    out = tmp_site.root / "stack.json"
    done = run_sitegen("infra", "cloudformation", "--out", "stack.json", cwd=tmp_site.root)
    assert done.returncode == 0, done.stderr
    good = out.read_bytes()
    out.write_bytes(good.replace(b"  ", b" "))  # an older template, smaller, still valid JSON
    old = out.read_bytes()
    small = run_sitegen(
        "infra",
        "cloudformation",
        "--out",
        "stack.json",
        cwd=tmp_site.root,
        preexec_fn=file_size_limit(len(good) // 2),
    )
    assert small.returncode == 1, small.stderr
    assert "stack.json" in small.stderr and "Traceback" not in small.stderr, small.stderr
    assert out.read_bytes() == old
    assert sorted(p.name for p in tmp_site.root.iterdir() if "stack" in p.name) == ["stack.json"]


def test_an_encoded_base_path_is_keyed_as_s3_decodes_it() -> None:
    """Viewers send /%EB%B9%84%EC%83%81/alerts/x/; S3 decodes the key to 비상/alerts/x/:
    the objects and the policy must be under 비상/, not under the encoded letters."""
    from sitegen.infra import origin_path, site_prefix

    assert site_prefix("/%EB%B9%84%EC%83%81/") == "비상/"
    assert origin_path("site/비상/", "/%EB%B9%84%EC%83%81/") == "/site"  # S3Target adds the "/"
    template = cloudformation_template("/%EB%B9%84%EC%83%81/")
    keys = {"Fn::If": ["HasPrefix", {"Fn::Sub": "${PublisherPrefix}/비상/"}, "비상/"]}
    objects = template["Resources"]["PublisherPolicy"]["Properties"]["PolicyDocument"]
    assert objects["Statement"][0]["Resource"]["Fn::Sub"][1] == {"Keys": keys}


# --- the publisher policy, resolved as CloudFormation and evaluated as IAM does -------------


def resolve(node: Any, params: dict[str, str], names: dict[str, str]) -> Any:
    """A template fragment with its intrinsic functions worked out (Fn::Sub, Fn::If on the
    HasPrefix condition, Ref); a key whose value is AWS::NoValue is dropped, as CloudFormation
    drops it."""
    if isinstance(node, list):
        return [resolve(item, params, names) for item in node]
    if not isinstance(node, dict):
        return node
    if "Fn::If" in node:
        condition, yes, no = node["Fn::If"]
        assert condition == "HasPrefix"
        return resolve(yes if params["PublisherPrefix"] else no, params, names)
    if "Ref" in node:
        return names.get(node["Ref"], params.get(node["Ref"]))
    if "Fn::Sub" in node:
        text, extra = node["Fn::Sub"], {}
        if isinstance(text, list):
            text, local = text
            extra = {k: resolve(v, params, names) for k, v in local.items()}
        values = {**params, **names, **extra}
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m[1]], text)
    out = {key: resolve(value, params, names) for key, value in node.items()}
    return {key: value for key, value in out.items() if value is not NO_VALUE}


NO_VALUE = object()
NAMES = {
    "SiteBucket.Arn": "arn:aws:s3:::bkt",
    "SiteBucket": "bkt",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "Distribution": "E1",
    "IndexFunction.FunctionARN": "arn:aws:cloudfront::123456789012:function/alerts-index",
    "AWS::NoValue": NO_VALUE,  # type: ignore[dict-item]
}


def iam_match(pattern: str, value: str) -> bool:
    """IAM's wildcard match (ARNs, StringLike): * any run of characters, ? one."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, re.DOTALL) is not None


def allowed(statements: list[dict[str, Any]], action: str, resource: str, prefix: str = "") -> bool:
    """Whether an Allow statement grants ``action`` on ``resource`` (``prefix``: the request's
    s3:prefix; S3 sets it to the key when it decides between 404 and 403 for a missing one)."""
    for s in statements:
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        if action not in s["Action"] or not any(iam_match(r, resource) for r in resources):
            continue
        likes = s.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
        if likes is None or any(iam_match(like, prefix) for like in likes):
            return True
    return False


def policy_for(base_path: str, publisher_prefix: str) -> list[dict[str, Any]]:
    template = cloudformation_template(base_path)
    document = template["Resources"]["PublisherPolicy"]["Properties"]["PolicyDocument"]
    statements: list[dict[str, Any]] = resolve(
        document, {"PublisherPrefix": publisher_prefix}, NAMES
    )["Statement"]
    return statements


@pytest.mark.parametrize(
    ("base_path", "publisher_prefix", "inside", "outside"),
    [
        ("/", "site", "site/", ["site-other/index.html", "siteindex.html", "index.html"]),
        ("/", "a/site", "a/site/", ["a/site-old/x", "a/index.html", "site/x"]),
        ("/emergency/", "site", "site/emergency/", ["site/emergency-old/x", "site/index.html"]),
        ("/emergency/", "", "emergency/", ["emergency-old/x", "index.html", "x/emergency/y"]),
        ("/", "", "", []),  # the site at the bucket's root: the whole bucket is the site's
    ],
)
def test_the_publisher_policy_grants_exactly_the_site_s_folder(
    base_path: str, publisher_prefix: str, inside: str, outside: list[str]
) -> None:
    """The policy granted ${PublisherPrefix}*: with the prefix "site", a publisher of that
    site could also write and delete site-other/…, another site's objects."""
    statements = policy_for(base_path, publisher_prefix)
    bucket = "arn:aws:s3:::bkt"
    for key in ("index.html", "alerts/x/index.html", ".sitegen/manifest.json"):
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert allowed(statements, action, f"{bucket}/{inside}{key}"), (action, key)
        assert allowed(statements, "s3:ListBucket", bucket, inside + key)  # 404, not 403
    assert allowed(statements, "s3:ListBucket", bucket, inside)  # what publish lists
    assert allowed(statements, "s3:ListBucketVersions", bucket, inside + ".sitegen/")
    assert allowed(statements, "s3:GetBucketVersioning", bucket)
    for key in outside:
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert not allowed(statements, action, f"{bucket}/{key}"), (action, key)
        assert not allowed(statements, "s3:ListBucket", bucket, key)
    if outside:
        assert not allowed(statements, "s3:ListBucket", bucket, "")
    # the host root's manifest may be read (under a path: is an old copy of the site still
    # online there? publish/layout.py), and nothing else of the root
    root = publisher_prefix + "/" if publisher_prefix else ""
    root_manifest = f"{bucket}/{root}.sitegen/manifest.json"
    assert allowed(statements, "s3:GetObject", root_manifest)
    assert allowed(statements, "s3:ListBucket", bucket, root + ".sitegen/manifest.json")
    if base_path != "/":
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion"):
            assert not allowed(statements, action, root_manifest), action
        assert not allowed(statements, "s3:GetObject", f"{bucket}/{root}.sitegen/lock")


@pytest.mark.parametrize(
    ("prefix", "valid"),
    [
        ("", True),
        ("site", True),
        ("sites/alerts", True),
        ("비상", True),
        ("site/", False),  # keys site//…, origin path /site/: CloudFront refuses it
        ("/site", False),
        ("a//b", False),
        ("site*", False),  # an IAM wildcard: the policy would grant site-other/ again
        ("site?", False),
        ("${aws:username}", False),  # a policy variable
    ],
)
def test_publisher_prefix_is_one_plain_folder(prefix: str, valid: bool) -> None:
    pattern = cloudformation_template()["Parameters"]["PublisherPrefix"]["AllowedPattern"]
    assert (re.fullmatch(pattern, prefix) is not None) is valid
