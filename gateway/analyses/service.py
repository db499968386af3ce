"""The analysis use case (spec 2): validate -> face check -> crop -> (regions | type) -> persist.

No FastAPI here. Either both the stored object and its row exist, or neither: the object is
written first and removed again if the row cannot be committed. Model calls never run inside a
database transaction: each step opens its own session from the app's sessionmaker.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from PIL import Image
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.crop import Crop, upright_crop
from core.schemas import Face, FaceCheckAnswer, RegionsAnswer, TypeAnswer
from db import groups, repositories
from db.models import Analysis
from gateway.analyses.geometry import detection_jpeg, regions_in_photo, scale_faces
from gateway.analyses.schemas import (
    AnalysisOut,
    AnalysisPublic,
    LegacyResponse,
    Links,
    ModelInfo,
    Verdict,
)
from gateway.analyses.verdict import verdict
from gateway.catalog.service import CatalogService, face_type_out
from gateway.clients.storage import Storage, new_key
from gateway.clients.torchserve import ModelServerClient
from gateway.config import Settings
from gateway.consent.text import Consent, current_consent
from gateway.decode_budget import DecodeBudget
from gateway.errors import (
    AppError,
    DatabaseUnavailable,
    FaceTooSmall,
    Forbidden,
    IdempotencyConflict,
    NoFace,
    NotFound,
    RegionsIncomplete,
)
from gateway.imaging import (
    CleanImage,
    ImageLimits,
    decode_upload,
    decoded_pixels,
    encode_jpeg,
    encode_upload,
)
from gateway.malloc import release_free_memory
from gateway.metrics import Metrics
from gateway.persistence import object_then_row
from gateway.validation import normalise_mbti, parse_birth_date

T = TypeVar("T")


@dataclass(frozen=True)
class AnalysisRequest:
    image: bytes
    mbti: object
    birth_date: object
    consent: object = None
    client: str = "web"
    share_opt_in: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True)
class AnalysisCreated:
    analysis: Analysis
    delete_token: str | None  # None when an Idempotency-Key replayed an earlier result
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
    """The request as an Idempotency-Key's retry must repeat it (the day of birth is not kept,
    not even hashed: a retry within the same month is the same request)."""
    digest = hashlib.sha256(request.image)
    digest.update(f"|{mbti}|{month}|{request.share_opt_in}".encode())
    return digest.hexdigest()


def face_too_small(count: int, face: Face, floor: int) -> FaceTooSmall:
    """The largest face is below the floor; with several faces, say so and which one it was."""
    height = face.eye_to_chin
    detail = f"The face is {height:.0f} px from eyes to chin; at least {floor} px are needed."
    box = [round(v) for v in face.box]
    if count == 1:
        return FaceTooSmall(detail, face_count=1, face_box=box)
    return FaceTooSmall(
        f"{count} faces were found; the largest, at x {box[0]}-{box[2]}, y {box[1]}-{box[3]}, "
        f"is {height:.0f} px from eyes to chin; at least {floor} px are needed.",
        hint="Crop the photo to one person's face, or use a photo of one person close up.",
        face_count=count,
        face_box=box,
    )


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
        catalog: CatalogService | None = None,
        decodes: DecodeBudget | None = None,
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.models = models
        self.settings = settings
        self.metrics = metrics
        self.catalog = catalog or CatalogService(
            sessions=sessions, storage=storage, settings=settings, metrics=metrics
        )
        self.decodes = decodes or DecodeBudget(0)
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
        limits = ImageLimits(
            max_bytes=self.settings.max_upload_bytes,
            max_pixels=self.settings.max_pixels,
            min_side=self.settings.min_image_side,
        )
        pixels = await asyncio.to_thread(decoded_pixels, request.image, limits)  # the header
        async with self.decodes.hold(pixels):  # a bound on the memory of decodes at once
            decoded = await asyncio.to_thread(decode_upload, request.image, limits)
        # The stored copy (smaller: what the cards need) is encoded while the models work.
        side = self.settings.stored_photo_side
        encoding = asyncio.create_task(asyncio.to_thread(encode_upload, decoded, side))
        try:
            detection, crop = await self._face(decoded.image)
            crop_jpeg = await asyncio.to_thread(encode_jpeg, crop.image)
            found, typed = await self._regions_and_type(crop_jpeg)
        finally:
            image = await encoding  # never left running (or its failure unretrieved)
        if not found.complete:
            regions = regions_in_photo(found.regions, crop)
            raise RegionsIncomplete(
                "Not every face region (face, T-zone, jaw) was found.",
                regions={part: r.model_dump(mode="json") for part, r in regions.items()},
            )
        regions = regions_in_photo(found.regions, crop, typed)
        analysis = Analysis(
            image_sha256=image.sha256,
            mbti=mbti,
            birth_month=month,
            consent_version=consent,
            outcome=typed.type,
            score=typed.score,
            regions={part: r.model_dump(mode="json") for part, r in regions.items()},
            verdict=verdict(typed).model_dump(mode="json"),
            face_count=detection.count,
            stored_scale=round(image.width / decoded.image.width, 6),
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
            await self._persist(analysis, image, typed.type)
        except IntegrityError:  # an identical request with the same key committed first
            if replay := await self._replay(request, request_hash):
                return replay
            raise DatabaseUnavailable("The result could not be saved.") from None
        self.metrics.analyses.labels(outcome=analysis.outcome, client=request.client).inc()
        return AnalysisCreated(analysis, token)

    async def _replay(self, request: AnalysisRequest, request_hash: str) -> AnalysisCreated | None:
        assert request.idempotency_key
        async with self.sessions() as session:
            earlier = await repositories.get_analysis_by_idempotency_key(
                session, request.idempotency_key
            )
        if earlier is None:
            return None
        ttl = timedelta(hours=self.settings.idempotency_ttl_h)
        if earlier.request_sha256 != request_hash or earlier.created_at < datetime.now(UTC) - ttl:
            raise IdempotencyConflict()
        return AnalysisCreated(earlier, None, replayed=True)

    async def _face(self, image: Image.Image) -> tuple[FaceCheckAnswer, Crop]:
        """Find faces on a copy at most ``detect_side`` long, then crop the photo."""
        small, scale = await asyncio.to_thread(  # CPU-bound
            detection_jpeg, image, self.settings.detect_side
        )
        with self.metrics.model_seconds.labels(model="face_check").time():
            detection = scale_faces(await self.models.face_check(small), scale)
        if not detection.faces:
            raise NoFace("No human face was found in the photo.")
        face = detection.faces[0]  # the handler sorts largest first
        if face.eye_to_chin < self.settings.min_face_px:
            raise face_too_small(detection.count, face, self.settings.min_face_px)
        crop = await asyncio.to_thread(
            upright_crop,
            image,
            face.box,
            face.landmarks.left_eye,
            face.landmarks.right_eye,
        )
        return detection, crop

    async def _regions_and_type(self, crop_jpeg: bytes) -> tuple[RegionsAnswer, TypeAnswer]:
        """Where the parts are and what type they show: two models, called concurrently."""

        async def timed(model: str, call: Awaitable[T]) -> T:
            with self.metrics.model_seconds.labels(model=model).time():
                return await call

        found, typed = await asyncio.gather(
            timed("face_regions", self.models.face_regions(crop_jpeg)),
            timed("face_type", self.models.face_type(crop_jpeg)),
            return_exceptions=True,
        )
        for outcome in (found, typed):
            if isinstance(outcome, BaseException):
                raise outcome
        return found, typed  # type: ignore[return-value]

    async def _persist(self, analysis: Analysis, image: CleanImage, type_slug: str) -> None:
        """Object first, then the row; the object is removed again if the row fails."""
        analysis.object_key = new_key("uploads", image.extension)
        orphan = self.metrics.orphans.inc
        try:
            async with object_then_row(
                self.storage,
                self.sessions,
                analysis.object_key,
                image.data,
                image.content_type,
                orphan,
            ) as session:
                face_type = await repositories.get_type(session, type_slug)
                if face_type is None:
                    raise DatabaseUnavailable(f"Type {type_slug!r} is not seeded; run `make seed`.")
                analysis.type_id = face_type.id
                session.add(analysis)
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
            return await repositories.get_analysis(session, analysis_id)

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
            analysis = await repositories.get_analysis(session, analysis_id)
            if analysis is None:
                return None
            removed_groups = await groups.detach_analysis(session, analysis_id)
            await repositories.delete_analysis(session, analysis_id)
            await session.flush()
            await self.storage.delete(analysis.object_key)
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
        assert analysis.face_type is not None and analysis.score is not None
        return AnalysisPublic(
            id=analysis.id,
            type=face_type_out(analysis.face_type),
            score=analysis.score,
            verdict=Verdict.model_validate(analysis.verdict) if analysis.verdict else None,
            regions=analysis.regions,  # type: ignore[arg-type]
            references=await self.catalog.references(analysis.face_type.id),
            model=ModelInfo(name=analysis.model_name, version=analysis.model_version),
            links=self.links(analysis.id),
        )

    async def answer(self, analysis: Analysis, delete_token: str | None = None) -> AnalysisOut:
        """The whole result, for its owner (``delete_token``: only in the creation answer)."""
        public = await self.public_answer(analysis)
        return AnalysisOut(
            **public.model_dump(exclude={"view"}),
            created_at=analysis.created_at,
            face_count=analysis.face_count,
            mbti=analysis.mbti,
            share_opt_in=analysis.share_opt_in,
            delete_token=delete_token,
        )

    async def legacy_answer(self, analysis: Analysis) -> LegacyResponse:
        result = await self.public_answer(analysis)
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
