"""Measure the face geometry of the UTKFace chips with the project's detectors.

    python scripts/measure_geometry.py [ARCHIVE_OR_FOLDER] [--count N]

Prints the median MTCNN landmarks in 200x200 chip pixels (the CHIP_LANDMARKS of
facedemo.alignment) and the median landmarks relative to the Haar box (HAAR_RELATIVE_LANDMARKS
of facedemo.detection), with their spread.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facedemo.detection import HaarDetector, MTCNNDetector  # noqa: E402
from training.data import decode_image  # noqa: E402
from training.utkface import iter_source  # noqa: E402

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "UTKFace.tar.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("source", nargs="?", default=str(DEFAULT_SOURCE), help="UTKFace archive or folder of chips")
    parser.add_argument("--count", type=int, default=2000, help="number of chips to sample")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    args = parser.parse_args()

    chips = list(iter_source(args.source))
    random.Random(args.seed).shuffle(chips)
    mtcnn, haar = MTCNNDetector(), HaarDetector()

    points, relative, sizes = [], [], []
    for _, data in chips[: args.count]:
        image = decode_image(data)
        faces = mtcnn.detect(image, min_score=0.9)
        if len(faces) != 1:
            continue
        landmarks = faces[0].landmarks
        points.append(landmarks)
        sizes.append(image.shape[:2])
        boxes = haar.detect(image)
        if len(boxes) == 1:
            x, y, w, h = boxes[0].box
            relative.append((landmarks - np.array([x, y])) / np.array([w, h]))

    points_array = np.array(points)
    print(f"MTCNN found exactly one face in {len(points)} of {min(args.count, len(chips))} chips; "
          f"chip sizes {sorted(set(map(tuple, sizes)))}")
    print("CHIP_LANDMARKS (median, chip pixels):")
    print(np.round(np.median(points_array, axis=0), 1).tolist())
    print("interquartile range per coordinate:")
    print(np.round(np.subtract(*np.percentile(points_array, [75, 25], axis=0)), 1).tolist())
    if relative:
        print(f"HAAR_RELATIVE_LANDMARKS (median over {len(relative)} chips where Haar found one face):")
        print(np.round(np.median(np.array(relative), axis=0), 3).tolist())
    return 0


if __name__ == "__main__":
    sys.exit(main())
