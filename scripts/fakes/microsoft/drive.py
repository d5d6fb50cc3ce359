"""OneDrive for Business files: the user's drive, driveItems, uploads, downloads, delta (Microsoft Graph v1.0).

Loaded by server.py under the module name ``msfake_drive`` (the file name shadows no standard
library module).  The upload URLs (/_upload/{token}) and download URLs (/_download/{token}) are
served by server.py through upload_endpoint() and download_endpoint() below, without a bearer
token, as OneDrive's pre-authenticated URLs are.

References (https://learn.microsoft.com/graph/api/ + page unless absolute):
  resources  resources/drive, resources/driveitem, resources/quota, resources/hashes, resources/filesysteminfo,
             resources/itemreference, resources/deleted, resources/uploadsession,
             resources/driveitemuploadableproperties
  methods    drive-get, driveitem-get, driveitem-list-children, driveitem-post-children, driveitem-update,
             driveitem-delete, driveitem-get-content, driveitem-put-content, driveitem-createuploadsession,
             driveitem-delta
  addressing https://learn.microsoft.com/graph/onedrive-addressing-driveitems
  errors     https://learn.microsoft.com/graph/errors (basic and "Detailed error codes")
  hash       https://learn.microsoft.com/onedrive/developer/code-snippets/quickxorhash
"""
import base64
import hashlib
import hmac
import json
import mimetypes
import re
import secrets
import time
import urllib.parse
import uuid
from datetime import datetime, timezone

import msfake_common as C
import msfake_store as S

READ = ["Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All"]
WRITE = ["Files.ReadWrite", "Files.ReadWrite.All"]

CHILDREN_PAGE = 200     # driveitem-list-children: "the default page size (200 items)"
TOP_MAX = 999           # not documented; see README "Ambiguities"
DELTA_PAGE = 200
FRAGMENT_UNIT = 320 * 1024          # "a multiple of 320 KiB (327,680 bytes)"
FRAGMENT_LIMIT = 60 * 1024 * 1024   # "the maximum bytes in any given request is less than 60 MiB"
DOWNLOAD_LIFETIME = 3600            # driveItem: downloadUrl "available for a short period of time (1 hour)"

# Set by configure() from the command line.
QUOTA_TOTAL = 1024 ** 4
SIMPLE_MAX = 4 * 1024 * 1024        # driveitem-put-content: "only supports files up to 4MB" (README "Ambiguities")
SESSION_LIFETIME = 3600

# Upload sessions live in memory only (they do not survive a restart, like an expired session).
SESSIONS = {}
SECRET = secrets.token_bytes(32)
GEN = {"download": 0, "upload": 0}  # bumped by the expire_* faults

ITEM_PROPS = ["id", "name", "size", "createdDateTime", "lastModifiedDateTime", "eTag", "cTag", "webUrl",
              "createdBy", "lastModifiedBy", "parentReference", "fileSystemInfo", "file", "folder", "root",
              "description", "@microsoft.graph.downloadUrl"]
DRIVE_PROPS = ["id", "driveType", "name", "createdDateTime", "lastModifiedDateTime", "webUrl", "owner", "quota"]
BEHAVIORS = ("fail", "replace", "rename")
CONFLICT = "@microsoft.graph.conflictBehavior"
BAD_NAME_CHARS = set('"*:<>?/\\|')


def configure(quota_total, simple_max, session_lifetime):
    global QUOTA_TOTAL, SIMPLE_MAX, SESSION_LIFETIME
    QUOTA_TOTAL, SIMPLE_MAX, SESSION_LIFETIME = quota_total, simple_max, session_lifetime


# ---- QuickXorHash (https://learn.microsoft.com/onedrive/developer/code-snippets/quickxorhash) ------------
# A 160-bit block; byte i of the input is XORed in rotated left by 11*i bits; the result's bytes
# are taken little-endian and the input length (64-bit little-endian) is XORed into the last 8.
# Bytes 160 apart share a rotation, so the input is first folded onto one 160-byte block.

_MASK160 = (1 << 160) - 1
_FOLD = 160 * 4096


def quickxorhash(data):
    n = len(data)
    acc = 0
    for off in range(0, n, _FOLD):
        acc ^= int.from_bytes(data[off:off + _FOLD], "little")
    folded = 0
    if n:
        wide = acc.to_bytes(_FOLD, "little")
        for i in range(0, _FOLD, 160):
            folded ^= int.from_bytes(wide[i:i + 160], "little")
    h = 0
    for k in range(160):
        b = (folded >> (8 * k)) & 0xFF
        if b:
            v = b << ((11 * k) % 160)
            h ^= (v & _MASK160) | (v >> 160)
    out = bytearray(h.to_bytes(20, "little"))
    for i, x in enumerate(n.to_bytes(8, "little")):
        out[12 + i] ^= x
    return base64.b64encode(bytes(out)).decode()


# ---- errors ---------------------------------------------------------------------------------------

def item_not_found(inner=None):
    return C.GraphError(404, "itemNotFound", "The resource could not be found.", inner_code=inner)


def invalid(message, inner=None, status=400):
    return C.GraphError(status, "invalidRequest", message, violation=True, inner_code=inner)


def name_exists():
    return C.GraphError(409, "nameAlreadyExists", "The specified item name already exists.")


def quota_error():
    # https://learn.microsoft.com/graph/errors: 507 "The maximum storage quota has been reached.";
    # quotaLimitReached "The user has reached their quota limit."
    return C.GraphError(507, "quotaLimitReached", "The user has reached their quota limit.")


# ---- storage ----------------------------------------------------------------------------------------

def new_item_id():
    return "01" + base64.b32encode(secrets.token_bytes(20)).decode()[:32]


def ensure(u):
    if "drive" not in u:
        root = new_item_id()
        now = S.now_iso()
        u["drive"] = {"id": "b!" + secrets.token_urlsafe(48)[:64], "root": root, "created": now, "blobs": {},
                      "items": {root: {"id": root, "name": "root", "_parent": None, "_folder": True,
                                       "createdDateTime": now, "lastModifiedDateTime": now,
                                       "fileSystemInfo": {"createdDateTime": now, "lastModifiedDateTime": now},
                                       "_tag": str(uuid.uuid4()).upper(), "_ever": 1, "_cver": 1, "_seq": 0}}}
    return u["drive"]


