#!/usr/bin/env bash
# Weights shipped at an earlier commit, copied out of git into a folder (a run's starting point, or
# the baseline a report compares against): weights_from_git.sh COMMIT DEST FILE...
set -euo pipefail
commit=$1 dest=$2; shift 2
mkdir -p "$dest"
for f in "$@"; do git show "$commit:model/weights/$f" > "$dest/$f"; done
