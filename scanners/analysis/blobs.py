"""Encoded blobs in source text: find long base64 / hex / escape runs, decode them within a size
bound, measure their entropy, and tell minified bundles apart from hand-written code.

Everything here is pure and bounded: decoding never reads more than ``MAX_DECODE_INPUT``
characters of a blob and decompression never produces more than ``MAX_DECODED_BYTES`` bytes, so a
zip bomb or a 50 MB blob costs the same as a small one. Every regex is linear-time: runs are
anchored at the start of a run with a look-behind, so a long run is walked once instead of once per
starting offset (which would be quadratic on a 5 MB line of base64).
"""

from __future__ import annotations

import base64
import binascii
import bz2
import codecs
import lzma
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Bounds for in-memory decoding. 256 KiB of decoded text is far more than any real stage-1 payload
# (download-and-run one-liners are < 1 KiB; the tj-actions script was ~400 bytes) and keeps the
# cost of a hostile input to a few milliseconds.
MAX_DECODE_INPUT = 256 * 1024
MAX_DECODED_BYTES = 256 * 1024
# Layers of encoding we peel (base64 of gzip of base64 …); real droppers use two or three.
MAX_DECODE_DEPTH = 3

# Thresholds (characters of source text). Why these numbers:
# - base64 >= 200 chars (= 150 bytes): long enough to carry a download-and-run one-liner, and
#   longer than the high-entropy strings code legitimately inlines — SRI / sha512 integrity hashes
#   (88 chars), JWT-sized tokens, ed25519 keys (68), UUIDs and git SHAs (<= 64 hex).
# - hex >= 200 chars (100 bytes): above every hash digest (sha512 = 128 hex chars).
# - \xNN >= 20 escapes when they spell printable text (nobody writes readable ASCII as \x escapes
#   except to hide it); >= 64 escapes for opaque bytes (short binary test vectors stay quiet).
# - \uNNNN / %XX >= 20 escapes, counted only when they spell ASCII: escaped CJK / emoji in
#   i18n JSON decode to non-ASCII and are left alone.
MIN_BASE64_RUN = 200
MIN_HEX_RUN = 200
MIN_TEXT_ESCAPES = 20
MIN_BINARY_ESCAPES = 64
# Random base64 of 200+ chars measures ~5.6-5.9 bits/char and base64 of English text ~5.2; long
# identifiers, repeated padding and path-like strings fall well below 4.5.
MIN_BASE64_ENTROPY = 4.5
# Random hex measures ~3.9 bits/char; zero-filled or repeated byte tables fall below 3.0.
MIN_HEX_ENTROPY = 3.0

# Runs. The base64 pattern starts with a look-behind so that a match can only start at the first
# character of a run: without it, every offset of a 199-character run would be re-scanned up to the
# threshold (x200 slower on hostile input). The escape patterns instead start with their literal
# (`\x`, `\u`, `%`), which lets the engine skip ahead at C speed; a failing start there costs at most
# the threshold, which is small.
_BASE64_RUN_RE = re.compile(rf"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{{{MIN_BASE64_RUN},}}={{0,2}}")
_HEX_ESCAPE_RUN_RE = re.compile(rf"\\x[0-9a-fA-F]{{2}}(?:\\x[0-9a-fA-F]{{2}}){{{MIN_TEXT_ESCAPES - 1},}}")
_UNICODE_ESCAPE = r"\\u(?:[0-9a-fA-F]{4}|\{[0-9a-fA-F]{1,6}\})"
_UNICODE_ESCAPE_RUN_RE = re.compile(rf"{_UNICODE_ESCAPE}(?:{_UNICODE_ESCAPE}){{{MIN_TEXT_ESCAPES - 1},}}")
_PERCENT_RUN_RE = re.compile(rf"%[0-9a-fA-F]{{2}}(?:%[0-9a-fA-F]{{2}}){{{MIN_TEXT_ESCAPES - 1},}}")
_HEX_ONLY_RE = re.compile(r"[0-9a-fA-F]+")
_DIGIT_RE = re.compile(r"[0-9]")
_UPPER_RE = re.compile(r"[A-Z]")
_LOWER_RE = re.compile(r"[a-z]")
_BASE64_CORE = re.compile(r"[A-Za-z0-9+/_\-]+={0,2}")

