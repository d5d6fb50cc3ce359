"""Tests for the Microsoft Graph fake.  Run from the repository root:

    python3 -m unittest scripts/fakes/microsoft/test_fake.py
"""
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")
RW = "Contacts.ReadWrite Tasks.ReadWrite Calendars.ReadWrite offline_access"
RO = "Contacts.Read Tasks.Read Calendars.Read offline_access"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class Fake:
    def __init__(self, *extra):
        args = [sys.executable, SERVER, "--listen", "127.0.0.1:0", "--grant", "alice-refresh=" + RW,
                "--grant", "bob-refresh=" + RO, "--grant", "dave-refresh=" + RW,
                "--grant", "carol-refresh=Contacts.Read"] + list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1])
        self.tokens = {}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def raw(self, method, path, body=None, headers=None):
        if path.startswith("http://"):
            path = path[len("http://127.0.0.1:%d" % self.port):]
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            ctype = r.getheader("Content-Type") or ""
            if data and ctype.startswith("application/json"):
                data = json.loads(data)
            return r.status, dict(r.getheaders()), (data if data else None)
        finally:
            c.close()

    def token(self, rt="alice-refresh", **form):
        f = {"grant_type": "refresh_token", "refresh_token": rt, "client_id": "cid", "client_secret": "s"}
        f.update(form)
        f = {k: v for k, v in f.items() if v is not None}
        return self.raw("POST", "/common/oauth2/v2.0/token", urllib.parse.urlencode(f),
                        {"Content-Type": "application/x-www-form-urlencoded"})

    def call(self, method, path, body=None, user="alice", query=None, headers=None, token=None):
        if token is None:
            if user not in self.tokens:
                st, _, j = self.token(user + "-refresh")
                assert st == 200, j
                self.tokens[user] = j["access_token"]
            token = self.tokens[user]
        h = {"Authorization": "Bearer " + token} if token else {}
        if body is not None and not isinstance(body, bytes):
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        h.update(headers or {})
        if query:
            path += "?" + urllib.parse.urlencode(query)
        return self.raw(method, path, body, h)

    def violations(self):
        return self.raw("GET", "/_fake/violations")[2]["violations"]

    def clear_violations(self):
        self.raw("DELETE", "/_fake/violations")

    def faults(self, **kw):
        st, _, j = self.raw("POST", "/_fake/faults", json.dumps(kw), {"Content-Type": "application/json"})
        assert st == 200, j

    def seed(self, **kw):
        st, _, j = self.raw("POST", "/_fake/seed", json.dumps(kw), {"Content-Type": "application/json"})
        assert st == 200, j
        return j


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Fake()

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def setUp(self):
        self.expect_violations = False
        self.f.clear_violations()
        self.f.raw("DELETE", "/_fake/faults")

    def tearDown(self):
        v = self.f.violations()
        if self.expect_violations:
            self.f.clear_violations()
        else:
            self.assertEqual([], v)

    def refused(self, r, status=400, code=None):
        st, _, j = r
        self.assertEqual(status, st, j)
        self.assertIn("innerError", j["error"])
        if code:
            self.assertEqual(code, j["error"]["code"], j)
        self.assertTrue(self.f.violations(), "violation not recorded")
        self.expect_violations = True
        return j

    def ok(self, r, status=200):
        st, _, j = r
        self.assertEqual(status, st, j)
        return j

    def contact(self, user="alice", folder=None, **fields):
        path = "/v1.0/me/contactFolders/%s/contacts" % urllib.parse.quote(folder, safe="") if folder \
            else "/v1.0/me/contacts"
        return self.ok(self.f.call("POST", path, fields, user=user), 201)

    def folder(self, name, user="alice"):
        return self.ok(self.f.call("POST", "/v1.0/me/contactFolders", {"displayName": name}, user=user), 201)


def q(s):
    return urllib.parse.quote(s, safe="")


class OAuthTest(Base):
    def test_refresh_rotates_and_old_stays_valid(self):
        st, h, j = self.f.token()
        self.assertEqual(200, st, j)
        self.assertEqual("Bearer", j["token_type"])
        self.assertEqual(3600, j["expires_in"])
        self.assertIn("Contacts.ReadWrite", j["scope"].split())
        self.assertNotIn("offline_access", j["scope"].split())
        new_rt = j["refresh_token"]
        self.assertNotEqual("alice-refresh", new_rt)
        st, _, j2 = self.f.token(new_rt)
        self.assertEqual(200, st)
        self.assertNotEqual(new_rt, j2["refresh_token"])
        st, _, j3 = self.f.token("alice-refresh")  # the old one still works
        self.assertEqual(200, st)
        self.ok(self.f.call("GET", "/v1.0/me/contacts", token=j3["access_token"]))

    def test_no_offline_access_no_refresh_token(self):
        st, _, j = self.f.token("carol-refresh")
        self.assertEqual(200, st)
        self.assertNotIn("refresh_token", j)

    def test_scope_parameter(self):
        st, _, j = self.f.token(scope="https://graph.microsoft.com/contacts.readwrite offline_access")
        self.assertEqual(200, st, j)
        st, _, j = self.f.token(scope="https://graph.microsoft.com/Contacts.ReadWrite offline_access")
        self.assertEqual((200, "Contacts.ReadWrite"), (st, j["scope"]))
        st, _, j = self.f.token(scope="https://graph.microsoft.com/.default")
        self.assertEqual(200, st)
        st, _, j = self.f.token(scope="Mail.Read")
        self.assertEqual((400, "invalid_grant", [65001]), (st, j["error"], j["error_codes"]))

    def test_invalid_grant_shape(self):
        st, _, j = self.f.token("nobody")
        self.assertEqual((400, "invalid_grant"), (st, j["error"]))
        for k in ("error_description", "error_codes", "timestamp", "trace_id", "correlation_id"):
            self.assertIn(k, j)
        self.assertTrue(j["error_description"].startswith("AADSTS"))

    def test_malformed_token_requests(self):
        self.expect_violations = True
        st, _, j = self.f.token(grant_type="password")
        self.assertEqual((400, "unsupported_grant_type"), (st, j["error"]))
        st, _, j = self.f.token(client_id=None)
        self.assertEqual((400, "invalid_request"), (st, j["error"]))
        st, _, j = self.f.raw("POST", "/common/oauth2/v2.0/token", "{}", {"Content-Type": "application/json"})
        self.assertEqual((400, "invalid_request"), (st, j["error"]))
        self.assertEqual(3, len(self.f.violations()))

    def test_client_secret_checked_when_configured(self):
        f = Fake("--client-id", "cid", "--client-secret", "right")
        try:
            st, _, j = f.token(client_secret="wrong")
            self.assertEqual((401, "invalid_client", [7000215]), (st, j["error"], j["error_codes"]))
            st, _, j = f.token(client_secret="right")
            self.assertEqual(200, st)
        finally:
            f.stop()


