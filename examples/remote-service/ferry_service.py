#!/usr/bin/env python3
"""The reference service of ferry's connector protocol (`ferry-connector/1`).

One file, Python 3.11, standard library only. It imports and exports every vertical
ferry has (contacts, calendar, tasks, mail, media, files, notes, social, conversations,
playlists, health, finance, orders) for many accounts,
stores what it is given durably, and answers every request of
docs/connector-protocol.md. Copy it to write a service of your own: each part below
says which part of the protocol it is.

    python3 ferry_service.py --data DIR --listen 127.0.0.1:8080 --token secret-token

The parts, in order:

1. Errors          - ApiError and the status of each error code.
2. Settings        - the command line.
3. Request bodies  - bounded, streamed reading (Content-Length and chunked) and JSON
                     with a nesting limit.
4. Authentication  - bearer tokens, the OAuth 2.0 token endpoint, request signatures.
5. Limits          - requests a second and a daily quota per account.
6. Storage         - one account: content by hash, items as JSON files, the index.
7. Items           - checking an item that is put, and the item that is exported.
8. HTTP            - the request handler: routing and one method per request.
9. Start-up        - main().
"""

from __future__ import annotations

import argparse
import base64
import bisect
import binascii
import calendar
import datetime as dt
import errno
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROTOCOL = "ferry-connector/1"
SERVICE_NAME = "ferry reference service"

# The verticals this service keeps, each with the `type` of its records.
RECORD_TYPES = {
    "contacts": "contact",
    "calendar": "event",
    "tasks": "task",
    "mail": "mail",
    "media": "media",
    "files": "file",
    "notes": "note",
    "social": "social",
    "conversations": "conversation",
    "playlists": "playlist",
    "health": "health",
    "finance": "finance",
    "orders": "order",
}
VERTICAL_OF_TYPE = {record_type: vertical for vertical, record_type in RECORD_TYPES.items()}

CHUNK = 64 * 1024  # bytes read or written at a time
JSON_MAX_BYTES = 16 * 1024 * 1024  # largest JSON request body
FORM_MAX_BYTES = 64 * 1024  # largest token request
JSON_MAX_DEPTH = 64  # deepest nesting of a JSON request body
SIGNATURE_WINDOW = 300  # seconds a signed request's timestamp may be away from our clock
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

ACCOUNT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
DEST_ID = re.compile(r"[0-9a-f]{32}")
SAFE_MEDIA_TYPE = re.compile(r"[\x21-\x7e]{1,100}/[\x20-\x7e]{1,200}")  # fit for a Content-Type header


# ---------------------------------------------------------------------------------------
# 1. Errors
# ---------------------------------------------------------------------------------------

# The table of docs/connector-protocol.md, "Errors", plus the few HTTP-level codes.
STATUS_OF = {
    "invalid_request": 400,
    "digest_mismatch": 400,
    "invalid_token": 401,
    "invalid_signature": 401,
    "insufficient_scope": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "sync_token_expired": 410,
    "too_large": 413,
    "unsupported": 422,
    "rate_limited": 429,
    "quota_exhausted": 429,
    "internal": 500,
    "not_implemented": 501,
    "unavailable": 503,
    "destination_full": 507,
}


