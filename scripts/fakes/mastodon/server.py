#!/usr/bin/env python3
"""Fake of one Mastodon instance (REST API v1/v2 as documented at
https://docs.joinmastodon.org/, OAuth 2.0, the settings-page CSV exports),
for testing ferry's Mastodon connector.  Standard library only.

    python3 scripts/fakes/mastodon/server.py --listen 127.0.0.1:0 --account alice

prints ``listening on http://127.0.0.1:PORT``.  See README.md.
"""
import os
import sys

sys.dont_write_bytecode = True  # keep the folder free of __pycache__
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.getcwd()) != _HERE]

import argparse  # noqa: E402
import collections  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import urllib.parse  # noqa: E402
from email import policy  # noqa: E402
from email.parser import BytesParser  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402


def _load(name, filename):
    spec = importlib.util.spec_from_file_location(name, os.path.join(_HERE, filename))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


C = _load("mfake_common", "common.py")
S = _load("mfake_store", "store.py")
O = _load("mfake_oauth", "oauth.py")
A = _load("mfake_api", "api.py")

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


def route(method, template, handler, auth="public", scope=None):
    """auth: "public" (token optional; checked when given), "user" (user
    token), "app" (any token), "none" (no token look-up at all).  scope: the
    granular scope the reference names ("a|b" = either)."""
    pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
    return {"method": method, "template": template, "re": re.compile(pattern), "handler": handler,
            "auth": auth, "scope": scope}


