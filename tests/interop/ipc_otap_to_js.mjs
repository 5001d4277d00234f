// Interop: otap writes IPC (through tests/conformance/ipc_tool), apache-arrow JS reads it.
//  1. A table built in JS (see ipc_common.mjs) is written by Arrow JS, converted by otap to
//     stream and file with no, LZ4_FRAME and ZSTD compression, and read back by Arrow JS:
//     values must equal those the table was built from.
//  2. Replacement dictionaries: otap re-writes a JS stream whose batches carry different
//     dictionaries (AUTO and REPLACE modes); Arrow JS must decode every batch with its own
//     dictionary. Converting it to the file format must fail cleanly (files cannot replace).
//  3. Gold files: otap writes each arrow-testing integration JSON as IPC; Arrow JS reads both
//     the Arrow C++ gold stream and otap's output, and they must hold the same values (files
//     whose gold stream Arrow JS itself cannot read are skipped and listed).
//  4. The otap command line (when its path is given): `otap convert` output read by Arrow JS,
//     `otap cat --json` rows equal to the table's values (in the CLI's JSON conventions).
// usage: node ipc_otap_to_js.mjs IPC_TOOL TESTDATA_DIR [OTAP_CLI]
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  A, registerCodecs, tmpDir, tool, otapMessages, makeTestTable, canonTable, compareRows, jsWrite,
} from './ipc_common.mjs';

const [toolPath, testdata, cliPath] = process.argv.slice(2);
if (!toolPath || !testdata) {
  console.error('usage: node ipc_otap_to_js.mjs IPC_TOOL TESTDATA_DIR');
  process.exit(2);
}
await registerCodecs();
const dir = tmpDir('otap2js');
let passed = 0, failed = 0, skipped = 0;

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

const readJs = (file) => A.tableFromIPC(fs.readFileSync(file));

// 1. JS table -> otap writer (all formats and codecs) -> Arrow JS reader.
const shared = makeTestTable();
const src = path.join(dir, 'js_source.arrows');
fs.writeFileSync(src, A.RecordBatchStreamWriter.writeAll(shared.table).toUint8Array(true));
for (const to of ['stream', 'file']) {
  for (const codec of ['none', 'lz4', 'zstd']) {
    check(`otap ${to} writer (${codec}) -> Arrow JS reader`, () => {
      const out = path.join(dir, `otap_${to}_${codec}.arrow`);
      tool(toolPath, ['convert', src, out, '--to', to, '--compression', codec]);
      const msgs = otapMessages(toolPath, out).filter((m) => m.type !== 'schema');
      if (msgs.length === 0 || msgs.some((m) => m.compression !== codec)) {
        throw new Error(`messages not all ${codec}: ${JSON.stringify(msgs)}`);
      }
      const t = readJs(out);
      if (t.batches.length !== shared.table.batches.length) {
        throw new Error(`${t.batches.length} batches, expected ${shared.table.batches.length}`);
      }
      const types = t.schema.fields.map((f) => `${f.name}:${f.type}`).join(',');
      const want = shared.table.schema.fields.map((f) => `${f.name}:${f.type}`).join(',');
      if (types !== want) throw new Error(`schema ${types}, expected ${want}`);
      compareRows(canonTable(t), shared.expected, out);
      return `${t.numRows} rows equal`;
    });
  }
}