def live(d, iid):
    it = d["items"].get(iid)
    return it if it is not None and not it.get("_deleted") else None


def children(d, parent_id):
    return [x for x in d["items"].values() if not x.get("_deleted") and x.get("_parent") == parent_id]


def child_named(d, parent_id, name):
    low = name.lower()  # OneDrive names are case-insensitive
    return next((x for x in children(d, parent_id) if x["name"].lower() == low), None)


def path_of(d, it):
    """'/a/b' for an item (root: '')."""
    parts = []
    while it is not None and it.get("_parent") is not None:
        parts.append(it["name"])
        it = d["items"].get(it["_parent"])
    return "/" + "/".join(reversed(parts)) if parts else ""


def depth_of(d, it):
    n = 0
    while it is not None and it.get("_parent") is not None:
        n += 1
        it = d["items"].get(it["_parent"])
    return n


def folder_size(d, it):
    return sum(x.get("size", 0) if not x["_folder"] else folder_size(d, x) for x in children(d, it["id"]))


def used(d):
    return sum(x.get("size", 0) for x in d["items"].values() if not x.get("_deleted") and not x["_folder"])


def check_name(name):
    if not isinstance(name, str) or not name or name in (".", "..") or name != name.strip() or len(name) > 400 \
            or any(c in BAD_NAME_CHARS or ord(c) < 32 for c in name):
        raise invalid("The name '%s' is not valid for a OneDrive item." % str(name)[:80], "invalidPath")
    return name


def set_content(ctx, d, it, data):
    d["blobs"][it["id"]] = base64.b64encode(data).decode()
    it["size"] = len(data)
    it["_mime"] = mimetypes.guess_type(it["name"])[0] or "application/octet-stream"
    it["_qxh"] = quickxorhash(data)


def touch(ctx, it, content=False):
    it["_ever"] += 1
    if content:
        it["_cver"] += 1
    it["lastModifiedDateTime"] = S.now_iso()
    it["_seq"] = ctx.store.bump(ctx.u)


def new_item(ctx, parent, name, folder, data=b"", fsi=None):
    d = ensure(ctx.u)
    now = S.now_iso()
    fsi = fsi or {}
    it = {"id": new_item_id(), "name": name, "_parent": parent["id"], "_folder": folder, "createdDateTime": now,
          "lastModifiedDateTime": now,
          "fileSystemInfo": {"createdDateTime": fsi.get("createdDateTime") or now,
                             "lastModifiedDateTime": fsi.get("lastModifiedDateTime") or now},
          "_tag": str(uuid.uuid4()).upper(), "_ever": 1, "_cver": 1}
    if not folder:
        set_content(ctx, d, it, data)
    it["_seq"] = ctx.store.bump(ctx.u)
    d["items"][it["id"]] = it
    return it


def remove(ctx, d, it):
    """Delete an item and everything under it (each leaves a tombstone for delta)."""
    todo = [it]
    while todo:
        x = todo.pop()
        todo.extend(children(d, x["id"]))
        x["_depth"] = depth_of(d, x)
        x["_deleted"] = True
        x["_seq"] = ctx.store.bump(ctx.u)
        d["blobs"].pop(x["id"], None)


def resolve_conflict(ctx, d, parent, name, behavior, folder):
    """Answers (name, existing item to replace or None)."""
    existing = child_named(d, parent["id"], name)
    if existing is None:
        return name, None
    if behavior == "fail":
        raise name_exists()
    if behavior == "replace":
        if existing["_folder"] != folder or folder:
            remove(ctx, d, existing)  # a folder (or the other kind) is replaced by a new item
            return name, None
        return name, existing
    stem, dot, ext = name.rpartition(".")
    if not stem:
        stem, dot, ext = name, "", ""
    n = 1
    while True:
        cand = "%s %d%s%s" % (stem, n, dot, ext)
        if child_named(d, parent["id"], cand) is None:
            return cand, None
        n += 1


def check_quota(d, extra):
    if extra > 0 and used(d) + extra > QUOTA_TOTAL:
        raise quota_error()


def check_if_match(ctx, it):
    im = (ctx.headers.get("If-Match") or "").strip()
    if im and im != "*" and im not in (etag(it), ctag(it)):
        raise C.GraphError(412, "resourceModified", "ETag does not match the current item's value.",
                           inner_code="entityTagDoesNotMatch")


# ---- rendering ----------------------------------------------------------------------------------------

def etag(it):
    return '"{%s},%d"' % (it["_tag"], it["_ever"])


def ctag(it):
    return '"c:{%s},%d"' % (it["_tag"], it["_cver"])


def sign(payload):
    body = base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode().rstrip("=")
    mac = hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()[:32]
    return body + "." + mac


def download_url(ctx, it):
    tok = sign({"u": ctx.user, "i": it["id"], "x": int(time.time()) + DOWNLOAD_LIFETIME, "g": GEN["download"]})
    return ctx.base_url + "/_download/" + tok


def render(ctx, it, select=None, in_delta=False):
    d = ensure(ctx.u)
    user = {"user": {"displayName": ctx.user, "email": "%s@example.com" % ctx.user}}
    full = {}
    if not it["_folder"]:
        full["@microsoft.graph.downloadUrl"] = download_url(ctx, it)
    full.update({"createdDateTime": it["createdDateTime"], "eTag": etag(it), "id": it["id"],
                 "lastModifiedDateTime": it["lastModifiedDateTime"], "name": it["name"],
                 "webUrl": "https://contoso-my.sharepoint.com/personal/%s/Documents%s"
                           % (urllib.parse.quote(ctx.user), urllib.parse.quote(path_of(d, it)))})
    if not it["_folder"]:
        full["cTag"] = ctag(it)  # driveItem: cTag "not returned if the item is a folder" (Business)
    full["size"] = folder_size(d, it) if it["_folder"] else it["size"]
    full["createdBy"] = user
    full["lastModifiedBy"] = user
    ref = {"driveType": "business", "driveId": d["id"]}
    if it.get("_parent"):
        ref["id"] = it["_parent"]
        if not in_delta:  # driveitem-delta: "parentReference ... won't include a value for path"
            ref["path"] = "/drive/root:" + path_of(d, d["items"][it["_parent"]])
    full["parentReference"] = ref
    full["fileSystemInfo"] = dict(it["fileSystemInfo"])
    if it["_folder"]:
        full["folder"] = {"childCount": len(children(d, it["id"]))}
        if it.get("_parent") is None:
            full["root"] = {}
    else:
        full["file"] = {"mimeType": it["_mime"], "hashes": {"quickXorHash": it["_qxh"]}}
    if select is not None:
        full = {k: v for k, v in full.items() if k in select or k == "id"}
    return full


