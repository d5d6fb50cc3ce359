"""Calendar API v3 (calendar list, calendars, events).

Reference: https://developers.google.com/calendar/api/v3/reference
Event resource: https://developers.google.com/calendar/api/v3/reference/events
Errors: https://developers.google.com/calendar/api/guides/errors
Sync: https://developers.google.com/calendar/api/guides/sync

(This file is loaded by server.py as `gfake_calendar`; its name would shadow
the standard library's `calendar` if this folder were on sys.path.)
"""
import base64
import copy
import re
from datetime import datetime, timedelta, timezone

import gfake_common as C
import gfake_store as S

try:
    import zoneinfo
    ZONES = zoneinfo.available_timezones()
except Exception:  # pragma: no cover
    zoneinfo, ZONES = None, set()

API = "calendar"
A = "https://www.googleapis.com/auth/"
CAL, CAL_RO = A + "calendar", A + "calendar.readonly"
EV, EV_RO = A + "calendar.events", A + "calendar.events.readonly"
OWNED, OWNED_RO = A + "calendar.events.owned", A + "calendar.events.owned.readonly"
APP = A + "calendar.app.created"
LIST_READ = (CAL, CAL_RO, A + "calendar.calendarlist", A + "calendar.calendarlist.readonly")
CALS_WRITE = (CAL, APP, A + "calendar.calendars")
EV_READ = (CAL, CAL_RO, EV, EV_RO, OWNED, OWNED_RO, APP)
EV_WRITE = (CAL, EV, OWNED, APP)

EVENT_KEYS = {"kind", "etag", "id", "status", "htmlLink", "created", "updated", "summary", "description",
              "location", "colorId", "creator", "organizer", "start", "end", "endTimeUnspecified", "recurrence",
              "recurringEventId", "originalStartTime", "transparency", "visibility", "iCalUID", "sequence",
              "attendees", "attendeesOmitted", "extendedProperties", "hangoutLink", "conferenceData", "gadget",
              "anyoneCanAddSelf", "guestsCanInviteOthers", "guestsCanModify", "guestsCanSeeOtherGuests",
              "privateCopy", "locked", "reminders", "source", "attachments", "eventType",
              "workingLocationProperties", "outOfOfficeProperties", "focusTimeProperties", "birthdayProperties"}
OUTPUT_ONLY = {"kind", "etag", "htmlLink", "created", "updated", "creator", "hangoutLink", "attendeesOmitted"}
ATTENDEE_KEYS = {"id", "email", "displayName", "organizer", "self", "resource", "optional", "responseStatus",
                 "comment", "additionalGuests"}
RESPONSE = ("needsAction", "declined", "tentative", "accepted")
INCOMPATIBLE_WITH_SYNC = ("iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty",
                          "timeMin", "timeMax", "updatedMin")
ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")


def bad(msg, reason="invalid", location=None):
    return C.ApiError(400, msg, reason=reason, violation=True, location=location,
                      location_type="parameter" if location else None)


def etag(seq):
    return '"%d"' % (3180000000000000 + seq * 1000)


def resolve_cal(ctx, cid):
    u = ctx.u
    if cid == "primary":
        cid = next(k for k, c in u["calendars"].items() if c.get("_primary"))
    c = u["calendars"].get(cid)
    if c is None or c.get("_deleted"):
        raise C.not_found()
    u["events"].setdefault(cid, {})
    return cid, c


