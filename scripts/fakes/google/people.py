"""People API v1 (contacts and contact groups).

Reference: https://developers.google.com/people/api/rest
Person resource: https://developers.google.com/people/api/rest/v1/people#Person
"""
import base64
import binascii
import hashlib
import json

import gfake_common as C
import gfake_store as S

API = "people"
FULL = "https://www.googleapis.com/auth/contacts"
RO = "https://www.googleapis.com/auth/contacts.readonly"
READ = (FULL, RO)
WRITE = (FULL,)

# personFields / readMask valid values (people.get, people.connections.list).
PERSON_FIELDS = ["addresses", "ageRanges", "biographies", "birthdays", "calendarUrls", "clientData",
                 "coverPhotos", "emailAddresses", "events", "externalIds", "genders", "imClients",
                 "interests", "locales", "locations", "memberships", "metadata", "miscKeywords", "names",
                 "nicknames", "occupations", "organizations", "phoneNumbers", "photos", "relations",
                 "sipAddresses", "skills", "urls", "userDefined"]
# updatePersonFields valid values (people.updateContact).
UPDATE_FIELDS = ["addresses", "biographies", "birthdays", "calendarUrls", "clientData", "emailAddresses",
                 "events", "externalIds", "genders", "imClients", "interests", "locales", "locations",
                 "memberships", "miscKeywords", "names", "nicknames", "occupations", "organizations",
                 "phoneNumbers", "relations", "sipAddresses", "urls", "userDefined"]
READ_ONLY_FIELDS = {"photos", "coverPhotos", "ageRanges", "skills"}
SINGLETONS = {"biographies", "birthdays", "genders", "names"}  # "singleton for contact sources"
SOURCES = ["READ_SOURCE_TYPE_CONTACT", "READ_SOURCE_TYPE_PROFILE", "READ_SOURCE_TYPE_DOMAIN_CONTACT",
           "READ_SOURCE_TYPE_OTHER_CONTACT"]
GROUP_FIELDS = ["clientData", "groupType", "memberCount", "metadata", "name"]

M = "metadata"
TYPED = {M, "value", "type", "formattedType"}
# Member names of each field's items (Person resource reference).
ITEM_KEYS = {
    "names": {M, "displayName", "displayNameLastFirst", "unstructuredName", "familyName", "givenName",
              "middleName", "honorificPrefix", "honorificSuffix", "phoneticFullName", "phoneticFamilyName",
              "phoneticGivenName", "phoneticMiddleName", "phoneticHonorificPrefix", "phoneticHonorificSuffix"},
    "nicknames": {M, "value", "type"},
    "emailAddresses": TYPED | {"displayName"},
    "phoneNumbers": TYPED | {"canonicalForm"},
    "addresses": {M, "formattedValue", "type", "formattedType", "poBox", "streetAddress", "extendedAddress",
                  "city", "region", "postalCode", "country", "countryCode"},
    "organizations": {M, "type", "formattedType", "startDate", "endDate", "current", "name", "phoneticName",
                      "department", "title", "jobDescription", "symbol", "domain", "location", "costCenter",
                      "fullTimeEquivalentMillipercent"},
    "birthdays": {M, "date", "text"},
    "biographies": {M, "value", "contentType"},
    "urls": TYPED,
    "photos": {M, "url", "default"},
    "memberships": {M, "contactGroupMembership", "domainMembership"},
    "events": {M, "date", "type", "formattedType"},
    "relations": {M, "person", "type", "formattedType"},
    "imClients": {M, "username", "type", "formattedType", "protocol", "formattedProtocol"},
    "userDefined": {M, "key", "value"},
    "sipAddresses": TYPED,
    "genders": {M, "value", "formattedValue", "addressMeAs"},
    "occupations": {M, "value"},
    "interests": {M, "value"},
    "skills": {M, "value"},
    "locales": {M, "value"},
    "miscKeywords": TYPED,
    "externalIds": TYPED,
    "calendarUrls": {M, "url", "type", "formattedType"},
    "clientData": {M, "key", "value"},
    "locations": {M, "value", "type", "current", "buildingId", "floor", "floorSection", "deskCode"},
    "coverPhotos": {M, "url", "default"},
    "ageRanges": {M, "ageRange"},
}
FIELD_META_KEYS = {"primary", "sourcePrimary", "verified", "source"}
BOOL_KEYS = {"current", "default"}
DATE_KEYS = {"date", "startDate", "endDate"}

