#!/usr/bin/env python3
"""Regenerate the small example account under examples/account/.

    python3 examples/make_account.py [OUT_DIR]

OUT_DIR defaults to examples/account next to this script. The directory is
wiped and rebuilt from scratch. Everything is deterministic: fixed seeds,
fixed timestamps (also used as file mtimes), no dependence on the clock or
the locale. Requires Pillow and piexif (`pip install pillow piexif`).

Layout (what ferry's `dir:` connector reads):

    contacts/{family,work}.vcf
    calendar/{personal,work}.ics
    tasks/todo.ics
    mail/{INBOX,Sent}.mbox          mboxrd
    mail/Archive/{cur,new,tmp}/     maildir
    media/Holidays 2025/*.jpg (+ Takeout *.jpg.json sidecars)
    media/Family/*.jpg, *.png
    files/Documents/...

Run examples/check_account.py afterwards to validate and print totals.
"""

import base64
import io
import json
import os
import random
import re
import shutil
import sys
import unicodedata
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import piexif
from PIL import Image, ImageDraw

CRLF = b"\r\n"
UUID_NS = uuid.UUID("6f1c0f6e-3d1a-4b8e-9a57-0c0ffee00001")
DTSTAMP = "20250101T120000Z"
FIXED_MTIME = 1735732800  # 2025-01-01T12:00:00Z, used for files without a better date

HERE = os.path.dirname(os.path.abspath(__file__))


def uid(name: str) -> str:
    return str(uuid.uuid5(UUID_NS, name))


# --------------------------------------------------------------------------
# generic helpers


def write(path: str, data: bytes, mtime: int = FIXED_MTIME) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (mtime, mtime))


def fold(line: str, limit: int = 75) -> bytes:
    """RFC 5545 / RFC 6350 folding: at most `limit` octets per physical line,
    continuation lines start with one space, never split a UTF-8 sequence."""
    b = line.encode("utf-8")
    parts = []
    first = True
    while b:
        n = limit if first else limit - 1
        if len(b) <= n:
            chunk, b = b, b""
        else:
            cut = n
            while cut > 0 and (b[cut] & 0xC0) == 0x80:
                cut -= 1
            chunk, b = b[:cut], b[cut:]
        parts.append(chunk if first else b" " + chunk)
        first = False
    return CRLF.join(parts)


def content_lines(lines) -> bytes:
    """Fold each logical line and join with CRLF. Items that are bytes are
    emitted verbatim (used for the vCard 2.1 quoted-printable lines)."""
    out = []
    for line in lines:
        out.append(line if isinstance(line, bytes) else fold(line))
    return CRLF.join(out) + CRLF


def esc(text: str) -> str:
    """TEXT value escaping for vCard / iCalendar."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def tiny_jpeg(size, colour, accent, quality=60) -> bytes:
    img = Image.new("RGB", size, colour)
    d = ImageDraw.Draw(img)
    w, h = size
    d.ellipse([w // 4, h // 6, 3 * w // 4, 2 * h // 3], fill=accent)
    d.rectangle([w // 5, 2 * h // 3, 4 * w // 5, h], fill=accent)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def tiny_png(size, seed) -> bytes:
    rng = random.Random(seed)
    img = Image.new("RGB", size, (250, 250, 245))
    d = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(4, size[0] // 2), y0 + rng.randrange(4, size[1] // 2)
        d.ellipse([x0, y0, x1, y1], outline=tuple(rng.randrange(256) for _ in range(3)), width=2)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def minimal_pdf(title: str) -> bytes:
    """A tiny but structurally valid one-page PDF (correct xref offsets)."""
    stream = f"BT /F1 20 Tf 72 760 Td ({title}) Tj ET".encode("ascii")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --------------------------------------------------------------------------
# contacts


def qp(text: str) -> str:
    """Quoted-printable encode UTF-8 text for a vCard 2.1 value (no line breaks)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if byte in (0x3D, 0x3B) or byte < 0x20 or byte > 0x7E:  # '=' and ';' too
            out.append(f"={byte:02X}")
        else:
            out.append(ch)
    return "".join(out)


def qp_soft_wrap(prefix: str, encoded: str, width: int = 74) -> bytes:
    """Emit `prefix + encoded` with QP soft line breaks ('=' CRLF), never
    splitting an =XX triplet. Continuation lines are NOT space-prefixed."""
    line = prefix
    lines = []
    i = 0
    while i < len(encoded):
        tok = encoded[i : i + 3] if encoded[i] == "=" else encoded[i]
        if len(line) + len(tok) > width - 1:
            lines.append(line + "=")
            line = ""
        line += tok
        i += len(tok)
    lines.append(line)
    return "\r\n".join(lines).encode("ascii")


