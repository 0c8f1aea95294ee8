"""Shared fixtures: public-domain photos from installed packages and the UTKFace archive."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
UTKFACE_ARCHIVE = Path(os.environ.get("FACEDEMO_UTKFACE_ARCHIVE", REPO_ROOT.parent / "shared" / "data" / "UTKFace.tar.gz"))
# Adult faces from the validation split of the default build (never trained on), by label.
MALE_CHIPS = ["30_0_0_20170111181750341.jpg.chip.jpg", "30_0_0_20170117120709730.jpg.chip.jpg"]
FEMALE_CHIPS = ["25_1_0_20170103182309849.jpg.chip.jpg", "25_1_0_20170112235132967.jpg.chip.jpg"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: loads TensorFlow models or runs a server (seconds to minutes)")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """Eileen Collins, a NASA portrait in the public domain, shipped with scikit-image (512x512 RGB)."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def no_face_image() -> np.ndarray:
    """A photo with no face: scikit-image's coffee cup (public domain)."""
    from skimage import data

    return data.coffee()


@pytest.fixture(scope="session")
def utkface_archive() -> Path:
    if not UTKFACE_ARCHIVE.is_file():
        pytest.skip(f"UTKFace archive not found at {UTKFACE_ARCHIVE}; set FACEDEMO_UTKFACE_ARCHIVE to its path")
    return UTKFACE_ARCHIVE


@pytest.fixture(scope="session")
def utkface_chips(utkface_archive: Path) -> dict[str, bytes]:
    """A fixed handful of chips read from the archive, by file name."""
    wanted = set(MALE_CHIPS + FEMALE_CHIPS)
    found: dict[str, bytes] = {}
    with tarfile.open(utkface_archive) as tar:
        for member in tar:
            name = Path(member.name).name
            if name in wanted:
                found[name] = tar.extractfile(member).read()
                if len(found) == len(wanted):
                    break
    return found


@pytest.fixture(scope="session")
def app_url():
    """The Gradio app served in this process on 127.0.0.1, with the shipped weights."""
    from facedemo.analyzer import Analyzer
    from facedemo.ui import MAX_UPLOAD, build_demo

    demo = build_demo(Analyzer())
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, max_file_size=MAX_UPLOAD, quiet=True)
    yield demo.local_url
    demo.close()
