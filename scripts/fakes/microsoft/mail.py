"""Outlook mail: mail folders and messages (Microsoft Graph v1.0).

Loaded by server.py under the module name ``msfake_mail``.

References (https://learn.microsoft.com/graph/api/ + page unless absolute):
  resources   resources/mailfolder, resources/message, resources/recipient, resources/itembody,
              resources/followupflag, resources/singlevaluelegacyextendedproperty,
              resources/extended-properties-overview
  folders     user-list-mailfolders, mailfolder-get, user-post-mailfolders, mailfolder-list-childfolders,
              mailfolder-post-childfolders, mailfolder-update, mailfolder-delete
  messages    user-list-messages, mailfolder-list-messages, message-get, user-post-messages,
              mailfolder-post-messages, message-update, message-delete, message-move, message-delta
  guides      https://learn.microsoft.com/graph/outlook-get-mime-message,
              https://learn.microsoft.com/graph/outlook-send-mime-message,
              https://learn.microsoft.com/graph/delta-query-messages
  MAPI        [MS-OXCMSG] 2.2.1.6 PidTagMessageFlags (mfRead 0x1, mfUnsent 0x8; "After the first
              successful call to RopSaveChangesMessage ... these flags are read-only for the client")
"""
import base64
import binascii
import email
import email.policy
import email.utils
import html
import re
import secrets
import urllib.parse
from datetime import timezone

import msfake_common as C
import msfake_store as S

READ = ["Mail.Read", "Mail.ReadWrite"]
WRITE = ["Mail.ReadWrite"]

DEFAULT_PAGE = 10      # user-list-mailfolders: "the default page size (10 items)"
TOP_MAX = 1000         # list-messages: $top "within the range of 1 and 1000"
DELTA_DEFAULT_PAGE = 10  # see README "Ambiguities"
DELTA_MAX_PAGE = 1000
# user-post-messages: "S/MIME message payloads are currently limited to 4 MB. Submission attempts that
# exceed this limit will result in an HTTP 413 Request Entity Too Large error response."  Applied to
# every message POST body (JSON or MIME) -- see README "Ambiguities".
MAX_POST = 4 * 1024 * 1024

# Well-known folder names (resources/mailfolder): name -> (display name, hidden)
WELL_KNOWN = [("inbox", "Inbox", False), ("drafts", "Drafts", False), ("sentitems", "Sent Items", False),
              ("deleteditems", "Deleted Items", False), ("junkemail", "Junk Email", False),
              ("archive", "Archive", False), ("outbox", "Outbox", False),
              ("conversationhistory", "Conversation History", False), ("clutter", "Clutter", True)]
ROOT_NAME = "msgfolderroot"

FOLDER_PROPS = ["id", "displayName", "parentFolderId", "childFolderCount", "unreadItemCount", "totalItemCount",
                "isHidden"]
