#!/usr/bin/env python3
"""Generate a large synthetic account for benchmarking ferry (stdlib only).

    python3 bench/gen_account.py OUT_DIR --contacts 100000 --messages 50000 \
        --photos 10000 [--seed 1] [--albums 20]

Layout is the same as examples/account (ferry's `dir:` connector):

    contacts/{family,friends,work,other}.vcf   vCard 4.0, CRLF, folded
    mail/{INBOX,Archive,Sent,Lists}.mbox       mboxrd, 2 KB .. 200 KB per message
    media/<album>/IMG_nnnnnn.jpg               50 KB .. 5 MB, valid JPEG + EXIF

Each message is 2 KB to 200 KB, drawn uniformly. It has realistic
headers, threads and mutt flags. Messages of 16 KB or more are
multipart/mixed, with a text part and a base64 attachment of random
(incompressible) bytes. Each photo is a real 16x16 baseline JPEG with an
APP1 Exif segment (Make, Model, DateTimeOriginal, most with GPS). The file is
padded up to its target size with COM segments of random bytes, at most
65533 payload bytes each, so it stays a structurally valid JPEG.

Everything is streamed to disk, so memory use stays small at any scale. The same seed
always gives the same bytes. Nothing but the account is written into OUT_DIR.
"""

import argparse
import base64
import os
import random
import re
import struct
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

# A 16x16 baseline JPEG (Pillow, quality 75). Its APP0/JFIF segment is dropped
# at run time and replaced by our APP1/Exif + COM padding.
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0"
    "Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjL/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQID"
    "AAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlq"
    "c3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3"
    "+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEI"
    "FEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImK"
    "kpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCS"
    "t7/iTf8ACOf9PX4eZ5n/AMT+mPeuK+23H/PT/wAdFH224/56f+OirxWNoYjk1lHlaelle3R67Hk0qns76J3VtT//2Q=="
)

CRLF = "\r\n"
EPOCH0 = datetime(2014, 1, 1, tzinfo=timezone.utc)
SPAN_SECONDS = 11 * 365 * 86400  # data spread over 2014..2024

FIRST = ("Anna Ben Clara David Emma Felix Greta Hugo Ida Jonas Katrin Lukas Mia Noah Olga Paul Quinn "
         "Rosa Sven Tara Uwe Vera Wim Xenia Yusuf Zoë Åsa Björn Chloé Dörte Émile François Günther "
         "Héloïse Ines José Łukasz Małgorzata Nuño Øystein Renée Sørina Tomás Zdeněk 小龙 美玲 Ahmet "
         "Ayşe Priya Ravi Kenji Yuki Fatima Omar Kwame Ama Liam Olivia Mateo Sofia").split()
LAST = ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein "
        "Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner "
        "Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs "
        "Peters Lang Scholz Möller Weiß Jung Hahn Ørsted Núñez García Wiśniewski Dvořák Yılmaz Lefèvre "
        "Smith Johnson Brown Tanaka Sato Li Wang Chen Okafor Mensah Haddad Popescu Ivanov Silva").split()
ORGS = ["Acme Data Inc.", "Globex GmbH", "Initech", "Umbrella AG", "Stark Industries", "Wayne Enterprises",
        "Müller & Söhne KG", "Datos SL", "Kaisha KK", "Nordic Cloud AB", "Freelance", "Universität Wien"]
TITLES = ["Engineer", "Senior Engineer", "Manager", "Director", "Designer", "Accountant", "Consultant",
          "Researcher", "Sales Lead", "CTO", "Intern", "Support Agent", "Lawyer", "Teacher"]
CITIES = [("München", "80331", "Germany"), ("Berlin", "10115", "Germany"), ("Wien", "1010", "Austria"),
          ("Zürich", "8001", "Switzerland"), ("København", "1050", "Denmark"), ("Madrid", "28001", "Spain"),
          ("New York", "10001", "USA"), ("Toronto", "M5H 2N2", "Canada"), ("Tokyo", "100-0001", "Japan"),
          ("Lisboa", "1100-148", "Portugal"), ("Kraków", "31-001", "Poland"), ("Lyon", "69001", "France")]