class AuthTest(Base):
    def test_missing_unknown_expired(self):
        for tok in ("", "garbage"):
            st, h, j = self.f.call("GET", "/v1.0/me/contacts", token=tok)
            self.assertEqual(401, st)
            self.assertEqual("InvalidAuthenticationToken", j["error"]["code"])
            self.assertEqual({"date", "request-id", "client-request-id"}, set(j["error"]["innerError"]))
            self.assertIn("WWW-Authenticate", h)
        self.ok(self.f.call("GET", "/v1.0/me/contacts", user="dave"))
        self.f.faults(expire_tokens=True)
        st, _, j = self.f.call("GET", "/v1.0/me/contacts", user="dave")
        self.assertEqual(401, st)
        self.f.tokens.clear()
        self.ok(self.f.call("GET", "/v1.0/me/contacts", user="dave"))

    def test_lifetime(self):
        f = Fake("--token-lifetime", "1")
        try:
            self.assertEqual(200, f.call("GET", "/v1.0/me/contacts")[0])
            time.sleep(1.3)
            st, _, j = f.call("GET", "/v1.0/me/contacts")
            self.assertEqual(401, st)
            self.assertIn("expired", j["error"]["message"])
        finally:
            f.stop()

    def test_scope_insufficient(self):
        self.ok(self.f.call("GET", "/v1.0/me/contacts", user="bob"))
        st, _, j = self.f.call("POST", "/v1.0/me/contacts", {"givenName": "x"}, user="bob")
        self.assertEqual((403, "ErrorAccessDenied"), (st, j["error"]["code"]))

    def test_client_request_id_echoed(self):
        st, h, _ = self.f.call("GET", "/v1.0/me/contacts", headers={"client-request-id": "abc-123"})
        self.assertEqual("abc-123", h["client-request-id"])
        self.assertTrue(h["request-id"])


