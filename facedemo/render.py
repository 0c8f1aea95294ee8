"""Draw numbered boxes and short labels on a photo."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from facedemo.analyzer import Face

_COLOURS = ((230, 57, 70), (42, 157, 143), (233, 196, 106), (69, 123, 157), (244, 162, 97), (131, 56, 236))


def short_label(index: int, face: Face) -> str:
    """Return the label drawn on the photo, e.g. ``#1 F 25-49, 31 y``."""
    return f"#{index} {face.gender[0].upper()} {face.age_group}, {face.age:.0f} y"


def draw_faces(image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
    """Return a copy of an RGB image with one numbered box and label per face, numbered from 1."""
    canvas = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    longer = max(canvas.size)
    line_width = max(2, longer // 300)
    font = ImageFont.load_default(size=max(12, longer // 40))

    for index, face in enumerate(faces, start=1):
        colour = _COLOURS[(index - 1) % len(_COLOURS)]
        x, y, w, h = face.box
        draw.rectangle((x, y, x + w, y + h), outline=colour, width=line_width)
        text = short_label(index, face)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        text_w, text_h = right - left, bottom - top
        label_y = y - text_h - 2 * line_width if y - text_h - 2 * line_width >= 0 else y + h
        draw.rectangle((x, label_y, x + text_w + 2 * line_width, label_y + text_h + 2 * line_width), fill=colour)
        draw.text((x + line_width - left, label_y + line_width - top), text, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)