def family_vcf() -> bytes:
    photo_a = base64.b64encode(tiny_jpeg((24, 24), (240, 200, 170), (90, 60, 40))).decode()
    photo_b = base64.b64encode(tiny_jpeg((16, 16), (200, 220, 255), (30, 60, 120))).decode()
    long_note = (
        "Met Zoë at the Oktoberfest in 2012 – she is the one who got me into "
        "bouldering. Allergic to peanuts (serious!), vegetarian since 2019. "
        "Her kids: Mia (b. 2016) and Leo (b. 2019). Spare key for her flat is in "
        "the blue box on the shelf; alarm code is written on the back of the "
        "family photo.\nLikes: dark chocolate, Japanese whisky, The Cure."
    )
    cards = []
    # 1 -- the kitchen sink, vCard 3.0 as exported by macOS Contacts
    cards.append([
        "BEGIN:VCARD",
        "VERSION:3.0",
        "PRODID:-//Apple Inc.//macOS 14.2//EN",
        "N:Müller;Zoë;Anna;;",
        "FN:Zoë Müller",
        "NICKNAME:Zo",
        "ORG:Müller & Partner Architekten;Design",
        "TITLE:Architect",
        "EMAIL;TYPE=INTERNET;TYPE=HOME;TYPE=pref:zoe@example.net",
        "EMAIL;TYPE=INTERNET;TYPE=WORK:zoe.mueller@mueller-partner.example.de",
        "item1.EMAIL;TYPE=INTERNET:zoe.climbing@example.com",
        "item1.X-ABLabel:_$!<Other>!$_",
        "item2.EMAIL;TYPE=INTERNET:zm1987@example.org",
        "item2.X-ABLabel:old uni address",
        "TEL;TYPE=CELL;TYPE=VOICE;TYPE=pref:+49 170 1234567",
        "TEL;TYPE=HOME;TYPE=VOICE:+49 89 7654321",
        "TEL;TYPE=WORK;TYPE=VOICE:+49 89 1112223-45",
        "TEL;TYPE=WORK;TYPE=FAX:+49 89 1112223-99",
        "item3.TEL:+43 664 9876543",
        "item3.X-ABLabel:Austria (holiday flat)",
        "ADR;TYPE=HOME;TYPE=pref:;;Leopoldstraße 12\\nHinterhaus\\, 3. OG;München;Bayern;80802;Germany",
        "ADR;TYPE=WORK:;Büro 4.17;Sonnenstraße 3;München;Bayern;80331;Germany",
        "item4.ADR:;;Dorfstraße 5;Kitzbühel;Tirol;6370;Austria",
        "item4.X-ABADR:at",
        "item4.X-ABLabel:Holiday flat",
        "BDAY;VALUE=date:1987-05-23",
        "URL;TYPE=HOME:https://zoe.example.net/",
        "X-SOCIALPROFILE;type=twitter;x-user=zoemueller:https://twitter.com/zoemueller",
        "X-SOCIALPROFILE;type=mastodon:https://chaos.social/@zoe",
        "X-CUSTOM;TYPE=shoe-size:39",
        "X-ABRELATEDNAMES;TYPE=pref:Mia Müller",
        "NOTE:" + esc(long_note),
        "PHOTO;ENCODING=b;TYPE=JPEG:" + photo_a,
        "CATEGORIES:Family,Climbing",
        "REV:2024-12-30T18:22:05Z",
        "UID:" + uid("family/zoe"),
        "END:VCARD",
    ])
    # 2 -- vCard 4.0 with CJK name and a data: URI photo
    cards.append([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "N:李;小龙;;;",
        "FN:李小龙",
        "N;ALTID=1;LANGUAGE=en:Li;Xiaolong;;;",
        "FN;ALTID=1;LANGUAGE=en:Li Xiaolong",
        "LANG;PREF=1:zh",
        "LANG;PREF=2:en",
        'TEL;VALUE=uri;TYPE="cell,voice";PREF=1:tel:+86-138-0013-8000',
        "TEL;VALUE=uri;TYPE=home:tel:+86-10-6552-9988",
        "EMAIL;TYPE=home:xiaolong.li@example.cn",
        "ADR;TYPE=home;LABEL=\"北京市朝阳区建国路88号\\n100022\":;;建国路88号;北京市;朝阳区;100022;中国",
        "BDAY:19900214",
        "PHOTO:data:image/jpeg;base64," + photo_b,
        "X-CUSTOM:wechat=lxl_1990",
        "X-WECHAT-ID:lxl_1990",
        "NOTE:表哥 (cousin on mum's side). Prefers WeChat over e-mail.",
        "REV:20241201T090000Z",
        "UID:urn:uuid:" + uid("family/li"),
        "END:VCARD",
    ])
    # 3 -- Scandinavian characters
    cards.append([
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Ørsted;Åsa;;;",
        "FN:Åsa Ørsted",
        "EMAIL;TYPE=INTERNET,HOME:asa.orsted@example.dk",
        "TEL;TYPE=CELL:+45 20 12 34 56",
        "ADR;TYPE=HOME:;;Åboulevarden 7\\, 2. tv.;København N;;2200;Danmark",
        "BDAY:1992-11-03",
        "X-SOCIALPROFILE;type=instagram:https://instagram.com/asa.paddles",
        "NOTE:Kayak buddy. Ærø trip every August.",
        "UID:" + uid("family/asa"),
        "END:VCARD",
    ])
    # 4 -- grandmother: BDAY without year (vCard 4.0 truncated date)
    cards.append([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "KIND:individual",
        "N:Müller;Margarete;;;",
        "FN:Margarete Müller",
        "NICKNAME:Oma",
        "BDAY:--0415",
        "TEL;TYPE=home:+49 8341 12345",
        "ADR;TYPE=home:;;Am Kirchplatz 3;Kaufbeuren;;87600;Germany",
        "EMAIL:oma.margarete@example.de",
        "RELATED;TYPE=child;VALUE=text:Helga Schmidt",
        "UID:urn:uuid:" + uid("family/oma"),
        "END:VCARD",
    ])
    # 5 -- mum, with ANNIVERSARY and GENDER
    cards.append([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "N:Schmidt;Helga;;;",
        "FN:Helga Schmidt",
        "GENDER:F",
        "BDAY:19620312",
        "ANNIVERSARY:19850622",
        "EMAIL;TYPE=home;PREF=1:helga.schmidt@example.de",
        "TEL;VALUE=uri;TYPE=cell:tel:+49-171-5556667",
        "ADR;TYPE=home:;;Gartenweg 4;Augsburg;Bayern;86150;Germany",
        "RELATED;TYPE=spouse:urn:uuid:" + uid("family/peter"),
        "UID:urn:uuid:" + uid("family/helga"),
        "END:VCARD",
    ])
    # 6 -- dad, 3.0 minimalistic
    cards.append([
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Schmidt;Peter;;;",
        "FN:Peter Schmidt",
        "TEL;TYPE=CELL:+49 171 5556668",
        "EMAIL:peter.schmidt@example.de",
        "BDAY:1960-08-01",
        "UID:urn:uuid:" + uid("family/peter"),
        "END:VCARD",
    ])
    # 7 -- sister, IMPP and URL
    cards.append([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "N:Schmidt-Nowak;Julia;;;",
        "FN:Julia Schmidt-Nowak",
        "EMAIL;TYPE=home:julia@example.pl",
        "IMPP;PREF=1:xmpp:julia@jabber.example.pl",
        "IMPP:sip:julia@voip.example.pl",
        "URL:https://julia-bakes.example.pl/",
        "TEL;VALUE=uri;TYPE=cell:tel:+48-601-234-567",
        "ADR;TYPE=home:;;ul. Świętokrzyska 18 m. 4;Warszawa;mazowieckie;00-052;Polska",
        "BDAY:19890930",
        "UID:urn:uuid:" + uid("family/julia"),
        "END:VCARD",
    ])
    # 8 -- brother-in-law, Polish diacritics
    cards.append([
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Wiśniewski;Łukasz;;;",
        "FN:Łukasz Wiśniewski",
        "EMAIL;TYPE=INTERNET:lukasz.w@example.pl",
        "TEL;TYPE=CELL:+48 602 345 678",
        "X-CUSTOM:Football on Saturdays",
        "UID:" + uid("family/lukasz"),
        "END:VCARD",
    ])
    # 9 -- Spanish cousin
    cards.append([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "N:Núñez;José;María;;",
        "FN:José María Núñez",
        "EMAIL;TYPE=home:jose.nunez@example.es",
        "TEL;VALUE=uri;TYPE=\"cell,text\":tel:+34-612-345-678",
        "ADR;TYPE=home:;;Calle de Alcalá 123\\, 4º B;Madrid;;28009;España",
        "BDAY:19950704",
        "UID:urn:uuid:" + uid("family/jose"),
        "END:VCARD",
    ])
    # 10 -- uncle: escaped separators in NOTE and ORG
    cards.append([
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Lefèvre;Jean-François;;;",
        "FN:Jean-François Lefèvre",
        "ORG:Boulangerie Lefèvre\\, Père & Fils",
        "EMAIL;TYPE=INTERNET:jf.lefevre@example.fr",
        "TEL;TYPE=WORK:+33 1 42 68 53 00",
        "NOTE:Semicolons\\; commas\\, and a backslash \\\\ all need escaping.\\nSecond line.",
        "BDAY:1958-02-28",
        "UID:" + uid("family/jf"),
        "END:VCARD",
    ])
    # 11 -- aunt, Turkish dotless i
    cards.append([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "N:Yılmaz;Ayşe;;;",
        "FN:Ayşe Yılmaz",
        "GENDER:F",
        "EMAIL;TYPE=home:ayse.yilmaz@example.com.tr",
        "TEL;VALUE=uri;TYPE=cell:tel:+90-532-123-4567",
        "BDAY:19700119",
        "UID:urn:uuid:" + uid("family/ayse"),
        "END:VCARD",
    ])
    # 12 -- bare minimum (name and phone only)
    cards.append([
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:;Kai;;;",
        "FN:Kai (neighbour)",
        "TEL:+49 89 300400",
        "UID:" + uid("family/kai"),
        "END:VCARD",
    ])
    return b"".join(content_lines(c) for c in cards)


WORK_PEOPLE = [
    # given, family, org, department, title, categories, email domain, phone
    ("Bob", "Miller", "Acme Data Inc.", "Platform", "Engineering Manager", "Work,Ferry", "acme.example.com", "+1-212-555-0101"),
    ("Carol", "Jones", "Acme Data Inc.", "Platform", "Staff Engineer", "Work,Ferry", "acme.example.com", "+1-212-555-0102"),
    ("Dmitri", "Ivanov", "Acme Data Inc.", "Security", "Security Lead", "Work", "acme.example.com", "+1-212-555-0103"),
    ("Priya", "Raman", "Acme Data Inc.", "Product", "Product Manager", "Work,Ferry", "acme.example.com", "+1-212-555-0104"),
    ("Hiroshi", "Tanaka", "Kaisha KK", "R&D", "Researcher", "Partner", "kaisha.example.jp", "+81-3-5555-0105"),
    ("Fatima", "Al-Sayed", "Acme Data Inc.", "Legal", "Counsel", "Work,Legal", "acme.example.com", "+1-212-555-0106"),
    ("Noah", "Becker", "Freelance", "", "Designer", "Contractor", "becker-design.example.de", "+49-30-5550107"),
    ("Olivia", "Brown", "Acme Data Inc.", "Sales", "Account Executive", "Work", "acme.example.com", "+1-212-555-0108"),
    ("Mateo", "García", "Datos SL", "Ingeniería", "CTO", "Partner,Ferry", "datos.example.es", "+34-91-555-0109"),
    ("Sophie", "Dubois", "Acme Data Inc.", "Support", "Support Engineer", "Work", "acme.example.com", "+1-212-555-0110"),
    ("Ingrid", "Johansson", "Nordic Cloud AB", "Ops", "SRE", "Partner", "nordic.example.se", "+46-8-555-0111"),
    ("Kwame", "Mensah", "Acme Data Inc.", "Platform", "Software Engineer", "Work,Ferry", "acme.example.com", "+1-212-555-0112"),
    ("Emma", "Wilson", "Acme Data Inc.", "HR", "People Partner", "Work", "acme.example.com", "+1-212-555-0113"),
    ("Lucas", "Silva", "Acme Data Inc.", "Platform", "Intern", "Work", "acme.example.com", "+1-212-555-0114"),
    ("Ana", "Popescu", "Acme Data Inc.", "Finance", "Controller", "Work,Finance", "acme.example.com", "+1-212-555-0115"),
    ("Yuki", "Sato", "Kaisha KK", "Sales", "Manager", "Partner", "kaisha.example.jp", "+81-3-5555-0116"),
    ("Omar", "Haddad", "Acme Data Inc.", "Security", "Pentester", "Work", "acme.example.com", "+1-212-555-0117"),
]


