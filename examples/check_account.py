#!/usr/bin/env python3
"""Validate examples/account/ with independent third-party parsers and print totals.

    pip install vobject icalendar piexif
    python3 examples/check_account.py [ACCOUNT_DIR]

Checks: every .vcf parses with vobject (vCard 2.1 quoted-printable allowed),
every .ics with icalendar, all vCard/iCalendar files use CRLF and no physical
line exceeds 75 octets (except vCard 2.1 quoted-printable soft-broken lines),
every card has a UID except exactly one in work.vcf, the mboxes open with
mailbox.mbox, the maildir with mailbox.Maildir, the mboxrd From-escaping
round-trips, and EXIF is readable with piexif. Exits non-zero on failure.
"""

import email
import email.policy
import glob
import json
import mailbox
import os
import re
import sys
from email.header import decode_header, make_header

import icalendar
import piexif
import vobject

HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def physical_lines(path):
    data = open(path, "rb").read()
    check(data.endswith(b"\r\n"), f"{path}: does not end with CRLF")
    check(b"\n" not in data.replace(b"\r\n", b""), f"{path}: bare LF found")
    return data.split(b"\r\n")


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "account"))
    totals = {}

    # ---- contacts
    n_cards, no_uid = 0, {}
    for path in sorted(glob.glob(os.path.join(root, "contacts", "*.vcf"))):
        lines = physical_lines(path)
        for ln in lines:
            if len(ln) > 75 and b"QUOTED-PRINTABLE" not in ln:
                check(False, f"{path}: unfolded line of {len(ln)} octets: {ln[:40]!r}")
        text = open(path, "rb").read().decode("utf-8")
        cards = list(vobject.readComponents(text, allowQP=True))
        n_cards += len(cards)
        no_uid[os.path.basename(path)] = [c.fn.value for c in cards if "uid" not in c.contents]
        for c in cards:
            check(c.fn.value.strip() != "", f"{path}: card without FN")
            if c.version.value == "2.1":
                check(c.fn.value == "Jürgen Weiß", f"QP FN decoded wrongly: {c.fn.value!r}")
                check("Frau Kühn" in c.note.value and "Büromöbel" in c.note.value,
                      f"QP NOTE decoded wrongly: {c.note.value!r}")
            if "photo" in c.contents and c.version.value == "3.0":
                check(c.photo.value[:2] == b"\xff\xd8", "vCard 3.0 PHOTO is not a JPEG")
    check(no_uid.get("family.vcf") == [], f"family.vcf cards without UID: {no_uid.get('family.vcf')}")
    check(len(no_uid.get("work.vcf", [])) == 1, f"work.vcf cards without UID: {no_uid.get('work.vcf')}")
    totals["contacts"] = n_cards

    # ---- calendars and tasks
    def load_ics(path):
        for ln in physical_lines(path):
            check(len(ln) <= 75, f"{path}: line of {len(ln)} octets")
        return icalendar.Calendar.from_ical(open(path, "rb").read())

    n_events, uids = 0, set()
    for path in sorted(glob.glob(os.path.join(root, "calendar", "*.ics"))):
        cal = load_ics(path)
        check(len(cal.walk("VTIMEZONE")) == 1, f"{path}: expected one VTIMEZONE")
        evs = cal.walk("VEVENT")
        n_events += len(evs)
        uids |= {str(e["UID"]) for e in evs}
        overrides = [e for e in evs if "RECURRENCE-ID" in e]
        if path.endswith("personal.ics"):
            check(len(overrides) == 1, "personal.ics: expected one RECURRENCE-ID override")
            check(any("🎂" in str(e["SUMMARY"]) for e in evs), "personal.ics: emoji summary lost")
    totals["events"] = n_events
    totals["event_uids"] = len(uids)

    cal = load_ics(os.path.join(root, "tasks", "todo.ics"))
    todos = cal.walk("VTODO")
    statuses = {str(t.get("STATUS")) for t in todos}
    check({"NEEDS-ACTION", "COMPLETED", "IN-PROCESS"} <= statuses, f"todo statuses: {statuses}")
    totals["tasks"] = len(todos)

    # ---- mail
    n_msgs = 0
    for name in ("INBOX", "Sent"):
        path = os.path.join(root, "mail", name + ".mbox")
        mb = mailbox.mbox(path)
        msgs = list(mb)
        n_msgs += len(msgs)
        totals[f"mbox:{name}"] = len(msgs)
        for m in msgs:
            str(make_header(decode_header(m["Subject"] or "")))  # RFC 2047 decodes
        if name == "INBOX":
            check(sum(1 for m in msgs if m["Message-ID"] is None) == 1, "INBOX: expected exactly one message without Message-ID")
            poem = [m for m in msgs if "starting with From" in (m["Subject"] or "")]
            check(len(poem) == 1, "poem message missing")
            body = poem[0].get_payload(decode=True).decode()
            # as stored (mboxrd-escaped) ...
            check(">From the river" in body and ">>From a quoted" in body and ">>>From a doubly" in body,
                  "mboxrd escaping not applied")
            check("\nFrom: this looks" in body, "'From:' must not be escaped")
            # ... and un-escaped the mboxrd way
            unesc = re.sub(r"(?m)^>(>*From )", r"\1", body)
            check("\nFrom the river" in unesc and "\n>From a quoted" in unesc and "\n>>From a doubly" in unesc,
                  "mboxrd un-escaping does not round-trip")
            flags = {m.get_flags() for m in msgs}
            check("RO" in flags and any("F" in f for f in flags), f"mbox flags: {flags}")
            n_att = 0
            for m in msgs:
                em = email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
                for p in em.walk():
                    if p.get_content_disposition() == "attachment":
                        p.get_content()
                        n_att += 1
            totals["attachments"] = n_att
    # threads: every In-Reply-To / References target exists in INBOX or Sent
    all_msgs = [m for name in ("INBOX", "Sent") for m in mailbox.mbox(os.path.join(root, "mail", name + ".mbox"))]
    ids = {m["Message-ID"] for m in all_msgs if m["Message-ID"]}
    replies = [m for m in all_msgs if m["In-Reply-To"]]
    check(len(replies) >= 10, f"only {len(replies)} replies")
    for m in replies:
        refs = m["References"].split()
        check(m["In-Reply-To"] in ids and all(r in ids for r in refs) and refs[-1] == m["In-Reply-To"],
              f"broken thread at {m['Message-ID']}")
    totals["thread_replies"] = len(replies)
    md = mailbox.Maildir(os.path.join(root, "mail", "Archive"), factory=None, create=False)
    md_msgs = list(md.iteritems())
    n_msgs += len(md_msgs)
    totals["maildir:Archive"] = len(md_msgs)
    check({m.get_flags() for _k, m in md_msgs} >= {"S", "RS", "FS"}, "maildir flags missing")
    totals["messages"] = n_msgs

    # ---- media
    n_photos, n_exif, n_gps = 0, 0, 0
    for path in sorted(glob.glob(os.path.join(root, "media", "*", "*"))):
        if path.endswith(".json"):
            doc = json.load(open(path, encoding="utf-8"))
            check(os.path.exists(path[:-5]), f"orphan sidecar {path}")
            check("photoTakenTime" in doc and "geoData" in doc, f"{path}: incomplete sidecar")
            continue
        n_photos += 1
        if path.lower().endswith(".jpg"):
            size = os.path.getsize(path)
            check(size < 15_000, f"{path}: {size} bytes")
            try:
                ex = piexif.load(path)
            except Exception:  # noqa: BLE001
                ex = {"Exif": {}, "GPS": {}}
            if ex["Exif"].get(piexif.ExifIFD.DateTimeOriginal):
                n_exif += 1
            if ex["GPS"].get(piexif.GPSIFD.GPSLatitude):
                n_gps += 1
    check(n_gps >= 4, f"only {n_gps} photos with GPS")
    totals["photos"] = n_photos
    totals["photos_with_exif"] = n_exif
    totals["photos_with_gps"] = n_gps

    # ---- files
    n_files = sum(len(fs) for _dp, _d, fs in os.walk(os.path.join(root, "files")))
    totals["files"] = n_files

    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _d, fs in os.walk(root) for f in fs)
    totals["bytes"] = size
    check(size < 1_500_000, f"account is {size} bytes")

    for k, v in totals.items():
        print(f"{k:18} {v}")
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
