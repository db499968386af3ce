"""Unit tests for gateway.imaging against the generated corpus in tests.corpus."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import re
import warnings
from collections.abc import Iterator

import pytest
from PIL import Image, ImageFile

from gateway import imaging
from gateway.errors import AppError, ImageTooLarge
from gateway.imaging import (
    BASE64_PATTERN,
    CleanImage,
    ImageLimits,
    clean_image,
    decode_base64_image,
    encode_jpeg,
    sniff,
)
from tests.corpus import (
    BLUE,
    RED,
    BadBase64,
    BadInput,
    GoodInput,
    bad_base64,
    bad_images,
    good_images,
)

BAD = bad_images()
GOOD = good_images()
BAD_BY_NAME = {case.name: case for case in BAD}
GOOD_BY_NAME = {case.name: case for case in GOOD}
STATUS = {
    "unsupported_media_type": 415,
    "image_too_large": 413,
    "image_too_many_pixels": 413,
    "image_corrupt": 400,
    "invalid_request": 422,
}
FORMAT = {
    "image/jpeg": ("JPEG", "jpg"),
    "image/png": ("PNG", "png"),
    "image/webp": ("WEBP", "webp"),
}
# Metadata markers that must never survive re-encoding, whatever the input carried.
METADATA_MARKERS = (
    b"Exif",  # JPEG APP1 / generic
    b"EXIF",  # WebP chunk
    b"eXIf",  # PNG chunk
    b"GPS",
    b"http://ns.adobe.com/xap/1.0/",  # JPEG XMP APP1
    b"XMP ",  # WebP chunk
    b"xmpmeta",
    b"tEXt",
    b"zTXt",
    b"iTXt",
    b"iCCP",
    b"ICC_PROFILE",
    b"ICCP",
)
no_bomb_warning = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def ids(cases: list[BadInput] | list[GoodInput]) -> list[str]:
    return [case.name for case in cases]


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (
        f"{actual} != {expected} ± {tolerance}"
    )


@pytest.fixture
def decode_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record every pixel decode (ImageFile.load) without preventing it."""
    calls: list[str] = []
    original = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        calls.append(str(self.format))
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    yield calls


# --- the corpus itself ----------------------------------------------------------------------


def test_corpus_is_large_unique_and_covers_the_brief() -> None:
    assert len(BAD) >= 22 and len(GOOD) >= 9
    assert len(BAD_BY_NAME) == len(BAD) and len(GOOD_BY_NAME) == len(GOOD)
    assert {case.code for case in BAD} == set(STATUS) - {"invalid_request"}
    required_bad = {
        "zero_bytes", "one_byte", "random_bytes", "plain_text", "html", "svg", "pdf", "gif",
        "gif_animated", "bmp", "tiff", "heic_header_only", "jpeg_truncated_in_scan",
        "png_truncated", "jpeg_header_then_garbage", "png_bad_idat_crc", "png_idat_garbage",
        "png_bomb_50000x50000", "png_side_12001", "jpeg_over_10mb", "png_animated_apng",
        "webp_animated", "polyglot_html_with_jpeg", "polyglot_pdf_wrapping_jpeg",
    }  # fmt: skip
    assert required_bad <= set(BAD_BY_NAME)
    required_good = {
        "jpeg_cmyk", "png_16bit_gray", "png_palette_transparency", "png_rgba", "jpeg_grayscale",
        "webp_lossy_exif_gps_xmp", "jpeg_exif_orientation_6_gps_xmp", "jpeg_progressive",
        "tiny_jpeg_64x64", "heic_64x64",
    }  # fmt: skip
    assert required_good <= set(GOOD_BY_NAME)
    assert len(BAD_BY_NAME["png_bomb_50000x50000"].data) < 1024  # a bomb, not a big file


def test_corpus_inputs_really_are_what_they_claim() -> None:
    """Guard against a generator silently producing something else."""
    with Image.open(io.BytesIO(GOOD_BY_NAME["jpeg_cmyk"].data)) as im:
        assert im.mode == "CMYK"
    with Image.open(io.BytesIO(GOOD_BY_NAME["png_16bit_gray"].data)) as im:
        assert im.mode.startswith("I")
    with Image.open(io.BytesIO(GOOD_BY_NAME["png_palette_transparency"].data)) as im:
        assert im.mode == "P" and "transparency" in im.info
    with Image.open(io.BytesIO(GOOD_BY_NAME["jpeg_exif_orientation_6_gps_xmp"].data)) as im:
        exif = im.getexif()
        assert exif[0x0112] == 6 and exif.get_ifd(0x8825) and im.size == (80, 40)
    with Image.open(io.BytesIO(GOOD_BY_NAME["jpeg_progressive"].data)) as im:
        assert im.info.get("progressive")
    for name in ("gif_animated", "png_animated_apng", "webp_animated"):
        with Image.open(io.BytesIO(BAD_BY_NAME[name].data)) as im:
            assert im.n_frames > 1
    assert len(BAD_BY_NAME["jpeg_over_10mb"].data) == ImageLimits().max_bytes + 1


