// Interop: apache-arrow JS writes IPC streams and files, otap reads them (through
// tests/conformance/ipc_tool) and must see exactly the values the table was built from.
// Covers primitives (all int widths incl. int64/uint64 extremes), floats (NaN), bool, utf8,
// binary, dictionaries (shared, and replacement dictionaries per batch in a stream), structs,
// lists, raw int64 timestamps (ns with time zone, ms), date32; uncompressed, LZ4_FRAME and
// ZSTD bodies; and Arrow JS's file layout without a Schema message after the magic.
// Compressed files from Arrow JS 21.2.0 carry the compressed length in each buffer's length
// prefix (an Arrow JS bug, apache/arrow-js#470): otap must reject those cleanly, and must read
// the same files written with conforming prefixes (ipc_common.mjs conformingWriter).
// Finally every arrow-testing gold stream that Arrow JS can read is re-written by Arrow JS
// (stream uncompressed, file ZSTD) and otap's reader must match the gold integration JSON.
// usage: node ipc_js_to_otap.mjs IPC_TOOL TESTDATA_DIR
import fs from 'node:fs';
import path from 'node:path';
import {
  A, registerCodecs, tmpDir, otapCat, otapMessages, makeTestTable, compareRows, EXPECTED_FORMATS,
  firstFileMessageType, jsWrite,
} from './ipc_common.mjs';
import { spawnSync } from 'node:child_process';

const [toolPath, testdata] = process.argv.slice(2);
if (!toolPath || !testdata) {
  console.error('usage: node ipc_js_to_otap.mjs IPC_TOOL TESTDATA_DIR');
  process.exit(2);
}
await registerCodecs();
const dir = tmpDir('js2otap');
let passed = 0, failed = 0;

function check(name, fn) {
  try {
    const detail = fn();
    console.log(`PASS  ${name}${detail ? ': ' + detail : ''}`);
    passed++;
  } catch (e) {
    console.log(`FAIL  ${name}: ${e.message}`);
    failed++;
  }
}

function checkSchema(schema, label) {
  const names = schema.map((f) => f.name);
  const want = Object.keys(EXPECTED_FORMATS);
  if (JSON.stringify(names) !== JSON.stringify(want)) {
    throw new Error(`${label}: columns ${names}, expected ${want}`);
  }
  for (const f of schema) {
    if (f.format !== EXPECTED_FORMATS[f.name]) {
      throw new Error(`${label}: column ${f.name} format '${f.format}', expected '${EXPECTED_FORMATS[f.name]}'`);
    }
  }
  const dict = schema.find((f) => f.name === 'dict');
  if (!dict.dictionary || dict.dictionary.format !== 'u') {
    throw new Error(`${label}: column dict is not dictionary<int32, utf8>`);
  }
}

const codecs = [
  ['none', null],
  ['lz4', A.CompressionType.LZ4_FRAME],
  ['zstd', A.CompressionType.ZSTD],
];

const shared = makeTestTable();
for (const [codecName, codec] of codecs) {
  for (const kind of ['stream', 'file']) {
    const bytes = jsWrite(kind, shared.table, { compression: codec });
    const file = path.join(dir, `js_${kind}_${codecName}.arrow`);
    fs.writeFileSync(file, bytes);
    check(`Arrow JS ${kind} (${codecName}) -> otap reader`, () => {
      let note = '';
      if (kind === 'file') {
        const t = firstFileMessageType(bytes);
        if (t === 1) throw new Error('Arrow JS wrote a Schema message after the magic; the no-schema case is not exercised');
        note = `first message after magic is type ${t} (no Schema message); `;
      }
      const got = otapCat(toolPath, file);
      checkSchema(got.schema, file);
      if (got.batches !== shared.table.batches.length) {
        throw new Error(`${got.batches} batches, expected ${shared.table.batches.length}`);
      }
      compareRows(got.rows, shared.expected, file);
      return `${note}${got.rows.length} rows equal`;
    });
    if (codec === null) continue;
    // The unpatched Arrow JS output (wrong length prefixes) must be rejected, never misread.
    const badFile = path.join(dir, `js_${kind}_${codecName}_jsprefix.arrow`);
    fs.writeFileSync(badFile, jsWrite(kind, shared.table, { compression: codec, conforming: false }));
    check(`Arrow JS 21.2.0 ${kind} (${codecName}) with compressed-length prefixes -> otap rejects cleanly`, () => {
      const r = spawnSync(toolPath, ['cat', badFile], { encoding: 'utf8' });
      if (r.signal || r.status !== 1) throw new Error(`exit ${r.status} signal ${r.signal}: ${r.stderr}`);
      if (!/EINVAL/.test(r.stderr)) throw new Error(`expected EINVAL, got: ${r.stderr.trim()}`);
      return r.stderr.trim().replace(/^.*?: IPC/, 'IPC');
    });
  }
}