# Magic numbers of decoded bytes, most specific first.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
    (b"\x00\x00\x01\x00", "image/ico"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"OTTO", "font/otf"),
    (b"\x00\x01\x00\x00\x00", "font/ttf"),
    (b"%PDF", "document/pdf"),
    (b"\x1f\x8b", "compressed/gzip"),
    (b"\xfd7zXZ\x00", "compressed/xz"),
    (b"BZh", "compressed/bzip2"),
    (b"\x5d\x00\x00", "compressed/lzma"),
    (b"(\xb5/\xfd", "compressed/zstd"),
    (b"PK\x03\x04", "archive/zip"),
    (b"7z\xbc\xaf\x27\x1c", "archive/7z"),
    (b"MZ", "executable/pe"),
    (b"\x7fELF", "executable/elf"),
    (b"\xca\xfe\xba\xbe", "executable/java-class-or-macho"),
    (b"\xcf\xfa\xed\xfe", "executable/macho"),
    (b"\xfe\xed\xfa\xcf", "executable/macho"),
    (b"\x00asm", "executable/wasm"),
    (b"\x00\x00\x00\x07ssh-", "key/ssh-public"),
    (b"\x00\x00\x00\x0bssh-", "key/ssh-public"),
    (b"\x00\x00\x00\x13ecdsa-", "key/ssh-public"),
)
_RIFF_KINDS = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/avi"}
# Decoded bytes that are ordinary embedded data, not hidden code: pictures, fonts, documents, public
# keys and DER certificates (which start with an ASN.1 SEQUENCE header).
BENIGN_MEDIA_PREFIXES = ("image/", "font/", "document/", "audio/", "video/", "key/", "der/")


@dataclass(slots=True)
class Blob:
    """One encoded run in a text. ``start``/``end`` index the searched text."""

    start: int
    end: int
    kind: str  # "base64" | "hex" | "x-escape" | "u-escape" | "percent"
    text: str
    entropy: float

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(slots=True)
class Decoded:
    """What a blob turned out to be once decoded (bounded)."""

    data: bytes
    text: str | None  # printable text after peeling every layer, or None for opaque bytes
    media: str | None  # a magic-number type such as "image/png" or "compressed/gzip", if any
    layers: tuple[str, ...]  # e.g. ("base64", "gzip")

    @property
    def is_benign_media(self) -> bool:
        return self.media is not None and self.media.startswith(BENIGN_MEDIA_PREFIXES)


def shannon_entropy(text: str | bytes) -> float:
    """Bits per symbol of ``text`` (0 for empty input)."""
    if not text:
        return 0.0
    total = len(text)
    return -sum((count / total) * math.log2(count / total) for count in Counter(text).values())


def _classify_base64_run(run: str) -> str | None:
    """"base64", "hex" or None when a run of the base64 alphabet is neither (a path, an identifier,
    a long dashed slug)."""
    core = run.rstrip("=")
    # Regex tests rather than per-character Python loops: a run can be megabytes long.
    if len(core) >= MIN_HEX_RUN and _HEX_ONLY_RE.fullmatch(core):
        return "hex" if len(core) % 2 == 0 else None
    has_std = "+" in core or "/" in core
    has_url = "-" in core or "_" in core
    if has_std and has_url:
        return None  # mixes both alphabets: a path or a slug, not an encoding
    # Real base64 mixes letter cases and digits; the odds of 200 random base64 characters missing
    # one class are ~1e-15, while long identifiers and slugs usually miss one.
    if not (_DIGIT_RE.search(core) and _UPPER_RE.search(core) and _LOWER_RE.search(core)):
        return None
    # '/' is 1/64 of random base64; paths have one every few characters.
    if core.count("/") * 20 > len(core) or (core.count("-") + core.count("_")) * 20 > len(core):
        return None
    return "base64"


def find_blobs(text: str, *, min_base64: int = MIN_BASE64_RUN) -> Iterator[Blob]:
    """Long base64 / hex runs and long \\x, \\u, %XX escape runs in ``text``.

    Callers should pass only lines long enough to hold a blob (>= 200 characters, or >= 60 with a
    backslash or percent sign): that length check is far cheaper than a regex pass over ordinary
    code."""
    if len(text) >= min_base64:
        for match in _BASE64_RUN_RE.finditer(text):
            run = match.group()
            if len(run.rstrip("=")) < min_base64:
                continue
            kind = _classify_base64_run(run)
            if kind is None:
                continue
            sample = run[:4096]
            entropy = shannon_entropy(sample)
            if entropy < (MIN_HEX_ENTROPY if kind == "hex" else MIN_BASE64_ENTROPY):
                continue
            yield Blob(match.start(), match.end(), kind, run, entropy)
    for needle, pattern, kind in (("\\x", _HEX_ESCAPE_RUN_RE, "x-escape"), ("\\u", _UNICODE_ESCAPE_RUN_RE, "u-escape")):
        if needle in text:
            for match in pattern.finditer(text):
                run = match.group()
                yield Blob(match.start(), match.end(), kind, run, shannon_entropy(run[:4096]))
    if "%" in text:
        for match in _PERCENT_RUN_RE.finditer(text):
            run = match.group()
            yield Blob(match.start(), match.end(), "percent", run, shannon_entropy(run[:4096]))