ROUTES = [
    # apps and OAuth  (https://docs.joinmastodon.org/methods/apps/, .../methods/oauth/)
    route("POST", "/api/v1/apps", O.create_app),
    route("GET", "/api/v1/apps/verify_credentials", O.verify_app, "app"),
    # accounts  (https://docs.joinmastodon.org/methods/accounts/)
    route("GET", "/api/v1/accounts/verify_credentials", A.verify_credentials, "user", "read:accounts|profile"),
    route("GET", "/api/v1/accounts/relationships", A.relationships, "user", "read:follows"),
    route("GET", "/api/v1/accounts/lookup", A.lookup, "public", "read:accounts"),
    route("GET", "/api/v1/accounts/{id}", A.get_account, "public", "read:accounts"),
    route("GET", "/api/v1/accounts/{id}/statuses", A.account_statuses, "public", "read:statuses"),
    route("GET", "/api/v1/accounts/{id}/followers", A.followers, "public", "read:accounts"),
    route("GET", "/api/v1/accounts/{id}/following", A.following, "public", "read:accounts"),
    route("GET", "/api/v1/accounts/{id}/lists", A.account_lists, "user", "read:lists"),
    route("POST", "/api/v1/accounts/{id}/follow", A.follow, "user", "write:follows"),
    route("POST", "/api/v1/accounts/{id}/unfollow", A.unfollow, "user", "write:follows"),
    route("POST", "/api/v1/accounts/{id}/block", A.block, "user", "write:blocks"),
    route("POST", "/api/v1/accounts/{id}/unblock", A.unblock, "user", "write:blocks"),
    route("POST", "/api/v1/accounts/{id}/mute", A.mute, "user", "write:mutes"),
    route("POST", "/api/v1/accounts/{id}/unmute", A.unmute, "user", "write:mutes"),
    # search  (https://docs.joinmastodon.org/methods/search/#v2)
    route("GET", "/api/v2/search", A.search, "public", "read:search"),
    # blocks, mutes, domain blocks, bookmarks, favourites
    route("GET", "/api/v1/blocks", A.blocks, "user", "read:blocks"),
    route("GET", "/api/v1/mutes", A.mutes, "user", "read:mutes"),
    route("GET", "/api/v1/domain_blocks", A.domain_blocks, "user", "read:blocks"),
    route("POST", "/api/v1/domain_blocks", A.add_domain_block, "user", "write:blocks"),
    route("DELETE", "/api/v1/domain_blocks", A.remove_domain_block, "user", "write:blocks"),
    route("GET", "/api/v1/bookmarks", A.bookmarks, "user", "read:bookmarks"),
    route("GET", "/api/v1/favourites", A.favourites, "user", "read:favourites"),
    # lists  (https://docs.joinmastodon.org/methods/lists/)
    route("GET", "/api/v1/lists", A.lists, "user", "read:lists"),
    route("POST", "/api/v1/lists", A.create_list, "user", "write:lists"),
    route("GET", "/api/v1/lists/{id}", A.get_list, "user", "read:lists"),
    route("PUT", "/api/v1/lists/{id}", A.update_list, "user", "write:lists"),
    route("DELETE", "/api/v1/lists/{id}", A.delete_list, "user", "write:lists"),
    route("GET", "/api/v1/lists/{id}/accounts", A.list_accounts, "user", "read:lists"),
    route("POST", "/api/v1/lists/{id}/accounts", A.add_list_accounts, "user", "write:lists"),
    route("DELETE", "/api/v1/lists/{id}/accounts", A.remove_list_accounts, "user", "write:lists"),
    # statuses  (https://docs.joinmastodon.org/methods/statuses/)
    route("POST", "/api/v1/statuses", A.post_status, "user", "write:statuses"),
    route("GET", "/api/v1/statuses/{id}", A.get_status, "public", "read:statuses"),
    route("POST", "/api/v1/statuses/{id}/bookmark", A.bookmark, "user", "write:bookmarks"),
    route("POST", "/api/v1/statuses/{id}/unbookmark", A.unbookmark, "user", "write:bookmarks"),
    route("POST", "/api/v1/statuses/{id}/favourite", A.favourite, "user", "write:favourites"),
    route("POST", "/api/v1/statuses/{id}/unfavourite", A.unfavourite, "user", "write:favourites"),
    # instance  (https://docs.joinmastodon.org/methods/instance/)
    route("GET", "/api/v2/instance", A.instance_v2),
    route("GET", "/api/v1/instance", A.instance_v1),
    # outside /api: CSV exports (bearer token in the fake), media and avatar files
    route("GET", "/settings/exports/{kind}.csv", A.export, "user"),
    route("GET", "/system/media_attachments/files/{id}/{style}/{name}", A.media_file, "none"),
    route("GET", "/avatars/original/missing.png", A.missing_png, "none"),
    route("GET", "/headers/original/missing.png", A.missing_png, "none"),
]


class Raw:
    def __init__(self, code, data, ctype, headers=None):
        self.code, self.data, self.ctype, self.headers = code, data, ctype, headers or {}


class Ctx:
    """What a handler sees of one request."""

    def __init__(self, fake, handler, method, path, match, params):
        self.fake = fake
        self.w = fake.world
        self.handler = handler
        self.method = method
        self.path = path
        self.match = match
        self.params = params
        self.headers = handler.headers
        self.headers_out = {}
        self.token = None
        self.viewer = None
        host = handler.headers.get("Host") or "%s:%d" % handler.server.server_address[:2]
        self.base = "http://" + host

    def P(self, allowed):
        return C.Params(self.params, set(allowed), self)

    def violation(self, message):
        self.fake.violation(self.method, self.path, message)

    def clock(self):
        return self.fake.clock()

    @staticmethod
    def raw(code, data, ctype, headers=None):
        return Raw(code, data, ctype, headers)


