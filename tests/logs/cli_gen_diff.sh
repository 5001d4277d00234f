#!/bin/sh
# CLI checks for `otap gen logs` and `otap diff`: determinism, exit codes, encodings.
set -u
OTAP="$1"
T="${2:-.}/cli_logs_tmp"
rm -rf "$T" && mkdir -p "$T" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
"$OTAP" gen logs --records 300 --payloads 3 --seed 9 -o "$T/a.otap" >/dev/null || fail "gen a"
"$OTAP" gen logs --records 300 --payloads 3 --seed 9 -o "$T/a2.otap" >/dev/null || fail "gen a2"
cmp -s "$T/a.otap" "$T/a2.otap" || fail "same options must give the same bytes"
"$OTAP" gen logs --records 300 --payloads 3 --seed 9 --encoded-ids --dict never -o "$T/b.otap" >/dev/null || fail "gen b"
cmp -s "$T/a.otap" "$T/b.otap" && fail "encoded/native output should differ in bytes"
"$OTAP" diff "$T/a.otap" "$T/b.otap" >/dev/null; rc=$?
[ $rc -eq 0 ] || fail "diff of equivalent files exited $rc"
"$OTAP" gen logs --records 300 --payloads 3 --seed 10 -o "$T/c.otap" >/dev/null || fail "gen c"
"$OTAP" diff "$T/a.otap" "$T/c.otap" > "$T/diff.txt"; rc=$?
[ $rc -eq 3 ] || fail "diff of different files exited $rc"
grep -q "only in A" "$T/diff.txt" || fail "diff output lacks 'only in A'"
"$OTAP" diff --json "$T/a.otap" "$T/c.otap" > "$T/diff.json"; rc=$?
[ $rc -eq 3 ] || fail "diff --json exited $rc"
grep -q '"equal":false' "$T/diff.json" || fail "json lacks equal:false"
# Fewer payloads: records missing.
"$OTAP" gen logs --records 300 --payloads 2 --seed 9 -o "$T/d.otap" >/dev/null || fail "gen d"
"$OTAP" diff "$T/a.otap" "$T/d.otap" >/dev/null; rc=$?
[ $rc -eq 3 ] || fail "missing records not detected ($rc)"
"$OTAP" diff "$T/a.otap" "$T/missing.otap" 2>/dev/null; rc=$?
[ $rc -eq 1 ] || fail "unreadable input exited $rc"
printf 'garbage' > "$T/bad.otap"
"$OTAP" diff "$T/a.otap" "$T/bad.otap" 2>/dev/null; rc=$?
[ $rc -eq 1 ] || fail "malformed input exited $rc"
"$OTAP" gen logs --records 70000 -o "$T/x.otap" 2>/dev/null; rc=$?
[ $rc -eq 1 ] || fail "out-of-range knob exited $rc"
"$OTAP" gen logs --bogus -o "$T/x.otap" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "unknown option exited $rc"
rm -rf "$T"
echo "1 passed, 0 failed"