def escape_count(blob: Blob) -> int:
    if blob.kind == "x-escape":
        return blob.length // 4
    if blob.kind == "percent":
        return blob.length // 3
    if blob.kind == "u-escape":
        return blob.text.count("\\u")
    return 0


def media_type(data: bytes) -> str | None:
    """A coarse type from magic numbers, or None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data.startswith(b"RIFF") and len(data) >= 12:
        return _RIFF_KINDS.get(data[8:12], "riff")
    if data[:2] in (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"):
        return "compressed/zlib"
    if len(data) > 4 and data[0] == 0x30 and data[1] in (0x81, 0x82, 0x83):
        return "der/asn1"  # certificates, public keys, signatures
    return None


def _decompress(data: bytes, media: str | None) -> tuple[bytes, str] | None:
    """Bounded decompression; ``max_length`` caps the output so a bomb costs nothing."""
    try:
        if media in ("compressed/gzip", "compressed/zlib"):
            out = zlib.decompressobj(47).decompress(data, MAX_DECODED_BYTES)  # 47: auto gzip/zlib header
            return out, media.split("/")[1]
        if media in ("compressed/xz", "compressed/lzma"):
            fmt = lzma.FORMAT_XZ if media == "compressed/xz" else lzma.FORMAT_ALONE
            return lzma.LZMADecompressor(format=fmt).decompress(data, MAX_DECODED_BYTES), media.split("/")[1]
        if media == "compressed/bzip2":
            return bz2.BZ2Decompressor().decompress(data, MAX_DECODED_BYTES), "bzip2"
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError):
        return None
    return None


def _raw_deflate(data: bytes) -> bytes | None:
    """PHP gzinflate / pako.inflateRaw payloads are headerless deflate streams."""
    try:
        out = zlib.decompressobj(-15).decompress(data, MAX_DECODED_BYTES)
    except zlib.error:
        return None
    return out or None


def printable_text(data: bytes) -> str | None:
    """``data`` as text if it reads as text (UTF-8, mostly printable), else None."""
    if not data:
        return None
    odd = data[1:512:2]
    try:
        if len(data) % 2 == 0 and odd and odd.count(0) * 10 >= len(odd) * 9:
            text = data.decode("utf-16-le")  # PowerShell -EncodedCommand is UTF-16LE (ASCII: every odd byte 0)
        else:
            text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    sample = text[:4096]
    printable = sum(1 for ch in sample if ch.isprintable() or ch in "\n\r\t")
    return text if printable >= 0.95 * len(sample) else None


def _b64_bytes(text: str) -> bytes | None:
    core = _BASE64_CORE.fullmatch(text.strip())
    if core is None:
        return None
    raw = text.strip()[:MAX_DECODE_INPUT].rstrip("=")
    raw = raw[: len(raw) - len(raw) % 4] if len(raw) % 4 == 1 else raw
    padded = raw + "=" * (-len(raw) % 4)
    try:
        if "-" in padded or "_" in padded:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _hex_bytes(text: str) -> bytes | None:
    raw = text.strip()[:MAX_DECODE_INPUT]
    if len(raw) % 2:
        raw = raw[:-1]
    try:
        return bytes.fromhex(raw)
    except ValueError:
        return None


def _escape_bytes(blob_text: str, kind: str) -> bytes | None:
    raw = blob_text[:MAX_DECODE_INPUT]
    try:
        if kind == "x-escape":
            return bytes(int(raw[i + 2 : i + 4], 16) for i in range(0, len(raw) - 3, 4))
        if kind == "percent":
            return bytes(int(raw[i + 1 : i + 3], 16) for i in range(0, len(raw) - 2, 3))
        if kind == "u-escape":
            chars = [chr(int(code, 16)) for code in re.findall(r"\\u\{?([0-9a-fA-F]{1,6})\}?", raw)]
            return "".join(chars).encode("utf-8", errors="replace")
    except ValueError:
        return None
    return None


def peel(data: bytes, layers: tuple[str, ...] = ()) -> Decoded:
    """Follow compression and nested base64 layers of already-decoded ``data`` (bounded depth)."""
    data = data[:MAX_DECODED_BYTES]
    for _ in range(MAX_DECODE_DEPTH):
        media = media_type(data)
        if media is not None and media.startswith("compressed/"):
            unpacked = _decompress(data, media)
            if unpacked is None:
                return Decoded(data, None, media, layers)
            data, layer = unpacked
            layers = (*layers, layer)
            continue
        text = printable_text(data)
        if text is None:
            if layers and layers[-1] in ("base64", "hex"):
                inflated = _raw_deflate(data)
                if inflated is not None and printable_text(inflated) is not None:
                    data = inflated
                    layers = (*layers, "deflate")
                    continue
            return Decoded(data, None, media, layers)
        stripped = text.strip()
        # Base64 inside base64 (double-encoding is a common way past log masking and scanners).
        if len(stripped) >= 16 and "\n" not in stripped and " " not in stripped:
            inner = _b64_bytes(stripped)
            if inner is not None and (printable_text(inner) is not None or media_type(inner)):
                data = inner[:MAX_DECODED_BYTES]
                layers = (*layers, "base64")
                continue
        return Decoded(data, text, media, layers)
    return Decoded(data, printable_text(data), media_type(data), layers)


def decode_blob(blob: Blob) -> Decoded | None:
    """Decode one blob found by ``find_blobs`` (bounded), or None if it does not decode."""
    if blob.kind == "base64":
        data = _b64_bytes(blob.text)
        layer = "base64"
    elif blob.kind == "hex":
        data = _hex_bytes(blob.text)
        layer = "hex"
    else:
        data = _escape_bytes(blob.text, blob.kind)
        layer = blob.kind
    if not data:
        return None
    return peel(data, (layer,))


def decode_literal(text: str, *, rot13: bool = False) -> Decoded | None:
    """Best-effort decode of one string literal of any length >= 8 (used next to decode-and-exec
    calls, where even a short literal is worth reading): rot13, hex, base64, or escapes."""
    candidate = text.strip()[:MAX_DECODE_INPUT]
    if len(candidate) < 8:
        return None
    if rot13:
        decoded = codecs.decode(candidate, "rot13")
        return Decoded(decoded.encode("utf-8", errors="replace"), decoded, None, ("rot13",))
    if "\\x" in candidate or "\\u" in candidate or candidate.count("%") >= 4:
        for blob in find_blobs(candidate):
            return decode_blob(blob)
        return None
    if len(candidate) % 2 == 0 and _HEX_ONLY_RE.fullmatch(candidate):
        data = _hex_bytes(candidate)
        if data:
            return peel(data, ("hex",))
    data = _b64_bytes(candidate)
    if data:
        return peel(data, ("base64",))
    return None


def char_codes_text(numbers: str) -> str | None:
    """Text spelled by a comma-separated list of character codes (decimal or 0x hex)."""
    out = []
    for part in numbers.split(",")[:20000]:
        token = part.strip().rstrip(")]").strip()
        if not token:
            continue
        try:
            code = int(token, 16) if token.lower().startswith("0x") else int(token)
        except ValueError:
            return None
        if not 0 <= code <= 0x10FFFF:
            return None
        out.append(chr(code))
    return "".join(out) if out else None


def mostly_ascii_text(text: str, threshold: float = 0.8) -> bool:
    """True when ``text`` is mostly printable ASCII with some letters (it spells words/code)."""
    if not text:
        return False
    sample = text[:4096]
    printable = sum(1 for ch in sample if " " <= ch <= "~" or ch in "\n\t")
    letters = sum(1 for ch in sample if ch.isascii() and ch.isalpha())
    return printable >= threshold * len(sample) and letters >= 0.3 * len(sample)


# Minified code: very long lines, little whitespace, dense with code punctuation. The punctuation
# test separates a minified bundle from a line that is one long base64 blob (no ;{}(),=).
_MINIFIED_LINE = 500
_CODE_PUNCTUATION = ";{}(),="


def is_minified(lines: Sequence[str]) -> bool:
    """Whether added ``lines`` look like machine-minified code (most characters sit on long lines
    with < 10 % whitespace and many ``;{}(),=``)."""
    total = 0
    minified_chars = 0
    for line in lines:
        length = len(line)
        total += length
        if length < _MINIFIED_LINE:
            continue
        sample = line[:8192]
        size = len(sample)
        spaces = sample.count(" ") + sample.count("\t")
        punctuation = sum(sample.count(ch) for ch in _CODE_PUNCTUATION)
        if spaces * 10 < size and punctuation * 20 > size:
            minified_chars += length
    return total >= 2000 and minified_chars * 2 >= total


_LONG_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{24,}={0,2}")


def redact(text: str) -> str:
    """Replace every long token (secrets, keys, blobs, hashes) by its prefix and length."""
    return _LONG_TOKEN_RE.sub(lambda m: f"{m.group()[:6]}…({len(m.group())} chars)", text)


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