def render_deleted(d, it):
    out = {"id": it["id"], "deleted": {"state": "deleted"},
           "parentReference": {"driveType": "business", "driveId": d["id"], "id": it.get("_parent")}}
    out["folder" if it["_folder"] else "file"] = {}
    return out


def item_select(p):
    sel = p.str("$select")
    if sel is None:
        return None
    names = [s.strip() for s in sel.split(",")]
    for n in names:
        if n not in ITEM_PROPS:
            raise invalid("Could not find a property named '%s' on type 'microsoft.graph.driveItem'." % n,
                          "invalidQueryOption")
    return set(names)


def with_context(ctx, obj, name):
    out = {"@odata.context": ctx.base_url + "/v1.0/$metadata#" + name}
    out.update(obj)
    return out


# ---- addressing -------------------------------------------------------------------------------------

def item_of(ctx, iid=None):
    d = ensure(ctx.u)
    if iid is None:
        return d["items"][d["root"]]
    it = live(d, iid)
    if it is None:
        raise item_not_found()
    return it


def walk(ctx, base, path):
    """Item at `path` ('/a/b.txt') relative to folder `base`."""
    d = ensure(ctx.u)
    it = base
    for seg in [s for s in path.split("/") if s != ""]:
        if not it["_folder"]:
            raise item_not_found()
        nxt = child_named(d, it["id"], seg)
        if nxt is None:
            raise item_not_found()
        it = nxt
    return it


def split_rel(ctx):
    """/me/drive/root:/a/b.txt:/content -> (base item, '/a/b.txt', '/content')."""
    base = item_of(ctx, ctx.match.get("iid"))
    path, _, rest = ctx.match["rel"].partition(":")
    segs = [s for s in path.split("/") if s != ""]
    if not segs:
        raise invalid("The path after ':' names no item.", "invalidPath")
    if rest not in ("", "/content", "/children", "/createUploadSession"):
        raise C.bad("Resource not found for the segment '%s'." % rest.strip("/"))
    return base, "/" + "/".join(segs), rest


def parent_and_name(ctx, base, path):
    head, _, name = path.rpartition("/")
    parent = walk(ctx, base, head)
    if not parent["_folder"]:
        raise item_not_found()
    return parent, check_name(name)


# ---- drive -------------------------------------------------------------------------------------------

def quota(d):
    u_ = used(d)
    remaining = max(0, QUOTA_TOTAL - u_)
    if u_ > QUOTA_TOTAL:
        state = "exceeded"
    elif remaining < QUOTA_TOTAL / 100:
        state = "critical"
    elif remaining < QUOTA_TOTAL / 10:
        state = "nearing"
    else:
        state = "normal"
    return {"deleted": 0, "remaining": remaining, "state": state, "total": QUOTA_TOTAL, "used": u_}


def get_drive(ctx):
    """GET /v1.0/me/drive -- https://learn.microsoft.com/graph/api/drive-get (quota: resources/quota)"""
    p = ctx.params({"$select"})
    d = ensure(ctx.u)
    full = {"id": d["id"], "driveType": "business", "name": "OneDrive", "createdDateTime": d["created"],
            "lastModifiedDateTime": S.now_iso(),
            "webUrl": "https://contoso-my.sharepoint.com/personal/%s/Documents" % urllib.parse.quote(ctx.user),
            "owner": {"user": {"displayName": ctx.user, "email": "%s@example.com" % ctx.user}}, "quota": quota(d)}
    if p.has("$select"):
        names = [s.strip() for s in p.str("$select").split(",")]
        for n in names:
            if n not in DRIVE_PROPS:
                raise invalid("Could not find a property named '%s' on type 'microsoft.graph.drive'." % n)
        full = {k: v for k, v in full.items() if k in names or k == "id"}
    return with_context(ctx, full, "users('%s')/drive/$entity" % ctx.user)


# ---- items --------------------------------------------------------------------------------------------

def answer_item(ctx, it, p=None, status=200):
    sel = item_select(p) if p is not None else None
    return status, with_context(ctx, render(ctx, it, sel), "users('%s')/drive/items/$entity" % ctx.user)


def get_item(ctx, it=None):
    """GET /v1.0/me/drive/root, /me/drive/items/{id}, /me/drive/root:/{path} -- driveitem-get"""
    p = ctx.params({"$select", "$expand"})
    if p.has("$expand"):
        raise C.not_modelled("$expand on a driveItem")
    return answer_item(ctx, it or item_of(ctx, ctx.match.get("iid")), p)


def list_children(ctx, parent=None):
    """GET /v1.0/me/drive/items/{id}/children (also root, root:/path:) -- driveitem-list-children.
    $top (1..999), $skiptoken (from @odata.nextLink), $select, $orderby (name, size,
    lastModifiedDateTime, createdDateTime; asc|desc).  Default page 200."""
    p = ctx.params({"$top", "$skiptoken", "$select", "$orderby", "$expand", "$filter"})
    for opt in ("$expand", "$filter"):
        if p.has(opt):
            raise C.not_modelled("%s on driveItem children" % opt)
    parent = parent or item_of(ctx, ctx.match.get("iid"))
    if not parent["_folder"]:
        raise invalid("Only folders have children.")
    d = ensure(ctx.u)
    top = p.int("$top", None, 1, TOP_MAX)
    sel = item_select(p)
    skip = 0
    if p.has("$skiptoken"):
        t = C.b64d(p.str("$skiptoken"))
        if not t or not isinstance(t.get("o"), int) or t.get("p") != parent["id"]:
            raise invalid("The $skiptoken is not valid for this collection.", "invalidStartIndex")
        skip = t["o"]
    items = sorted(children(d, parent["id"]), key=lambda x: (x["name"].lower(), x["id"]))
    if p.has("$orderby"):
        keys = C.parse_orderby(p.str("$orderby"), {"name", "size", "lastModifiedDateTime", "createdDateTime"})
        for key, desc in reversed(keys):
            kf = (lambda x: x["name"].lower()) if key == "name" else \
                (lambda x: folder_size(d, x) if x["_folder"] else x["size"]) if key == "size" else \
                (lambda x, k=key: x[k])
            items = sorted(items, key=kf, reverse=desc)
    size = top or CHILDREN_PAGE
    page = items[skip:skip + size]
    out = {"@odata.context": ctx.base_url + "/v1.0/$metadata#users('%s')/drive/items('%s')/children"
           % (ctx.user, parent["id"]), "value": [render(ctx, x, sel) for x in page]}
    if skip + size < len(items):
        q = {k: v for k, v in p.q.items() if k != "$skiptoken"}
        q["$skiptoken"] = C.b64e({"o": skip + size, "p": parent["id"]})
        out["@odata.nextLink"] = ctx.base_url + ctx.path + "?" + urllib.parse.urlencode(q, safe="$,")
    return out