class ContactsTest(Base):
    def test_crud(self):
        c = self.contact(givenName="Ada", surname="Lovelace", displayName="Ada Lovelace",
                         emailAddresses=[{"name": "Ada", "address": "ada@example.org"}],
                         businessPhones=["+44 20 7946 0000"], mobilePhone="+44 7700 900000",
                         homeAddress={"street": "12 St James's Square", "city": "London",
                                      "countryOrRegion": "UK", "postalCode": "SW1Y 4LB"},
                         birthday="1815-12-10T00:00:00Z", categories=["Math"], children=["Byron"],
                         imAddresses=["sip:ada@example.org"], yomiGivenName="Ada", personalNotes="n")
        for k in ("id", "changeKey", "createdDateTime", "lastModifiedDateTime", "parentFolderId", "@odata.etag"):
            self.assertTrue(c[k], k)
        self.assertEqual({}, c["businessAddress"])
        self.assertIsNone(c["jobTitle"])
        self.assertEqual("1815-12-10T00:00:00Z", c["birthday"])
        g = self.ok(self.f.call("GET", "/v1.0/me/contacts/" + q(c["id"])))
        self.assertEqual("London", g["homeAddress"]["city"])
        u = self.ok(self.f.call("PATCH", "/v1.0/me/contacts/" + q(c["id"]),
                                {"jobTitle": "Analyst", "homeAddress": None,
                                 "birthday": "1984-02-29T12:00:00+02:00"}))
        self.assertEqual("Analyst", u["jobTitle"])
        self.assertEqual({}, u["homeAddress"])
        self.assertEqual("1984-02-29T10:00:00Z", u["birthday"])
        self.assertNotEqual(c["changeKey"], u["changeKey"])
        self.assertEqual("Ada", u["givenName"])
        st, _, _ = self.f.call("DELETE", "/v1.0/me/contacts/" + q(c["id"]))
        self.assertEqual(204, st)
        st, _, j = self.f.call("GET", "/v1.0/me/contacts/" + q(c["id"]))
        self.assertEqual((404, "ErrorItemNotFound"), (st, j["error"]["code"]))

    def test_if_match(self):
        c = self.contact(givenName="E")
        st, _, j = self.f.call("PATCH", "/v1.0/me/contacts/" + q(c["id"]), {"surname": "x"},
                               headers={"If-Match": 'W/"stale"'})
        self.assertEqual(412, st)
        self.ok(self.f.call("PATCH", "/v1.0/me/contacts/" + q(c["id"]), {"surname": "x"},
                            headers={"If-Match": c["@odata.etag"]}))

    def test_unknown_property(self):
        j = self.refused(self.f.call("POST", "/v1.0/me/contacts", {"givenName": "x", "nickname": "y"}),
                         400, "RequestBodyRead")
        self.assertIn("nickname", j["error"]["message"])
        self.refused(self.f.call("POST", "/v1.0/me/contacts",
                                 {"emailAddresses": [{"address": "a@b.c", "type": "work"}]}), 400, "RequestBodyRead")
        self.refused(self.f.call("POST", "/v1.0/me/contacts", {"homeAddress": {"country": "UK"}}), 400)

    def test_bad_values(self):
        for body in ({"givenName": 5}, {"businessPhones": "123"}, {"birthday": "1984-02-29"},
                     {"birthday": "yesterday"}, {"categories": None}, {"emailAddresses": {"address": "x"}}):
            self.refused(self.f.call("POST", "/v1.0/me/contacts", body), 400)

    def test_more_than_three_emails(self):
        emails = [{"address": "a%d@example.org" % i} for i in range(4)]
        self.refused(self.f.call("POST", "/v1.0/me/contacts", {"emailAddresses": emails}), 400, "ErrorInvalidRequest")
        self.contact(emailAddresses=emails[:3])

    def test_missing_content_type_and_bad_json(self):
        self.refused(self.f.call("POST", "/v1.0/me/contacts", b'{"givenName": "x"}'), 415)
        self.refused(self.f.call("POST", "/v1.0/me/contacts", b'{"givenName": ',
                                 headers={"Content-Type": "application/json"}), 400)
        self.refused(self.f.call("POST", "/v1.0/me/contacts", b"[1]", headers={"Content-Type": "application/json"}),
                     400)
        deep = b"[" * 100 + b"]" * 100
        self.refused(self.f.call("POST", "/v1.0/me/contacts", deep, headers={"Content-Type": "application/json"}),
                     400)

    def test_paging(self):
        f = self.folder("Paging")
        made = [self.contact(folder=f["id"], givenName="P%02d" % i)["id"] for i in range(7)]
        path = "/v1.0/me/contactFolders/%s/contacts" % q(f["id"])
        seen, url, pages = [], path + "?$top=3&$select=givenName", 0
        while url:
            j = self.ok(self.f.call("GET", url))
            pages += 1
            for c in j["value"]:
                self.assertEqual({"@odata.etag", "id", "givenName"}, set(c))
            seen.extend(c["id"] for c in j["value"])
            url = j.get("@odata.nextLink")
            if url:
                self.assertTrue(url.startswith("http://127.0.0.1:%d/v1.0/" % self.f.port))
        self.assertEqual((sorted(made), 3), (sorted(seen), pages))
        j = self.ok(self.f.call("GET", path))  # default page size 10
        self.assertEqual(7, len(j["value"]))
        self.assertNotIn("@odata.nextLink", j)
        j = self.ok(self.f.call("GET", path, query={"$count": "true", "$top": "1", "$orderby": "givenName desc"}))
        self.assertEqual((7, "P06"), (j["@odata.count"], j["value"][0]["givenName"]))

    def test_query_checking(self):
        self.refused(self.f.call("GET", "/v1.0/me/contacts", query={"$top": "1001"}), 400)
        self.refused(self.f.call("GET", "/v1.0/me/contacts", query={"$top": "0"}), 400)
        self.refused(self.f.call("GET", "/v1.0/me/contacts", query={"$top": "x"}), 400)
        self.refused(self.f.call("GET", "/v1.0/me/contacts", query={"$bogus": "1"}), 400)
        self.refused(self.f.call("GET", "/v1.0/me/contacts", query={"pageSize": "1"}), 400)
        self.refused(self.f.call("GET", "/v1.0/me/contacts", query={"$select": "givenName,nope"}), 400)
        self.refused(self.f.call("GET", "/v1.0/me/contacts", query={"$filter": "givenName eq 'x'"}), 400)
        self.refused(self.f.call("GET", "/v1.0/me/contacts/delta"), 400)
        self.refused(self.f.call("GET", "/v1.0/me/nothing"), 400)
        self.refused(self.f.call("PUT", "/v1.0/me/contacts"), 405)
        self.ok(self.f.call("GET", "/v1.0/me/contacts", query={"$top": "1000"}))

    def test_filter_by_email(self):
        self.contact(user="dave", givenName="F", emailAddresses=[{"address": "Find.Me@example.org"}])
        self.contact(user="dave", givenName="G", emailAddresses=[{"address": "other@example.org"}])
        j = self.ok(self.f.call("GET", "/v1.0/me/contacts", user="dave",
                                query={"$filter": "emailAddresses/any(a:a/address eq 'find.me@example.org')"}))
        self.assertEqual(["F"], [c["givenName"] for c in j["value"]])

    def test_users_are_separate(self):
        c = self.contact(givenName="Mine")
        st, _, _ = self.f.call("GET", "/v1.0/me/contacts/" + q(c["id"]), user="bob")
        self.assertEqual(404, st)


