"""Rules for the person's answers: MBTI code and birth date (spec 2.1)."""

from __future__ import annotations

from datetime import date

from gateway.errors import InvalidBirthDate, InvalidMbti

MBTI_CODES = frozenset(
    a + b + c + d for a in "EI" for b in "SN" for c in "TF" for d in "JP"
)  # the 16 types
MIN_AGE, MAX_AGE = 14, 120


def normalise_mbti(value: object) -> str:
    """One of the 16 codes, upper-cased; anything else is ``invalid_mbti``."""
    code = str(value or "").strip().upper()
    if code not in MBTI_CODES:
        raise InvalidMbti(f"{str(value)[:20]!r} is not one of the 16 MBTI codes.")
    return code


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def parse_birth_date(value: object, today: date | None = None) -> date:
    """A real past date (YYYY-MM-DD) giving an age of 14 to 120."""
    today = today or date.today()
    if isinstance(value, date):
        birth = value
    else:
        try:
            birth = date.fromisoformat(str(value or "").strip())
        except ValueError as exc:
            raise InvalidBirthDate(f"{str(value)[:20]!r} is not a date (YYYY-MM-DD).") from exc
    if birth >= today:
        raise InvalidBirthDate("The birth date must be in the past.")
    if not MIN_AGE <= age_on(birth, today) <= MAX_AGE:
        raise InvalidBirthDate(f"Age must be between {MIN_AGE} and {MAX_AGE}.")
    return birth
