"""The suite's rule that an oracle test may not pass by skipping (tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).with_name("conftest.py")


def run_suite(tmp_path: Path, test_source: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text())
    (tmp_path / "test_example.py").write_text(test_source)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)


def test_a_test_skipped_for_a_missing_oracle_fails_the_run(tmp_path):
    result = run_suite(tmp_path, "import pytest\ngensim = pytest.importorskip('no_such_oracle_module')\n"
                       "def test_against_the_oracle():\n    assert gensim\n")  # fmt: skip
    assert result.returncode == 1, result.stdout
    assert "skipped tests that must not skip" in result.stdout


def test_a_cuda_only_test_may_skip(tmp_path):
    source = (
        "import pytest\n"
        "@pytest.mark.skipif(True, reason='needs CUDA')\n"
        "def test_on_the_gpu():\n    assert False\n"
        "def test_on_the_cpu():\n    assert True\n"
    )
    result = run_suite(tmp_path, source)
    assert result.returncode == 0, result.stdout
