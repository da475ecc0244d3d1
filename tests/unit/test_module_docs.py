"""The modules' documentation renders with ansible-doc, markup intact."""
import os
import pathlib
import subprocess
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def ansible_doc(plugin):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".build" / "collections"), COLUMNS="200")
    done = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-doc"), plugin], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    return " ".join(done.stdout.split())


@pytest.mark.parametrize("plugin", ["hubfleet.jupyterhub.user_project", "hubfleet.jupyterhub.user_pvc_reset"])
def test_modules_render(plugin):
    assert "RETURN VALUES" in ansible_doc(plugin)


def test_found_by_values_render_whole():
    # Parentheses inside V(...) once closed the markup early: "V(name (safe scheme))" showed "name (safe scheme".
    text = ansible_doc("hubfleet.jupyterhub.user_pvc_reset")
    for value in ('"name and label (escape scheme)"', '"name only (safe scheme)"', '"name only (escape scheme)"',
                  '"reset record"'):
        assert value in text
