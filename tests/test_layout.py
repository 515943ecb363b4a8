"""The layout's measures (README, "Layout"): layers import one way, no cycles, small
modules and functions."""

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "wizard"
# A module may import from its own layer or any layer below it.
LAYERS = (
    ("wizard.models", 0),
    ("wizard.status", 0),
    ("wizard.platform", 0),
    ("wizard.constant_contact", 1),
    ("wizard.domain", 2),
    ("wizard.web", 3),
    ("wizard.cli", 4),
    ("wizard.sandbox", 4),
    ("wizard", 5),
)
# The app factory imports blueprints and commands inside its functions, as flaskr's
# create_app does; nothing else imports a wizard module inside a function.
FACTORY = {
    "wizard._register_web",
    "wizard._after_registration",
    "wizard._init_commands",
}
MOST_LINES = 250
MOST_FUNCTION_LINES = 50


def modules() -> dict[str, ast.Module]:
    """Return each wizard module's parsed source by dotted name, the sandbox aside."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith("wizard.sandbox"):
            found[name] = ast.parse(path.read_text(), str(path))
    return found


def source(name: str) -> str:
    """Return a wizard module's source text by its dotted name."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return file.read_text()


def layer(name: str) -> int:
    """Return the layer of a dotted module name."""
    for prefix, number in LAYERS:
        if name == prefix or name.startswith(prefix + "."):
            return number
    raise AssertionError(f"{name} is in no layer")


def imported(node: ast.stmt, names: set[str]) -> list[str]:
    """Return the wizard modules an import loads (its names, or its module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.startswith("wizard")]
    if not isinstance(node, ast.ImportFrom) or node.level:
        return []
    base = node.module or ""
    if base != "wizard" and not base.startswith("wizard."):
        return []
    return [
        f"{base}.{alias.name}" if f"{base}.{alias.name}" in names else base
        for alias in node.names
    ]


def module_level_imports() -> dict[str, set[str]]:
    """Return, for each module, the wizard modules it imports at its top level."""
    found = modules()
    return {
        name: {target for node in tree.body for target in imported(node, set(found))}
        - {name}
        for name, tree in found.items()
    }


def functions(tree: ast.Module, prefix: str) -> Iterator[tuple[str, ast.AST]]:
    """Yield every function in the tree with its dotted name."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}.{node.name}", node
        if isinstance(node, ast.ClassDef):
            for inner in node.body:
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{prefix}.{node.name}.{inner.name}", inner


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{name} -> {target}"
        for name, targets in module_level_imports().items()
        for target in targets
        if layer(target) > layer(name)
        and not (target != "wizard" and name.startswith(target + "."))
    ]
    assert upward == []


def test_no_import_cycle() -> None:
    edges = module_level_imports()
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        for target in sorted(edges.get(name, ())):
            if target in path:
                cycles.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in done:
                visit(target, path + [target])
        done.add(name)

    done: set[str] = set()
    for start in sorted(edges):
        if start not in done:
            visit(start, [start])
    # A package's __init__ imports its own views: that is registration, not a cycle.
    assert [c for c in cycles if not registration(c)] == []


def registration(cycle: str) -> bool:
    """Return whether a cycle is a blueprint package and its own views module."""
    names = cycle.split(" -> ")
    return len(set(names)) == 2 and names[1].startswith(names[0] + ".")


def test_no_wizard_import_inside_a_function_but_the_factory() -> None:
    found = modules()
    late = [
        f"{function} imports {target}"
        for name, tree in found.items()
        for function, node in functions(tree, name)
        if function not in FACTORY
        for inner in ast.walk(node)
        if isinstance(inner, (ast.Import, ast.ImportFrom))
        for target in imported(inner, set(found))
    ]
    assert late == []


def test_no_relative_imports() -> None:
    relative = [
        name
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level
    ]
    assert relative == []


def test_modules_and_functions_stay_small() -> None:
    big = []
    for name, tree in modules().items():
        lines = len(source(name).splitlines())
        if lines > MOST_LINES:
            big.append(f"{name}: {lines} lines")
        for function, node in functions(tree, name):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            length = node.end_lineno - start + 1
            if length > MOST_FUNCTION_LINES:
                big.append(f"{function}: {length} lines")
    assert big == []


def test_no_test_module_imports_another_or_conftest() -> None:
    # Shared helpers live in tests/helpers/; fixtures in conftest.py, which pytest
    # loads itself. A test module or conftest imported by name is a second copy.
    tests = Path(__file__).resolve().parent
    found = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                base = node.module or ""
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            found += [
                f"{path.relative_to(tests.parent)} imports {name}"
                for name in names
                if any(
                    part == "conftest" or part.startswith("test_")
                    for part in name.split(".")
                )
            ]
    assert found == []
