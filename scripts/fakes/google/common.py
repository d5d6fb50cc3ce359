"""Shared helpers: errors, query/body checking, page and sync tokens.

Loaded by server.py under the module name ``gfake_common`` (see server.py for
why the API modules are not imported by their file names).
"""
import base64
import hashlib
import json
import re
import time
from datetime import datetime, timezone, timedelta

import gfake_store as S

# Query parameters every Google API accepts ("system parameters",
# https://cloud.google.com/apis/docs/system-parameters).  The fake accepts
# them and ignores them (partial responses via `fields` are NOT applied).
SYSTEM_PARAMS = {"alt", "fields", "key", "prettyPrint", "quotaUser", "$.xgafv",
                 "access_token", "oauth_token", "userIp", "callback",
                 "upload_protocol", "uploadType"}

# Service names as they appear in Google's error metadata.
SERVICE = {"people": "people.googleapis.com", "calendar": "calendar-json.googleapis.com",
           "tasks": "tasks.googleapis.com", "gmail": "gmail.googleapis.com", "drive": "drive.googleapis.com",
           "photos": "photoslibrary.googleapis.com"}
# APIs whose error guides show the {"errors": [{domain, reason, message}], code, message} body;
# the others (People, Photos Library) answer the google.rpc form with "status".
ERRORS_FORM = ("calendar", "tasks", "gmail", "drive")
RPC_FORM = ("people", "photos")

GRPC_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
               404: "NOT_FOUND", 409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION",
               413: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
               503: "UNAVAILABLE", 410: None}


class ApiError(Exception):
    """An error answer.  ``violation`` marks requests the real service would
    refuse because the *client* is wrong; those are also recorded and listed
    by GET /_fake/violations."""

    def __init__(self, code, message, reason=None, status=None, domain="global",
                 violation=False, headers=None, details=None, location=None,
                 location_type=None, combined=False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.status = status or GRPC_STATUS.get(code)
        self.domain = domain
        self.violation = violation
        self.headers = headers or {}
        self.details = details
        self.location = location
        self.location_type = location_type
        self.combined = combined  # emit both the People and the Calendar/Tasks shape

    def body(self, api):
        err = {"code": self.code, "message": self.message}
        item = {"message": self.message, "domain": self.domain, "reason": self.reason or "invalid"}
        if self.location:
            item["location"] = self.location
            item["locationType"] = self.location_type or "parameter"
        if api in ERRORS_FORM or self.combined or api is None:
            err["errors"] = [item]
        if (api in RPC_FORM or self.combined or api is None) and self.status:
            err["status"] = self.status
        if self.details is not None:
            err["details"] = self.details
        elif api in RPC_FORM and self.reason and self.reason.isupper():
            err["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                               "reason": self.reason, "domain": self.domain}]
        return {"error": err}


class Reply:
    """A non-JSON answer (media bytes, 308 Resume Incomplete, an upload session URI ...)."""

    def __init__(self, code, data=b"", content_type=None, headers=None):
        self.code = code
        self.data = data
        self.content_type = content_type
        self.headers = headers or {}


def scope_error(api, method):
    """403 for a token without any accepted scope (the same body for every API)."""
    return ApiError(403, "Request had insufficient authentication scopes.",
                    reason="insufficientPermissions", status="PERMISSION_DENIED", combined=True,
                    details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                              "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
                              "metadata": {"service": SERVICE[api], "method": method}}])


def bad(message, reason="invalid", location=None, api=None, **kw):
    """400 for a request the real service refuses; recorded as a violation."""
    kw.setdefault("violation", True)
    return ApiError(400, message, reason=reason, location=location, **kw)


def not_found(message="Not Found", api=None):
    if api == "people":
        return ApiError(404, "Requested entity was not found.", status="NOT_FOUND")
    return ApiError(404, message, reason="notFound")


