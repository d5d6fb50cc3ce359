"""Tests for the Google fake.  Run from the repository root:

    python3 -m unittest scripts/fakes/google/test_fake.py
"""
import os
import sys

# This folder holds calendar.py, which would shadow the standard library's
# `calendar` (imported by http.client via email) if the folder were on
# sys.path, as it is when this file is run directly.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.getcwd()) != HERE]

import base64  # noqa: E402
import hashlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import unittest  # noqa: E402
import urllib.parse  # noqa: E402
SERVER = os.path.join(HERE, "server.py")
G = "https://www.googleapis.com/auth/"
ALL = " ".join(G + s for s in ("contacts", "calendar", "tasks"))
RO = " ".join(G + s for s in ("contacts.readonly", "calendar.readonly", "tasks.readonly"))
MAIL = "https://mail.google.com/"
# Extra users for Gmail, Drive and Photos: each refresh token is its own user with these scopes.
GRANTS = {
    "mia": MAIL, "gro": G + "gmail.readonly", "gmeta": G + "gmail.metadata",
    "gins": G + "gmail.insert " + G + "gmail.labels",
    "dan": G + "drive", "dfile": G + "drive.file", "dro": G + "drive.readonly",
    "dmeta": G + "drive.metadata.readonly",
    "pho": G + "photoslibrary.appendonly " + G + "photoslibrary.readonly.appcreateddata",
    "pold": G + "photoslibrary " + G + "photoslibrary.readonly",
}


class Fake:
    def __init__(self, *extra):
        args = [sys.executable, SERVER, "--listen", "127.0.0.1:0", "--grant", "alice-refresh=" + ALL,
                "--grant", "bob-refresh=" + RO, "--grant", "dave-refresh=" + ALL]
        for user, scopes in GRANTS.items():
            args += ["--grant", "%s-refresh=%s" % (user, scopes)]
        args += list(extra)
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
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, dict(r.getheaders()), (json.loads(data) if data else None)
        finally:
            c.close()

    def send(self, method, path, data=b"", headers=None, user="alice", query=None, auth=True):
        """A request with a raw (bytes) body; answers (status, headers, body bytes)."""
        h = {}
        if auth:
            h["Authorization"] = "Bearer " + self.access(user)
        h.update(headers or {})
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query, doseq=True)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def access(self, user):
        if user not in self.tokens:
            st, _, j = self.token(user)
            assert st == 200, j
            self.tokens[user] = j["access_token"]
        return self.tokens[user]

    def token(self, user="alice", **form):
        f = {"grant_type": "refresh_token", "refresh_token": user + "-refresh", "client_id": "cid",
             "client_secret": "secret"}
        f.update(form)
        return self.raw("POST", "/token", urllib.parse.urlencode(f),
                        {"Content-Type": "application/x-www-form-urlencoded"})

    def call(self, method, path, body=None, user="alice", query=None, headers=None, token=None):
        if token is None:
            if user not in self.tokens:
                st, _, j = self.token(user)
                assert st == 200, j
                self.tokens[user] = j["access_token"]
            token = self.tokens[user]
        h = {"Authorization": "Bearer " + token} if token else {}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        h.update(headers or {})
        if query:
            path += "?" + urllib.parse.urlencode(query, doseq=True)
        return self.raw(method, path, body, h)

    def violations(self):
        return self.raw("GET", "/_fake/violations")[2]["violations"]

    def clear_violations(self):
        self.raw("DELETE", "/_fake/violations")

    def faults(self, **kw):
        st, _, j = self.raw("POST", "/_fake/faults", json.dumps(kw), {"Content-Type": "application/json"})
        assert st == 200, j


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

    def tearDown(self):
        v = self.f.violations()
        if self.expect_violations:
            self.f.clear_violations()
        else:
            self.assertEqual([], v)

    def refused(self, st, j, code=400):
        """A request the real service would refuse: error answer + recorded violation."""
        self.assertEqual(code, st, j)
        self.assertIn("error", j)
        self.assertTrue(self.f.violations(), "violation not recorded")
        self.expect_violations = True

    def ok(self, r, code=200):
        st, _, j = r
        self.assertEqual(code, st, j)
        return j

    def person(self, given, family="Test", **more):
        body = {"names": [{"givenName": given, "familyName": family}]}
        body.update(more)
        return self.ok(self.f.call("POST", "/v1/people:createContact", body,
                                   query={"personFields": "names,metadata,memberships"}))


class OAuthTest(Base):
    def test_refresh_grant(self):
        st, h, j = self.f.token()
        self.assertEqual(200, st)
        self.assertEqual({"access_token", "expires_in", "scope", "token_type"}, set(j))
        self.assertEqual("Bearer", j["token_type"])
        self.assertEqual(3600, j["expires_in"])
        self.assertEqual(ALL, j["scope"])

    def test_narrowed_scope_and_invalid_scope(self):
        st, _, j = self.f.token(scope=G + "tasks")
        self.assertEqual((200, G + "tasks"), (st, j["scope"]))
        st, _, j = self.f.token(scope=G + "drive")
        self.assertEqual((400, "invalid_scope"), (st, j["error"]))

    def test_invalid_grant(self):
        st, _, j = self.f.token("nobody")
        self.assertEqual(400, st)
        self.assertEqual("invalid_grant", j["error"])
        self.assertIn("error_description", j)

    def test_malformed_token_requests(self):
        st, _, j = self.f.token(grant_type="password")
        self.assertEqual("unsupported_grant_type", j["error"])
        st, _, j = self.f.raw("POST", "/token", json.dumps({"grant_type": "refresh_token"}),
                              {"Content-Type": "application/json"})
        self.assertEqual((400, "invalid_request"), (st, j["error"]))
        self.expect_violations = True
        self.assertEqual(2, len(self.f.violations()))

    def test_missing_unknown_and_revoked_tokens(self):
        for tok in ("", "ya29.nope"):
            st, h, j = self.f.call("GET", "/tasks/v1/users/@me/lists", token=tok)
            self.assertEqual(401, st)
            self.assertEqual("UNAUTHENTICATED", j["error"]["status"])
            self.assertTrue(j["error"]["message"].startswith("Request had invalid authentication credentials"))
            self.assertIn("WWW-Authenticate", h)
        self.f.call("GET", "/tasks/v1/users/@me/lists", user="dave")
        self.f.faults(expire_tokens=True)
        st, _, j = self.f.call("GET", "/tasks/v1/users/@me/lists", user="dave")
        self.assertEqual(401, st)
        self.f.tokens.clear()
        self.ok(self.f.call("GET", "/tasks/v1/users/@me/lists", user="dave"))

    def test_expiry(self):
        f = Fake("--token-lifetime", "1")
        try:
            self.ok(f.call("GET", "/v1/contactGroups"))
            time.sleep(1.3)
            st, _, j = f.call("GET", "/v1/contactGroups")
            self.assertEqual(401, st)
        finally:
            f.stop()

    def test_scope_insufficient(self):
        self.ok(self.f.call("GET", "/v1/contactGroups", user="bob"))  # readonly may read
        for method, path, body in (("POST", "/v1/people:createContact", {"names": [{"givenName": "x"}]}),
                                   ("POST", "/calendar/v3/calendars", {"summary": "x"}),
                                   ("POST", "/tasks/v1/users/@me/lists", {"title": "x"})):
            st, _, j = self.f.call(method, path, body, user="bob")
            self.assertEqual(403, st, j)
            self.assertEqual("PERMISSION_DENIED", j["error"]["status"])
            self.assertEqual("ACCESS_TOKEN_SCOPE_INSUFFICIENT", j["error"]["details"][0]["reason"])
            self.assertEqual("insufficientPermissions", j["error"]["errors"][0]["reason"])


