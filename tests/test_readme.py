"""The README's Python example runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def readme_example(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL)[1]


def test_the_python_example_trains_and_evaluates(tmp_path):
    code = readme_example("### From Python")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'perplexity'" in result.stdout and "out of vocabulary: 0 of" in result.stdout
    assert (tmp_path / "runs" / "notes" / "model.safetensors").is_file()