class Params:
    """Checked access to the query string.  Unknown names are refused."""

    def __init__(self, query, allowed, api, repeatable=()):
        self.q = query
        self.api = api
        for name, values in query.items():
            if name not in allowed and name not in SYSTEM_PARAMS:
                raise self.err("Invalid JSON payload received. Unknown name \"%s\": Cannot bind query parameter. "
                               "Field '%s' could not be found in request message." % (name, name), name)
            if len(values) > 1 and name not in repeatable:
                raise self.err("Parameter '%s' was given more than once." % name, name)

    def err(self, message, name=None):
        if self.api == "people":
            return ApiError(400, message, status="INVALID_ARGUMENT", violation=True)
        return ApiError(400, message, reason="invalidParameter" if name else "invalid", violation=True,
                        location=name, location_type="parameter" if name else None)

    def has(self, name):
        return name in self.q

    def str(self, name, default=None):
        v = self.q.get(name)
        return v[0] if v else default

    def list(self, name):
        return list(self.q.get(name, []))

    def int(self, name, default=None, lo=None, hi=None, zero_default=False):
        v = self.str(name)
        if v is None or v == "":
            return default
        try:
            n = int(v)
        except ValueError:
            raise self.err("Invalid value '%s' for parameter %s: not an integer." % (v, name), name)
        if zero_default and n == 0:
            return default
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise self.err("Invalid value '%s' for parameter %s: must be between %s and %s." % (v, name, lo, hi), name)
        return n

    def bool(self, name, default=False):
        v = self.str(name)
        if v is None:
            return default
        if v.lower() in ("true", "1"):
            return True
        if v.lower() in ("false", "0"):
            return False
        raise self.err("Invalid boolean value '%s' for parameter %s." % (v, name), name)

    def enum(self, name, values, default=None):
        v = self.str(name)
        if v is None:
            return default
        if v not in values:
            raise self.err("Invalid value '%s' for parameter %s; allowed: %s." % (v, name, ", ".join(values)), name)
        return v

    def time(self, name):
        v = self.str(name)
        if v is None:
            return None
        t = parse_rfc3339(v)
        if t is None:
            raise self.err("Invalid value '%s' for parameter %s: not an RFC 3339 timestamp." % (v, name), name)
        return t

    def fingerprint(self, exclude):
        items = sorted((k, tuple(v)) for k, v in self.q.items()
                       if k not in exclude and k not in SYSTEM_PARAMS)
        return hashlib.sha1(json.dumps(items).encode()).hexdigest()[:12]


RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_rfc3339(s):
    """datetime (aware) or None."""
    if not isinstance(s, str):
        return None
    m = RFC3339.match(s)
    if not m:
        return None
    try:
        frac = m.group(7) or ""
        micro = int((frac[1:] + "000000")[:6]) if frac else 0
        tz = m.group(8)
        if tz in ("Z", "z"):
            off = timezone.utc
        else:
            sign = 1 if tz[0] == "+" else -1
            off = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                        int(m.group(5)), int(m.group(6)), micro, tzinfo=off)
    except ValueError:
        return None


