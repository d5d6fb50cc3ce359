"""REST handlers of the Mastodon fake: accounts, relationships, blocks,
mutes, domain blocks, bookmarks, favourites, lists, statuses, search,
instance, media files and the settings-page CSV exports.

Each handler names its reference page.  Loaded by server.py under the module
name ``mfake_api``.
"""
import base64
import csv
import io
import re

import mfake_common as C
import mfake_store as S

PAGE = {"max_id", "since_id", "min_id", "limit"}


def forbidden():
    return C.ApiError(403, "This action is not allowed")


def target(ctx):
    a = ctx.w.account(ctx.match["id"])
    if a is None:
        raise C.not_found()
    return a


def carried(p, names):
    """Query parameters Mastodon keeps in the Link URLs (pagination_params)."""
    out = {}
    for n in names:
        if p.has(n) and isinstance(p.raw(n), (str, int, bool)):
            v = p.raw(n)
            out[n] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out


def page_of(ctx, p, rows, key, limit, cur, prev_param, carry=("limit",)):
    page, keys = C.paginate(rows, key, limit, cur.get("max_id"), cur.get("since_id"), cur.get("min_id"))
    link = C.link_header(ctx.base, ctx.path, carried(p, carry), keys, limit, prev_param)
    if link:
        ctx.headers_out["Link"] = link
    return page


# ---- accounts ---------------------------------------------------------------------
# https://docs.joinmastodon.org/methods/accounts/

def verify_credentials(ctx):
    """#verify_credentials: user token + read:accounts (or `profile`, 4.3+)."""
    ctx.P(set())
    return ctx.w.account_json(ctx.viewer, ctx.base, ctx.viewer, credential=True)


def get_account(ctx):
    """#get: public."""
    ctx.P(set())
    return ctx.w.account_json(target(ctx), ctx.base, ctx.viewer)


def lookup(ctx):
    """#lookup: public; no WebFinger, so remote accounts the instance does not know are 404."""
    p = ctx.P({"acct"})
    acct = p.str("acct")
    if not acct:
        raise C.missing("acct")
    a = ctx.w.find_acct(acct)
    if a is None:
        raise C.not_found()
    return ctx.w.account_json(a, ctx.base, ctx.viewer)


def account_statuses(ctx):
    """#statuses: public (public/unlisted posts), user token + read:statuses for private ones.
    limit 20, max 40; only_media, exclude_replies, exclude_reblogs, pinned, tagged."""
    filters = ("only_media", "exclude_replies", "exclude_reblogs", "pinned", "tagged")
    p = ctx.P(PAGE | set(filters))
    limit = p.limit(20, 40)
    cur = {n: p.cursor(n) for n in ("max_id", "since_id", "min_id")}
    a = target(ctx)
    w = ctx.w
    rows = [s for s in w.t["statuses"].values() if s["account_id"] == a["id"] and w.can_see(ctx.viewer, s)]
    if p.bool("only_media", False):
        rows = [s for s in rows if s["media_ids"]]
    if p.bool("exclude_replies", False):
        rows = [s for s in rows if not s["in_reply_to_id"] or s["in_reply_to_account_id"] == a["id"]]
    if p.bool("exclude_reblogs", False):
        rows = [s for s in rows if not s["reblog_of_id"]]
    if p.bool("pinned", False):
        rows = [s for s in rows if s["pinned"]]
    tag = p.str("tagged")
    if tag:
        rows = [s for s in rows if tag.lower().lstrip("#") in S.hashtags(s["text"])]
    page = page_of(ctx, p, rows, lambda s: int(s["id"]), limit, cur, "min_id", ("limit",) + filters)
    return [w.status_json(s, ctx.base, ctx.viewer) for s in page]


