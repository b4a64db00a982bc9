#!/usr/bin/env bash
# Every command the README and docs/ show in a shell block, checked against what exists: a
# caseledger (or tool) command must be one the executable has, and every flag the line
# gives must be one its --help names; an ops/ script must exist and be executable. The
# commands themselves run in the tests and ops/ scripts that say so (the first session:
# first_session_test.sh; backup, restore, verify, import, replay: cli_test, import_test;
# the package: package_test.sh; benchmarks: ops/bench, ops/scale-run); this catches a doc
# that shows a command or flag no longer there.
# usage: docs_commands_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
failures=0
checked=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# The shell blocks' lines, continuation lines joined, one "FILE<TAB>LINE" per command line.
blocks() {
  local f
  for f in "$src/README.md" "$src"/docs/*.md "$src"/ops/*/README.md; do
    [[ -f $f ]] || continue
    awk -v file="${f#"$src"/}" '
      /^```(sh|bash|shell|console)[[:space:]]*$/ { inside = 1; next }
      /^```/ { inside = 0; next }
      inside {
        line = $0
        if (held != "") line = held " " line
        if (line ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, "", line); held = line; next }
        held = ""
        print file "\t" line
      }' "$f"
  done
}

# The executable a command word names, or nothing.
executable() {
  case $1 in
    caseledger | build/app/caseledger | /usr/bin/caseledger | /usr/local/bin/caseledger) echo "$build/app/caseledger" ;;
    caseledger-bench | caseledger-loadgen | caseledger-demo) echo "$build/tools/$1" ;;
    build/tools/caseledger-*) echo "$build/tools/${1#build/tools/}" ;;
  esac
}

check_segment() {
  local file=$1 segment=$2
  local -a words
  read -r -a words <<<"$segment"
  # Wrappers before the command itself.
  while [[ ${#words[@]} -gt 0 ]]; do
    case ${words[0]} in
      sudo | exec | env) words=("${words[@]:1}") ;;
      -u) words=("${words[@]:2}") ;;
      /usr/bin/time) words=("${words[@]:1}"); [[ ${words[0]:-} == -v ]] && words=("${words[@]:1}") ;;
      *=*) words=("${words[@]:1}") ;;  # VAR=value
      *) break ;;
    esac
  done
  [[ ${#words[@]} -gt 0 ]] || return 0
  local first=${words[0]} bin
  if [[ $first == ops/* ]]; then
    checked=$((checked + 1))
    [[ -x $src/$first ]] || fail "$file: $first is not an executable script of ops/"
    return 0
  fi
  bin=$(executable "$first")
  [[ -n $bin ]] || return 0
  checked=$((checked + 1))
  [[ -x $bin ]] || { fail "$file: $bin is not built"; return 0; }
  local sub=()
  # caseledger and caseledger-bench have commands; the word after the executable names one.
  if [[ $(basename "$bin") == caseledger || $(basename "$bin") == caseledger-bench ]] &&
     [[ ${#words[@]} -gt 1 && ${words[1]} != -* ]]; then
    sub=("${words[1]}")
  fi
  local help
  if ! help=$("$bin" "${sub[@]}" --help 2>&1); then
    fail "$file: '$first ${sub[*]}' is not a command: $segment"
    return 0
  fi
  local flag
  for flag in $(grep -oE '(^|[[:space:][])--[a-z][a-z0-9-]*' <<<"$segment" | sed 's/^[[:space:][]*//' | sort -u); do
    [[ $flag == --help ]] && continue
    grep -qE -- "${flag}([^a-z0-9-]|$)" <<<"$help" || fail "$file: $first ${sub[*]} has no $flag: $segment"
  done
}

while IFS=$'\t' read -r file line; do
  line=${line%%[[:space:]]#*}  # a comment after the command
  # Commands joined by && ; | each stand alone.
  while IFS= read -r segment; do
    check_segment "$file" "$segment"
  done < <(sed -e 's/&&/\n/g' -e 's/;/\n/g' -e 's/|[^|]*$//' <<<"$line")
done < <(blocks)

[[ $checked -gt 20 ]] || fail "only $checked commands found in the docs: the extraction is broken"
if [[ $failures -gt 0 ]]; then
  echo "$failures of $checked commands in the docs do not match the executables" >&2
  exit 1
fi
echo "docs: $checked commands, each a command the executables have with flags their --help names"
