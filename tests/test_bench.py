"""The benchmark entry point runs on a tiny setting and writes its report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from facedemo.bench import render_markdown, timed
from tests.conftest import REPO_ROOT


def test_timed_reports_median_and_quartiles():
    result = timed(lambda: None, runs=5, warmup=1)
    assert result["runs"] == 5
    assert result["p25_ms"] <= result["median_ms"] <= result["p75_ms"]


def test_report_marks_missed_target():
    results = {"keras_both_batch1_1thread": {"median_ms": 12.0, "p25_ms": 11.0, "p75_ms": 13.0, "runs": 5}}
    report = render_markdown(results, {"cores": "2"}, "python -m facedemo.bench")
    assert "| keras_both_batch1_1thread | 12.00 ms | 11.00-13.00 ms | 5 |" in report
    assert "| both models, per face, batch 1, one thread | 10 median ms | 12.00 | NO |" in report


@pytest.mark.slow
def test_bench_quick_writes_report(tmp_path):
    out, raw = tmp_path / "BENCH.md", tmp_path / "bench.json"
    subprocess.run([sys.executable, "-m", "facedemo.bench", "--quick", "--only", "models", "pipeline",
                    "--out", str(out), "--json", str(raw)], cwd=REPO_ROOT, check=True, capture_output=True,
                   timeout=600)
    results = json.loads(raw.read_text())
    assert results["keras_both_batch1_1thread"]["runs"] == 3
    assert results["detect_mtcnn_640x480"]["faces_found"] == 1
    assert results["pipeline_mtcnn_640x480_5_faces"]["faces_found"] == 5
    report = out.read_text()
    assert "tflite_age_batch1_1thread" in report
    assert "## Targets" in report
