"""seqlab.metrics is torch-free: importing and scoring never loads torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_scoring_imports_no_torch():
    code = (
        "import sys\n"
        "from seqlab.metrics import corpus_bleu, corpus_chrf, entity_statistics, paired_bootstrap\n"
        "corpus_bleu(['a b'], [['a b']]); corpus_chrf(['a b'], [['a b']])\n"
        "entity_statistics([['B-PER']], [['B-PER']], mode='strict', scheme='BIO')\n"
        "from seqlab.metrics import confusion_matrix, corpus_cer, corpus_wer, process_words\n"
        "corpus_wer(['a b'], ['a c']); corpus_cer(['a b'], ['a c']); process_words('a', 'b')\n"
        "confusion_matrix(['a'], ['b'])\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
