"""Zip packages (Word files, e-books), checked before python-docx or ebooklib opens one.

Those libraries read every part they use whole into memory, as large as its header says. So a
package is refused first (``LoadError``, one line saying which cap or rule) when it has more
entries than ``MAX_ENTRIES``, when a part is larger than ``MAX_PART_BYTES`` or all of them
together than ``MAX_PACKAGE_BYTES``, when a part inflates to more bytes than its header declares,
when a part is encrypted or compressed otherwise than stored or deflated (the only two methods
either format allows), and when one of the format's XML parts holds markup the format never needs
and entity attacks (an external entity naming a local file, a "billion laughs") are made of.
Every part is inflated here, a block at a time, and its bytes are counted, not its header believed;
once its true sizes are the declared ones, a library reading it reads no more than they say. This
module never writes a file and never parses the XML.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from ingest.errors import LoadError

MB = 1024 * 1024
# A Word file has a few dozen parts and a large e-book a few thousand (a chapter and a picture
# each); listing 100,000 empty entries took python-docx half a second and 50 MB before it read any.
MAX_ENTRIES = 10_000
# A part is read whole, and an XML part is then parsed into a tree several times its size; at
# some tens of kB of Word XML a page, this is a body of thousands of pages. Pictures barely compress.
MAX_PART_BYTES = 128 * MB
# Everything one package may unpack to: about ten times the folder walk's 20 MB file-size cap,
# for XML that compresses about that well; a zip bomb inflates up to a thousand times.
MAX_PACKAGE_BYTES = 256 * MB
_BLOCK = 1 << 20
_END = b"PK\x05\x06"  # the end of central directory record, at most 64 kB from the end
_END64_LOCATOR, _END64 = b"PK\x06\x07", b"PK\x06\x06"  # ZIP64's: where its end record is, the record


@dataclass(frozen=True)
class Rules:
    """What a format's package may not hold, and what the format is called in a reason."""

    kind: str  # what reasons call the format: "Word file"
    markup: bytes  # refused where it appears in a part the format parses as XML: b"<!DOCTYPE"
    markup_why: str  # what it is and why it is refused: "a DTD (<!DOCTYPE>), which Word files never hold"
    xml_suffixes: tuple[str, ...]  # the parts searched for it, by how their names end


def check(data: bytes, rel: str, rules: Rules) -> None:
    """Refuse (``LoadError``) a package past a cap or holding what ``rules`` forbids."""
    declared = _declared_entries(data)
    if declared > MAX_ENTRIES:
        raise _refused(rel, f"{declared:,} entries in its zip package, over the cap of {MAX_ENTRIES:,}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise LoadError(rel, f"damaged {rules.kind}: {exc}") from exc
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:  # the end record's count can lie too
        raise _refused(rel, f"{len(infos):,} entries in its zip package, over the cap of {MAX_ENTRIES:,}")
    if sum(info.file_size for info in infos) > MAX_PACKAGE_BYTES:
        raise _refused(rel, f"its parts unpack to more than the {_mb(MAX_PACKAGE_BYTES)} cap for a package")
    for info in infos:
        _check_part(data, rel, info, rules)


def _check_part(data: bytes, rel: str, info: zipfile.ZipInfo, rules: Rules) -> None:
    name = info.filename
    if info.file_size > MAX_PART_BYTES:
        raise _refused(rel, f"part {name!r} unpacks to more than the {_mb(MAX_PART_BYTES)} cap for a part")
    if info.flag_bits & 0x1:
        raise LoadError(rel, f"part {name!r} is encrypted (password-protected files are not read)")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        method = info.compress_type
        raise LoadError(rel, f"damaged {rules.kind}: part {name!r} is compressed with zip method {method}")
    searched = name.lower().endswith(rules.xml_suffixes)
    size, carried = 0, b""
    try:
        for block in _inflated(data, info):
            size += len(block)
            if size > info.file_size:
                raise _refused(
                    rel, f"part {name!r} unpacks to more than its header says ({info.file_size:,} bytes)"
                )
            if searched and rules.markup in carried + block:
                raise LoadError(rel, f"part {name!r} declares {rules.markup_why}; refused")
            carried = block[-len(rules.markup) :]
    except (zlib.error, struct.error) as exc:
        raise LoadError(rel, f"damaged {rules.kind}: part {name!r} cannot be inflated ({exc})") from exc
    if size != info.file_size:
        raise LoadError(rel, f"damaged {rules.kind}: part {name!r} is shorter than its header says")


def _inflated(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's bytes, a block at a time, inflated from its compressed data as stored."""
    start = info.header_offset
    if data[start : start + 4] != b"PK\x03\x04":
        raise zlib.error("its local header is missing")
    name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
    begin = start + 30 + name_length + extra_length
    stored = memoryview(data)[begin : begin + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        for at in range(0, len(stored), _BLOCK):
            yield bytes(stored[at : at + _BLOCK])
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending: bytes | memoryview = stored
    while True:
        block = inflater.decompress(pending, _BLOCK)
        pending = inflater.unconsumed_tail
        if block:
            yield block
        if inflater.eof or not (block or pending):
            return


def _declared_entries(data: bytes) -> int:
    """How many entries the zip's end record says it has (ZIP64's where that one says 0xFFFF), read
    before the central directory is parsed; 0 where there is no such record to read."""
    at = data.rfind(_END, max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return 0
    (count,) = struct.unpack_from("<H", data, at + 10)
    if count < 0xFFFF:
        return int(count)
    locator = at - 20
    if locator < 0 or data[locator : locator + 4] != _END64_LOCATOR:
        return 0
    (record,) = struct.unpack_from("<Q", data, locator + 8)
    if record + 40 > len(data) or data[record : record + 4] != _END64:
        return 0
    (count,) = struct.unpack_from("<Q", data, record + 32)
    return int(count)


def _mb(size: int) -> str:
    return f"{size // MB} MB"


def _refused(rel: str, why: str) -> LoadError:
    return LoadError(rel, f"{why} (refused as a possible zip bomb)")
