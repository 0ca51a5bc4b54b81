"""A small SVG badge of an endpoint's result, for a README to embed:
``chime conformance | 97.3% · 33/35`` (score, operations implemented / all),
"partial" in front when the run was not complete. Shields.io's flat style,
drawn here (no network); text widths are estimated from the character count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from chime_conformance.reporting.endpoints import summarize

LABEL = "chime conformance"
CHAR_WIDTH = 6.5  # px per character of 11 px Verdana, on average
PADDING = 10


def badge_text(document: Mapping[str, Any]) -> str:
    summary = summarize(document)
    text = f"{summary.score_percent} · {summary.implemented_text}"
    return f"partial {text}" if summary.partial else text


def badge_colour(document: Mapping[str, Any]) -> str:
    value = document["score"]["value"]
    summary = summarize(document)
    if value is None or summary.partial:
        return "#9f9f9f"
    if summary.implemented == 0 or value < 0.5:
        return "#e05d44"
    if value < 0.9 or (summary.implemented or 0) < summary.operations:
        return "#dfb317"
    return "#44cc11"


def render_badge(document: Mapping[str, Any]) -> str:
    """The badge of one results document, as SVG text."""
    value = badge_text(document)
    left = round(len(LABEL) * CHAR_WIDTH + PADDING)
    right = round(len(value) * CHAR_WIDTH + PADDING)
    width = left + right
    title = escape(f"{summarize(document).name}: {LABEL} {value}")
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{title}">
<title>{title}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/><rect x="{left}" width="{right}" height="20" fill="{badge_colour(document)}"/><rect width="{width}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="{left / 2:.1f}" y="14">{escape(LABEL)}</text>
<text x="{left + right / 2:.1f}" y="14">{escape(value)}</text>
</g>
</svg>
"""


def badge_file_name(name: str) -> str:
    """``badge-<endpoint>.svg``, the endpoint's name made file-safe."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-.")
    return f"badge-{safe or 'endpoint'}.svg"
