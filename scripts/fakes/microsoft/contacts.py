"""Outlook personal contacts and contact folders (Microsoft Graph v1.0).

Loaded by server.py under the module name ``msfake_contacts``.

References (https://learn.microsoft.com/graph/api/... unless absolute):
  resource  resources/contact, resources/contactfolder, resources/physicaladdress,
            resources/emailaddress, resources/profilephoto
  paging    https://learn.microsoft.com/graph/paging, https://learn.microsoft.com/graph/query-parameters
  delta     contact-delta, https://learn.microsoft.com/graph/delta-query-overview
"""
import base64
import re

import msfake_common as C
import msfake_store as S

READ = ["Contacts.Read", "Contacts.ReadWrite"]
WRITE = ["Contacts.ReadWrite"]

# $top on Outlook collections: 1..1000; default page size 10 for Outlook
# collections when $top is absent (https://learn.microsoft.com/graph/paging,
# list-messages "within the range of 1 and 1000"; see README "Ambiguities").
TOP_MAX = 1000
DEFAULT_PAGE = 10
# Delta: page size only via `Prefer: odata.maxpagesize`; see README "Ambiguities".
DELTA_DEFAULT_PAGE = 200
DELTA_MAX_PAGE = 200
MAX_EMAILS = 3  # Outlook keeps three email slots (Email1..3); see README "Ambiguities"
MAX_PHOTO = 4 * 1024 * 1024  # profilePhoto update: "photo size of less than 4 MB"

STRING_PROPS = ["assistantName", "businessHomePage", "companyName", "department", "displayName", "fileAs",
                "generation", "givenName", "initials", "jobTitle", "manager", "middleName", "mobilePhone",
                "nickName", "officeLocation", "personalNotes", "profession", "spouseName", "surname", "title",
                "yomiCompanyName", "yomiGivenName", "yomiSurname"]
STRING_LIST_PROPS = ["businessPhones", "categories", "children", "homePhones", "imAddresses"]
ADDRESS_PROPS = ["homeAddress", "businessAddress", "otherAddress"]
ADDRESS_FIELDS = ["street", "city", "state", "countryOrRegion", "postalCode"]  # resources/physicaladdress
EMAIL_FIELDS = ["name", "address"]  # resources/emailaddress
READ_ONLY = ["id", "changeKey", "createdDateTime", "lastModifiedDateTime", "parentFolderId"]
ALL_PROPS = sorted(STRING_PROPS + STRING_LIST_PROPS + ADDRESS_PROPS + READ_ONLY + ["birthday", "emailAddresses"])
# Annotations a client may echo back from a GET; accepted and ignored.
IGNORED_ANNOTATIONS = {"@odata.etag", "@odata.type", "@odata.context", "@odata.id", "@odata.editLink"}
FOLDER_PROPS = ["id", "displayName", "parentFolderId"]  # resources/contactfolder


# ---- validation -------------------------------------------------------------------

def _type_err(prop, want, value):
    return C.body_error("Cannot convert the literal '%s' to the expected type '%s' (property '%s')."
                        % (str(value)[:80], want, prop))