class FolderTest(Base):
    def test_folders(self):
        f = self.folder("Friends")
        self.assertEqual({"@odata.context", "id", "displayName", "parentFolderId"}, set(f))
        st, _, j = self.f.call("POST", "/v1.0/me/contactFolders", {"displayName": "friends"})
        self.assertEqual((409, "ErrorFolderExists"), (st, j["error"]["code"]))
        lst = self.ok(self.f.call("GET", "/v1.0/me/contactFolders"))
        self.assertIn(f["id"], [x["id"] for x in lst["value"]])
        default = self.ok(self.f.call("GET", "/v1.0/me/contactFolders/contacts"))
        self.assertEqual(f["parentFolderId"], default["id"])
        ch = self.ok(self.f.call("POST", "/v1.0/me/contactFolders/%s/childFolders" % q(f["id"]),
                                 {"displayName": "Close"}), 201)
        kids = self.ok(self.f.call("GET", "/v1.0/me/contactFolders/%s/childFolders" % q(f["id"])))
        self.assertEqual([ch["id"]], [x["id"] for x in kids["value"]])
        c = self.contact(folder=ch["id"], givenName="Kid")
        self.assertEqual(ch["id"], c["parentFolderId"])
        top = self.ok(self.f.call("GET", "/v1.0/me/contacts"))
        self.assertNotIn(c["id"], [x["id"] for x in top["value"]])
        self.ok(self.f.call("PATCH", "/v1.0/me/contactFolders/" + q(ch["id"]), {"displayName": "Closer"}))
        self.assertEqual(204, self.f.call("DELETE", "/v1.0/me/contactFolders/" + q(f["id"]))[0])
        self.assertEqual(404, self.f.call("GET", "/v1.0/me/contacts/" + q(c["id"]))[0])
        self.refused(self.f.call("POST", "/v1.0/me/contactFolders", {"displayName": "x", "color": "red"}), 400)

    def test_seed(self):
        out = self.f.seed(user="erin", contacts=[{"givenName": "S1"}],
                          contactFolders=[{"displayName": "Work", "contacts": [{"givenName": "W1"}],
                                           "childFolders": [{"displayName": "Sub"}]}])
        self.assertEqual(1, len(out["contacts"]))
        self.assertEqual(1, len(out["contactFolders"][0]["contacts"]))
        self.assertTrue(out["defaultFolderId"])
        st, _, _ = self.f.raw("POST", "/_fake/seed", json.dumps({"user": "erin", "contacts": [{"bogus": 1}]}),
                              {"Content-Type": "application/json"})
        self.assertEqual(400, st)
        self.expect_violations = True


class DeltaTest(Base):
    def test_rounds(self):
        f = self.folder("Delta")
        path = "/v1.0/me/contactFolders/%s/contacts/delta" % q(f["id"])
        ids = [self.contact(folder=f["id"], givenName="D%d" % i)["id"] for i in range(5)]
        url, got, pages = path + "?$select=givenName", [], 0
        while True:
            st, h, j = self.f.call("GET", url, headers={"Prefer": "odata.maxpagesize=2"})
            self.assertEqual(200, st, j)
            self.assertEqual("odata.maxpagesize=2", h.get("Preference-Applied"))
            pages += 1
            for c in j["value"]:
                self.assertEqual({"@odata.etag", "@odata.type", "id", "givenName"}, set(c))
            got.extend(c["id"] for c in j["value"])
            if "@odata.nextLink" in j:
                self.assertIn("$skiptoken=", j["@odata.nextLink"])
                url = j["@odata.nextLink"]
                continue
            delta_link = j["@odata.deltaLink"]
            self.assertIn("$deltatoken=", delta_link)
            break
        self.assertEqual((sorted(ids), 3), (sorted(got), pages))
        # no changes
        j = self.ok(self.f.call("GET", delta_link))
        self.assertEqual([], j["value"])
        # change, delete, add
        self.ok(self.f.call("PATCH", "/v1.0/me/contacts/" + q(ids[0]), {"givenName": "Changed"}))
        self.f.call("DELETE", "/v1.0/me/contacts/" + q(ids[1]))
        new = self.contact(folder=f["id"], givenName="New")
        other = self.contact(givenName="Elsewhere")  # other folder: not in this delta
        j = self.ok(self.f.call("GET", j["@odata.deltaLink"]))
        by_id = {c["id"]: c for c in j["value"]}
        self.assertEqual({ids[0], ids[1], new["id"]}, set(by_id))
        self.assertNotIn(other["id"], by_id)
        self.assertEqual("Changed", by_id[ids[0]]["givenName"])
        self.assertNotIn("surname", by_id[ids[0]])  # $select carried by the token
        self.assertEqual({"reason": "deleted"}, by_id[ids[1]]["@removed"])
        # expired tokens
        self.f.faults(expire_delta_tokens=True)
        st, h, e = self.f.call("GET", j["@odata.deltaLink"])
        self.assertEqual((410, "syncStateNotFound"), (st, e["error"]["code"]))
        self.assertIn("/contacts/delta", h["Location"])
        j = self.ok(self.f.call("GET", h["Location"]))  # fresh full round
        self.assertEqual(5, len(j["value"]))  # D0 (changed), D2-D4 and New; D1 deleted

    def test_bad_tokens(self):
        path = "/v1.0/me/contactFolders/contacts/contacts/delta"
        self.refused(self.f.call("GET", path, query={"$deltatoken": "garbage"}), 400)
        self.refused(self.f.call("GET", path, query={"$top": "5"}), 400)
        self.refused(self.f.call("GET", path, headers={"Prefer": "odata.maxpagesize=0"}), 400)
        st, _, _ = self.f.call("GET", "/v1.0/me/contactFolders/nope/contacts/delta")
        self.assertEqual(404, st)


class PhotoTest(Base):
    def test_photo(self):
        c = self.contact(givenName="Pic")
        p = "/v1.0/me/contacts/%s/photo/$value" % q(c["id"])
        st, _, j = self.f.call("GET", p)
        self.assertEqual((404, "ImageNotFound"), (st, j["error"]["code"]))
        st, _, _ = self.f.call("PUT", p, JPEG, headers={"Content-Type": "image/jpeg"})
        self.assertEqual(200, st)
        st, h, data = self.f.call("GET", p)
        self.assertEqual((200, "image/jpeg", JPEG), (st, h["Content-Type"], data))
        meta = self.ok(self.f.call("GET", "/v1.0/me/contacts/%s/photo" % q(c["id"])))
        self.assertEqual("image/jpeg", meta["@odata.mediaContentType"])
        after = self.ok(self.f.call("GET", "/v1.0/me/contacts/" + q(c["id"])))
        self.assertNotEqual(c["changeKey"], after["changeKey"])

    def test_photo_refusals(self):
        c = self.contact(givenName="Pic2")
        p = "/v1.0/me/contacts/%s/photo/$value" % q(c["id"])
        self.refused(self.f.call("PUT", p, JPEG), 415)
        self.refused(self.f.call("PUT", p, b"not an image", headers={"Content-Type": "image/jpeg"}), 400)
        self.refused(self.f.call("PUT", p, PNG, headers={"Content-Type": "image/jpeg"}), 400)


