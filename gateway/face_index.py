"""Look-alike references: the catalog images of a type whose faces are nearest a person's.

Only the operator's catalog is ever searched: face descriptors are stored for catalog images
alone (computed when an image is added, :func:`gateway.faces.face_descriptor`); the person's
descriptor comes with ``face_type``'s answer, is used for this search and dropped. Per type, the
descriptors of the images with a face are kept in memory as one matrix. A change made through
this process drops it at once; a cheap query (how many there are and the newest, one index)
tells of changes made through other gateway processes, asked at most every ``ttl_s`` seconds.
Descriptors have unit length, so cosine similarity is a dot product, done with ``einsum`` (no
BLAS threads to contend with the server's); 10,000 images take about a millisecond
(``python -m bench.lookalikes``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from db import queries

DESCRIPTOR_SIZE = 128


@dataclass(frozen=True)
class TypeFaces:
    """One type's catalog faces as of ``version``: their ids and descriptors (rows)."""

    version: tuple[int, datetime | None]
    ids: list[str]
    matrix: np.ndarray  # (images, 128), float32
    checked_at: float  # when the version was last asked (the index's clock)


@dataclass(frozen=True)
class LookAlike:
    image_id: str
    similarity: float  # cosine similarity, clipped to 0-1


def nearest(faces: TypeFaces, descriptor: Sequence[float], count: int) -> list[LookAlike]:
    """The ``count`` faces nearest ``descriptor``, most similar first."""
    scores = np.einsum("ij,j->i", faces.matrix, np.asarray(descriptor, dtype=np.float32))
    top = np.argpartition(-scores, count - 1)[:count]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [LookAlike(faces.ids[i], round(float(np.clip(scores[i], 0.0, 1.0)), 4)) for i in top]


class FaceIndex:
    """Every type's catalog faces, read once per catalog change (one per gateway process)."""

    def __init__(self, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.types: dict[int, TypeFaces] = {}
        self.ttl_s = ttl_s
        self.clock = clock

    def forget(self, type_id: int) -> None:
        """The type's catalog changed through this process: read it again next time."""
        self.types.pop(type_id, None)

    async def faces(self, session: AsyncSession, type_id: int) -> TypeFaces:
        known, now = self.types.get(type_id), self.clock()
        if known is not None and now - known.checked_at < self.ttl_s:
            return known
        version = await queries.catalog_faces_version(session, type_id)
        if known is not None and known.version == version:
            self.types[type_id] = TypeFaces(version, known.ids, known.matrix, now)
            return self.types[type_id]
        rows = await queries.catalog_faces(session, type_id)
        matrix = np.asarray([row.face_descriptor for row in rows], dtype=np.float32)
        faces = TypeFaces(
            version, [row.id for row in rows], matrix.reshape(-1, DESCRIPTOR_SIZE), now
        )
        self.types[type_id] = faces
        return faces

    async def look_alikes(
        self, session: AsyncSession, type_id: int, descriptor: Sequence[float], count: int
    ) -> list[LookAlike] | None:
        """The type's ``count`` catalog faces nearest ``descriptor``; None when it has fewer
        than ``count`` images with a face (the caller draws at random then)."""
        faces = await self.faces(session, type_id)
        if len(faces.ids) < count or count < 1:
            return None
        return nearest(faces, descriptor, count)
