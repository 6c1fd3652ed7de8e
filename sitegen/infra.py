"""`sitegen infra cloudformation`: the whole origin + CDN as one CloudFormation template.

Private versioned encrypted S3 bucket, CloudFront with Origin Access Control, HTTPS only,
HTTP/2+3, compression, a cache policy that honours the origin's Cache-Control (so the
classes in site.toml are what the edge does), a CloudFront Function mapping `/path/` to
`/path/index.html` and answering 404 under `.sitegen/`, the 404 page, optional Origin
Shield, security headers with a CSP that our pages satisfy (inline CSS, no scripts, `data:`
favicon), and a least-privilege managed policy for the publisher. Pure: returns a dict; the
CLI prints it as stable JSON.

A site under a path (base_url https://www.example.gov/emergency/, base path "/emergency/")
is asked for as /emergency/alerts/x/, the path invalidations name, and CloudFront fetches
origin path + that URI. So its objects are keyed under the path: the publish target's prefix
is PublisherPrefix + "emergency/" (s3://BUCKET/emergency), the origin path PublisherPrefix
alone, the 404 page /emergency/404.html (`site_prefix`; publish.doctor checks the same rule).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

# Our pages: one document with inline <style>, no scripts, images only as data: URIs.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

# Viewer request: 404 for the publisher's own objects (.sitegen/: the manifest, and the lock,
# which names user@host and pid while a publish runs; the publisher reads them from S3, never
# through the CDN), looked for in the URI as S3 decodes it (%2E is "."); then /x/ → /x/index.html
# and /x → a redirect to /x/ when the last segment has no dot (one URL a page, one cache entry,
# and a body's relative links resolve from the page's folder).
INDEX_FUNCTION = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var key;
  try {
    key = decodeURIComponent(uri);
  } catch (e) {
    key = null;
  }
  if (key === null || /\\/\\.sitegen(\\/|$)/.test(key)) {
    return { statusCode: 404, statusDescription: 'Not Found' };
  }
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) {
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: uri + '/' } },
    };
  }
  return request;
}
"""

# GetObjectVersion/ListBucketVersions: `sitegen rollback` restores bytes from object versions.
PUBLISHER_OBJECT_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:DeleteObject",
]
PUBLISHER_LIST_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions"]
PUBLISHER_BUCKET_ACTIONS = [*PUBLISHER_LIST_ACTIONS, "s3:GetBucketVersioning"]
# PublisherPrefix: no "/" at either end or twice (the keys and the origin path would not meet),
# no IAM wildcard or policy variable ("*", "?", "$"), which would widen the publisher policy.
PREFIX_PATTERN = "^$|^[^/*?$]+(/[^/*?$]+)*$"
PUBLISHER_CDN_ACTIONS = [
    "cloudfront:CreateInvalidation",
    "cloudfront:GetInvalidation",
    "cloudfront:GetDistributionConfig",
]


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def site_prefix(base_path: str) -> str:
    """The site's key prefix below the origin path: "" for a site at its host's root,
    "emergency/" under the base path "/emergency/" (the URI CloudFront asks the origin for),
    decoded as S3 decodes a URI: "/%EB%B9%84%EC%83%81/" is the prefix "비상/"."""
    return unquote(base_path.lstrip("/"))


def origin_path(prefix: str, base_path: str) -> str | None:
    """The CloudFront origin path that finds objects published under the key `prefix`: the
    prefix without the base path's part, which viewers' URIs hold already (s3://b/site/emergency
    under /emergency/ → /site); None when the prefix does not end with it (no origin path can
    find those objects)."""
    below = site_prefix(base_path)
    if below and prefix != below and not prefix.endswith("/" + below):
        return None
    front = prefix[: len(prefix) - len(below)].rstrip("/")
    return "/" + front if front else ""


def site_target(bucket: str, prefix: str, base_path: str) -> str:
    """The S3 target that keys a site under `base_path` below the key `prefix` (what a target
    at `prefix` should be instead when its prefix does not end with the base path)."""
    return f"s3://{bucket}/{prefix}{site_prefix(base_path)}".rstrip("/")


def _keys(base_path: str) -> dict[str, Any]:
    """The publish target's key prefix, ending with "/" (or empty: the bucket root):
    PublisherPrefix + "/", followed by site_prefix under a base path. Always a whole folder,
    so `${Keys}*` grants site/… and never site-other/…"""
    below = site_prefix(base_path)
    return {"Fn::If": ["HasPrefix", _sub("${PublisherPrefix}/" + below), below]}