def check_contact(body, creating):
    """Validate a contact body (POST or PATCH).  Returns the writable part."""
    out = {}
    for k, v in body.items():
        if k in IGNORED_ANNOTATIONS:
            continue
        if k in READ_ONLY:
            continue  # read-only properties are ignored on write (see README)
        if k in STRING_PROPS:
            if v is not None and not isinstance(v, str):
                raise _type_err(k, "Edm.String", v)
        elif k in STRING_LIST_PROPS:
            if v is None:
                raise C.body_error("A null value was found for the property named '%s', which has the expected "
                                   "type 'Collection(Edm.String)[Nullable=False]'." % k)
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise _type_err(k, "Collection(Edm.String)", v)
        elif k in ADDRESS_PROPS:
            if v is not None:
                if not isinstance(v, dict):
                    raise _type_err(k, "microsoft.graph.physicalAddress", v)
                for f, fv in v.items():
                    if f in IGNORED_ANNOTATIONS:
                        continue
                    if f not in ADDRESS_FIELDS:
                        raise C.body_error("The property '%s' does not exist on type 'microsoft.graph."
                                           "physicalAddress'. Make sure to only use property names that are "
                                           "defined by the type." % f)
                    if fv is not None and not isinstance(fv, str):
                        raise _type_err(f, "Edm.String", fv)
                v = {f: v.get(f) for f in ADDRESS_FIELDS if v.get(f) is not None}
        elif k == "emailAddresses":
            if v is None or not isinstance(v, list):
                raise _type_err(k, "Collection(microsoft.graph.emailAddress)", v)
            clean = []
            for e in v:
                if not isinstance(e, dict):
                    raise _type_err(k, "microsoft.graph.emailAddress", e)
                for f, fv in e.items():
                    if f in IGNORED_ANNOTATIONS:
                        continue
                    if f not in EMAIL_FIELDS:
                        raise C.body_error("The property '%s' does not exist on type 'microsoft.graph."
                                           "emailAddress'. Make sure to only use property names that are "
                                           "defined by the type." % f)
                    if fv is not None and not isinstance(fv, str):
                        raise _type_err(f, "Edm.String", fv)
                clean.append({"name": e.get("name"), "address": e.get("address")})
            if len(clean) > MAX_EMAILS:
                raise C.GraphError(400, "ErrorInvalidRequest",
                                   "A contact can have at most %d email addresses; %d were given."
                                   % (MAX_EMAILS, len(clean)), violation=True)
            v = clean
        elif k == "birthday":
            if v is not None:
                dt = C.parse_dto(v)
                if dt is None:
                    raise C.body_error("Cannot convert the literal '%s' to the expected type "
                                       "'Edm.DateTimeOffset'." % str(v)[:80])
                v = C.fmt_dto(dt)
        elif k == "singleValueExtendedProperties":
            # https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-post-singlevalueextendedproperties
            v = C.check_ext(v, "contact")
        elif k in ("photo", "extensions", "multiValueExtendedProperties"):
            raise C.bad("Navigation property '%s' is not supported by this fake in a contact body." % k,
                        "ErrorInvalidRequest")
        else:
            raise C.body_error("The property '%s' does not exist on type 'microsoft.graph.contact'. Make sure "
                               "to only use property names that are defined by the type or mark the type as "
                               "open type." % k)
        out[k] = v
    return out


def empty_contact():
    c = {k: None for k in STRING_PROPS}
    c.update({k: [] for k in STRING_LIST_PROPS})
    c.update({k: {} for k in ADDRESS_PROPS})
    c["birthday"] = None
    c["emailAddresses"] = []
    return c


# ---- rendering ----------------------------------------------------------------------

def render(c, select=None):
    full = {"@odata.etag": 'W/"%s"' % c["changeKey"], "id": c["id"]}
    for k in ALL_PROPS:
        if k == "id":
            continue
        if select is None or k in select:
            full[k] = c.get(k)
    return S.public(full)


def parse_select(params):
    sel = params.str("$select")
    if sel is None:
        return None
    names = [s.strip() for s in sel.split(",")]
    for n in names:
        if n not in ALL_PROPS:
            raise C.bad("Could not find a property named '%s' on type 'microsoft.graph.contact'." % n)
    return set(names)


def folder_render(f):
    return S.public({k: f.get(k) for k in FOLDER_PROPS})


# ---- lookups -------------------------------------------------------------------------

def folder_of(ctx, fid):
    u = ctx.u
    if fid.lower() == "contacts":  # well-known name of the default folder (see README)
        fid = u["root"]
    f = u["folders"].get(fid)
    if f is None or f.get("_deleted"):
        raise C.not_found()
    return f


def contact_of(ctx, cid):
    c = ctx.u["contacts"].get(cid)
    if c is None or c.get("_deleted"):
        raise C.not_found()
    fid = ctx.match.get("fid")
    if fid is not None and folder_of(ctx, fid)["id"] != c["parentFolderId"]:
        raise C.not_found()  # /me/contactFolders/{fid}/contacts/{id}: the contact must be in that folder
    return c


