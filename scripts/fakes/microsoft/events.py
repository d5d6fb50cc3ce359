"""Outlook calendars and events (Microsoft Graph v1.0).

Loaded by server.py under the module name ``msfake_events`` (not "calendar":
that would shadow the standard library module).

References (https://learn.microsoft.com/graph/api/ + page):
  resources/calendar, resources/event, resources/datetimetimezone, resources/patternedrecurrence,
  resources/recurrencepattern, resources/recurrencerange, resources/attendee, resources/location;
  user-list-calendars, user-post-calendars, calendar-get, user-list-events, user-post-events,
  calendar-list-events, calendar-post-events, event-get, event-update, event-delete,
  event-list-instances, user-list-calendarview, calendar-list-calendarview.
  Prefer: outlook.timezone -- described on user-list-events / event-get ("By default, the start
  time is in UTC"; the Prefer header picks another zone).
"""
import re
from datetime import date, datetime, timedelta, timezone

import msfake_common as C
import msfake_store as S

try:
    import zoneinfo
except ImportError:  # pragma: no cover
    zoneinfo = None

READ = ["Calendars.Read", "Calendars.ReadWrite"]
WRITE = ["Calendars.ReadWrite"]
DEFAULT_PAGE = 10
TOP_MAX = 1000
MAX_INSTANCES = 5000  # a series is expanded to at most this many occurrences ...
MAX_SPAN_DAYS = 100 * 366  # ... and at most 100 years from its range startDate
MAX_ATTENDEES = 500  # resources/event: "The maximum number of attendees ... is 500"

# Windows time zone names Outlook uses -> IANA (CLDR windowsZones, territory 001).
WINDOWS_TZ = {
    "UTC": "UTC", "Coordinated Universal Time": "UTC", "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik", "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris", "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw", "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev", "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow", "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver", "US Mountain Standard Time": "America/Phoenix",
    "Central Standard Time": "America/Chicago", "Eastern Standard Time": "America/New_York",
    "Atlantic Standard Time": "America/Halifax", "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu", "E. South America Standard Time": "America/Sao_Paulo",
    "Tokyo Standard Time": "Asia/Tokyo", "China Standard Time": "Asia/Shanghai",
    "India Standard Time": "Asia/Kolkata", "Singapore Standard Time": "Asia/Singapore",
    "AUS Eastern Standard Time": "Australia/Sydney", "New Zealand Standard Time": "Pacific/Auckland",
    "South Africa Standard Time": "Africa/Johannesburg", "Arabian Standard Time": "Asia/Dubai",
    "Korea Standard Time": "Asia/Seoul", "Israel Standard Time": "Asia/Jerusalem",
}
COLORS = ["auto", "lightBlue", "lightGreen", "lightOrange", "lightGray", "lightYellow", "lightTeal", "lightPink",
          "lightBrown", "lightRed", "maxColor"]
STRINGS = ["subject", "transactionId"]
BOOLS = ["isAllDay", "isReminderOn", "responseRequested", "allowNewTimeProposals", "isOnlineMeeting",
         "hideAttendees"]
ENUMS = {"importance": ["low", "normal", "high"], "sensitivity": ["normal", "personal", "private", "confidential"],
         "showAs": ["free", "tentative", "busy", "oof", "workingElsewhere", "unknown"],
         "onlineMeetingProvider": ["unknown", "teamsForBusiness", "skypeForBusiness", "skypeForConsumer"]}
READ_ONLY = {"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "iCalUId", "type", "seriesMasterId",
             "originalStart", "originalStartTimeZone", "originalEndTimeZone", "webLink", "bodyPreview",
             "hasAttachments", "isOrganizer", "isCancelled", "responseStatus", "onlineMeeting",
             "onlineMeetingUrl", "organizer"}
IGNORED = {"@odata.etag", "@odata.type", "@odata.context"}
RELATIONS = {"attachments", "calendar", "extensions", "instances", "multiValueExtendedProperties"}
LOCATION_FIELDS = {"displayName", "locationType", "locationUri", "uniqueId", "uniqueIdType", "address",
                   "coordinates", "locationEmailAddress"}
EVENT_PROPS = ["id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories", "transactionId",
               "originalStartTimeZone", "originalEndTimeZone", "iCalUId", "reminderMinutesBeforeStart",
               "isReminderOn", "hasAttachments", "subject", "bodyPreview", "importance", "sensitivity", "isAllDay",
               "isCancelled", "isOrganizer", "responseRequested", "seriesMasterId", "showAs", "type", "webLink",
               "onlineMeetingUrl", "isOnlineMeeting", "onlineMeetingProvider", "allowNewTimeProposals",
               "hideAttendees", "responseStatus", "body", "start", "end", "location", "locations", "recurrence",
               "attendees", "organizer", "onlineMeeting", "originalStart"]


