"""POST /api/RegisterResult: the seed's mobile client, its exact request and answer shapes."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.analyses.deps import AnalysisServiceDep
from gateway.analyses.schemas import LegacyRequest, LegacyResponse
from gateway.analyses.service import AnalysisRequest, legacy_answer
from gateway.deps import SettingsDep
from gateway.errors import FaceTooSmall, NoFace, RegionsIncomplete
from gateway.imaging import decode_base64_image
from gateway.openapi import problems

router = APIRouter(prefix="/api", tags=["legacy"])


@router.post(
    "/RegisterResult",
    response_model=LegacyResponse,
    responses=problems(400, 413, 415, 422, 429, 503),
    summary="Seed-compatible analysis (deprecated: use POST /v1/analyses)",
    deprecated=True,
)
async def register_result(
    body: LegacyRequest, service: AnalysisServiceDep, settings: SettingsDep
) -> LegacyResponse:
    """`human` is false with nulls when no face is found; other bad input is a 4xx problem."""
    user = body.first_user
    request = AnalysisRequest(
        images=(decode_base64_image(user.user_img, settings.max_upload_bytes),),  # one photo
        mbti=user.mbti,
        birth_date=user.age,
        consent=body.consent,
        client="legacy",
    )
    try:
        created = await service.analyse(request)
    except NoFace:
        return LegacyResponse(human=False)
    except (FaceTooSmall, RegionsIncomplete):  # a face, but no type (the seed's code 6)
        return LegacyResponse(human=True)
    return legacy_answer(created.answer)
