"""Rules for the person's answers: MBTI code and birth date (spec 2.1); and the one way a
request that fails its schema is told (``422 invalid_request``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from gateway.errors import InvalidBirthDate, InvalidMbti, InvalidRequest

# The request schemas state these patterns; the checks below enforce exactly them.
MBTI_PATTERN = "^[EIei][SNsn][TFtf][JPjp]$"  # the 16 types, any case
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # YYYY-MM-DD only (fromisoformat takes more)
MIN_AGE, MAX_AGE = 14, 120


def normalise_mbti(value: object) -> str:
    """One of the 16 codes, upper-cased; anything else is ``invalid_mbti``."""
    if not isinstance(value, str) or not re.fullmatch(MBTI_PATTERN, value):
        raise InvalidMbti(f"{str(value)[:20]!r} is not one of the 16 MBTI codes.")
    return value.upper()


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def parse_birth_date(value: object, today: date | None = None) -> date:
    """A real past date (YYYY-MM-DD) giving an age of 14 to 120."""
    today = today or date.today()
    if isinstance(value, date):
        birth = value
    else:
        text = str(value or "")
        try:
            if not re.fullmatch(DATE_PATTERN, text):
                raise ValueError(text)
            birth = date.fromisoformat(text)
        except ValueError as exc:
            raise InvalidBirthDate(f"{text[:20]!r} is not a date (YYYY-MM-DD).") from exc
    if birth >= today:
        raise InvalidBirthDate("The birth date must be in the past.")
    if not MIN_AGE <= age_on(birth, today) <= MAX_AGE:
        raise InvalidBirthDate(f"Age must be between {MIN_AGE} and {MAX_AGE}.")
    return birth


def invalid_request(
    errors: Sequence[Mapping[str, Any]], *, located: bool = False
) -> InvalidRequest:
    """One ``InvalidRequest`` for a schema's errors (pydantic's ``errors()``): the first in the
    detail, every one under ``errors`` as ``{"field", "message"}``.

    ``located``: FastAPI's errors, whose ``loc`` starts with where the value was (body, query,
    header, path), which the field name leaves out.
    """
    listed = [
        {
            "field": ".".join(str(p) for p in error.get("loc", ())[int(located) :]) or "body",
            "message": str(error.get("msg", "invalid")),
        }
        for error in errors
    ]
    if not listed:
        return InvalidRequest()
    return InvalidRequest(f"{listed[0]['field']}: {listed[0]['message']}", errors=listed)
