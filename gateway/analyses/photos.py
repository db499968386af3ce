"""One analysis's photos through the models (spec 2 and 10): each photo decoded, its largest
face found and cropped upright, its parts found; then all the crops typed together.

No FastAPI here. The photos go through concurrently, each as far as it can (photo 2's face is
looked for while photo 1's parts are), and ``face_type`` gets every crop in one request once
the last is cut, beside the last part detection. Each photo passes every check of a single
photo, and a refusal names the photo (``photo``: its 0-based index; the lowest index first).
The photos must show one person: their face descriptors' distances, against the model's
threshold (``422 different_people``). The stored copy of each photo is encoded while the models
work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from core.crop import Crop
from core.schemas import Face, FaceCheckAnswer, RegionsAnswer, TypeAnswer
from gateway.analyses.geometry import regions_in_photo
from gateway.clients.torchserve import ModelServerClient
from gateway.config import Settings
from gateway.decode_budget import DecodeBudget
from gateway.errors import AppError, DifferentPeople, FaceTooSmall, NoFace, RegionsIncomplete
from gateway.faces import crop_of, detection_jpeg, scale_faces
from gateway.imaging import (
    CleanImage,
    DecodedImage,
    decode_upload,
    decoded_pixels,
    encode_jpeg,
    encode_upload,
)
from gateway.metrics import Metrics

T = TypeVar("T")


@dataclass(frozen=True)
class Photo:
    """One photo as the models read it."""

    decoded: DecodedImage
    detection: FaceCheckAnswer
    crop: Crop
    crop_jpeg: bytes


@dataclass(frozen=True)
class ReadPhotos:
    """Every photo of a request, read and typed together: what the result is made of."""

    photos: list[Photo]
    regions: list[RegionsAnswer]  # each photo's parts
    typed: TypeAnswer  # the photos' combined type
    stored: list[CleanImage]  # each photo's stored copy


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


def naming(error: BaseException, index: int, count: int) -> BaseException:
    """``error`` naming the photo it is about (``photo``), in its detail too when there are
    several."""
    if isinstance(error, AppError):
        error.extra["photo"] = index
        if count > 1:
            error.detail = f"Photo {index + 1} of {count}: {error.detail}"
    return error


class PhotoReader:
    """Decodes, finds, crops and types the photos of one request."""

    def __init__(
        self,
        *,
        models: ModelServerClient,
        settings: Settings,
        metrics: Metrics,
        decodes: DecodeBudget,
    ) -> None:
        self.models = models
        self.settings = settings
        self.metrics = metrics
        self.decodes = decodes
        self.limits = settings.image_limits

    async def timed(self, model: str, call: Awaitable[T]) -> T:
        with self.metrics.model_seconds.labels(model=model).time():
            return await call

    async def read(self, images: Sequence[bytes]) -> ReadPhotos:
        """Every photo read and typed; the first refusal, by photo, raised."""
        decoding = [asyncio.create_task(self._decode(data)) for data in images]
        storing = [asyncio.create_task(self._stored(task)) for task in decoding]
        finding = [asyncio.create_task(self._photo(task)) for task in decoding]
        parts = [asyncio.create_task(self._parts(task)) for task in finding]
        typing = asyncio.create_task(self._type(finding))
        outcomes = await asyncio.gather(
            *decoding, *storing, *finding, *parts, typing, return_exceptions=True
        )
        count = len(images)
        per_photo = [outcomes[k * count : (k + 1) * count] for k in range(4)]
        for index in range(count):  # the lowest photo's refusal, in the pipeline's order
            for stage in per_photo:
                if isinstance(stage[index], BaseException):
                    raise naming(stage[index], index, count)
        if isinstance(outcomes[-1], BaseException):
            raise outcomes[-1]
        photos, regions = per_photo[2], per_photo[3]
        for index, (photo, found) in enumerate(zip(photos, regions, strict=True)):
            if not found.complete:
                raise naming(incomplete(found, photo.crop), index, count)
        typed = outcomes[-1]
        if (different := self.different_person(typed)) is not None:
            raise naming(different, different.extra["photo"], count)
        return ReadPhotos(photos, regions, typed, per_photo[1])  # type: ignore[arg-type]

    async def _decode(self, data: bytes) -> DecodedImage:
        pixels = await asyncio.to_thread(decoded_pixels, data, self.limits)  # the header
        async with self.decodes.hold(pixels):  # a bound on the memory of decodes at once
            return await asyncio.to_thread(decode_upload, data, self.limits)

    async def _stored(self, decoding: asyncio.Task[DecodedImage]) -> CleanImage:
        """The copy kept (smaller: what the cards need), encoded while the models work."""
        decoded = await decoding
        return await asyncio.to_thread(encode_upload, decoded, self.settings.stored_photo_side)

    async def _photo(self, decoding: asyncio.Task[DecodedImage]) -> Photo:
        """Find faces on a copy at most ``detect_side`` long, then crop the largest upright."""
        decoded = await decoding
        small, scale = await asyncio.to_thread(
            detection_jpeg, decoded.image, self.settings.detect_side
        )
        answer = await self.timed("face_check", self.models.face_check(small))
        detection = scale_faces(answer, scale)
        if not detection.faces:
            raise NoFace("No human face was found in the photo.")
        face = detection.faces[0]  # the handler sorts largest first
        if face.eye_to_chin < self.settings.min_face_px:
            raise face_too_small(detection.count, face, self.settings.min_face_px)
        crop = await asyncio.to_thread(crop_of, decoded.image, face)
        return Photo(decoded, detection, crop, await asyncio.to_thread(encode_jpeg, crop.image))

    async def _parts(self, finding: asyncio.Task[Photo]) -> RegionsAnswer:
        photo = await finding
        return await self.timed("face_regions", self.models.face_regions(photo.crop_jpeg))

    async def _type(self, finding: Sequence[asyncio.Task[Photo]]) -> TypeAnswer:
        photos = await asyncio.gather(*finding)
        crops = [photo.crop_jpeg for photo in photos]
        return await self.timed("face_type", self.models.face_type(crops))

    @staticmethod
    def different_person(typed: TypeAnswer) -> DifferentPeople | None:
        """The first photo whose face is farther from the first photo's than one person's."""
        identity = typed.identity
        for index, distance in enumerate(identity.distances):
            if distance > identity.threshold:
                return DifferentPeople(
                    "This photo shows someone else than the first one (face distance "
                    f"{distance:.2f}, one person up to {identity.threshold:.2f}).",
                    photo=index,
                )
        return None


def incomplete(found: RegionsAnswer, crop: Crop) -> RegionsIncomplete:
    regions = regions_in_photo(found.regions, crop)
    return RegionsIncomplete(
        "Not every face region (face, T-zone, jaw) was found.",
        regions={part: r.model_dump(mode="json") for part, r in regions.items()},
    )
