"""Requests of the model admin API."""

from __future__ import annotations

from pydantic import BaseModel, Field

# A model version as TorchServe names it ("1.0", "2.0-rc1"): letters and digits, single dots,
# dashes or underscores between them; never a "/" or a "..", which would reach other paths of
# the management API.
VERSION_PATTERN = r"^[0-9A-Za-z]+([._-][0-9A-Za-z]+)*$"
VERSION = Field(pattern=VERSION_PATTERN, max_length=32, examples=["2.0"])


class RegisterModel(BaseModel):
    archive: str = Field(
        description="A .mar file name in the model store", examples=["face_regions-2.0.mar"]
    )
    initial_workers: int = Field(1, ge=0, le=8)


class DefaultVersion(BaseModel):
    version: str = VERSION


class Workers(BaseModel):
    min_workers: int = Field(ge=0, le=8)
    max_workers: int | None = Field(None, ge=0, le=8)
    version: str | None = Field(None, pattern=VERSION_PATTERN, max_length=32)