class BatchTest(Base):
    def batch(self, requests, user="alice", raw=None):
        body = raw if raw is not None else {"requests": requests}
        return self.f.call("POST", "/v1.0/$batch", body, user=user)

    def test_batch(self):
        self.contact(givenName="B0")
        j = self.ok(self.batch([
            {"id": "1", "method": "POST", "url": "/me/contacts", "body": {"givenName": "B1"},
             "headers": {"Content-Type": "application/json"}},
            {"id": "2", "method": "GET", "url": "/me/contacts?$top=1&$select=givenName"},
            {"id": "3", "method": "POST", "url": "/me/contacts", "body": {"bogus": 1},
             "headers": {"Content-Type": "application/json"}},
            {"id": "4", "method": "GET", "url": "/me/contacts/doesnotexist"},
        ]))
        by = {r["id"]: r for r in j["responses"]}
        self.assertEqual(201, by["1"]["status"])
        self.assertEqual("B1", by["1"]["body"]["givenName"])
        self.assertEqual(200, by["2"]["status"])
        self.assertTrue(by["2"]["body"]["@odata.nextLink"].startswith("http://"))
        self.assertEqual((400, "RequestBodyRead"), (by["3"]["status"], by["3"]["body"]["error"]["code"]))
        self.assertEqual(404, by["4"]["status"])
        self.expect_violations = True  # request 3

    def test_scope_inside_batch(self):
        j = self.ok(self.batch([{"id": "a", "method": "POST", "url": "/me/contacts", "body": {"givenName": "x"},
                                 "headers": {"Content-Type": "application/json"}}], user="bob"))
        self.assertEqual(403, j["responses"][0]["status"])

    def test_limits_and_format(self):
        many = [{"id": str(i), "method": "GET", "url": "/me/contacts"} for i in range(21)]
        self.refused(self.batch(many), 400)
        self.refused(self.batch([{"id": "1", "method": "GET", "url": "/me/contacts"},
                                 {"id": "1", "method": "GET", "url": "/me/contacts"}]), 400)
        self.refused(self.batch([{"id": "1", "method": "POST", "url": "/me/contacts", "body": {"givenName": "x"}}]),
                     400)
        self.refused(self.batch(None, raw={"reqs": []}), 400)
        self.refused(self.batch([{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me"}]), 400)
        self.ok(self.batch([{"id": str(i), "method": "GET", "url": "/me/contacts"} for i in range(20)]))
        st, _, j = self.f.call("POST", "/v1.0/$batch", {"requests": []}, token="bad")
        self.assertEqual(401, st)

    def test_depends_on(self):
        j = self.ok(self.batch([
            {"id": "1", "method": "GET", "url": "/me/contacts/missing"},
            {"id": "2", "method": "GET", "url": "/me/contacts", "dependsOn": ["1"]},
        ]))
        by = {r["id"]: r["status"] for r in j["responses"]}
        self.assertEqual({"1": 404, "2": 424}, by)

    def test_batch_throttle(self):
        self.f.faults(batch_throttle=["b"], retry_after=7)
        j = self.ok(self.batch([{"id": "a", "method": "GET", "url": "/me/contacts"},
                                {"id": "b", "method": "GET", "url": "/me/contacts"}]))
        by = {r["id"]: r for r in j["responses"]}
        self.assertEqual(200, by["a"]["status"])
        self.assertEqual(429, by["b"]["status"])
        self.assertEqual("7", by["b"]["headers"]["Retry-After"])
        j = self.ok(self.batch([{"id": "b", "method": "GET", "url": "/me/contacts"}]))  # one-shot
        self.assertEqual(200, j["responses"][0]["status"])

    def test_photo_in_batch(self):
        c = self.contact(givenName="BP")
        j = self.ok(self.batch([
            {"id": "put", "method": "PUT", "url": "/me/contacts/%s/photo/$value" % q(c["id"]),
             "body": base64.b64encode(JPEG).decode(), "headers": {"Content-Type": "image/jpeg"}},
            {"id": "get", "method": "GET", "url": "/me/contacts/%s/photo/$value" % q(c["id"]), "dependsOn": ["put"]},
        ]))
        by = {r["id"]: r for r in j["responses"]}
        self.assertEqual(200, by["put"]["status"])
        self.assertEqual(JPEG, base64.b64decode(by["get"]["body"]))


class ThrottleTest(Base):
    def test_throttle_fault(self):
        self.f.faults(throttle_after=1, times=2, retry_after=3)
        self.ok(self.f.call("GET", "/v1.0/me/contacts"))
        for _ in range(2):
            st, h, j = self.f.call("GET", "/v1.0/me/contacts")
            self.assertEqual((429, "ApplicationThrottled", "3"), (st, j["error"]["code"], h.get("Retry-After")))
        self.ok(self.f.call("GET", "/v1.0/me/contacts"))

    def test_throttle_without_retry_after(self):
        self.f.faults(throttle_after=0, retry_after=None, code="TooManyRequests")
        st, h, j = self.f.call("GET", "/v1.0/me/contacts")
        self.assertEqual((429, "TooManyRequests"), (st, j["error"]["code"]))
        self.assertNotIn("Retry-After", h)

    def test_server_errors(self):
        self.f.faults(server_error=503, times=1, retry_after=2)
        st, h, j = self.f.call("GET", "/v1.0/me/contacts")
        self.assertEqual((503, "2"), (st, h.get("Retry-After")))
        self.f.faults(server_error=504)
        self.assertEqual(504, self.f.call("GET", "/v1.0/me/contacts")[0])
        self.ok(self.f.call("GET", "/v1.0/me/contacts"))

    def test_mailbox_limit(self):
        f = Fake("--requests-per-10-min", "3")
        try:
            for _ in range(3):
                self.assertEqual(200, f.call("GET", "/v1.0/me/contacts")[0])
            st, h, j = f.call("GET", "/v1.0/me/contacts")
            self.assertEqual((429, "ApplicationThrottled"), (st, j["error"]["code"]))
            self.assertGreater(int(h["Retry-After"]), 0)
            self.assertEqual(200, f.call("GET", "/v1.0/me/contacts", user="dave")[0])  # per mailbox
        finally:
            f.stop()

    def test_bad_fault_requests(self):
        st, _, _ = self.f.raw("POST", "/_fake/faults", json.dumps({"nope": 1}), {"Content-Type": "application/json"})
        self.assertEqual(400, st)


class HooksTest(Base):
    def test_requests_and_state(self):
        self.f.raw("DELETE", "/_fake/requests")
        self.contact(givenName="R")
        self.f.call("GET", "/v1.0/me/contacts")
        reqs = self.f.raw("GET", "/_fake/requests")[2]["requests"]
        self.assertEqual(1, reqs["POST /v1.0/me/contacts"])
        self.assertEqual(1, reqs["GET /v1.0/me/contacts"])
        state = self.f.raw("GET", "/_fake/state")[2]
        self.assertIn("alice", state["users"])

    def test_state_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "state.json")
            f = Fake("--state", path)
            try:
                st, _, c = f.call("POST", "/v1.0/me/contacts", {"givenName": "Persist"})
                self.assertEqual(201, st)
            finally:
                f.stop()
            f = Fake("--state", path)
            try:
                st, _, j = f.call("GET", "/v1.0/me/contacts/" + q(c["id"]))
                self.assertEqual((200, "Persist"), (st, j["givenName"]))
            finally:
                f.stop()

    def test_hostile_input(self):
        self.expect_violations = True
        s = socket.create_connection(("127.0.0.1", self.f.port), timeout=5)
        s.sendall(b"POST /v1.0/me/contacts HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
        self.assertIn(b"400", s.recv(1000))
        s.close()
        s = socket.create_connection(("127.0.0.1", self.f.port), timeout=5)
        s.sendall(b"\x00\xff garbage\r\n\r\n")
        s.recv(1000)
        s.close()
        st, _, _ = self.f.call("POST", "/v1.0/me/contacts", b"\xff\xfe", headers={"Content-Type": "application/json"})
        self.assertEqual(400, st)
        st, _, _ = self.f.call("GET", "/v1.0/me/contacts/" + q("'\"<>%00"))
        self.assertIn(st, (400, 404))
        self.ok(self.f.call("GET", "/v1.0/me/contacts"))  # still alive
        self.assertFalse([v for v in self.f.violations() if "crashed" in v["message"]])


class FolderScopedTest(Base):
    def test_item_routes_through_folder(self):
        f = self.folder("Scoped")
        c = self.contact(folder=f["id"], givenName="In")
        other = self.contact(givenName="Out")
        base = "/v1.0/me/contactFolders/%s/contacts/" % q(f["id"])
        self.assertEqual("In", self.ok(self.f.call("GET", base + q(c["id"])))["givenName"])
        self.assertEqual(404, self.f.call("GET", base + q(other["id"]))[0])
        self.ok(self.f.call("PATCH", base + q(c["id"]), {"surname": "S"}))
        st, _, _ = self.f.call("PATCH", base + q(c["id"]) + "/photo/$value", PNG, headers={"Content-Type": "image/png"})
        self.assertEqual(200, st)
        st, h, data = self.f.call("GET", "/v1.0/me/contacts/%s/photo/$value" % q(c["id"]))
        self.assertEqual((200, "image/png", PNG), (st, h["Content-Type"], data))
        self.assertEqual(204, self.f.call("DELETE", base + q(c["id"]))[0])

    def test_concurrency_limit(self):
        f = Fake("--max-concurrent", "4")
        try:
            self.assertEqual(200, f.call("GET", "/v1.0/me/contacts")[0])
        finally:
            f.stop()


class TodoTest(Base):
    def test_lists_and_tasks(self):
        lists = self.ok(self.f.call("GET", "/v1.0/me/todo/lists"))["value"]
        kinds = {x["wellknownListName"] for x in lists}
        self.assertIn("defaultList", kinds)
        default = next(x for x in lists if x["wellknownListName"] == "defaultList")
        self.assertEqual(400, self.f.call("DELETE", "/v1.0/me/todo/lists/" + q(default["id"]))[0])
        self.expect_violations = True
        lst = self.ok(self.f.call("POST", "/v1.0/me/todo/lists", {"displayName": "Chores"}), 201)
        self.assertEqual(("Chores", "none", True), (lst["displayName"], lst["wellknownListName"], lst["isOwner"]))
        tp = "/v1.0/me/todo/lists/%s/tasks" % q(lst["id"])
        t = self.ok(self.f.call("POST", tp, {
            "title": "Water plants", "importance": "high", "body": {"content": "all", "contentType": "text"},
            "dueDateTime": {"dateTime": "2026-12-01T00:00:00", "timeZone": "UTC"},
            "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                           "range": {"type": "noEnd", "startDate": "2026-12-01"}},
            "categories": ["Home"]}), 201)
        self.assertEqual(("notStarted", "2026-12-01T00:00:00.0000000"), (t["status"], t["dueDateTime"]["dateTime"]))
        self.assertEqual("weekly", t["recurrence"]["pattern"]["type"])
        u = self.ok(self.f.call("PATCH", tp + "/" + q(t["id"]), {
            "status": "completed", "completedDateTime": {"dateTime": "2026-12-02T10:00:00", "timeZone": "UTC"}}))
        self.assertEqual("completed", u["status"])
        got = self.ok(self.f.call("GET", tp, query={"$select": "title,status"}))
        self.assertEqual([{"@odata.etag", "id", "title", "status"}], [set(x) for x in got["value"]])
        self.assertEqual(204, self.f.call("DELETE", tp + "/" + q(t["id"]))[0])
        self.assertEqual(404, self.f.call("GET", tp + "/" + q(t["id"]))[0])

    def test_task_checking(self):
        lst = self.ok(self.f.call("POST", "/v1.0/me/todo/lists", {"displayName": "Checks"}), 201)
        tp = "/v1.0/me/todo/lists/%s/tasks" % q(lst["id"])
        for body in ({"title": "x", "priority": 1}, {"status": "done"}, {"importance": "urgent"},
                     {"dueDateTime": {"dateTime": "2026-12-01T00:00:00Z", "timeZone": "UTC"}},
                     {"dueDateTime": {"dateTime": "2026-12-01T00:00:00"}},
                     {"recurrence": {"pattern": {"type": "weekly", "interval": 1},
                                     "range": {"type": "noEnd", "startDate": "2026-12-01"}}},
                     {"recurrence": {"pattern": {"type": "daily", "interval": 0},
                                     "range": {"type": "noEnd", "startDate": "2026-12-01"}}},
                     {"body": {"content": "x", "contentType": "rtf"}}):
            self.refused(self.f.call("POST", tp, body), 400)
        st, _, j = self.f.call("POST", tp, {"title": "x"}, user="bob")
        self.assertEqual(403, st)

    def test_task_delta(self):
        lst = self.ok(self.f.call("POST", "/v1.0/me/todo/lists", {"displayName": "DeltaList"}), 201)
        tp = "/v1.0/me/todo/lists/%s/tasks" % q(lst["id"])
        a = self.ok(self.f.call("POST", tp, {"title": "A"}), 201)
        b = self.ok(self.f.call("POST", tp, {"title": "B"}), 201)
        j = self.ok(self.f.call("GET", tp + "/delta"))
        self.assertEqual({a["id"], b["id"]}, {x["id"] for x in j["value"]})
        self.f.call("DELETE", tp + "/" + q(a["id"]))
        j = self.ok(self.f.call("GET", j["@odata.deltaLink"]))
        self.assertEqual([(a["id"], {"reason": "deleted"})], [(x["id"], x.get("@removed")) for x in j["value"]])
        j = self.ok(self.f.call("GET", "/v1.0/me/todo/lists/delta"))
        self.assertIn(lst["id"], {x["id"] for x in j["value"]})

    def test_seed(self):
        out = self.f.seed(user="frank", todoLists=[{"displayName": "L", "tasks": [{"title": "T"}]}],
                          todoTasks=[{"title": "D"}])
        self.assertEqual(1, len(out["todoLists"][0]["tasks"]))
        self.assertTrue(out["defaultTodoListId"])


def ev(subject, start, end, tz="UTC", **more):
    body = {"subject": subject, "start": {"dateTime": start, "timeZone": tz},
            "end": {"dateTime": end, "timeZone": tz}}
    body.update(more)
    return body


class CalendarTest(Base):
    def test_calendars(self):
        cals = self.ok(self.f.call("GET", "/v1.0/me/calendars"))["value"]
        self.assertEqual([True], [c["isDefaultCalendar"] for c in cals])
        self.assertEqual(cals[0]["id"], self.ok(self.f.call("GET", "/v1.0/me/calendar"))["id"])
        c = self.ok(self.f.call("POST", "/v1.0/me/calendars", {"name": "Work", "color": "lightBlue"}), 201)
        self.assertEqual(409, self.f.call("POST", "/v1.0/me/calendars", {"name": "work"})[0])
        e = self.ok(self.f.call("POST", "/v1.0/me/calendars/%s/events" % q(c["id"]),
                                ev("Standup", "2026-12-01T09:00:00", "2026-12-01T09:15:00")), 201)
        got = self.ok(self.f.call("GET", "/v1.0/me/calendars/%s/events" % q(c["id"])))
        self.assertEqual([e["id"]], [x["id"] for x in got["value"]])
        default = self.ok(self.f.call("GET", "/v1.0/me/events"))
        self.assertNotIn(e["id"], [x["id"] for x in default["value"]])

    def test_event_crud_and_timezones(self):
        e = self.ok(self.f.call("POST", "/v1.0/me/events", ev(
            "Lunch", "2026-07-01T12:00:00", "2026-07-01T13:00:00", "Pacific Standard Time",
            body={"contentType": "html", "content": "<p>Tacos</p>"}, location={"displayName": "Cafe"},
            attendees=[{"emailAddress": {"address": "bob@example.com", "name": "Bob"}, "type": "required"}],
            transactionId="tx-1")), 201)
        self.assertEqual(("singleInstance", "Pacific Standard Time"), (e["type"], e["originalStartTimeZone"]))
        self.assertEqual({"dateTime": "2026-07-01T19:00:00.0000000", "timeZone": "UTC"}, e["start"])  # default UTC
        self.assertEqual("Tacos", e["bodyPreview"])
        self.assertEqual(["Cafe"], [x["displayName"] for x in e["locations"]])
        again = self.ok(self.f.call("POST", "/v1.0/me/events", ev(
            "Lunch", "2026-07-01T12:00:00", "2026-07-01T13:00:00", "Pacific Standard Time", transactionId="tx-1")),
            201)
        self.assertEqual(e["id"], again["id"])  # transactionId: no duplicate
        st, h, g = self.f.call("GET", "/v1.0/me/events/" + q(e["id"]),
                               headers={"Prefer": 'outlook.timezone="Europe/Paris"'})
        self.assertEqual({"dateTime": "2026-07-01T21:00:00.0000000", "timeZone": "Europe/Paris"}, g["start"])
        self.assertEqual('outlook.timezone="Europe/Paris"', h["Preference-Applied"])
        u = self.ok(self.f.call("PATCH", "/v1.0/me/events/" + q(e["id"]), {"subject": "Long lunch", "end": {
            "dateTime": "2026-07-01T14:00:00", "timeZone": "Pacific Standard Time"}}))
        self.assertEqual(("Long lunch", "2026-07-01T21:00:00.0000000"), (u["subject"], u["end"]["dateTime"]))
        self.assertEqual(204, self.f.call("DELETE", "/v1.0/me/events/" + q(e["id"]))[0])
        self.assertEqual(404, self.f.call("GET", "/v1.0/me/events/" + q(e["id"]))[0])

    def test_all_day(self):
        e = self.ok(self.f.call("POST", "/v1.0/me/events", ev("Holiday", "2026-12-25T00:00:00", "2026-12-26T00:00:00",
                                                              isAllDay=True)), 201)
        self.assertTrue(e["isAllDay"])
        self.refused(self.f.call("POST", "/v1.0/me/events", ev("Bad", "2026-12-25T10:00:00", "2026-12-26T00:00:00",
                                                               isAllDay=True)), 400)

    def test_recurrence_instances_exceptions(self):
        rec = {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
               "range": {"type": "numbered", "startDate": "2026-11-30", "numberOfOccurrences": 4}}
        m = self.ok(self.f.call("POST", "/v1.0/me/events", ev("Gym", "2026-11-30T18:00:00", "2026-11-30T19:00:00",
                                                              "W. Europe Standard Time", recurrence=rec)), 201)
        self.assertEqual("seriesMaster", m["type"])
        path = "/v1.0/me/events/%s/instances" % q(m["id"])
        win = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}
        inst = self.ok(self.f.call("GET", path, query=win))["value"]
        self.assertEqual(["2026-11-30", "2026-12-02", "2026-12-07", "2026-12-09"],
                         [i["originalStart"][:10] for i in inst])
        self.assertEqual({"occurrence"}, {i["type"] for i in inst})
        self.assertEqual({m["id"]}, {i["seriesMasterId"] for i in inst})
        self.assertEqual("2026-11-30T17:00:00.0000000", inst[0]["start"]["dateTime"])  # 18:00 CET in UTC
        x = self.ok(self.f.call("PATCH", "/v1.0/me/events/" + q(inst[1]["id"]), {"subject": "Gym (late)"}))
        self.assertEqual(("exception", "Gym (late)"), (x["type"], x["subject"]))
        self.assertEqual(204, self.f.call("DELETE", "/v1.0/me/events/" + q(inst[2]["id"]))[0])
        inst = self.ok(self.f.call("GET", path, query=win))["value"]
        self.assertEqual(["occurrence", "exception", "occurrence"], [i["type"] for i in inst])
        view = self.ok(self.f.call("GET", "/v1.0/me/calendarView", query=dict(win, **{"$top": "50"})))["value"]
        self.assertNotIn("seriesMaster", {v["type"] for v in view})
        self.assertEqual(3, len([v for v in view if v.get("seriesMasterId") == m["id"]]))
        listed = self.ok(self.f.call("GET", "/v1.0/me/events", query={"$top": "100"}))["value"]
        self.assertIn(m["id"], [e["id"] for e in listed])
        self.assertFalse([e for e in listed if e["type"] in ("occurrence", "exception")])

    def test_event_checking(self):
        for body in (ev("x", "2026-12-01T10:00:00", "2026-12-01T09:00:00"),
                     {"subject": "no times"},
                     ev("x", "2026-12-01T10:00:00", "2026-12-01T11:00:00", "Mars/Olympus"),
                     ev("x", "2026-12-01T10:00:00", "2026-12-01T11:00:00", colour="red"),
                     ev("x", "2026-12-01T10:00:00", "2026-12-01T11:00:00", showAs="away"),
                     ev("x", "2026-12-01T10:00:00", "2026-12-01T11:00:00", attendees=[{"emailAddress": {}}]),
                     ev("x", "2026-12-01T10:00:00", "2026-12-01T11:00:00", recurrence={
                         "pattern": {"type": "monthly", "interval": 1},
                         "range": {"type": "noEnd", "startDate": "2026-12-01"}})):
            self.refused(self.f.call("POST", "/v1.0/me/events", body), 400)
        self.refused(self.f.call("GET", "/v1.0/me/calendarView"), 400)
        self.refused(self.f.call("GET", "/v1.0/me/events", headers={"Prefer": 'outlook.timezone="Nowhere"'}), 400)
        st, _, _ = self.f.call("POST", "/v1.0/me/events", ev("x", "2026-12-01T10:00:00", "2026-12-01T11:00:00"),
                               user="bob")
        self.assertEqual(403, st)

    def test_seed(self):
        out = self.f.seed(user="gina", events=[ev("S", "2026-12-01T10:00:00", "2026-12-01T11:00:00")],
                          calendars=[{"name": "Side", "events": [ev("T", "2026-12-02T10:00:00",
                                                                    "2026-12-02T11:00:00")]}])
        self.assertEqual(1, len(out["events"]))
        self.assertEqual(1, len(out["calendars"][0]["events"]))


if __name__ == "__main__":
    unittest.main()
