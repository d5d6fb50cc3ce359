"""Shared helpers: Graph errors, OData query checking, JSON checking, routes.

Loaded by server.py under the module name ``msfake_common``.

Error body, https://learn.microsoft.com/graph/errors :
    {"error": {"code": "...", "message": "...",
               "innerError": {"date": ..., "request-id": ..., "client-request-id": ...}}}
"""
import re
import urllib.parse
from datetime import datetime, timezone, timedelta


class GraphError(Exception):
    """An error answer.  ``violation`` marks requests the real service refuses
    because the *client* is wrong; those are recorded in /_fake/violations."""

    def __init__(self, status, code, message, violation=False, headers=None, inner_code=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.violation = violation
        self.headers = dict(headers or {})
        # OneDrive answers carry a more specific code in innerError ("fragmentOverlap",
        # "uploadSessionNotFound", ...; https://learn.microsoft.com/graph/errors "Detailed error codes").
        self.inner_code = inner_code

    def body(self, request_id, client_request_id):
        inner = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                 "request-id": request_id, "client-request-id": client_request_id}
        if self.inner_code:
            inner = dict({"code": self.inner_code}, **inner)
        return {"error": {"code": self.code, "message": self.message, "innerError": inner}}


def bad(message, code="BadRequest"):
    """400 for a request Graph refuses; recorded as a violation."""
    return GraphError(400, code, message, violation=True)


def body_error(message):
    """Request bodies Graph's OData reader refuses (unknown property, wrong type)."""
    return GraphError(400, "RequestBodyRead", message, violation=True)


def not_found(message="The specified object was not found in the store."):
    return GraphError(404, "ErrorItemNotFound", message)


def not_modelled(what):
    """A documented feature this fake does not implement: 501 (Graph's "The requested feature
    isn't implemented"), not recorded as a violation since the client did nothing wrong."""
    return GraphError(501, "notSupported", "%s is documented by Microsoft but not modelled by this fake." % what)


MAX_JSON_DEPTH = 32


def json_depth(v):
    deepest, todo = 0, [(v, 1)]
    while todo:
        x, d = todo.pop()
        deepest = max(deepest, d)
        if deepest > MAX_JSON_DEPTH:
            break
        if isinstance(x, dict):
            todo.extend((y, d + 1) for y in x.values())
        elif isinstance(x, list):
            todo.extend((y, d + 1) for y in x)
    return deepest