def parse_date(s):
    try:
        if not isinstance(s, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", s):
            return None
        return datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def fmt_time(dt):
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def check_object(value, allowed, where, api, required=()):
    """Refuse JSON objects with unknown member names, as Google's JSON
    parsing does ("Invalid JSON payload received. Unknown name ...")."""
    if not isinstance(value, dict):
        raise bad("Invalid value at '%s': expected an object." % where, api=api)
    for k in value:
        if k not in allowed:
            raise bad("Invalid JSON payload received. Unknown name \"%s\" at '%s': Cannot find field." % (k, where),
                      api=api)
    for k in required:
        if k not in value or value[k] in (None, ""):
            raise bad("Missing required field %s.%s" % (where, k), reason="required", api=api)
    return value


def want_type(value, typ, where, api):
    ok = isinstance(value, typ) and not (typ is int and isinstance(value, bool))
    if not ok:
        raise bad("Invalid value at '%s' (%s): %r" % (where, getattr(typ, "__name__", typ), value), api=api)
    return value


# ---- sync tokens ---------------------------------------------------------

# People API: "Sync tokens expire 7 days after the full sync."  Calendar documents no lifetime.
SYNC_TOKEN_LIFETIME = 7 * 24 * 3600


def sync_token_out(kind, scope, u, fingerprint, seq=None):
    return S.b64e({"k": kind, "c": scope, "s": u["seq"] if seq is None else seq, "e": u["epoch"],
                   "t": int(time.time()), "h": fingerprint})


def sync_token_in(tok, kind, scope, u):
    """Returns (state, data): state is 'ok', 'malformed' or 'expired'."""
    d = S.b64d(tok or "")
    if not d or d.get("k") != kind or d.get("c") != scope or not isinstance(d.get("s"), int):
        return "malformed", None
    too_old = kind in ("connections", "groups") and time.time() - d.get("t", 0) > SYNC_TOKEN_LIFETIME
    if d.get("e") != u["epoch"] or d["s"] > u["seq"] or too_old:
        return "expired", d
    return "ok", d


# ---- routing ---------------------------------------------------------------

def route(method, template, handler, api, scopes, name, body=False, auth=True, cost=1, max_body=None,
          google_limit=True):
    """`template` uses {name} for one path segment, e.g.
    /calendar/v3/calendars/{calendarId}/events/{eventId}.

    body: False (none allowed), True (a JSON object is required), "optional"
    (a JSON object or nothing), "raw" (any bytes; the handler reads ctx.raw).
    auth: False for upload session URIs, which carry their own credential.
    cost: quota units the call uses (Gmail's per-method table; 1 elsewhere).
    max_body: largest request body for this route (bytes, or a function of
    nothing returning bytes); default the server's --max-body.
    google_limit: whether max_body is Google's (a larger body is a recorded
    violation) or only the fake's (413 without a violation)."""
    pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+?)", re.escape(template)) + "$"
    return {"method": method, "template": template, "re": re.compile(pattern), "handler": handler,
            "api": api, "scopes": list(scopes), "name": name, "body": body, "auth": auth, "cost": cost,
            "max_body": max_body, "google_limit": google_limit}


# ---- keyset pagination -----------------------------------------------------
# A page token holds the sort key of the last item served, a fingerprint of
# the other query parameters, and the user's change counter at the first page
# (so the nextSyncToken of the last page covers changes made while paging).

def page_in(params, fingerprint, u):
    tok = params.str("pageToken")
    if not tok:
        return None, u["seq"]
    d = S.b64d(tok)
    if not d or not isinstance(d.get("a"), list) or len(d["a"]) != 1 or not isinstance(d.get("s"), int):
        raise params.err("Invalid page token.", "pageToken")
    if d.get("h") != fingerprint:
        raise params.err("Parameters other than the page token must match the call that produced the "
                         "page token.", "pageToken")
    return d["a"], d["s"]


def page_out(after, fingerprint, snap):
    return S.b64e({"a": after, "h": fingerprint, "s": snap})


PAGE_SIZE_HOOK = None  # set by server.py: the "short_pages" fault shrinks pages


def keyset(items, keyfn, after, size):
    """Sort `items` by keyfn (returns a list), keep those after the cursor
    `after`, return (page, cursor_or_None_if_no_more).  A cursor is a
    one-element list holding the last key served (None: nothing served yet),
    so that an empty page can still point at the next one."""
    if PAGE_SIZE_HOOK is not None:
        size = PAGE_SIZE_HOOK(size)
    keyed = sorted(((keyfn(x), x) for x in items), key=lambda t: t[0])
    start = after[0] if isinstance(after, list) and after else None
    if start is not None:
        keyed = [t for t in keyed if t[0] > start]
    page = keyed[:size]
    if len(keyed) <= size:
        return [x for _, x in page], None
    return [x for _, x in page], [page[-1][0] if page else start]


