"""In-memory storage for the Microsoft Graph fake (one mailbox per user).

Stored resources carry internal bookkeeping keys that start with "_"
(``_seq``: the user's change counter when last written; ``_deleted``:
tombstone kept for delta queries).  They are stripped before rendering.
"""
import base64
import json
import os
import secrets
import threading
from datetime import datetime, timezone


def now_iso():
    """DateTimeOffset as Outlook prints it: UTC, seconds, trailing Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(prefix="AAMkAD"):
    """An opaque Outlook-looking id.  Like real Outlook REST ids it is
    base64url text that may end in '=' padding, so clients must treat ids
    as opaque strings and percent-encode them where needed."""
    raw = secrets.token_bytes(40)
    return prefix + base64.urlsafe_b64encode(raw).decode()[:54] + "AAA="


def new_change_key():
    return base64.b64encode(secrets.token_bytes(18)).decode()


def public(obj):
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


def b64e(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, sort_keys=True).encode()).decode().rstrip("=")


def b64d(s):
    """Decode a token made by b64e; None when it is not one."""
    try:
        pad = "=" * (-len(s) % 4)
        v = json.loads(base64.urlsafe_b64decode(s + pad).decode())
        return v if isinstance(v, dict) else None
    except Exception:
        return None


class Store:
    def __init__(self, path=None):
        self.lock = threading.RLock()
        self.path = path
        self.users = {}
        if path and os.path.exists(path):
            with open(path) as f:
                self.users = json.load(f).get("users", {})

    def user(self, name):
        with self.lock:
            u = self.users.get(name)
            if u is None:
                root = new_id("AQMkAD")
                u = {"seq": 0, "epoch": 0, "root": root,
                     "folders": {root: {"id": root, "displayName": "Contacts",
                                        "parentFolderId": new_id("AQMkAD"), "_seq": 0}},
                     "contacts": {}, "photos": {}}
                self.users[name] = u
            return u

    def bump(self, u):
        u["seq"] += 1
        return u["seq"]

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps({"users": self.users}))

    def save(self):
        if not self.path:
            return
        with self.lock:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"users": self.users}, f)
            os.replace(tmp, self.path)