def json_body(ctx, allow_empty=False):
    """The JSON object body of a route registered with raw_body=True (the same checks the
    server applies to body=True routes).  None when empty and allow_empty."""
    import json
    raw = ctx.raw or b""
    if not raw:
        if allow_empty:
            return None
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.", violation=True)
    ctype = (ctx.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise GraphError(415, "UnsupportedMediaType" if ctype else "BadRequest",
                         "Content-Type %r is not supported here; use application/json." % ctype, violation=True)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload. %s" % e, violation=True)
    if json_depth(body) > MAX_JSON_DEPTH:
        raise GraphError(400, "BadRequest", "JSON nested deeper than %d levels." % MAX_JSON_DEPTH, violation=True)
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.", violation=True)
    return body


# ---- OData query options ----------------------------------------------------
# https://learn.microsoft.com/graph/query-parameters
ODATA_OPTIONS = {"$select", "$expand", "$filter", "$orderby", "$top", "$skip", "$count", "$search",
                 "$format", "$skiptoken", "$deltatoken"}


class Params:
    """Checked access to the query string.  Graph accepts system query options
    with or without the '$' prefix (v1.0); names are case-insensitive here as in
    OData.  Options the endpoint does not support are refused (400)."""

    def __init__(self, query, allowed):
        self.q = {}
        canon = {a.lower(): a for a in allowed}
        for name, values in query.items():
            key = name.lower()
            if not key.startswith("$") and "$" + key in ODATA_OPTIONS:
                key = "$" + key
            key = canon.get(key, key)
            if key not in allowed:
                if key in ODATA_OPTIONS:
                    raise bad("Query option '%s' is not allowed on this resource." % name)
                raise bad("Unknown query parameter '%s'." % name)
            if len(values) > 1 or key in self.q:
                raise bad("Query option '%s' was specified more than once, but it must be specified "
                          "at most once." % name)
            self.q[key] = values[0]

    def has(self, name):
        return name in self.q

    def str(self, name, default=None):
        return self.q.get(name, default)

    def int(self, name, default=None, lo=None, hi=None):
        v = self.q.get(name)
        if v is None:
            return default
        if not re.fullmatch(r"\d{1,9}", v.strip()):
            raise bad("Invalid value '%s' for query option '%s'." % (v, name))
        n = int(v)
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise bad("Invalid page size specified: '%s'. Must be between %s and %s inclusive." % (v, lo, hi)
                      if name == "$top" else "Invalid value '%s' for query option '%s'." % (v, name))
        return n

    def bool(self, name, default=False):
        v = self.q.get(name)
        if v is None:
            return default
        if v.lower() in ("true", "false"):
            return v.lower() == "true"
        raise bad("Invalid value '%s' for query option '%s'; expected true or false." % (v, name))


DTO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$")


def parse_dto(s):
    """Edm.DateTimeOffset (ISO 8601 with offset) -> aware datetime, or None."""
    if not isinstance(s, str):
        return None
    m = DTO.match(s)
    if not m:
        return None
    try:
        frac = m.group(7) or ""
        micro = int((frac[1:] + "000000")[:6]) if frac else 0
        tz = m.group(8)
        off = timezone.utc if tz == "Z" else timezone(
            (1 if tz[0] == "+" else -1) * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                        int(m.group(5)), int(m.group(6)), micro, tzinfo=off)
    except ValueError:
        return None


def fmt_dto(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def route(method, template, handler, scopes, name, body=False, raw_body=False):
    """`template` uses {name} for one path segment."""
    pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
    return {"method": method, "template": template, "re": re.compile(pattern), "handler": handler,
            "scopes": list(scopes), "name": name, "body": body, "raw_body": raw_body}


# ---- delta query (https://learn.microsoft.com/graph/delta-query-overview) -----------
# Every stored item carries _seq (the user's change counter at its last write)
# and deleted items stay as tombstones (_deleted).  A round snapshots the counter
# at its first page ("snap"); pages are keyset-ordered by (_seq, id); the
# deltaLink of the last page starts the next round at "snap".

def prefer_maxpagesize(ctx, default, cap):
    prefer = ctx.headers.get("Prefer") or ""
    for part in prefer.split(","):
        k, _, v = part.strip().partition("=")
        if k.strip().lower() == "odata.maxpagesize":
            v = v.strip().strip('"')
            if not v.isdigit() or int(v) < 1:
                raise bad("Invalid odata.maxpagesize preference '%s'." % v)
            return min(int(v), cap), True
    return default, False


def b64e(obj):
    import base64
    import json
    return base64.urlsafe_b64encode(json.dumps(obj, sort_keys=True).encode()).decode().rstrip("=")


def b64d(s):
    import base64
    import json
    try:
        v = json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode())
        return v if isinstance(v, dict) else None
    except Exception:
        return None


def delta_response(ctx, scope, items, parse_select, render, type_name, default_size, cap,
                   extra_params=(), filter_fn=None, keep=None, top_max=None):
    """keep(item, extra, since): optional test on every candidate row of a non-initial round,
    deleted ones included (message delta's changeType).  top_max: $top is accepted on the
    initial request (1..top_max), carried by the tokens and caps the page size."""
    u = ctx.u
    if top_max:
        extra_params = tuple(extra_params) + ("$top",)
    p = ctx.params({"$select", "$deltatoken", "$skiptoken"} | set(extra_params))
    size, preferred = prefer_maxpagesize(ctx, default_size, cap)
    if p.has("$skiptoken") and p.has("$deltatoken"):
        raise bad("Only one of $skiptoken and $deltatoken may be given.")
    tok = p.str("$skiptoken") or p.str("$deltatoken")
    if tok is not None:
        if p.has("$select") or any(p.has(x) for x in extra_params):
            raise bad("Query options must be given on the initial delta request only; the state token "
                      "carries them.")
        d = b64d(tok)
        kind = "s" if p.has("$skiptoken") else "d"
        if not d or d.get("k") != kind or d.get("c") != scope or not isinstance(d.get("since"), int):
            raise bad("The state token is malformed or belongs to another collection.", "ErrorInvalidUrlQuery")
        if d.get("e") != u["epoch"] or d["since"] > u["seq"]:
            q = dict(d.get("q") or {})
            if d.get("sel"):
                q["$select"] = ",".join(d["sel"])
            loc = ctx.base_url + ctx.path + ("?" + urllib.parse.urlencode(q, safe="$,:") if q else "")
            raise GraphError(410, "syncStateNotFound",
                             "The sync state generation is not found. The delta token is expired and data "
                             "must be synchronized again.", headers={"Location": loc})
        select = set(d["sel"]) if d.get("sel") else None
        extra = d.get("q") or {}
        since, snap, after = d["since"], d.get("snap"), d.get("after")
        if kind == "d":
            snap, after = u["seq"], None
    else:
        select = parse_select(p)
        if top_max:
            p.int("$top", None, 1, top_max)
        extra = {k: p.str(k) for k in extra_params if p.has(k)}
        since, snap, after = -1, u["seq"], None
    if top_max and extra.get("$top"):
        size = min(size, int(extra["$top"]))
    initial = since < 0
    rows = []
    for c in items:
        if not (since < c["_seq"] <= snap):
            continue
        if initial and c.get("_deleted"):
            continue  # created and deleted before the initial request: not returned
        if filter_fn is not None and not c.get("_deleted") and not filter_fn(c, extra):
            continue
        if keep is not None and not initial and not keep(c, extra, since):
            continue
        rows.append(c)
    rows.sort(key=lambda c: (c["_seq"], c["id"]))
    if after is not None:
        rows = [c for c in rows if [c["_seq"], c["id"]] > after]
    page = rows[:size]
    out = {"@odata.context": ctx.base_url + "/v1.0/$metadata#Collection(%s)" % type_name, "value": []}
    for c in page:
        if c.get("_deleted"):
            out["value"].append({"@odata.type": "#microsoft.graph." + type_name, "id": c["id"],
                                 "@removed": {"reason": "deleted"}})
        else:
            r = render(c, select)
            r["@odata.type"] = "#microsoft.graph." + type_name
            out["value"].append(r)
    sel = sorted(select) if select else None
    base = {"c": scope, "sel": sel, "e": u["epoch"], "q": extra or None}
    if len(rows) > size:
        last = page[-1]
        st = b64e(dict(base, k="s", since=since, snap=snap, after=[last["_seq"], last["id"]]))
        out["@odata.nextLink"] = ctx.base_url + ctx.path + "?" + urllib.parse.urlencode({"$skiptoken": st}, safe="$")
    else:
        dt = b64e(dict(base, k="d", since=snap))
        out["@odata.deltaLink"] = ctx.base_url + ctx.path + "?" + urllib.parse.urlencode({"$deltatoken": dt},
                                                                                          safe="$")
    if preferred:
        ctx.response_headers["Preference-Applied"] = "odata.maxpagesize=%d" % size
    return out


# ---- collection paging (https://learn.microsoft.com/graph/paging) -----------------------

def parse_orderby(expr, orderable):
    keys = []
    for part in expr.split(","):
        bits = part.split()
        if not bits or len(bits) > 2 or bits[0] not in orderable or \
                (len(bits) == 2 and bits[1].lower() not in ("asc", "desc")):
            raise bad("Invalid $orderby clause '%s'." % part.strip())
        keys.append((bits[0], len(bits) == 2 and bits[1].lower() == "desc"))
    return keys


def page_collection(ctx, items, render_fn, select_fn, filter_fn, orderable, default_page, top_max,
                    extra=(), sort_key=None):
    """$top/$skip/$count/$select/$orderby/$filter paging of an Outlook collection.
    @odata.nextLink is an absolute URL with $skip, as Outlook answers.  select_fn(params)
    returns the selected names (None: all); without select_fn $select is accepted and
    ignored; without filter_fn $filter is refused."""
    allowed = {"$top", "$skip", "$select", "$count", "$orderby"} | set(extra)
    if filter_fn is not None:
        allowed.add("$filter")
    p = ctx.params(allowed)
    top = p.int("$top", None, 1, top_max)
    skip = p.int("$skip", 0, 0, None)
    select = select_fn(p) if select_fn else None
    count = p.bool("$count")
    if p.has("$filter"):
        pred = filter_fn(p.str("$filter"))
        items = [c for c in items if pred(c)]
    items = sorted(items, key=sort_key or (lambda c: (c.get("createdDateTime") or "", c["id"])))
    if p.has("$orderby"):
        for key, desc in reversed(parse_orderby(p.str("$orderby"), orderable)):
            items = sorted(items, key=lambda c: (c.get(key) is None, str(c.get(key) or "")), reverse=desc)
    size = top or default_page
    page = items[skip:skip + size]
    out = {"@odata.context": ctx.base_url + "/v1.0/$metadata#" + ctx.context_name,
           "value": [render_fn(c, select) for c in page]}
    if count:
        out["@odata.count"] = len(items)
    if skip + size < len(items):
        q = {k: v for k, v in p.q.items() if k != "$skip"}
        q["$skip"] = str(skip + size)
        out["@odata.nextLink"] = ctx.base_url + ctx.path + "?" + urllib.parse.urlencode(q, safe="$,'()/:")
    return out


# ---- extended properties of contacts and events ------------------------------------------------

# Extended properties: "{type} {proptag}" or "{type} {guid} Name {name}" / "{type} {guid} Id {id}"
# (https://learn.microsoft.com/graph/api/resources/extended-properties-overview#id-formats).
EXT_ID = re.compile(r"\s*(\w+)\s+(0x[0-9A-Fa-f]{4}|\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}"
                    r"\s+(?:Name\s+\S.*|Id\s+0x[0-9A-Fa-f]{1,4}))\s*")
EXPAND_EXT = re.compile(r"^\s*singleValueExtendedProperties\s*\(\s*\$filter\s*=\s*id\s+eq\s+'([^']{1,300})'\s*\)\s*$", re.I)


def ext_id(pid, owner="contact"):
    """An extended property's id in one form (the type as Graph spells it, the GUID in lower case), or 400."""
    m = EXT_ID.fullmatch(pid) if isinstance(pid, str) and len(pid) <= 300 else None
    if m is None:
        raise bad("The extended property id '%s' is not in a valid format ('{type} {proptag}' or "
                  "'{type} {guid} Name {name}' / '{type} {guid} Id {id}')." % str(pid)[:80],
                  "ErrorInvalidExtendedPropertyValue")
    if m.group(1).lower() != "string":
        raise not_modelled("extended properties of %ss other than String ones" % owner)
    rest = m.group(2)
    if rest.startswith("{"):
        guid, tail = rest.split("}", 1)
        rest = guid.lower() + "}" + tail
    return "String " + rest


def check_ext(props, owner):
    if not isinstance(props, list):
        raise type_error("singleValueExtendedProperties", "Collection(microsoft.graph.singleValueLegacyExtendedProperty)", props)
    out = {}
    for p in props:
        if not isinstance(p, dict):
            raise type_error("singleValueExtendedProperties", "microsoft.graph.singleValueLegacyExtendedProperty", p)
        for f in p:
            if f not in ("id", "value") and not f.startswith("@odata."):
                raise body_error("The property '%s' does not exist on type 'microsoft.graph."
                                 "singleValueLegacyExtendedProperty'." % f)
        if not isinstance(p.get("value"), str):
            raise type_error("value", "Edm.String", p.get("value"))
        out[ext_id(p.get("id"), owner)] = p["value"]
    return out


def expand_of(params, owner="contact"):
    """$expand=singleValueExtendedProperties($filter=id eq '...'): the property's id, else None."""
    if not params.has("$expand"):
        return None
    m = EXPAND_EXT.match(params.str("$expand"))
    if not m:
        raise not_modelled("$expand other than singleValueExtendedProperties($filter=id eq '...')")
    return ext_id(m.group(1), owner)


def with_ext(out, c, pid):
    """An answer with the extended property asked for (an empty list when the item has none)."""
    if pid is not None:
        v = (c.get("_ext") or {}).get(pid)
        out["singleValueExtendedProperties"] = [] if v is None else [{"id": pid, "value": v}]
    return out


# ---- shared complex types ------------------------------------------------------------------

def body_unknown(prop, type_name):
    return body_error("The property '%s' does not exist on type 'microsoft.graph.%s'. Make sure to only use "
                      "property names that are defined by the type or mark the type as open type."
                      % (prop, type_name))


def type_error(prop, want, value):
    return body_error("Cannot convert the literal '%s' to the expected type '%s' (property '%s')."
                      % (str(value)[:80], want, prop))


def check_members(value, allowed, type_name, prop):
    if not isinstance(value, dict):
        raise type_error(prop, "microsoft.graph." + type_name, value)
    for k in value:
        if k not in allowed and k != "@odata.type":
            raise body_unknown(k, type_name)
    return value


LOCAL_DT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,7})?)?$")


