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

from facedemo.detection import DEFAULT_MIN_FACE_SIZE, DETECTORS
from facedemo.errors import FaceDemoError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


def expand_paths(paths: list[str]) -> Iterator[Path]:
    """Yield each file argument, and for each folder its image files in sorted order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m facedemo", description="Facial demographics from photos.")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser(
        "predict", help="analyse photos and print one JSON line per file",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    predict.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders of images")
    predict.add_argument("--detector", default="mtcnn", choices=sorted(DETECTORS), help="face detector")
    predict.add_argument("--no-detect", action="store_true",
                         help="treat each image as one already-cropped face (same as --detector none)")
    predict.add_argument("--min-score", type=float, help="minimum detection score in [0, 1] (default: per detector)")
    predict.add_argument("--min-face-size", type=int, default=DEFAULT_MIN_FACE_SIZE, help="minimum face size in pixels")
    predict.add_argument("--max-faces", type=int, default=20, help="analyse at most this many faces per image, largest first")
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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow C++ start-up chatter off stderr
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.command == "predict":
        return run_predict(args)
    return 2