def check_if_match(ctx, c):
    im = ctx.headers.get("If-Match")
    if im and im.strip() != "*" and im.strip() not in ('W/"%s"' % c["changeKey"], '"%s"' % c["changeKey"]):
        raise C.GraphError(412, "ErrorIrresolvableConflict",
                           "The send or update operation could not be performed because the change key passed "
                           "in the request does not match the current change key for the item.")


# ---- collection paging ---------------------------------------------------------------

def parse_filter(expr):
    """list-contacts: "you can use $filter, any, and the eq operator on only the
    address sub-property of instances in an emailAddresses collection"."""
    import re
    m = re.fullmatch(r"\s*emailAddresses/any\(\s*(\w+)\s*:\s*(\w+)/address\s+eq\s+'((?:[^']|'')*)'\s*\)\s*", expr)
    if not m or m.group(1) != m.group(2):
        raise C.bad("Invalid filter clause: only emailAddresses/any(a:a/address eq '...') is supported "
                    "for contacts.", "ErrorInvalidUrlQueryFilter")
    return m.group(3).replace("''", "'").lower()


ORDERABLE = set(STRING_PROPS) | {"createdDateTime", "lastModifiedDateTime", "birthday"}


def email_filter(expr):
    addr = parse_filter(expr)
    return lambda c: any((e.get("address") or "").lower() == addr for e in c.get("emailAddresses") or [])


def page_collection(ctx, items, render_fn, select_ok=True, extra=None):
    if select_ok:
        pid = C.expand_of(C.Params(ctx.query, {"$top", "$skip", "$select", "$count", "$orderby", "$filter", "$expand"}))
        return C.page_collection(ctx, items, lambda c, sel: C.with_ext(render_fn(c, sel), c, pid), parse_select, email_filter,
                                 ORDERABLE, DEFAULT_PAGE, TOP_MAX, extra=("$expand",))
    return C.page_collection(ctx, items, render_fn, None, None, {"displayName"}, DEFAULT_PAGE, TOP_MAX)


# ---- contacts --------------------------------------------------------------------------

def live_contacts(u, folder_id):
    return [c for c in u["contacts"].values() if not c.get("_deleted") and c["parentFolderId"] == folder_id]


def list_contacts(ctx):
    """GET /v1.0/me/contacts -- https://learn.microsoft.com/graph/api/user-list-contacts"""
    ctx.context_name = "users('%s')/contacts" % ctx.user
    return page_collection(ctx, live_contacts(ctx.u, ctx.u["root"]), render)


def list_folder_contacts(ctx):
    """GET /v1.0/me/contactFolders/{id}/contacts -- https://learn.microsoft.com/graph/api/contactfolder-list-contacts"""
    f = folder_of(ctx, ctx.match["fid"])
    ctx.context_name = "users('%s')/contactFolders('%s')/contacts" % (ctx.user, f["id"])
    return page_collection(ctx, live_contacts(ctx.u, f["id"]), render)


def new_contact(ctx, folder_id, fields):
    u = ctx.u
    c = empty_contact()
    ext = fields.pop("singleValueExtendedProperties", None) or {}
    c.update(fields)
    c["_ext"] = dict(ext)
    now = S.now_iso()
    cid = S.new_id()
    c.update({"id": cid, "changeKey": S.new_change_key(), "createdDateTime": now,
              "lastModifiedDateTime": now, "parentFolderId": folder_id, "_seq": ctx.store.bump(u)})
    u["contacts"][cid] = c
    return c


def create_contact(ctx):
    """POST /v1.0/me/contacts -- https://learn.microsoft.com/graph/api/user-post-contacts"""
    ctx.params(set())
    c = new_contact(ctx, ctx.u["root"], check_contact(ctx.body, True))
    return 201, with_context(ctx, render(c), "users('%s')/contacts/$entity" % ctx.user)


