# Sourced by tools/test and tools/example: puts pinned nox and uv on PATH from a private
# environment (.venv-tools), so nothing is installed into the system Python.
tools_venv="$PWD/.venv-tools"
if ! "$tools_venv/bin/python" -c "import nox, uv" 2>/dev/null; then
  python3 -m venv "$tools_venv"
  "$tools_venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tools/requirements-dev.txt
fi
export PATH="$tools_venv/bin:$PATH"
# Use the interpreters on this machine; never download one.
export UV_PYTHON_DOWNLOADS=never
