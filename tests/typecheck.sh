#!/usr/bin/env bash
# mypy on the inference floor (the [tool.mypy] section of pyproject.toml), as CI runs it from tests/run_all.sh.
# The repository root is the package `readdsp`: mypy finds it through a link named readdsp in a temporary folder,
# since without it every `readdsp.*` import would read as Any and go unchecked.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
ln -s "$PWD" "$root/readdsp"
MYPYPATH="$root" .venv/bin/mypy "$@"
