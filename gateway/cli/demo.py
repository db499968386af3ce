"""Post one photo to a running AlphaMale and print the answer: ``python -m gateway.cli.demo``.

Without ``--image`` it sends a neutral front photo from the London Face set when
``../shared/datasets/london-faces`` (or ``$ALPHAMALE_DATASET_DIR``) is there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

from core.dataset import default_dataset_dir

DATASET = default_dataset_dir()


def default_image() -> Path | None:
    images = sorted((DATASET / "images").glob("*_03.jpg"))
    return images[0] if images else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="gateway base URL")
    parser.add_argument("--image", type=Path, default=None, help="photo to send")
    parser.add_argument("--mbti", default="ENFP")
    parser.add_argument("--birth-date", default="1996-05-04")
    args = parser.parse_args(argv)
    image = args.image or default_image()
    if image is None:
        print("No --image given and no London Face set found; pass --image PATH.", file=sys.stderr)
        return 2
    base = args.url.rstrip("/")
    consent = httpx.get(f"{base}/v1/consent", timeout=10).json()
    print(f"Agreeing, for this demo photo, to: {consent['texts']['en']['title']}")
    print(f"  (GET {base}/v1/consent, version {consent['version']})")
    response = httpx.post(
        f"{base}/v1/analyses",
        data={"mbti": args.mbti, "birth_date": args.birth_date, "consent": consent["version"]},
        files={"image": (image.name, image.read_bytes(), "image/jpeg")},
        timeout=60,
    )
    print(f"{response.status_code} {response.reason_phrase}  ({image.name})")
    print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    return 0 if response.is_success else 1


if __name__ == "__main__":
    raise SystemExit(main())