MESSAGE_PROPS = ["id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories", "receivedDateTime",
                 "sentDateTime", "hasAttachments", "internetMessageId", "subject", "bodyPreview", "importance",
                 "parentFolderId", "conversationId", "conversationIndex", "isDeliveryReceiptRequested",
                 "isReadReceiptRequested", "isRead", "isDraft", "webLink", "inferenceClassification", "body",
                 "sender", "from", "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "flag"]
ONLY_ON_SELECT = ["internetMessageHeaders", "uniqueBody"]  # message-get: returned only with $select
READ_ONLY = {"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "receivedDateTime", "sentDateTime",
             "hasAttachments", "bodyPreview", "parentFolderId", "conversationId", "conversationIndex", "isDraft",
             "webLink", "uniqueBody"}
RECIPIENT_LISTS = ["toRecipients", "ccRecipients", "bccRecipients", "replyTo"]
# message-update: "Updatable only if isDraft = true."
DRAFT_ONLY = {"bccRecipients", "body", "ccRecipients", "from", "internetMessageId", "replyTo", "sender",
              "subject", "toRecipients", "internetMessageHeaders"}
IGNORED = {"@odata.etag", "@odata.type", "@odata.context"}
NOT_MODELLED_REL = {"attachments", "extensions", "multiValueExtendedProperties", "mentions"}

# Extended properties (resources/extended-properties-overview: "{type} {proptag}").
EXT_TYPES = ["Binary", "BinaryArray", "Boolean", "CLSID", "CLSIDArray", "Currency", "CurrencyArray", "Double",
             "DoubleArray", "Integer", "IntegerArray", "Long", "LongArray", "Null", "Object", "ObjectArray",
             "Short", "ShortArray", "SystemTime", "SystemTimeArray", "String", "StringArray"]
PR_MESSAGE_FLAGS = "Integer 0x0E07"          # PidTagMessageFlags
PR_MESSAGE_DELIVERY_TIME = "SystemTime 0x0E06"  # PidTagMessageDeliveryTime -> receivedDateTime
PR_CLIENT_SUBMIT_TIME = "SystemTime 0x0039"     # PidTagClientSubmitTime -> sentDateTime
MF_READ, MF_UNSENT, MF_HASATTACH = 0x1, 0x8, 0x10
CREATE_ONLY_EXT = {PR_MESSAGE_FLAGS, PR_MESSAGE_DELIVERY_TIME, PR_CLIENT_SUBMIT_TIME}


# ---- storage ------------------------------------------------------------------------------

def ensure(u, user):
    """Every mailbox has the root ("Top of Information Store") and the well-known folders."""
    if "mail_folders" not in u:
        root = S.new_id("AQMkAD")
        u["mail_folders"] = {root: {"id": root, "displayName": "Top of Information Store",
                                    "parentFolderId": S.new_id("AQMkAD"), "isHidden": False, "_wk": ROOT_NAME,
                                    "_seq": 0}}
        u["mail_root"] = root
        for wk, name, hidden in WELL_KNOWN:
            fid = S.new_id("AQMkAD")
            u["mail_folders"][fid] = {"id": fid, "displayName": name, "parentFolderId": root, "isHidden": hidden,
                                      "_wk": wk, "_seq": 0}
        u["messages"] = {}
    return u


def folder_of(ctx, fid):
    ensure(ctx.u, ctx.user)
    f = ctx.u["mail_folders"].get(fid)
    if f is None:
        for x in ctx.u["mail_folders"].values():
            if x.get("_wk") and x["_wk"] == fid.lower() and not x.get("_deleted"):
                return x
    if f is None or f.get("_deleted"):
        raise C.not_found()
    return f


def wk_folder(u, wk):
    return next(f for f in u["mail_folders"].values() if f.get("_wk") == wk)


def live_children(u, parent):
    return [f for f in u["mail_folders"].values() if not f.get("_deleted") and f.get("parentFolderId") == parent]


def live_messages(u, folder_id=None):
    return [m for m in u["messages"].values()
            if not m.get("_deleted") and (folder_id is None or m["parentFolderId"] == folder_id)]


def with_context(ctx, obj, name):
    out = {"@odata.context": ctx.base_url + "/v1.0/$metadata#" + name}
    out.update(obj)
    return out


# ---- folders --------------------------------------------------------------------------------

def render_folder(u, f, select=None):
    msgs = live_messages(u, f["id"])
    full = {"id": f["id"], "displayName": f["displayName"], "parentFolderId": f["parentFolderId"],
            "childFolderCount": len(live_children(u, f["id"])),
            "unreadItemCount": sum(1 for m in msgs if not m["isRead"]), "totalItemCount": len(msgs),
            "isHidden": f["isHidden"]}
    return {k: v for k, v in full.items() if select is None or k in select or k == "id"}


def folder_select(p):
    sel = p.str("$select")
    if sel is None:
        return None
    names = [s.strip() for s in sel.split(",")]
    for n in names:
        if n not in FOLDER_PROPS:
            raise C.bad("Could not find a property named '%s' on type 'microsoft.graph.mailFolder'." % n)
    return set(names)


def list_folder_collection(ctx, parent_id, context_name):
    refuse_unmodelled(ctx, "$search", "$expand")
    p = ctx.params({"$top", "$skip", "$select", "$count", "$orderby", "$filter", "includeHiddenFolders"})
    if p.has("$filter"):
        raise C.not_modelled("$filter on mail folders")
    hidden = p.bool("includeHiddenFolders")
    items = [f for f in live_children(ctx.u, parent_id) if hidden or not f["isHidden"]]
    ctx.context_name = context_name
    u = ctx.u
    return C.page_collection(ctx, items, lambda f, s: render_folder(u, f, s), folder_select, None,
                             {"displayName"}, DEFAULT_PAGE, TOP_MAX, extra={"includeHiddenFolders"},
                             sort_key=lambda f: (f["displayName"].lower(), f["id"]))


def refuse_unmodelled(ctx, *options):
    """Documented OData options this fake does not implement: 501, not a client violation."""
    for name in ctx.query:
        key = name.lower() if name.startswith("$") else "$" + name.lower()
        if key in options:
            raise C.not_modelled("%s here" % key)


def list_folders(ctx):
    """GET /v1.0/me/mailFolders -- https://learn.microsoft.com/graph/api/user-list-mailfolders
    ("the mail folder collection directly under the root folder"; includeHiddenFolders=true)."""
    ensure(ctx.u, ctx.user)
    return list_folder_collection(ctx, ctx.u["mail_root"], "users('%s')/mailFolders" % ctx.user)


def list_child_folders(ctx):
    """GET /v1.0/me/mailFolders/{id}/childFolders -- https://learn.microsoft.com/graph/api/mailfolder-list-childfolders"""
    f = folder_of(ctx, ctx.match["fid"])
    return list_folder_collection(ctx, f["id"], "users('%s')/mailFolders('%s')/childFolders" % (ctx.user, f["id"]))


def get_folder(ctx):
    """GET /v1.0/me/mailFolders/{id} -- https://learn.microsoft.com/graph/api/mailfolder-get
    ({id} may be a well-known name such as inbox)."""
    p = ctx.params({"$select", "$expand"})
    if p.has("$expand"):
        raise C.not_modelled("$expand on a mail folder")
    f = folder_of(ctx, ctx.match["fid"])
    return with_context(ctx, render_folder(ctx.u, f, folder_select(p)), "users('%s')/mailFolders/$entity" % ctx.user)


def check_folder_body(body, creating):
    out = {}
    for k, v in body.items():
        if k in IGNORED or k in ("id", "parentFolderId", "childFolderCount", "unreadItemCount", "totalItemCount"):
            continue
        if k == "displayName":
            if not isinstance(v, str):
                raise C.type_error(k, "Edm.String", v)
        elif k == "isHidden":
            if not isinstance(v, bool):
                raise C.type_error(k, "Edm.Boolean", v)
            if not creating:
                # mailFolder.isHidden: "Once set, you can't update this property."
                raise C.bad("isHidden can be set only when the folder is created.", "ErrorInvalidPropertyUpdate")
        elif k in ("childFolders", "messages", "singleValueExtendedProperties", "multiValueExtendedProperties",
                   "messageRules"):
            raise C.not_modelled("'%s' in a mail folder body" % k)
        else:
            raise C.body_unknown(k, "mailFolder")
        out[k] = v
    if creating and not (out.get("displayName") or "").strip():
        raise C.bad("The folder name is required.", "ErrorInvalidRequest")
    return out


def make_folder(ctx, parent, fields):
    u = ctx.u
    name = fields["displayName"]
    if any(f["displayName"].lower() == name.lower() for f in live_children(u, parent["id"])):
        raise C.GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
    fid = S.new_id("AQMkAD")
    f = {"id": fid, "displayName": name, "parentFolderId": parent["id"], "isHidden": fields.get("isHidden", False),
         "_seq": ctx.store.bump(u)}
    u["mail_folders"][fid] = f
    return f


def create_folder(ctx):
    """POST /v1.0/me/mailFolders -- https://learn.microsoft.com/graph/api/user-post-mailfolders"""
    ctx.params(set())
    ensure(ctx.u, ctx.user)
    f = make_folder(ctx, ctx.u["mail_folders"][ctx.u["mail_root"]], check_folder_body(ctx.body, True))
    return 201, with_context(ctx, render_folder(ctx.u, f), "users('%s')/mailFolders/$entity" % ctx.user)


def create_child_folder(ctx):
    """POST /v1.0/me/mailFolders/{id}/childFolders -- https://learn.microsoft.com/graph/api/mailfolder-post-childfolders"""
    ctx.params(set())
    parent = folder_of(ctx, ctx.match["fid"])
    f = make_folder(ctx, parent, check_folder_body(ctx.body, True))
    return 201, with_context(ctx, render_folder(ctx.u, f),
                             "users('%s')/mailFolders('%s')/childFolders/$entity" % (ctx.user, parent["id"]))


def update_folder(ctx):
    """PATCH /v1.0/me/mailFolders/{id} -- https://learn.microsoft.com/graph/api/mailfolder-update"""
    ctx.params(set())
    f = folder_of(ctx, ctx.match["fid"])
    fields = check_folder_body(ctx.body, False)
    if f.get("_wk"):
        raise C.GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    if "displayName" in fields:
        name = fields["displayName"].strip()
        if not name:
            raise C.bad("The folder name is required.", "ErrorInvalidRequest")
        if any(x["displayName"].lower() == name.lower() and x["id"] != f["id"]
               for x in live_children(ctx.u, f["parentFolderId"])):
            raise C.GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
        f["displayName"] = name
    f["_seq"] = ctx.store.bump(ctx.u)
    return with_context(ctx, render_folder(ctx.u, f), "users('%s')/mailFolders/$entity" % ctx.user)


def delete_folder(ctx):
    """DELETE /v1.0/me/mailFolders/{id} -- https://learn.microsoft.com/graph/api/mailfolder-delete"""
    ctx.params(set())
    f = folder_of(ctx, ctx.match["fid"])
    if f.get("_wk"):
        raise C.GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    u = ctx.u
    todo = [f["id"]]
    while todo:
        x = todo.pop()
        u["mail_folders"][x]["_deleted"] = True
        u["mail_folders"][x]["_seq"] = ctx.store.bump(u)
        todo.extend(y["id"] for y in live_children(u, x))
        for m in live_messages(u, x):
            tombstone(ctx, m)
    return 204, None


# ---- message validation ----------------------------------------------------------------------

def check_recipient(v, prop):
    C.check_members(v, {"emailAddress"}, "recipient", prop)
    ea = C.check_members(v.get("emailAddress"), {"name", "address"}, "emailAddress", prop + ".emailAddress")
    for k in ("name", "address"):
        if ea.get(k) is not None and not isinstance(ea[k], str):
            raise C.type_error(k, "Edm.String", ea[k])
    if not (ea.get("address") or "").strip():
        raise C.bad("%s.emailAddress.address is required." % prop, "ErrorInvalidRecipients")
    return {"emailAddress": {"name": ea.get("name") or ea["address"], "address": ea["address"]}}


def parse_ext_id(pid):
    """Validates an extended property id; answers its canonical form."""
    if not isinstance(pid, str) or len(pid) > 300:
        raise C.bad("Extended property id must be a string.", "ErrorInvalidExtendedPropertyValue")
    m = re.fullmatch(r"\s*(\w+)\s+0x([0-9A-Fa-f]{4})([0-9A-Fa-f]{4})?\s*", pid)
    n = re.fullmatch(r"\s*(\w+)\s+\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}"
                     r"\s+(Name\s+\S.*|Id\s+0x[0-9A-Fa-f]{1,4})\s*", pid)
    typ = (m or n).group(1) if (m or n) else None
    canon = next((t for t in EXT_TYPES if typ and t.lower() == typ.lower()), None)
    if canon is None:
        raise C.bad("The extended property id '%s' is not in a valid format ('{type} {proptag}' or "
                    "'{type} {guid} Name {name}' / '{type} {guid} Id {id}')." % pid[:80],
                    "ErrorInvalidExtendedPropertyValue")
    if m:
        return "%s 0x%s" % (canon, m.group(2).upper())
    return canon + pid.strip()[len(typ):]


def ext_time(value, pid):
    dt = C.parse_dto(value)
    if dt is None:
        raise C.bad("The value '%s' of extended property '%s' is not a valid SystemTime (ISO 8601 with "
                    "offset)." % (str(value)[:60], pid), "ErrorInvalidExtendedPropertyValue")
    return C.fmt_dto(dt)


def check_ext(props, creating):
    if not isinstance(props, list):
        raise C.type_error("singleValueExtendedProperties", "Collection(microsoft.graph."
                           "singleValueLegacyExtendedProperty)", props)
    out = {}
    for p in props:
        C.check_members(p, {"id", "value"}, "singleValueLegacyExtendedProperty", "singleValueExtendedProperties")
        pid = parse_ext_id(p.get("id"))
        v = p.get("value")
        if not isinstance(v, str):
            raise C.type_error("value", "Edm.String", v)
        if pid in CREATE_ONLY_EXT and not creating:
            # [MS-OXCMSG] 2.2.1.6: message flags are read-only after the first save; the delivery and
            # submit times are treated the same way here (see README "Ambiguities").
            raise C.bad("Extended property '%s' can be set only when the message is created." % pid,
                        "ErrorInvalidPropertySet")
        if pid == PR_MESSAGE_FLAGS:
            if not re.fullmatch(r"\d{1,10}", v) or int(v) > 0x7FFFFFFF:
                raise C.bad("PR_MESSAGE_FLAGS (Integer 0x0E07) wants a decimal integer, not '%s'." % v[:40],
                            "ErrorInvalidExtendedPropertyValue")
        elif pid in (PR_MESSAGE_DELIVERY_TIME, PR_CLIENT_SUBMIT_TIME):
            v = ext_time(v, pid)
        out[pid] = v
    return out


def check_message(body, creating):
    """Validate a JSON message body (POST or PATCH); answers the writable part."""
    out = {}
    for k, v in body.items():
        if k in IGNORED or k in READ_ONLY:
            continue  # read-only properties (receivedDateTime, sentDateTime, ...) are ignored on write
        if k in NOT_MODELLED_REL:
            raise C.not_modelled("'%s' in a message body" % k)
        if k == "subject" or k == "internetMessageId":
            if v is not None and not isinstance(v, str):
                raise C.type_error(k, "Edm.String", v)
        elif k == "body":
            if v is not None:
                C.check_members(v, {"content", "contentType"}, "itemBody", k)
                ct = (v.get("contentType") or "text")
                if not isinstance(ct, str) or ct.lower() not in ("text", "html"):
                    raise C.body_error("The value '%s' is not a valid bodyType (text, html)." % ct)
                if v.get("content") is not None and not isinstance(v["content"], str):
                    raise C.type_error("content", "Edm.String", v["content"])
                v = {"contentType": ct.lower(), "content": v.get("content") or ""}
        elif k in RECIPIENT_LISTS:
            if not isinstance(v, list):
                raise C.type_error(k, "Collection(microsoft.graph.recipient)", v)
            v = [check_recipient(r, k) for r in v]
        elif k in ("from", "sender"):
            if v is not None:
                v = check_recipient(v, k)
        elif k == "categories":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise C.type_error(k, "Collection(Edm.String)", v)
        elif k == "importance":
            if not isinstance(v, str) or v.lower() not in ("low", "normal", "high"):
                raise C.body_error("The value '%s' is not a valid importance (low, normal, high)." % v)
            v = v.lower()
        elif k == "inferenceClassification":
            if v not in ("focused", "other"):
                raise C.body_error("The value '%s' is not a valid inferenceClassificationType." % v)
        elif k in ("isRead", "isReadReceiptRequested", "isDeliveryReceiptRequested"):
            if not isinstance(v, bool):
                raise C.type_error(k, "Edm.Boolean", v)
        elif k == "flag":
            C.check_members(v, {"flagStatus", "startDateTime", "dueDateTime", "completedDateTime"},
                            "followupFlag", k)
            if v.get("flagStatus", "notFlagged") not in ("notFlagged", "flagged", "complete"):
                raise C.body_error("The value '%s' is not a valid followupFlagStatus (notFlagged, flagged, "
                                   "complete)." % v.get("flagStatus"))
            flag = {"flagStatus": v.get("flagStatus", "notFlagged")}
            for d in ("startDateTime", "dueDateTime", "completedDateTime"):
                if v.get(d) is not None:
                    flag[d] = C.check_dttz(v[d], "flag." + d)
            v = flag
        elif k == "internetMessageHeaders":
            if not isinstance(v, list):
                raise C.type_error(k, "Collection(microsoft.graph.internetMessageHeader)", v)
            for h in v:
                C.check_members(h, {"name", "value"}, "internetMessageHeader", k)
                if not isinstance(h.get("name"), str) or not isinstance(h.get("value"), str):
                    raise C.type_error(k, "microsoft.graph.internetMessageHeader", h)
                # message resource: "only ... custom headers ... prefixed with x- or X-"
                if not h["name"].lower().startswith("x-") or not re.fullmatch(r"[!-9;-~]+", h["name"]) or \
                        "\r" in h["value"] or "\n" in h["value"]:
                    raise C.bad("internetMessageHeaders may only carry custom 'x-' headers with single-line "
                                "values ('%s')." % h["name"][:60], "InvalidInternetMessageHeader")
            v = [{"name": h["name"], "value": h["value"]} for h in v]
        elif k == "singleValueExtendedProperties":
            v = check_ext(v, creating)
        else:
            raise C.body_unknown(k, "message")
        out[k] = v
    return out


# ---- MIME ---------------------------------------------------------------------------------------

def decode_mime_body(raw):
    """The request body of a MIME create: base64 text (whitespace allowed, as .NET's decoder allows)."""
    text = re.sub(rb"[ \t\r\n]", b"", raw or b"")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        data = None
    if not data:
        # user-post-messages: malformed MIME -> 400 "Invalid base64 string for MIME content."
        raise C.bad("Invalid base64 string for MIME content.", "ErrorMimeContentInvalidBase64String")
    if not re.match(rb"[!-9;-~]+[ \t]*:", data):
        raise C.bad("The MIME content does not start with an Internet message header.", "ErrorMimeContentInvalid")
    return data


def text(s):
    """Header text as Graph answers it: the 8-bit bytes the email package keeps as surrogate
    escapes (unencoded UTF-8 in a header, RFC 6532) read as UTF-8, so that no lone surrogate
    reaches the JSON answer."""
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def addr_list(value):
    out = []
    try:
        for a in getattr(value, "addresses", ()) or ():
            if a.addr_spec and a.addr_spec != "<>":
                spec = text(a.addr_spec)
                out.append({"emailAddress": {"name": text(a.display_name or "") or spec, "address": spec}})
    except Exception:  # malformed address headers: nothing usable
        pass
    return out


def header_str(msg, raw_msg, name):
    """A header decoded (RFC 2047) when possible, else as raw text, else None; never raises."""
    for m in (msg, raw_msg):
        try:
            v = m.get(name)
            return None if v is None else text(str(v).strip())
        except Exception:
            continue
    return None


def fields_from_mime(data):
    """What Graph reads out of an imported MIME message (the bytes themselves are kept verbatim)."""
    out = {"body": {"contentType": "text", "content": ""}, "hasAttachments": False}
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
        raw_msg = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:
        return out
    out["subject"] = header_str(msg, raw_msg, "Subject") or ""
    for prop, hdr in (("from", "From"), ("sender", "Sender")):
        try:
            lst = addr_list(msg.get(hdr))
        except Exception:
            lst = []
        if lst:
            out[prop] = lst[0]
    out.setdefault("sender", out.get("from"))
    for prop, hdr in (("toRecipients", "To"), ("ccRecipients", "Cc"), ("bccRecipients", "Bcc"),
                      ("replyTo", "Reply-To")):
        try:
            out[prop] = addr_list(msg.get(hdr))
        except Exception:
            out[prop] = []
    mid = header_str(msg, raw_msg, "Message-ID")
    if mid:
        out["internetMessageId"] = re.sub(r"\s+", "", mid)[:500]
    date = header_str(msg, raw_msg, "Date")
    if date:
        try:
            dt = email.utils.parsedate_to_datetime(date)
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            out["sentDateTime"] = C.fmt_dto(dt)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    imp = (header_str(msg, raw_msg, "Importance") or "").lower()
    if imp in ("low", "normal", "high"):
        out["importance"] = imp
    try:
        part = msg.get_body(preferencelist=("html", "plain"))
        if part is not None:
            out["body"] = {"contentType": "html" if part.get_content_subtype() == "html" else "text",
                           "content": str(part.get_content())}
        out["hasAttachments"] = any(True for _ in msg.iter_attachments()) if msg.is_multipart() else False
    except Exception:  # RecursionError, unknown charsets, broken encodings: keep what we have
        pass
    return out


def preview(body):
    text = body.get("content") or ""
    if body.get("contentType") == "html":
        text = html.unescape(re.sub(r"(?s)<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text).strip()[:255]


def build_mime(m):
    """The MIME Graph would produce for a message created from JSON (GET .../$value)."""
    msg = email.message.EmailMessage(policy=email.policy.SMTP)

    def fmt(r):
        ea = r["emailAddress"]
        return email.utils.formataddr((ea.get("name") or "", ea["address"]))

    try:
        if m.get("from"):
            msg["From"] = fmt(m["from"])
        if m.get("sender") and m.get("sender") != m.get("from"):
            msg["Sender"] = fmt(m["sender"])
        for prop, hdr in (("toRecipients", "To"), ("ccRecipients", "Cc"), ("bccRecipients", "Bcc"),
                          ("replyTo", "Reply-To")):
            if m.get(prop):
                msg[hdr] = ", ".join(fmt(r) for r in m[prop])
        msg["Subject"] = m.get("subject") or ""
        sent = C.parse_dto(m["sentDateTime"])
        msg["Date"] = email.utils.format_datetime(sent)
        msg["Message-ID"] = m["internetMessageId"]
        for h in m.get("internetMessageHeaders") or []:
            msg[h["name"]] = h["value"]
        body = m.get("body") or {}
        msg.set_content(body.get("content") or "", subtype="html" if body.get("contentType") == "html" else "plain")
        return msg.as_bytes()
    except Exception:  # odd header values: fall back to a minimal message
        return (("Subject: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8"
                 "\r\n\r\n" % ((m.get("subject") or "").replace("\r", " ").replace("\n", " "),
                               m["internetMessageId"])).encode("utf-8", "replace") +
                ((m.get("body") or {}).get("content") or "").encode("utf-8", "replace"))


# ---- messages: storage and rendering --------------------------------------------------------

def message_flags(m):
    return (MF_READ if m["isRead"] else 0) | (MF_UNSENT if m["isDraft"] else 0) | \
           (MF_HASATTACH if m["hasAttachments"] else 0)


def new_message(ctx, folder, fields, mime=None):
    """fields: checked JSON fields (or those read from MIME).  Answers the stored message."""
    u = ctx.u
    now = S.now_iso()
    ext = dict(fields.pop("singleValueExtendedProperties", None) or {})
    m = {"categories": [], "receivedDateTime": now, "sentDateTime": now, "hasAttachments": False,
         "internetMessageId": "<%s@fake.outlook.example>" % secrets.token_hex(12), "subject": "",
         "importance": "normal", "isDeliveryReceiptRequested": False, "isReadReceiptRequested": False,
         "isRead": True, "isDraft": True, "inferenceClassification": "focused",
         "body": {"contentType": "text", "content": ""}, "sender": None, "from": None, "toRecipients": [],
         "ccRecipients": [], "bccRecipients": [], "replyTo": [], "flag": {"flagStatus": "notFlagged"},
         "internetMessageHeaders": []}
    m.update(fields)
    if m.get("from") and not m.get("sender"):
        m["sender"] = m["from"]
    if PR_MESSAGE_FLAGS in ext:
        # PidTagMessageFlags set at create time: mfUnsent clear -> not a draft; mfRead -> read.
        flags = int(ext.pop(PR_MESSAGE_FLAGS))
        m["isDraft"] = bool(flags & MF_UNSENT)
        m["isRead"] = bool(flags & MF_READ)
        if "isRead" in fields:
            m["isRead"] = fields["isRead"]
    if PR_MESSAGE_DELIVERY_TIME in ext:
        m["receivedDateTime"] = ext.pop(PR_MESSAGE_DELIVERY_TIME)
    if PR_CLIENT_SUBMIT_TIME in ext:
        m["sentDateTime"] = ext.pop(PR_CLIENT_SUBMIT_TIME)
    mid = S.new_id("AAMkAD")
    m.update({"id": mid, "createdDateTime": now, "lastModifiedDateTime": now, "changeKey": S.new_change_key(),
              "parentFolderId": folder["id"], "conversationId": S.new_id("AAQkAD"),
              "conversationIndex": base64.b64encode(secrets.token_bytes(22)).decode(),
              "bodyPreview": preview(m["body"]),
              "_mime": base64.b64encode(mime).decode() if mime is not None else None, "_ext": ext})
    m["_seq"] = m["_cseq"] = ctx.store.bump(u)
    u["messages"][mid] = m
    return m


def tombstone(ctx, m):
    ctx.u["messages"][m["id"]] = {"id": m["id"], "parentFolderId": m["parentFolderId"], "_deleted": True,
                                  "_cseq": m.get("_cseq", 0), "_seq": ctx.store.bump(ctx.u)}


def render_message(ctx, m, select=None):
    full = {"@odata.etag": 'W/"%s"' % m["changeKey"]}
    for k in MESSAGE_PROPS:
        if select is None or k in select or k == "id":
            full[k] = m.get(k)
    if "webLink" in full:
        full["webLink"] = "https://outlook.office365.com/owa/?ItemID=%s&exvsurl=1&viewmodel=ReadMessageItem" % \
            urllib.parse.quote(m["id"], safe="")
    if select:
        if "internetMessageHeaders" in select:
            full["internetMessageHeaders"] = m.get("internetMessageHeaders") or []
        if "uniqueBody" in select:
            full["uniqueBody"] = m.get("body")
    return S.public(full)


def message_select(p):
    sel = p.str("$select")
    if sel is None:
        return None
    names = [s.strip() for s in sel.split(",")]
    for n in names:
        if n not in MESSAGE_PROPS and n not in ONLY_ON_SELECT:
            raise C.bad("Could not find a property named '%s' on type 'microsoft.graph.message'." % n)
    return set(names)


def message_of(ctx, mid):
    ensure(ctx.u, ctx.user)
    m = ctx.u["messages"].get(mid)
    if m is None or m.get("_deleted"):
        raise C.not_found()
    fid = ctx.match.get("fid")
    if fid is not None and folder_of(ctx, fid)["id"] != m["parentFolderId"]:
        raise C.not_found()
    return m


def ext_value(m, pid):
    if pid == PR_MESSAGE_FLAGS:
        return str(message_flags(m))
    if pid == PR_MESSAGE_DELIVERY_TIME:
        return m["receivedDateTime"]
    if pid == PR_CLIENT_SUBMIT_TIME:
        return m["sentDateTime"]
    return (m.get("_ext") or {}).get(pid)


# ---- messages: handlers ----------------------------------------------------------------------

def refuse_message_filter(expr):
    raise C.not_modelled("$filter on messages")


ORDERABLE = {"receivedDateTime", "sentDateTime", "subject", "createdDateTime", "lastModifiedDateTime", "importance"}


def page_messages(ctx, items, context_name):
    refuse_unmodelled(ctx, "$search", "$expand")
    ctx.context_name = context_name
    # Outlook lists messages newest first unless $orderby says otherwise.
    ranked = sorted(items, key=lambda m: (m["receivedDateTime"], m["id"]), reverse=True)
    rank = {m["id"]: i for i, m in enumerate(ranked)}
    return C.page_collection(ctx, ranked, lambda m, s: render_message(ctx, m, s), message_select,
                             refuse_message_filter, ORDERABLE, DEFAULT_PAGE, TOP_MAX,
                             sort_key=lambda m: rank[m["id"]])


def list_messages(ctx):
    """GET /v1.0/me/messages -- https://learn.microsoft.com/graph/api/user-list-messages (all folders)"""
    ensure(ctx.u, ctx.user)
    return page_messages(ctx, live_messages(ctx.u), "users('%s')/messages" % ctx.user)


def list_folder_messages(ctx):
    """GET /v1.0/me/mailFolders/{id}/messages -- https://learn.microsoft.com/graph/api/mailfolder-list-messages"""
    f = folder_of(ctx, ctx.match["fid"])
    return page_messages(ctx, live_messages(ctx.u, f["id"]),
                         "users('%s')/mailFolders('%s')/messages" % (ctx.user, f["id"]))


EXPAND_EXT = re.compile(r"^\s*singleValueExtendedProperties\s*\(\s*\$filter\s*=\s*id\s+eq\s+'([^']{1,300})'\s*\)\s*$",
                        re.I)


def get_message(ctx):
    """GET /v1.0/me/messages/{id} -- https://learn.microsoft.com/graph/api/message-get
    $expand=singleValueExtendedProperties($filter=id eq '...') -- singlevaluelegacyextendedproperty-get."""
    p = ctx.params({"$select", "$expand"})
    m = message_of(ctx, ctx.match["mid"])
    out = with_context(ctx, render_message(ctx, m, message_select(p)), "users('%s')/messages/$entity" % ctx.user)
    if p.has("$expand"):
        mx = EXPAND_EXT.match(p.str("$expand"))
        if not mx:
            raise C.not_modelled("$expand other than singleValueExtendedProperties($filter=id eq '...')")
        pid = parse_ext_id(mx.group(1))
        v = ext_value(m, pid)
        out["singleValueExtendedProperties"] = [] if v is None else [{"id": pid, "value": v}]
    return out


def get_mime(ctx):
    """GET /v1.0/me/messages/{id}/$value -- https://learn.microsoft.com/graph/outlook-get-mime-message
    Messages created from MIME answer the stored bytes verbatim."""
    ctx.params(set())
    m = message_of(ctx, ctx.match["mid"])
    data = base64.b64decode(m["_mime"]) if m.get("_mime") else build_mime(m)
    return 200, ("raw", "text/plain", data)


def create_message(ctx):
    """POST /v1.0/me/messages and /v1.0/me/mailFolders/{id}/messages --
    https://learn.microsoft.com/graph/api/user-post-messages, mailfolder-post-messages.
    Content-Type application/json (a message) or text/plain (base64 MIME).  /me/messages saves
    into Drafts.  A MIME message is always created as a draft; a JSON message is one unless
    PR_MESSAGE_FLAGS (Integer 0x0E07) is set at create time without mfUnsent (0x8)."""
    ctx.params(set())
    ensure(ctx.u, ctx.user)
    folder = folder_of(ctx, ctx.match["fid"]) if ctx.match.get("fid") else wk_folder(ctx.u, "drafts")
    raw = ctx.raw or b""
    if len(raw) > MAX_POST:
        raise C.GraphError(413, "RequestEntityTooLarge", "The request is larger than the 4 MB limit for a "
                           "message; attach large content with an upload session.", violation=True)
    ctype = (ctx.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype == "text/plain":
        data = decode_mime_body(raw)
        m = new_message(ctx, folder, fields_from_mime(data), mime=data)
    elif ctype == "application/json":
        m = new_message(ctx, folder, check_message(C.json_body(ctx), True))
    else:
        raise C.GraphError(415, "UnsupportedMediaType" if ctype else "BadRequest",
                           "Use application/json for a message or text/plain for base64 MIME content, "
                           "not %r." % ctype, violation=True)
    return 201, with_context(ctx, render_message(ctx, m), "users('%s')/messages/$entity" % ctx.user)


def update_message(ctx):
    """PATCH /v1.0/me/messages/{id} -- https://learn.microsoft.com/graph/api/message-update"""
    ctx.params(set())
    m = message_of(ctx, ctx.match["mid"])
    fields = check_message(ctx.body, False)
    if not m["isDraft"]:
        bad = sorted(k for k in fields if k in DRAFT_ONLY)
        if bad:
            raise C.bad("Update operation is invalid for property of a sent message: %s (updatable only "
                        "while isDraft is true)." % ", ".join(bad), "ErrorInvalidPropertyUpdateSentMessage")
    ext = fields.pop("singleValueExtendedProperties", None)
    if ext:
        m.setdefault("_ext", {}).update(ext)
    for k, v in fields.items():
        m[k] = v
    if any(k in DRAFT_ONLY for k in fields):
        m["_mime"] = None  # the content changed: $value is generated from the new fields
        if "body" in fields:
            m["bodyPreview"] = preview(m["body"])
    m["changeKey"] = S.new_change_key()
    m["lastModifiedDateTime"] = S.now_iso()
    m["_seq"] = ctx.store.bump(ctx.u)
    return with_context(ctx, render_message(ctx, m), "users('%s')/messages/$entity" % ctx.user)


def delete_message(ctx):
    """DELETE /v1.0/me/messages/{id} -- https://learn.microsoft.com/graph/api/message-delete"""
    ctx.params(set())
    m = message_of(ctx, ctx.match["mid"])
    tombstone(ctx, m)
    return 204, None


def move_message(ctx):
    """POST /v1.0/me/messages/{id}/move {destinationId} -- https://learn.microsoft.com/graph/api/message-move
    "This creates a new copy of the message in the destination folder and removes the original": the
    moved message has a new id (the old one is @removed from the source folder's delta)."""
    ctx.params(set())
    m = message_of(ctx, ctx.match["mid"])
    b = ctx.body
    for k in b:
        if k != "destinationId":
            raise C.bad("The parameter '%s' is not accepted by move (only destinationId)." % k, "ErrorInvalidRequest")
    dest = b.get("destinationId")
    if not isinstance(dest, str) or not dest:
        raise C.bad("destinationId is required.", "ErrorInvalidRequest")
    folder = folder_of(ctx, dest)
    if folder.get("_wk") == ROOT_NAME:
        raise C.bad("Messages cannot be moved to the root folder.", "ErrorInvalidRequest")
    u = ctx.u
    moved = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v) for k, v in m.items()}
    tombstone(ctx, m)
    moved["id"] = S.new_id("AAMkAD")
    moved["parentFolderId"] = folder["id"]
    moved["changeKey"] = S.new_change_key()
    moved["lastModifiedDateTime"] = S.now_iso()
    moved["_seq"] = moved["_cseq"] = ctx.store.bump(u)
    u["messages"][moved["id"]] = moved
    return 201, with_context(ctx, render_message(ctx, moved), "users('%s')/messages/$entity" % ctx.user)


DELTA_FILTER = re.compile(r"^\s*receivedDateTime\s+(ge|gt)\s+(\S+)\s*$")


def delta_filter(expr):
    mf = DELTA_FILTER.match(expr or "")
    dt = C.parse_dto(mf.group(2)) if mf else None
    if dt is None:
        # message-delta: "The only supported $filter expressions are $filter=receivedDateTime+ge+{value}
        # or $filter=receivedDateTime+gt+{value}."
        raise C.bad("Only $filter=receivedDateTime ge|gt {DateTimeOffset} is supported by message delta.",
                    "ErrorInvalidUrlQueryFilter")
    return mf.group(1), C.fmt_dto(dt)


def delta(ctx):
    """GET /v1.0/me/mailFolders/{id}/messages/delta -- https://learn.microsoft.com/graph/api/message-delta,
    https://learn.microsoft.com/graph/delta-query-messages.  $select, $top, $filter (receivedDateTime
    ge|gt), changeType (created|updated|deleted) on the initial request; Prefer: odata.maxpagesize."""
    f = folder_of(ctx, ctx.match["fid"])
    for name in ctx.query:
        if name.lower().lstrip("$") in ("orderby", "expand"):
            raise C.not_modelled("$%s on message delta" % name.lower().lstrip("$"))
    p = C.Params(ctx.query, {"$select", "$deltatoken", "$skiptoken", "$top", "$filter", "changeType"})
    if not (p.has("$deltatoken") or p.has("$skiptoken")):
        if p.has("$filter"):
            delta_filter(p.str("$filter"))
        if p.has("changeType") and p.str("changeType") not in ("created", "updated", "deleted"):
            raise C.bad("changeType must be created, updated or deleted.", "ErrorInvalidUrlQuery")

    def live_filter(m, extra):
        if not extra.get("$filter"):
            return True
        op, when = delta_filter(extra["$filter"])
        return m["receivedDateTime"] >= when if op == "ge" else m["receivedDateTime"] > when

    def keep(m, extra, since):
        ct = extra.get("changeType")
        if not ct:
            return True
        if ct == "deleted":
            return bool(m.get("_deleted"))
        if m.get("_deleted"):
            return False
        created = m.get("_cseq", 0) > since
        return created if ct == "created" else not created

    items = [m for m in ctx.u["messages"].values() if m["parentFolderId"] == f["id"]]
    return C.delta_response(ctx, "messages:" + f["id"], items, message_select,
                            lambda m, s: render_message(ctx, m, s), "message", DELTA_DEFAULT_PAGE, DELTA_MAX_PAGE,
                            extra_params=("$filter", "changeType"), filter_fn=live_filter, keep=keep,
                            top_max=TOP_MAX)


# ---- seeding (POST /_fake/seed) ---------------------------------------------------------------

class _SeedCtx:
    def __init__(self, store, u, user):
        self.store, self.u, self.user = store, u, user


def seed(store, u, data):
    """{"messages": [json message... into the Inbox], "mimeMessages": [{"folder"?: wk name or id,
    "mime": base64}], "mailFolders": [{"displayName", "parent"?: wk name or id, "isHidden"?,
    "messages": [...], "childFolders": [...]}]}.  Answers ids and "mailFolderIds" (well-known name -> id)."""
    user = next((n for n, x in store.users.items() if x is u), "user")
    ensure(u, user)
    ctx = _SeedCtx(store, u, user)
    made = {}

    def resolve(fid):
        f = u["mail_folders"].get(fid) or next((x for x in u["mail_folders"].values()
                                                if x.get("_wk") == str(fid).lower()), None)
        if f is None:
            raise ValueError("unknown mail folder %r" % fid)
        return f

    inbox = wk_folder(u, "inbox")
    if data.get("messages"):
        made["messages"] = [new_message(ctx, inbox, check_message(b, True))["id"] for b in data["messages"]]
    if data.get("mimeMessages"):
        made["mimeMessages"] = []
        for spec in data["mimeMessages"]:
            raw = decode_mime_body(spec["mime"].encode())
            made["mimeMessages"].append(new_message(ctx, resolve(spec.get("folder") or "inbox"),
                                                    fields_from_mime(raw), mime=raw)["id"])

    def add_folder(spec, parent):
        f = make_folder(ctx, parent, check_folder_body({k: spec[k] for k in ("displayName", "isHidden")
                                                        if k in spec}, True))
        return {"id": f["id"], "messages": [new_message(ctx, f, check_message(b, True))["id"]
                                            for b in spec.get("messages") or []],
                "childFolders": [add_folder(c, f) for c in spec.get("childFolders") or []]}

    if data.get("mailFolders"):
        made["mailFolders"] = [add_folder(s, resolve(s.get("parent") or ROOT_NAME)) for s in data["mailFolders"]]
    made["mailFolderIds"] = {f["_wk"]: f["id"] for f in u["mail_folders"].values() if f.get("_wk")}
    return made


B = "/v1.0/me"
FM = B + "/mailFolders/{fid}/messages"
ROUTES = [
    C.route("GET", B + "/mailFolders", list_folders, READ, "mail.folders.list"),
    C.route("POST", B + "/mailFolders", create_folder, WRITE, "mail.folders.create", body=True),
    C.route("GET", B + "/mailFolders/{fid}", get_folder, READ, "mail.folders.get"),
    C.route("PATCH", B + "/mailFolders/{fid}", update_folder, WRITE, "mail.folders.update", body=True),
    C.route("DELETE", B + "/mailFolders/{fid}", delete_folder, WRITE, "mail.folders.delete"),
    C.route("GET", B + "/mailFolders/{fid}/childFolders", list_child_folders, READ, "mail.folders.childFolders"),
    C.route("POST", B + "/mailFolders/{fid}/childFolders", create_child_folder, WRITE,
            "mail.folders.childFolders.create", body=True),
    C.route("GET", FM, list_folder_messages, READ, "mail.messages.list"),
    C.route("POST", FM, create_message, WRITE, "mail.messages.create", raw_body=True),
    C.route("GET", FM + "/delta", delta, READ, "mail.messages.delta"),
    C.route("GET", B + "/messages", list_messages, READ, "mail.messages.list"),
    C.route("POST", B + "/messages", create_message, WRITE, "mail.messages.create", raw_body=True),
]
for _base in (B + "/messages/{mid}", FM + "/{mid}"):
    ROUTES += [
        C.route("GET", _base, get_message, READ, "mail.messages.get"),
        C.route("PATCH", _base, update_message, WRITE, "mail.messages.update", body=True),
        C.route("DELETE", _base, delete_message, WRITE, "mail.messages.delete"),
        C.route("GET", _base + "/$value", get_mime, READ, "mail.messages.value"),
        C.route("POST", _base + "/move", move_message, WRITE, "mail.messages.move", body=True),
    ]
