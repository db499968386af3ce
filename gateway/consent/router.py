"""GET /v1/consent: the text a person agrees to before their first analysis, and its version."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from gateway.consent.text import current_consent
from gateway.deps import SettingsDep

router = APIRouter(prefix="/v1/consent", tags=["consent"])


class ConsentTextOut(BaseModel):
    title: str
    purpose: str
    items: str
    retention: str
    refusal: str
    agree: str = Field(description="The sentence next to the (unticked) box")


class ConsentOut(BaseModel):
    version: str = Field(
        description="Send it as `consent` with POST /v1/analyses; it changes with the text",
        examples=["2026-12-07-1a2b3c4d"],
    )
    texts: dict[str, ConsentTextOut] = Field(description="By language: ko, en")
    retention_days: int = Field(description="Results and photos are deleted after this long")
    legacy_retention_days: int = Field(description="Results of the legacy endpoint: this long")


@router.get("", response_model=ConsentOut, summary="The consent to analyse a face photo")
async def get_consent(settings: SettingsDep, response: Response) -> ConsentOut:
    """Purpose, items, retention and the right to refuse, in Korean and English (PIPA's
    separate consent for sensitive information: face data computed by a recognition network)."""
    consent = current_consent(settings.retention_days, settings.legacy_retention_days)
    response.headers["Cache-Control"] = "no-cache"
    return ConsentOut(
        version=consent.version,
        texts={lang: ConsentTextOut(**asdict(text)) for lang, text in consent.texts.items()},
        retention_days=settings.retention_days,
        legacy_retention_days=settings.legacy_retention_days,
    )
