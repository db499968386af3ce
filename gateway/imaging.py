"""Upload validation: sniff, bound, decode, orient and re-encode untrusted images (spec 2.1).

Pure Pillow: no torch, no FastAPI. Every failure on bad input is an :mod:`gateway.errors` error
with a stable code, never a bare Pillow exception. The work is CPU-bound; async callers should
run :func:`clean_image` in a worker thread.

Order of checks in :func:`clean_image`, cheapest first, so nothing big is allocated before the
input has earned it:

1. byte size (``image_too_large``, :func:`gateway.limits.check_size`);
2. magic bytes (``unsupported_media_type``; the declared type and filename are never used);
3. header-only parse: dimensions (``image_too_many_pixels``; Pillow's own decompression-bomb
   error and warning are mapped here too, but our limit is checked on its own, so changing
   ``Image.MAX_IMAGE_PIXELS`` does not weaken it), animation, PNG chunk CRCs;
4. full decode, with truncated images treated as errors (``image_corrupt``);
5. EXIF orientation, conversion to 8-bit RGB (alpha flattened on white), re-encode without any
   metadata.

Photos are kept bounded: a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that
keeps its longest side at ``decode_side`` (1600 px) or more (Pillow's ``draft``: a 12 MP phone
photo decodes at 2016 x 1512, about 3x faster than in full), and any photo whose longest side
is still above ``store_side`` (2048 px) is scaled down to it. What is stored, analysed and
shared is that bounded copy, never the full-size original. HEIC/HEIF (iPhones) is decoded with
pillow-heif and stored as JPEG.

Output format follows input: JPEG and HEIF -> JPEG q92, PNG -> PNG, WebP -> WebP q90. Keeping
the family keeps PNG uploads lossless and WebP uploads small, and the content type honest.
Re-encoding (rather than editing metadata out) guarantees nothing from the upload but pixels
survives: EXIF with GPS, XMP, IPTC, ICC profiles (colours are converted to sRGB first), text
chunks, trailing data after the image (polyglots), extra MPO frames.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import math
import re
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageCms, ImageMath, ImageOps

from gateway.errors import (
    AppError,
    ImageCorrupt,
    ImageTooManyPixels,
    ImageTooSmall,
    InvalidRequest,
    UnsupportedMediaType,
)
from gateway.limits import check_size

__all__ = [
    "CleanImage",
    "DecodedImage",
    "ImageLimits",
    "clean_image",
    "decode_base64_image",
    "decode_upload",
    "decoded_pixels",
    "encode_jpeg",
    "encode_upload",
    "sniff",
]


@dataclass(frozen=True)
class ImageLimits:
    """Upload caps: bytes on the wire, decoded pixels, and the longest side."""

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 12_000
    min_side: int = 1
    decode_side: int = 1600  # JPEGs decode at the smallest DCT scale keeping this much
    store_side: int = 2048  # longer photos are scaled down to this longest side


@dataclass(frozen=True)
class CleanImage:
    """A validated upload: metadata-free re-encoded bytes and the decoded RGB, upright image."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str
    image: Image.Image


# format -> (Pillow format name, content type, extension)
_FORMATS: dict[str, tuple[str, str, str]] = {
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", "image/png", "png"),
    "webp": ("WEBP", "image/webp", "webp"),
    "heif": ("HEIF", "image/jpeg", "jpg"),  # stored as JPEG: browsers rarely show HEIC
}
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_QUALITY = 92
_WEBP_QUALITY = 90
_WHITE = (255, 255, 255)
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_SRGB = ImageCms.createProfile("sRGB")
_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


def _base64_pattern() -> str:
    """What :func:`decode_base64_image` takes, as a regular expression (for the schemas).

    Optional ``data:...;base64,``, then base64 with whitespace anywhere: whole groups of four
    and a last group of two or three characters, its padding optional. Any case in the data
    URL's words; JSON Schema patterns have no flags.
    """
    space = r"[ \t\r\n\f\v]*"
    char = rf"(?:[A-Za-z0-9+/]{space})"
    tail = rf"{char}{{2}}(?:={space}){{0,2}}|{char}{{3}}(?:={space})?"
    data_url = rf"{_any_case('data')}:[^,]*;[ ]*{_any_case('base64')},"
    return rf"^{space}(?:{data_url})?{space}(?:(?:{char}{{4}})+(?:{tail})?|{tail})$"


BASE64_PATTERN = _base64_pattern()
pillow_heif.register_heif_opener()


