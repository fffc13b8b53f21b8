"""What an evidence file really is: its bytes, not its name, decide.

An allowed extension must match the content throughout, not just the first bytes: a PDF has the
PDF header and trailer and no HTML; images are sniffed by the `filetype` library; a .docx or
.xlsx is a ZIP whose [Content_Types].xml declares the matching main part; a .doc or .xls is an
OLE2 compound file holding a WordDocument or a Workbook stream.
"""

import io
import re
import zipfile

import filetype

ALLOWED = ("pdf", "png", "jpg", "jpeg", "docx", "xlsx", "doc", "xls")

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
}

_OOXML_MAIN = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE2_STREAMS = {"doc": ("WordDocument",), "xls": ("Workbook", "Book")}
_MARKUP = re.compile(rb"<\s*(html|script|body|iframe|svg)\b|<!doctype", re.IGNORECASE)


def matches(extension: str, content: bytes) -> bool:
    """Whether content is a well-formed file of this (allowed) extension."""
    check = _CHECKS.get(extension)
    return bool(check and check(extension, content))


def _pdf(extension: str, content: bytes) -> bool:
    return (
        content.startswith(b"%PDF-")
        and b"%%EOF" in content[-2048:]
        and not _MARKUP.search(content[:65536])
    )


def _image(extension: str, content: bytes) -> bool:
    kind = filetype.guess(content[:8192])
    return kind is not None and kind.mime == CONTENT_TYPES[extension]


def _ooxml(extension: str, content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
        return False
    return _OOXML_MAIN[extension].encode() in types


def _ole2(extension: str, content: bytes) -> bool:
    if not content.startswith(_OLE2):
        return False
    # Directory entries hold stream names in UTF-16LE; a Word file has WordDocument, Excel
    # has Workbook (Book before Excel 97). Neither has the other's.
    names = {n: n.encode("utf-16-le") in content for s in _OLE2_STREAMS.values() for n in s}
    own = any(names[n] for n in _OLE2_STREAMS[extension])
    other = "xls" if extension == "doc" else "doc"
    return own and not any(names[n] for n in _OLE2_STREAMS[other])


_CHECKS = {
    "pdf": _pdf,
    "png": _image,
    "jpg": _image,
    "jpeg": _image,
    "docx": _ooxml,
    "xlsx": _ooxml,
    "doc": _ole2,
    "xls": _ole2,
}
