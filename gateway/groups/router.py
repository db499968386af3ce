"""POST/GET/DELETE /v1/groups: start a group, join it, read it, leave it, close it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response, status

from gateway.context import AppContext
from gateway.deps import ContextDep
from gateway.groups.deps import GroupServiceDep
from gateway.groups.schemas import (
    MAX_MEMBERS,
    MEMBER_ID_PATTERN,
    GroupOut,
    MemberOut,
    Membership,
)
from gateway.openapi import problems

router = APIRouter(prefix="/v1/groups", tags=["groups"])


def redraw(context: AppContext, code: str) -> None:
    """The group changed: its card and story are this process's to describe again at once."""
    context.renders.forget(f"/g/{code}/")


TokenHeader = Annotated[
    str, Header(description="The `delete_token` of the result this request acts for")
]
PROOF = (
    "Every write proves it is made by a result's owner with that result's delete token: a wrong "
    "one is `403 forbidden`; an unknown code or result is `404 not_found`, like any miss."
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=GroupOut,
    responses=problems(400, 403, 404, 422, 429, 503),
    summary="Start a group from a result",
    description=(
        "The result becomes the group's first member and its owner; share `invite_url`. "
        f"{PROOF} Counts against the per-client rate limit, like an analysis."
    ),
)
async def create_group(body: Membership, response: Response, service: GroupServiceDep) -> GroupOut:
    group = await service.create(body.analysis_id, body.delete_token, body.nickname)
    response.headers["Location"] = f"/v1/groups/{group.code}"
    return group


@router.get("/{code}", response_model=GroupOut, responses=problems(404, 503))
async def get_group(code: str, service: GroupServiceDep) -> GroupOut:
    """The group and its members side by side, by score (highest first)."""
    return await service.get(code)


@router.post(
    "/{code}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberOut,
    responses={
        200: {"model": MemberOut, "description": "Already a member: the member, unchanged"},
        **problems(400, 403, 404, 409, 410, 422, 429, 503),
    },
    summary="Join a group with a result",
    description=(
        f"At most {MAX_MEMBERS} members (`409 group_full`); a closed group takes no one "
        "(`410 group_closed`); a result that is already a member is not a second one (`200`). "
        f"{PROOF} Counts against the per-client rate limit, like an analysis."
    ),
)
async def join_group(
    code: str, body: Membership, response: Response, service: GroupServiceDep, context: ContextDep
) -> MemberOut:
    joined = await service.join(code, body.analysis_id, body.delete_token, body.nickname)
    redraw(context, code)
    if not joined.created:
        response.status_code = status.HTTP_200_OK
    return joined.member


@router.delete(
    "/{code}/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(400, 403, 404, 422, 503),
    summary="Leave a group",
    description=(
        "`member_id` is the member's id in this group (from the join answer, or the group's "
        "list); the request carries that member's own result's token. The owner leaving closes "
        f"the group; a group left with no member is removed. {PROOF}"
    ),
)
async def leave_group(
    code: str,
    member_id: Annotated[str, Path(pattern=MEMBER_ID_PATTERN)],
    service: GroupServiceDep,
    x_delete_token: TokenHeader,
    context: ContextDep,
) -> Response:
    await service.leave(code, member_id, x_delete_token)
    redraw(context, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{code}/rotate",
    response_model=GroupOut,
    responses=problems(400, 403, 404, 410, 422, 503),
    summary="Give the group a new invite link",
    description=(
        "With the owner's result's token: the group gets a new `code` (and links); the old "
        "invite link then finds nothing (`404`), so a link that went too far stops working. "
        f"A closed group is `410 group_closed`. {PROOF}"
    ),
)
async def rotate_invite(
    code: str, service: GroupServiceDep, x_delete_token: TokenHeader, context: ContextDep
) -> GroupOut:
    rotated = await service.rotate(code, x_delete_token)
    redraw(context, code)
    return rotated


@router.delete(
    "/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(400, 403, 404, 422, 503),
    summary="Close a group",
    description=(
        "With the owner's result's token: the group takes no new members; its members stay "
        f"listed until they leave. {PROOF}"
    ),
)
async def close_group(
    code: str, service: GroupServiceDep, x_delete_token: TokenHeader, context: ContextDep
) -> Response:
    await service.close(code, x_delete_token)
    redraw(context, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
