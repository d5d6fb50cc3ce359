"""Shared helpers: errors, query/body checking, page and sync tokens.

Loaded by server.py under the module name ``gfake_common`` (see server.py for
why the API modules are not imported by their file names).
"""
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
        if api in ("calendar", "tasks") or self.combined or api is None:
            err["errors"] = [item]
        if (api == "people" or self.combined or api is None) and self.status:
            err["status"] = self.status
        if self.details is not None:
            err["details"] = self.details
        elif api == "people" and self.reason and self.reason.isupper():
            err["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                               "reason": self.reason, "domain": self.domain}]
        return {"error": err}


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

def route(method, template, handler, api, scopes, name, body=False):
    """`template` uses {name} for one path segment, e.g.
    /calendar/v3/calendars/{calendarId}/events/{eventId}."""
    pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+?)", re.escape(template)) + "$"
    return {"method": method, "template": template, "re": re.compile(pattern), "handler": handler,
            "api": api, "scopes": list(scopes), "name": name, "body": body}


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