// 2. Dictionaries changing between batches, written by otap.
const replaced = makeTestTable({ dictionaries: 'replace' });
const repSrc = path.join(dir, 'js_replace.arrows');
fs.writeFileSync(repSrc, A.RecordBatchStreamWriter.writeAll(replaced.table).toUint8Array(true));
for (const mode of ['auto', 'replace']) {
  for (const codec of ['none', 'zstd']) {
    check(`otap stream writer, dictionaries changing per batch (${mode}, ${codec}) -> Arrow JS`, () => {
      const out = path.join(dir, `otap_replace_${mode}_${codec}.arrows`);
      tool(toolPath, ['convert', repSrc, out, '--to', 'stream', '--compression', codec, '--dictionary', mode]);
      const dicts = otapMessages(toolPath, out).filter((m) => m.type === 'dictionary');
      if (dicts.length !== 3 || dicts.some((m) => m.delta)) {
        throw new Error(`expected 3 replacement dictionary batches, got ${JSON.stringify(dicts)}`);
      }
      const t = readJs(out);
      compareRows(canonTable(t), replaced.expected, out);
      return `${t.numRows} rows equal across ${t.batches.length} batches, 3 replacement dictionaries`;
    });
  }
}
// Growing dictionaries: AUTO must write deltas (Arrow JS applies them), REPLACE full ones.
const grown = makeTestTable({ dictionaries: 'grow' });
const growSrc = path.join(dir, 'js_grow.arrows');
fs.writeFileSync(growSrc, A.RecordBatchStreamWriter.writeAll(grown.table).toUint8Array(true));
for (const [to, mode] of [['stream', 'auto'], ['stream', 'replace'], ['file', 'auto']]) {
  check(`otap ${to} writer, dictionary growing per batch (${mode}) -> Arrow JS`, () => {
    const out = path.join(dir, `otap_grow_${to}_${mode}.arrow`);
    tool(toolPath, ['convert', growSrc, out, '--to', to, '--dictionary', mode]);
    const dicts = otapMessages(toolPath, out).filter((m) => m.type === 'dictionary');
    const deltas = dicts.filter((m) => m.delta).length;
    const wantDeltas = mode === 'auto' ? 2 : 0;
    if (dicts.length !== 3 || deltas !== wantDeltas) {
      throw new Error(`expected 3 dictionary batches with ${wantDeltas} deltas, got ${JSON.stringify(dicts)}`);
    }
    const t = readJs(out);
    compareRows(canonTable(t), grown.expected, out);
    return `${t.numRows} rows equal; ${deltas} delta dictionary batches`;
  });
}
check('otap file writer refuses replacement dictionaries cleanly', () => {
  const out = path.join(dir, 'otap_replace.arrow');
  const r = spawnSync(toolPath, ['convert', repSrc, out, '--to', 'file'], { encoding: 'utf8' });
  if (r.status === 0) {
    // Allowed alternative: a unified dictionary; then the values must still be right.
    compareRows(canonTable(readJs(out)), replaced.expected, out);
    return 'written with a unified dictionary, values equal';
  }
  if (r.status !== 1 || r.signal) throw new Error(`exit ${r.status} signal ${r.signal}: ${r.stderr}`);
  if (!/dictionar/i.test(r.stderr)) throw new Error(`unclear error: ${r.stderr.trim()}`);
  return `failed with: ${r.stderr.trim()}`;
});

// 3. Gold integration files written by otap, read by Arrow JS next to the C++ gold stream.
const goldRoot = path.join(testdata, 'arrow-testing/data/arrow-ipc-stream/integration');
for (const version of ['2.0.0-compression', '4.0.0-shareddict', 'cpp-21.0.0']) {
  const vdir = path.join(goldRoot, version);
  for (const f of fs.readdirSync(vdir).filter((n) => n.endsWith('.json.gz')).sort()) {
    const base = f.slice(0, -'.json.gz'.length);
    const label = `${version}/${base}`;
    let gold;
    try {
      gold = readJs(path.join(vdir, `${base}.stream`));
    } catch (e) {
      console.log(`SKIP  ${label}: Arrow JS cannot read the gold stream itself (${e.message.split('\n')[0]})`);
      skipped++;
      continue;
    }
    let goldRows;
    try {
      goldRows = canonTable(gold);
    } catch (e) {
      console.log(`SKIP  ${label}: Arrow JS cannot decode the gold values (${e.message.split('\n')[0]})`);
      skipped++;
      continue;
    }
    check(`otap writes ${label} from JSON -> Arrow JS equals the C++ gold stream`, () => {
      const outs = [];
      // Two outputs per file keep the test short; every codec/format pair is covered above.
      for (const [to, codec] of [['stream', 'none'], ['file', 'lz4']]) {
        const out = path.join(dir, `${base}.${to}.${codec}.arrow`);
        tool(toolPath, ['json2ipc', path.join(vdir, f), out, '--to', to, '--compression', codec]);
        let t, rows;
        try {
          t = readJs(out);
          rows = canonTable(t);
        } catch (e) {
          throw new Error(`${to}/${codec}: Arrow JS cannot read otap's output: ${e.message.split('\n')[0]}`);
        }
        const types = t.schema.fields.map((x) => `${x.name}:${x.type}:${x.nullable}`).join(',');
        const want = gold.schema.fields.map((x) => `${x.name}:${x.type}:${x.nullable}`).join(',');
        if (types !== want) throw new Error(`${to}/${codec}: schema ${types}, expected ${want}`);
        compareRows(rows, goldRows, `${to}/${codec}`);
        outs.push(`${to}/${codec}`);
      }
      return `${goldRows.length} rows equal (${outs.join(', ')})`;
    });
  }
}