# ---- calendarList.list ----------------------------------------------------------------
# https://developers.google.com/calendar/api/v3/reference/calendarList/list
def render_entry(u, cid):
    c = u["calendars"][cid]
    e = u["calendarList"][cid]
    if e.get("_deleted"):
        return {"kind": "calendar#calendarListEntry", "etag": etag(e["_seq"]), "id": cid, "deleted": True}
    out = {"kind": "calendar#calendarListEntry", "etag": etag(e["_seq"]), "id": cid, "summary": c["summary"]}
    for k in ("description", "location"):
        if c.get(k):
            out[k] = c[k]
    out.update({"timeZone": c.get("timeZone", "UTC"), "colorId": "14", "backgroundColor": "#9fe1e7",
                "foregroundColor": "#000000", "selected": True, "accessRole": "owner",
                "defaultReminders": [{"method": "popup", "minutes": 10}] if c.get("_primary") else [],
                "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}})
    if c.get("_primary"):
        out["primary"] = True
        out["notificationSettings"] = {"notifications": [{"type": "eventCreation", "method": "email"}]}
    if e.get("hidden"):
        out["hidden"] = True
    return out


def list_calendar_list(ctx):
    P = ctx.params(["maxResults", "minAccessRole", "pageToken", "showDeleted", "showHidden", "syncToken"])
    size = capped(ctx, P, "maxResults", 100, 250)
    role = P.enum("minAccessRole", ["freeBusyReader", "owner", "reader", "writer"])
    show_deleted = P.bool("showDeleted")
    show_hidden = P.bool("showHidden")
    sync = P.str("syncToken")
    u = ctx.u
    if sync and role:
        raise bad("Sync token cannot be used with minAccessRole.", location="minAccessRole")
    fp_page = P.fingerprint({"pageToken"})
    fp_sync = P.fingerprint({"pageToken", "syncToken", "maxResults"})
    after, snap = C.page_in(P, fp_page, u)
    ids = list(u["calendarList"])
    if sync:
        state, d = C.sync_token_in(sync, "calendarList", "me", u)
        if state != "ok":
            raise gone()
        ids = [i for i in ids if u["calendarList"][i]["_seq"] > d["s"]]
    else:
        ids = [i for i in ids if (show_deleted or not u["calendarList"][i].get("_deleted"))
               and (show_hidden or not u["calendarList"][i].get("hidden"))]
    page, last = C.keyset(ids, lambda i: [0 if u["calendars"][i].get("_primary") else 1,
                                          u["calendarList"][i].get("_ord", 0), i], after, size)
    out = {"kind": "calendar#calendarList", "etag": etag(snap), "items": [render_entry(u, i) for i in page]}
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp_page, snap)
    else:
        out["nextSyncToken"] = C.sync_token_out("calendarList", "me", u, fp_sync, snap)
    return out


def capped(ctx, P, name, default, hi):
    """Calendar caps page sizes instead of refusing them: "for some collections
    (such as events) there is a hard limit on the number of retrieved entries
    that the server never exceeds" (guides/pagination).  The fake caps too, and
    records the oversized request as a violation, since the client asked for
    something it cannot get."""
    n = P.int(name, default, 1, None)
    if n > hi:
        ctx.fake.violation(ctx.method, ctx.handler.path,
                           "%s=%d exceeds the documented maximum %d; Google caps the page at %d."
                           % (name, n, hi, hi))
        n = hi
    return n


def gone():
    return C.ApiError(410, "Sync token is no longer valid, a full sync is required.", reason="fullSyncRequired")


# ---- calendars.insert / calendars.get ---------------------------------------------------
# https://developers.google.com/calendar/api/v3/reference/calendars/insert
def check_tz(tz, where):
    if ZONES and tz not in ZONES and tz != "UTC":
        raise bad("Invalid time zone definition for %s: %s" % (where, tz), reason="timeZoneInvalid")


def render_calendar(c):
    out = {"kind": "calendar#calendar", "etag": etag(c["_seq"]), "id": c["id"], "summary": c["summary"]}
    for k in ("description", "location"):
        if c.get(k):
            out[k] = c[k]
    out["timeZone"] = c.get("timeZone", "UTC")
    out["conferenceProperties"] = {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}
    return out


def insert_calendar(ctx):
    ctx.params([])
    b = C.check_object(ctx.body, {"kind", "etag", "id", "summary", "description", "location", "timeZone",
                                  "conferenceProperties"}, "calendar", API)
    if not isinstance(b.get("summary"), str) or not b["summary"].strip():
        raise bad("Missing title.", reason="required")
    for k in ("description", "location", "timeZone"):
        if k in b:
            C.want_type(b[k], str, k, API)
    if b.get("timeZone"):
        check_tz(b["timeZone"], "calendar")
    return render_calendar(new_calendar(ctx.u, b))


def new_calendar(u, b):
    cid = S.new_id(26, "0123456789abcdef") + "@group.calendar.google.com"
    c = {"id": cid, "summary": b["summary"], "timeZone": b.get("timeZone") or "UTC"}
    for k in ("description", "location"):
        if b.get(k):
            c[k] = b[k]
    c["_seq"] = S_bump(u)
    u["calendars"][cid] = c
    u["calendarList"][cid] = {"_seq": c["_seq"], "_ord": c["_seq"]}
    u["events"][cid] = {}
    return c


# https://developers.google.com/calendar/api/v3/reference/calendars/get
def get_calendar(ctx):
    ctx.params([])
    cid, c = resolve_cal(ctx, ctx.match.group("calendarId"))
    return render_calendar(c)


def S_bump(u):
    u["seq"] += 1
    return u["seq"]


# ---- event validation --------------------------------------------------------------------------
NAIVE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")


def parse_edt(v, where, need_tz):
    """Validate an EventDateTime; return ('date', date) or ('dateTime', aware dt)."""
    C.check_object(v, {"date", "dateTime", "timeZone"}, where, API)
    if "timeZone" in v:
        C.want_type(v["timeZone"], str, where + ".timeZone", API)
        check_tz(v["timeZone"], where)
    if ("date" in v) == ("dateTime" in v):
        raise bad("Exactly one of %s.date and %s.dateTime must be set." % (where, where))
    if "date" in v:
        d = C.parse_date(v["date"])
        if d is None:
            raise bad("Invalid value for %s.date: %r" % (where, v["date"]))
        return "date", d
    s = v["dateTime"]
    dt = C.parse_rfc3339(s)
    if dt is None and isinstance(s, str) and NAIVE_RE.match(s) and v.get("timeZone") and zoneinfo:
        dt = datetime.fromisoformat(s).replace(tzinfo=zoneinfo.ZoneInfo(v["timeZone"]))
    if dt is None:
        if isinstance(s, str) and NAIVE_RE.match(s):
            raise bad("Missing time zone definition for %s time." % where.split(".")[-1])
        raise bad("Invalid value for %s.dateTime: %r" % (where, s))
    if need_tz and not v.get("timeZone"):
        raise bad("Missing time zone definition for %s time." % where.split(".")[-1])
    return "dateTime", dt


def check_event(b, ctx, mode):
    """mode: insert | import | update | patch.  Returns the event body to store."""
    C.check_object(b, EVENT_KEYS, "event", API)
    for k in ("summary", "description", "location", "colorId", "iCalUID", "status", "transparency", "visibility",
              "id", "recurringEventId", "eventType"):
        if k in b and b[k] is not None:
            C.want_type(b[k], str, k, API)
    if "sequence" in b:
        C.want_type(b["sequence"], int, "sequence", API)
        if b["sequence"] < 0:
            raise bad("Invalid sequence value.")
    enums = {"status": ("confirmed", "tentative", "cancelled"), "transparency": ("opaque", "transparent"),
             "visibility": ("default", "public", "private", "confidential"),
             "eventType": ("default", "birthday", "focusTime", "fromGmail", "outOfOffice", "workingLocation")}
    for k, vals in enums.items():
        if b.get(k) is not None and b[k] not in vals:
            raise bad("Invalid value for %s: %s" % (k, b[k]))
    if mode == "import" and b.get("eventType", "default") != "default":
        raise bad("Only events with an eventType of default may be imported.", reason="eventTypeRestriction")
    if b.get("colorId") is not None and b["colorId"] not in [str(i) for i in range(1, 12)]:
        raise bad("Invalid color ID: %s" % b["colorId"])
    if "recurrence" in b and b["recurrence"] is not None:
        if not isinstance(b["recurrence"], list) or not all(isinstance(x, str) for x in b["recurrence"]):
            raise bad("recurrence must be a list of strings.")
        for line in b["recurrence"]:
            if not re.match(r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]", line):
                raise bad("Invalid recurrence rule: %s" % line)
            if line.startswith("RRULE") and "FREQ=" not in line:
                raise bad("Invalid recurrence rule: %s" % line)
    recurring = bool(b.get("recurrence"))
    kinds = {}
    for k in ("start", "end", "originalStartTime"):
        if b.get(k) is not None:
            kinds[k] = parse_edt(b[k], k, recurring and k != "originalStartTime" and "dateTime" in b[k])
    if mode != "patch":
        for k in ("start", "end"):
            if k not in kinds:
                raise bad("Missing %s time." % k, reason="required")
    if "start" in kinds and "end" in kinds:
        (ks, s), (ke, e) = kinds["start"], kinds["end"]
        if ks != ke:
            raise bad("Start and end times must either both be date or both be dateTime.")
        if e < s or (ks == "date" and e == s):
            raise bad("The specified time range is empty.", reason="timeRangeEmpty", location="end.dateTime")
    for i, a in enumerate(b.get("attendees") or []):
        C.check_object(a, ATTENDEE_KEYS, "attendees[%d]" % i, API)
        if not a.get("email"):
            raise bad("Missing attendee email.", reason="required")
        if a.get("responseStatus", "needsAction") not in RESPONSE:
            raise bad("Invalid attendee responseStatus: %s" % a.get("responseStatus"))
        for k in ("optional", "organizer", "resource", "self"):
            if k in a:
                C.want_type(a[k], bool, "attendees[%d].%s" % (i, k), API)
    if b.get("organizer") is not None:
        C.check_object(b["organizer"], {"id", "email", "displayName", "self"}, "organizer", API)
    r = b.get("reminders")
    if r is not None:
        C.check_object(r, {"useDefault", "overrides"}, "reminders", API)
        ov = r.get("overrides") or []
        if r.get("useDefault") and ov:
            raise bad("Cannot specify both default reminders and overrides at the same time.",
                      reason="cannotUseDefaultRemindersAndSpecifyOverride")
        if len(ov) > 5:
            raise bad("The maximum number of override reminders is 5.", reason="tooManyReminders")
        for i, o in enumerate(ov):
            C.check_object(o, {"method", "minutes"}, "reminders.overrides[%d]" % i, API, required=("minutes",))
            if o.get("method") not in ("email", "popup"):
                raise bad("Invalid reminder method: %s" % o.get("method"))
            if not isinstance(o["minutes"], int) or not 0 <= o["minutes"] <= 40320:
                raise bad("Invalid reminder minutes: %s (0 to 40320)." % o["minutes"])
    ep = b.get("extendedProperties")
    if ep is not None:
        C.check_object(ep, {"private", "shared"}, "extendedProperties", API)
        for k in ("private", "shared"):
            if k in ep and (not isinstance(ep[k], dict) or not all(isinstance(v, str) for v in ep[k].values())):
                raise bad("extendedProperties.%s must map strings to strings." % k)
    att = b.get("attachments")
    if att is not None:
        if not isinstance(att, list) or len(att) > 25:
            raise bad("attachments must be a list of at most 25 items.")
        for i, a in enumerate(att):
            C.check_object(a, {"fileUrl", "title", "mimeType", "iconLink", "fileId"}, "attachments[%d]" % i, API,
                           required=("fileUrl",))
    if b.get("conferenceData") is not None and not isinstance(b["conferenceData"], dict):
        raise bad("conferenceData must be an object.")
    if mode == "insert" and b.get("id") is not None and not ID_RE.match(b["id"]):
        raise bad("Invalid resource id value.", reason="invalid")
    return kinds


def apply_body(ctx, stored, b, P, mode):
    """Copy writable members of `b` into `stored` (replacing for update)."""
    conf_v = P.int("conferenceDataVersion", 0, 0, 1)
    supports_att = P.bool("supportsAttachments")
    keep = {k: stored[k] for k in ("id", "iCalUID", "created", "organizer", "creator", "recurringEventId",
                                   "originalStartTime", "sequence", "attachments", "conferenceData")
            if k in stored}
    if mode == "update":
        for k in list(stored):
            if not k.startswith("_"):
                del stored[k]
        stored.update(keep)
    for k, v in b.items():
        if k in OUTPUT_ONLY or k == "id" or (k == "iCalUID" and mode not in ("import", "insert")):
            continue
        if k == "organizer" and mode != "import":
            continue  # only import keeps a foreign organizer
        if k == "conferenceData" and conf_v < 1:
            continue  # "Version 0 assumes no conference data support and ignores conference data"
        if k == "attachments" and not supports_att:
            continue
        if k in ("recurringEventId", "originalStartTime") and mode != "import":
            continue  # only import can make an exception of a recurring event
        if mode == "patch" and isinstance(v, dict) and isinstance(stored.get(k), dict) and k not in (
                "start", "end", "originalStartTime"):
            merged = copy.deepcopy(stored[k])
            merged.update(v)
            stored[k] = merged
        elif v is None:
            stored.pop(k, None)
        else:
            stored[k] = copy.deepcopy(v)
    if "reminders" not in stored:
        stored["reminders"] = {"useDefault": True}
    stored.setdefault("status", "confirmed")
    stored.setdefault("eventType", "default")


def touch(u, ev):
    ev["_seq"] = S_bump(u)
    ev["updated"] = S.now_rfc3339()


def new_event(ctx, cid, b, mode, P):
    u = ctx.u
    events = u["events"][cid]
    eid = b.get("id") if mode == "insert" and b.get("id") else S.new_id(26)
    if eid in events:
        raise C.ApiError(409, "The requested identifier already exists.", reason="duplicate")
    ev = {"id": eid, "created": S.now_rfc3339()}
    me = "%s@example.com" % ctx.user
    ev["creator"] = {"email": me, "self": True}
    ev["organizer"] = {"email": cid, "self": True} if not u["calendars"][cid].get("_primary") else \
        {"email": me, "self": True}
    apply_body(ctx, ev, b, P, mode)
    ev.setdefault("iCalUID", eid + "@google.com")
    ev.setdefault("sequence", 0)
    ev["_ord"] = S_bump(u)
    touch(u, ev)
    events[eid] = ev
    return ev


def instance_suffix(edt):
    kind, dt = edt
    if kind == "date":
        return dt.strftime("%Y%m%d")
    return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def render_event(ctx, cid, ev, max_attendees=None):
    if ev.get("_deleted"):
        out = {"kind": "calendar#event", "etag": etag(ev["_seq"]), "id": ev["id"], "status": "cancelled"}
        for k in ("recurringEventId", "originalStartTime"):
            if k in ev:
                out[k] = ev[k]
        return out
    out = {"kind": "calendar#event", "etag": etag(ev["_seq"]), "id": ev["id"], "status": ev.get("status")}
    eid = base64.b64encode(("%s %s" % (ev["id"], cid)).encode()).decode().rstrip("=")
    out["htmlLink"] = "https://www.google.com/calendar/event?eid=" + eid
    for k, v in ev.items():
        if not k.startswith("_") and k not in out:
            out[k] = copy.deepcopy(v)
    me = "%s@example.com" % ctx.user
    for a in out.get("attendees") or []:
        a.setdefault("responseStatus", "needsAction")
        if a.get("email") == me:
            a["self"] = True
        if a.get("email") == (out.get("organizer") or {}).get("email"):
            a["organizer"] = True
    if max_attendees is not None and len(out.get("attendees") or []) > max_attendees:
        out["attendees"] = [a for a in out["attendees"] if a.get("self")]
        out["attendeesOmitted"] = True
    return out


def get_event_obj(ctx, cid, eid, allow_deleted=True):
    ev = ctx.u["events"][cid].get(eid)
    if ev is None or (ev.get("_deleted") and not allow_deleted):
        raise C.not_found()
    return ev


# ---- events.list ---------------------------------------------------------------------------
# https://developers.google.com/calendar/api/v3/reference/events/list
def list_events(ctx):
    P = ctx.params(["alwaysIncludeEmail", "eventTypes", "iCalUID", "maxAttendees", "maxResults", "orderBy",
                    "pageToken", "privateExtendedProperty", "q", "sharedExtendedProperty", "showDeleted",
                    "showHiddenInvitations", "singleEvents", "syncToken", "timeMax", "timeMin", "timeZone",
                    "updatedMin"], repeatable=("eventTypes", "privateExtendedProperty", "sharedExtendedProperty"))
    cid, cal = resolve_cal(ctx, ctx.match.group("calendarId"))
    size = capped(ctx, P, "maxResults", 250, 2500)
    max_att = P.int("maxAttendees", None, 1, None)
    order = P.enum("orderBy", ["startTime", "updated"])
    show_deleted = P.bool("showDeleted")
    single = P.bool("singleEvents")
    P.bool("alwaysIncludeEmail")
    P.bool("showHiddenInvitations")
    tmin, tmax, umin = P.time("timeMin"), P.time("timeMax"), P.time("updatedMin")
    if P.str("timeZone"):
        check_tz(P.str("timeZone"), "timeZone")
    for t in P.list("eventTypes"):
        if t not in ("birthday", "default", "focusTime", "fromGmail", "outOfOffice", "workingLocation"):
            raise bad("Invalid eventTypes value: %s" % t, location="eventTypes")
    if order == "startTime" and not single:
        raise bad("The requested ordering is not available for the particular query.", location="orderBy")
    if tmin and tmax and tmax <= tmin:
        raise bad("The specified time range is empty.", reason="timeRangeEmpty", location="timeMax")
    sync = P.str("syncToken")
    if sync:
        for k in INCOMPATIBLE_WITH_SYNC:
            if P.has(k):
                raise bad("Sync token cannot be used with other request restrictions (%s)." % k,
                          location=k)
    u = ctx.u
    fp_page = P.fingerprint({"pageToken"})
    fp_sync = P.fingerprint({"pageToken", "syncToken", "maxResults"})
    after, snap = C.page_in(P, fp_page, u)
    evs = list(u["events"][cid].values())
    if sync:
        state, d = C.sync_token_in(sync, "events", cid, u)
        if state != "ok":
            raise gone()
        evs = [e for e in evs if e["_seq"] > d["s"]]
        show_deleted = True  # "deleted entries are always included" in incremental sync
    masters = {e["id"]: e for e in u["events"][cid].values()}

    def visible(e):
        if e.get("_deleted") or e.get("status") == "cancelled":
            if show_deleted:
                return True
            # showDeleted=false, singleEvents=false: cancelled instances of a live recurring
            # event are still included (events.list reference, showDeleted).
            m = masters.get(e.get("recurringEventId"))
            return not single and bool(m) and not m.get("_deleted") and m.get("status") != "cancelled"
        return True

    items = []
    if single and not sync:
        items = expand(ctx, cid, [e for e in evs], show_deleted, tmin, tmax)
    elif single:
        # incremental sync with singleEvents=true: instances of changed recurring events,
        # changed exceptions and changed single events; deleted series come as cancelled masters.
        changed = {e["id"] for e in evs}
        everything = list(u["events"][cid].values())
        items = [x for x in expand(ctx, cid, everything, True, None, None)
                 if x["id"] in changed or x.get("recurringEventId") in changed]
        items += [e for e in evs if e.get("recurrence") and (e.get("_deleted") or e.get("status") == "cancelled")]
    else:
        items = [e for e in evs if visible(e)]
    if not sync:
        if P.has("iCalUID"):
            items = [e for e in items if e.get("iCalUID") == P.str("iCalUID")]
        if umin:
            items = [e for e in items if C.parse_rfc3339(e.get("updated", "")) >= umin]
        if (tmin or tmax) and not single:
            items = [e for e in items if overlaps(e, tmin, tmax)]
        if P.has("q"):
            words = P.str("q").lower().split()
            items = [e for e in items if all(any(w in str(e.get(f, "")).lower() for f in
                                                 ("summary", "description", "location")) for w in words)]
        for scope, key in (("private", "privateExtendedProperty"), ("shared", "sharedExtendedProperty")):
            for cond in P.list(key):
                name, _, val = cond.partition("=")
                items = [e for e in items if ((e.get("extendedProperties") or {}).get(scope) or {}).get(name) == val]
    if P.list("eventTypes"):
        items = [e for e in items if e.get("eventType", "default") in P.list("eventTypes")]
    if order == "startTime":
        keyfn = lambda e: [start_key(e), e["id"]]  # noqa: E731
    elif order == "updated":
        keyfn = lambda e: [e.get("updated", ""), e["id"]]  # noqa: E731
    else:
        keyfn = lambda e: [e.get("_ord", 0), e["id"]]  # noqa: E731
    page, last = C.keyset(items, keyfn, after, size)
    out = {"kind": "calendar#events", "etag": etag(snap), "summary": cal["summary"],
           "updated": max([e.get("updated", "") for e in u["events"][cid].values()] or [S.now_rfc3339()]),
           "timeZone": cal.get("timeZone", "UTC"), "accessRole": "owner",
           "defaultReminders": [{"method": "popup", "minutes": 10}] if cal.get("_primary") else []}
    if cal.get("description"):
        out["description"] = cal["description"]
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp_page, snap)
    else:
        out["nextSyncToken"] = C.sync_token_out("events", cid, u, fp_sync, snap)
    out["items"] = [render_event(ctx, cid, e, max_att) for e in page]
    return out


