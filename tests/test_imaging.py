"""Image loading: every accepted input kind and every rejected one."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from facedemo import imaging
from facedemo.errors import ImageLoadError
from facedemo.imaging import downscale_for_detection, load_image


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _gradient(width: int = 40, height: int = 30) -> np.ndarray:
    """An RGB image whose red channel encodes x and green encodes y, so orientation is checkable."""
    x = np.linspace(0, 255, width).astype(np.uint8)
    y = np.linspace(0, 255, height).astype(np.uint8)
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[:, :, 0] = x[None, :]
    image[:, :, 1] = y[:, None]
    image[:, :, 2] = 77
    return image


def test_path_bytes_pil_and_array_agree(tmp_path):
    pixels = _gradient()
    png = _encode(Image.fromarray(pixels), "PNG")
    path = tmp_path / "gradient.png"
    path.write_bytes(png)

    for source in (path, str(path), png, bytearray(png), Image.fromarray(pixels), pixels):
        loaded = load_image(source)
        assert loaded.dtype == np.uint8
        assert loaded.shape == (30, 40, 3)
        np.testing.assert_array_equal(loaded, pixels)


def test_exif_orientation_applied():
    pixels = _gradient(40, 30)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    data = _encode(Image.fromarray(pixels), "JPEG", exif=exif.tobytes(), quality=95)

    loaded = load_image(data)
    assert loaded.shape == (40, 30, 3)
    # After a clockwise turn the original top row (green = 0) is the right-hand column.
    assert loaded[:, -1, 1].mean() < 20
    assert loaded[:, 0, 1].mean() > 230


def test_greyscale_becomes_three_equal_channels():
    grey = np.arange(0, 250, 10, dtype=np.uint8).reshape(5, 5)
    loaded = load_image(_encode(Image.fromarray(grey, mode="L"), "PNG"))
    assert loaded.shape == (5, 5, 3)
    np.testing.assert_array_equal(loaded[:, :, 0], grey)
    np.testing.assert_array_equal(loaded[:, :, 2], grey)


def test_palette_image_keeps_colours():
    rgb = Image.new("RGB", (8, 8), (200, 10, 30))
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    loaded = load_image(_encode(palette, "PNG"))
    np.testing.assert_array_equal(loaded[0, 0], [200, 10, 30])


def test_rgba_composited_on_white():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[:, :2] = [255, 0, 0, 255]   # opaque red on the left
    rgba[:, 2:] = [0, 0, 255, 0]     # fully transparent on the right
    loaded = load_image(_encode(Image.fromarray(rgba, mode="RGBA"), "PNG"))
    np.testing.assert_array_equal(loaded[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(loaded[0, 3], [255, 255, 255])


def test_la_half_transparent_blends_with_white():
    la = Image.fromarray(np.dstack([np.zeros((2, 2), np.uint8), np.full((2, 2), 128, np.uint8)]), mode="LA")
    loaded = load_image(_encode(la, "PNG"))
    assert 120 <= int(loaded[0, 0, 0]) <= 135


def test_cmyk_jpeg_converted():
    cmyk = Image.new("CMYK", (6, 6), (0, 255, 255, 0))  # pure red in CMYK
    loaded = load_image(_encode(cmyk, "JPEG", quality=95))
    red, green, blue = (int(v) for v in loaded[3, 3])
    assert red > 200
    assert green < 60
    assert blue < 60


def test_sixteen_bit_scaled_to_eight():
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    loaded = load_image(_encode(Image.fromarray(values), "PNG"))
    assert loaded[0, :, 0].tolist() == [0, 128, 255]
    from_array = load_image(values)
    assert from_array[0, :, 1].tolist() == [0, 128, 255]


def test_float_array_in_unit_range():
    loaded = load_image(np.array([[[0.0, 0.5, 1.0]]], dtype=np.float32))
    assert loaded[0, 0].tolist() == [0, 128, 255]


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((250, 0, 0), (0, 250, 0), (0, 0, 250))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    loaded = load_image(buffer.getvalue())
    assert loaded[5, 5, 0] > 200
    assert loaded[5, 5, 1] < 50


def test_animated_webp_gives_first_frame():
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((0, 0, 250), (250, 0, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="WEBP", save_all=True, append_images=frames[1:], duration=50, lossless=True)
    loaded = load_image(buffer.getvalue())
    assert loaded[5, 5, 2] > 200
    assert loaded[5, 5, 0] < 50


def test_empty_file_rejected(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"Empty file: .*empty\.jpg"):
        load_image(path)


def test_missing_file_rejected(tmp_path):
    with pytest.raises(ImageLoadError, match="not found"):
        load_image(tmp_path / "absent.png")


def test_non_image_rejected(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are not pixels")
    with pytest.raises(ImageLoadError, match=r"Not an image: .*notes\.jpg"):
        load_image(path)


def test_truncated_jpeg_rejected():
    data = _encode(Image.fromarray(_gradient(200, 200)), "JPEG", quality=95)
    with pytest.raises(ImageLoadError, match="truncated"):
        load_image(data[: len(data) // 2])


def test_oversized_image_rejected(monkeypatch):
    monkeypatch.setattr(imaging, "MAX_PIXELS", 100 * 100)
    data = _encode(Image.new("RGB", (101, 100)), "PNG")
    with pytest.raises(ImageLoadError, match="too large.*101x100"):
        load_image(data)


def test_decompression_bomb_header_rejected():
    # 30000 x 30000 declared in the header: rejected before any pixel is decoded.
    data = _encode(Image.new("1", (30000, 30000)), "PNG")
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(data)


def test_bad_array_shape_rejected():
    with pytest.raises(ImageLoadError, match=r"\(5, 5, 2\)"):
        load_image(np.zeros((5, 5, 2), dtype=np.uint8))


def test_downscale_reports_scale_back():
    image = np.zeros((1000, 3000, 3), dtype=np.uint8)
    small, scale = downscale_for_detection(image, working_size=1200)
    assert small.shape == (400, 1200, 3)
    assert scale == pytest.approx(2.5)
    same, unit = downscale_for_detection(image[:100, :100], working_size=1200)
    assert same.shape == (100, 100, 3)
    assert unit == 1.0


def test_broken_jpeg_header_rejected():
    with pytest.raises(ImageLoadError, match="Cannot decode .*truncated or corrupt"):
        load_image(b"\xff\xd8\xff\xe0 not really a jpeg")
