"""Tests of the reference service against docs/connector-protocol.md (unittest, standard
library only). Each test class starts ferry_service.py in a subprocess on 127.0.0.1,
port 0, and talks HTTP to it, as ferry would (and as a hostile client would).

    python3 -m unittest examples/remote-service/test_service.py     (from the repository)
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from pathlib import Path

SERVICE = Path(__file__).resolve().parent / "ferry_service.py"
TOKEN = "static-token-1"
KEY_ID, SECRET = "k1", "s3cret-key"
CLIENT_ID, CLIENT_SECRET = "ferry", "client-secret"
SOURCE = "carddav://me@dav.example.org/"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def code(self):
        return self.json["error"]["code"]


class Service:
    """One ferry_service.py process on a free port, with its own data folder."""

    def __init__(self, *options, data: Path | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix="ferry-service-test-"))
        self.data = data or self.tmp / "data"
        self.options = options
        self.log_path = self.tmp / "service.log"
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVICE), "--data", str(self.data), "--listen", "127.0.0.1:0", *self.options],
            stdout=subprocess.PIPE, stderr=self.log,
        )
        line = self.proc.stdout.readline().decode()
        m = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)\n", line)
        if not m:
            self.stop()
            raise RuntimeError(f"the service did not start: {line!r} {self.log_path.read_text()}")
        self.port = int(m.group(1))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()
        self.log.close()

    def cleanup(self):
        """Stops the service and removes its folder; fails when a request made it fail."""
        self.stop()
        log = self.log_path.read_text()
        shutil.rmtree(self.tmp, ignore_errors=True)
        assert "Traceback" not in log, f"a request made the service fail:\n{log}"

    def request(self, method, target, body=None, headers=None, token=TOKEN) -> Answer:
        headers = dict(headers or {})
        if token is not None and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            return Answer(resp.status, resp.headers, resp.read())
        finally:
            conn.close()

    def signed(self, method, target, body=b"", **kw) -> Answer:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        return self.request(method, target, body=body, headers=signature_headers(method, target, body, **kw), token=None)

    def raw(self, data: bytes, shutdown=False, timeout=5) -> Answer:
        """Sends bytes as they are and reads one answer."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            sock.sendall(data)
            if shutdown:
                sock.shutdown(socket.SHUT_WR)
            resp = http.client.HTTPResponse(sock, method="GET")
            resp.begin()
            return Answer(resp.status, resp.headers, resp.read())
        finally:
            sock.close()

    def put_content(self, account, data: bytes) -> Answer:
        return self.request("PUT", f"/{account}/content/{sha(data)}", body=data)

    def put_item(self, account, vertical, item_id, item) -> Answer:
        return self.request("PUT", f"/{account}/items/{vertical}/{urllib.parse.quote(item_id, safe='')}", body=item)


