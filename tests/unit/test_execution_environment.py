"""execution-environment.yml puts this collection, and what it needs, into the image.

No container engine is needed: `ansible-builder create` only writes the build context (the
Containerfile and the files it copies). The tests build that context in a temporary directory,
the way docs/awx.md builds it, read the Containerfile stage by stage, and run the steps that
install the collection with this machine's ansible-galaxy and ansible-builder's own scripts.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Where ansible-builder's galaxy stage installs collections, and where it copies _build.
IMAGE_COLLECTIONS = "/usr/share/ansible/collections"
IMAGE_BUILD_DIR = "/build/"


def load_yaml(path):
    """Return the parsed YAML file at path."""
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


DEFINITION = load_yaml(ROOT / "execution-environment.yml")
GALAXY = load_yaml(ROOT / "galaxy.yml")
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"


def collection_build_file():
    """Return the additional_build_files entry that carries this collection's tarball."""
    entries = [e for e in DEFINITION.get("additional_build_files", []) if e["src"].endswith(".tar.gz")]
    assert len(entries) == 1, f"expected one collection tarball in additional_build_files, found {entries}"
    return entries[0]


def run(argv, **kwargs):
    """Run argv, failing the test with its output when it exits non-zero."""
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60, **kwargs)
    assert result.returncode == 0, f"{shlex.join(map(str, argv))} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def stages(containerfile):
    """Return {stage name: [instruction, ...]} of a multi-stage Containerfile."""
    found = {}
    current = None
    for line in containerfile.splitlines():
        words = line.split()
        if words[:1] == ["FROM"]:
            current = found.setdefault(words[-1], [])
        elif current is not None and line.strip() and not line.startswith("#"):
            current.append(line.strip())
    return found


@pytest.fixture(name="context", scope="module")
def fixture_context(tmp_path_factory):
    """Build the tarball and run `ansible-builder create` as docs/awx.md does, in a copy of the definition.

    Returns the build context directory.
    """
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(ROOT / "execution-environment.yml", work)
    for kind in ("galaxy", "python", "system"):
        shutil.copy(ROOT / DEFINITION["dependencies"][kind], work)

    tarball = work / collection_build_file()["src"]
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", tarball.parent, ROOT])
    built = list(tarball.parent.glob(f"{GALAXY['namespace']}-{GALAXY['name']}-*.tar.gz"))
    assert len(built) == 1, built
    built[0].rename(tarball)

    run(
        [
            BIN / "ansible-builder",
            "create",
            "--file",
            work / "execution-environment.yml",
            "--context",
            work / "context",
            "--output-filename",
            "Containerfile",
        ],
        cwd=work,
    )
    return work / "context"


@pytest.fixture(name="containerfile", scope="module")
def fixture_containerfile(context):
    """Return the generated Containerfile as {stage name: [instruction, ...]}."""
    found = stages((context / "Containerfile").read_text(encoding="utf-8"))
    assert {"galaxy", "builder", "final"} <= set(found), f"stages of the Containerfile: {sorted(found)}"
    return found


def install_step(containerfile):
    """Return the galaxy stage's RUN instruction that installs this collection's tarball, as argv."""
    name = Path(collection_build_file()["src"]).name
    steps = [s for s in containerfile["galaxy"] if s.startswith("RUN ") and name in s]
    assert len(steps) == 1, f"expected one RUN installing {name} in the galaxy stage, found {steps}"
    return shlex.split(steps[0][len("RUN "):])


def test_build_context_holds_this_collection(context):
    """The tarball in the context is this checkout built by ansible-galaxy: content, no test tooling."""
    entry = collection_build_file()
    tarball = context / "_build" / entry["dest"] / Path(entry["src"]).name
    assert tarball.is_file(), f"{tarball} missing: ansible-builder only warns when a build file is missing"
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == (
        GALAXY["namespace"],
        GALAXY["name"],
        GALAXY["version"],
    )
    shipped = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "plugins" / "modules").glob("*.py"))
    assert shipped and set(shipped) <= names, f"modules missing from the tarball: {set(shipped) - names}"
    for ignored in ("tests", "molecule", "context", ".build", ".venv"):
        assert not any(n == ignored or n.startswith(ignored + "/") for n in names), f"{ignored} is in the tarball"