class ApiError(Exception):
    """An error answer: `{"error": {"code", "message", ...extra}}` with the code's status.

    `headers` are sent with it (Retry-After, WWW-Authenticate, Allow); `extra` goes into
    the error object (retry_after, resume_at)."""

    def __init__(self, code: str, message: str, headers: dict | None = None, **extra):
        super().__init__(message)
        self.code = code
        self.status = STATUS_OF[code]
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class OAuthError(Exception):
    """An error of the token endpoint, in the shape of RFC 6749 §5.2 (what OAuth clients
    read): `{"error": "invalid_grant", "error_description": "..."}`."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class DamagedItem(Exception):
    """A stored item that cannot be read back; it is exported as a failure."""


# ---------------------------------------------------------------------------------------
# 2. Settings
# ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (every option is described in README.md)."""
    p = argparse.ArgumentParser(description="The reference service of ferry's connector protocol.")
    p.add_argument("--data", required=True, type=Path, help="folder holding the accounts")
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0 picks a free one)")
    p.add_argument("--token", action="append", default=[], help="a static bearer token (repeatable)")
    p.add_argument("--key", action="append", default=[], help="KEYID:SECRET for signatures (repeatable)")
    p.add_argument("--client-id", help="OAuth client id the token endpoint requires")
    p.add_argument("--client-secret", help="OAuth client secret the token endpoint requires")
    p.add_argument("--token-lifetime", type=int, default=3600, help="seconds an issued access token lives")
    p.add_argument("--rate", type=float, help="requests a second per account")
    p.add_argument("--daily-quota", type=int, help="requests a UTC day per account")
    p.add_argument("--page-size-max", type=int, default=500)
    p.add_argument("--batch-max", type=int, default=100)
    p.add_argument("--content-max-bytes", type=int, default=1024**3)
    p.add_argument("--test-hooks", action="store_true", help="serve POST /_test/... (tests only)")
    p.add_argument("--publish-limits", action="store_true",
                   help="say --rate and --daily-quota in GET / (`limits`), so that clients pace themselves")
    args = p.parse_args(argv)

    if not args.token and not args.key:
        p.error("give at least one --token or --key: nobody could use the service otherwise")
    keys = {}
    for given in args.key:
        key_id, sep, secret = given.partition(":")
        if not sep or not key_id or not secret:
            p.error(f"--key wants KEYID:SECRET, not {given.split(':')[0]!r}...")
        keys[key_id] = secret
    args.keys = keys
    if args.client_secret and not args.client_id:
        p.error("--client-secret needs --client-id")
    for name in ("token_lifetime", "page_size_max", "batch_max", "content_max_bytes"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rate is not None and args.rate <= 0:
        p.error("--rate must be above 0")
    if args.daily_quota is not None and args.daily_quota < 0:
        p.error("--daily-quota must be 0 or more")
    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        p.error("--listen wants HOST:PORT")
    args.host, args.port = host.strip("[]") or "127.0.0.1", int(port)
    return args


# ---------------------------------------------------------------------------------------
# 3. Request bodies
# ---------------------------------------------------------------------------------------


class BodyReader:
    """Reads one request body in pieces of at most 64 KiB, never more than `limit` bytes.

    A body is given by `Content-Length` or `Transfer-Encoding: chunked` (or is empty).
    A Content-Length above the limit is refused (413) before a byte is read. While it
    reads it hashes the body; when the request was signed, the end of the body checks the
    hash against `Ferry-Content-SHA256` (401 invalid_signature when it differs)."""

    def __init__(self, handler: "Handler", limit: int, declared_sha256: str | None):
        self.handler = handler
        self.rfile = handler.rfile
        self.limit = limit
        self.declared = declared_sha256
        self.size = 0
        self.sha256 = hashlib.sha256()
        headers = handler.headers
        encoding = headers.get("Transfer-Encoding")
        lengths = headers.get_all("Content-Length") or []
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise ApiError("invalid_request", "only Transfer-Encoding: chunked is understood")
            self.chunked, self.length = True, None
        elif lengths:
            values = {v.strip() for v in lengths}
            value = values.pop()
            if values or not re.fullmatch(r"[0-9]{1,19}", value):
                raise ApiError("invalid_request", "Content-Length is not one decimal number")
            self.chunked, self.length = False, int(value)
            if self.length > limit:
                raise ApiError("too_large", f"the body is {self.length} bytes; this request takes at most {limit}")
        else:
            self.chunked, self.length = False, 0

    def chunks(self):
        """Yields the body piece by piece; raises ApiError on a short, malformed or
        too large body, or a signed body whose hash is not the declared one."""
        self.handler.send_continue()
        if self.chunked:
            yield from self._chunked()
        else:
            yield from self._exactly(self.length)
        self.handler.body_pending = False
        self._check_declared_hash()

    def read_all(self) -> bytes:
        return b"".join(self.chunks())

    def _exactly(self, n: int):
        while n > 0:
            piece = self.rfile.read(min(CHUNK, n))
            if not piece:
                raise ApiError("invalid_request", f"the body ended early, after {self.size} bytes")
            n -= len(piece)
            self.size += len(piece)
            self.sha256.update(piece)
            yield piece

    def _chunked(self):
        # RFC 9112 §7.1: chunk-size [; extensions] CRLF, data CRLF, ..., 0 CRLF, trailers, CRLF
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise ApiError("invalid_request", "the chunked body is malformed or ended early")
            size_text = line.split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,15}", size_text):
                raise ApiError("invalid_request", "the chunked body has a malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                break
            if self.size + size > self.limit:
                raise ApiError("too_large", f"the body is over {self.limit} bytes, the most this request takes")
            yield from self._exactly(size)
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise ApiError("invalid_request", "a chunk of the body is not followed by CRLF")
        for _ in range(64):  # trailer fields, then an empty line
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n"):
                return
            if not line.endswith(b"\n"):
                break
        raise ApiError("invalid_request", "the chunked body's trailer is malformed")

    def _check_declared_hash(self):
        if self.declared is not None and not hmac.compare_digest(self.declared, self.sha256.hexdigest()):
            raise signature_error("the body's SHA-256 is not the one in Ferry-Content-SHA256")


# One regex finds every JSON string (skipped whole) and every bracket, so that the depth
# of a body is known before json.loads, which recurses, ever sees it.
_JSON_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def parse_json(data: bytes, max_depth: int = JSON_MAX_DEPTH):
    """JSON from a request body: UTF-8, at most `max_depth` levels deep, no NaN."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("invalid_request", "the body is not UTF-8") from None
    depth = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise ApiError("invalid_request", f"the JSON is nested more than {max_depth} levels deep")
        elif char in "]}":
            depth -= 1

    def refuse_constant(name):
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as e:
        raise ApiError("invalid_request", f"the body is not JSON: {e}") from None


def canonical_json(value) -> bytes:
    """One byte form per JSON value: what the service's `version` is the hash of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


# ---------------------------------------------------------------------------------------
# 4. Authentication
# ---------------------------------------------------------------------------------------


def signature_error(message: str) -> ApiError:
    return ApiError(
        "invalid_signature", message,
        headers={"WWW-Authenticate": 'Ferry-HMAC-SHA256 realm="ferry", error="invalid_signature"'},
    )


def same_secret(given: str, expected: str) -> bool:
    """Compares two secrets in constant time."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


class Authenticator:
    """Checks a request's credentials: `Authorization: Bearer ...` (a static --token, or
    an access token issued by our token endpoint) or `Authorization: Ferry-HMAC-SHA256
    ...` (a signature made with a --key's secret).

    `check()` answers the declared SHA-256 of the body for a signed request (the body is
    checked against it once read), None for a bearer token, or raises ApiError 401."""

    def __init__(self, args: argparse.Namespace):
        self.static_tokens = list(args.token)
        self.keys = dict(args.keys)
        self.lifetime = args.token_lifetime
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.lock = threading.Lock()
        self.issued = {}  # SHA-256 of an issued access token -> when it expires (Unix time)

    def schemes(self) -> list[str]:
        return (["bearer"] if self.static_tokens else []) + (["signature"] if self.keys else [])

    def token_error(self, message: str) -> ApiError:
        headers = {"WWW-Authenticate": f'Bearer realm="ferry", error="invalid_token", error_description="{message}"'}
        return ApiError("invalid_token", message, headers=headers)

    def check(self, method: str, target: str, headers) -> str | None:
        authorization = headers.get("Authorization")
        if not authorization:
            if not self.static_tokens:
                raise signature_error("this request needs a signature")
            raise self.token_error("this request needs credentials")
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme.lower() == "bearer":
            self.check_bearer(rest.strip())
            return None
        if scheme.lower() == "ferry-hmac-sha256":
            return self.check_signature(method, target, headers, rest)
        raise self.token_error("that authorization scheme is not accepted (Bearer or Ferry-HMAC-SHA256)")

    # --- bearer tokens (RFC 6750) ---

    def check_bearer(self, token: str) -> None:
        if any(same_secret(token, t) for t in self.static_tokens):
            return
        with self.lock:
            expires = self.issued.get(hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest())
        if expires is None:
            raise self.token_error("the access token is not known")
        if time.time() >= expires:
            raise self.token_error("the access token has expired")

    def issue_access_token(self) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.lock:
            self.issued = {h: t for h, t in self.issued.items() if t > now}  # forget expired ones
            self.issued[hashlib.sha256(token.encode()).hexdigest()] = now + self.lifetime
        return token

    # --- the token endpoint (RFC 6749 §6, refreshing an access token) ---

    def refresh(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict:
        """The answer to `grant_type=refresh_token`, or OAuthError."""
        if basic is not None and ("client_secret" in form):
            raise OAuthError(400, "invalid_request", "the client authenticated twice (HTTP Basic and the form)")
        client_id, client_secret = basic if basic is not None else (form.get("client_id"), form.get("client_secret"))
        self.check_client(client_id, client_secret)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is missing")
        if grant_type != "refresh_token":
            raise OAuthError(400, "unsupported_grant_type", "only the refresh_token grant is served")
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            raise OAuthError(400, "invalid_request", "refresh_token is missing")
        if not any(same_secret(refresh_token, t) for t in self.static_tokens):
            raise OAuthError(400, "invalid_grant", "the refresh token is not valid")
        return {
            "access_token": self.issue_access_token(),
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "refresh_token": refresh_token,  # it stays valid
            "scope": "export import",
        }

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        if self.client_id is None:
            return  # no client registered: any client may refresh
        if client_id is None or not same_secret(client_id, self.client_id):
            raise OAuthError(401, "invalid_client", "the client is not known")
        if self.client_secret is not None and (client_secret is None or not same_secret(client_secret, self.client_secret)):
            raise OAuthError(401, "invalid_client", "the client's secret is wrong")

    # --- request signatures (docs/connector-protocol.md, "Authentication") ---

    def check_signature(self, method: str, target: str, headers, params_text: str) -> str:
        if not self.keys:
            raise signature_error("this service does not accept signatures")
        params = dict(re.findall(r'([A-Za-z]+)\s*=\s*"([^"]*)"', params_text))
        key_id, signature = params.get("keyId"), params.get("signature")
        if key_id is None or signature is None:
            raise signature_error('the Authorization header wants keyId="..." and signature="..."')
        timestamp = headers.get("Ferry-Timestamp", "").strip()
        content_sha256 = headers.get("Ferry-Content-SHA256", "").strip()
        if not re.fullmatch(r"[0-9]{1,12}", timestamp):
            raise signature_error("Ferry-Timestamp is missing or not Unix seconds")
        if not re.fullmatch(r"[0-9a-fA-F]{64}", content_sha256):
            raise signature_error("Ferry-Content-SHA256 is missing or not a hex SHA-256")
        secret = self.keys.get(key_id)
        if secret is None:
            raise signature_error("the key id is not known")
        # The request line was decoded as Latin-1, so encoding it back gives the bytes sent.
        to_sign = f"{method}\n{target}\n{timestamp}\n{content_sha256}".encode("latin-1", "replace")
        expected = hmac.new(secret.encode("utf-8"), to_sign, hashlib.sha256).digest()
        try:
            given = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise signature_error("the signature is not base64") from None
        if not hmac.compare_digest(given, expected):
            raise signature_error("the signature does not match")
        if abs(time.time() - int(timestamp)) > SIGNATURE_WINDOW:
            raise signature_error(f"Ferry-Timestamp is more than {SIGNATURE_WINDOW} seconds away from the service's clock")
        return content_sha256.lower()


# ---------------------------------------------------------------------------------------
# 5. Limits
# ---------------------------------------------------------------------------------------


def next_utc_midnight(now: float) -> float:
    day = dt.datetime.fromtimestamp(now, dt.timezone.utc).date() + dt.timedelta(days=1)
    return float(calendar.timegm(day.timetuple()))


def rfc3339(when: float) -> str:
    return dt.datetime.fromtimestamp(round(when), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Limits:
    """Requests a second (a token bucket of `rate` tokens, refilled at `rate` a second)
    and a daily quota (reset at UTC midnight) for one account. `take()` counts one
    request or raises 429 rate_limited / quota_exhausted."""

    def __init__(self, rate: float | None, daily_quota: int | None):
        self.lock = threading.Lock()
        self.rate = rate
        self.capacity = max(rate or 0.0, 1.0)  # the burst a client may send at once
        self.bucket = self.capacity
        self.filled_at = time.monotonic()
        self.daily_quota = daily_quota
        self.remaining = daily_quota  # None: no quota
        self.reset_at = next_utc_midnight(time.time())

    def take(self) -> None:
        with self.lock:
            self._refill_quota()
            if self.rate is not None:
                now = time.monotonic()
                self.bucket = min(self.capacity, self.bucket + (now - self.filled_at) * self.rate)
                self.filled_at = now
                if self.bucket < 1:
                    raise ApiError("rate_limited", f"at most {self.rate:g} requests a second",
                                   headers={"Retry-After": "1"}, retry_after=1)
            if self.remaining is not None and self.remaining <= 0:
                wait = max(1, int(self.reset_at - time.time() + 0.999))
                raise ApiError("quota_exhausted", "the account's daily quota of requests is used up",
                               headers={"Retry-After": str(wait)}, retry_after=wait, resume_at=rfc3339(self.reset_at))
            if self.rate is not None:
                self.bucket -= 1
            if self.remaining is not None:
                self.remaining -= 1

    def _refill_quota(self) -> None:
        now = time.time()
        if now >= self.reset_at:
            self.remaining = self.daily_quota
            self.reset_at = next_utc_midnight(now)

    def set_quota(self, remaining: int, reset_in_seconds: float) -> None:
        """The test hook: `remaining` requests until `reset_in_seconds` from now."""
        with self.lock:
            self.remaining = remaining
            self.reset_at = time.time() + reset_in_seconds


# ---------------------------------------------------------------------------------------
# 6. Storage
# ---------------------------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
    """Makes a rename in `path` durable (where the platform allows it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def create_temp(folder: Path) -> tuple[int, Path]:
    """A new temporary file in `folder`, created exclusively (never an existing one)."""
    while True:
        path = folder / f".tmp-{secrets.token_hex(8)}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600), path
        except FileExistsError:
            continue


def write_file_atomically(path: Path, data: bytes) -> None:
    """Writes `data` to a temp file, fsyncs it and renames it over `path`: after a crash
    `path` holds either the old or the new data, never a part."""
    fd, tmp = create_temp(path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_dir(path.parent)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def disk_errors(e: OSError) -> ApiError | None:
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return ApiError("destination_full", "the service's disk is full")
    return None


def container_id(vertical: str, path: str) -> str:
    """The opaque, stable id of a container: base64url of `vertical NUL path`."""
    raw = f"{vertical}\0{path}".encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def parse_container_id(cid: str) -> tuple[str, str]:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,4096}", cid):
        raise ApiError("not_found", "no such container")
    try:
        raw = base64.urlsafe_b64decode(cid + "=" * (-len(cid) % 4)).decode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError):
        raise ApiError("not_found", "no such container") from None
    vertical, sep, path = raw.partition("\0")
    if not sep:
        raise ApiError("not_found", "no such container")
    return vertical, path


def dest_id_of(source: str, vertical: str, item_id: str) -> str:
    """The key of an item in this service: a hash of (source, vertical, id). It is
    hashed as a JSON array so that no two keys give the same bytes."""
    key = json.dumps([source, vertical, item_id], ensure_ascii=True).encode()
    return hashlib.sha256(key).hexdigest()[:32]


class Entry:
    """What the in-memory index knows of one stored item (the item itself stays on disk)."""

    __slots__ = ("vertical", "container", "version", "seq", "damaged")

    def __init__(self, vertical, container, version, seq, damaged=None):
        self.vertical = vertical
        self.container = container
        self.version = version
        self.seq = seq
        self.damaged = damaged  # why the stored file cannot be read, or None


class Account:
    """One account's data, in `DIR/{account}/`:

        content/{sha256}              the bytes of each content stream
        items/{vertical}/{dest_id}.json   one item each: {"key", "seq", "version", "item"}
        state.json                    {"seq", "min_valid_seq"} (written when tokens expire)
        finished.jsonl                one line per finished transfer

    Every file is written to a temp file and renamed into place. The index (which items,
    in which containers, their versions and sequence numbers) is kept in memory and
    rebuilt from the files at start-up; a file that cannot be read is kept in the index
    as damaged and exported as a failure.

    Sync: every write gives the item `seq = ++self.seq`; a sync token is a seq; a token
    below `min_valid_seq` (or above `seq`) is expired."""

    def __init__(self, root: Path, limits: Limits):
        self.root = root
        self.limits = limits
        self.lock = threading.Lock()
        self.content_dir = root / "content"
        self.items_dir = root / "items"
        self.entries: dict[str, Entry] = {}
        self.containers: dict[str, dict[str, list[str]]] = {v: {} for v in RECORD_TYPES}  # sorted dest_ids
        self.media_types: dict[str, str] = {}
        self.seq = 0
        self.min_valid_seq = 0
        self.content_dir.mkdir(parents=True, exist_ok=True)
        self.items_dir.mkdir(exist_ok=True)
        self._load()

    # --- start-up ---

    def _load(self) -> None:
        for leftover in self.content_dir.glob(".tmp-*"):
            leftover.unlink(missing_ok=True)  # a crash left it; its upload was never answered
        state = self._read_state()
        self.seq, self.min_valid_seq = state.get("seq", 0), state.get("min_valid_seq", 0)
        for vertical in RECORD_TYPES:
            folder = self.items_dir / vertical
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.startswith(".tmp-"):
                    path.unlink(missing_ok=True)
                elif DEST_ID.fullmatch(path.stem) and path.suffix == ".json":
                    self._load_one(vertical, path.stem)
        if any(e.damaged for e in self.entries.values()):
            # A damaged item's seq is unknown (maybe it was the highest): every sync token
            # given before expires, so that no later write can hide behind an old token.
            self.expire_sync_tokens()

    def _read_state(self) -> dict:
        try:
            state = json.loads((self.root / "state.json").read_bytes())
            if isinstance(state, dict) and all(isinstance(state.get(k, 0), int) for k in ("seq", "min_valid_seq")):
                return state
        except (OSError, ValueError):
            pass
        return {}

    def _load_one(self, vertical: str, dest_id: str) -> None:
        try:
            stored = self.read_stored(vertical, dest_id)
        except DamagedItem as e:
            # Its container is unknown: it is listed, as a failure, in the default container.
            self._index(dest_id, Entry(vertical, "", None, 0, damaged=str(e)))
            return
        item = stored["item"]
        self._index(dest_id, Entry(vertical, item["container"], stored["version"], stored["seq"]))
        self._note_media_types(item)
        self.seq = max(self.seq, stored["seq"])

    def read_stored(self, vertical: str, dest_id: str) -> dict:
        """One stored item from its file, checked; DamagedItem when it cannot be read."""
        path = self.items_dir / vertical / f"{dest_id}.json"
        try:
            stored = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise DamagedItem("the stored item is missing") from None
        except (OSError, ValueError, RecursionError) as e:
            raise DamagedItem(f"the stored item cannot be read: {e}") from None
        ok = (
            isinstance(stored, dict)
            and isinstance(stored.get("seq"), int)
            and isinstance(stored.get("version"), str)
            and isinstance(stored.get("key"), dict)
            and isinstance(stored.get("item"), dict)
            and isinstance(stored["item"].get("container"), str)
            and isinstance(stored["item"].get("record"), dict)
        )
        if not ok:
            raise DamagedItem("the stored item is damaged: fields are missing")
        key = stored["key"]
        if dest_id_of(key.get("source"), vertical, key.get("id")) != dest_id:
            raise DamagedItem("the stored item is damaged: it is not the item its name says")
        return stored

    # --- the index ---

    def _index(self, dest_id: str, entry: Entry) -> None:
        old = self.entries.get(dest_id)
        if old is not None and old.container != entry.container:
            ids = self.containers[old.vertical][old.container]
            del ids[bisect.bisect_left(ids, dest_id)]
            if not ids:
                del self.containers[old.vertical][old.container]
        if old is None or old.container != entry.container:
            bisect.insort(self.containers[entry.vertical].setdefault(entry.container, []), dest_id)
        self.entries[dest_id] = entry

    def _note_media_types(self, item: dict) -> None:
        for ref in content_refs(item):
            sha256, media_type = ref.get("sha256"), ref.get("media_type")
            if isinstance(sha256, str) and isinstance(media_type, str) and SAFE_MEDIA_TYPE.fullmatch(media_type):
                self.media_types[sha256] = media_type

    # --- content ---

    def content_path(self, sha256: str) -> Path:
        return self.content_dir / sha256

    def content_size(self, sha256: str) -> int | None:
        try:
            return self.content_path(sha256).stat().st_size
        except OSError:
            return None

    def store_content(self, sha256: str, chunks) -> tuple[bool, int]:
        """Streams a body into `content/{sha256}`: a temp file first, renamed into place
        only when the bytes' hash is the one in the path. Answers (created, size)."""
        fd, tmp = create_temp(self.content_dir)
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as f:
                for piece in chunks:
                    digest.update(piece)
                    size += len(piece)
                    f.write(piece)
                f.flush()
                os.fsync(f.fileno())
            if digest.hexdigest() != sha256:
                raise ApiError("digest_mismatch", f"the body's SHA-256 is {digest.hexdigest()}, not the one in the path")
            final = self.content_path(sha256)
            created = not final.exists()
            os.replace(tmp, final)
            tmp = None
            fsync_dir(self.content_dir)
            return created, size
        except OSError as e:
            raise disk_errors(e) or e
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)

    # --- items ---

    def put_item(self, vertical: str, key: dict, item: dict) -> tuple[str, bool]:
        """Stores an item under its key; answers (dest_id, created). The same item again
        (same JSON, so the same version) writes nothing and says created=False."""
        dest_id = dest_id_of(key["source"], vertical, key["id"])
        version = hashlib.sha256(canonical_json(item)).hexdigest()
        with self.lock:
            old = self.entries.get(dest_id)
            if old is not None and old.version == version and old.damaged is None:
                return dest_id, False
            folder = self.items_dir / vertical
            folder.mkdir(exist_ok=True)
            seq = self.seq + 1
            stored = {"key": key, "seq": seq, "version": version, "item": item}
            try:
                write_file_atomically(folder / f"{dest_id}.json", canonical_json(stored))
            except OSError as e:
                raise disk_errors(e) or e
            self.seq = seq
            self._index(dest_id, Entry(vertical, item["container"], version, seq))
            self._note_media_types(item)
        return dest_id, True

    def container_paths(self, vertical: str) -> list[str]:
        with self.lock:
            return sorted(self.containers[vertical])

    def page(self, vertical: str, path: str, limit: int, cursor: str | None, since: int | None) -> dict:
        """One page of a container's items (or, with `since`, of those changed after that
        sync token), in dest_id order.

        The cursor is `LAST_DEST_ID.START_SEQ`: the page resumes after LAST_DEST_ID, and
        START_SEQ is the account's seq when the listing began. The last page gives it as
        the sync token, so that an item written while the listing was paged through (maybe
        before the cursor) is in the next changes listing."""
        after, start_seq = "", None
        if cursor is not None:
            m = re.fullmatch(r"([0-9a-f]{32})\.([0-9]{1,18})", cursor)
            if not m:
                raise ApiError("invalid_request", "the cursor is not one this service gave")
            after, start_seq = m.group(1), int(m.group(2))
        with self.lock:
            if since is not None and not (self.min_valid_seq <= since <= self.seq):
                raise ApiError("sync_token_expired", "the sync token is too old (or not one of this service's): list the container in full")
            if start_seq is None:
                start_seq = self.seq
            ids = self.containers[vertical].get(path)
            if ids is None:
                raise ApiError("not_found", "no such container")
            chosen, more = [], False
            for dest_id in ids[bisect.bisect_right(ids, after):]:
                entry = self.entries[dest_id]
                if since is not None and entry.seq <= since:
                    continue
                if len(chosen) == limit:
                    more = True
                    break
                chosen.append((dest_id, entry.damaged))
        items, failures = [], []
        for dest_id, damaged in chosen:  # read outside the lock: a rename is atomic
            try:
                if damaged:
                    raise DamagedItem(damaged)
                items.append(exported_item(dest_id, self.read_stored(vertical, dest_id)))
            except DamagedItem as e:
                failures.append({"id": dest_id, "reason": str(e)})
        last = chosen[-1][0] if chosen else after
        return {
            "items": items,
            "failures": failures,
            "next_cursor": f"{last}.{start_seq}" if more else None,
            "sync_token": None if more else str(start_seq),
        }

    def expire_sync_tokens(self) -> int:
        """Every sync token given so far expires (the test hook, and start-up when an item
        is damaged). The seq moves on by one (no item takes it) and becomes the lowest
        valid token, so that a full listing made now gives a valid token."""
        with self.lock:
            self.seq += 1
            self.min_valid_seq = self.seq
            write_file_atomically(self.root / "state.json", canonical_json({"seq": self.seq, "min_valid_seq": self.min_valid_seq}))
            return self.min_valid_seq

    def finish(self, job: str, count: int | None) -> None:
        """Records a finished transfer once in finished.jsonl (a resumed job sends it again)."""
        line = canonical_json({"job": job, "items": count})
        path = self.root / "finished.jsonl"
        with self.lock:
            try:
                with open(path, "rb") as f:
                    if any(json_line_is(existing, line) for existing in f):
                        return
            except FileNotFoundError:
                pass
            try:
                with open(path, "ab") as f:
                    f.write(line + b"\n")
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as e:
                raise disk_errors(e) or e


