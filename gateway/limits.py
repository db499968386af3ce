"""Byte limits: the one size check, and the request body's limit derived from the image's.

One setting bounds what a client may send, ``max_upload_bytes`` (the image). Every check of a
size against it, or against the request body's limit derived from it, is :func:`check_size`:
the body's declared and streamed length (``gateway.main.BodyLimit``), a multipart upload
(:func:`read_upload`), a base64 image before it is decoded and raw image bytes
(:mod:`gateway.imaging`). Each refusal is ``413 image_too_large`` whose hint names the image
limit. No framework here: :mod:`gateway.imaging` uses it too.
"""

from __future__ import annotations

from typing import Protocol

from core.parameters import MAX_PHOTOS
from gateway.errors import ImageTooLarge

FORM_ALLOWANCE = 64 * 1024  # the request's other fields, multipart boundaries, JSON keys


class Upload(Protocol):
    """What :func:`read_upload` needs of a form's file (Starlette's ``UploadFile``)."""

    size: int | None

    async def read(self, size: int = -1) -> bytes: ...


def check_size(
    size: int | None, limit: int, *, subject: str = "The image", max_bytes: int | None = None
) -> None:
    """Raise ``ImageTooLarge`` when ``size`` (None: unknown, passes) exceeds ``limit`` bytes.

    ``max_bytes``: the image limit the hint names, when ``limit`` is another one derived from
    it (the request body's); by default ``limit`` itself.
    """
    if size is not None and size > limit:
        raise ImageTooLarge(
            f"{subject} is {size} bytes; at most {limit}.",
            max_bytes=limit if max_bytes is None else max_bytes,
        )


def base64_length(size: int) -> int:
    """Characters of ``size`` bytes in padded base64."""
    return 4 * -(-size // 3)


def request_body_limit(max_upload_bytes: int) -> int:
    """The most bytes a request body may have: the most photos an analysis takes, each the
    largest image base64-encoded (the JSON forms inflate it by 4/3), and room for the other
    fields."""
    return MAX_PHOTOS * base64_length(max_upload_bytes) + FORM_ALLOWANCE


async def read_upload(upload: Upload, max_bytes: int) -> bytes:
    """A form's file, refused by its size before it is read, and never read past the limit."""
    check_size(upload.size, max_bytes)
    return await upload.read(max_bytes + 1)