# --- bad inputs -----------------------------------------------------------------------------


@no_bomb_warning
@pytest.mark.parametrize("case", BAD, ids=ids(BAD))
def test_bad_image_is_rejected_with_its_code(case: BadInput) -> None:
    with pytest.raises(AppError) as caught:
        clean_image(case.data)
    error = caught.value
    assert error.code == case.code, error.detail
    assert error.status == STATUS[case.code]
    body = error.problem()
    assert body["code"] == case.code and body["status"] == STATUS[case.code]
    if case.name in ("png_animated_apng", "webp_animated"):  # an accepted format, animated
        assert "animated" in error.detail.lower()


@no_bomb_warning
@pytest.mark.parametrize(
    "case",
    [c for c in BAD if c.code in ("image_too_many_pixels", "image_too_large")]
    + [BAD_BY_NAME["png_animated_apng"], BAD_BY_NAME["webp_animated"]],
    ids=lambda case: case.name,
)
def test_size_pixel_and_animation_checks_happen_before_decoding(
    case: BadInput, decode_calls: list[str]
) -> None:
    with pytest.raises(AppError) as caught:
        clean_image(case.data)
    assert caught.value.code == case.code
    assert decode_calls == []


def test_too_large_is_rejected_before_even_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("Image.open must not be reached")

    monkeypatch.setattr(Image, "open", no_open)
    with pytest.raises(AppError) as caught:
        clean_image(BAD_BY_NAME["jpeg_over_10mb"].data)
    assert caught.value.code == "image_too_large"


