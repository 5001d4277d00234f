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
# Records read from stdin ("-", not mappable) and from a mapped file are the same.
"$OTAP" diff - "$T/a.otap" < "$T/a.otap" >/dev/null || fail "stdin records differ"
"$OTAP" batch --max-items 100 - -o "$T/s.otap" < "$T/a.otap" 2>/dev/null || fail "batch from stdin"
"$OTAP" diff "$T/a.otap" "$T/s.otap" >/dev/null || fail "batch from stdin lost records"
printf 'garbage' > "$T/bad.otap"
"$OTAP" diff "$T/a.otap" "$T/bad.otap" 2>/dev/null; rc=$?
[ $rc -eq 1 ] || fail "malformed input exited $rc"
"$OTAP" gen logs --records 70000 -o "$T/x.otap" 2>/dev/null; rc=$?
[ $rc -eq 1 ] || fail "out-of-range knob exited $rc"
"$OTAP" gen logs --bogus -o "$T/x.otap" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "unknown option exited $rc"
# inspect and cat understand OTAP records files.
"$OTAP" inspect "$T/a.otap" > "$T/inspect.txt" || fail "inspect exited $?"
grep -q "OTAP records file" "$T/inspect.txt" || fail "inspect does not name the format"
grep -q "total: 3 messages, 900 log records" "$T/inspect.txt" || fail "inspect totals"
"$OTAP" inspect --json "$T/a.otap" > "$T/inspect.json" || fail "inspect --json exited $?"
grep -q '"format":"otap-records"' "$T/inspect.json" || fail "inspect --json format"
n=$("$OTAP" cat --text "$T/a.otap" | grep -c '^log{')
[ "$n" -eq 900 ] || fail "cat printed $n records, expected 900"
n=$("$OTAP" cat --limit 5 "$T/a.otap" | wc -l)
[ "$n" -eq 5 ] || fail "cat --limit 5 printed $n lines"
# The same records in any encoding print the same sorted lines.
"$OTAP" cat --text "$T/a.otap" | sort > "$T/a.txt"
"$OTAP" cat --text "$T/b.otap" | sort > "$T/b.txt"
cmp -s "$T/a.txt" "$T/b.txt" || fail "cat of equivalent files differs"
rm -rf "$T"
echo "1 passed, 0 failed"
