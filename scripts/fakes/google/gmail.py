"""Gmail API v1 (profile, labels, messages, history).

Reference: https://developers.google.com/gmail/api/reference/rest
Usage limits: https://developers.google.com/gmail/api/reference/quota
Errors: https://developers.google.com/gmail/api/guides/handle-errors
Synchronization: https://developers.google.com/gmail/api/guides/sync
Labels: https://developers.google.com/gmail/api/guides/labels
Uploads: https://developers.google.com/gmail/api/guides/uploads

Messages are stored byte for byte (base64 in the state); `format=raw` gives
back exactly the imported bytes.  Gmail does not deduplicate by Message-ID:
importing the same message twice makes two messages, here as there.
"""
import base64
import email
import email.header
import email.policy
import email.utils
import html
import re
import time
from datetime import datetime, timezone

import gfake_common as C

API = "gmail"
A = "https://www.googleapis.com/auth/"
MAIL = "https://mail.google.com/"
MODIFY, READONLY, METADATA = A + "gmail.modify", A + "gmail.readonly", A + "gmail.metadata"
INSERT, LABELS, COMPOSE = A + "gmail.insert", A + "gmail.labels", A + "gmail.compose"
# Authorization scopes as listed on each method's reference page.
READ = (MAIL, MODIFY, READONLY, METADATA)
CONTENT = (MAIL, MODIFY, READONLY)          # what gmail.metadata may not do (raw/full, q)
PROFILE = (MAIL, MODIFY, READONLY, METADATA, COMPOSE)
IMPORT = (MAIL, MODIFY, INSERT)
WRITE = (MAIL, MODIFY)
DELETE = (MAIL,)
LABEL_READ = (MAIL, MODIFY, READONLY, METADATA, LABELS)
LABEL_WRITE = (MAIL, MODIFY, LABELS)

# Set by server.py from --history-keep and --gmail-max-message.
HISTORY_KEEP = 10000
# users.messages.import: "Note that the maximum size of the message is 150MB."
MAX_MESSAGE = 150 * 1024 * 1024
MAX_LABELS = 10000      # Label resource: "The maximum number of labels supported for a user's mailbox is 10,000."
MAX_MODIFY_LABELS = 100  # messages.modify: "You can add up to 100 labels with each update."

SYSTEM_LABELS = ["INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT", "CHAT",
                 "CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES",
                 "CATEGORY_FORUMS"]
# Labels guide: SENT and DRAFT cannot be applied manually (import may set SENT; see README).
NOT_APPLICABLE = {"DRAFT", "SENT", "CHAT"}
# Names a user label may not take: the system labels' names ("System label names are reserved;
# no USER label can be created with the same name as any SYSTEM label") and their display names.
RESERVED_NAMES = {n.lower() for n in SYSTEM_LABELS} | {
    "inbox", "sent", "sent mail", "draft", "drafts", "spam", "trash", "bin", "starred", "important", "unread",
    "chat", "chats", "all mail", "scheduled", "snoozed"}
HISTORY_TYPES = ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"]
MESSAGE_KEYS = {"id", "threadId", "labelIds", "snippet", "historyId", "internalDate", "payload", "sizeEstimate",
                "raw", "classificationLabelValues"}
LABEL_KEYS = {"id", "name", "messageListVisibility", "labelListVisibility", "type", "messagesTotal",
              "messagesUnread", "threadsTotal", "threadsUnread", "color"}
IMPORT_PARAMS = ["internalDateSource", "neverMarkSpam", "processForCalendar", "deleted"]


def bad(msg, reason="invalidArgument", location=None):
    return C.ApiError(400, msg, reason=reason, violation=True, location=location,
                      location_type="parameter" if location else None)


def not_found():
    return C.ApiError(404, "Requested entity was not found.", reason="notFound", status="NOT_FOUND")


def box(u):
    """The user's mailbox, created on first use."""
    b = u.get("gmail")
    if b is None:
        b = {"labels": {}, "messages": {}, "history": [], "historyId": 1000, "floor": 1000, "nextLabel": 1,
             "nextMsg": 0}
        u["gmail"] = b
    return b


def check_user(ctx):
    """userId: "The user's email address. The special value me can be used to indicate the authenticated user." """
    uid = ctx.match.group("userId")
    if uid not in ("me", "%s@example.com" % ctx.user):
        raise C.ApiError(403, "Delegation denied for %s" % uid, reason="forbidden", violation=True)
    return box(ctx.u)


def only_metadata(ctx):
    return not any(s in ctx.scopes for s in CONTENT)