class PeopleTest(Base):
    def test_create_get_update(self):
        p = self.f.call("POST", "/v1/people:createContact", {
            "names": [{"givenName": "Ada", "familyName": "Lovelace"}],
            "nicknames": [{"value": "Countess"}],
            "emailAddresses": [{"value": "ada@example.org", "type": "home"}],
            "phoneNumbers": [{"value": "+44 20 7946 0000", "type": "mobile"}],
            "addresses": [{"streetAddress": "1 St James's Sq", "city": "London", "country": "UK"}],
            "organizations": [{"name": "Analytical Engines", "title": "Programmer"}],
            "birthdays": [{"date": {"month": 12, "day": 10}}],
            "biographies": [{"value": "First programmer", "contentType": "TEXT_PLAIN"}],
            "urls": [{"value": "https://example.org", "type": "homePage"}],
            "events": [{"date": {"year": 1835, "month": 7, "day": 8}, "type": "anniversary"}],
            "relations": [{"person": "William", "type": "spouse"}],
            "imClients": [{"username": "ada", "protocol": "jabber"}],
            "userDefined": [{"key": "k", "value": "v"}],
            "sipAddresses": [{"value": "sip:ada@example.org"}]}, query={"personFields": "names,birthdays,metadata"})
        j = self.ok(p)
        self.assertEqual("Ada Lovelace", j["names"][0]["displayName"])
        self.assertNotIn("year", j["birthdays"][0]["date"])
        self.assertNotIn("emailAddresses", j)
        rn = j["resourceName"]
        g = self.ok(self.f.call("GET", "/v1/" + rn, query={"personFields": ",".join([
            "names", "emailAddresses", "addresses", "memberships", "photos", "sipAddresses", "imClients",
            "metadata"])}))
        self.assertEqual("Home", g["emailAddresses"][0]["formattedType"])
        self.assertIn("London", g["addresses"][0]["formattedValue"])
        self.assertEqual("contactGroups/myContacts",
                         g["memberships"][0]["contactGroupMembership"]["contactGroupResourceName"])
        self.assertTrue(g["photos"][0]["default"])
        self.assertEqual("Jabber", g["imClients"][0]["formattedProtocol"])
        # update with the current etag succeeds, with a stale one fails
        upd = {"resourceName": rn, "etag": g["etag"], "metadata": g["metadata"],
               "names": [{"givenName": "Augusta Ada", "familyName": "King"}]}
        u1 = self.ok(self.f.call("PATCH", "/v1/%s:updateContact" % rn, upd,
                                 query={"updatePersonFields": "names", "personFields": "names,metadata"}))
        self.assertEqual("Augusta Ada King", u1["names"][0]["displayName"])
        st, _, e = self.f.call("PATCH", "/v1/%s:updateContact" % rn, upd, query={"updatePersonFields": "names"})
        self.assertEqual(400, st)
        self.assertEqual("FAILED_PRECONDITION", e["error"]["status"])
        self.assertEqual("failedPrecondition", e["error"]["details"][0]["reason"])
        self.assertEqual([], self.f.violations())  # a race, not a client bug

    def test_request_checking(self):
        st, _, j = self.f.call("GET", "/v1/people/me/connections")
        self.refused(st, j)
        self.assertEqual("INVALID_ARGUMENT", j["error"]["status"])
        st, _, j = self.f.call("GET", "/v1/people/me/connections", query={"personFields": "names,shoeSize"})
        self.refused(st, j)
        st, _, j = self.f.call("GET", "/v1/people/me/connections", query={"personFields": "names", "pageSize": 1001})
        self.refused(st, j)
        st, _, j = self.f.call("GET", "/v1/people/me/connections", query={"personFields": "names", "colour": "red"})
        self.refused(st, j)
        st, _, j = self.f.call("POST", "/v1/people:createContact", {"names": [{"givenName": "a"}, {"givenName": "b"}]})
        self.refused(st, j)
        st, _, j = self.f.call("POST", "/v1/people:createContact", {"names": [{"givenName": "a", "nick": "b"}]})
        self.refused(st, j)
        st, _, j = self.f.call("POST", "/v1/people:createContact", {"birthdays": [{"date": {"month": 13, "day": 1}}]})
        self.refused(st, j)
        p = self.person("Nomask")
        st, _, j = self.f.call("PATCH", "/v1/%s:updateContact" % p["resourceName"], {"names": []})
        self.refused(st, j)

    def test_pagination_and_sync(self):
        f = Fake()
        try:
            made = [self.ok(f.call("POST", "/v1/people:createContact", {"names": [{"givenName": "P%d" % i}]},
                                   query={"personFields": "names,metadata"})) for i in range(5)]
            seen, tok, pages = [], None, 0
            while True:
                q = {"personFields": "names", "pageSize": 2, "requestSyncToken": "true"}
                if tok:
                    q["pageToken"] = tok
                j = self.ok(f.call("GET", "/v1/people/me/connections", query=q))
                pages += 1
                self.assertEqual(5, j["totalItems"])
                seen += [c["resourceName"] for c in j.get("connections", [])]
                tok = j.get("nextPageToken")
                if not tok:
                    sync = j["nextSyncToken"]
                    break
                self.assertNotIn("nextSyncToken", j)
            self.assertEqual(3, pages)
            self.assertEqual(sorted(p["resourceName"] for p in made), sorted(seen))
            # changing other parameters while paging is refused
            j = self.ok(f.call("GET", "/v1/people/me/connections", query={"personFields": "names", "pageSize": 2}))
            st, _, e = f.call("GET", "/v1/people/me/connections",
                              query={"personFields": "names,emailAddresses", "pageSize": 2,
                                     "pageToken": j["nextPageToken"]})
            self.assertEqual(400, st)
            f.clear_violations()
            # incremental sync: one updated, one deleted
            p0 = made[0]
            self.ok(f.call("PATCH", "/v1/%s:updateContact" % p0["resourceName"],
                           {"metadata": p0["metadata"], "names": [{"givenName": "Changed"}]},
                           query={"updatePersonFields": "names"}))
            self.ok(f.call("DELETE", "/v1/%s:deleteContact" % made[1]["resourceName"]))
            j = self.ok(f.call("GET", "/v1/people/me/connections",
                               query={"personFields": "names", "requestSyncToken": "true", "syncToken": sync}))
            by = {c["resourceName"]: c for c in j["connections"]}
            self.assertEqual({made[0]["resourceName"], made[1]["resourceName"]}, set(by))
            self.assertTrue(by[made[1]["resourceName"]]["metadata"]["deleted"])
            self.assertEqual("Changed", by[made[0]["resourceName"]]["names"][0]["givenName"])
            sync2 = j["nextSyncToken"]
            j = self.ok(f.call("GET", "/v1/people/me/connections",
                               query={"personFields": "names", "requestSyncToken": "true", "syncToken": sync2}))
            self.assertNotIn("connections", j)
            f.faults(expire_sync_tokens=True)
            st, _, e = f.call("GET", "/v1/people/me/connections",
                              query={"personFields": "names", "requestSyncToken": "true", "syncToken": sync2})
            self.assertEqual(400, st)
            self.assertEqual("FAILED_PRECONDITION", e["error"]["status"])
            self.assertEqual("EXPIRED_SYNC_TOKEN", e["error"]["details"][0]["reason"])
            self.assertEqual([], f.violations())
        finally:
            f.stop()

    def test_batch_create(self):
        contacts = [{"contactPerson": {"names": [{"givenName": "B%d" % i}]}} for i in range(3)]
        j = self.ok(self.f.call("POST", "/v1/people:batchCreateContacts",
                                {"contacts": contacts, "readMask": "names"}))
        self.assertEqual(3, len(j["createdPeople"]))
        self.assertEqual("B2", j["createdPeople"][2]["person"]["names"][0]["givenName"])
        self.f.faults(batch_partial_failure=[1])
        j = self.ok(self.f.call("POST", "/v1/people:batchCreateContacts",
                                {"contacts": contacts, "readMask": "names"}))
        self.assertEqual(200, j["createdPeople"][0]["httpStatusCode"])
        self.assertEqual(13, j["createdPeople"][1]["status"]["code"])
        self.assertNotIn("person", j["createdPeople"][1])
        st, _, e = self.f.call("POST", "/v1/people:batchCreateContacts",
                               {"contacts": contacts * 67, "readMask": "names"})
        self.refused(st, e)
        st, _, e = self.f.call("POST", "/v1/people:batchCreateContacts", {"contacts": contacts})
        self.refused(st, e)

    def test_groups(self):
        g = self.ok(self.f.call("POST", "/v1/contactGroups", {"contactGroup": {"name": "Family"}}))
        self.assertEqual("USER_CONTACT_GROUP", g["groupType"])
        st, _, e = self.f.call("POST", "/v1/contactGroups", {"contactGroup": {"name": "Family"}})
        self.assertEqual((409, "ALREADY_EXISTS"), (st, e["error"]["status"]))
        p = self.person("Member")
        j = self.ok(self.f.call("POST", "/v1/%s/members:modify" % g["resourceName"],
                                {"resourceNamesToAdd": [p["resourceName"], "people/c404"]}))
        self.assertEqual(["people/c404"], j["notFoundResourceNames"])
        got = self.ok(self.f.call("GET", "/v1/" + g["resourceName"], query={"maxMembers": 10}))
        self.assertEqual([p["resourceName"]], got["memberResourceNames"])
        self.assertEqual(1, got["memberCount"])
        pm = self.ok(self.f.call("GET", "/v1/" + p["resourceName"], query={"personFields": "memberships"}))
        self.assertEqual(2, len(pm["memberships"]))
        j = self.ok(self.f.call("POST", "/v1/contactGroups/myContacts/members:modify",
                                {"resourceNamesToRemove": [p["resourceName"]]}))
        self.assertEqual({}, j)
        j = self.ok(self.f.call("POST", "/v1/%s/members:modify" % g["resourceName"],
                                {"resourceNamesToRemove": [p["resourceName"]]}))
        self.assertEqual([p["resourceName"]], j["canNotRemoveLastContactGroupResourceNames"])
        lst = self.ok(self.f.call("GET", "/v1/contactGroups", query={"pageSize": 1}))
        self.assertEqual("contactGroups/myContacts", lst["contactGroups"][0]["resourceName"])
        self.assertIn("nextPageToken", lst)
        names = set()
        tok = None
        while True:
            q = {"pageSize": 1}
            if tok:
                q["pageToken"] = tok
            lst = self.ok(self.f.call("GET", "/v1/contactGroups", query=q))
            names |= {x["name"] for x in lst["contactGroups"]}
            tok = lst.get("nextPageToken")
            if not tok:
                break
        self.assertTrue({"myContacts", "starred", "Family"} <= names)
        # contactGroups.list has no groupType parameter in the reference
        st, _, e = self.f.call("GET", "/v1/contactGroups", query={"groupType": "USER_CONTACT_GROUP"})
        self.refused(st, e)

    def test_photo(self):
        p = self.person("Photo")
        png = b"\x89PNG\r\n\x1a\n" + b"0" * 32
        j = self.ok(self.f.call("PATCH", "/v1/%s:updateContactPhoto" % p["resourceName"],
                                {"photoBytes": base64.b64encode(png).decode(), "personFields": "photos"}))
        url = j["person"]["photos"][0]["url"]
        self.assertNotIn("default", j["person"]["photos"][0])
        u = urllib.parse.urlsplit(url)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        c.request("GET", u.path)
        r = c.getresponse()
        self.assertEqual((200, png), (r.status, r.read()))
        c.close()


class CalendarTest(Base):
    def test_calendars_and_list(self):
        c = self.ok(self.f.call("POST", "/calendar/v3/calendars", {"summary": "Work", "timeZone": "Europe/Berlin"}))
        self.assertTrue(c["id"].endswith("@group.calendar.google.com"))
        lst = self.ok(self.f.call("GET", "/calendar/v3/users/me/calendarList"))
        ids = [x["id"] for x in lst["items"]]
        self.assertIn(c["id"], ids)
        self.assertTrue(lst["items"][0]["primary"])
        self.assertIn("nextSyncToken", lst)
        # Calendar caps oversized pages (guides/pagination); the fake caps and records a violation
        self.ok(self.f.call("GET", "/calendar/v3/users/me/calendarList", query={"maxResults": 251}))
        self.assertIn("maxResults=251", self.f.violations()[0]["message"])
        self.f.clear_violations()
        st, _, e = self.f.call("POST", "/calendar/v3/calendars", {"summary": "x", "timeZone": "Mars/Olympus"})
        self.refused(st, e)
        st, _, e = self.f.call("GET", "/calendar/v3/users/me/calendarList", query={"syncToken": "garbage"})
        self.assertEqual((410, "fullSyncRequired"), (st, e["error"]["errors"][0]["reason"]))

    def ev(self, cid, summary, day, **more):
        body = {"summary": summary, "start": {"dateTime": "2024-03-%02dT10:00:00Z" % day},
                "end": {"dateTime": "2024-03-%02dT11:00:00Z" % day}}
        body.update(more)
        return self.ok(self.f.call("POST", "/calendar/v3/calendars/%s/events" % cid, body))

    def test_events_crud_pagination_sync(self):
        cid = self.ok(self.f.call("POST", "/calendar/v3/calendars", {"summary": "Sync"}))["id"]
        base = "/calendar/v3/calendars/%s/events" % cid
        evs = [self.ev(cid, "E%d" % i, i + 1, attendees=[{"email": "x@example.org", "optional": True}],
                       reminders={"useDefault": False, "overrides": [{"method": "popup", "minutes": 5}]},
                       extendedProperties={"private": {"ferry": "1"}}) for i in range(5)]
        self.assertEqual("needsAction", evs[0]["attendees"][0]["responseStatus"])
        got, tok = [], None
        while True:
            q = {"maxResults": 2}
            if tok:
                q["pageToken"] = tok
            j = self.ok(self.f.call("GET", base, query=q))
            got += [e["id"] for e in j["items"]]
            tok = j.get("nextPageToken")
            if not tok:
                sync = j["nextSyncToken"]
                break
            self.assertNotIn("nextSyncToken", j)
        self.assertEqual([e["id"] for e in evs], got)
        e0 = self.ok(self.f.call("GET", base + "/" + evs[0]["id"]))
        self.assertEqual("E0", e0["summary"])
        p = self.ok(self.f.call("PATCH", base + "/" + evs[0]["id"], {"location": "Room 1"}))
        self.assertEqual(("E0", "Room 1"), (p["summary"], p["location"]))
        full = dict(p)
        full["summary"] = "E0 renamed"
        full.pop("location")
        u = self.ok(self.f.call("PUT", base + "/" + evs[0]["id"], full))
        self.assertNotIn("location", u)
        st, _, e = self.f.call("PUT", base + "/" + evs[0]["id"], full, headers={"If-Match": p["etag"]})
        self.assertEqual(412, st)
        self.assertEqual(204, self.f.call("DELETE", base + "/" + evs[1]["id"])[0])
        self.assertEqual(410, self.f.call("DELETE", base + "/" + evs[1]["id"])[0])
        j = self.ok(self.f.call("GET", base, query={"syncToken": sync}))
        by = {e["id"]: e for e in j["items"]}
        self.assertEqual({evs[0]["id"], evs[1]["id"]}, set(by))
        self.assertEqual("cancelled", by[evs[1]["id"]]["status"])
        j2 = self.ok(self.f.call("GET", base))
        self.assertNotIn(evs[1]["id"], [e["id"] for e in j2["items"]])
        j3 = self.ok(self.f.call("GET", base, query={"showDeleted": "true"}))
        self.assertIn(evs[1]["id"], [e["id"] for e in j3["items"]])
        st, _, e = self.f.call("GET", base, query={"syncToken": "bogus"})
        self.assertEqual((410, "fullSyncRequired"), (st, e["error"]["errors"][0]["reason"]))
        self.f.faults(expire_sync_tokens=True)
        st, _, e = self.f.call("GET", base, query={"syncToken": j["nextSyncToken"]})
        self.assertEqual(410, st)
        st, _, e = self.f.call("GET", base, query={"syncToken": sync, "timeMin": "2024-01-01T00:00:00Z"})
        self.refused(st, e)
        self.ok(self.f.call("GET", base, query={"maxResults": 2501}))
        self.assertTrue(self.f.violations())
        st, _, e = self.f.call("GET", base, query={"maxResults": 0})
        self.refused(st, e)

    def test_recurring_import(self):
        cid = self.ok(self.f.call("POST", "/calendar/v3/calendars", {"summary": "Rec"}))["id"]
        base = "/calendar/v3/calendars/%s/events" % cid
        master = {"iCalUID": "weekly-1@ferry.test", "summary": "Standup",
                  "start": {"dateTime": "2024-01-01T09:00:00+01:00", "timeZone": "Europe/Berlin"},
                  "end": {"dateTime": "2024-01-01T09:15:00+01:00", "timeZone": "Europe/Berlin"},
                  "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=5",
                                 "EXDATE;TZID=Europe/Berlin:20240115T090000"],
                  "organizer": {"email": "boss@example.org", "displayName": "Boss"}}
        m = self.ok(self.f.call("POST", base + "/import", master))
        self.assertEqual("boss@example.org", m["organizer"]["email"])
        ex = {"iCalUID": "weekly-1@ferry.test", "summary": "Standup (moved)",
              "originalStartTime": {"dateTime": "2024-01-08T09:00:00+01:00", "timeZone": "Europe/Berlin"},
              "start": {"dateTime": "2024-01-08T10:00:00+01:00", "timeZone": "Europe/Berlin"},
              "end": {"dateTime": "2024-01-08T10:15:00+01:00", "timeZone": "Europe/Berlin"}}
        x = self.ok(self.f.call("POST", base + "/import", ex))
        self.assertEqual(m["id"], x["recurringEventId"])
        self.assertEqual(m["id"] + "_20240108T080000Z", x["id"])
        # importing the same iCalUID again: 409 duplicate by default (see README)
        master2 = dict(master, summary="Daily standup")
        st, _, e = self.f.call("POST", base + "/import", master2)
        self.assertEqual((409, "duplicate"), (st, e["error"]["errors"][0]["reason"]))
        j = self.ok(self.f.call("GET", base))
        self.assertEqual(2, len(j["items"]))
        self.assertEqual(master["recurrence"], j["items"][0]["recurrence"])
        j = self.ok(self.f.call("GET", base, query={"singleEvents": "true", "orderBy": "startTime"}))
        self.assertEqual(4, len(j["items"]))  # 5 weekly - 1 EXDATE
        self.assertEqual("Standup (moved)", j["items"][1]["summary"])
        self.assertTrue(all(e["recurringEventId"] == m["id"] for e in j["items"]))
        self.assertEqual(m["id"] + "_20240122T080000Z", j["items"][2]["id"])
        inst = self.ok(self.f.call("GET", base + "/" + j["items"][2]["id"]))
        self.assertEqual(m["id"], inst["recurringEventId"])
        # incremental sync with singleEvents=true hands out the changed series' instances
        sync = self.ok(self.f.call("GET", base, query={"singleEvents": "true"}))["nextSyncToken"]
        self.ok(self.f.call("PATCH", base + "/" + m["id"], {"summary": "Renamed"}))
        j = self.ok(self.f.call("GET", base, query={"singleEvents": "true", "syncToken": sync}))
        self.assertEqual(4, len(j["items"]))
        self.assertEqual(3, sum(1 for e in j["items"] if e["summary"] == "Renamed"))
        st, _, e = self.f.call("GET", base, query={"orderBy": "startTime"})
        self.refused(st, e)

    def test_import_existing_update_mode(self):
        f = Fake("--import-existing", "update")
        try:
            base = "/calendar/v3/calendars/primary/events"
            body = {"iCalUID": "same@ferry.test", "summary": "v1", "start": {"date": "2024-02-01"},
                    "end": {"date": "2024-02-02"}}
            a = self.ok(f.call("POST", base + "/import", body))
            b = self.ok(f.call("POST", base + "/import", dict(body, summary="v2")))
            self.assertEqual(a["id"], b["id"])
            items = self.ok(f.call("GET", base, query={"iCalUID": "same@ferry.test"}))["items"]
            self.assertEqual(["v2"], [e["summary"] for e in items])
        finally:
            f.stop()

    def test_event_checking(self):
        cid = "primary"
        base = "/calendar/v3/calendars/primary/events"
        st, _, e = self.f.call("POST", base, {"start": {"dateTime": "2024-01-02T10:00:00Z"},
                                              "end": {"dateTime": "2024-01-01T10:00:00Z"}})
        self.refused(st, e)
        self.assertEqual("timeRangeEmpty", e["error"]["errors"][0]["reason"])
        st, _, e = self.f.call("POST", base, {"start": {"dateTime": "2024-01-02T10:00:00Z"},
                                              "end": {"dateTime": "2024-01-02T11:00:00Z"},
                                              "recurrence": ["RRULE:FREQ=DAILY"]})
        self.refused(st, e)
        st, _, e = self.f.call("POST", base + "/import", {"start": {"date": "2024-01-02"},
                                                         "end": {"date": "2024-01-03"}})
        self.refused(st, e)
        st, _, e = self.f.call("POST", base, {"start": {"date": "2024-01-02"}, "end": {"date": "2024-01-03"},
                                              "reminders": {"useDefault": True,
                                                            "overrides": [{"method": "popup", "minutes": 1}]}})
        self.refused(st, e)
        st, _, e = self.f.call("POST", base, {"start": {"date": "2024-01-02"}, "end": {"date": "2024-01-03"},
                                              "colour": "red"})
        self.refused(st, e)
        conf = {"conferenceId": "abc", "conferenceSolution": {"key": {"type": "hangoutsMeet"}}}
        j = self.ok(self.f.call("POST", base, {"start": {"date": "2024-01-02"}, "end": {"date": "2024-01-03"},
                                               "conferenceData": conf,
                                               "attachments": [{"fileUrl": "https://drive.google.com/x"}]}))
        self.assertNotIn("conferenceData", j)  # conferenceDataVersion defaults to 0
        self.assertNotIn("attachments", j)     # supportsAttachments defaults to false
        j = self.ok(self.f.call("POST", base, {"start": {"date": "2024-01-02"}, "end": {"date": "2024-01-03"},
                                               "conferenceData": conf,
                                               "attachments": [{"fileUrl": "https://drive.google.com/x"}]},
                                query={"conferenceDataVersion": 1, "supportsAttachments": "true"}))
        self.assertEqual(conf, j["conferenceData"])
        self.assertEqual(1, len(j["attachments"]))
        st, _, e = self.f.call("POST", base, {"id": "abcde12345", "start": {"date": "2024-01-02"},
                                              "end": {"date": "2024-01-03"}})
        self.assertEqual(200, st)
        st, _, e = self.f.call("POST", base, {"id": "abcde12345", "start": {"date": "2024-01-02"},
                                              "end": {"date": "2024-01-03"}})
        self.assertEqual((409, "duplicate"), (st, e["error"]["errors"][0]["reason"]))
        self.assertEqual(404, self.f.call("GET", "/calendar/v3/calendars/nope/events")[0])
        del cid


