"""The command line as a newcomer meets it: every --help works, answers at once, and `reference` needs no torch."""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqlab.cli import lm, reference
from seqlab.cli.main import build_parser

ROOT = Path(__file__).parents[1]
HEAVY_MODULES = ("torch", "numba", "numpy", "matplotlib", "safetensors")


def every_command(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The argument lists that name each command and command group, e.g. ("lm", "train")."""
    commands = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                commands += every_command(subparser, (*prefix, name))
    return commands


COMMANDS = every_command(build_parser())


def test_the_commands_are_all_found():
    assert {("lm", "train"), ("lm", "evaluate"), ("embed", "train"), ("reference", "train")} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command) or "seqlab")
def test_every_help_prints(command, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: seqlab")


@pytest.mark.parametrize(("command", "flag", "choices"), [
    (("tag", "train"), "--dropout-kind", ["standard", "locked"]),
    (("tag", "train"), "--output", ["crf", "softmax"]),
    (("classify", "train"), "--encoder", ["average", "rnn", "gru", "lstm"]),
])  # fmt: skip
def test_a_setting_with_named_choices_lists_them_in_its_help(command, flag, choices, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help lines
    assert f"{flag} TEXT one of " + ", ".join(f'"{choice}"' for choice in choices) in text


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)


def test_help_imports_neither_torch_nor_numba_nor_numpy():
    code = (
        "import sys\n"
        "from seqlab.cli.main import build_parser\n"
        "build_parser()\n"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_seqlab_help_answers_well_under_a_second():
    command = [sys.executable, "-m", "seqlab", "--help"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command, capture_output=True, env=env, check=True)  # warm the file cache
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, env=env, check=True)
    # Python itself starts in ~20 ms; importing torch alone would take ~1.1 s on this machine.
    assert time.perf_counter() - started < 0.9


TORCH_BLOCKED = """
import sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "numba"):
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, NoTorch())
from seqlab.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_numpy_reference_trains_without_torch(tmp_path):
    corpus = tmp_path / "text.txt"
    corpus.write_text("hello world, hello numpy\n" * 20)
    command = [sys.executable, "-c", TORCH_BLOCKED, "reference", "train", str(corpus), "--steps", "20", "--hidden",
               "8", "--seq-length", "10", "--print-every", "10", "--sample-every", "20"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "step     20" in result.stdout


def test_the_names_the_command_line_repeats_to_stay_light_agree_with_the_library():
    from seqlab.decode import SamplingConfig
    from seqlab.embeddings import word2vec_kernels
    from seqlab.embeddings.configs import ARCHITECTURES, LOSSES
    from seqlab.reference.char_lm import CELLS

    assert lm.SAMPLING_DEFAULTS == dataclasses.asdict(SamplingConfig())
    assert sorted(reference.CELL_KINDS) == sorted(CELLS)
    assert ARCHITECTURES == tuple(word2vec_kernels.ARCHITECTURES) and LOSSES == tuple(word2vec_kernels.LOSSES)


def test_none_given_to_an_optional_setting_overrides_the_presets_value():
    from seqlab.cli.config_flags import given_overrides
    from seqlab.cli.main import build_parser

    args = build_parser().parse_args(["speech", "train", "--out", "x", "--left-out-speaker", "none",
                                      "--max-minutes", "none", "--max-steps", "5"])  # fmt: skip
    overrides = given_overrides(args, ["model", "training", "data"])
    assert overrides["data"] == {"left_out_speaker": None}
    assert overrides["training"] == {"max_minutes": None, "max_steps": 5}
