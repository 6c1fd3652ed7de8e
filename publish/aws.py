"""What the S3 target and the CloudFront client share: client config, error classes, messages;
and how S3 objects are encoded on the wire (the S3 target and rollback's history read them)."""

from __future__ import annotations

import os
import threading
import zlib
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

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


def client_config(max_pool: int = 16, botocore_attempts: int = 3) -> Config:
    """boto3 client settings: botocore's own standard retries (few, capped), a connection pool
    sized for our upload threads, and timeouts so a dead connection cannot hang a publish.

    Our ``call_with_retries`` wraps each call on top, with longer jittered backoff, so a burst of
    SlowDown is waited out without botocore's fixed attempt budget running out.
    """
    return Config(
        retries={"mode": "standard", "max_attempts": botocore_attempts},
        max_pool_connections=max_pool,
        connect_timeout=10,
        read_timeout=60,
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
