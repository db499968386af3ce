"""How a type was reached, in numbers and in words (English and Korean)."""

from __future__ import annotations

from core.schemas import TypeAnswer
from core.taxonomy import PART_NAMES, PART_NAMES_KO, PARTS, TYPE_NAMES_KO, type_name
from gateway.analyses.schemas import Verdict


def _bound(answer: TypeAnswer) -> float:
    """The bound the score exceeded (the served type's, under the seed's vote)."""
    return next(bound for bound, _ in answer.bounds if answer.score > bound)


def verdict(answer: TypeAnswer) -> Verdict:
    """The answer's arithmetic: each region's type and points, the sum, the bound it passed."""
    terms = [(part, answer.regions[part]) for part in PARTS]
    sum_en = " + ".join(f"{PART_NAMES[p]} {type_name(r.type)} {r.points}" for p, r in terms)
    sum_ko = " + ".join(f"{PART_NAMES_KO[p]} {TYPE_NAMES_KO[r.type]} {r.points}" for p, r in terms)
    served_en, served_ko = type_name(answer.type), TYPE_NAMES_KO[answer.type]
    if answer.combination == "seed_vote":
        bound = f"{_bound(answer):g}"
        english = f"{sum_en} = {answer.score} > {bound}: {served_en}"
        korean = f"{sum_ko} = {answer.score}점 > {bound}점: {served_ko}"
    else:
        rule_en = "the face alone" if answer.combination == "face" else "the regions' average"
        rule_ko = "얼굴만으로" if answer.combination == "face" else "세 부위의 평균으로"
        english = (
            f"{served_en}, decided by {rule_en}; the points add up to {answer.score} ({sum_en})"
        )
        korean = f"{rule_ko} 정한 {served_ko}; 점수 합계 {answer.score}점 ({sum_ko})"
    return Verdict(
        combination=answer.combination,
        score=answer.score,
        points=answer.points,
        bounds=answer.bounds,
        explanation=english,
        explanation_ko=korean,
    )
