#!/usr/bin/env python3
"""Fake of Google's OAuth token endpoint, People API v1, Calendar API v3,
Tasks API v1, Gmail API v1, Drive API v3 and the Photos Library API, for
testing ferry's connectors.  Standard library only.

    python3 scripts/fakes/google/server.py --listen 127.0.0.1:0 \
        --grant alice-refresh=https://www.googleapis.com/auth/contacts

prints ``listening on http://127.0.0.1:PORT``.  See README.md.
"""
import os
import sys

# This folder holds a module named calendar.py, which would shadow the
# standard library's `calendar` (imported by email/http modules) if this
# folder stayed first on sys.path.  Drop it, import the stdlib, and load our
# modules from their files under private names (gfake_*).
sys.dont_write_bytecode = True  # keep the folder free of __pycache__
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.getcwd()) != _HERE]

import argparse  # noqa: E402
import base64  # noqa: E402
import collections  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import urllib.parse  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402


def _load(name, filename):
    spec = importlib.util.spec_from_file_location(name, os.path.join(_HERE, filename))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


S = _load("gfake_store", "store.py")
C = _load("gfake_common", "common.py")
PEOPLE = _load("gfake_people", "people.py")
CALENDAR = _load("gfake_calendar", "calendar.py")
TASKS = _load("gfake_tasks", "tasks.py")
GMAIL = _load("gfake_gmail", "gmail.py")
DRIVE = _load("gfake_drive", "drive.py")
PHOTOS = _load("gfake_photos", "photos.py")
API_MODULES = (PEOPLE, CALENDAR, TASKS, GMAIL, DRIVE, PHOTOS)

MAX_BODY = 8 * 1024 * 1024

AUTH_MESSAGE = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                "or other valid authentication credential. "
                "See https://developers.google.com/identity/sign-in/web/devconsole-project.")

SERVICE = C.SERVICE


MAX_JSON_DEPTH = 32


def json_depth(v):
    """Nesting depth of a parsed JSON value, without recursion."""
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


def user_of_refresh_token(tok):
    """`alice-refresh` -> `alice`; any other token names its own user."""
    if tok.endswith("-refresh") and len(tok) > len("-refresh"):
        return tok[: -len("-refresh")]
    return tok


class Fake:
    """Everything the HTTP handler shares: store, grants, tokens, faults."""

    def __init__(self, args):
        self.store = S.Store(args.state)
        self.grants = {}
        for g in args.grant or []:
            if "=" not in g:
                raise SystemExit("--grant wants REFRESH_TOKEN=scope1 scope2 ...")
            tok, scopes = g.split("=", 1)
            self.grants[tok] = {"user": user_of_refresh_token(tok), "scopes": scopes.split()}
            self.store.user(self.grants[tok]["user"])
        self.token_lifetime = args.token_lifetime
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.qpm = args.qpm
        # Per-user quota units per minute, by API (Gmail counts each method's
        # units, Drive counts queries); 0 = unlimited.
        self.unit_limits = {"gmail": args.gmail_user_units, "drive": args.drive_user_qpm,
                            "photos": args.photos_user_qpm}
        self.unit_log = collections.defaultdict(collections.deque)
        self.import_existing = args.import_existing
        self.lock = threading.Lock()
        self.tokens = {}
        self.violations = []
        self.requests = collections.Counter()
        self.faults = {"rate": None, "server": None, "batch_partial_failure": [], "short_pages": 0}
        self.short_calls = 0
        C.PAGE_SIZE_HOOK = self.page_size
        self.qpm_log = collections.defaultdict(collections.deque)
        self.routes = []
        for mod in API_MODULES:
            self.routes.extend(mod.ROUTES)

    def page_size(self, size):
        """The "short_pages" fault: list pages hold fewer items than asked, or none
        ("The number of events in the resulting page may be less than this value,
        or none at all, even if there are more events matching the query")."""
        with self.lock:
            left = self.faults.get("short_pages") or 0
            if not left:
                return size
            if left > 0:
                self.faults["short_pages"] = left - 1
            self.short_calls += 1
            return 0 if self.short_calls % 2 else min(size, 1)

    def violation(self, method, path, message):
        with self.lock:
            self.violations.append({"method": method, "path": path, "message": message,
                                    "time": S.now_rfc3339()})


