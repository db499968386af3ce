"""The analysis use-case (spec 2): validate -> face check -> crop -> regions -> score -> persist.

No FastAPI here. Either both the stored object and its row exist, or neither: the object is
written first and removed again if the row cannot be committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from PIL import Image
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import facecrop
from db import repositories
from db.models import Analysis
from gateway.clients.storage import Storage, new_key, stored_object
from gateway.clients.torchserve import ModelServerClient
from gateway.config import Settings
from gateway.errors import (
    AppError,
    DatabaseUnavailable,
    FaceTooSmall,
    IdempotencyConflict,
    NoFace,
    RegionsIncomplete,
)
from gateway.imaging import CleanImage, ImageLimits, clean_image, encode_jpeg
from gateway.metrics import Metrics
from gateway.validation import normalise_mbti, parse_birth_date


@dataclass(frozen=True)
class AnalysisRequest:
    image: bytes
    mbti: object
    birth_date: object
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


def fingerprint(request: AnalysisRequest, mbti: str, birth: date) -> str:
    digest = hashlib.sha256(request.image)
    digest.update(f"|{mbti}|{birth.isoformat()}|{request.share_opt_in}".encode())
    return digest.hexdigest()


DETECT_SIDE = 1280  # faces are found on a copy this size: fast, and far below any request cap


def detection_jpeg(image: Image.Image, side: int = DETECT_SIDE) -> tuple[bytes, float]:
    """A JPEG whose longer side is at most ``side``, and the factor back to the original."""
    scale = max(max(image.size) / side, 1.0)
    if scale > 1:
        size = (round(image.width / scale), round(image.height / scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return encode_jpeg(image), scale


def scale_faces(detection: dict[str, Any], scale: float) -> dict[str, Any]:
    """Face boxes and landmarks from the downscaled copy back to original pixels."""
    for face in detection["faces"]:
        face["box"] = [v * scale for v in face["box"]]
        face["landmarks"] = {k: [x * scale, y * scale] for k, (x, y) in face["landmarks"].items()}
    return detection


def eye_to_chin(face: dict[str, Any]) -> float:
    """Eye line to the bottom of the face box, in pixels."""
    marks = face["landmarks"]
    eye_y = (marks["left_eye"][1] + marks["right_eye"][1]) / 2
    return float(face["box"][3]) - eye_y


def regions_in_photo(regions: dict[str, Any], crop: facecrop.Crop) -> dict[str, Any]:
    """Add each found region's outline in the photo's coordinates (a rotated box)."""
    out = {}
    for part, region in regions.items():
        region = dict(region)
        if region.get("box"):
            region["polygon"] = [
                [round(x, 1), round(y, 1)] for x, y in crop.box_to_original(region["box"])
            ]
        out[part] = region
    return out


def face_too_small(count: int, face: dict[str, Any], height: float, floor: int) -> FaceTooSmall:
    """The largest face is below the floor; with several faces, say so and which one it was."""
    detail = f"The face is {height:.0f} px from eyes to chin; at least {floor} px are needed."
    box = [round(v) for v in face["box"]]
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
    """Runs one analysis with the app's clients; one instance per request."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        models: ModelServerClient,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.storage = storage
        self.models = models
        self.metrics = metrics

    async def analyse(self, request: AnalysisRequest) -> AnalysisCreated:
        try:
            return await self._analyse(request)
        except AppError as exc:
            self.metrics.analyses.labels(outcome=exc.code, client=request.client).inc()
            raise

    async def _analyse(self, request: AnalysisRequest) -> AnalysisCreated:
        mbti = normalise_mbti(request.mbti)
        birth = parse_birth_date(request.birth_date)
        request_hash = fingerprint(request, mbti, birth)
        if request.idempotency_key and (replay := await self._replay(request, request_hash)):
            return replay
        limits = ImageLimits(
            max_bytes=self.settings.max_upload_bytes,
            max_pixels=self.settings.max_pixels,
            min_side=self.settings.min_image_side,
        )
        image = await asyncio.to_thread(clean_image, request.image, limits)  # CPU-bound
        detection, crop = await self._face(image)
        crop_jpeg = await asyncio.to_thread(encode_jpeg, crop.image)
        with self.metrics.model_seconds.labels(model="face_regions").time():
            regions = await self.models.face_regions(crop_jpeg)
        if regions["outcome"] == "regions_incomplete":
            raise RegionsIncomplete(
                "Not every face region (face, T-zone, jaw) was found.",
                regions=regions_in_photo(regions["regions"], crop),
            )
        analysis = Analysis(
            image_sha256=image.sha256,
            mbti=mbti,
            birth_date=birth,
            outcome=regions["outcome"],
            score=regions["score"],
            regions=regions_in_photo(regions["regions"], crop),
            face_count=detection["count"],
            model_name=regions["model"]["name"],
            model_version=str(regions["model"]["version"]),
            client=request.client,
            share_opt_in=request.share_opt_in,
            idempotency_key=request.idempotency_key,
            request_sha256=request_hash,
        )
        token = secrets.token_urlsafe(24)
        analysis.delete_token_hash = token_hash(token)
        try:
            await self._persist(analysis, image, regions["type"])
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

    async def _face(self, image: CleanImage) -> tuple[dict[str, Any], facecrop.Crop]:
        """Find faces on a copy at most ``DETECT_SIDE`` wide, then crop the original."""
        small, scale = await asyncio.to_thread(detection_jpeg, image.image)  # CPU-bound
        with self.metrics.model_seconds.labels(model="face_check").time():
            detection = scale_faces(await self.models.face_check(small), scale)
        if not detection["faces"]:
            raise NoFace("No human face was found in the photo.")
        face = detection["faces"][0]  # the handler sorts largest first
        if (height := eye_to_chin(face)) < self.settings.min_face_px:
            raise face_too_small(detection["count"], face, height, self.settings.min_face_px)
        marks = face["landmarks"]
        crop = await asyncio.to_thread(
            facecrop.upright_crop,
            image.image,
            face["box"],
            marks["left_eye"],
            marks["right_eye"],
            margin=self.settings.crop_margin,
            size=self.settings.crop_size,
        )
        return detection, crop

    async def _persist(self, analysis: Analysis, image: CleanImage, type_slug: str) -> None:
        """Object first, then the row; the object is removed again if the row fails."""
        analysis.object_key = new_key("uploads", image.extension)
        orphan = self.metrics.orphans.inc
        try:
            async with (
                stored_object(
                    self.storage, analysis.object_key, image.data, image.content_type, orphan
                ),
                self.sessions() as session,
            ):
                face_type = await repositories.get_type(session, type_slug)
                if face_type is None:
                    raise DatabaseUnavailable(f"Type {type_slug!r} is not seeded; run `make seed`.")
                analysis.type_id = face_type.id
                session.add(analysis)
                await session.commit()
                analysis.face_type = face_type
        except IntegrityError:
            if analysis.idempotency_key:
                raise
            raise DatabaseUnavailable("The result could not be saved.") from None
        except (SQLAlchemyError, OSError) as exc:
            raise DatabaseUnavailable("The result could not be saved.") from exc


async def remove_analysis(
    sessions: async_sessionmaker[AsyncSession], storage: Storage, analysis_id: str
) -> bool:
    """Remove row and object together: the row's deletion commits only once the object is gone.

    False when there is no such analysis; a storage failure propagates and the row stays.
    """
    async with sessions() as session:
        analysis = await repositories.get_analysis(session, analysis_id)
        if analysis is None:
            return False
        await repositories.delete_analysis(session, analysis_id)
        await session.flush()
        await storage.delete(analysis.object_key)
        await session.commit()
    return True


async def delete_analysis(
    sessions: async_sessionmaker[AsyncSession], storage: Storage, analysis_id: str, token: str
) -> bool:
    """The person's delete: only with the token given at creation."""
    async with sessions() as session:
        analysis = await repositories.get_analysis(session, analysis_id)
    if analysis is None or not secrets.compare_digest(
        analysis.delete_token_hash, token_hash(token)
    ):
        return False
    return await remove_analysis(sessions, storage, analysis_id)