def expire_sync(u):
    """The expire_sync_tokens fault: every startHistoryId issued so far (the mailbox's
    current one too) now answers 404; the mailbox moves on to a new id, valid from now."""
    b = box(u)
    b["history"] = []
    bump(b)
    b["floor"] = b["historyId"]


# ---- history ---------------------------------------------------------------------------
def bump(b):
    """History ids "increase chronologically but are not contiguous with random gaps in
    between valid IDs": the fake steps by 1 to 3."""
    b["historyId"] += 1 + (b["historyId"] * 2654435761 >> 5) % 3
    return b["historyId"]


def ref(m):
    return {"id": m["id"], "threadId": m["threadId"], "labelIds": list(m["labelIds"])}


def record(b, **entries):
    """Append one history record (kept up to HISTORY_KEEP per mailbox)."""
    hid = bump(b)
    rec = {"id": hid}
    rec.update(entries)
    b["history"].append(rec)
    while len(b["history"]) > HISTORY_KEEP:
        old = b["history"].pop(0)
        b["floor"] = old["id"]
    if HISTORY_KEEP == 0:
        b["floor"] = hid
    return hid


# ---- labels ----------------------------------------------------------------------------
def all_labels(b):
    out = [{"id": n, "name": n, "type": "system"} for n in SYSTEM_LABELS]
    out.extend(sorted(b["labels"].values(), key=lambda x: x["_ord"]))
    return out


def find_label(b, lid):
    if lid in SYSTEM_LABELS:
        return {"id": lid, "name": lid, "type": "system"}
    return b["labels"].get(lid)


def render_label(b, lab, counts):
    out = {k: v for k, v in lab.items() if not k.startswith("_")}
    if counts:
        live = [m for m in b["messages"].values() if not m.get("_deleted") and lab["id"] in m["labelIds"]]
        unread = [m for m in live if "UNREAD" in m["labelIds"]]
        out["messagesTotal"] = len(live)
        out["messagesUnread"] = len(unread)
        out["threadsTotal"] = len({m["threadId"] for m in live})
        out["threadsUnread"] = len({m["threadId"] for m in unread})
    return out


# https://developers.google.com/gmail/api/reference/rest/v1/users.labels/list
def list_labels(ctx):
    ctx.params([])
    b = check_user(ctx)
    return {"labels": [render_label(b, lab, False) for lab in all_labels(b)]}


# https://developers.google.com/gmail/api/reference/rest/v1/users.labels/get
def get_label(ctx):
    ctx.params([])
    b = check_user(ctx)
    lab = find_label(b, ctx.match.group("id"))
    if lab is None:
        raise not_found()
    return render_label(b, lab, True)


def check_label_name(name):
    if not isinstance(name, str) or not name.strip():
        raise bad("Label name is required.", reason="invalidArgument")
    if name != name.strip() or any(not p.strip() for p in name.split("/")) or any(ord(c) < 32 for c in name):
        raise bad("Invalid label name: %r" % name)
    if name.lower() in RESERVED_NAMES or name.upper().startswith("CATEGORY_"):
        raise bad("Invalid label name: %r (reserved for a system label)" % name)
    return name


# https://developers.google.com/gmail/api/reference/rest/v1/users.labels/create
def create_label(ctx):
    ctx.params([])
    b = check_user(ctx)
    body = C.check_object(ctx.body, LABEL_KEYS, "label", API)
    name = check_label_name(body.get("name"))
    if body.get("type") not in (None, "user"):
        raise bad("Only user labels can be created (type %r)." % body["type"])
    mlv = body.get("messageListVisibility")
    if mlv is not None and mlv not in ("show", "hide"):
        raise bad("Invalid messageListVisibility: %r" % mlv)
    llv = body.get("labelListVisibility")
    if llv is not None and llv not in ("labelShow", "labelShowIfUnread", "labelHide"):
        raise bad("Invalid labelListVisibility: %r" % llv)
    color = body.get("color")
    if color is not None:
        C.check_object(color, {"textColor", "backgroundColor"}, "label.color", API)
        for k in ("textColor", "backgroundColor"):
            if not re.match(r"^#[0-9a-fA-F]{6}$", str(color.get(k, ""))):
                raise bad("Invalid label color %s: %r" % (k, color.get(k)))
    if any(x["name"].lower() == name.lower() for x in b["labels"].values()):
        # What Gmail answers for a duplicate name (a race or a retry, not a client bug).
        raise C.ApiError(409, "Label name exists or conflicts", reason="aborted", status="ABORTED")
    if len(b["labels"]) >= MAX_LABELS:
        raise C.ApiError(403, "Too many labels (at most %d)." % MAX_LABELS, reason="forbidden")
    lid = "Label_%d" % b["nextLabel"]
    b["nextLabel"] += 1
    lab = {"id": lid, "name": name, "type": "user", "_ord": b["nextLabel"]}
    if mlv:
        lab["messageListVisibility"] = mlv
    if llv:
        lab["labelListVisibility"] = llv
    if color:
        lab["color"] = dict(color)
    b["labels"][lid] = lab
    return render_label(b, lab, False)


