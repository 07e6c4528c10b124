"""The docs stay true to the code: the settings table and the stage map."""

from host.settings_doc import documented_options, settings_table
from shared import graph
from tests.conftest import REPO_ROOT


def test_readme_settings_table_is_generated_from_the_options():
    readme = (REPO_ROOT / "README.md").read_text()
    assert settings_table(documented_options()) in readme, "run: make docs"


def test_architecture_names_every_stage_and_artifact_file():
    text = (REPO_ROOT / "docs" / "ARCHITECTURE.md").read_text()
    for spec in graph.STAGES:
        assert f"`{spec.name}`" in text, spec.name
    for art in graph.ARTIFACTS.values():
        if art.filename:
            where = art.filename if art.stage == graph.JOB else f"{art.stage}/{art.filename}"
            assert where in text, art.name


def test_makefile_setup_installs_every_requirements_file():
    makefile = (REPO_ROOT / "Makefile").read_text()
    for path in sorted((REPO_ROOT / "docker").glob("requirements-*.txt")):
        assert f"docker/{path.name}" in makefile, path.name