def work_vcf() -> bytes:
    cards = []
    for i, (given, family, org, dept, title, cats, domain, phone) in enumerate(WORK_PEOPLE):
        email = f"{given.lower()}.{unicodedata.normalize('NFKD', family).encode('ascii', 'ignore').decode().lower()}@{domain}"
        lines = [
            "BEGIN:VCARD",
            "VERSION:4.0",
            f"N:{esc(family)};{esc(given)};;;",
            f"FN:{given} {family}",
            "ORG:" + esc(org) + (";" + esc(dept) if dept else ""),
            "TITLE:" + esc(title),
            f"EMAIL;TYPE=work;PREF=1:{email}",
            f"TEL;VALUE=uri;TYPE=\"work,voice\":tel:{phone}",
            "CATEGORIES:" + cats,
        ]
        if i % 3 == 0:
            lines.append(f"TEL;VALUE=uri;TYPE=cell:tel:{phone[:-4]}9{phone[-3:]}")
        if i % 4 == 1:
            lines.append(f"ADR;TYPE=work:;Floor {i + 2};{100 + i} Broadway;New York;NY;10006;USA")
        if i == 4:
            lines.append("NOTE:Met at RustConf 2024. Working on an ActivityPub bridge; interested in ferry's zip format.")
        if i == 9:
            lines.append("URL;TYPE=work:https://support.acme.example.com/team")
        lines.append(f"REV:2024{(i % 12) + 1:02d}15T120000Z")
        if i != 6:  # Noah Becker: the one card without UID (exercise the fallback)
            lines.append("UID:urn:uuid:" + uid(f"work/{given}.{family}"))
        lines.append("END:VCARD")
        cards.append(lines)

    # an organisation card (KIND:org) with a group-less multi-line address
    cards.append([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "KIND:org",
        "FN:Acme Data Inc.",
        "ORG:Acme Data Inc.",
        "TEL;VALUE=uri;TYPE=work:tel:+1-212-555-0100",
        "EMAIL;TYPE=work:reception@acme.example.com",
        "ADR;TYPE=work:;;100 Broadway\\nSuite 1200;New York;NY;10006;USA",
        "URL:https://acme.example.com/",
        "CATEGORIES:Work",
        "UID:urn:uuid:" + uid("work/acme-org"),
        "END:VCARD",
    ])
    # a legacy vCard 2.1 from an old Nokia export: QUOTED-PRINTABLE, CHARSET,
    # bare type parameters and a soft line break
    note = (
        "Lieferant für Büromöbel seit 2009. Bitte immer vormittags anrufen; "
        "Rabatt ab 10 Stühlen = 15 %.\r\nAnsprechpartner im Lager: Frau Kühn."
    )
    cards.append([
        "BEGIN:VCARD",
        "VERSION:2.1",
        ("N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:" + qp("Weiß") + ";" + qp("Jürgen") + ";;;").encode("ascii"),
        ("FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:" + qp("Jürgen Weiß")).encode("ascii"),
        ("ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:" + qp("Weiß & Söhne GmbH")).encode("ascii"),
        "TITLE:Vertrieb",
        "TEL;WORK;VOICE:+49 89 4445556",
        "TEL;CELL:+49 160 4445557",
        "EMAIL;INTERNET;PREF:j.weiss@weiss-soehne.example.de",
        "CATEGORIES:Supplier",
        qp_soft_wrap("NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:", qp(note)),
        "UID:" + uid("work/juergen.weiss"),
        "END:VCARD",
    ])
    # an assistant with a grouped label, 4.0
    cards.append([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "N:Okafor;Chiamaka;;;",
        "FN:Chiamaka Okafor",
        "ORG:Acme Data Inc.;Office of the CEO",
        "TITLE:Executive Assistant",
        "EMAIL;TYPE=work:chiamaka.okafor@acme.example.com",
        "item1.TEL:tel:+1-212-555-0199",
        "item1.X-ABLabel:Front desk",
        "CATEGORIES:Work",
        "UID:urn:uuid:" + uid("work/chiamaka"),
        "END:VCARD",
    ])
    return b"".join(content_lines(c) for c in cards)


# --------------------------------------------------------------------------
# calendars and tasks

VTZ_BERLIN = [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "X-LIC-LOCATION:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
]

VTZ_NEW_YORK = [
    "BEGIN:VTIMEZONE",
    "TZID:America/New_York",
    "X-LIC-LOCATION:America/New_York",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0400",
    "TZNAME:EDT",
    "DTSTART:19700308T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:-0400",
    "TZOFFSETTO:-0500",
    "TZNAME:EST",
    "DTSTART:19701101T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
]

BER = ";TZID=Europe/Berlin"
NYC = ";TZID=America/New_York"


def vevent(uid_, *props, stamp=DTSTAMP):
    return ["BEGIN:VEVENT", "UID:" + uid_, "DTSTAMP:" + stamp, *props, "END:VEVENT"]


def valarm(trigger, action="DISPLAY", description="Reminder", extra=()):
    return ["BEGIN:VALARM", "ACTION:" + action, "TRIGGER" + trigger, "DESCRIPTION:" + esc(description), *extra, "END:VALARM"]


def personal_ics() -> bytes:
    ev = []
    piano_uid = uid("cal/piano") + "@example.org"
    ev.append(vevent(
        uid("cal/yoga") + "@example.org",
        "SUMMARY:Yoga class",
        "LOCATION:Yogaloft\\, Schwabing",
        f"DTSTART{BER}:20250107T183000",
        f"DTEND{BER}:20250107T193000",
        "RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20250624T163000Z",
        f"EXDATE{BER}:20250225T183000,20250422T183000",
        f"EXDATE{BER}:20250527T183000",
        "CATEGORIES:Sport",
        "X-MOZ-GENERATION:4",
    ))
    ev.append(vevent(
        uid("cal/vitamins") + "@example.org",
        "SUMMARY:Take vitamin D",
        f"DTSTART{BER}:20250301T080000",
        f"DTEND{BER}:20250301T080500",
        "RRULE:FREQ=DAILY;COUNT=10",
        "TRANSP:TRANSPARENT",
        *valarm(":-PT5M", description="Vitamin D"),
    ))
    ev.append(vevent(
        uid("cal/dentist") + "@example.org",
        "SUMMARY:Dentist check-up (Dr. Öztürk)",
        "LOCATION:Zahnarztpraxis Öztürk\\, Hohenzollernstraße 40\\, München",
        f"DTSTART{BER}:20250210T090000",
        f"DTEND{BER}:20250210T094500",
        f"RDATE{BER}:20250811T090000",
        *valarm(":-PT1H"),
    ))
    ev.append(vevent(
        piano_uid,
        "SUMMARY:Piano lesson",
        f"DTSTART{BER}:20250116T170000",
        f"DTEND{BER}:20250116T174500",
        "RRULE:FREQ=WEEKLY;BYDAY=TH;COUNT=12",
        "SEQUENCE:0",
    ))
    ev.append(vevent(  # override of one occurrence of the piano lesson
        piano_uid,
        f"RECURRENCE-ID{BER}:20250213T170000",
        "SUMMARY:Piano lesson (moved to Friday)",
        f"DTSTART{BER}:20250214T160000",
        f"DTEND{BER}:20250214T164500",
        "SEQUENCE:1",
        "DESCRIPTION:Teacher is away on Thursday\\, moved by one day.",
    ))
    ev.append(vevent(
        uid("cal/mum-birthday") + "@example.org",
        "SUMMARY:Mum's birthday",
        "DTSTART;VALUE=DATE:20250312",
        "DTEND;VALUE=DATE:20250313",
        "RRULE:FREQ=YEARLY",
        "TRANSP:TRANSPARENT",
        "CATEGORIES:Birthday,Family",
        *valarm(":-P1D", description="Buy flowers for Mum"),
    ))
    ev.append(vevent(
        uid("cal/easter") + "@example.org",
        "SUMMARY:Easter holidays – Lago di Garda",
        "DTSTART;VALUE=DATE:20250418",
        "DTEND;VALUE=DATE:20250422",
        "LOCATION:Malcesine\\, Italia",
        "TRANSP:TRANSPARENT",
    ))
    ev.append(vevent(
        uid("cal/dinner") + "@example.org",
        "SUMMARY:Dinner party at Zoë's",
        f"DTSTART{BER}:20250322T190000",
        f"DTEND{BER}:20250322T233000",
        "LOCATION:Leopoldstraße 12\\, München",
        'ORGANIZER;CN="Zoë Müller":mailto:zoe@example.net',
        'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=CHAIR;PARTSTAT=ACCEPTED;CN="Zoë Müller":mailto:zoe@example.net',
        'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE;CN=Alex Schmidt:mailto:alex@example.org',
        'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=TENTATIVE;RSVP=TRUE;CN="Ørsted, Åsa":mailto:asa.orsted@example.dk',
        'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=OPT-PARTICIPANT;PARTSTAT=DECLINED;CN=Łukasz Wiśniewski:mailto:lukasz.w@example.pl',
        'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=李小龙:mailto:xiaolong.li@example.cn',
        "SEQUENCE:2",
        "X-MOZ-GENERATION:7",
        *valarm(":-PT2H", description="Bring dessert"),
    ))
    ev.append(vevent(
        uid("cal/zoe-party") + "@example.org",
        "SUMMARY:Geburtstagsfeier für Zoë 🎂 – Überraschung!",
        f"DTSTART{BER}:20250523T180000",
        f"DTEND{BER}:20250523T230000",
        "LOCATION:Café Kränzler\\, Kurfürstendamm 18\\, Berlin",
        "DESCRIPTION:Psst – nicht verraten! Geschenk: Kletterschuhe (Größe 39). Treffpunkt um 17:45 vor dem Café\\, Kuchen bringt Åsa.",
        "CATEGORIES:Birthday,Family",
    ))
    ev.append(vevent(
        uid("cal/flight") + "@example.org",
        "SUMMARY:Flight LH1792 MUC → LIS",
        "DTSTART:20250715T061500Z",
        "DTEND:20250715T091000Z",
        "LOCATION:Munich Airport (MUC)\\, Terminal 2",
        "DESCRIPTION:Booking reference: XK7P2Q\\nSeat 14A\\, 1 checked bag (23 kg)\\nOnline check-in opens 23 hours before departure. Remember to bring the passport\\, not just the ID card – Portugal is Schengen but the airline insists.",
        "CLASS:PRIVATE",
        *valarm(":-PT3H", description="Leave for the airport"),
    ))
    ev.append(vevent(
        uid("cal/run") + "@example.org",
        "SUMMARY:Morning run (floating time)",
        "DTSTART:20250105T070000",
        "DURATION:PT45M",
        "RRULE:FREQ=WEEKLY;BYDAY=SU;COUNT=8",
    ))
    ev.append(vevent(
        uid("cal/concert") + "@example.org",
        "SUMMARY:Concert: Elbphilharmonie – Mahler 5",
        f"DTSTART{BER}:20250927T200000",
        f"DTEND{BER}:20250927T223000",
        "LOCATION:Elbphilharmonie\\, Platz der Deutschen Einheit 1\\, Hamburg",
        "GEO:53.541367;9.984141",
        "URL:https://www.elbphilharmonie.example/en/whats-on/mahler-5/",
        "CLASS:PRIVATE",
        "CATEGORIES:Music,Travel",
        "X-MOZ-GENERATION:2",
        "X-MOZ-LASTACK:20250901T100000Z",
    ))
    ev.append(vevent(
        uid("cal/bookclub") + "@example.org",
        "SUMMARY:Book club",
        f"DTSTART{BER}:20250204T193000",
        f"DTEND{BER}:20250204T213000",
        "STATUS:CANCELLED",
        "SEQUENCE:3",
    ))
    ev.append(vevent(
        uid("cal/tuev") + "@example.org",
        "SUMMARY:Car inspection (TÜV)",
        f"DTSTART{BER}:20250606T080000",
        f"DTEND{BER}:20250606T090000",
        "LOCATION:TÜV SÜD Service-Center\\, Ridlerstraße 57\\, München",
        *valarm(":-PT15M"),
        *valarm(";VALUE=DATE-TIME:20250605T160000Z", action="AUDIO", description="TÜV tomorrow",
                extra=("ATTACH;FMTTYPE=audio/basic:https://example.org/sounds/bell.au",)),
        *valarm(":-P2D", action="EMAIL", description="Don't forget the registration papers.",
                extra=("SUMMARY:TÜV in two days", "ATTENDEE:mailto:alex@example.org")),
    ))
    ev.append(vevent(
        uid("cal/family-call") + "@example.org",
        "SUMMARY:Video call with the family",
        f"DTSTART{BER}:20250105T170000",
        f"DTEND{BER}:20250105T180000",
        "RRULE:FREQ=MONTHLY;BYDAY=1SU",
        "DESCRIPTION:https://meet.example.org/schmidt-family",
    ))
    ev.append(vevent(
        uid("cal/school") + "@example.org",
        "SUMMARY:Parent–teacher meeting",
        f"DTSTART{BER}:20251014T161500",
        f"DTEND{BER}:20251014T170000",
        "ATTACH;FMTTYPE=application/pdf:https://school.example.de/elternsprechtag-2025.pdf",
        "DESCRIPTION:Topics:\\n1. Maths homework\\n2. Class trip to Füssen (Neuschwanstein)\\, cost 85 €\\n3. Swimming lessons",
    ))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Personal",
        "X-WR-TIMEZONE:Europe/Berlin",
        *VTZ_BERLIN,
    ]
    for e in ev:
        lines += e
    lines.append("END:VCALENDAR")
    return content_lines(lines), len(ev)