# ---- message parsing -------------------------------------------------------------------
def raw_of(m):
    return base64.b64decode(m["_raw"])


def parse(data):
    try:
        return email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:  # the parser is lenient; this also catches RecursionError on absurd nesting
        return None


def header_text(v):
    """A header value unfolded, with RFC 2047 encoded words decoded."""
    v = re.sub(r"\r?\n[ \t]+", " ", str(v))
    try:
        return str(email.header.make_header(email.header.decode_header(v)))
    except Exception:
        return v


def subject_key(s):
    s = header_text(s or "")
    while True:
        t = re.sub(r"^\s*(re|fwd?|aw|sv|wg)\s*(\[\d+\])?\s*:\s*", "", s, flags=re.I)
        if t == s:
            break
        s = t
    return " ".join(s.split()).lower()


def first_text(msg, depth=0):
    if msg is None or depth > 30:
        return ""
    if msg.is_multipart():
        for p in msg.get_payload() or []:
            if isinstance(p, email.message.Message):
                t = first_text(p, depth + 1)
                if t:
                    return t
        return ""
    if msg.get_content_type() not in ("text/plain", "text/html"):
        return ""
    try:
        data = msg.get_payload(decode=True) or b""
        text = data.decode(msg.get_content_charset() or "utf-8", errors="replace")
    except Exception:  # unknown charset and the like
        text = ""
    if msg.get_content_type() == "text/html":
        text = re.sub(r"<[^>]*>", " ", text)
    return text


def snippet_of(msg):
    return html.escape(" ".join(first_text(msg).split())[:200])


def msg_ids(v):
    return re.findall(r"<[^<>\s]+>", header_text(v or ""))


def attachment_id(mid, pid):
    return "ANGjd" + C.b64url(("%s:%s" % (mid, pid)).encode())


def part_json(part, pid, mid, depth=0):
    headers = [{"name": k, "value": header_text(v)} for k, v in part.items()]
    out = {"partId": pid, "mimeType": part.get_content_type(), "filename": header_text(part.get_filename() or ""),
           "headers": headers}
    if part.is_multipart() and depth < 30:
        out["body"] = {"size": 0}
        subs = [p for p in (part.get_payload() or []) if isinstance(p, email.message.Message)]
        out["parts"] = [part_json(p, ("%s.%d" % (pid, i)) if pid else str(i), mid, depth + 1)
                        for i, p in enumerate(subs)]
        return out
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        data = b""
    if not isinstance(data, bytes):
        data = b""
    if out["filename"]:
        out["body"] = {"attachmentId": attachment_id(mid, pid), "size": len(data)}
    elif data:
        out["body"] = {"size": len(data), "data": C.b64url(data)}
    else:
        out["body"] = {"size": 0}
    return out


def find_part(part, pid, want, depth=0):
    if pid == want:
        return part
    if part.is_multipart() and depth < 30:
        subs = [p for p in (part.get_payload() or []) if isinstance(p, email.message.Message)]
        for i, p in enumerate(subs):
            got = find_part(p, ("%s.%d" % (pid, i)) if pid else str(i), want, depth + 1)
            if got is not None:
                return got
    return None


def render_message(m, fmt, metadata_headers=()):
    out = {"id": m["id"], "threadId": m["threadId"], "labelIds": list(m["labelIds"]), "snippet": m["snippet"],
           "sizeEstimate": m["sizeEstimate"], "historyId": str(m["historyId"]),
           "internalDate": str(m["internalDate"])}
    if not out["labelIds"]:
        del out["labelIds"]
    if fmt == "raw":
        out["raw"] = C.b64url(raw_of(m))
    elif fmt in ("full", "metadata"):
        msg = parse(raw_of(m))
        if msg is None:
            out["payload"] = {"partId": "", "mimeType": "text/plain", "filename": "", "headers": [],
                              "body": {"size": 0}}
        elif fmt == "full":
            out["payload"] = part_json(msg, "", m["id"])
        else:
            wanted = {h.lower() for h in metadata_headers}
            hdrs = [{"name": k, "value": header_text(v)} for k, v in msg.items()
                    if not wanted or k.lower() in wanted]
            out["payload"] = {"partId": "", "mimeType": msg.get_content_type(), "filename": "", "headers": hdrs,
                              "body": {"size": 0}}
    return out


