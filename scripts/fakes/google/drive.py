"""Drive API v3 (files, uploads, export, changes, about).

Reference: https://developers.google.com/drive/api/reference/rest/v3
Uploads: https://developers.google.com/drive/api/guides/manage-uploads
Search: https://developers.google.com/drive/api/guides/search-files
Changes: https://developers.google.com/drive/api/guides/manage-changes
Errors: https://developers.google.com/drive/api/guides/handle-errors
Limits: https://developers.google.com/drive/api/guides/limits
Export formats: https://developers.google.com/drive/api/guides/ref-export-formats
Custom properties: https://developers.google.com/drive/api/guides/properties
Partial responses: https://developers.google.com/drive/api/guides/fields-parameter
"""
import base64
import hashlib
import html
import io
import re
import zipfile

import gfake_common as C
import gfake_store as S

API = "drive"
A = "https://www.googleapis.com/auth/"
DRIVE, FILE, RO = A + "drive", A + "drive.file", A + "drive.readonly"
META_RO, META, APPDATA = A + "drive.metadata.readonly", A + "drive.metadata", A + "drive.appdata"
READ_META = (DRIVE, FILE, RO, META_RO, META)   # files.get/list, changes.*
READ_CONTENT = (DRIVE, FILE, RO)               # alt=media, files.export
WRITE = (DRIVE, FILE)                          # files.create/update/delete
SEE_ALL = (DRIVE, RO, META_RO, META)           # scopes that see files the app did not create
WRITE_ALL = (DRIVE,)
ABOUT = READ_META + (APPDATA,)

FOLDER = "application/vnd.google-apps.folder"
GAPPS = "application/vnd.google-apps."
DOC, SHEET, SLIDES, DRAWING = GAPPS + "document", GAPPS + "spreadsheet", GAPPS + "presentation", GAPPS + "drawing"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT, ODS, ODP = ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
                 "application/vnd.oasis.opendocument.presentation")
# Export MIME types for Google Workspace documents (guides/ref-export-formats).
EXPORTS = {
    DOC: ["text/plain", "text/html", "application/zip", "application/rtf", ODT, "application/pdf", DOCX,
          "application/epub+zip", "text/markdown"],
    SHEET: [XLSX, "application/x-vnd.oasis.opendocument.spreadsheet", ODS, "application/pdf", "text/csv",
            "text/tab-separated-values", "application/zip"],
    SLIDES: [PPTX, ODP, "application/pdf", "text/plain", "image/jpeg", "image/png", "image/svg+xml"],
    DRAWING: ["application/pdf", "image/jpeg", "image/png", "image/svg+xml"],
}
# Upload conversions the fake performs (source type -> Google type), a subset of about.importFormats.
IMPORTS = {"text/plain": [DOC], "text/html": [DOC], "text/markdown": [DOC], "application/rtf": [DOC],
           DOCX: [DOC], ODT: [DOC], "text/csv": [SHEET], "text/tab-separated-values": [SHEET], XLSX: [SHEET],
           ODS: [SHEET], PPTX: [SLIDES], ODP: [SLIDES]}

# Set by server.py: --drive-storage-limit, --drive-export-limit.
STORAGE_LIMIT = 15 * 1024 ** 3           # a free account's 15 GB
EXPORT_LIMIT = 10 * 1024 * 1024          # files.export: "the exported content is limited to 10MB"
MAX_PROPS, MAX_TOTAL_PROPS, MAX_PROP_BYTES = 30, 100, 124  # guides/properties

FILE_FIELDS = [
    "kind", "driveId", "fileExtension", "copyRequiresWriterPermission", "md5Checksum", "contentHints",
    "writersCanShare", "viewedByMe", "mimeType", "exportLinks", "parents", "thumbnailLink", "iconLink", "shared",
    "lastModifyingUser", "owners", "headRevisionId", "sharingUser", "webViewLink", "webContentLink", "size",
    "viewersCanCopyContent", "permissions", "hasThumbnail", "spaces", "folderColorRgb", "id", "name",
    "description", "starred", "trashed", "explicitlyTrashed", "createdTime", "modifiedTime", "modifiedByMeTime",
    "viewedByMeTime", "sharedWithMeTime", "quotaBytesUsed", "version", "originalFilename", "ownedByMe",
    "fullFileExtension", "properties", "appProperties", "isAppAuthorized", "teamDriveId", "capabilities",
    "hasAugmentedPermissions", "trashingUser", "thumbnailVersion", "trashedTime", "modifiedByMe",
    "permissionIds", "imageMediaMetadata", "videoMediaMetadata", "shortcutDetails", "contentRestrictions",
    "resourceKey", "linkShareMetadata", "labelInfo", "sha1Checksum", "sha256Checksum",
    "inheritedPermissionsDisabled", "downloadRestrictions"]
FILE_SCHEMA = {k: None for k in FILE_FIELDS}
LIST_SCHEMA = {"kind": None, "nextPageToken": None, "incompleteSearch": None, "files": FILE_SCHEMA}
CHANGE_SCHEMA = {"kind": None, "changeType": None, "time": None, "removed": None, "fileId": None,
                 "file": FILE_SCHEMA, "driveId": None, "drive": None, "type": None, "teamDriveId": None,
                 "teamDrive": None}
CHANGES_SCHEMA = {"kind": None, "nextPageToken": None, "newStartPageToken": None, "changes": CHANGE_SCHEMA}
ABOUT_SCHEMA = {k: None for k in ("kind", "user", "storageQuota", "importFormats", "exportFormats",
                                  "maxImportSizes", "maxUploadSize", "appInstalled", "folderColorPalette",
                                  "canCreateDrives", "canCreateTeamDrives", "driveThemes", "teamDriveThemes")}
DEFAULT_FILE_FIELDS = "kind,id,name,mimeType"
WRITABLE_CREATE = {"name", "mimeType", "parents", "description", "starred", "properties", "appProperties",
                   "createdTime", "modifiedTime", "folderColorRgb", "originalFilename", "contentHints",
                   "copyRequiresWriterPermission", "writersCanShare", "viewedByMeTime", "trashed", "id",
                   "shortcutDetails", "contentRestrictions", "kind", "inheritedPermissionsDisabled",
                   "downloadRestrictions"}
WRITABLE_UPDATE = WRITABLE_CREATE - {"parents", "createdTime", "id", "shortcutDetails"}
COMMON_PARAMS = ["supportsAllDrives", "supportsTeamDrives", "includePermissionsForView", "includeLabels"]
UPLOAD_PARAMS = ["keepRevisionForever", "ocrLanguage", "useContentAsIndexableText", "ignoreDefaultVisibility",
                 "enforceSingleParent"]
ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"