class TasksTest(Base):
    def test_lists_and_tasks(self):
        lists = self.ok(self.f.call("GET", "/tasks/v1/users/@me/lists"))
        self.assertEqual("My Tasks", lists["items"][0]["title"])
        tl = self.ok(self.f.call("POST", "/tasks/v1/users/@me/lists", {"title": "Ferry"}))
        base = "/tasks/v1/lists/%s/tasks" % tl["id"]
        a = self.ok(self.f.call("POST", base, {"title": "A", "due": "2024-05-05T15:30:00-07:00",
                                               "notes": "n"}))
        self.assertEqual("2024-05-05T00:00:00.000Z", a["due"])  # time part discarded
        b = self.ok(self.f.call("POST", base, {"title": "B"}, query={"previous": a["id"]}))
        c = self.ok(self.f.call("POST", base, {"title": "A.1"}, query={"parent": a["id"]}))
        z = self.ok(self.f.call("POST", base, {"title": "Z"}))  # no previous: first position
        self.assertEqual(a["id"], c["parent"])
        order = [t["title"] for t in self.ok(self.f.call("GET", base))["items"]]
        self.assertEqual(["Z", "A", "A.1", "B"], order)
        self.assertLess(z["position"], a["position"])
        done = self.ok(self.f.call("PATCH", base + "/" + b["id"], {"status": "completed"}))
        self.assertIn("completed", done)
        self.assertEqual("B", done["title"])
        titles = [t["title"] for t in self.ok(self.f.call("GET", base, query={"showCompleted": "false"}))["items"]]
        self.assertNotIn("B", titles)
        put = self.ok(self.f.call("PUT", base + "/" + b["id"], {"id": b["id"], "title": "B2",
                                                                "status": "needsAction"}))
        self.assertNotIn("completed", put)
        self.assertEqual(204, self.f.call("DELETE", base + "/" + z["id"])[0])
        items = self.ok(self.f.call("GET", base))["items"]
        self.assertNotIn(z["id"], [t["id"] for t in items])
        items = self.ok(self.f.call("GET", base, query={"showDeleted": "true"}))["items"]
        self.assertTrue([t for t in items if t["id"] == z["id"]][0]["deleted"])
        pages, tok = 0, None
        while True:
            q = {"maxResults": 1}
            if tok:
                q["pageToken"] = tok
            j = self.ok(self.f.call("GET", base, query=q))
            pages += 1
            tok = j.get("nextPageToken")
            if not tok:
                break
        self.assertEqual(3, pages)
        st, _, e = self.f.call("GET", base, query={"maxResults": 101})
        self.refused(st, e)
        self.assertEqual("invalidParameter", e["error"]["errors"][0]["reason"])
        st, _, e = self.f.call("POST", base, {"title": "x" * 1025})
        self.refused(st, e)
        st, _, e = self.f.call("POST", base, {"title": "x", "status": "done"})
        self.refused(st, e)
        st, _, e = self.f.call("POST", base, {"title": "x"}, query={"previous": c["id"]})
        self.refused(st, e)
        self.assertEqual(404, self.f.call("GET", "/tasks/v1/lists/nope/tasks")[0])

    def test_move_and_clear(self):
        tl = self.ok(self.f.call("POST", "/tasks/v1/users/@me/lists", {"title": "Moves"}))
        base = "/tasks/v1/lists/%s/tasks" % tl["id"]
        a = self.ok(self.f.call("POST", base, {"title": "A"}))
        b = self.ok(self.f.call("POST", base, {"title": "B"}, query={"previous": a["id"]}))
        m = self.ok(self.f.call("POST", base + "/%s/move" % b["id"], query={"parent": a["id"]}))
        self.assertEqual(a["id"], m["parent"])
        m = self.ok(self.f.call("POST", base + "/%s/move" % b["id"]))
        self.assertNotIn("parent", m)
        self.assertEqual(["B", "A"], [t["title"] for t in self.ok(self.f.call("GET", base))["items"]])
        self.ok(self.f.call("PATCH", base + "/" + a["id"], {"status": "completed"}))
        self.assertEqual(204, self.f.call("POST", "/tasks/v1/lists/%s/clear" % tl["id"])[0])
        self.assertEqual(["B"], [t["title"] for t in self.ok(self.f.call("GET", base))["items"]])
        hidden = self.ok(self.f.call("GET", base, query={"showHidden": "true"}))["items"]
        self.assertTrue([t for t in hidden if t["id"] == a["id"]][0]["hidden"])
        st, _, e = self.f.call("POST", base + "/%s/move" % b["id"], query={"parent": a["id"]})
        self.refused(st, e)

    def test_seed_hidden_and_state(self):
        st, _, j = self.f.raw("POST", "/_fake/seed", json.dumps({
            "user": "dave", "tasklists": [{"title": "Seeded", "tasks": [
                {"title": "open"}, {"title": "old", "status": "completed", "hidden": True},
                {"title": "sub", "parent": 0}]}],
            "contacts": [{"names": [{"givenName": "Seedy"}]}],
            "calendars": [{"summary": "SeedCal", "events": [{"iCalUID": "s1@x", "start": {"date": "2024-01-01"},
                                                              "end": {"date": "2024-01-02"}}]}]}),
            {"Content-Type": "application/json"})
        self.assertEqual(200, st, j)
        lid = j["tasklists"][0]
        base = "/tasks/v1/lists/%s/tasks" % lid
        titles = [t["title"] for t in self.ok(self.f.call("GET", base, user="dave"))["items"]]
        self.assertEqual(["open", "sub"], titles)
        titles = [t["title"] for t in self.ok(self.f.call("GET", base, user="dave",
                                                          query={"showHidden": "true"}))["items"]]
        self.assertEqual(["open", "sub", "old"], titles)
        ev = self.ok(self.f.call("GET", "/calendar/v3/calendars/%s/events" % j["calendars"][0], user="dave"))
        self.assertEqual("s1@x", ev["items"][0]["iCalUID"])
        # users are isolated
        alice = self.ok(self.f.call("GET", "/v1/people/me/connections", query={"personFields": "names"}))
        self.assertNotIn("Seedy", json.dumps(alice))
        state = self.f.raw("GET", "/_fake/state")[2]
        self.assertIn("dave", state["users"])
        reqs = self.f.raw("GET", "/_fake/requests")[2]["requests"]
        self.assertGreaterEqual(reqs["GET /tasks/v1/lists/{tasklist}/tasks"], 2)


class FaultTest(Base):
    def test_rate_limit_429_with_retry_after(self):
        self.f.faults(rate_limit_after=1, status=429, retry_after=7, times=2)
        self.ok(self.f.call("GET", "/v1/contactGroups"))
        for _ in range(2):
            st, h, e = self.f.call("GET", "/v1/contactGroups")
            self.assertEqual(429, st)
            self.assertEqual("7", h.get("Retry-After"))
            self.assertEqual("RESOURCE_EXHAUSTED", e["error"]["status"])
        self.ok(self.f.call("GET", "/v1/contactGroups"))

    def test_rate_limit_403_without_retry_after(self):
        self.f.faults(rate_limit_after=0, status=403, retry_after=None, times=1, reason="userRateLimitExceeded")
        st, h, e = self.f.call("GET", "/calendar/v3/users/me/calendarList")
        self.assertEqual(403, st)
        self.assertNotIn("Retry-After", h)
        self.assertEqual(("usageLimits", "userRateLimitExceeded"),
                         (e["error"]["errors"][0]["domain"], e["error"]["errors"][0]["reason"]))
        self.ok(self.f.call("GET", "/calendar/v3/users/me/calendarList"))

    def test_short_pages(self):
        tl = self.ok(self.f.call("POST", "/tasks/v1/users/@me/lists", {"title": "Short"}))
        base = "/tasks/v1/lists/%s/tasks" % tl["id"]
        made = [self.ok(self.f.call("POST", base, {"title": "T%d" % i}))["id"] for i in range(3)]
        self.f.faults(short_pages=True)
        seen, tok, pages, empty = [], None, 0, 0
        while True:
            q = {"maxResults": 100}
            if tok:
                q["pageToken"] = tok
            j = self.ok(self.f.call("GET", base, query=q))
            pages += 1
            empty += not j["items"]
            seen += [t["id"] for t in j["items"]]
            tok = j.get("nextPageToken")
            if not tok:
                break
        self.f.raw("DELETE", "/_fake/faults")
        self.assertEqual(sorted(made), sorted(seen))
        self.assertGreater(empty, 0)
        self.assertGreater(pages, 3)

    def test_server_error(self):
        self.f.faults(server_error=503, times=1)
        st, _, e = self.f.call("GET", "/tasks/v1/users/@me/lists")
        self.assertEqual((503, "backendError"), (st, e["error"]["errors"][0]["reason"]))
        self.ok(self.f.call("GET", "/tasks/v1/users/@me/lists"))

    def test_qpm(self):
        f = Fake("--qpm", "3")
        try:
            for _ in range(3):
                self.ok(f.call("GET", "/v1/contactGroups"))
            st, _, e = f.call("GET", "/v1/contactGroups")
            self.assertEqual((429, "RESOURCE_EXHAUSTED"), (st, e["error"]["status"]))
            st, _, e = f.call("GET", "/calendar/v3/users/me/calendarList")
            self.assertEqual((403, "userRateLimitExceeded"), (st, e["error"]["errors"][0]["reason"]))
            self.ok(f.call("GET", "/v1/contactGroups", user="dave"))  # per user
        finally:
            f.stop()