# ---- profile -----------------------------------------------------------------------------
# https://developers.google.com/gmail/api/reference/rest/v1/users/getProfile
def get_profile(ctx):
    ctx.params([])
    b = check_user(ctx)
    live = [m for m in b["messages"].values() if not m.get("_deleted")]
    return {"emailAddress": "%s@example.com" % ctx.user, "messagesTotal": len(live),
            "threadsTotal": len({m["threadId"] for m in live}), "historyId": str(b["historyId"])}


# ---- messages.list ---------------------------------------------------------------------------
def parse_q(q):
    """A small part of Gmail's search syntax (support.google.com/mail/answer/7190):
    rfc822msgid:, label:, in:, is:, after:, before:, from:, to:, subject:, and -term.
    Other terms are accepted and ignored (they match everything).  Each test takes
    (message, set of its lowercased label names)."""
    boxes = {"inbox": "INBOX", "trash": "TRASH", "spam": "SPAM", "sent": "SENT", "draft": "DRAFT",
             "drafts": "DRAFT", "starred": "STARRED", "important": "IMPORTANT", "chats": "CHAT"}
    tests = []
    for term in re.findall(r'(?:[^\s"]+:)?"[^"]*"|\S+', q or ""):
        neg = term.startswith("-")
        if neg:
            term = term[1:]
        if ":" not in term:
            continue
        op, _, val = term.partition(":")
        op, val = op.lower(), val.strip('"')
        v = val.lower()
        t = None
        if op == "rfc822msgid":
            want = v.strip("<>")
            t = (lambda m, n, w=want: m.get("_msgid", "").strip("<>").lower() == w)
        elif op == "label":
            t = (lambda m, n, v=v: v in n)
        elif op == "in" and v == "anywhere":
            t = (lambda m, n: True)
        elif op == "in":
            t = (lambda m, n, lid=boxes.get(v), v=v: (lid in m["labelIds"]) if lid else (v in n))
        elif op == "is" and v == "read":
            t = (lambda m, n: "UNREAD" not in m["labelIds"])
        elif op == "is" and v in ("unread", "starred", "important"):
            t = (lambda m, n, lid=v.upper(): lid in m["labelIds"])
        elif op in ("after", "before", "older", "newer"):
            try:
                if re.match(r"^\d{1,12}$", val):
                    ms = int(val) * 1000
                else:
                    y, mo, d = [int(x) for x in re.split(r"[/-]", val)]
                    ms = int(datetime(y, mo, d, tzinfo=timezone.utc).timestamp() * 1000)
            except (ValueError, OverflowError):
                continue
            if op in ("after", "newer"):
                t = (lambda m, n, ms=ms: m["internalDate"] >= ms)
            else:
                t = (lambda m, n, ms=ms: m["internalDate"] < ms)
        elif op in ("from", "to", "subject"):
            t = (lambda m, n, op=op, v=v: v in m.get("_" + op, "").lower())
        if t is not None:
            tests.append((lambda m, n, t=t: not t(m, n)) if neg else t)
    low = (q or "").lower()
    return tests, ("in:anywhere" in low or "in:trash" in low or "in:spam" in low)


# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list
def list_messages(ctx):
    P = ctx.params(["maxResults", "pageToken", "q", "labelIds", "includeSpamTrash"], repeatable=("labelIds",))
    b = check_user(ctx)
    size = page_size(ctx, P, "maxResults", 100, 500)
    q = P.str("q")
    if q is not None and only_metadata(ctx):
        raise C.ApiError(403, "Metadata scope does not support 'q' parameter", reason="forbidden", violation=True)
    spam_trash = P.bool("includeSpamTrash", False)
    label_ids = P.list("labelIds")
    for lid in label_ids:
        if find_label(b, lid) is None:
            raise bad("Invalid label: %s" % lid, location="labelIds")
    tests, q_spam_trash = parse_q(q)
    names = {lab["id"]: lab["name"].lower() for lab in all_labels(b)}
    items = []
    for m in b["messages"].values():
        if m.get("_deleted"):
            continue
        if not (spam_trash or q_spam_trash) and ("SPAM" in m["labelIds"] or "TRASH" in m["labelIds"]):
            continue
        if any(lid not in m["labelIds"] for lid in label_ids):
            continue
        lnames = {names.get(x, "") for x in m["labelIds"]}
        if all(t(m, lnames) for t in tests):
            items.append(m)
    fp = P.fingerprint({"pageToken", "maxResults"})
    after, snap = C.page_in(P, fp, ctx.u)
    page, last = C.keyset(items, lambda m: [-m["internalDate"], -m["_ord"]], after, size)
    out = {}
    if page:
        out["messages"] = [{"id": m["id"], "threadId": m["threadId"]} for m in page]
    if last is not None:
        out["nextPageToken"] = C.page_out(last, fp, snap)
    out["resultSizeEstimate"] = len(items)
    return out