def conflict_param(ctx, body_value=None, default="fail"):
    """@microsoft.graph.conflictBehavior from the query string (driveItem: "should be included in the
    URL") or the body (driveitem-post-children's example)."""
    q = None
    for k, v in ctx.query.items():
        if k.lower() == CONFLICT.lower():
            if len(v) != 1:
                raise invalid("%s given more than once." % CONFLICT)
            q = v[0]
    val = body_value if body_value is not None else q
    if val is None:
        return default
    if val not in BEHAVIORS:
        raise invalid("%s must be fail, replace or rename, not '%s'." % (CONFLICT, str(val)[:40]))
    return val


def check_fsi(v):
    C.check_members(v, {"createdDateTime", "lastModifiedDateTime", "lastAccessedDateTime"}, "fileSystemInfo",
                    "fileSystemInfo")
    out = {}
    for k in ("createdDateTime", "lastModifiedDateTime", "lastAccessedDateTime"):
        if v.get(k) is not None:
            dt = C.parse_dto(v[k])
            if dt is None:
                raise C.body_error("Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset' "
                                   "(fileSystemInfo.%s)." % (str(v[k])[:60], k))
            out[k] = C.fmt_dto(dt)
    return out


def create_child(ctx, parent=None):
    """POST /v1.0/me/drive/items/{id}/children (also root, root:/path:) -- driveitem-post-children.
    {"name", "folder": {}, "@microsoft.graph.conflictBehavior"?, "fileSystemInfo"?}; default
    conflict behaviour fail (409 nameAlreadyExists)."""
    ctx.params({CONFLICT})
    body = C.json_body(ctx)
    parent = parent or item_of(ctx, ctx.match.get("iid"))
    if not parent["_folder"]:
        raise invalid("Items can be created only in folders.")
    for k in body:
        if k not in ("name", "folder", CONFLICT, "fileSystemInfo", "description", "@odata.type"):
            if k in ("file", "content", "@microsoft.graph.sourceUrl"):
                raise C.not_modelled("Creating a file with POST children ('%s')" % k)
            raise C.body_unknown(k, "driveItem")
    if not isinstance(body.get("folder"), dict):
        raise invalid("POST children creates folders: the body needs \"folder\": {}.")
    name = check_name(body.get("name"))
    fsi = check_fsi(body["fileSystemInfo"]) if body.get("fileSystemInfo") is not None else None
    d = ensure(ctx.u)
    name, _ = resolve_conflict(ctx, d, parent, name, conflict_param(ctx, body.get(CONFLICT)), True)
    it = new_item(ctx, parent, name, True, fsi=fsi)
    touch_parent(ctx, d, parent)
    return answer_item(ctx, it, status=201)


def touch_parent(ctx, d, parent):
    parent["lastModifiedDateTime"] = S.now_iso()


def update_item(ctx, it=None):
    """PATCH /v1.0/me/drive/items/{id} (or root:/path) -- driveitem-update: name, parentReference
    ({id} or {path}) to move, fileSystemInfo."""
    ctx.params({CONFLICT})
    body = C.json_body(ctx)
    d = ensure(ctx.u)
    it = it or item_of(ctx, ctx.match.get("iid"))
    if it.get("_parent") is None:
        raise C.GraphError(403, "accessDenied", "The root folder cannot be changed.")
    check_if_match(ctx, it)
    for k in body:
        if k not in ("name", "parentReference", "fileSystemInfo", "description", CONFLICT, "@odata.type",
                     "id", "eTag", "cTag", "size", "file", "folder", "createdDateTime", "lastModifiedDateTime"):
            raise C.body_unknown(k, "driveItem")
    parent = d["items"][it["_parent"]]
    if body.get("parentReference") is not None:
        ref = C.check_members(body["parentReference"], {"id", "path", "driveId", "driveType"}, "itemReference",
                              "parentReference")
        if ref.get("id"):
            parent = item_of(ctx, ref["id"])
        elif ref.get("path"):
            m = re.fullmatch(r"/drive/root:(.*)", ref["path"])
            if not m:
                raise invalid("parentReference.path must look like /drive/root:/folder.")
            parent = walk(ctx, item_of(ctx), m.group(1))
        if not parent["_folder"]:
            raise invalid("The new parent is not a folder.")
        x = parent
        while x is not None:
            if x["id"] == it["id"]:
                raise invalid("An item cannot be moved into itself or its descendants.")
            x = d["items"].get(x["_parent"]) if x.get("_parent") else None
    name = check_name(body["name"]) if "name" in body else it["name"]
    if parent["id"] != it["_parent"] or name.lower() != it["name"].lower():
        clash = child_named(d, parent["id"], name)
        if clash is not None and clash["id"] != it["id"]:
            behavior = conflict_param(ctx, body.get(CONFLICT))
            if behavior == "replace":
                remove(ctx, d, clash)
            else:
                name, _ = resolve_conflict(ctx, d, parent, name, behavior, it["_folder"])
    if body.get("fileSystemInfo") is not None:
        it["fileSystemInfo"].update({k: v for k, v in check_fsi(body["fileSystemInfo"]).items()
                                     if k != "lastAccessedDateTime"})
    it["name"] = name
    it["_parent"] = parent["id"]
    touch(ctx, it)
    return answer_item(ctx, it)


def delete_item(ctx, it=None):
    """DELETE /v1.0/me/drive/items/{id} (or root:/path) -- driveitem-delete"""
    ctx.params(set())
    it = it or item_of(ctx, ctx.match.get("iid"))
    if it.get("_parent") is None:
        raise C.GraphError(403, "accessDenied", "The root folder cannot be deleted.")
    check_if_match(ctx, it)
    remove(ctx, ensure(ctx.u), it)
    return 204, None


