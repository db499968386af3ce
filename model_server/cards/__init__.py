"""The model cards, rendered from the Jinja2 templates in ``templates/`` beside this file.

- :mod:`.type_card`: the type model's section (``face_type.md.j2``), from its metrics JSON.
- :mod:`.detector_card`: the part detector's section (``face_regions.md.j2``), from a serving
  checkpoint's meta, and the short card of a checkpoint without one (``checkpoint.md.j2``).
- :mod:`.model_card`: ``MODEL_CARD.md`` (``model_card.md.j2``), both sections: ``card``.

The Python side gathers figures; every sentence is in a template. Rendering is strict
(``StrictUndefined``): a figure the template names and the data lacks fails, never prints empty.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).with_name("templates")


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def interval(r: float, n: int) -> str:
    """Pearson r's 95 % interval (Fisher z)."""
    z, half = math.atanh(r), 1.96 / math.sqrt(max(1, n - 3))
    return f"{math.tanh(z - half):.2f} to {math.tanh(z + half):.2f}"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def unwrap(text: str) -> str:
    """A paragraph wrapped in the template, as one line (``{% filter unwrap %}``)."""
    return re.sub(r"\s*\n\s*", " ", text.strip()) + "\n"


ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # Markdown, not HTML
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters |= {"pct": pct, "interval": interval, "verdict": verdict, "unwrap": unwrap}


def render(template: str, **context: Any) -> str:
    return ENVIRONMENT.get_template(template).render(**context)