def signature_headers(method, target, body, key_id=KEY_ID, secret=SECRET, timestamp=None, declared=None):
    """A client's side of the signature scheme, written from the protocol page."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    declared = declared or sha(body)
    to_sign = f"{method}\n{target}\n{timestamp}\n{declared}".encode()
    mac = base64.b64encode(hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()).decode()
    return {
        "Ferry-Timestamp": timestamp,
        "Ferry-Content-SHA256": declared,
        "Authorization": f'Ferry-HMAC-SHA256 keyId="{key_id}", signature="{mac}"',
    }


def contact(version="v1", container="Family", name="Zoë Ångström", content=None, **extra):
    item = {
        "source": SOURCE,
        "container": container,
        "version": version,
        "record": {"type": "contact", "formatted_name": name, "vcard_version": "4.0"},
        "original": {"media_type": "text/vcard", "text": f"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:{name}\r\nEND:VCARD\r\n"},
        "attachments": [],
        "references": [],
    }
    if content is not None:
        item["content"] = {"sha256": sha(content), "size": len(content), "media_type": "image/jpeg"}
    item.update(extra)
    return item


def all_pages(service, account, cid, what="items", limit=2, since=None):
    """Pages through a container: (items, failures, sync_token, pages)."""
    items, failures, cursor, pages = [], [], None, 0
    while True:
        query = {"limit": limit}
        if since is not None:
            query["since"] = since
        if cursor is not None:
            query["cursor"] = cursor
        a = service.request("GET", f"/{account}/containers/{cid}/{what}?{urllib.parse.urlencode(query)}")
        assert a.status == 200, a.body
        page = a.json
        pages += 1
        items += page["items"]
        failures += page["failures"]
        if page["next_cursor"] is None:
            return items, failures, page["sync_token"], pages
        assert page["sync_token"] is None
        cursor = page["next_cursor"]


def containers(service, account, vertical="contacts"):
    a = service.request("GET", f"/{account}/containers?vertical={vertical}")
    assert a.status == 200, a.body
    return {c["path"]: c["id"] for c in a.json["containers"]}


class ProtocolTest(unittest.TestCase):
    """The protocol's requests, one account per test."""

    @classmethod
    def setUpClass(cls):
        cls.s = Service(
            "--token", TOKEN, "--key", f"{KEY_ID}:{SECRET}", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
            "--test-hooks", "--page-size-max", "5", "--batch-max", "3", "--content-max-bytes", "100000",
        )

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()

    def setUp(self):
        self.account = self._testMethodName.replace("test_", "")

    # --- GET / ---

    def test_describe(self):
        for target in ("/", f"/{self.account}/", f"/{self.account}"):
            a = self.s.request("GET", target, token=None)
            self.assertEqual(a.status, 200, target)
            d = a.json
            self.assertEqual(d["protocol"], "ferry-connector/1")
            self.assertEqual(d["exports"], ["contacts", "calendar", "tasks", "mail", "media", "files", "notes", "social", "conversations",
                                            "playlists", "health", "finance", "orders"])
            self.assertEqual(d["imports"], d["exports"])
            self.assertTrue(d["incremental"])
            self.assertEqual((d["page_size_max"], d["batch_max"], d["content_max_bytes"]), (5, 3, 100000))
            self.assertEqual(d["auth"], ["bearer", "signature"])
            self.assertEqual(d["scopes"], ["export", "import"])
        self.assertFalse((self.s.data / self.account).exists(), "GET / creates no account")
        head = self.s.request("HEAD", f"/{self.account}/", token=None)
        self.assertEqual((head.status, head.body), (200, b""))

    def test_requests_need_credentials(self):
        a = self.s.request("GET", f"/{self.account}/containers?vertical=contacts", token=None)
        self.assertEqual((a.status, a.code), (401, "invalid_token"))
        self.assertIn("Bearer", a.headers["WWW-Authenticate"])
        self.assertFalse((self.s.data / self.account).exists(), "an unauthenticated request creates no account")

    # --- content ---

    def test_content_put_head_get(self):
        data = os.urandom(70000)
        target = f"/{self.account}/content/{sha(data)}"
        self.assertEqual(self.s.request("HEAD", target).status, 404)
        a = self.s.request("PUT", target, body=data)
        self.assertEqual((a.status, a.json), (201, {"sha256": sha(data), "size": len(data)}))
        head = self.s.request("HEAD", target)
        self.assertEqual((head.status, head.headers["Content-Length"], head.body), (200, str(len(data)), b""))
        got = self.s.request("GET", target)
        self.assertEqual((got.status, got.body), (200, data))
        self.assertEqual(self.s.request("PUT", target, body=data).status, 200, "the same bytes again are harmless")

        wrong = self.s.request("PUT", target.replace(sha(data), sha(b"other")), body=data)
        self.assertEqual((wrong.status, wrong.code), (400, "digest_mismatch"))
        self.assertEqual(self.s.request("HEAD", target.replace(sha(data), sha(b"other"))).status, 404)
        self.assertEqual(self.s.request("PUT", f"/{self.account}/content/ABC", body=b"x").code, "invalid_request")
        self.assertEqual(self.s.request("GET", f"/{self.account}/content/{sha(b'none')}").code, "not_found")
        self.assertEqual(sorted(p.name for p in (self.s.data / self.account / "content").iterdir()), [sha(data)],
                         "no temp file is left behind")

    def test_content_chunked(self):
        data = b"0123456789" * 9000
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 7000]), data[i:i + 7000]) for i in range(0, len(data), 7000))
        a = self.s.raw(
            f"PUT /{self.account}/content/{sha(data)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n"
        )
        self.assertEqual((a.status, a.json["size"]), (201, len(data)))
        self.assertEqual(self.s.request("GET", f"/{self.account}/content/{sha(data)}").body, data)

    def test_expect_continue(self):
        data = b"sent only when asked"
        head = (f"PUT /{self.account}/content/{sha(data)} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                f"Content-Length: {len(data)}\r\n").encode()
        refused = self.s.raw(head + b"\r\n")
        self.assertEqual((refused.status, refused.code), (401, "invalid_token"), "refused before any 100 Continue")
        sock = socket.create_connection(("127.0.0.1", self.s.port), timeout=5)
        try:
            sock.sendall(head + f"Authorization: Bearer {TOKEN}\r\n\r\n".encode())
            self.assertEqual(sock.recv(25), b"HTTP/1.1 100 Continue\r\n\r\n")
            sock.sendall(data)
            resp = http.client.HTTPResponse(sock)
            resp.begin()
            self.assertEqual(resp.status, 201)
        finally:
            sock.close()

    def test_content_over_the_limit(self):
        data = b"x" * 100001
        a = self.s.request("PUT", f"/{self.account}/content/{sha(data)}", body=data)
        self.assertEqual((a.status, a.code), (413, "too_large"))
        chunked = self.s.raw(
            f"PUT /{self.account}/content/{sha(data)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n".encode() + b"".join(b"2710\r\n" + b"x" * 10000 + b"\r\n" for _ in range(11))
            + b"0\r\n\r\n"
        )
        self.assertEqual((chunked.status, chunked.code), (413, "too_large"))
        self.assertEqual(list((self.s.data / self.account / "content").iterdir()), [])

    # --- items ---

    def test_put_item_twice(self):
        photo = b"\xff\xd8 a photo"
        self.assertEqual(self.s.put_content(self.account, photo).status, 201)
        first = self.s.put_item(self.account, "contacts", "contact-7", contact(content=photo))
        self.assertEqual(first.status, 201)
        self.assertEqual((first.json["created"], first.json["warnings"]), (True, []))
        dest_id = first.json["dest_id"]
        self.assertRegex(dest_id, r"^[0-9a-f]{32}$")
        again = self.s.put_item(self.account, "contacts", "contact-7", contact(content=photo))
        self.assertEqual((again.status, again.json), (200, {"dest_id": dest_id, "created": False, "warnings": []}))
        newer = self.s.put_item(self.account, "contacts", "contact-7", contact(version="v2", name="Zoë", content=photo))
        self.assertEqual((newer.status, newer.json["created"], newer.json["dest_id"]), (201, True, dest_id))
        stored = json.loads((self.s.data / self.account / "items" / "contacts" / f"{dest_id}.json").read_text())
        self.assertEqual(stored["item"]["record"]["formatted_name"], "Zoë")
        other_source = self.s.put_item(self.account, "contacts", "contact-7", contact(source="other://", content=photo))
        self.assertNotEqual(other_source.json["dest_id"], dest_id, "the key is (source, vertical, id)")

    def test_concurrent_puts_keep_one_copy(self):
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(self.s.put_item(self.account, "notes", "n1", {
            "source": "s", "container": "", "version": "1", "record": {"type": "note", "vertical": "notes", "title": "t"}})))
            for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(a.status for a in answers), [200] * 7 + [201])
        self.assertEqual(len(list((self.s.data / self.account / "items" / "notes").glob("*.json"))), 1)

    def test_item_content_must_be_uploaded_first(self):
        photo = b"not uploaded yet"
        a = self.s.put_item(self.account, "contacts", "c1", contact(content=photo))
        self.assertEqual((a.status, a.code), (409, "conflict"))
        self.assertIn("not uploaded", a.json["error"]["message"])
        self.s.put_content(self.account, photo)
        attachment = b"an attachment"
        note = {"source": "s", "container": "", "version": "1", "record": {"type": "note", "title": "t"},
                "attachments": [{"name": "a.txt", "content": {"sha256": sha(attachment), "size": 13, "media_type": "text/plain"}}]}
        self.assertEqual(self.s.put_item(self.account, "notes", "n1", note).code, "conflict")
        self.s.put_content(self.account, attachment)
        self.assertEqual(self.s.put_item(self.account, "notes", "n1", note).status, 201)
        self.assertEqual(self.s.put_item(self.account, "contacts", "c1", contact(content=photo)).status, 201)
        wrong_size = contact(content=photo)
        wrong_size["content"]["size"] = 3
        self.assertEqual(self.s.put_item(self.account, "contacts", "c2", wrong_size).code, "conflict")

    def test_item_checks(self):
        put = lambda item, vertical="contacts", item_id="c1": self.s.put_item(self.account, vertical, item_id, item)  # noqa: E731
        cases = [
            ({k: v for k, v in contact().items() if k != "record"}, "invalid_request"),
            (contact(record={"formatted_name": "no type"}), "invalid_request"),
            (contact(record={"type": "event", "uid": "e"}), "invalid_request"),
            ({k: v for k, v in contact().items() if k != "source"}, "invalid_request"),
            (contact(container=7), "invalid_request"),
            (contact(id="another-id"), "invalid_request"),
            (contact(original="text"), "invalid_request"),
            (contact(attachments={"a": 1}), "invalid_request"),
            (dict(contact(), content={"sha256": "zz", "size": 1}), "invalid_request"),
            (dict(contact(), content={"sha256": sha(b""), "size": -1}), "invalid_request"),
            (contact(record={"type": "bookmark"}), "unsupported"),
            ("a string", "invalid_request"),
        ]
        for item, code in cases:
            a = put(item)
            self.assertEqual((a.status // 100, a.code), (4, code), item)
        self.assertEqual(put(contact(), vertical="bookmarks").code, "unsupported")
        self.assertEqual(put(contact(), vertical="bookmarks").status, 422)
        other = put({"source": "s", "container": "", "version": "1", "record": {"type": "bookmark", "vertical": "notes"}}, "notes")
        self.assertEqual(other.status, 201, "a record of another type naming the path's vertical is kept")

    def test_batch_with_one_bad_item(self):
        items = [
            dict(contact(), id="b1"),
            dict(contact(), id="b2", record={"type": "contact"}, vertical="bookmarks"),
            {"source": "s", "id": "e1", "container": "Work", "version": "1", "record": {"type": "event", "uid": "e1"}},
        ]
        a = self.s.request("POST", f"/{self.account}/batch", body={"items": items})
        self.assertEqual(a.status, 200)
        results = a.json["results"]
        self.assertEqual(len(results), 3)
        self.assertTrue(results[0]["created"])
        self.assertEqual(results[1]["error"]["code"], "unsupported")
        self.assertTrue(results[2]["created"])
        self.assertEqual(set(containers(self.s, self.account, "calendar")), {"Work"}, "the vertical comes from the record")
        again = self.s.request("POST", f"/{self.account}/batch", body={"items": [items[0]]}).json["results"][0]
        self.assertEqual((again["created"], again["dest_id"]), (False, results[0]["dest_id"]))
        put = self.s.put_item(self.account, "contacts", "b1", contact())
        self.assertEqual(put.json, again, "a batch and a PUT keep the same item")
        too_many = self.s.request("POST", f"/{self.account}/batch", body={"items": [items[0]] * 4})
        self.assertEqual((too_many.status, too_many.code), (413, "too_large"))
        self.assertEqual(self.s.request("POST", f"/{self.account}/batch", body={"things": []}).code, "invalid_request")

    def test_finish(self):
        for _ in range(2):
            a = self.s.request("POST", f"/{self.account}/finish", body={"job": "job-1", "items": 12})
            self.assertEqual((a.status, a.body), (204, b""))
        lines = (self.s.data / self.account / "finished.jsonl").read_text().splitlines()
        self.assertEqual([json.loads(line) for line in lines], [{"job": "job-1", "items": 12}])
        self.assertEqual(self.s.request("POST", f"/{self.account}/finish", body={"items": 1}).code, "invalid_request")

    # --- export ---

    def fill(self, names=7, work=2):
        photo = b"photo bytes"
        self.s.put_content(self.account, photo)
        for n in range(names):
            self.assertEqual(self.s.put_item(self.account, "contacts", f"c{n}", contact(name=f"Person {n}", content=photo)).status, 201)
        for n in range(work):
            self.s.put_item(self.account, "contacts", f"w{n}", contact(container="Work/Team"))
        self.s.put_item(self.account, "calendar", "e1", {"source": SOURCE, "container": "Home", "version": "1",
                                                          "record": {"type": "event", "uid": "e1"}})
        return photo

    def test_export_pages(self):
        photo = self.fill()
        found = containers(self.s, self.account)
        self.assertEqual(list(found), ["Family", "Work/Team"])
        self.assertEqual(containers(self.s, self.account), found, "container ids are stable")
        items, failures, token, pages = all_pages(self.s, self.account, found["Family"], limit=3)
        self.assertEqual((len(items), failures, pages), (7, [], 3))
        self.assertRegex(token, r"^[0-9]+$")
        ids = [i["id"] for i in items]
        self.assertEqual(ids, sorted(set(ids)), "a stable order, no item twice")
        first = items[0]
        self.assertEqual(first["container"], "Family")
        self.assertEqual(first["content"]["url"], f"content/{sha(photo)}")
        self.assertEqual(first["record"]["type"], "contact")
        self.assertTrue(first["original"]["text"].startswith("BEGIN:VCARD"))
        self.assertNotIn("source", first)
        self.assertEqual((first["attachments"], first["references"]), ([], []))
        self.assertEqual(self.s.request("GET", f"/{self.account}/{first['content']['url']}").body, photo)

        capped = self.s.request("GET", f"/{self.account}/containers/{found['Family']}/items?limit=500").json
        self.assertEqual(len(capped["items"]), 5, "limit is capped at page_size_max")
        default = self.s.request("GET", f"/{self.account}/containers/{found['Work/Team']}/items").json
        self.assertEqual((len(default["items"]), default["next_cursor"]), (2, None))

        base = f"/{self.account}/containers/{found['Family']}/items"
        for query, code in [("?cursor=nope", "invalid_request"), ("?limit=0", "invalid_request"),
                            ("?limit=x", "invalid_request"), ("?limit=1&limit=2", "invalid_request")]:
            self.assertEqual(self.s.request("GET", base + query).code, code, query)
        self.assertEqual(self.s.request("GET", f"/{self.account}/containers/bm9uZQ/items").code, "not_found")
        self.assertEqual(self.s.request("GET", f"/{self.account}/containers/%21%21/items").code, "not_found")
        self.assertEqual(self.s.request("GET", f"/{self.account}/containers?vertical=bookmarks").code, "unsupported")
        self.assertEqual(self.s.request("GET", f"/{self.account}/containers").code, "invalid_request")

    def test_changes_since_a_sync_token(self):
        self.fill()
        family = containers(self.s, self.account)["Family"]
        items, _, token, _ = all_pages(self.s, self.account, family)
        self.s.put_item(self.account, "contacts", "c1", contact(name="Person 1"))  # not changed? content differs: changed
        self.s.put_item(self.account, "contacts", "c-new", contact(name="New"))
        self.s.put_item(self.account, "contacts", "w0", contact(container="Work/Team"))  # the same again: no change
        changed, failures, token2, pages = all_pages(self.s, self.account, family, "changes", limit=1, since=token)
        self.assertEqual(sorted(i["record"]["formatted_name"] for i in changed), ["New", "Person 1"])
        self.assertEqual((failures, pages), ([], 2))
        self.assertGreater(int(token2), int(token))
        nothing, _, token3, _ = all_pages(self.s, self.account, family, "changes", since=token2)
        self.assertEqual((nothing, token3), ([], token2))
        work = containers(self.s, self.account)["Work/Team"]
        self.assertEqual(all_pages(self.s, self.account, work, "changes", since=token)[0], [])
        self.assertEqual(self.s.request("GET", f"/{self.account}/containers/{family}/changes").code, "invalid_request")

    def test_expired_sync_token(self):
        self.fill(names=2, work=0)
        family = containers(self.s, self.account)["Family"]
        _, _, token, _ = all_pages(self.s, self.account, family)
        hook = self.s.request("POST", f"/_test/{self.account}/expire-sync-tokens", token=None)
        self.assertEqual(hook.status, 200)
        a = self.s.request("GET", f"/{self.account}/containers/{family}/changes?since={token}&limit=10")
        self.assertEqual((a.status, a.code), (410, "sync_token_expired"))
        _, _, fresh, _ = all_pages(self.s, self.account, family)
        self.assertEqual(all_pages(self.s, self.account, family, "changes", since=fresh)[0], [])
        future = self.s.request("GET", f"/{self.account}/containers/{family}/changes?since=99999&limit=10")
        self.assertEqual(future.code, "sync_token_expired")

    # --- signatures ---

    def test_signatures(self):
        target = f"/{self.account}/containers?vertical=contacts"
        self.assertEqual(self.s.signed("GET", target).status, 200)
        item = contact()
        put = self.s.signed("PUT", f"/{self.account}/items/contacts/a%2Fb", body=item)
        self.assertEqual(put.status, 201, put.body)

        def refused(a, why):
            self.assertEqual((a.status, a.code), (401, "invalid_signature"), why)
            self.assertIn("Ferry-HMAC-SHA256", a.headers["WWW-Authenticate"])

        refused(self.s.signed("GET", target, secret="wrong"), "a wrong secret")
        refused(self.s.signed("GET", target, key_id="nobody"), "an unknown key")
        refused(self.s.signed("GET", target, timestamp=int(time.time()) - 301), "a stale timestamp")
        refused(self.s.signed("GET", target, timestamp=int(time.time()) + 301), "a timestamp from the future")
        refused(self.s.request("GET", target + "&x=1", headers=signature_headers("GET", target, b""), token=None),
                "another target than the one signed")
        body = json.dumps(contact(version="v9")).encode()
        refused(self.s.request("PUT", f"/{self.account}/items/contacts/x", body=body, token=None,
                               headers=signature_headers("PUT", f"/{self.account}/items/contacts/x", body, declared=sha(b"other"))),
                "a body whose hash is not the declared one")
        data = b"content signed with the wrong hash"
        ctarget = f"/{self.account}/content/{sha(data)}"
        refused(self.s.request("PUT", ctarget, body=data, token=None,
                               headers=signature_headers("PUT", ctarget, data, declared=sha(b"x"))), "a streamed upload")
        self.assertEqual(list((self.s.data / self.account / "content").iterdir()), [], "the upload was discarded")
        self.assertEqual(self.s.signed("PUT", ctarget, body=data).status, 201)
        self.assertEqual(self.s.signed("HEAD", ctarget).status, 200)
        self.assertEqual(self.s.signed("GET", ctarget).body, data)
        refused(self.s.request("GET", target, token=None, headers={"Authorization": 'Ferry-HMAC-SHA256 keyId="k1"'}),
                "no signature")

    # --- bearer tokens and the token endpoint ---

    def token_request(self, form, basic=(CLIENT_ID, CLIENT_SECRET), content_type="application/x-www-form-urlencoded"):
        headers = {"Content-Type": content_type}
        if basic:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        return self.s.request("POST", "/oauth/token", body=urllib.parse.urlencode(form).encode(), headers=headers, token=None)

    def test_bearer_tokens(self):
        target = f"/{self.account}/containers?vertical=contacts"
        self.assertEqual(self.s.request("GET", target).status, 200)
        bad = self.s.request("GET", target, token="bogus")
        self.assertEqual((bad.status, bad.code), (401, "invalid_token"))
        self.assertIn('error="invalid_token"', bad.headers["WWW-Authenticate"])
        self.assertEqual(self.s.request("GET", target, headers={"Authorization": "Magic x"}).code, "invalid_token")

    def test_refresh_grant(self):
        a = self.token_request({"grant_type": "refresh_token", "refresh_token": TOKEN})
        self.assertEqual(a.status, 200, a.body)
        t = a.json
        self.assertEqual((t["token_type"], t["expires_in"], t["refresh_token"]), ("Bearer", 3600, TOKEN))
        self.assertEqual(a.headers["Cache-Control"], "no-store")
        self.assertEqual(self.s.request("GET", f"/{self.account}/containers?vertical=notes", token=t["access_token"]).status, 200)
        in_form = self.token_request({"grant_type": "refresh_token", "refresh_token": TOKEN,
                                      "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, basic=None)
        self.assertEqual(in_form.status, 200)

        def oauth_error(a, status, error):
            self.assertEqual((a.status, a.json["error"]), (status, error), a.body)

        oauth_error(self.token_request({"grant_type": "refresh_token", "refresh_token": TOKEN}, basic=(CLIENT_ID, "wrong")), 401, "invalid_client")
        oauth_error(self.token_request({"grant_type": "refresh_token", "refresh_token": TOKEN}, basic=None), 401, "invalid_client")
        oauth_error(self.token_request({"grant_type": "refresh_token", "refresh_token": "stale"}), 400, "invalid_grant")
        oauth_error(self.token_request({"grant_type": "refresh_token", "refresh_token": t["access_token"]}), 400, "invalid_grant")
        oauth_error(self.token_request({"grant_type": "password", "username": "u"}), 400, "unsupported_grant_type")
        oauth_error(self.token_request({"grant_type": "refresh_token"}), 400, "invalid_request")
        oauth_error(self.token_request({"grant_type": "refresh_token", "refresh_token": TOKEN}, content_type="application/json"),
                    400, "invalid_request")
        self.assertEqual(self.s.request("GET", "/oauth/token", token=None).status, 405)

    # --- hostile input ---

    def test_malformed_json(self):
        target = f"/{self.account}/items/contacts/c1"
        for body in (b'{"source":', b"[1, 2", b"\xff\xfe{}", b'{"a": NaN}', b"", b"nul"):
            a = self.s.request("PUT", target, body=body, headers={"Content-Type": "application/json"})
            self.assertEqual((a.status, a.code), (400, "invalid_request"), body)

    def test_truncated_body(self):
        head = (f"PUT /{self.account}/items/contacts/c1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n").encode()
        a = self.s.raw(head + b'{"source": "s"', shutdown=True)
        self.assertEqual((a.status, a.code), (400, "invalid_request"))
        self.assertIn("ended early", a.json["error"]["message"])
        data = b"0123456789"
        a = self.s.raw(f"PUT /{self.account}/content/{sha(data)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                       f"Content-Length: 10\r\n\r\n".encode() + data[:4], shutdown=True)
        self.assertEqual(a.code, "invalid_request")
        chunked = self.s.raw(f"PUT /{self.account}/content/{sha(data)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                             f"Transfer-Encoding: chunked\r\n\r\nzz\r\n".encode(), shutdown=True)
        self.assertEqual(chunked.code, "invalid_request")
        self.assertEqual(list((self.s.data / self.account / "content").iterdir()), [])

    def test_two_gigabyte_claim_is_refused_unread(self):
        for target in (f"/{self.account}/content/{sha(b'big')}", f"/{self.account}/batch", f"/{self.account}/items/contacts/x"):
            started = time.monotonic()
            a = self.s.raw(f"{'POST' if 'batch' in target else 'PUT'} {target} HTTP/1.1\r\nHost: x\r\n"
                           f"Authorization: Bearer {TOKEN}\r\nContent-Length: 2147483648\r\n\r\n".encode())
            self.assertEqual((a.status, a.code), (413, "too_large"), target)
            self.assertEqual(a.headers["Connection"], "close")
            self.assertLess(time.monotonic() - started, 3)

    def test_hostile_ids(self):
        ids = ["a/b", "..", "../../../etc/passwd", "x\0y", "%2F", "100%", "%00", "/", "\\..\\", "é", "a" * 5000]
        dest_ids = set()
        for item_id in ids:
            a = self.s.put_item(self.account, "contacts", item_id, contact())
            self.assertEqual(a.status, 201, item_id)
            dest_ids.add(a.json["dest_id"])
            self.assertEqual(self.s.put_item(self.account, "contacts", item_id, contact()).status, 200, item_id)
        self.assertEqual(len(dest_ids), len(ids))
        names = sorted(p.name for p in (self.s.data / self.account / "items" / "contacts").iterdir())
        self.assertEqual(names, sorted(f"{d}.json" for d in dest_ids), "every file is named by its hash")
        self.assertEqual(sorted(p.name for p in (self.s.data / self.account).iterdir()), ["content", "items"])
        for raw in ("%zz", "%", "%ff", "%c3%28"):
            a = self.s.request("PUT", f"/{self.account}/items/contacts/{raw}", body=contact())
            self.assertEqual((a.status, a.code), (400, "invalid_request"), raw)
        for target in (f"/{self.account}/items/contacts/a/b", f"/{self.account}/items/../x",
                       f"/{self.account}/content/..%2F..%2Fx", f"/{self.account}/items/contacts/"):
            a = self.s.request("PUT", target, body=contact())
            self.assertEqual(a.status // 100, 4, target)
            self.assertIn("error", a.json)
        literal = self.s.request("PUT", f"/{self.account}/items/contacts/..", body=contact())
        self.assertEqual((literal.status, literal.json["dest_id"]) in [(200, d) for d in dest_ids], True,
                         "a literal .. segment is the id '..', as %2E%2E is")
        batch = self.s.request("POST", f"/{self.account}/batch", body={"items": [dict(contact(), id="nul\0id")]})
        self.assertTrue(batch.json["results"][0]["created"])

    def test_huge_nesting(self):
        deep = b"[" * 100000 + b"]" * 100000
        a = self.s.request("PUT", f"/{self.account}/items/contacts/c1", body=deep, headers={"Content-Type": "application/json"})
        self.assertEqual((a.status, a.code), (400, "invalid_request"))
        self.assertIn("nested", a.json["error"]["message"])
        nested = contact()
        nested["record"]["x"] = json.loads("[" * 70 + "]" * 70)
        self.assertEqual(self.s.put_item(self.account, "contacts", "c1", nested).code, "invalid_request")
        nested["record"]["x"] = json.loads("[" * 50 + "]" * 50)
        self.assertEqual(self.s.put_item(self.account, "contacts", "c1", nested).status, 201, "50 levels are fine")
        tricky = json.dumps(dict(contact(), note="[[[[{{{{" * 100)).encode()
        self.assertEqual(self.s.request("PUT", f"/{self.account}/items/contacts/c2", body=tricky).status, 201,
                         "brackets inside strings do not count")

    def test_unknown_vertical(self):
        a = self.s.put_item(self.account, "bookmarks", "b1", contact())
        self.assertEqual((a.status, a.code), (422, "unsupported"))
        self.assertEqual(self.s.put_item(self.account, "Contacts", "b1", contact()).code, "unsupported")

    def test_bad_account_names(self):
        for name in ("..", ".", "%2e%2e", "a" * 65, "a%2Fb", "sp ace"):
            a = self.s.raw(f"GET /{name}/containers?vertical=contacts HTTP/1.1\r\nHost: x\r\n"
                           f"Authorization: Bearer {TOKEN}\r\n\r\n".encode())
            self.assertEqual(a.status // 100, 4, name)
            self.assertIn("error", a.json)
        self.assertEqual(sorted(p.name for p in self.s.data.iterdir() if p.name in ("..", ".", "a" * 65)), [])

    def test_unknown_paths_and_methods(self):
        a = self.s.request("GET", f"/{self.account}/nothing")
        self.assertEqual((a.status, a.code), (404, "not_found"))
        self.assertEqual(self.s.request("GET", f"/{self.account}/containers/").code, "not_found")
        wrong = self.s.request("DELETE", f"/{self.account}/items/contacts/c1")
        self.assertEqual((wrong.status, wrong.code, wrong.headers["Allow"]), (405, "method_not_allowed", "PUT"))
        self.assertEqual(self.s.request("POST", "/").status, 405)
        odd = self.s.request("BREW", f"/{self.account}/")
        self.assertEqual(odd.status // 100, 5 if odd.status == 501 else 4)
        self.assertIn("code", odd.json["error"])
        garbage = self.s.raw(b"GARBAGE\r\n\r\n")
        self.assertEqual((garbage.status, garbage.code), (400, "invalid_request"))
        self.assertEqual(self.s.request("POST", f"/_test/{self.account}/nothing", token=None).status, 404)

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=10)
        try:
            socks = []
            for target in ("/", f"/{self.account}/containers?vertical=contacts", f"/{self.account}/nothing", "/"):
                conn.request("GET", target, headers={"Authorization": f"Bearer {TOKEN}"})
                resp = conn.getresponse()
                resp.read()
                self.assertIsNotNone(resp.headers["Content-Length"])
                socks.append(conn.sock)
            self.assertEqual(len({id(s) for s in socks}), 1, "one connection for every request")
        finally:
            conn.close()

    def test_log_lines(self):
        self.s.signed("GET", f"/{self.account}/containers?vertical=contacts")
        self.s.request("GET", f"/{self.account}/containers?vertical=contacts")
        time.sleep(0.2)
        log = self.s.log_path.read_text()
        self.assertNotIn(TOKEN, log)
        self.assertNotIn("signature=", log)
        self.assertNotIn("?vertical", log)
        self.assertRegex(log, rf"GET /{self.account}/containers 200 [0-9.]+ms")


class LimitsTest(unittest.TestCase):
    """--rate, --daily-quota and a short --token-lifetime, each with a service of its own."""

    def serve(self, *options):
        service = Service("--token", TOKEN, "--test-hooks", *options)
        self.addCleanup(service.cleanup)
        return service

    def test_rate_limit(self):
        s = self.serve("--rate", "3")
        for _ in range(10):
            self.assertEqual(s.request("GET", "/alice/", token=None).status, 200, "GET / is not counted")
        answers = [s.request("GET", "/alice/containers?vertical=contacts") for _ in range(8)]
        limited = [a for a in answers if a.status == 429]
        self.assertTrue(limited, [a.status for a in answers])
        self.assertEqual((limited[0].code, limited[0].json["error"]["retry_after"], limited[0].headers["Retry-After"]),
                         ("rate_limited", 1, "1"))
        self.assertEqual(s.request("GET", "/bob/containers?vertical=contacts").status, 200, "per account")
        time.sleep(1.1)
        self.assertEqual(s.request("GET", "/alice/containers?vertical=contacts").status, 200)

    def test_quota(self):
        s = self.serve("--daily-quota", "3")
        for _ in range(3):
            self.assertEqual(s.request("GET", "/alice/containers?vertical=contacts").status, 200)
        a = s.request("GET", "/alice/containers?vertical=contacts")
        self.assertEqual((a.status, a.code), (429, "quota_exhausted"))
        error = a.json["error"]
        self.assertTrue(0 < error["retry_after"] <= 86400)
        self.assertEqual(a.headers["Retry-After"], str(error["retry_after"]))
        self.assertRegex(error["resume_at"], r"^\d{4}-\d\d-\d\dT00:00:00Z$")
        self.assertEqual(s.request("GET", "/alice/", token=None).status, 200, "GET / is not counted")

        hook = s.request("POST", "/_test/alice/quota", body={"remaining": 0, "reset_in_seconds": 2}, token=None)
        self.assertEqual(hook.status, 200)
        a = s.request("GET", "/alice/containers?vertical=contacts")
        self.assertEqual(a.code, "quota_exhausted")
        self.assertLessEqual(a.json["error"]["retry_after"], 2)
        time.sleep(2.2)
        self.assertEqual(s.request("GET", "/alice/containers?vertical=contacts").status, 200, "the quota was reset")

    def test_expired_access_token_and_refresh(self):
        s = self.serve("--token-lifetime", "1")
        form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": TOKEN, "client_id": "any"}).encode()
        t = s.request("POST", "/oauth/token", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"},
                      token=None).json
        self.assertEqual(t["expires_in"], 1)
        target = "/alice/containers?vertical=contacts"
        self.assertEqual(s.request("GET", target, token=t["access_token"]).status, 200)
        time.sleep(1.2)
        expired = s.request("GET", target, token=t["access_token"])
        self.assertEqual((expired.status, expired.code), (401, "invalid_token"))
        self.assertIn("expired", expired.json["error"]["message"])


class DurabilityTest(unittest.TestCase):
    """What survives a restart: the items, their ids, the sync tokens; a damaged file is
    listed as a failure, never dropped."""

    def test_restart(self):
        s = Service("--token", TOKEN)
        self.addCleanup(s.cleanup)
        for n in range(3):
            s.put_item("alice", "contacts", f"c{n}", contact(name=f"P{n}"))
        family = containers(s, "alice")["Family"]
        before, _, token, _ = all_pages(s, "alice", family)
        (s.data / "alice" / "content" / ".tmp-leftover").write_bytes(b"half an upload")
        s.stop()
        s.start()
        after, failures, token_after, _ = all_pages(s, "alice", family)
        self.assertEqual((after, failures, token_after), (before, [], token))
        self.assertFalse((s.data / "alice" / "content" / ".tmp-leftover").exists())
        self.assertEqual(all_pages(s, "alice", family, "changes", since=token)[0], [])
        self.assertEqual(s.put_item("alice", "contacts", "c0", contact(name="P0")).status, 200, "still held")

        damaged = before[1]["id"]
        (s.data / "alice" / "items" / "contacts" / f"{damaged}.json").write_text('{"key": ')
        s.stop()
        s.start()
        items, failures, _, _ = all_pages(s, "alice", family)
        self.assertEqual([i["id"] for i in items], [before[0]["id"], before[2]["id"]])
        found = containers(s, "alice")
        self.assertEqual(list(found), ["", "Family"], "a damaged item's container is unknown: the default one")
        _, failures, _, _ = all_pages(s, "alice", found[""])
        self.assertEqual([f["id"] for f in failures], [damaged])
        self.assertIn("cannot be read", failures[0]["reason"])
        expired = s.request("GET", f"/alice/containers/{family}/changes?since={token}")
        self.assertEqual(expired.code, "sync_token_expired", "a damaged item's seq is unknown: old tokens expire")
        self.assertEqual(s.put_item("alice", "contacts", "c1", contact(name="P1")).status, 201, "put again, it is whole")
        self.assertEqual(len(all_pages(s, "alice", family)[0]), 3)
        self.assertNotIn("", containers(s, "alice"))


if __name__ == "__main__":
    unittest.main()
