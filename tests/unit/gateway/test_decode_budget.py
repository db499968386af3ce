"""The decode budget: how many pixels one process decodes at once (no timing: the test holds
the budget itself and lets the loop run)."""

from __future__ import annotations

import asyncio
import io

from PIL import Image

from gateway.decode_budget import DecodeBudget
from gateway.imaging import ImageLimits, decode_upload, decoded_pixels


async def ticks(count: int = 10) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_decodes_that_fit_go_together_and_the_rest_wait_their_turn() -> None:
    budget = DecodeBudget(100)
    release = asyncio.Event()
    entered: list[str] = []

    async def decode(name: str, pixels: int) -> None:
        async with budget.hold(pixels):
            entered.append(name)
            await release.wait()

    tasks = [asyncio.create_task(decode(n, p)) for n, p in (("a", 40), ("b", 50), ("c", 30))]
    await ticks()
    assert entered == ["a", "b"] and budget.used == 90  # c would make 120
    release.set()
    await asyncio.gather(*tasks)
    assert entered == ["a", "b", "c"] and budget.used == 0


async def test_one_image_bigger_than_the_budget_still_goes_alone() -> None:
    budget = DecodeBudget(10)
    gate = asyncio.Event()

    async def big() -> None:
        async with budget.hold(40):
            await gate.wait()

    first = asyncio.create_task(big())
    second = asyncio.create_task(big())
    await ticks()
    assert budget.used == 40 and not second.done()  # one at a time
    gate.set()
    await asyncio.gather(first, second)
    assert budget.used == 0


async def test_no_budget_bounds_nothing() -> None:
    budget = DecodeBudget(0)
    async with budget.hold(10**9), budget.hold(10**9):
        assert budget.used == 0


def encoded(size: tuple[int, int], kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buffer, kind)
    return buffer.getvalue()


def test_the_pixels_a_decode_will_hold_are_known_from_the_header() -> None:
    limits = ImageLimits()
    png = encoded((3000, 2000), "PNG")
    assert decoded_pixels(png, limits) == 3000 * 2000
    jpeg = encoded((4032, 3024), "JPEG")  # a 12 MP phone photo: decoded at a reduced scale
    pixels = decoded_pixels(jpeg, limits)
    decoded = decode_upload(jpeg, limits).image
    assert pixels < 4032 * 3024 / 3 and max(decoded.size) <= limits.store_side
    assert pixels >= decoded.width * decoded.height  # what the decode held, before any resize