def get_content(ctx, it=None):
    """GET /v1.0/me/drive/items/{id}/content (or root:/path:/content) -- driveitem-get-content:
    302 Found to the pre-authenticated download URL (no Authorization needed there)."""
    ctx.params(set())
    it = it or item_of(ctx, ctx.match.get("iid"))
    if it["_folder"]:
        raise invalid("Only driveItems with the file property can be downloaded.")
    if ctx.headers.get("Range"):
        # "You must append the Range header to the actual @microsoft.graph.downloadUrl URL and not to
        # the request for /content."  Recorded; the redirect is answered anyway.
        ctx.fake.violation(ctx.method, ctx.path, "Range header sent to /content; send it to the download URL")
    inm = (ctx.headers.get("If-None-Match") or "").strip()
    if inm and inm in (etag(it), ctag(it)):
        return 304, None
    ctx.response_headers["Location"] = download_url(ctx, it)
    return 302, None


def put_content(ctx, parent=None, name=None, target=None):
    """PUT /v1.0/me/drive/items/{parent-id}:/{filename}:/content, /me/drive/root:/{path}:/content,
    /me/drive/items/{id}/content -- driveitem-put-content (simple upload, up to --simple-upload-max,
    4 MB by default).  Default conflict behaviour replace ("The default for PUT is replace")."""
    ctx.params({CONFLICT})
    data = ctx.raw or b""
    if len(data) > SIMPLE_MAX:
        raise invalid("Simple upload is limited to %d bytes; use an upload session (createUploadSession)."
                      % SIMPLE_MAX, "maxFileSizeExceeded", status=413)
    d = ensure(ctx.u)
    if target is None and parent is None:
        target = item_of(ctx, ctx.match.get("iid"))
    if target is not None:
        if target["_folder"]:
            raise invalid("A folder has no content to replace.")
        check_if_match(ctx, target)
        check_quota(d, len(data) - target["size"])
        set_content(ctx, d, target, data)
        touch(ctx, target, content=True)
        return answer_item(ctx, target)
    existing = child_named(d, parent["id"], name)
    behavior = conflict_param(ctx, default="replace")
    if existing is not None and existing["_folder"] and behavior == "replace":
        raise name_exists()  # a file does not silently replace a folder tree here
    name, existing = resolve_conflict(ctx, d, parent, name, behavior, False)
    if existing is not None:
        check_if_match(ctx, existing)
        check_quota(d, len(data) - existing["size"])
        set_content(ctx, d, existing, data)
        touch(ctx, existing, content=True)
        return answer_item(ctx, existing)
    check_quota(d, len(data))
    it = new_item(ctx, parent, name, False, data)
    touch_parent(ctx, d, parent)
    return answer_item(ctx, it, status=201)


# ---- upload sessions ----------------------------------------------------------------------------------

def create_session(ctx, parent=None, name=None, target=None):
    """POST /v1.0/me/drive/items/{parent-id}:/{filename}:/createUploadSession (also root:/path:/...),
    POST /v1.0/me/drive/items/{id}/createUploadSession -- driveitem-createuploadsession.
    Body (optional): {"item": {"@microsoft.graph.conflictBehavior": fail (default)|replace|rename,
    "name", "fileSystemInfo", "fileSize", "description"}, "deferCommit"}."""
    ctx.params({CONFLICT})
    body = C.json_body(ctx, allow_empty=True) or {}
    d = ensure(ctx.u)
    if target is None and parent is None:
        target = item_of(ctx, ctx.match.get("iid"))
        if target["_folder"]:
            raise invalid("createUploadSession on an existing item needs a file; for a new file use "
                          "/items/{parent-id}:/{filename}:/createUploadSession.")
        check_if_match(ctx, target)
    for k in body:
        if k not in ("item", "deferCommit", "@odata.type"):
            raise C.body_unknown(k, "uploadSession request")
    item = C.check_members(body.get("item") or {}, {CONFLICT, "@odata.type", "name", "description", "fileSize",
                                                    "fileSystemInfo", "driveItemSource", "mediaSource"},
                           "driveItemUploadableProperties", "item")
    defer = body.get("deferCommit", False)
    if not isinstance(defer, bool):
        raise C.type_error("deferCommit", "Edm.Boolean", defer)
    want = target["name"] if target is not None else name
    if item.get("name") is not None and item["name"] != want:
        # "The {item-path} must contain the name of the item that's specified in the request body."
        raise invalid("item.name '%s' differs from the name in the path '%s'." % (str(item["name"])[:80], want))
    size = item.get("fileSize")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise C.type_error("fileSize", "Edm.Int64", size)
    fsi = check_fsi(item["fileSystemInfo"]) if item.get("fileSystemInfo") is not None else None
    behavior = conflict_param(ctx, item.get(CONFLICT), default="fail")
    if size is not None:
        # "If the fileSize parameter is specified and exceeds the available quota, a 507 Insufficent
        # Storage response is returned and the upload session won't be created."
        check_quota(d, size - (target["size"] if target is not None else 0))
    if target is None and behavior == "fail" and child_named(d, parent["id"], name) is not None:
        raise name_exists()
    tok = secrets.token_urlsafe(24)
    s = {"user": ctx.user, "parent": parent["id"] if parent is not None else None, "name": want,
         "target": target["id"] if target is not None else None, "behavior": behavior, "fsi": fsi,
         "fileSize": size, "defer": defer, "total": size, "buf": bytearray(), "exp": time.time() + SESSION_LIFETIME,
         "gen": GEN["upload"]}
    SESSIONS[tok] = s
    return 200, {"@odata.context": ctx.base_url + "/v1.0/$metadata#microsoft.graph.uploadSession",
                 "uploadUrl": ctx.base_url + "/_upload/" + tok, "expirationDateTime": iso(s["exp"]),
                 "nextExpectedRanges": ["0-"]}


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def session_status(s):
    recv = len(s["buf"])
    ranges = [] if s["total"] is not None and recv >= s["total"] else ["%d-" % recv]
    return {"expirationDateTime": iso(s["exp"]), "nextExpectedRanges": ranges}


class _UploadCtx:
    """Enough of a request context for committing a session outside an API request."""

    def __init__(self, fake, user, base_url, headers):
        self.fake, self.store, self.user, self.base_url, self.headers = fake, fake.store, user, base_url, headers
        self.u = fake.store.user(user)
        self.response_headers = {}
        self.query = {}


