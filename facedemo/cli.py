"""Command line: ``python -m facedemo predict PATH... [--no-detect] [--detector NAME]``.

Prints one JSON object per input file on its own line. A folder stands for every image in it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from facedemo.detection import DEFAULT_MIN_FACE_SIZE, DETECTORS, MIN_FACE_SIZE_LIMIT
from facedemo.errors import FaceDemoError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


def expand_paths(paths: list[str]) -> Iterator[Path]:
    """Yield each file argument, and for each folder the image files directly inside it, sorted.

    Subfolders are not searched. A folder without images gets a warning on stderr.
    """
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            yield path
            continue
        images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            print(f"warning: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) directly in folder {path}",
                  file=sys.stderr)
        yield from images


def _score(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def _face_size(text: str) -> int:
    value = int(text)
    if value < MIN_FACE_SIZE_LIMIT:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_FACE_SIZE_LIMIT} pixels, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m facedemo", description="Facial demographics from photos.")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser(
        "predict", help="analyse photos and print one JSON line per file",
        description="Exit status: 0 when every file was read, 1 when some file could not be read, "
                    "2 for invalid options or models that do not load.",
    )
    predict.add_argument("paths", nargs="+", metavar="PATH", help="image files, or folders whose images are read")
    predict.add_argument("--detector", default="mtcnn", choices=sorted(DETECTORS),
                         help="face detector (default: %(default)s)")
    predict.add_argument("--no-detect", action="store_true",
                         help="treat each image as one already-cropped face (same as --detector none)")
    predict.add_argument("--min-score", type=_score,
                         help="minimum detection score in [0, 1] (default: 0.9 for mtcnn, 0 for haar)")
    predict.add_argument("--min-face-size", type=_face_size, default=DEFAULT_MIN_FACE_SIZE,
                         help="minimum face size in pixels, at least 12 (default: %(default)s)")
    predict.add_argument("--max-faces", type=int, default=20,
                         help="analyse at most this many faces per image, largest first (default: %(default)s)")
    predict.add_argument("--classifier", metavar="DIR", help="local classifier model folder (default: Hub, then shipped)")
    predict.add_argument("--age-model", metavar="DIR", help="local age model folder (default: Hub, then shipped)")
    predict.add_argument("--flip", action="store_true", help="average each prediction with that of the mirrored face")
    predict.add_argument("-v", "--verbose", action="store_true", help="log progress and the model sources to stderr")
    return parser


def run_predict(args: argparse.Namespace) -> int:
    from facedemo.analyzer import Analyzer

    detector = "none" if args.no_detect else args.detector
    try:
        analyzer = Analyzer(detector=detector, min_face_size=args.min_face_size, min_score=args.min_score,
                            max_faces=args.max_faces, classifier_path=args.classifier,
                            age_model_path=args.age_model, flip=args.flip)
    except (FaceDemoError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    all_read = True
    for path in expand_paths(args.paths):
        try:
            faces = analyzer.analyze(path)
            line = {"file": str(path), "faces": [face.to_dict() for face in faces]}
        except FaceDemoError as error:
            all_read = False
            line = {"file": str(path), "error": str(error)}
        print(json.dumps(line), flush=True)
    return 0 if all_read else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hides most of TensorFlow's C++ start-up log lines
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.command == "predict":
        return run_predict(args)
    return 2