def _follow_list(ctx, followers):
    """#followers / #following: public; limit 40, max 80; pages by Follow ids (Link header only)."""
    p = ctx.P(PAGE)
    limit = p.limit(40, 80)
    cur = C.check_internal_cursor(p)
    a = target(ctx)
    w = ctx.w
    if a["hide_collections"] and (ctx.viewer is None or ctx.viewer["id"] != a["id"]):
        return []
    if followers:
        rows = [f for f in w.t["follows"].values() if f["target_id"] == a["id"] and w.account(f["account_id"])]
    else:
        rows = [f for f in w.t["follows"].values() if f["account_id"] == a["id"] and w.account(f["target_id"])]
    page = page_of(ctx, p, rows, lambda f: int(f["id"]), limit, cur, "since_id")
    other = "account_id" if followers else "target_id"
    return [w.account_json(w.account(f[other]), ctx.base, ctx.viewer) for f in page]


def followers(ctx):
    return _follow_list(ctx, True)


def following(ctx):
    return _follow_list(ctx, False)


def account_lists(ctx):
    """#lists: user token + read:lists."""
    ctx.P(set())
    a = target(ctx)
    w = ctx.w
    mine = [lst for lst in w.t["lists"].values() if lst["account_id"] == ctx.viewer["id"]]
    inside = {la["list_id"] for la in w.t["list_accounts"].values() if la["account_id"] == a["id"]}
    return [w.list_json(lst) for lst in sorted(mine, key=lambda x: int(x["id"])) if lst["id"] in inside]


def follow(ctx):
    """#follow: user token + write:follows; reblogs (default true), notify (false), languages[]."""
    p = ctx.P({"reblogs", "notify", "languages"})
    me, t = ctx.viewer, target(ctx)
    w = ctx.w
    if t["id"] == me["id"]:
        ctx.violation("an account cannot follow itself")
        raise C.not_found()
    if w.block_of(me["id"], t["id"]) or w.block_of(t["id"], me["id"]) or w.domain_blocking(me["id"], t["domain"]):
        raise forbidden()
    langs = None
    if p.has("languages"):
        langs = p.list("languages")
        bad = [x for x in langs if not re.fullmatch(r"[a-z]{2,3}", x)]
        if bad:
            raise C.invalid("Languages contains an unknown language: %s" % ", ".join(bad))
        langs = langs or None
    rec = w.follow_of(me["id"], t["id"]) or w.request_of(me["id"], t["id"])
    if rec is not None:  # already following: only the options given change
        if p.has("reblogs"):
            rec["show_reblogs"] = p.bool("reblogs", True)
        if p.has("notify"):
            rec["notify"] = p.bool("notify", False)
        if p.has("languages"):
            rec["languages"] = langs
        return w.relationship(me, t)
    ctx.fake.count_follow(ctx)  # 429 when the daily follow budget is spent
    reblogs, notify = p.bool("reblogs", True), p.bool("notify", False)
    if t["locked"] or (t["domain"] and ctx.fake.remote_follow == "pending"):
        w.add_request(me["id"], t["id"], reblogs, notify, langs)
    else:
        w.add_follow(me["id"], t["id"], reblogs, notify, langs)
    return w.relationship(me, t)


def unfollow(ctx):
    """#unfollow: user token + write:follows; also withdraws a pending request."""
    ctx.P(set())
    t = target(ctx)
    ctx.w.remove_follow(ctx.viewer["id"], t["id"])
    return ctx.w.relationship(ctx.viewer, t)


def block(ctx):
    """#block: user token + write:blocks; ends follows both ways."""
    ctx.P(set())
    t = target(ctx)
    if t["id"] == ctx.viewer["id"]:
        ctx.violation("an account cannot block itself")
        raise forbidden()
    ctx.w.add_block(ctx.viewer["id"], t["id"])
    return ctx.w.relationship(ctx.viewer, t)


def unblock(ctx):
    ctx.P(set())
    t = target(ctx)
    b = ctx.w.block_of(ctx.viewer["id"], t["id"])
    if b:
        del ctx.w.t["blocks"][b["id"]]
    return ctx.w.relationship(ctx.viewer, t)