CR = re.compile(r"^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$")


def commit(ctx, s):
    d = ensure(ctx.u)
    data = bytes(s["buf"])
    if s["target"] is not None:
        it = live(d, s["target"])
        if it is None:
            raise item_not_found()
        check_quota(d, len(data) - it["size"])
        set_content(ctx, d, it, data)
        if s["fsi"]:
            it["fileSystemInfo"].update({k: v for k, v in s["fsi"].items() if k != "lastAccessedDateTime"})
        touch(ctx, it, content=True)
        return 200, it
    parent = live(d, s["parent"])
    if parent is None:
        raise item_not_found()
    existing = child_named(d, parent["id"], s["name"])
    if existing is not None and s["behavior"] == "fail":
        # driveitem-createuploadsession, "Handling upload conflicts"
        raise C.GraphError(409, "nameAlreadyExists", "Another file exists with the same name as the uploaded "
                           "session. You can redirect the upload session to use a new filename by calling PUT "
                           "with the new metadata and @microsoft.graph.sourceUrl attribute.")
    if existing is not None and existing["_folder"] and s["behavior"] == "replace":
        raise name_exists()
    name, existing = resolve_conflict(ctx, d, parent, s["name"], s["behavior"], False)
    if existing is not None:
        check_quota(d, len(data) - existing["size"])
        set_content(ctx, d, existing, data)
        if s["fsi"]:
            existing["fileSystemInfo"].update({k: v for k, v in s["fsi"].items() if k != "lastAccessedDateTime"})
        touch(ctx, existing, content=True)
        return 200, existing
    check_quota(d, len(data))
    it = new_item(ctx, parent, name, False, data, fsi=s["fsi"])
    touch_parent(ctx, d, parent)
    return 201, it


def upload_endpoint(fake, method, token, headers, raw, base_url):
    """The uploadUrl of a session (driveitem-createuploadsession): PUT a fragment with Content-Range,
    GET the status (nextExpectedRanges) to resume, DELETE to cancel, POST (empty) to commit a
    deferCommit session.  Answers (status, headers, JSON body or None); raises C.GraphError."""
    if headers.get("Authorization"):
        # "If you include the Authorization header when issuing the PUT call, it may result in an
        # HTTP 401 Unauthorized response. ... Don't include it when you issue the PUT call."
        raise C.GraphError(401, "unauthenticated", "Do not send an Authorization header to an upload URL.",
                           violation=True)
    s = SESSIONS.get(token)
    if s is not None and (s["exp"] < time.time() or s["gen"] != GEN["upload"]):
        SESSIONS.pop(token, None)
        s = None
    if s is None:
        # Best practices: "Handle 404 Not Found errors when doing resumable uploads by starting the entire
        # upload over. This indicates the upload session no longer exists."
        raise item_not_found("uploadSessionNotFound")
    ctx = _UploadCtx(fake, s["user"], base_url, headers)
    if method == "GET":
        return 200, {}, session_status(s)
    if method == "DELETE":
        SESSIONS.pop(token, None)
        return 204, {}, None
    if method == "POST":
        if raw:
            raise invalid("The commit request of an upload session has no body.")
        if not s["defer"] or s["total"] is None or len(s["buf"]) < s["total"]:
            raise invalid("Only a deferCommit session with all bytes received can be committed with POST.",
                          "uploadSessionIncomplete")
        return finish(ctx, token, s)
    if method != "PUT":
        raise C.GraphError(405, "invalidRequest", "Upload URLs accept PUT, GET, DELETE and POST.", violation=True)
    m = CR.match((headers.get("Content-Range") or "").strip())
    if not m:
        raise invalid("Content-Range must be 'bytes {start}-{end}/{total}'.", "invalidRange")
    a, b, total = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if a > b or b >= total:
        raise C.GraphError(416, "invalidRange", "The range %d-%d does not fit a file of %d bytes." % (a, b, total),
                           violation=True)
    n = len(raw)
    if n != b - a + 1:
        raise invalid("Content-Range says %d bytes but %d were sent." % (b - a + 1, n))
    if n >= FRAGMENT_LIMIT:
        raise invalid("A fragment must be smaller than 60 MiB.", "maxFragmentLengthExceeded", status=413)
    if s["total"] is None:
        s["total"] = total
    elif total != s["total"]:
        # "If a byte range declares a different file size, the request will fail."
        raise invalid("Declared total size %d differs from the upload session's %d." % (total, s["total"]),
                      "fragmentLengthMismatch")
    recv = len(s["buf"])
    if a < recv:
        # "On failures when the client sent a fragment the server had already received, the server responds
        # with HTTP 416 Requested Range Not Satisfiable."  Normal after an interruption: not a violation.
        raise C.GraphError(416, "invalidRange", "The uploaded fragment overlaps with data already received.",
                           inner_code="fragmentOverlap")
    if a > recv:
        # "Uploading fragments out of order results in an error."
        raise C.GraphError(416, "invalidRange", "Uploaded fragment is out of order; the next expected byte is %d."
                           % recv, violation=True, inner_code="fragmentOutOfOrder")
    last = b == total - 1
    if not last and n % FRAGMENT_UNIT:
        raise invalid("Each fragment but the last must be a multiple of 320 KiB (327,680 bytes); this one is %d "
                      "bytes." % n)
    s["buf"] += raw
    s["exp"] = time.time() + SESSION_LIFETIME  # "Each fragment uploaded during the session extends the expiration"
    if not last:
        return 202, {}, session_status(s)
    if s["defer"]:
        return 202, {}, session_status(s)
    return finish(ctx, token, s)


def finish(ctx, token, s):
    status, it = commit(ctx, s)  # on 409/507 the session stays (until it expires) so the client can recover
    SESSIONS.pop(token, None)
    return status, {}, with_context(ctx, render(ctx, it), "users('%s')/drive/items/$entity" % ctx.user)