class RobustnessTest(Base):
    def test_malformed_and_wrong_content_type(self):
        tok = self.f.call("GET", "/v1/contactGroups")  # make sure a token exists
        self.assertEqual(200, tok[0])
        h = {"Authorization": "Bearer " + self.f.tokens["alice"], "Content-Type": "application/json"}
        st, _, e = self.f.raw("POST", "/tasks/v1/users/@me/lists", "{not json", h)
        self.refused(st, e)
        h["Content-Type"] = "text/plain"
        st, _, e = self.f.raw("POST", "/tasks/v1/users/@me/lists", '{"title": "x"}', h)
        self.refused(st, e)
        st, _, e = self.f.call("GET", "/v1/nothing/here")
        self.refused(st, e, 404)
        h["Content-Type"] = "application/json"
        st, _, e = self.f.raw("POST", "/tasks/v1/users/@me/lists", "[" * 50000 + "]" * 50000, h)
        self.refused(st, e)
        st, _, e = self.f.raw("GET", "/tasks/v1/users/@me/lists", '{"a": 1}', h)
        self.refused(st, e)

    def test_huge_body_and_garbage(self):
        s = socket.create_connection(("127.0.0.1", self.f.port), timeout=5)
        s.sendall(b"POST /v1/people:createContact HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 999999999\r\n\r\n{")
        data = s.recv(4096)
        s.close()
        self.assertIn(b" 413 ", data.split(b"\r\n")[0] + b" ")
        s = socket.create_connection(("127.0.0.1", self.f.port), timeout=5)
        s.sendall(b"\x00\xff garbage\r\n\r\n")
        s.recv(4096)
        s.close()
        self.expect_violations = True
        self.ok(self.f.call("GET", "/v1/contactGroups"))

    def test_keep_alive(self):
        self.f.call("GET", "/v1/contactGroups")
        c = http.client.HTTPConnection("127.0.0.1", self.f.port, timeout=5)
        for _ in range(3):
            c.request("GET", "/v1/contactGroups", headers={"Authorization": "Bearer " + self.f.tokens["alice"]})
            r = c.getresponse()
            self.assertEqual(200, r.status)
            self.assertIsNotNone(r.getheader("Content-Length"))
            r.read()
        c.close()

    def test_state_file(self):
        path = os.path.join(tempfile.mkdtemp(), "state.json")
        f = Fake("--state", path)
        try:
            self.ok(f.call("POST", "/tasks/v1/users/@me/lists", {"title": "Persisted"}))
        finally:
            f.stop()
        f = Fake("--state", path)
        try:
            titles = [x["title"] for x in self.ok(f.call("GET", "/tasks/v1/users/@me/lists"))["items"]]
            self.assertIn("Persisted", titles)
        finally:
            f.stop()



# ---- Gmail, Drive, Photos -----------------------------------------------------------------------

GM = "/gmail/v1/users/me"
GU = "/upload/gmail/v1/users/me/messages/import"
DR = "/drive/v3"
DU = "/upload/drive/v3/files"
CHUNK = 256 * 1024


def mime(subject, body="Hello there", msgid=None, date="Tue, 02 Jan 2024 10:00:00 +0000", extra=""):
    msgid = msgid or "<%s@ferry.test>" % subject.replace(" ", "-").replace(":", "")
    return ("From: Ada <ada@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: %s\r\nDate: %s\r\n"
            "Message-ID: %s\r\n%sMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
            % (subject, date, msgid, extra, body)).encode()