def json_line_is(existing: bytes, line: bytes) -> bool:
    try:
        record = json.loads(existing)
    except ValueError:
        return False
    return isinstance(record, dict) and canonical_json({"job": record.get("job"), "items": record.get("items")}) == line


# ---------------------------------------------------------------------------------------
# 7. Items
# ---------------------------------------------------------------------------------------


def content_refs(item: dict) -> list[dict]:
    """The content references of an item: its `content` and each attachment's."""
    refs = []
    if isinstance(item.get("content"), dict):
        refs.append(item["content"])
    for field in ("attachments", "attached"):
        for attachment in item.get(field) or []:
            if isinstance(attachment, dict) and isinstance(attachment.get("content"), dict):
                refs.append(attachment["content"])
    return refs


def check_content_ref(ref, where: str) -> None:
    if not isinstance(ref, dict):
        raise ApiError("invalid_request", f"{where} is not an object")
    if not (isinstance(ref.get("sha256"), str) and SHA256_HEX.fullmatch(ref["sha256"])):
        raise ApiError("invalid_request", f"{where}.sha256 is not a lowercase hex SHA-256")
    size = ref.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ApiError("invalid_request", f"{where}.size is not a byte count")
    if "media_type" in ref and not isinstance(ref["media_type"], str):
        raise ApiError("invalid_request", f"{where}.media_type is not a string")


