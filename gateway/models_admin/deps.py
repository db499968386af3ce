"""The model server's client, from the app's context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.clients.torchserve import ModelServerClient
from gateway.deps import ContextDep


def get_models(context: ContextDep) -> ModelServerClient:
    return context.models


ModelsDep = Annotated[ModelServerClient, Depends(get_models)]
