"""Tests for the Mastodon fake.  Run from the repository root:

    python3 -m unittest scripts/fakes/mastodon/test_fake.py

Every test talks HTTP to real server processes.  Time-dependent behaviour
(rate-limit windows, mute expiry, the daily follow limit) is driven through
small windows and the /_fake/clock hook, so nothing waits for an event.
"""
import base64
import hashlib
import http.client
import json
import os
import secrets
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import zlib
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")


def png(width, height):
    """A valid PNG of the given size (one grey pixel row repeated)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def links(headers):
    """Parse `Link: <url>; rel="next", <url>; rel="prev"` into {rel: path?query}."""
    out = {}
    for part in (headers.get("link") or "").split(", "):
        if not part:
            continue
        url, _, rel = part.partition("; ")
        assert url.startswith("<") and url.endswith(">"), part
        assert rel.startswith('rel="') and rel.endswith('"'), part
        u = urllib.parse.urlsplit(url[1:-1])
        out[rel[5:-1]] = u.path + "?" + u.query
    return out


def query_of(path_and_query):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path_and_query).query))


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


class Fake:
    def __init__(self, *extra):
        args = [sys.executable, SERVER, "--listen", "127.0.0.1:0"] + list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), (line, self.proc.stderr.read())
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def raw(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def req(self, method, path, token=None, query=None, json_body=None, form=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        body = None
        if json_body is not None:
            body = json.dumps(json_body)
            h["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query, doseq=True)
        st, hd, data = self.raw(method, path, body, h)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data
        return st, hd, parsed

    def hook(self, method, path, body=None):
        st, _, j = self.req(method, "/_fake/" + path, json_body=body)
        assert st == 200, (path, st, j)
        return j

    def seed(self, **kw):
        return self.hook("POST", "seed", kw)

    def violations(self):
        return self.hook("GET", "violations")["violations"]

    def advance(self, seconds):
        return self.hook("POST", "clock", {"advance": seconds})


class Base(unittest.TestCase):
    extra = ()

    @classmethod
    def setUpClass(cls):
        cls.f = Fake(*cls.extra)

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def setUp(self):
        self.f.hook("POST", "reset")
        self.expect_violations = False

    def tearDown(self):
        v = self.f.violations()
        self.assertEqual([], [x for x in v if x["message"].startswith("fake crashed")])
        if not self.expect_violations:
            self.assertEqual([], v)

    # helpers ------------------------------------------------------------------
    def user(self, name, scopes="read write follow"):
        """A local account with a ready token; returns (account id, token)."""
        tok = "tok-%s-%s" % (name, secrets.token_hex(4))
        out = self.f.seed(accounts=[{"username": name}], tokens=[{"token": tok, "account": name, "scopes": scopes}])
        return out["accounts"][name], tok

    def token_for(self, name, scopes):
        tok = "tok-%s-%s" % (name, secrets.token_hex(4))
        self.f.seed(tokens=[{"token": tok, "account": name, "scopes": scopes}])
        return tok

    def ok(self, r, code=200):
        st, _, j = r
        self.assertEqual(code, st, j)
        return j

    def refused(self, r, code, error=None):
        """An answer the real server gives, recorded as a violation."""
        st, _, j = r
        self.assertEqual(code, st, j)
        if error is not None:
            self.assertEqual(error, j["error"])
        self.assertTrue(self.f.violations(), "violation not recorded")
        self.expect_violations = True
        return j

    def walk(self, path, token, limit, key=lambda x: x["id"]):
        """Follow rel="next" to the end; returns (items, pages, first page's links)."""
        items, pages, first = [], 0, None
        url = path + ("&" if "?" in path else "?") + "limit=%d" % limit
        while url:
            st, h, j = self.f.req("GET", url, token)
            self.assertEqual(200, st, j)
            pages += 1
            self.assertLessEqual(len(j), limit)
            items += [key(x) for x in j]
            ln = links(h)
            if first is None:
                first = ln
            url = ln.get("next")
            self.assertLess(pages, 50)
        return items, pages, first


# ---------------------------------------------------------------------------------
class OAuthTest(Base):
    def register(self, scopes="read write follow", redirect="http://localhost:4567/callback", as_json=True):
        body = {"client_name": "ferry test", "redirect_uris": redirect, "scopes": scopes,
                "website": "https://ferry.example"}
        r = self.f.req("POST", "/api/v1/apps", json_body=body) if as_json else \
            self.f.req("POST", "/api/v1/apps", form=body)
        return self.ok(r)

    def exchange(self, app, code, verifier=None, redirect="http://localhost:4567/callback", **extra):
        form = {"grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
                "client_secret": app["client_secret"], "redirect_uri": redirect}
        if verifier is not None:
            form["code_verifier"] = verifier
        form.update(extra)
        return self.f.req("POST", "/oauth/token", form=form)

    def test_app_registration(self):
        app = self.register()
        self.assertEqual({"id", "name", "website", "scopes", "redirect_uri", "redirect_uris", "client_id",
                          "client_secret", "client_secret_expires_at", "vapid_key"}, set(app))
        self.assertEqual(["read", "write", "follow"], app["scopes"])
        self.assertEqual(["http://localhost:4567/callback"], app["redirect_uris"])
        self.assertEqual(0, app["client_secret_expires_at"])
        # form-encoded, several redirect URIs as an array, default scope "read"
        st, _, j = self.f.req("POST", "/api/v1/apps", form={"client_name": "x", "redirect_uris[]": [
            "urn:ietf:wg:oauth:2.0:oob", "https://app.example/cb"]})
        self.assertEqual(200, st, j)
        self.assertEqual(["read"], j["scopes"])
        self.assertEqual("urn:ietf:wg:oauth:2.0:oob\nhttps://app.example/cb", j["redirect_uri"])

    def test_app_registration_refused(self):
        j = self.refused(self.f.req("POST", "/api/v1/apps", json_body={"client_name": "x"}), 422)
        self.assertEqual("Validation failed: Redirect URI can't be blank", j["error"])
        j = self.refused(self.f.req("POST", "/api/v1/apps", json_body={"client_name": "x", "redirect_uris": "nope"}),
                         422)
        self.assertEqual("Validation failed: Redirect URI must be an absolute URI.", j["error"])
        self.refused(self.f.req("POST", "/api/v1/apps", json_body={"client_name": "x", "redirect_uris":
                                                                   "urn:ietf:wg:oauth:2.0:oob", "scopes": "read root"}),
                     422)
        self.refused(self.f.req("POST", "/api/v1/apps", json_body={"client_name": "n" * 5000, "redirect_uris":
                                                                   "urn:ietf:wg:oauth:2.0:oob"}), 422)

    def test_pkce_code_flow_good_and_bad_verifier(self):
        self.user("alice")
        app = self.register()
        verifier, challenge = pkce()
        hook = {"client_id": app["client_id"], "user": "alice", "scope": "read",
                "redirect_uri": "http://localhost:4567/callback", "code_challenge": challenge,
                "code_challenge_method": "S256", "state": "xyz"}
        got = self.f.hook("POST", "authorize", hook)
        self.assertTrue(got["redirect"].startswith("http://localhost:4567/callback?code="))
        self.assertEqual("xyz", query_of(got["redirect"])["state"])
        # a wrong verifier is refused and burns nothing: the right one still works
        j = self.refused(self.exchange(app, got["code"], verifier="x" * 43), 400, "invalid_grant")
        self.assertIn("error_description", j)
        self.refused(self.exchange(app, got["code"]), 400, "invalid_grant")  # no verifier at all
        st, h, tok = self.exchange(app, got["code"], verifier)
        self.assertEqual(200, st, tok)
        self.assertEqual({"access_token", "token_type", "scope", "created_at"}, set(tok))  # no refresh, no expiry
        self.assertEqual(("Bearer", "read"), (tok["token_type"], tok["scope"]))
        me = self.ok(self.f.req("GET", "/api/v1/accounts/verify_credentials", tok["access_token"]))
        self.assertEqual("alice", me["acct"])
        self.assertIn("source", me)
        # a code works once
        self.refused(self.exchange(app, got["code"], verifier), 400, "invalid_grant")
        # the token carries the authorized scopes only: read, no write
        self.ok(self.f.req("GET", "/api/v1/blocks", tok["access_token"]))
        self.refused(self.f.req("POST", "/api/v1/lists", tok["access_token"], form={"title": "x"}), 403,
                     "This action is outside the authorized scopes")

    def test_code_without_pkce_redirect_mismatch_and_expiry(self):
        self.user("alice")
        app = self.register(redirect="urn:ietf:wg:oauth:2.0:oob")
        code = self.f.hook("GET", "authorize?" + urllib.parse.urlencode({"client_id": app["client_id"],
                                                                          "user": "alice"}))["code"]
        self.refused(self.exchange(app, code, redirect="http://elsewhere/cb"), 400, "invalid_grant")
        self.refused(self.exchange(app, code, verifier=pkce()[0], redirect="urn:ietf:wg:oauth:2.0:oob"), 400,
                     "invalid_grant")  # a verifier for a code issued without a challenge
        tok = self.ok(self.exchange(app, code, redirect="urn:ietf:wg:oauth:2.0:oob"))
        self.assertEqual("read", tok["scope"])
        code = self.f.hook("POST", "authorize", {"client_id": app["client_id"], "user": "alice"})["code"]
        self.f.advance(601)  # authorization codes live 10 minutes
        self.refused(self.exchange(app, code, redirect="urn:ietf:wg:oauth:2.0:oob"), 400, "invalid_grant")

    def test_authorize_refusals(self):
        self.user("alice")
        app = self.register(scopes="read")
        base = {"client_id": app["client_id"], "user": "alice"}
        for extra, error in (({"scope": "read write"}, "invalid_scope"),
                             ({"scope": "read:accounts"}, "invalid_scope"),  # exact subset, no hierarchy
                             ({"redirect_uri": "http://evil.example/"}, "invalid_redirect_uri"),
                             ({"code_challenge": pkce()[1]}, "invalid_request"),  # method missing = plain
                             ({"code_challenge": pkce()[1], "code_challenge_method": "plain"}, "invalid_request"),
                             ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request")):
            st, _, j = self.f.req("POST", "/_fake/authorize", json_body=dict(base, **extra))
            self.assertEqual((400, error), (st, j["error"]), extra)
        st, _, j = self.f.req("POST", "/_fake/authorize", json_body={"client_id": "nope", "user": "alice"})
        self.assertEqual((400, "invalid_client"), (st, j["error"]))
        self.expect_violations = True

    def test_client_credentials_and_app_token(self):
        self.user("alice")
        app = self.register()
        tok = self.ok(self.f.req("POST", "/oauth/token", form={
            "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "scope": "read"}))
        me = self.ok(self.f.req("GET", "/api/v1/apps/verify_credentials", tok["access_token"]))
        self.assertEqual("ferry test", me["name"])
        self.assertNotIn("client_secret", me)
        self.refused(self.f.req("GET", "/api/v1/accounts/verify_credentials", tok["access_token"]), 422,
                     "This method requires an authenticated user")
        self.refused(self.f.req("POST", "/oauth/token", form={
            "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "scope": "admin:read"}), 400, "invalid_scope")

    def test_token_endpoint_refusals(self):
        app = self.register()
        # Mastodon issues no refresh tokens (its tokens do not expire)
        self.refused(self.f.req("POST", "/oauth/token", form={
            "grant_type": "refresh_token", "refresh_token": "r", "client_id": app["client_id"],
            "client_secret": app["client_secret"]}), 400, "unsupported_grant_type")
        self.refused(self.f.req("POST", "/oauth/token", form={
            "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": "wrong"}),
            401, "invalid_client")
        self.refused(self.f.req("POST", "/oauth/token", form={"client_id": app["client_id"]}), 400, "invalid_request")
        # client authentication by HTTP Basic works too, and JSON bodies are read
        basic = base64.b64encode(("%s:%s" % (app["client_id"], app["client_secret"])).encode()).decode()
        self.ok(self.f.req("POST", "/oauth/token", json_body={"grant_type": "client_credentials"},
                           headers={"Authorization": "Basic " + basic}))

    def test_revoke(self):
        self.user("alice")
        app, other = self.register(), self.register()
        code = self.f.hook("POST", "authorize", {"client_id": app["client_id"], "user": "alice"})["code"]
        tok = self.ok(self.exchange(app, code))["access_token"]
        self.ok(self.f.req("GET", "/api/v1/accounts/verify_credentials", tok))
        self.refused(self.f.req("POST", "/oauth/revoke", form={
            "client_id": other["client_id"], "client_secret": other["client_secret"], "token": tok}),
            403, "unauthorized_client")
        self.f.hook("DELETE", "violations")
        self.expect_violations = False
        for _ in range(2):  # idempotent
            self.assertEqual({}, self.ok(self.f.req("POST", "/oauth/revoke", form={
                "client_id": app["client_id"], "client_secret": app["client_secret"], "token": tok})))
        st, _, j = self.f.req("GET", "/api/v1/accounts/verify_credentials", tok)
        self.assertEqual((401, "The access token was revoked"), (st, j["error"]))

    def test_bad_and_missing_tokens(self):
        aid, _ = self.user("alice")
        j = self.refused(self.f.req("GET", "/api/v1/accounts/verify_credentials", "garbage"), 401)
        self.assertEqual({"error": "The access token is invalid"}, j)
        self.refused(self.f.req("GET", "/api/v1/blocks"), 401, "The access token is invalid")
        # public endpoints answer an unknown token as Mastodon does (anonymous), recording the mistake
        self.f.hook("DELETE", "violations")
        self.ok(self.f.req("GET", "/api/v1/accounts/" + aid, "garbage"))
        self.assertEqual(1, len(self.f.violations()))

    def test_scope_refused_per_endpoint(self):
        aid, _ = self.user("alice")
        bid, _ = self.user("bob")
        lst = self.f.seed(lists=[{"account": "alice", "title": "L"}])["lists"]["L"]
        cases = [
            ("GET", "/api/v1/accounts/verify_credentials", "read:accounts"),
            ("GET", "/api/v1/accounts/relationships?id[]=" + bid, "read:follows"),
            ("GET", "/api/v1/blocks", "read:blocks"),
            ("GET", "/api/v1/mutes", "read:mutes"),
            ("GET", "/api/v1/domain_blocks", "read:blocks"),
            ("GET", "/api/v1/bookmarks", "read:bookmarks"),
            ("GET", "/api/v1/favourites", "read:favourites"),
            ("GET", "/api/v1/lists", "read:lists"),
            ("GET", "/api/v1/lists/%s/accounts" % lst, "read:lists"),
            ("GET", "/api/v1/accounts/%s/lists" % bid, "read:lists"),
            ("GET", "/api/v1/accounts/%s/statuses" % bid, "read:statuses"),
            ("GET", "/api/v1/accounts/%s/following" % bid, "read:accounts"),
            ("GET", "/api/v2/search?q=bob", "read:search"),
            ("POST", "/api/v1/accounts/%s/follow" % bid, "write:follows"),
            ("POST", "/api/v1/accounts/%s/unfollow" % bid, "write:follows"),
            ("POST", "/api/v1/accounts/%s/block" % bid, "write:blocks"),
            ("POST", "/api/v1/accounts/%s/mute" % bid, "write:mutes"),
            ("POST", "/api/v1/domain_blocks?domain=x.example", "write:blocks"),
            ("POST", "/api/v1/lists?title=T", "write:lists"),
            ("POST", "/api/v1/statuses?status=hi", "write:statuses"),
        ]
        for method, path, scope in cases:
            wrong = self.token_for("alice", "read:filters write:media push")
            st, _, j = self.f.req(method, path, wrong)
            self.assertEqual((403, {"error": "This action is outside the authorized scopes"}), (st, j), path)
            right = self.token_for("alice", scope)
            st, _, j = self.f.req(method, path, right)
            self.assertEqual(200, st, (path, j))
            parent = self.token_for("alice", scope.split(":")[0])  # read / write grant their children
            self.assertEqual(200, self.f.req(method, path, parent)[0], path)
        # follow (deprecated) grants blocks/follows/mutes, not lists; profile grants verify_credentials only
        tok = self.token_for("alice", "follow")
        self.assertEqual(200, self.f.req("GET", "/api/v1/blocks", tok)[0])
        self.assertEqual(403, self.f.req("GET", "/api/v1/lists", tok)[0])
        tok = self.token_for("alice", "profile")
        self.assertEqual(200, self.f.req("GET", "/api/v1/accounts/verify_credentials", tok)[0])
        self.assertEqual(403, self.f.req("GET", "/api/v1/accounts/" + aid, tok)[0])
        self.expect_violations = True

    def test_auto_authorize_and_metadata(self):
        f = Fake("--auto-authorize", "alice", "--account", "alice")
        try:
            st, _, app = f.req("POST", "/api/v1/apps", json_body={"client_name": "c", "redirect_uris":
                                                                  "http://127.0.0.1:9/cb", "scopes": "read"})
            verifier, challenge = pkce()
            st, h, _ = f.raw("GET", "/oauth/authorize?" + urllib.parse.urlencode({
                "response_type": "code", "client_id": app["client_id"], "redirect_uri": "http://127.0.0.1:9/cb",
                "scope": "read", "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"}))
            self.assertEqual(302, st)
            q = query_of(h["location"])
            self.assertEqual("s1", q["state"])
            st, _, tok = f.req("POST", "/oauth/token", form={
                "grant_type": "authorization_code", "code": q["code"], "client_id": app["client_id"],
                "client_secret": app["client_secret"], "redirect_uri": "http://127.0.0.1:9/cb",
                "code_verifier": verifier})
            self.assertEqual(200, st, tok)
            meta = f.req("GET", "/.well-known/oauth-authorization-server")[2]
            self.assertEqual(["S256"], meta["code_challenge_methods_supported"])
            self.assertNotIn("refresh_token", meta["grant_types_supported"])
            self.assertEqual([], f.violations())
        finally:
            f.stop()


# ---------------------------------------------------------------------------------
class PagingTest(Base):
    def setUp(self):
        super().setUp()
        self.aid, self.tok = self.user("alice")
        others = [{"username": "u%d" % i} for i in range(7)]
        self.ids = self.f.seed(accounts=others)["accounts"]

    def test_following_and_followers_pages_by_link_header(self):
        self.f.seed(follows=[{"account": "alice", "target": "u%d" % i} for i in range(7)]
                    + [{"account": "u%d" % i, "target": "alice"} for i in range(7)])
        newest_first = [self.ids["u%d" % i] for i in reversed(range(7))]
        for kind in ("following", "followers"):
            items, pages, first = self.walk("/api/v1/accounts/%s/%s" % (self.aid, kind), self.tok, 3)
            self.assertEqual((newest_first, 3), (items, pages), kind)
            # cursors are the internal Follow ids, never account ids
            nxt = query_of(first["next"])
            self.assertEqual("3", nxt["limit"])
            self.assertLess(int(nxt["max_id"]), 10 ** 9)
            self.assertNotIn(nxt["max_id"], self.ids.values())
            self.assertIn("since_id", query_of(first["prev"]))
        # anonymous access works (public since 4.0)
        st, _, j = self.f.req("GET", "/api/v1/accounts/%s/following" % self.aid)
        self.assertEqual((200, 7), (st, len(j)))

    def test_last_full_page_then_empty_page(self):
        self.f.seed(follows=[{"account": "alice", "target": "u%d" % i} for i in range(6)])
        st, h, j = self.f.req("GET", "/api/v1/accounts/%s/following?limit=3" % self.aid)
        st, h, j = self.f.req("GET", links(h)["next"])
        self.assertEqual(3, len(j))
        st, h, j = self.f.req("GET", links(h)["next"])  # a full page always has "next", even at the end
        self.assertEqual((200, []), (st, j))
        self.assertNotIn("link", h)

    def test_blocks_mutes_domain_blocks(self):
        self.f.seed(blocks=[{"account": "alice", "target": "u%d" % i} for i in range(5)],
                    mutes=[{"account": "alice", "target": "u%d" % i, "notifications": i % 2 == 0}
                           for i in range(5)],
                    domain_blocks=[{"account": "alice", "domain": "d%d.example" % i} for i in range(5)])
        items, pages, first = self.walk("/api/v1/blocks", self.tok, 2)
        self.assertEqual(([self.ids["u%d" % i] for i in (4, 3, 2, 1, 0)], 3), (items, pages))
        self.assertIn("since_id", query_of(first["prev"]))
        items, pages, first = self.walk("/api/v1/mutes", self.tok, 2)
        self.assertEqual(3, pages)
        self.assertEqual(5, len(set(items)))
        st, _, j = self.f.req("GET", "/api/v1/mutes", self.tok)
        self.assertIsNone(j[0]["mute_expires_at"])
        items, pages, _ = self.walk("/api/v1/domain_blocks", self.tok, 2, key=lambda d: d)
        self.assertEqual((["d%d.example" % i for i in (4, 3, 2, 1, 0)], 3), (items, pages))

    def seed_statuses(self, n=7):
        base = datetime(2020, 1, 1).timestamp()
        specs = [{"account": "u0", "key": "s%d" % i, "text": "post %d" % i,
                  "created_at": datetime.utcfromtimestamp(base + i * 3600).strftime("%Y-%m-%dT%H:%M:%SZ")}
                 for i in range(n)]
        return self.f.seed(statuses=specs)["statuses"]

    def test_bookmarks_and_favourites_prev_is_min_id(self):
        st = self.seed_statuses()
        self.f.seed(bookmarks=[{"account": "alice", "status": "s%d" % i} for i in range(7)],
                    favourites=[{"account": "alice", "status": "s%d" % i} for i in (6, 5, 4, 3, 2, 1, 0)])
        items, pages, first = self.walk("/api/v1/bookmarks", self.tok, 3)
        self.assertEqual(([st["s%d" % i] for i in reversed(range(7))], 3), (items, pages))
        self.assertIn("min_id", query_of(first["prev"]))
        items, pages, _ = self.walk("/api/v1/favourites", self.tok, 3)
        self.assertEqual([st["s%d" % i] for i in range(7)], items)  # newest favourite first
        # walking back with prev (min_id) gives the page just newer than the cursor
        _, h, p1 = self.f.req("GET", "/api/v1/bookmarks?limit=3", self.tok)
        _, h, p2 = self.f.req("GET", links(h)["next"], self.tok)
        _, h, back = self.f.req("GET", links(h)["prev"], self.tok)
        self.assertEqual([x["id"] for x in p1], [x["id"] for x in back])
        self.assertTrue(all(x["bookmarked"] for x in p1))

    def test_account_statuses_paging_and_filters(self):
        st = self.seed_statuses()
        self.f.seed(statuses=[{"account": "u0", "key": "r", "text": "reply", "in_reply_to": st["s0"]},
                              {"account": "u0", "key": "b", "reblog_of": st["s1"]},
                              {"account": "u0", "key": "p", "text": "secret", "visibility": "private"}])
        path = "/api/v1/accounts/%s/statuses" % self.ids["u0"]
        items, pages, first = self.walk(path + "?exclude_reblogs=true", self.tok, 3)
        self.assertEqual(8, len(items))  # 7 posts + the self-reply; no boost, no private post
        self.assertEqual(sorted(items, key=int, reverse=True), items)
        self.assertEqual("true", query_of(first["next"])["exclude_reblogs"])  # filters stay in the links
        self.assertIn("min_id", query_of(first["prev"]))
        _, _, j = self.f.req("GET", path, self.tok, {"exclude_replies": "true", "exclude_reblogs": "true"})
        self.assertEqual(8, len(j))  # a reply to oneself is kept
        _, _, j = self.f.req("GET", path, self.tok, {"only_media": "true"})
        self.assertEqual([], j)
        _, _, j = self.f.req("GET", path, self.tok)
        self.assertEqual(9, len(j))
        self.assertEqual(st["s1"], [x for x in j if x["reblog"]][0]["reblog"]["id"])
        # min_id pages forward from a cursor, results still newest first
        _, _, j = self.f.req("GET", path, self.tok, {"min_id": st["s2"], "limit": 2, "exclude_reblogs": "1"})
        self.assertEqual([st["s4"], st["s3"]], [x["id"] for x in j])
        _, _, j = self.f.req("GET", path, self.tok, {"max_id": st["s3"], "since_id": st["s0"]})
        self.assertEqual([st["s2"], st["s1"]], [x["id"] for x in j])
        # followers see private posts
        self.f.seed(follows=[{"account": "alice", "target": "u0"}])
        _, _, j = self.f.req("GET", path, self.tok)
        self.assertEqual(10, len(j))

    def test_default_and_clamped_limits(self):
        self.f.seed(accounts=[{"username": "v%d" % i} for i in range(90)],
                    follows=[{"account": "alice", "target": "v%d" % i} for i in range(90)])
        path = "/api/v1/accounts/%s/following" % self.aid
        self.assertEqual(40, len(self.f.req("GET", path)[2]))  # default 40
        self.assertEqual([], self.f.violations())
        self.assertEqual(80, len(self.f.req("GET", path + "?limit=500")[2]))  # capped at 80
        self.assertEqual(3, len(self.f.req("GET", path + "?limit=-3")[2]))  # to_i.abs
        self.assertEqual(12, len(self.f.req("GET", path + "?limit=12abc")[2]))  # to_i
        self.assertEqual(3, len(self.f.violations()))
        self.expect_violations = True

    def test_cursor_with_an_account_id_is_a_violation(self):
        self.f.seed(follows=[{"account": "alice", "target": "u1"}])
        st, _, j = self.f.req("GET", "/api/v1/accounts/%s/following" % self.aid, query={"max_id": self.ids["u3"]})
        self.assertEqual(200, st)
        self.assertIn("Link header", self.f.violations()[0]["message"])
        self.expect_violations = True


# ---------------------------------------------------------------------------------
class RelationshipTest(Base):
    def setUp(self):
        super().setUp()
        self.aid, self.tok = self.user("alice")
        self.ids = self.f.seed(accounts=[{"username": "bob"}, {"username": "carol", "locked": True},
                                         {"username": "dave", "domain": "other.example"},
                                         {"username": "erin", "domain": "other.example"}])["accounts"]

    def rel(self, acct):
        j = self.ok(self.f.req("GET", "/api/v1/accounts/relationships", self.tok, {"id[]": [self.ids[acct]]}))
        self.assertEqual(1, len(j))
        return j[0]

    def test_follow_options_and_unfollow(self):
        bob = self.ids["bob"]
        r = self.ok(self.f.req("POST", "/api/v1/accounts/%s/follow" % bob, self.tok,
                               form={"reblogs": "false", "notify": "true", "languages[]": ["en", "de"]}))
        self.assertEqual((True, False, True, ["en", "de"]),
                         (r["following"], r["showing_reblogs"], r["notifying"], r["languages"]))
        for key in ("id", "following", "showing_reblogs", "notifying", "followed_by", "blocking", "blocked_by",
                    "muting", "muting_notifications", "requested", "requested_by", "domain_blocking", "endorsed",
                    "note"):
            self.assertIn(key, r)
        # following again changes only the options given
        r = self.ok(self.f.req("POST", "/api/v1/accounts/%s/follow" % bob, self.tok, json_body={"reblogs": True}))
        self.assertEqual((True, True), (r["showing_reblogs"], r["notifying"]))
        r = self.ok(self.f.req("POST", "/api/v1/accounts/%s/unfollow" % bob, self.tok))
        self.assertFalse(r["following"])
        self.assertFalse(self.rel("bob")["following"])
        self.ok(self.f.req("POST", "/api/v1/accounts/%s/unfollow" % bob, self.tok))  # idempotent

    def test_locked_and_remote(self):
        r = self.ok(self.f.req("POST", "/api/v1/accounts/%s/follow" % self.ids["carol"], self.tok))
        self.assertEqual((False, True), (r["following"], r["requested"]))
        r = self.ok(self.f.req("POST", "/api/v1/accounts/%s/follow" % self.ids["dave@other.example"], self.tok))
        self.assertTrue(r["following"])
        j = self.ok(self.f.req("GET", "/api/v1/accounts/relationships", self.tok,
                               {"id[]": [self.ids["carol"], "999", self.ids["dave@other.example"]]}))
        self.assertEqual([self.ids["carol"], self.ids["dave@other.example"]], [x["id"] for x in j])

    def test_block_ends_follows_both_ways_and_list_membership(self):
        bob = self.ids["bob"]
        self.f.seed(follows=[{"account": "alice", "target": "bob"}, {"account": "bob", "target": "alice"}],
                    lists=[{"account": "alice", "title": "L", "members": ["bob"]}])
        r = self.ok(self.f.req("POST", "/api/v1/accounts/%s/block" % bob, self.tok))
        self.assertEqual((True, False, False), (r["blocking"], r["following"], r["followed_by"]))
        lid = self.ok(self.f.req("GET", "/api/v1/lists", self.tok))[0]["id"]
        self.assertEqual([], self.ok(self.f.req("GET", "/api/v1/lists/%s/accounts" % lid, self.tok)))
        st, _, j = self.f.req("POST", "/api/v1/accounts/%s/follow" % bob, self.tok)
        self.assertEqual((403, "This action is not allowed"), (st, j["error"]))
        r = self.ok(self.f.req("POST", "/api/v1/accounts/%s/unblock" % bob, self.tok))
        self.assertFalse(r["blocking"])
        # blocked by the other side
        self.f.seed(blocks=[{"account": "bob", "target": "alice"}])
        self.assertTrue(self.rel("bob")["blocked_by"])
        self.assertEqual(403, self.f.req("POST", "/api/v1/accounts/%s/follow" % bob, self.tok)[0])

    def test_mute_options_and_expiry(self):
        bob = self.ids["bob"]
        r = self.ok(self.f.req("POST", "/api/v1/accounts/%s/mute" % bob, self.tok))
        self.assertEqual((True, True), (r["muting"], r["muting_notifications"]))
        r = self.ok(self.f.req("POST", "/api/v1/accounts/%s/mute" % bob, self.tok,
                               json_body={"notifications": False, "duration": 60}))
        self.assertEqual((True, False), (r["muting"], r["muting_notifications"]))
        j = self.ok(self.f.req("GET", "/api/v1/mutes", self.tok))
        self.assertIsNotNone(j[0]["mute_expires_at"])
        self.f.advance(61)
        self.assertFalse(self.rel("bob")["muting"])
        self.assertEqual([], self.ok(self.f.req("GET", "/api/v1/mutes", self.tok)))
        self.ok(self.f.req("POST", "/api/v1/accounts/%s/mute" % bob, self.tok))
        self.assertFalse(self.ok(self.f.req("POST", "/api/v1/accounts/%s/unmute" % bob, self.tok))["muting"])

    def test_domain_blocks(self):
        self.f.seed(follows=[{"account": "dave@other.example", "target": "alice"}])
        self.assertEqual({}, self.ok(self.f.req("POST", "/api/v1/domain_blocks", self.tok,
                                                form={"domain": "Other.Example"})))
        self.assertEqual(["other.example"], self.ok(self.f.req("GET", "/api/v1/domain_blocks", self.tok)))
        r = self.rel("dave@other.example")
        self.assertEqual((True, False), (r["domain_blocking"], r["followed_by"]))  # followers there removed
        self.assertEqual(403, self.f.req("POST", "/api/v1/accounts/%s/follow" % self.ids["erin@other.example"],
                                         self.tok)[0])
        self.ok(self.f.req("DELETE", "/api/v1/domain_blocks", self.tok, json_body={"domain": "other.example"}))
        self.assertEqual([], self.ok(self.f.req("GET", "/api/v1/domain_blocks", self.tok)))
        self.refused(self.f.req("POST", "/api/v1/domain_blocks", self.tok, form={"domain": ""}), 422,
                     "Validation failed: Domain can't be blank")
        self.refused(self.f.req("POST", "/api/v1/domain_blocks", self.tok, form={"domain": "not a domain"}), 422,
                     "Validation failed: Domain is not a valid domain name")

    def test_self_and_unknown(self):
        self.refused(self.f.req("POST", "/api/v1/accounts/%s/follow" % self.aid, self.tok), 404, "Record not found")
        self.f.hook("DELETE", "violations")
        st, _, j = self.f.req("POST", "/api/v1/accounts/123/follow", self.tok)
        self.assertEqual((404, {"error": "Record not found"}), (st, j))
        st, _, j = self.f.req("GET", "/api/v1/accounts/not-an-id")
        self.assertEqual(404, st)
        self.assertEqual([], self.f.violations())  # looking up what does not exist is no client bug

    def test_follow_counts_and_verify(self):
        self.f.seed(follows=[{"account": "alice", "target": "bob"}, {"account": "bob", "target": "alice"}])
        me = self.ok(self.f.req("GET", "/api/v1/accounts/verify_credentials", self.tok))
        self.assertEqual((1, 1), (me["following_count"], me["followers_count"]))
        r = self.rel("bob")
        self.assertEqual((True, True), (r["following"], r["followed_by"]))


# ---------------------------------------------------------------------------------
class ListTest(Base):
    def setUp(self):
        super().setUp()
        self.aid, self.tok = self.user("alice")
        self.ids = self.f.seed(accounts=[{"username": "u%d" % i} for i in range(5)],
                               follows=[{"account": "alice", "target": "u%d" % i} for i in range(4)])["accounts"]

    def test_crud(self):
        lst = self.ok(self.f.req("POST", "/api/v1/lists", self.tok, form={"title": "Friends"}))
        self.assertEqual({"id": lst["id"], "title": "Friends", "replies_policy": "list", "exclusive": False}, lst)
        lst = self.ok(self.f.req("PUT", "/api/v1/lists/" + lst["id"], self.tok,
                                 json_body={"title": "Pals", "replies_policy": "followed", "exclusive": True}))
        self.assertEqual(("Pals", "followed", True), (lst["title"], lst["replies_policy"], lst["exclusive"]))
        self.assertEqual([lst], self.ok(self.f.req("GET", "/api/v1/lists", self.tok)))
        self.assertEqual(lst, self.ok(self.f.req("GET", "/api/v1/lists/" + lst["id"], self.tok)))
        self.assertEqual({}, self.ok(self.f.req("DELETE", "/api/v1/lists/" + lst["id"], self.tok)))
        self.assertEqual(404, self.f.req("GET", "/api/v1/lists/" + lst["id"], self.tok)[0])
        self.refused(self.f.req("POST", "/api/v1/lists", self.tok, form={"title": " "}), 422,
                     "Validation failed: Title can't be blank")
        self.refused(self.f.req("POST", "/api/v1/lists", self.tok, form={"title": "x", "replies_policy": "some"}),
                     422, "'some' is not a valid replies_policy")

    def test_membership_rules(self):
        lid = self.ok(self.f.req("POST", "/api/v1/lists", self.tok, form={"title": "L"}))["id"]
        path = "/api/v1/lists/%s/accounts" % lid
        self.ok(self.f.req("POST", path, self.tok, form={"account_ids[]": [self.ids["u0"], self.ids["u1"]]}))
        self.ok(self.f.req("POST", path, self.tok, json_body={"account_ids": [self.ids["u2"]]}))
        # not followed: refused whole (the reference: 404), nothing added
        self.refused(self.f.req("POST", path, self.tok, form={"account_ids[]": [self.ids["u3"], self.ids["u4"]]}),
                     404, "Record not found")
        self.refused(self.f.req("POST", path, self.tok, form={"account_ids[]": [self.ids["u0"]]}), 422,
                     "Validation failed: Account has already been taken")
        items, pages, first = self.walk(path, self.tok, 2)
        self.assertEqual(([self.ids["u%d" % i] for i in (2, 1, 0)], 2), (items, pages))
        self.assertIn("since_id", query_of(first["prev"]))
        st, h, j = self.f.req("GET", path + "?limit=0", self.tok)  # 0 = all, without paging
        self.assertEqual((3, None), (len(j), h.get("link")))
        lists = self.ok(self.f.req("GET", "/api/v1/accounts/%s/lists" % self.ids["u1"], self.tok))
        self.assertEqual([lid], [x["id"] for x in lists])
        # unfollowing removes the account from the list; removing ids is idempotent
        self.ok(self.f.req("POST", "/api/v1/accounts/%s/unfollow" % self.ids["u1"], self.tok))
        self.ok(self.f.req("DELETE", path, self.tok, form={"account_ids[]": [self.ids["u2"], self.ids["u4"]]}))
        self.assertEqual([self.ids["u0"]], [a["id"] for a in self.ok(self.f.req("GET", path, self.tok))])

    def test_other_users_list_is_not_found(self):
        _, btok = self.user("bob")
        lid = self.ok(self.f.req("POST", "/api/v1/lists", self.tok, form={"title": "L"}))["id"]
        st, _, j = self.f.req("GET", "/api/v1/lists/%s/accounts" % lid, btok)
        self.assertEqual((404, "Record not found"), (st, j["error"]))

    def test_unfollowed_as_422_option(self):
        f = Fake("--list-unfollowed", "422", "--token", "t=alice:read write", "--account", "bob")
        try:
            bob = f.req("GET", "/api/v1/accounts/lookup?acct=bob")[2]["id"]
            lid = f.req("POST", "/api/v1/lists", "t", form={"title": "L"})[2]["id"]
            st, _, j = f.req("POST", "/api/v1/lists/%s/accounts" % lid, "t", form={"account_ids[]": bob})
            self.assertEqual(422, st)
            self.assertTrue(j["error"].startswith("Validation failed"))
            self.assertTrue(f.violations())
        finally:
            f.stop()


# ---------------------------------------------------------------------------------
class RateLimitTest(Base):
    extra = ("--rate-limit", "5", "--ip-rate-limit", "4", "--rate-window", "60", "--follow-limit", "3",
             "--follow-window", "3600")

    def test_headers_then_429_then_recovery(self):
        _, tok = self.user("alice")
        remaining = []
        for _ in range(5):
            st, h, _ = self.f.req("GET", "/api/v1/accounts/verify_credentials", tok)
            self.assertEqual(200, st)
            self.assertEqual("5", h["x-ratelimit-limit"])
            remaining.append(int(h["x-ratelimit-remaining"]))
        self.assertEqual([4, 3, 2, 1, 0], remaining)
        st, h, j = self.f.req("GET", "/api/v1/accounts/verify_credentials", tok)
        self.assertEqual((429, {"error": "Too many requests"}), (st, j))
        self.assertEqual("0", h["x-ratelimit-remaining"])
        reset = datetime.fromisoformat(h["x-ratelimit-reset"].replace("Z", "+00:00")).timestamp()
        now = datetime.fromisoformat(self.f.hook("GET", "clock")["now"].replace("Z", "+00:00")).timestamp()
        self.assertTrue(0 < reset - now <= 60.01, reset - now)
        self.f.advance(reset - now + 0.01)
        st, h, _ = self.f.req("GET", "/api/v1/accounts/verify_credentials", tok)
        self.assertEqual((200, "4"), (st, h["x-ratelimit-remaining"]))

    def test_per_account_and_per_ip_buckets(self):
        aid, atok = self.user("alice")
        _, btok = self.user("bob")
        for _ in range(5):
            self.ok(self.f.req("GET", "/api/v1/lists", atok))
        self.assertEqual(429, self.f.req("GET", "/api/v1/lists", atok)[0])
        self.assertEqual(200, self.f.req("GET", "/api/v1/lists", btok)[0])  # bob has his own budget
        for i in range(4):  # anonymous requests count per IP
            st, h, _ = self.f.req("GET", "/api/v1/accounts/" + aid)
            self.assertEqual((200, str(3 - i)), (st, h["x-ratelimit-remaining"]))
        self.assertEqual(429, self.f.req("GET", "/api/v1/accounts/" + aid)[0])
        # outside /api there is no such limit
        self.assertEqual(200, self.f.raw("GET", "/avatars/original/missing.png")[0])

    def test_daily_follow_limit(self):
        _, tok = self.user("alice")
        ids = self.f.seed(accounts=[{"username": "u%d" % i} for i in range(5)])["accounts"]
        for i in range(3):
            self.ok(self.f.req("POST", "/api/v1/accounts/%s/follow" % ids["u%d" % i], tok))
        self.f.advance(60)  # a new general window, same follow window
        self.ok(self.f.req("POST", "/api/v1/accounts/%s/follow" % ids["u0"], tok,
                           form={"notify": "true"}))  # changing an existing follow is not a new follow
        st, h, j = self.f.req("POST", "/api/v1/accounts/%s/follow" % ids["u3"], tok)
        self.assertEqual((429, "Too many requests"), (st, j["error"]))
        self.assertEqual(("3", "0"), (h["x-ratelimit-limit"], h["x-ratelimit-remaining"]))
        self.f.advance(3600)
        self.ok(self.f.req("POST", "/api/v1/accounts/%s/follow" % ids["u3"], tok))

    def test_real_time_window(self):
        f = Fake("--rate-limit", "2", "--rate-window", "1", "--token", "t=alice:read")
        try:
            for _ in range(6):  # 2 pass per 1 s window; a window may turn over while we spend it
                st, h, _ = f.req("GET", "/api/v1/lists", "t")
                if st == 429:
                    break
            self.assertEqual(429, st)
            reset = datetime.fromisoformat(h["x-ratelimit-reset"].replace("Z", "+00:00")).timestamp()
            wait = reset - time.time()
            self.assertLessEqual(wait, 1.0)
            time.sleep(max(wait, 0) + 0.05)  # the reset time the server announced, at most 1 s
            self.assertEqual(200, f.req("GET", "/api/v1/lists", "t")[0])
        finally:
            f.stop()


# ---------------------------------------------------------------------------------
class StatusAndMediaTest(Base):
    def test_media_bytes_downloadable(self):
        aid, tok = self.user("alice")
        img = png(3, 2)
        out = self.f.seed(statuses=[{"account": "alice", "key": "s", "text": "look", "media": [
            {"data_base64": base64.b64encode(img).decode(), "content_type": "image/png", "description": "a dot"},
            {"text": "plain bytes", "content_type": "text/plain"}]}])
        s = self.ok(self.f.req("GET", "/api/v1/statuses/" + out["statuses"]["s"]))
        m = s["media_attachments"][0]
        self.assertEqual(("image", "a dot"), (m["type"], m["description"]))
        self.assertEqual({"width": 3, "height": 2, "size": "3x2", "aspect": 1.5}, m["meta"]["original"])
        for url in (m["url"], m["preview_url"]):
            u = urllib.parse.urlsplit(url)
            st, h, data = self.f.raw("GET", u.path)
            self.assertEqual((200, "image/png", img), (st, h["content-type"], data))
        u = urllib.parse.urlsplit(s["media_attachments"][1]["url"])
        self.assertEqual(b"plain bytes", self.f.raw("GET", u.path)[2])
        self.assertEqual(404, self.f.raw("GET", u.path.replace("/original/", "/../"))[0])
        self.assertEqual(404, self.f.raw("GET", "/system/media_attachments/files/1/original/1.png")[0])

    def test_post_status_with_seeded_media_and_idempotency(self):
        aid, tok = self.user("alice")
        mid = self.f.seed(media=[{"account": "alice", "key": "m", "text": "x"}])["media"]["m"]
        h = {"Idempotency-Key": "k1"}
        s1 = self.ok(self.f.req("POST", "/api/v1/statuses", tok, form={"status": "hello", "media_ids[]": mid},
                                headers=h))
        s2 = self.ok(self.f.req("POST", "/api/v1/statuses", tok, form={"status": "hello", "media_ids[]": mid},
                                headers=h))
        self.assertEqual(s1["id"], s2["id"])
        self.assertEqual([mid], [m["id"] for m in s1["media_attachments"]])
        self.assertEqual("<p>hello</p>", s1["content"])
        self.refused(self.f.req("POST", "/api/v1/statuses", tok, form={"status": "  "}), 422,
                     "Validation failed: Text can't be blank")
        self.refused(self.f.req("POST", "/api/v1/statuses", tok, form={"status": "x", "created_at": "2001-01-01"}),
                     200)  # there is no back-dating parameter; it is ignored and recorded

    def test_visibility_bookmark_favourite(self):
        aid, tok = self.user("alice")
        _, btok = self.user("bob")
        out = self.f.seed(statuses=[{"account": "alice", "key": "priv", "text": "p", "visibility": "private"},
                                    {"account": "alice", "key": "pub", "text": "q"}])["statuses"]
        self.assertEqual(404, self.f.req("GET", "/api/v1/statuses/" + out["priv"])[0])
        self.assertEqual(404, self.f.req("GET", "/api/v1/statuses/" + out["priv"], btok)[0])
        self.assertEqual(200, self.f.req("GET", "/api/v1/statuses/" + out["priv"], tok)[0])
        s = self.ok(self.f.req("POST", "/api/v1/statuses/%s/bookmark" % out["pub"], btok))
        self.assertTrue(s["bookmarked"])
        s = self.ok(self.f.req("POST", "/api/v1/statuses/%s/favourite" % out["pub"], btok))
        self.assertEqual((True, 1), (s["favourited"], s["favourites_count"]))
        self.assertEqual([out["pub"]], [x["id"] for x in self.ok(self.f.req("GET", "/api/v1/bookmarks", btok))])
        self.ok(self.f.req("POST", "/api/v1/statuses/%s/unbookmark" % out["pub"], btok))
        self.assertEqual([], self.ok(self.f.req("GET", "/api/v1/bookmarks", btok)))
        self.assertEqual(404, self.f.req("POST", "/api/v1/statuses/%s/bookmark" % out["priv"], btok)[0])


# ---------------------------------------------------------------------------------
class SearchAndExportTest(Base):
    def test_lookup_and_resolve(self):
        aid, tok = self.user("alice")
        ids = self.f.seed(accounts=[{"username": "bob", "domain": "other.example"},
                                    {"username": "zed", "domain": "far.example", "known": False}])["accounts"]
        for acct in ("alice", "@alice", "alice@mastodon.test", "ALICE"):
            self.assertEqual(aid, self.ok(self.f.req("GET", "/api/v1/accounts/lookup", query={"acct": acct}))["id"])
        self.assertEqual(ids["bob@other.example"], self.ok(self.f.req(
            "GET", "/api/v1/accounts/lookup", query={"acct": "bob@other.example"}))["id"])
        # an account the instance has not seen yet: lookup does no WebFinger, search with resolve does
        self.assertEqual(404, self.f.req("GET", "/api/v1/accounts/lookup", query={"acct": "zed@far.example"})[0])
        j = self.ok(self.f.req("GET", "/api/v2/search", tok, {"q": "zed@far.example", "type": "accounts"}))
        self.assertEqual([], j["accounts"])
        j = self.ok(self.f.req("GET", "/api/v2/search", tok, {"q": "@zed@far.example", "type": "accounts",
                                                              "resolve": "true"}))
        self.assertEqual([ids["zed@far.example"]], [a["id"] for a in j["accounts"]])
        self.assertEqual("zed@far.example", j["accounts"][0]["acct"])
        self.ok(self.f.req("GET", "/api/v1/accounts/lookup", query={"acct": "zed@far.example"}))
        j = self.ok(self.f.req("GET", "/api/v2/search", tok, {"q": "nobody@nowhere.example", "resolve": "true"}))
        self.assertEqual({"accounts": [], "statuses": [], "hashtags": []}, j)
        self.refused(self.f.req("GET", "/api/v2/search", query={"q": "bob@other.example", "resolve": "true"}), 401)

    def test_search_by_status_url(self):
        _, tok = self.user("alice")
        self.f.seed(accounts=[{"username": "bob", "domain": "other.example"}])
        sid = self.f.seed(statuses=[{"account": "bob@other.example", "key": "s", "text": "hi"}])["statuses"]["s"]
        uri = "https://other.example/users/bob/statuses/" + sid
        j = self.ok(self.f.req("GET", "/api/v2/search", tok, {"q": uri, "type": "statuses", "resolve": "true"}))
        self.assertEqual([sid], [s["id"] for s in j["statuses"]])

    def test_csv_exports(self):
        _, tok = self.user("alice")
        self.f.seed(accounts=[{"username": "bob"}, {"username": "dave", "domain": "other.example"},
                              {"username": "erin", "domain": "far.example"}],
                    follows=[{"account": "alice", "target": "bob"},
                             {"account": "alice", "target": "dave@other.example", "reblogs": False, "notify": True,
                              "languages": ["en", "fr"]}],
                    lists=[{"account": "alice", "title": "Close, friends", "members": ["bob", "dave@other.example"]},
                           {"account": "alice", "title": "Empty"}],
                    blocks=[{"account": "alice", "target": "erin@far.example"}],
                    mutes=[{"account": "alice", "target": "bob", "notifications": False}],
                    domain_blocks=[{"account": "alice", "domain": "spam.example"}])
        sid = self.f.seed(statuses=[{"account": "dave@other.example", "key": "s", "text": "x"}])["statuses"]["s"]
        self.f.seed(bookmarks=[{"account": "alice", "status": "s"}])

        def get(name):
            st, h, data = self.f.raw("GET", "/settings/exports/%s.csv" % name,
                                     headers={"Authorization": "Bearer " + tok})
            self.assertEqual((200, "text/csv"), (st, h["content-type"]))
            self.assertIn("attachment", h["content-disposition"])
            return data.decode()

        self.assertEqual("Account address,Show boosts,Notify on new posts,Languages\n"
                         "dave@other.example,false,true,\"en, fr\"\n"
                         "bob@mastodon.test,true,false,\n", get("follows"))
        self.assertEqual("\"Close, friends\",bob@mastodon.test\n\"Close, friends\",dave@other.example\n",
                         get("lists"))
        self.assertEqual("erin@far.example\n", get("blocks"))
        self.assertEqual("Account address,Hide notifications\nbob@mastodon.test,false\n", get("mutes"))
        self.assertEqual("spam.example\n", get("domain_blocks"))
        self.assertEqual("https://other.example/users/dave/statuses/%s\n" % sid, get("bookmarks"))
        self.assertEqual(401, self.f.raw("GET", "/settings/exports/follows.csv")[0])
        self.expect_violations = True  # the anonymous export


# ---------------------------------------------------------------------------------
class HostileInputTest(Base):
    extra = ("--max-body", "4096")

    def test_bad_json_and_shapes(self):
        _, tok = self.user("alice")
        h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
        for body in (b'{"title": "x"', b"[1, 2]", b"\xff\xfe", b"{" * 40 + b"}" * 40, b"nul"):
            st, _, data = self.f.raw("POST", "/api/v1/lists", body, h)
            self.assertEqual(400, st, body)
            self.assertIn("error", json.loads(data))
        deep = json.dumps({"title": "x", "extra": json.loads("[" * 40 + "]" * 40)})
        self.assertEqual(400, self.f.raw("POST", "/api/v1/lists", deep, h)[0])
        self.assertEqual(5 + 1, len(self.f.violations()))
        self.expect_violations = True
        self.assertEqual(200, self.f.req("GET", "/api/v1/lists", tok)[0])  # still serving

    def test_huge_body_is_413_without_reading_it(self):
        _, tok = self.user("alice")
        st, h, data = self.f.raw("POST", "/api/v1/lists", "t" * 5000,
                                 {"Authorization": "Bearer " + tok,
                                  "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(413, st)
        self.assertEqual("close", h.get("connection"))
        # a huge Content-Length with no body at all is refused at once
        s = socket.create_connection(("127.0.0.1", self.f.port), timeout=5)
        try:
            s.sendall(b"POST /api/v1/lists HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 99999999999\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 413"))
        finally:
            s.close()
        self.expect_violations = True

    def test_truncated_body_and_bad_length(self):
        _, tok = self.user("alice")
        s = socket.create_connection(("127.0.0.1", self.f.port), timeout=5)
        try:
            s.sendall(b"POST /api/v1/lists HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Authorization: Bearer " + tok.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"title\":")
            s.shutdown(socket.SHUT_WR)
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"))
        finally:
            s.close()
        st, _, _ = self.f.raw("POST", "/api/v1/lists", None, {"Content-Length": "abc"})
        self.assertEqual(400, st)
        self.expect_violations = True

    def test_encodings_and_params(self):
        _, tok = self.user("alice")
        auth = {"Authorization": "Bearer " + tok}
        # multipart form data, as some clients send it
        boundary = "XyZ"
        body = ("--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nViaMultipart\r\n--XyZ--\r\n").encode()
        st, _, data = self.f.raw("POST", "/api/v1/lists", body,
                                 dict(auth, **{"Content-Type": "multipart/form-data; boundary=" + boundary}))
        self.assertEqual(200, st, data)
        self.assertEqual("ViaMultipart", json.loads(data)["title"])
        # query parameters work for POST as in Rails; unicode titles survive
        j = self.ok(self.f.req("POST", "/api/v1/lists?title=%E2%9C%93%20ok", tok))
        self.assertEqual("\u2713 ok", j["title"])
        self.assertEqual([], self.f.violations())
        # an unknown parameter is answered as Mastodon does (ignored) and recorded
        self.ok(self.f.req("GET", "/api/v1/blocks", tok, {"limt": "2"}))
        self.assertIn("limt", self.f.violations()[0]["message"])
        # a body of an unsupported type is ignored (so the title is missing)
        st, _, _ = self.f.raw("POST", "/api/v1/lists", b"title=x", dict(auth, **{"Content-Type": "text/plain"}))
        self.assertEqual(422, st)
        # a boolean that is not one
        self.ok(self.f.req("GET", "/api/v1/accounts/%s/statuses" % self.f.req(
            "GET", "/api/v1/accounts/lookup?acct=alice")[2]["id"], tok, {"exclude_replies": "yes"}))
        self.expect_violations = True

    def test_unknown_routes_ids_and_methods(self):
        _, tok = self.user("alice")
        st, _, j = self.f.req("GET", "/api/v1/nope", tok)
        self.assertEqual(404, st)
        st, _, j = self.f.req("PATCH", "/api/v1/lists", tok)
        self.assertEqual(404, st)
        self.assertEqual(404, self.f.req("GET", "/api/v1/lists/../../etc", tok)[0])  # no such route
        self.assertEqual(3, len(self.f.violations()))
        self.f.hook("DELETE", "violations")
        for path in ("/api/v1/statuses/999999", "/api/v1/lists/..%2F..%2Fetc", "/api/v1/accounts/%00",
                     "/api/v1/accounts/" + "9" * 400):
            st, _, j = self.f.req("GET", path, tok)
            self.assertEqual(404, st, path)
        self.assertEqual([], self.f.violations())

    def test_chunked_body_and_keep_alive(self):
        _, tok = self.user("alice")
        c = http.client.HTTPConnection("127.0.0.1", self.f.port, timeout=10)
        try:
            c.request("POST", "/api/v1/lists", body=iter([b'{"title":', b' "chunky"}']),
                      headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"},
                      encode_chunked=True)
            r = c.getresponse()
            self.assertEqual((200, "chunky"), (r.status, json.loads(r.read())["title"]))
            c.request("GET", "/api/v1/lists", headers={"Authorization": "Bearer " + tok})  # same connection
            r = c.getresponse()
            self.assertEqual(1, len(json.loads(r.read())))
        finally:
            c.close()


# ---------------------------------------------------------------------------------
class FaultAndHookTest(Base):
    def test_server_errors_and_throttle_faults(self):
        _, tok = self.user("alice")
        self.f.hook("POST", "faults", {"server_error": 503, "times": 2, "after": 1})
        codes = [self.f.req("GET", "/api/v1/lists", tok)[0] for _ in range(4)]
        self.assertEqual([200, 503, 503, 200], codes)
        self.f.hook("POST", "faults", {"rate_limit_after": 0, "times": 1, "path": "/blocks"})
        self.assertEqual(200, self.f.req("GET", "/api/v1/lists", tok)[0])
        st, h, j = self.f.req("GET", "/api/v1/blocks", tok)
        self.assertEqual((429, "0"), (st, h["x-ratelimit-remaining"]))
        self.assertEqual(200, self.f.req("GET", "/api/v1/blocks", tok)[0])

    def test_expired_and_revoked_tokens(self):
        _, tok = self.user("alice")
        _, btok = self.user("bob")
        self.f.hook("POST", "faults", {"expire_tokens": True, "user": "alice"})
        st, _, j = self.f.req("GET", "/api/v1/lists", tok)
        self.assertEqual((401, "The access token expired"), (st, j["error"]))
        self.assertEqual(200, self.f.req("GET", "/api/v1/lists", btok)[0])
        self.f.hook("POST", "faults", {"revoke_tokens": True})
        self.assertEqual("The access token was revoked", self.f.req("GET", "/api/v1/lists", btok)[2]["error"])

    def test_bad_body_fault(self):
        _, tok = self.user("alice")
        self.f.hook("POST", "faults", {"bad_body": 1})
        st, _, data = self.f.raw("GET", "/api/v1/accounts/verify_credentials",
                                 headers={"Authorization": "Bearer " + tok})
        self.assertEqual(200, st)
        with self.assertRaises(ValueError):
            json.loads(data)
        self.ok(self.f.req("GET", "/api/v1/accounts/verify_credentials", tok))

    def test_requests_state_and_seed_errors(self):
        aid, tok = self.user("alice")
        self.f.hook("DELETE", "requests")
        self.f.req("GET", "/api/v1/accounts/" + aid)
        self.f.req("GET", "/api/v1/accounts/" + aid)
        self.assertEqual(2, self.f.hook("GET", "requests")["requests"]["GET /api/v1/accounts/{id}"])
        state = self.f.hook("GET", "state")
        self.assertIn(aid, state["tables"]["accounts"])
        for bad in ({"accounts": [{"username": "bad name"}]}, {"follows": [{"account": "alice", "target": "nobody"}]},
                    {"lists": [{"account": "alice", "title": "L", "members": ["alice"]}]}, {"colour": []}):
            st, _, j = self.f.req("POST", "/_fake/seed", json_body=bad)
            self.assertEqual(400, st, bad)

    def test_state_file_persists(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "state.json")
            f = Fake("--state", path, "--token", "t=alice:read write")
            try:
                f.req("POST", "/api/v1/lists", "t", form={"title": "kept"})
            finally:
                f.stop()
            f = Fake("--state", path)
            try:
                self.assertEqual(["kept"], [x["title"] for x in f.req("GET", "/api/v1/lists", "t")[2]])
            finally:
                f.stop()


if __name__ == "__main__":
    unittest.main()