def mute(ctx):
    """#mute: user token + write:mutes; notifications (default true), duration seconds (0 = indefinite)."""
    p = ctx.P({"notifications", "duration"})
    t = target(ctx)
    if t["id"] == ctx.viewer["id"]:
        ctx.violation("an account cannot mute itself")
        raise forbidden()
    duration = 0
    if p.has("duration"):
        raw = p.raw("duration")
        duration = C.ruby_to_i(raw)
        if isinstance(raw, str) and not re.fullmatch(r"\d+", raw.strip()) or duration < 0:
            ctx.violation("duration=%r is not a number of seconds" % (raw,))
            duration = max(duration, 0)
    ctx.w.add_mute(ctx.viewer["id"], t["id"], p.bool("notifications", True), duration)
    return ctx.w.relationship(ctx.viewer, t)


def unmute(ctx):
    ctx.P(set())
    t = target(ctx)
    m = ctx.w.mute_of(ctx.viewer["id"], t["id"])
    if m:
        del ctx.w.t["mutes"][m["id"]]
    return ctx.w.relationship(ctx.viewer, t)


def relationships(ctx):
    """#relationships: user token + read:follows; id[] (unknown ids are left out)."""
    p = ctx.P({"id", "with_suspended"})
    p.bool("with_suspended", False)
    out, seen = [], set()
    for i in p.list("id"):
        a = ctx.w.account(i)
        if a is None or a["id"] in seen:
            continue
        seen.add(a["id"])
        out.append(ctx.w.relationship(ctx.viewer, a))
    return out


# ---- blocks, mutes, domain blocks, bookmarks, favourites -------------------------

def blocks(ctx):
    """https://docs.joinmastodon.org/methods/blocks/ : read:blocks; limit 40, max 80; prev link since_id."""
    p = ctx.P(PAGE)
    limit = p.limit(40, 80)
    cur = C.check_internal_cursor(p)
    w = ctx.w
    rows = [b for b in w.t["blocks"].values() if b["account_id"] == ctx.viewer["id"] and w.account(b["target_id"])]
    page = page_of(ctx, p, rows, lambda b: int(b["id"]), limit, cur, "since_id")
    return [w.account_json(w.account(b["target_id"]), ctx.base, ctx.viewer) for b in page]


def mutes(ctx):
    """https://docs.joinmastodon.org/methods/mutes/ : read:mutes; max_id, since_id, limit 40 (max 80);
    entries carry mute_expires_at."""
    p = ctx.P({"max_id", "since_id", "limit"})
    limit = p.limit(40, 80)
    cur = C.check_internal_cursor(p, ("max_id", "since_id"))
    w = ctx.w
    rows = [m for m in w.active_mutes(ctx.viewer["id"]) if w.account(m["target_id"])]
    page = page_of(ctx, p, rows, lambda m: int(m["id"]), limit, cur, "since_id")
    return [w.account_json(w.account(m["target_id"]), ctx.base, ctx.viewer, mute=m) for m in page]


def domain_blocks(ctx):
    """https://docs.joinmastodon.org/methods/domain_blocks/#get : read:blocks; limit 100, max 200; strings."""
    p = ctx.P(PAGE)
    limit = p.limit(100, 200)
    cur = C.check_internal_cursor(p)
    rows = [d for d in ctx.w.t["domain_blocks"].values() if d["account_id"] == ctx.viewer["id"]]
    page = page_of(ctx, p, rows, lambda d: int(d["id"]), limit, cur, "since_id")
    return [d["domain"] for d in page]


def _domain_param(ctx):
    p = ctx.P({"domain"})
    dom = p.str("domain")
    if dom is None or dom.strip() == "":
        raise C.invalid("Domain can't be blank")
    dom = dom.strip().lower()
    if not S.DOMAIN_RE.match(dom):
        raise C.invalid("Domain is not a valid domain name")
    return dom