def sniff(data: bytes) -> str:
    """Return ``"jpeg"``, ``"png"``, ``"webp"`` or ``"heif"`` from magic bytes alone.

    Anything else (GIF, BMP, TIFF, AVIF, SVG, PDF, HTML, empty...) raises UnsupportedMediaType.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(_PNG_MAGIC):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heif"
    raise UnsupportedMediaType(
        "Only JPEG, PNG, WebP and HEIC images are accepted (detected from the file's content)."
    )


@dataclass(frozen=True)
class DecodedImage:
    """A validated upload decoded to an upright, bounded RGB image, not yet re-encoded."""

    image: Image.Image
    format: str  # the sniffed format: "jpeg", "png", "webp" or "heif"


def clean_image(data: bytes, limits: ImageLimits = ImageLimits()) -> CleanImage:
    """Validate an untrusted upload and return it decoded, upright, RGB and re-encoded.

    Raises ImageTooLarge, UnsupportedMediaType (incl. animated images), ImageTooManyPixels,
    ImageTooSmall or ImageCorrupt.
    """
    return encode_upload(decode_upload(data, limits))


def decode_upload(data: bytes, limits: ImageLimits = ImageLimits()) -> DecodedImage:
    """Every check of :func:`clean_image` and the decode; the re-encode is left to
    :func:`encode_upload`, so a caller can run it beside other work."""
    check_size(len(data), limits.max_bytes)
    fmt = sniff(data)
    pil_format = _FORMATS[fmt][0]
    _check_header(data, pil_format, limits)
    image = _decode(data, pil_format, limits.decode_side)
    with contextlib.suppress(Exception):  # unreadable EXIF: keep stored orientation, not reject
        ImageOps.exif_transpose(image, in_place=True)
    try:
        image = _to_rgb(image)
    except Exception as exc:  # untrusted pixel data: any failure is the file's fault
        raise ImageCorrupt("The image could not be converted to RGB.") from exc
    if max(image.size) > limits.store_side:
        image.thumbnail((limits.store_side, limits.store_side), Image.Resampling.LANCZOS, 2.0)
    image.info.clear()  # belt and braces: encoders must find nothing to copy
    return DecodedImage(image, fmt)


def decoded_pixels(data: bytes, limits: ImageLimits = ImageLimits()) -> int:
    """How many pixels :func:`decode_upload` will hold for these bytes, from the header alone
    (a JPEG at its reduced DCT scale); the checks before its decode refuse here as there."""
    check_size(len(data), limits.max_bytes)
    pil_format = _FORMATS[sniff(data)][0]
    _check_header(data, pil_format, limits)
    with _open(data, pil_format) as im:
        if pil_format == "JPEG" and max(im.size) > limits.decode_side:
            scale = limits.decode_side / max(im.size)
            im.draft(im.mode, (math.ceil(im.width * scale), math.ceil(im.height * scale)))
        return im.width * im.height


def encode_upload(decoded: DecodedImage, max_side: int | None = None) -> CleanImage:
    """Re-encode a decoded upload in its own family, without any metadata; at most
    ``max_side`` long when given (a smaller copy: the decoded image is left as it is)."""
    image, fmt = decoded.image, decoded.format
    if max_side is not None and max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, 2.0)
    _, content_type, extension = _FORMATS[fmt]
    if fmt in ("jpeg", "heif"):
        out = encode_jpeg(image, quality=_JPEG_QUALITY)
    elif fmt == "png":
        out = _encode(image, "PNG", compress_level=6)
    else:
        out = _encode(image, "WEBP", quality=_WEBP_QUALITY, method=4)
    return CleanImage(
        data=out,
        content_type=content_type,
        extension=extension,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(out).hexdigest(),
        image=image,
    )


def encode_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    """Encode an image as a metadata-free baseline JPEG (converted to RGB if needed)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return _encode(rgb, "JPEG", quality=quality)  # no optimize: 2x slower for ~5 % smaller


