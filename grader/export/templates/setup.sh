#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, when it builds the image.
# Installs Python {{ python }} (the version the grader is tested with; Ubuntu 22.04's own is 3.10,
# too old for these pins), a virtual environment with the grader and its dependencies pinned,
# and torch's CPU-only build (no CUDA libraries).
#
# Overrides, for testing this script elsewhere (the grader's own test suite does):
#   GRADER_VENV=DIR          where the environment goes (default /opt/grader-venv; run_autograder
#                            reads the same variable)
#   GRADER_APT=0             do not apt-get install Python (it is already there)
#   GRADER_PYTHON=EXE        the interpreter to build the environment with
#   GRADER_VENV_OPTIONS=...  options for `python -m venv` (e.g. --system-site-packages)
#   PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR   pip's own variables: install from local wheels, offline
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${GRADER_VENV:-/opt/grader-venv}"
PYTHON="${GRADER_PYTHON:-python{{ python }}}"

if [ "${GRADER_APT:-1}" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "python{{ python }}" "python{{ python }}-venv" ca-certificates
fi

# The environment lives outside /autograder/source, which run_autograder makes unreadable to
# the unprivileged user that runs the student's code; that user must still run Python.
"$PYTHON" -m venv ${GRADER_VENV_OPTIONS:-} "$VENV"
PIP=("$VENV/bin/python" -m pip install --no-input --disable-pip-version-check)

# torch and torchvision from PyTorch's CPU-only index: no nvidia-* or triton packages.
"${PIP[@]}" --no-deps --index-url https://download.pytorch.org/whl/cpu -r "$SOURCE/requirements-torch.txt"
"${PIP[@]}" -r "$SOURCE/requirements.txt"
# Editable: the grader finds config.yaml, the checks and the reference beside its package.
"${PIP[@]}" --no-deps --no-build-isolation --editable "$SOURCE"
"$VENV/bin/python" -m pip check

# Fail the build now, not at the first submission: the grader imports, from this folder, and
# no CUDA library was installed into the environment.
"$VENV/bin/python" - "$SOURCE" <<'PY'
import importlib.metadata, pathlib, sys
import grader, grader.cli, torch, torchvision
source = pathlib.Path(sys.argv[1]).resolve()
assert pathlib.Path(grader.__file__).resolve().parent == source / "grader", grader.__file__
cuda = [d.metadata["Name"] for d in importlib.metadata.distributions(path=[p for p in sys.path if p.startswith(sys.prefix)])
        if d.metadata["Name"].lower().startswith(("nvidia-", "triton", "cuda-"))]
assert not cuda, f"CUDA packages installed: {cuda}"
print(f"grader {grader.__version__} from {source}, torch {torch.__version__}, torchvision {torchvision.__version__}")
PY
chmod +x "$SOURCE/run_autograder"
echo "setup.sh: the autograder for {{ assignment }} is ready"
