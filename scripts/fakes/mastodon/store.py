"""In-memory data of one fake Mastodon instance, entity rendering and seeding.

Loaded by server.py under the module name ``mfake_store``.

Ids follow Mastodon's two kinds: entities a client sees (accounts, statuses,
media attachments) get "snowflake" ids, ``(milliseconds << 16) | sequence``,
so they sort by creation time; the records behind lists of relationships
(follows, blocks, mutes, domain blocks, bookmarks, favourites, list
memberships) and lists get small serial ids, which only the Link header
exposes.  All ids are strings on the wire.
"""
import base64
import html
import json
import os
import re
import secrets
import struct
import threading

import mfake_common as C

TABLES = ("apps", "tokens", "codes", "accounts", "follows", "follow_requests", "blocks", "mutes",
          "domain_blocks", "lists", "list_accounts", "statuses", "media", "bookmarks", "favourites")

CONTENT_EXT = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp",
               "video/mp4": "mp4", "audio/mpeg": "mp3", "audio/ogg": "ogg", "text/plain": "txt"}
TYPE_OF_CONTENT = {"image": "image", "video": "video", "audio": "audio"}

# a 1x1 transparent PNG, served for avatars and headers
MISSING_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]+([A-Za-z0-9_.-]+[A-Za-z0-9_]+)?$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
                       r"(:\d{1,5})?$")