def download_endpoint(fake, method, token, headers, base_url):
    """The pre-authenticated download URL (driveitem-get-content).  Range: bytes=a-b | a- | -n gives
    206 with Content-Range; an unsatisfiable range 416; anything else is ignored (200, whole file,
    as the page allows: "the Range header may be ignored")."""
    if method != "GET":
        raise C.GraphError(405, "invalidRequest", "Download URLs accept GET.", violation=True)
    body, _, mac = token.partition(".")
    good = hmac.compare_digest(hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()[:32], mac)
    t = C.b64d(body) if good else None
    if not t or t.get("g") != GEN["download"] or t.get("x", 0) < time.time():
        raise C.GraphError(401, "unauthenticated", "The download URL is not valid or has expired; get a new "
                           "one from the item.")
    u = fake.store.users.get(t.get("u"))
    d = u.get("drive") if u else None
    it = live(d, t.get("i")) if d else None
    if it is None or it["_folder"]:
        raise item_not_found()
    data = base64.b64decode(d["blobs"].get(it["id"], ""))
    h = {"Accept-Ranges": "bytes", "ETag": etag(it)}
    rng = (headers.get("Range") or "").strip()
    m = re.fullmatch(r"bytes=(\d{0,15})-(\d{0,15})", rng)
    if m and (m.group(1) or m.group(2)):
        n = len(data)
        if m.group(1):
            a = int(m.group(1))
            b = min(int(m.group(2)), n - 1) if m.group(2) else n - 1
            if m.group(2) and int(m.group(2)) < a:
                return 200, h, ("raw", it["_mime"], data)  # invalid range: ignored (RFC 9110)
        else:
            a, b = max(0, n - int(m.group(2))), n - 1
            if int(m.group(2)) == 0:
                a = n
        if a >= n:
            h["Content-Range"] = "bytes */%d" % n
            raise C.GraphError(416, "invalidRange", "The requested range is not satisfiable.", headers=h)
        h["Content-Range"] = "bytes %d-%d/%d" % (a, b, n)
        return 206, h, ("raw", it["_mime"], data[a:b + 1])
    return 200, h, ("raw", it["_mime"], data)


# ---- delta ----------------------------------------------------------------------------------------------

DELTA_PATH = "/v1.0/me/drive/root/delta"


def delta(ctx):
    """GET /v1.0/me/drive/root/delta -- https://learn.microsoft.com/graph/api/driveitem-delta.
    token: absent (full enumeration), latest, or the token of a nextLink/deltaLink (also in the
    function form delta(token='...')); $select and $top on the first request (carried by the
    tokens).  Deleted items come with the deleted facet; the parents of changed items are
    included; an expired token -> 410 resyncRequired with a Location to start over."""
    p = ctx.params({"token", "$select", "$top", "$expand"})
    if p.has("$expand"):
        raise C.not_modelled("$expand on drive delta")
    u = ctx.u
    d = ensure(u)
    tok = ctx.match.get("tok")
    if tok is not None:
        if p.has("token"):
            raise invalid("token given twice.")
        tok = urllib.parse.unquote(tok).strip("'\"")
    else:
        tok = p.str("token")
    if tok == "latest":
        link = C.b64e({"c": "drive", "k": "d", "since": u["seq"], "e": u["epoch"],
                       "sel": sorted(item_select(p)) if p.has("$select") else None,
                       "top": p.int("$top", None, 1, TOP_MAX)})
        return {"@odata.context": ctx.base_url + "/v1.0/$metadata#Collection(driveItem)", "value": [],
                "@odata.deltaLink": ctx.base_url + DELTA_PATH + "?token=" + link}
    if tok:
        if re.match(r"^\d{4}-\d{2}-\d{2}T", tok):
            raise C.not_modelled("A timestamp as delta token")
        if p.has("$select") or p.has("$top"):
            raise invalid("Give $select and $top on the first delta request only; the links carry them.")
        t = C.b64d(tok)
        if not t or t.get("c") != "drive" or t.get("k") not in ("s", "d") or not isinstance(t.get("since"), int):
            raise invalid("The delta token is not valid.", "invalidParameterFormat")
        if t.get("e") != u["epoch"] or t["since"] > u["seq"]:
            q = {}
            if t.get("sel"):
                q["$select"] = ",".join(t["sel"])
            if t.get("top"):
                q["$top"] = str(t["top"])
            loc = ctx.base_url + DELTA_PATH + ("?" + urllib.parse.urlencode(q, safe="$,") if q else "")
            # driveitem-delta: "410 Gone ... and a Location header containing a new nextLink that starts a
            # fresh delta enumeration from scratch."
            raise C.GraphError(410, "resyncRequired", "The delta token is no longer valid, and the app must "
                               "reset the sync state.", headers={"Location": loc},
                               inner_code="resyncChangesApplyDifferences")
        sel = set(t["sel"]) if t.get("sel") else None
        top = t.get("top")
        since = t["since"]
        snap, after = (t.get("snap"), t.get("after")) if t["k"] == "s" else (u["seq"], None)
    else:
        sel = item_select(p)
        top = p.int("$top", None, 1, TOP_MAX)
        since, snap, after = -1, u["seq"], None
    size = top or DELTA_PAGE
    initial = since < 0
    rows = {}
    for it in d["items"].values():
        if since < it["_seq"] <= snap and not (initial and it.get("_deleted")):
            rows[it["id"]] = it
    if not initial:  # parents of changed items come too (unless deltaExcludeParent; not modelled)
        for it in list(rows.values()):
            x = d["items"].get(it.get("_parent")) if it.get("_parent") else None
            while x is not None and not x.get("_deleted"):
                rows.setdefault(x["id"], x)
                x = d["items"].get(x["_parent"]) if x.get("_parent") else None

    def key(it):
        dep = it["_depth"] if it.get("_deleted") else depth_of(d, it)
        return [dep, min(it["_seq"], snap + 1), it["id"]]  # parents before children

    ordered = sorted(rows.values(), key=key)
    if after is not None:
        ordered = [x for x in ordered if key(x) > after]
    page = ordered[:size]
    out = {"@odata.context": ctx.base_url + "/v1.0/$metadata#Collection(driveItem)",
           "value": [render_deleted(d, x) if x.get("_deleted") else render(ctx, x, sel, in_delta=True)
                     for x in page]}
    base = {"c": "drive", "e": u["epoch"], "sel": sorted(sel) if sel else None, "top": top}
    if len(ordered) > size:
        out["@odata.nextLink"] = ctx.base_url + DELTA_PATH + "?token=" + C.b64e(
            dict(base, k="s", since=since, snap=snap, after=key(page[-1])))
    else:
        out["@odata.deltaLink"] = ctx.base_url + DELTA_PATH + "?token=" + C.b64e(dict(base, k="d", since=snap))
    return out


