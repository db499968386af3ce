"""One domain error base class, rendered as RFC 9457 problem+json by one handler.

Services raise these; they never import FastAPI. Each subclass fixes a stable ``code`` (part of
the API contract), an HTTP status and a human ``hint``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error the API answers on purpose."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    hint: ClassVar[str] = "Something went wrong on our side; please try again later."

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
        self.instance_hint = hint or self.hint
        self.headers = headers or {}
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://alphamale.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "hint": self.instance_hint,
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
    hint = "See /docs for the API."

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail, headers=headers)
        self.status = status  # type: ignore[misc]
        self.code = self.CODES.get(status, "http_error")  # type: ignore[misc]
        self.title = detail  # type: ignore[misc]


def _error(code: str, status: int, title: str, hint: str) -> type[AppError]:
    return type(  # a small factory keeps the catalogue below one line per error
        "".join(part.title() for part in code.split("_")),
        (AppError,),
        {"code": code, "status": status, "title": title, "hint": hint},
    )


# Input (4xx)
UnsupportedMediaType = _error(
    "unsupported_media_type", 415, "Unsupported image format", "Send a JPEG, PNG or WebP photo."
)
ImageTooLarge = _error("image_too_large", 413, "Image too large", "Send a photo of at most 10 MB.")
ImageTooManyPixels = _error(
    "image_too_many_pixels", 413, "Image has too many pixels", "Send a photo of at most 40 MP."
)
ImageTooSmall = _error(
    "image_too_small",
    422,
    "Image too small",
    "Send a larger photo (not a thumbnail) in which one face fills much of the frame.",
)
ImageUnprocessable = _error(
    "image_unprocessable",
    422,
    "Image cannot be analysed",
    "The model server could not analyse this image; retrying will not help. Try another photo.",
)
ImageCorrupt = _error(
    "image_corrupt", 400, "Image cannot be read", "The file is damaged or not a complete image."
)
InvalidMbti = _error(
    "invalid_mbti", 422, "Invalid MBTI", "Use one of the 16 four-letter codes, such as INTJ."
)
InvalidBirthDate = _error(
    "invalid_birth_date",
    422,
    "Invalid birth date",
    "Give a real past date (YYYY-MM-DD); age must be between 14 and 120.",
)
InvalidRequest = _error(
    "invalid_request", 422, "Invalid request", "Check the request against the API docs at /docs."
)
# Analysis outcomes (422)
NoFace = _error(
    "no_face", 422, "No face found", "Choose a photo framed like the example: one face, front on."
)
FaceTooSmall = _error(
    "face_too_small",
    422,
    "Face too small",
    "Use a photo in which the face fills much of the frame: take one closer, or pick the "
    "original rather than a thumbnail.",
)
RegionsIncomplete = _error(
    "regions_incomplete",
    422,
    "Face regions not found",
    "Use a clear, front-on photo with the whole face visible (no hands, hair or masks over it).",
)
# Resources and auth
NotFound = _error("not_found", 404, "Not found", "Check the id; results may have expired.")
Unauthorized = _error("unauthorized", 401, "Unauthorized", "Send the right bearer token.")
Forbidden = _error("forbidden", 403, "Forbidden", "This token does not allow that action.")
IdempotencyConflict = _error(
    "idempotency_conflict",
    409,
    "Idempotency key reused",
    "This Idempotency-Key was used for a different request; use a new key.",
)
Conflict = _error("conflict", 409, "Conflict", "The resource is in a state that forbids this.")
# Dependencies (503)
ModelUnavailable = _error(
    "model_unavailable", 503, "Model server unavailable", "Try again in a few seconds."
)
StorageUnavailable = _error(
    "storage_unavailable", 503, "Storage unavailable", "Try again in a few seconds."
)
DatabaseUnavailable = _error(
    "database_unavailable", 503, "Database unavailable", "Try again in a few seconds."
)
