"""Project-wide checks: migrations match the models, the code is ruff-clean, the package builds
the way setuptools will keep supporting."""

import shutil
import subprocess
import sys
from importlib.metadata import metadata
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_code_is_ruff_clean(args):
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed: `make test` installs the dev extra"
    result = subprocess.run([ruff, *args], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_apply_to_an_empty_database_and_seed_the_default_rules(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/fresh.sqlite3"}
    manage = [sys.executable, "manage.py"]
    migrate = subprocess.run(
        [*manage, "migrate", "-v", "0"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    count = subprocess.run(
        [
            *manage,
            "shell",
            "-v",
            "0",
            "-c",
            "from fleet.triage.models import TriageRule; print(TriageRule.objects.count())",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert count.stdout.strip() == "3", count.stderr


def test_package_licence_is_an_spdx_expression():
    # The `{ text = ... }` table is deprecated; setuptools refuses it after 2027-02-18.
    assert metadata("fleet-errors")["License-Expression"] == "MIT"
