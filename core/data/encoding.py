"""Turning uploaded bytes into text whatever encoding the file was saved in."""

from __future__ import annotations

import codecs


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 with or without BOM, UTF-16, else Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    sample = data[:400]
    if len(sample) >= 4 and sample[1::2].count(0) > 0.8 * len(sample[1::2]):
        return data.decode("utf-16-le"), "utf-16-le"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Latin-1 maps every byte, so it is the last resort and never fails.
        return data.decode("latin-1"), "latin-1"