def b64u(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def related(meta, media, media_type, boundary=b"ferry-b0undary", close=True):
    body = (b"--" + boundary + b"\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" +
            json.dumps(meta).encode() + b"\r\n--" + boundary + b"\r\nContent-Type: " + media_type +
            b"\r\n\r\n" + media + b"\r\n--" + boundary + (b"--\r\n" if close else b""))
    return body, "multipart/related; boundary=" + boundary.decode()


def session_path(headers):
    u = urllib.parse.urlsplit(headers["Location"])
    return u.path + "?" + u.query


class GmailTest(Base):
    def imp(self, f, raw, labels=(), user="mia", **query):
        return self.ok(f.call("POST", GM + "/messages/import", {"raw": b64u(raw), "labelIds": list(labels)},
                              user=user, query=query or None))

    def test_labels(self):
        labels = self.ok(self.f.call("GET", GM + "/labels", user="mia"))["labels"]
        ids = {x["id"]: x for x in labels}
        for lid in ("INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT",
                    "CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES",
                    "CATEGORY_FORUMS"):
            self.assertEqual("system", ids[lid]["type"])
        lab = self.ok(self.f.call("POST", GM + "/labels", {"name": "Ferry/Imported", "labelListVisibility":
                                                           "labelShow", "messageListVisibility": "show"}, user="mia"))
        self.assertTrue(lab["id"].startswith("Label_"))
        self.assertEqual(("user", "Ferry/Imported"), (lab["type"], lab["name"]))
        st, _, e = self.f.call("POST", GM + "/labels", {"name": "ferry/imported"}, user="mia")
        self.assertEqual((409, "aborted"), (st, e["error"]["errors"][0]["reason"]))
        self.assertEqual([], self.f.violations())  # a duplicate is not a client bug
        got = self.ok(self.f.call("GET", GM + "/labels/" + lab["id"], user="mia"))
        self.assertEqual(0, got["messagesTotal"])
        self.assertEqual(404, self.f.call("GET", GM + "/labels/Label_999", user="mia")[0])
        for bad_name in ("INBOX", "Inbox", "", " padded", "a//b", "CATEGORY_X"):
            st, _, e = self.f.call("POST", GM + "/labels", {"name": bad_name}, user="mia")
            self.refused(st, e)
        st, _, e = self.f.call("POST", GM + "/labels", {"name": "x", "colour": "red"}, user="mia")
        self.refused(st, e)
        st, _, e = self.f.call("POST", GM + "/labels", {"name": "y", "labelListVisibility": "sometimes"},
                               user="mia")
        self.refused(st, e)

    def test_import_forms_round_trip(self):
        f = Fake()
        try:
            raw1 = mime("First")
            j = self.imp(f, raw1, ["INBOX", "UNREAD"])
            self.assertEqual({"id", "threadId", "labelIds"}, set(j))
            self.assertEqual(j["id"], j["threadId"])
            g = self.ok(f.call("GET", GM + "/messages/" + j["id"], user="mia", query={"format": "raw"}))
            self.assertEqual(raw1, unb64u(g["raw"]))  # byte for byte
            self.assertEqual("1704189600000", g["internalDate"])  # import defaults to dateHeader
            self.assertEqual(len(raw1), g["sizeEstimate"])
            self.assertEqual(["INBOX", "UNREAD"], g["labelIds"])
            self.assertEqual("Hello there", g["snippet"])
            self.assertTrue(g["historyId"].isdigit())
            # receivedTime: the time of the import, not the Date header
            j2 = self.imp(f, mime("Second"), internalDateSource="receivedTime")
            g2 = self.ok(f.call("GET", GM + "/messages/" + j2["id"], user="mia", query={"format": "minimal"}))
            self.assertGreater(int(g2["internalDate"]), int(time.time() * 1000) - 60000)
            self.assertNotIn("payload", g2)
            self.assertNotIn("raw", g2)
            # simple upload (message/rfc822 body)
            raw3 = mime("Third", body="caf\u00e9".encode().decode("latin-1"))
            st, _, b = f.send("POST", GU, raw3, {"Content-Type": "message/rfc822"}, user="mia",
                              query={"uploadType": "media"})
            self.assertEqual(200, st, b)
            id3 = json.loads(b)["id"]
            # multipart upload (metadata + message)
            raw4 = mime("Fourth")
            body, ct = related({"labelIds": ["INBOX", "STARRED"]}, raw4, b"message/rfc822")
            st, _, b = f.send("POST", GU, body, {"Content-Type": ct}, user="mia", query={"uploadType": "multipart"})
            self.assertEqual(200, st, b)
            self.assertEqual(["INBOX", "STARRED"], json.loads(b)["labelIds"])
            # resumable upload: session URI, then the bytes
            raw5 = mime("Fifth")
            st, h, b = f.send("POST", GU, json.dumps({"labelIds": ["INBOX"]}).encode(),
                              {"Content-Type": "application/json; charset=UTF-8",
                               "X-Upload-Content-Type": "message/rfc822", "X-Upload-Content-Length": str(len(raw5))},
                              user="mia", query={"uploadType": "resumable"})
            self.assertEqual((200, b""), (st, b))
            st, _, b = f.send("PUT", session_path(h), raw5, {"Content-Type": "message/rfc822"}, auth=False)
            self.assertEqual(200, st, b)
            id5 = json.loads(b)["id"]
            for mid, raw in ((id3, raw3), (id5, raw5)):
                g = self.ok(f.call("GET", GM + "/messages/" + mid, user="mia", query={"format": "raw"}))
                self.assertEqual(raw, unb64u(g["raw"]))
            # Gmail does not deduplicate by Message-ID: the same message twice is two messages
            again = self.imp(f, raw1, ["INBOX"])
            self.assertNotEqual(j["id"], again["id"])
            hits = self.ok(f.call("GET", GM + "/messages", user="mia",
                                  query={"q": "rfc822msgid:<First@ferry.test>"}))
            self.assertEqual(2, hits["resultSizeEstimate"])
            # threading: a reply (In-Reply-To + same subject) joins the thread; another subject does not
            reply = self.imp(f, mime("Re: First", msgid="<r1@ferry.test>", extra="In-Reply-To: <First@ferry.test>\r\n"))
            self.assertIn(reply["threadId"], (j["id"], again["id"]))
            other = self.imp(f, mime("Other", msgid="<r2@ferry.test>", extra="In-Reply-To: <First@ferry.test>\r\n"))
            self.assertEqual(other["id"], other["threadId"])
            # format=full parses MIME; format=metadata filters headers
            full = self.ok(f.call("GET", GM + "/messages/" + j["id"], user="mia"))
            self.assertEqual("text/plain", full["payload"]["mimeType"])
            self.assertIn({"name": "Subject", "value": "First"}, full["payload"]["headers"])
            self.assertEqual(b"Hello there\r\n", unb64u(full["payload"]["body"]["data"]))
            meta = self.ok(f.call("GET", GM + "/messages/" + j["id"], user="mia",
                                  query={"format": "metadata", "metadataHeaders": ["Subject", "From"]}))
            self.assertEqual({"Subject", "From"}, {x["name"] for x in meta["payload"]["headers"]})
            prof = self.ok(f.call("GET", GM + "/profile", user="mia"))
            self.assertEqual(("mia@example.com", 8), (prof["emailAddress"], prof["messagesTotal"]))
            self.assertEqual(7, prof["threadsTotal"])
            self.assertEqual([], f.violations())
        finally:
            f.stop()

    def test_multipart_message_and_attachment(self):
        raw = (b"From: a@example.org\r\nSubject: Att\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nSee file\r\n"
               b"--XX\r\nContent-Type: application/octet-stream\r\n"
               b"Content-Disposition: attachment; filename=\"a.bin\"\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--XX--\r\n")
        j = self.imp(self.f, raw)
        full = self.ok(self.f.call("GET", GM + "/messages/" + j["id"], user="mia"))
        parts = full["payload"]["parts"]
        self.assertEqual(["0", "1"], [p["partId"] for p in parts])
        self.assertEqual("a.bin", parts[1]["filename"])
        aid = parts[1]["body"]["attachmentId"]
        att = self.ok(self.f.call("GET", GM + "/messages/%s/attachments/%s" % (j["id"], aid), user="mia"))
        self.assertEqual((4, b"\x00\x01\x02\x03"), (att["size"], unb64u(att["data"])))

    def test_list_pagination_and_filters(self):
        f = Fake()
        try:
            made = []
            for i, labels in enumerate((["INBOX"], ["INBOX", "UNREAD"], ["INBOX"], ["SPAM"], ["TRASH"])):
                made.append(self.imp(f, mime("M%d" % i, date="Tue, %02d Jan 2024 10:00:00 +0000" % (i + 1)),
                                     labels)["id"])
            seen, tok, pages = [], None, 0
            while True:
                q = {"maxResults": 2}
                if tok:
                    q["pageToken"] = tok
                j = self.ok(f.call("GET", GM + "/messages", user="mia", query=q))
                pages += 1
                self.assertEqual(3, j["resultSizeEstimate"])
                seen += [m["id"] for m in j.get("messages", [])]
                self.assertTrue(all(set(m) == {"id", "threadId"} for m in j.get("messages", [])))
                tok = j.get("nextPageToken")
                if not tok:
                    break
            self.assertEqual(2, pages)
            self.assertEqual([made[2], made[1], made[0]], seen)  # newest first, no spam/trash
            j = self.ok(f.call("GET", GM + "/messages", user="mia", query={"includeSpamTrash": "true"}))
            self.assertEqual(5, len(j["messages"]))
            j = self.ok(f.call("GET", GM + "/messages", user="mia", query={"labelIds": ["INBOX", "UNREAD"]}))
            self.assertEqual([made[1]], [m["id"] for m in j["messages"]])
            j = self.ok(f.call("GET", GM + "/messages", user="mia", query={"q": "in:anywhere"}))
            self.assertEqual(5, j["resultSizeEstimate"])
            j = self.ok(f.call("GET", GM + "/messages", user="mia", query={"q": "after:2024/01/02 -is:unread"}))
            self.assertEqual([made[2]], [m["id"] for m in j["messages"]])
            j = self.ok(f.call("GET", GM + "/messages", user="mia", query={"q": "before:2024/01/02 subject:m0"}))
            self.assertEqual([made[0]], [m["id"] for m in j["messages"]])
            j = self.ok(f.call("GET", GM + "/messages", user="mia", query={"labelIds": "STARRED"}))
            self.assertEqual({"resultSizeEstimate": 0}, j)
            self.assertEqual([], f.violations())
            # maxResults above 500 is capped (and recorded), below 1 refused
            self.ok(f.call("GET", GM + "/messages", user="mia", query={"maxResults": 501}))
            self.assertIn("maxResults=501", f.violations()[0]["message"])
            f.clear_violations()
            st, _, e = f.call("GET", GM + "/messages", user="mia", query={"maxResults": 0})
            self.assertEqual(400, st)
            j = self.ok(f.call("GET", GM + "/messages", user="mia", query={"maxResults": 1}))
            st, _, e = f.call("GET", GM + "/messages", user="mia",
                              query={"maxResults": 1, "labelIds": "INBOX", "pageToken": j["nextPageToken"]})
            self.assertEqual(400, st)  # the other parameters must match the first call
            st, _, e = f.call("GET", GM + "/messages", user="mia", query={"labelIds": "Label_404"})
            self.assertEqual(400, st)
            self.assertEqual(3, len(f.violations()))
        finally:
            f.stop()

    def test_history_sync_expiry_and_fallback(self):
        f = Fake("--history-keep", "4")
        try:
            h0 = self.ok(f.call("GET", GM + "/profile", user="mia"))["historyId"]
            m1 = self.imp(f, mime("H1"), ["INBOX", "UNREAD"])["id"]
            j = self.ok(f.call("GET", GM + "/history", user="mia", query={"startHistoryId": h0}))
            self.assertEqual(1, len(j["history"]))
            rec = j["history"][0]
            self.assertEqual(m1, rec["messagesAdded"][0]["message"]["id"])
            self.assertEqual(["INBOX", "UNREAD"], rec["messagesAdded"][0]["message"]["labelIds"])
            self.assertEqual([{"id": m1, "threadId": m1}], rec["messages"])
            self.assertEqual(j["historyId"], self.ok(f.call("GET", GM + "/profile", user="mia"))["historyId"])
            self.assertGreater(int(rec["id"]), int(h0))
            mod = self.ok(f.call("POST", GM + "/messages/%s/modify" % m1,
                                 {"addLabelIds": ["STARRED"], "removeLabelIds": ["UNREAD"]}, user="mia"))
            self.assertEqual(["INBOX", "STARRED"], mod["labelIds"])
            self.ok(f.call("POST", GM + "/messages/%s/trash" % m1, user="mia"))
            j = self.ok(f.call("GET", GM + "/history", user="mia", query={"startHistoryId": h0}))
            self.assertEqual(3, len(j["history"]))
            self.assertEqual(["STARRED"], j["history"][1]["labelsAdded"][0]["labelIds"])
            self.assertEqual(["UNREAD"], j["history"][1]["labelsRemoved"][0]["labelIds"])
            self.assertEqual(["TRASH"], j["history"][2]["labelsAdded"][0]["labelIds"])
            only = self.ok(f.call("GET", GM + "/history", user="mia",
                                  query={"startHistoryId": h0, "historyTypes": "labelRemoved"}))
            self.assertEqual(1, len(only["history"]))
            self.assertEqual({"id", "messages", "labelsRemoved"}, set(only["history"][0]))
            by_label = self.ok(f.call("GET", GM + "/history", user="mia",
                                      query={"startHistoryId": h0, "labelId": "TRASH"}))
            self.assertEqual(1, len(by_label["history"]))
            self.assertEqual(204, f.call("DELETE", GM + "/messages/" + m1, user="mia")[0])
            self.assertEqual(404, f.call("GET", GM + "/messages/" + m1, user="mia")[0])
            # paging through the records one at a time
            recs, tok = [], None
            while True:
                q = {"startHistoryId": h0, "maxResults": 1}
                if tok:
                    q["pageToken"] = tok
                j = self.ok(f.call("GET", GM + "/history", user="mia", query=q))
                recs += j.get("history", [])
                tok = j.get("nextPageToken")
                if not tok:
                    break
            self.assertEqual(4, len(recs))
            self.assertEqual(m1, recs[3]["messagesDeleted"][0]["message"]["id"])
            ids = [int(r["id"]) for r in recs]
            self.assertEqual(sorted(ids), ids)
            latest = j["historyId"]
            empty = self.ok(f.call("GET", GM + "/history", user="mia", query={"startHistoryId": latest}))
            self.assertEqual({"historyId": latest}, empty)
            # one more change than --history-keep: the oldest start point is gone -> 404, full sync
            self.imp(f, mime("H2"), ["INBOX"])
            st, _, e = f.call("GET", GM + "/history", user="mia", query={"startHistoryId": h0})
            self.assertEqual((404, "notFound"), (st, e["error"]["errors"][0]["reason"]))
            self.assertEqual([], f.violations())  # an expired start point is not a client bug
            listing = self.ok(f.call("GET", GM + "/messages", user="mia"))
            self.assertEqual(1, listing["resultSizeEstimate"])
            fresh = self.ok(f.call("GET", GM + "/profile", user="mia"))["historyId"]
            self.ok(f.call("GET", GM + "/history", user="mia", query={"startHistoryId": fresh}))
            self.ok(f.call("GET", GM + "/history", user="mia", query={"startHistoryId": latest}))
            f.faults(expire_sync_tokens=True)
            st, _, e = f.call("GET", GM + "/history", user="mia", query={"startHistoryId": latest})
            self.assertEqual(404, st)
            # the id current when the fault came is expired too (nothing changed since); a
            # new one is valid
            st, _, e = f.call("GET", GM + "/history", user="mia", query={"startHistoryId": fresh})
            self.assertEqual(404, st)
            after = self.ok(f.call("GET", GM + "/profile", user="mia"))["historyId"]
            self.assertGreater(int(after), int(fresh))
            self.assertEqual({"historyId": after},
                             self.ok(f.call("GET", GM + "/history", user="mia", query={"startHistoryId": after})))
            st, _, e = f.call("GET", GM + "/history", user="mia", query={"startHistoryId": str(10 ** 15)})
            self.assertEqual(404, st)
            st, _, e = f.call("GET", GM + "/history", user="mia")
            self.assertEqual(400, st)
            st, _, e = f.call("GET", GM + "/history", user="mia", query={"startHistoryId": "abc"})
            self.assertEqual(400, st)
            st, _, e = f.call("GET", GM + "/history", user="mia",
                              query={"startHistoryId": fresh, "historyTypes": "everything"})
            self.assertEqual(400, st)
            self.assertEqual(3, len(f.violations()))
        finally:
            f.stop()

    def test_scopes(self):
        seed = {"user": "gmeta", "gmail": {"messages": [{"text": mime("Seeded").decode(), "labelIds": ["INBOX"]}]}}
        st, _, j = self.f.raw("POST", "/_fake/seed", json.dumps(seed), {"Content-Type": "application/json"})
        self.assertEqual(200, st, j)
        mid = j["gmailMessages"][0]
        # gmail.metadata: ids, labels and headers only
        self.ok(self.f.call("GET", GM + "/messages", user="gmeta"))
        meta = self.ok(self.f.call("GET", GM + "/messages/" + mid, user="gmeta", query={"format": "metadata"}))
        self.assertIn("Subject", [h["name"] for h in meta["payload"]["headers"]])
        st, _, e = self.f.call("GET", GM + "/messages/" + mid, user="gmeta", query={"format": "raw"})
        self.refused(st, e, 403)
        st, _, e = self.f.call("GET", GM + "/messages", user="gmeta", query={"q": "is:unread"})
        self.refused(st, e, 403)
        self.f.clear_violations()
        self.expect_violations = False
        # readonly may read, not import or create labels; insert+labels may import, not read
        self.ok(self.f.call("GET", GM + "/profile", user="gro"))
        for user, method, path, body in (("gro", "POST", GM + "/messages/import", {"raw": b64u(mime("x"))}),
                                         ("gro", "POST", GM + "/labels", {"name": "nope"}),
                                         ("gins", "GET", GM + "/messages", None),
                                         ("gins", "GET", GM + "/history?startHistoryId=1", None),
                                         ("alice", "GET", GM + "/profile", None),
                                         ("gmeta", "DELETE", GM + "/messages/" + mid, None)):
            st, _, e = self.f.call(method, path, body, user=user)
            self.assertEqual(403, st, (user, path, e))
            self.assertEqual("insufficientPermissions", e["error"]["errors"][0]["reason"])
        self.ok(self.f.call("POST", GM + "/messages/import", {"raw": b64u(mime("ins"))}, user="gins"))
        self.ok(self.f.call("POST", GM + "/labels", {"name": "By insert app"}, user="gins"))
        st, _, e = self.f.call("GET", "/gmail/v1/users/someone@else.example/profile", user="mia")
        self.refused(st, e, 403)

    def test_malformed_and_limits(self):
        for body in ({"raw": "!!not base64!!"}, {"raw": "QQ="}, {"raw": ""}, {},
                     {"raw": b64u(mime("x")), "labelIds": ["Label_404"]},
                     {"raw": b64u(mime("x")), "labelIds": ["DRAFT"]},
                     {"raw": b64u(mime("x")), "surprise": True}):
            st, _, e = self.f.call("POST", GM + "/messages/import", body, user="mia")
            self.refused(st, e)
        # the standard base64 alphabet with padding is accepted too (JSON bytes fields take both)
        std = base64.b64encode(mime("std \xff?>".encode("latin-1").decode("latin-1"))).decode()
        self.ok(self.f.call("POST", GM + "/messages/import", {"raw": std}, user="mia"))
        raw = mime("upload")
        st, _, b = self.f.send("POST", GU, raw, {"Content-Type": "text/plain"}, user="mia",
                               query={"uploadType": "media"})
        self.assertEqual(400, st)
        st, _, b = self.f.send("POST", GU, raw, {"Content-Type": "message/rfc822"}, user="mia")
        self.assertEqual(400, st)  # no uploadType
        body, ct = related({"labelIds": ["INBOX"]}, raw, b"message/rfc822", close=False)
        st, _, b = self.f.send("POST", GU, body, {"Content-Type": ct}, user="mia", query={"uploadType": "multipart"})
        self.assertEqual(400, st, b)  # truncated: no closing boundary
        body, ct = related({"labelIds": ["INBOX"]}, raw, b"message/rfc822")
        st, _, b = self.f.send("POST", GU, body, {"Content-Type": "multipart/form-data; boundary=x"}, user="mia",
                               query={"uploadType": "multipart"})
        self.assertEqual(400, st)
        st, _, b = self.f.send("POST", GU, body[:40], {"Content-Type": ct}, user="mia",
                               query={"uploadType": "multipart"})
        self.assertEqual(400, st)
        body, ct = related({"labelIds": ["INBOX"], "raw": b64u(raw)}, raw, b"message/rfc822")
        st, _, b = self.f.send("POST", GU, body, {"Content-Type": ct}, user="mia", query={"uploadType": "multipart"})
        self.assertEqual(400, st)
        self.assertEqual(400, self.f.call("GET", GM + "/messages/not-an-id", user="mia")[0])
        self.assertEqual(404, self.f.call("GET", GM + "/messages/0123abcd", user="mia")[0])
        self.assertEqual(14, len(self.f.violations()))
        self.expect_violations = True

    def test_message_size_limit(self):
        f = Fake("--gmail-max-message", "2000")
        try:
            big = mime("big", body="x" * 3000)
            st, _, e = f.call("POST", GM + "/messages/import", {"raw": b64u(big)}, user="mia")
            self.assertEqual(413, st, e)
            st, _, b = f.send("POST", GU, big, {"Content-Type": "message/rfc822"}, user="mia",
                              query={"uploadType": "media"})
            self.assertEqual(413, st)
            st, h, b = f.send("POST", GU, b"", {"X-Upload-Content-Type": "message/rfc822",
                                                "X-Upload-Content-Length": "5000"}, user="mia",
                              query={"uploadType": "resumable"})
            self.assertEqual(413, st)
            # a huge Content-Length is refused before the body is read
            s = socket.create_connection(("127.0.0.1", f.port), timeout=5)
            s.sendall(("POST %s?uploadType=media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Content-Type: message/rfc822\r\nContent-Length: 999999999\r\n\r\nFrom:"
                       % (GU, f.access("mia"))).encode())
            self.assertIn(b" 413 ", s.recv(4096).split(b"\r\n")[0] + b" ")
            s.close()
            self.assertEqual(4, len(f.violations()))
            self.ok(f.call("POST", GM + "/messages/import", {"raw": b64u(mime("small"))}, user="mia"))
        finally:
            f.stop()

    def test_quota_units(self):
        f = Fake("--gmail-user-units", "12")
        try:
            self.ok(f.call("GET", GM + "/profile", user="mia"))        # 1
            self.ok(f.call("GET", GM + "/labels", user="mia"))         # 1
            self.ok(f.call("GET", GM + "/messages", user="mia"))       # 5
            self.ok(f.call("GET", GM + "/messages", user="mia"))       # 5 -> 12
            for path in ("/messages", "/profile"):
                st, h, e = f.call("GET", GM + path, user="mia")
                self.assertEqual(403, st)
                self.assertEqual(("usageLimits", "userRateLimitExceeded"),
                                 (e["error"]["errors"][0]["domain"], e["error"]["errors"][0]["reason"]))
            st, _, e = f.call("POST", GM + "/messages/import", {"raw": b64u(mime("q"))}, user="gro")
            self.assertEqual(403, st)  # 25 units > 12 (and readonly scope)
            self.ok(f.call("GET", GM + "/messages", user="gmeta"))     # per user
            f.faults(rate_limit_after=0, status=429, times=1)
            st, _, e = f.call("GET", GM + "/labels", user="gro")
            self.assertEqual((429, "rateLimitExceeded"), (st, e["error"]["errors"][0]["reason"]))
            self.assertEqual([], f.violations())
        finally:
            f.stop()



class DriveTest(Base):
    def mkdir(self, f, name, parent=None, user="dan"):
        body = {"name": name, "mimeType": "application/vnd.google-apps.folder"}
        if parent:
            body["parents"] = [parent]
        return self.ok(f.call("POST", DR + "/files", body, user=user))

    def put(self, f, name, data, parent=None, mime_type=b"text/plain", user="dan", fields=None, **meta):
        meta["name"] = name
        if parent:
            meta["parents"] = [parent]
        body, ct = related(meta, data, mime_type)
        q = {"uploadType": "multipart"}
        if fields:
            q["fields"] = fields
        st, _, b = f.send("POST", DU, body, {"Content-Type": ct}, user=user, query=q)
        self.assertEqual(200, st, b)
        return json.loads(b)

    def test_folders_list_query_fields(self):
        f = Fake()
        try:
            top = self.mkdir(f, "Ferry")
            self.assertEqual({"kind", "id", "name", "mimeType"}, set(top))  # v3 default fields
            sub = self.mkdir(f, "Sub", top["id"])
            made = [self.put(f, "note %d.txt" % i, b"n%d" % i, top["id"]) for i in range(5)]
            st, _, b = f.send("POST", DU, b"plain bytes", {"Content-Type": "application/pdf"}, user="dan",
                              query={"uploadType": "media", "fields": "id,name,mimeType,parents,size"})
            simple = json.loads(b)
            self.assertEqual(("Untitled", "application/pdf", "11"), (simple["name"], simple["mimeType"],
                                                                     simple["size"]))
            root = self.ok(f.call("GET", DR + "/files/root", user="dan", query={"fields": "id,name"}))
            self.assertEqual([root["id"]], simple["parents"])
            q = "'%s' in parents and trashed = false and mimeType != 'application/vnd.google-apps.folder'" % top["id"]
            got, tok, pages = [], None, 0
            while True:
                query = {"q": q, "pageSize": 2, "fields": "nextPageToken,files(id,name,md5Checksum,size,parents)"}
                if tok:
                    query["pageToken"] = tok
                j = self.ok(f.call("GET", DR + "/files", user="dan", query=query))
                pages += 1
                got += j["files"]
                tok = j.get("nextPageToken")
                if not tok:
                    break
            self.assertEqual(3, pages)
            self.assertEqual([m["id"] for m in made], [x["id"] for x in got])
            self.assertEqual(hashlib.md5(b"n0").hexdigest(), got[0]["md5Checksum"])
            self.assertEqual({"id", "name", "md5Checksum", "size", "parents"}, set(got[0]))
            j = self.ok(f.call("GET", DR + "/files", user="dan", query={"q": "name = 'Sub'"}))
            self.assertEqual([sub["id"]], [x["id"] for x in j["files"]])
            self.assertEqual({"kind", "incompleteSearch", "files"}, set(j))
            j = self.ok(f.call("GET", DR + "/files", user="dan",
                               query={"q": "name contains 'note' and not name = 'note 0.txt'",
                                      "orderBy": "name desc", "fields": "files(name)"}))
            self.assertEqual(["note 4.txt", "note 3.txt", "note 2.txt", "note 1.txt"], [x["name"] for x in j["files"]])
            j = self.ok(f.call("GET", DR + "/files", user="dan",
                               query={"q": "mimeType = 'application/vnd.google-apps.folder' or name = 'note 1.txt'",
                                      "orderBy": "folder,name"}))
            self.assertEqual(["Ferry", "Sub", "note 1.txt"], [x["name"] for x in j["files"]])
            j = self.ok(f.call("GET", DR + "/files", user="dan",
                               query={"q": "modifiedTime > '2000-01-01T00:00:00' and 'me' in owners",
                                      "fields": "files(id)"}))
            self.assertEqual(8, len(j["files"]))
            self.assertEqual([], f.violations())
            for query in ({"pageSize": 1001}, {"pageSize": 0}, {"q": "name = 'unterminated"},
                          {"q": "name = 'a' and"}, {"q": "(trashed = false"}, {"orderBy": "size"},
                          {"fields": "files(id,shoeSize)"}, {"fields": "files(id"}, {"corpora": "everything"}):
                st, _, e = f.call("GET", DR + "/files", user="dan", query=query)
                self.assertEqual(400, st, (query, e))
            self.assertEqual(9, len(f.violations()))
            f.clear_violations()
            st, _, e = f.call("GET", DR + "/files", user="dan", query={"q": "visibility = 'anyoneCanFind'"})
            self.assertEqual(400, st)
            self.assertIn("fake does not support", e["error"]["message"])
            self.assertEqual([], f.violations())  # Google accepts it; only the fake lacks it
            st, _, e = f.call("GET", DR + "/files/nope", user="dan")
            self.assertEqual((404, "notFound", "fileId"), (st, e["error"]["errors"][0]["reason"],
                                                          e["error"]["errors"][0]["location"]))
        finally:
            f.stop()

    def test_download_range_and_export(self):
        data = bytes(range(256)) * 4
        up = self.put(self.f, "blob.bin", data, mime_type=b"application/octet-stream",
                      fields="id,size,md5Checksum,sha256Checksum")
        self.assertEqual((str(len(data)), hashlib.md5(data).hexdigest()), (up["size"], up["md5Checksum"]))
        self.assertEqual(hashlib.sha256(data).hexdigest(), up["sha256Checksum"])
        path = DR + "/files/" + up["id"]
        st, h, b = self.f.send("GET", path, user="dan", query={"alt": "media"})
        self.assertEqual((200, data, "application/octet-stream"), (st, b, h["Content-Type"]))
        st, h, b = self.f.send("GET", path, headers={"Range": "bytes=10-19"}, user="dan", query={"alt": "media"})
        self.assertEqual((206, data[10:20], "bytes 10-19/1024"), (st, b, h["Content-Range"]))
        st, h, b = self.f.send("GET", path, headers={"Range": "bytes=-4"}, user="dan", query={"alt": "media"})
        self.assertEqual((206, data[-4:]), (st, b))
        st, h, b = self.f.send("GET", path, headers={"Range": "bytes=1000-"}, user="dan", query={"alt": "media"})
        self.assertEqual((206, data[1000:]), (st, b))
        st, h, b = self.f.send("GET", path, headers={"Range": "bytes=5000-"}, user="dan", query={"alt": "media"})
        self.assertEqual((416, "bytes */1024"), (st, h["Content-Range"]))
        # a Google Doc made by converting text: not downloadable, exportable
        doc = self.put(self.f, "Minutes", "Line one\nLine two (\u00e9)".encode(), mime_type=b"text/plain",
                       mimeType="application/vnd.google-apps.document", fields="id,mimeType,size,exportLinks")
        self.assertEqual("application/vnd.google-apps.document", doc["mimeType"])
        self.assertNotIn("size", doc)
        self.assertIn("application/pdf", doc["exportLinks"])
        st, _, b = self.f.send("GET", DR + "/files/" + doc["id"], user="dan", query={"alt": "media"})
        self.assertEqual(403, st)
        self.assertEqual("fileNotDownloadable", json.loads(b)["error"]["errors"][0]["reason"])
        self.assertTrue(self.f.violations())
        self.f.clear_violations()
        ex = DR + "/files/%s/export" % doc["id"]
        st, h, b = self.f.send("GET", ex, user="dan", query={"mimeType": "text/plain"})
        self.assertEqual((200, "text/plain"), (st, h["Content-Type"]))
        self.assertEqual("\ufeffLine one\nLine two (\u00e9)", b.decode("utf-8"))
        docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        st, h, b = self.f.send("GET", ex, user="dan", query={"mimeType": docx})
        self.assertEqual((200, docx, b"PK"), (st, h["Content-Type"], b[:2]))
        st, h2, b2 = self.f.send("GET", ex, user="dan", query={"mimeType": docx})
        self.assertEqual(b, b2)  # deterministic
        st, h, b = self.f.send("GET", ex, user="dan", query={"mimeType": "application/pdf"})
        self.assertEqual((200, b"%PDF-"), (st, b[:5]))
        self.assertEqual([], self.f.violations())
        st, _, b = self.f.send("GET", ex, user="dan", query={"mimeType": "image/gif"})
        self.assertEqual(400, st)
        st, _, b = self.f.send("GET", ex, user="dan")
        self.assertEqual(400, st)
        st, _, b = self.f.send("GET", DR + "/files/%s/export" % up["id"], user="dan", query={"mimeType": "text/plain"})
        self.assertEqual(403, st)  # fileNotExportable: only Docs Editors files
        st, _, b = self.f.send("GET", path, user="dan", query={"alt": "proto"})
        self.assertEqual(400, st)
        self.assertEqual(4, len(self.f.violations()))
        self.expect_violations = True

    def test_export_size_limit(self):
        f = Fake("--drive-export-limit", "60")
        try:
            sheet = self.put(f, "Sheet", b"a,b\n" * 20, mime_type=b"text/csv",
                             mimeType="application/vnd.google-apps.spreadsheet")
            st, _, b = f.send("GET", DR + "/files/%s/export" % sheet["id"], user="dan", query={"mimeType": "text/csv"})
            self.assertEqual(403, st)
            self.assertEqual("exportSizeLimitExceeded", json.loads(b)["error"]["errors"][0]["reason"])
            small = self.put(f, "Small", b"x,y\n", mime_type=b"text/csv",
                             mimeType="application/vnd.google-apps.spreadsheet")
            st, h, b = f.send("GET", DR + "/files/%s/export" % small["id"], user="dan", query={"mimeType": "text/csv"})
            self.assertEqual((200, b"x,y\n"), (st, b))
            self.assertEqual([], f.violations())
        finally:
            f.stop()

    def start_session(self, f, meta, total=None, user="dan", path=DU, method="POST"):
        h = {"Content-Type": "application/json; charset=UTF-8", "X-Upload-Content-Type": "application/octet-stream"}
        if total is not None:
            h["X-Upload-Content-Length"] = str(total)
        st, hd, b = f.send(method, path, json.dumps(meta).encode(), h, user=user,
                           query={"uploadType": "resumable", "fields": "id,name,size,md5Checksum,parents"})
        self.assertEqual((200, b""), (st, b))
        self.assertIn("upload_id=", hd["Location"])
        return session_path(hd)

    def test_resumable_upload(self):
        data = os.urandom(2 * CHUNK + 1000)
        sess = self.start_session(self.f, {"name": "big.bin"}, len(data))
        st, h, _ = self.f.send("PUT", sess, b"", {"Content-Range": "bytes */%d" % len(data)}, auth=False)
        self.assertEqual(308, st)
        self.assertNotIn("Range", h)  # nothing received yet
        st, h, _ = self.f.send("PUT", sess, data[:CHUNK], {"Content-Range": "bytes 0-%d/%d" % (CHUNK - 1, len(data))},
                               auth=False)
        self.assertEqual((308, "bytes=0-%d" % (CHUNK - 1)), (st, h["Range"]))
        # status query after an interruption: where to resume
        st, h, _ = self.f.send("PUT", sess, b"", {"Content-Range": "bytes */%d" % len(data)}, auth=False)
        self.assertEqual((308, "bytes=0-%d" % (CHUNK - 1)), (st, h["Range"]))
        # resending an already stored chunk is harmless
        st, h, _ = self.f.send("PUT", sess, data[:CHUNK], {"Content-Range": "bytes 0-%d/*" % (CHUNK - 1)}, auth=False)
        self.assertEqual((308, "bytes=0-%d" % (CHUNK - 1)), (st, h["Range"]))
        # a 503 in the middle (faults apply to session URIs too): ask where to resume, go on
        self.f.faults(server_error=503, times=1)
        st, _, _ = self.f.send("PUT", sess, data[CHUNK:2 * CHUNK], {"Content-Range": "bytes %d-%d/%d" % (
            CHUNK, 2 * CHUNK - 1, len(data))}, auth=False)
        self.assertEqual(503, st)
        st, h, _ = self.f.send("PUT", sess, b"", {"Content-Range": "bytes */%d" % len(data)}, auth=False)
        self.assertEqual((308, "bytes=0-%d" % (CHUNK - 1)), (st, h["Range"]))
        st, h, b = self.f.send("PUT", sess, data[CHUNK:], {"Content-Range": "bytes %d-%d/%d" % (
            CHUNK, len(data) - 1, len(data))}, auth=False)
        self.assertEqual(200, st, b)
        done = json.loads(b)
        self.assertEqual(("big.bin", str(len(data)), hashlib.md5(data).hexdigest()),
                         (done["name"], done["size"], done["md5Checksum"]))
        # the finished session answers the file again
        st, _, b = self.f.send("PUT", sess, b"", {"Content-Range": "bytes */%d" % len(data)}, auth=False)
        self.assertEqual((200, done["id"]), (st, json.loads(b)["id"]))
        st, _, b = self.f.send("GET", DR + "/files/" + done["id"], user="dan", query={"alt": "media"})
        self.assertEqual(data, b)
        # unknown total while sending, the last chunk names it; a single PUT without Content-Range
        sess = self.start_session(self.f, {"name": "stream.bin"})
        st, h, _ = self.f.send("PUT", sess, data[:CHUNK], {"Content-Range": "bytes 0-%d/*" % (CHUNK - 1)}, auth=False)
        self.assertEqual(308, st)
        st, _, b = self.f.send("PUT", sess, data[CHUNK:CHUNK + 10], {"Content-Range": "bytes %d-%d/%d" % (
            CHUNK, CHUNK + 9, CHUNK + 10)}, auth=False)
        self.assertEqual(("stream.bin", str(CHUNK + 10)), (json.loads(b)["name"], json.loads(b)["size"]))
        sess = self.start_session(self.f, {"name": "whole.txt"})
        st, _, b = self.f.send("PUT", sess, b"all at once", auth=False)
        self.assertEqual((200, "11"), (st, json.loads(b)["size"]))
        # an update session replaces the content of an existing file
        usess = self.start_session(self.f, {"name": "whole-v2.txt"}, path=DU + "/" + json.loads(b)["id"],
                                   method="PATCH")
        st, _, b = self.f.send("PUT", usess, b"second version", auth=False)
        self.assertEqual((200, "whole-v2.txt", "14"), (st, json.loads(b)["name"], json.loads(b)["size"]))
        self.assertEqual([], self.f.violations())
        # cancel (499), unknown and expired sessions (404: start again)
        sess = self.start_session(self.f, {"name": "cancelled"})
        self.assertEqual(499, self.f.send("DELETE", sess, auth=False)[0])
        self.assertEqual(404, self.f.send("PUT", sess, b"x", auth=False)[0])
        self.assertEqual(404, self.f.send("PUT", DU + "?uploadType=resumable&upload_id=nope", b"x", auth=False)[0])
        sess = self.start_session(self.f, {"name": "expired"})
        self.f.faults(expire_upload_sessions=True)
        st, _, b = self.f.send("PUT", sess, b"x", auth=False)
        self.assertEqual(404, st)
        self.assertEqual([], self.f.violations())

    def test_resumable_bad_chunks(self):
        data = os.urandom(CHUNK + 500)
        sess = self.start_session(self.f, {"name": "bad.bin"}, len(data))
        for cr, body in (("bytes 0-9", data[:10]), ("0-9/%d" % len(data), data[:10]), ("bytes 9-0/*", data[:10]),
                         ("bytes 0-99/%d" % len(data), data[:10]),  # length differs from the range
                         ("bytes 0-9/5", data[:10]),                 # past the total
                         ("bytes 0-9/%d" % (len(data) + 1), data[:10]),  # total differs from the declared size
                         ("bytes %d-%d/*" % (CHUNK, CHUNK + 9), data[:10]),  # gap after what was received
                         ("bytes */%d" % len(data), b"body")):       # a status query with a body
            st, _, b = self.f.send("PUT", sess, body, {"Content-Range": cr}, auth=False)
            self.assertEqual(400, st, (cr, b))
        self.assertEqual(8, len(self.f.violations()))
        self.f.clear_violations()
        # a chunk that is not a multiple of 256 KiB: the 256 KiB-aligned part is kept, the rest resent
        st, h, _ = self.f.send("PUT", sess, data[:CHUNK + 100], {"Content-Range": "bytes 0-%d/%d" % (
            CHUNK + 99, len(data))}, auth=False)
        self.assertEqual((308, "bytes=0-%d" % (CHUNK - 1)), (st, h["Range"]))
        self.assertIn("not a multiple of 256 KiB", self.f.violations()[0]["message"])
        st, _, b = self.f.send("PUT", sess, data[CHUNK:], {"Content-Range": "bytes %d-%d/%d" % (
            CHUNK, len(data) - 1, len(data))}, auth=False)
        self.assertEqual((200, hashlib.md5(data).hexdigest()), (st, json.loads(b)["md5Checksum"]))
        self.expect_violations = True

    def test_update_move_trash_delete_changes(self):
        f = Fake()
        try:
            start = self.ok(f.call("GET", DR + "/changes/startPageToken", user="dan"))
            self.assertEqual("drive#startPageToken", start["kind"])
            a = self.mkdir(f, "A")
            b = self.mkdir(f, "B")
            doc = self.put(f, "doc.txt", b"v1", a["id"], appProperties={"ferryId": "42"},
                           createdTime="2020-05-01T10:00:00Z", modifiedTime="2021-06-01T10:00:00.5Z",
                           fields="id,createdTime,modifiedTime,appProperties")
            self.assertEqual(("2020-05-01T10:00:00.000Z", "2021-06-01T10:00:00.500Z", {"ferryId": "42"}),
                             (doc["createdTime"], doc["modifiedTime"], doc["appProperties"]))
            found = self.ok(f.call("GET", DR + "/files", user="dan",
                                   query={"q": "appProperties has { key='ferryId' and value='42' }"}))
            self.assertEqual([doc["id"]], [x["id"] for x in found["files"]])
            path = DR + "/files/" + doc["id"]
            upd = self.ok(f.call("PATCH", path, {"name": "renamed.txt", "appProperties": {"ferryId": None, "v": "2"}},
                                 user="dan", query={"addParents": b["id"], "removeParents": a["id"],
                                                    "fields": "name,parents,appProperties"}))
            self.assertEqual(("renamed.txt", [b["id"]], {"v": "2"}), (upd["name"], upd["parents"],
                                                                      upd["appProperties"]))
            body, ct = related({"description": "new content"}, b"v2!", b"text/plain")
            st, _, out = f.send("PATCH", DU + "/" + doc["id"], body, {"Content-Type": ct}, user="dan",
                                query={"uploadType": "multipart", "fields": "size,version,description"})
            self.assertEqual((200, "3", "new content"), (st, json.loads(out)["size"], json.loads(out)["description"]))
            # trashing a folder trashes what is in it
            self.ok(f.call("PATCH", DR + "/files/" + b["id"], {"trashed": True}, user="dan"))
            t = self.ok(f.call("GET", path, user="dan", query={"fields": "trashed,explicitlyTrashed"}))
            self.assertEqual({"trashed": True, "explicitlyTrashed": False}, t)
            j = self.ok(f.call("GET", DR + "/files", user="dan",
                               query={"q": "trashed = false", "fields": "files(name)"}))
            self.assertEqual(["A"], [x["name"] for x in j["files"]])
            self.ok(f.call("PATCH", DR + "/files/" + b["id"], {"trashed": False}, user="dan"))
            self.assertFalse(self.ok(f.call("GET", path, user="dan", query={"fields": "trashed"}))["trashed"])
            # changes since the start token, one per page, then the next start token
            seen, tok, pages = {}, start["startPageToken"], 0
            while True:
                j = self.ok(f.call("GET", DR + "/changes", user="dan", query={
                    "pageToken": tok, "pageSize": 1,
                    "fields": "nextPageToken,newStartPageToken,changes(fileId,removed,file(name,trashed))"}))
                pages += 1
                for c in j["changes"]:
                    seen[c["fileId"]] = c
                if "newStartPageToken" in j:
                    after = j["newStartPageToken"]
                    self.assertNotIn("nextPageToken", j)
                    break
                tok = j["nextPageToken"]
            self.assertEqual({a["id"], b["id"], doc["id"]}, set(seen))
            self.assertEqual(3, pages)  # one entry per file: the latest change
            self.assertEqual("renamed.txt", seen[doc["id"]]["file"]["name"])
            # delete: removed changes for the folder and what it holds
            self.assertEqual(204, f.send("DELETE", DR + "/files/" + b["id"], user="dan")[0])
            self.assertEqual(404, f.call("GET", path, user="dan")[0])
            j = self.ok(f.call("GET", DR + "/changes", user="dan", query={"pageToken": after}))
            self.assertEqual({(b["id"], True), (doc["id"], True)}, {(c["fileId"], c["removed"]) for c in j["changes"]})
            self.assertNotIn("file", j["changes"][0])
            j2 = self.ok(f.call("GET", DR + "/changes", user="dan", query={"pageToken": j["newStartPageToken"]}))
            self.assertEqual([], j2["changes"])
            j3 = self.ok(f.call("GET", DR + "/changes", user="dan",
                                query={"pageToken": after, "includeRemoved": "false"}))
            self.assertEqual([], j3["changes"])
            self.assertEqual([], f.violations())
            for token in ("abc", "0", str(10 ** 9)):
                st, _, e = f.call("GET", DR + "/changes", user="dan", query={"pageToken": token})
                self.assertEqual(400, st)
            self.assertEqual(400, f.call("GET", DR + "/changes", user="dan")[0])
            # writing read-only or badly formed metadata
            c = self.mkdir(f, "C")
            cp = DR + "/files/" + c["id"]
            for body, code in (({"parents": [a["id"]]}, 403), ({"size": "3"}, 403),
                               ({"createdTime": "2020-01-01T00:00:00Z"}, 403),
                               ({"colour": "red"}, 400), ({"modifiedTime": "yesterday"}, 400),
                               ({"appProperties": {"k": "v" * 124}}, 400),
                               ({"appProperties": {"k%d" % i: "v" for i in range(31)}}, 400),
                               ({"mimeType": "application/pdf"}, 400)):
                st, _, e = f.call("PATCH", cp, body, user="dan")
                self.assertEqual(code, st, (body, e))
            st, _, e = f.call("PATCH", cp, {}, user="dan", query={"addParents": a["id"]})
            self.assertEqual((403, "cannotAddParent"), (st, e["error"]["errors"][0]["reason"]))
            inner = self.mkdir(f, "inner", c["id"])
            st, _, e = f.call("PATCH", cp, {}, user="dan", query={"addParents": inner["id"], "removeParents": "root"})
            self.assertEqual(400, st)  # a cycle
            st, _, e = f.call("POST", DR + "/files", {"name": "two", "parents": [a["id"], c["id"]]}, user="dan")
            self.assertEqual(403, st)
            self.assertEqual(15, len(f.violations()))
        finally:
            f.stop()

    def test_drive_file_scope_and_read_scopes(self):
        f = Fake()
        try:
            seed = {"user": "dfile", "drive": {"files": [{"name": "Mine from the web UI", "content": "user data"}]}}
            st, _, j = f.raw("POST", "/_fake/seed", json.dumps(seed), {"Content-Type": "application/json"})
            self.assertEqual(200, st, j)
            seeded = j["driveFiles"][0]
            start = self.ok(f.call("GET", DR + "/changes/startPageToken", user="dfile"))["startPageToken"]
            made = self.put(f, "by ferry.txt", b"app data", user="dfile")
            names = [x["name"] for x in self.ok(f.call("GET", DR + "/files", user="dfile"))["files"]]
            self.assertEqual(["by ferry.txt"], names)  # drive.file sees only what the app created
            self.assertEqual(404, f.call("GET", DR + "/files/" + seeded, user="dfile")[0])
            self.assertEqual(404, f.call("PATCH", DR + "/files/" + seeded, {"name": "x"}, user="dfile")[0])
            st, _, b = f.send("GET", DR + "/files/" + made["id"], user="dfile", query={"alt": "media"})
            self.assertEqual((200, b"app data"), (st, b))
            j = self.ok(f.call("GET", DR + "/changes", user="dfile", query={"pageToken": "1"}))
            self.assertEqual([made["id"]], [c["fileId"] for c in j["changes"]])
            j = self.ok(f.call("GET", DR + "/changes", user="dfile", query={"pageToken": start}))
            self.assertEqual([made["id"]], [c["fileId"] for c in j["changes"]])
            # other scopes on other users' Drives
            for user, name in (("dro", "r.txt"), ("dmeta", "m.txt")):
                seed = {"user": user, "drive": {"files": [{"name": name, "content": "seeded"}]}}
                st, _, j = f.raw("POST", "/_fake/seed", json.dumps(seed), {"Content-Type": "application/json"})
                self.assertEqual(200, st, j)
            rid = j["driveFiles"][0]
            self.assertEqual(["r.txt"], [x["name"] for x in self.ok(f.call("GET", DR + "/files", user="dro"))["files"]])
            st, _, e = f.call("POST", DR + "/files", {"name": "no"}, user="dro")
            self.assertEqual((403, "insufficientPermissions"), (st, e["error"]["errors"][0]["reason"]))
            self.ok(f.call("GET", DR + "/files/" + rid, user="dmeta"))
            st, _, b = f.send("GET", DR + "/files/" + rid, user="dmeta", query={"alt": "media"})
            self.assertEqual(403, st)
            self.assertEqual("ACCESS_TOKEN_SCOPE_INSUFFICIENT", json.loads(b)["error"]["details"][0]["reason"])
            st, _, e = f.call("GET", DR + "/files", user="alice")
            self.assertEqual(403, st)
            self.assertEqual([], f.violations())
        finally:
            f.stop()

    def test_storage_quota_and_about(self):
        f = Fake("--drive-storage-limit", "1000")
        try:
            st, _, e = f.call("GET", DR + "/about", user="dan")
            self.assertEqual(400, st)  # about.get requires fields
            f.clear_violations()
            about = self.ok(f.call("GET", DR + "/about", user="dan", query={"fields": "user,storageQuota"}))
            self.assertEqual("dan@example.com", about["user"]["emailAddress"])
            self.assertEqual({"limit": "1000", "usage": "0", "usageInDrive": "0", "usageInDriveTrash": "0"},
                             about["storageQuota"])
            self.put(f, "a.bin", b"x" * 800)
            body, ct = related({"name": "b.bin"}, b"y" * 300, b"application/octet-stream")
            st, _, b = f.send("POST", DU, body, {"Content-Type": ct}, user="dan", query={"uploadType": "multipart"})
            self.assertEqual(403, st)
            err = json.loads(b)["error"]["errors"][0]
            self.assertEqual(("usageLimits", "storageQuotaExceeded"), (err["domain"], err["reason"]))
            st, _, b = f.send("POST", DU, b"{}", {"Content-Type": "application/json", "X-Upload-Content-Length": "500"},
                              user="dan", query={"uploadType": "resumable"})
            self.assertEqual(403, st)
            self.put(f, "c.bin", b"z" * 200)  # exactly at the limit
            q = self.ok(f.call("GET", DR + "/about", user="dan", query={"fields": "storageQuota/usage"}))
            self.assertEqual({"storageQuota": {"usage": "1000"}}, q)
            self.assertEqual([], f.violations())
        finally:
            f.stop()

    def test_rate_limits(self):
        f = Fake("--drive-user-qpm", "3")
        try:
            for _ in range(3):
                self.ok(f.call("GET", DR + "/files", user="dan"))
            st, _, e = f.call("GET", DR + "/files", user="dan")
            self.assertEqual((403, "userRateLimitExceeded"), (st, e["error"]["errors"][0]["reason"]))
            self.assertEqual("usageLimits", e["error"]["errors"][0]["domain"])
            self.ok(f.call("GET", DR + "/files", user="dro"))  # per user
            f.faults(rate_limit_after=0, status=429, times=1)
            st, h, e = f.call("GET", DR + "/files", user="dro")
            self.assertEqual((429, "rateLimitExceeded"), (st, e["error"]["errors"][0]["reason"]))
            self.assertEqual([], f.violations())
        finally:
            f.stop()

    def test_malformed_uploads(self):
        REL = "multipart/related; boundary=x"
        f = Fake("--max-upload", "2000")
        try:
            for q, body, ct in (({}, b"data", "text/plain"),                      # no uploadType
                                ({"uploadType": "simple"}, b"data", "text/plain"),
                                ({"uploadType": "multipart"}, b"data", "text/plain"),
                                ({"uploadType": "multipart"}, b"--x\r\nContent-Type: application/json\r\n\r\n{}\r\n",
                                 "multipart/related; boundary=x"),
                                ({"uploadType": "multipart"}, related({"name": "n"}, b"d", b"text/plain")[0][:-4],
                                 related({"name": "n"}, b"d", b"text/plain")[1]),
                                ({"uploadType": "multipart"}, b"--x\r\nContent-Type: text/plain\r\n\r\nnot json\r\n"
                                 b"--x\r\nContent-Type: text/plain\r\n\r\nd\r\n--x--\r\n", REL),
                                ({"uploadType": "multipart"}, b"--x\r\nContent-Type: application/json\r\n\r\n{oops\r\n"
                                 b"--x\r\nContent-Type: text/plain\r\n\r\nd\r\n--x--\r\n", REL),
                                ({"uploadType": "resumable"}, b"not json", "text/plain")):
                st, _, b = f.send("POST", DU, body, {"Content-Type": ct}, user="dmeta", query=q)
                self.assertEqual(403, st)  # drive.metadata.readonly may not create: scope first
                st, _, b = f.send("POST", DU, body, {"Content-Type": ct}, user="dfile", query=q)
                self.assertEqual(400, st, (q, body, b))
            self.assertEqual(8, len(f.violations()))
            f.clear_violations()
            # larger than the fake's own --max-upload: 413, not a Google limit, not a violation
            st, _, b = f.send("POST", DU, b"x" * 3000, {"Content-Type": "text/plain"}, user="dfile",
                              query={"uploadType": "media"})
            self.assertEqual(413, st)
            self.assertEqual([], f.violations())
        finally:
            f.stop()



class PhotosTest(Base):
    def upload(self, f, data, name="p.jpg", user="pho", proto="raw"):
        h = {"Content-Type": "application/octet-stream", "X-Goog-Upload-Content-Type": "image/jpeg",
             "X-Goog-Upload-File-Name": name}
        if proto:
            h["X-Goog-Upload-Protocol"] = proto
        return f.send("POST", "/v1/uploads", data, h, user=user)

    def test_albums_upload_batch_create_search(self):
        f = Fake()
        try:
            seed = {"user": "pho", "photos": {"items": [{"filename": "mine.jpg", "contentBase64": "/9j/AA=="}]}}
            st = f.raw("POST", "/_fake/seed", json.dumps(seed), {"Content-Type": "application/json"})[0]
            self.assertEqual(200, st)
            album = self.ok(f.call("POST", "/v1/albums", {"album": {"title": "Ferry import"}}, user="pho"))
            self.assertEqual(("Ferry import", "0", True), (album["title"], album["mediaItemsCount"],
                                                           album["isWriteable"]))
            tokens = []
            for i in range(3):
                st, h, b = self.upload(f, b"\xff\xd8photo%d" % i, "p%d.jpg" % i)
                self.assertEqual(200, st, b)
                self.assertTrue(h["Content-Type"].startswith("text/plain"))
                tokens.append(b.decode())
            st, _, j = f.call("POST", "/v1/mediaItems:batchCreate", {"albumId": album["id"], "newMediaItems": [
                {"description": "d%d" % i, "simpleMediaItem": {"uploadToken": t, "fileName": "p%d.jpg" % i}}
                for i, t in enumerate(tokens)]}, user="pho")
            self.assertEqual(200, st, j)
            res = j["newMediaItemResults"]
            self.assertEqual(["Success"] * 3, [r["status"]["message"] for r in res])
            items = [r["mediaItem"] for r in res]
            self.assertEqual(("p0.jpg", "image/jpeg", "d0"), (items[0]["filename"], items[0]["mimeType"],
                                                               items[0]["description"]))
            u = urllib.parse.urlsplit(items[1]["baseUrl"] + "=d")
            st, _, b = f.send("GET", u.path, auth=False)
            self.assertEqual((200, b"\xff\xd8photo1"), (st, b))
            # an upload token makes one media item; a spent or unknown one fails that item (207)
            st, _, j = f.call("POST", "/v1/mediaItems:batchCreate", {"newMediaItems": [
                {"simpleMediaItem": {"uploadToken": tokens[0]}}]}, user="pho")
            self.assertEqual(207, st)
            self.assertEqual(3, j["newMediaItemResults"][0]["status"]["code"])
            seen, tok = [], None
            while True:
                body = {"albumId": album["id"], "pageSize": 2}
                if tok:
                    body["pageToken"] = tok
                j = self.ok(f.call("POST", "/v1/mediaItems:search", body, user="pho"))
                seen += [m["id"] for m in j["mediaItems"]]
                tok = j.get("nextPageToken")
                if not tok:
                    break
            self.assertEqual([m["id"] for m in items], seen)  # album order
            lib = self.ok(f.call("GET", "/v1/mediaItems", user="pho"))["mediaItems"]
            self.assertEqual(3, len(lib))  # the user's own photo is not app-created: invisible
            self.assertNotIn("mine.jpg", [m["filename"] for m in lib])
            albums = self.ok(f.call("GET", "/v1/albums", user="pho"))["albums"]
            self.assertEqual([(album["id"], "3")], [(a["id"], a["mediaItemsCount"]) for a in albums])
            self.assertEqual(404, f.call("GET", "/v1/albums/nope", user="pho")[0])
            self.assertEqual([], f.violations())
        finally:
            f.stop()

    def test_limits_scopes_malformed(self):
        st, _, e = self.f.call("GET", "/v1/albums", user="pold")  # scopes removed on 31 March 2025
        self.assertEqual((403, "PERMISSION_DENIED"), (st, e["error"]["status"]))
        st, _, e = self.f.call("POST", "/v1/albums", {"album": {"title": "x"}}, user="pold")
        self.assertEqual(403, st)
        st, _, b = self.upload(self.f, b"abc", user="pold")
        self.assertEqual(403, st)
        st, _, b = self.upload(self.f, b"abc", proto=None)
        self.assertEqual(400, st)
        st, _, b = self.upload(self.f, b"")
        self.assertEqual(400, st)
        many = {"newMediaItems": [{"simpleMediaItem": {"uploadToken": "t%d" % i}} for i in range(51)]}
        for body in (many, {"newMediaItems": []}, {"newMediaItems": [{"simpleMediaItem": {}}]},
                     {"newMediaItems": [{"simpleMediaItem": {"uploadToken": "t"}}], "albumPosition": {}},
                     {"newMediaItems": [{"simpleMediaItem": {"uploadToken": "t"}, "extra": 1}]}):
            st, _, e = self.f.call("POST", "/v1/mediaItems:batchCreate", body, user="pho")
            self.assertEqual(400, st, body)
            self.assertEqual("INVALID_ARGUMENT", e["error"]["status"])
        for body in ({"album": {"title": "t" * 501}}, {"album": {}}, {"title": "x"}):
            st, _, e = self.f.call("POST", "/v1/albums", body, user="pho")
            self.assertEqual(400, st)
        for body in ({"pageSize": 101}, {"albumId": "a", "filters": {}}):
            st, _, e = self.f.call("POST", "/v1/mediaItems:search", body, user="pho")
            self.assertEqual(400, st)
        st, _, e = self.f.call("GET", "/v1/albums", user="pho", query={"pageSize": 51})
        self.assertEqual(400, st)
        self.assertEqual(13, len(self.f.violations()))
        self.expect_violations = True


if __name__ == "__main__":
    unittest.main()
