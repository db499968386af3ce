"""Requests of the model admin API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RegisterModel(BaseModel):
    archive: str = Field(
        description="A .mar file name in the model store", examples=["face_regions-2.0.mar"]
    )
    initial_workers: int = Field(1, ge=0, le=8)


class DefaultVersion(BaseModel):
    version: str


class Workers(BaseModel):
    min_workers: int = Field(ge=0, le=8)
    max_workers: int | None = Field(None, ge=0, le=8)
    version: str | None = None
