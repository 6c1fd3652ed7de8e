"""What the S3 target and the CloudFront client share: client config, error classes, messages
(what a failure means and what to do about it); and how S3 objects are encoded on the wire
(the S3 target and rollback's history read them)."""

from __future__ import annotations

import os
import threading
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    ConnectionClosedError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ProxyConnectionError,
    ReadTimeoutError,
    SSLError,
    SSOError,
    TokenRetrievalError,
)

# Worth another try: S3 503 SlowDown, 5xx, throttling of any AWS API, request timeouts.
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)


def client_config(
    max_pool: int = 16, botocore_attempts: int = 3, connect_s: float = 10, read_s: float = 60
) -> Config:
    """boto3 client settings: botocore's own standard retries (few, capped), a connection pool
    sized for our upload threads, and timeouts so a dead connection cannot hang a publish
    (``connect_s``, ``read_s``: doctor's checks wait less than a publish's uploads).

    Our ``call_with_retries`` wraps each call on top, with longer jittered backoff, so a burst of
    SlowDown is waited out without botocore's fixed attempt budget running out.
    """
    return Config(
        retries={"mode": "standard", "max_attempts": botocore_attempts},
        max_pool_connections=max_pool,
        connect_timeout=connect_s,
        read_timeout=read_s,
    )


_SESSIONS: dict[tuple[tuple[str, str], ...], Any] = {}
_SESSIONS_LOCK = threading.Lock()


def make_client(service: str, config: Config) -> Any:
    """A botocore client for `service`, through botocore itself: boto3 would add 0.1 s of
    start-up (its transfer manager and resources, which we never use) to every publish.

    One botocore session is shared per AWS environment (the AWS_* variables), so the S3 and
    CloudFront clients of one publish load endpoint and partition data once, and a changed
    environment (another profile, endpoint or key) gets a session of its own."""
    import botocore.session

    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = _SESSIONS[key] = botocore.session.get_session()
        return session.create_client(service, config=config)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def http_status(exc: BaseException) -> int:
    if isinstance(exc, ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return 0


def is_transient(exc: BaseException) -> bool:
    """Would the same request plausibly succeed if sent again a little later?"""
    if isinstance(exc, ClientError):
        status = http_status(exc)
        return error_code(exc) in _TRANSIENT_CODES or status >= 500 or status == 429
    return isinstance(exc, HTTPClientError | ConnectionError)


def describe(exc: BaseException) -> str:
    """A one-line description of an AWS failure, without request signatures or credentials."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = http_status(exc)
        return f"{error.get('Code', 'error')} (HTTP {status}): {error.get('Message', '')}".strip()
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What an AWS failure means: ``kind`` for scripts (--json ``cause``), ``summary`` in words,
    ``advice`` (whole sentences) on what to do. Never holds a credential."""

    kind: str
    summary: str
    advice: str


CREDENTIALS_ADVICE = (
    "Set AWS_PROFILE (aws configure sso / aws configure), or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or run where an instance or task role applies."
)
_UNKNOWN_KEY = Diagnosis(
    "unknown_key",
    "AWS does not know this access key",
    "The key in AWS_ACCESS_KEY_ID (or the profile) was deleted, deactivated or mistyped, or "
    "belongs to another account's partition or, with AWS_ENDPOINT_URL, another store. Use a "
    "current key of the user or role that publishes.",
)
_BAD_SECRET = Diagnosis(
    "bad_secret",
    "the secret key does not match the access key",
    "Check AWS_SECRET_ACCESS_KEY (or the profile's aws_secret_access_key): it must be the "
    "secret created with this access key.",
)
_EXPIRED = Diagnosis(
    "expired_credentials",
    "the session credentials have expired or are not valid",
    "Get new ones (aws sso login, or fresh temporary keys with their AWS_SESSION_TOKEN), then "
    "run again.",
)
_CLOCK = Diagnosis(
    "clock_skew",
    "this machine's clock is too far off for AWS to accept the signature",
    "Synchronise the clock (NTP), then run again.",
)
_THROTTLED = Diagnosis(
    "throttled",
    "AWS kept asking to slow down after every retry",
    "Wait a minute and run again.",
)
_BY_CODE = {
    **dict.fromkeys(
        ("InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException"),
        _UNKNOWN_KEY,
    ),
    "SignatureDoesNotMatch": _BAD_SECRET,
    **dict.fromkeys(
        ("ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "InvalidToken"),
        _EXPIRED,
    ),
    "RequestTimeTooSkewed": _CLOCK,
    **dict.fromkeys(_TRANSIENT_CODES, _THROTTLED),
}
_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "AllAccessDisabled", "403"})
_WRONG_REGION = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
)