DEFAULT_PHOTO = "https://lh3.googleusercontent.com/cm/default-contact-photo"


def bad(msg, reason=None):
    return C.ApiError(400, msg, status="INVALID_ARGUMENT", reason=reason, violation=True)


def parse_mask(value, valid, pname):
    if value is None or value.strip() == "":
        return None
    out = []
    for f in value.split(","):
        f = f.strip()
        if f.startswith("person."):
            f = f[len("person."):]
        if f not in valid:
            raise bad("Invalid %s mask path: \"%s\". Valid paths are documented at "
                      "https://developers.google.com/people/api/rest/v1/people/get." % (pname, f))
        if f not in out:
            out.append(f)
    return out


def check_date(d, where):
    C.check_object(d, {"year", "month", "day"}, where, API)
    for k in ("year", "month", "day"):
        if k in d:
            C.want_type(d[k], int, "%s.%s" % (where, k), API)
    y, mo, da = d.get("year", 0), d.get("month", 0), d.get("day", 0)
    if not (0 <= y <= 9999 and 0 <= mo <= 12 and 0 <= da <= 31) or (da and not mo):
        raise bad("Invalid date at '%s': %s" % (where, json.dumps(d)))


def check_person(body, where="person"):
    """Validate a Person from a request; returns the contact fields in it."""
    allowed = set(PERSON_FIELDS) | {"resourceName", "etag"}
    C.check_object(body, allowed, where, API)
    fields = {}
    for f, items in body.items():
        if f in ("resourceName", "etag"):
            C.want_type(items, str, "%s.%s" % (where, f), API)
            continue
        if f == "metadata":
            C.check_object(items, {"sources", "previousResourceNames", "linkedPeopleResourceNames",
                                   "objectType", "deleted"}, where + ".metadata", API)
            for i, s in enumerate(items.get("sources") or []):
                C.check_object(s, {"type", "id", "etag", "updateTime", "profileMetadata"},
                               "%s.metadata.sources[%d]" % (where, i), API)
            continue
        if not isinstance(items, list):
            raise bad("Invalid value at '%s.%s': expected a list." % (where, f))
        for i, it in enumerate(items):
            w = "%s.%s[%d]" % (where, f, i)
            C.check_object(it, ITEM_KEYS[f], w, API)
            for k, v in it.items():
                if k == M:
                    C.check_object(v, FIELD_META_KEYS, w + ".metadata", API)
                elif k in DATE_KEYS:
                    check_date(v, "%s.%s" % (w, k))
                elif k in BOOL_KEYS:
                    C.want_type(v, bool, "%s.%s" % (w, k), API)
                elif k == "fullTimeEquivalentMillipercent":
                    C.want_type(v, int, "%s.%s" % (w, k), API)
                elif k == "contactGroupMembership":
                    C.check_object(v, {"contactGroupId", "contactGroupResourceName"}, w + "." + k, API)
                elif k == "domainMembership":
                    C.check_object(v, {"inViewerDomain"}, w + "." + k, API)
                elif k == "ageRange":
                    pass
                else:
                    C.want_type(v, str, "%s.%s" % (w, k), API)
            if f == "biographies" and it.get("contentType", "TEXT_PLAIN") not in ("TEXT_PLAIN", "TEXT_HTML"):
                raise bad("Invalid value at '%s.contentType'." % w)
        if f in SINGLETONS and len(items) > 1:
            raise bad("Only one %s field is allowed on a contact source; got %d." % (f, len(items)))
        fields[f] = items
    return fields


