"""POST/GET/DELETE /v1/analyses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import ValidationError

from gateway.analyses.schemas import (
    BIRTH_DATE_SCHEMA,
    CONSENT_SCHEMA,
    MBTI_SCHEMA,
    AnalysisJSON,
    AnalysisOut,
    AnalysisPublic,
)
from gateway.analyses.service import AnalysisRequest
from gateway.deps import AnalysisServiceDep, ContextDep, SettingsDep
from gateway.errors import InvalidRequest
from gateway.imaging import decode_base64_image
from gateway.limits import read_upload
from gateway.openapi import problems
from gateway.validation import invalid_request

router = APIRouter(prefix="/v1/analyses", tags=["analyses"])

MULTIPART_SCHEMA = {
    "type": "object",
    "required": ["image", "mbti", "birth_date", "consent"],
    "additionalProperties": False,
    "properties": {
        "image": {
            "type": "string",
            "format": "binary",
            "description": "JPEG, PNG, WebP or HEIC, known by its bytes (the declared type is "
            "not used)",
        },
        "mbti": {"type": "string", **MBTI_SCHEMA},
        "birth_date": {"type": "string", **BIRTH_DATE_SCHEMA},
        "share_opt_in": {"type": "boolean", "default": False},
        "consent": {"type": "string", **CONSENT_SCHEMA},
    },
}
IMAGE_CONTENT_TYPES = "image/jpeg, image/png, image/webp, image/heic, image/heif"
FORM_FIELDS = frozenset(MULTIPART_SCHEMA["properties"])  # type: ignore[arg-type]


async def read_analysis_request(request: Request, max_bytes: int) -> dict[str, Any]:
    """Fields and image bytes from a multipart form or a JSON body."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=len(FORM_FIELDS))
        if unknown := sorted(set(form) - FORM_FIELDS):
            raise InvalidRequest(f"Unknown form field(s): {', '.join(unknown)[:200]}.")
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            raise InvalidRequest("The form needs an `image` file field.")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        image = await read_upload(upload, max_bytes)
        share_field = fields.get("share_opt_in", "false")
        if share_field not in ("true", "false"):
            raise InvalidRequest("`share_opt_in` must be true or false.")
        share = share_field == "true"
    elif content_type.startswith("application/json"):
        try:
            body = AnalysisJSON.model_validate_json(await request.body())
        except ValidationError as exc:
            raise invalid_request(exc.errors()) from exc
        fields = body.model_dump()
        image = decode_base64_image(body.image_base64, max_bytes)
        share = body.share_opt_in
    else:
        raise InvalidRequest(
            "Send multipart/form-data or application/json.",
            hint="See POST /v1/analyses in /docs for both forms.",
        )
    return {
        "image": image,
        "mbti": fields.get("mbti"),
        "birth_date": fields.get("birth_date"),
        "share_opt_in": share,
        "consent": fields.get("consent"),
    }


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AnalysisOut,
    responses=problems(400, 409, 413, 415, 422, 429, 503),
    summary="Analyse a selfie",
    description=(
        "Multipart (`image`, `mbti`, `birth_date`) or JSON (`image_base64`, `mbti`, "
        "`birth_date`). Outcomes `no_face`, `face_too_small` and `regions_incomplete` are 422 "
        "problems with a `hint`. Send an `Idempotency-Key` to make retries safe; a busy server "
        "answers `503 overloaded`, a client over its quota `429 rate_limited`, both with "
        "`Retry-After`. The type is for entertainment and a modest guess (its person-grouped "
        "cross-validated accuracy against shuffled labels is in the model card); `verdict` "
        "spells out how the score was added up and each region carries a calibrated "
        "probability."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": MULTIPART_SCHEMA,
                    "encoding": {"image": {"contentType": IMAGE_CONTENT_TYPES}},
                },
                "application/json": {"schema": AnalysisJSON.model_json_schema()},
            },
        }
    },
)
async def create_analysis(
    request: Request,
    response: Response,
    service: AnalysisServiceDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> AnalysisOut:
    fields = await read_analysis_request(request, settings.max_upload_bytes)
    created = await service.analyse(
        AnalysisRequest(**fields, client="web", idempotency_key=idempotency_key)
    )
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/analyses/{created.analysis.id}"
    return await service.answer(created.analysis, created.delete_token)


TokenHeader = Annotated[
    str | None, Header(max_length=128, description="The creation answer's `delete_token`")
]


@router.get(
    "/{analysis_id}",
    response_model=AnalysisOut | AnalysisPublic,
    responses=problems(400, 403, 404, 503),
    summary="Read a result",
)
async def get_analysis(
    analysis_id: str, service: AnalysisServiceDep, x_delete_token: TokenHeader = None
) -> AnalysisPublic:
    """With the result's `X-Delete-Token`: the whole result (`view` owner). Without it: the
    public view (`view` public: type, score, regions, links; no MBTI, no dates). A wrong token
    is `403 forbidden`. Tokens travel in headers only: `?token=` is `400 token_in_url`."""
    return await service.get(analysis_id, x_delete_token)


@router.delete(
    "/{analysis_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(400, 404, 503)
)
async def remove_analysis(
    analysis_id: str,
    service: AnalysisServiceDep,
    context: ContextDep,
    x_delete_token: TokenHeader = None,
) -> Response:
    """Delete the result and its photo with the `X-Delete-Token` header (never in the URL:
    `?token=` is `400 token_in_url`)."""
    await service.delete(analysis_id, x_delete_token or "")
    context.renders.forget("/g/")  # the groups it was in are drawn without it at once
    return Response(status_code=status.HTTP_204_NO_CONTENT)