def page_size(ctx, P, name, default, hi):
    """maxResults: "The maximum allowed value for this field is 500."  Larger values are
    capped (and recorded as a violation); values below 1 are refused."""
    v = P.int(name, default)
    if v < 1:
        raise bad("Invalid value %d for %s: must be at least 1." % (v, name), location=name)
    if v > hi:
        ctx.fake.violation(ctx.method, ctx.handler.path.split("?")[0],
                           "%s=%d is above the documented maximum %d (capped)" % (name, v, hi))
        v = hi
    return v


# ---- messages.get / attachments.get ---------------------------------------------------------
def get_msg(b, mid):
    if not re.match(r"^[0-9a-fA-F]{1,32}$", mid):
        raise bad("Invalid id value")  # Gmail message ids are hexadecimal
    m = b["messages"].get(mid)
    if m is None or m.get("_deleted"):
        raise not_found()
    return m


# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/get
def get_message(ctx):
    P = ctx.params(["format", "metadataHeaders"], repeatable=("metadataHeaders",))
    b = check_user(ctx)
    fmt = P.enum("format", ["minimal", "full", "raw", "metadata"], "full")
    if fmt in ("full", "raw") and only_metadata(ctx):
        raise C.ApiError(403, "Metadata scope doesn't allow format %s" % fmt.upper(), reason="forbidden",
                         violation=True)
    m = get_msg(b, ctx.match.group("id"))
    return render_message(m, fmt, P.list("metadataHeaders"))


# https://developers.google.com/gmail/api/reference/rest/v1/users.messages.attachments/get
def get_attachment(ctx):
    ctx.params([])
    b = check_user(ctx)
    m = get_msg(b, ctx.match.group("messageId"))
    aid = ctx.match.group("id")
    try:
        mid, _, pid = base64.urlsafe_b64decode(aid[5:] + "=" * (-len(aid[5:]) % 4)).decode().partition(":")
    except Exception:
        raise bad("Invalid attachment id.")
    msg = parse(raw_of(m))
    part = find_part(msg, "", pid) if (msg is not None and mid == m["id"] and aid.startswith("ANGjd")) else None
    if part is None or part.is_multipart():
        raise not_found()
    data = part.get_payload(decode=True) or b""
    return {"attachmentId": aid, "size": len(data), "data": C.b64url(data)}


# ---- messages.import --------------------------------------------------------------------------
def check_label_ids(b, ids, where, allow_sent=False):
    if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
        raise bad("Invalid value at '%s': expected a list of label ids." % where)
    for lid in ids:
        if find_label(b, lid) is None:
            raise bad("Invalid label: %s" % lid)
        if lid in NOT_APPLICABLE and not (allow_sent and lid == "SENT"):
            raise bad("Invalid label: %s (it cannot be applied by clients)" % lid)
    return list(dict.fromkeys(ids))


def check_meta(b, meta, raw_allowed):
    C.check_object(meta, MESSAGE_KEYS, "message", API)
    if "raw" in meta and not raw_allowed:
        raise bad("'raw' must not be set in the metadata of an upload; the message is the media part.")
    labels = check_label_ids(b, meta.get("labelIds") or [], "message.labelIds", allow_sent=True)
    tid = meta.get("threadId")
    if tid is not None:
        C.want_type(tid, str, "message.threadId", API)
    return labels, tid