STREETS = ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Main Street", "Calle Mayor",
           "Rua Augusta", "Ulica Długa", "Rue de la Paix", "Strøget", "Oak Avenue", "Kirchplatz"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.de", "example.co.uk", "example.fr",
           "example.jp", "example.es", "example.dk", "example.pl"]
WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which but "
         "have an they you were her she there been one all we their has would when if so no will can more "
         "about said some what up its into than them only time could new also two may first then do any "
         "like my now over such our man me even most made after well people through back much before "
         "project meeting report budget invoice travel photos weekend family holiday review contract "
         "data export import backup archive calendar contacts mail message folder attachment schedule "
         "Grüße Straße Kuchen schön Frühstück Ärger Übersicht café naïve résumé façade smörgåsbord "
         "déjà señor Øresund Łódź 你好 周末 ありがとう спасибо").split()
SUBJECTS = ["Meeting notes {w}", "Re: {w} plans", "Invoice {n}", "Your order #{n} has shipped",
            "Photos from the {w}", "Fwd: {w} report", "Quick question about {w}", "Weekly update {n}",
            "Grüße aus {c}", "Reminder: {w} on Friday", "[list] {w} discussion", "Budget {n} draft",
            "Einladung: {w}", "Travel itinerary {n}", "Welcome to {w}", "Security alert for your account"]
MAILERS = ["Mutt/2.2.12 (2023-09-09)", "Mozilla Thunderbird 115.6.0", "Microsoft Outlook 16.0",
           "Apple Mail (2.3774.300.61.1.2)", "Roundcube Webmail/1.6.5", "K-9 Mail for Android"]
ATTACH_TYPES = [("application/pdf", "pdf"), ("image/jpeg", "jpg"), ("application/zip", "zip"),
                ("application/octet-stream", "bin"), ("application/vnd.openxmlformats-officedocument."
                                                      "spreadsheetml.sheet", "xlsx")]
ALBUMS = ["2014 Summer in Italy", "2015 Wedding", "Kids", "Garden", "2016 New York", "Hiking",
          "Christmas", "2017 Japan", "Pets", "2018 Road trip", "Birthdays", "Food", "2019 Lisbon",
          "Concerts", "2020 Lockdown", "Architecture", "2021 Baltic Sea", "Screenshots", "2023 Iceland",
          "Camera Roll"]
CAMERAS = [("Apple", "iPhone 12"), ("Apple", "iPhone 15 Pro"), ("Google", "Pixel 7"), ("samsung", "SM-S911B"),
           ("Canon", "Canon EOS 250D"), ("FUJIFILM", "X-T30"), ("SONY", "ILCE-7M3"), ("NIKON CORPORATION", "NIKON Z 6")]

FROM_RE = re.compile(rb"^(>*From )", re.M)


# --------------------------------------------------------------------------
# helpers


def fold(line: str, limit: int = 75) -> str:
    b = line.encode("utf-8")
    if len(b) <= limit:
        return line
    parts, first = [], True
    while b:
        n = limit if first else limit - 1
        cut = min(n, len(b))
        while cut < len(b) and cut > 0 and (b[cut] & 0xC0) == 0x80:
            cut -= 1
        parts.append(("" if first else " ") + b[:cut].decode("utf-8"))
        b = b[cut:]
        first = False
    return CRLF.join(parts)


def esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ascii_local(s: str) -> str:
    tbl = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "o", "å": "a", "é": "e", "è": "e",
                         "ç": "c", "ł": "l", "ś": "s", "ń": "n", "ñ": "n", "ú": "u", "ı": "i", "ş": "s",
                         "ë": "e", "ï": "i", "ô": "o", "ě": "e", "ř": "r", "á": "a", "í": "i", "ó": "o",
                         "ò": "o", "ã": "a", "č": "c", "ž": "z", "ý": "y", "ů": "u", "ą": "a", "ę": "e",
                         "ż": "z", "ź": "z", "ć": "c", "ğ": "g"})
    out = s.lower().translate(tbl)
    out = re.sub(r"[^a-z0-9.]+", "", out)
    return out or "user"