def vertical_of_record(record: dict) -> str | None:
    """contact -> contacts, event -> calendar, ...; a record of another type names its
    vertical in `record.vertical`."""
    if record.get("type") in VERTICAL_OF_TYPE:
        return VERTICAL_OF_TYPE[record["type"]]
    vertical = record.get("vertical")
    return vertical if isinstance(vertical, str) else None


def check_item(given, path_vertical: str | None, path_id: str | None) -> tuple[str, dict, dict]:
    """Checks an item that is put (by PUT items/{vertical}/{id}, or in a batch, where the
    vertical is the item's `vertical` or its record's). Answers (vertical, key, item):
    the item as it will be stored, everything given kept but the envelope (`vertical`)."""
    if not isinstance(given, dict):
        raise ApiError("invalid_request", "an item is a JSON object")
    item = {k: v for k, v in given.items() if k != "vertical"}
    record = item.get("record")
    if not isinstance(record, dict) or not isinstance(record.get("type"), str):
        raise ApiError("invalid_request", "record is missing, or has no type")
    vertical = path_vertical or given.get("vertical") or vertical_of_record(record)
    if not isinstance(vertical, str) or vertical not in RECORD_TYPES:
        raise ApiError("unsupported", f"this service does not keep the vertical {str(vertical)[:40]!r}")
    record_vertical = vertical_of_record(record)
    if record_vertical is None:
        raise ApiError("unsupported", f"a record of type {record['type'][:40]!r} names no vertical")
    if record_vertical != vertical:
        raise ApiError("invalid_request", f"a {record['type'][:40]} record does not belong in {vertical}")
    if path_id is not None:
        if "id" in item and item["id"] != path_id:
            raise ApiError("invalid_request", "the id in the body is not the one in the path")
        item["id"] = path_id
    for field in ("source", "id", "container", "version"):
        if not isinstance(item.get(field), str):
            raise ApiError("invalid_request", f"{field} is missing or not a string")
    if item["id"] == "":
        raise ApiError("invalid_request", "id is empty")
    if item.get("original") is not None and not isinstance(item["original"], dict):
        raise ApiError("invalid_request", "original is not an object")
    if item.get("content") is not None:
        check_content_ref(item["content"], "content")
    for field in ("attachments", "attached", "references"):
        if field in item and not isinstance(item[field], list):
            raise ApiError("invalid_request", f"{field} is not a list")
    for field in ("attachments", "attached"):
        for n, attachment in enumerate(item.get(field) or []):
            if not isinstance(attachment, dict):
                raise ApiError("invalid_request", f"{field}[{n}] is not an object")
            check_content_ref(attachment.get("content"), f"{field}[{n}].content")
    key = {"source": item["source"], "id": item["id"]}
    return vertical, key, item