def edt_value(v):
    if not v:
        return None
    if "date" in v:
        return C.parse_date(v["date"])
    dt = C.parse_rfc3339(v.get("dateTime"))
    if dt is None and v.get("dateTime") and v.get("timeZone") and zoneinfo:
        dt = datetime.fromisoformat(v["dateTime"]).replace(tzinfo=zoneinfo.ZoneInfo(v["timeZone"]))
    return dt


def start_key(e):
    dt = edt_value(e.get("start") or e.get("originalStartTime"))
    return C.fmt_time(dt) if dt else ""


def overlaps(e, tmin, tmax):
    if e.get("recurrence"):
        return True  # masters are returned when any instance might overlap (simplification)
    s, en = edt_value(e.get("start")), edt_value(e.get("end"))
    if s is None or en is None:
        return True
    return (tmax is None or s < tmax) and (tmin is None or en > tmin)


# ---- recurrence expansion (singleEvents=true) ----------------------------------------------------
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
MAX_INSTANCES = 1000


def _parse_dates(line, tzname):
    """EXDATE/RDATE line -> list of aware datetimes (or date-midnights UTC)."""
    head, _, vals = line.partition(":")
    tz = timezone.utc
    m = re.search(r"TZID=([^;:]+)", head)
    if m and zoneinfo and m.group(1) in ZONES:
        tz = zoneinfo.ZoneInfo(m.group(1))
    elif tzname and zoneinfo and tzname in ZONES:
        tz = zoneinfo.ZoneInfo(tzname)
    out = []
    for v in vals.split(","):
        v = v.strip()
        try:
            if re.match(r"^\d{8}$", v):
                out.append(("date", datetime.strptime(v, "%Y%m%d").replace(tzinfo=timezone.utc)))
            elif v.endswith("Z"):
                out.append(("dateTime", datetime.strptime(v, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)))
            else:
                out.append(("dateTime", datetime.strptime(v, "%Y%m%dT%H%M%S").replace(tzinfo=tz)))
        except ValueError:
            continue
    return out