def diagnose(
    exc: BaseException, *, action: str = "", bucket: str = "", distribution: str = ""
) -> Diagnosis | None:
    """Classify an AWS failure (None when it is none we know). ``action`` (an IAM action such
    as s3:PutObject), ``bucket`` and ``distribution`` make the advice name what was asked."""
    if isinstance(exc, BotoCoreError):
        return _local_failure(exc)
    if not isinstance(exc, ClientError):
        return None
    code, status = error_code(exc), http_status(exc)
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code in _DENIED or (status == 403 and not code):
        return _denied(action, bucket or distribution, code)
    if code == "NoSuchBucket":
        store = ", and AWS_ENDPOINT_URL, which points at another store" if _endpoint() else ""
        return Diagnosis(
            "no_such_bucket",
            f"the bucket {bucket or 'named'} does not exist",
            f"Check the bucket name in --target or [publish] target{store}.",
        )
    if code == "NoSuchDistribution":
        return Diagnosis(
            "no_such_distribution",
            f"there is no distribution {distribution or 'with this id'} in this AWS account",
            "Check the id in --cloudfront or [publish] cloudfront (aws cloudfront "
            "list-distributions), and that these credentials belong to the account that owns it.",
        )
    if code in _WRONG_REGION or status == 301:
        return _wrong_region(exc)
    if status == 429 or status >= 500:
        return Diagnosis("service_error", f"AWS kept failing (HTTP {status})", _THROTTLED.advice)
    return None


def _local_failure(exc: BotoCoreError) -> Diagnosis | None:
    """Failures before any answer: no credentials, no connection."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return Diagnosis("no_credentials", "no AWS credentials were found", CREDENTIALS_ADVICE)
    if isinstance(exc, SSOError | TokenRetrievalError):
        return Diagnosis(
            "no_credentials",
            "the AWS SSO session is missing or has expired",
            "Run aws sso login (with this AWS_PROFILE), then run again.",
        )
    if isinstance(exc, ProfileNotFound | ConfigParseError | CredentialRetrievalError):
        return Diagnosis(
            "no_credentials",
            "the AWS credentials could not be loaded",
            "Check AWS_PROFILE against aws configure list-profiles, and the files "
            "AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE (~/.aws/config, ~/.aws/credentials).",
        )
    if isinstance(exc, ProxyConnectionError):
        return Diagnosis(
            "endpoint_unreachable",
            "could not connect to the proxy",
            "Check HTTPS_PROXY / HTTP_PROXY and that the proxy is up.",
        )
    if isinstance(exc, SSLError):
        return Diagnosis(
            "endpoint_unreachable",
            f"the TLS certificate of {_host(exc)} could not be verified",
            "Check AWS_CA_BUNDLE, or the proxy that intercepts TLS on this network.",
        )
    if isinstance(exc, ConnectionError | ReadTimeoutError | ConnectionClosedError):
        return Diagnosis("endpoint_unreachable", f"could not reach {_host(exc)}", _network_advice())
    return None


def _denied(action: str, resource: str, code: str) -> Diagnosis:
    may = f"may not {action}" if action else "lack a permission this needs"
    where = f" on {resource}" if resource else ""
    # A HEAD answer has no body: botocore only knows "403", which an unknown key also gets.
    headless = (
        " (the answer gave no reason: an unknown key looks the same)" if code == "403" else ""
    )
    return Diagnosis(
        "access_denied",
        "access denied" + (f" to {action}" if action else "") + headless,
        f"These credentials {may}{where}: attach the publisher policy (sitegen infra "
        "cloudformation) to the user or role that publishes.",
    )


def _wrong_region(exc: ClientError) -> Diagnosis:
    error = exc.response.get("Error", {})
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    region = str(error.get("Region") or headers.get("x-amz-bucket-region") or "")
    where = f" ({region})" if region else ""
    return Diagnosis(
        "wrong_region",
        f"the bucket is in another region{where}",
        f"Set AWS_REGION={region or '<the bucket region>'} (or the profile's region), then "
        "run again.",
    )


def _endpoint() -> str:
    """AWS_ENDPOINT_URL as scheme://host[:port] (no user, path or query), or ""."""
    value = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