def exported_item(dest_id: str, stored: dict) -> dict:
    """A stored item as export gives it: our id and version, everything else as it was
    put, each content reference with its `url` (relative to the account's base)."""
    item = dict(stored["item"])
    item.pop("source", None)
    item["id"] = dest_id
    item["version"] = stored["version"]
    item.setdefault("original", None)
    item.setdefault("content", None)
    item.setdefault("attachments", [])
    item.setdefault("references", [])

    def with_url(ref: dict) -> dict:
        return {**ref, "url": f"content/{ref['sha256']}"}

    if isinstance(item["content"], dict):
        item["content"] = with_url(item["content"])
    for field in ("attachments", "attached"):
        if isinstance(item.get(field), list):
            item[field] = [
                {**a, "content": with_url(a["content"])} if isinstance(a, dict) and isinstance(a.get("content"), dict) else a
                for a in item[field]
            ]
    return item


# ---------------------------------------------------------------------------------------
# 8. HTTP
# ---------------------------------------------------------------------------------------


class Service:
    """What every request shares: the settings, the authenticator and the accounts."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.auth = Authenticator(args)
        self.data: Path = args.data
        self.data.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.accounts: dict[str, Account] = {}
        for folder in sorted(self.data.iterdir()):  # rebuild every account's index now
            if folder.is_dir() and valid_account_name(folder.name):
                self.accounts[folder.name] = self._open(folder.name)

    def _open(self, name: str) -> Account:
        return Account(self.data / name, Limits(self.args.rate, self.args.daily_quota))

    def account(self, name: str) -> Account:
        """The account, created on its first (authenticated) request."""
        with self.lock:
            if name not in self.accounts:
                self.accounts[name] = self._open(name)
            return self.accounts[name]

    def description(self) -> dict:
        verticals = list(RECORD_TYPES)
        return {
            "protocol": PROTOCOL,
            "name": SERVICE_NAME,
            "exports": verticals,
            "imports": verticals,
            "incremental": True,
            "page_size_max": self.args.page_size_max,
            "batch_max": self.args.batch_max,
            "content_max_bytes": self.args.content_max_bytes,
            "auth": self.auth.schemes(),
            "scopes": ["export", "import"],
            "limits": self.published_limits(),
        }

    def published_limits(self) -> list:
        """The limits a client should keep to (only with --publish-limits): the rate as a
        rolling budget per second, the daily quota as a fixed window that resets at
        midnight UTC."""
        if not self.args.publish_limits:
            return []
        limits = []
        if self.args.rate is not None:
            limits.append({"units": max(1, int(self.args.rate)), "per": "1s", "scope": "user"})
        if self.args.daily_quota is not None:
            limits.append({"units": max(1, self.args.daily_quota), "per": "1d", "scope": "user", "window": "fixed"})
        return limits


def valid_account_name(name: str) -> bool:
    return bool(ACCOUNT_NAME.fullmatch(name)) and name not in (".", "..")


def decode_segment(segment: str) -> str:
    """A path segment, percent-decoded (strictly: every `%` starts an escape, UTF-8)."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", segment):
        raise ApiError("invalid_request", "a path segment has a malformed percent-escape")
    try:
        return urllib.parse.unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("invalid_request", "a path segment is not UTF-8") from None


