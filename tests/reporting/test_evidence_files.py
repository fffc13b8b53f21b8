"""Evidence files are what their extension says, throughout: the bytes decide, not the name."""

import io
import struct
import zipfile
import zlib

import openpyxl
import pytest

from tasks_app.reporting import evidence_files

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active["A1"] = "佐证"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def ole2(stream: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + stream.encode("utf-16-le")


@pytest.mark.parametrize(
    ("extension", "content"),
    [
        ("pdf", PDF),
        ("png", png()),
        ("xlsx", xlsx()),
        ("docx", docx()),
        ("doc", ole2("WordDocument")),
        ("xls", ole2("Workbook")),
    ],
)
def test_a_well_formed_file_of_each_allowed_kind_is_accepted(extension, content):
    assert evidence_files.matches(extension, content)


@pytest.mark.parametrize(
    ("extension", "content", "why"),
    [
        ("pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>", "a PDF header over HTML"),
        ("pdf", b"%PDF-1.4\n<!DOCTYPE html><p>x</p>\n%%EOF\n", "HTML between header and trailer"),
        ("pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "no PDF trailer"),
        ("docx", b"PK\x03\x04" + b"\x00" * 64, "a ZIP header that is no ZIP"),
        ("docx", xlsx(), "a spreadsheet named .docx"),
        ("xlsx", docx(), "a document named .xlsx"),
        ("xls", ole2("WordDocument"), "a Word file named .xls"),
        ("doc", ole2("Workbook"), "an Excel file named .doc"),
        ("png", PDF, "a PDF named .png"),
        ("jpg", png(), "a PNG named .jpg"),
    ],
)
def test_a_file_that_is_not_what_its_extension_says_is_refused(extension, content, why):
    assert not evidence_files.matches(extension, content), why


def test_an_archive_with_no_content_types_is_no_office_document():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", b"MZ")
    assert not evidence_files.matches("docx", out.getvalue())