def add_domain_block(ctx):
    """#block: write:blocks; domain (422 when blank or not a domain)."""
    dom = _domain_param(ctx)
    if dom == ctx.w.domain:
        ctx.violation("blocking your own instance's domain")
    ctx.w.add_domain_block(ctx.viewer["id"], dom)
    return {}


def remove_domain_block(ctx):
    """#unblock: write:blocks."""
    dom = _domain_param(ctx)
    for d in list(ctx.w.t["domain_blocks"].values()):
        if d["account_id"] == ctx.viewer["id"] and d["domain"] == dom:
            del ctx.w.t["domain_blocks"][d["id"]]
    return {}


def _status_marks(ctx, table):
    p = ctx.P(PAGE)
    limit = p.limit(20, 40)
    cur = C.check_internal_cursor(p)
    w = ctx.w
    rows = [x for x in w.t[table].values() if x["account_id"] == ctx.viewer["id"]
            and x["status_id"] in w.t["statuses"] and w.can_see(ctx.viewer, w.t["statuses"][x["status_id"]])]
    page = page_of(ctx, p, rows, lambda x: int(x["id"]), limit, cur, "min_id")
    return [w.status_json(w.t["statuses"][x["status_id"]], ctx.base, ctx.viewer) for x in page]


def bookmarks(ctx):
    """https://docs.joinmastodon.org/methods/bookmarks/ : read:bookmarks; limit 20, max 40; prev link min_id."""
    return _status_marks(ctx, "bookmarks")


def favourites(ctx):
    """https://docs.joinmastodon.org/methods/favourites/ : read:favourites; limit 20, max 40; prev link min_id."""
    return _status_marks(ctx, "favourites")


# ---- lists ----------------------------------------------------------------------------
# https://docs.joinmastodon.org/methods/lists/

def own_list(ctx):
    lst = ctx.w.t["lists"].get(ctx.match["id"])
    if lst is None or lst["account_id"] != ctx.viewer["id"]:
        raise C.not_found()
    return lst


def _list_fields(ctx, p, lst, creating):
    if creating or p.has("title"):
        title = p.str("title")
        if title is None or title.strip() == "":
            raise C.invalid("Title can't be blank")
        if len(title) > 255:
            raise C.invalid("Title is too long (maximum is 255 characters)")
        lst["title"] = title
    if p.has("replies_policy") or creating:
        rp = p.str("replies_policy", "list")
        if rp not in ("followed", "list", "none"):
            raise C.ApiError(422, "'%s' is not a valid replies_policy" % rp, violation=True)
        lst["replies_policy"] = rp
    if p.has("exclusive") or creating:
        lst["exclusive"] = bool(p.bool("exclusive", False))


def lists(ctx):
    """#get: read:lists; all lists, no paging."""
    ctx.P(set())
    mine = [lst for lst in ctx.w.t["lists"].values() if lst["account_id"] == ctx.viewer["id"]]
    return [ctx.w.list_json(lst) for lst in sorted(mine, key=lambda x: int(x["id"]))]


def get_list(ctx):
    """#get-one: read:lists."""
    ctx.P(set())
    return ctx.w.list_json(own_list(ctx))


def create_list(ctx):
    """#create: write:lists; title (required), replies_policy (followed|list|none, default list), exclusive."""
    p = ctx.P({"title", "replies_policy", "exclusive"})
    lst = {"account_id": ctx.viewer["id"]}
    _list_fields(ctx, p, lst, True)
    lst["id"] = ctx.w.next_serial("lists")
    ctx.w.t["lists"][lst["id"]] = lst
    return ctx.w.list_json(lst)


def update_list(ctx):
    """#update: write:lists."""
    p = ctx.P({"title", "replies_policy", "exclusive"})
    lst = own_list(ctx)
    trial = dict(lst)
    _list_fields(ctx, p, trial, False)
    lst.update(trial)
    return ctx.w.list_json(lst)


