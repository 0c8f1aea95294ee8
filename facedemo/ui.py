"""The Gradio demo: a photo from upload, webcam or clipboard, or a live webcam stream."""

from __future__ import annotations

import html
import logging
import time
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from facedemo.analyzer import Analyzer, Face
from facedemo.detection import DETECTORS
from facedemo.errors import FaceDemoError
from facedemo.imaging import MAX_PIXELS, load_image
from facedemo.labels import AGE_GROUPS
from facedemo.render import draw_faces
from facedemo.smoothing import FaceSmoother

logger = logging.getLogger(__name__)

MAX_UPLOAD = "20mb"
# Gradio keeps uploads in its temporary folder; every 10 minutes, delete those older than 10 minutes.
DELETE_CACHE = (600, 600)
CONCURRENCY_LIMIT = 2
# With its networks compiled, MTCNN is faster than the Haar cascade (about 50 against 75 ms per
# 640x480 frame, docs/BENCHMARKS.md) and gives landmarks for alignment, so live mode uses it too.
LIVE_DETECTOR = "mtcnn"
LIVE_INTERVAL_SECONDS = 0.15

NO_FACE_HINT = (
    "No face found. If the photo is already a close crop of one face, tick "
    "<b>The photo is already a cropped face</b> and try again, or lower the minimum face score."
)

ABOUT = """
**What this does.** It finds each face and estimates gender, age group and age with a range
meant to hold the true age 4 times in 5. Both models are small CNNs trained from scratch on
UTKFace (about 17,000 faces, non-commercial research licence).

**What it cannot do.** Gender is predicted as one of two labels, as UTKFace records it, and tells
nothing about how a person identifies. It is wrong often enough to see in the examples: it labels
Grace Hopper, photographed in uniform, as male. Errors are larger for children, people over 70 and faces
that are small, blurred, turned away or lit harshly; UTKFace's uneven mix of ethnicities affects
accuracy too. The output is a guess about appearance: do not use it to make decisions about people.
"""


def _face_card(index: int, face: Face) -> str:
    bars = "".join(
        f"<div style='display:flex;align-items:center;gap:6px;font-size:0.85em'>"
        f"<span style='width:58px'>{html.escape(group)}</span>"
        f"<span style='flex:1;background:#eee;height:10px;border-radius:3px'>"
        f"<span style='display:block;height:10px;border-radius:3px;background:#457b9d;width:{100 * p:.0f}%'></span></span>"
        f"<span style='width:40px;text-align:right'>{100 * p:.0f}%</span></div>"
        for group, p in ((g, face.age_group_probabilities[g]) for g in AGE_GROUPS)
    )
    low, high = face.age_range
    return (
        f"<div style='border:1px solid #ccc;border-radius:6px;padding:8px;margin-bottom:8px'>"
        f"<b>Face #{index}</b> (detection score {face.score:.2f})<br>"
        f"Gender: <b>{face.gender}</b> ({100 * face.gender_probability:.0f}%)<br>"
        f"Age: <b>{face.age:.0f}</b> years (likely {low:.0f}-{high:.0f})<br>"
        f"Age group: <b>{face.age_group}</b>{bars}</div>"
    )


def _message(text: str) -> str:
    return f"<div style='padding:8px;border-left:4px solid #e9c46a'>{text}</div>"


class DemoHandlers:
    """Event handlers of the demo; each returns a message instead of raising to the page."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def _analyze(self, image: Any, detector: str, min_score: float | None, cropped: bool):
        pixels = load_image(image)
        faces = self.analyzer.analyze(pixels, detector="none" if cropped else detector, min_score=min_score)
        return pixels, faces

    def analyze_photo(self, image: Any, detector: str, min_score: float, cropped: bool):
        """Return the annotated photo, the per-face details as HTML and all faces as JSON.

        The event runs with Gradio's preprocessing off, so a file that Pillow cannot open reaches
        our loader and gets its clear message instead of failing inside Gradio. ``image`` is
        therefore the raw upload payload.
        """
        image = _payload_path(image)
        if image is None:
            return None, _message("Upload a photo, take one with the webcam or paste one from the clipboard."), {}
        started = time.perf_counter()
        try:
            pixels, faces = self._analyze(image, detector, min_score, cropped)
        except FaceDemoError as error:
            logger.info("Rejected input: %s", error)
            return None, _message(html.escape(_public_message(error))), {"error": _public_message(error)}
        except Exception:
            logger.exception("Analysis failed")
            return None, _message("Something went wrong while analysing this image. Try another photo."), {}
        logger.info("Analysed photo: %d faces in %.0f ms", len(faces), 1000 * (time.perf_counter() - started))

        result = {"faces": [face.to_dict() for face in faces]}
        if not faces:
            return pixels, _message(NO_FACE_HINT), result
        cards = "".join(_face_card(i, face) for i, face in enumerate(faces, start=1))
        return draw_faces(pixels, faces), cards, result

    def predict(self, file: str | None, detector: str = "mtcnn", min_score: float = 0.9,
                cropped: bool = False) -> dict[str, Any]:
        """API endpoint: the CLI's JSON fields for every face, or an error message."""
        if file is None:
            return {"error": "No image was sent."}
        try:
            _, faces = self._analyze(file, detector, min_score, cropped)
        except FaceDemoError as error:
            logger.info("Rejected API input: %s", error)
            return {"error": _public_message(error)}
        except Exception:
            logger.exception("API analysis failed")
            return {"error": "Analysis failed on the server. Try another image."}
        return {"faces": [face.to_dict() for face in faces]}

    def analyze_frame(self, frame: np.ndarray | None, smoother: FaceSmoother | None):
        """Annotate one webcam frame with LIVE_DETECTOR, smoothing predictions per face."""
        smoother = smoother or FaceSmoother()
        if frame is None:
            return None, smoother
        try:
            faces = self.analyzer.analyze(frame, detector=LIVE_DETECTOR)
        except FaceDemoError as error:
            logger.info("Skipped webcam frame: %s", error)
            return frame, smoother
        except Exception:
            logger.exception("Webcam frame analysis failed")
            return frame, smoother
        return draw_faces(frame, smoother.update(faces)), smoother


