"""Publish a trained model to the Hugging Face Hub.

    python -m hub.publish MODEL_DIR REPO_ID [--revision REV] [--private] [--dry-run OUT]

Uploads, in one commit, the Keras 3 files that ``keras.saving.load_model("hf://REPO_ID")``
reads (config.json, metadata.json, model.weights.h5), model.tflite, facedemo.json,
metrics.json and a model card (README.md). FaceDemo uses one repo per model: by default
``{FACEDEMO_MODEL_REPO}-classifier`` and ``{FACEDEMO_MODEL_REPO}-age``.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hub.auth import HubError, commit_folder, hub_errors, make_api
from hub.card import render_card

logger = logging.getLogger(__name__)

DEFAULT_DATASET_ID = "facedemo/utkface"


def stage_model(model_dir: Path, repo_id: str, folder: Path, dataset_id: str = DEFAULT_DATASET_ID) -> list[str]:
    """Write every file of the model repo into folder; returns their names."""
    from training.export import export_model

    metrics_path = model_dir / "metrics.json"
    if not metrics_path.is_file():
        raise HubError(f"{metrics_path} not found. Run python -m training.evaluate {model_dir} DATASET_DIR first, "
                       "so the card carries measured metrics.")
    export_model(model_dir, folder, tflite=True)
    metadata = json.loads((folder / "facedemo.json").read_text())
    metrics = json.loads(metrics_path.read_text())
    (folder / "README.md").write_text(render_card(metadata["task"], repo_id, metrics, metadata, dataset_id))
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def publish(model_dir: Path, repo_id: str, revision: str | None = None, private: bool = False,
            dry_run: Path | None = None, dataset_id: str = DEFAULT_DATASET_ID, api: Any = None) -> list[str]:
    """Stage the model repo and upload it in one commit, or only write it to dry_run."""
    if not (model_dir / "facedemo.json").is_file():
        raise HubError(f"{model_dir} is not a model folder (facedemo.json not found). Pass a training.train output.")
    if dry_run is not None:
        if dry_run.exists():
            shutil.rmtree(dry_run)
        files = stage_model(model_dir, repo_id, dry_run, dataset_id)
        logger.info("Dry run: wrote %d files to %s, uploaded nothing", len(files), dry_run)
        return files

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "repo"
        files = stage_model(model_dir, repo_id, folder, dataset_id)
        api = make_api(api)
        with hub_errors(repo_id):
            api.create_repo(repo_id, private=private, exist_ok=True)
            if revision:
                api.create_branch(repo_id, branch=revision, exist_ok=True)
            task = json.loads((folder / "facedemo.json").read_text())["task"]
            commit_folder(api, repo_id, folder, f"Upload FaceDemo {task} model", revision=revision)
    logger.info("Uploaded %d files to %s", len(files), repo_id)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.publish", description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path, help="a model folder written by training.train (with metrics.json)")
    parser.add_argument("repo_id", help="target model repo, e.g. you/facedemo-age")
    parser.add_argument("--revision", help="branch to upload to (created if missing); default: main")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--dry-run", type=Path, metavar="OUT", help="write the files to OUT and upload nothing")
    parser.add_argument("--dataset-id", default=DEFAULT_DATASET_ID, help="Hub dataset id named in the card")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        files = publish(args.model_dir, args.repo_id, args.revision, args.private, args.dry_run, args.dataset_id)
    except HubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
