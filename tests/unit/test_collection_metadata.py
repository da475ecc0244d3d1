"""The collection's metadata agrees with itself and with the Ansible it is tested on."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.release import __version__ as ansible_core_version
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def load_yaml(name):
    """Return the parsed YAML file at ROOT/name."""
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def galaxy_dependencies():
    """Return {fqcn: range} from galaxy.yml."""
    return load_yaml("galaxy.yml")["dependencies"]


def requirements_collections():
    """Return {fqcn: range} from requirements.yml."""
    return {c["name"]: c["version"] for c in load_yaml("requirements.yml")["collections"]}


@pytest.fixture(name="installed", scope="module")
def fixture_installed():
    """Return {fqcn: version} of the collections ansible itself would load.

    ansible-galaxy lists search paths in priority order, so the first version seen wins.
    """
    out = subprocess.run(
        ["ansible-galaxy", "collection", "list", "--format", "json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = {}
    for collections in json.loads(out).values():
        for fqcn, info in collections.items():
            found.setdefault(fqcn, info["version"])
    return found


def test_requirements_yml_matches_galaxy_yml():
    assert requirements_collections() == galaxy_dependencies()


@pytest.mark.parametrize("fqcn", sorted(galaxy_dependencies()))
def test_dependency_range_is_bounded(fqcn):
    """A range with a floor and a ceiling, so a new major release cannot slip in."""
    specifiers = SpecifierSet(galaxy_dependencies()[fqcn])
    operators = {spec.operator for spec in specifiers}
    assert ">=" in operators and "<" in operators, f"{fqcn}: {specifiers} needs '>=' and '<'"


@pytest.mark.parametrize("fqcn", sorted(galaxy_dependencies()))
def test_installed_dependency_satisfies_range(fqcn, installed):
    assert fqcn in installed, f"{fqcn} is not installed (the pinned `ansible` package bundles it)"
    wanted = SpecifierSet(galaxy_dependencies()[fqcn])
    assert Version(installed[fqcn]) in wanted, f"{fqcn} {installed[fqcn]} is outside {wanted}"


def test_this_collection_is_found_by_ansible(installed):
    """ansible.cfg and the link made by scripts/setup.sh make this checkout loadable."""
    assert installed.get("hubfleet.jupyterhub") == str(load_yaml("galaxy.yml")["version"])


def test_ansible_core_meets_requires_ansible():
    requires = SpecifierSet(load_yaml("meta/runtime.yml")["requires_ansible"])
    assert Version(ansible_core_version) in requires, f"ansible-core {ansible_core_version} is outside {requires}"