# ---- time zones -----------------------------------------------------------------------

def zone(name, prop="timeZone"):
    iana = WINDOWS_TZ.get(name, name)
    if iana in ("UTC", "Etc/UTC"):
        return timezone.utc
    try:
        return zoneinfo.ZoneInfo(iana)
    except Exception:
        raise C.GraphError(400, "TimeZoneNotSupportedException",
                           "A valid TimeZone value must be specified. The following TimeZone value is not "
                           "supported: '%s'." % name, violation=True)


def parse_local(dt_str):
    return datetime.strptime(dt_str[:19], "%Y-%m-%dT%H:%M:%S")


def to_utc(dttz):
    return parse_local(dttz["dateTime"]).replace(tzinfo=zone(dttz["timeZone"])).astimezone(timezone.utc)


def fmt_local(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".0000000"


def out_tz(ctx):
    """Prefer: outlook.timezone="Pacific Standard Time" (default UTC)."""
    prefer = ctx.headers.get("Prefer") or ""
    for part in prefer.split(","):
        k, _, v = part.strip().partition("=")
        if k.strip().lower() == "outlook.timezone":
            name = v.strip().strip('"')
            z = zone(name)
            ctx.response_headers["Preference-Applied"] = 'outlook.timezone="%s"' % name
            return name, z
    return "UTC", timezone.utc


def render_time(utc_dt, tzname, z):
    return {"dateTime": fmt_local(utc_dt.astimezone(z).replace(tzinfo=None)), "timeZone": tzname}


# ---- calendars ----------------------------------------------------------------------------

def ensure(u, user):
    if "calendars" not in u:
        cid = S.new_id("AAMkAD")
        u["calendars"] = {cid: {"id": cid, "name": "Calendar", "color": "auto", "hexColor": "",
                                "isDefaultCalendar": True, "changeKey": S.new_change_key(), "canShare": True,
                                "canViewPrivateItems": True, "canEdit": True, "isRemovable": False,
                                "owner": {"name": user, "address": "%s@example.com" % user},
                                "_seq": 0, "_created": "0"}}
        u["events"] = {}
    return u


def default_cal(u):
    return next(c for c in u["calendars"].values() if c.get("isDefaultCalendar"))


def cal_of(ctx, cid=None):
    ensure(ctx.u, ctx.user)
    if cid is None:
        return default_cal(ctx.u)
    c = ctx.u["calendars"].get(cid)
    if c is None or c.get("_deleted"):
        raise C.not_found()
    return c


def render_cal(c, select=None):
    return S.public({k: v for k, v in c.items() if select is None or k in select or k == "id"})


def with_context(ctx, obj, name):
    out = {"@odata.context": ctx.base_url + "/v1.0/$metadata#" + name}
    out.update(obj)
    return out


def list_calendars(ctx):
    """GET /v1.0/me/calendars -- https://learn.microsoft.com/graph/api/user-list-calendars"""
    ensure(ctx.u, ctx.user)
    ctx.context_name = "users('%s')/calendars" % ctx.user
    items = [c for c in ctx.u["calendars"].values() if not c.get("_deleted")]
    return C.page_collection(ctx, items, render_cal, None, None, {"name"}, DEFAULT_PAGE, TOP_MAX,
                             sort_key=lambda c: (c.get("_created"), c["id"]))


def create_calendar(ctx):
    """POST /v1.0/me/calendars -- https://learn.microsoft.com/graph/api/user-post-calendars"""
    ctx.params(set())
    ensure(ctx.u, ctx.user)
    b = ctx.body
    for k, v in b.items():
        if k in IGNORED:
            continue
        if k not in ("name", "color", "hexColor"):
            raise C.body_unknown(k, "calendar")
        if not isinstance(v, str):
            raise C.type_error(k, "Edm.String", v)
    if not (b.get("name") or "").strip():
        raise C.bad("The calendar name is required.", "ErrorInvalidRequest")
    if "color" in b and b["color"] not in COLORS:
        raise C.body_error("The value '%s' is not a valid calendarColor." % b["color"])
    if any(c["name"].lower() == b["name"].lower() for c in ctx.u["calendars"].values() if not c.get("_deleted")):
        raise C.GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
    cid = S.new_id("AAMkAD")
    c = {"id": cid, "name": b["name"], "color": b.get("color", "auto"), "hexColor": b.get("hexColor", ""),
         "isDefaultCalendar": False, "changeKey": S.new_change_key(), "canShare": True, "canViewPrivateItems": True,
         "canEdit": True, "isRemovable": True,
         "owner": {"name": ctx.user, "address": "%s@example.com" % ctx.user},
         "_seq": ctx.store.bump(ctx.u), "_created": S.now_iso()}
    ctx.u["calendars"][cid] = c
    return 201, with_context(ctx, render_cal(c), "users('%s')/calendars/$entity" % ctx.user)


def get_calendar(ctx):
    """GET /v1.0/me/calendar, /v1.0/me/calendars/{id} -- https://learn.microsoft.com/graph/api/calendar-get"""
    ctx.params({"$select"})
    return with_context(ctx, render_cal(cal_of(ctx, ctx.match.get("cal"))), "users('%s')/calendars/$entity" % ctx.user)


# ---- event validation ----------------------------------------------------------------------

def check_event(body, creating, is_instance=False):
    out = {}
    for k, v in body.items():
        if k in IGNORED or k in READ_ONLY:
            continue
        if k in RELATIONS:
            raise C.bad("Relationship '%s' is not supported by this fake in an event body." % k,
                        "ErrorInvalidRequest")
        if k == "singleValueExtendedProperties":
            if is_instance:
                raise C.not_modelled("extended properties of an occurrence")
            out[k] = C.check_ext(v, "event")
            continue
        if k in STRINGS:
            if v is not None and not isinstance(v, str):
                raise C.type_error(k, "Edm.String", v)
        elif k in BOOLS:
            if not isinstance(v, bool):
                raise C.type_error(k, "Edm.Boolean", v)
        elif k in ENUMS:
            if v not in ENUMS[k]:
                raise C.body_error("The value '%s' is not valid for '%s' (%s)." % (v, k, ", ".join(ENUMS[k])))
        elif k == "reminderMinutesBeforeStart":
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise C.type_error(k, "Edm.Int32", v)
        elif k == "categories":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise C.type_error(k, "Collection(Edm.String)", v)
        elif k == "body":
            if v is not None:
                C.check_members(v, {"content", "contentType"}, "itemBody", k)
                if v.get("contentType", "text") not in ("text", "html"):
                    raise C.body_error("body.contentType must be text or html.")
                if v.get("content") is not None and not isinstance(v["content"], str):
                    raise C.type_error("content", "Edm.String", v["content"])
                v = {"contentType": v.get("contentType", "text"), "content": v.get("content") or ""}
        elif k in ("start", "end"):
            v = C.check_dttz(v, k)
            zone(v["timeZone"])
        elif k == "recurrence":
            if is_instance and v is not None:
                raise C.bad("An occurrence or exception cannot have a recurrence.", "ErrorInvalidRequest")
            if v is not None:
                v = C.check_recurrence(v)
        elif k == "location":
            if v is not None:
                v = check_location(v, k)
        elif k == "locations":
            if not isinstance(v, list):
                raise C.type_error(k, "Collection(microsoft.graph.location)", v)
            v = [check_location(x, k) for x in v]
        elif k == "attendees":
            if not isinstance(v, list):
                raise C.type_error(k, "Collection(microsoft.graph.attendee)", v)
            if len(v) > MAX_ATTENDEES:
                raise C.bad("An event can have at most %d attendees." % MAX_ATTENDEES, "ErrorInvalidRequest")
            v = [check_attendee(a) for a in v]
        else:
            raise C.body_unknown(k, "event")
        out[k] = v
    if creating and ("start" not in out or "end" not in out):
        raise C.bad("An event needs start and end.", "ErrorInvalidRequest")
    return out


def check_location(v, prop):
    C.check_members(v, LOCATION_FIELDS, "location", prop)
    if v.get("displayName") is not None and not isinstance(v["displayName"], str):
        raise C.type_error("displayName", "Edm.String", v["displayName"])
    if v.get("address") is not None:
        C.check_members(v["address"], {"street", "city", "state", "countryOrRegion", "postalCode"},
                        "physicalAddress", "address")
    out = {"displayName": v.get("displayName") or "", "locationType": v.get("locationType", "default"),
           "uniqueId": v.get("uniqueId"), "uniqueIdType": v.get("uniqueIdType", "unknown")}
    for k in ("address", "coordinates", "locationUri", "locationEmailAddress"):
        if k in v:
            out[k] = v[k]
    return out


def check_attendee(a):
    C.check_members(a, {"emailAddress", "type", "status", "proposedNewTime"}, "attendee", "attendees")
    ea = C.check_members(a.get("emailAddress"), {"name", "address"}, "emailAddress", "attendees.emailAddress")
    if not isinstance(ea.get("address"), str) or "@" not in ea["address"]:
        raise C.bad("Every attendee needs emailAddress.address.", "ErrorInvalidRecipients")
    t = a.get("type", "required")
    if t not in ("required", "optional", "resource"):
        raise C.body_error("The value '%s' is not a valid attendeeType." % t)
    return {"type": t, "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": ea.get("name") or ea["address"], "address": ea["address"]}}