@pytest.mark.parametrize("global_limit", [None, 10**12])
def test_bombs_do_not_rely_on_pillows_global_limit(
    monkeypatch: pytest.MonkeyPatch, decode_calls: list[str], global_limit: int | None
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", global_limit)
    for name in ("png_bomb_50000x50000", "jpeg_bomb_sof_65000x65000", "png_48_megapixels"):
        with pytest.raises(AppError) as caught:
            clean_image(BAD_BY_NAME[name].data)
        assert caught.value.code == "image_too_many_pixels", name
    assert decode_calls == []


def test_bomb_warning_escalated_to_error_is_still_a_413() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(AppError) as caught:
            clean_image(BAD_BY_NAME["png_bomb_10000x10000"].data)
    assert caught.value.code == "image_too_many_pixels"


def test_truncated_images_are_not_tolerated_globally() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(AppError) as caught:
        clean_image(BAD_BY_NAME["jpeg_truncated_in_scan"].data)
    assert caught.value.code == "image_corrupt"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_too_many_pixels_reports_the_limits() -> None:
    with pytest.raises(AppError) as caught:
        clean_image(BAD_BY_NAME["png_48_megapixels"].data)
    body = caught.value.problem()
    assert body["width"] == 8000 and body["height"] == 6000
    assert body["max_pixels"] == 40_000_000 and body["max_side"] == 12_000
    assert body["hint"] == "Send a photo of at most 40 MP and 12000 px on its longer side."


def test_hints_name_the_configured_limits() -> None:
    data = GOOD_BY_NAME["tiny_jpeg_64x64"].data
    with pytest.raises(AppError) as caught:
        clean_image(data, ImageLimits(max_bytes=len(data) - 1))
    assert caught.value.code == "image_too_large"
    assert caught.value.problem()["max_bytes"] == len(data) - 1
    with pytest.raises(AppError) as caught:
        clean_image(data, ImageLimits(max_pixels=64 * 64 - 1, max_side=500))
    assert caught.value.hint == (
        "Send a photo of at most 4095 pixels and 500 px on its longer side."
    )
    with pytest.raises(AppError) as caught:
        decode_base64_image(base64.b64encode(bytes(30)).decode(), max_bytes=20)
    assert caught.value.hint == "Send a photo of at most 20 bytes."
    assert ImageTooLarge(max_bytes=5 * 1024 * 1024 // 2).hint == ("Send a photo of at most 2.5 MB.")
    assert ImageTooLarge(max_bytes=10 * 1024 * 1024).hint == ("Send a photo of at most 10 MB.")
    assert ImageTooLarge(max_bytes=1536).hint == "Send a photo of at most 1.5 KB."
    assert "at most" not in ImageTooLarge().hint  # no limit known: no number


# --- good inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", GOOD, ids=ids(GOOD))
def test_good_image_is_accepted_clean_and_upright(case: GoodInput) -> None:
    clean = clean_image(case.data)
    pil_format, extension = FORMAT[case.content_type]

    assert isinstance(clean, CleanImage)
    assert clean.content_type == case.content_type and clean.extension == extension
    assert clean.image.mode == "RGB"
    assert clean.image.size == (clean.width, clean.height) == case.size
    assert clean.sha256 == hashlib.sha256(clean.data).hexdigest()
    for probe in case.probes:
        assert_close(clean.image.getpixel((probe.x, probe.y)), probe.rgb, case.tolerance)

    for marker in METADATA_MARKERS + case.forbidden:
        assert marker not in clean.data, marker

    with Image.open(io.BytesIO(clean.data)) as reopened:
        assert reopened.format == pil_format
        assert reopened.mode == "RGB" and reopened.size == case.size
        assert not reopened.getexif()
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"):
            assert key not in reopened.info, key
        assert not getattr(reopened, "text", {})
        assert getattr(reopened, "n_frames", 1) == 1
        if pil_format == "PNG":  # lossless: the bytes are exactly the returned image
            assert reopened.tobytes() == clean.image.tobytes()
        else:
            for probe in case.probes:
                assert_close(reopened.getpixel((probe.x, probe.y)), probe.rgb, case.tolerance + 8)

    again = clean_image(clean.data)  # the output is itself a valid upload
    assert (again.width, again.height, again.content_type) == (*case.size, case.content_type)


def test_exif_orientation_6_swaps_dimensions_and_moves_the_marker() -> None:
    clean = clean_image(GOOD_BY_NAME["jpeg_exif_orientation_6_gps_xmp"].data)
    assert (clean.width, clean.height) == (40, 80)  # stored 80x40
    red = [(x, y) for x in range(0, 40, 4) for y in range(0, 80, 4) if _is_red(clean, x, y)]
    assert red and all(x >= 20 and y < 20 for x, y in red)  # top-left went to top-right


def test_output_keeps_format_family_and_quality() -> None:
    jpeg = clean_image(GOOD_BY_NAME["tiny_jpeg_64x64"].data)
    with Image.open(io.BytesIO(jpeg.data)) as im:
        assert im.format == "JPEG" and not im.info.get("progressive")
    assert clean_image(GOOD_BY_NAME["png_rgba"].data).data.startswith(b"\x89PNG")
    assert clean_image(GOOD_BY_NAME["webp_lossy_exif_gps_xmp"].data).data[8:12] == b"WEBP"


def test_clean_image_is_frozen() -> None:
    clean = clean_image(GOOD_BY_NAME["tiny_jpeg_64x64"].data)
    with pytest.raises(dataclasses.FrozenInstanceError):
        clean.sha256 = "x"  # type: ignore[misc]


def test_limits_are_configurable_and_inclusive() -> None:
    data = GOOD_BY_NAME["tiny_jpeg_64x64"].data  # 64x64
    assert clean_image(data, ImageLimits(max_bytes=len(data), max_pixels=64 * 64, max_side=64))
    cases = {
        "image_too_large": ImageLimits(max_bytes=len(data) - 1),
        "image_too_many_pixels": ImageLimits(max_pixels=64 * 64 - 1),
    }
    cases_side = ImageLimits(max_side=63)
    for code, limits in cases.items():
        with pytest.raises(AppError) as caught:
            clean_image(data, limits)
        assert caught.value.code == code
    with pytest.raises(AppError) as caught:
        clean_image(data, cases_side)
    assert caught.value.code == "image_too_many_pixels"


# --- sniff ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", GOOD, ids=ids(GOOD))
def test_sniff_reads_magic_bytes(case: GoodInput) -> None:
    stored_as = FORMAT[case.content_type][1].replace("jpg", "jpeg")
    assert sniff(case.data) == ("heif" if case.name.startswith("heic") else stored_as)


def test_sniff_ignores_declared_type_and_name() -> None:
    case = GOOD_BY_NAME["jpeg_declared_as_png"]
    assert case.declared_type == "image/png" and case.filename.endswith(".png")
    assert sniff(case.data) == "jpeg"
    assert clean_image(case.data).content_type == "image/jpeg"


@pytest.mark.parametrize(
    "case", [c for c in BAD if c.code == "unsupported_media_type" and "animated" not in c.name],
    ids=lambda case: case.name,
)  # fmt: skip
def test_sniff_refuses_other_formats(case: BadInput) -> None:
    with pytest.raises(AppError) as caught:
        sniff(case.data)
    assert caught.value.code == "unsupported_media_type"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff", "jpeg"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"RIFF\x00\x00\x00\x00WEBP", "webp"),
        (b"RIFF\x00\x00\x00\x00WEB", None),
        (b"\xff\xd8", None),
        (b"\x89PNG\r\n", None),
        (b" \xff\xd8\xff", None),
    ],
)
def test_sniff_edges(data: bytes, expected: str | None) -> None:
    if expected:
        assert sniff(data) == expected
    else:
        with pytest.raises(AppError):
            sniff(data)