def work_ics() -> bytes:
    ev = []
    ev.append(vevent(
        uid("work/sync") + "@acme.example.com",
        "SUMMARY:Platform team sync",
        f"DTSTART{NYC}:20250106T100000",
        f"DTEND{NYC}:20250106T103000",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20250630T140000Z",
        f"EXDATE{NYC}:20250120T100000",
        "LOCATION:Zoom",
        'ORGANIZER;CN=Bob Miller:mailto:bob.miller@acme.example.com',
    ))
    ev.append(vevent(
        uid("work/qbr") + "@acme.example.com",
        "SUMMARY:Q1 business review",
        f"DTSTART{NYC}:20250331T140000",
        f"DTEND{NYC}:20250331T160000",
        "LOCATION:100 Broadway\\, Room 12-Hudson",
        'ORGANIZER;CN=Priya Raman:mailto:priya.raman@acme.example.com',
        'ATTENDEE;ROLE=CHAIR;PARTSTAT=ACCEPTED;CN=Priya Raman:mailto:priya.raman@acme.example.com',
        'ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Alex Schmidt:mailto:alex@example.org',
        'ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=TENTATIVE;CN=Carol Jones:mailto:carol.jones@acme.example.com',
        'ATTENDEE;CUTYPE=ROOM;ROLE=NON-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Room 12-Hudson:mailto:room-12-hudson@acme.example.com',
    ))
    ev.append(vevent(
        uid("work/rustconf") + "@acme.example.com",
        "SUMMARY:RustConf 2025",
        "DTSTART;VALUE=DATE:20250902",
        "DTEND;VALUE=DATE:20250906",
        "LOCATION:Seattle\\, WA",
        "TRANSP:TRANSPARENT",
        "CATEGORIES:Conference,Travel",
    ))
    ev.append(vevent(
        uid("work/flight") + "@acme.example.com",
        "SUMMARY:Flight JFK → SEA",
        "DTSTART:20250901T133000Z",
        "DTEND:20250901T193000Z",
        *valarm(":-PT3H"),
    ))
    ev.append(vevent(
        uid("work/lunch") + "@acme.example.com",
        "SUMMARY:Lunch with Datos SL (Mateo García)",
        f"DTSTART{NYC}:20250212T123000",
        f"DTEND{NYC}:20250212T140000",
        "LOCATION:Café Español\\, 172 Bleecker St\\, New York",
        "CLASS:CONFIDENTIAL",
    ))
    ev.append(vevent(
        uid("work/dst") + "@acme.example.com",
        "SUMMARY:1:1 Alex / Bob (first day after DST switch)",
        f"DTSTART{NYC}:20250310T090000",
        f"DTEND{NYC}:20250310T093000",
        "DESCRIPTION:The US switched to EDT on 2025-03-09 while Europe is still on CET: the offset to Munich is 5h this week\\, not 6h.",
    ))
    ev.append(vevent(
        uid("work/payroll") + "@acme.example.com",
        "SUMMARY:Submit expense report",
        f"DTSTART{NYC}:20250128T160000",
        "DURATION:PT30M",
        "RRULE:FREQ=MONTHLY;BYMONTHDAY=-3;COUNT=6",
        *valarm(":-P1D"),
    ))
    ev.append(vevent(
        uid("work/offsite") + "@acme.example.com",
        "SUMMARY:Team offsite (tentative)",
        f"DTSTART{NYC}:20250618T090000",
        f"DTEND{NYC}:20250619T170000",
        "STATUS:TENTATIVE",
        "TRANSP:OPAQUE",
        "LOCATION:Catskills\\, NY",
    ))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Ferry Examples//make_account.py//EN",
        "X-WR-CALNAME:Work",
        *VTZ_NEW_YORK,
    ]
    for e in ev:
        lines += e
    lines.append("END:VCALENDAR")
    return content_lines(lines), len(ev)


def todo_ics() -> bytes:
    def vtodo(name, *props):
        return ["BEGIN:VTODO", "UID:" + uid("todo/" + name) + "@example.org", "DTSTAMP:" + DTSTAMP,
                "CREATED:20241220T100000Z", *props, "END:VTODO"]

    parent = uid("todo/taxes") + "@example.org"
    todos = [
        vtodo("taxes",
              "SUMMARY:File tax return 2024",
              "DUE;VALUE=DATE:20250731",
              "PRIORITY:1",
              "STATUS:IN-PROCESS",
              "PERCENT-COMPLETE:40",
              "CATEGORIES:Finance",
              *valarm(";RELATED=END:-P7D", description="Tax return due in a week")),
        vtodo("receipts",
              "SUMMARY:Collect receipts for the tax return",
              "RELATED-TO;RELTYPE=PARENT:" + parent,
              "DUE:20250301T170000Z",
              "PRIORITY:2",
              "STATUS:COMPLETED",
              "COMPLETED:20250227T101500Z",
              "PERCENT-COMPLETE:100"),
        vtodo("plants",
              "SUMMARY:Water the plants",
              "DTSTART;VALUE=DATE:20250104",
              "DUE;VALUE=DATE:20250105",
              "RRULE:FREQ=WEEKLY;BYDAY=SA",
              "STATUS:NEEDS-ACTION"),
        vtodo("passport",
              "SUMMARY:Renew passport",
              "DUE:20250601T100000Z",
              "PRIORITY:5",
              "STATUS:NEEDS-ACTION",
              "DESCRIPTION:Appointment at the KVR needed. Bring: old passport\\, biometric photo\\, 70 €."),
        vtodo("present",
              "SUMMARY:Geschenk für Zoë besorgen 🎁",
              "DUE:20250520T180000Z",
              "PRIORITY:3",
              "STATUS:NEEDS-ACTION",
              "CATEGORIES:Family,Birthday"),
        vtodo("backup",
              "SUMMARY:Export everything with ferry",
              "DTSTART:20250110T090000Z",
              "DUE:20250131T170000Z",
              "STATUS:IN-PROCESS",
              "PERCENT-COMPLETE:75",
              "PRIORITY:4"),
        vtodo("call-oma",
              "SUMMARY:Call Oma",
              "DUE;VALUE=DATE:20250415",
              "STATUS:COMPLETED",
              "COMPLETED:20250415T081200Z",
              "PERCENT-COMPLETE:100"),
        vtodo("holiday",
              "SUMMARY:Book summer holiday",
              "PRIORITY:9",
              "STATUS:NEEDS-ACTION"),
        vtodo("bike",
              "SUMMARY:Fix bike brakes",
              "DUE:20250315T120000Z",
              "STATUS:CANCELLED",
              "DESCRIPTION:Bought a new bike instead."),
        vtodo("ddia",
              "SUMMARY:Read 'Designing Data-Intensive Applications'",
              "STATUS:IN-PROCESS",
              "PERCENT-COMPLETE:30",
              "DESCRIPTION:Chapters 5 (replication) and 11 (stream processing) are the relevant ones for ferry's incremental export. Take notes in Documents/Projects/ferry/plan.txt.",
              "CLASS:PRIVATE"),
    ]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Ferry Examples//make_account.py//EN",
        "X-WR-CALNAME:Tasks",
    ]
    for t in todos:
        lines += t
    lines.append("END:VCALENDAR")
    return content_lines(lines), len(todos)


# --------------------------------------------------------------------------
# mail

ME = "Alex Schmidt <alex@example.org>"
FROM_RE = re.compile(rb"^(>*From )", re.M)


def b_word(text: str) -> str:
    """RFC 2047 B-encoding in UTF-8, split into <=75-char encoded words."""
    words, cur = [], b""
    for ch in text:
        enc = ch.encode("utf-8")
        if len(base64.b64encode(cur + enc)) > 45:
            words.append(cur)
            cur = b""
        cur += enc
    words.append(cur)
    return " ".join(f"=?UTF-8?B?{base64.b64encode(w).decode()}?=" for w in words)