// Replacement dictionaries: each batch has its own dictionary; Arrow JS's stream writer emits a
// new (non-delta) DictionaryBatch with the same id before each batch.
const replaced = makeTestTable({ dictionaries: 'replace' });
for (const [codecName, codec] of codecs) {
  const file = path.join(dir, `js_replace_stream_${codecName}.arrows`);
  fs.writeFileSync(file, jsWrite('stream', replaced.table, { compression: codec }));
  check(`Arrow JS stream with replacement dictionaries (${codecName}) -> otap reader`, () => {
    const dicts = otapMessages(toolPath, file).filter((m) => m.type === 'dictionary');
    if (dicts.length !== 3 || dicts.some((m) => m.delta || m.id !== dicts[0].id)) {
      throw new Error(`expected 3 non-delta dictionary batches with one id, got ${JSON.stringify(dicts)}`);
    }
    const got = otapCat(toolPath, file);
    checkSchema(got.schema, file);
    compareRows(got.rows, replaced.expected, file);
    const words = new Set(got.rows.map((r) => r.dict).filter((w) => w !== null));
    if (![...words].some((w) => w.startsWith('only-in-1'))) {
      throw new Error('the second batch did not use its own dictionary');
    }
    return `${got.rows.length} rows equal, ${words.size} distinct dictionary values across batches`;
  });
}

// Gold files through Arrow JS's writer.
// Arrow JS 21.2.0 keys columns by name: with duplicate field names it writes the int8 column's
// one-byte buffer under the int32 type, a malformed file otap must reject (EINVAL).
const JS_WRITER_BUGS = {
  'cpp-21.0.0/generated_duplicate_fieldnames': 'Arrow JS merges duplicate field names',
};
let skipped = 0;
const goldRoot = path.join(testdata, 'arrow-testing/data/arrow-ipc-stream/integration');
for (const version of ['2.0.0-compression', '4.0.0-shareddict', 'cpp-21.0.0']) {
  const vdir = path.join(goldRoot, version);
  for (const f of fs.readdirSync(vdir).filter((n) => n.endsWith('.json.gz')).sort()) {
    const base = f.slice(0, -'.json.gz'.length);
    const label = `${version}/${base}`;
    let gold;
    try {
      gold = A.tableFromIPC(fs.readFileSync(path.join(vdir, `${base}.stream`)));
    } catch (e) {
      console.log(`SKIP  ${label}: Arrow JS cannot read the gold stream (${e.message.split('\n')[0]})`);
      skipped++;
      continue;
    }
    const title = JS_WRITER_BUGS[label]
      ? `Arrow JS re-writes ${label} (malformed by a known Arrow JS bug) -> otap rejects cleanly`
      : `Arrow JS re-writes ${label} -> otap reader equals the gold JSON`;
    check(title, () => {
      const done = [];
      for (const [kind, codec, name] of [['stream', null, 'none'], ['file', A.CompressionType.ZSTD, 'zstd']]) {
        const out = path.join(dir, `${base}.js.${kind}.arrow`);
        fs.writeFileSync(out, jsWrite(kind, gold, { compression: codec }));
        const r = spawnSync(toolPath, ['check', out, path.join(vdir, f)], { encoding: 'utf8' });
        if (r.signal) throw new Error(`ipc_tool killed by ${r.signal}`);
        if (JS_WRITER_BUGS[label]) {
          if (r.status !== 1 || !/EINVAL/.test(r.stderr)) {
            throw new Error(`expected a clean EINVAL for Arrow JS's malformed output, got ${r.status}: ${r.stderr}`);
          }
          done.push(`${kind}/${name} rejected (${JS_WRITER_BUGS[label]})`);
        } else {
          if (r.status !== 0) throw new Error(`${kind}/${name}: ${r.stderr.trim()}`);
          done.push(`${kind}/${name}`);
        }
      }
      return done.join(', ');
    });
  }
}

fs.rmSync(dir, { recursive: true, force: true });
console.log(`Arrow JS -> otap: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
