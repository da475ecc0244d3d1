"""Offline stand-in for get-pip.py; scripts/setup.sh copies it into ansible-test's cache.

ansible-test bootstraps pip in each sanity virtualenv by running get-pip.py, which it
downloads from a host this machine cannot reach unless a cached copy exists. Python ships
pip through ensurepip, so install that first, then let pip install what ansible-test
asked for (e.g. ``pip==24.2``) from the package index this machine does reach.
"""

import subprocess
import sys

# Options of get-pip.py itself, unknown to ``pip install``.
GET_PIP_OPTIONS = {"--no-setuptools", "--no-wheel"}


def main():
    """Bootstrap pip, then install the requested packages with it."""
    # A subprocess, not ensurepip in-process: in-process it sets PIP_CONFIG_FILE=/dev/null,
    # which would drop this machine's pip settings (certificates, indexes) for the install.
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_OPTIONS]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))


if __name__ == "__main__":
    main()