def normalize_items(u, f, items, pid):
    """Strip client metadata, compute output-only values as Google does."""
    out = []
    for i, it in enumerate(items):
        it = {k: v for k, v in it.items() if k != M}
        if f == "names":
            parts = [it.get(k) for k in ("honorificPrefix", "givenName", "middleName", "familyName",
                                         "honorificSuffix") if it.get(k)]
            if parts:
                it["displayName"] = " ".join(parts)
                last = it.get("familyName")
                rest = " ".join(p for p in (it.get("givenName"), it.get("middleName")) if p)
                it["displayNameLastFirst"] = ", ".join(p for p in (last, rest) if p)
            elif it.get("unstructuredName"):
                it["displayName"] = it["displayNameLastFirst"] = it["unstructuredName"]
            else:
                it.pop("displayName", None)
                it.pop("displayNameLastFirst", None)
            if parts and not it.get("unstructuredName"):
                it["unstructuredName"] = it["displayName"]
        if "type" in it and f not in ("nicknames", "locations"):
            t = it["type"]
            it["formattedType"] = t[:1].upper() + t[1:] if t in (
                "home", "work", "other", "mobile", "homeFax", "workFax", "otherFax", "pager", "workMobile",
                "workPager", "main", "googleVoice", "blog", "homePage", "profile", "appInstallPage",
                "anniversary", "spouse", "child", "mother", "father", "parent", "brother", "sister",
                "friend", "relative", "domesticPartner", "manager", "assistant", "referredBy", "partner",
                "school", "sip", "freebusy") else t
        if f == "imClients" and "protocol" in it:
            p = it["protocol"]
            it["formattedProtocol"] = {"aim": "AIM", "msn": "MSN", "yahoo": "Yahoo", "skype": "Skype",
                                       "qq": "QQ", "googleTalk": "Google Talk", "icq": "ICQ",
                                       "jabber": "Jabber", "netMeeting": "NetMeeting"}.get(p, p)
        if f == "addresses" and not it.get("formattedValue"):
            line2 = " ".join(x for x in (it.get("city"), it.get("region"), it.get("postalCode")) if x)
            lines = [x for x in (it.get("poBox"), it.get("streetAddress"), it.get("extendedAddress"), line2,
                                 it.get("country")) if x]
            if lines:
                it["formattedValue"] = "\n".join(lines)
        if f == "memberships":
            cgm = it.get("contactGroupMembership")
            if cgm:
                rn = cgm.get("contactGroupResourceName") or ("contactGroups/" + cgm.get("contactGroupId", ""))
                gid = rn.split("/", 1)[1] if rn.startswith("contactGroups/") else ""
                g = u["groups"].get(gid)
                if not g or g.get("_deleted"):
                    raise bad("Contact group %s does not exist." % rn)
                if g["groupType"] == "SYSTEM_CONTACT_GROUP" and gid not in ("myContacts", "starred"):
                    raise bad("Cannot add contacts to the system group %s." % rn)
                it = {"contactGroupMembership": {"contactGroupId": gid, "contactGroupResourceName": rn}}
            elif it.get("domainMembership"):
                raise bad("domainMembership is read-only.")
        out.append(it)
    if f == "memberships" and not any("contactGroupMembership" in x for x in out):
        raise bad("A contact must belong to at least one contact group (memberships).")
    return out


def touch(u, p):
    p["_seq"] = S_bump(u)
    p["_updateTime"] = S.now_rfc3339()
    h = hashlib.sha1(json.dumps(S.public(p), sort_keys=True).encode() + str(p["_seq"]).encode()).digest()
    tag = base64.b64encode(h[:12]).decode()
    p["_etag"] = tag


def S_bump(u):
    u["seq"] += 1
    return u["seq"]


def render(ctx, p, fields, sources=None):
    pid = p["resourceName"].split("/", 1)[1]
    out = {"resourceName": p["resourceName"], "etag": "%" + p["_etag"]}
    src = {"type": "CONTACT", "id": pid, "etag": "#" + p["_etag"], "updateTime": p["_updateTime"]}
    if p.get("_deleted"):
        out["metadata"] = {"sources": [src], "objectType": "PERSON", "deleted": True}
        return out
    for f in fields:
        if f == "metadata":
            out["metadata"] = {"sources": [src], "objectType": "PERSON"}
            continue
        if f == "photos":
            if p.get("_photo"):
                items = [{"url": "%s/_fake/photos/%s/%s" % (ctx.base_url, ctx.user, pid)}]
            else:
                items = [{"url": DEFAULT_PHOTO, "default": True}]
        else:
            items = p.get(f)
        if not items:
            continue
        rendered = []
        for i, it in enumerate(items):
            it = dict(it)
            meta = {"primary": i == 0, "source": {"type": "CONTACT", "id": pid}}
            if f in ("photos",) and it.get("default"):
                meta = {"primary": True, "source": {"type": "CONTACT", "id": pid}}
            if i == 0:
                meta["sourcePrimary"] = True
            it = {"metadata": meta, **it}
            rendered.append(it)
        out[f] = rendered
    return out


def get_contact(ctx, pid):
    p = ctx.u["people"].get(pid)
    if p is None or p.get("_deleted"):
        raise C.not_found(api=API)
    return p