// 4. The otap CLI.
function cli(args) {
  const r = spawnSync(cliPath, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return r;
}
// CLI JSON conventions (see `otap cat --help`): 64-bit integers as JSON numbers (quoted here
// before parsing so they stay exact), timestamps and dates as ISO-8601 UTC strings.
const quoteBigInts = (line) => line.replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,\]\}])/g, '$1"$2"');
function iso(ns, digits) {
  const sec = ns / 1000000000n - (ns < 0n && ns % 1000000000n !== 0n ? 1n : 0n);
  const frac = ns - sec * 1000000000n;
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return digits === 0 ? `${base}Z` : `${base}.${frac.toString().padStart(9, '0').slice(0, digits)}Z`;
}
function cliExpected(row) {
  const e = { ...row };
  for (const k of ['i64', 'u64']) if (e[k] !== null) e[k] = String(e[k]);
  if (e.ts_ns !== null) e.ts_ns = iso(BigInt(e.ts_ns), 9);
  if (e.ts_ms !== null) e.ts_ms = iso(BigInt(e.ts_ms) * 1000000n, 3);
  if (e.date !== null) e.date = new Date(e.date * 86400000).toISOString().slice(0, 10);
  return e;
}
// `otap cat --help` documents NaN/Infinity strings; the CLI currently prints C's %g spellings
// ("nan", "-nan", "inf", "-inf"). Accept both, and report the deviation.
const cliNotes = new Set();
const NONFINITE = { nan: 'NaN', '-nan': 'NaN', inf: 'Infinity', '-inf': '-Infinity' };
function cliActual(row) {
  const a = { ...row };
  for (const k of ['i64', 'u64']) if (a[k] !== null) a[k] = String(a[k]);
  if (typeof a.f32 === 'number') a.f32 = Math.fround(a.f32);
  for (const k of ['f32', 'f64']) {
    if (typeof a[k] === 'string' && a[k] in NONFINITE) {
      cliNotes.add(`otap cat --json prints ${JSON.stringify(a[k])} where its help says ${NONFINITE[a[k]]}`);
      a[k] = NONFINITE[a[k]];
    }
  }
  return a;
}
if (cliPath && fs.existsSync(cliPath)) {
  for (const [to, codec] of [['file', 'zstd'], ['stream', 'lz4'], ['file', 'none']]) {
    check(`otap convert --to ${to} --compression ${codec} -> Arrow JS reader`, () => {
      const out = path.join(dir, `cli_${to}_${codec}.arrow`);
      const r = cli(['convert', '--to', to, '--compression', codec, src, out]);
      if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr.trim()}`);
      const t = readJs(out);
      compareRows(canonTable(t), shared.expected, out);
      return `${t.numRows} rows equal`;
    });
  }
  check('otap convert of changing dictionaries: stream ok, file refused', () => {
    const okOut = path.join(dir, 'cli_replace.arrows');
    const r1 = cli(['convert', '--to', 'stream', repSrc, okOut]);
    if (r1.status !== 0) throw new Error(`stream: exit ${r1.status}: ${r1.stderr.trim()}`);
    compareRows(canonTable(readJs(okOut)), replaced.expected, okOut);
    const r2 = cli(['convert', '--to', 'file', repSrc, path.join(dir, 'cli_replace.arrow')]);
    if (r2.status !== 1 || r2.signal) throw new Error(`file: exit ${r2.status}, expected 1: ${r2.stderr}`);
    return `file refused: ${r2.stderr.trim()}`;
  });
  const jsFileZstd = path.join(dir, 'js_file_zstd.arrow');
  fs.writeFileSync(jsFileZstd, jsWrite('file', shared.table, { compression: A.CompressionType.ZSTD }));
  for (const [name, file] of [['Arrow JS stream', src], ['Arrow JS file (ZSTD)', jsFileZstd]]) {
    check(`otap cat --json of the ${name}: rows equal the table values`, () => {
      const r = cli(['cat', '--json', file]);
      if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr.trim()}`);
      const rows = r.stdout.split('\n').filter((l) => l.length > 0).map((l) => cliActual(JSON.parse(quoteBigInts(l))));
      compareRows(rows, shared.expected.map(cliExpected), 'otap cat --json');
      return `${rows.length} rows equal${cliNotes.size ? ' (NOTE: ' + [...cliNotes].join('; ') + ')' : ''}`;
    });
  }
} else {
  console.log(`SKIP  otap CLI checks: ${cliPath ? `${cliPath} does not exist (not built)` : 'no CLI path given'}`);
  skipped++;
}

fs.rmSync(dir, { recursive: true, force: true });
console.log(`otap -> Arrow JS: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