# --- encode_jpeg ----------------------------------------------------------------------------


def test_encode_jpeg_converts_and_strips() -> None:
    rgba = Image.new("RGBA", (32, 32), (*RED, 255))
    rgba.info["exif"] = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"
    rgba.info["comment"] = b"secret"
    data = encode_jpeg(rgba)
    assert rgba.info["comment"] == b"secret"  # the caller's image is left alone
    assert data.startswith(b"\xff\xd8\xff") and b"Exif" not in data and b"secret" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "RGB" and im.size == (32, 32)
        assert_close(im.getpixel((16, 16)), RED, 8)
    noisy = Image.effect_noise((64, 64), 64).convert("RGB")
    assert len(encode_jpeg(noisy, quality=30)) < len(encode_jpeg(noisy, quality=95))


# --- base64 ---------------------------------------------------------------------------------

PAYLOAD = GOOD_BY_NAME["tiny_jpeg_64x64"].data
B64 = base64.b64encode(PAYLOAD).decode()


@pytest.mark.parametrize(
    "value",
    [
        B64,
        f"data:image/jpeg;base64,{B64}",
        f"DATA:IMAGE/JPEG;BASE64,{B64}",
        f"data:image/png;base64,{B64}",  # declared type is ignored; bytes are sniffed later
        f"data:;base64,{B64}",
        f"  \n{B64}\n  ",
        "\r\n".join(B64[i : i + 76] for i in range(0, len(B64), 76)),
        " ".join(B64[i : i + 4] for i in range(0, len(B64), 4)),
        B64.rstrip("="),
    ],
    ids=["plain", "data_url", "data_url_upper", "data_url_wrong_type", "data_url_no_type",
         "surrounding_space", "mime_wrapped", "spaced", "no_padding"],
)  # fmt: skip
def test_decode_base64_accepts(value: str) -> None:
    raw = decode_base64_image(value)
    assert raw == PAYLOAD
    assert sniff(raw) == "jpeg"


@pytest.mark.parametrize("length", range(1, 7))
def test_decode_base64_restores_any_missing_padding(length: int) -> None:
    raw = bytes(range(length))
    assert decode_base64_image(base64.b64encode(raw).decode().rstrip("=")) == raw


@pytest.mark.parametrize("case", bad_base64(), ids=lambda case: case.name)
def test_decode_base64_rejects(case: BadBase64) -> None:
    with pytest.raises(AppError) as caught:
        decode_base64_image(case.value)
    assert caught.value.code == case.code
    if case.detail is not None:
        assert caught.value.detail == case.detail