def prepare_contact(u, fields):
    """Normalize a new contact's fields (may raise) without storing anything."""
    p = {}
    for f, items in fields.items():
        if f in READ_ONLY_FIELDS or f == "metadata":
            continue  # output-only on contacts: ignored, as Google ignores output-only input
        p[f] = normalize_items(u, f, items, None)
    if not p.get("memberships"):
        p["memberships"] = [{"contactGroupMembership": {"contactGroupId": "myContacts",
                                                        "contactGroupResourceName": "contactGroups/myContacts"}}]
    return p


def new_contact(ctx, fields, prepared=None):
    u = ctx.u
    pid = "c" + str(int(hashlib.sha1(S.new_id().encode()).hexdigest()[:15], 16))
    p = {"resourceName": "people/" + pid}
    p.update(prepared if prepared is not None else prepare_contact(u, fields))
    touch(u, p)
    p["_ord"] = p["_seq"]
    u["people"][pid] = p
    touch_groups(u, p)
    return p


def touch_groups(u, p):
    for m in p.get("memberships") or []:
        g = u["groups"].get(m.get("contactGroupMembership", {}).get("contactGroupId"))
        if g:
            g["_seq"] = S_bump(u)
            g["metadata"]["updateTime"] = S.now_rfc3339()


# ---- people.connections.list -------------------------------------------------
# https://developers.google.com/people/api/rest/v1/people.connections/list
def list_connections(ctx):
    if ctx.match.group("resourceName") != "me":
        raise bad("Only people/me is valid for people.connections.list.")
    P = ctx.params(["pageToken", "pageSize", "sortOrder", "requestSyncToken", "syncToken", "personFields",
                    "requestMask.includeField", "sources"], repeatable=("sources",))
    size = P.int("pageSize", 100, 0, 1000, zero_default=True)
    order = P.enum("sortOrder", ["LAST_MODIFIED_ASCENDING", "LAST_MODIFIED_DESCENDING", "FIRST_NAME_ASCENDING",
                                 "LAST_NAME_ASCENDING"], "LAST_MODIFIED_ASCENDING")
    want_sync = P.bool("requestSyncToken", False)
    for s in P.list("sources"):
        if s not in SOURCES:
            raise bad("Invalid sources value: %s" % s)
    fields = parse_mask(P.str("personFields"), PERSON_FIELDS, "personFields") or \
        parse_mask(P.str("requestMask.includeField"), PERSON_FIELDS, "requestMask.includeField")
    if not fields:
        raise bad("personFields mask is required. Please specify one or more valid paths. Valid paths are "
                  "documented at https://developers.google.com/people/api/rest/v1/people.connections/list.")
    u = ctx.u
    fp_page = P.fingerprint({"pageToken"})
    fp_sync = P.fingerprint({"pageToken", "syncToken", "requestSyncToken", "pageSize"})
    after, snap = C.page_in(P, fp_page, u)
    sync = P.str("syncToken")
    people = list(u["people"].values())
    if sync:
        state, d = C.sync_token_in(sync, "connections", "me", u)
        if state == "malformed":
            raise bad("Sync token is invalid.")
        if state == "expired":
            raise C.ApiError(400, "Sync token is expired. Clear local cache and retry call without the sync token.",
                             status="FAILED_PRECONDITION", reason="EXPIRED_SYNC_TOKEN",
                             domain="people.googleapis.com")
        if d.get("h") != fp_sync:
            raise bad("When the syncToken is specified, all other request parameters must match the first call.")
        people = [p for p in people if p["_seq"] > d["s"]]
        keyfn = lambda p: [p["_seq"], p["resourceName"]]  # noqa: E731
    else:
        people = [p for p in people if not p.get("_deleted")]
        if order == "LAST_MODIFIED_ASCENDING":
            keyfn = lambda p: [p["_seq"], p["resourceName"]]  # noqa: E731
        elif order == "LAST_MODIFIED_DESCENDING":
            keyfn = lambda p: [-p["_seq"], p["resourceName"]]  # noqa: E731
        elif order == "FIRST_NAME_ASCENDING":
            keyfn = lambda p: [((p.get("names") or [{}])[0].get("givenName") or "").lower(), p["resourceName"]]  # noqa
        else:
            keyfn = lambda p: [((p.get("names") or [{}])[0].get("familyName") or "").lower(), p["resourceName"]]  # noqa
    page, last = C.keyset(people, keyfn, after, size)
    out = {"connections": [render(ctx, p, fields) for p in page], "totalPeople": len(people),
           "totalItems": len(people)}
    if not out["connections"]:
        del out["connections"]
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp_page, snap)
    elif want_sync or sync:
        out["nextSyncToken"] = C.sync_token_out("connections", "me", u, fp_sync, snap)
    return out


