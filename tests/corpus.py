"""Generated corpus of hostile and tricky image uploads (no files on disk).

Reusable by unit tests of :mod:`gateway.imaging` and by API tests: :func:`bad_images` must each
be refused with ``code`` (a stable problem+json code), :func:`good_images` must each be accepted
and come out as described. Everything is built in code and deterministic.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pillow_heif
from PIL import Image, ImageCms, PngImagePlugin

pillow_heif.register_heif_opener()  # HEIC inputs (the gateway decodes them too)

UNSUPPORTED = "unsupported_media_type"
TOO_LARGE = "image_too_large"
TOO_MANY_PIXELS = "image_too_many_pixels"
CORRUPT = "image_corrupt"
INVALID_REQUEST = "invalid_request"

MAX_BYTES = 10 * 1024 * 1024  # the default ImageLimits.max_bytes

RGB = tuple[int, int, int]
RED: RGB = (220, 20, 20)
BLUE: RGB = (20, 40, 220)
GREY: RGB = (128, 128, 128)
WHITE: RGB = (255, 255, 255)


@dataclass(frozen=True)
class BadInput:
    """Bytes that must be refused with ``code``."""

    name: str
    data: bytes
    code: str


@dataclass(frozen=True)
class Probe:
    """The upright output must show ``rgb`` (within the case's tolerance) at ``(x, y)``."""

    x: int
    y: int
    rgb: RGB


@dataclass(frozen=True)
class GoodInput:
    """Bytes that must be accepted, and what the cleaned result must look like."""

    name: str
    data: bytes
    content_type: str  # of the cleaned output (same family as the input)
    size: tuple[int, int]  # upright (width, height) after EXIF orientation
    probes: tuple[Probe, ...] = ()
    tolerance: int = 40  # per channel, to absorb lossy re-encoding
    forbidden: tuple[bytes, ...] = ()  # case-specific bytes that must not survive
    filename: str = "photo"
    declared_type: str = "application/octet-stream"  # what a client might wrongly claim


@dataclass(frozen=True)
class BadBase64:
    """An ``image_base64`` value that must be refused with ``code``."""

    name: str
    value: str
    code: str = INVALID_REQUEST
    detail: str | None = "image_base64 is not valid base64"  # None: not checked


# --- builders -------------------------------------------------------------------------------


def _save(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def _halves(size: tuple[int, int], left: RGB, right: RGB) -> Image.Image:
    """An RGB image, ``left`` colour on the left half and ``right`` on the right."""
    im = Image.new("RGB", size, right)
    im.paste(left, (0, 0, size[0] // 2, size[1]))
    return im


def _gray16(value: Callable[[int, int], int], size: int = 64) -> Image.Image:
    """A 16-bit greyscale image from a per-pixel function (Image.paste mangles I;16 ints)."""
    raw = b"".join(struct.pack("<H", value(x, y)) for y in range(size) for x in range(size))
    return Image.frombytes("I;16", (size, size), raw)


def _marked(size: tuple[int, int] = (80, 40)) -> Image.Image:
    """Grey image with a red 20x20 block in its stored top-left corner."""
    im = Image.new("RGB", size, GREY)
    im.paste(RED, (0, 0, 20, 20))
    return im


def _png_chunk(tag: bytes, payload: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(tag + payload) if crc is None else crc
    return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", crc & 0xFFFFFFFF)


def _raw_png(
    width: int, height: int, idat: bytes, *, bit_depth: int = 8, color_type: int = 2
) -> bytes:
    """A PNG assembled by hand: IHDR as declared, the given IDAT payload, IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _png_bomb(width: int, height: int) -> bytes:
    """A few hundred bytes declaring width x height greyscale pixels (one compressed row)."""
    return _raw_png(width, height, zlib.compress(b"\x00" * (width + 1), 9), color_type=0)


def _patch_sof(jpeg: bytes, width: int, height: int) -> bytes:
    """Rewrite the frame size in a baseline JPEG's SOF0 header."""
    at = jpeg.index(b"\xff\xc0")
    return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def _rebuild_png(chunks: list[tuple[bytes, bytes]], bad_crc_for: bytes = b"") -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        _png_chunk(tag, payload, crc=0xDEADBEEF if tag == bad_crc_for else None)
        for tag, payload in chunks
    )


def _jpeg_with_padding(total: int) -> bytes:
    """A valid JPEG grown to ``total`` bytes with COM segments right after SOI."""
    body = _save(_halves((64, 64), RED, BLUE), "JPEG", quality=90)
    missing = total - len(body)
    segments = []
    while missing > 0:
        payload_len = min(65533, max(missing - 4, 1))
        segments.append(b"\xff\xfe" + struct.pack(">H", payload_len + 2) + b"A" * payload_len)
        missing -= payload_len + 4
    return body[:2] + b"".join(segments) + body[2:]


def _with_app1(jpeg: bytes, payload: bytes) -> bytes:
    """Insert a raw APP1 segment right after SOI."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _exif(orientation: int, *, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "SecretCam"  # Make
    if gps:
        exif[0x8825] = {  # GPSInfo IFD
            1: "N",
            2: (48.0, 51.0, 29.0),
            3: "E",
            4: (2.0, 17.0, 40.0),
        }
    return exif


_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="48,51.48N"/></rdf:RDF></x:xmpmeta>'
)


# --- corpora --------------------------------------------------------------------------------


@cache
def _bad_images() -> tuple[BadInput, ...]:
    rng = random.Random(20240605)
    jpeg = _save(_halves((64, 64), RED, BLUE), "JPEG", quality=90)
    png = _save(_halves((64, 64), RED, BLUE), "PNG")
    webp = _save(_halves((64, 64), RED, BLUE), "WEBP", quality=80)
    frames = [Image.new("RGB", (16, 16), c) for c in (RED, BLUE, GREY)]
    noise = Image.frombytes("RGB", (128, 128), rng.randbytes(128 * 128 * 3))
    noise_jpeg = _save(noise, "JPEG", quality=90)  # scan data dominates: cut lands in pixels
    png_chunks = _png_chunks(png)
    idat_garbage = [
        (tag, rng.randbytes(len(payload)) if tag == b"IDAT" else payload)
        for tag, payload in png_chunks
    ]
    cases = [
        # wrong or unknown formats (415): magic bytes decide, never names or declared types
        BadInput("zero_bytes", b"", UNSUPPORTED),
        BadInput("one_byte", b"\xff", UNSUPPORTED),
        BadInput("random_bytes", b"\x00" + rng.randbytes(4095), UNSUPPORTED),
        BadInput("plain_text", b"hello, this is not a photo\n" * 20, UNSUPPORTED),
        BadInput("html", b"<!DOCTYPE html><html><body><h1>hi</h1></body></html>", UNSUPPORTED),
        BadInput(
            "svg",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><script>alert(1)</script></svg>',
            UNSUPPORTED,
        ),
        BadInput("pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", UNSUPPORTED),
        BadInput("gif", _save(frames[0], "GIF"), UNSUPPORTED),
        BadInput(
            "gif_animated",
            _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100),
            UNSUPPORTED,
        ),
        BadInput("bmp", _save(frames[0], "BMP"), UNSUPPORTED),
        BadInput("tiff", _save(frames[0], "TIFF"), UNSUPPORTED),
        BadInput(
            "tiff_big_endian_header", b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00" * 64, UNSUPPORTED
        ),
        BadInput(  # an HEIC header with nothing behind it
            "heic_header_only",
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
            CORRUPT,
        ),
        BadInput(
            "avif",
            b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64,
            UNSUPPORTED,
        ),
        BadInput("jpeg2000", b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00" * 64, UNSUPPORTED),
        BadInput("riff_wave", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32, UNSUPPORTED),
        BadInput("zip", b"PK\x03\x04" + b"\x00" * 26 + b"photo.jpg" + jpeg, UNSUPPORTED),
        BadInput(
            "polyglot_html_with_jpeg",
            b"<html><body><img src=x onerror=alert(1)><!--" + jpeg + b"--></body></html>",
            UNSUPPORTED,
        ),
        BadInput(
            "polyglot_pdf_wrapping_jpeg",
            b"%PDF-1.4\n1 0 obj << /Type /XObject /Subtype /Image /Filter /DCTDecode /Length "
            + str(len(jpeg)).encode()
            + b" >>\nstream\n"
            + jpeg
            + b"\nendstream endobj\n%%EOF\n",
            UNSUPPORTED,
        ),
        BadInput(
            "polyglot_gif_html",
            b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;<script>alert(1)</script>;\x00\x3b",
            UNSUPPORTED,
        ),
        BadInput("utf8_bom_then_jpeg", b"\xef\xbb\xbf" + jpeg, UNSUPPORTED),
        # animated (415 with a detail saying so)
        BadInput(
            "png_animated_apng",
            _save(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100),
            UNSUPPORTED,
        ),
        BadInput(
            "webp_animated",
            _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100),
            UNSUPPORTED,
        ),
        # damaged files of an accepted format (400)
        BadInput("jpeg_truncated_in_headers", jpeg[: len(jpeg) // 2], CORRUPT),
        BadInput("jpeg_truncated_in_scan", noise_jpeg[: len(noise_jpeg) * 3 // 4], CORRUPT),
        BadInput("jpeg_magic_only", b"\xff\xd8\xff", CORRUPT),
        BadInput("jpeg_header_then_garbage", b"\xff\xd8\xff\xe0" + rng.randbytes(2048), CORRUPT),
        BadInput("png_truncated", png[: len(png) // 2], CORRUPT),
        BadInput("png_magic_only", b"\x89PNG\r\n\x1a\n", CORRUPT),
        BadInput("png_bad_ihdr_crc", _rebuild_png(png_chunks, bad_crc_for=b"IHDR"), CORRUPT),
        BadInput("png_bad_idat_crc", _rebuild_png(png_chunks, bad_crc_for=b"IDAT"), CORRUPT),
        BadInput("png_idat_garbage", _rebuild_png(idat_garbage), CORRUPT),
        BadInput("webp_truncated", webp[: len(webp) // 2], CORRUPT),
        BadInput(
            "webp_riff_then_garbage", b"RIFF\x00\x10\x00\x00WEBP" + rng.randbytes(512), CORRUPT
        ),
        # dimensions (413), all tiny on disk and refused before any pixel is decoded
        BadInput("png_bomb_50000x50000", _png_bomb(50_000, 50_000), TOO_MANY_PIXELS),
        BadInput("png_bomb_10000x10000", _png_bomb(10_000, 10_000), TOO_MANY_PIXELS),
        BadInput("png_48_megapixels", _png_bomb(8_000, 6_000), TOO_MANY_PIXELS),
        BadInput("jpeg_bomb_sof_65000x65000", _patch_sof(jpeg, 65_000, 65_000), TOO_MANY_PIXELS),
        BadInput("jpeg_sof_8000x8000", _patch_sof(jpeg, 8_000, 8_000), TOO_MANY_PIXELS),
        BadInput("png_side_12001", _save(Image.new("L", (12_001, 1)), "PNG"), TOO_MANY_PIXELS),
        BadInput(
            "webp_side_12001",
            _save(Image.new("RGB", (1, 12_001)), "WEBP", lossless=True),
            TOO_MANY_PIXELS,
        ),
        # bytes (413)
        BadInput("jpeg_over_10mb", _jpeg_with_padding(MAX_BYTES + 1), TOO_LARGE),
        BadInput("png_magic_then_10mb", b"\x89PNG\r\n\x1a\n" + bytes(MAX_BYTES), TOO_LARGE),
        BadInput("random_over_10mb", rng.randbytes(MAX_BYTES + 1), TOO_LARGE),
    ]
    return tuple(cases)


def bad_images() -> list[BadInput]:
    """Inputs the gateway must refuse, each with its stable error code."""
    return list(_bad_images())


@cache
def _good_images() -> tuple[GoodInput, ...]:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    halves = _halves((64, 64), RED, BLUE)
    left, right = Probe(8, 32, RED), Probe(56, 32, BLUE)

    cmyk = Image.new("CMYK", (64, 64), (0, 0, 0, 0))  # white
    cmyk.paste((255, 0, 0, 0), (0, 0, 32, 64))  # cyan on the left

    # left half black with a mid-grey top band, right half white (16-bit values)
    gray16 = _gray16(lambda x, y: 65535 if x >= 32 else 32768 if y < 16 else 0)
    gray16_key = _gray16(lambda x, y: 4242 if x >= 32 else 1000)  # 4242 is the tRNS key

    rgb16_rows = b"".join(
        b"\x00" + (b"\xff\xff\x00\x00\x00\x00" * 32 + b"\x00\x00\x00\x00\xff\xff" * 32)
        for _ in range(64)
    )

    palette = Image.new("P", (64, 64), 1)
    palette.putpalette([220, 20, 20, 0, 255, 0] + [0] * 762)
    palette.paste(0, (0, 0, 32, 64))

    rgba = Image.new("RGBA", (64, 64), (0, 255, 0, 0))  # transparent green: must become white
    rgba.paste((*BLUE, 255), (0, 0, 32, 64))
    la = Image.new("LA", (64, 64), (0, 0))
    la.paste((0, 255), (0, 0, 32, 64))

    texts = PngImagePlugin.PngInfo()
    texts.add_text("Comment", "secret-text-chunk")
    texts.add_text("Author", "secret-ztxt-chunk", zip=True)
    texts.add_itxt("Description", "secret-itxt-chunk", lang="en")

    mpo_frames = [Image.new("RGB", (64, 64), RED), Image.new("RGB", (64, 64), BLUE)]
    upright_red_top_right = (Probe(30, 10, RED), Probe(10, 70, GREY))
    return (
        GoodInput("tiny_jpeg_64x64", _save(halves, "JPEG"), "image/jpeg", (64, 64), (left, right)),
        GoodInput(  # iPhones: decoded with pillow-heif, stored as JPEG
            "heic_64x64",
            _save(halves, "HEIF", quality=90),
            "image/jpeg",
            (64, 64),
            (left, right),
            tolerance=60,
        ),
        GoodInput(
            "jpeg_cmyk",
            _save(cmyk, "JPEG", quality=95),
            "image/jpeg",
            (64, 64),
            (Probe(8, 32, (0, 255, 255)), Probe(56, 32, WHITE)),
        ),
        GoodInput(
            "jpeg_grayscale",
            _save(_halves((64, 64), (0, 0, 0), WHITE).convert("L"), "JPEG"),
            "image/jpeg",
            (64, 64),
            (Probe(8, 32, (0, 0, 0)), Probe(56, 32, WHITE)),
        ),
        GoodInput(
            "jpeg_progressive",
            _save(halves, "JPEG", progressive=True, quality=90),
            "image/jpeg",
            (64, 64),
            (left, right),
        ),
        GoodInput(
            "jpeg_exif_orientation_6_gps_xmp",
            _save(_marked(), "JPEG", quality=95, exif=_exif(6), xmp=_XMP),
            "image/jpeg",
            (40, 80),  # stored 80x40, rotated 90 degrees clockwise for display
            upright_red_top_right,
            forbidden=(b"SecretCam", b"xmpmeta", b"GPSLatitude"),
        ),
        GoodInput(
            "jpeg_icc_comment",
            _save(halves, "JPEG", icc_profile=srgb, comment=b"secret-comment"),
            "image/jpeg",
            (64, 64),
            (left, right),
            forbidden=(b"secret-comment", b"ICC_PROFILE"),
        ),
        GoodInput(
            "jpeg_mpo_two_frames",  # phone cameras store depth maps/previews this way
            _save(mpo_frames[0], "MPO", save_all=True, append_images=mpo_frames[1:]),
            "image/jpeg",
            (64, 64),
            (Probe(32, 32, RED),),
        ),
        GoodInput(
            "jpeg_with_zip_appended",
            _save(halves, "JPEG") + b"PK\x03\x04secret-appended-archive" + b"\x00" * 64,
            "image/jpeg",
            (64, 64),
            (left, right),
            forbidden=(b"PK\x03\x04", b"secret-appended-archive"),
        ),
        GoodInput(
            "jpeg_corrupt_exif",  # unreadable EXIF is ignored (and stripped), not fatal
            _with_app1(_save(halves, "JPEG"), b"Exif\x00\x00" + b"\xde\xad" * 40),
            "image/jpeg",
            (64, 64),
            (left, right),
            forbidden=(b"\xde\xad\xde\xad",),
        ),
        GoodInput(
            "jpeg_declared_as_png",
            _save(halves, "JPEG"),
            "image/jpeg",
            (64, 64),
            (left, right),
            filename="photo.png",
            declared_type="image/png",
        ),
        GoodInput(
            "png_16bit_gray",
            _save(gray16, "PNG"),
            "image/png",
            (64, 64),
            (Probe(8, 8, (128, 128, 128)), Probe(8, 48, (0, 0, 0)), Probe(56, 32, WHITE)),
            tolerance=2,
        ),
        GoodInput(
            "png_16bit_gray_transparent_key",
            _save(gray16_key, "PNG", transparency=4242),
            "image/png",
            (64, 64),
            (Probe(8, 32, (4, 4, 4)), Probe(56, 32, WHITE)),
            tolerance=2,
        ),
        GoodInput(
            "png_16bit_rgb",
            _raw_png(64, 64, zlib.compress(rgb16_rows), bit_depth=16, color_type=2),
            "image/png",
            (64, 64),
            (Probe(8, 32, (255, 0, 0)), Probe(56, 32, (0, 0, 255))),
            tolerance=2,
        ),
        GoodInput(
            "png_palette_transparency",
            _save(palette, "PNG", transparency=1),
            "image/png",
            (64, 64),
            (Probe(8, 32, RED), Probe(56, 32, WHITE)),
            tolerance=0,
        ),
        GoodInput(
            "png_rgba",
            _save(rgba, "PNG"),
            "image/png",
            (64, 64),
            (Probe(8, 32, BLUE), Probe(56, 32, WHITE)),
            tolerance=0,
        ),
        GoodInput(
            "png_la",
            _save(la, "PNG"),
            "image/png",
            (64, 64),
            (Probe(8, 32, (0, 0, 0)), Probe(56, 32, WHITE)),
            tolerance=0,
        ),
        GoodInput(
            "png_1bit",
            _save(_halves((64, 64), (0, 0, 0), WHITE).convert("1"), "PNG"),
            "image/png",
            (64, 64),
            (Probe(8, 32, (0, 0, 0)), Probe(56, 32, WHITE)),
            tolerance=0,
        ),
        GoodInput(
            "png_text_chunks_exif_orientation_8",
            _save(_marked(), "PNG", pnginfo=texts, exif=_exif(8), icc_profile=srgb),
            "image/png",
            (40, 80),  # stored 80x40, rotated 90 degrees counter-clockwise for display
            (Probe(10, 70, RED), Probe(30, 10, GREY)),
            tolerance=0,
            forbidden=(b"secret-text-chunk", b"secret-itxt-chunk", b"SecretCam"),
        ),
        GoodInput(
            "webp_lossy_exif_gps_xmp",
            _save(halves, "WEBP", quality=90, exif=_exif(1), xmp=_XMP),
            "image/webp",
            (64, 64),
            (left, right),
            forbidden=(b"SecretCam", b"xmpmeta"),
        ),
        GoodInput(
            "webp_lossless_rgba_orientation_3",
            _save(rgba, "WEBP", lossless=True, exif=_exif(3, gps=False)),
            "image/webp",
            (64, 64),
            (Probe(8, 32, WHITE), Probe(56, 32, BLUE)),  # rotated 180 degrees
            forbidden=(b"SecretCam",),
        ),
    )


def good_images() -> list[GoodInput]:
    """Valid but tricky inputs the gateway must accept."""
    return list(_good_images())


def bad_base64() -> list[BadBase64]:
    """``image_base64`` values refused before any image decoding."""
    return [
        BadBase64("empty", "", detail="image_base64 is empty"),
        BadBase64("whitespace_only", " \n\t ", detail="image_base64 is empty"),
        BadBase64("invalid_characters", "/9j/4AAQ*SkZJRg=="),
        BadBase64("url_safe_alphabet", "_9j-4AAQSkZJRg"),
        BadBase64("non_ascii", "/9j/4AAQSkZJRgé"),
        BadBase64("padding_in_the_middle", "/9j/4A==AAQSkZJRg"),
        BadBase64("impossible_length", "/9j/4"),
        BadBase64("data_url_without_base64", "data:image/jpeg,/9j/4AAQSkZJRg"),
        BadBase64("data_url_without_comma", "data:image/jpeg;base64"),
        BadBase64("oversize", "A" * (4 * (MAX_BYTES // 3 + 2)), TOO_LARGE, None),
    ]