def delete_list(ctx):
    """#delete: write:lists."""
    ctx.P(set())
    lst = own_list(ctx)
    del ctx.w.t["lists"][lst["id"]]
    for la in list(ctx.w.t["list_accounts"].values()):
        if la["list_id"] == lst["id"]:
            del ctx.w.t["list_accounts"][la["id"]]
    return {}


def list_accounts(ctx):
    """#accounts: read:lists; limit 40, max 80, 0 = all without paging; prev link since_id."""
    p = ctx.P(PAGE)
    limit = p.limit(40, 80, zero_means_all=True)
    cur = C.check_internal_cursor(p)
    lst = own_list(ctx)
    w = ctx.w
    rows = [la for la in w.t["list_accounts"].values() if la["list_id"] == lst["id"] and w.account(la["account_id"])]
    if limit == 0:
        page, _ = C.paginate(rows, lambda la: int(la["id"]), len(rows), cur["max_id"], cur["since_id"], cur["min_id"])
    else:
        page = page_of(ctx, p, rows, lambda la: int(la["id"]), limit, cur, "since_id")
    return [w.account_json(w.account(la["account_id"]), ctx.base, ctx.viewer) for la in page]


def add_list_accounts(ctx):
    """#accounts-add: write:lists; account_ids[]; each account must be followed (404 per the reference,
    or 422 with --list-unfollowed 422); one already in the list → 422."""
    p = ctx.P({"account_ids"})
    lst = own_list(ctx)
    w = ctx.w
    ids = p.list("account_ids")
    if not ids:
        ctx.violation("account_ids[] is required")
    todo = []
    for i in ids:
        a = w.account(i)
        if a is None:
            raise C.not_found()
        f = w.follow_of(ctx.viewer["id"], a["id"])
        if f is None:
            ctx.violation("account %s is not followed; only followed accounts can be added to a list" % i)
            if ctx.fake.list_unfollowed == 422:
                raise C.invalid("Account must be followed before it can be added to a list")
            raise C.not_found()
        if any(la["list_id"] == lst["id"] and la["account_id"] == a["id"] for la in w.t["list_accounts"].values()) \
                or any(a["id"] == x["id"] for x, _ in todo):
            raise C.invalid("Account has already been taken")
        todo.append((a, f))
    for a, f in todo:
        la = {"id": w.next_serial("list_accounts"), "list_id": lst["id"], "account_id": a["id"], "follow_id": f["id"]}
        w.t["list_accounts"][la["id"]] = la
    return {}


def remove_list_accounts(ctx):
    """#accounts-remove: write:lists; account_ids[] (ids not in the list are ignored)."""
    p = ctx.P({"account_ids"})
    lst = own_list(ctx)
    ids = set(p.list("account_ids"))
    if not ids:
        ctx.violation("account_ids[] is required")
    for la in list(ctx.w.t["list_accounts"].values()):
        if la["list_id"] == lst["id"] and la["account_id"] in ids:
            del ctx.w.t["list_accounts"][la["id"]]
    return {}


# ---- statuses -----------------------------------------------------------------------
# https://docs.joinmastodon.org/methods/statuses/

def visible_status(ctx):
    s = ctx.w.t["statuses"].get(ctx.match["id"])
    if s is None or not ctx.w.can_see(ctx.viewer, s):
        raise C.not_found()
    return s


def get_status(ctx):
    """#get: public for public statuses, read:statuses for private ones."""
    ctx.P(set())
    return ctx.w.status_json(visible_status(ctx), ctx.base, ctx.viewer)


IDEMPOTENCY_WINDOW = 3600


