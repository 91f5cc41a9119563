# Sourced by bootstrap.sh and generate-fixtures.sh: the Celery lines of lines.txt and their Python.
# DEFAULT_LINES: what `bootstrap.sh` / `generate-fixtures.sh` build when CELERY_LINES is unset.
LINES_FILE="$(dirname "${BASH_SOURCE[0]}")/lines.txt"
DEFAULT_LINES="all"

# celery_lines <selection>: "" → DEFAULT_LINES; "all" → every line of lines.txt; else the given lines
# (space or comma separated), each checked against lines.txt.
celery_lines() {
  local sel="${1:-$DEFAULT_LINES}" known line out=()
  known="$(awk '!/^#/ && NF { print $1 }' "$LINES_FILE")"
  if [[ "$sel" == "all" ]]; then echo $known; return; fi
  for line in ${sel//,/ }; do
    if ! grep -qx "$line" <<<"$known"; then
      echo "unknown Celery line $line (lines.txt has: $(echo $known))" >&2
      return 1
    fi
    out+=("$line")
  done
  echo "${out[@]}"
}

# line_python <line>: the interpreter for that line: $PYTHON, $PYTHON_<X>_<Y>, python<X.Y> on PATH,
# then $(pyenv root)/versions/<X.Y>.*; lines on the default interpreter's version use python3.
line_python() {
  local line="$1" want var cand root
  if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
  var="PYTHON_${line//./_}"
  if [[ -n "${!var:-}" ]]; then echo "${!var}"; return; fi
  want="$(awk -v l="$line" '$1 == l { print $3 }' "$LINES_FILE")"
  if [[ "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" == "$want" ]]; then
    echo python3; return
  fi
  if command -v "python$want" >/dev/null 2>&1; then
    cand="$(command -v "python$want")"
    # a pyenv shim for a version that is not selected fails; check it runs
    if "$cand" -V >/dev/null 2>&1; then echo "$cand"; return; fi
  fi
  root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
  for cand in "$root"/versions/"$want".*/bin/python"$want"; do
    if [[ -x "$cand" ]]; then echo "$cand"; return; fi
  done
  echo "Celery $line needs Python $want: install it (pyenv install $want) or set $var=/path/to/python" >&2
  return 1
}
