#!/usr/bin/env python3
"""Fake of the Microsoft identity platform token endpoint and Microsoft Graph v1.0 (Outlook contacts, calendar, To Do, mail, OneDrive files, JSON batching).

For testing ferry's Microsoft 365 connector.  Standard library only.

    python3 scripts/fakes/microsoft/server.py --listen 127.0.0.1:0 \
        --grant "alice-refresh=Contacts.ReadWrite Calendars.ReadWrite Tasks.ReadWrite Mail.ReadWrite Files.ReadWrite offline_access"

prints ``listening on http://127.0.0.1:PORT``.  See README.md.
"""
import os
import sys

sys.dont_write_bytecode = True  # keep the folder free of __pycache__
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.getcwd()) != _HERE]

import argparse  # noqa: E402
import base64  # noqa: E402
import collections  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import urllib.parse  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402


def _load(name, filename):
    spec = importlib.util.spec_from_file_location(name, os.path.join(_HERE, filename))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


S = _load("msfake_store", "store.py")
C = _load("msfake_common", "common.py")
CONTACTS = _load("msfake_contacts", "contacts.py")
TODO = _load("msfake_todo", "todo.py")
EVENTS = _load("msfake_events", "events.py")
MAIL = _load("msfake_mail", "mail.py")
DRIVE = _load("msfake_drive", "drive.py")
API_MODULES = (CONTACTS, TODO, EVENTS, MAIL, DRIVE)

MAX_BODY = 8 * 1024 * 1024
MAX_JSON_DEPTH = 32
BATCH_MAX = 20  # https://learn.microsoft.com/graph/json-batching "limited to 20 individual requests"
GRAPH_RESOURCE = "https://graph.microsoft.com/"
# Graph's app id, as in the WWW-Authenticate header Graph sends with a 401.
WWW_AUTH = ('Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
            'client_id="00000003-0000-0000-c000-000000000000"')
TOKEN_PATH = re.compile(r"^/([A-Za-z0-9.\-]+)/oauth2/v2\.0/token$")


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


def user_of_refresh_token(tok):
    """`alice-refresh` -> `alice`; any other token names its own user."""
    if tok.endswith("-refresh") and len(tok) > len("-refresh"):
        return tok[: -len("-refresh")]
    return tok


def short_scope(s):
    """`https://graph.microsoft.com/Contacts.Read` -> `Contacts.Read` (Graph is the
    default resource; scope names are case-insensitive)."""
    if s.lower().startswith(GRAPH_RESOURCE):
        s = s[len(GRAPH_RESOURCE):]
    return s


def has_scope(granted, wanted):
    g = {x.lower() for x in granted}
    return any(w.lower() in g for w in wanted)


def no_faults():
    return {"throttle": None, "server": None, "batch_throttle": None}


class ClientGone(Exception):
    """The request body ended before its Content-Length (the client hung up)."""


def new_hold():
    """The "hold" fault: the next N API requests wait (while counted as in flight) until released."""
    return {"remaining": 0, "held": 0, "event": threading.Event()}


class Fake:
    def __init__(self, args):
        self.store = S.Store(args.state)
        self.grants = {}
        for g in args.grant or []:
            if "=" not in g:
                raise SystemExit("--grant wants REFRESH_TOKEN=Scope1 Scope2 ...")
            tok, scopes = g.split("=", 1)
            self.grants[tok] = {"user": user_of_refresh_token(tok), "scopes": [short_scope(s) for s in scopes.split()]}
            self.store.user(self.grants[tok]["user"])
        self.token_lifetime = args.token_lifetime
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.per_10_min = args.requests_per_10_min
        self.max_concurrent = args.max_concurrent
        self.inflight = collections.Counter()
        self.lock = threading.Lock()
        self.tokens = {}
        self.violations = []
        self.requests = collections.Counter()
        self.faults = no_faults()
        self.rate_log = collections.defaultdict(collections.deque)
        self.hold = new_hold()
        self.hold_cond = threading.Condition(self.lock)
        self.routes = []
        for mod in API_MODULES:
            self.routes.extend(mod.ROUTES)

    def violation(self, method, path, message):
        with self.lock:
            self.violations.append({"method": method, "path": path, "message": message,
                                    "time": S.now_iso()})