def q_word(text: str, charset: str = "ISO-8859-1") -> str:
    """RFC 2047 Q-encoding."""
    out = []
    for byte in text.encode(charset):
        c = chr(byte)
        if c == " ":
            out.append("_")
        elif c.isalnum() and byte < 0x80:
            out.append(c)
        elif c in "!*+-/" and byte < 0x80:
            out.append(c)
        else:
            out.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(out)}?="


def b64_lines(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def qp_body(text: str, charset="utf-8") -> str:
    import quopri
    return quopri.encodestring(text.replace("\n", "\r\n").encode(charset)).decode("ascii").replace("\r\n", "\n")


class Mail:
    def __init__(self, key, date, from_, to, subject, env_from=None, msgid=True,
                 reply_to=None, cc=None, flags=None, extra=()):
        self.key = key
        self.date = date
        self.from_ = from_
        self.to = to
        self.cc = cc
        self.subject = subject
        if env_from:
            self.env_from = env_from
        elif "<" in from_:
            self.env_from = re.search(r"<([^>]+)>", from_).group(1)
        else:
            self.env_from = from_
        self.outgoing = self.env_from == "alex@example.org"
        self.msgid = f"<{date.strftime('%Y%m%d%H%M%S')}.{key}@{self.env_from.split('@')[1]}>" if msgid else None
        self.reply_to = reply_to
        self.flags = flags  # (Status, X-Status) or None
        self.extra = list(extra)
        self.in_reply_to = None
        self.references = []
        self.content = None  # (headers list, body str/bytes)

    def reply_to_msg(self, parent):
        self.in_reply_to = parent.msgid
        self.references = parent.references + [parent.msgid]
        return self

    def raw(self) -> bytes:
        h = []
        if not self.outgoing:
            h.append(("Return-Path", f"<{self.env_from}>"))
        if not self.outgoing:
            h.append(("Received", f"from mail.{self.env_from.split('@')[1]} (mail.{self.env_from.split('@')[1]} [192.0.2.{10 + len(self.key) % 200}])\n"
                              f"\tby mx.example.org (Postfix) with ESMTPS id {self.key.upper()[:10]}\n"
                              f"\tfor <alex@example.org>; {format_datetime(self.date)}"))
        h.append(("Date", format_datetime(self.date)))
        h.append(("From", self.from_))
        h.append(("To", self.to))
        if self.cc:
            h.append(("Cc", self.cc))
        if self.reply_to:
            h.append(("Reply-To", self.reply_to))
        h.append(("Subject", self.subject))
        if self.msgid:
            h.append(("Message-ID", self.msgid))
        if self.in_reply_to:
            h.append(("In-Reply-To", self.in_reply_to))
            h.append(("References", "\n ".join(self.references)))
        h.extend(self.extra)
        h.append(("MIME-Version", "1.0"))
        ctype_headers, body = self.content
        h.extend(ctype_headers)
        if self.flags:
            status, xstatus = self.flags
            if status:
                h.append(("Status", status))
            if xstatus:
                h.append(("X-Status", xstatus))
        head = "".join(f"{k}: {v}\n" for k, v in h).encode("ascii")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not body.endswith(b"\n"):
            body += b"\n"
        return head + b"\n" + body

    def envelope(self) -> bytes:
        d = self.date.astimezone(timezone.utc)
        return f"From {self.env_from} {d:%a %b} {d.day:2d} {d:%H:%M:%S %Y}".encode("ascii")


def plain(text, charset="utf-8", cte="8bit", flowed=False):
    ct = f"text/plain; charset={charset}" + ("; format=flowed" if flowed else "")
    if cte == "quoted-printable":
        body = qp_body(text, charset).encode("ascii")
    else:
        body = text.encode(charset)
    return [("Content-Type", ct), ("Content-Transfer-Encoding", cte)], body


def part(headers, body) -> bytes:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return "".join(f"{k}: {v}\n" for k, v in headers).encode("ascii") + b"\n" + body


def multipart(subtype, boundary, parts, preamble="This is a multi-part message in MIME format.\n"):
    out = bytearray(preamble.encode("ascii"))
    for ph, pb in parts:
        out += f"\n--{boundary}\n".encode("ascii") + part(ph, pb).rstrip(b"\n") + b"\n"
    out += f"\n--{boundary}--\n".encode("ascii")
    return [("Content-Type", f'multipart/{subtype};\n boundary="{boundary}"')], bytes(out)


def attachment(ctype, filename, data, filename_star=None):
    disp = f'attachment; filename="{filename}"'
    if filename_star:
        disp = f"attachment;\n filename*=UTF-8''{filename_star}"
        ctype_line = f"{ctype};\n name*=UTF-8''{filename_star}"
    else:
        ctype_line = f'{ctype}; name="{filename}"'
    return [("Content-Type", ctype_line), ("Content-Disposition", disp),
            ("Content-Transfer-Encoding", "base64")], b64_lines(data)


def html_part(html, cte="quoted-printable"):
    return [("Content-Type", "text/html; charset=utf-8"), ("Content-Transfer-Encoding", cte)], (
        qp_body(html) if cte == "quoted-printable" else html)


def build_mail():
    T = lambda s: datetime.fromisoformat(s)  # noqa: E731
    zoe = f"{b_word('Zoë Müller')} <zoe@example.net>"
    oma = f"{q_word('Margarete Müller')} <oma.margarete@example.de>"
    li = f"{b_word('李小龙')} <xiaolong.li@example.cn>"
    asa = f"{b_word('Åsa Ørsted')} <asa.orsted@example.dk>"
    bob = "Bob Miller <bob.miller@acme.example.com>"
    carol = '"Jones, Carol" <carol.jones@acme.example.com>'
    png = tiny_png((32, 32), 7)
    pdf = minimal_pdf("Ferry kickoff agenda")
    txt = "Reiseplan München → Lissabon\n\n15.07. LH1792 06:15\n16.07. Sintra\n18.07. Cabo da Roca\n22.07. Rückflug\n"

    inbox, sent = [], []

    # ---- thread A: Summer holiday plans (Zoë) ------------------------------
    a1 = Mail("a1", T("2025-01-06T09:00:00+01:00"), zoe, ME, "Summer holiday plans", flags=("RO", "A"))
    a1.content = plain("Hi Alex,\n\nshall we finally do the Portugal trip this summer? Mid July would\nwork for us. Lisbon, Sintra, maybe a day at the beach.\n\nZoë\n")
    a2 = Mail("a2", T("2025-01-06T12:31:10+01:00"), ME, zoe, "Re: Summer holiday plans").reply_to_msg(a1)
    a2.content = plain("Yes! I'm in. Let me check flights.\n\n> shall we finally do the Portugal trip this summer? Mid July would\n> work for us.\n\nAlex\n")
    a3 = Mail("a3", T("2025-01-07T20:05:44+01:00"), zoe, ME, "Re: Summer holiday plans", flags=("RO", "A")).reply_to_msg(a2)
    a3.content = multipart("mixed", "----=_Part_A3_0001", [
        plain("Great :) I wrote a rough plan, see attachment.\n\nZoë\n", cte="quoted-printable"),
        attachment("text/plain; charset=utf-8", "Reiseplan München.txt", txt.encode("utf-8"),
                   filename_star="Reiseplan%20M%C3%BCnchen.txt"),
    ])
    a4 = Mail("a4", T("2025-01-08T08:15:00+01:00"), ME, zoe, "Re: Summer holiday plans").reply_to_msg(a3)
    a4.content = plain("Looks perfect. Booked LH1792 for the 15th.\n\nAlex\n")

    # ---- thread B: ferry project kickoff (work) ----------------------------
    b1 = Mail("b1", T("2025-01-09T15:00:00-05:00"), bob, ME, "Ferry project kickoff", flags=("RO", "A"),
              extra=[("X-Mailer", "Microsoft Outlook 16.0")])
    b1.content = multipart("alternative", "_000_B1_acme_", [
        plain("Hi Alex,\n\nlet's kick off the data-portability project next week. Agenda to follow.\n\nThanks,\nBob\n", cte="quoted-printable"),
        html_part("<html><body><p>Hi Alex,</p><p>let's kick off the <b>data-portability</b> project next week. "
                  "Agenda to follow.</p><p>Thanks,<br>Bob</p></body></html>\n"),
    ])
    b2 = Mail("b2", T("2025-01-09T22:10:00+01:00"), ME, bob, "Re: Ferry project kickoff",
              cc=carol).reply_to_msg(b1)
    b2.content = plain("Sounds good. Adding Carol, she knows the storage side.\n\nAlex\n")
    b3 = Mail("b3", T("2025-01-10T09:30:00-05:00"), carol, f"{ME}, {bob}", "Re: Ferry project kickoff",
              flags=("RO", "AF")).reply_to_msg(b2)
    b3.content = multipart("mixed", "----=_NextPart_B3", [
        plain("Agenda attached. Please read section 2 before Tuesday.\n\n-- \nCarol Jones\nStaff Engineer, Acme Data Inc.\n"),
        attachment("application/pdf", "kickoff-agenda.pdf", pdf),
    ])
    b4 = Mail("b4", T("2025-01-10T18:02:00+01:00"), ME, f"{carol}, {bob}", "Re: Ferry project kickoff").reply_to_msg(b3)
    b4.content = plain("Thanks Carol, read it. One question on section 2.3: do we keep\nmaildir flags or map them to IMAP keywords?\n\nAlex\n")

    # ---- thread C: Grüße aus München (Oma, ISO-8859-1) ----------------------
    c1 = Mail("c1", T("2025-01-12T10:20:00+01:00"), oma, ME, q_word("Grüße aus München"), flags=("RO", "A"))
    c1.content = plain("Lieber Alex,\n\nviele Grüße aus München! Wann kommst Du uns besuchen?\nDer Kuchen ist schon gebacken.\n\nDeine Oma\n",
                       charset="iso-8859-1")
    c2 = Mail("c2", T("2025-01-12T18:45:00+01:00"), ME, oma, q_word("Re: Grüße aus München", "UTF-8")).reply_to_msg(c1)
    c2.content = plain("Liebe Oma,\n\nam Sonntag komme ich vorbei. Freue mich auf den Käsekuchen!\n\nAlex\n", cte="quoted-printable")
    c3 = Mail("c3", T("2025-01-13T09:02:00+01:00"), oma, ME, q_word("Re: Grüße aus München"), flags=("O", None)).reply_to_msg(c2)
    c3.content = multipart("mixed", "=_mixed 0051A3C2C1257F", [
        plain("Schön! Hier ein Foto vom Garten.\n", charset="iso-8859-1", cte="quoted-printable"),
        attachment("image/png", "garten.png", png),
    ])

    # ---- thread D: 周末聚会 (Li) ---------------------------------------------
    d1 = Mail("d1", T("2025-01-15T11:00:00+08:00"), li, ME, b_word("周末聚会 / weekend get-together"), flags=("RO", "A"))
    d1.content = plain("Alex，你好！\n\n这个周末我们在家聚会，你来吗？\n(We're having a get-together at home this weekend, are you coming?)\n\n小龙\n",
                       )
    d2 = Mail("d2", T("2025-01-15T08:30:00+01:00"), ME, li, "Re: " + b_word("周末聚会 / weekend get-together")).reply_to_msg(d1)
    d2.content = plain("I'd love to, but I'm in Munich this weekend. Next time! 下次见！\n\nAlex\n")
    d3 = Mail("d3", T("2025-01-16T07:12:00+08:00"), li, ME, "Re: " + b_word("周末聚会 / weekend get-together"),
              flags=("RO", None)).reply_to_msg(d2)
    d3.content = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "base64")], \
        b64_lines("没问题！下次见。\n\n小龙\n".encode("utf-8"))

    # ---- thread E: kayak trip (Åsa) ------------------------------------------
    e1 = Mail("e1", T("2025-01-20T19:40:00+01:00"), asa, ME, b_word("Kajaktur på Øresund i august?"), flags=("RO", "A"))
    e1.content = plain("Hej Alex!\n\nSkal vi padle over Øresund igen i august? Jeg har to kajakker.\n\nKnus, Åsa\n",
                       cte="quoted-printable")
    e2 = Mail("e2", T("2025-01-21T07:55:00+01:00"), ME, asa, "Re: " + b_word("Kajaktur på Øresund i august?")).reply_to_msg(e1)
    e2.content = plain("Hej Åsa, yes, count me in! Which weekend?\n\nAlex\n")
    e3 = Mail("e3", T("2025-01-28T21:14:00+01:00"), ME, asa, "Re: " + b_word("Kajaktur på Øresund i august?")).reply_to_msg(e2)
    e3.content = plain("Ping :) Still up for it? The 9th/10th would suit me best.\n\nAlex\n")

    inbox += [a1, a3, b1, b3, c1, c3, d1, d3, e1]
    sent += [a2, a4, b2, b4, c2, d2, e2, e3]

    # ---- standalone inbox messages -------------------------------------------
    m = Mail("news1", T("2025-01-07T06:00:00+00:00"), "This Week in Rust <newsletter@rust-weekly.example.com>", ME,
             "This Week in Rust 581", flags=("RO", None),
             extra=[("List-Id", "This Week in Rust <twir.rust-weekly.example.com>"),
                    ("List-Unsubscribe", "<https://rust-weekly.example.com/unsubscribe?u=alex>"),
                    ("Precedence", "bulk")])
    m.content = multipart("alternative", "b1_twir581", [
        plain("Hello and welcome to another issue of This Week in Rust!\n\n* Crate of the week: ferry (data portability)\n* 412 pull requests merged\n"),
        html_part("<!DOCTYPE html><html><body><h1>This Week in Rust 581</h1><ul><li>Crate of the week: "
                  "<a href=\"https://crates.example/ferry\">ferry</a></li><li>412 pull requests merged</li></ul></body></html>\n"),
    ])
    inbox.append(m)

    m = Mail("ship1", T("2025-01-08T14:22:00+01:00"), f"{b_word('Bücherstube Kühn')} <versand@buecherstube.example.de>", ME,
             q_word("Ihre Bestellung wurde versandt – Nr. 2025-0042", "UTF-8"), flags=("RO", None))
    m.content = multipart("alternative", "=_alt_ship1", [
        plain("Guten Tag,\n\nIhre Bestellung Nr. 2025-0042 (\"Designing Data-Intensive Applications\") ist unterwegs.\nSendungsnummer: 00340434161094042557\n",
              cte="quoted-printable"),
        html_part("<html><body><p>Guten Tag,</p><p>Ihre Bestellung Nr. 2025-0042 (<i>Designing Data-Intensive Applications</i>) "
                  "ist unterwegs.</p><p>Sendungsnummer: <code>00340434161094042557</code></p><p>Mit freundlichen Grüßen<br>"
                  "Ihre Bücherstube Kühn</p></body></html>\n"),
    ])
    inbox.append(m)

    m = Mail("gh1", T("2025-01-09T08:01:00+00:00"), "Dmitri Ivanov <notifications@code.example.com>", ME,
             "Re: [acme/ferry] Zip import loses maildir flags (Issue #17)", flags=("RO", None),
             reply_to="acme/ferry <reply+AAAA17@reply.code.example.com>",
             extra=[("List-Id", "acme/ferry <ferry.acme.code.example.com>"),
                    ("X-GitHub-Reason", "subscribed")])
    m.content = plain("Confirmed on 0.3.1: files named `...:2,FS` come back as `...:2,`.\n\n--\nReply to this email directly or view it on the web.\n")
    inbox.append(m)

    m = Mail("bank1", T("2025-01-10T03:12:00+01:00"), q_word("Stadtsparkasse München") + " <noreply@sparkasse.example.de>", ME,
             q_word("Ihr Kontoauszug für Dezember ist verfügbar"), flags=("RO", None))
    m.content = plain("Sehr geehrte Kundin, sehr geehrter Kunde,\n\nIhr elektronischer Kontoauszug für Dezember 2024 steht im Online-Banking\nzur Verfügung. Gebühren: 4,95 €.\n",
                      charset="iso-8859-15", cte="quoted-printable")
    inbox.append(m)

    # the mboxrd torture message: body lines starting with From / >From
    m = Mail("poem", T("2025-01-11T16:45:00+01:00"), q_word("Jean-François Lefèvre") + " <jf.lefevre@example.fr>", ME, "A poem, and some lines starting with From",
        flags=("RO", "F"))
    m.content = plain(
        "Cher Alex,\n\n"
        "here is the poem I promised. Mail programs love to mangle it:\n\n"
        "From the river to the hills,\n"
        ">From a quoted line that already starts with >From,\n"
        ">>From a doubly quoted line,\n"
        "From: this looks like a header but is not\n"
        " From with a leading space is harmless\n"
        "Fromage is not a From line either.\n"
        "\n"
        "From here on, only prose.\n\n"
        "Bises,\nJean-François\n"
    )
    inbox.append(m)

    m = Mail("cron1", T("2025-01-12T02:00:03+01:00"), "root@nas.local (Cron Daemon)", "alex@example.org",
             "Cron <root@nas> /usr/local/bin/backup.sh", env_from="root@nas.local", msgid=False,
             extra=[("X-Cron-Env", "<SHELL=/bin/sh>"), ("X-Cron-Env", "<HOME=/root>")])
    m.content = [("Content-Type", "text/plain; charset=us-ascii")], \
        "rsync: 1234 files transferred, 2.1 GB total\nbackup finished in 00:14:37\n"
    inbox.append(m)

    m = Mail("scans", T("2025-01-14T19:30:00+01:00"), "Peter Schmidt <peter.schmidt@example.de>", ME,
             "Scans for the tax return", flags=("RO", "F"))
    receipts = "date,shop,amount_eur\n2024-03-02,Baumarkt,129.90\n2024-07-18,Optiker,349.00\n2024-11-30,Handwerker,880.00\n"
    m.content = multipart("mixed", "------------Scan2025", [
        plain("Hi Alex, here are the scans you asked for. The PNG is the Handwerker receipt.\n\nPapa\n"),
        attachment("application/pdf", "Steuer 2024 Belege.pdf", minimal_pdf("Steuer 2024 Belege")),
        attachment("image/png", "receipt-handwerker.png", tiny_png((48, 32), 11)),
        attachment("text/csv; charset=utf-8", "receipts.csv", receipts.encode("utf-8")),
    ])
    inbox.append(m)

    inner = multipart("alternative", "alt-inner-77", [
        plain("Your boarding pass is attached.\n\nLH1792 MUC-LIS, 15 Jul 2025, seat 14A.\n"),
        html_part("<html><body><p>Your boarding pass is attached.</p><table><tr><td>LH1792</td><td>MUC-LIS</td>"
                  "<td>15 Jul 2025</td><td>14A</td></tr></table></body></html>\n"),
    ], preamble="")
    m = Mail("boarding", T("2025-01-16T10:05:00+01:00"), "Lufthansa <online@booking.lufthansa.example.com>", ME,
             "Your booking confirmation XK7P2Q", flags=("RO", "F"))
    m.content = multipart("mixed", "mixed-outer-77", [
        inner,
        attachment("application/pdf", "BoardingPass_XK7P2Q.pdf", minimal_pdf("Boarding pass XK7P2Q")),
    ])
    inbox.append(m)

    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Acme//Calendar//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
           "UID:" + uid("mail/invite") + "@acme.example.com\r\nDTSTAMP:20250117T090000Z\r\n"
           "DTSTART:20250121T150000Z\r\nDTEND:20250121T160000Z\r\nSUMMARY:Ferry design review\r\n"
           "ORGANIZER;CN=Priya Raman:mailto:priya.raman@acme.example.com\r\n"
           "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Alex Schmidt:mailto:alex@example.org\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n")
    m = Mail("invite", T("2025-01-17T09:00:00-05:00"), "Priya Raman <priya.raman@acme.example.com>", ME,
             "Invitation: Ferry design review @ Tue Jan 21, 2025 10am - 11am (EST)", flags=("RO", None))
    m.content = multipart("alternative", "inv-000123", [
        plain("You have been invited to: Ferry design review\nWhen: Tue Jan 21, 2025 10am - 11am (EST)\n"),
        ([("Content-Type", 'text/calendar; charset=utf-8; method=REQUEST'),
          ("Content-Transfer-Encoding", "7bit")], ics),
    ])
    inbox.append(m)

    m = Mail("flowed", T("2025-01-18T12:00:00+01:00"), "Noah Becker <noah@becker-design.example.de>", ME,
             "Logo drafts", flags=("RO", None))
    m.content = plain("Hi Alex, \nhere are my thoughts on the ferry logo. I think the boat should be simpler, \n"
                      "just two lines and a wave, so that it still works at 16x16 pixels in a \nbrowser tab.\n\nNoah\n",
                      flowed=True)
    inbox.append(m)

    long_subject = "Einladung: Jahreshauptversammlung des Kleingartenvereins „Grüne Oase“ e.V. am 15. März"
    m = Mail("verein", T("2025-01-19T09:00:00+01:00"), f"{b_word('Kleingartenverein Grüne Oase')} <vorstand@gruene-oase.example.de>",
             ME, b_word(long_subject).replace(" ", "\n "), flags=("RO", None))
    m.content = plain("Liebe Mitglieder,\n\nhiermit laden wir herzlich zur Jahreshauptversammlung ein.\n\nDer Vorstand\n",
                      cte="quoted-printable")
    inbox.append(m)

    m = Mail("spam1", T("2025-01-21T04:44:00+00:00"), '"Prize Department" <winner@lottery.example.net>', ME,
             "=?utf-8?q?=F0=9F=8E=89_You_have_WON_=241=2C000=2C000!?=",
             extra=[("X-Spam-Status", "Yes, score=12.3 required=5.0"), ("X-Spam-Flag", "YES")])
    m.content = plain("Dear winner, send us your bank details.\n")
    inbox.append(m)

    m = Mail("oldfmt", T("2025-01-22T17:30:00+00:00"), "Ana Popescu <ana.popescu@acme.example.com>", ME,
             "Budget 2025 numbers", flags=("RO", None))
    m.content = [("Content-Type", "text/plain")], "Numbers are final. See the shared drive.\nAna\n"
    inbox.append(m)

    m = Mail("bcc", T("2025-01-23T11:11:00+01:00"), "Helga Schmidt <helga.schmidt@example.de>",
             "undisclosed-recipients:;", "Familienfoto", flags=("RO", None), reply_to="Helga Schmidt <helga@example.de>")
    m.content = multipart("mixed", "fam-foto-1", [
        plain("Hallo ihr Lieben, anbei das Familienfoto von Weihnachten.\nMama\n"),
        attachment("image/jpeg", "weihnachten.jpg", tiny_jpeg((40, 30), (180, 30, 30), (20, 120, 40))),
    ])
    inbox.append(m)

    m = Mail("security", T("2025-01-24T13:00:00-05:00"), "Omar Haddad <omar.haddad@acme.example.com>", ME,
             "[SECURITY] Rotate your API tokens by Friday", flags=(None, None),
             extra=[("Importance", "high"), ("X-Priority", "1 (Highest)")])
    m.content = plain("Everyone, please rotate your API tokens by Friday EOD.\n\nOmar\n")
    inbox.append(m)

    m = Mail("unread", T("2025-01-25T08:00:00+01:00"), asa, ME, b_word("Billeder fra Ærø"))
    m.content = multipart("mixed", "aero-pics", [
        plain("Her er et par billeder fra sidste år. 🛶\n"),
        attachment("image/png", "aero.png", tiny_png((40, 24), 23)),
    ])
    inbox.append(m)

    for msg in sent:
        msg.extra.append(("User-Agent", "Mutt/2.2.12 (2023-09-09)"))
        msg.flags = ("RO", None)  # mutt marks its own fcc copies as read
    return inbox, sent