def bad(msg, reason="badRequest", location=None):
    return C.ApiError(400, msg, reason=reason, violation=True, location=location,
                      location_type="parameter" if location else None)


def file_not_found(fid):
    return C.ApiError(404, "File not found: %s." % fid, reason="notFound", location="fileId")


def drive(u):
    """The user's Drive, created on first use with its root folder ("My Drive")."""
    d = u.get("drive")
    if d is None:
        root = "0A" + S.new_id(17, ID_ALPHABET[:62]) + "Uk9PVA"
        d = {"files": {}, "changes": [], "cseq": 0, "root": root, "ord": 0}
        d["files"][root] = {"id": root, "name": "My Drive", "mimeType": FOLDER, "parents": [],
                            "createdTime": S.now_rfc3339(), "modifiedTime": S.now_rfc3339(), "trashed": False,
                            "explicitlyTrashed": False, "starred": False, "version": 1, "_root": True,
                            "_app": False, "_ord": 0}
        u["drive"] = d
    return d


def email_of(ctx):
    return "%s@example.com" % ctx.user


# ---- visibility (drive.file) ------------------------------------------------------------
def sees_all(ctx):
    return any(s in ctx.scopes for s in SEE_ALL)


def visible(ctx, f):
    """drive.file: "Create new Drive files, or modify existing files, that you open with an app":
    the fake remembers which files were made through the API (seeded files are not)."""
    return f.get("_root") or f.get("_app") or sees_all(ctx)


def get_file(ctx, fid, write=False):
    d = drive(ctx.u)
    if fid == "root":
        fid = d["root"]
    f = d["files"].get(fid)
    if f is None or not visible(ctx, f):
        raise file_not_found(fid)
    if write and not (DRIVE in ctx.scopes or (FILE in ctx.scopes and f.get("_app"))):
        if f.get("_root") and FILE in ctx.scopes:
            return f
        raise C.ApiError(403, "The user has not granted the app write access to the file %s." % fid,
                         reason="appNotAuthorizedToFile", location="fileId")
    return f


def need_content_scope(ctx, method):
    if not any(s in ctx.scopes for s in READ_CONTENT):
        raise C.scope_error(API, method)


# ---- rendering ------------------------------------------------------------------------------
def is_gapps(f):
    return f["mimeType"].startswith(GAPPS)


def content(f):
    return base64.b64decode(f.get("_content") or "")


def render(ctx, f):
    me = {"kind": "drive#user", "displayName": ctx.user, "emailAddress": email_of(ctx), "me": True,
          "permissionId": "%020d" % (int(hashlib.sha1(ctx.user.encode()).hexdigest()[:15], 16))}
    out = {"kind": "drive#file", "id": f["id"], "name": f["name"], "mimeType": f["mimeType"],
           "starred": f.get("starred", False), "trashed": f.get("trashed", False),
           "explicitlyTrashed": f.get("explicitlyTrashed", False), "spaces": ["drive"],
           "version": str(f.get("version", 1)), "createdTime": f["createdTime"], "modifiedTime": f["modifiedTime"],
           "modifiedByMe": True, "modifiedByMeTime": f["modifiedTime"], "viewedByMe": True, "ownedByMe": True,
           "owners": [me], "lastModifyingUser": me, "shared": False, "isAppAuthorized": bool(f.get("_app")),
           "webViewLink": "https://drive.google.com/file/d/%s/view" % f["id"],
           "iconLink": "https://drive-thirdparty.googleusercontent.com/16/type/%s" % f["mimeType"],
           "hasThumbnail": False, "writersCanShare": True, "copyRequiresWriterPermission": False,
           "viewersCanCopyContent": True, "capabilities": {
               "canDownload": not is_gapps(f), "canEdit": True, "canTrash": not f.get("_root"),
               "canDelete": not f.get("_root"), "canAddChildren": f["mimeType"] == FOLDER,
               "canRename": not f.get("_root")}}
    if f.get("parents"):
        out["parents"] = list(f["parents"])
    for k in ("description", "originalFilename", "folderColorRgb", "contentHints", "viewedByMeTime"):
        if f.get(k) is not None:
            out[k] = f[k]
    if f.get("trashedTime"):
        out["trashedTime"] = f["trashedTime"]
        out["trashingUser"] = me
    if f.get("properties"):
        out["properties"] = dict(f["properties"])
    if f.get("appProperties"):
        out["appProperties"] = dict(f["appProperties"])
    if "_content" in f and not is_gapps(f) and f["mimeType"] != FOLDER:
        out.update({"size": str(f["_size"]), "quotaBytesUsed": str(f["_size"]), "md5Checksum": f["_md5"],
                    "sha1Checksum": f["_sha1"], "sha256Checksum": f["_sha256"],
                    "headRevisionId": f["_rev"],
                    "webContentLink": "https://drive.google.com/uc?id=%s&export=download" % f["id"]})
        if "." in f["name"]:
            out["fullFileExtension"] = f["name"].split(".", 1)[1]
            out["fileExtension"] = f["name"].rsplit(".", 1)[1]
    else:
        out["quotaBytesUsed"] = "0"
    if f["mimeType"] in EXPORTS:
        out["exportLinks"] = {mt: "https://docs.google.com/feeds/download/export?id=%s&exportFormat=%s"
                              % (f["id"], mt) for mt in EXPORTS[f["mimeType"]]}
    return out


def fields_of(ctx):
    v = ctx.query.get("fields")
    return v[0] if v else None


# ---- changes bookkeeping ------------------------------------------------------------------
def changed(ctx, f, removed=False):
    d = drive(ctx.u)
    d["cseq"] += 1
    d["changes"].append({"s": d["cseq"], "f": f["id"], "r": removed, "t": S.now_rfc3339(),
                         "a": bool(f.get("_app"))})
    if removed:
        d["files"].pop(f["id"], None)
    else:
        f["_seq"] = d["cseq"]


def usage(d):
    total = trash = 0
    for f in d["files"].values():
        n = f.get("_size", 0) if not is_gapps(f) else 0
        total += n
        if f.get("trashed"):
            trash += n
    return total, trash


def check_storage(d, extra):
    if STORAGE_LIMIT and usage(d)[0] + extra > STORAGE_LIMIT:
        raise C.ApiError(403, "The user's Drive storage quota has been exceeded.", reason="storageQuotaExceeded",
                         domain="usageLimits")


