"""Photos Library API v1 (uploads, albums, media items), as it is since 31 March 2025:
an app can only read and edit what it created.

Reference: https://developers.google.com/photos/library/reference/rest
Upload media: https://developers.google.com/photos/library/guides/upload-media
Changes: https://developers.google.com/photos/support/updates
Authorization scopes: https://developers.google.com/photos/overview/authorization
"""
import base64
import hashlib
import time

import gfake_common as C
import gfake_store as S

API = "photos"
A = "https://www.googleapis.com/auth/"
APPEND = A + "photoslibrary.appendonly"
READ_APP = A + "photoslibrary.readonly.appcreateddata"
EDIT_APP = A + "photoslibrary.edit.appcreateddata"
# photoslibrary, photoslibrary.readonly and photoslibrary.sharing were removed on 31 March 2025:
# "requests using these scopes will fail" -> no route accepts them.
WRITE = (APPEND,)
READ = (READ_APP, EDIT_APP)

MAX_BATCH = 50               # batchCreate: "Maximum 50 media items per call."
MAX_TITLE = 500              # Album.title: "Maximum length is 500 characters."
MAX_DESCRIPTION = 1000       # NewMediaItem.description: "must be shorter than 1000 characters"
ALBUM_ITEMS = 20000          # "Each album can contain up to 20,000 media items."
MAX_PHOTO, MAX_VIDEO = 200 * 1024 * 1024, 20 * 1024 ** 3   # upload-media: accepted file sizes
TOKEN_LIFETIME = 24 * 3600   # upload tokens are valid for a day


def bad(msg):
    return C.ApiError(400, msg, status="INVALID_ARGUMENT", violation=True)


def not_found():
    return C.ApiError(404, "Requested entity was not found.", status="NOT_FOUND")


def lib(u):
    p = u.get("photos_lib")
    if p is None:
        p = {"albums": {}, "items": {}, "tokens": {}, "ord": 0}
        u["photos_lib"] = p
    return p


def album_json(ctx, a):
    p = lib(ctx.u)
    n = sum(1 for i in a["_items"] if i in p["items"])
    out = {"id": a["id"], "title": a["title"], "productUrl": "https://photos.google.com/lr/album/" + a["id"],
           "isWriteable": True, "mediaItemsCount": str(n)}
    if n:
        first = p["items"][next(i for i in a["_items"] if i in p["items"])]
        out["coverPhotoMediaItemId"] = first["id"]
        out["coverPhotoBaseUrl"] = base_url(ctx, first)
    return out


def base_url(ctx, m):
    return "%s/_fake/photos-media/%s/%s" % (ctx.base_url, ctx.user, m["id"])


def item_json(ctx, m):
    out = {"id": m["id"], "productUrl": "https://photos.google.com/lr/photo/" + m["id"], "baseUrl": base_url(ctx, m),
           "mimeType": m["mimeType"], "filename": m["filename"],
           "mediaMetadata": {"creationTime": m["creationTime"]}}
    kind = "video" if m["mimeType"].startswith("video/") else "photo"
    out["mediaMetadata"][kind] = {} if kind == "photo" else {"status": "READY"}
    if m.get("description"):
        out["description"] = m["description"]
    return out


def visible_items(p):
    """Since 31 March 2025 the Library API returns only media items the app created."""
    return [m for m in p["items"].values() if m.get("_app")]