def post_status(ctx):
    """#create: write:statuses.  For seeding and tests: the post is dated now;
    there is no parameter to back-date a post, so an importer cannot (and
    must not try to) recreate old posts with it."""
    p = ctx.P({"status", "media_ids", "in_reply_to_id", "sensitive", "spoiler_text", "visibility", "language",
               "poll", "scheduled_at"})
    w = ctx.w
    key = ctx.headers.get("Idempotency-Key")
    if key:
        hit = w.idempotency.get((ctx.viewer["id"], key))
        if hit and hit[1] > ctx.clock() - IDEMPOTENCY_WINDOW and hit[0] in w.t["statuses"]:
            return w.status_json(w.t["statuses"][hit[0]], ctx.base, ctx.viewer)
    if p.has("poll") or p.has("scheduled_at"):
        raise C.ApiError(422, "Validation failed: the fake does not implement polls or scheduled statuses")
    text = p.str("status", "") or ""
    media_ids = p.list("media_ids")
    if len(media_ids) > 4:
        raise C.invalid("Media attachments can have at most 4 items")
    media = []
    for mid in media_ids:
        m = w.t["media"].get(mid)
        if m is None or m["account_id"] != ctx.viewer["id"] or m["status_id"] is not None:
            raise C.invalid("Media ids %s is not an unattached upload of yours" % mid)
        media.append(m)
    if not text.strip() and not media:
        raise C.invalid("Text can't be blank")
    if len(text) > 500:
        raise C.invalid("Text character limit of 500 exceeded")
    vis = p.str("visibility", "public")
    if vis not in ("public", "unlisted", "private", "direct"):
        raise C.invalid("Visibility is not included in the list")
    lang = p.str("language")
    if lang is not None and not re.fullmatch(r"[a-z]{2,3}", lang):
        raise C.invalid("Language is not a valid ISO 639 code")
    reply = None
    if p.str("in_reply_to_id"):
        reply = w.t["statuses"].get(p.str("in_reply_to_id"))
        if reply is None or not w.can_see(ctx.viewer, reply):
            raise C.not_found()
    app = None
    if ctx.token.get("app_id") in w.t["apps"]:
        a = w.t["apps"][ctx.token["app_id"]]
        app = {"name": a["name"], "website": a["website"]}
    s = w.create_status(ctx.viewer, text, vis, p.bool("sensitive", False), p.str("spoiler_text", ""), lang,
                        reply, None, None, False, app, media)
    if key:
        w.idempotency[(ctx.viewer["id"], key)] = (s["id"], ctx.clock())
    return w.status_json(s, ctx.base, ctx.viewer)


def _mark(ctx, table, on):
    ctx.P(set())
    s = visible_status(ctx)
    w = ctx.w
    have = [x for x in w.t[table].values() if x["account_id"] == ctx.viewer["id"] and x["status_id"] == s["id"]]
    if on and not have:
        r = {"id": w.next_serial(table), "account_id": ctx.viewer["id"], "status_id": s["id"]}
        w.t[table][r["id"]] = r
    if not on:
        for x in have:
            del w.t[table][x["id"]]
    return w.status_json(s, ctx.base, ctx.viewer)


def bookmark(ctx):
    """#bookmark: write:bookmarks."""
    return _mark(ctx, "bookmarks", True)


def unbookmark(ctx):
    """#unbookmark: write:bookmarks."""
    return _mark(ctx, "bookmarks", False)


def favourite(ctx):
    """#favourite: write:favourites."""
    return _mark(ctx, "favourites", True)


def unfavourite(ctx):
    """#unfavourite: write:favourites."""
    return _mark(ctx, "favourites", False)


# ---- search ------------------------------------------------------------------------------
# https://docs.joinmastodon.org/methods/search/#v2

ACCT_RE = re.compile(r"^@?([A-Za-z0-9_.-]+)(?:@([A-Za-z0-9.:-]+))?$")