def check_times(ev):
    s, e = to_utc(ev["start"]), to_utc(ev["end"])
    if e < s:
        raise C.bad("The end of the event is before its start.", "ErrorInvalidRequest")
    if ev.get("isAllDay"):
        ls, le = parse_local(ev["start"]["dateTime"]), parse_local(ev["end"]["dateTime"])
        if ls.time() != datetime.min.time() or le.time() != datetime.min.time() or le <= ls or \
                ev["start"]["timeZone"] != ev["end"]["timeZone"]:
            raise C.bad("An all-day event's start and end must be midnight in the same time zone, at least one "
                        "day apart.", "ErrorInvalidRequest")


# ---- recurrence expansion -------------------------------------------------------------------

def _nth_weekdays(d, days, index):
    """Does date d fall on the index-th (first..fourth, last) of one of `days` in its month?"""
    if C.DAYS[(d.weekday() + 1) % 7] not in days:
        return False
    if index == "last":
        return (d + timedelta(days=7)).month != d.month
    n = (d.day - 1) // 7
    return C.INDEXES[n] == index if n < 4 else False


def occurrence_dates(rec, limit_date):
    """Dates of a patternedRecurrence, in order, up to limit_date (inclusive)."""
    pat, rng = rec["pattern"], rec["range"]
    start = date.fromisoformat(rng["startDate"])
    end = date.fromisoformat(rng["endDate"]) if rng["type"] == "endDate" else None
    count = rng["numberOfOccurrences"] if rng["type"] == "numbered" else None
    t, iv = pat["type"], pat["interval"]
    first_dow = C.DAYS.index(pat.get("firstDayOfWeek") or "sunday")
    week0 = start - timedelta(days=((start.weekday() + 1) % 7 - first_dow) % 7)
    out, d = [], start
    while d <= limit_date and (end is None or d <= end) and (count is None or len(out) < count) \
            and len(out) < MAX_INSTANCES and (d - start).days < MAX_SPAN_DAYS:
        months = (d.year - start.year) * 12 + d.month - start.month
        ok = False
        if t == "daily":
            ok = (d - start).days % iv == 0
        elif t == "weekly":
            ok = ((d - week0).days // 7) % iv == 0 and C.DAYS[(d.weekday() + 1) % 7] in pat["daysOfWeek"]
        elif t == "absoluteMonthly":
            ok = months % iv == 0 and d.day == pat["dayOfMonth"]
        elif t == "relativeMonthly":
            ok = months % iv == 0 and _nth_weekdays(d, pat["daysOfWeek"], pat["index"])
        elif t == "absoluteYearly":
            ok = (d.year - start.year) % iv == 0 and d.month == pat["month"] and d.day == pat["dayOfMonth"]
        elif t == "relativeYearly":
            ok = (d.year - start.year) % iv == 0 and d.month == pat["month"] and \
                _nth_weekdays(d, pat["daysOfWeek"], pat["index"])
        if ok:
            out.append(d)
        d += timedelta(days=1)
    return out


def occ_key(utc_dt):
    return utc_dt.strftime("%Y%m%dT%H%M%SZ")


def instances_of(master, until_utc):
    """(key, occurrence_start_utc, duration, override_or_None) for a series master."""
    tz = zone(master["start"]["timeZone"])
    local_start = parse_local(master["start"]["dateTime"])
    dur = to_utc(master["end"]) - to_utc(master["start"])
    limit = (until_utc + timedelta(days=2)).date()
    out = []
    for d in occurrence_dates(master["recurrence"], limit):
        st = datetime.combine(d, local_start.time()).replace(tzinfo=tz).astimezone(timezone.utc)
        k = occ_key(st)
        ov = master["_exceptions"].get(k)
        if ov and ov.get("cancelled"):
            continue
        out.append((k, st, dur, ov))
    return out


# ---- rendering ---------------------------------------------------------------------------------

def render(ctx, ev, select=None, tzinfo=None):
    tzname, z = tzinfo or out_tz(ctx)
    full = {k: ev.get(k) for k in EVENT_PROPS if k not in ("start", "end")}
    full["@odata.etag"] = 'W/"%s"' % ev["changeKey"]
    if ev.get("isAllDay"):
        full["start"] = {"dateTime": ev["start"]["dateTime"], "timeZone": tzname}
        full["end"] = {"dateTime": ev["end"]["dateTime"], "timeZone": tzname}
    else:
        full["start"] = render_time(to_utc(ev["start"]), tzname, z)
        full["end"] = render_time(to_utc(ev["end"]), tzname, z)
    if full.get("originalStart") is None:
        full.pop("originalStart", None)
    if select is not None:
        full = {k: v for k, v in full.items() if k in select or k in ("id", "@odata.etag")}
    return S.public(full)


def instance_event(master, key, st, dur, ov):
    """The occurrence (or exception) of `master` starting at st (UTC)."""
    tz = master["start"]["timeZone"]
    z = zone(tz)
    ev = {k: v for k, v in master.items() if not k.startswith("_")}
    ev.update({"id": master["id"] + "_" + key, "type": "occurrence", "seriesMasterId": master["id"],
               "recurrence": None, "iCalUId": master["iCalUId"] + key,
               "originalStart": st.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "start": {"dateTime": fmt_local(st.astimezone(z).replace(tzinfo=None)), "timeZone": tz},
               "end": {"dateTime": fmt_local((st + dur).astimezone(zone(master["end"]["timeZone"]))
                                             .replace(tzinfo=None)), "timeZone": master["end"]["timeZone"]}})
    if ov:
        ev.update(ov["fields"])
        ev.update({"type": "exception", "changeKey": ov["changeKey"], "lastModifiedDateTime": ov["modified"]})
    return ev


def body_preview(body):
    text = re.sub(r"<[^>]*>", "", (body or {}).get("content") or "")
    return re.sub(r"\s+", " ", text).strip()[:255]


# ---- events ------------------------------------------------------------------------------------

def events_in(u, cal_id):
    return [e for e in u["events"].values() if not e.get("_deleted") and e["_cal"] == cal_id]


def select_parse(p):
    sel = p.str("$select")
    if sel is None:
        return None
    names = [s.strip() for s in sel.split(",")]
    for n in names:
        if n not in EVENT_PROPS:
            raise C.bad("Could not find a property named '%s' on type 'microsoft.graph.event'." % n)
    return set(names)


def list_events(ctx):
    """GET /v1.0/me/events -- https://learn.microsoft.com/graph/api/user-list-events ("single instance
    meetings and series masters"); GET /v1.0/me/calendars/{id}/events -- calendar-list-events."""
    cal = cal_of(ctx, ctx.match.get("cal"))
    tzinfo = out_tz(ctx)
    ctx.context_name = "users('%s')/events" % ctx.user
    pid = C.expand_of(C.Params(ctx.query, {"$top", "$skip", "$select", "$count", "$orderby", "$expand"}), "event")
    return C.page_collection(ctx, events_in(ctx.u, cal["id"]), lambda e, s: C.with_ext(render(ctx, e, s, tzinfo), e, pid),
                             select_parse, None, {"subject", "createdDateTime", "lastModifiedDateTime"},
                             DEFAULT_PAGE, TOP_MAX, extra=("$expand",))


def create_event(ctx):
    """POST /v1.0/me/events -- https://learn.microsoft.com/graph/api/user-post-events;
    POST /v1.0/me/calendars/{id}/events -- calendar-post-events."""
    ctx.params(set())
    cal = cal_of(ctx, ctx.match.get("cal"))
    fields = check_event(ctx.body, True)
    ext = fields.pop("singleValueExtendedProperties", None) or {}
    tid = fields.get("transactionId")
    if tid:
        for e in ctx.u["events"].values():
            if not e.get("_deleted") and e.get("transactionId") == tid:
                # "transactionId: A custom identifier specified by a client app for the server to
                # avoid redundant POST operations in case of client retries"
                return 201, with_context(ctx, render(ctx, e), "users('%s')/events/$entity" % ctx.user)
    now = S.now_iso()
    eid = S.new_id("AAMkAD")
    ev = {"categories": [], "transactionId": None, "reminderMinutesBeforeStart": 15, "isReminderOn": True,
          "hasAttachments": False, "subject": "", "importance": "normal", "sensitivity": "normal",
          "isAllDay": False, "isCancelled": False, "isOrganizer": True, "responseRequested": True,
          "seriesMasterId": None, "showAs": "busy", "onlineMeetingUrl": None, "isOnlineMeeting": False,
          "onlineMeetingProvider": "unknown", "allowNewTimeProposals": True, "hideAttendees": False,
          "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
          "body": {"contentType": "text", "content": ""}, "location": check_location({}, "location"),
          "locations": [], "recurrence": None, "attendees": [], "onlineMeeting": None,
          "organizer": {"emailAddress": {"name": ctx.user, "address": "%s@example.com" % ctx.user}}}
    ev.update(fields)
    if "location" in fields and "locations" not in fields:
        ev["locations"] = [fields["location"]] if fields["location"] and fields["location"]["displayName"] else []
    check_times(ev)
    ev.update({"id": eid, "createdDateTime": now, "lastModifiedDateTime": now, "changeKey": S.new_change_key(),
               "iCalUId": "040000008200E00074C5B7101A82E008" + S.new_change_key().encode().hex()[:32].upper(),
               "originalStartTimeZone": ev["start"]["timeZone"], "originalEndTimeZone": ev["end"]["timeZone"],
               "type": "seriesMaster" if ev.get("recurrence") else "singleInstance",
               "webLink": "https://outlook.office365.com/owa/?itemid=%s&exvsurl=1&path=/calendar/item" % eid,
               "bodyPreview": body_preview(ev["body"]), "_cal": cal["id"], "_exceptions": {}, "_ext": dict(ext),
               "_seq": ctx.store.bump(ctx.u)})
    ctx.u["events"][eid] = ev
    return 201, with_context(ctx, render(ctx, ev), "users('%s')/events/$entity" % ctx.user)


def find_event(ctx, eid):
    """A stored event, or (master, key) for an occurrence id `{masterId}_{YYYYMMDDTHHMMSSZ}`."""
    ensure(ctx.u, ctx.user)
    ev = ctx.u["events"].get(eid)
    cal = ctx.match.get("cal")
    if ev is not None and not ev.get("_deleted"):
        if cal is not None and cal_of(ctx, cal)["id"] != ev["_cal"]:
            raise C.not_found()
        return ev, None
    m = re.match(r"^(.*)_(\d{8}T\d{6}Z)$", eid)
    if m:
        master = ctx.u["events"].get(m.group(1))
        if master is not None and not master.get("_deleted") and master.get("recurrence"):
            if cal is not None and cal_of(ctx, cal)["id"] != master["_cal"]:
                raise C.not_found()
            st = datetime.strptime(m.group(2), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            for k, s, dur, ov in instances_of(master, st + timedelta(days=1)):
                if k == m.group(2):
                    return master, (k, s, dur, ov)
    raise C.not_found()


def get_event(ctx):
    """GET /v1.0/me/events/{id} -- https://learn.microsoft.com/graph/api/event-get"""
    p = ctx.params({"$select", "$expand"})
    pid = C.expand_of(p, "event")
    ev, inst = find_event(ctx, ctx.match["eid"])
    if inst:
        ev = instance_event(ev, *inst)
    return with_context(ctx, C.with_ext(render(ctx, ev, select_parse(p)), ev, pid), "users('%s')/events/$entity" % ctx.user)


def update_event(ctx):
    """PATCH /v1.0/me/events/{id} -- https://learn.microsoft.com/graph/api/event-update.
    Patching an occurrence turns it into an exception."""
    ctx.params(set())
    ev, inst = find_event(ctx, ctx.match["eid"])
    if ctx.headers.get("If-Match") and ctx.headers.get("If-Match").strip() not in (
            "*", 'W/"%s"' % ev["changeKey"], '"%s"' % ev["changeKey"]) and not inst:
        raise C.GraphError(412, "ErrorIrresolvableConflict", "The change key passed in the request does not match "
                           "the current change key for the item.")
    fields = check_event(ctx.body, False, is_instance=bool(inst))
    now = S.now_iso()
    if inst:
        key, st, dur, ov = inst
        merged = instance_event(ev, key, st, dur, ov)
        merged.update(fields)
        check_times(merged)
        prev = (ov or {}).get("fields", {})
        prev.update(fields)
        if "body" in fields:
            prev["bodyPreview"] = body_preview(fields["body"])
        ev["_exceptions"][key] = {"fields": prev, "changeKey": S.new_change_key(), "modified": now}
        ev["_seq"] = ctx.store.bump(ctx.u)
        return with_context(ctx, render(ctx, instance_event(ev, key, st, dur, ev["_exceptions"][key])),
                            "users('%s')/events/$entity" % ctx.user)
    candidate = dict(ev)
    # extended properties sent are set (or replaced); the others stay
    candidate["_ext"] = dict(ev.get("_ext") or {}, **(fields.pop("singleValueExtendedProperties", None) or {}))
    candidate.update(fields)
    if ev["type"] == "singleInstance" and candidate.get("recurrence"):
        candidate["type"] = "seriesMaster"
    if ev["type"] == "seriesMaster" and "recurrence" in fields and not fields["recurrence"]:
        candidate["type"] = "singleInstance"
    check_times(candidate)
    if ev["type"] == "seriesMaster" and any(k in fields for k in ("recurrence", "start", "end")):
        candidate["_exceptions"] = {}  # a changed pattern or time drops the exceptions (see README)
    if "location" in fields and "locations" not in fields:
        candidate["locations"] = [fields["location"]] if fields["location"] and fields["location"]["displayName"] \
            else []
    if "body" in fields:
        candidate["bodyPreview"] = body_preview(candidate["body"])
    candidate.update({"lastModifiedDateTime": now, "changeKey": S.new_change_key(), "_seq": ctx.store.bump(ctx.u)})
    ev.clear()
    ev.update(candidate)
    return with_context(ctx, render(ctx, ev), "users('%s')/events/$entity" % ctx.user)


def delete_event(ctx):
    """DELETE /v1.0/me/events/{id} -- https://learn.microsoft.com/graph/api/event-delete.
    Deleting an occurrence cancels just that occurrence; deleting a master deletes the series."""
    ctx.params(set())
    ev, inst = find_event(ctx, ctx.match["eid"])
    if inst:
        ev["_exceptions"][inst[0]] = {"cancelled": True}
        ev["_seq"] = ctx.store.bump(ctx.u)
        return 204, None
    ctx.u["events"][ev["id"]] = {"id": ev["id"], "_cal": ev["_cal"], "_deleted": True,
                                 "_seq": ctx.store.bump(ctx.u)}
    return 204, None


def window(p):
    """startDateTime/endDateTime query parameters (ISO 8601; no offset = UTC)."""
    vals = []
    for name in ("startDateTime", "endDateTime"):
        v = p.str(name)
        if v is None:
            raise C.GraphError(400, "ErrorInvalidParameter", "This request requires a time window specified by "
                               "the query string parameters StartDateTime and EndDateTime.", violation=True)
        dt = C.parse_dto(v)
        if dt is None:
            m = C.LOCAL_DT.match(v)
            if not m:
                raise C.bad("Invalid value '%s' for %s." % (v, name), "ErrorInvalidParameter")
            dt = parse_local(v if m.group(6) else v + ":00").replace(tzinfo=timezone.utc)
        vals.append(dt.astimezone(timezone.utc))
    if vals[1] <= vals[0]:
        raise C.bad("endDateTime must be after startDateTime.", "ErrorInvalidParameter")
    return vals


def expand(ctx, masters_and_singles, lo, hi, include_single=True):
    out = []
    for ev in masters_and_singles:
        if ev.get("recurrence"):
            for k, st, dur, ov in instances_of(ev, hi):
                inst = instance_event(ev, k, st, dur, ov)
                s, e = to_utc(inst["start"]), to_utc(inst["end"])
                if s < hi and (e > lo or (s == e and s >= lo)):
                    out.append(inst)
        elif include_single:
            s, e = to_utc(ev["start"]), to_utc(ev["end"])
            if s < hi and (e > lo or (s == e and s >= lo)):
                out.append(ev)
    return out


def list_instances(ctx):
    """GET /v1.0/me/events/{id}/instances?startDateTime=&endDateTime= --
    https://learn.microsoft.com/graph/api/event-list-instances (occurrences and exceptions in the range)."""
    p_allowed = {"startDateTime", "endDateTime"}
    ev, inst = find_event(ctx, ctx.match["eid"])
    lo, hi = window(C.Params({k: v for k, v in ctx.query.items() if k in p_allowed}, p_allowed))
    tzinfo = out_tz(ctx)
    items = expand(ctx, [ev] if not inst else [], lo, hi, include_single=False)
    ctx.context_name = "users('%s')/events('%s')/instances" % (ctx.user, ev["id"])
    return C.page_collection(ctx, items, lambda e, s: render(ctx, e, s, tzinfo), select_parse, None,
                             {"subject"}, DEFAULT_PAGE, TOP_MAX, extra=p_allowed,
                             sort_key=lambda e: (to_utc(e["start"]), e["id"]))


def calendar_view(ctx):
    """GET /v1.0/me/calendarView, /v1.0/me/calendars/{id}/calendarView ?startDateTime=&endDateTime= --
    https://learn.microsoft.com/graph/api/user-list-calendarview (occurrences, exceptions and single
    instances; no series masters)."""
    p_allowed = {"startDateTime", "endDateTime"}
    cal = cal_of(ctx, ctx.match.get("cal"))
    lo, hi = window(C.Params({k: v for k, v in ctx.query.items() if k in p_allowed}, p_allowed))
    tzinfo = out_tz(ctx)
    items = expand(ctx, events_in(ctx.u, cal["id"]), lo, hi)
    ctx.context_name = "users('%s')/calendarView" % ctx.user
    return C.page_collection(ctx, items, lambda e, s: render(ctx, e, s, tzinfo), select_parse, None,
                             {"subject"}, DEFAULT_PAGE, TOP_MAX, extra=p_allowed,
                             sort_key=lambda e: (to_utc(e["start"]), e["id"]))


class _SeedCtx:
    def __init__(self, store, u, user):
        self.store, self.u, self.user = store, u, user
        self.headers, self.response_headers, self.match = {}, {}, {}
        self.base_url = ""

    def params(self, allowed):
        return C.Params({}, set(allowed))


def seed(store, u, data):
    """{"events": [event...] (default calendar), "calendars": [{"name", "events": [...]}]}"""
    if not (data.get("events") or data.get("calendars")):
        return {}
    user = data["user"]
    ensure(u, user)
    made = {"defaultCalendarId": default_cal(u)["id"]}

    def add(cal_id, bodies):
        ids = []
        for b in bodies:
            ctx = _SeedCtx(store, u, user)
            ctx.match = {"cal": cal_id}
            ctx.body = b
            ids.append(create_event(ctx)[1]["id"])
        return ids

    if data.get("events"):
        made["events"] = add(made["defaultCalendarId"], data["events"])
    if data.get("calendars"):
        made["calendars"] = []
        for spec in data["calendars"]:
            ctx = _SeedCtx(store, u, user)
            ctx.body = {"name": spec.get("name")}
            cid = create_calendar(ctx)[1]["id"]
            made["calendars"].append({"id": cid, "events": add(cid, spec.get("events") or [])})
    return made


B = "/v1.0/me"
ROUTES = [
    C.route("GET", B + "/calendars", list_calendars, READ, "calendars.list"),
    C.route("POST", B + "/calendars", create_calendar, WRITE, "calendars.create", body=True),
    C.route("GET", B + "/calendar", get_calendar, READ, "calendars.get"),
    C.route("GET", B + "/calendars/{cal}", get_calendar, READ, "calendars.get"),
    C.route("GET", B + "/events", list_events, READ, "events.list"),
    C.route("POST", B + "/events", create_event, WRITE, "events.create", body=True),
    C.route("GET", B + "/calendars/{cal}/events", list_events, READ, "events.list"),
    C.route("POST", B + "/calendars/{cal}/events", create_event, WRITE, "events.create", body=True),
    C.route("GET", B + "/calendarView", calendar_view, READ, "events.calendarView"),
    C.route("GET", B + "/calendars/{cal}/calendarView", calendar_view, READ, "events.calendarView"),
    C.route("GET", B + "/events/{eid}", get_event, READ, "events.get"),
    C.route("PATCH", B + "/events/{eid}", update_event, WRITE, "events.update", body=True),
    C.route("DELETE", B + "/events/{eid}", delete_event, WRITE, "events.delete"),
    C.route("GET", B + "/events/{eid}/instances", list_instances, READ, "events.instances"),
    C.route("GET", B + "/calendars/{cal}/events/{eid}", get_event, READ, "events.get"),
    C.route("PATCH", B + "/calendars/{cal}/events/{eid}", update_event, WRITE, "events.update", body=True),
    C.route("DELETE", B + "/calendars/{cal}/events/{eid}", delete_event, WRITE, "events.delete"),
]
