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


class Fake:
    def __init__(self, *extra):
        args = [sys.executable, SERVER, "--listen", "127.0.0.1:0", "--grant", "alice-refresh=" + ALL,
                "--grant", "bob-refresh=" + RO, "--grant", "dave-refresh=" + ALL] + list(extra)
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


if __name__ == "__main__":
    unittest.main()