def decode_base64_image(value: str, max_bytes: int = ImageLimits.max_bytes) -> bytes:
    """Decode plain base64 or a ``data:[<type>];base64,`` URL into raw bytes.

    Whitespace and missing padding are tolerated; anything else outside the standard base64
    alphabet raises InvalidRequest. The declared media type of a data URL is ignored (the
    bytes are sniffed later). Oversized input raises ImageTooLarge before any decoding, by the
    size it decodes to (exact for valid base64). ``value`` is bounded by the request body's
    limit (:func:`gateway.limits.request_body_limit`) before it gets here.
    """
    text = value.strip()
    if text[:5].lower() == "data:":
        header, sep, text = text.partition(",")
        if not sep or not header.lower().replace(" ", "").endswith(";base64"):
            raise InvalidRequest("image_base64 is not valid base64")
    text = _WHITESPACE.sub("", text)
    if not text:
        raise InvalidRequest("image_base64 is empty")
    check_size(len(text.rstrip("=")) * 3 // 4, max_bytes)  # 4 characters carry 3 bytes
    if len(text) % 4 == 1:
        raise InvalidRequest("image_base64 is not valid base64")
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise InvalidRequest("image_base64 is not valid base64") from exc
    return raw


def _open(data: bytes, pil_format: str) -> Image.Image:
    """Header-only open, restricted to the sniffed format (never trying other plugins)."""
    return Image.open(io.BytesIO(data), formats=[pil_format])


def _check_header(data: bytes, pil_format: str, limits: ImageLimits) -> None:
    """Reject by declared dimensions and frame count, and check PNG CRCs, without decoding."""
    try:
        with _open(data, pil_format) as im:
            width, height = im.size
            frames = getattr(im, "n_frames", 1)
            if (
                width * height <= limits.max_pixels
                and max(width, height) <= limits.max_side
                and pil_format == "PNG"
            ):
                im.verify()  # CRC of every chunk up to IEND; cheap, decodes nothing
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(limits) from exc
    except Exception as exc:  # any parse failure of sniffed-valid bytes means a damaged file
        raise ImageCorrupt("The image header is damaged or incomplete.") from exc
    if width * height > limits.max_pixels or max(width, height) > limits.max_side:
        raise _too_many_pixels(limits, width=width, height=height)
    if width < 1 or height < 1:
        raise ImageCorrupt("The image has no pixels.")
    # JPEGs with several frames are MPO (phone cameras add depth maps/previews): keep frame 0.
    if frames > 1 and pil_format != "JPEG":
        raise UnsupportedMediaType(
            f"Animated images are not supported ({frames} frames); send a single still photo.",
            frames=frames,
        )
    if min(width, height) < limits.min_side:
        raise ImageTooSmall(
            f"The image is {width}x{height} px; its shorter side needs at least "
            f"{limits.min_side} px.",
            width=width,
            height=height,
            min_side=limits.min_side,
        )


def _too_many_pixels(limits: ImageLimits, **dims: int) -> AppError:
    size = f" ({dims['width']}x{dims['height']})" if dims else ""
    return ImageTooManyPixels(
        f"The image{size} exceeds {limits.max_pixels} pixels or {limits.max_side} px per side.",
        max_pixels=limits.max_pixels,
        max_side=limits.max_side,
        **dims,
    )


def _decode(data: bytes, pil_format: str, decode_side: int) -> Image.Image:
    """Fully decode frame 0 (a JPEG at a reduced DCT scale when it stays >= ``decode_side``);
    truncated or corrupt data raises ImageCorrupt.

    Safe to call only after :func:`_check_header`: memory is bounded by max_pixels times at
    most 4 bytes per pixel (CMYK, RGBA, I, F).
    """
    try:
        im = _open(data, pil_format)
        if pil_format == "JPEG" and max(im.size) > decode_side:
            scale = decode_side / max(im.size)
            im.draft(im.mode, (math.ceil(im.width * scale), math.ceil(im.height * scale)))
        im.load()  # LOAD_TRUNCATED_IMAGES stays False: a short file is an error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooManyPixels("The image has too many pixels.") from exc
    except Exception as exc:  # untrusted bytes: every decoder failure is the file's fault
        raise ImageCorrupt("The image data is damaged or incomplete.") from exc
    return im


def _to_rgb(im: Image.Image) -> Image.Image:
    """Convert any mode to 8-bit RGB: high bit depths rescaled, alpha flattened on white."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        im = _to_8bit_gray(im)
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if im.mode in ("RGB", "CMYK") and im.info.get("icc_profile"):
        converted = _icc_to_srgb(im)
        if converted is not None:
            return converted
    return im if im.mode == "RGB" else im.convert("RGB")


def _to_8bit_gray(im: Image.Image) -> Image.Image:
    """Map 16/32-bit integer or float grey to L (or LA for a tRNS colour key), without clipping.

    Pillow's own convert() clips 16-bit values above 255 to white; we rescale instead.
    """
    key = im.info.get("transparency")
    if im.mode != "F":
        im = im.convert("I")
    low, high = im.getextrema()
    if im.mode == "I" and low >= 0 and high <= 255:
        scale, offset = 1.0, 0.0
    elif im.mode == "I" and low >= 0 and high <= 65535:
        scale, offset = 255 / 65535, 0.0
    elif im.mode == "F" and low >= 0.0 and high <= 1.0:
        scale, offset = 255.0, 0.0
    else:  # unknown range: stretch what is there
        scale = 255 / (high - low) if high > low else 0.0
        offset = -low * scale
    gray = im.point(lambda v: v * scale + offset).convert("L")
    gray.info.clear()  # the 16-bit key must not be reinterpreted as an 8-bit one
    if isinstance(key, int) and im.mode == "I":
        alpha = ImageMath.lambda_eval(lambda a: (a["im"] != key) * 255, im=im)
        return Image.merge("LA", (gray, alpha.convert("L")))
    return gray


def _icc_to_srgb(im: Image.Image) -> Image.Image | None:
    """Convert colours from the embedded ICC profile to sRGB; None when the profile is unusable."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        return ImageCms.profileToProfile(im, profile, _SRGB, outputMode="RGB")
    except Exception:  # malformed or mismatched profile: fall back to the naive conversion
        return None


def _encode(image: Image.Image, pil_format: str, **params: object) -> bytes:
    """Save with explicit parameters only; no exif/icc/xmp/text is ever passed.

    Some encoders copy ``image.info`` (JPEG comments, PNG ICC), so a non-empty one is dropped
    on a copy; :func:`clean_image` clears it beforehand, avoiding the copy.
    """
    if image.info:
        image = image.copy()
        image.info.clear()
    buf = io.BytesIO()
    image.save(buf, pil_format, **params)
    return buf.getvalue()