def import_message(ctx, data, meta, P):
    """users.messages.import: store `data` byte for byte."""
    b = box(ctx.u)
    labels, tid = check_meta(b, meta, True)
    src = P.enum("internalDateSource", ["receivedTime", "dateHeader"], "dateHeader")
    P.bool("neverMarkSpam", False)
    P.bool("processForCalendar", False)
    deleted = P.bool("deleted", False)
    if not data:
        raise bad("'raw' RFC822 payload message string or uploading message via /upload/* URL required",
                  reason="invalidArgument")
    if len(data) > MAX_MESSAGE:
        raise C.ApiError(413, "Message too large: %d bytes; the maximum message size is %d bytes."
                         % (len(data), MAX_MESSAGE), reason="uploadTooLarge", violation=True)
    msg = parse(data)
    now_ms = int(time.time() * 1000)
    internal = now_ms
    if src == "dateHeader" and msg is not None and msg.get("Date"):
        try:
            dt = email.utils.parsedate_to_datetime(header_text(msg.get("Date")))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            internal = int(dt.timestamp() * 1000)
        except (TypeError, ValueError, IndexError, OverflowError):
            internal = now_ms  # "when valid": an unparsable Date falls back to the time received
    subj = subject_key(msg.get("Subject") if msg is not None else "")
    mid_hdr = header_text(msg.get("Message-ID", "")).strip() if msg is not None else ""
    b["nextMsg"] += 1
    mid = "%x" % ((now_ms << 20) + b["nextMsg"] % (1 << 20))
    while mid in b["messages"]:
        b["nextMsg"] += 1
        mid = "%x" % ((now_ms << 20) + b["nextMsg"] % (1 << 20))
    thread = mid
    refs = []
    if msg is not None:
        refs = msg_ids(msg.get("In-Reply-To")) + msg_ids(msg.get("References"))
    # Threading: a message joins the thread of a message it references when the subjects match
    # (the criteria the Message.threadId field lists; import threads as SMTP delivery does).
    parents = [m for m in b["messages"].values() if not m.get("_deleted") and m.get("_msgid") in refs
               and m["_subject"] == subj]
    if tid is not None:
        parents = [m for m in parents if m["threadId"] == tid]
    if parents:
        thread = parents[0]["threadId"]
    m = {"id": mid, "threadId": thread, "labelIds": labels, "internalDate": internal, "_ord": b["nextMsg"],
         "_raw": base64.b64encode(data).decode(), "sizeEstimate": len(data), "snippet": snippet_of(msg),
         "_msgid": mid_hdr, "_subject": subj,
         "_from": header_text(msg.get("From", "")) if msg is not None else "",
         "_to": header_text(msg.get("To", "")) if msg is not None else "",
         # "deleted: Mark the email as permanently deleted (not TRASH) and only visible in
         # Google Vault": the fake keeps it, but no method shows it.
         "_deleted": deleted}
    b["messages"][mid] = m
    if deleted:
        m["historyId"] = b["historyId"]
    else:
        m["historyId"] = record(b, messagesAdded=[{"message": ref(m)}])
    return {"id": m["id"], "threadId": m["threadId"], "labelIds": list(m["labelIds"])}


# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/import (metadata URI, raw in JSON)
def import_json(ctx):
    P = ctx.params(IMPORT_PARAMS)
    check_user(ctx)
    data = C.b64_bytes(ctx.body.get("raw", ""), "message.raw", API) if ctx.body.get("raw") is not None else b""
    return import_message(ctx, data, ctx.body, P)


def media_ok(ctype):
    mt, _ = C.media_type(ctype)
    if not mt.startswith("message/"):
        raise bad("Media type '%s' is not supported. Valid media types: [message/*]" % (mt or None),
                  reason="badContent")


# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/import (upload URI)
def import_upload(ctx):
    P = ctx.params(IMPORT_PARAMS)
    check_user(ctx)
    ut = P.str("uploadType")
    ctype = ctx.headers.get("Content-Type")
    if ut == "media":
        media_ok(ctype)
        return import_message(ctx, ctx.raw, {}, P)
    if ut == "multipart":
        parts = C.parse_related(ctx.raw, ctype, API)
        if len(parts) != 2:
            raise bad("Invalid multipart request: expected a metadata part and a media part, got %d part(s)."
                      % len(parts), reason="badContent")
        meta = C.json_part(parts[0][0], parts[0][1], API)
        media_ok(parts[1][0].get("content-type"))
        check_meta(box(ctx.u), meta, False)
        return import_message(ctx, parts[1][1], meta, P)
    if ut == "resumable":
        meta = {}
        if ctx.raw:
            mt, _ = C.media_type(ctype)
            if mt != "application/json":
                raise bad("The initiating request of a resumable upload takes JSON metadata (or no body).",
                          reason="badContent")
            meta = C.json_part({"content-type": "application/json"}, ctx.raw, API)
        check_meta(box(ctx.u), meta, False)
        xtype = ctx.headers.get("X-Upload-Content-Type")
        if xtype:
            media_ok(xtype)
        total = ctx.headers.get("X-Upload-Content-Length")
        total = int(total) if total and total.isdigit() else None
        if total is not None and total > MAX_MESSAGE:
            raise C.ApiError(413, "Message too large: %d bytes; the maximum message size is %d bytes."
                             % (total, MAX_MESSAGE), reason="uploadTooLarge", violation=True)
        path = "/upload/gmail/v1/users/%s/messages/import" % ctx.match.group("userId")
        return C.start_upload(ctx, path, meta, xtype, total, finish_upload)
    raise bad("Upload requests need uploadType=media, multipart or resumable (got %r)." % ut,
              reason="invalidParameter", location="uploadType")