def set_content(f, data):
    f["_content"] = base64.b64encode(data).decode()
    f["_size"] = len(data)
    f["_md5"] = hashlib.md5(data).hexdigest()
    f["_sha1"] = hashlib.sha1(data).hexdigest()
    f["_sha256"] = hashlib.sha256(data).hexdigest()
    f["_rev"] = "0B" + hashlib.sha1(data + str(f.get("version", 1)).encode()).hexdigest()[:30]


# ---- metadata checking ------------------------------------------------------------------------
def check_props(f_props, new, where):
    if new is None:
        return None
    C.check_object(new, set(new), where, API)
    out = dict(f_props or {})
    for k, v in new.items():
        if v is None:
            out.pop(k, None)
            continue
        if not isinstance(v, str):
            raise bad("Invalid value at '%s.%s': property values are strings." % (where, k))
        if len((k + v).encode("utf-8")) > MAX_PROP_BYTES:
            raise bad("The property %s exceeds the limit of %d bytes (key and value, UTF-8)." % (k, MAX_PROP_BYTES),
                      location=where)
        out[k] = v
    if len(out) > MAX_PROPS:
        raise bad("A file can have at most %d %s per app." % (MAX_PROPS, where), location=where)
    return out


def check_time(v, where):
    t = C.parse_rfc3339(v)
    if t is None:
        raise bad("Invalid value for %s: %r (RFC 3339 date-time expected)." % (where, v), reason="invalid")
    return C.fmt_time(t)


def check_meta(ctx, body, mode):
    """Refuse unknown members (400) and members that are not writable (403 fieldNotWritable)."""
    body = body or {}
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object.")
    allowed = WRITABLE_CREATE if mode == "create" else WRITABLE_UPDATE
    for k in body:
        if k not in FILE_SCHEMA:
            raise bad("Invalid JSON payload received. Unknown name \"%s\" at 'file': Cannot find field." % k)
        if k not in allowed:
            msg = "The resource body includes fields which are not directly writable."
            if k == "parents" and mode == "update":
                msg = ("The parents field is not directly writable in update requests. Use the addParents and "
                       "removeParents parameters instead.")
            raise C.ApiError(403, msg, reason="fieldNotWritable", violation=True)
    for k in ("name", "mimeType", "description", "originalFilename", "folderColorRgb", "id"):
        if body.get(k) is not None:
            C.want_type(body[k], str, k, API)
    for k in ("starred", "trashed", "copyRequiresWriterPermission", "writersCanShare"):
        if body.get(k) is not None:
            C.want_type(body[k], bool, k, API)
    if body.get("parents") is not None:
        if not isinstance(body["parents"], list) or not all(isinstance(p, str) for p in body["parents"]):
            raise bad("Invalid value at 'file.parents': a list of folder ids.")
        if len(body["parents"]) > 1:
            # Single-parent model: "Requests that specify more than one parent fail."
            raise C.ApiError(403, "Increasing the number of parents is not allowed.", reason="cannotAddParent",
                             violation=True)
    for k in ("createdTime", "modifiedTime", "viewedByMeTime"):
        if body.get(k) is not None:
            body[k] = check_time(body[k], k)
    return body


def apply_props(f, body):
    props = check_props(f.get("properties"), body.get("properties"), "properties")
    app = check_props(f.get("appProperties"), body.get("appProperties"), "appProperties")
    total = len(props if props is not None else f.get("properties") or {}) + \
        len(app if app is not None else f.get("appProperties") or {})
    if total > MAX_TOTAL_PROPS:
        raise bad("A file can have at most %d custom properties in total." % MAX_TOTAL_PROPS)
    if props is not None:
        f["properties"] = props
    if app is not None:
        f["appProperties"] = app


def resolve_parent(ctx, pid):
    """A parent id (or `root`) as stored: must be a visible folder, not in the trash."""
    p = get_file(ctx, pid)
    if p["mimeType"] != FOLDER:
        raise bad("The specified parent %s is not a folder." % pid, location="parents")
    if p.get("trashed"):
        raise bad("The specified parent %s is in the trash." % pid, location="parents")
    return p["id"]


def new_file(ctx, body, data=None, media_type=None, app=True):
    """files.create: a folder, a Google Workspace file or a file with content."""
    d = drive(ctx.u)
    body = check_meta(ctx, body, "create")
    mt = body.get("mimeType") or media_type or "application/octet-stream"
    if data is not None:
        if mt == FOLDER:
            raise bad("A folder has no content; create it without an upload.")
        if mt.startswith(GAPPS):
            src = C.media_type(media_type)[0] or "application/octet-stream"
            if mt not in IMPORTS.get(src, []):
                raise bad("Conversion from %s to %s is not supported." % (src, mt), reason="badRequest")
        else:
            check_storage(d, len(data))
    elif mt.startswith(GAPPS) and mt not in EXPORTS and mt not in (FOLDER, GAPPS + "shortcut"):
        if mt not in (GAPPS + "form", GAPPS + "site", GAPPS + "script", GAPPS + "jam", GAPPS + "map"):
            raise bad("Unknown Google Workspace type %s." % mt)
    parents = body.get("parents") or [d["root"]]
    parents = [resolve_parent(ctx, p) for p in parents]
    now = S.now_rfc3339()
    fid = body.get("id")
    if fid is not None:
        if not re.match(r"^[A-Za-z0-9_-]{10,}$", fid):
            raise bad("Invalid id %r: use ids from files.generateIds." % fid, location="id")
        if fid in d["files"]:
            raise C.ApiError(409, "A file already exists with the provided ID.", reason="duplicate")
    else:
        fid = "1" + S.new_id(32, ID_ALPHABET)
    d["ord"] += 1
    f = {"id": fid, "name": body.get("name") or "Untitled", "mimeType": mt, "parents": parents,
         "createdTime": body.get("createdTime") or now, "modifiedTime": body.get("modifiedTime") or now,
         "trashed": False, "explicitlyTrashed": False, "starred": bool(body.get("starred")), "version": 1,
         "_app": app, "_ord": d["ord"]}
    for k in ("description", "originalFilename", "folderColorRgb", "contentHints", "viewedByMeTime"):
        if body.get(k) is not None:
            f[k] = body[k]
    apply_props(f, body)
    if body.get("trashed"):
        f["trashed"] = f["explicitlyTrashed"] = True
        f["trashedTime"] = now
    if mt.startswith(GAPPS):
        if mt != FOLDER:
            f["_text"] = to_text(data, media_type) if data is not None else ""
    else:
        set_content(f, data if data is not None else b"")
    d["files"][fid] = f
    changed(ctx, f)
    return f