def b_word(s: str) -> str:
    """RFC 2047 B-encode `s` if it is not plain ASCII, as several encoded words
    (each <= 75 chars, never splitting a character) joined by folding white space."""
    if s.isascii():
        return s
    words, cur = [], b""
    for ch in s:
        enc = ch.encode("utf-8")
        if len(cur) + len(enc) > 45:
            words.append(cur)
            cur = b""
        cur += enc
    words.append(cur)
    return "\n ".join("=?UTF-8?B?" + base64.b64encode(w).decode("ascii") + "?=" for w in words)


def rfc2822(dt: datetime) -> str:
    days = "Mon Tue Wed Thu Fri Sat Sun".split()
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    off = dt.utcoffset()
    mins = int(off.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    mins = abs(mins)
    return (f"{days[dt.weekday()]}, {dt.day:02d} {months[dt.month - 1]} {dt.year} "
            f"{dt:%H:%M:%S} {sign}{mins // 60:02d}{mins % 60:02d}")


def asctime(dt: datetime) -> str:
    d = dt.astimezone(timezone.utc)
    days = "Mon Tue Wed Thu Fri Sat Sun".split()
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    return f"{days[d.weekday()]} {months[d.month - 1]} {d.day:2d} {d:%H:%M:%S} {d.year}"


def split_counts(total: int, weights) -> list:
    """Split `total` into len(weights) integer parts proportional to weights."""
    s = sum(weights)
    parts = [total * w // s for w in weights]
    for i in range(total - sum(parts)):
        parts[i % len(parts)] += 1
    return parts


# --------------------------------------------------------------------------
# contacts


def vcard(rng: random.Random, idx: int, name: str) -> str:
    """One vCard 4.0 (CRLF, folded); `name` is its address book (`work` cards have an ORG)."""
    given, family = rng.choice(FIRST), rng.choice(LAST)
    local = f"{ascii_local(given)}.{ascii_local(family)}{idx}"
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        f"UID:urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        f"FN:{esc(given)} {esc(family)}",
        f"N:{esc(family)};{esc(given)};;;",
        f"EMAIL;TYPE=home;PREF=1:{local}@{rng.choice(DOMAINS)}",
        f'TEL;VALUE=uri;TYPE="cell,voice":tel:+{rng.randint(1, 99)}-{rng.randint(100, 999)}-'
        f"{rng.randint(1000000, 9999999)}",
    ]
    r = rng.random()
    if r < 0.5:
        city, zipc, country = rng.choice(CITIES)
        lines.append(f"ADR;TYPE=home:;;{esc(rng.choice(STREETS))} {rng.randint(1, 200)};"
                     f"{esc(city)};;{esc(zipc)};{esc(country)}")
    if r < 0.3 or name == "work":
        lines.append(f"ORG:{esc(rng.choice(ORGS))}")
        lines.append(f"TITLE:{esc(rng.choice(TITLES))}")
        lines.append(f"EMAIL;TYPE=work:{local}@work.{rng.choice(DOMAINS)}")
    if rng.random() < 0.4:
        lines.append(f"BDAY:{rng.randint(1940, 2015)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}")
    if rng.random() < 0.15:
        note = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 60)))
        lines.append("NOTE:" + esc(note))
    if rng.random() < 0.2:
        lines.append("CATEGORIES:" + ",".join(rng.sample(["Family", "Friends", "Work", "Sport",
                                                           "School", "Neighbours"], 2)))
    lines.append(f"REV:{(EPOCH0 + timedelta(seconds=rng.randrange(SPAN_SECONDS))):%Y%m%dT%H%M%SZ}")
    lines.append("END:VCARD")
    return CRLF.join(fold(ln) for ln in lines) + CRLF


def gen_contacts(out: str, n: int, rng: random.Random) -> int:
    files = ["family", "friends", "work", "other"]
    counts = split_counts(n, [1, 1, 1, 1])
    written = 0
    idx = 0
    os.makedirs(os.path.join(out, "contacts"), exist_ok=True)
    for name, cnt in zip(files, counts):
        path = os.path.join(out, "contacts", name + ".vcf")
        with open(path, "w", encoding="utf-8", newline="", buffering=1 << 20) as f:
            for _ in range(cnt):
                idx += 1
                f.write(vcard(rng, idx, name))
                written += 1
        os.utime(path, (1735732800, 1735732800))
    return written