def write_mbox(path, msgs):
    out = bytearray()
    for m in msgs:
        out += m.envelope() + b"\n" + FROM_RE.sub(rb">\1", m.raw()) + b"\n"
    write(path, bytes(out), int(msgs[-1].date.timestamp()))


def maildir(root):
    T = lambda s: datetime.fromisoformat(s)  # noqa: E731
    specs = [
        ("1736150400.M1P100.example:2,S", "2025-01-06T08:00:00+00:00", "Carol Jones <carol.jones@acme.example.com>",
         "Archived: 2024 performance review", "Your review is attached in the HR portal.\n"),
        ("1736236800.M2P100.example:2,RS", "2025-01-07T08:00:00+00:00", "Bob Miller <bob.miller@acme.example.com>",
         "Offer letter", "Congratulations! Please sign by Friday.\n"),
        ("1736323200.M3P100.example:2,FS", "2025-01-08T08:00:00+00:00", f"{q_word('Stadtsparkasse München')} <noreply@sparkasse.example.de>",
         q_word("Kündigungsbestätigung Girokonto"), "Wir bestätigen die Kündigung zum 31.03.2025.\n"),
        ("1736409600.M4P100.example:2,S", "2025-01-09T08:00:00+00:00", "Landlord <vermieter@example.de>",
         "Nebenkostenabrechnung 2024", "Guthaben: 112,40 EUR.\n"),
        ("1736496000.M5P100.example:2,FRS", "2025-01-10T08:00:00+00:00", f"{b_word('Zoë Müller')} <zoe@example.net>",
         "Wedding photos", "From the photographer, finally! Link inside.\n"),
        ("1736582400.M6P100.example:2,", "2025-01-11T08:00:00+00:00", "Insurance <service@versicherung.example.de>",
         "Ihre Police", "Neue Police anbei.\n"),
    ]
    n = 0
    for name, date, from_, subject, body in specs:
        m = Mail(name.split(".")[1].lower(), T(date), from_, ME, subject)
        m.content = plain(body)
        write(os.path.join(root, "cur", name), m.raw(), int(m.date.timestamp()))
        n += 1
    m = Mail("new1", T("2025-01-12T08:00:00+00:00"), "Priya Raman <priya.raman@acme.example.com>", ME,
             "Archive me later")
    m.content = plain("Just landed in new/, never seen by a client.\n")
    write(os.path.join(root, "new", "1736668800.M7P100.example"), m.raw(), int(m.date.timestamp()))
    write(os.path.join(root, "tmp", ".gitkeep"), b"")
    return n + 1


