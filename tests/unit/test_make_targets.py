"""Every make target works on a fresh clone: each one that needs the toolchain runs setup first."""
import pathlib
import re

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_target_but_setup_depends_on_setup():
    rules = re.findall(r"^([a-z][-a-z]*):(.*)$", (REPO_ROOT / "Makefile").read_text(), flags=re.M)
    assert len(rules) > 5
    missing = [target for target, prerequisites in rules
               if target != "setup" and "setup" not in prerequisites.split()]
    assert missing == []
