"""What a person gives stays theirs (issue "Trust II"): public views show type, score and
regions only; tokens travel in headers and never reach a URL or a log; consent comes first.

Results are stored as the pipeline leaves them (tests/fixtures/results.py), so no model
server is needed; SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging

import pytest

from gateway.consent.text import current_consent
from tests.fixtures.app import CONSENT
from tests.fixtures.results import Groups, add_result, assert_problem, body
from tests.integration.test_groups import start

PUBLIC_FIELDS = {
    "view",
    "id",
    "type",
    "score",
    "verdict",
    "regions",
    "photos",
    "margin",
    "near",
    "references_by",
    "references",
    "model",
    "links",
    "disclaimer",
}


async def test_a_result_read_without_its_token_is_the_public_view(groups: Groups) -> None:
    """The bug this holds: anyone with a result's id read its MBTI."""
    result = await add_result(groups.context)
    path = f"/v1/analyses/{result.id}"

    public = await groups.client.get(path)
    owner = await groups.client.get(path, headers={"X-Delete-Token": result.token})
    wrong = await groups.client.get(path, headers={"X-Delete-Token": "not-the-token"})

    assert public.status_code == 200 and set(public.json()) == PUBLIC_FIELDS
    assert public.json()["view"] == "public" and "ENFP" not in public.text
    assert owner.status_code == 200 and owner.json()["view"] == "owner"
    assert owner.json()["mbti"] == "ENFP" and owner.json()["delete_token"] is None
    assert set(owner.json()) - PUBLIC_FIELDS == {
        "created_at",
        "face_count",
        "mbti",
        "share_opt_in",
        "delete_token",
    }
    assert_problem(wrong, 403, "forbidden")


async def test_share_pages_show_neither_mbti_nor_birth(groups: Groups) -> None:
    result = await add_result(groups.context, opt_in=True)
    for lang in ("en", "ko"):
        page = await groups.client.get(f"/share/{result.id}?lang={lang}")
        assert page.status_code == 200
        assert "ENFP" not in page.text and "1995" not in page.text


async def test_tokens_in_urls_are_refused_and_change_nothing(groups: Groups) -> None:
    """The bug this holds: ``DELETE ...?token=`` deleted, and the token reached the logs."""
    result = await add_result(groups.context)
    code = await start(groups, result)
    for method, path in (
        ("DELETE", f"/v1/analyses/{result.id}?token={result.token}"),
        ("GET", f"/v1/analyses/{result.id}?delete_token={result.token}"),
        ("DELETE", f"/v1/groups/{code}?Token={result.token}"),
    ):
        response = await groups.client.request(method, path)
        assert_problem(response, 400, "token_in_url")
        assert result.token not in response.text
    assert (await groups.client.get(f"/v1/analyses/{result.id}")).status_code == 200
    assert not (await groups.client.get(f"/v1/groups/{code}")).json()["closed"]


async def test_the_access_log_names_routes_never_ids_tokens_codes_or_addresses(
    groups: Groups, caplog: pytest.LogCaptureFixture
) -> None:
    result = await add_result(groups.context)
    with caplog.at_level(logging.INFO, logger="alphamale.access"):
        created = await groups.client.post("/v1/groups", json=body(result))
        code, member = created.json()["code"], created.json()["member_id"]
        token = {"X-Delete-Token": result.token}
        await groups.client.get(f"/v1/analyses/{result.id}", headers=token)
        await groups.client.get(f"/v1/groups/{code}?lang=ko")
        await groups.client.delete(f"/v1/analyses/{result.id}?token={result.token}")
        await groups.client.delete(f"/v1/groups/{code}/members/{member}", headers=token)
    lines = [r.getMessage() for r in caplog.records if r.name == "alphamale.access"]
    assert lines[0].startswith("POST /v1/groups 201 ")
    assert lines[1].startswith("GET /v1/analyses/{analysis_id} 200 ")
    assert lines[3].startswith("DELETE /v1/analyses/{analysis_id} 400 ")
    assert lines[4].startswith("DELETE /v1/groups/{code}/members/{member_id} 204 ")
    logged = "\n".join(lines)
    for secret in (result.id, result.token, code, member, "127.0.0.1", "lang=ko", "?"):
        assert secret not in logged


async def test_consent_is_asked_first_and_its_version_is_the_texts(groups: Groups) -> None:
    answer = await groups.client.get("/v1/consent")
    assert answer.status_code == 200
    consent = answer.json()
    assert consent["version"] == CONSENT
    for lang in ("ko", "en"):
        text = consent["texts"][lang]
        assert set(text) == {"title", "purpose", "items", "retention", "refusal", "agree"}
        assert "30" in text["retention"] and "dlib" in text["items"]
    # the text names the retention: another retention is another version
    assert current_consent(7, 1).version != CONSENT
    for given in (None, "", "2020-01-01-00000000", CONSENT + "x"):
        form = {"mbti": "INTJ", "birth_date": "1995-04-17"} | (
            {"consent": given} if given is not None else {}
        )
        refused = await groups.client.post(
            "/v1/analyses", data=form, files={"image": ("a.jpg", b"not read", "image/jpeg")}
        )
        assert_problem(refused, 422, "consent_required")
        assert refused.json()["consent_version"] == CONSENT
