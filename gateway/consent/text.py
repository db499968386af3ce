"""The consent a person gives before their first analysis (PIPA: face data processed by a
recognition network is sensitive information, which needs its own consent stating the purpose,
the items, how long they are kept and the right to refuse).

The text names the retention settings, so its ``version`` is its revision date and a hash of
what it says: changing the retention changes the version, and clients ask again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from gateway.errors import ConsentRequired

REVISION = "2026-12-07"


@dataclass(frozen=True)
class ConsentText:
    """One language's text: a title and its sections, in the order a person reads them."""

    title: str
    purpose: str
    items: str
    retention: str
    refusal: str
    agree: str


def texts(retention_days: int, legacy_retention_days: int) -> dict[str, ConsentText]:
    """The consent in Korean and English for these retention periods."""
    return {
        "ko": ConsentText(
            title="얼굴 사진 분석 동의 (민감정보)",
            purpose=(
                "목적: 올려 주신 셀카로 얼굴 유형(알파·베타·감마·델타·오메가)을 재미로 분석하고, "
                "결과를 보여 드리며 원하시면 공유할 수 있게 합니다."
            ),
            items=(
                "항목: 사진(메타데이터를 지우고 긴 변 1080px 이하로 줄여 보관), MBTI, "
                "태어난 해와 달(일은 보관하지 않음), 분석 결과. 얼굴 인식 신경망(dlib)이 "
                "사진에서 얼굴 특징값을 계산해 유형을 정하고, 셀카가 여러 장이면 같은 사람인지 "
                "확인합니다. 이 특징값은 답을 만드는 데만 쓰고 바로 버리며 저장하지 않습니다."
            ),
            retention=(
                f"보관 기간: 결과와 사진은 {retention_days}일 뒤 자동으로 삭제됩니다(예전 앱의 "
                f"결과는 {legacy_retention_days}일 뒤). 그 전에 언제든 직접 삭제할 수 있습니다. "
                "사진은 직접 공유를 허락하지 않는 한 공개되지 않으며, 제3자에게 제공하지 않습니다."
            ),
            refusal=(
                "거부할 권리: 동의하지 않으셔도 됩니다. 동의하지 않으면 사진을 분석하거나 "
                "보관하지 않으며, 유형 설명은 계속 볼 수 있습니다. 그 밖의 불이익은 없습니다."
            ),
            agree="위 내용을 읽었으며 얼굴 사진 분석에 동의합니다.",
        ),
        "en": ConsentText(
            title="Consent to analyse your face photo (sensitive information)",
            purpose=(
                "Purpose: to type the face in your selfie (Alpha, Beta, Gamma, Delta or Omega) "
                "for entertainment, show you the result and let you share it if you want to."
            ),
            items=(
                "Items: your photo (stripped of its metadata and kept at most 1080 px long), "
                "your MBTI, the year and month of your birth (not the day), and the result. A "
                "face recognition network (dlib's) computes face descriptors from your photo to "
                "type it and, with several selfies, to check they show one person. Those "
                "descriptors are used for the answer and then dropped: they are never stored."
            ),
            retention=(
                f"Retention: results and photos are deleted automatically after "
                f"{retention_days} days (results of the old app after {legacy_retention_days} "
                "day(s)); you can delete yours at any time before. Your photo is never public "
                "unless you choose to share it, and it is given to no third party."
            ),
            refusal=(
                "Your right to refuse: you do not have to agree. If you do not, no photo is "
                "analysed or kept, and you can still read about the types. Refusing has no "
                "other consequence."
            ),
            agree="I have read the above and agree to the analysis of my face photo.",
        ),
    }


@dataclass(frozen=True)
class Consent:
    """The current consent: its texts and their version."""

    texts: dict[str, ConsentText]
    version: str

    def check(self, given: object) -> str:
        """The version when ``given`` is it; else ``consent_required`` naming the current one."""
        if given == self.version:
            return self.version
        stale = isinstance(given, str) and given != ""
        raise ConsentRequired(
            f"Consent version {given[:40]!r} is not the current one, {self.version}."
            if stale
            else "This analysis needs your consent first.",
            consent_version=self.version,
        )


@lru_cache
def current_consent(retention_days: int, legacy_retention_days: int) -> Consent:
    """The consent for these retention periods; its version is ``REVISION`` and the first 8 hex
    digits of the texts' SHA-256."""
    consent = texts(retention_days, legacy_retention_days)
    body = json.dumps({lang: vars(text) for lang, text in consent.items()}, sort_keys=True)
    return Consent(consent, f"{REVISION}-{hashlib.sha256(body.encode()).hexdigest()[:8]}")