# ---- people.get -----------------------------------------------------------------
# https://developers.google.com/people/api/rest/v1/people/get
def get_person(ctx):
    P = ctx.params(["personFields", "requestMask.includeField", "sources"], repeatable=("sources",))
    fields = parse_mask(P.str("personFields"), PERSON_FIELDS, "personFields") or \
        parse_mask(P.str("requestMask.includeField"), PERSON_FIELDS, "requestMask.includeField")
    if not fields:
        raise bad("personFields mask is required. Please specify one or more valid paths.")
    for s in P.list("sources"):
        if s not in SOURCES:
            raise bad("Invalid sources value: %s" % s)
    pid = ctx.match.group("id")
    if pid == "me":
        num = int(hashlib.sha1(ctx.user.encode()).hexdigest()[:12], 16)
        me = {"resourceName": "people/1%020d" % num, "_etag": "me",
              "_updateTime": S.now_rfc3339(), "names": [{"displayName": ctx.user, "givenName": ctx.user}],
              "emailAddresses": [{"value": "%s@example.com" % ctx.user}]}
        out = render(ctx, me, fields)
        if "metadata" in out:
            out["metadata"]["sources"][0]["type"] = "PROFILE"
        return out
    return render(ctx, get_contact(ctx, pid), fields)


# ---- people.createContact -----------------------------------------------------
# https://developers.google.com/people/api/rest/v1/people/createContact
def create_contact(ctx):
    P = ctx.params(["personFields", "sources"], repeatable=("sources",))
    fields_out = parse_mask(P.str("personFields"), PERSON_FIELDS, "personFields") or PERSON_FIELDS
    fields = check_person(ctx.body)
    if not any(k for k in fields if k not in ("metadata",)):
        raise bad("Person must have at least one contact field set.")
    p = new_contact(ctx, fields)
    return render(ctx, p, fields_out)


# ---- people.batchCreateContacts -----------------------------------------------
# https://developers.google.com/people/api/rest/v1/people/batchCreateContacts
def batch_create(ctx):
    ctx.params([])
    b = C.check_object(ctx.body, {"contacts", "readMask", "sources"}, "request", API)
    if "readMask" not in b:
        raise bad("readMask is required.")
    mask = parse_mask(b.get("readMask") or "", PERSON_FIELDS, "readMask")
    contacts = b.get("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise bad("contacts is required and must not be empty.")
    if len(contacts) > 200:
        raise bad("Too many contacts in one request: %d; at most 200 are allowed." % len(contacts))
    checked, errors = [], []
    for i, c in enumerate(contacts):
        try:
            C.check_object(c, {"contactPerson"}, "contacts[%d]" % i, API, required=("contactPerson",))
            fields = check_person(c["contactPerson"], "contacts[%d].contactPerson" % i)
            checked.append(prepare_contact(ctx.u, fields))
        except C.ApiError as e:
            errors.append({"field": "contacts[%d]" % i, "description": e.message})
    if errors:
        # "If not successful, returns BatchCreateContactsErrorDetails which contains a list of
        # errors for each invalid contact."  Nothing is created.
        raise C.ApiError(400, "Request contains invalid contacts.", status="INVALID_ARGUMENT", violation=True,
                         details=[{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                   "fieldViolations": errors}])
    fail = ctx.take_partial_failures()
    created = []
    for i, prepared in enumerate(checked):
        if i in fail:
            created.append({"httpStatusCode": 500, "status": {"code": 13, "message": "Internal error encountered."}})
            continue
        p = new_contact(ctx, None, prepared)
        r = {"httpStatusCode": 200, "requestedResourceName": p["resourceName"], "status": {}}
        if mask:
            r["person"] = render(ctx, p, mask)
        created.append(r)
    return {"createdPeople": created}


# ---- people.updateContact -------------------------------------------------------
# https://developers.google.com/people/api/rest/v1/people/updateContact
def update_contact(ctx):
    P = ctx.params(["updatePersonFields", "personFields", "sources"], repeatable=("sources",))
    upd = parse_mask(P.str("updatePersonFields"), UPDATE_FIELDS, "updatePersonFields")
    if not upd:
        raise bad("updatePersonFields mask is required. Please specify one or more valid paths.")
    fields_out = parse_mask(P.str("personFields"), PERSON_FIELDS, "personFields") or PERSON_FIELDS
    pid = ctx.match.group("id")
    body = ctx.body
    fields = check_person(body)
    if body.get("resourceName") not in (None, "people/" + pid):
        raise bad("person.resourceName %s does not match the URL." % body.get("resourceName"))
    p = get_contact(ctx, pid)
    srcs = (body.get("metadata") or {}).get("sources") or []
    csrc = [s for s in srcs if s.get("type") == "CONTACT"]
    if not csrc:
        raise bad("person.metadata.sources must be specified and contain a CONTACT source with its etag.")
    if csrc[0].get("etag") != "#" + p["_etag"]:
        raise C.ApiError(400, "Request person.etag is different than the current person.etag. Clear local "
                         "cache and get the latest person.", status="FAILED_PRECONDITION",
                         reason="failedPrecondition",
                         details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                   "reason": "failedPrecondition", "domain": "people.googleapis.com"}])
    changes = {}
    for f in upd:  # compute everything first, so a refused update changes nothing
        items = fields.get(f) or []
        if items:
            changes[f] = normalize_items(ctx.u, f, items, pid)
        elif f == "memberships":
            raise bad("A contact must belong to at least one contact group (memberships).")
        else:
            changes[f] = None
    old_groups = [m for m in p.get("memberships") or []]
    for f, v in changes.items():
        if v is None:
            p.pop(f, None)
        else:
            p[f] = v
    touch(ctx.u, p)
    touch_groups(ctx.u, {"memberships": old_groups})
    touch_groups(ctx.u, p)
    return render(ctx, p, fields_out)