# https://developers.google.com/photos/library/guides/upload-media#uploading-bytes
def upload(ctx):
    ctx.params([])
    proto = (ctx.headers.get("X-Goog-Upload-Protocol") or "").lower()
    if proto == "resumable":
        raise C.ApiError(400, "The fake does not implement resumable Photos uploads; use "
                         "X-Goog-Upload-Protocol: raw.", status="INVALID_ARGUMENT")
    if proto != "raw":
        raise bad("X-Goog-Upload-Protocol must be raw (got %r)." % (proto or None))
    if not ctx.raw:
        raise bad("The upload has no bytes.")
    mt = (ctx.headers.get("X-Goog-Upload-Content-Type") or "").strip().lower()
    limit = MAX_VIDEO if mt.startswith("video/") else MAX_PHOTO
    if len(ctx.raw) > limit:
        raise C.ApiError(413, "File too large: %d bytes (at most %d for %s)." % (len(ctx.raw), limit, mt or "photos"),
                         status="INVALID_ARGUMENT", violation=True)
    p = lib(ctx.u)
    tok = "CAIS" + S.new_id(60, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    p["tokens"][tok] = {"data": base64.b64encode(ctx.raw).decode(), "mimeType": mt or sniff(ctx.raw),
                        "fileName": ctx.headers.get("X-Goog-Upload-File-Name") or "", "t": time.time()}
    return C.Reply(200, tok.encode(), "text/plain; charset=UTF-8")


def sniff(data):
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "application/octet-stream"


def expire_uploads(u):
    """The expire_upload_sessions fault: every upload token issued so far is spent."""
    lib(u)["tokens"].clear()


# https://developers.google.com/photos/library/reference/rest/v1/mediaItems/batchCreate
def batch_create(ctx):
    ctx.params([])
    body = C.check_object(ctx.body, {"albumId", "newMediaItems", "albumPosition"}, "request", API)
    items = body.get("newMediaItems")
    if not isinstance(items, list) or not items:
        raise bad("newMediaItems is required and must not be empty.")
    if len(items) > MAX_BATCH:
        raise bad("Too many media items: %d; at most %d per call." % (len(items), MAX_BATCH))
    if body.get("albumPosition") is not None and not body.get("albumId"):
        raise bad("albumPosition can only be set together with albumId.")
    p = lib(ctx.u)
    album = None
    if body.get("albumId"):
        album = p["albums"].get(body["albumId"])
        if album is None or not album.get("_app"):
            raise not_found()
        if len(album["_items"]) + len(items) > ALBUM_ITEMS:
            raise bad("An album can contain up to %d media items." % ALBUM_ITEMS)
    for i, it in enumerate(items):
        C.check_object(it, {"description", "simpleMediaItem"}, "newMediaItems[%d]" % i, API,
                       required=("simpleMediaItem",))
        C.check_object(it["simpleMediaItem"], {"uploadToken", "fileName"}, "newMediaItems[%d].simpleMediaItem" % i,
                       API, required=("uploadToken",))
        if len(it.get("description") or "") >= MAX_DESCRIPTION:
            raise bad("newMediaItems[%d].description must be shorter than %d characters." % (i, MAX_DESCRIPTION))
    results, failed = [], 0
    for it in items:
        tok = it["simpleMediaItem"]["uploadToken"]
        t = p["tokens"].pop(tok, None)  # an upload token makes one media item
        if t is None or time.time() - t["t"] > TOKEN_LIFETIME:
            failed += 1
            results.append({"uploadToken": tok, "status": {
                "code": 3, "message": "Failed: There was an error while trying to create this media item."}})
            continue
        p["ord"] += 1
        data = base64.b64decode(t["data"])
        mid = "AF1Qip" + hashlib.sha1(tok.encode()).hexdigest()[:30]
        m = {"id": mid, "mimeType": t["mimeType"], "_data": t["data"], "_app": True, "_ord": p["ord"],
             "filename": it["simpleMediaItem"].get("fileName") or t["fileName"] or "%s.bin" % mid,
             "creationTime": S.now_rfc3339(), "_size": len(data)}
        if it.get("description"):
            m["description"] = it["description"]
        p["items"][mid] = m
        if album is not None:
            album["_items"].append(mid)
        results.append({"uploadToken": tok, "status": {"message": "Success"}, "mediaItem": item_json(ctx, m)})
    out = {"newMediaItemResults": results}
    return (207 if failed else 200), out


# https://developers.google.com/photos/library/reference/rest/v1/albums/create
def create_album(ctx):
    ctx.params([])
    body = C.check_object(ctx.body, {"album"}, "request", API, required=("album",))
    a = C.check_object(body["album"], {"title", "id", "productUrl", "isWriteable", "shareInfo", "mediaItemsCount",
                                       "coverPhotoBaseUrl", "coverPhotoMediaItemId"}, "album", API)
    title = a.get("title")
    if not isinstance(title, str) or not title:
        raise bad("album.title is required.")
    if len(title) > MAX_TITLE:
        raise bad("album.title is longer than %d characters." % MAX_TITLE)
    p = lib(ctx.u)
    p["ord"] += 1
    aid = "AF1Qip" + S.new_id(34, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    album = {"id": aid, "title": title, "_items": [], "_app": True, "_ord": p["ord"]}
    p["albums"][aid] = album
    return album_json(ctx, album)


# https://developers.google.com/photos/library/reference/rest/v1/albums/list
def list_albums(ctx):
    P = ctx.params(["pageSize", "pageToken", "excludeNonAppCreatedData"])
    size = P.int("pageSize", 20, 0, 50, zero_default=True)
    P.bool("excludeNonAppCreatedData", False)
    p = lib(ctx.u)
    albums = [a for a in p["albums"].values() if a.get("_app")]
    fp = P.fingerprint({"pageToken", "pageSize"})
    after, snap = C.page_in(P, fp, ctx.u)
    page, last = C.keyset(albums, lambda a: [a["_ord"]], after, size)
    out = {}
    if page:
        out["albums"] = [album_json(ctx, a) for a in page]
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp, snap)
    return out


# https://developers.google.com/photos/library/reference/rest/v1/albums/get
def get_album(ctx):
    ctx.params([])
    a = lib(ctx.u)["albums"].get(ctx.match.group("albumId"))
    if a is None or not a.get("_app"):
        raise not_found()
    return album_json(ctx, a)


# https://developers.google.com/photos/library/reference/rest/v1/mediaItems/search
def search_items(ctx):
    ctx.params([])
    body = C.check_object(ctx.body or {}, {"albumId", "pageSize", "pageToken", "filters", "orderBy"}, "request",
                          API)
    size = body.get("pageSize", 25)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0 or size > 100:
        raise bad("pageSize must be between 1 and 100 (default 25).")
    size = size or 25
    if body.get("albumId") and body.get("filters") is not None:
        raise bad("albumId and filters cannot both be set.")
    if body.get("orderBy") and body.get("filters") is None:
        raise bad("orderBy needs filters with a dateFilter.")
    p = lib(ctx.u)
    if body.get("albumId"):
        a = p["albums"].get(body["albumId"])
        if a is None or not a.get("_app"):
            raise not_found()
        ids = [i for i in a["_items"] if i in p["items"] and p["items"][i].get("_app")]
        items = [dict(p["items"][i], _pos=n) for n, i in enumerate(ids)]
        keyfn = lambda m: [m["_pos"]]  # noqa: E731 - album order
    else:
        items = visible_items(p)
        keyfn = lambda m: [-m["_ord"]]  # noqa: E731 - newest first
    q = {"pageToken": [body["pageToken"]]} if body.get("pageToken") else {}
    P = C.Params(q, {"pageToken"}, API)
    fp = hashlib.sha1(repr(sorted((k, repr(v)) for k, v in body.items()
                                  if k not in ("pageToken", "pageSize"))).encode()).hexdigest()[:12]
    after, snap = C.page_in(P, fp, ctx.u)
    page, last = C.keyset(items, keyfn, after, size)
    out = {}
    if page:
        out["mediaItems"] = [item_json(ctx, m) for m in page]
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp, snap)
    return out