def _payload_path(payload: Any) -> str | None:
    """Return the file path of an unprocessed Gradio image payload (a dict or FileData), or None."""
    if payload is None or isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        return payload.get("path")
    return getattr(payload, "path", None)


def _public_message(error: FaceDemoError) -> str:
    """Drop server-side temporary paths from an error before it is shown to a visitor."""
    text = str(error)
    for token in text.split():
        if "/" in token and ("gradio" in token or token.startswith("/tmp")):
            text = text.replace(token, "the uploaded file" + ("." if token.endswith(".") else ""))
    return text


def example_paths() -> list[str]:
    """Return public-domain example photos that installed packages ship, where present."""
    candidates = []
    try:
        import skimage

        candidates.append(Path(skimage.__file__).parent / "data" / "astronaut.png")
    except ImportError:
        pass
    import matplotlib

    candidates.append(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")
    return [str(p) for p in candidates if p.is_file()]


def build_demo(analyzer: Analyzer) -> gr.Blocks:
    """Build the Blocks app around an analyzer; the caller launches it."""
    handlers = DemoHandlers(analyzer)
    sources = ", ".join(f"{task}: {source}" for task, source in analyzer.model_sources.items())

    with gr.Blocks(title="FaceDemo: gender, age group and age", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# FaceDemo\nGender, age group and age for every face in a photo.")
        with gr.Tab("Photo"):
            with gr.Row():
                with gr.Column():
                    photo = gr.Image(label="Photo", type="filepath", image_mode=None,
                                     sources=["upload", "webcam", "clipboard"])
                    detector = gr.Dropdown(choices=[n for n in DETECTORS if n != "none"], value="mtcnn",
                                           label="Face detector (mtcnn: finds turned and tilted faces; haar: upright faces only)")
                    min_score = gr.Slider(0.0, 1.0, value=0.9, step=0.01, label="Minimum face score")
                    cropped = gr.Checkbox(label="The photo is already a cropped face (skip detection)")
                    run = gr.Button("Analyse", variant="primary")
                with gr.Column():
                    annotated = gr.Image(label="Faces found", type="numpy", interactive=False, elem_id="annotated")
                    details = gr.HTML(label="Per-face details", elem_id="details")
            faces_json = gr.JSON(label="All faces (same fields as the CLI)")
            examples = example_paths()
            if examples:
                gr.Examples(examples=[[p] for p in examples], inputs=[photo], label="Public-domain examples")

        with gr.Tab("Live webcam"):
            gr.Markdown("Analyses webcam frames as they stream, with the MTCNN detector. "
                        "Ages are averaged per face over recent frames.")
            with gr.Row():
                live_input = gr.Image(label="Webcam", sources=["webcam"], streaming=True, type="numpy")
                live_output = gr.Image(label="Live result", type="numpy", interactive=False)
            smoother = gr.State(None)

        with gr.Accordion("About the models", open=False):
            gr.Markdown(ABOUT + f"\n\nModels in use: {sources}. Images over {MAX_PIXELS:,} pixels or "
                        f"{MAX_UPLOAD} are rejected. Uploads stay in the server's temporary folder for "
                        "about 10 to 20 minutes, then are deleted; nothing else is stored.")

        inputs = [photo, detector, min_score, cropped]
        run.click(handlers.analyze_photo, inputs, [annotated, details, faces_json], api_name="analyze",
                  concurrency_limit=CONCURRENCY_LIMIT, preprocess=False)
        api_file = gr.File(visible=False, type="filepath", label="Image file")
        api_result = gr.JSON(visible=False)
        api_button = gr.Button(visible=False)
        api_button.click(handlers.predict, [api_file, detector, min_score, cropped], api_result,
                         api_name="predict", concurrency_limit=CONCURRENCY_LIMIT)
        live_input.stream(handlers.analyze_frame, [live_input, smoother], [live_output, smoother],
                          stream_every=LIVE_INTERVAL_SECONDS, concurrency_limit=CONCURRENCY_LIMIT,
                          api_visibility="undocumented")

    demo.queue(max_size=32)
    return demo