def to_text(data, media_type):
    src = C.media_type(media_type)[0]
    if src.startswith("text/"):
        text = data.decode("utf-8", errors="replace")
        if src == "text/html":
            text = html.unescape(re.sub(r"<[^>]*>", "", text))
        return text
    return "[converted from %s, %d bytes]" % (src, len(data))


# ---- files.list ----------------------------------------------------------------------------------
QTOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>)|(?P<p>[(){}])"
                    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>-?\d+(?:\.\d+)?))")


def tokenize(q):
    out, pos = [], 0
    while pos < len(q):
        if q[pos:].strip() == "":
            break
        m = QTOKEN.match(q, pos)
        if not m or m.end() == pos:
            raise bad("Invalid Value: cannot parse q at %r." % q[pos:pos + 20], reason="invalid", location="q")
        pos = m.end()
        kind = m.lastgroup
        v = m.group(kind)
        if kind == "str":
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        out.append((kind, v))
    return out


def parse_q(ctx, q):
    """The query language of guides/search-files, the parts a sync needs:
    'ID' in parents, name/mimeType (=, !=, contains), trashed/starred (=, !=),
    createdTime/modifiedTime comparisons, fullText contains, (app)properties has
    {key='k' and value='v'}, 'me' in owners, and/or/not with parentheses."""
    toks = tokenize(q)
    pos = [0]
    d = drive(ctx.u)

    def peek(k=0):
        i = pos[0] + k
        return toks[i] if i < len(toks) else (None, None)

    def take(kind=None, value=None):
        t = peek()
        if t[0] is None or (kind and t[0] != kind) or (value is not None and t[1].lower() != value):
            raise bad("Invalid Value: unexpected %r in q." % (t[1],), reason="invalid", location="q")
        pos[0] += 1
        return t[1]

    def unsupported(what):
        # Google accepts these; the fake does not implement them (not a client error).
        return C.ApiError(400, "The fake does not support %s in q." % what, reason="invalid", location="q")

    def value():
        t = peek()
        if t[0] == "str":
            pos[0] += 1
            return t[1]
        if t[0] == "word" and t[1].lower() in ("true", "false"):
            pos[0] += 1
            return t[1].lower() == "true"
        if t[0] == "num":
            pos[0] += 1
            return t[1]
        raise bad("Invalid Value: a value is expected in q.", reason="invalid", location="q")

    def when(v):
        if not isinstance(v, str):
            raise bad("Invalid Value: a date-time string is expected in q.", reason="invalid", location="q")
        s = v if re.search(r"(Z|[+-]\d{2}:\d{2})$", v) else (v + "T00:00:00Z" if len(v) == 10 else v + "Z")
        t = C.parse_rfc3339(s)
        if t is None:
            raise bad("Invalid Value: %r is not an RFC 3339 date-time." % v, reason="invalid", location="q")
        return t

    def cmp(a, op, b):
        return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    def clause():
        t = peek()
        if t[0] == "str":
            v = take("str")
            take("word", "in")
            field = take("word")
            if field == "parents":
                pid = d["root"] if v == "root" else v
                return lambda f: pid in (f.get("parents") or [])
            if field in ("owners", "writers", "readers"):
                mine = v in ("me", email_of(ctx))
                return lambda f: mine
            raise unsupported("'...' in %s" % field)
        field = take("word")
        if field in ("properties", "appProperties"):
            take("word", "has")
            take("p", "{")
            take("word", "key")
            take("op", "=")
            key = take("str")
            take("word", "and")
            take("word", "value")
            take("op", "=")
            val = take("str")
            take("p", "}")
            return lambda f: (f.get(field) or {}).get(key) == val
        nt = peek()
        if nt[0] == "word" and nt[1].lower() == "contains":
            pos[0] += 1
            v = value()
            if not isinstance(v, str):
                raise bad("Invalid Value: contains needs a string.", reason="invalid", location="q")
            lv = v.lower()
            if field == "name":
                # "The contains operator only performs prefix matching for a name term."
                return lambda f: any(w.startswith(lv) for w in [f["name"].lower()] + f["name"].lower().split())
            if field == "mimeType":
                return lambda f: lv in f["mimeType"].lower()
            if field == "fullText":
                return lambda f: lv in f["name"].lower() or lv in f.get("_text", "").lower() or \
                    lv.encode() in content(f).lower()
            raise unsupported("%s contains" % field)
        op = take("op")
        v = value()
        if field in ("name", "mimeType"):
            if op not in ("=", "!=") or not isinstance(v, str):
                raise bad("Invalid Value: %s supports = and != with a string." % field, reason="invalid",
                          location="q")
            return lambda f: cmp(f[field], op, v)
        if field in ("trashed", "starred"):
            if op not in ("=", "!=") or not isinstance(v, bool):
                raise bad("Invalid Value: %s supports = and != with true or false." % field, reason="invalid",
                          location="q")
            return lambda f: cmp(bool(f.get(field)), op, v)
        if field in ("createdTime", "modifiedTime", "viewedByMeTime"):
            t = when(v)
            return lambda f: cmp(C.parse_rfc3339(f.get(field) or f["modifiedTime"]), op, t)
        if field in ("sharedWithMe",):
            return lambda f: cmp(False, op, v)
        raise unsupported("the term %s" % field)

    def unary():
        t = peek()
        if t[0] == "word" and t[1].lower() == "not":
            pos[0] += 1
            inner = unary()
            return lambda f: not inner(f)
        if t == ("p", "("):
            pos[0] += 1
            e = expr()
            take("p", ")")
            return e
        return clause()

    def conj():
        parts = [unary()]
        while peek()[0] == "word" and peek()[1].lower() == "and":
            pos[0] += 1
            parts.append(unary())
        return lambda f: all(p(f) for p in parts)

    def expr():
        parts = [conj()]
        while peek()[0] == "word" and peek()[1].lower() == "or":
            pos[0] += 1
            parts.append(conj())
        return lambda f: any(p(f) for p in parts)

    if not toks:
        return lambda f: True
    e = expr()
    if pos[0] != len(toks):
        raise bad("Invalid Value: unexpected %r in q." % (toks[pos[0]][1],), reason="invalid", location="q")
    return e


ORDER_KEYS = ["createdTime", "folder", "modifiedByMeTime", "modifiedTime", "name", "name_natural",
              "quotaBytesUsed", "recency", "sharedWithMeTime", "starred", "viewedByMeTime"]