def create_folder_contact(ctx):
    """POST /v1.0/me/contactFolders/{id}/contacts -- https://learn.microsoft.com/graph/api/contactfolder-post-contacts"""
    ctx.params(set())
    f = folder_of(ctx, ctx.match["fid"])
    c = new_contact(ctx, f["id"], check_contact(ctx.body, True))
    return 201, with_context(ctx, render(c), "users('%s')/contactFolders('%s')/contacts/$entity"
                             % (ctx.user, f["id"]))


def with_context(ctx, obj, name):
    out = {"@odata.context": ctx.base_url + "/v1.0/$metadata#" + name}
    out.update(obj)
    return out


def get_contact(ctx):
    """GET /v1.0/me/contacts/{id} -- https://learn.microsoft.com/graph/api/contact-get"""
    p = ctx.params({"$select", "$expand"})
    pid = C.expand_of(p)
    c = contact_of(ctx, ctx.match["cid"])
    return with_context(ctx, C.with_ext(render(c, parse_select(p)), c, pid), "users('%s')/contacts/$entity" % ctx.user)


def update_contact(ctx):
    """PATCH /v1.0/me/contacts/{id} -- https://learn.microsoft.com/graph/api/contact-update"""
    ctx.params(set())
    c = contact_of(ctx, ctx.match["cid"])
    check_if_match(ctx, c)
    fields = check_contact(ctx.body, False)
    # extended properties sent are set (or replaced); the others stay
    c.setdefault("_ext", {}).update(fields.pop("singleValueExtendedProperties", None) or {})
    for k, v in fields.items():
        if v is None and k in ADDRESS_PROPS:
            v = {}
        c[k] = v
    c["changeKey"] = S.new_change_key()
    c["lastModifiedDateTime"] = S.now_iso()
    c["_seq"] = ctx.store.bump(ctx.u)
    return with_context(ctx, render(c), "users('%s')/contacts/$entity" % ctx.user)


def delete_contact(ctx):
    """DELETE /v1.0/me/contacts/{id} -- https://learn.microsoft.com/graph/api/contact-delete"""
    ctx.params(set())
    c = contact_of(ctx, ctx.match["cid"])
    check_if_match(ctx, c)
    tomb = {"id": c["id"], "parentFolderId": c["parentFolderId"], "changeKey": c["changeKey"],
            "_deleted": True, "_seq": ctx.store.bump(ctx.u)}
    ctx.u["contacts"][c["id"]] = tomb
    ctx.u["photos"].pop(c["id"], None)
    return 204, None


# ---- photo -------------------------------------------------------------------------------

def photo_kind(data):
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def get_photo_meta(ctx):
    """GET /v1.0/me/contacts/{id}/photo -- https://learn.microsoft.com/graph/api/profilephoto-get"""
    ctx.params(set())
    c = contact_of(ctx, ctx.match["cid"])
    ph = ctx.u["photos"].get(c["id"])
    if not ph:
        raise C.GraphError(404, "ImageNotFound", "The photo wasn't found.")
    return with_context(ctx, {"@odata.mediaContentType": ph["type"], "@odata.mediaEtag": 'W/"%s"' % ph["etag"],
                              "id": "default", "height": None, "width": None},
                        "users('%s')/contacts('%s')/photo/$entity" % (ctx.user, c["id"]))


def get_photo(ctx):
    """GET /v1.0/me/contacts/{id}/photo/$value -- https://learn.microsoft.com/graph/api/profilephoto-get"""
    ctx.params(set())
    c = contact_of(ctx, ctx.match["cid"])
    ph = ctx.u["photos"].get(c["id"])
    if not ph:
        raise C.GraphError(404, "ImageNotFound", "The photo wasn't found.")
    return 200, ("raw", ph["type"], base64.b64decode(ph["data"]))


