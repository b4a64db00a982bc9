#!/usr/bin/env bash
# ops/package as CI runs it: builds the .deb from this build tree, lintian on it (an
# error-level finding fails ops/package), then checks what `dpkg-deb --contents` and the
# control files say, and starts the packaged binary with the packaged conffile.
# usage: package_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

deb=$("$src/ops/package" --build-dir "$build" --out "$work" | tail -1)
[[ -f $deb && $(basename "$deb") =~ ^caseledger_[0-9][^_]*_[a-z0-9]+\.deb$ ]] || fail "no caseledger_*.deb: $deb"

dpkg-deb --contents "$deb" >"$work/contents"
for path in ./usr/bin/caseledger ./lib/systemd/system/caseledger.service ./etc/caseledger/caseledger.json \
  ./var/lib/caseledger/ ./usr/share/man/man1/caseledger.1.gz ./usr/share/bash-completion/completions/caseledger \
  ./usr/share/caseledger/reference/istat-comuni.csv ./usr/share/caseledger/reference/piemonte-asl.csv \
  ./usr/share/caseledger/rules/2020-10-12.json ./usr/share/doc/caseledger/copyright \
  ./usr/share/doc/caseledger/changelog.gz ./usr/share/doc/caseledger/docs/operations.md; do
  grep -q " $path\$" "$work/contents" || fail "$path is not in the package"
done
if awk '{print $2}' "$work/contents" | grep -v '^root/root$' | grep -q .; then fail "a file not owned by root"; fi
if grep -Eq 'caseledger-(bench|loadgen|demo)' "$work/contents"; then fail "a build-tree tool is in the package"; fi
grep -q '^-rwxr-xr-x .* ./usr/bin/caseledger$' "$work/contents" || fail "/usr/bin/caseledger is not 0755"

dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/caseledger/caseledger.json "$work/control/conffiles" || fail "caseledger.json is not a conffile"
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == *libc6* && $depends == *adduser* ]] || fail "Depends lacks libc6 or adduser: $depends"
[[ $depends == *libsodium* && $depends == *libssl* ]] || fail "Depends lacks libsodium or libssl: $depends"
[[ $depends != *-dev* ]] || fail "Depends names a -dev package: $depends"
for script in postinst prerm postrm; do
  [[ -x $work/control/$script ]] || fail "no $script"
done
grep -q 'adduser .*--system .*caseledger' "$work/control/postinst" || fail "postinst does not create the system user"

dpkg-deb -x "$deb" "$work/root"
unit=$work/root/lib/systemd/system/caseledger.service
for line in 'ExecStart=/usr/bin/caseledger serve --config /etc/caseledger/caseledger.json' 'User=caseledger' \
  'StateDirectory=caseledger' 'ReadWritePaths=/var/lib/caseledger' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
  'CapabilityBoundingSet=' 'SystemCallFilter=@system-service' 'RestartPreventExitStatus=2'; do
  grep -qxF "$line" "$unit" || fail "the unit lacks '$line'"
done
if command -v systemd-analyze >/dev/null; then
  # The unit as installed: its ExecStart must exist, so verify it inside the extracted tree.
  sed "s#/usr/bin/caseledger#$work/root/usr/bin/caseledger#" "$unit" >"$work/caseledger.service"
  out=$(systemd-analyze verify "$work/caseledger.service" 2>&1 | grep -v "caseledger.*User=\|Unknown user\|man caseledger(1)" || true)
  [[ -z $out ]] || echo "systemd-analyze: $out" >&2
fi
zcat "$work/root/usr/share/man/man1/caseledger.1.gz" | grep -q '^\.SS "serve"' || fail "the man page lacks serve"
grep -q 'complete -o default -F _caseledger caseledger' "$work/root/usr/share/bash-completion/completions/caseledger" ||
  fail "the completion does not complete caseledger"

# The packaged binary, stripped, serves with the packaged conffile (its data, reference and
# rules paths overridden for this machine: flags win over the file).
"$work/root/usr/bin/caseledger" serve --config "$work/root/etc/caseledger/caseledger.json" --data "$work/data" \
  --listen 127.0.0.1:0 --reference "$work/root/usr/share/caseledger/reference" \
  --rules "$work/root/usr/share/caseledger/rules" >"$work/out" 2>"$work/err" &
server=$!
url=
for _ in $(seq 1 300); do
  url=$(sed -n 's/^caseledger serving \(http[^ ]*\) .*/\1/p' "$work/out")
  [[ -n $url ]] && break
  kill -0 "$server" 2>/dev/null || fail "the packaged serve exited: $(cat "$work/err")"
  sleep 0.2
done
[[ -n $url ]] || fail "the packaged serve did not start"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$url/readyz") == 200 ]] || fail "/readyz is not 200"
kill -TERM "$server"
code=0; wait "$server" || code=$?
server=
[[ $code -eq 0 ]] || fail "serve exited $code on SIGTERM"
echo "package: $(basename "$deb") built, lintian without errors, contents and conffile as documented"
