"""One domain error base class, rendered as RFC 9457 problem+json by one handler.

Services raise these; they never import FastAPI. Each subclass fixes a stable ``code`` (part of
the API contract), an HTTP status and a ``default_hint``; an instance may give its own ``hint``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error the API answers on purpose."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    default_hint: ClassVar[str] = "Something went wrong on our side; please try again later."

    def __init__(
        self,
        detail: str | None = None,
        *,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.hint = hint or self.default_hint
        self.headers = headers or {}
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://alphamale.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "hint": self.hint,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class HttpProblem(AppError):
    """An error raised by the framework itself: unknown route, wrong method, unreadable form."""

    CODES: ClassVar[dict[int, str]] = {
        400: "invalid_request",
        404: "not_found",
        405: "method_not_allowed",
        413: "image_too_large",
    }
    default_hint = "See /docs for the API."

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail, headers=headers)
        self.status = status  # type: ignore[misc]
        self.code = self.CODES.get(status, "http_error")  # type: ignore[misc]
        self.title = detail  # type: ignore[misc]


# Input (4xx)
class UnsupportedMediaType(AppError):
    code = "unsupported_media_type"
    status = 415
    title = "Unsupported image format"
    default_hint = "Send a JPEG, PNG, WebP or HEIC photo (an iPhone's own format is fine)."


def _decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def format_bytes(count: int) -> str:
    """``10485760`` -> ``"10 MB"`` (binary multiples, as the limits are written)."""
    if count >= 1024 * 1024:
        return f"{_decimal(count / (1024 * 1024))} MB"
    if count >= 1024:
        return f"{_decimal(count / 1024)} KB"
    return f"{count} bytes"


def format_pixels(count: int) -> str:
    """``40000000`` -> ``"40 MP"``."""
    return f"{_decimal(count / 1_000_000)} MP" if count >= 1_000_000 else f"{count} pixels"


class ImageTooLarge(AppError):
    """With ``max_bytes`` (the configured limit, also sent in the body) the hint names it."""

    code = "image_too_large"
    status = 413
    title = "Image too large"
    default_hint = "Send a smaller photo."

    def __init__(
        self, detail: str | None = None, *, max_bytes: int | None = None, **kwargs: Any
    ) -> None:
        if max_bytes is not None:
            kwargs["max_bytes"] = max_bytes
            kwargs.setdefault("hint", f"Send a photo of at most {format_bytes(max_bytes)}.")
        super().__init__(detail, **kwargs)


class ImageTooManyPixels(AppError):
    """With ``max_pixels`` (and ``max_side``), the configured limits, the hint names them."""

    code = "image_too_many_pixels"
    status = 413
    title = "Image has too many pixels"
    default_hint = "Send a photo with fewer pixels."

    def __init__(
        self,
        detail: str | None = None,
        *,
        max_pixels: int | None = None,
        max_side: int | None = None,
        **kwargs: Any,
    ) -> None:
        if max_pixels is not None:
            kwargs["max_pixels"] = max_pixels
            hint = f"Send a photo of at most {format_pixels(max_pixels)}"
            if max_side is not None:
                hint += f" and {max_side} px on its longer side"
            kwargs.setdefault("hint", hint + ".")
        if max_side is not None:
            kwargs["max_side"] = max_side
        super().__init__(detail, **kwargs)


class ImageTooSmall(AppError):
    code = "image_too_small"
    status = 422
    title = "Image too small"
    default_hint = (
        "Send a larger photo (not a thumbnail) in which one face fills much of the frame."
    )


class ImageUnprocessable(AppError):
    code = "image_unprocessable"
    status = 422
    title = "Image cannot be analysed"
    default_hint = (
        "The model server could not analyse this image; retrying will not help. Try another photo."
    )


class ImageCorrupt(AppError):
    code = "image_corrupt"
    status = 400
    title = "Image cannot be read"
    default_hint = "The file is damaged or not a complete image."


class InvalidMbti(AppError):
    code = "invalid_mbti"
    status = 422
    title = "Invalid MBTI"
    default_hint = "Use one of the 16 four-letter codes, such as INTJ."


class InvalidBirthDate(AppError):
    code = "invalid_birth_date"
    status = 422
    title = "Invalid birth date"
    default_hint = "Give a real past date (YYYY-MM-DD); age must be between 14 and 120."


class InvalidNickname(AppError):
    code = "invalid_nickname"
    status = 422
    title = "Invalid nickname"
    default_hint = (
        "Use 1 to 20 characters, at least one of them visible, and no control characters."
    )


class InvalidRequest(AppError):
    code = "invalid_request"
    status = 422
    title = "Invalid request"
    default_hint = "Check the request against the API docs at /docs."


class ConsentRequired(AppError):
    code = "consent_required"
    status = 422
    title = "Consent required"
    default_hint = (
        "Read GET /v1/consent and send its `version` as `consent` (a form field or a JSON key) "
        "to agree; without it no photo is analysed or kept."
    )


class TokenInUrl(AppError):
    code = "token_in_url"
    status = 400
    title = "Token in the URL"
    default_hint = (
        "Send the delete token in the X-Delete-Token header: URLs end up in logs, histories "
        "and referrers."
    )


# Analysis outcomes (422)
class NoFace(AppError):
    code = "no_face"
    status = 422
    title = "No face found"
    default_hint = "Choose a photo framed like the example: one face, front on."


class FaceTooSmall(AppError):
    code = "face_too_small"
    status = 422
    title = "Face too small"
    default_hint = (
        "Use a photo in which the face fills much of the frame: take one closer, or pick the "
        "original rather than a thumbnail."
    )


class DifferentPeople(AppError):
    code = "different_people"
    status = 422
    title = "Different people"
    default_hint = "Send selfies of one person only: the photo named here shows someone else."


class RegionsIncomplete(AppError):
    code = "regions_incomplete"
    status = 422
    title = "Face regions not found"
    default_hint = (
        "Use a clear, front-on photo with the whole face visible (no hands, hair or masks over it)."
    )


# Resources and auth
class NotFound(AppError):
    code = "not_found"
    status = 404
    title = "Not found"
    default_hint = "Check the id; results may have expired."


class Unauthorized(AppError):
    code = "unauthorized"
    status = 401
    title = "Unauthorized"
    default_hint = "Send the right bearer token."


class Forbidden(AppError):
    code = "forbidden"
    status = 403
    title = "Wrong delete token"
    default_hint = "Send the delete_token the result was created with (only its owner has it)."


class IdempotencyConflict(AppError):
    code = "idempotency_conflict"
    status = 409
    title = "Idempotency key reused"
    default_hint = "This Idempotency-Key was used for a different request; use a new key."


class Conflict(AppError):
    code = "conflict"
    status = 409
    title = "Conflict"
    default_hint = "The resource is in a state that forbids this."


# Groups
class GroupFull(AppError):
    code = "group_full"
    status = 409
    title = "Group full"
    default_hint = "This group has as many members as a group can have; start a group of your own."


class GroupClosed(AppError):
    code = "group_closed"
    status = 410
    title = "Group closed"
    default_hint = (
        "Its owner closed this group: it takes no new members. Start a group of your own."
    )


# Dependencies (503)
class ModelUnavailable(AppError):
    code = "model_unavailable"
    status = 503
    title = "Model server unavailable"
    default_hint = "Try again in a few seconds."


class Overloaded(AppError):
    code = "overloaded"
    status = 503
    title = "Busy"
    default_hint = "Many people are analysing right now; try again after Retry-After seconds."


class RateLimited(AppError):
    code = "rate_limited"
    status = 429
    title = "Too many analyses"
    default_hint = (
        "You have sent many analyses in a short time; try again after Retry-After seconds."
    )


class StorageUnavailable(AppError):
    code = "storage_unavailable"
    status = 503
    title = "Storage unavailable"
    default_hint = "Try again in a few seconds."


class DatabaseUnavailable(AppError):
    code = "database_unavailable"
    status = 503
    title = "Database unavailable"
    default_hint = "Try again in a few seconds."
