"""Turning uploaded bytes into text whatever encoding the file was saved in, or saying why they are not text."""

from __future__ import annotations

import codecs
import re

from core.data.errors import FileFormatError

# Leading bytes of formats people upload by mistake, and what to call them.
_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook or a compressed file)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "a program (binary data)"),
    (b"MZ", "a Windows program (binary data)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
)
# Text that is no table: a saved web page (or a site's error page saved under .csv), XML, JSON.
_TEXT_KINDS = (
    (re.compile(r"<!doctype html|<html|<head|<body", re.IGNORECASE), "a web page (HTML)"),
    (re.compile(r"<\?xml", re.IGNORECASE), "an XML document"),
    (re.compile(r"[{\[]\s*[\"{\[]"), "JSON data"),
)
# Characters no text file holds: NUL and the C0 controls other than tab, newline, carriage return, form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
BINARY_CHECK_CHARS = 1024 * 1024


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 with or without BOM, UTF-16, else Latin-1.

    Raises FileFormatError for binary files, for text that breaks the encoding it announces, and for
    text that is a web page, XML or JSON rather than a table.
    """
    text, encoding = _decoded(data)
    start = text.lstrip()[:64]
    for pattern, kind in _TEXT_KINDS:
        if pattern.match(start):
            raise FileFormatError(f"this is {kind}, not a table: download or save the data as CSV and upload that")
    return text, encoding


def _decoded(data: bytes) -> tuple[str, str]:
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            raise FileFormatError(f"this is {kind}, not a text file: save it as CSV and upload that")
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data[len(codecs.BOM_UTF8) :], "utf-8", "starts with a UTF-8 byte-order mark", 3)
        return _text_only(text), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _text_only(_utf16(data, "utf-16")), "utf-16"
    # Without a byte-order mark, UTF-16 shows in its NUL bytes: ASCII text puts one after each character in
    # little-endian order, one before it in big-endian.
    sample = data[:400]
    if len(sample) >= 4 and sample[1::2].count(0) > 0.8 * len(sample[1::2]):
        return _text_only(_utf16(data, "utf-16-le")), "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > 0.8 * len(sample[0::2]):
        return _text_only(_utf16(data, "utf-16-be")), "utf-16-be"
    try:
        return _text_only(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        # Latin-1 maps every byte, so it is the last resort and never fails.
        return _text_only(data.decode("latin-1")), "latin-1"


def _utf16(data: bytes, encoding: str) -> str:
    if len(data) % 2:
        raise FileFormatError(
            f"the file looks like UTF-16 but has an odd number of bytes ({len(data):,}): it is cut short or damaged"
        )
    return _strict(data, encoding, "looks like UTF-16", 0)


def _strict(data: bytes, encoding: str, announced: str, offset: int) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        where = error.start + offset
        raise FileFormatError(
            f"the file {announced}, but byte 0x{bad} at position {where:,} is not {encoding.upper()}: "
            "save it again as UTF-8"
        ) from None


def _text_only(text: str) -> str:
    # Binary data shows in its first megabyte; a stray control character later fails as a bad value.
    found = _CONTROL.search(text, 0, BINARY_CHECK_CHARS)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise FileFormatError(
            f"line {line} holds binary data (character 0x{ord(found.group()):02x}), not text: upload a CSV or TXT file"
        )
    return text
