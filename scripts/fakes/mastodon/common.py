"""Shared helpers for the Mastodon fake: errors, Rails-style parameter
parsing, the casts Mastodon applies to parameters, pagination and the
`Link` header.

Loaded by server.py under the module name ``mfake_common``.
"""
import re
import urllib.parse
from datetime import datetime, timezone


class ApiError(Exception):
    """An error answer.  Mastodon's API answers errors as
    ``{"error": "..."}`` (https://docs.joinmastodon.org/entities/Error/);
    the OAuth endpoints add ``error_description``.  ``violation`` marks a
    request the real server refuses because the *client* is wrong; those are
    recorded and listed by GET /_fake/violations."""

    def __init__(self, code, message, violation=False, headers=None, body=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.violation = violation
        self.headers = headers or {}
        self.body = body if body is not None else {"error": message}


def not_found():
    return ApiError(404, "Record not found")


def invalid(message, violation=True):
    """422 as Mastodon renders ActiveRecord::RecordInvalid."""
    return ApiError(422, "Validation failed: " + message, violation=violation)


def missing(name):
    """400 as Mastodon renders ActionController::ParameterMissing."""
    return ApiError(400, "param is missing or the value is empty: " + name, violation=True)


def oauth_error(code, error, description, violation=False):
    return ApiError(code, error, violation=violation,
                    body={"error": error, "error_description": description})


OAUTH_DESCRIPTIONS = {
    "invalid_request": "The request is missing a required parameter, includes an unsupported parameter value, "
                       "or is otherwise malformed.",
    "invalid_client": "Client authentication failed due to unknown client, no client authentication included, "
                      "or unsupported authentication method.",
    "invalid_grant": "The provided authorization grant is invalid, expired, revoked, does not match the "
                     "redirection URI used in the authorization request, or was issued to another client.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
    "invalid_scope": "The requested scope is invalid, unknown, or malformed.",
    "unauthorized_client": "You are not authorized to revoke this token",
    "invalid_redirect_uri": "The requested redirect uri is malformed or doesn't match client redirect URI.",
}


# ---- time ------------------------------------------------------------------

def iso(t, date_only=False, micro=False):
    """Timestamps as Mastodon prints them: 2019-11-24T10:02:12.085Z."""
    d = datetime.fromtimestamp(t, timezone.utc)
    if date_only:
        return d.strftime("%Y-%m-%d")
    if micro:
        return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def parse_time(s):
    """ISO 8601 / RFC 3339 → epoch seconds, or None."""
    if isinstance(s, (int, float)) and not isinstance(s, bool):
        return float(s)
    if not isinstance(s, str):
        return None
    v = s.strip()
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    try:
        d = datetime.fromisoformat(v)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.timestamp()


# ---- Rails-style parameters -------------------------------------------------

_SEG = re.compile(r"\[([^\[\]]*)\]")


def rails_nest(pairs):
    """Turn (name, value) pairs into Rails' nested params:
    ``id[]=1&id[]=2`` → {"id": ["1", "2"]}, ``poll[options][]=a`` →
    {"poll": {"options": ["a"]}}; a repeated plain name keeps the last
    value, as Rack does.  Names Rails cannot nest are dropped."""
    root = {}
    for name, value in pairs:
        i = name.find("[")
        if i <= 0:
            root[name] = value
            continue
        base, rest = name[:i], name[i:]
        segs = _SEG.findall(rest)
        if "".join("[%s]" % s for s in segs) != rest:
            root[name] = value  # not bracket syntax after all: keep the name whole
            continue
        keys = [base] + segs
        cur = root
        ok = True
        for j, k in enumerate(keys):
            last = j == len(keys) - 1
            if isinstance(cur, list):
                if k != "" or not last:
                    ok = False
                    break
                cur.append(value)
                break
            if last:
                cur[k] = value
                break
            nxt = keys[j + 1]
            want = list if nxt == "" else dict
            if not isinstance(cur.get(k), want):
                cur[k] = want()
            cur = cur[k]
        if not ok:
            continue
    return root


def parse_query(qs):
    return rails_nest(urllib.parse.parse_qsl(qs, keep_blank_values=True))


_TO_I = re.compile(r"^\s*([+-]?\d+)")


def ruby_to_i(v):
    """String#to_i: leading integer, else 0 ("12abc" → 12, "abc" → 0)."""
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    if not isinstance(v, str):
        return 0
    m = _TO_I.match(v)
    return int(m.group(1)) if m else 0


# ActiveModel::Type::Boolean: these strings are false, "" is nil, the rest true.
_FALSE = {"0", "f", "F", "false", "FALSE", "False", "off", "OFF", "Off"}
_CANONICAL = {"true", "false", "1", "0"}


class Params:
    """Checked access to merged query + body parameters.

    Mastodon (Rails) ignores parameters it does not know; the fake answers the
    same way but records each one as a violation, since a parameter the
    reference does not list is a client bug (a typo, or a parameter of another
    endpoint)."""

    def __init__(self, values, allowed, ctx):
        self.v = values
        self.ctx = ctx
        for k in values:
            if k not in allowed:
                ctx.violation("unknown parameter %r (not in the reference for this endpoint; Mastodon ignores it)" % k)

    def has(self, name):
        return name in self.v

    def raw(self, name):
        return self.v.get(name)

    def str(self, name, default=None):
        v = self.v.get(name)
        if v is None:
            return default
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if not isinstance(v, str):
            self.ctx.violation("parameter %r must be a string, got %s" % (name, type(v).__name__))
            return default
        return v

    def bool(self, name, default=None):
        v = self.v.get(name)
        if v is None:
            return default
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            return v != 0
        if not isinstance(v, str):
            self.ctx.violation("parameter %r must be a boolean" % name)
            return default
        if v == "":
            return default
        if v not in _CANONICAL:
            self.ctx.violation("parameter %s=%r is not a boolean; Mastodon casts it to %s"
                               % (name, v, "false" if v in _FALSE else "true"))
        return v not in _FALSE

    def list(self, name):
        """Array(params[name]) as Mastodon does: a scalar becomes a one-element list."""
        v = self.v.get(name)
        if v is None:
            return []
        if isinstance(v, dict):
            self.ctx.violation("parameter %r must be an array" % name)
            return []
        items = v if isinstance(v, list) else [v]
        out = []
        for x in items:
            if isinstance(x, bool) or not isinstance(x, (str, int)):
                self.ctx.violation("parameter %r holds a value that is not a string" % name)
                continue
            out.append(str(x))
        return out

    def limit(self, default, maximum, zero_means_all=False):
        """Api::BaseController#limit_param: [to_i.abs, max].min.  Values the
        reference does not allow are answered the way Mastodon answers them
        (clamped) and recorded as violations."""
        if "limit" not in self.v:
            return default
        raw = self.v["limit"]
        n = abs(ruby_to_i(raw))
        if isinstance(raw, str) and not re.fullmatch(r"\d+", raw.strip() or "x"):
            self.ctx.violation("limit=%r is not a non-negative integer; Mastodon reads it as %d"
                               % (raw, min(n, maximum)))
        elif n > maximum:
            self.ctx.violation("limit=%s is above the documented maximum %d; Mastodon caps it" % (raw, maximum))
        elif n == 0 and not zero_means_all:
            self.ctx.violation("limit=0 asks for an empty page")
        return min(n, maximum)

    def cursor(self, name):
        """max_id / since_id / min_id: integers in the fake; anything else is ignored."""
        v = self.str(name)
        if v is None or v == "":
            return None
        if not re.fullmatch(r"\d{1,30}", v):
            self.ctx.violation("%s=%r is not an id" % (name, v))
            return None
        return int(v)


def cast_bool(v):
    if isinstance(v, bool):
        return v
    if v is None:
        return None
    return str(v) not in _FALSE and str(v) != ""


# ---- pagination --------------------------------------------------------------

SNOWFLAKE_FLOOR = 10 ** 12  # entity ids (accounts, statuses, media) are above; internal ids below


def paginate(rows, key, limit, max_id=None, since_id=None, min_id=None):
    """Mastodon's Paginable: newest first; max_id/since_id bound the window,
    min_id pages forward from a cursor (the results still come newest first)."""
    keyed = sorted(((key(r), r) for r in rows), key=lambda t: t[0], reverse=True)
    if max_id is not None:
        keyed = [t for t in keyed if t[0] < max_id]
    if since_id is not None:
        keyed = [t for t in keyed if t[0] > since_id]
    if min_id is not None:
        keyed = [t for t in keyed if t[0] > min_id]
        keyed = list(reversed(list(reversed(keyed))[:limit]))
    else:
        keyed = keyed[:limit]
    return [r for _, r in keyed], [k for k, _ in keyed]


def link_header(base, path, carried, keys, limit, prev_param):
    """`Link: <...max_id=OLDEST>; rel="next", <...PREV=NEWEST>; rel="prev"`
    (https://docs.joinmastodon.org/api/guidelines/#pagination).  "next" only
    when the page is full (records_continue?), "prev" whenever it is not
    empty.  ``carried`` are the query parameters kept in the links."""
    links = []
    if keys and limit and len(keys) >= limit:
        q = dict(carried)
        q["max_id"] = str(keys[-1])
        links.append('<%s%s?%s>; rel="next"' % (base, path, urllib.parse.urlencode(q)))
    if keys:
        q = dict(carried)
        q[prev_param] = str(keys[0])
        links.append('<%s%s?%s>; rel="prev"' % (base, path, urllib.parse.urlencode(q)))
    return ", ".join(links) if links else None


def check_internal_cursor(p, names=("max_id", "since_id", "min_id")):
    """Follows, blocks, mutes, bookmarks ... page by the ids of the
    relationship records, which only the Link header carries.  An entity id
    (account or status, far larger here) in such a cursor means the client
    built the URL itself."""
    out = {}
    for n in names:
        v = p.cursor(n) if p.has(n) else None
        if v is not None and v >= SNOWFLAKE_FLOOR:
            p.ctx.violation("%s=%d looks like an account or status id; this list pages by internal ids that only "
                            "the Link header carries" % (n, v))
        out[n] = v
    return out