def search(ctx):
    """public without resolve/offset, else user token + read:search.  Accounts:
    an exact address (known, or a seeded remote account not yet known, found
    with resolve=true as WebFinger would), a profile URL, or a substring of
    username/display name.  Statuses: by URL/URI only.  Hashtags: none."""
    p = ctx.P({"q", "type", "resolve", "following", "account_id", "exclude_unreviewed", "max_id", "min_id",
               "limit", "offset"})
    q = p.str("q")
    if q is None or q.strip() == "":
        raise C.missing("q")
    typ = p.str("type")
    if typ is not None and typ not in ("accounts", "hashtags", "statuses"):
        ctx.violation("type=%r; the reference allows accounts, hashtags, statuses" % typ)
        typ = None
    resolve = p.bool("resolve", False)
    offset = abs(C.ruby_to_i(p.raw("offset"))) if p.has("offset") else 0
    if ctx.viewer is None and resolve:
        raise C.ApiError(401, "Search queries that resolve remote resources are not supported without "
                         "authentication", violation=True)
    if ctx.viewer is None and p.has("offset"):
        raise C.ApiError(401, "Search queries with offset are not supported without authentication", violation=True)
    limit = p.limit(20, 40)
    following_only = p.bool("following", False)
    p.bool("exclude_unreviewed", False)
    w = ctx.w
    q = q.strip()
    out = {"accounts": [], "statuses": [], "hashtags": []}
    if typ in (None, "accounts"):
        found = []
        m = ACCT_RE.match(q)
        if m and m.group(2):
            a = w.find_acct(q)
            if a is None and resolve:
                a = w.find_acct(q, include_unknown=True)
                if a is not None:
                    a["known"] = True  # WebFinger resolved it; the instance knows it from now on
            found = [a] if a else []
        elif q.startswith(("http://", "https://")):
            found = [a for a in w.t["accounts"].values() if (a["known"] or resolve) and q in w.account_urls(a)]
            for a in found:
                a["known"] = True
        else:
            needle = q.lstrip("@").lower()
            found = [a for a in w.t["accounts"].values() if a["known"] and
                     (needle in a["username"].lower() or needle in a["display_name"].lower())]
            found.sort(key=lambda a: (a["username"].lower() != needle, int(a["id"])))
        if following_only and ctx.viewer:
            found = [a for a in found if w.follow_of(ctx.viewer["id"], a["id"])]
        out["accounts"] = [w.account_json(a, ctx.base, ctx.viewer) for a in found[offset:offset + limit]]
    if typ in (None, "statuses") and q.startswith(("http://", "https://")):
        hits = [s for s in w.t["statuses"].values()
                if q in (w.status_uri(s), w.status_url(s)) and w.can_see(ctx.viewer, s)]
        if p.str("account_id"):
            hits = [s for s in hits if s["account_id"] == p.str("account_id")]
        out["statuses"] = [w.status_json(s, ctx.base, ctx.viewer) for s in hits[offset:offset + limit]]
    return out


# ---- instance ------------------------------------------------------------------------------
# https://docs.joinmastodon.org/methods/instance/

def instance_v2(ctx):
    ctx.P(set())
    return {"domain": ctx.w.domain, "title": "Mastodon fake", "version": "4.3.0", "source_url":
            "https://github.com/mastodon/mastodon", "description": "A test stand-in.",
            "usage": {"users": {"active_month": sum(1 for a in ctx.w.t["accounts"].values() if not a["domain"])}},
            "thumbnail": {"url": ctx.base + "/headers/original/missing.png"}, "languages": ["en"],
            "configuration": {"urls": {"streaming": None},
                              "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                              "statuses": {"max_characters": 500, "max_media_attachments": 4,
                                           "characters_reserved_per_url": 23},
                              "media_attachments": {"supported_mime_types": sorted(S.CONTENT_EXT)},
                              "translation": {"enabled": False}},
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "api_versions": {"mastodon": 2},
            "contact": {"email": "", "account": None}, "rules": []}