def parse_query(query: str) -> dict[str, str]:
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=20)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("invalid_request", "the query is malformed") from None
    params = {}
    for name, value in pairs:
        if name in params:
            raise ApiError("invalid_request", f"{name[:40]!r} is given twice")
        params[name] = value
    return params


# The protocol's requests, relative to an account's base: path pattern ("*" is one
# segment, passed to the method) and the handler's method for each HTTP method.
ROUTES = [
    (("containers",), {"GET": "req_list_containers"}),
    (("containers", "*", "items"), {"GET": "req_list_items"}),
    (("containers", "*", "changes"), {"GET": "req_list_changes"}),
    (("content", "*"), {"GET": "req_get_content", "PUT": "req_put_content"}),
    (("items", "*", "*"), {"PUT": "req_put_item"}),
    (("batch",), {"POST": "req_batch"}),
    (("finish",), {"POST": "req_finish"}),
]


def match_route(segments: list[str]):
    for pattern, methods in ROUTES:
        if len(pattern) == len(segments) and all(p in ("*", s) for p, s in zip(pattern, segments)):
            return methods, [s for p, s in zip(pattern, segments) if p == "*"]
    return None, None


class Handler(BaseHTTPRequestHandler):
    """One HTTP connection (HTTP/1.1, keep-alive). Every method goes to `dispatch`,
    which routes the request, checks credentials and limits, and turns every exception
    into an error answer."""
    # headers and body go out as separate writes: without this each answer waits out
    # the client's delayed ACK (about 40 ms), and the stand-in, not the client, sets the pace
    disable_nagle_algorithm = True

    protocol_version = "HTTP/1.1"
    server_version = "ferry-reference-service/1"
    sys_version = ""
    timeout = 60  # seconds a connection may idle or stall mid-request

    service: Service  # set by main()

    # --- plumbing: one dispatcher, JSON errors, logging ---

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def handle_one_request(self):
        self.status, self.started, self.headers_sent = None, time.monotonic(), False
        self.body_pending, self.expect_continue = False, False
        try:
            super().handle_one_request()
        finally:
            if self.status is not None:
                self.log_line()

    def handle_expect_100(self):
        self.expect_continue = True  # sent when the body is read: a refusal comes first
        return True

    def send_continue(self):
        if self.expect_continue:
            self.expect_continue = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()

    def send_response(self, code, message=None):
        self.status = code
        super().send_response(code, message)

    def log_request(self, code="-", size="-"):
        pass  # log_line() writes one line per request instead

    def log_message(self, format, *args):
        sys.stderr.write(printable(format % args) + "\n")

    def log_line(self):
        path = self.raw_target().partition("?")[0]
        ms = (time.monotonic() - self.started) * 1000
        sys.stderr.write(f"{printable(self.command or '-')} {printable(path)} {self.status} {ms:.1f}ms\n")
        sys.stderr.flush()

    def raw_target(self) -> str:
        """The request target exactly as it came on the request line."""
        words = getattr(self, "requestline", "").split()
        return words[1] if len(words) >= 2 else ""

    def send_error(self, code, message=None, explain=None):
        """Errors found by http.server itself (a malformed request line, headers too
        long, an unknown method) in this service's error shape."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer with a status line all the same
        codes = {400: "invalid_request", 404: "not_found", 413: "too_large", 414: "too_large", 431: "too_large",
                 501: "not_implemented", 505: "invalid_request"}
        error = ApiError(codes.get(code, "invalid_request" if code < 500 else "internal"), message or HTTPStatus(code).phrase)
        error.status = code
        self.send_api_error(error)

    def dispatch(self):
        self.body_pending = self.has_body()
        try:
            try:
                self.route()
            except ApiError as e:
                self.send_api_error(e)
            except OAuthError as e:
                self.send_oauth_error(e)
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away or stalled: nobody to answer
        except Exception:
            traceback.print_exc(file=sys.stderr)
            if self.headers_sent:
                self.close_connection = True
            else:
                self.send_api_error(ApiError("internal", "the service failed on this request"))
        if self.body_pending:
            self.close_connection = True  # the unread body would be taken for the next request

    def has_body(self) -> bool:
        length = (self.headers.get("Content-Length") or "0").strip()
        return "Transfer-Encoding" in self.headers or length != "0"

    # --- answers ---

    def send_json(self, status: int, value, headers: dict | None = None):
        body = json.dumps(value).encode()
        self.start_answer(status, "application/json", len(body), headers)
        if self.command != "HEAD":
            self.wfile.write(body)

    def start_answer(self, status: int, content_type: str | None, length: int | None, headers: dict | None = None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.body_pending or self.close_connection:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        self.headers_sent = True

    def send_api_error(self, e: ApiError):
        if self.headers_sent:
            self.close_connection = True
            return
        self.send_json(e.status, e.body(), e.headers)

    def send_oauth_error(self, e: OAuthError):
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if e.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="ferry"'
        self.send_json(e.status, {"error": e.error, "error_description": e.description}, headers)

    def send_no_content(self):
        self.send_response(204)
        if self.body_pending:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        self.headers_sent = True

    # --- routing ---

    def route(self):
        target = self.raw_target()
        path, _, query = target.partition("?")
        method = "GET" if self.command == "HEAD" else self.command
        if not path.startswith("/"):
            raise ApiError("not_found", "no such path")
        segments = path[1:].split("/")
        if path == "/":
            return self.only(method, {"GET"}) or self.describe()
        if segments == ["oauth", "token"]:
            return self.only(method, {"POST"}) or self.token_endpoint()
        if segments[0] == "_test" and self.service.args.test_hooks and len(segments) == 3:
            return self.test_hook(method, segments[1], segments[2])
        name, rest = segments[0], segments[1:]
        if not valid_account_name(name):
            raise ApiError("invalid_request", "an account name is 1 to 64 of A-Z a-z 0-9 . _ -")
        if rest in ([], [""]):
            return self.only(method, {"GET"}) or self.describe()
        decoded = [decode_segment(s) for s in rest]
        methods, args = match_route(decoded)
        if methods is None:
            raise ApiError("not_found", "no such path")
        self.only(method, set(methods))
        declared = self.service.auth.check(self.command, target, self.headers)
        account = self.service.account(name)
        account.limits.take()
        getattr(self, methods[method])(account, declared, parse_query(query), *args)

    def only(self, method: str, allowed: set[str]):
        if method not in allowed:
            allow = ", ".join(sorted(allowed | ({"HEAD"} if "GET" in allowed else set())))
            raise ApiError("method_not_allowed", f"{self.command} is not served here", headers={"Allow": allow})

    def body(self, declared: str | None, limit: int = JSON_MAX_BYTES) -> BodyReader:
        return BodyReader(self, limit, declared)

    def json_body(self, declared: str | None):
        return parse_json(self.body(declared).read_all())

    def no_body(self, declared: str | None):
        """A request without a body: a signed one must declare the empty body's hash."""
        if declared is not None and declared != EMPTY_SHA256:
            raise signature_error("the body's SHA-256 is not the one in Ferry-Content-SHA256")

    # --- GET / ---

    def describe(self):
        self.send_json(200, self.service.description())

    # --- export ---

    def req_list_containers(self, account: Account, declared, query):
        self.no_body(declared)
        vertical = query.get("vertical")
        if not vertical:
            raise ApiError("invalid_request", "vertical is missing")
        if vertical not in RECORD_TYPES:
            raise ApiError("unsupported", f"this service does not keep the vertical {vertical[:40]!r}")
        containers = [{"id": container_id(vertical, p), "vertical": vertical, "path": p} for p in account.container_paths(vertical)]
        self.send_json(200, {"containers": containers})

    def req_list_items(self, account: Account, declared, query, cid):
        self.list_page(account, declared, query, cid, since=None)

    def req_list_changes(self, account: Account, declared, query, cid):
        since = query.get("since")
        if since is None or not re.fullmatch(r"[0-9]{1,18}", since):
            raise ApiError("invalid_request", "since is missing or not a sync token of this service")
        self.list_page(account, declared, query, cid, since=int(since))

    def list_page(self, account: Account, declared, query, cid, since):
        self.no_body(declared)
        limit = query.get("limit", "100")
        if not re.fullmatch(r"[0-9]{1,9}", limit) or int(limit) < 1:
            raise ApiError("invalid_request", "limit is not a positive number")
        vertical, path = parse_container_id(cid)
        if vertical not in RECORD_TYPES:
            raise ApiError("not_found", "no such container")
        limit = min(int(limit), self.service.args.page_size_max)
        self.send_json(200, account.page(vertical, path, limit, query.get("cursor"), since))

    def req_get_content(self, account: Account, declared, query, sha256):
        self.no_body(declared)
        if not SHA256_HEX.fullmatch(sha256):
            raise ApiError("not_found", "no content under that name (a lowercase hex SHA-256)")
        try:
            f = open(account.content_path(sha256), "rb")
        except OSError:
            raise ApiError("not_found", "the service does not hold that content") from None
        with f:
            size = os.fstat(f.fileno()).st_size
            media_type = account.media_types.get(sha256, "application/octet-stream")
            self.start_answer(200, media_type, size)
            if self.command == "HEAD":
                return
            while piece := f.read(CHUNK):
                self.wfile.write(piece)

    # --- import ---

    def req_put_content(self, account: Account, declared, query, sha256):
        if not SHA256_HEX.fullmatch(sha256):
            raise ApiError("invalid_request", "content is put under its lowercase hex SHA-256")
        reader = self.body(declared, limit=self.service.args.content_max_bytes)
        created, size = account.store_content(sha256, reader.chunks())
        self.send_json(201 if created else 200, {"sha256": sha256, "size": size})

    def req_put_item(self, account: Account, declared, query, vertical, item_id):
        if vertical not in RECORD_TYPES:
            raise ApiError("unsupported", f"this service does not keep the vertical {vertical[:40]!r}")
        given = self.json_body(declared)
        status, result = self.put_one(account, given, vertical, item_id)
        self.send_json(status, result)

    def put_one(self, account: Account, given, vertical, item_id) -> tuple[int, dict]:
        vertical, key, item = check_item(given, vertical, item_id)
        for ref in content_refs(item):
            size = account.content_size(ref["sha256"])
            if size is None:
                raise ApiError("conflict", f"content {ref['sha256']} is not uploaded: PUT content/{ref['sha256']} first")
            if size != ref["size"]:
                raise ApiError("conflict", f"content {ref['sha256']} is {size} bytes, not {ref['size']}")
        dest_id, created = account.put_item(vertical, key, item)
        return (201 if created else 200), {"dest_id": dest_id, "created": created, "warnings": []}

    def req_batch(self, account: Account, declared, query):
        given = self.json_body(declared)
        if not isinstance(given, dict) or not isinstance(given.get("items"), list):
            raise ApiError("invalid_request", 'a batch is {"items": [...]}')
        if len(given["items"]) > self.service.args.batch_max:
            raise ApiError("too_large", f"a batch holds at most {self.service.args.batch_max} items")
        results = []
        for one in given["items"]:
            try:
                results.append(self.put_one(account, one, None, None)[1])
            except ApiError as e:
                results.append(e.body())
        self.send_json(200, {"results": results})

    def req_finish(self, account: Account, declared, query):
        given = self.json_body(declared)
        if not isinstance(given, dict) or not isinstance(given.get("job"), str):
            raise ApiError("invalid_request", 'finish wants {"job": "...", "items": N}')
        count = given.get("items")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
            raise ApiError("invalid_request", "items is not a count")
        account.finish(given["job"], count)
        self.send_no_content()

    # --- the token endpoint ---

    def token_endpoint(self):
        media_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media_type != "application/x-www-form-urlencoded":
            raise OAuthError(400, "invalid_request", "the token request is application/x-www-form-urlencoded")
        data = self.body(None, limit=FORM_MAX_BYTES).read_all()
        try:
            pairs = urllib.parse.parse_qsl(data.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=20)
        except (ValueError, UnicodeDecodeError):
            raise OAuthError(400, "invalid_request", "the form is malformed") from None
        form = dict(pairs)
        if len(form) != len(pairs):
            raise OAuthError(400, "invalid_request", "a parameter is given twice")
        answer = self.service.auth.refresh(form, self.basic_credentials())
        self.send_json(200, answer, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def basic_credentials(self) -> tuple[str, str] | None:
        """client_id and client_secret from `Authorization: Basic` (RFC 6749 §2.3.1:
        each form-urlencoded, then joined by a colon and base64-encoded)."""
        authorization = self.headers.get("Authorization") or ""
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise OAuthError(401, "invalid_client", "the Basic credentials are malformed") from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError(401, "invalid_client", "the Basic credentials are malformed")
        return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)

    # --- test hooks (only with --test-hooks) ---

    def test_hook(self, method: str, name: str, hook: str):
        if not valid_account_name(name) or hook not in ("expire-sync-tokens", "quota"):
            raise ApiError("not_found", "no such test hook")
        self.only(method, {"POST"})
        account = self.service.account(name)
        if hook == "expire-sync-tokens":
            self.body(None).read_all()
            self.send_json(200, {"min_valid_seq": account.expire_sync_tokens()})
            return
        given = self.json_body(None)
        remaining, reset = (given.get("remaining"), given.get("reset_in_seconds")) if isinstance(given, dict) else (None, None)
        if not isinstance(remaining, int) or not isinstance(reset, (int, float)) or remaining < 0 or not 0 <= reset <= 86400:
            raise ApiError("invalid_request", 'the quota hook wants {"remaining": N, "reset_in_seconds": S}')
        account.limits.set_quota(remaining, reset)
        self.send_json(200, {"remaining": remaining, "resume_at": rfc3339(time.time() + reset)})


def printable(text: str) -> str:
    """Text safe for one log line: control characters escaped, at most 300 characters."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)[:300]


# ---------------------------------------------------------------------------------------
# 9. Start-up
# ---------------------------------------------------------------------------------------


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a connection's thread does not keep the process alive
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        """A connection that failed outside a request (the client reset it while sending
        its request line, say): one line, not a traceback, unless it is a bug."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            sys.stderr.write(f"connection from {client_address[0]} ended: {type(error).__name__}\n")
        else:
            super().handle_error(request, client_address)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    Handler.service = Service(args)
    Server.address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    server = Server((args.host, args.port), Handler)
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"listening on http://{shown}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
