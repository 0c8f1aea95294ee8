"""FaceDemo: find faces in a photo and estimate gender, age group and age for each one."""

from facedemo.analyzer import Analyzer, Face
from facedemo.errors import FaceDemoError, ImageLoadError, ModelLoadError, UnknownNameError
from facedemo.imaging import load_image

__all__ = ["Analyzer", "Face", "FaceDemoError", "ImageLoadError", "ModelLoadError", "UnknownNameError", "load_image"]
__version__ = "0.1.0"