def put_photo(ctx):
    """PUT /v1.0/me/contacts/{id}/photo/$value -- https://learn.microsoft.com/graph/api/profilephoto-update
    "Content-Type: image/jpeg. Required."; body: the binary data of the photo."""
    ctx.params(set())
    c = contact_of(ctx, ctx.match["cid"])
    ctype = (ctx.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    data = ctx.raw or b""
    if not ctype.startswith("image/"):
        raise C.GraphError(415, "ErrorInvalidRequest" if ctype else "BadRequest",
                           "Content-Type must be an image type (image/jpeg), not '%s'." % ctype, violation=True)
    if not data:
        raise C.bad("The photo body is empty.", "ErrorInvalidRequest")
    if len(data) >= MAX_PHOTO:
        raise C.GraphError(413, "ErrorRequestEntityTooLarge", "The photo must be smaller than 4 MB.",
                           violation=True)
    kind = photo_kind(data)
    if kind is None or kind != ctype:
        raise C.bad("The body is not a %s image." % ctype, "ErrorInvalidImage")
    ctx.u["photos"][c["id"]] = {"type": kind, "data": base64.b64encode(data).decode(), "etag": S.new_change_key()}
    # A new photo changes the item (Outlook stores it as an attachment of the contact).
    c["changeKey"] = S.new_change_key()
    c["lastModifiedDateTime"] = S.now_iso()
    c["_seq"] = ctx.store.bump(ctx.u)
    return 200, None


# ---- contact folders ---------------------------------------------------------------------

def child_folders(u, parent):
    return [f for f in u["folders"].values() if not f.get("_deleted") and f.get("parentFolderId") == parent]


def list_folders(ctx):
    """GET /v1.0/me/contactFolders -- https://learn.microsoft.com/graph/api/user-list-contactfolders
    "Get the contact folder collection in the default Contacts folder"."""
    ctx.context_name = "users('%s')/contactFolders" % ctx.user
    return page_collection(ctx, child_folders(ctx.u, ctx.u["root"]), lambda f, s: folder_render(f),
                           select_ok=False, extra={"$select"})


def list_child_folders(ctx):
    """GET /v1.0/me/contactFolders/{id}/childFolders -- https://learn.microsoft.com/graph/api/contactfolder-list-childfolders"""
    f = folder_of(ctx, ctx.match["fid"])
    ctx.context_name = "users('%s')/contactFolders('%s')/childFolders" % (ctx.user, f["id"])
    return page_collection(ctx, child_folders(ctx.u, f["id"]), lambda x, s: folder_render(x),
                           select_ok=False, extra={"$select"})


def check_folder_body(body, creating):
    for k, v in body.items():
        if k in IGNORED_ANNOTATIONS or k == "id":
            continue
        if k not in ("displayName", "parentFolderId"):
            raise C.body_error("The property '%s' does not exist on type 'microsoft.graph.contactFolder'. "
                               "Make sure to only use property names that are defined by the type." % k)
        if v is not None and not isinstance(v, str):
            raise _type_err(k, "Edm.String", v)
    if creating and not (body.get("displayName") or "").strip():
        raise C.bad("The folder name is required.", "ErrorInvalidRequest")


def make_folder(ctx, parent, name):
    u = ctx.u
    if any(f["displayName"].lower() == name.lower() for f in child_folders(u, parent)):
        raise C.GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
    fid = S.new_id("AQMkAD")
    f = {"id": fid, "displayName": name, "parentFolderId": parent, "_seq": ctx.store.bump(u)}
    u["folders"][fid] = f
    return f


def create_folder(ctx):
    """POST /v1.0/me/contactFolders -- https://learn.microsoft.com/graph/api/user-post-contactfolders"""
    ctx.params(set())
    check_folder_body(ctx.body, True)
    parent = ctx.body.get("parentFolderId") or ctx.u["root"]
    folder_of(ctx, parent)
    f = make_folder(ctx, parent, ctx.body["displayName"])
    return 201, with_context(ctx, folder_render(f), "users('%s')/contactFolders/$entity" % ctx.user)


def create_child_folder(ctx):
    """POST /v1.0/me/contactFolders/{id}/childFolders -- https://learn.microsoft.com/graph/api/contactfolder-post-childfolders"""
    ctx.params(set())
    check_folder_body(ctx.body, True)
    parent = folder_of(ctx, ctx.match["fid"])
    f = make_folder(ctx, parent["id"], ctx.body["displayName"])
    return 201, with_context(ctx, folder_render(f), "users('%s')/contactFolders('%s')/childFolders/$entity"
                             % (ctx.user, parent["id"]))


def get_folder(ctx):
    """GET /v1.0/me/contactFolders/{id} -- https://learn.microsoft.com/graph/api/contactfolder-get"""
    ctx.params({"$select"})
    f = folder_of(ctx, ctx.match["fid"])
    return with_context(ctx, folder_render(f), "users('%s')/contactFolders/$entity" % ctx.user)


def update_folder(ctx):
    """PATCH /v1.0/me/contactFolders/{id} -- https://learn.microsoft.com/graph/api/contactfolder-update"""
    ctx.params(set())
    check_folder_body(ctx.body, False)
    f = folder_of(ctx, ctx.match["fid"])
    if f["id"] == ctx.u["root"]:
        raise C.GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    if "displayName" in ctx.body:
        name = (ctx.body["displayName"] or "").strip()
        if not name:
            raise C.bad("The folder name is required.", "ErrorInvalidRequest")
        if any(x["displayName"].lower() == name.lower() and x["id"] != f["id"]
               for x in child_folders(ctx.u, f["parentFolderId"])):
            raise C.GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
        f["displayName"] = name
    f["_seq"] = ctx.store.bump(ctx.u)
    return with_context(ctx, folder_render(f), "users('%s')/contactFolders/$entity" % ctx.user)


def delete_folder(ctx):
    """DELETE /v1.0/me/contactFolders/{id} -- https://learn.microsoft.com/graph/api/contactfolder-delete"""
    ctx.params(set())
    f = folder_of(ctx, ctx.match["fid"])
    if f["id"] == ctx.u["root"]:
        raise C.GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    u = ctx.u
    doomed, todo = [], [f["id"]]
    while todo:
        x = todo.pop()
        doomed.append(x)
        todo.extend(y["id"] for y in child_folders(u, x))
    for fid in doomed:
        u["folders"][fid]["_deleted"] = True
        for c in live_contacts(u, fid):
            u["contacts"][c["id"]] = {"id": c["id"], "parentFolderId": fid, "changeKey": c["changeKey"],
                                      "_deleted": True, "_seq": ctx.store.bump(u)}
            u["photos"].pop(c["id"], None)
    return 204, None


# ---- delta -------------------------------------------------------------------------------

def delta(ctx):
    """GET /v1.0/me/contactFolders/{id}/contacts/delta -- https://learn.microsoft.com/graph/api/contact-delta
    Query: $select (initial request only), $deltatoken, $skiptoken; header Prefer: odata.maxpagesize."""
    f = folder_of(ctx, ctx.match["fid"])
    items = [c for c in ctx.u["contacts"].values() if c["parentFolderId"] == f["id"]]
    return C.delta_response(ctx, "contacts:" + f["id"], items, parse_select, render, "contact",
                            DELTA_DEFAULT_PAGE, DELTA_MAX_PAGE)


def contacts_delta_undocumented(ctx):
    """GET /v1.0/me/contacts/delta is not in the v1.0 reference (contact-delta documents only
    /me/contactFolders/{id}/contacts/delta); refused so a connector does not depend on it."""
    raise C.GraphError(400, "BadRequest", "/me/contacts/delta is not documented; use "
                       "/me/contactFolders/{id}/contacts/delta.", violation=True)


# ---- seeding (POST /_fake/seed) ------------------------------------------------------------

class _SeedCtx:
    def __init__(self, store, u):
        self.store, self.u = store, u


def seed(store, u, data):
    """{"contacts": [contact...] (default folder), "contactFolders": [{"displayName", "parentFolderId"?,
    "contacts": [...], "childFolders": [...]}]}.  Answers the created ids."""
    ctx = _SeedCtx(store, u)
    made = {"contacts": [], "contactFolders": []}
    for body in data.get("contacts") or []:
        made["contacts"].append(new_contact(ctx, u["root"], check_contact(body, True))["id"])

    def add_folder(spec, parent):
        check_folder_body({k: v for k, v in spec.items() if k in ("displayName",)}, True)
        f = make_folder(ctx, parent, spec["displayName"])
        entry = {"id": f["id"], "contacts": [], "childFolders": []}
        for body in spec.get("contacts") or []:
            entry["contacts"].append(new_contact(ctx, f["id"], check_contact(body, True))["id"])
        for child in spec.get("childFolders") or []:
            entry["childFolders"].append(add_folder(child, f["id"]))
        return entry

    for spec in data.get("contactFolders") or []:
        made["contactFolders"].append(add_folder(spec, spec.get("parentFolderId") or u["root"]))
    made["defaultFolderId"] = u["root"]
    return made


B = "/v1.0/me"
FB = B + "/contactFolders/{fid}/contacts"
ROUTES = [
    C.route("GET", B + "/contacts", list_contacts, READ, "contacts.list"),
    C.route("POST", B + "/contacts", create_contact, WRITE, "contacts.create", body=True),
    C.route("GET", B + "/contacts/delta", contacts_delta_undocumented, READ, "contacts.delta.undocumented"),
    C.route("GET", B + "/contacts/{cid}", get_contact, READ, "contacts.get"),
    C.route("PATCH", B + "/contacts/{cid}", update_contact, WRITE, "contacts.update", body=True),
    C.route("DELETE", B + "/contacts/{cid}", delete_contact, WRITE, "contacts.delete"),
    C.route("GET", B + "/contacts/{cid}/photo", get_photo_meta, READ, "contacts.photo.get"),
    C.route("GET", B + "/contacts/{cid}/photo/$value", get_photo, READ, "contacts.photo.value"),
    C.route("PUT", B + "/contacts/{cid}/photo/$value", put_photo, WRITE, "contacts.photo.update", raw_body=True),
    C.route("GET", B + "/contactFolders", list_folders, READ, "contactFolders.list"),
    C.route("POST", B + "/contactFolders", create_folder, WRITE, "contactFolders.create", body=True),
    C.route("GET", B + "/contactFolders/{fid}", get_folder, READ, "contactFolders.get"),
    C.route("PATCH", B + "/contactFolders/{fid}", update_folder, WRITE, "contactFolders.update", body=True),
    C.route("DELETE", B + "/contactFolders/{fid}", delete_folder, WRITE, "contactFolders.delete"),
    C.route("GET", B + "/contactFolders/{fid}/childFolders", list_child_folders, READ, "contactFolders.childFolders"),
    C.route("POST", B + "/contactFolders/{fid}/childFolders", create_child_folder, WRITE,
            "contactFolders.childFolders.create", body=True),
    C.route("GET", B + "/contactFolders/{fid}/contacts", list_folder_contacts, READ, "contactFolders.contacts.list"),
    C.route("POST", B + "/contactFolders/{fid}/contacts", create_folder_contact, WRITE,
            "contactFolders.contacts.create", body=True),
    C.route("GET", B + "/contactFolders/{fid}/contacts/delta", delta, READ, "contacts.delta"),
]
# The same item operations addressed through a folder (contact-get, contact-update,
# contact-delete and profilephoto-update list /me/contactFolders/{id}/contacts/{id}),
# and PATCH as an alternative to PUT for the photo ("You can use either PATCH or PUT").
ROUTES += [
    C.route("PATCH", B + "/contacts/{cid}/photo/$value", put_photo, WRITE, "contacts.photo.update", raw_body=True),
    C.route("GET", FB + "/{cid}", get_contact, READ, "contacts.get"),
    C.route("PATCH", FB + "/{cid}", update_contact, WRITE, "contacts.update", body=True),
    C.route("DELETE", FB + "/{cid}", delete_contact, WRITE, "contacts.delete"),
    C.route("GET", FB + "/{cid}/photo", get_photo_meta, READ, "contacts.photo.get"),
    C.route("GET", FB + "/{cid}/photo/$value", get_photo, READ, "contacts.photo.value"),
    C.route("PUT", FB + "/{cid}/photo/$value", put_photo, WRITE, "contacts.photo.update", raw_body=True),
    C.route("PATCH", FB + "/{cid}/photo/$value", put_photo, WRITE, "contacts.photo.update", raw_body=True),
]