# ---- path-addressed requests (/me/drive/root:/a/b.txt:/content ...) ----------------------------------

def colon_get(ctx):
    """GET /me/drive/root:/{path}[:/children|:/content], /me/drive/items/{id}:/{path}[...] --
    https://learn.microsoft.com/graph/onedrive-addressing-driveitems"""
    base, path, rest = split_rel(ctx)
    it = walk(ctx, base, path)
    if rest == "":
        return get_item(ctx, it)
    if rest == "/children":
        return list_children(ctx, it)
    if rest == "/content":
        return get_content(ctx, it)
    raise C.GraphError(405, "invalidRequest", "GET is not allowed on %s." % rest, violation=True)


def colon_put(ctx):
    """PUT /me/drive/items/{parent-id}:/{filename}:/content, /me/drive/root:/{path}:/content -- driveitem-put-content"""
    base, path, rest = split_rel(ctx)
    if rest != "/content":
        raise C.GraphError(405, "invalidRequest", "PUT is allowed only on :/content.", violation=True)
    parent, name = parent_and_name(ctx, base, path)
    return put_content(ctx, parent, name)


def colon_post(ctx):
    """POST .../{path}:/children (driveitem-post-children), .../{path}:/createUploadSession
    (driveitem-createuploadsession)"""
    base, path, rest = split_rel(ctx)
    if rest == "/children":
        return create_child(ctx, walk(ctx, base, path))
    if rest == "/createUploadSession":
        parent, name = parent_and_name(ctx, base, path)
        return create_session(ctx, parent, name)
    raise C.GraphError(405, "invalidRequest", "POST is allowed only on :/children and :/createUploadSession.",
                       violation=True)


def colon_patch(ctx):
    base, path, rest = split_rel(ctx)
    if rest:
        raise C.GraphError(405, "invalidRequest", "PATCH is allowed only on the item itself.", violation=True)
    return update_item(ctx, walk(ctx, base, path))


def colon_delete(ctx):
    base, path, rest = split_rel(ctx)
    if rest:
        raise C.GraphError(405, "invalidRequest", "DELETE is allowed only on the item itself.", violation=True)
    return delete_item(ctx, walk(ctx, base, path))


# ---- seeding (POST /_fake/seed) ------------------------------------------------------------------------

class _SeedCtx:
    def __init__(self, store, u, user):
        self.store, self.u, self.user = store, u, user


def seed(store, u, data):
    """{"driveItems": [{"path": "/a/b.txt", "content": "text" | "contentBase64": "...",
    "fileSystemInfo"?}, {"path": "/folder", "folder": true}]}; missing parent folders are created.
    Answers {"driveItems": [ids], "driveRootId"}."""
    if not data.get("driveItems"):
        if "drive" in u:
            return {"driveRootId": u["drive"]["root"]}
        return {}
    user = next((n for n, x in store.users.items() if x is u), "user")
    d = ensure(u)
    ctx = _SeedCtx(store, u, user)
    ids = []
    for spec in data["driveItems"]:
        segs = [check_name(s) for s in str(spec["path"]).split("/") if s]
        if not segs:
            raise ValueError("driveItems need a path")
        it = d["items"][d["root"]]
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            nxt = child_named(d, it["id"], seg)
            if nxt is None:
                folder = not last or bool(spec.get("folder"))
                content = b""
                if last and not folder:
                    content = base64.b64decode(spec["contentBase64"]) if "contentBase64" in spec else \
                        str(spec.get("content", "")).encode()
                fsi = check_fsi(spec["fileSystemInfo"]) if last and spec.get("fileSystemInfo") else None
                nxt = new_item(ctx, it, seg, folder, content, fsi=fsi)
            it = nxt
        ids.append(it["id"])
    return {"driveItems": ids, "driveRootId": d["root"]}


# ---- routes -------------------------------------------------------------------------------------------

def _custom(method, template, pattern, handler, scopes, name):
    return {"method": method, "template": template, "re": re.compile(pattern), "handler": handler,
            "scopes": list(scopes), "name": name, "body": False, "raw_body": True}


COLON = r"^/v1\.0/me/drive/(?:root|items/(?P<iid>[^/:]+)):(?P<rel>/.*)$"
COLON_T = "/v1.0/me/drive/{item}:/{path}"
B = "/v1.0/me/drive"
ROUTES = [
    _custom("GET", COLON_T, COLON, colon_get, READ, "drive.path.get"),
    _custom("PUT", COLON_T, COLON, colon_put, WRITE, "drive.path.put"),
    _custom("POST", COLON_T, COLON, colon_post, WRITE, "drive.path.post"),
    _custom("PATCH", COLON_T, COLON, colon_patch, WRITE, "drive.path.patch"),
    _custom("DELETE", COLON_T, COLON, colon_delete, WRITE, "drive.path.delete"),
    _custom("GET", B + "/root/delta(token={token})", r"^/v1\.0/me/drive/root/delta\(token=(?P<tok>[^)/]*)\)$",
            delta, READ, "drive.delta"),
    C.route("GET", B, get_drive, READ, "drive.get"),
    C.route("GET", B + "/root", get_item, READ, "drive.items.get"),
    C.route("GET", B + "/root/delta", delta, READ, "drive.delta"),
    C.route("GET", B + "/root/children", list_children, READ, "drive.children.list"),
    C.route("POST", B + "/root/children", create_child, WRITE, "drive.children.create", raw_body=True),
    C.route("GET", B + "/items/{iid}", get_item, READ, "drive.items.get"),
    C.route("PATCH", B + "/items/{iid}", update_item, WRITE, "drive.items.update", raw_body=True),
    C.route("DELETE", B + "/items/{iid}", delete_item, WRITE, "drive.items.delete"),
    C.route("GET", B + "/items/{iid}/children", list_children, READ, "drive.children.list"),
    C.route("POST", B + "/items/{iid}/children", create_child, WRITE, "drive.children.create", raw_body=True),
    C.route("GET", B + "/items/{iid}/content", get_content, READ, "drive.content.get"),
    C.route("PUT", B + "/items/{iid}/content", put_content, WRITE, "drive.content.put", raw_body=True),
    C.route("POST", B + "/items/{iid}/createUploadSession", create_session, WRITE,
            "drive.uploadSession.create", raw_body=True),
]