def _host(exc: BotoCoreError) -> str:
    url = str(exc.kwargs.get("endpoint_url", ""))
    parts = urlsplit(url)
    if not parts.hostname:
        return "the AWS endpoint"
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


def _network_advice() -> str:
    endpoint = _endpoint()
    if endpoint:
        return (
            f"AWS_ENDPOINT_URL sends every AWS request to {endpoint}: check that this store is "
            "running and reachable, or unset AWS_ENDPOINT_URL to use AWS."
        )
    return "Check this machine's network (DNS, firewall, HTTPS_PROXY), then run again."


def explain(
    exc: BaseException, *, action: str = "", bucket: str = "", distribution: str = ""
) -> str:
    """``describe(exc)``, preceded by what it means and followed by what to do, when known."""
    found = diagnose(exc, action=action, bucket=bucket, distribution=distribution)
    if found is None:
        return describe(exc)
    return f"{found.summary} ({describe(exc).rstrip('. ')}). {found.advice}"


# Objects stored gzip-encoded (`Content-Encoding: gzip`): the bundle manifest only. It is
# sitegen's own record, ~310 bytes a file (7 MB at 10,000 alerts, 35 MB at 50,000), and every
# publish GETs the remote one and PUTs the new one; gzip makes it ~6x smaller on the wire.
# What it represents is unchanged: its sha256 metadata and the manifest id (sha256) are those of
# the decoded bytes, which are the local manifest byte for byte. Pages and feeds are stored as
# they are: S3 ignores Accept-Encoding, and a reader must never get bytes it cannot decode.
GZIP_LEVEL = 6  # 7 MB: 61 ms to 1.14 MB (level 1: 31 ms to 1.27 MB; 9: 157 ms to 1.12 MB)
MAX_DECODED = 1 << 30  # a gzip body that would decode to more is not ours: kept as it is
_NO_CODING = frozenset({"", "identity", "aws-chunked"})  # labels that leave the bytes as they are


def encode_gzip(data: bytes) -> bytes:
    """Deterministic gzip (no name, no time in the header): the same bytes give the same body."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    return packer.compress(data) + packer.flush()


def decoded_body(response: Any) -> bytes:
    """A GetObject answer's bytes as an HTTP client sees them: a gzip-encoded body decoded.
    A body that does not decode (truncated, not gzip, a store that decoded it already, or
    more than MAX_DECODED) is returned as stored: the caller checks it as it checks any bytes
    (a manifest that does not parse is "corrupt" and the publisher lists the bucket instead)."""
    data = bytes(response["Body"].read())
    # S3 drops the `aws-chunked` botocore adds to an upload's encodings over HTTPS; some
    # S3-compatible stores keep it ("gzip,aws-chunked"): it says nothing about the bytes.
    label = str(response.get("ContentEncoding", "")).lower()
    codings = [c for c in (c.strip() for c in label.split(",")) if c not in _NO_CODING]
    if codings != ["gzip"]:
        return data
    unpacker = zlib.decompressobj(31)
    try:
        decoded = unpacker.decompress(data, MAX_DECODED)
    except zlib.error:
        return data
    if not unpacker.eof or unpacker.unconsumed_tail or unpacker.unused_data:
        return data
    return decoded