def _rrule_starts(rule, dtstart, limit_end, tz):
    """Yield local start datetimes for a (simplified) RRULE: FREQ DAILY/WEEKLY/
    MONTHLY/YEARLY with INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH."""
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    freq = parts.get("FREQ")
    interval = max(1, int(parts.get("INTERVAL", "1") or 1))
    count = int(parts["COUNT"]) if parts.get("COUNT", "").isdigit() else None
    until = None
    if parts.get("UNTIL"):
        u = parts["UNTIL"]
        try:
            if u.endswith("Z"):
                until = datetime.strptime(u, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
                until = until.astimezone(tz or timezone.utc).replace(tzinfo=None)
            elif "T" in u:
                until = datetime.strptime(u, "%Y%m%dT%H%M%S")
            else:
                until = datetime.strptime(u[:8], "%Y%m%d") + timedelta(days=1, seconds=-1)
        except ValueError:
            until = None
    byday = [d for d in parts.get("BYDAY", "").split(",") if d]
    bymd = [int(x) for x in parts.get("BYMONTHDAY", "").split(",") if x.lstrip("-").isdigit()]
    bymonth = [int(x) for x in parts.get("BYMONTH", "").split(",") if x.isdigit()]
    n = 0
    period = 0
    while n < MAX_INSTANCES and period < 5000:
        cands = []
        if freq == "DAILY":
            cands = [dtstart + timedelta(days=period * interval)]
        elif freq == "WEEKLY":
            week0 = dtstart - timedelta(days=dtstart.weekday())
            base = week0 + timedelta(weeks=period * interval)
            days = [DAYS.index(d[-2:]) for d in byday if d[-2:] in DAYS] or [dtstart.weekday()]
            cands = sorted(base + timedelta(days=d) for d in days)
        elif freq in ("MONTHLY", "YEARLY"):
            months = period * interval if freq == "MONTHLY" else period * interval * 12
            y, m = dtstart.year + (dtstart.month - 1 + months) // 12, (dtstart.month - 1 + months) % 12 + 1
            month_list = [m] if freq == "MONTHLY" or not bymonth else bymonth
            for mm in month_list:
                cands.extend(_month_candidates(dtstart, y, mm, byday, bymd))
        else:
            return
        if bymonth and freq != "YEARLY":
            cands = [c for c in cands if c.month in bymonth]
        for c in sorted(cands):
            if c < dtstart:
                continue
            if until and c > until:
                return
            if count is not None and n >= count:
                return
            if limit_end and c >= limit_end:
                return
            n += 1
            yield c
        period += 1


def _month_candidates(dtstart, y, m, byday, bymd):
    import calendar as stdcal  # the standard library module (sys.path has no fake dir)
    ndays = stdcal.monthrange(y, m)[1]
    out = []
    mk = lambda d: dtstart.replace(year=y, month=m, day=d)  # noqa: E731
    if bymd:
        for d in bymd:
            d = d if d > 0 else ndays + d + 1
            if 1 <= d <= ndays:
                out.append(mk(d))
    elif byday:
        for spec in byday:
            mo = re.match(r"^([+-]?\d+)?(MO|TU|WE|TH|FR|SA|SU)$", spec)
            if not mo:
                continue
            wd = DAYS.index(mo.group(2))
            days = [d for d in range(1, ndays + 1) if datetime(y, m, d).weekday() == wd]
            if mo.group(1):
                k = int(mo.group(1))
                if -len(days) <= k <= len(days) and k != 0:
                    out.append(mk(days[k - 1] if k > 0 else days[k]))
            else:
                out.extend(mk(d) for d in days)
    else:
        if dtstart.day <= ndays:
            out.append(mk(dtstart.day))
    return out


def expand(ctx, cid, evs, show_deleted, tmin, tmax):
    """singleEvents=true: recurring masters become instances; exceptions
    replace their instance; cancelled instances are dropped unless showDeleted."""
    exceptions = {}
    out = []
    for e in evs:
        if e.get("recurringEventId"):
            exceptions.setdefault(e["recurringEventId"], {})[start_key({"start": e.get("originalStartTime")})] = e
    for e in evs:
        if e.get("recurringEventId"):
            continue
        if e.get("_deleted") or e.get("status") == "cancelled":
            if show_deleted and not e.get("recurrence"):
                out.append(e)
            continue
        if not e.get("recurrence"):
            if overlaps(e, tmin, tmax):
                out.append(e)
            continue
        out.extend(instances(e, exceptions.get(e["id"], {}), show_deleted, tmin, tmax))
    # exceptions whose master is gone or not recurring are returned as they are
    for mid, ex in exceptions.items():
        m = next((x for x in evs if x["id"] == mid), None)
        if m is None or not m.get("recurrence"):
            out.extend(x for x in ex.values() if show_deleted or x.get("status") != "cancelled")
    return out


def instances(m, exceptions, show_deleted, tmin, tmax):
    s_kind = "date" if "date" in m["start"] else "dateTime"
    start, end = edt_value(m["start"]), edt_value(m["end"])
    dur = end - start
    tzname = m["start"].get("timeZone")
    if s_kind == "dateTime" and tzname and zoneinfo and tzname in ZONES:
        start_local = start.astimezone(zoneinfo.ZoneInfo(tzname))
    else:
        start_local = start
    limit = tmax or (start + timedelta(days=366 * 3))
    starts = set()
    exdates = []
    for line in m["recurrence"]:
        if line.startswith("RRULE"):
            rule = line.split(":", 1)[1]
            for st in _rrule_starts(rule, start_local.replace(tzinfo=None),
                                    limit.astimezone(start_local.tzinfo).replace(tzinfo=None),
                                    start_local.tzinfo):
                starts.add(_attach(st, start_local.tzinfo))
        elif line.startswith("RDATE"):
            starts.update(dt for _, dt in _parse_dates(line, tzname))
        elif line.startswith("EXDATE"):
            exdates.extend(dt for _, dt in _parse_dates(line, tzname))
    starts.add(start_local)
    ex_set = {d.astimezone(timezone.utc) for d in exdates}
    ex_dates = {d.date() for d in exdates}
    out = []
    for st in sorted(starts, key=lambda d: d.astimezone(timezone.utc)):
        if s_kind == "dateTime" and st.astimezone(timezone.utc) in ex_set:
            continue
        if s_kind == "date" and st.date() in ex_dates:
            continue
        en = st + dur
        if (tmax and st >= tmax) or (tmin and en <= tmin):
            continue
        if s_kind == "date":
            sv = {"date": st.strftime("%Y-%m-%d")}
            ev_ = {"date": en.strftime("%Y-%m-%d")}
        else:
            sv = {"dateTime": st.isoformat()}
            ev_ = {"dateTime": en.isoformat()}
            if tzname:
                sv["timeZone"] = ev_["timeZone"] = tzname
        key = start_key({"start": sv})
        if key in exceptions:
            x = exceptions[key]
            if x.get("status") == "cancelled" and not show_deleted:
                continue
            out.append(x)
            continue
        inst = {k: copy.deepcopy(v) for k, v in m.items() if k != "recurrence"}
        inst["id"] = "%s_%s" % (m["id"], instance_suffix((s_kind, st)))
        inst["recurringEventId"] = m["id"]
        inst["originalStartTime"] = dict(sv)
        inst["start"], inst["end"] = sv, ev_
        out.append(inst)
    return out


def _attach(naive, tz):
    return naive.replace(tzinfo=tz)


# ---- events.get / insert / import / update / patch / delete ---------------------------------------
# https://developers.google.com/calendar/api/v3/reference/events/get
def get_event(ctx):
    P = ctx.params(["alwaysIncludeEmail", "maxAttendees", "timeZone"])
    cid, _ = resolve_cal(ctx, ctx.match.group("calendarId"))
    max_att = P.int("maxAttendees", None, 1, None)
    eid = ctx.match.group("eventId")
    ev = ctx.u["events"][cid].get(eid)
    if ev is None and "_" in eid:
        mid = eid.rsplit("_", 1)[0]
        m = ctx.u["events"][cid].get(mid)
        if m and m.get("recurrence") and not m.get("_deleted"):
            for inst in instances(m, {}, True, None, None):
                if inst["id"] == eid:
                    return render_event(ctx, cid, inst, max_att)
    if ev is None:
        raise C.not_found()
    return render_event(ctx, cid, ev, max_att)


WRITE_PARAMS = ["conferenceDataVersion", "maxAttendees", "sendNotifications", "sendUpdates",
                "supportsAttachments"]


def write_params(ctx, extra=()):
    P = ctx.params(WRITE_PARAMS + list(extra))
    P.int("conferenceDataVersion", 0, 0, 1)
    P.int("maxAttendees", None, 1, None)
    P.bool("sendNotifications")
    P.bool("supportsAttachments")
    P.enum("sendUpdates", ["all", "externalOnly", "none"])
    return P


# https://developers.google.com/calendar/api/v3/reference/events/insert
def insert_event(ctx):
    P = write_params(ctx)
    cid, _ = resolve_cal(ctx, ctx.match.group("calendarId"))
    check_event(ctx.body, ctx, "insert")
    ev = new_event(ctx, cid, ctx.body, "insert", P)
    return render_event(ctx, cid, ev, P.int("maxAttendees", None, 1, None))


# https://developers.google.com/calendar/api/v3/reference/events/import
def import_event(ctx):
    P = ctx.params(["conferenceDataVersion", "supportsAttachments"])
    P.int("conferenceDataVersion", 0, 0, 1)
    P.bool("supportsAttachments")
    cid, _ = resolve_cal(ctx, ctx.match.group("calendarId"))
    b = ctx.body
    kinds = check_event(b, ctx, "import")
    if not b.get("iCalUID"):
        raise bad("Missing iCalUID.", reason="required")
    u = ctx.u
    events = u["events"][cid]
    orig = C.fmt_time(kinds["originalStartTime"][1]) if "originalStartTime" in kinds else None
    # An event with this iCalUID (and, for exceptions of a recurring event, which share the
    # master's iCalUID, the same originalStartTime) may already be in the calendar.  The
    # reference does not say what import does then; see README ("events.import of an existing
    # iCalUID").  --import-existing=conflict (default) answers 409 duplicate, as Google was
    # observed to do (also for deleted events); --import-existing=update updates it in place.
    mode = getattr(getattr(ctx, "fake", None), "import_existing", "update")
    for ev in events.values():
        if ev.get("iCalUID") == b["iCalUID"] and (start_key({"start": ev["originalStartTime"]})
                                                  if ev.get("originalStartTime") else None) == orig:
            if mode == "conflict":
                raise C.ApiError(409, "The requested identifier already exists.", reason="duplicate")
            was_deleted = ev.pop("_deleted", False)
            if was_deleted:
                ev.pop("status", None)
            apply_body(ctx, ev, {k: v for k, v in b.items()}, P, "update")
            ev["iCalUID"] = b["iCalUID"]
            if "organizer" in b:
                ev["organizer"] = copy.deepcopy(b["organizer"])
            touch(u, ev)
            return render_event(ctx, cid, ev)
    body = dict(b)
    if orig:
        master = next((e for e in events.values() if e.get("iCalUID") == b["iCalUID"] and e.get("recurrence")
                       and not e.get("originalStartTime")), None)
        if master is not None:
            body["recurringEventId"] = master["id"]
            ev = new_event(ctx, cid, {k: v for k, v in body.items()}, "import", P)
            # an exception's id is the master id plus the original start time
            del events[ev["id"]]
            ev["id"] = "%s_%s" % (master["id"], instance_suffix(kinds["originalStartTime"]))
            events[ev["id"]] = ev
            return render_event(ctx, cid, ev)
    ev = new_event(ctx, cid, body, "import", P)
    return render_event(ctx, cid, ev)


def check_if_match(ctx, ev):
    im = ctx.headers.get("If-Match")
    if im and im != "*" and im != etag(ev["_seq"]):
        raise C.ApiError(412, "Precondition Failed", reason="conditionNotMet", location="If-Match",
                         location_type="header")


# https://developers.google.com/calendar/api/v3/reference/events/update
def update_event(ctx):
    P = write_params(ctx)
    cid, _ = resolve_cal(ctx, ctx.match.group("calendarId"))
    ev = get_event_obj(ctx, cid, ctx.match.group("eventId"))
    check_if_match(ctx, ev)
    check_event(ctx.body, ctx, "update")
    return write_existing(ctx, cid, ev, ctx.body, P, "update")


# https://developers.google.com/calendar/api/v3/reference/events/patch
def patch_event(ctx):
    P = write_params(ctx)
    cid, _ = resolve_cal(ctx, ctx.match.group("calendarId"))
    ev = get_event_obj(ctx, cid, ctx.match.group("eventId"))
    check_if_match(ctx, ev)
    check_event(ctx.body, ctx, "patch")
    merged = {k: v for k, v in ev.items() if not k.startswith("_")}
    merged.update(ctx.body)
    check_event({k: v for k, v in merged.items() if k in EVENT_KEYS}, ctx, "update")  # whole result must be valid
    return write_existing(ctx, cid, ev, ctx.body, P, "patch")


def write_existing(ctx, cid, ev, b, P, mode):
    before = {k: copy.deepcopy(ev.get(k)) for k in ("start", "end", "recurrence")}
    apply_body(ctx, ev, b, P, mode)
    if ev.get("_deleted") and ev.get("status") != "cancelled":
        ev.pop("_deleted")  # writing a non-cancelled status restores a deleted event
    if "sequence" in b:
        ev["sequence"] = b["sequence"]
    elif any(before[k] != ev.get(k) for k in before):
        ev["sequence"] = ev.get("sequence", 0) + 1
    touch(ctx.u, ev)
    return render_event(ctx, cid, ev, P.int("maxAttendees", None, 1, None))


# https://developers.google.com/calendar/api/v3/reference/events/delete
def delete_event(ctx):
    P = ctx.params(["sendNotifications", "sendUpdates"])
    P.bool("sendNotifications")
    P.enum("sendUpdates", ["all", "externalOnly", "none"])
    cid, _ = resolve_cal(ctx, ctx.match.group("calendarId"))
    ev = get_event_obj(ctx, cid, ctx.match.group("eventId"))
    if ev.get("_deleted") or ev.get("status") == "cancelled":
        raise C.ApiError(410, "Resource has been deleted", reason="deleted")
    check_if_match(ctx, ev)
    ev["_deleted"] = True
    ev["status"] = "cancelled"
    touch(ctx.u, ev)
    return 204, None


def seed(store, u, data):
    """POST /_fake/seed: {"calendars": [{"summary": ..., "timeZone": ..., "events": [Event, ...]}],
    "events": [Event, ...] (primary calendar)}.  Events are stored as given
    (through the import path, so iCalUID is required) ."""
    made = {"calendars": []}
    cals = list(data.get("calendars") or [])
    if data.get("events"):
        cals.append({"_primary": True, "events": data["events"]})
    for c in cals:
        if c.get("_primary"):
            cid = next(k for k, x in u["calendars"].items() if x.get("_primary"))
        else:
            cid = new_calendar(u, c)["id"]
        made["calendars"].append(cid)
        for e in c.get("events") or []:
            ctx = _SeedCtx(u, cid, e)
            import_event(ctx)
    return made


class _M(dict):
    def group(self, k):
        return self[k]


class _SeedCtx:
    """Minimal request context so seeding goes through events.import."""

    def __init__(self, u, cid, body):
        self.u = u
        self.user = next((k for k, c in u["calendars"].items() if c.get("_primary")), "x@").split("@")[0]
        self.body = body
        self.query = {"conferenceDataVersion": ["1"], "supportsAttachments": ["true"]}
        self.match = _M(calendarId=cid)
        self.headers = {}
        self.api = API

    def params(self, allowed, repeatable=()):
        return C.Params(self.query, set(allowed), API, repeatable)


B = "/calendar/v3"
ROUTES = [
    C.route("GET", B + "/users/me/calendarList", list_calendar_list, API, LIST_READ, "calendar.calendarList.list"),
    C.route("POST", B + "/calendars", insert_calendar, API, CALS_WRITE, "calendar.calendars.insert", body=True),
    C.route("GET", B + "/calendars/{calendarId}", get_calendar, API, LIST_READ + (CALS_WRITE[2],),
            "calendar.calendars.get"),
    C.route("GET", B + "/calendars/{calendarId}/events", list_events, API, EV_READ, "calendar.events.list"),
    C.route("POST", B + "/calendars/{calendarId}/events/import", import_event, API, EV_WRITE,
            "calendar.events.import", body=True),
    C.route("POST", B + "/calendars/{calendarId}/events", insert_event, API, EV_WRITE, "calendar.events.insert",
            body=True),
    C.route("GET", B + "/calendars/{calendarId}/events/{eventId}", get_event, API, EV_READ, "calendar.events.get"),
    C.route("PUT", B + "/calendars/{calendarId}/events/{eventId}", update_event, API, EV_WRITE,
            "calendar.events.update", body=True),
    C.route("PATCH", B + "/calendars/{calendarId}/events/{eventId}", patch_event, API, EV_WRITE,
            "calendar.events.patch", body=True),
    C.route("DELETE", B + "/calendars/{calendarId}/events/{eventId}", delete_event, API, EV_WRITE,
            "calendar.events.delete"),
]
