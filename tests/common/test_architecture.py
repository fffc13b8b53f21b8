"""The house rules that hold the shape of the code, read from the source (STYLE.md)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = ("tasks_app", "tests", "bench", "tools")
MAX_LINES = 600


def python_files(*packages: str):
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def is_private(name: str) -> bool:
    """_name, not __dunder__ (and not gettext's _ alone)."""
    return name.startswith("_") and name != "_" and not name.endswith("__")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_our_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    is_module = path.with_suffix(".py").exists() or (path / "__init__.py").exists()
    return dotted.split(".")[0] in OUR_PACKAGES and is_module


def imported_from(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join([*package, node.module] if node.module else package)


def module_aliases(path: Path, tree: ast.AST) -> dict[str, str]:
    """Local name -> our module it stands for, from the file's imports."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in OUR_PACKAGES:
                    local = alias.asname or alias.name.split(".")[0]
                    aliases[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom):
            source = imported_from(path, node)
            for alias in node.names:
                if is_our_module(f"{source}.{alias.name}"):
                    aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
    return aliases


def private_reads(path: Path) -> list[str]:
    """`from x import _name`, and `module._name` read off one of our imported modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = imported_from(path, node)
            found += [
                f"line {node.lineno}: from {source} import {alias.name}"
                for alias in node.names
                if is_private(alias.name)
            ]
    aliases = module_aliases(path, tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and is_private(node.attr)):
            continue
        chain, base = [], node.value
        while isinstance(base, ast.Attribute):
            chain.insert(0, base.attr)
            base = base.value
        if isinstance(base, ast.Name) and base.id in aliases:
            module = ".".join([aliases[base.id], *chain])
            if is_our_module(module):
                found.append(f"line {node.lineno}: {module}.{node.attr}")
    return [f"{path.relative_to(ROOT)} {line}" for line in found]


def names_used(path: Path) -> set[str]:
    """Every name, attribute and imported name in the code (not in strings or comments)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add(node.name.rsplit(".", 1)[-1])
    return names


def test_no_module_uses_another_modules_private_names():
    offenders = [line for path in python_files(*OUR_PACKAGES) for line in private_reads(path)]
    assert not offenders, "make what is shared public, or test through the public API:\n" + (
        "\n".join(offenders)
    )


def test_the_private_names_check_finds_both_kinds_of_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "tasks_app" / "feature").mkdir(parents=True)
    for name in ("tasks_app/__init__.py", "tasks_app/feature/__init__.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "tasks_app" / "feature" / "services.py").write_text("def _helper(): ...\n")
    reader = tmp_path / "tasks_app" / "reader.py"
    reader.write_text(
        "from tasks_app.feature import services\n"
        "from tasks_app.feature.services import _helper\n"
        "from django.utils.translation import gettext as _\n"
        "services._helper()\n"
        "services.__name__\n"
        "self._cache, request._state\n"
    )
    assert private_reads(reader) == [
        "tasks_app/reader.py line 2: from tasks_app.feature.services import _helper",
        "tasks_app/reader.py line 4: tasks_app.feature.services._helper",
    ]


def test_no_tasks_app_module_is_over_600_lines():
    long = {}
    for path in python_files("tasks_app"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if "migrations" not in path.parts and lines > MAX_LINES:
            long[str(path.relative_to(ROOT))] = lines
    assert not long, f"split a module by subject when it passes {MAX_LINES} lines: {long}"


def test_no_tasks_app_module_listens_for_model_saves():
    """Notifications are scheduled by the services that make the change, not by save signals."""
    listening = [
        str(path.relative_to(ROOT))
        for path in python_files("tasks_app")
        if names_used(path) & {"post_save", "pre_save"}
    ]
    assert not listening, f"post_save / pre_save in {listening}"
