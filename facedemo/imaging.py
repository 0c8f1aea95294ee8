"""Image loading: any common input to an RGB uint8 array, upright and size-checked."""

from __future__ import annotations

import io
import logging
import os
import struct
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facedemo.errors import ImageLoadError

logger = logging.getLogger(__name__)

# Larger inputs are rejected before decoding, as a guard against decompression bombs.
MAX_PIXELS = 50_000_000
# Detection runs on a copy whose longer side is at most this many pixels.
WORKING_SIZE = 1280

ImageInput = Union[str, os.PathLike, bytes, bytearray, Image.Image, np.ndarray]


def _describe(source: ImageInput) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray)):
        return f"<{len(source)} bytes>"
    if isinstance(source, np.ndarray):
        return f"<array {source.shape} {source.dtype}>"
    return f"<{type(source).__name__}>"


def _open(source: ImageInput, name: str) -> Image.Image:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageLoadError(f"Image file not found: {name}. Check the path.")
        data = path.read_bytes()
    else:
        data = bytes(source)
    if not data:
        raise ImageLoadError(f"Empty file: {name}. Pass a JPEG, PNG, WebP, GIF, BMP or TIFF image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as error:
        raise ImageLoadError(
            f"Not an image: {name}. Pass a JPEG, PNG, WebP, GIF, BMP or TIFF image."
        ) from error
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ImageLoadError(
            f"Image too large: {name} has more than {MAX_PIXELS:,} pixels. Resize it and try again."
        ) from error
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise ImageLoadError(
            f"Cannot decode {name}: {error}. The file may be truncated or corrupt; re-export it and try again."
        ) from error
    return image


def _check_size(width: int, height: int, name: str) -> None:
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            f"Image too large: {name} is {width}x{height} pixels, over the limit of {MAX_PIXELS:,}. "
            "Resize it and try again."
        )
    if width < 1 or height < 1:
        raise ImageLoadError(f"Image has no pixels: {name} is {width}x{height}.")


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB; transparency is composited on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    if image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(array * (255.0 if array.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info or image.mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def _from_array(array: np.ndarray, name: str) -> np.ndarray:
    """Convert an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array (RGB order) to RGB uint8."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageLoadError(f"Invalid image array {name}: expected (H, W), (H, W, 3) or (H, W, 4), got {array.shape}.")
    _check_size(array.shape[1], array.shape[0], name)
    if array.dtype == np.uint16:
        array = (array.astype(np.float64) / 257.0 + 0.5).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        array = np.clip(array * 255.0 + 0.5 if array.max() <= 1.0 else array, 0, 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 4:
        return np.asarray(_to_rgb(Image.fromarray(array, mode="RGBA")))
    return np.ascontiguousarray(array)


def load_image(source: ImageInput) -> np.ndarray:
    """Load a path, encoded bytes, PIL image or numpy array as an upright RGB uint8 array (H, W, 3).

    EXIF orientation is applied; animations give their first frame; 16-bit, greyscale, palette,
    CMYK and transparent images are converted (transparency composited on white). Arrays are
    taken as RGB(A) in channel order. Raises ImageLoadError, naming the input, for a missing or
    empty file, a non-image, a truncated file and an image over MAX_PIXELS.
    """
    name = _describe(source)
    if isinstance(source, np.ndarray):
        return _from_array(source, name)

    image = source if isinstance(source, Image.Image) else _open(source, name)
    _check_size(*image.size, name)
    try:
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)
        image.load()
        upright = ImageOps.exif_transpose(image)
        rgb = _to_rgb(upright)
        return np.asarray(rgb, dtype=np.uint8).copy()
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageLoadError(
            f"Cannot decode {name}: {error}. The file may be truncated or corrupt; re-export it and try again."
        ) from error


def downscale_for_detection(image: np.ndarray, working_size: int = WORKING_SIZE) -> tuple[np.ndarray, float]:
    """Shrink an image so its longer side is at most working_size pixels.

    Returns the (possibly unchanged) image and the scale factor from it back to the original,
    by which boxes and landmarks found on it are multiplied.
    """
    height, width = image.shape[:2]
    longer = max(height, width)
    if longer <= working_size:
        return image, 1.0
    scale = working_size / longer
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
    return small, longer / working_size