# ---- people.updateContactPhoto ------------------------------------------------
# https://developers.google.com/people/api/rest/v1/people/updateContactPhoto
def update_photo(ctx):
    ctx.params([])
    b = C.check_object(ctx.body, {"photoBytes", "personFields", "sources"}, "request", API,
                       required=("photoBytes",))
    C.want_type(b["photoBytes"], str, "photoBytes", API)
    try:
        raw = base64.b64decode(b["photoBytes"].replace("-", "+").replace("_", "/") + "==", validate=False)
    except (binascii.Error, ValueError):
        raise bad("photoBytes is not valid base64.")
    if not raw:
        raise bad("photoBytes is empty.")
    # UpdateContactPhotoRequest: "All requests must have a valid photo format: JPEG or PNG."
    if not (raw.startswith(b"\xff\xd8\xff") or raw.startswith(b"\x89PNG\r\n\x1a\n")):
        raise bad("photoBytes must be a JPEG or PNG image.")
    fields_out = parse_mask(b.get("personFields"), PERSON_FIELDS, "personFields")
    pid = ctx.match.group("id")
    p = get_contact(ctx, pid)
    ctx.u["photos"][pid] = base64.b64encode(raw).decode()
    p["_photo"] = True
    touch(ctx.u, p)
    out = {}
    if fields_out:
        out["person"] = render(ctx, p, fields_out)
    return out


# ---- people.deleteContact -------------------------------------------------------
# https://developers.google.com/people/api/rest/v1/people/deleteContact
def delete_contact(ctx):
    ctx.params([])
    p = get_contact(ctx, ctx.match.group("id"))
    touch_groups(ctx.u, p)
    for k in list(p):
        if not k.startswith("_") and k != "resourceName":
            del p[k]
    p["_deleted"] = True
    touch(ctx.u, p)
    return {}


# ---- contact groups ------------------------------------------------------------
def group_members(u, gid):
    return [p["resourceName"] for p in sorted(u["people"].values(), key=lambda p: p["_ord"])
            if not p.get("_deleted") and any(
                m.get("contactGroupMembership", {}).get("contactGroupId") == gid for m in p.get("memberships", []))]


