"""Gradio entry point: ``python app.py`` serves the FaceDemo app.

Binds to 127.0.0.1:7860 unless GRADIO_SERVER_NAME or GRADIO_SERVER_PORT set another address.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from facedemo.analyzer import Analyzer  # noqa: E402
from facedemo.ui import MAX_UPLOAD, build_demo  # noqa: E402

logger = logging.getLogger("facedemo.app")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    analyzer = Analyzer()
    for task, source in analyzer.model_sources.items():
        logger.info("Using %s model from %s", task, source)
    demo = build_demo(analyzer)
    demo.launch(max_file_size=MAX_UPLOAD, show_error=False)


if __name__ == "__main__":
    main()
