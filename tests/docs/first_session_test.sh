#!/usr/bin/env bash
# The README's "first session with the demo", run as ops/demo runs it: `caseledger-demo` on an
# empty data directory (its tokens and curl lines), then `caseledger serve` on it (loopback,
# a port the kernel picks), then each curl line of the README and of the demo's output, with
# the statuses the README promises.
# usage: first_session_test.sh CASELEDGER_BINARY CASELEDGER_DEMO_BINARY
set -euo pipefail
bin=$1 demo=$2
work=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- server output:" >&2; cat "$work/out" >&2 || true; exit 1; }

# The demo's curl lines name where the server will listen: a placeholder here, replaced by
# the address serve reports (the kernel picks the port).
"$demo" --data "$work/data" --url http://SERVER >"$work/demo" 2>"$work/err" || fail "caseledger-demo failed: $(cat "$work/err")"
grep -q "^  export TOKEN=" "$work/demo" || fail "caseledger-demo printed no token"
"$bin" serve --data "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>>"$work/err" &
server=$!
for _ in $(seq 1 600); do
  grep -q "^caseledger serving " "$work/out" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || fail "serve exited early: $(cat "$work/err")"
  sleep 0.2
done
url=$(sed -n 's/^caseledger serving \(http[^ ]*\) .*/\1/p' "$work/out")
[[ -n $url ]] || fail "serve did not say where it listens after 120 s"
sed -i "s#http://SERVER#$url#g" "$work/demo"
cat "$work/demo" >>"$work/out"

token_of() { grep -A1 "^  $1 (" "$work/out" | tail -1 | tr -d ' '; }
admin=$(token_of demo-admin) operator=$(token_of demo-operator-to) mayor=$(token_of demo-mayor-torino)
[[ -n $url && -n $admin && -n $operator && -n $mayor ]] || fail "the demo's output lacks a token"

# status BODY_FILE TOKEN URL [curl args...]: prints the HTTP status
status() {
  local file=$1 token=$2 target=$3; shift 3
  curl -s -o "$file" -w '%{http_code}' -H "Authorization: Bearer $token" "$@" "$target"
}
expect() { [[ $1 == "$2" ]] || fail "$3: status $1, expected $2: $(head -c 300 "$work/body")"; }

TOKEN=$admin
expect "$(status "$work/body" "$TOKEN" "$url/v1/me")" 200 "GET /v1/me"
grep -q '"demo-admin"' "$work/body" || fail "/v1/me does not name demo-admin"
expect "$(status "$work/body" "$TOKEN" "$url/v1/views/region/daily.csv?from=2020-10-01&to=2020-10-31")" 200 "region CSV"
head -1 "$work/body" | grep -q '^data,.*nuovi_positivi' || fail "region CSV header"
[[ $(grep -c '^2020-10-' "$work/body") -eq 31 ]] || fail "region CSV should hold 31 days of October"
expect "$(status "$work/body" "$TOKEN" "$url/v1/views/municipalities/001272")" 200 "Torino's view"
grep -q '001272' "$work/body" || fail "Torino's view does not name 001272"

# The demo's own lines: a demo case by tax code, and its history.
lookup=$(grep -o "$url/v1/people?tax_code=[A-Z0-9]*" "$work/out" | head -1)
history=$(grep -o "$url/v1/people/[^ ]*/history" "$work/out" | head -1)
[[ -n $lookup && -n $history ]] || fail "the demo's output lacks the person lines"
expect "$(status "$work/body" "$TOKEN" "$lookup")" 200 "tax-code lookup"
expect "$(status "$work/body" "$TOKEN" "$history")" 200 "history"
grep -q 'PersonRegistered' "$work/body" || fail "history without PersonRegistered"

body='{"tax_code":"RSSMRA85T10L219G","family_name":"Rossi","given_names":"Mario","birth_date":"1985-12-10","sex":"M","residence_istat":"001272"}'
expect "$(status "$work/body" "$mayor" "$url/v1/people" -H 'Content-Type: application/json' -d "$body")" 403 "mayor registers"
TOKEN=$operator
expect "$(status "$work/body" "$TOKEN" "$url/v1/people" -H 'Content-Type: application/json' -d "$body")" 201 "operator registers"
grep -q '"position"' "$work/body" || fail "201 without a position"

kill -TERM "$server"
code=0; wait "$server" || code=$?
server=
[[ $code -eq 0 ]] || fail "serve exited $code on SIGTERM"
echo "first session: every README step answered as documented"
