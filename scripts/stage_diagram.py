"""Prints the README's picture of the stages: a Mermaid flowchart of labelspark's packages and
the imports between them, read from the code (ast), so that the picture is the code's.

    python scripts/stage_diagram.py        # the fenced block the README's Layout section holds

A package stands for all its modules (`compute.derived` is `compute`); `kinds`, `errors` and
`timeutil` are one foundation box, and the arrows into it are left out: any package may use it.
An arrow A --> B says that some module of A imports one of B (inside a function too).
*tests/test_layout.py* checks that the README holds what this prints.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "labelspark"
FOUNDATION = ("kinds", "errors", "timeutil", "blocks")
# the boxes top to bottom, grouped as the README's Layout section tells them
GROUPS = {
    "foundation": ["foundation", "config", "rules"],
    "engine": ["engine", "udfs"],
    "the run": ["compute"],
    "storage": ["warehouse"],
    "outputs": ["publish", "site"],
    "real time": ["stream"],
    "read side": ["analytics"],
    "command line": ["cli"],
}
CAPTIONS = {"foundation": "kinds · errors · timeutil · blocks"}


def box(module: str) -> str | None:
    """The box of a dotted module name under labelspark (None outside it, or for the package root)."""
    parts = module.split(".")
    if parts[0] != "labelspark" or len(parts) < 2:
        return None
    if parts[1] == "__main__":  # python -m labelspark: the command line
        return "cli"
    return "foundation" if parts[1] in FOUNDATION else parts[1]


def imported(path: Path) -> set[str]:
    """The labelspark modules (or names in them) a file imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise SystemExit(f"{path}: a relative import; labelspark imports by absolute names")
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("labelspark.")}


def edges() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        source = box(module)
        for name in imported(path):
            target = box(name)
            if source and target and target != source and target != "foundation":
                found.add((source, target))
    return found


def diagram() -> str:
    boxes = [name for names in GROUPS.values() for name in names]
    found = edges()
    unknown = {name for edge in found for name in edge} - set(boxes)
    if unknown:
        raise SystemExit(f"packages not in GROUPS (add them): {', '.join(sorted(unknown))}")
    lines = ["```mermaid", "flowchart TD"]
    for group, names in GROUPS.items():
        lines.append(f'  subgraph group_{group.replace(" ", "_")}["{group}"]')  # ids apart from the boxes
        lines.extend(f'    {name}["{CAPTIONS.get(name, name + "/")}"]' for name in names)
        lines.append("  end")
    order = {name: i for i, name in enumerate(boxes)}
    for source, target in sorted(found, key=lambda edge: (order[edge[0]], order[edge[1]])):
        lines.append(f"  {source} --> {target}")
    lines.append("```")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(diagram())