def desc_key(v):
    """A sort key that orders like `v` reversed (ints, bools, strings), for
    descending keyset pages whose cursors must stay JSON values."""
    if isinstance(v, bool):
        return -int(v)
    if isinstance(v, (int, float)):
        return -v
    return [-ord(ch) for ch in str(v)] + [0]


# ---- bytes fields, media types, multipart bodies ---------------------------

B64_RE = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")


def b64_bytes(value, where, api=None):
    """Decode a JSON `bytes` field.  Google's JSON mapping accepts both the
    standard and the URL-safe alphabet, with or without padding."""
    if not isinstance(value, str):
        raise bad("Invalid value at '%s' (TYPE_BYTES): expected a base64 string." % where, api=api)
    t = value
    core = t.rstrip("=")
    if not B64_RE.match(t) or len(core) % 4 == 1 or (t != core and len(t) % 4):
        raise bad("Invalid value at '%s' (TYPE_BYTES), Base64 decoding failed for \"%s\"" % (where, value[:40]),
                  api=api)
    core = core.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(core + "=" * (-len(core) % 4), validate=True)
    except (ValueError, TypeError):
        raise bad("Invalid value at '%s' (TYPE_BYTES), Base64 decoding failed for \"%s\"" % (where, value[:40]),
                  api=api)


