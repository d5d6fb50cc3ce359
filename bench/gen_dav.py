#!/usr/bin/env python3
"""Generate contacts and events for the CardDAV/CalDAV benchmark (stdlib only).

    python3 bench/gen_dav.py OUT_DIR --contacts 5000 --events 5000 [--seed 1]

Writes a ferry `dir:` account with one item per file, as a CardDAV/CalDAV server holds
them (and as vdirsyncer's filesystem storage does):

    contacts/<book>/<uid>.vcf       books: friends (60 %), colleagues (40 %)
    calendar/<calendar>/<uid>.ics   calendars: personal (60 %), team (40 %)

vCards (CRLF, folded at 75 octets): 60 % vCard 3.0, 40 % vCard 4.0; international
names (the name lists of gen_account.py), 1-3 EMAIL, 1-3 TEL, 0-2 ADR, ORG/TITLE,
BDAY (40 %), NOTE, CATEGORIES, and a small JPEG PHOTO (2-8 KB, inline base64) on 10 %.

Events: each .ics has a VTIMEZONE for the zone it uses (Europe/Berlin, America/New_York
or Asia/Tokyo), DTSTAMP/CREATED/LAST-MODIFIED, often LOCATION, DESCRIPTION, ORGANIZER and
ATTENDEEs and a VALARM (40 %). 10 % are all-day events; 15 % recur weekly (RRULE with
COUNT or UNTIL), with an EXDATE and one or two overrides (a VEVENT with RECURRENCE-ID,
moved by an hour and renamed) in the same object.

The same seed and counts give the same bytes. Nothing but the account is written into
OUT_DIR.
"""

import argparse
import base64
import os
import random
import struct
import sys
import uuid
from datetime import datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_account import (CITIES, CRLF, DOMAINS, FIRST, LAST, ORGS, STREETS, TINY_JPEG, TITLES,  # noqa: E402
                         WORDS, ascii_local, esc, fold, split_counts)

BOOKS = ["friends", "colleagues"]
CALENDARS = ["personal", "team"]

TIMEZONES = {
    "Europe/Berlin": ["BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "X-LIC-LOCATION:Europe/Berlin",
                      "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
                      "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
                      "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
                      "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
                      "END:VTIMEZONE"],
    "America/New_York": ["BEGIN:VTIMEZONE", "TZID:America/New_York", "X-LIC-LOCATION:America/New_York",
                         "BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "TZNAME:EDT",
                         "DTSTART:19700308T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "END:DAYLIGHT",
                         "BEGIN:STANDARD", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST",
                         "DTSTART:19701101T020000", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "END:STANDARD",
                         "END:VTIMEZONE"],
    "Asia/Tokyo": ["BEGIN:VTIMEZONE", "TZID:Asia/Tokyo", "X-LIC-LOCATION:Asia/Tokyo", "BEGIN:STANDARD",
                   "TZOFFSETFROM:+0900", "TZOFFSETTO:+0900", "TZNAME:JST", "DTSTART:19700101T000000",
                   "END:STANDARD", "END:VTIMEZONE"],
}
ZONE_WEIGHTS = [("Europe/Berlin", 6), ("America/New_York", 3), ("Asia/Tokyo", 1)]
UTC_OFFSET = {"Europe/Berlin": 1, "America/New_York": -5, "Asia/Tokyo": 9}  # rough, for UNTIL only

EVENT_TITLES = ["Team sync", "1:1 with {p}", "Dentist", "Lunch with {p}", "Sprint planning", "Yoga",
                "Elternabend", "Abendessen bei {p}", "Flug nach {c}", "Code review", "Quarterly review",
                "Geburtstag {p}", "Konzert in {c}", "Call with {p}", "Kita-Fest", "Réunion budget",
                "Standup", "Arzttermin", "Workshop: {w}", "Coffee with {p}", "歯医者", "Board meeting"]
LOCATIONS = ["Zoom", "Meet", "Raum 4.12", "Café Müller, Hauptstraße 5", "Office", "Home",
             "Konferenzraum Berlin", "100 Broadway, Room 12-Hudson", "Praxis Dr. Weiß", "Tokyo HQ 7F"]


def pick_zone(rng):
    return rng.choices([z for z, _ in ZONE_WEIGHTS], [w for _, w in ZONE_WEIGHTS])[0]


def photo(rng):
    """A small JPEG (the 16x16 one of gen_account.py, padded with a COM segment)."""
    pad = rng.randint(2000, 8000)
    body = TINY_JPEG[2:]  # after SOI
    com = b"\xff\xfe" + struct.pack(">H", pad + 2) + rng.randbytes(pad)
    return base64.b64encode(b"\xff\xd8" + com + body).decode("ascii")


