"""The layers of the package and which may use which (read from the source's imports, nothing run).

cli → tasks → training (the engine) and models → nn, data, audio, embeddings → reference and the ground floor
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "seqlab"

# layer -> the seqlab layers it must never import
FORBIDDEN = {
    "models": {"training", "tasks", "cli"},
    "training": {"models", "tasks", "cli"},
    "nn": {"models", "training", "tasks", "cli", "data", "embeddings"},
    "data": {"models", "training", "tasks", "cli"},
    "audio": {"nn", "models", "training", "tasks", "cli", "data", "embeddings", "decode"},
    "embeddings": {"models", "training", "tasks", "cli"},
    "decode": {"training", "tasks", "cli"},
    "reference": {"nn", "models", "training", "tasks", "cli", "data", "embeddings", "decode"},
    "tasks": {"cli"},
    "metrics": {"nn", "models", "training", "tasks", "cli", "decode", "data", "embeddings"},
}


def imported_modules(path: Path) -> set[str]:
    """The absolute names of the modules a file imports, anywhere in it (function bodies included)."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            names.add(".".join([*base, *([node.module] if node.module else [])]))
    return names


def seqlab_imports(path: Path) -> set[str]:
    """The ``seqlab.X`` layers a module imports."""
    return {name.split(".")[1] for name in imported_modules(path) if name.startswith("seqlab.")}


def modules_of(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_reaches_up(layer):
    broken = {
        str(path.relative_to(PACKAGE)): sorted(seqlab_imports(path) & FORBIDDEN[layer]) for path in modules_of(layer)
    }
    assert {module: layers for module, layers in broken.items() if layers} == {}


def test_the_numpy_reference_imports_no_torch():
    for path in modules_of("reference"):
        assert not {name for name in imported_modules(path) if name.split(".")[0] == "torch"}, path


def test_the_seqlab_layers_named_here_are_the_packages_folders():
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").is_file()}
    assert set(FORBIDDEN) | {"cli"} == folders