def _sub_keys(text: str, base_path: str) -> dict[str, Any]:
    """`text` with ${Keys} the publish target's key prefix (`_keys`)."""
    return {"Fn::Sub": [text, {"Keys": _keys(base_path)}]}


def parameters(base_path: str = "/") -> dict[str, Any]:
    below = site_prefix(base_path)
    prefix_description = (
        f"Key prefix in front of {below} (empty: the bucket root); the site's objects are "
        f"keyed PublisherPrefix/{below}..., the base path of base_url"
        if below
        else "Key prefix the site lives under (empty: bucket root)"
    )
    return {
        "DomainName": {
            "Type": "String",
            "Default": "",
            "Description": "Public host name (e.g. alerts.example.gov); empty for "
            "the cloudfront.net name",
        },
        "CertificateArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^$|^arn:aws[a-zA-Z-]*:acm:us-east-1:\\d{12}:certificate/.+$",
            "Description": "ACM certificate in us-east-1 for DomainName",
        },
        "PriceClass": {
            "Type": "String",
            "Default": "PriceClass_100",
            "AllowedValues": ["PriceClass_100", "PriceClass_200", "PriceClass_All"],
        },
        "OriginShieldRegion": {
            "Type": "String",
            "Default": "",
            "Description": "Region for Origin Shield (empty: off)",
        },
        "PublisherPrefix": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": PREFIX_PATTERN,
            "ConstraintDescription": "a key prefix such as site or sites/alerts: no / at "
            "either end, no *, ? or $",
            "Description": prefix_description,
        },
    }


def conditions() -> dict[str, Any]:
    return {
        "HasDomain": {"Fn::Not": [{"Fn::Equals": [_ref("DomainName"), ""]}]},
        "HasShield": {"Fn::Not": [{"Fn::Equals": [_ref("OriginShieldRegion"), ""]}]},
    }


def bucket() -> dict[str, Any]:
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "expire-old-versions",
                        "Status": "Enabled",
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                    }
                ]
            },
        },
    }


def bucket_policy() -> dict[str, Any]:
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": _ref("SiteBucket"),
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CloudFrontReadsThroughOAC",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": _sub("${SiteBucket.Arn}/*"),
                        "Condition": {
                            "StringEquals": {
                                "AWS:SourceArn": _sub(
                                    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                                    "${Distribution}"
                                )
                            }
                        },
                    },
                    {
                        "Sid": "HttpsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [_sub("${SiteBucket.Arn}"), _sub("${SiteBucket.Arn}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        },
    }


def cache_policy() -> dict[str, Any]:
    # MinTTL 0 and DefaultTTL 0: the origin's Cache-Control decides (alert vs immutable).
    return {
        "Type": "AWS::CloudFront::CachePolicy",
        "Properties": {
            "CachePolicyConfig": {
                "Name": _sub("${AWS::StackName}-honour-origin"),
                "MinTTL": 0,
                "DefaultTTL": 0,
                "MaxTTL": 31536000,
                "ParametersInCacheKeyAndForwardedToOrigin": {
                    "EnableAcceptEncodingGzip": True,
                    "EnableAcceptEncodingBrotli": True,
                    "CookiesConfig": {"CookieBehavior": "none"},
                    "HeadersConfig": {"HeaderBehavior": "none"},
                    "QueryStringsConfig": {"QueryStringBehavior": "none"},
                },
            }
        },
    }


def headers_policy() -> dict[str, Any]:
    return {
        "Type": "AWS::CloudFront::ResponseHeadersPolicy",
        "Properties": {
            "ResponseHeadersPolicyConfig": {
                "Name": _sub("${AWS::StackName}-security"),
                "SecurityHeadersConfig": {
                    "StrictTransportSecurity": {
                        "AccessControlMaxAgeSec": 63072000,
                        "IncludeSubdomains": True,
                        "Preload": True,
                        "Override": True,
                    },
                    "ContentTypeOptions": {"Override": True},
                    "FrameOptions": {"FrameOption": "DENY", "Override": True},
                    "ReferrerPolicy": {
                        "ReferrerPolicy": "strict-origin-when-cross-origin",
                        "Override": True,
                    },
                    "ContentSecurityPolicy": {
                        "ContentSecurityPolicy": CONTENT_SECURITY_POLICY,
                        "Override": True,
                    },
                },
            }
        },
    }


