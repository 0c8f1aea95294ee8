"""Deploy the Gradio app to a Hugging Face Space.

    python -m hub.deploy_space SPACE_ID [--models-repo REPO] [--dry-run OUT]

Uploads app.py, the facedemo package (with its shipped weights), a requirements.txt with the
runtime packages of this repository's requirements.txt, and a README.md whose front matter
configures the Space.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from facedemo.weights import DEFAULT_MODEL_REPO
from hub.auth import HubError, commit_folder, hub_errors, make_api
from hub.publish import DEFAULT_DATASET_ID

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
# Packages the app imports; scikit-image and matplotlib ship its public-domain example photos.
RUNTIME_PACKAGES = {"tensorflow", "keras", "gradio", "huggingface-hub", "numpy", "pillow",
                    "opencv-python-headless", "mtcnn", "scikit-image", "matplotlib"}
SHORT_DESCRIPTION = "Gender, age group and age for every face in a photo"


def runtime_requirements(requirements: str) -> tuple[str, str]:
    """Return the runtime lines of a requirements file and the pinned gradio version."""
    kept, gradio_version = [], None
    for line in requirements.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if match and match.group(1).lower() in RUNTIME_PACKAGES:
            kept.append(f"{match.group(1)}=={match.group(2)}")
            if match.group(1).lower() == "gradio":
                gradio_version = match.group(2)
    if gradio_version is None:
        raise HubError("requirements.txt does not pin gradio (gradio==X.Y.Z); the Space needs its sdk_version.")
    return "\n".join(kept) + "\n", gradio_version


def space_readme(gradio_version: str, models_repo: str, dataset_id: str) -> str:
    """Return the Space's README.md with its configuration front matter."""
    return "\n".join([
        "---",
        "title: FaceDemo",
        "emoji: 🧑",
        "colorFrom: blue",
        "colorTo: green",
        "sdk: gradio",
        f"sdk_version: {gradio_version}",
        "app_file: app.py",
        "pinned: false",
        "license: other",
        f"short_description: {SHORT_DESCRIPTION}",
        "models:",
        f"  - {models_repo}-classifier",
        f"  - {models_repo}-age",
        "datasets:",
        f"  - {dataset_id}",
        "---",
        "",
        "# FaceDemo",
        "",
        "Drop in a photo or turn on the camera: for every face the app estimates gender, age group and age "
        "with a range. The models are small Keras CNNs trained on UTKFace (non-commercial research licence); "
        "they predict appearance and must not be used to make decisions about people.",
        "",
    ])


def stage_space(folder: Path, models_repo: str, dataset_id: str) -> list[str]:
    """Write every file of the Space into folder; returns their paths relative to it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "app.py", folder / "app.py")
    shutil.copytree(REPO_ROOT / "facedemo", folder / "facedemo",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.staging"))
    requirements, gradio_version = runtime_requirements((REPO_ROOT / "requirements.txt").read_text())
    (folder / "requirements.txt").write_text(requirements)
    (folder / "README.md").write_text(space_readme(gradio_version, models_repo, dataset_id))
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def deploy(space_id: str, models_repo: str = DEFAULT_MODEL_REPO, dataset_id: str = DEFAULT_DATASET_ID,
           dry_run: Path | None = None, private: bool = False, api: Any = None) -> list[str]:
    """Stage the Space and upload it in one commit, or only write it to dry_run."""
    if dry_run is not None:
        if dry_run.exists():
            shutil.rmtree(dry_run)
        return stage_space(dry_run, models_repo, dataset_id)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "space"
        files = stage_space(folder, models_repo, dataset_id)
        api = make_api(api)
        with hub_errors(space_id):
            api.create_repo(space_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
            commit_folder(api, space_id, folder, "Deploy FaceDemo app", repo_type="space")
    logger.info("Deployed %d files to the Space %s", len(files), space_id)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.deploy_space", description=__doc__.split("\n")[0])
    parser.add_argument("space_id", help="target Space, e.g. you/facedemo")
    parser.add_argument("--models-repo", default=DEFAULT_MODEL_REPO,
                        help="model repo prefix listed in the front matter ({prefix}-classifier, {prefix}-age)")
    parser.add_argument("--dataset-id", default=DEFAULT_DATASET_ID, help="Hub dataset id listed in the front matter")
    parser.add_argument("--private", action="store_true", help="create the Space as private")
    parser.add_argument("--dry-run", type=Path, metavar="OUT", help="write the files to OUT and upload nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        files = deploy(args.space_id, args.models_repo, args.dataset_id, args.dry_run, args.private)
    except HubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
