"""In-memory storage for the Google fake (one namespace per user).

Every stored resource carries internal bookkeeping keys that start with "_"
(``_seq``: the user's change counter when it was last written; ``_deleted``:
tombstone flag).  They are stripped before anything is rendered to a client.
"""
import base64
import json
import os
import threading
import uuid
from datetime import datetime, timezone


def now_rfc3339():
    """RFC 3339 UTC timestamp with milliseconds, as Google's APIs print them."""
    t = datetime.now(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def new_id(n=26, alphabet="0123456789abcdefghijklmnopqrstuv"):
    """Random id.  The default alphabet is base32hex (lowercase a-v, 0-9),
    the alphabet Calendar event ids must use."""
    raw = uuid.uuid4().int
    out = []
    for _ in range(n):
        raw, r = divmod(raw, len(alphabet))
        out.append(alphabet[r])
        if raw == 0:
            raw = uuid.uuid4().int
    return "".join(out)


def public(obj):
    """Deep copy without internal ("_"-prefixed) keys."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


def b64e(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, sort_keys=True).encode()).decode().rstrip("=")


def b64d(s):
    """Decode a token produced by b64e; returns None when it is not one."""
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
        """Return (creating if needed) the data of one user."""
        with self.lock:
            u = self.users.get(name)
            if u is None:
                u = {"seq": 0, "epoch": 0, "people": {}, "groups": {},
                     "calendars": {}, "calendarList": {}, "events": {},
                     "tasklists": {}, "tasks": {}, "photos": {}}
                self.users[name] = u
                self._init_user(name, u)
            return u

    def _init_user(self, name, u):
        # Contact groups that exist for every account (People API system groups).
        for gid, formatted in (("myContacts", "My Contacts"), ("starred", "Starred")):
            u["groups"][gid] = {
                "resourceName": "contactGroups/" + gid, "groupType": "SYSTEM_CONTACT_GROUP",
                "name": gid, "formattedName": formatted,
                "metadata": {"updateTime": now_rfc3339()}, "_seq": 0, "_members": []}
        # Primary calendar; its id is the account's email address.
        cid = "%s@example.com" % name
        u["calendars"][cid] = {"id": cid, "summary": cid, "timeZone": "UTC", "_primary": True, "_seq": 0}
        u["calendarList"][cid] = {"_seq": 0}
        # Default task list ("@default" alias).
        u["tasklists"]["MDEfallbackDefault"] = {"id": "MDEfallbackDefault", "title": "My Tasks",
                                                "updated": now_rfc3339(), "_default": True, "_seq": 0}

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

