"""Rules for the person's answers: MBTI code and birth date (spec 2.1), a group nickname
(spec 8); and the one way a request that fails its schema is told (``422 invalid_request``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from gateway.errors import InvalidBirthDate, InvalidMbti, InvalidNickname, InvalidRequest

# The request schemas state these patterns; the checks below enforce exactly them.
MBTI_PATTERN = "^[EIei][SNsn][TFtf][JPjp]$"  # the 16 types, any case
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # YYYY-MM-DD only (fromisoformat takes more)
MIN_AGE, MAX_AGE = 14, 120
# A nickname: 1 to 20 characters, none of them a control, format (zero-width, bidi) or line
# separator character, at least one of them visible (not only spaces or Hangul fillers). The
# escapes read the same in Python's and ECMA-262's regular expressions.
NICKNAME_MAX = 20
INVISIBLE = (
    r"\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    r"\u2060-\u206f\ufeff\ufff9-\ufffb"
)
BLANK = r" \u00a0\u115f\u1160\u1680\u2000-\u200a\u202f\u205f\u3000\u3164\uffa0"
NICKNAME_PATTERN = f"^[^{INVISIBLE}]*[^{INVISIBLE}{BLANK}][^{INVISIBLE}]*$"


def normalise_mbti(value: object) -> str:
    """One of the 16 codes, upper-cased; anything else is ``invalid_mbti``."""
    if not isinstance(value, str) or not re.fullmatch(MBTI_PATTERN, value):
        raise InvalidMbti(f"{str(value)[:20]!r} is not one of the 16 MBTI codes.")
    return value.upper()


def normalise_nickname(value: object) -> str:
    """The nickname as given, less surrounding spaces; refused (``invalid_nickname``) unless
    it is 1-20 characters of :data:`NICKNAME_PATTERN` (and no lone surrogate)."""
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= NICKNAME_MAX
        or not re.fullmatch(NICKNAME_PATTERN, value)
        or any(unicodedata.category(character) == "Cs" for character in value)
    ):
        raise InvalidNickname(f"{str(value)[:NICKNAME_MAX]!r} is not a nickname.")
    return value.strip()


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
