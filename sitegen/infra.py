"""`sitegen infra cloudformation`: the whole origin + CDN as one CloudFormation template.

Private versioned encrypted S3 bucket, CloudFront with Origin Access Control, HTTPS only,
HTTP/2+3, compression, a cache policy that honours the origin's Cache-Control (so the
classes in site.toml are what the edge does), a CloudFront Function mapping `/path/` to
`/path/index.html`, the 404 page, optional Origin Shield, security headers with a CSP that
our pages satisfy (inline CSS, no scripts, `data:` favicon), and a least-privilege managed
policy for the publisher. Pure: returns a dict; the CLI prints it as stable JSON.
"""

from __future__ import annotations

import json
from typing import Any

# Our pages: one document with inline <style>, no scripts, images only as data: URIs.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

INDEX_FUNCTION = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) {
    request.uri = uri + '/index.html';
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
PUBLISHER_BUCKET_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning"]
PUBLISHER_CDN_ACTIONS = [
    "cloudfront:CreateInvalidation",
    "cloudfront:GetInvalidation",
    "cloudfront:GetDistributionConfig",
]


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def parameters() -> dict[str, Any]:
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
            "Description": "Key prefix the site lives under (empty: bucket root)",
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


def index_function() -> dict[str, Any]:
    return {
        "Type": "AWS::CloudFront::Function",
        "Properties": {
            "Name": _sub("${AWS::StackName}-index"),
            "AutoPublish": True,
            "FunctionCode": INDEX_FUNCTION,
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


def distribution() -> dict[str, Any]:
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
                        "ResponsePagePath": "/404.html",
                        "ErrorCachingMinTTL": 60,
                    },
                    {
                        "ErrorCode": 404,
                        "ResponseCode": 404,
                        "ResponsePagePath": "/404.html",
                        "ErrorCachingMinTTL": 60,
                    },
                ],
            }
        },
    }


def publisher_policy() -> dict[str, Any]:
    """Exactly what `sitegen publish` needs: the site's prefix and one distribution."""
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
                        "Resource": _sub("${SiteBucket.Arn}/${PublisherPrefix}*"),
                    },
                    {
                        "Sid": "SiteListing",
                        "Effect": "Allow",
                        "Action": PUBLISHER_BUCKET_ACTIONS,
                        "Resource": _sub("${SiteBucket.Arn}"),
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


def cloudformation_template() -> dict[str, Any]:
    """The whole stack as a CloudFormation document (a dict ready for JSON)."""
    conds = conditions()
    conds["HasPrefix"] = {"Fn::Not": [{"Fn::Equals": [_ref("PublisherPrefix"), ""]}]}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "sitegen: private S3 origin + CloudFront for public emergency alerts",
        # W1030: the empty default of CertificateArn is only used when DomainName is empty,
        # where the HasDomain condition keeps it out of the distribution.
        "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W1030"]}}},
        "Parameters": parameters(),
        "Conditions": conds,
        "Resources": {
            "SiteBucket": bucket(),
            "SiteBucketPolicy": bucket_policy(),
            "OriginAccessControl": origin_access_control(),
            "HonourOriginCachePolicy": cache_policy(),
            "SecurityHeadersPolicy": headers_policy(),
            "IndexFunction": index_function(),
            "Distribution": distribution(),
            "PublisherPolicy": publisher_policy(),
        },
        "Outputs": {
            "BucketName": {"Value": _ref("SiteBucket")},
            "DistributionId": {"Value": _ref("Distribution")},
            "DistributionDomain": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
            "PublisherPolicyArn": {"Value": _ref("PublisherPolicy")},
            "PublishCommand": {
                "Value": _sub(
                    "sitegen publish --target s3://${SiteBucket}/${PublisherPrefix} "
                    "--cloudfront ${Distribution}"
                )
            },
        },
    }


def render_json(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=2, sort_keys=False) + "\n"