def order_key(order):
    """orderBy: "a comma-separated list of sort keys ... Each key sorts ascending by default,
    but can be reversed with the 'desc' modifier"."""
    specs = []
    for part in (order or "").split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in ORDER_KEYS or len(words) > 2 or (len(words) == 2 and words[1].lower() != "desc"):
            raise bad("Invalid Value: orderBy %r." % part.strip(), reason="invalid", location="orderBy")
        specs.append((words[0], len(words) == 2))

    def one(f, k):
        if k == "folder":
            return 0 if f["mimeType"] == FOLDER else 1
        if k == "name":
            return f["name"].casefold()
        if k == "name_natural":
            return re.sub(r"\d+", lambda m: m.group().zfill(20), f["name"].casefold())
        if k == "quotaBytesUsed":
            return f.get("_size", 0)
        if k == "starred":
            return 0 if f.get("starred") else 1
        if k == "createdTime":
            return f["createdTime"]
        if k == "viewedByMeTime":
            return f.get("viewedByMeTime") or ""
        if k == "sharedWithMeTime":
            return ""
        return f["modifiedTime"]

    def key(f):
        out = [C.desc_key(one(f, k)) if desc else one(f, k) for k, desc in specs]
        return out + [f["_ord"], f["id"]]
    return key


# https://developers.google.com/drive/api/reference/rest/v3/files/list
def list_files(ctx):
    P = ctx.params(["corpora", "corpus", "driveId", "includeItemsFromAllDrives", "includeTeamDriveItems",
                    "orderBy", "pageSize", "pageToken", "q", "spaces", "teamDriveId"] + COMMON_PARAMS)
    size = P.int("pageSize", 100, 1, 1000)
    corpora = P.enum("corpora", ["user", "drive", "domain", "allDrives"], "user")
    P.enum("corpus", ["domain", "user"], None)
    for k in ("includeItemsFromAllDrives", "includeTeamDriveItems", "supportsAllDrives", "supportsTeamDrives"):
        P.bool(k, False)
    if corpora == "drive" and not P.str("driveId"):
        raise bad("The driveId parameter must be specified if and only if corpora is set to drive.",
                  reason="invalid", location="driveId")
    if P.str("driveId"):
        raise C.ApiError(404, "Shared drive not found: %s" % P.str("driveId"), reason="notFound",
                         location="driveId")
    spaces = [s.strip() for s in (P.str("spaces") or "drive").split(",") if s.strip()]
    for s in spaces:
        if s not in ("drive", "appDataFolder", "photos"):
            raise bad("Invalid Value: spaces %r." % s, reason="invalid", location="spaces")
    pred = parse_q(ctx, P.str("q") or "")
    key = order_key(P.str("orderBy"))
    d = drive(ctx.u)
    items = []
    if "drive" in spaces:
        items = [f for f in d["files"].values() if not f.get("_root") and visible(ctx, f) and pred(f)]
    fp = P.fingerprint({"pageToken", "pageSize"})
    after, snap = C.page_in(P, fp, ctx.u)
    page, last = C.keyset(items, key, after, size)
    out = {"kind": "drive#fileList", "incompleteSearch": False, "files": [render(ctx, f) for f in page]}
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp, snap)
    return C.partial(out, fields_of(ctx), "kind,incompleteSearch,nextPageToken,files(%s)" % DEFAULT_FILE_FIELDS,
                     LIST_SCHEMA, API)


# ---- files.get / export ----------------------------------------------------------------------------
# https://developers.google.com/drive/api/reference/rest/v3/files/get
def get_file_handler(ctx):
    P = ctx.params(["acknowledgeAbuse"] + COMMON_PARAMS)
    P.bool("acknowledgeAbuse", False)
    alt = P.enum("alt", ["json", "media"], "json")
    f = get_file(ctx, ctx.match.group("fileId"))
    if alt == "media":
        need_content_scope(ctx, "drive.files.get")
        if is_gapps(f):
            raise C.ApiError(403, "Only files with binary content can be downloaded. Use Export with Docs Editors "
                             "files.", reason="fileNotDownloadable", location="alt", violation=True)
        return C.media_reply(content(f), f["mimeType"], ctx.headers.get("Range"))
    return C.partial(render(ctx, f), fields_of(ctx), DEFAULT_FILE_FIELDS, FILE_SCHEMA, API)