def index_function_code(base_path: str = "/") -> str:
    """INDEX_FUNCTION for a site under `base_path`: the host's root (nothing sitegen published
    is there) is redirected to the site, as `sitegen serve` does, rather than answering 404."""
    if base_path == "/":
        return INDEX_FUNCTION
    redirect = (
        "  if (uri === '/') {\n"
        "    return { statusCode: 302, statusDescription: 'Found', "
        f"headers: {{ location: {{ value: {json.dumps(base_path)} }} }} }};\n"
        "  }\n"
    )
    cut = INDEX_FUNCTION.index("  if (uri.endsWith('/')) {")
    return INDEX_FUNCTION[:cut] + redirect + INDEX_FUNCTION[cut:]


def index_function(base_path: str = "/") -> dict[str, Any]:
    return {
        "Type": "AWS::CloudFront::Function",
        "Properties": {
            "Name": _sub("${AWS::StackName}-index"),
            "AutoPublish": True,
            "FunctionCode": index_function_code(base_path),
            "FunctionConfig": {
                "Comment": "Map /path/ to /path/index.html",
                "Runtime": "cloudfront-js-2.0",
            },
        },
    }


def origin_access_control() -> dict[str, Any]:
    return {
        "Type": "AWS::CloudFront::OriginAccessControl",
        "Properties": {
            "OriginAccessControlConfig": {
                "Name": _sub("${AWS::StackName}-oac"),
                "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always",
                "SigningProtocol": "sigv4",
            }
        },
    }


def distribution(base_path: str = "/") -> dict[str, Any]:
    origin: dict[str, Any] = {
        "Id": "site-bucket",
        "DomainName": {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]},
        "OriginPath": {"Fn::If": ["HasPrefix", _sub("/${PublisherPrefix}"), ""]},
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": {"Fn::GetAtt": ["OriginAccessControl", "Id"]},
        "OriginShield": {
            "Fn::If": [
                "HasShield",
                {"Enabled": True, "OriginShieldRegion": _ref("OriginShieldRegion")},
                {"Enabled": False},
            ]
        },
    }
    return {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {
            "DistributionConfig": {
                "Enabled": True,
                "Comment": _sub("sitegen alerts (${AWS::StackName})"),
                "HttpVersion": "http2and3",
                "IPV6Enabled": True,
                "PriceClass": _ref("PriceClass"),
                "DefaultRootObject": "index.html",
                "Aliases": {"Fn::If": ["HasDomain", [_ref("DomainName")], _ref("AWS::NoValue")]},
                "ViewerCertificate": {
                    "Fn::If": [
                        "HasDomain",
                        {
                            "AcmCertificateArn": _ref("CertificateArn"),
                            "SslSupportMethod": "sni-only",
                            "MinimumProtocolVersion": "TLSv1.2_2021",
                        },
                        {"CloudFrontDefaultCertificate": True},
                    ]
                },
                "Origins": [origin],
                "DefaultCacheBehavior": {
                    "TargetOriginId": "site-bucket",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "Compress": True,
                    "AllowedMethods": ["GET", "HEAD"],
                    "CachePolicyId": _ref("HonourOriginCachePolicy"),
                    "ResponseHeadersPolicyId": _ref("SecurityHeadersPolicy"),
                    "FunctionAssociations": [
                        {
                            "EventType": "viewer-request",
                            "FunctionARN": {
                                "Fn::GetAtt": ["IndexFunction", "FunctionMetadata.FunctionARN"]
                            },
                        }
                    ],
                },
                "CustomErrorResponses": [
                    {
                        "ErrorCode": 403,
                        "ResponseCode": 404,
                        "ResponsePagePath": base_path + "404.html",
                        "ErrorCachingMinTTL": 60,
                    },
                    {
                        "ErrorCode": 404,
                        "ResponseCode": 404,
                        "ResponsePagePath": base_path + "404.html",
                        "ErrorCachingMinTTL": 60,
                    },
                ],
            }
        },
    }