def render_group(u, g, fields, max_members=0):
    gid = g["resourceName"].split("/", 1)[1]
    etag = base64.b64encode(hashlib.sha1(("%s/%s" % (gid, g["_seq"])).encode()).digest()[:9]).decode()
    out = {"resourceName": g["resourceName"], "etag": etag}
    if g.get("_deleted"):
        out["metadata"] = {"updateTime": g["metadata"]["updateTime"], "deleted": True}
        return out
    members = group_members(u, gid)
    for f in fields:
        if f == "memberCount":
            if members or g["groupType"] == "USER_CONTACT_GROUP":
                out["memberCount"] = len(members)
        elif f == "metadata":
            out["metadata"] = dict(g["metadata"])
        elif f == "name":
            out["name"] = g["name"]
            out["formattedName"] = g.get("formattedName", g["name"])
        elif f in g:
            out[f] = g[f]
    if max_members:
        out["memberResourceNames"] = members[:max_members]
    return out


def group_fields(value):
    return parse_mask(value, GROUP_FIELDS, "groupFields") or ["metadata", "groupType", "memberCount", "name"]


# https://developers.google.com/people/api/rest/v1/contactGroups/list
def list_groups(ctx):
    P = ctx.params(["pageToken", "pageSize", "syncToken", "groupFields"])
    size = P.int("pageSize", 30, 0, 1000, zero_default=True)
    fields = group_fields(P.str("groupFields"))
    u = ctx.u
    fp_page = P.fingerprint({"pageToken"})
    fp_sync = P.fingerprint({"pageToken", "syncToken", "pageSize"})
    after, snap = C.page_in(P, fp_page, u)
    groups = list(u["groups"].values())
    sync = P.str("syncToken")
    if sync:
        state, d = C.sync_token_in(sync, "groups", "me", u)
        if state == "malformed":
            raise bad("Sync token is invalid.")
        if state == "expired":
            raise C.ApiError(400, "Sync token is expired. Clear local cache and retry call without the sync token.",
                             status="FAILED_PRECONDITION", reason="EXPIRED_SYNC_TOKEN",
                             domain="people.googleapis.com")
        groups = [g for g in groups if g["_seq"] > d["s"]]
    else:
        groups = [g for g in groups if not g.get("_deleted")]
    keyfn = lambda g: [0 if g["groupType"] == "SYSTEM_CONTACT_GROUP" else 1, g.get("_ord", 0), g["resourceName"]]  # noqa
    page, last = C.keyset(groups, keyfn, after, size)
    out = {"contactGroups": [render_group(u, g, fields) for g in page], "totalItems": len(groups)}
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp_page, snap)
    else:
        out["nextSyncToken"] = C.sync_token_out("groups", "me", u, fp_sync, snap)
    return out


def get_group_obj(ctx, gid):
    g = ctx.u["groups"].get(gid)
    if g is None or g.get("_deleted"):
        raise C.not_found(api=API)
    return g


# https://developers.google.com/people/api/rest/v1/contactGroups/get
def get_group(ctx):
    P = ctx.params(["maxMembers", "groupFields"])
    mm = P.int("maxMembers", 0, 0, None)
    return render_group(ctx.u, get_group_obj(ctx, ctx.match.group("id")), group_fields(P.str("groupFields")), mm)


# https://developers.google.com/people/api/rest/v1/contactGroups/create
def create_group(ctx):
    ctx.params([])
    b = C.check_object(ctx.body, {"contactGroup", "readGroupFields"}, "request", API, required=("contactGroup",))
    cg = C.check_object(b["contactGroup"], {"name", "clientData", "resourceName", "etag"}, "contactGroup", API)
    name = cg.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad("contactGroup.name is required.")
    for i, cd in enumerate(cg.get("clientData") or []):
        C.check_object(cd, {"metadata", "key", "value"}, "contactGroup.clientData[%d]" % i, API)
    u = ctx.u
    if any(g["name"] == name and not g.get("_deleted") for g in u["groups"].values()):
        raise C.ApiError(409, "Contact group name already exists.", status="ALREADY_EXISTS")
    gid = S.new_id(12, "0123456789abcdef")
    g = {"resourceName": "contactGroups/" + gid, "groupType": "USER_CONTACT_GROUP", "name": name,
         "formattedName": name, "metadata": {"updateTime": S.now_rfc3339()}}
    if cg.get("clientData"):
        g["clientData"] = cg["clientData"]
    g["_seq"] = g["_ord"] = S_bump(u)
    u["groups"][gid] = g
    return render_group(u, g, group_fields(b.get("readGroupFields")))