def pdf(text):
    """A small, valid, deterministic PDF with the text on one page."""
    lines = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").splitlines()[:60] or [""]
    stream = "BT /F1 11 Tf 50 790 Td 14 TL " + " ".join("(%s) '" % ln.encode("latin-1", "replace").decode("latin-1")
                                                         for ln in lines) + " ET"
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            "/Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length %d >>\nstream\n%s\nendstream" % (len(stream.encode("latin-1", "replace")), stream),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += ("%d 0 obj\n%s\nendobj\n" % (i, o)).encode("latin-1", "replace")
    xref = len(out)
    out += ("xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)).encode()
    out += "".join("%010d 00000 n \n" % o for o in offsets).encode()
    out += ("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)).encode()
    return out


def zipped(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def export_bytes(f, mt):
    """Deterministic stand-ins for Google's converters (see README)."""
    text = f.get("_text", "")
    esc = html.escape(text)
    if mt in ("text/plain", "text/markdown"):
        return ("\ufeff" if mt == "text/plain" and f["mimeType"] == DOC else "").encode() + text.encode("utf-8")
    if mt in ("text/csv", "text/tab-separated-values"):
        return text.encode("utf-8") if mt == "text/csv" else text.replace(",", "\t").encode("utf-8")
    if mt == "text/html":
        return ("<html><head><meta content=\"text/html; charset=UTF-8\" http-equiv=\"content-type\"></head>"
                "<body>%s</body></html>" % "".join("<p>%s</p>" % ln for ln in esc.splitlines())).encode("utf-8")
    if mt == "application/rtf":
        return ("{\\rtf1\\ansi %s}" % text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
                .replace("\n", "\\par\n")).encode("utf-8")
    if mt == "application/pdf":
        return pdf(text)
    if mt == "image/svg+xml":
        return ("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"600\"><text x=\"10\" y=\"20\">"
                "%s</text></svg>" % esc).encode("utf-8")
    if mt == "image/png":
        return b"\x89PNG\r\n\x1a\n" + hashlib.sha256(text.encode()).digest()
    if mt == "image/jpeg":
        return b"\xff\xd8\xff\xe0" + hashlib.sha256(text.encode()).digest() + b"\xff\xd9"
    xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><doc>%s</doc>" % esc
    if mt == DOCX:
        return zipped([("[Content_Types].xml", "<Types/>"), ("word/document.xml", xml)])
    if mt == XLSX:
        return zipped([("[Content_Types].xml", "<Types/>"), ("xl/worksheets/sheet1.xml", xml)])
    if mt == PPTX:
        return zipped([("[Content_Types].xml", "<Types/>"), ("ppt/slides/slide1.xml", xml)])
    if mt in (ODT, ODS, ODP, "application/x-vnd.oasis.opendocument.spreadsheet"):
        return zipped([("mimetype", mt), ("content.xml", xml)])
    if mt == "application/epub+zip":
        return zipped([("mimetype", mt), ("OEBPS/content.xhtml", xml)])
    return zipped([("%s.html" % f["name"], export_bytes(f, "text/html"))])  # application/zip


# https://developers.google.com/drive/api/reference/rest/v3/files/export
def export_file(ctx):
    P = ctx.params(["mimeType"])
    mt = P.str("mimeType")
    if not mt:
        raise bad("Required parameter: mimeType", reason="required", location="mimeType")
    f = get_file(ctx, ctx.match.group("fileId"))
    need_content_scope(ctx, "drive.files.export")
    if f["mimeType"] not in EXPORTS:
        raise C.ApiError(403, "Export only supports Docs Editors files.", reason="fileNotExportable",
                         violation=True)
    if mt not in EXPORTS[f["mimeType"]]:
        raise bad("The requested conversion is not supported.", reason="badRequest", location="mimeType")
    data = export_bytes(f, mt)
    if len(data) > EXPORT_LIMIT:
        raise C.ApiError(403, "This file is too large to be exported.", reason="exportSizeLimitExceeded")
    return C.Reply(200, data, mt)


# ---- files.create ----------------------------------------------------------------------------------
CREATE_PARAMS = COMMON_PARAMS + UPLOAD_PARAMS


# https://developers.google.com/drive/api/reference/rest/v3/files/create (metadata only)
def create_file(ctx):
    ctx.params(CREATE_PARAMS)
    f = new_file(ctx, ctx.body or {})
    return C.partial(render(ctx, f), fields_of(ctx), DEFAULT_FILE_FIELDS, FILE_SCHEMA, API)


def upload_parts(ctx, P):
    """(uploadType, metadata, data, media type) of a media or multipart upload request."""
    ut, meta, data, mtype = split_upload(ctx, P)
    if data is not None and len(data) > C.MAX_UPLOAD:
        raise C.ApiError(413, "The fake keeps uploads in memory; %d bytes exceed its --max-upload of %d."
                         % (len(data), C.MAX_UPLOAD), reason="uploadTooLarge")
    return ut, meta, data, mtype


def split_upload(ctx, P):
    ut = P.str("uploadType")
    ctype = ctx.headers.get("Content-Type")
    if ut == "media":
        return ut, {}, ctx.raw, ctype or "application/octet-stream"
    if ut == "multipart":
        parts = C.parse_related(ctx.raw, ctype, API)
        if len(parts) != 2:
            raise bad("Invalid multipart request: expected a metadata part and a media part, got %d part(s)."
                      % len(parts), reason="badContent")
        meta = C.json_part(parts[0][0], parts[0][1], API)
        return ut, meta, parts[1][1], parts[1][0].get("content-type") or "application/octet-stream"
    if ut == "resumable":
        meta = {}
        if ctx.raw:
            if C.media_type(ctype)[0] != "application/json":
                raise bad("The initiating request of a resumable upload takes JSON metadata (or no body).",
                          reason="badContent")
            meta = C.json_part({"content-type": "application/json"}, ctx.raw, API)
        return ut, meta, None, ctx.headers.get("X-Upload-Content-Type")
    raise bad("Upload requests need uploadType=media, multipart or resumable (got %r)." % ut,
              reason="invalidParameter", location="uploadType")


def declared_length(ctx):
    v = ctx.headers.get("X-Upload-Content-Length")
    if v is None:
        return None
    if not v.strip().isdigit():
        raise bad("Invalid X-Upload-Content-Length %r." % v, reason="invalid")
    return int(v)


# https://developers.google.com/drive/api/reference/rest/v3/files/create (upload URI)
def create_upload(ctx):
    P = ctx.params(CREATE_PARAMS)
    ut, meta, data, mtype = upload_parts(ctx, P)
    if ut == "resumable":
        check_meta(ctx, dict(meta), "create")
        total = declared_length(ctx)
        mt = meta.get("mimeType") or mtype or ""
        if total is not None and not mt.startswith(GAPPS):
            check_storage(drive(ctx.u), total)
        return C.start_upload(ctx, "/upload/drive/v3/files", meta, mtype, total, finish_create)
    f = new_file(ctx, meta, data, mtype)
    return C.partial(render(ctx, f), fields_of(ctx), DEFAULT_FILE_FIELDS, FILE_SCHEMA, API)


def finish_create(ctx, s, data):
    f = new_file(ctx, dict(s["meta"]), data, s["type"] or "application/octet-stream")
    return C.partial(render(ctx, f), fields_of(ctx), DEFAULT_FILE_FIELDS, FILE_SCHEMA, API)


# ---- files.update -----------------------------------------------------------------------------------
UPDATE_PARAMS = ["addParents", "removeParents"] + COMMON_PARAMS + UPLOAD_PARAMS


def descendants(d, fid):
    out, todo = [], [fid]
    while todo:
        cur = todo.pop()
        for f in d["files"].values():
            if cur in (f.get("parents") or []) and f["id"] not in out:
                out.append(f["id"])
                todo.append(f["id"])
    return out


def set_trashed(ctx, f, on):
    d = drive(ctx.u)
    now = S.now_rfc3339()
    f["trashed"] = f["explicitlyTrashed"] = on
    f["trashedTime"] = now if on else None
    for cid in descendants(d, f["id"]):
        c = d["files"][cid]
        if on and not c.get("trashed"):
            c["trashed"], c["explicitlyTrashed"], c["trashedTime"] = True, False, now
            changed(ctx, c)
        elif not on and c.get("trashed") and not c.get("explicitlyTrashed"):
            c["trashed"], c["trashedTime"] = False, None
            changed(ctx, c)


def update(ctx, f, body, P, data=None, mtype=None):
    d = drive(ctx.u)
    body = check_meta(ctx, body, "update")
    add = [p.strip() for p in (P.str("addParents") or "").split(",") if p.strip()]
    remove = [p.strip() for p in (P.str("removeParents") or "").split(",") if p.strip()]
    if f.get("_root") and (body or add or remove or data is not None):
        raise C.ApiError(403, "The user does not have sufficient permissions for this file.",
                         reason="insufficientFilePermissions", violation=True)
    add = [resolve_parent(ctx, p) for p in add]
    remove = [d["root"] if p == "root" else p for p in remove]
    parents = [p for p in f.get("parents") or [] if p not in remove]
    parents += [p for p in add if p not in parents]
    if len(parents) > 1:
        raise C.ApiError(403, "Increasing the number of parents is not allowed.", reason="cannotAddParent",
                         violation=True)
    if any(p == f["id"] or p in descendants(d, f["id"]) for p in add):
        raise bad("Adding this parent would create a cycle in the folder graph.", reason="badRequest")
    mt = body.get("mimeType")
    if mt and mt != f["mimeType"] and (is_gapps(f) or mt.startswith(GAPPS)):
        raise bad("The mimeType of %s cannot be changed to %s." % (f["mimeType"], mt))
    if data is not None:
        if is_gapps(f):
            raise bad("Google Workspace files and folders take no uploaded content here.")
        check_storage(d, len(data) - f.get("_size", 0))
    apply_props(f, body)
    if add or remove:
        f["parents"] = parents
    for k in ("name", "description", "originalFilename", "folderColorRgb", "contentHints", "viewedByMeTime",
              "starred"):
        if k in body:
            if body[k] is None:
                f.pop(k, None)
            else:
                f[k] = body[k]
    if mt:
        f["mimeType"] = mt
    elif data is not None and mtype and not body.get("mimeType"):
        f["mimeType"] = C.media_type(mtype)[0] or f["mimeType"]
    if data is not None:
        f["version"] = f.get("version", 1) + 1
        set_content(f, data)
    else:
        f["version"] = f.get("version", 1) + 1
    if "trashed" in body and body["trashed"] is not None and body["trashed"] != f.get("trashed"):
        set_trashed(ctx, f, body["trashed"])
    f["modifiedTime"] = body.get("modifiedTime") or S.now_rfc3339()
    changed(ctx, f)
    return f


# https://developers.google.com/drive/api/reference/rest/v3/files/update (metadata only)
def update_file(ctx):
    P = ctx.params(UPDATE_PARAMS)
    f = get_file(ctx, ctx.match.group("fileId"), write=True)
    f = update(ctx, f, ctx.body or {}, P)
    return C.partial(render(ctx, f), fields_of(ctx), DEFAULT_FILE_FIELDS, FILE_SCHEMA, API)


# https://developers.google.com/drive/api/reference/rest/v3/files/update (upload URI)
def update_upload(ctx):
    P = ctx.params(UPDATE_PARAMS)
    f = get_file(ctx, ctx.match.group("fileId"), write=True)
    ut, meta, data, mtype = upload_parts(ctx, P)
    if ut == "resumable":
        check_meta(ctx, dict(meta), "update")
        total = declared_length(ctx)
        if total is not None:
            check_storage(drive(ctx.u), total - f.get("_size", 0))
        path = "/upload/drive/v3/files/%s" % f["id"]
        return C.start_upload(ctx, path, meta, mtype, total, finish_update)
    f = update(ctx, f, meta, P, data, mtype)
    return C.partial(render(ctx, f), fields_of(ctx), DEFAULT_FILE_FIELDS, FILE_SCHEMA, API)


def finish_update(ctx, s, data):
    fid = s["path"].rsplit("/", 1)[1]
    P = C.Params(ctx.query, set(UPDATE_PARAMS), API)
    f = get_file(ctx, fid, write=True)
    f = update(ctx, f, dict(s["meta"]), P, data, s["type"])
    return C.partial(render(ctx, f), fields_of(ctx), DEFAULT_FILE_FIELDS, FILE_SCHEMA, API)


def session_put(ctx):
    return C.put_chunk(ctx, "/upload/drive/v3/files")


def session_cancel(ctx):
    return C.cancel_upload(ctx, "/upload/drive/v3/files")


def session_put_update(ctx):
    return C.put_chunk(ctx, "/upload/drive/v3/files/%s" % ctx.match.group("fileId"))


def session_cancel_update(ctx):
    return C.cancel_upload(ctx, "/upload/drive/v3/files/%s" % ctx.match.group("fileId"))


# ---- files.delete ---------------------------------------------------------------------------------------
# https://developers.google.com/drive/api/reference/rest/v3/files/delete
def delete_file(ctx):
    ctx.params(["supportsAllDrives", "supportsTeamDrives", "enforceSingleParent"])
    f = get_file(ctx, ctx.match.group("fileId"), write=True)
    if f.get("_root"):
        raise C.ApiError(403, "The user does not have sufficient permissions for this file.",
                         reason="insufficientFilePermissions", violation=True)
    d = drive(ctx.u)
    # "If the target is a folder, all descendants owned by the user are also deleted."
    for cid in descendants(d, f["id"]) + [f["id"]]:
        changed(ctx, d["files"][cid], removed=True)
    return C.Reply(204)


# ---- changes -----------------------------------------------------------------------------------------------
# https://developers.google.com/drive/api/reference/rest/v3/changes/getStartPageToken
def start_page_token(ctx):
    P = ctx.params(["driveId", "teamDriveId", "supportsAllDrives", "supportsTeamDrives"])
    if P.str("driveId") or P.str("teamDriveId"):
        raise C.ApiError(404, "Shared drive not found: %s" % (P.str("driveId") or P.str("teamDriveId")),
                         reason="notFound", location="driveId")
    d = drive(ctx.u)
    return {"kind": "drive#startPageToken", "startPageToken": str(d["cseq"] + 1)}


# https://developers.google.com/drive/api/reference/rest/v3/changes/list
def list_changes(ctx):
    P = ctx.params(["pageToken", "pageSize", "includeRemoved", "restrictToMyDrive", "spaces",
                    "includeItemsFromAllDrives", "includeCorpusRemovals", "includeTeamDriveItems", "driveId",
                    "teamDriveId"] + COMMON_PARAMS)
    d = drive(ctx.u)
    tok = P.str("pageToken")
    if tok is None:
        raise bad("Required parameter: pageToken", reason="required", location="pageToken")
    # "The page token doesn't expire" (changes.getStartPageToken): only a token the fake never
    # issued is refused.
    if not re.match(r"^\d{1,18}$", tok) or not 1 <= int(tok) <= d["cseq"] + 1:
        raise bad("Invalid Value", reason="invalid", location="pageToken")
    size = P.int("pageSize", 100, 1, 1000)
    include_removed = P.bool("includeRemoved", True)
    P.bool("restrictToMyDrive", False)
    if P.str("driveId"):
        raise C.ApiError(404, "Shared drive not found: %s" % P.str("driveId"), reason="notFound",
                         location="driveId")
    spaces = [s.strip() for s in (P.str("spaces") or "drive").split(",") if s.strip()]
    start = int(tok)
    latest = {}
    for c in d["changes"]:
        if c["s"] >= start:
            latest[c["f"]] = c
    entries = []
    for c in sorted(latest.values(), key=lambda c: c["s"]):
        f = d["files"].get(c["f"])
        if not (c["a"] or sees_all(ctx)):
            continue
        removed = c["r"] or f is None
        if removed and not include_removed:
            continue
        if "drive" not in spaces:
            continue
        e = {"kind": "drive#change", "changeType": "file", "time": c["t"], "removed": removed, "fileId": c["f"]}
        if not removed:
            e["file"] = render(ctx, f)
        entries.append((c["s"], e))
    out = {"kind": "drive#changeList", "changes": [e for _, e in entries[:size]]}
    if len(entries) > size:
        out["nextPageToken"] = str(entries[size][0])
    else:
        out["newStartPageToken"] = str(d["cseq"] + 1)
    default = ("kind,nextPageToken,newStartPageToken,changes(kind,changeType,time,removed,fileId,file(%s))"
               % DEFAULT_FILE_FIELDS)
    return C.partial(out, fields_of(ctx), default, CHANGES_SCHEMA, API)


# ---- about ---------------------------------------------------------------------------------------------------
# https://developers.google.com/drive/api/reference/rest/v3/about/get
def get_about(ctx):
    ctx.params([])
    spec = fields_of(ctx)
    if not spec:
        raise bad("The 'fields' parameter is required for this method.", reason="required", location="fields")
    d = drive(ctx.u)
    used, trash = usage(d)
    quota = {"usage": str(used), "usageInDrive": str(used), "usageInDriveTrash": str(trash)}
    if STORAGE_LIMIT:
        quota["limit"] = str(STORAGE_LIMIT)
    out = {"kind": "drive#about",
           "user": {"kind": "drive#user", "displayName": ctx.user, "emailAddress": email_of(ctx), "me": True,
                    "permissionId": "%020d" % (int(hashlib.sha1(ctx.user.encode()).hexdigest()[:15], 16))},
           "storageQuota": quota, "importFormats": IMPORTS, "exportFormats": EXPORTS,
           "maxImportSizes": {DOC: "10485760", SHEET: "104857600", SLIDES: "104857600"},
           "maxUploadSize": str(5120 * 1024 ** 3), "appInstalled": False, "canCreateDrives": False,
           "folderColorPalette": ["#ac725e", "#d06b64", "#f83a22", "#fa573c", "#ff7537", "#ffad46"]}
    return C.partial(out, spec, None, ABOUT_SCHEMA, API)


def seed(store, u, data):
    """POST /_fake/seed: {"drive": {"files": [{"name", "mimeType", "parent": index of an earlier
    entry (default: My Drive), "content": text or "contentBase64", "appCreated": false,
    "appProperties": {...}, "createdTime", "modifiedTime"}]}}.  Seeded files are not
    app-created unless "appCreated" is true (so drive.file does not see them)."""
    g = data.get("drive")
    if not g:
        return {}

    class _Ctx:
        pass
    ctx = _Ctx()
    ctx.u, ctx.user, ctx.scopes = u, "seed", [DRIVE]
    made = []
    for e in g.get("files") or []:
        body = {k: e[k] for k in ("name", "mimeType", "appProperties", "properties", "createdTime",
                                  "modifiedTime", "description", "starred") if k in e}
        if isinstance(e.get("parent"), int):
            body["parents"] = [made[e["parent"]]]
        data_b = None
        if "content" in e:
            data_b = e["content"].encode("utf-8")
        elif "contentBase64" in e:
            data_b = base64.b64decode(e["contentBase64"])
        src = e.get("contentType") or ("text/plain" if data_b is not None else None)
        f = new_file(ctx, body, data_b, src, app=bool(e.get("appCreated")))
        if e.get("trashed"):
            set_trashed(ctx, f, True)
        made.append(f["id"])
    return {"driveFiles": made}


def upload_limit():
    return C.MAX_UPLOAD + 64 * 1024


B = "/drive/v3"
U = "/upload/drive/v3"
ROUTES = [
    C.route("GET", B + "/about", get_about, API, ABOUT, "drive.about.get"),
    C.route("GET", B + "/files", list_files, API, READ_META, "drive.files.list"),
    C.route("POST", B + "/files", create_file, API, WRITE, "drive.files.create", body="optional"),
    C.route("POST", U + "/files", create_upload, API, WRITE, "drive.files.create", body="raw",
            max_body=upload_limit, google_limit=False),
    C.route("PUT", U + "/files", session_put, API, WRITE, "drive.files.create", body="raw", auth=False,
            max_body=upload_limit, google_limit=False),
    C.route("DELETE", U + "/files", session_cancel, API, WRITE, "drive.files.create", auth=False),
    C.route("GET", B + "/files/{fileId}", get_file_handler, API, READ_META, "drive.files.get"),
    C.route("PATCH", B + "/files/{fileId}", update_file, API, WRITE, "drive.files.update", body="optional"),
    C.route("PATCH", U + "/files/{fileId}", update_upload, API, WRITE, "drive.files.update", body="raw",
            max_body=upload_limit, google_limit=False),
    C.route("PUT", U + "/files/{fileId}", session_put_update, API, WRITE, "drive.files.update", body="raw",
            auth=False, max_body=upload_limit, google_limit=False),
    C.route("DELETE", U + "/files/{fileId}", session_cancel_update, API, WRITE, "drive.files.update", auth=False),
    C.route("DELETE", B + "/files/{fileId}", delete_file, API, WRITE, "drive.files.delete"),
    C.route("GET", B + "/files/{fileId}/export", export_file, API, READ_CONTENT, "drive.files.export"),
    C.route("GET", B + "/changes/startPageToken", start_page_token, API, READ_META + (APPDATA,),
            "drive.changes.getStartPageToken"),
    C.route("GET", B + "/changes", list_changes, API, READ_META + (APPDATA,), "drive.changes.list"),
]