def stamp(dt):
    return dt.strftime("%Y%m%dT%H%M%SZ")


def person(rng):
    g, f = rng.choice(FIRST), rng.choice(LAST)
    return g, f


def gen_contact(rng, i):
    v4 = rng.random() < 0.4
    given, family = person(rng)
    local = f"{ascii_local(given)}.{ascii_local(family)}{i}"
    u = uuid.UUID(int=rng.getrandbits(128), version=4)
    uid = f"urn:uuid:{u}" if v4 else str(u).upper()
    lines = ["BEGIN:VCARD", "VERSION:4.0" if v4 else "VERSION:3.0"]
    if not v4:
        lines.append("PRODID:-//Apple Inc.//iOS 17.4//EN")
    lines += [f"UID:{uid}", f"FN:{esc(given)} {esc(family)}", f"N:{esc(family)};{esc(given)};;;"]
    if rng.random() < 0.2:
        lines.append(f"NICKNAME:{esc(given[:3])}")
    kinds = ["home", "work", "other"]
    for k in range(rng.randint(1, 3)):
        t = kinds[k]
        dom = rng.choice(DOMAINS)
        addr = f"{local}@{'work.' if t == 'work' else ''}{dom}"
        if v4:
            lines.append(f"EMAIL;TYPE={t}{';PREF=1' if k == 0 else ''}:{addr}")
        else:
            lines.append(f"EMAIL;TYPE=INTERNET;TYPE={t.upper()}{';TYPE=pref' if k == 0 else ''}:{addr}")
    for k in range(rng.randint(1, 3)):
        t = ["cell", "home", "work"][k]
        num = f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}"
        if v4:
            lines.append(f'TEL;VALUE=uri;TYPE="{t},voice":tel:{num.replace(" ", "-")}')
        else:
            lines.append(f"TEL;TYPE={t.upper()};TYPE=VOICE:{num}")
    for k in range(rng.choices([0, 1, 2], [3, 5, 2])[0]):
        city, zipc, country = rng.choice(CITIES)
        t = ["home", "work"][k]
        lines.append(f"ADR;TYPE={t if v4 else t.upper()}:;;{esc(rng.choice(STREETS))} {rng.randint(1, 200)};"
                     f"{esc(city)};;{esc(zipc)};{esc(country)}")
    if rng.random() < 0.5:
        lines.append(f"ORG:{esc(rng.choice(ORGS))}")
        lines.append(f"TITLE:{esc(rng.choice(TITLES))}")
    if rng.random() < 0.4:
        y, m, d = rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28)
        lines.append(f"BDAY:{y}{m:02d}{d:02d}" if v4 else f"BDAY;VALUE=date:{y}-{m:02d}-{d:02d}")
    if rng.random() < 0.15:
        lines.append("NOTE:" + esc(" ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 60)))))
    if rng.random() < 0.2:
        lines.append("CATEGORIES:" + ",".join(rng.sample(["Family", "Friends", "Work", "Sport", "School",
                                                           "Neighbours"], 2)))
    if rng.random() < 0.1:
        lines.append(("PHOTO:data:image/jpeg;base64," if v4 else "PHOTO;ENCODING=b;TYPE=JPEG:") + photo(rng))
    lines.append(f"REV:{stamp(datetime(2020, 1, 1) + timedelta(seconds=rng.randrange(5 * 365 * 86400)))}")
    lines.append("END:VCARD")
    return uid, CRLF.join(fold(ln) for ln in lines) + CRLF


def gen_event(rng, i):
    uid = f"{uuid.UUID(int=rng.getrandbits(128), version=4)}@ferry-bench.example.org"
    zone = pick_zone(rng)
    p = " ".join(person(rng))
    title = rng.choice(EVENT_TITLES).format(p=p, c=rng.choice(CITIES)[0], w=rng.choice(WORDS))
    base = datetime(2021, 1, 4) + timedelta(days=rng.randrange(5 * 365))
    created = base - timedelta(days=rng.randint(1, 60), seconds=rng.randrange(86400))
    kind = rng.random()
    all_day = kind < 0.10
    recurring = 0.10 <= kind < 0.25
    start = base.replace(hour=rng.randint(7, 19), minute=rng.choice([0, 15, 30, 45]))
    length = timedelta(minutes=rng.choice([15, 30, 45, 60, 90, 120]))

    def common(extra_seq=0):
        out = [f"UID:{uid}", f"DTSTAMP:{stamp(created + timedelta(days=1))}", f"CREATED:{stamp(created)}",
               f"LAST-MODIFIED:{stamp(created + timedelta(hours=2))}", f"SEQUENCE:{extra_seq}"]
        return out

    def details(out):
        if rng.random() < 0.6:
            out.append("LOCATION:" + esc(rng.choice(LOCATIONS)))
        if rng.random() < 0.3:
            out.append("DESCRIPTION:" + esc(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 80)))))
        if rng.random() < 0.3:
            og, of = person(rng)
            out.append(f"ORGANIZER;CN={og} {of}:mailto:{ascii_local(og)}.{ascii_local(of)}@{rng.choice(DOMAINS)}")
            for _ in range(rng.randint(1, 5)):
                ag, af = person(rng)
                out.append(f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT={rng.choice(['ACCEPTED', 'TENTATIVE', 'NEEDS-ACTION'])};"
                           f"CN={ag} {af}:mailto:{ascii_local(ag)}.{ascii_local(af)}@{rng.choice(DOMAINS)}")
        if rng.random() < 0.15:
            out.append("CATEGORIES:" + rng.choice(["Work", "Family", "Health", "Travel", "Sport"]))

    def alarm(out):
        if rng.random() < 0.4:
            out += ["BEGIN:VALARM", "ACTION:DISPLAY", f"TRIGGER:-PT{rng.choice([5, 10, 15, 30, 60])}M",
                    "DESCRIPTION:Reminder", "END:VALARM"]

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ferry bench//gen_dav.py//EN", "CALSCALE:GREGORIAN"]
    if not all_day:
        lines += TIMEZONES[zone]
    ev = ["BEGIN:VEVENT"] + common() + [f"SUMMARY:{esc(title)}"]
    if all_day:
        d = start.date()
        ev += [f"DTSTART;VALUE=DATE:{d:%Y%m%d}", f"DTEND;VALUE=DATE:{d + timedelta(days=rng.randint(1, 3)):%Y%m%d}",
               "TRANSP:TRANSPARENT"]
    else:
        ev += [f"DTSTART;TZID={zone}:{start:%Y%m%dT%H%M%S}", f"DTEND;TZID={zone}:{start + length:%Y%m%dT%H%M%S}"]
    overrides = []
    if recurring:
        count = rng.randint(6, 52)
        if rng.random() < 0.5:
            ev.append(f"RRULE:FREQ=WEEKLY;COUNT={count}")
        else:
            until = start + timedelta(weeks=count - 1) - timedelta(hours=UTC_OFFSET[zone])
            ev.append(f"RRULE:FREQ=WEEKLY;UNTIL={stamp(until)}")
        picks = rng.sample(range(1, count), min(count - 1, 3))
        ex, moved = picks[0], picks[1:1 + rng.randint(1, 2)]
        ev.append(f"EXDATE;TZID={zone}:{start + timedelta(weeks=ex):%Y%m%dT%H%M%S}")
        for k in moved:
            occ = start + timedelta(weeks=k)
            new = occ + timedelta(hours=1)
            o = ["BEGIN:VEVENT"] + common(1) + [f"RECURRENCE-ID;TZID={zone}:{occ:%Y%m%dT%H%M%S}",
                                                 f"SUMMARY:{esc(title)} (verschoben)",
                                                 f"DTSTART;TZID={zone}:{new:%Y%m%dT%H%M%S}",
                                                 f"DTEND;TZID={zone}:{new + length:%Y%m%dT%H%M%S}"]
            alarm(o)
            o.append("END:VEVENT")
            overrides.append(o)
    details(ev)
    alarm(ev)
    ev.append("END:VEVENT")
    lines += ev
    for o in overrides:
        lines += o
    lines.append("END:VCALENDAR")
    return uid, CRLF.join(fold(ln) for ln in lines) + CRLF


def write_all(out, folder, names, n, gen, ext, rng):
    total = 0
    idx = 0
    for name, cnt in zip(names, split_counts(n, [3, 2])):
        d = os.path.join(out, folder, name)
        os.makedirs(d, exist_ok=True)
        for _ in range(cnt):
            idx += 1
            uid, text = gen(rng, idx)
            data = text.encode("utf-8")
            fname = (uid.split(":")[-1].split("@")[0]) + ext
            with open(os.path.join(d, fname), "wb") as f:
                f.write(data)
            total += len(data)
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--contacts", type=int, default=5000)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    out = os.path.abspath(args.out_dir)
    if os.path.exists(out) and os.listdir(out):
        sys.exit(f"gen_dav: {out} exists and is not empty")
    os.makedirs(out, exist_ok=True)
    cb = write_all(out, "contacts", BOOKS, args.contacts, gen_contact, ".vcf", random.Random(f"{args.seed}/contacts"))
    eb = write_all(out, "calendar", CALENDARS, args.events, gen_event, ".ics", random.Random(f"{args.seed}/events"))
    print(f"generated {out}: {args.contacts} contacts ({cb / 1e6:.1f} MB), {args.events} events ({eb / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
