# otap batch end to end through the CLI: generated inputs (transport-encoded ids, varying
# schemas, duplicated resources) rebatched with several policies; every output file must hold
# the same log records as the inputs (`otap diff`, exit 0) and JSON summaries must count all
# records. Uses only the otap binary.
set(OTAP_BATCH_CLI_SCRIPT [=[
set -e
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
"$1" gen logs --payloads 6 --records 700 --encoded-ids --vary-schema --duplicate-resources --seed 3 -o "$d/a.otap"
for args in "--max-items 1000" "--max-items 333 --sort resource,scope,trace_id" \
            "--max-items 4096 --sort severity_number:desc,trace_id --no-dedup" \
            "--max-items 65536 --strategy sort" "--max-items 7 --strategy concat" \
            "--max-items 2000 --exact-dicts"; do
  "$1" batch $args --json "$d/a.otap" -o "$d/b.otap" 2>"$d/summary.json"
  grep -q '"input_records":4200,"output_records":4200' "$d/summary.json"
  case "$args" in *--exact-dicts*) grep -q '"exact_dictionaries":true' "$d/summary.json";; esac
  "$1" diff "$d/a.otap" "$d/b.otap" >/dev/null
done
if "$1" batch --max-items 10 --sort resource --strategy concat "$d/a.otap" -o "$d/c.otap" 2>/dev/null; then exit 1; fi
if "$1" batch --max-items 0 "$d/a.otap" -o "$d/c.otap" 2>/dev/null; then exit 1; fi
echo ok
]=])
add_test(NAME interop_batch_cli COMMAND sh -c "${OTAP_BATCH_CLI_SCRIPT}" batch_cli ${OTAP_CLI})
set_tests_properties(interop_batch_cli PROPERTIES TIMEOUT 300 PASS_REGULAR_EXPRESSION "ok")