class Fake:
    def __init__(self, args):
        self.offset = 0.0
        self.world = S.World(args.domain, self.clock, args.state)
        self.lock = self.world.lock
        self.args = args
        self.rate_limit, self.rate_window = args.rate_limit, args.rate_window
        self.ip_rate_limit = args.ip_rate_limit
        self.follow_limit, self.follow_window = args.follow_limit, args.follow_window
        self.list_unfollowed = args.list_unfollowed
        self.auto_authorize = args.auto_authorize
        self.remote_follow = args.remote_follow
        self.max_body = args.max_body
        self.violations = []
        self.requests = collections.Counter()
        self.buckets = {}
        self.faults = self.no_faults()
        for name in args.account or []:
            if not self.world.find_acct(name, include_unknown=True):
                self.world.create_account(name)
        for spec in args.token or []:
            tok, _, rest = spec.partition("=")
            user, _, scopes = rest.partition(":")
            if not tok or not user:
                raise SystemExit("--token wants TOKEN=USER:SCOPE SCOPE ...")
            acc = self.world.find_acct(user) or self.world.create_account(user)
            self.world.t["tokens"][tok] = {"token": tok, "app_id": None, "account_id": acc["id"],
                                           "scopes": O.split_scopes(scopes) or ["read"],
                                           "created_at": self.clock(), "revoked": False, "expired": False}

    @staticmethod
    def no_faults():
        return {"server": None, "rate": None, "bad_body": 0}

    def clock(self):
        return time.time() + self.offset

    MAX_VIOLATIONS = 10000  # keep memory bounded under a hostile client

    def violation(self, method, path, message):
        with self.lock:
            if len(self.violations) < self.MAX_VIOLATIONS:
                self.violations.append({"method": method, "path": path, "message": message[:2000],
                                        "time": C.iso(self.clock())})

    # ---- rate limits (https://docs.joinmastodon.org/api/rate-limits/) ----
    def bucket(self, key, limit, period, count=True):
        """Fixed windows aligned to the epoch, as Rack::Attack and Mastodon's
        RateLimiter count.  Returns (allowed, headers)."""
        now = self.clock()
        idx = int(now // period)
        with self.lock:
            for k in [k for k in self.buckets if k[0] == key and k[1] != idx]:
                del self.buckets[k]
            used = self.buckets.get((key, idx), 0)
            allowed = used < limit
            if allowed and count:
                used += 1
                self.buckets[(key, idx)] = used
        reset = (idx + 1) * period
        return allowed, {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(limit - used, 0)),
                         "X-RateLimit-Reset": C.iso(reset, micro=True)}

    def count_follow(self, ctx):
        if not self.follow_limit:
            return
        ok, headers = self.bucket(("follows", ctx.viewer["id"]), self.follow_limit, self.follow_window)
        if not ok:
            with self.lock:
                self.requests["429 follows limit"] += 1
            raise C.ApiError(429, "Too many requests", headers=headers)


