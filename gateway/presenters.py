"""Turn stored rows into API answers (links, references, legacy shape)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db import repositories
from db.models import Analysis, CatalogImage, FaceType
from gateway.clients.storage import Storage
from gateway.config import Settings
from gateway.schemas import (
    AnalysisOut,
    CatalogImageOut,
    FaceTypeOut,
    LegacyResponse,
    Links,
    ModelInfo,
    ReferenceImage,
    RegionOut,
)


def face_type_out(face_type: FaceType) -> FaceTypeOut:
    return FaceTypeOut.model_validate(face_type, from_attributes=True)


async def references(
    session: AsyncSession, storage: Storage, settings: Settings, type_id: int
) -> list[ReferenceImage]:
    """Distinct random catalog images of the type (fewer when the catalog has fewer)."""
    images = await repositories.random_catalog_images(session, type_id, settings.catalog_per_result)
    return [
        ReferenceImage(
            id=image.id,
            url=await storage.url(image.object_key, settings.url_ttl_s),
            caption=image.caption,
            demo=image.is_demo,
        )
        for image in images
    ]


def links(settings: Settings, analysis_id: str) -> Links:
    base = settings.public_base_url.rstrip("/")
    return Links(
        self=f"{base}/v1/analyses/{analysis_id}",
        share=f"{base}/share/{analysis_id}",
        card=f"{base}/share/{analysis_id}/card.png",
        delete=f"{base}/v1/analyses/{analysis_id}",
    )


async def analysis_out(
    session: AsyncSession,
    storage: Storage,
    settings: Settings,
    analysis: Analysis,
    delete_token: str | None = None,
) -> AnalysisOut:
    assert analysis.face_type is not None and analysis.score is not None
    return AnalysisOut(
        id=analysis.id,
        created_at=analysis.created_at,
        type=face_type_out(analysis.face_type),
        score=analysis.score,
        regions={part: RegionOut(**region) for part, region in analysis.regions.items()},
        face_count=analysis.face_count,
        mbti=analysis.mbti,
        references=await references(session, storage, settings, analysis.face_type.id),
        model=ModelInfo(name=analysis.model_name, version=analysis.model_version),
        share_opt_in=analysis.share_opt_in,
        links=links(settings, analysis.id),
        delete_token=delete_token,
    )


def legacy_response(result: AnalysisOut) -> LegacyResponse:
    urls = [ref.url for ref in result.references] + [None] * 4
    return LegacyResponse(
        human=True,
        male_type=result.type.name,
        dsc=result.type.description,
        img1=urls[0],
        img2=urls[1],
        img3=urls[2],
        img4=urls[3],
    )


async def catalog_image_out(
    storage: Storage, settings: Settings, image: CatalogImage
) -> CatalogImageOut:
    return CatalogImageOut(
        id=image.id,
        type=image.face_type.slug,  # type: ignore[arg-type]
        caption=image.caption,
        content_type=image.content_type,
        demo=image.is_demo,
        created_at=image.created_at,
        url=await storage.url(image.object_key, settings.url_ttl_s),
    )