def test_builder_output_is_ignored_by_git_and_the_collection_build():
    """`ansible-builder create` and `build` write ./context in the repository by default."""
    assert "context" in GALAXY["build_ignore"]
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "--quiet", "context/Containerfile"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, "git does not ignore context/"


def test_requirement_files_are_copied_unchanged(context):
    for kind, copied in (("galaxy", "requirements.yml"), ("python", "requirements.txt"), ("system", "bindep.txt")):
        source = ROOT / DEFINITION["dependencies"][kind]
        assert (context / "_build" / copied).read_text(encoding="utf-8") == source.read_text(encoding="utf-8")


def test_containerfile_installs_requirements_then_the_collection(containerfile):
    galaxy = containerfile["galaxy"]
    assert "COPY _build /build" in galaxy
    requirements = [i for i, s in enumerate(galaxy) if "ansible-galaxy collection install" in s and "-r requirements.yml" in s]
    assert len(requirements) == 1, galaxy
    argv = install_step(containerfile)
    assert argv[:3] == ["ansible-galaxy", "collection", "install"], argv
    assert argv[argv.index("--collections-path") + 1] == IMAGE_COLLECTIONS
    # After requirements.yml, so that --offline finds kubernetes.core and community.okd installed.
    assert "--offline" in argv
    position = next(i for i, s in enumerate(galaxy) if s.startswith("RUN ") and shlex.split(s[4:]) == argv)
    assert position > requirements[0]


def test_later_stages_read_the_installed_collections_and_requirement_files(containerfile):
    builder, final = containerfile["builder"], containerfile["final"]
    copy_collections = "COPY --from=galaxy /usr/share/ansible /usr/share/ansible"
    assert copy_collections in builder and copy_collections in final
    introspect = [s for s in builder if "introspect.py introspect" in s]
    assert len(introspect) == 1, builder
    assert "--user-pip=requirements.txt" in introspect[0] and "--user-bindep=bindep.txt" in introspect[0]


def test_install_step_installs_the_collection_and_exposes_its_requirements(context, containerfile, tmp_path):
    """Run the galaxy stage's install with this machine's ansible-galaxy, image paths mapped to tmp_path.

    kubernetes.core and community.okd stand in for the requirements.yml install (the `ansible`
    package bundles them). Then ansible-builder's introspect script, which the builder stage runs
    over /usr/share/ansible/collections, must find this collection's Python requirements.
    """
    collections = tmp_path / "collections"
    bundled = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
    for dependency in GALAXY["dependencies"]:
        namespace, name = dependency.split(".")
        (collections / "ansible_collections" / namespace).mkdir(parents=True, exist_ok=True)
        (collections / "ansible_collections" / namespace / name).symlink_to(bundled / namespace / name)

    argv = install_step(containerfile)
    mapped = [str(BIN / "ansible-galaxy")] + [
        str(collections) if a == IMAGE_COLLECTIONS
        else str(context / "_build" / a[len(IMAGE_BUILD_DIR):]) if a.startswith(IMAGE_BUILD_DIR)
        else a
        for a in argv[1:]
    ]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), HOME=str(tmp_path))
    run(mapped, cwd=tmp_path, env=env)

    installed = collections / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    manifest = json.loads((installed / "MANIFEST.json").read_text(encoding="utf-8"))["collection_info"]
    assert manifest["version"] == GALAXY["version"]

    out = run([sys.executable, context / "_build" / "scripts" / "introspect.py", "introspect", collections]).stdout
    python = yaml.safe_load(out)["python"]
    wanted = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert wanted
    for requirement in wanted:
        assert f"{requirement}  # from collection {FQCN}" in python, python