def b64url(data):
    """base64url without padding, as Gmail answers `raw` and part bodies."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def media_type(header):
    """("type/subtype" lowercased, {param: value}) of a Content-Type header."""
    if not header:
        return "", {}
    parts = header.split(";")
    params = {}
    for p in parts[1:]:
        if "=" in p:
            k, v = p.split("=", 1)
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] == '"':
                v = v[1:-1]
            params[k.strip().lower()] = v
    return parts[0].strip().lower(), params


def parse_related(raw, content_type, api, max_parts=2):
    """Split a multipart/related body (RFC 2387; Google's "multipart upload")
    into [(headers with lowercased names, body bytes)].  Anything malformed
    or truncated is a 400 the real service also answers."""
    mt, params = media_type(content_type)
    if mt != "multipart/related":
        raise bad("Invalid multipart request: Content-Type must be multipart/related, got %r." % (mt or None),
                  reason="badContent", api=api)
    boundary = params.get("boundary")
    if not boundary or len(boundary) > 70:
        raise bad("Invalid multipart request: missing or invalid boundary.", reason="badContent", api=api)
    delim = b"--" + boundary.encode("latin-1", "replace")
    pos = raw.find(delim)
    if pos < 0 or raw[:pos].strip(b"\r\n\t "):
        pos = raw.find(b"\n" + delim)
        if pos < 0:
            raise bad("Invalid multipart request: no opening boundary.", reason="badContent", api=api)
        pos += 1
    parts = []
    while True:
        pos += len(delim)
        if raw[pos:pos + 2] == b"--":
            break
        eol = raw.find(b"\n", pos)
        if eol < 0 or raw[pos:eol].strip(b" \t\r"):
            raise bad("Invalid multipart request: malformed boundary line.", reason="badContent", api=api)
        start = eol + 1
        nxt = start
        while True:
            nxt = raw.find(delim, nxt)
            if nxt < 0:
                raise bad("Invalid multipart request: truncated body (no closing boundary).", reason="badContent",
                          api=api)
            if raw[nxt - 1:nxt] == b"\n":
                break
            nxt += 1
        end = nxt - 1
        if raw[end - 1:end] == b"\r":
            end -= 1
        part = raw[start:max(start, end)]
        if part.startswith(b"\r\n") or part.startswith(b"\n"):
            head, body = b"", part[2:] if part.startswith(b"\r\n") else part[1:]
        else:
            i, j = part.find(b"\r\n\r\n"), part.find(b"\n\n")
            if i < 0 and j < 0:
                raise bad("Invalid multipart request: part without a blank line after its headers.",
                          reason="badContent", api=api)
            if i >= 0 and (j < 0 or i < j):
                head, body = part[:i], part[i + 4:]
            else:
                head, body = part[:j], part[j + 2:]
        hdrs = {}
        for line in head.replace(b"\r\n", b"\n").split(b"\n"):
            if not line.strip():
                continue
            if b":" not in line:
                raise bad("Invalid multipart request: malformed part header.", reason="badContent", api=api)
            k, v = line.split(b":", 1)
            hdrs[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
        if hdrs.get("content-transfer-encoding", "").lower() == "base64":
            try:
                body = base64.b64decode(b"".join(body.split()), validate=True)
            except (ValueError, TypeError):
                raise bad("Invalid multipart request: bad base64 part body.", reason="badContent", api=api)
        parts.append((hdrs, body))
        if len(parts) > max_parts:
            raise bad("Invalid multipart request: at most %d parts (metadata and media) are allowed." % max_parts,
                      reason="badContent", api=api)
        pos = nxt
    return parts


def json_part(hdrs, body, api):
    """The metadata part of a multipart upload: a JSON object."""
    mt, _ = media_type(hdrs.get("content-type"))
    if mt != "application/json":
        raise bad("Invalid multipart request: the first part must be application/json metadata.",
                  reason="badContent", api=api)
    try:
        v = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise bad("Invalid JSON payload received. %s" % e, reason="parseError", api=api)
    if not isinstance(v, dict):
        raise bad("Invalid multipart request: metadata must be a JSON object.", reason="parseError", api=api)
    return v


# ---- partial responses (the `fields` system parameter) ---------------------
# https://developers.google.com/drive/api/guides/fields-parameter

FIELD_NAME = re.compile(r"[A-Za-z0-9_*$.@-]+")


def parse_fields(spec, api):
    """'a,b/c,d(e,f)' -> {"a": True, "b": {"c": True}, "d": {"e": True, "f": True}}."""
    pos = 0

    def err():
        return bad("Invalid field selection %s" % spec, reason="invalidParameter", location="fields", api=api)

    def merge(tree, path, sub):
        for name in path[:-1]:
            nxt = tree.get(name)
            if nxt is True:
                return
            tree = tree.setdefault(name, {})
        last = path[-1]
        if sub is True or tree.get(last) is True:
            tree[last] = True
        elif isinstance(tree.get(last), dict):
            for k, v in sub.items():
                merge(tree[last], [k], v)
        else:
            tree[last] = sub

    def parse_list(depth):
        nonlocal pos
        if depth > 10:
            raise err()
        tree = {}
        while True:
            path = []
            while True:
                m = FIELD_NAME.match(spec, pos)
                if not m:
                    raise err()
                path.append(m.group())
                pos = m.end()
                if spec[pos:pos + 1] == "/":
                    pos += 1
                    continue
                break
            sub = True
            while spec[pos:pos + 1] == " ":
                pos += 1
            if spec[pos:pos + 1] == "(":
                pos += 1
                sub = parse_list(depth + 1)
                if spec[pos:pos + 1] != ")":
                    raise err()
                pos += 1
            merge(tree, path, sub)
            while spec[pos:pos + 1] == " ":
                pos += 1
            if spec[pos:pos + 1] == ",":
                pos += 1
                while spec[pos:pos + 1] == " ":
                    pos += 1
                continue
            return tree

    tree = parse_list(0)
    if pos != len(spec):
        raise err()
    return tree


def check_fields(tree, schema, spec, api):
    """schema: {name: subschema-dict or None (anything below)}."""
    if schema is None or tree is True:
        return
    for k, sub in tree.items():
        if k == "*":
            continue
        if k not in schema:
            raise bad("Invalid field selection %s" % k, reason="invalidParameter", location="fields", api=api)
        check_fields(sub, schema[k], spec, api)


def select_fields(obj, tree):
    if tree is True:
        return obj
    if isinstance(obj, list):
        return [select_fields(x, tree) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if "*" in tree and tree["*"] is True:
        return obj
    return {k: select_fields(obj[k], sub) for k, sub in tree.items() if k in obj}


def partial(obj, spec, default, schema, api):
    """Apply `fields` (or the method's default selection) to an answer."""
    tree = parse_fields(spec if spec is not None else default, api)
    check_fields(tree, schema, spec, api)
    return select_fields(obj, tree)


# ---- byte ranges (media downloads) -----------------------------------------

def byte_range(header, size):
    """None (no usable Range: send everything), "unsatisfiable", or (first, last).
    Only a single range is honoured; anything else is ignored as RFC 9110 allows."""
    if not header:
        return None
    m = re.match(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", header)
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    if m.group(1) == "":
        n = int(m.group(2))
        if n == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else None
    if last is not None and last < first:
        return None
    if first >= size:
        return "unsatisfiable"
    return first, size - 1 if last is None else min(last, size - 1)


def media_reply(data, content_type, range_header, extra=None):
    headers = {"Accept-Ranges": "bytes"}
    headers.update(extra or {})
    r = byte_range(range_header, len(data))
    if r == "unsatisfiable":
        headers["Content-Range"] = "bytes */%d" % len(data)
        return Reply(416, b"", None, headers)
    if r is None:
        return Reply(200, data, content_type, headers)
    headers["Content-Range"] = "bytes %d-%d/%d" % (r[0], r[1], len(data))
    return Reply(206, data[r[0]:r[1] + 1], content_type, headers)


# ---- resumable uploads ---------------------------------------------------------
# https://developers.google.com/drive/api/guides/manage-uploads#resumable
# A session URI is the method's /upload path plus ?uploadType=resumable&upload_id=ID.
# Chunks are PUT with Content-Range; every chunk but the last must be a multiple
# of 256 KiB; 308 "Resume Incomplete" answers carry Range: bytes=0-N; an empty PUT
# with Content-Range: bytes */TOTAL asks for the status; sessions expire after a
# week (404), DELETE cancels (499).

CHUNK = 256 * 1024
UPLOAD_SESSION_LIFETIME = 7 * 24 * 3600
UPLOADS = {}          # upload_id -> session; only touched under the store lock
MAX_UPLOAD = 256 * 1024 * 1024  # the fake's own cap on one upload (memory); set by server.py


def start_upload(ctx, path, meta, content_type, total, finish):
    """Open a session; returns the 200 answer with the session URI in Location.
    `finish(ctx, session, data)` makes the resource when all bytes are in."""
    if total is not None and total > MAX_UPLOAD:
        raise ApiError(413, "The fake keeps uploads in memory; %d bytes exceed its --max-upload of %d."
                       % (total, MAX_UPLOAD), reason="uploadTooLarge")
    uid = "AFake" + S.new_id(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    UPLOADS[uid] = {"user": ctx.user, "scopes": list(ctx.scopes), "api": ctx.api, "path": path, "meta": meta,
                    "type": content_type, "total": total, "data": bytearray(), "created": time.time(),
                    "query": {k: list(v) for k, v in ctx.query.items()}, "finish": finish, "result": None}
    loc = "%s%s?uploadType=resumable&upload_id=%s" % (ctx.base_url, path, uid)
    return Reply(200, b"", None, {"Location": loc, "X-GUploader-UploadID": uid})


def expire_uploads():
    UPLOADS.clear()


CR_CHUNK = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
CR_QUERY = re.compile(r"^bytes \*/(\d+|\*)$")


def upload_session(ctx, path):
    P = ctx.params(["upload_id"])
    uid = P.str("upload_id")
    s = UPLOADS.get(uid or "")
    if s is not None and (s["path"] != path or time.time() - s["created"] > UPLOAD_SESSION_LIFETIME):
        s = None
    if s is None:
        # Expired or unknown: the documented answer is 404, and the client starts over.
        raise ApiError(404, "No upload session %s (expired, cancelled or never created): start a new "
                       "resumable upload." % uid, reason="notFound")
    return uid, s


def cancel_upload(ctx, path):
    """DELETE on the session URI cancels the upload; Google answers 499."""
    uid, _ = upload_session(ctx, path)
    del UPLOADS[uid]
    return Reply(499, b"", None, {})


def put_chunk(ctx, path):
    """PUT on a session URI: one chunk, the whole content, or a status query."""
    uid, s = upload_session(ctx, path)
    if s["result"] is not None:
        code, obj = s["result"]  # already complete: the final answer again
        return code, obj
    api = s["api"]
    data = s["data"]
    body = ctx.raw or b""
    cr = (ctx.headers.get("Content-Range") or "").strip()

    def finish():
        if s["total"] is not None and len(data) != s["total"]:
            raise bad("Upload complete but %d bytes were received for a declared size of %d."
                      % (len(data), s["total"]), api=api)
        ctx.user = s["user"]
        ctx.u = ctx.store.user(s["user"])
        ctx.scopes = s["scopes"]
        ctx.query = s["query"]
        result = s["finish"](ctx, s, bytes(data))
        s["result"] = result if isinstance(result, tuple) else (200, result)
        s["data"] = bytearray()
        return s["result"]

    def incomplete():
        h = {"Range": "bytes=0-%d" % (len(data) - 1)} if data else {}
        return Reply(308, b"", None, h)

    def declare(total):
        if s["total"] is not None and s["total"] != total:
            raise bad("Content-Range total %d differs from the upload's declared size %d." % (total, s["total"]),
                      api=api)
        if total > MAX_UPLOAD:
            raise ApiError(413, "The fake keeps uploads in memory; %d bytes exceed its --max-upload." % total,
                           reason="uploadTooLarge")
        s["total"] = total

    if not cr:
        # "upload the data in a single request": the body is the whole content
        declare(len(body))
        data[:] = body
        return finish()
    m = CR_QUERY.match(cr)
    if m:
        if body:
            raise bad("A status request (Content-Range: bytes */TOTAL) must have an empty body.", api=api)
        if m.group(1) != "*":
            declare(int(m.group(1)))
            if len(data) == s["total"]:
                return finish()
        return incomplete()
    m = CR_CHUNK.match(cr)
    if not m:
        raise bad("Invalid Content-Range header %r (bytes FIRST-LAST/TOTAL, bytes FIRST-LAST/* or bytes */TOTAL)."
                  % cr[:80], api=api)
    first, last = int(m.group(1)), int(m.group(2))
    if last < first:
        raise bad("Invalid Content-Range %r: last byte before first." % cr, api=api)
    if len(body) != last - first + 1:
        raise bad("Content-Range %r announces %d bytes but the body has %d." % (cr, last - first + 1, len(body)),
                  api=api)
    if m.group(3) != "*":
        declare(int(m.group(3)))
        if last >= s["total"]:
            raise bad("Content-Range %r goes past the total size." % cr, api=api)
    if first > len(data):
        raise bad("Invalid request. According to the Content-Range header, the upload offset is %d byte(s), "
                  "which exceeds already uploaded size of %d byte(s)." % (first, len(data)), api=api)
    final = s["total"] is not None and last + 1 == s["total"]
    keep_to = last + 1
    if not final and (last - first + 1) % CHUNK:
        # Documented rule: chunks other than the last are multiples of 256 KiB.  The
        # fake keeps what ends on a 256 KiB boundary (308 says how much) and records it.
        keep_to = (last + 1) // CHUNK * CHUNK
        ctx.fake.violation(ctx.method, path, "upload chunk of %d bytes is not a multiple of 256 KiB (262144) "
                           "and is not the last chunk; kept bytes up to %d" % (last - first + 1, keep_to))
    if keep_to > len(data):
        if keep_to > MAX_UPLOAD:
            raise ApiError(413, "The fake keeps uploads in memory; more than --max-upload bytes sent.",
                           reason="uploadTooLarge")
        data.extend(body[len(data) - first:keep_to - first])
    if final and len(data) == s["total"]:
        return finish()
    return incomplete()
