"""The package's floors, read from the source: what classifier/ may import, how long a function
may grow."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = sorted((ROOT / "classifier").glob("*.py"))
TRAINING = sorted((ROOT / "training").glob("*.py"))
#: What the runtime never imports: scikit-learn and SciPy are training's, nltk is the tests'
#: reference, and a joblib pickle is read only by training.export after its checksum passes.
FORBIDDEN = ("sklearn", "scipy", "nltk")
MAX_FUNCTION_LINES = 60


def _imports(tree: ast.AST):
    """(node, module, names) of every import in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node, node.module, [a.name for a in node.names]


def _command_bodies(tree: ast.AST) -> set[int]:
    """Line numbers inside cli.py's top-level functions: command bodies and their helpers,
    which run only when a command runs."""
    lines = set()
    for node in tree.body:  # type: ignore[attr-defined]
        if isinstance(node, ast.FunctionDef):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


@pytest.mark.parametrize("path", RUNTIME, ids=lambda p: p.name)
def test_the_runtime_imports_no_training_library(path):
    tree = ast.parse(path.read_text())
    inside_commands = _command_bodies(tree) if path.name == "cli.py" else set()
    for node, module, names in _imports(tree):
        top = module.split(".")[0]
        where = f"{path.name}:{node.lineno}"
        assert top not in FORBIDDEN, f"{where} imports {module}"
        assert not (top == "joblib" and {"load", "dump"} & set(names)), f"{where} unpickles"
        if top == "training":
            assert node.lineno in inside_commands, f"{where} imports training outside a command"


def test_the_layer_check_would_catch_a_violation(tmp_path):
    bad = "import sklearn\nfrom joblib import load\n"
    found = [(m, n) for _, m, n in _imports(ast.parse(bad))]
    assert ("sklearn", []) in found and ("joblib", ["load"]) in found


@pytest.mark.parametrize("path", RUNTIME + TRAINING, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_function_runs_over_60_lines(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, (
                f"{path.name}:{node.lineno} {node.name}: {length} lines"
            )