def instance_v1(ctx):
    ctx.P(set())
    return {"uri": ctx.w.domain, "title": "Mastodon fake", "short_description": "A test stand-in.",
            "description": "", "email": "", "version": "4.3.0", "urls": {}, "languages": ["en"],
            "registrations": False, "approval_required": False, "invites_enabled": False,
            "stats": {"user_count": sum(1 for a in ctx.w.t["accounts"].values() if not a["domain"]),
                      "status_count": len(ctx.w.t["statuses"]), "domain_count": 1}}


# ---- media files (what a CDN or /system serves; no authentication) ------------------------

def media_file(ctx):
    m = ctx.w.t["media"].get(ctx.match["id"])
    if m is None or ctx.match["style"] not in ("original", "small"):
        return ctx.raw(404, b"Not Found", "text/plain")
    want = "%s.%s" % (m["id"], S.CONTENT_EXT.get(m["content_type"], "bin"))
    if ctx.match["name"] != want:
        return ctx.raw(404, b"Not Found", "text/plain")
    return ctx.raw(200, base64.b64decode(m["data"]), m["content_type"])


def missing_png(ctx):
    return ctx.raw(200, S.MISSING_PNG, "image/png")


# ---- settings-page CSV exports --------------------------------------------------------------
# The files of Settings > Import and export > Data export (https://docs.joinmastodon.org/user/moving/#export)

def _csv(rows, header=None):
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    if header:
        wr.writerow(header)
    for r in rows:
        wr.writerow(["true" if v is True else "false" if v is False else "" if v is None else v for v in r])
    return buf.getvalue().encode()


def export(ctx):
    kind = ctx.match["kind"]
    w = ctx.w
    me = ctx.viewer["id"]
    acct = w.full_acct
    if kind == "follows":
        rows = sorted((f for f in w.t["follows"].values() if f["account_id"] == me), key=lambda f: -int(f["id"]))
        data = _csv([[acct(w.t["accounts"][f["target_id"]]), f["show_reblogs"], f["notify"],
                      ", ".join(f["languages"]) if f["languages"] else None] for f in rows],
                    ["Account address", "Show boosts", "Notify on new posts", "Languages"])
        name = "following_accounts.csv"
    elif kind == "lists":
        out = []
        for lst in sorted((x for x in w.t["lists"].values() if x["account_id"] == me), key=lambda x: int(x["id"])):
            for la in sorted((x for x in w.t["list_accounts"].values() if x["list_id"] == lst["id"]),
                             key=lambda x: int(x["id"])):
                out.append([lst["title"], acct(w.t["accounts"][la["account_id"]])])
        data, name = _csv(out), "lists.csv"
    elif kind == "blocks":
        rows = sorted((b for b in w.t["blocks"].values() if b["account_id"] == me), key=lambda b: int(b["id"]))
        data, name = _csv([[acct(w.t["accounts"][b["target_id"]])] for b in rows]), "blocked_accounts.csv"
    elif kind == "mutes":
        rows = sorted(w.active_mutes(me), key=lambda m: -int(m["id"]))
        data = _csv([[acct(w.t["accounts"][m["target_id"]]), m["hide_notifications"]] for m in rows],
                    ["Account address", "Hide notifications"])
        name = "muted_accounts.csv"
    elif kind == "domain_blocks":
        rows = sorted((d for d in w.t["domain_blocks"].values() if d["account_id"] == me), key=lambda d: int(d["id"]))
        data, name = _csv([[d["domain"]] for d in rows]), "blocked_domains.csv"
    elif kind == "bookmarks":
        rows = sorted((b for b in w.t["bookmarks"].values() if b["account_id"] == me and b["status_id"] in
                       w.t["statuses"]), key=lambda b: -int(b["id"]))
        data, name = _csv([[w.status_uri(w.t["statuses"][b["status_id"]])] for b in rows]), "bookmarks.csv"
    else:
        raise C.ApiError(404, "Not Found", violation=True)
    return ctx.raw(200, data, "text/csv", {"Content-Disposition": 'attachment; filename="%s"' % name})