def finish_upload(ctx, session, data):
    P = C.Params(ctx.query, set(IMPORT_PARAMS) | {"upload_id"}, API)
    return import_message(ctx, data, session["meta"], P)


def session_put(ctx):
    return C.put_chunk(ctx, "/upload/gmail/v1/users/%s/messages/import" % ctx.match.group("userId"))


def session_cancel(ctx):
    return C.cancel_upload(ctx, "/upload/gmail/v1/users/%s/messages/import" % ctx.match.group("userId"))


# ---- modify / trash / untrash / delete -----------------------------------------------------------
def change_labels(b, m, add, remove):
    added = [x for x in add if x not in m["labelIds"]]
    removed = [x for x in remove if x in m["labelIds"] and x not in add]
    if not added and not removed:
        return
    m["labelIds"] = [x for x in m["labelIds"] if x not in removed] + added
    entries = {}
    if added:
        entries["labelsAdded"] = [{"message": ref(m), "labelIds": added}]
    if removed:
        entries["labelsRemoved"] = [{"message": ref(m), "labelIds": removed}]
    m["historyId"] = record(b, **entries)


# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/modify
def modify_message(ctx):
    ctx.params([])
    b = check_user(ctx)
    body = C.check_object(ctx.body, {"addLabelIds", "removeLabelIds"}, "request", API)
    add = check_label_ids(b, body.get("addLabelIds") or [], "addLabelIds")
    remove = check_label_ids(b, body.get("removeLabelIds") or [], "removeLabelIds")
    if len(add) + len(remove) > MAX_MODIFY_LABELS:
        raise bad("At most %d label ids per request." % MAX_MODIFY_LABELS)
    m = get_msg(b, ctx.match.group("id"))
    change_labels(b, m, add, remove)
    return {"id": m["id"], "threadId": m["threadId"], "labelIds": list(m["labelIds"])}


# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/trash
def trash_message(ctx):
    ctx.params([])
    b = check_user(ctx)
    m = get_msg(b, ctx.match.group("id"))
    change_labels(b, m, ["TRASH"], [])
    return render_message(m, "minimal")


# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/untrash
def untrash_message(ctx):
    ctx.params([])
    b = check_user(ctx)
    m = get_msg(b, ctx.match.group("id"))
    change_labels(b, m, [], ["TRASH"])
    return render_message(m, "minimal")


# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/delete
def delete_message(ctx):
    ctx.params([])
    b = check_user(ctx)
    m = get_msg(b, ctx.match.group("id"))
    record(b, messagesDeleted=[{"message": ref(m)}])
    del b["messages"][m["id"]]
    return 204, None


# ---- history.list ---------------------------------------------------------------------------------
# https://developers.google.com/gmail/api/reference/rest/v1/users.history/list
def list_history(ctx):
    P = ctx.params(["startHistoryId", "maxResults", "pageToken", "labelId", "historyTypes"],
                   repeatable=("historyTypes",))
    b = check_user(ctx)
    start = P.str("startHistoryId")
    if start is None or start == "":
        raise bad("Required parameter: startHistoryId", reason="required", location="startHistoryId")
    if not re.match(r"^\d{1,20}$", start):
        raise bad("Invalid value '%s' for startHistoryId: not an unsigned integer." % start,
                  reason="invalidParameter", location="startHistoryId")
    start = int(start)
    size = page_size(ctx, P, "maxResults", 100, 500)
    types = P.list("historyTypes")
    for t in types:
        if t not in HISTORY_TYPES:
            raise bad("Invalid value '%s' for historyTypes; allowed: %s." % (t, ", ".join(HISTORY_TYPES)),
                      reason="invalidParameter", location="historyTypes")
    label = P.str("labelId")
    if start < b["floor"] or start > b["historyId"]:
        # "Supplying an invalid or out of date startHistoryId typically returns an HTTP 404 error code
        # ... If you receive an HTTP 404 error response, your application should perform a full sync."
        raise not_found()
    keys = {"messageAdded": "messagesAdded", "messageDeleted": "messagesDeleted", "labelAdded": "labelsAdded",
            "labelRemoved": "labelsRemoved"}
    wanted = [keys[t] for t in (types or HISTORY_TYPES)]
    recs = []
    for r in b["history"]:
        if r["id"] <= start:
            continue
        out = {"id": str(r["id"])}
        msgs = []
        for k in wanted:
            entries = r.get(k) or []
            if label:
                entries = [e for e in entries if label in e["message"]["labelIds"] or label in e.get("labelIds", [])]
            if entries:
                out[k] = entries
                msgs.extend({"id": e["message"]["id"], "threadId": e["message"]["threadId"]} for e in entries)
        if msgs:
            out["messages"] = msgs
            recs.append(out)
    fp = P.fingerprint({"pageToken", "maxResults"})
    after, snap = C.page_in(P, fp, ctx.u)
    page, last = C.keyset(recs, lambda r: [int(r["id"])], after, size)
    res = {"historyId": str(b["historyId"])}
    if page:
        res["history"] = page
    if last is not None:
        res["nextPageToken"] = C.page_out(last, fp, snap)
    return res