def publisher_policy(base_path: str = "/") -> dict[str, Any]:
    """Exactly what `sitegen publish` needs: the objects in the site's key folder (the
    target's prefix and "/", never a sibling such as site-other/), listings of that folder,
    the bucket's versioning, and one distribution; and, for `sitegen doctor`, reading the
    code of the stack's one CloudFront Function."""
    return {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Description": "sitegen publish: write the site's objects, invalidate its CDN",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "SiteObjects",
                        "Effect": "Allow",
                        "Action": PUBLISHER_OBJECT_ACTIONS,
                        "Resource": _sub_keys("${SiteBucket.Arn}/${Keys}*", base_path),
                    },
                    *_root_manifest_read(base_path),
                    {
                        "Sid": "SiteListing",
                        "Effect": "Allow",
                        "Action": PUBLISHER_LIST_ACTIONS,
                        "Resource": _sub("${SiteBucket.Arn}"),
                        "Condition": _listing_condition(base_path),
                    },
                    {
                        "Sid": "BucketVersioning",
                        "Effect": "Allow",
                        "Action": ["s3:GetBucketVersioning"],
                        "Resource": _sub("${SiteBucket.Arn}"),
                    },
                    {
                        # doctor compares the function's live code with INDEX_FUNCTION's
                        "Sid": "ReadIndexFunction",
                        "Effect": "Allow",
                        "Action": ["cloudfront:GetFunction"],
                        "Resource": _sub("${IndexFunction.FunctionARN}"),
                    },
                    {
                        "Sid": "Invalidate",
                        "Effect": "Allow",
                        "Action": PUBLISHER_CDN_ACTIONS,
                        "Resource": _sub(
                            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:"
                            "distribution/${Distribution}"
                        ),
                    },
                ],
            },
        },
    }


def _root_manifest() -> dict[str, Any]:
    """The manifest of the host's root beside a site under a path: publish and doctor read it
    to tell whether the site's copy from before it moved under the path is still online."""
    return {
        "Fn::If": [
            "HasPrefix",
            _sub("${PublisherPrefix}/.sitegen/manifest.json"),
            ".sitegen/manifest.json",
        ]
    }


def _root_manifest_read(base_path: str) -> list[dict[str, Any]]:
    """Under a path, s3:GetObject of that one key (publish/layout.py), nothing else there."""
    if not site_prefix(base_path):
        return []
    return [
        {
            "Sid": "RootSiteManifest",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": {"Fn::Sub": ["${SiteBucket.Arn}/${Key}", {"Key": _root_manifest()}]},
        }
    ]


def _listing_condition(base_path: str) -> dict[str, Any]:
    """Listings only of the site's key folder (s3:prefix, which S3 also sets to the key when
    it decides whether a missing object is a 404 or a 403, so reading a manifest or lock not
    there yet stays a 404; under a path, the root's manifest too); none for a site at the
    bucket's root."""
    if site_prefix(base_path):
        keys = [_sub_keys("${Keys}*", base_path), _root_manifest()]
        return {"StringLike": {"s3:prefix": keys}}
    within = {"StringLike": {"s3:prefix": [_sub("${PublisherPrefix}/*")]}}
    return {"Fn::If": ["HasPrefix", within, _ref("AWS::NoValue")]}


def cloudformation_template(base_path: str = "/") -> dict[str, Any]:
    """The whole stack as a CloudFormation document (a dict ready for JSON), for a site whose
    base_url has the path `base_path` (`urls.base_path`)."""
    conds = conditions()
    conds["HasPrefix"] = {"Fn::Not": [{"Fn::Equals": [_ref("PublisherPrefix"), ""]}]}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "sitegen: private S3 origin + CloudFront for public emergency alerts",
        # W1030: the empty default of CertificateArn is only used when DomainName is empty,
        # where the HasDomain condition keeps it out of the distribution.
        "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W1030"]}}},
        "Parameters": parameters(base_path),
        "Conditions": conds,
        "Resources": {
            "SiteBucket": bucket(),
            "SiteBucketPolicy": bucket_policy(),
            "OriginAccessControl": origin_access_control(),
            "HonourOriginCachePolicy": cache_policy(),
            "SecurityHeadersPolicy": headers_policy(),
            "IndexFunction": index_function(base_path),
            "Distribution": distribution(base_path),
            "PublisherPolicy": publisher_policy(base_path),
        },
        "Outputs": {
            "BucketName": {"Value": _ref("SiteBucket")},
            "DistributionId": {"Value": _ref("Distribution")},
            "DistributionDomain": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
            "PublisherPolicyArn": {"Value": _ref("PublisherPolicy")},
            "PublishCommand": {
                "Value": _sub_keys(
                    "sitegen publish --target s3://${SiteBucket}/${Keys} "
                    "--cloudfront ${Distribution}",
                    base_path,
                )
            },
        },
    }


def render_json(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=2, sort_keys=False) + "\n"
