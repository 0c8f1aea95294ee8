"""Exception types raised by FaceDemo."""

from __future__ import annotations


class FaceDemoError(Exception):
    """Base class of the errors FaceDemo raises on bad input or missing resources."""


class ImageLoadError(FaceDemoError, ValueError):
    """An input that cannot be read as an image: empty, not an image, truncated or too large."""


class ModelLoadError(FaceDemoError):
    """Model files that are missing, do not load, or have the wrong inputs or outputs."""


class UnknownNameError(FaceDemoError, ValueError):
    """A detector or other registry name that does not exist; the message lists the valid ones."""
