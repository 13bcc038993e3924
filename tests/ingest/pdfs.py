"""PDFs the ingest tests read, written with fpdf2: a report, a protected one, a scan, a bomb."""

from __future__ import annotations

import io
import zlib
from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF

HEADER = "Hangzhou Commerce Bureau - Quarterly Bulletin"
# Two pages of lines as they are printed: a word broken at a line's end ("com-", "coopera-"),
# a compound broken at its own dash ("Cross-"), a paragraph going on over the page's end.
PAGES = [
    [
        "Live-streaming sales in Hangzhou reached 325 billion yuan in the first half of 2024, an",
        "increase of 22 percent compared with the same period last year, according to the city's com-",
        "merce bureau.",
        "More than 8,000 streamers were active on the city's platforms in June, and the average order",
        "value rose to 186 yuan. Clothing and cosmetics remained the most popular categories among",
        "buyers of cross-border goods.",
    ],
    [
        "The bureau expects the growth to continue in the second half of the year as rural coopera-",
        "tives join the platforms and sell tea, bamboo shoots and silk directly to consumers across the",
        "country. Cross-",
        "border sellers will get new warehouses in Ningbo.",
    ],
]


def _document() -> FPDF:
    pdf = FPDF()
    pdf.set_title("Hangzhou live-streaming report")
    pdf.set_author("Hangzhou Commerce Bureau")
    pdf.set_creation_date(datetime(2024, 9, 12, tzinfo=timezone.utc))
    pdf.set_font("Helvetica", size=11)
    pdf.set_auto_page_break(False)
    return pdf


def report_pdf(path: Path, *, password: str = "") -> Path:
    """The two-page bulletin, with a running header and a "Page n of 2" footer."""
    pdf = _document()
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    for number, lines in enumerate(PAGES, start=1):
        pdf.add_page()
        pdf.set_y(10)
        pdf.cell(0, 8, HEADER)
        pdf.set_y(24)
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(-20)
        pdf.cell(0, 8, f"Page {number} of {len(PAGES)}", align="C")
    pdf.output(str(path))
    return path


def scanned_pdf(path: Path) -> Path:
    """A page that is only a picture of text, as a scanner makes it: no text layer."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 300), "white")
    ImageDraw.Draw(image).text((20, 20), "Live-streaming sales rose 22 percent.", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = _document()
    pdf.add_page()
    pdf.image(buffer, x=10, y=10, w=190)
    pdf.output(str(path))
    return path


def bomb_pdf(path: Path, megabytes: int = 400) -> Path:
    """A one-page PDF whose page content inflates from about 400 KB to `megabytes` MB."""
    stream = zlib.compress(b"BT /F1 11 Tf 72 720 Td (x) Tj ET\n" + b" " * (megabytes << 20), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path