# https://developers.google.com/photos/library/reference/rest/v1/mediaItems/list
def list_items(ctx):
    P = ctx.params(["pageSize", "pageToken"])
    size = P.int("pageSize", 25, 0, 100, zero_default=True)
    items = visible_items(lib(ctx.u))
    fp = P.fingerprint({"pageToken", "pageSize"})
    after, snap = C.page_in(P, fp, ctx.u)
    page, last = C.keyset(items, lambda m: [-m["_ord"]], after, size)
    out = {}
    if page:
        out["mediaItems"] = [item_json(ctx, m) for m in page]
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp, snap)
    return out


# https://developers.google.com/photos/library/reference/rest/v1/mediaItems/get
def get_item(ctx):
    ctx.params([])
    m = lib(ctx.u)["items"].get(ctx.match.group("mediaItemId"))
    if m is None or not m.get("_app"):
        raise not_found()
    return item_json(ctx, m)


def media_bytes(store, user, mid):
    """GET /_fake/photos-media/{user}/{id}[=d|=wW-hH]: a media item's bytes (its baseUrl)."""
    u = store.users.get(user)
    m = u and lib(u)["items"].get(mid.split("=", 1)[0])
    if not m:
        return None, None
    return base64.b64decode(m["_data"]), m["mimeType"]


def seed(store, u, data):
    """POST /_fake/seed: {"photos": {"items": [{"filename", "mimeType", "contentBase64"}]}}: media
    the user put in Google Photos themselves, which the API must never show (not app-created)."""
    g = data.get("photos")
    if not g:
        return {}
    p = lib(u)
    made = []
    for e in g.get("items") or []:
        p["ord"] += 1
        mid = "AF1QipUser" + S.new_id(26, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        raw = base64.b64decode(e.get("contentBase64", ""))
        p["items"][mid] = {"id": mid, "mimeType": e.get("mimeType", "image/jpeg"),
                           "_data": base64.b64encode(raw).decode(), "_app": False, "_ord": p["ord"],
                           "filename": e.get("filename", "IMG.jpg"), "creationTime": S.now_rfc3339(),
                           "_size": len(raw)}
        made.append(mid)
    return {"photosItems": made}


def upload_limit():
    return min(C.MAX_UPLOAD, MAX_VIDEO) + 1


V = "/v1"
ROUTES = [
    C.route("POST", V + "/uploads", upload, API, WRITE, "photoslibrary.uploads", body="raw",
            max_body=upload_limit, google_limit=False),
    C.route("POST", V + "/mediaItems:batchCreate", batch_create, API, WRITE, "photoslibrary.mediaItems.batchCreate",
            body=True),
    C.route("POST", V + "/mediaItems:search", search_items, API, READ, "photoslibrary.mediaItems.search",
            body="optional"),
    C.route("GET", V + "/mediaItems", list_items, API, READ, "photoslibrary.mediaItems.list"),
    C.route("GET", V + "/mediaItems/{mediaItemId}", get_item, API, READ, "photoslibrary.mediaItems.get"),
    C.route("POST", V + "/albums", create_album, API, WRITE + (EDIT_APP,), "photoslibrary.albums.create", body=True),
    C.route("GET", V + "/albums", list_albums, API, READ, "photoslibrary.albums.list"),
    C.route("GET", V + "/albums/{albumId}", get_album, API, READ, "photoslibrary.albums.get"),
]