class Ctx:
    """What an API handler sees of one request."""

    def __init__(self, fake, handler, api, user, params_raw, body, match, method, raw=b"", scopes=(), route=None):
        self.fake = fake
        self.store = fake.store
        self.handler = handler
        self.api = api
        self.user = user
        self.u = fake.store.user(user) if user is not None else None
        self.query = params_raw
        self.body = body
        self.raw = raw
        self.scopes = list(scopes)
        self.route = route
        self.match = match
        self.method = method
        self.headers = handler.headers
        host = handler.headers.get("Host") or "%s:%d" % handler.server.server_address[:2]
        self.base_url = "http://" + host

    def params(self, allowed, repeatable=()):
        return C.Params(self.query, set(allowed), self.api, repeatable)

    def take_partial_failures(self):
        with self.fake.lock:
            v = self.fake.faults.get("batch_partial_failure") or []
            self.fake.faults["batch_partial_failure"] = []
            return set(v)


class Handler(BaseHTTPRequestHandler):
    # headers and body go out as separate writes: without this each answer waits out
    # the client's delayed ACK (about 40 ms), and the stand-in, not the client, sets the pace
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "GoogleFake/1.0"
    fake = None  # set in main()

    def log_message(self, fmt, *args):  # keep test output quiet
        if os.environ.get("GOOGLE_FAKE_LOG"):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # -- plumbing ----------------------------------------------------------
    def send_json(self, code, obj, headers=None):
        data = b"" if obj is None else json.dumps(obj, indent=2).encode()
        self.send_response(code)
        if obj is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def send_error_obj(self, err, api):
        self.send_json(err.code, err.body(api), err.headers)

    REASONS = {308: "Resume Incomplete", 499: "Client Closed Request"}

    def send_reply(self, r):
        """A non-JSON answer: media bytes, 308 Resume Incomplete, a session URI ..."""
        self.send_response(r.code, self.REASONS.get(r.code))
        if r.content_type:
            self.send_header("Content-Type", r.content_type)
        self.send_header("Content-Length", str(len(r.data)))
        for k, v in r.headers.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if r.data and self.command != "HEAD":
            self.wfile.write(r.data)

    def read_body(self, limit=None, google_limit=True):
        """The request body.  `limit`: the route's largest body; beyond it 413
        (recorded as a violation when the limit is Google's, not the fake's)."""
        limit = MAX_BODY if limit is None else limit
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    n = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    self.close_connection = True
                    raise C.ApiError(400, "Malformed chunked body.", violation=True)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += n
                if total > limit:
                    self.close_connection = True
                    raise C.ApiError(413, "Request payload size exceeds the limit: %d bytes." % limit,
                                     reason="uploadTooLarge", violation=google_limit)
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
            raise C.ApiError(400, "Invalid Content-Length.", violation=True)
        if n > limit:
            self.close_connection = True  # do not read the huge body; drop the connection after answering
            raise C.ApiError(413, "Request payload size exceeds the limit: %d bytes." % limit,
                             reason="uploadTooLarge", violation=google_limit)
        data = self.rfile.read(n)
        if len(data) < n:
            self.close_connection = True  # the client sent less than it announced
            raise C.ApiError(400, "Request body shorter than its Content-Length (%d of %d bytes)." % (len(data), n),
                             violation=True)
        return data

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def dispatch(self):
        fake = self.fake
        api = None
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        route, m = (None, None)
        if not path.startswith("/_fake/") and path != "/token":
            route, m = self.find_route(path)
        limit, google_limit = None, True
        if route is not None and route.get("max_body") is not None:
            mb = route["max_body"]
            limit = mb() if callable(mb) else mb
            google_limit = route.get("google_limit", True)
        try:
            raw = self.read_body(limit, google_limit)
        except C.ApiError as e:
            if e.violation:
                fake.violation(self.command, path, e.message)
            return self.send_error_obj(e, route["api"] if route else None)
        try:
            query = urllib.parse.parse_qs(split.query, keep_blank_values=True, strict_parsing=False)
            if path.startswith("/_fake/"):
                return self.fake_control(path, raw)
            if path == "/token":
                return self.token_endpoint(raw)
            if route is None:
                with fake.lock:
                    fake.requests["%s %s" % (self.command, path)] += 1
                raise C.ApiError(404, "The requested URL %s was not found on this server." % path,
                                 reason="notFound", violation=True)
            api = route["api"]
            with fake.lock:
                fake.requests["%s %s" % (self.command, route["template"])] += 1
            if route.get("auth", True):
                user, scopes = self.authenticate(query)
                if not any(s in scopes for s in route["scopes"]):
                    raise C.scope_error(api, route["name"])
                self.check_quota(user, api, route.get("cost", 1))
            else:
                user, scopes = None, []  # upload session URIs: the upload_id is the credential
            self.check_faults(api)
            body = None
            mode = route.get("body")
            if mode == "raw":
                pass
            elif raw:
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if ctype != "application/json":
                    raise C.ApiError(400, "Invalid Content-Type %r; this method takes application/json." % ctype,
                                     reason="badContent", violation=True)
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (ValueError, UnicodeDecodeError, RecursionError) as e:
                    raise C.ApiError(400, "Invalid JSON payload received. %s" % e, reason="parseError",
                                     violation=True)
                if json_depth(body) > MAX_JSON_DEPTH:
                    raise C.ApiError(400, "Invalid JSON payload received. Nesting deeper than %d levels."
                                     % MAX_JSON_DEPTH, reason="parseError", violation=True)
            if mode is True and not isinstance(body, dict):
                raise C.ApiError(400, "This method requires a JSON object request body.", reason="required",
                                 violation=True)
            if mode == "optional" and body is not None and not isinstance(body, dict):
                raise C.ApiError(400, "The request body must be a JSON object.", reason="parseError",
                                 violation=True)
            if not mode and raw:
                raise C.ApiError(400, "This method takes no request body.", reason="invalid", violation=True)
            ctx = Ctx(fake, self, api, user, query, body, m, self.command, raw, scopes, route)
            with fake.store.lock:
                result = route["handler"](ctx)
                if self.command not in ("GET", "HEAD"):
                    fake.store.save()
            if isinstance(result, C.Reply):
                return self.send_reply(result)
            if isinstance(result, tuple):
                code, obj = result
            else:
                code, obj = 200, result
            return self.send_json(code, obj)
        except C.ApiError as e:
            if e.violation:
                fake.violation(self.command, path, e.message)
            return self.send_error_obj(e, api)
        except (BrokenPipeError, ConnectionResetError):
            # the client went away mid-answer (a test killed it): nothing to answer, no bug
            self.close_connection = True
            return None
        except Exception:  # never crash the server; report 500
            traceback.print_exc()
            e = C.ApiError(500, "Internal error encountered (fake bug).", reason="backendError")
            fake.violation(self.command, path, "fake crashed: " + traceback.format_exc(limit=3))
            return self.send_error_obj(e, api)

    def find_route(self, path):
        method = "GET" if self.command == "HEAD" else self.command
        for r in self.fake.routes:
            if r["method"] != method:
                continue
            m = r["re"].match(path)
            if m:
                return r, m
        return None, None

    # -- auth --------------------------------------------------------------
    def authenticate(self, query):
        auth = self.headers.get("Authorization") or ""
        tok = None
        if auth[:7].lower() == "bearer ":
            tok = auth[7:].strip()
        elif "access_token" in query:
            tok = query["access_token"][0]
        with self.fake.lock:
            info = self.fake.tokens.get(tok) if tok else None
        if info is None or info["expires"] < time.time():
            raise C.ApiError(401, AUTH_MESSAGE, reason="authError", status="UNAUTHENTICATED", combined=True,
                             location="Authorization", location_type="header",
                             headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        return info["user"], info["scopes"]

    def token_endpoint(self, raw):
        """RFC 6749 section 6 (refresh) as Google runs it:
        https://developers.google.com/identity/protocols/oauth2/web-server#offline"""
        def oauth_err(code, error, desc, violation=False):
            if violation:
                self.fake.violation(self.command, "/token", "%s: %s" % (error, desc))
            return self.send_json(code, {"error": error, "error_description": desc})

        with self.fake.lock:
            self.fake.requests["%s /token" % self.command] += 1
        if self.command != "POST":
            return oauth_err(405, "invalid_request", "Only POST is supported.", True)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return oauth_err(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.", True)
        try:
            form = urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return oauth_err(400, "invalid_request", "Body is not UTF-8.", True)
        f = {k: v[0] for k, v in form.items()}
        if any(len(v) > 1 for v in form.values()):
            return oauth_err(400, "invalid_request", "Parameters must not be repeated (RFC 6749 section 3.2).", True)
        client_id, client_secret = f.get("client_id"), f.get("client_secret")
        basic = self.headers.get("Authorization") or ""
        if basic[:6].lower() == "basic ":
            try:
                cid, _, csec = base64.b64decode(basic[6:]).decode().partition(":")
                client_id, client_secret = urllib.parse.unquote(cid), urllib.parse.unquote(csec)
            except Exception:
                return oauth_err(401, "invalid_client", "Malformed Basic credentials.", True)
        gt = f.get("grant_type")
        if not gt:
            return oauth_err(400, "invalid_request", "Missing required parameter: grant_type", True)
        if gt != "refresh_token":
            return oauth_err(400, "unsupported_grant_type", "Invalid grant_type: " + gt, True)
        if not client_id:
            return oauth_err(401, "invalid_client", "The OAuth client was not found.", True)
        if (self.fake.client_id and client_id != self.fake.client_id) or \
                (self.fake.client_secret and client_secret != self.fake.client_secret):
            return oauth_err(401, "invalid_client", "Unauthorized", True)
        if not client_secret:
            return oauth_err(400, "invalid_request", "client_secret is missing.", True)
        rt = f.get("refresh_token")
        if not rt:
            return oauth_err(400, "invalid_request", "Missing required parameter: refresh_token", True)
        grant = self.fake.grants.get(rt)
        if grant is None:
            return oauth_err(400, "invalid_grant", "Token has been expired or revoked.")
        scopes = list(grant["scopes"])
        if f.get("scope"):
            asked = f["scope"].split()
            if not set(asked) <= set(scopes):
                return oauth_err(400, "invalid_scope", "Some requested scopes were invalid. "
                                 "Refresh requests may only narrow the originally granted scopes.")
            scopes = asked
        at = "ya29.fake-" + secrets.token_urlsafe(24)
        with self.fake.lock:
            self.fake.tokens[at] = {"user": grant["user"], "scopes": scopes,
                                    "expires": time.time() + self.fake.token_lifetime}
        return self.send_json(200, {"access_token": at, "expires_in": self.fake.token_lifetime,
                                    "scope": " ".join(scopes), "token_type": "Bearer"},
                              {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
                               "Pragma": "no-cache"})

    # -- limits and faults -------------------------------------------------
    def rate_error(self, api, status, reason, retry_after=None, per_user=False):
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status == 429:
            return C.ApiError(429, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute%s' of "
                              "service '%s'." % (" per user" if per_user else "", SERVICE[api]),
                              reason="rateLimitExceeded", domain="usageLimits", status="RESOURCE_EXHAUSTED",
                              combined=True, headers=headers,
                              details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                        "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                                        "metadata": {"service": SERVICE[api], "quota_location": "global",
                                                     "quota_metric": "%s/default_requests" % SERVICE[api],
                                                     "quota_limit": "DefaultRequestsPerMinutePerUser"
                                                     if per_user else "DefaultRequestsPerMinutePerProject",
                                                     "quota_limit_value": str(self.fake.unit_limits.get(api)
                                                                              or self.fake.qpm or 0),
                                                     "consumer": "projects/000000000000"}}])
        msg = "User Rate Limit Exceeded" if reason == "userRateLimitExceeded" else "Rate Limit Exceeded"
        return C.ApiError(403, msg, reason=reason, domain="usageLimits", status="PERMISSION_DENIED",
                          headers=headers,
                          details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                    "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                                    "metadata": {"service": SERVICE[api]}}] if api in C.RPC_FORM else None)

    def check_quota(self, user, api, cost=1):
        self.check_units(user, api, cost)
        if not self.fake.qpm:
            return
        now = time.time()
        with self.fake.lock:
            log = self.fake.qpm_log[user]
            while log and log[0] <= now - 60:
                log.popleft()
            over = len(log) >= self.fake.qpm
            if not over:
                log.append(now)
        if over:
            # People API answers quota errors with 429 RESOURCE_EXHAUSTED; the Calendar
            # errors guide documents the per-user limit as 403 userRateLimitExceeded.
            if api in ("people", "photos"):
                raise self.rate_error(api, 429, "rateLimitExceeded", None, per_user=True)
            raise self.rate_error(api, 403, "userRateLimitExceeded", None, per_user=True)

    def check_units(self, user, api, cost):
        """Per-user quota units in a sliding 60 s window (Gmail: the usage-limits
        page's per-method units; Drive and Photos: one per request).  A refused
        request uses no units."""
        limit = self.fake.unit_limits.get(api) or 0
        if not limit:
            return
        now = time.time()
        with self.fake.lock:
            log = self.fake.unit_log[(user, api)]
            while log and log[0][0] <= now - 60:
                log.popleft()
            used = sum(c for _, c in log)
            over = used + cost > limit
            if not over:
                log.append((now, cost))
        if over:
            if api == "photos":
                raise self.rate_error(api, 429, "rateLimitExceeded", None, per_user=True)
            # Gmail usage limits: "Per user rate limit ... userRateLimitExceeded"; Drive:
            # "If you exceed a quota, you'll receive a 403: User rate limit exceeded".
            raise self.rate_error(api, 403, "userRateLimitExceeded", None, per_user=True)

    def check_faults(self, api):
        with self.fake.lock:
            f = self.fake.faults
            err = None
            r = f.get("rate")
            if r:
                if r["after"] > 0:
                    r["after"] -= 1
                elif r["times"] > 0:
                    r["times"] -= 1
                    err = ("rate", dict(r))
                if r["times"] <= 0 and r["after"] <= 0:
                    f["rate"] = None
            s = f.get("server")
            if err is None and s:
                if s["after"] > 0:
                    s["after"] -= 1
                elif s["times"] > 0:
                    s["times"] -= 1
                    err = ("server", dict(s))
                if s["times"] <= 0 and s["after"] <= 0:
                    f["server"] = None
        if err is None:
            return
        kind, d = err
        if kind == "rate":
            raise self.rate_error(api, d["status"], d["reason"], d["retry_after"])
        if d["code"] == 503:
            raise C.ApiError(503, "The service is currently unavailable.", reason="backendError",
                             status="UNAVAILABLE")
        raise C.ApiError(d["code"], "Internal error encountered.", reason="backendError", status="INTERNAL")

    # -- test hooks ----------------------------------------------------------
    def fake_control(self, path, raw):
        fake = self.fake
        body = None
        if raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError) as e:
                return self.send_json(400, {"error": {"code": 400, "message": "malformed JSON: %s" % e}})
        try:
            if path == "/_fake/violations":
                if self.command == "DELETE":
                    with fake.lock:
                        fake.violations.clear()
                    return self.send_json(200, {"violations": []})
                with fake.lock:
                    return self.send_json(200, {"violations": list(fake.violations)})
            if path == "/_fake/requests":
                if self.command == "DELETE":
                    with fake.lock:
                        fake.requests.clear()
                with fake.lock:
                    return self.send_json(200, {"requests": dict(fake.requests)})
            if path == "/_fake/state":
                return self.send_json(200, fake.store.snapshot())
            if path == "/_fake/faults":
                if self.command == "GET":
                    with fake.lock:
                        return self.send_json(200, fake.faults)
                if self.command == "DELETE":
                    with fake.lock:
                        fake.faults = {"rate": None, "server": None, "batch_partial_failure": [],
                                       "short_pages": 0}
                    return self.send_json(200, {})
                return self.set_faults(body)
            if path == "/_fake/seed" and self.command == "POST":
                if not isinstance(body, dict) or not isinstance(body.get("user"), str):
                    raise ValueError("seed wants {\"user\": NAME, ...}")
                with fake.store.lock:
                    u = fake.store.user(body["user"])
                    out = {}
                    for mod in API_MODULES:
                        out.update(mod.seed(fake.store, u, body) or {})
                    fake.store.save()
                return self.send_json(200, out)
            m = re.match(r"^/_fake/photos-media/([^/]+)/([^/]+)$", path)
            if m and self.command == "GET":
                with fake.store.lock:
                    blob, mt = PHOTOS.media_bytes(fake.store, m.group(1), m.group(2))
                if blob is None:
                    return self.send_json(404, {"error": {"code": 404, "message": "no such media item"}})
                return self.send_reply(C.Reply(200, blob, mt))
            m = re.match(r"^/_fake/photos/([^/]+)/([^/]+)$", path)
            if m and self.command == "GET":
                u = fake.store.users.get(m.group(1))
                data = u and u["photos"].get(m.group(2))
                if not data:
                    return self.send_json(404, {"error": {"code": 404, "message": "no such photo"}})
                blob = base64.b64decode(data)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob)
                return
            return self.send_json(404, {"error": {"code": 404, "message": "unknown test hook " + path}})
        except (ValueError, KeyError, TypeError) as e:
            return self.send_json(400, {"error": {"code": 400, "message": str(e)}})
        except C.ApiError as e:
            return self.send_json(400, {"error": {"code": 400, "message": e.message}})

    def set_faults(self, body):
        fake = self.fake
        if not isinstance(body, dict):
            raise ValueError("faults wants a JSON object")
        known = {"rate_limit_after", "status", "retry_after", "times", "reason", "server_error", "after",
                 "expire_tokens", "expire_sync_tokens", "batch_partial_failure", "user", "short_pages",
                 "expire_upload_sessions"}
        unknown = set(body) - known
        if unknown:
            raise ValueError("unknown fault keys: %s" % sorted(unknown))
        with fake.lock:
            if "rate_limit_after" in body:
                st = body.get("status", 429)
                if st not in (429, 403):
                    raise ValueError("status must be 429 or 403")
                reason = body.get("reason") or "rateLimitExceeded"
                if reason not in ("rateLimitExceeded", "userRateLimitExceeded"):
                    raise ValueError("reason must be rateLimitExceeded or userRateLimitExceeded")
                fake.faults["rate"] = {"after": int(body["rate_limit_after"]), "status": st, "reason": reason,
                                       "retry_after": body.get("retry_after"), "times": int(body.get("times", 1))}
            if "server_error" in body:
                code = int(body["server_error"])
                if code not in (500, 502, 503, 504):
                    raise ValueError("server_error must be 500, 502, 503 or 504")
                fake.faults["server"] = {"after": int(body.get("after", 0)), "code": code,
                                         "times": int(body.get("times", 1))}
            if body.get("expire_tokens"):
                fake.tokens.clear()
            if "short_pages" in body:
                sp = body["short_pages"]
                fake.faults["short_pages"] = -1 if sp is True else int(sp or 0)
            if "batch_partial_failure" in body:
                idx = body["batch_partial_failure"]
                if not isinstance(idx, list) or not all(isinstance(i, int) for i in idx):
                    raise ValueError("batch_partial_failure wants a list of indexes")
                fake.faults["batch_partial_failure"] = idx
        if body.get("expire_sync_tokens"):
            with fake.store.lock:
                users = [body["user"]] if body.get("user") else list(fake.store.users)
                for name in users:
                    u = fake.store.user(name)
                    u["epoch"] += 1
                    for mod in API_MODULES:
                        if hasattr(mod, "expire_sync"):
                            mod.expire_sync(u)
        if body.get("expire_upload_sessions"):
            with fake.store.lock:
                C.expire_uploads()
                for u in fake.store.users.values():
                    for mod in API_MODULES:
                        if hasattr(mod, "expire_uploads"):
                            mod.expire_uploads(u)
        with fake.lock:
            return self.send_json(200, fake.faults)


