"""Imports point down (docs/architecture.md): nothing under fleet/ or codes/ imports dashboards
(the pages build on the domain, never the other way round), and the fleet core imports no slice.
Read with `ast`, so imports inside functions count."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import codes
import fleet

UPPER = "dashboards"


def imports_of(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """Every module a source imports by name, anywhere in it, with its line number."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def imports_upper(module: str) -> bool:
    return module == UPPER or module.startswith(f"{UPPER}.")


def package_files(package) -> list[Path]:
    return sorted(Path(package.__file__).resolve().parent.rglob("*.py"))


def test_the_check_sees_imports_at_the_top_inside_functions_and_of_names():
    source = (
        "import dashboards.queries\n"
        "from dashboards import charts\n"
        "def view(request):\n"
        "    from dashboards.code_fleet import code_fleet_context\n"
        "import dashboards_extra\n"
        "from codes.parse import parse_code\n"
    )
    found = [(line, name) for line, name in imports_of(source) if imports_upper(name)]
    assert found == [(1, "dashboards.queries"), (2, "dashboards"), (4, "dashboards.code_fleet")]


@pytest.mark.parametrize("package", [fleet, codes], ids=["fleet", "codes"])
def test_no_module_imports_dashboards(package):
    files = package_files(package)
    assert len(files) > 10  # the walk found the package's modules, migrations and slices
    offenders = [
        f"{path.relative_to(Path(package.__file__).resolve().parent.parent)}:{line} {name}"
        for path in files
        for line, name in imports_of(path.read_text(), str(path))
        if imports_upper(name)
    ]
    assert offenders == []


FLEET = Path(fleet.__file__).resolve().parent
SLICES = (
    "fleet.ingest",
    "fleet.triage",
    "fleet.alerts",
    "fleet.accounts",
    "fleet.connectors",
    "fleet.devices",
    "fleet.reports",
)
# The project's wiring may import every slice (docs/architecture.md); everything else at the top
# of fleet/ is the core, which the slices build on.
WIRING = {
    "__init__.py",
    "apps.py",
    "asgi.py",
    "celery.py",
    "gunicorn.conf.py",
    "metrics.py",
    "openapi.py",
    "pipeline.py",
    "settings.py",
    "tasks.py",
    "urls.py",
    "wsgi.py",
}


def core_files() -> list[Path]:
    top = [path for path in sorted(FLEET.glob("*.py")) if path.name not in WIRING]
    models = [
        path for path in sorted((FLEET / "models").glob("*.py")) if path.name != "__init__.py"
    ]
    return top + models


def test_the_core_imports_no_slice():
    files = core_files()
    assert {"access.py", "aggregate.py", "grains.py", "core.py", "stats.py"} <= {
        path.name for path in files
    }
    offenders = [
        f"{path.relative_to(FLEET.parent)}:{line} {name}"
        for path in files
        for line, name in imports_of(path.read_text(), str(path))
        if any(name == s or name.startswith(f"{s}.") for s in SLICES)
    ]
    assert offenders == []