# --------------------------------------------------------------------------
# media


def rat(x):
    return (int(round(x * 10000)), 10000)


def dms(deg):
    deg = abs(deg)
    d = int(deg)
    m = int((deg - d) * 60)
    s = (deg - d - m / 60) * 3600
    return ((d, 1), (m, 1), (int(round(s * 100)), 100))


def scene(i, size=(160, 120)) -> Image.Image:
    rng = random.Random(1000 + i)
    w, h = size
    sky = (rng.randrange(60, 200), rng.randrange(120, 220), rng.randrange(180, 256))
    img = Image.new("RGB", size, sky)
    d = ImageDraw.Draw(img)
    horizon = rng.randrange(h // 2, 3 * h // 4)
    ground = (rng.randrange(0, 120), rng.randrange(80, 200), rng.randrange(0, 160))
    pts = [(0, horizon)]
    for x in range(0, w + 20, 20):
        pts.append((x, horizon - rng.randrange(0, h // 3)))
    pts += [(w, h), (0, h)]
    d.polygon(pts, fill=ground)
    sx, sy, r = rng.randrange(10, w - 10), rng.randrange(5, h // 3), rng.randrange(6, 16)
    d.ellipse([sx - r, sy - r, sx + r, sy + r], fill=(255, rng.randrange(180, 256), 40))
    for _ in range(3):
        x, y = rng.randrange(w), rng.randrange(horizon, h)
        d.rectangle([x, y, x + rng.randrange(5, 25), y + rng.randrange(5, 15)],
                    fill=tuple(rng.randrange(256) for _ in range(3)))
    d.line([(0, h - 1 - i * 3), (w, horizon + i)], fill=(255, 255, 255), width=2)
    return img


def save_jpeg(path, img, exif_dict, mtime):
    buf = io.BytesIO()
    if exif_dict is None:
        img.save(buf, "JPEG", quality=70)
    else:
        img.save(buf, "JPEG", quality=70, exif=piexif.dump(exif_dict))
    write(path, buf.getvalue(), mtime)


def exif_for(make, model, local_dt: str, offset: str, gps=None, orientation=1, software=None):
    zeroth = {
        piexif.ImageIFD.Make: make.encode(),
        piexif.ImageIFD.Model: model.encode(),
        piexif.ImageIFD.Orientation: orientation,
        piexif.ImageIFD.DateTime: local_dt.encode(),
        piexif.ImageIFD.XResolution: (72, 1),
        piexif.ImageIFD.YResolution: (72, 1),
        piexif.ImageIFD.ResolutionUnit: 2,
    }
    if software:
        zeroth[piexif.ImageIFD.Software] = software.encode()
    exif = {
        piexif.ExifIFD.DateTimeOriginal: local_dt.encode(),
        piexif.ExifIFD.DateTimeDigitized: local_dt.encode(),
        piexif.ExifIFD.PixelXDimension: 160,
        piexif.ExifIFD.PixelYDimension: 120,
    }
    if offset:
        exif[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    out = {"0th": zeroth, "Exif": exif, "GPS": {}, "1st": {}, "thumbnail": None}
    if gps:
        lat, lon, alt = gps
        out["GPS"] = {
            piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
            piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S",
            piexif.GPSIFD.GPSLatitude: dms(lat),
            piexif.GPSIFD.GPSLongitudeRef: b"E" if lon >= 0 else b"W",
            piexif.GPSIFD.GPSLongitude: dms(lon),
            piexif.GPSIFD.GPSAltitudeRef: 0 if alt >= 0 else 1,
            piexif.GPSIFD.GPSAltitude: rat(abs(alt)),
        }
    return out


def local_to_epoch(local_dt: str, offset: str) -> int:
    dt = datetime.strptime(local_dt, "%Y:%m:%d %H:%M:%S")
    sign = 1 if offset[0] == "+" else -1
    off = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])) * sign
    return int(dt.replace(tzinfo=timezone(off)).timestamp())


def takeout_time(ts: int) -> str:
    """Google Takeout's 'formatted' field, e.g. 'Jul 15, 2025, 5:02:11 AM UTC'."""
    d = datetime.fromtimestamp(ts, timezone.utc)
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    return (f"{months[d.month - 1]} {d.day}, {d.year}, {(d.hour % 12) or 12}:{d.minute:02d}:{d.second:02d} "
            f"{'AM' if d.hour < 12 else 'PM'} UTC")


def media(root):
    hol = os.path.join(root, "Holidays 2025")
    photos = [
        # name, make, model, local time, offset, gps (lat, lon, alt m) or None, orientation
        ("IMG_0001.jpg", "Apple", "iPhone 13", "2025:07:15 07:02:11", "+02:00", (48.3538, 11.7861, 448.0), 1),
        ("IMG_0002.jpg", "Apple", "iPhone 13", "2025:07:15 14:40:57", "+01:00", (38.7139, -9.1334, 72.5), 1),
        ("IMG_0003.jpg", "FUJIFILM", "X-T30", "2025:07:16 11:15:03", "+01:00", (38.7876, -9.3905, 412.0), 1),
        ("IMG_0004.jpg", "FUJIFILM", "X-T30", "2025:07:18 19:48:30", None, None, 1),
        ("IMG_0005.jpg", "Google", "Pixel 7", "2025:07:22 16:20:45", "+02:00", (52.3105, 4.7683, -3.4), 1),
        ("IMG_0006.jpg", "Canon", "Canon EOS 250D", "2025:07:19 09:05:12", None, (38.6916, -9.2160, 4.0), 6),
    ]
    for i, (name, make, model, ts, off, gps, orient) in enumerate(photos):
        epoch = local_to_epoch(ts, off or "+01:00")
        save_jpeg(os.path.join(hol, name), scene(i), exif_for(make, model, ts, off, gps, orient), epoch)
    sidecars = {
        "IMG_0001.jpg": ("Departure, MUC", "Early flight to Lisbon ✈️", local_to_epoch(photos[0][3], "+02:00"),
                         (48.3538, 11.7861, 448.0)),
        # IMG_0004 has no GPS in EXIF: the sidecar is the only location source
        "IMG_0004.jpg": ("Cabo da Roca sunset", "Westernmost point of continental Europe",
                         local_to_epoch(photos[3][3], "+01:00"), (38.7804, -9.4989, 140.0)),
    }
    for name, (title, desc, ts, (lat, lon, alt)) in sidecars.items():
        doc = {
            "title": name,
            "description": f"{title} – {desc}",
            "imageViews": "4",
            "creationTime": {"timestamp": str(ts + 3600),
                             "formatted": takeout_time(ts + 3600)},
            "photoTakenTime": {"timestamp": str(ts),
                               "formatted": takeout_time(ts)},
            "geoData": {"latitude": lat, "longitude": lon, "altitude": alt, "latitudeSpan": 0.0, "longitudeSpan": 0.0},
            "geoDataExif": {"latitude": 0.0 if name == "IMG_0004.jpg" else lat,
                            "longitude": 0.0 if name == "IMG_0004.jpg" else lon,
                            "altitude": 0.0 if name == "IMG_0004.jpg" else alt,
                            "latitudeSpan": 0.0, "longitudeSpan": 0.0},
            "people": [{"name": "Zoë Müller"}] if name == "IMG_0001.jpg" else [],
            "url": f"https://photos.google.com/photo/AF1Qip{uid('photo/' + name).replace('-', '')[:24]}",
            "googlePhotosOrigin": {"mobileUpload": {"deviceType": "IOS_PHONE"}},
        }
        write(os.path.join(hol, name + ".json"),
              (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), ts)

    fam = os.path.join(root, "Family")
    save_jpeg(os.path.join(fam, "IMG_2001.jpg"), scene(10),
              exif_for("samsung", "SM-S911B", "2024:12:24 18:30:00", "+01:00", (48.3705, 10.8978, 490.0), software="S911BXXU3BWK5"),
              local_to_epoch("2024:12:24 18:30:00", "+01:00"))
    save_jpeg(os.path.join(fam, "IMG_2002.jpg"), scene(11),
              exif_for("samsung", "SM-S911B", "2024:12:25 12:01:44", "+01:00", None),
              local_to_epoch("2024:12:25 12:01:44", "+01:00"))
    # a scanned print: no EXIF at all, only the file mtime
    save_jpeg(os.path.join(fam, "scan_oma_1968.jpg"), scene(12).convert("L").convert("RGB"), None, -47347200)
    write(os.path.join(fam, "drawing by Mia.png"), tiny_png((64, 48), 42), 1735000000)
    return len(photos) + 4


# --------------------------------------------------------------------------
# files


def files(root):
    doc = os.path.join(root, "Documents")
    n = 0

    def put(rel, data, mtime=FIXED_MTIME):
        nonlocal n
        write(os.path.join(doc, *rel.split("/")), data, mtime)
        n += 1

    put("notes.txt", "Notes\r\n=====\r\n\r\n- ask Bob about the zip layout\r\n- Oma: Käsekuchen recipe!\r\n".encode("utf-8"), 1736000000)
    put("Taxes/2024/summary.csv", (
        "category,amount_eur,notes\n"
        "Werbungskosten,1234.56,\"Laptop, desk\"\n"
        "Handwerkerleistungen,880.00,Bathroom\n"
        "Spenden,250.00,\"Red Cross; UNICEF\"\n"
        "Fahrtkosten,1512.30,\"220 days × 23 km × 0,30 €\"\n").encode("utf-8"), 1738000000)
    put("Recipes/pancakes.md", (
        "# Pancakes (Oma's)\n\n"
        "| ingredient | amount |\n|---|---|\n| flour | 250 g |\n| milk | 500 ml |\n| eggs | 3 |\n| salt | a pinch |\n\n"
        "1. Whisk everything, rest **30 min**.\n2. Fry in butter, medium heat.\n").encode("utf-8"), 1730000000)
    put("Projects/ferry/plan.txt", (
        "ferry – plan\n\n"
        "1. export contacts, calendars, tasks, mail, media, files into one zip\n"
        "2. import into another provider without losing flags, UIDs or EXIF\n"
        "3. benchmark against tar (see bench/)\n").encode("utf-8"), 1736100000)
    put("blob.bin", random.Random(0xF3A7).randbytes(3072), 1700000000)
    put(unicodedata.normalize("NFC", "Überweisung.txt"),
        "Empfänger: Hausverwaltung Weiß\nIBAN: DE89 3704 0044 0532 0130 00\nBetrag: 1.250,00 €\nVerwendungszweck: Miete Februar\n".encode("utf-8"),
        1738300000)
    put("empty.txt", b"", 1736000000)
    return n


# --------------------------------------------------------------------------


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "account"))
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)

    totals = {}
    fam = family_vcf()
    work = work_vcf()
    write(os.path.join(out, "contacts", "family.vcf"), fam)
    write(os.path.join(out, "contacts", "work.vcf"), work)
    totals["contacts"] = fam.count(b"BEGIN:VCARD") + work.count(b"BEGIN:VCARD")

    pers, n1 = personal_ics()
    wrk, n2 = work_ics()
    write(os.path.join(out, "calendar", "personal.ics"), pers)
    write(os.path.join(out, "calendar", "work.ics"), wrk)
    totals["events"] = n1 + n2

    todo, n3 = todo_ics()
    write(os.path.join(out, "tasks", "todo.ics"), todo)
    totals["tasks"] = n3

    inbox, sent = build_mail()
    write_mbox(os.path.join(out, "mail", "INBOX.mbox"), inbox)
    write_mbox(os.path.join(out, "mail", "Sent.mbox"), sent)
    totals["messages"] = len(inbox) + len(sent) + maildir(os.path.join(out, "mail", "Archive"))

    totals["photos"] = media(os.path.join(out, "media"))
    totals["files"] = files(os.path.join(out, "files"))

    # directory mtimes too, so that `ls -l` / tar output is stable
    for dirpath, _dirs, _files in os.walk(out, topdown=False):
        os.utime(dirpath, (FIXED_MTIME, FIXED_MTIME))

    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _d, fs in os.walk(out) for f in fs)
    print(f"wrote {out}: " + ", ".join(f"{k}={v}" for k, v in totals.items()) + f", bytes={size}")


if __name__ == "__main__":
    main()
