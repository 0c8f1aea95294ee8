"""Benchmarks: model latency and throughput, TFLite, detection, the pipeline, the app, training.

    python -m facedemo.bench [--runs 100] [--out docs/BENCHMARKS.md] [--json FILE] [--quick]

Each figure is the median of ``--runs`` timed runs after warm-up, with the 25th-75th percentile
spread. Sections that need a fixed thread count run in their own subprocess, because TensorFlow
fixes its thread pools at start-up. ``--quick`` runs every section with few repetitions, as a
smoke test; its numbers are not meaningful.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def timed(function: Callable[[], Any], runs: int, warmup: int = 3) -> dict[str, float]:
    """Run function warmup times untimed, then runs times; return median and quartiles in ms."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000.0)
    p25, median, p75 = np.percentile(samples, [25, 50, 75])
    return {"median_ms": float(median), "p25_ms": float(p25), "p75_ms": float(p75), "runs": runs}


def _set_threads(threads: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def _test_photo(faces: int) -> np.ndarray:
    """Build a 640x480 photo: scikit-image's astronaut, or a grid of her face repeated ``faces`` times."""
    from PIL import Image
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())
    if faces == 1:
        return np.asarray(astronaut.resize((480, 480)).crop((-80, 0, 560, 480)))
    canvas = Image.new("RGB", (640, 480), (90, 90, 90))
    head = astronaut.crop((140, 20, 300, 220)).resize((160, 200))
    for i in range(faces):
        canvas.paste(head, (20 + (i % 3) * 210, 20 + (i // 3) * 240))
    return np.asarray(canvas)


def section_models(runs: int) -> dict[str, Any]:
    """Per-face latency at batch 1 on one thread, Keras and TFLite."""
    _set_threads(1)
    import tensorflow as tf

    from facedemo.predictor import _compiled_call
    from facedemo.weights import resolve_model
    from training.export import export_tflite

    results: dict[str, Any] = {}
    calls = {}
    for task in ("classifier", "age"):
        loaded = resolve_model(task, repo="")
        batch = np.random.default_rng(0).integers(0, 255, (1, loaded.input_size, loaded.input_size, 3)).astype(np.float32)
        call = _compiled_call(loaded.model)
        calls[task] = (call, batch)
        results[f"keras_{task}_batch1_1thread"] = timed(lambda: call(batch), runs)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.tflite"
            export_tflite(loaded.model, path)
            interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=1)
            runner = interpreter.get_signature_runner("serving_default")
            results[f"tflite_{task}_batch1_1thread"] = timed(lambda: runner(image=batch), runs)
    results["keras_both_batch1_1thread"] = timed(lambda: [c(b) for c, b in calls.values()], runs)
    return results


def section_throughput(runs: int) -> dict[str, Any]:
    """Faces per second for both models at batch 32 on all cores."""
    from facedemo.predictor import _compiled_call
    from facedemo.weights import resolve_model

    calls = []
    for task in ("classifier", "age"):
        loaded = resolve_model(task, repo="")
        batch = np.random.default_rng(0).integers(0, 255, (32, loaded.input_size, loaded.input_size, 3)).astype(np.float32)
        calls.append((_compiled_call(loaded.model), batch))
    timing = timed(lambda: [c(b) for c, b in calls], max(3, runs // 5))
    timing["faces_per_second"] = 32 * 1000.0 / timing["median_ms"]
    timing["threads"] = os.cpu_count()
    return {"both_batch32_all_cores": timing}


def section_pipeline(runs: int) -> dict[str, Any]:
    """Detection per 640x480 photo for each detector, and the whole pipeline with one and five faces."""
    from facedemo.analyzer import Analyzer
    from facedemo.detection import get_detector

    one_face, five_faces = _test_photo(1), _test_photo(5)
    results: dict[str, Any] = {}
    for name in ("mtcnn", "haar"):
        detector = get_detector(name)
        results[f"detect_{name}_640x480"] = timed(lambda: detector.detect(one_face), runs)
        results[f"detect_{name}_640x480"]["faces_found"] = len(detector.detect(one_face))
    analyzer = Analyzer(detector="mtcnn")
    for label, photo in (("1_face", one_face), ("5_faces", five_faces)):
        key = f"pipeline_mtcnn_640x480_{label}"
        results[key] = timed(lambda: analyzer.analyze(photo), runs)
        results[key]["faces_found"] = len(analyzer.analyze(photo))

    from facedemo.ui import DemoHandlers

    handlers = DemoHandlers(analyzer)  # the live webcam handler: detection, models, smoothing, drawing
    smoother = handlers.analyze_frame(one_face, None)[1]
    results["live_frame_640x480"] = timed(lambda: handlers.analyze_frame(one_face, smoother), runs)
    results["live_frame_640x480"]["frames_per_second"] = 1000.0 / results["live_frame_640x480"]["median_ms"]
    return results


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def section_app(runs: int) -> dict[str, Any]:
    """Measure ``python app.py`` from process start to its first response, and its peak resident memory."""
    from gradio_client import Client, handle_file
    from PIL import Image

    port = _free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1", HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.png"
        Image.fromarray(_test_photo(1)).save(photo)
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client = None
            while client is None:
                if process.poll() is not None:
                    raise RuntimeError(f"app.py exited with status {process.returncode} during start-up")
                if time.perf_counter() - started > 180:
                    raise TimeoutError("app.py did not respond within 180 s")
                try:
                    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                except Exception:  # not listening yet
                    time.sleep(0.2)
            client.predict(handle_file(str(photo)), "mtcnn", 0.9, False, api_name="/predict")
            cold_start = time.perf_counter() - started
            for _ in range(max(1, runs // 10)):
                client.predict(handle_file(str(photo)), "mtcnn", 0.9, False, api_name="/predict")
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak_kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {"app_cold_start": {"seconds": cold_start}, "app_peak_rss": {"mib": peak_kib / 1024.0}}


def section_training(runs: int) -> dict[str, Any]:
    """Training images per second for the default and the reference classifier presets, same run."""
    import keras

    from training.architectures import build_model, get_preset
    from training.data import Arrays, make_dataset
    from training.train import _compile

    results: dict[str, Any] = {}
    steps = max(3, runs // 10)
    for name in ("compact64", "reference"):
        preset = get_preset("classifier", name)
        rows = preset.batch_size * steps
        rng = np.random.default_rng(0)
        arrays = Arrays(images=rng.integers(0, 255, (rows, preset.input_size, preset.input_size, 3), dtype=np.uint8),
                        age=rng.integers(1, 90, rows).astype(np.int32), gender=rng.integers(0, 2, rows).astype(np.int32),
                        age_group=np.zeros(rows, np.int32), race=np.zeros(rows, np.int32),
                        file_name=np.array([str(i) for i in range(rows)]))
        arrays.age_group = (arrays.age // 25).astype(np.int32)
        model = build_model("classifier", preset)
        _compile(model, "classifier", preset, preset.learning_rate)
        dataset = make_dataset(arrays, "classifier", preset, training=True)
        model.fit(dataset, epochs=1, verbose=0)  # warm-up: tracing and first allocations
        started = time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0)
        seconds = time.perf_counter() - started
        keras.backend.clear_session()
        results[f"train_classifier_{name}"] = {"images_per_second": rows / seconds, "rows_timed": rows,
                                               "input_size": preset.input_size}
    default, reference = (results[f"train_classifier_{n}"]["images_per_second"] for n in ("compact64", "reference"))
    results["train_reference_over_default_time_ratio"] = {"ratio": default / reference}
    return results


SECTIONS = {"models": (section_models, 1), "throughput": (section_throughput, None),
            "pipeline": (section_pipeline, None), "app": (section_app, None), "training": (section_training, None)}


def _run_section(name: str, runs: int) -> dict[str, Any]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", HF_HUB_OFFLINE="1")
    output = subprocess.run([sys.executable, "-m", "facedemo.bench", "--section", name, "--runs", str(runs)],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    if output.returncode != 0:
        raise RuntimeError(f"benchmark section {name} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def machine_info() -> dict[str, str]:
    import importlib.metadata as metadata

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                    if line.startswith("model name")), cpu)
    versions = {p: metadata.version(p) for p in ("tensorflow", "keras", "mtcnn", "opencv-python-headless", "gradio")}
    return {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            **versions, "date": dt.date.today().isoformat()}


TARGETS = {
    "keras_both_batch1_1thread": ("median_ms", 10.0, "both models, per face, batch 1, one thread"),
    "pipeline_mtcnn_640x480_1_face": ("median_ms", 150.0, "whole pipeline with MTCNN, 640x480, one face"),
    "live_frame_640x480": ("median_ms", 200.0, "live webcam frame (5 frames/s)"),
    "app_cold_start": ("seconds", 15.0, "app cold start"),
    "app_peak_rss": ("mib", 1536.0, "app peak resident memory"),
}


def render_markdown(results: dict[str, Any], info: dict[str, str], command: str) -> str:
    lines = ["# Benchmarks", "", f"Command: `{command}`", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), "",
             "| measurement | value | spread (p25-p75) | runs |", "| --- | --- | --- | --- |"]
    for key, value in results.items():
        if "median_ms" in value:
            extra = f" ({value['faces_per_second']:.0f} faces/s)" if "faces_per_second" in value else ""
            extra = f" ({value['frames_per_second']:.1f} frames/s)" if "frames_per_second" in value else extra
            lines.append(f"| {key} | {value['median_ms']:.2f} ms{extra} | {value['p25_ms']:.2f}-{value['p75_ms']:.2f} ms "
                         f"| {value['runs']} |")
        elif "images_per_second" in value:
            lines.append(f"| {key} | {value['images_per_second']:.0f} images/s (input {value['input_size']}) | - | "
                         f"{value['rows_timed']} images |")
        else:
            (unit, number), = value.items()
            lines.append(f"| {key} | {number:.2f} {unit} | - | 1 |")
    lines += ["", "## Targets", "", "| target | limit | measured | met |", "| --- | --- | --- | --- |"]
    for key, (field, limit, label) in TARGETS.items():
        if key in results:
            measured = results[key][field]
            lines.append(f"| {label} | {limit:g} {field.replace('_', ' ')} | {measured:.2f} | "
                         f"{'yes' if measured <= limit else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m facedemo.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="timed runs per measurement")
    parser.add_argument("--quick", action="store_true", help="few runs of every section: a smoke test, not a measurement")
    parser.add_argument("--out", type=Path, help="write a Markdown report here")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--section", choices=sorted(SECTIONS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.section:  # child process: one section, JSON on the last line of stdout
        function, threads = SECTIONS[args.section]
        print(json.dumps(function(args.runs)))
        return 0

    runs = 3 if args.quick else args.runs
    results: dict[str, Any] = {}
    for name in args.only or SECTIONS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.update(_run_section(name, runs))
    command = "python -m facedemo.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    report = render_markdown(results, machine_info(), command.strip())
    if args.out:
        args.out.write_text(report)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
