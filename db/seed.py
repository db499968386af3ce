"""The five appearance types, seeded idempotently (insert or update by slug)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.taxonomy import TYPES as TAXONOMY_TYPES
from core.taxonomy import type_name, type_rank
from db.models import FaceType


@dataclass(frozen=True)
class TypeSeed:
    slug: str
    description: str
    description_ko: str

    @property
    def name(self) -> str:
        return type_name(self.slug)

    @property
    def rank(self) -> int:
        return type_rank(self.slug)


# Our own descriptions (English, Korean), one per type of core.taxonomy, alpha first.
TYPES: tuple[TypeSeed, ...] = (
    TypeSeed(
        "alpha",
        "Striking, high-contrast features that draw the eye first: a defined face outline, a "
        "strong T-zone and a clean jaw line. People tend to remember this face after one "
        "look.",
        "첫눈에 시선을 사로잡는 선명한 인상. 또렷한 얼굴 윤곽, 균형 잡힌 T존, "
        "깔끔한 턱선이 어우러져 한 번 보면 쉽게 잊히지 않는 얼굴입니다.",
    ),
    TypeSeed(
        "beta",
        "Balanced, polished features with a friendly edge: well-proportioned and photogenic, "
        "the face that looks good in almost any light.",
        "균형 잡히고 세련된 이목구비에 친근함이 더해진 얼굴. 비율이 좋아 어떤 "
        "조명에서도 사진이 잘 나오는 타입입니다.",
    ),
    TypeSeed(
        "gamma",
        "Character over symmetry: expressive features with a personality of their own, the "
        "face that gets more interesting the longer you talk to it.",
        "대칭보다 개성이 돋보이는 얼굴. 표정이 풍부하고 자신만의 분위기가 있어 대화를 "
        "나눌수록 매력이 더해지는 타입입니다.",
    ),
    TypeSeed(
        "delta",
        "Warm, approachable and easy-going: soft lines and a relaxed look that make people "
        "feel at ease around you.",
        "따뜻하고 편안한 인상. 부드러운 선과 여유로운 분위기로 주변 사람들을 편하게 "
        "만들어 주는 타입입니다.",
    ),
    TypeSeed(
        "omega",
        "Unconventional and one of a kind: features that break the usual patterns, the face "
        "that stands out in a crowd for its own reasons.",
        "틀에 박히지 않은 유일무이한 얼굴. 흔한 공식을 벗어난 이목구비로 군중 속에서도 "
        "자기만의 이유로 눈에 띄는 타입입니다.",
    ),
)
assert tuple(seed.slug for seed in TYPES) == TAXONOMY_TYPES


async def seed_types(session: AsyncSession) -> int:
    """Insert missing types and refresh changed ones; returns how many rows changed."""
    existing = {t.slug: t for t in (await session.scalars(select(FaceType))).all()}
    changed = 0
    for seed in TYPES:
        row = existing.get(seed.slug)
        values = {
            "name": seed.name,
            "rank": seed.rank,
            "description": seed.description,
            "description_ko": seed.description_ko,
        }
        if row is None:
            session.add(FaceType(id=seed.rank, slug=seed.slug, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
    await session.commit()
    return changed