class Ctx:
    """What an API handler sees of one request."""

    def __init__(self, fake, user, query, body, raw, match, method, path, headers, base_url):
        self.fake = fake
        self.store = fake.store
        self.user = user
        self.u = fake.store.user(user)
        self.query = query
        self.body = body
        self.raw = raw
        self.match = match
        self.method = method
        self.path = path
        self.headers = headers
        self.base_url = base_url
        self.response_headers = {}
        self.context_name = ""

    def params(self, allowed):
        return C.Params(self.query, set(allowed))


class Headers:
    """Case-insensitive header view over a dict (batch sub-requests)."""

    def __init__(self, d):
        self.d = {str(k).lower(): str(v) for k, v in (d or {}).items()}

    def get(self, name, default=None):
        return self.d.get(name.lower(), default)


def throttled(retry_after, code="ApplicationThrottled",
              message="Application is over its MailboxConcurrency limit."):
    h = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return C.GraphError(429, code, message, headers=h)


class Api:
    """Request processing shared by the HTTP handler and $batch."""

    def __init__(self, fake):
        self.fake = fake

    def count(self, key):
        with self.fake.lock:
            self.fake.requests[key] += 1

    def authenticate(self, headers):
        auth = headers.get("Authorization") or ""
        if auth[:7].lower() != "bearer " or not auth[7:].strip():
            raise C.GraphError(401, "InvalidAuthenticationToken", "Access token is empty.",
                               headers={"WWW-Authenticate": WWW_AUTH})
        tok = auth[7:].strip()
        with self.fake.lock:
            info = self.fake.tokens.get(tok)
        if info is None:
            raise C.GraphError(401, "InvalidAuthenticationToken",
                               "IDX14100: JWT is not well formed, there are no dots (.).",
                               headers={"WWW-Authenticate": WWW_AUTH})
        if info["expires"] < time.time():
            raise C.GraphError(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.",
                               headers={"WWW-Authenticate": WWW_AUTH})
        return info["user"], info["scopes"]

    def find_route(self, method, path):
        path_hit = None
        for r in self.fake.routes:
            m = r["re"].match(path)
            if m:
                if r["method"] == method:
                    return r, m
                path_hit = r
        return path_hit, None

    def check_quota(self, user):
        """--requests-per-10-min: Outlook's "10,000 API requests in a 10 minute period"
        per app per mailbox (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits)."""
        n = self.fake.per_10_min
        if not n:
            return
        now = time.time()
        with self.fake.lock:
            log = self.fake.rate_log[user]
            while log and log[0] <= now - 600:
                log.popleft()
            if len(log) >= n:
                wait = max(1, math.ceil(log[0] + 600 - now))
                raise throttled(wait, message="Application is over its limit of %d requests in 10 minutes for this mailbox." % n)
            log.append(now)

    def check_faults(self):
        with self.fake.lock:
            f = self.fake.faults
            err = None
            for kind in ("throttle", "server"):
                r = f.get(kind)
                if not r or err is not None:
                    continue
                if r["after"] > 0:
                    r["after"] -= 1
                elif r["times"] > 0:
                    r["times"] -= 1
                    err = (kind, dict(r))
                if r["times"] <= 0 and r["after"] <= 0:
                    f[kind] = None
        if err is None:
            return
        kind, d = err
        if kind == "throttle":
            raise throttled(d["retry_after"], d["code"], d["message"])
        h = {"Retry-After": str(d["retry_after"])} if d.get("retry_after") is not None else {}
        if d["code"] == 503:
            raise C.GraphError(503, "serviceNotAvailable", "The service is not available. Try the request again "
                               "after a delay.", headers=h)
        raise C.GraphError(504, "UnknownError", "The gateway did not receive a timely response.", headers=h)

    def handle(self, method, target, headers, raw, base_url, batch_user=None, batch_scopes=None):
        """Returns (status, headers, body); body is a JSON value, None, or
        ("raw", content_type, bytes).  Never raises."""
        user = self.peek_user(headers) if batch_user is None else None
        if user is None or not self.fake.max_concurrent:
            self.maybe_hold()
            return self._handle(method, target, headers, raw, base_url, batch_user, batch_scopes)
        with self.fake.lock:
            self.fake.inflight[user] += 1
            over = self.fake.inflight[user] > self.fake.max_concurrent
        try:
            if over:
                rid = str(uuid.uuid4())
                e = throttled(1)  # "Application is over its MailboxConcurrency limit."
                h = {"request-id": rid, "client-request-id": headers.get("client-request-id") or rid}
                h.update(e.headers)
                self.count("%s (concurrency limit)" % method)
                return 429, h, e.body(rid, h["client-request-id"])
            self.maybe_hold()
            return self._handle(method, target, headers, raw, base_url, batch_user, batch_scopes)
        finally:
            with self.fake.lock:
                self.fake.inflight[user] -= 1

    def maybe_hold(self):
        fake = self.fake
        with fake.lock:
            h = fake.hold
            if h["remaining"] <= 0:
                return
            h["remaining"] -= 1
            h["held"] += 1
            fake.hold_cond.notify_all()
        try:
            h["event"].wait(10)  # bounded: a forgotten release never wedges the fake
        finally:
            with fake.lock:
                h["held"] -= 1

    def peek_user(self, headers):
        auth = headers.get("Authorization") or ""
        with self.fake.lock:
            info = self.fake.tokens.get(auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        return info["user"] if info else None

    def _handle(self, method, target, headers, raw, base_url, batch_user=None, batch_scopes=None):
        fake = self.fake
        split = urllib.parse.urlsplit(target)
        path = urllib.parse.unquote(split.path)
        cid = headers.get("client-request-id")
        rid = str(uuid.uuid4())
        out_headers = {"request-id": rid, "client-request-id": cid or rid}
        try:
            query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
            route, m = self.find_route(method, path)
            self.count("%s %s" % (method, route["template"] if m else path))
            if batch_user is None:
                user, scopes = self.authenticate(headers)
            else:
                user, scopes = batch_user, batch_scopes
            if route is None:
                raise C.bad("Resource not found for the segment '%s'." % (path.rstrip("/").rsplit("/", 1)[-1]))
            if m is None:
                raise C.GraphError(405, "BadRequest", "Specified HTTP method is not allowed for the request target.",
                                   violation=True)
            if not has_scope(scopes, route["scopes"]):
                raise C.GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
            self.check_quota(user)
            self.check_faults()
            body = None
            if route["raw_body"]:
                pass
            elif raw:
                ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if not route["body"]:
                    raise C.bad("This request does not take a request body.")
                if ctype != "application/json":
                    raise C.GraphError(415, "UnsupportedMediaType" if ctype else "BadRequest",
                                       "A supported MIME type could not be found that matches the content type "
                                       "of the response (Content-Type %r); use application/json." % ctype,
                                       violation=True)
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (ValueError, UnicodeDecodeError, RecursionError) as e:
                    raise C.GraphError(400, "BadRequest", "Unable to read JSON request payload. %s" % e,
                                       violation=True)
                if json_depth(body) > MAX_JSON_DEPTH:
                    raise C.GraphError(400, "BadRequest", "JSON nested deeper than %d levels." % MAX_JSON_DEPTH,
                                       violation=True)
            if route["body"] and not isinstance(body, dict):
                raise C.GraphError(400, "BadRequest", "Empty Payload. JSON content expected.", violation=True)
            ctx = Ctx(fake, user, query, body, raw, m.groupdict(), method, split.path, headers, base_url)
            with fake.store.lock:
                result = route["handler"](ctx)
                if method != "GET":
                    fake.store.save()
            code, obj = result if isinstance(result, tuple) else (200, result)
            out_headers.update(ctx.response_headers)
            return code, out_headers, obj
        except C.GraphError as e:
            if e.violation:
                fake.violation(method, path, e.message)
            out_headers.update(e.headers)
            return e.status, out_headers, e.body(rid, out_headers["client-request-id"])
        except Exception:
            traceback.print_exc()
            fake.violation(method, path, "fake crashed: " + traceback.format_exc(limit=3))
            e = C.GraphError(500, "InternalServerError", "Internal error in the fake.")
            return 500, out_headers, e.body(rid, out_headers["client-request-id"])

    # -- JSON batching -----------------------------------------------------------
    def batch(self, headers, raw, base_url):
        """POST /v1.0/$batch -- https://learn.microsoft.com/graph/json-batching"""
        fake = self.fake
        rid = str(uuid.uuid4())
        out_headers = {"request-id": rid, "client-request-id": headers.get("client-request-id") or rid}
        self.count("POST /v1.0/$batch")
        try:
            user, scopes = self.authenticate(headers)
            ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise C.GraphError(400, "BadRequest", "Content-Type must be application/json for $batch.",
                                   violation=True)
            try:
                body = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise C.bad("Invalid batch payload format.")
            if json_depth(body) > MAX_JSON_DEPTH:
                raise C.bad("Invalid batch payload format (nesting too deep).")
            if not isinstance(body, dict) or set(body) != {"requests"} or not isinstance(body["requests"], list):
                raise C.bad("Invalid batch payload format: the body must be {\"requests\": [...]}.")
            reqs = body["requests"]
            if not reqs:
                raise C.bad("Invalid batch payload format: no requests.")
            if len(reqs) > BATCH_MAX:
                raise C.bad("Number of requests in a batch exceeds the limit of %d." % BATCH_MAX)
            seen = set()
            plan = []
            for r in reqs:
                if not isinstance(r, dict):
                    raise C.bad("Invalid batch payload format: each request must be an object.")
                unknown = set(r) - {"id", "method", "url", "headers", "body", "dependsOn"}
                if unknown:
                    raise C.bad("Invalid batch payload format: unknown member(s) %s." % sorted(unknown))
                bid, meth, url = r.get("id"), r.get("method"), r.get("url")
                if not isinstance(bid, str) or not bid:
                    raise C.bad("Invalid batch payload format: every request needs a string id.")
                if bid.lower() in seen:
                    raise C.bad("Batch request ids must be unique; '%s' is repeated." % bid)
                seen.add(bid.lower())
                if not isinstance(meth, str) or meth.upper() not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
                    raise C.bad("Invalid batch payload format: bad method for request '%s'." % bid)
                if not isinstance(url, str) or not url or url.lower().startswith(("http:", "https:")):
                    raise C.bad("Invalid batch payload format: request '%s' needs a relative url." % bid)
                hdrs = r.get("headers")
                if hdrs is not None and (not isinstance(hdrs, dict) or
                                         not all(isinstance(v, str) for v in hdrs.values())):
                    raise C.bad("Invalid batch payload format: headers of '%s' must map names to strings." % bid)
                h = Headers(hdrs)
                dep = r.get("dependsOn")
                if dep is not None:
                    if not isinstance(dep, list) or not all(isinstance(x, str) for x in dep):
                        raise C.bad("dependsOn of '%s' must be a list of ids." % bid)
                    for x in dep:
                        if x.lower() not in seen or x.lower() == bid.lower():
                            raise C.bad("dependsOn of '%s' names '%s', which is not an earlier request." % (bid, x))
                payload = b""
                if "body" in r:
                    bct = (h.get("Content-Type") or "").split(";")[0].strip().lower()
                    if not bct:
                        raise C.bad("Request '%s' has a body but no Content-Type header." % bid)
                    if bct == "application/json":
                        payload = json.dumps(r["body"]).encode()
                    else:
                        if not isinstance(r["body"], str):
                            raise C.bad("The body of '%s' must be base64 for Content-Type %s." % (bid, bct))
                        try:
                            payload = base64.b64decode(r["body"] + "=" * (-len(r["body"]) % 4),
                                                       altchars=b"-_" if ("-" in r["body"] or "_" in r["body"])
                                                       else None, validate=False)
                        except (ValueError, TypeError):
                            raise C.bad("The body of '%s' is not valid base64." % bid)
                rel = url.lstrip("/")
                plan.append((bid, meth.upper(), "/v1.0/" + rel, h, payload, dep or []))
            with fake.lock:
                bt = fake.faults.get("batch_throttle")
                fake.faults["batch_throttle"] = None
            status_of, responses = {}, []
            for bid, meth, target, h, payload, dep in plan:
                if any(status_of.get(x.lower(), 0) >= 400 for x in dep):
                    err = C.GraphError(424, "FailedDependency", "A request this one depends on failed.")
                    st, hd, bd = 424, {"Content-Type": "application/json"}, err.body(rid, out_headers["client-request-id"])
                elif bt and bid in bt["ids"]:
                    self.count("%s %s" % (meth, "(batch_throttle)"))
                    err = throttled(bt["retry_after"])
                    st, hd, bd = 429, dict(err.headers), err.body(str(uuid.uuid4()), out_headers["client-request-id"])
                else:
                    if target.split("?")[0].rstrip("/").lower() == "/v1.0/$batch":
                        err = C.bad("A batch cannot contain $batch.")
                        fake.violation(meth, target, err.message)
                        st, hd, bd = 400, {}, err.body(rid, out_headers["client-request-id"])
                    else:
                        st, hd, bd = self.handle(meth, target, h, payload, base_url, user, scopes)
                if isinstance(bd, tuple) and bd and bd[0] == "raw":
                    hd["Content-Type"] = bd[1]
                    bd = base64.b64encode(bd[2]).decode()
                elif bd is not None and "Content-Type" not in hd:
                    hd["Content-Type"] = "application/json"
                status_of[bid.lower()] = st
                item = {"id": bid, "status": st, "headers": hd}
                if bd is not None:
                    item["body"] = bd
                responses.append(item)
            return 200, out_headers, {"responses": responses}
        except C.GraphError as e:
            if e.violation:
                fake.violation("POST", "/v1.0/$batch", e.message)
            out_headers.update(e.headers)
            return e.status, out_headers, e.body(rid, out_headers["client-request-id"])
        except Exception:
            traceback.print_exc()
            fake.violation("POST", "/v1.0/$batch", "fake crashed: " + traceback.format_exc(limit=3))
            return 500, out_headers, C.GraphError(500, "InternalServerError", "fake bug").body(rid, rid)


class Handler(BaseHTTPRequestHandler):
    # headers and body go out as separate writes: without this each answer waits out
    # the client's delayed ACK (about 40 ms), and the stand-in, not the client, sets the pace
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "MicrosoftGraphFake/1.0"
    fake = None
    api = None

    def log_message(self, fmt, *args):
        if os.environ.get("MICROSOFT_FAKE_LOG"):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def send_any(self, code, obj, headers=None):
        ctype = None
        if obj is None:
            data = b""
        elif isinstance(obj, tuple) and obj and obj[0] == "raw":
            ctype, data = obj[1], obj[2]
        else:
            ctype = "application/json; odata.metadata=minimal; charset=utf-8"
            data = json.dumps(obj, indent=2).encode()
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data:
            self.wfile.write(data)

    def body_limit(self):
        if urllib.parse.urlsplit(self.path).path.startswith("/_upload/"):
            # Upload session fragments: "the maximum bytes in any given request is less than 60 MiB".
            return DRIVE.FRAGMENT_LIMIT - 1, C.GraphError(
                413, "invalidRequest", "A fragment must be smaller than 60 MiB.", violation=True,
                inner_code="maxFragmentLengthExceeded")
        return MAX_BODY, C.GraphError(413, "RequestEntityTooLarge", "The request is too large.", violation=True)

    def read_body(self):
        limit, too_big = self.body_limit()
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    n = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    self.close_connection = True
                    raise C.bad("Malformed chunked body.")
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += n
                if total > limit:
                    self.close_connection = True
                    raise too_big
                chunk = self.rfile.read(n)
                if len(chunk) < n:
                    self.close_connection = True
                    raise ClientGone()
                chunks.append(chunk)
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
            raise C.bad("Invalid Content-Length.")
        if n > limit:
            self.close_connection = True
            raise too_big
        data = self.rfile.read(n)
        if len(data) < n:
            # "If an upload request is disconnected or fails before the request is completed, all bytes
            # in that request are ignored" (driveitem-createuploadsession); the same for any request.
            self.close_connection = True
            raise ClientGone()
        return data

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def base_url(self):
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        return "http://" + host

    def dispatch(self):
        path = urllib.parse.urlsplit(self.path).path
        try:
            raw = self.read_body()
        except ClientGone:
            return None
        except C.GraphError as e:
            self.fake.violation(self.command, path, e.message)
            rid = str(uuid.uuid4())
            return self.send_any(e.status, e.body(rid, rid), e.headers)
        try:
            if path.startswith("/_fake/"):
                return self.fake_control(path, raw)
            if path.startswith(("/_upload/", "/_download/")):
                return self.drive_url(path, raw)
            if TOKEN_PATH.match(path):
                return self.token_endpoint(raw)
            if path.rstrip("/") == "/v1.0/$batch" and self.command == "POST":
                code, h, obj = self.api.batch(self.headers, raw, self.base_url())
            else:
                code, h, obj = self.api.handle(self.command, self.path, self.headers, raw, self.base_url())
            return self.send_any(code, obj, h)
        except (BrokenPipeError, ConnectionResetError):
            # the client went away mid-answer (a test killed it): nothing to answer, no bug
            self.close_connection = True
            return None
        except Exception:  # never die on input
            traceback.print_exc()
            self.fake.violation(self.command, path, "fake crashed: " + traceback.format_exc(limit=3))
            return self.send_any(500, {"error": {"code": "InternalServerError", "message": "fake bug"}})

    def drive_url(self, path, raw):
        """OneDrive's pre-authenticated URLs: upload sessions (/_upload/{token}) and downloads
        (/_download/{token}).  No bearer token, no quota or faults (they are not Graph requests)."""
        fake = self.fake
        kind, _, token = path[1:].partition("/")
        with fake.lock:
            fake.requests["%s /%s/{token}" % (self.command, kind)] += 1
        rid = str(uuid.uuid4())
        try:
            with fake.store.lock:
                if kind == "_upload":
                    code, h, obj = DRIVE.upload_endpoint(fake, self.command, token, self.headers, raw,
                                                         self.base_url())
                    if self.command != "GET":
                        fake.store.save()
                else:
                    code, h, obj = DRIVE.download_endpoint(fake, self.command, token, self.headers,
                                                           self.base_url())
        except C.GraphError as e:
            if e.violation:
                fake.violation(self.command, path, e.message)
            h = dict(e.headers)
            h["request-id"] = rid
            return self.send_any(e.status, e.body(rid, rid), h)
        h = dict(h)
        h["request-id"] = rid
        return self.send_any(code, obj, h)

    # -- OAuth ---------------------------------------------------------------------
    def token_endpoint(self, raw):
        """POST /{tenant}/oauth2/v2.0/token, grant_type=refresh_token --
        https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token
        errors: ...#error-response-1 and "Error codes for token endpoint errors"."""
        fake = self.fake
        with fake.lock:
            fake.requests["%s /{tenant}/oauth2/v2.0/token" % self.command] += 1

        def oauth_err(code, error, aadsts, desc, violation=False):
            tid, corr = str(uuid.uuid4()), str(uuid.uuid4())
            ts = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
            if violation:
                fake.violation(self.command, urllib.parse.urlsplit(self.path).path, "%s: %s" % (error, desc))
            return self.send_any(code, {
                "error": error,
                "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s"
                                     % (aadsts, desc, tid, corr, ts),
                "error_codes": [aadsts], "timestamp": ts, "trace_id": tid, "correlation_id": corr,
                "error_uri": "https://login.microsoftonline.com/error?code=%d" % aadsts})

        if self.command != "POST":
            return oauth_err(405, "invalid_request", 900561,
                             "The endpoint only accepts POST requests. Received a %s request." % self.command, True)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return oauth_err(400, "invalid_request", 900144,
                             "The request body must contain the following parameter: 'grant_type'.", True)
        try:
            form = urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return oauth_err(400, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid.",
                             True)
        if any(len(v) > 1 for v in form.values()):
            return oauth_err(400, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid.",
                             True)
        f = {k: v[0] for k, v in form.items()}
        gt = f.get("grant_type")
        if not gt:
            return oauth_err(400, "invalid_request", 900144,
                             "The request body must contain the following parameter: 'grant_type'.", True)
        if gt != "refresh_token":
            return oauth_err(400, "unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type '%s'." % gt, True)
        client_id = f.get("client_id")
        if not client_id:
            return oauth_err(400, "invalid_request", 900144,
                             "The request body must contain the following parameter: 'client_id'.", True)
        if fake.client_id and client_id != fake.client_id:
            return oauth_err(400, "unauthorized_client", 700016,
                             "Application with identifier '%s' was not found in the directory." % client_id, True)
        if fake.client_secret is not None and f.get("client_secret") != fake.client_secret:
            if not f.get("client_secret"):
                return oauth_err(401, "invalid_client", 7000218, "The request body must contain the following "
                                 "parameter: 'client_assertion' or 'client_secret'.", True)
            return oauth_err(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                             "being sent in the request is the client secret value, not the client secret ID.", True)
        rt = f.get("refresh_token")
        if not rt:
            return oauth_err(400, "invalid_request", 900144,
                             "The request body must contain the following parameter: 'refresh_token'.", True)
        with fake.lock:
            grant = fake.grants.get(rt)
        if grant is None:
            return oauth_err(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        scopes = list(grant["scopes"])
        if f.get("scope") is not None:
            asked = [short_scope(s) for s in f["scope"].split()]
            if not asked:
                return oauth_err(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' "
                                 "is not valid.", True)
            if any(a.lower() == ".default" for a in asked):
                asked = [s for s in scopes if s.lower() not in ("offline_access", "openid", "profile", "email")] + \
                        [a for a in asked if a.lower() in ("offline_access", "openid", "profile", "email")]
            granted_l = {s.lower() for s in scopes}
            missing = [a for a in asked if a.lower() not in granted_l]
            if missing:
                return oauth_err(400, "invalid_grant", 65001, "The user or administrator has not consented to use "
                                 "the application. Send an interactive authorization request for this user and "
                                 "resource (scopes %s)." % " ".join(missing))
            scopes = asked
        at = "eyJ0eXAiOiJKV1QifQ.fake-" + secrets.token_urlsafe(24)
        out = {"token_type": "Bearer", "scope": " ".join(s for s in scopes if s.lower() != "offline_access"),
               "expires_in": fake.token_lifetime, "ext_expires_in": fake.token_lifetime, "access_token": at}
        with fake.lock:
            fake.tokens[at] = {"user": grant["user"], "scopes": scopes,
                               "expires": time.time() + fake.token_lifetime}
            # "refresh_token: A new OAuth 2.0 refresh token ... Only provided if offline_access
            # scope was requested."  Rotation: a new one each time; old ones stay valid.
            if any(s.lower() == "offline_access" for s in scopes):
                nrt = "%s-refresh.%s" % (grant["user"], secrets.token_urlsafe(12))
                fake.grants[nrt] = grant
                out["refresh_token"] = nrt
        return self.send_any(200, out, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    # -- test hooks ------------------------------------------------------------------
    def fake_control(self, path, raw):
        fake = self.fake
        body = None
        if raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError) as e:
                return self.send_any(400, {"error": {"code": "BadRequest", "message": "malformed JSON: %s" % e}})
        try:
            if path == "/_fake/violations":
                with fake.lock:
                    if self.command == "DELETE":
                        fake.violations.clear()
                    return self.send_any(200, {"violations": list(fake.violations)})
            if path == "/_fake/requests":
                with fake.lock:
                    if self.command == "DELETE":
                        fake.requests.clear()
                    return self.send_any(200, {"requests": dict(fake.requests)})
            if path == "/_fake/state":
                return self.send_any(200, fake.store.snapshot())
            if path == "/_fake/faults":
                if self.command == "GET":
                    with fake.lock:
                        return self.send_any(200, fake.faults)
                if self.command == "DELETE":
                    with fake.lock:
                        fake.faults = no_faults()
                        fake.hold["event"].set()
                        fake.hold = new_hold()
                    return self.send_any(200, {})
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
                return self.send_any(200, out)
            return self.send_any(404, {"error": {"code": "NotFound", "message": "unknown test hook " + path}})
        except (ValueError, KeyError, TypeError) as e:
            return self.send_any(400, {"error": {"code": "BadRequest", "message": str(e)}})
        except C.GraphError as e:
            return self.send_any(400, {"error": {"code": e.code, "message": e.message}})

    def set_faults(self, body):
        fake = self.fake
        if not isinstance(body, dict):
            raise ValueError("faults wants a JSON object")
        known = {"throttle_after", "times", "retry_after", "code", "message", "server_error", "after",
                 "expire_tokens", "expire_delta_tokens", "user", "batch_throttle", "expire_upload_sessions",
                 "expire_download_urls", "hold", "await_held", "release"}
        unknown = set(body) - known
        if unknown:
            raise ValueError("unknown fault keys: %s" % sorted(unknown))
        ra = body.get("retry_after", 1)
        if ra is not None and (not isinstance(ra, int) or isinstance(ra, bool) or ra < 0):
            raise ValueError("retry_after must be a non-negative integer or null")
        with fake.lock:
            if "throttle_after" in body:
                code = body.get("code", "ApplicationThrottled")
                if code not in ("ApplicationThrottled", "TooManyRequests"):
                    raise ValueError("code must be ApplicationThrottled or TooManyRequests")
                msg = body.get("message") or ("Application is over its MailboxConcurrency limit."
                                              if code == "ApplicationThrottled" else
                                              "Too many requests. Please try again later.")
                fake.faults["throttle"] = {"after": int(body["throttle_after"]), "times": int(body.get("times", 1)),
                                           "retry_after": ra, "code": code, "message": msg}
            if "server_error" in body:
                code = int(body["server_error"])
                if code not in (503, 504):
                    raise ValueError("server_error must be 503 or 504")
                fake.faults["server"] = {"after": int(body.get("after", 0)), "code": code,
                                         "times": int(body.get("times", 1)),
                                         "retry_after": body.get("retry_after")}
            if "batch_throttle" in body:
                ids = body["batch_throttle"]
                if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                    raise ValueError("batch_throttle wants a list of batch request ids (strings)")
                fake.faults["batch_throttle"] = {"ids": ids, "retry_after": ra}
            if body.get("expire_tokens"):
                fake.tokens.clear()
            if "hold" in body:
                n = body["hold"]
                if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                    raise ValueError("hold wants a non-negative integer")
                fake.hold["event"].set()
                fake.hold = new_hold()
                fake.hold["remaining"] = n
            if body.get("release"):
                fake.hold["event"].set()
                fake.hold["remaining"] = 0
        if body.get("expire_upload_sessions") or body.get("expire_download_urls"):
            with fake.store.lock:
                if body.get("expire_upload_sessions"):
                    DRIVE.GEN["upload"] += 1
                if body.get("expire_download_urls"):
                    DRIVE.GEN["download"] += 1
        held = None
        if "await_held" in body:
            n = body["await_held"]
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ValueError("await_held wants a positive integer")
            with fake.hold_cond:
                fake.hold_cond.wait_for(lambda: fake.hold["held"] >= n, timeout=10)
                held = fake.hold["held"]
        if body.get("expire_delta_tokens"):
            with fake.store.lock:
                for name in ([body["user"]] if body.get("user") else list(fake.store.users)):
                    fake.store.user(name)["epoch"] += 1
                fake.store.save()
        with fake.lock:
            out = dict(fake.faults, held=fake.hold["held"] if held is None else held)
        return self.send_any(200, out)


def main(argv=None):
    global MAX_BODY
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0 picks a free one)")
    ap.add_argument("--grant", action="append", metavar="REFRESH_TOKEN=SCOPES",
                    help="refresh token and its space-separated scopes (Contacts.Read[Write], Calendars.Read[Write], "
                         "Tasks.Read[Write], Mail.Read[Write], Files.Read[Write][.All], offline_access); repeatable")
    ap.add_argument("--token-lifetime", type=int, default=3600, help="access token lifetime in seconds")
    ap.add_argument("--requests-per-10-min", type=int, default=10000,
                    help="API requests per mailbox per 10 minutes (0: unlimited); Outlook's documented 10,000")
    ap.add_argument("--max-concurrent", type=int, default=0,
                    help="concurrent requests per mailbox before 429 (Outlook documents 4); 0: unlimited")
    ap.add_argument("--state", help="JSON file to load at start and save after every write")
    ap.add_argument("--client-id", help="if set, the token endpoint requires this client_id")
    ap.add_argument("--client-secret", help="if set, the token endpoint requires this client_secret")
    ap.add_argument("--max-body", type=int, default=MAX_BODY, help="largest request body in bytes")
    ap.add_argument("--drive-quota", type=int, default=DRIVE.QUOTA_TOTAL,
                    help="OneDrive quota.total in bytes per user (default 1 TiB); uploads beyond it -> 507")
    ap.add_argument("--simple-upload-max", type=int, default=DRIVE.SIMPLE_MAX,
                    help="largest simple upload (PUT .../content) in bytes (default 4 MiB); larger -> 413")
    ap.add_argument("--upload-session-lifetime", type=int, default=DRIVE.SESSION_LIFETIME,
                    help="seconds an upload session lives after its last fragment (default 3600)")
    args = ap.parse_args(argv)
    MAX_BODY = args.max_body
    DRIVE.configure(args.drive_quota, args.simple_upload_max, args.upload_session_lifetime)
    host, _, port = args.listen.rpartition(":")
    fake = Fake(args)
    Handler.fake = fake
    Handler.api = Api(fake)
    srv = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    srv.daemon_threads = True
    print("listening on http://%s:%d" % (srv.server_address[0], srv.server_address[1]), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