def image_size(data):
    """(width, height) of a PNG or GIF, else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    return None


def text_to_html(text):
    """Plain text as Mastodon renders a local post: paragraphs on blank lines,
    <br /> for single newlines, hashtags as links."""
    paras = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip() != ""] or [""]
    out = []
    for p in paras:
        esc = html.escape(p, quote=False).replace("\n", "<br />")
        out.append("<p>%s</p>" % esc)
    return "".join(out)


def hashtags(text):
    return sorted({m.lower() for m in re.findall(r"(?:^|\s)#(\w+)", text or "")})


class World:
    """All data of the instance.  One RLock guards it (server.py holds it
    around every handler)."""

    def __init__(self, domain, clock, path=None):
        self.lock = threading.RLock()
        self.domain = domain
        self.clock = clock
        self.path = path
        self.t = {name: {} for name in TABLES}
        self.serial = {name: 0 for name in TABLES}
        self.sf_seq = 0
        self.idempotency = {}
        self.keys = {"statuses": {}, "media": {}}  # seed keys, valid across seed calls
        if path and os.path.exists(path):
            with open(path) as f:
                data = json.load(f)
            for name in TABLES:
                self.t[name] = data.get("tables", {}).get(name, {})
            self.serial.update(data.get("serial", {}))
            self.sf_seq = data.get("sf_seq", 0)
            self.keys.update(data.get("keys", {}))

    # ---- persistence -------------------------------------------------------
    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps({"domain": self.domain, "tables": self.t, "serial": self.serial,
                                          "keys": self.keys}))

    def save(self):
        if not self.path:
            return
        with self.lock:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"tables": self.t, "serial": self.serial, "sf_seq": self.sf_seq, "keys": self.keys}, f)
            os.replace(tmp, self.path)

    def reset(self):
        with self.lock:
            self.t = {name: {} for name in TABLES}
            self.serial = {name: 0 for name in TABLES}
            self.idempotency = {}
            self.keys = {"statuses": {}, "media": {}}

    # ---- ids ---------------------------------------------------------------
    def snowflake(self, at=None):
        ms = int((self.clock() if at is None else at) * 1000)
        while True:
            self.sf_seq = (self.sf_seq + 1) & 0xFFFF
            i = str((ms << 16) | self.sf_seq)
            if i not in self.t["accounts"] and i not in self.t["statuses"] and i not in self.t["media"]:
                return i

    def next_serial(self, table):
        self.serial[table] += 1
        return str(self.serial[table])

    @staticmethod
    def secret():
        return secrets.token_urlsafe(32)

    # ---- accounts ----------------------------------------------------------
    def acct(self, a):
        return a["username"] if a["domain"] is None else "%s@%s" % (a["username"], a["domain"])

    def full_acct(self, a):
        """user@domain for every account, as the CSV exports write them."""
        return "%s@%s" % (a["username"], a["domain"] or self.domain)

    def create_account(self, username, domain=None, **kw):
        if not isinstance(username, str) or not USERNAME_RE.match(username) or len(username) > 30:
            raise ValueError("invalid username %r" % (username,))
        domain = (domain or None) and domain.lower()
        if domain == self.domain:
            domain = None
        if self.find_acct(username if domain is None else "%s@%s" % (username, domain), include_unknown=True):
            raise ValueError("account %s already exists" % username)
        created = C.parse_time(kw.get("created_at")) if kw.get("created_at") else self.clock()
        if created is None:
            raise ValueError("bad created_at %r" % kw.get("created_at"))
        a = {"id": self.snowflake(created), "username": username, "domain": domain,
             "display_name": kw.get("display_name", ""), "note": kw.get("note", ""),
             "locked": bool(kw.get("locked", False)), "bot": bool(kw.get("bot", False)),
             "discoverable": bool(kw.get("discoverable", True)),
             "hide_collections": bool(kw.get("hide_collections", False)),
             "known": bool(kw.get("known", True)) if domain else True,
             "fields": list(kw.get("fields", [])), "created_at": created}
        if domain and kw.get("url"):
            a["url"] = kw["url"]
        self.t["accounts"][a["id"]] = a
        return a

    def account(self, aid, include_unknown=False):
        a = self.t["accounts"].get(str(aid))
        if a is None or (not a["known"] and not include_unknown):
            return None
        return a

    def find_acct(self, acct, include_unknown=False):
        """username, @username, username@domain or @username@domain (case-insensitive)."""
        if not isinstance(acct, str):
            return None
        s = acct.strip()
        if s.startswith("@"):
            s = s[1:]
        user, _, dom = s.partition("@")
        dom = dom.lower() or None
        if dom == self.domain.lower():
            dom = None
        for a in self.t["accounts"].values():
            if a["username"].lower() == user.lower() and a["domain"] == dom:
                if a["known"] or include_unknown:
                    return a
        return None

    def local_account(self, name):
        a = self.find_acct(name)
        return a if a and a["domain"] is None else None

    def account_urls(self, a):
        host = a["domain"] or self.domain
        url = a.get("url") or "https://%s/@%s" % (host, a["username"])
        return url, "https://%s/users/%s" % (host, a["username"])

    # ---- relationships -----------------------------------------------------
    def follow_of(self, src, dst):
        for f in self.t["follows"].values():
            if f["account_id"] == src and f["target_id"] == dst:
                return f
        return None

    def request_of(self, src, dst):
        for f in self.t["follow_requests"].values():
            if f["account_id"] == src and f["target_id"] == dst:
                return f
        return None

    def block_of(self, src, dst):
        for b in self.t["blocks"].values():
            if b["account_id"] == src and b["target_id"] == dst:
                return b
        return None

    def mute_of(self, src, dst):
        now = self.clock()
        for m in list(self.t["mutes"].values()):
            if m["account_id"] == src and m["target_id"] == dst:
                if m.get("expires_at") and m["expires_at"] <= now:
                    del self.t["mutes"][m["id"]]
                    return None
                return m
        return None

    def active_mutes(self, src):
        return [m for m in list(self.t["mutes"].values())
                if m["account_id"] == src and self.mute_of(src, m["target_id"]) is not None]

    def domain_blocking(self, src, domain):
        if not domain:
            return False
        return any(d["account_id"] == src and d["domain"] == domain for d in self.t["domain_blocks"].values())

    def remove_follow(self, src, dst):
        f = self.follow_of(src, dst)
        if f:
            del self.t["follows"][f["id"]]
            for la in list(self.t["list_accounts"].values()):
                if la["follow_id"] == f["id"]:
                    del self.t["list_accounts"][la["id"]]
        r = self.request_of(src, dst)
        if r:
            del self.t["follow_requests"][r["id"]]

    def add_follow(self, src, dst, reblogs=True, notify=False, languages=None, at=None):
        f = {"id": self.next_serial("follows"), "account_id": src, "target_id": dst, "show_reblogs": reblogs,
             "notify": notify, "languages": languages, "created_at": self.clock() if at is None else at}
        self.t["follows"][f["id"]] = f
        return f

    def add_request(self, src, dst, reblogs=True, notify=False, languages=None):
        r = {"id": self.next_serial("follow_requests"), "account_id": src, "target_id": dst,
             "show_reblogs": reblogs, "notify": notify, "languages": languages, "created_at": self.clock()}
        self.t["follow_requests"][r["id"]] = r
        return r

    def add_block(self, src, dst):
        self.remove_follow(src, dst)
        self.remove_follow(dst, src)
        b = self.block_of(src, dst)
        if b is None:
            b = {"id": self.next_serial("blocks"), "account_id": src, "target_id": dst, "created_at": self.clock()}
            self.t["blocks"][b["id"]] = b
        return b

    def add_mute(self, src, dst, notifications=True, duration=0):
        m = self.mute_of(src, dst)
        expires = self.clock() + duration if duration and duration > 0 else None
        if m is None:
            m = {"id": self.next_serial("mutes"), "account_id": src, "target_id": dst, "created_at": self.clock()}
            self.t["mutes"][m["id"]] = m
        m["hide_notifications"] = bool(notifications)
        m["expires_at"] = expires
        return m

    def add_domain_block(self, src, domain):
        for d in self.t["domain_blocks"].values():
            if d["account_id"] == src and d["domain"] == domain:
                return d
        d = {"id": self.next_serial("domain_blocks"), "account_id": src, "domain": domain,
             "created_at": self.clock()}
        self.t["domain_blocks"][d["id"]] = d
        # "remove all followers from it"
        for f in list(self.t["follows"].values()):
            a = self.t["accounts"].get(f["account_id"])
            if f["target_id"] == src and a and a["domain"] == domain:
                self.remove_follow(f["account_id"], src)
        return d

    def relationship(self, viewer, target):
        v, t = viewer["id"], target["id"]
        f = self.follow_of(v, t)
        r = self.request_of(v, t)
        m = self.mute_of(v, t)
        via = f or r
        return {"id": t, "following": f is not None,
                "showing_reblogs": bool(via and via["show_reblogs"]),
                "notifying": bool(via and via["notify"]),
                "languages": via["languages"] if via else None,
                "followed_by": self.follow_of(t, v) is not None,
                "blocking": self.block_of(v, t) is not None,
                "blocked_by": self.block_of(t, v) is not None,
                "muting": m is not None,
                "muting_notifications": bool(m and m["hide_notifications"]),
                "requested": r is not None,
                "requested_by": self.request_of(t, v) is not None,
                "domain_blocking": self.domain_blocking(v, target["domain"]),
                "endorsed": False, "note": ""}

    # ---- statuses ----------------------------------------------------------
    def can_see(self, viewer, s):
        """public/unlisted: anyone; private: the author and followers;
        direct: the author only (mentions are not modelled)."""
        if s["visibility"] in ("public", "unlisted"):
            return True
        if viewer is None:
            return False
        if viewer["id"] == s["account_id"]:
            return True
        if s["visibility"] == "private":
            return self.follow_of(viewer["id"], s["account_id"]) is not None
        return False

    def status_uri(self, s):
        a = self.t["accounts"][s["account_id"]]
        host = a["domain"] or self.domain
        return s.get("uri") or "https://%s/users/%s/statuses/%s" % (host, a["username"], s["id"])

    def status_url(self, s):
        a = self.t["accounts"][s["account_id"]]
        host = a["domain"] or self.domain
        return s.get("url") or "https://%s/@%s/%s" % (host, a["username"], s["id"])

    def create_status(self, account, text, visibility="public", sensitive=False, spoiler_text="", language=None,
                      in_reply_to=None, reblog_of=None, created_at=None, pinned=False, application=None,
                      media=(), uri=None, url=None):
        at = self.clock() if created_at is None else created_at
        s = {"id": self.snowflake(at), "account_id": account["id"], "text": text or "", "visibility": visibility,
             "sensitive": bool(sensitive), "spoiler_text": spoiler_text or "", "language": language,
             "in_reply_to_id": in_reply_to["id"] if in_reply_to else None,
             "in_reply_to_account_id": in_reply_to["account_id"] if in_reply_to else None,
             "reblog_of_id": reblog_of["id"] if reblog_of else None, "created_at": at, "pinned": bool(pinned),
             "application": application, "media_ids": [m["id"] for m in media]}
        if uri:
            s["uri"] = uri
        if url:
            s["url"] = url
        self.t["statuses"][s["id"]] = s
        for m in media:
            m["status_id"] = s["id"]
        return s

    def create_media(self, account, data, content_type="application/octet-stream", kind=None, description=None,
                     meta=None, blurhash=None, at=None):
        mtype = kind or TYPE_OF_CONTENT.get(content_type.split("/")[0], "unknown")
        if mtype not in ("image", "gifv", "video", "audio", "unknown"):
            raise ValueError("media type must be image, gifv, video, audio or unknown")
        if meta is None:
            meta = {}
            wh = image_size(data)
            if wh:
                w, h = wh
                meta = {"original": {"width": w, "height": h, "size": "%dx%d" % (w, h),
                                     "aspect": (w / h) if h else 0}}
        m = {"id": self.snowflake(at), "account_id": account["id"], "type": mtype, "content_type": content_type,
             "data": base64.b64encode(data).decode(), "description": description, "meta": meta,
             "blurhash": blurhash, "status_id": None}
        self.t["media"][m["id"]] = m
        return m

    # ---- rendering ---------------------------------------------------------
    def account_json(self, a, base, viewer=None, credential=False, mute=None):
        sid = a["id"]
        statuses = [s for s in self.t["statuses"].values() if s["account_id"] == sid]
        url, uri = self.account_urls(a)
        last = max((s["created_at"] for s in statuses), default=None)
        day = int(a["created_at"] // 86400 * 86400)  # Mastodon shows the sign-up day only
        avatar, header = base + "/avatars/original/missing.png", base + "/headers/original/missing.png"
        out = {"id": sid, "username": a["username"], "acct": self.acct(a), "display_name": a["display_name"],
               "locked": a["locked"], "bot": a["bot"], "discoverable": a["discoverable"], "group": False,
               "indexable": False, "hide_collections": a["hide_collections"], "noindex": False,
               "created_at": C.iso(day), "note": text_to_html(a["note"]) if a["note"] else "",
               "url": url, "uri": uri,
               "avatar": avatar, "avatar_static": avatar, "header": header, "header_static": header,
               "followers_count": sum(1 for f in self.t["follows"].values() if f["target_id"] == sid),
               "following_count": sum(1 for f in self.t["follows"].values() if f["account_id"] == sid),
               "statuses_count": len(statuses),
               "last_status_at": C.iso(last, date_only=True) if last is not None else None,
               "emojis": [], "roles": [],
               "fields": [{"name": f.get("name", ""), "value": html.escape(f.get("value", ""), quote=False),
                           "verified_at": None} for f in a["fields"]]}
        if credential:
            out["source"] = {"privacy": "public", "sensitive": False, "language": "", "note": a["note"],
                             "fields": [{"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
                                        for f in a["fields"]],
                             "follow_requests_count": sum(1 for r in self.t["follow_requests"].values()
                                                          if r["target_id"] == sid),
                             "hide_collections": a["hide_collections"], "discoverable": a["discoverable"],
                             "indexable": False}
            out["role"] = {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False}
        if mute is not None:
            out["mute_expires_at"] = C.iso(mute["expires_at"]) if mute.get("expires_at") else None
        return out

    def media_url(self, m, base, style="original"):
        ext = CONTENT_EXT.get(m["content_type"], "bin")
        return "%s/system/media_attachments/files/%s/%s/%s.%s" % (base, m["id"], style, m["id"], ext)

    def media_json(self, m, base):
        return {"id": m["id"], "type": m["type"], "url": self.media_url(m, base),
                "preview_url": self.media_url(m, base, "small"), "remote_url": None, "preview_remote_url": None,
                "text_url": None, "meta": m["meta"], "description": m["description"], "blurhash": m["blurhash"]}

    def status_json(self, s, base, viewer=None, depth=0):
        a = self.t["accounts"][s["account_id"]]
        vid = viewer["id"] if viewer else None
        reblog = None
        if s["reblog_of_id"] and depth == 0:
            inner = self.t["statuses"].get(s["reblog_of_id"])
            if inner:
                reblog = self.status_json(inner, base, viewer, depth + 1)
        app = None
        if s.get("application") and vid == s["account_id"]:
            app = s["application"]
        tags = hashtags(s["text"])
        out = {"id": s["id"], "created_at": C.iso(s["created_at"]),
               "in_reply_to_id": s["in_reply_to_id"], "in_reply_to_account_id": s["in_reply_to_account_id"],
               "sensitive": s["sensitive"], "spoiler_text": s["spoiler_text"], "visibility": s["visibility"],
               "language": s["language"], "uri": self.status_uri(s), "url": self.status_url(s),
               "replies_count": sum(1 for x in self.t["statuses"].values() if x["in_reply_to_id"] == s["id"]),
               "reblogs_count": sum(1 for x in self.t["statuses"].values() if x["reblog_of_id"] == s["id"]),
               "favourites_count": sum(1 for x in self.t["favourites"].values() if x["status_id"] == s["id"]),
               "edited_at": None,
               "content": "" if s["reblog_of_id"] else text_to_html(s["text"]),
               "reblog": reblog, "application": app,
               "account": self.account_json(a, base),
               "media_attachments": [self.media_json(self.t["media"][m], base) for m in s["media_ids"]
                                     if m in self.t["media"]],
               "mentions": [], "tags": [{"name": t, "url": "https://%s/tags/%s" % (self.domain, t)} for t in tags],
               "emojis": [], "card": None, "poll": None, "filtered": []}
        if viewer is not None:
            out["favourited"] = any(x["account_id"] == vid and x["status_id"] == s["id"]
                                    for x in self.t["favourites"].values())
            out["reblogged"] = any(x["account_id"] == vid and x["reblog_of_id"] == s["id"]
                                   for x in self.t["statuses"].values())
            out["muted"] = False
            out["bookmarked"] = any(x["account_id"] == vid and x["status_id"] == s["id"]
                                    for x in self.t["bookmarks"].values())
            if vid == s["account_id"]:
                out["pinned"] = s["pinned"]
        return out

    def list_json(self, lst):
        return {"id": lst["id"], "title": lst["title"], "replies_policy": lst["replies_policy"],
                "exclusive": lst["exclusive"]}

    # ---- seeding (POST /_fake/seed) ---------------------------------------
    def seed(self, body):
        """See README "Seed format".  Raises ValueError on bad input (the
        hook answers 400); what was created before the error stays."""
        if not isinstance(body, dict):
            raise ValueError("seed wants a JSON object")
        known = {"accounts", "follows", "follow_requests", "blocks", "mutes", "domain_blocks", "lists", "media",
                 "statuses", "bookmarks", "favourites", "tokens"}
        bad = set(body) - known
        if bad:
            raise ValueError("unknown seed keys: %s" % sorted(bad))
        out = {"accounts": {}, "statuses": {}, "lists": {}, "media": {}, "tokens": {}}

        def objs(name):
            v = body.get(name, [])
            if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
                raise ValueError("%s must be a list of objects" % name)
            return v

        def acc(ref, what):
            a = self.find_acct(ref, include_unknown=True) if isinstance(ref, str) else None
            if a is None and isinstance(ref, str):
                a = self.t["accounts"].get(ref)
            if a is None:
                raise ValueError("%s: no account %r" % (what, ref))
            return a

        def status_ref(ref, what):
            sid = self.keys["statuses"].get(ref, ref) if isinstance(ref, str) else str(ref)
            s = self.t["statuses"].get(sid)
            if s is None:
                raise ValueError("%s: no status %r" % (what, ref))
            return s

        def media_from(a, spec):
            if "data_base64" in spec:
                try:
                    data = base64.b64decode(spec["data_base64"], validate=True)
                except Exception:
                    raise ValueError("media data_base64 is not base64")
            elif "text" in spec:
                data = str(spec["text"]).encode()
            else:
                raise ValueError("media needs data_base64 or text")
            ct = spec.get("content_type") or ("text/plain" if "text" in spec else "application/octet-stream")
            return self.create_media(a, data, ct, spec.get("type"), spec.get("description"), spec.get("meta"),
                                     spec.get("blurhash"))

        for spec in objs("accounts"):
            allowed = {"username", "domain", "display_name", "note", "locked", "bot", "discoverable",
                       "hide_collections", "known", "fields", "created_at", "url"}
            if set(spec) - allowed:
                raise ValueError("unknown account keys: %s" % sorted(set(spec) - allowed))
            kw = {k: v for k, v in spec.items() if k not in ("username", "domain")}
            a = self.create_account(spec.get("username"), spec.get("domain"), **kw)
            out["accounts"][self.acct(a)] = a["id"]
        for spec in objs("follows"):
            a, t = acc(spec.get("account"), "follows"), acc(spec.get("target"), "follows")
            if a["id"] == t["id"]:
                raise ValueError("an account cannot follow itself")
            if not self.follow_of(a["id"], t["id"]):
                self.add_follow(a["id"], t["id"], bool(spec.get("reblogs", True)), bool(spec.get("notify", False)),
                                spec.get("languages"))
        for spec in objs("follow_requests"):
            a, t = acc(spec.get("account"), "follow_requests"), acc(spec.get("target"), "follow_requests")
            if not self.request_of(a["id"], t["id"]):
                self.add_request(a["id"], t["id"])
        for spec in objs("blocks"):
            self.add_block(acc(spec.get("account"), "blocks")["id"], acc(spec.get("target"), "blocks")["id"])
        for spec in objs("mutes"):
            self.add_mute(acc(spec.get("account"), "mutes")["id"], acc(spec.get("target"), "mutes")["id"],
                          spec.get("notifications", True), int(spec.get("duration", 0) or 0))
        for spec in objs("domain_blocks"):
            dom = str(spec.get("domain", "")).strip().lower()
            if not DOMAIN_RE.match(dom):
                raise ValueError("bad domain %r" % dom)
            self.add_domain_block(acc(spec.get("account"), "domain_blocks")["id"], dom)
        for spec in objs("lists"):
            a = acc(spec.get("account"), "lists")
            rp = spec.get("replies_policy", "list")
            if rp not in ("followed", "list", "none"):
                raise ValueError("bad replies_policy %r" % rp)
            lst = {"id": self.next_serial("lists"), "account_id": a["id"], "title": str(spec.get("title", "")),
                   "replies_policy": rp, "exclusive": bool(spec.get("exclusive", False))}
            if not lst["title"]:
                raise ValueError("list title is required")
            self.t["lists"][lst["id"]] = lst
            out["lists"][lst["title"]] = lst["id"]
            for ref in spec.get("members", []):
                m = acc(ref, "list members")
                f = self.follow_of(a["id"], m["id"])
                if f is None:
                    raise ValueError("list %r: %s must be followed before it can be a member" % (lst["title"], ref))
                la = {"id": self.next_serial("list_accounts"), "list_id": lst["id"], "account_id": m["id"],
                      "follow_id": f["id"]}
                self.t["list_accounts"][la["id"]] = la
        for spec in objs("media"):
            a = acc(spec.get("account"), "media")
            m = media_from(a, spec)
            if spec.get("key"):
                self.keys["media"][spec["key"]] = m["id"]
                out["media"][spec["key"]] = m["id"]
        for spec in objs("statuses"):
            allowed = {"account", "key", "text", "visibility", "sensitive", "spoiler_text", "language",
                       "created_at", "in_reply_to", "reblog_of", "pinned", "media", "uri", "url"}
            if set(spec) - allowed:
                raise ValueError("unknown status keys: %s" % sorted(set(spec) - allowed))
            a = acc(spec.get("account"), "statuses")
            vis = spec.get("visibility", "public")
            if vis not in ("public", "unlisted", "private", "direct"):
                raise ValueError("bad visibility %r" % vis)
            at = C.parse_time(spec["created_at"]) if spec.get("created_at") else None
            if spec.get("created_at") and at is None:
                raise ValueError("bad created_at %r" % spec["created_at"])
            media = []
            for m in spec.get("media", []):
                if isinstance(m, dict):
                    media.append(media_from(a, m))
                elif self.t["media"].get(self.keys["media"].get(m, m)):
                    media.append(self.t["media"][self.keys["media"].get(m, m)])
                else:
                    raise ValueError("statuses: no media %r" % (m,))
            s = self.create_status(
                a, spec.get("text", ""), vis, spec.get("sensitive", False), spec.get("spoiler_text", ""),
                spec.get("language"),
                status_ref(spec["in_reply_to"], "in_reply_to") if spec.get("in_reply_to") else None,
                status_ref(spec["reblog_of"], "reblog_of") if spec.get("reblog_of") else None,
                at, spec.get("pinned", False), None, media, spec.get("uri"), spec.get("url"))
            key = spec.get("key") or s["id"]
            self.keys["statuses"][key] = s["id"]
            out["statuses"][key] = s["id"]
        for table, name in (("bookmarks", "bookmarks"), ("favourites", "favourites")):
            for spec in objs(name):
                a = acc(spec.get("account"), name)
                s = status_ref(spec.get("status"), name)
                if not any(x["account_id"] == a["id"] and x["status_id"] == s["id"] for x in self.t[table].values()):
                    r = {"id": self.next_serial(table), "account_id": a["id"], "status_id": s["id"]}
                    self.t[table][r["id"]] = r
        for spec in objs("tokens"):
            a = acc(spec.get("account"), "tokens") if spec.get("account") else None
            tok = spec.get("token") or self.secret()
            scopes = spec.get("scopes", "read")
            scopes = scopes.split() if isinstance(scopes, str) else list(scopes)
            self.t["tokens"][tok] = {"token": tok, "app_id": None, "account_id": a["id"] if a else None,
                                     "scopes": scopes, "created_at": self.clock(), "revoked": False,
                                     "expired": False}
            out["tokens"][tok] = a["id"] if a else None
        return out