class Handler(BaseHTTPRequestHandler):
    # headers and body go out as separate writes: without this each answer waits out
    # the client's delayed ACK (about 40 ms), and the stand-in, not the client, sets the pace
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "MastodonFake/1.0"
    fake = None  # set in main()

    def log_message(self, fmt, *args):
        if os.environ.get("MASTODON_FAKE_LOG"):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # ---- plumbing -----------------------------------------------------------
    def send(self, code, data, ctype, headers=None):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, code, obj, headers=None):
        h = {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"}
        h.update(headers or {})
        self.send(code, json.dumps(obj).encode(), "application/json; charset=utf-8", h)

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    n = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    self.close_connection = True
                    raise C.ApiError(400, "Malformed chunked body", violation=True)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += n
                if total > self.fake.max_body:
                    self.close_connection = True
                    raise C.ApiError(413, "Request Entity Too Large", violation=True)
                chunks.append(self.rfile.read(n))
                self.rfile.readline(8)
            return b"".join(chunks)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        try:
            n = int(cl)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise C.ApiError(400, "Invalid Content-Length", violation=True)
        if n > self.fake.max_body:
            self.close_connection = True  # the body is not read; the connection is dropped after the answer
            raise C.ApiError(413, "Request Entity Too Large", violation=True)
        data = self.rfile.read(n)
        if len(data) < n:
            self.close_connection = True
            raise C.ApiError(400, "Truncated request body (%d of %d bytes)" % (len(data), n), violation=True)
        return data

    def parse_body(self, raw):
        """Body parameters as Rails reads them: JSON, form-encoded or multipart."""
        if not raw:
            return {}
        full = self.headers.get("Content-Type") or ""
        ctype = full.split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                body = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError) as e:
                raise C.ApiError(400, "Error occurred while parsing request parameters", violation=True,
                                 body={"error": "Error occurred while parsing request parameters",
                                       "details": str(e)[:200]})
            if json_depth(body) > MAX_JSON_DEPTH:
                raise C.ApiError(400, "Error occurred while parsing request parameters", violation=True,
                                 body={"error": "Error occurred while parsing request parameters",
                                       "details": "nested deeper than %d levels" % MAX_JSON_DEPTH})
            if not isinstance(body, dict):
                raise C.ApiError(400, "Error occurred while parsing request parameters", violation=True,
                                 body={"error": "Error occurred while parsing request parameters",
                                       "details": "the JSON body must be an object"})
            return body
        if ctype == "application/x-www-form-urlencoded":
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise C.ApiError(400, "Error occurred while parsing request parameters", violation=True)
            return C.parse_query(text)
        if ctype == "multipart/form-data":
            try:
                msg = BytesParser(policy=policy.HTTP).parsebytes(
                    b"Content-Type: " + full.encode("latin-1") + b"\r\n\r\n" + raw)
                if not msg.is_multipart():
                    raise ValueError("not multipart")
                pairs = []
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if not name:
                        continue
                    if part.get_filename():
                        raise ValueError("file uploads are not implemented by the fake")
                    pairs.append((name, part.get_content() if part.get_content_maintype() == "text"
                                  else part.get_payload(decode=True).decode("utf-8", "replace")))
            except ValueError as e:
                raise C.ApiError(400, "Error occurred while parsing request parameters", violation=True,
                                 body={"error": "Error occurred while parsing request parameters",
                                       "details": str(e)[:200]})
            return C.rails_nest(pairs)
        self.fake.violation(self.command, urllib.parse.urlsplit(self.path).path,
                            "body with Content-Type %r; Mastodon reads JSON, form-encoded or multipart bodies "
                            "(the body is ignored)" % (full or None))
        return {}

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        fake = self.fake
        split = urllib.parse.urlsplit(self.path)
        raw_path = split.path
        path = urllib.parse.unquote(raw_path)
        method = "GET" if self.command == "HEAD" else self.command
        try:
            raw = self.read_body()
        except C.ApiError as e:
            fake.violation(method, path, e.message)
            return self.send_json(e.code, e.body, e.headers)
        rl_headers = {}
        try:
            if path.startswith("/_fake/"):
                return self.fake_control(path, split.query, raw)
            query = C.parse_query(split.query)
            if path in ("/oauth/token", "/oauth/revoke", "/oauth/authorize", "/.well-known/oauth-authorization-server"):
                return self.oauth(path, method, query, raw)
            r, m = self.find_route(raw_path, method)
            if r is None:
                with fake.lock:
                    fake.requests["%s %s" % (method, path)] += 1
                raise C.ApiError(404, "Record not found" if path.startswith("/api/") else "Not Found",
                                 violation=True)
            with fake.lock:
                fake.requests["%s %s" % (method, r["template"])] += 1
            params = dict(query)
            params.update(self.parse_body(raw))
            groups = {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
            ctx = Ctx(fake, self, method, path, groups, params)
            is_api = path.startswith("/api/")
            with fake.lock:
                tok_str, tok = self.find_token(query, params) if r["auth"] != "none" else (None, None)
                if is_api:
                    if tok and tok["account_id"] and not tok["revoked"] and not tok["expired"]:
                        ok, rl_headers = fake.bucket(("account", tok["account_id"]), fake.rate_limit,
                                                     fake.rate_window) if fake.rate_limit else (True, {})
                    else:
                        ok, rl_headers = fake.bucket(("ip", self.client_address[0]), fake.ip_rate_limit,
                                                     fake.rate_window) if fake.ip_rate_limit else (True, {})
                    if not ok:
                        fake.requests["429 %s %s" % (method, r["template"])] += 1
                        raise C.ApiError(429, "Too many requests")
                    self.check_faults(path)
                if r["auth"] != "none":
                    self.authorize(ctx, r, tok_str, tok)
                result = r["handler"](ctx)
                if method != "GET":
                    fake.world.save()
            headers = dict(rl_headers)
            headers.update(ctx.headers_out)
            if isinstance(result, Raw):
                headers.update(result.headers)
                return self.send(result.code, result.data, result.ctype, headers)
            if is_api and self.take_bad_body():
                data = json.dumps(result).encode()
                return self.send(200, data[: max(1, len(data) // 2)], "application/json; charset=utf-8", headers)
            return self.send_json(200, result, headers)
        except C.ApiError as e:
            if e.violation:
                fake.violation(method, path, e.message if e.body.get("error") == e.message else
                               "%s: %s" % (e.body.get("error"), e.body.get("error_description", e.message)))
            headers = dict(rl_headers)
            headers.update(e.headers)
            return self.send_json(e.code, e.body, headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return None
        except Exception:
            traceback.print_exc()
            fake.violation(method, path, "fake crashed: " + traceback.format_exc(limit=3))
            return self.send_json(500, {"error": "We're sorry, but something went wrong on our end (fake bug)."})

    def find_route(self, path, method):
        for r in ROUTES:
            if r["method"] == method:
                m = r["re"].match(path)
                if m:
                    return r, m
        return None, None

    # ---- authentication (Doorkeeper as Mastodon configures it) ---------------
    def find_token(self, query, params):
        auth = self.headers.get("Authorization") or ""
        tok = None
        if auth[:7].lower() == "bearer ":
            tok = auth[7:].strip()
        elif isinstance(query.get("access_token"), str):
            tok = query["access_token"]
        params.pop("access_token", None)
        if not tok:
            return None, None
        return tok, self.fake.world.t["tokens"].get(tok)

    def authorize(self, ctx, r, tok_str, tok):
        """401 bad token, 403 missing scope, 422 app token where a user is needed
        (https://docs.joinmastodon.org/methods/accounts/#verify_credentials lists all three)."""
        if tok is not None and (tok["revoked"] or tok["expired"]):
            raise C.ApiError(401, "The access token was revoked" if tok["revoked"] else "The access token expired")
        if tok is None:
            if tok_str:
                ctx.violation("unknown access token%s" % (" (Mastodon treats the request as anonymous)"
                                                          if r["auth"] == "public" else ""))
            if r["auth"] == "public":
                return
            if not tok_str:
                ctx.violation("this endpoint needs an access token (Authorization: Bearer ...)")
            raise C.ApiError(401, "The access token is invalid")
        if r["auth"] != "app" and r["scope"] and not O.scope_granted(tok["scopes"], r["scope"]):
            raise C.ApiError(403, "This action is outside the authorized scopes", violation=True)
        ctx.token = tok
        ctx.viewer = self.fake.world.account(tok["account_id"]) if tok["account_id"] else None
        if r["auth"] == "user" and ctx.viewer is None:
            raise C.ApiError(422, "This method requires an authenticated user", violation=True)

    # ---- OAuth endpoints -------------------------------------------------------
    def oauth(self, path, method, query, raw):
        fake = self.fake
        with fake.lock:
            fake.requests["%s %s" % (method, path)] += 1
        ctx = Ctx(fake, self, method, path, {}, {})
        with fake.lock:
            if path == "/.well-known/oauth-authorization-server" and method == "GET":
                return self.send_json(200, O.metadata(ctx))
            if path == "/oauth/authorize" and method == "GET":
                res = O.oauth_authorize(ctx, O.flat(query))
                return self.send(res.code, res.data, res.ctype, res.headers)
            if method != "POST" or path == "/oauth/authorize":
                raise C.ApiError(404, "Not Found", violation=True)
            params = dict(query)
            params.update(self.parse_body(raw))
            q = O.flat(params)
            res = O.token(ctx, q) if path == "/oauth/token" else O.revoke(ctx, q)
            fake.world.save()
        return self.send_json(200, res, {"Pragma": "no-cache"})

    # ---- faults -----------------------------------------------------------------
    def check_faults(self, path):
        f = self.fake.faults
        for kind in ("rate", "server"):
            d = f.get(kind)
            if not d or (d.get("path") and d["path"] not in path):
                continue
            if d["after"] > 0:
                d["after"] -= 1
                continue
            if d["times"] <= 0:
                f[kind] = None
                continue
            d["times"] -= 1
            if d["times"] <= 0:
                f[kind] = None
            if kind == "rate":
                with self.fake.lock:
                    self.fake.requests["429 fault"] += 1
                reset = C.iso(self.fake.clock() + (d.get("reset_in") or 60), micro=True)
                raise C.ApiError(429, "Too many requests",
                                 headers={"X-RateLimit-Limit": str(self.fake.rate_limit or 300),
                                          "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
            code = d["code"]
            msg = {500: "We're sorry, but something went wrong on our end.", 502: "Bad Gateway",
                   503: "Service Unavailable", 504: "Gateway Timeout"}[code]
            raise C.ApiError(code, msg)

    def take_bad_body(self):
        with self.fake.lock:
            if self.fake.faults.get("bad_body", 0) > 0:
                self.fake.faults["bad_body"] -= 1
                return True
        return False

    # ---- test hooks ---------------------------------------------------------------
    def fake_control(self, path, qs, raw):
        fake = self.fake
        method = self.command
        body = None
        if raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError) as e:
                return self.send_json(400, {"error": "malformed JSON: %s" % e})
        q = {k: v for k, v in urllib.parse.parse_qsl(qs, keep_blank_values=True)}
        try:
            with fake.lock:
                if path == "/_fake/violations":
                    if method == "DELETE":
                        fake.violations.clear()
                    return self.send_json(200, {"violations": list(fake.violations)})
                if path == "/_fake/requests":
                    if method == "DELETE":
                        fake.requests.clear()
                    return self.send_json(200, {"requests": dict(fake.requests)})
                if path == "/_fake/state":
                    snap = fake.world.snapshot()
                    snap["now"] = C.iso(fake.clock())
                    return self.send_json(200, snap)
                if path == "/_fake/reset" and method == "POST":
                    fake.world.reset()
                    fake.violations.clear()
                    fake.requests.clear()
                    fake.buckets.clear()
                    fake.faults = fake.no_faults()
                    return self.send_json(200, {})
                if path == "/_fake/seed" and method == "POST":
                    out = fake.world.seed(body)
                    fake.world.save()
                    return self.send_json(200, out)
                if path == "/_fake/faults":
                    if method == "GET":
                        return self.send_json(200, fake.faults)
                    if method == "DELETE":
                        fake.faults = fake.no_faults()
                        return self.send_json(200, fake.faults)
                    return self.set_faults(body)
                if path == "/_fake/clock":
                    if method == "POST":
                        if not isinstance(body, dict) or not isinstance(body.get("advance"), (int, float)) \
                                or isinstance(body.get("advance"), bool) or body["advance"] < 0:
                            raise ValueError('clock wants {"advance": SECONDS >= 0}')
                        fake.offset += body["advance"]
                    return self.send_json(200, {"now": C.iso(fake.clock()), "offset": fake.offset})
                if path == "/_fake/authorize" and method in ("GET", "POST"):
                    params = dict(q)
                    if isinstance(body, dict):
                        params.update({k: v for k, v in body.items() if isinstance(v, str)})
                    ctx = Ctx(fake, self, method, path, {}, {})
                    return self.send_json(200, O.fake_authorize(ctx, params, params.get("user")))
            return self.send_json(404, {"error": "unknown test hook " + path})
        except C.ApiError as e:
            return self.send_json(e.code, e.body)
        except (ValueError, KeyError, TypeError) as e:
            return self.send_json(400, {"error": str(e)})

    def set_faults(self, body):
        fake = self.fake
        if not isinstance(body, dict):
            raise ValueError("faults wants a JSON object")
        known = {"server_error", "rate_limit_after", "times", "after", "path", "reset_in", "expire_tokens",
                 "revoke_tokens", "user", "bad_body"}
        unknown = set(body) - known
        if unknown:
            raise ValueError("unknown fault keys: %s" % sorted(unknown))
        if "server_error" in body:
            code = int(body["server_error"])
            if code not in (500, 502, 503, 504):
                raise ValueError("server_error must be 500, 502, 503 or 504")
            fake.faults["server"] = {"code": code, "after": int(body.get("after", 0)),
                                     "times": int(body.get("times", 1)), "path": body.get("path")}
        if "rate_limit_after" in body:
            fake.faults["rate"] = {"after": int(body["rate_limit_after"]), "times": int(body.get("times", 1)),
                                   "path": body.get("path"), "reset_in": body.get("reset_in")}
        if "bad_body" in body:
            fake.faults["bad_body"] = int(body["bad_body"])
        for key, field in (("expire_tokens", "expired"), ("revoke_tokens", "revoked")):
            if body.get(key):
                acc = None
                if body.get("user"):
                    acc = fake.world.find_acct(body["user"])
                    if acc is None:
                        raise ValueError("no account %r" % body["user"])
                for t in fake.world.t["tokens"].values():
                    if acc is None or t["account_id"] == acc["id"]:
                        t[field] = True
        return self.send_json(200, fake.faults)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0 picks a free one)")
    ap.add_argument("--domain", default="mastodon.test", help="the instance's LOCAL_DOMAIN (in acct, uri, url)")
    ap.add_argument("--account", action="append", metavar="USERNAME", help="create a local account; repeatable")
    ap.add_argument("--token", action="append", metavar="TOKEN=USER:SCOPES",
                    help="a ready access token for a local user (created if missing); repeatable")
    ap.add_argument("--rate-limit", type=int, default=300, help="API requests per window per account (0: off)")
    ap.add_argument("--ip-rate-limit", type=int, default=300,
                    help="API requests per window per IP, for requests without a user token (0: off)")
    ap.add_argument("--rate-window", type=float, default=300, help="rate-limit window in seconds")
    ap.add_argument("--follow-limit", type=int, default=400, help="new follows per follow window per account (0: off)")
    ap.add_argument("--follow-window", type=float, default=86400, help="follow-limit window in seconds")
    ap.add_argument("--max-body", type=int, default=8 * 1024 * 1024, help="largest request body in bytes (413 above)")
    ap.add_argument("--state", help="JSON file to load at start and save after every write")
    ap.add_argument("--list-unfollowed", type=int, choices=(404, 422), default=404,
                    help="status for adding an account that is not followed to a list (reference: 404)")
    ap.add_argument("--auto-authorize", metavar="USER",
                    help="GET /oauth/authorize approves at once for this local user and redirects")
    ap.add_argument("--remote-follow", choices=("accept", "pending"), default="accept",
                    help="following an unlocked remote account: accepted at once, or left as a pending request")
    args = ap.parse_args(argv)
    if args.rate_window <= 0 or args.follow_window <= 0:
        raise SystemExit("windows must be positive")
    host, _, port = args.listen.rpartition(":")
    Handler.fake = Fake(args)
    srv = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    srv.daemon_threads = True
    print("listening on http://%s:%d" % (srv.server_address[0], srv.server_address[1]), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
