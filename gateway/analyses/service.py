"""The analysis use case (spec 2 and 10): validate -> read the photos (face check, crop,
parts, one type for all: :mod:`gateway.analyses.photos`) -> persist -> answer.

No FastAPI here. Either the stored photos and their row all exist, or none: the photos are
written first and removed again if the row cannot be committed. Model calls never run inside a
database transaction: each step opens its own session from the app's sessionmaker.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.taxonomy import PART_COLOURS
from db import groups, queries
from db.models import Analysis, FaceType
from gateway.analyses.geometry import regions_in_photo
from gateway.analyses.photos import PhotoReader
from gateway.analyses.schemas import (
    AnalysisOut,
    AnalysisPublic,
    LegacyResponse,
    Links,
    ModelInfo,
    Verdict,
)
from gateway.analyses.verdict import verdict
from gateway.catalog.service import CatalogService, References, face_type_out
from gateway.clients.storage import Storage, new_key
from gateway.clients.torchserve import ModelServerClient
from gateway.config import Settings
from gateway.consent.text import Consent, current_consent
from gateway.decode_budget import DecodeBudget
from gateway.errors import AppError, DatabaseUnavailable, Forbidden, IdempotencyConflict, NotFound
from gateway.imaging import CleanImage
from gateway.malloc import release_free_memory
from gateway.metrics import Metrics
from gateway.persistence import NewObject, objects_then_row
from gateway.validation import normalise_mbti, parse_birth_date


@dataclass(frozen=True)
class AnalysisRequest:
    images: tuple[bytes, ...]  # one to three photos of one person
    mbti: object
    birth_date: object
    consent: object = None
    client: str = "web"
    share_opt_in: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True)
class AnalysisCreated:
    analysis: Analysis
    answer: AnalysisOut  # its delete_token is None when an Idempotency-Key replayed a result
    replayed: bool = False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(analysis: Analysis, token: str) -> bool:
    """Whether ``token`` is the analysis' delete token (compared in constant time): the proof
    of ownership of every write on a result (its deletion, its groups)."""
    return secrets.compare_digest(analysis.delete_token_hash, token_hash(token))


def birth_month(birth: date) -> str:
    """What is kept of a birth date: "YYYY-MM" (the age rule is checked on the whole date)."""
    return f"{birth.year:04d}-{birth.month:02d}"


def fingerprint(request: AnalysisRequest, mbti: str, month: str) -> str:
    """The request as an Idempotency-Key's retry must repeat it: every photo, in order (the
    day of birth is not kept, not even hashed: a retry within the same month is the same)."""
    digest = hashlib.sha256()
    for image in request.images:
        digest.update(hashlib.sha256(image).digest())
    digest.update(f"|{mbti}|{month}|{request.share_opt_in}".encode())
    return digest.hexdigest()


class AnalysisService:
    """Analyses: run one, read one back, delete one; answers built here."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        models: ModelServerClient,
        settings: Settings,
        metrics: Metrics,
        catalog: CatalogService,
        decodes: DecodeBudget | None = None,
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.models = models
        self.settings = settings
        self.metrics = metrics
        self.catalog = catalog
        self.reader = PhotoReader(
            models=models, settings=settings, metrics=metrics, decodes=decodes or DecodeBudget(0)
        )
        self.consent: Consent = current_consent(
            settings.retention_days, settings.legacy_retention_days
        )

    # --- running an analysis --------------------------------------------------------------
    async def analyse(self, request: AnalysisRequest) -> AnalysisCreated:
        try:
            return await self._analyse(request)
        except AppError as exc:
            self.metrics.analyses.labels(outcome=exc.code, client=request.client).inc()
            raise
        finally:
            release_free_memory()  # a photo's small allocations leave holes in the heap

    async def _analyse(self, request: AnalysisRequest) -> AnalysisCreated:
        consent = self.consent.check(request.consent)  # before anything of the person is read
        mbti = normalise_mbti(request.mbti)
        month = birth_month(parse_birth_date(request.birth_date))
        request_hash = fingerprint(request, mbti, month)
        if request.idempotency_key and (replay := await self._replay(request, request_hash)):
            return replay
        read = await self.reader.read(request.images)
        first, typed = read.photos[0], read.typed
        type_id = await self._type_id(typed.type)
        regions = regions_in_photo(read.regions[0].regions, first.crop, typed)
        # the person's descriptor picks the look-alikes here and goes no further
        references = await self.catalog.choose_references(type_id, typed.descriptor)
        analysis = Analysis(
            image_sha256=read.stored[0].sha256,
            mbti=mbti,
            birth_month=month,
            consent_version=consent,
            outcome=typed.type,
            type_id=type_id,
            score=typed.score,
            regions={part: r.model_dump(mode="json") for part, r in regions.items()},
            verdict=verdict(typed).model_dump(mode="json"),
            face_count=first.detection.count,
            photos=typed.photos,
            margin=typed.margin,
            near=typed.near,
            stored_scale=round(read.stored[0].width / first.decoded.image.width, 6),
            reference_choice=references.choice,
            model_name=typed.model.name,
            model_version=typed.model.version,
            client=request.client,
            share_opt_in=request.share_opt_in,
            idempotency_key=request.idempotency_key,
            request_sha256=request_hash,
        )
        token = secrets.token_urlsafe(24)
        analysis.delete_token_hash = token_hash(token)
        try:
            await self._persist(analysis, read.stored)
        except IntegrityError:  # an identical request with the same key committed first
            if replay := await self._replay(request, request_hash):
                return replay
            raise DatabaseUnavailable("The result could not be saved.") from None
        self.metrics.analyses.labels(outcome=analysis.outcome, client=request.client).inc()
        return AnalysisCreated(analysis, self.owner_view(analysis, references, token))

    async def _replay(self, request: AnalysisRequest, request_hash: str) -> AnalysisCreated | None:
        assert request.idempotency_key
        async with self.sessions() as session:
            earlier = await queries.get_analysis_by_idempotency_key(
                session, request.idempotency_key
            )
        if earlier is None:
            return None
        ttl = timedelta(hours=self.settings.idempotency_ttl_h)
        if earlier.request_sha256 != request_hash or earlier.created_at < datetime.now(UTC) - ttl:
            raise IdempotencyConflict()
        return AnalysisCreated(earlier, await self.answer(earlier), replayed=True)

    async def _type_id(self, slug: str) -> int:
        async with self.sessions() as session:
            face_type = await queries.get_type(session, slug)
        if face_type is None:
            raise DatabaseUnavailable(f"Type {slug!r} is not seeded; run `make seed`.")
        return face_type.id

    async def _persist(self, analysis: Analysis, images: Sequence[CleanImage]) -> None:
        """The photos first, then the row; the photos are removed again if the row fails."""
        objects = [
            NewObject(new_key("uploads", i.extension), i.data, i.content_type) for i in images
        ]
        analysis.object_key = objects[0].key
        analysis.extra_object_keys = [o.key for o in objects[1:]] or None
        try:
            async with objects_then_row(
                self.storage, self.sessions, objects, self.metrics.orphans.inc
            ) as session:
                session.add(analysis)
                face_type = await session.get(FaceType, analysis.type_id)
            analysis.face_type = face_type
        except IntegrityError:
            if analysis.idempotency_key:
                raise
            raise DatabaseUnavailable("The result could not be saved.") from None
        except (SQLAlchemyError, OSError) as exc:
            raise DatabaseUnavailable("The result could not be saved.") from exc

    # --- reading and deleting -------------------------------------------------------------
    async def find(self, analysis_id: str) -> Analysis | None:
        """The stored analysis with its type, or None."""
        async with self.sessions() as session:
            return await queries.get_analysis(session, analysis_id)

    async def get(self, analysis_id: str, token: str | None = None) -> AnalysisPublic:
        """The owner's view with the result's delete token, the public view without one; a
        wrong token is ``403 forbidden``."""
        analysis = await self.find(analysis_id)
        if analysis is None:
            raise NotFound("No analysis with that id.")
        if token is None:
            return await self.public_answer(analysis)
        if not token_matches(analysis, token):
            raise Forbidden("That is not this result's delete token.")
        return await self.answer(analysis)

    async def delete(self, analysis_id: str, token: str) -> None:
        """The person's delete: only with the token given at creation."""
        analysis = await self.find(analysis_id)
        if analysis is None or not token_matches(analysis, token):
            raise NotFound("No analysis with that id and delete token.")
        await self.remove(analysis_id)

    async def remove(self, analysis_id: str) -> int | None:
        """Row and object together: the row's deletion commits only once the object is gone.
        The result leaves every group in the same transaction (the groups it owns close).

        The number of groups removed with it (left empty), or None when there is no such
        analysis; a storage failure propagates and the row stays, with its memberships.
        """
        async with self.sessions() as session:
            analysis = await queries.get_analysis(session, analysis_id)
            if analysis is None:
                return None
            removed_groups = await groups.detach_analysis(session, analysis_id)
            await queries.delete_analysis(session, analysis_id)
            await session.flush()
            for key in analysis.object_keys:
                await self.storage.delete(key)
            await session.commit()
        return removed_groups

    # --- answers --------------------------------------------------------------------------
    def links(self, analysis_id: str) -> Links:
        base = self.settings.public_base_url.rstrip("/")
        return Links(
            self=f"{base}/v1/analyses/{analysis_id}",
            share=f"{base}/share/{analysis_id}",
            card=f"{base}/share/{analysis_id}/card.png",
            delete=f"{base}/v1/analyses/{analysis_id}",
        )

    async def public_answer(self, analysis: Analysis) -> AnalysisPublic:
        """Type, score and regions: what anyone holding the link may see."""
        return self.public_view(analysis, await self._references(analysis))

    async def answer(self, analysis: Analysis) -> AnalysisOut:
        """The whole result, for its owner."""
        return self.owner_view(analysis, await self._references(analysis))

    async def _references(self, analysis: Analysis) -> References:
        assert analysis.face_type is not None
        return await self.catalog.references(analysis.face_type.id, analysis.reference_choice)

    def public_view(self, analysis: Analysis, references: References) -> AnalysisPublic:
        assert analysis.face_type is not None and analysis.score is not None
        return AnalysisPublic(
            id=analysis.id,
            type=face_type_out(analysis.face_type),
            score=analysis.score,
            verdict=Verdict.model_validate(analysis.verdict) if analysis.verdict else None,
            regions={  # type: ignore[misc]
                part: {**region, "colour": PART_COLOURS[part]}  # type: ignore[index]
                for part, region in (analysis.regions or {}).items()
            },
            photos=analysis.photos,
            margin=analysis.margin,
            near=analysis.near,  # type: ignore[arg-type]
            references_by=references.by,
            references=references.images,
            model=ModelInfo(name=analysis.model_name, version=analysis.model_version),
            links=self.links(analysis.id),
        )

    def owner_view(
        self, analysis: Analysis, references: References, delete_token: str | None = None
    ) -> AnalysisOut:
        """The public view and what only the owner sees (``delete_token``: only in the
        creation answer)."""
        public = self.public_view(analysis, references)
        return AnalysisOut(
            **public.model_dump(exclude={"view"}),
            created_at=analysis.created_at,
            face_count=analysis.face_count,
            mbti=analysis.mbti,
            share_opt_in=analysis.share_opt_in,
            delete_token=delete_token,
        )


def legacy_answer(result: AnalysisPublic) -> LegacyResponse:
    """A result in the seed's answer shape (four image links, null when fewer)."""
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
