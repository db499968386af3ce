"""POST/GET/DELETE /v1/analyses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import ValidationError

from core.parameters import MAX_PHOTOS
from gateway.analyses.deps import AnalysisServiceDep
from gateway.analyses.schemas import (
    BIRTH_DATE_SCHEMA,
    CONSENT_SCHEMA,
    MBTI_SCHEMA,
    AnalysisJSON,
    AnalysisOut,
    AnalysisPublic,
)
from gateway.analyses.service import AnalysisRequest
from gateway.deps import ContextDep, SettingsDep
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
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "minItems": 1,
            "maxItems": MAX_PHOTOS,
            "description": f"One to {MAX_PHOTOS} selfies of one person (the field repeated): "
            "JPEG, PNG, WebP or HEIC, each known by its bytes (the declared type is not used)",
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
    """Fields and the photos' bytes from a multipart form (``image`` once to three times) or a
    JSON body (``image_base64`` or ``images_base64``)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=MAX_PHOTOS, max_fields=len(FORM_FIELDS))
        if unknown := sorted(set(form) - FORM_FIELDS):
            raise InvalidRequest(f"Unknown form field(s): {', '.join(unknown)[:200]}.")
        uploads = form.getlist("image")
        if not uploads or any(isinstance(upload, str) for upload in uploads):
            raise InvalidRequest(
                f"The form needs an `image` file field (one to {MAX_PHOTOS} of them)."
            )
        if any(len(form.getlist(name)) > 1 for name in FORM_FIELDS - {"image"}):
            raise InvalidRequest("Only `image` may repeat in the form.")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        images = [await read_upload(upload, max_bytes) for upload in uploads]  # type: ignore[arg-type]
        share_field = fields.get("share_opt_in", "false")
        if share_field not in ("true", "false"):
            raise InvalidRequest("`share_opt_in` must be true or false.")
        share = share_field == "true"
    elif content_type.startswith("application/json"):
        try:
            body = AnalysisJSON.model_validate_json(await request.body())
        except ValidationError as exc:
            raise invalid_request(exc.errors()) from exc
        if body.images is None:
            given = "both" if "images_base64" in body.model_fields_set else "neither"
            raise invalid_request(
                [{"loc": ("image_base64",), "msg": f"send image_base64 (one photo) or "
                  f"images_base64 (one to {MAX_PHOTOS}), exactly one; {given} came"}]
            )  # fmt: skip
        fields = body.model_dump()
        images = [decode_base64_image(image, max_bytes) for image in body.images]
        share = body.share_opt_in
    else:
        raise InvalidRequest(
            "Send multipart/form-data or application/json.",
            hint="See POST /v1/analyses in /docs for both forms.",
        )
    return {
        "images": tuple(images),
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
        "Multipart (`image` one to three times, `mbti`, `birth_date`, `consent`) or JSON "
        "(`image_base64`, or `images_base64` with one to three, `mbti`, `birth_date`, "
        "`consent`): several selfies of one person are typed together, a steadier answer "
        "(`photos`); `margin` says how far it sits from the nearest type bound and `near` names "
        "the neighbouring type when it is close. Outcomes `no_face`, `face_too_small`, "
        "`regions_incomplete` (with `photo`: which one) and `different_people` (the photo that "
        "shows someone else) are 422 problems with a `hint`; without the current consent, "
        "`consent_required`. Send an `Idempotency-Key` to make retries safe; a busy server "
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
    return created.answer


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
