"""The reference and its command line run without torch."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["seqlab.reference", "seqlab.cli.reference"])
def test_importing_does_not_import_torch(module):
    code = f"import {module}, sys; assert 'torch' not in sys.modules, 'torch was imported'"

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