def check_dttz(value, prop):
    """dateTimeTimeZone (resources/datetimetimezone): {"dateTime": "2019-04-16T09:00:00",
    "timeZone": "Pacific Standard Time"}.  Answers the value with dateTime normalised to
    Graph's 7-digit fraction form.  A trailing offset/Z is refused (the offset belongs in
    timeZone)."""
    check_members(value, {"dateTime", "timeZone"}, "dateTimeTimeZone", prop)
    dt, tz = value.get("dateTime"), value.get("timeZone")
    m = LOCAL_DT.match(dt) if isinstance(dt, str) else None
    if not m:
        raise body_error("Cannot convert the literal '%s' to the expected type 'Edm.String' of a local "
                         "date and time (%s.dateTime)." % (str(dt)[:60], prop))
    try:
        datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)),
                 int(m.group(6) or 0))
    except ValueError:
        raise body_error("Invalid date '%s' in %s.dateTime." % (dt, prop))
    if not isinstance(tz, str) or not tz.strip() or len(tz) > 100:
        raise bad("%s.timeZone is required (a Windows or IANA time zone name)." % prop, "ErrorInvalidRequest")
    frac = (m.group(7) or ".")[1:]
    norm = "%s-%s-%sT%s:%s:%s.%s" % (m.group(1), m.group(2), m.group(3), m.group(4), m.group(5),
                                     m.group(6) or "00", (frac + "0000000")[:7])
    return {"dateTime": norm, "timeZone": tz}


DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
INDEXES = ["first", "second", "third", "fourth", "last"]
# resources/recurrencepattern: which properties each pattern type needs.
PATTERN_NEEDS = {"daily": [], "weekly": ["daysOfWeek"], "absoluteMonthly": ["dayOfMonth"],
                 "relativeMonthly": ["daysOfWeek"], "absoluteYearly": ["dayOfMonth", "month"],
                 "relativeYearly": ["daysOfWeek", "month"]}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(v, prop):
    if not isinstance(v, str) or not DATE.match(v):
        raise body_error("Cannot convert the literal '%s' to the expected type 'Edm.Date' (%s)." % (str(v)[:40], prop))
    try:
        datetime.strptime(v, "%Y-%m-%d")
    except ValueError:
        raise body_error("Invalid date '%s' (%s)." % (v, prop))
    return v


def _enum(v, values):
    if isinstance(v, str):
        for x in values:
            if x.lower() == v.lower():
                return x
    return v


def check_recurrence(value, prop="recurrence"):
    """patternedRecurrence (resources/patternedrecurrence, recurrencepattern, recurrencerange)."""
    check_members(value, {"pattern", "range"}, "patternedRecurrence", prop)
    pat = check_members(value.get("pattern"), {"type", "interval", "month", "dayOfMonth", "daysOfWeek",
                                               "firstDayOfWeek", "index"}, "recurrencePattern", prop + ".pattern")
    rng = check_members(value.get("range"), {"type", "startDate", "endDate", "recurrenceTimeZone",
                                             "numberOfOccurrences"}, "recurrenceRange", prop + ".range")
    # Older reference pages spell enum values capitalised (EndDate, NoEnd, Numbered); Graph
    # enums are matched case-insensitively here and answered in camelCase.
    t = _enum(pat.get("type"), PATTERN_NEEDS)
    if isinstance(pat.get("daysOfWeek"), list):
        pat = dict(pat, daysOfWeek=[_enum(d, DAYS) for d in pat["daysOfWeek"]])
    for k, vals in (("firstDayOfWeek", DAYS), ("index", INDEXES)):
        if pat.get(k) is not None:
            pat = dict(pat, **{k: _enum(pat[k], vals)})
    rng = dict(rng, type=_enum(rng.get("type"), ("endDate", "noEnd", "numbered")))
    if t not in PATTERN_NEEDS:
        raise bad("recurrence.pattern.type must be one of %s." % ", ".join(PATTERN_NEEDS), "ErrorInvalidRequest")
    interval = pat.get("interval")
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        raise bad("recurrence.pattern.interval is required and must be a positive integer.", "ErrorInvalidRequest")
    for need in PATTERN_NEEDS[t]:
        if pat.get(need) in (None, [], 0):
            raise bad("recurrence.pattern.%s is required for a %s pattern." % (need, t), "ErrorInvalidRequest")
    dows = pat.get("daysOfWeek")
    if dows is not None and (not isinstance(dows, list) or not all(d in DAYS for d in dows)):
        raise bad("recurrence.pattern.daysOfWeek must list day names (%s)." % ", ".join(DAYS), "ErrorInvalidRequest")
    if pat.get("firstDayOfWeek") is not None and pat["firstDayOfWeek"] not in DAYS:
        raise bad("recurrence.pattern.firstDayOfWeek must be a day name.", "ErrorInvalidRequest")
    if pat.get("index") is not None and pat["index"] not in INDEXES:
        raise bad("recurrence.pattern.index must be one of %s." % ", ".join(INDEXES), "ErrorInvalidRequest")
    for k, lo, hi in (("dayOfMonth", 0, 31), ("month", 0, 12)):
        v = pat.get(k)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi):
            raise bad("recurrence.pattern.%s must be an integer %d-%d." % (k, lo, hi), "ErrorInvalidRequest")
    rt = rng.get("type")
    if rt not in ("endDate", "noEnd", "numbered"):
        raise bad("recurrence.range.type must be endDate, noEnd or numbered.", "ErrorInvalidRequest")
    _date(rng.get("startDate"), prop + ".range.startDate")
    if rt == "endDate":
        _date(rng.get("endDate"), prop + ".range.endDate")
        if rng["endDate"] < rng["startDate"]:
            raise bad("recurrence.range.endDate is before startDate.", "ErrorInvalidRequest")
    if rt == "numbered":
        n = rng.get("numberOfOccurrences")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise bad("recurrence.range.numberOfOccurrences must be a positive integer for a numbered range.",
                      "ErrorInvalidRequest")
    out_pat = {"type": t, "interval": interval, "month": pat.get("month") or 0,
               "dayOfMonth": pat.get("dayOfMonth") or 0, "daysOfWeek": list(dows or []),
               "firstDayOfWeek": pat.get("firstDayOfWeek") or "sunday", "index": pat.get("index") or "first"}
    out_rng = {"type": rt, "startDate": rng["startDate"],
               "endDate": rng.get("endDate") if rt == "endDate" else "0001-01-01",
               "recurrenceTimeZone": rng.get("recurrenceTimeZone"),
               "numberOfOccurrences": rng.get("numberOfOccurrences") if rt == "numbered" else 0}
    return {"pattern": out_pat, "range": out_rng}
