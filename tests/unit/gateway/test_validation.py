"""The person's answers: MBTI codes and birth dates at the edges of the rules."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.errors import InvalidBirthDate, InvalidMbti
from gateway.validation import MAX_AGE, MIN_AGE, normalise_mbti, parse_birth_date

TODAY = date(2026, 11, 25)


def years_before(years: int, day: date = TODAY) -> date:
    return day.replace(year=day.year - years)


@pytest.mark.parametrize(
    "birth",
    [
        years_before(MIN_AGE),  # 14 today
        years_before(MAX_AGE),  # 120 today
        date(1905, 11, 26),  # 121 tomorrow
    ],
)
def test_ages_at_the_bounds_are_accepted(birth: date) -> None:
    assert parse_birth_date(birth.isoformat(), TODAY) == birth


@pytest.mark.parametrize(
    "birth",
    [
        date(2012, 11, 26),  # turns 14 tomorrow
        date(1905, 11, 25),  # 121 today
        TODAY,
    ],
)
def test_ages_past_the_bounds_are_refused(birth: date) -> None:
    with pytest.raises(InvalidBirthDate):
        parse_birth_date(birth.isoformat(), TODAY)


def test_a_leap_day_birthday_counts_from_march_first_in_other_years() -> None:
    assert parse_birth_date("2012-02-29", date(2026, 3, 1)) == date(2012, 2, 29)  # 14 today
    with pytest.raises(InvalidBirthDate):
        parse_birth_date("2012-02-29", date(2026, 2, 28))  # still 13


@pytest.mark.parametrize("value", ["intj", "Enfp", "ISTP"])
def test_mbti_codes_in_any_case(value: str) -> None:
    assert normalise_mbti(value) == value.upper()


@pytest.mark.parametrize("value", [" INTJ", "INTJ\n", "IXTJ", "", None, 1234])
def test_anything_else_is_not_an_mbti_code(value: object) -> None:
    with pytest.raises(InvalidMbti):
        normalise_mbti(value)