def test_decode_base64_size_limit_is_a_parameter_and_checked_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limit = 3000
    exact = base64.b64encode(bytes(limit)).decode()
    over = base64.b64encode(bytes(limit + 1)).decode()
    assert decode_base64_image(exact, max_bytes=limit) == bytes(limit)
    with pytest.raises(AppError) as caught:
        decode_base64_image(over, max_bytes=limit)
    assert caught.value.code == "image_too_large"
    assert decode_base64_image(over, max_bytes=limit + 1) == bytes(limit + 1)

    def no_decode(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("must not decode")

    monkeypatch.setattr(imaging.base64, "b64decode", no_decode)
    for value in (base64.b64encode(bytes(limit + 3)).decode(), "A" * 100_000):
        with pytest.raises(AppError) as caught:
            decode_base64_image(value, max_bytes=limit)
        assert caught.value.code == "image_too_large"


def test_decode_base64_then_clean_round_trip() -> None:
    clean = clean_image(decode_base64_image(f"data:image/jpeg;base64,{B64}"))
    assert (clean.width, clean.height) == (64, 64)
    assert_close(clean.image.getpixel((56, 32)), BLUE, 40)


def _is_red(clean: CleanImage, x: int, y: int) -> bool:
    r, g, b = clean.image.getpixel((x, y))
    return r > 180 and g < 80 and b < 80


# --- the lean path: bounded decode and storage ------------------------------------------------
def phone_photo(size: tuple[int, int] = (4032, 3024), orientation: int | None = None) -> bytes:
    """A 12 MP JPEG: red left half, blue right half (EXIF orientation when given)."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    return buffer.getvalue()


def test_a_phone_photo_is_decoded_at_half_scale_and_stored_bounded() -> None:
    clean = clean_image(phone_photo())
    assert (clean.width, clean.height) == (2016, 1512)  # DCT scale 1/2: >= 1600, <= 2048
    stored = Image.open(io.BytesIO(clean.data))
    assert stored.size == (2016, 1512) and clean.content_type == "image/jpeg"
    assert _is_red(clean, 100, 700) and not _is_red(clean, 1900, 700)


def test_a_photo_above_the_bound_after_decoding_is_scaled_to_it() -> None:
    limits = ImageLimits(decode_side=4000, store_side=1000)  # no DCT scaling at 4032 > 4000
    clean = clean_image(phone_photo(), limits)
    assert max(clean.width, clean.height) == 1000 and clean.width > clean.height


def test_bounded_decoding_keeps_the_exif_orientation() -> None:
    clean = clean_image(phone_photo(orientation=6))  # stored landscape, shown portrait
    assert (clean.width, clean.height) == (1512, 2016)
    assert _is_red(clean, 700, 100) and not _is_red(clean, 700, 1900)  # left became top


def iphone_heic(size: tuple[int, int] = (320, 240)) -> bytes:
    """An iPhone's portrait HEIC: its pixels landscape (red left half, blue right), turned by
    EXIF orientation 6, which pillow-heif writes as the HEIF rotation (``irot``) too."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", quality=90, exif=exif.tobytes())
    data = buffer.getvalue()
    assert b"irot" in data and b"Exif" in data
    return data


def test_a_heic_with_exif_orientation_6_is_stored_upright() -> None:
    """Turned once, not twice (HEIF rotation and EXIF both say so) nor left lying down."""
    clean = clean_image(iphone_heic())
    assert (clean.width, clean.height, clean.content_type) == (240, 320, "image/jpeg")
    stored = Image.open(io.BytesIO(clean.data))
    assert stored.size == (240, 320) and not stored.getexif()
    assert _is_red(clean, 120, 20) and not _is_red(clean, 120, 300)  # left became top
    r, g, b = stored.convert("RGB").getpixel((120, 20))
    assert r > 180 and g < 80 and b < 80  # the stored bytes, not only the decoded image


@pytest.mark.parametrize(
    "value",
    [
        B64,
        f"data:image/jpeg;base64,{B64}",
        f"DATA:IMAGE/JPEG;BASE64,{B64}",
        f"data:;base64,{B64}",
        f"  \n{B64}\n  ",
        "\r\n".join(B64[i : i + 76] for i in range(0, len(B64), 76)),
        " ".join(B64[i : i + 4] for i in range(0, len(B64), 4)),
        B64.rstrip("="),
        "AA",
        "AAA=",
    ],
)
def test_the_schemas_base64_pattern_takes_what_the_decoder_takes(value: str) -> None:
    assert re.fullmatch(BASE64_PATTERN, value)
    decode_base64_image(value)


@pytest.mark.parametrize(
    "case", [c for c in bad_base64() if c.name != "oversize"], ids=lambda case: case.name
)
def test_the_schemas_base64_pattern_refuses_what_the_decoder_refuses(case: BadBase64) -> None:
    assert not re.fullmatch(BASE64_PATTERN, case.value)
    for value in ("0", "A", "A===", "AAAAA"):  # schemathesis found "0" schema-valid before
        assert not re.fullmatch(BASE64_PATTERN, value)
        with pytest.raises(AppError):
            decode_base64_image(value)