def main(argv=None):
    global MAX_BODY
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0 picks a free one)")
    ap.add_argument("--grant", action="append", metavar="REFRESH_TOKEN=SCOPES",
                    help="refresh token and its space-separated scopes; repeatable")
    ap.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime in seconds")
    ap.add_argument("--qpm", type=int, default=0, help="queries per minute per user (0: unlimited)")
    ap.add_argument("--state", help="JSON file to load at start and save after every write")
    ap.add_argument("--client-id", help="if set, /token requires this client_id")
    ap.add_argument("--client-secret", help="if set, /token requires this client_secret")
    ap.add_argument("--import-existing", choices=("conflict", "update"), default="conflict",
                    help="events.import of an iCalUID already in the calendar: 409 duplicate, or update it")
    ap.add_argument("--max-body", type=int, default=MAX_BODY, help="largest request body in bytes")
    ap.add_argument("--gmail-user-units", type=int, default=6000,
                    help="Gmail quota units per user per minute (0: unlimited)")
    ap.add_argument("--history-keep", type=int, default=10000,
                    help="Gmail history records kept per user; older startHistoryIds answer 404")
    ap.add_argument("--gmail-max-message", type=int, default=GMAIL.MAX_MESSAGE,
                    help="largest message messages.import accepts, in bytes (Gmail: 150 MB)")
    ap.add_argument("--drive-user-qpm", type=int, default=12000,
                    help="Drive queries per user per minute (0: unlimited)")
    ap.add_argument("--drive-storage-limit", type=int, default=DRIVE.STORAGE_LIMIT,
                    help="Drive storage quota in bytes (0: unlimited)")
    ap.add_argument("--drive-export-limit", type=int, default=DRIVE.EXPORT_LIMIT,
                    help="largest files.export answer in bytes (Drive: 10 MB)")
    ap.add_argument("--photos-user-qpm", type=int, default=0,
                    help="Photos Library requests per user per minute (0: unlimited)")
    ap.add_argument("--max-upload", type=int, default=C.MAX_UPLOAD,
                    help="the fake's own cap on one uploaded file in bytes (uploads are kept in memory)")
    args = ap.parse_args(argv)
    MAX_BODY = args.max_body
    GMAIL.HISTORY_KEEP = max(0, args.history_keep)
    GMAIL.MAX_MESSAGE = args.gmail_max_message
    DRIVE.STORAGE_LIMIT = args.drive_storage_limit
    DRIVE.EXPORT_LIMIT = args.drive_export_limit
    C.MAX_UPLOAD = args.max_upload
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