def seed(store, u, data):
    """POST /_fake/seed: {"gmail": {"labels": [{"name": ...}], "messages": [{"raw": base64url
    or "text": RFC 822 text, "labelIds": [...], "internalDateSource": ...}]}}"""
    g = data.get("gmail")
    if not g:
        return {}
    b = box(u)
    made = {"gmailLabels": [], "gmailMessages": []}
    for lab in g.get("labels") or []:
        name = check_label_name(lab["name"])
        lid = "Label_%d" % b["nextLabel"]
        b["nextLabel"] += 1
        b["labels"][lid] = {"id": lid, "name": name, "type": "user", "_ord": b["nextLabel"]}
        made["gmailLabels"].append(lid)

    class _Ctx:
        pass
    ctx = _Ctx()
    ctx.u = u
    for msg in g.get("messages") or []:
        data_b = msg["text"].encode() if "text" in msg else C.b64_bytes(msg["raw"], "raw", API)
        q = {"internalDateSource": [msg.get("internalDateSource", "dateHeader")]}
        meta = {"labelIds": msg.get("labelIds") or []}
        made["gmailMessages"].append(import_message(ctx, data_b, meta, C.Params(q, set(IMPORT_PARAMS), API))["id"])
    return made


def json_limit():
    return MAX_MESSAGE * 4 // 3 + 64 * 1024   # base64 of the largest message plus JSON


def upload_limit():
    return min(C.MAX_UPLOAD, MAX_MESSAGE + 64 * 1024)


B = "/gmail/v1/users/{userId}"
U = "/upload/gmail/v1/users/{userId}"
ROUTES = [
    C.route("GET", B + "/profile", get_profile, API, PROFILE, "gmail.users.getProfile"),
    C.route("GET", B + "/labels", list_labels, API, LABEL_READ, "gmail.users.labels.list"),
    C.route("POST", B + "/labels", create_label, API, LABEL_WRITE, "gmail.users.labels.create", body=True, cost=5),
    C.route("GET", B + "/labels/{id}", get_label, API, LABEL_READ, "gmail.users.labels.get"),
    C.route("GET", B + "/messages", list_messages, API, READ, "gmail.users.messages.list", cost=5),
    C.route("POST", B + "/messages/import", import_json, API, IMPORT, "gmail.users.messages.import", body=True,
            cost=25, max_body=json_limit),
    C.route("POST", U + "/messages/import", import_upload, API, IMPORT, "gmail.users.messages.import",
            body="raw", cost=25, max_body=upload_limit),
    C.route("PUT", U + "/messages/import", session_put, API, IMPORT, "gmail.users.messages.import", body="raw",
            auth=False, max_body=upload_limit),
    C.route("DELETE", U + "/messages/import", session_cancel, API, IMPORT, "gmail.users.messages.import",
            auth=False),
    C.route("GET", B + "/messages/{id}", get_message, API, READ, "gmail.users.messages.get", cost=5),
    C.route("POST", B + "/messages/{id}/modify", modify_message, API, WRITE, "gmail.users.messages.modify",
            body=True, cost=5),
    C.route("POST", B + "/messages/{id}/trash", trash_message, API, WRITE, "gmail.users.messages.trash", cost=5),
    C.route("POST", B + "/messages/{id}/untrash", untrash_message, API, WRITE, "gmail.users.messages.untrash",
            cost=5),
    C.route("DELETE", B + "/messages/{id}", delete_message, API, DELETE, "gmail.users.messages.delete", cost=10),
    C.route("GET", B + "/messages/{messageId}/attachments/{id}", get_attachment, API, (MAIL, MODIFY, READONLY),
            "gmail.users.messages.attachments.get", cost=5),
    C.route("GET", B + "/history", list_history, API, READ, "gmail.users.history.list", cost=2),
]