# https://developers.google.com/people/api/rest/v1/contactGroups.members/modify
def modify_members(ctx):
    ctx.params([])
    b = C.check_object(ctx.body, {"resourceNamesToAdd", "resourceNamesToRemove"}, "request", API)
    add = b.get("resourceNamesToAdd") or []
    rem = b.get("resourceNamesToRemove") or []
    for n, lst in (("resourceNamesToAdd", add), ("resourceNamesToRemove", rem)):
        if not isinstance(lst, list) or not all(isinstance(x, str) and x.startswith("people/") for x in lst):
            raise bad("%s must be a list of people/{person_id} names." % n)
    if len(add) + len(rem) > 1000:
        raise bad("The total number of resource names in resourceNamesToAdd and resourceNamesToRemove must be "
                  "less than or equal to 1000.")
    gid = ctx.match.group("id")
    g = get_group_obj(ctx, gid)
    if add and g["groupType"] == "SYSTEM_CONTACT_GROUP" and gid not in ("myContacts", "starred"):
        raise bad("Contacts can only be added to user groups or the myContacts and starred system groups.")
    u = ctx.u
    out = {"notFoundResourceNames": [], "canNotRemoveLastContactGroupResourceNames": []}
    mem = {"contactGroupMembership": {"contactGroupId": gid, "contactGroupResourceName": g["resourceName"]}}
    for rn in add:
        p = u["people"].get(rn.split("/", 1)[1])
        if p is None or p.get("_deleted"):
            out["notFoundResourceNames"].append(rn)
            continue
        if not any(m.get("contactGroupMembership", {}).get("contactGroupId") == gid for m in p["memberships"]):
            p["memberships"].append(json.loads(json.dumps(mem)))
            touch(u, p)
    for rn in rem:
        p = u["people"].get(rn.split("/", 1)[1])
        if p is None or p.get("_deleted"):
            out["notFoundResourceNames"].append(rn)
            continue
        keep = [m for m in p["memberships"] if m.get("contactGroupMembership", {}).get("contactGroupId") != gid]
        if len(keep) == len(p["memberships"]):
            continue
        if not any("contactGroupMembership" in m for m in keep):
            out["canNotRemoveLastContactGroupResourceNames"].append(rn)
            continue
        p["memberships"] = keep
        touch(u, p)
    g["_seq"] = S_bump(u)
    g["metadata"]["updateTime"] = S.now_rfc3339()
    return {k: v for k, v in out.items() if v}


def seed(store, u, data):
    """POST /_fake/seed: {"contacts": [Person, ...], "contactGroups": [{"name": ...}]}"""
    class _Ctx:
        pass
    ctx = _Ctx()
    ctx.u = u
    made = {"contactGroups": [], "contacts": []}
    for cg in data.get("contactGroups") or []:
        gid = S.new_id(12, "0123456789abcdef")
        g = {"resourceName": "contactGroups/" + gid, "groupType": "USER_CONTACT_GROUP", "name": cg["name"],
             "formattedName": cg["name"], "metadata": {"updateTime": S.now_rfc3339()}}
        g["_seq"] = g["_ord"] = S_bump(u)
        u["groups"][gid] = g
        made["contactGroups"].append(g["resourceName"])
    for c in data.get("contacts") or []:
        p = new_contact(ctx, check_person(c))
        made["contacts"].append(p["resourceName"])
    return made


V = "/v1"
ROUTES = [
    C.route("GET", V + "/people/{resourceName}/connections", list_connections, API, READ, "people.connections.list"),
    C.route("POST", V + "/people:createContact", create_contact, API, WRITE, "people.createContact", body=True),
    C.route("POST", V + "/people:batchCreateContacts", batch_create, API, WRITE, "people.batchCreateContacts",
            body=True),
    C.route("PATCH", V + "/people/{id}:updateContact", update_contact, API, WRITE, "people.updateContact", body=True),
    C.route("PATCH", V + "/people/{id}:updateContactPhoto", update_photo, API, WRITE, "people.updateContactPhoto",
            body=True),
    C.route("DELETE", V + "/people/{id}:deleteContact", delete_contact, API, WRITE, "people.deleteContact"),
    C.route("GET", V + "/people/{id}", get_person, API, READ, "people.get"),
    C.route("GET", V + "/contactGroups", list_groups, API, READ, "contactGroups.list"),
    C.route("POST", V + "/contactGroups", create_group, API, WRITE, "contactGroups.create", body=True),
    C.route("GET", V + "/contactGroups/{id}", get_group, API, READ, "contactGroups.get"),
    C.route("POST", V + "/contactGroups/{id}/members:modify", modify_members, API, WRITE,
            "contactGroups.members.modify", body=True),
]