def gen_card_files(out: str, n: int, rng: random.Random, per_dir: int) -> int:
    """`n` one-contact files, as a vdir keeps them: `contacts/cards/card-NNNNNNN.vcf`, or,
    with `per_dir`, that many files per folder `contacts/cards/NNNN/`."""
    base = os.path.join(out, "contacts", "cards")
    os.makedirs(base, exist_ok=True)
    folder = base
    for i in range(n):
        if per_dir and i % per_dir == 0:
            folder = os.path.join(base, f"{i // per_dir:04d}")
            os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"card-{i:07d}.vcf")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(vcard(rng, i + 1, "cards"))
        os.utime(path, (1735732800, 1735732800))
    return n


# --------------------------------------------------------------------------
# mail


class MailGen:
    def __init__(self, rng: random.Random, n_messages: int):
        self.rng = rng
        self.me = ("Bench User", "me@example.org")
        self.people = []
        for i in range(500):
            g, f = rng.choice(FIRST), rng.choice(LAST)
            self.people.append((f"{g} {f}", f"{ascii_local(g)}.{ascii_local(f)}{i}@{rng.choice(DOMAINS)}"))
        # pre-built corpus of text lines (fast to assemble bodies from)
        self.lines = []
        for _ in range(4000):
            words = []
            length = 0
            target = rng.randint(20, 72)
            while length < target:
                w = rng.choice(WORDS)
                words.append(w)
                length += len(w) + 1
            line = " ".join(words)
            r = rng.random()
            if r < 0.08:
                line = "> " + line
            elif r < 0.085:
                line = "From " + line  # must be escaped in mboxrd
            elif r < 0.087:
                line = ">From " + line
            elif r < 0.12:
                line = ""
            self.lines.append(line + "\n")
        self.recent = {}  # folder -> list of (msgid, refs)
        self.t = 0.0
        self.step = SPAN_SECONDS / max(1, n_messages)

    def addr(self, person):
        return f"{b_word(person[0])} <{person[1]}>" if person[0] else person[1]

    def text(self, nbytes: int) -> bytes:
        rng, lines = self.rng, self.lines
        parts, size = [], 0
        while size < nbytes:
            ln = lines[rng.randrange(len(lines))]
            parts.append(ln)
            size += len(ln.encode("utf-8")) if not ln.isascii() else len(ln)
        return "".join(parts).encode("utf-8")

    def message(self, folder: str, seq: int, target: int):
        rng = self.rng
        self.t += self.step * rng.uniform(0.2, 1.8)
        tz = timezone(timedelta(hours=rng.choice([-8, -5, 0, 1, 2, 9])))
        date = (EPOCH0 + timedelta(seconds=min(self.t, SPAN_SECONDS))).astimezone(tz)
        other = rng.choice(self.people)
        if folder == "Sent":
            frm, to = self.me, other
        else:
            frm, to = other, self.me
        domain = frm[1].split("@")[1]
        msgid = f"<{date:%Y%m%d%H%M%S}.{seq}.{rng.getrandbits(32):08x}@{domain}>"
        subject = rng.choice(SUBJECTS).format(w=rng.choice(WORDS), n=rng.randint(1000, 99999),
                                              c=rng.choice(CITIES)[0])
        h = []
        if folder != "Sent":
            h.append(f"Return-Path: <{frm[1]}>")
            h.append(f"Received: from mail.{domain} (mail.{domain} [198.51.100.{rng.randint(1, 254)}])\n"
                     f"\tby mx.example.org (Postfix) with ESMTPS id {rng.getrandbits(40):010X}\n"
                     f"\tfor <{self.me[1]}>; {rfc2822(date)}")
            h.append(f"Received: from [10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}] "
                     f"by mail.{domain} with ESMTPSA id {rng.getrandbits(40):010x};\n\t{rfc2822(date)}")
            h.append("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=" + domain + "; s=2023;\n"
                     "\th=from:to:subject:date:message-id; bh=" +
                     base64.b64encode(rng.randbytes(32)).decode() + ";\n\tb=" +
                     base64.b64encode(rng.randbytes(96)).decode())
        h.append(f"Date: {rfc2822(date)}")
        h.append(f"From: {self.addr(frm)}")
        h.append(f"To: {self.addr(to)}")
        if rng.random() < 0.2:
            h.append(f"Cc: {self.addr(rng.choice(self.people))}, {self.addr(rng.choice(self.people))}")
        recent = self.recent.setdefault(folder, [])
        if recent and rng.random() < 0.35:
            parent_id, parent_refs = recent[rng.randrange(len(recent))]
            refs = (parent_refs + [parent_id])[-8:]
            subject = "Re: " + subject
            h.append(f"Subject: {b_word(subject)}")
            h.append(f"Message-ID: {msgid}")
            h.append(f"In-Reply-To: {parent_id}")
            h.append("References: " + "\n ".join(refs))
        else:
            refs = []
            h.append(f"Subject: {b_word(subject)}")
            h.append(f"Message-ID: {msgid}")
        recent.append((msgid, refs))
        if len(recent) > 64:
            del recent[: len(recent) - 64]
        if folder == "Lists":
            h.append("List-Id: Bench list <bench.lists.example.org>")
            h.append("List-Unsubscribe: <mailto:bench-unsubscribe@lists.example.org>")
            h.append("Precedence: list")
        h.append(f"X-Mailer: {rng.choice(MAILERS)}")
        h.append("MIME-Version: 1.0")

        head_len = sum(len(x) + 1 for x in h) + 200  # + content headers, flags, blank line
        if target < 16 * 1024:
            body = FROM_RE.sub(rb">\1", self.text(max(64, target - head_len)))
            h.append("Content-Type: text/plain; charset=utf-8")
            h.append("Content-Transfer-Encoding: 8bit")
            body_parts = [body]
        else:
            boundary = f"=_bench_{rng.getrandbits(64):016x}"
            text_len = rng.randint(400, 4000)
            text = FROM_RE.sub(rb">\1", self.text(text_len))
            ctype, ext = rng.choice(ATTACH_TYPES)
            remaining = target - head_len - len(text) - 400
            raw = rng.randbytes(max(0, remaining * 57 // 77))
            h.append(f'Content-Type: multipart/mixed;\n boundary="{boundary}"')
            body_parts = [
                b"This is a multi-part message in MIME format.\n\n",
                f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n"
                f"Content-Transfer-Encoding: 8bit\n\n".encode("ascii"),
                text,
                f"\n--{boundary}\nContent-Type: {ctype}; name=\"attachment-{seq}.{ext}\"\n"
                f"Content-Disposition: attachment; filename=\"attachment-{seq}.{ext}\"\n"
                f"Content-Transfer-Encoding: base64\n\n".encode("ascii"),
                base64.encodebytes(raw),
                f"\n--{boundary}--\n".encode("ascii"),
            ]
        if folder == "Sent":
            h.append("Status: RO")
        else:
            r = rng.random()
            if r < 0.7:
                h.append("Status: RO")
                if r < 0.15:
                    h.append("X-Status: A")
                elif r < 0.2:
                    h.append("X-Status: F")
            elif r < 0.85:
                h.append("Status: O")
        envelope = f"From {frm[1]} {asctime(date)}\n".encode("ascii")
        header = ("\n".join(h) + "\n\n").encode("ascii")
        return [envelope, header, *body_parts, b"\n"]


def gen_mail(out: str, n: int, rng: random.Random) -> int:
    folders = ["INBOX", "Archive", "Sent", "Lists"]
    weights = [45, 30, 15, 10]
    os.makedirs(os.path.join(out, "mail"), exist_ok=True)
    handles = {f: open(os.path.join(out, "mail", f + ".mbox"), "wb", buffering=1 << 20) for f in folders}
    gen = MailGen(rng, n)
    total = 0
    try:
        for seq in range(n):
            folder = rng.choices(folders, weights)[0]
            target = rng.randint(2 * 1024, 200 * 1024)
            parts = gen.message(folder, seq, target)
            fh = handles[folder]
            for p in parts:
                fh.write(p)
                total += len(p)
    finally:
        for fh in handles.values():
            fh.close()
    return total


# --------------------------------------------------------------------------
# photos


def tiff_ifd(entries, start, next_ifd=0):
    """Little-endian TIFF IFD at offset `start`. entries: (tag, type, count, payload bytes)."""
    entries = sorted(entries)
    n = len(entries)
    data_off = start + 2 + 12 * n + 4
    head = bytearray(struct.pack("<H", n))
    data = bytearray()
    for tag, typ, count, payload in entries:
        if len(payload) <= 4:
            head += struct.pack("<HHI", tag, typ, count) + payload.ljust(4, b"\0")
        else:
            if (data_off + len(data)) % 2:
                data += b"\0"
            head += struct.pack("<HHII", tag, typ, count, data_off + len(data))
            data += payload
    head += struct.pack("<I", next_ifd)
    return bytes(head + data)


def ascii_entry(tag, s):
    b = s.encode("ascii") + b"\0"
    return (tag, 2, len(b), b)


def rationals(tag, pairs):
    return (tag, 5, len(pairs), b"".join(struct.pack("<II", a, b) for a, b in pairs))


def exif_app1(make, model, dt_local: str, offset: str, gps=None, orientation=1) -> bytes:
    def ifd0(exif_ptr, gps_ptr):
        e = [ascii_entry(0x010F, make), ascii_entry(0x0110, model),
             (0x0112, 3, 1, struct.pack("<H", orientation)),
             rationals(0x011A, [(72, 1)]), rationals(0x011B, [(72, 1)]),
             (0x0128, 3, 1, struct.pack("<H", 2)),
             ascii_entry(0x0132, dt_local),
             (0x8769, 4, 1, struct.pack("<I", exif_ptr))]
        if gps:
            e.append((0x8825, 4, 1, struct.pack("<I", gps_ptr)))
        return tiff_ifd(e, 8)

    size0 = len(ifd0(0, 0))
    exif_off = 8 + size0
    exif_entries = [
        (0x9000, 7, 4, b"0232"),
        ascii_entry(0x9003, dt_local),
        ascii_entry(0x9004, dt_local),
        ascii_entry(0x9011, offset),
        (0xA002, 4, 1, struct.pack("<I", 16)),
        (0xA003, 4, 1, struct.pack("<I", 16)),
    ]
    exif = tiff_ifd(exif_entries, exif_off)
    gps_off = exif_off + len(exif)
    gps_blob = b""
    if gps:
        lat, lon, alt = gps

        def dms(v):
            v = abs(v)
            d = int(v)
            m = int((v - d) * 60)
            s = round((v - d - m / 60) * 360000)
            return [(d, 1), (m, 1), (s, 100)]

        gps_blob = tiff_ifd([
            (0x0000, 1, 4, bytes([2, 3, 0, 0])),
            ascii_entry(0x0001, "N" if lat >= 0 else "S"),
            rationals(0x0002, dms(lat)),
            ascii_entry(0x0003, "E" if lon >= 0 else "W"),
            rationals(0x0004, dms(lon)),
            (0x0005, 1, 1, bytes([0 if alt >= 0 else 1])),
            rationals(0x0006, [(int(abs(alt) * 10), 10)]),
        ], gps_off)
    tiff = b"II*\0" + struct.pack("<I", 8) + ifd0(exif_off, gps_off) + exif + gps_blob
    payload = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_tail() -> bytes:
    """TINY_JPEG without SOI and without its APPn segments (starts at DQT)."""
    data = TINY_JPEG
    assert data[:2] == b"\xff\xd8"
    i = 2
    while data[i] == 0xFF and 0xE0 <= data[i + 1] <= 0xEF:
        (seglen,) = struct.unpack(">H", data[i + 2:i + 4])
        i += 2 + seglen
    return data[i:]


def gen_photos(out: str, n: int, rng: random.Random, n_albums: int) -> int:
    tail = jpeg_tail()
    albums = ALBUMS[:max(1, min(n_albums, len(ALBUMS)))]
    if n_albums > len(ALBUMS):
        albums += [f"Album {i:02d}" for i in range(len(ALBUMS), n_albums)]
    per_album = split_counts(n, [1] * len(albums))
    total = 0
    seq = 0
    t = 0.0
    step = SPAN_SECONDS / max(1, n)
    max_payload = 65533
    for album, cnt in zip(albums, per_album):
        d = os.path.join(out, "media", album)
        os.makedirs(d, exist_ok=True)
        for _ in range(cnt):
            seq += 1
            t += step * rng.uniform(0.2, 1.8)
            tzh = rng.choice([-5, 0, 1, 2, 9])
            when = (EPOCH0 + timedelta(seconds=min(t, SPAN_SECONDS))).astimezone(timezone(timedelta(hours=tzh)))
            make, model = rng.choice(CAMERAS)
            gps = None
            if rng.random() < 0.7:
                gps = (rng.uniform(-60, 70), rng.uniform(-180, 180), rng.uniform(-20, 3000))
            app1 = exif_app1(make, model, f"{when:%Y:%m:%d %H:%M:%S}", f"{'+' if tzh >= 0 else '-'}{abs(tzh):02d}:00",
                             gps, rng.choice([1, 1, 1, 1, 6, 8, 3]))
            target = rng.randint(50 * 1024, 5 * 1024 * 1024)
            pad = target - 2 - len(app1) - len(tail)
            path = os.path.join(d, f"IMG_{seq:06d}.jpg")
            with open(path, "wb", buffering=1 << 20) as f:
                f.write(b"\xff\xd8")
                f.write(app1)
                written = 2 + len(app1)
                if pad > 4:
                    blob = rng.randbytes(pad)  # a bit more than needed; segment headers eat 4 bytes each
                    pos = 0
                    while pad - pos > 4:
                        chunk = min(max_payload, pad - pos - 4)
                        f.write(b"\xff\xfe" + struct.pack(">H", chunk + 2))
                        f.write(blob[pos:pos + chunk])
                        pos += chunk + 4
                        written += chunk + 4
                f.write(tail)
                written += len(tail)
            ts = when.timestamp()
            os.utime(path, (ts, ts))
            total += written
    return total


# --------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--contacts", type=int, default=100000)
    ap.add_argument("--messages", type=int, default=50000)
    ap.add_argument("--photos", type=int, default=10000)
    ap.add_argument("--albums", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--card-files", type=int, default=0,
                    help="also write this many one-contact .vcf files under contacts/cards/")
    ap.add_argument("--per-dir", type=int, default=0,
                    help="card files per subfolder of contacts/cards/ (0: all in one folder)")
    args = ap.parse_args(argv)

    out = os.path.abspath(args.out_dir)
    if os.path.exists(out) and os.listdir(out):
        sys.exit(f"gen_account: {out} exists and is not empty")
    os.makedirs(out, exist_ok=True)

    # independent streams per vertical: changing one count does not change the others
    t0 = time.time()
    sizes = {}
    for name, fn in (("contacts", lambda r: gen_contacts(out, args.contacts, r)),
                     ("messages", lambda r: gen_mail(out, args.messages, r)),
                     ("photos", lambda r: gen_photos(out, args.photos, r, args.albums)),
                     ("card_files", lambda r: gen_card_files(out, args.card_files, r, args.per_dir))):
        if name == "card_files" and not args.card_files:
            continue
        t = time.time()
        rng = random.Random(f"{args.seed}/{name}")
        fn(rng)
        sub = os.path.join(out, {"contacts": "contacts", "messages": "mail", "photos": "media",
                                 "card_files": os.path.join("contacts", "cards")}[name])
        sizes[name] = sum(os.path.getsize(os.path.join(dp, f)) for dp, _d, fs in os.walk(sub) for f in fs)
        print(f"  {name:9} {getattr(args, name):>8} items {sizes[name] / 1e6:>10.1f} MB "
              f"{time.time() - t:7.1f} s", file=sys.stderr, flush=True)
    total = sum(sizes.values())
    print(f"generated {out}: contacts={args.contacts} messages={args.messages} photos={args.photos} "
          f"card_files={args.card_files} "
          f"in {time.time() - t0:.1f} s")
    print(f"total bytes: {total}")


if __name__ == "__main__":
    main()
