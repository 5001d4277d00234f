// Reads every Parquet file that tests/parquet/pqw_gen wrote (otap's writer) with independent
// readers — DuckDB, parquet-wasm (arrow-rs) and hyparquet — and compares every value with the
// generator's expected.jsonl. Usage: node parquet_write_check.mjs DIR [reader]
// Exit code 0 when every reader reads every file it is listed for with equal values.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import pw from 'parquet-wasm/node';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const dir = process.argv[2];
const only = process.argv[3];
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const expected = fs.readFileSync(path.join(dir, 'expected.jsonl'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l));

// Kind grammar: int | float | bool | string | hex | ts | date | time | decimal:S | null |
// list<K> | map<K,K> | struct{name:K,...}
function parseKind(s) {
  let i = 0;
  function kind() {
    const m = /^[a-z]+(:\d+)?/.exec(s.slice(i));
    const word = m[0];
    i += word.length;
    if (word === 'list') {
      i++; // <
      const item = kind();
      i++; // >
      return { t: 'list', item };
    }
    if (word === 'map') {
      i++;
      const key = kind();
      i++; // ,
      const value = kind();
      i++;
      return { t: 'map', key, value };
    }
    if (word === 'struct') {
      i++; // {
      const fields = [];
      while (s[i] !== '}') {
        const n = /^[a-z0-9_]+/.exec(s.slice(i))[0];
        i += n.length + 1; // name:
        fields.push([n, kind()]);
        if (s[i] === ',') i++;
      }
      i++;
      return { t: 'struct', fields };
    }
    if (word.startsWith('decimal')) return { t: 'decimal', scale: Number(word.split(':')[1]) };
    // time:E = raw Parquet values times 10^E give nanoseconds
    if (word.startsWith('time')) return { t: 'time', exp: BigInt(word.split(':')[1] || 0) };
    return { t: word };
  }
  return kind();
}

const columns = manifest.columns.map((c) => ({ name: c.name, kind: parseKind(c.kind) }));
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');

function decString(big, scale) {
  const neg = big < 0n;
  let s = (neg ? -big : big).toString().padStart(scale + 1, '0');
  if (scale > 0) s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale);
  return (neg ? '-' : '') + s;
}

// Generic normalization of already-simple JS values (nested values of every reader).
function norm(k, v) {
  if (v === null || v === undefined) return null;
  switch (k.t) {
    case 'int': return String(v);
    case 'float': return Number(v);
    case 'bool': return Boolean(v);
    case 'string': return String(v);
    case 'hex': case 'uuid': return typeof v === 'string' ? v : hex(v);
    case 'list': return Array.from(v, (x) => norm(k.item, x));
    case 'map': return Array.from(v, ([a, b]) => [norm(k.key, a), norm(k.value, b)]);
    case 'struct': {
      const o = {};
      for (const [n, fk] of k.fields) o[n] = norm(fk, v[n]);
      return o;
    }
    default: return v;
  }
}

// ---------------------------------------------------------------------------------------------
// DuckDB: SQL turns each column into a canonical scalar or JSON text.

let duck;
async function readDuckdb(file) {
  if (!duck) duck = await (await DuckDBInstance.create(':memory:')).connect();
  const exprs = columns.map(({ name, kind }) => {
    const c = `"${name}"`;
    switch (kind.t) {
      case 'int': case 'decimal': return `CAST(${c} AS VARCHAR)`;
      case 'float': return `CAST(${c} AS DOUBLE)`;
      case 'hex': return `lower(hex(${c}))`;
      case 'uuid': return `replace(CAST(${c} AS VARCHAR), '-', '')`;
      case 'ts': return `CAST(epoch_ns(${c}) AS VARCHAR)`;
      case 'date': return `CAST(${c} - DATE '1970-01-01' AS VARCHAR)`;
      case 'time': return `CAST(epoch_us(${c}) * 1000 AS VARCHAR)`;
      case 'list': case 'map': case 'struct': return `CAST(to_json(${c}) AS VARCHAR)`;
      default: return c;
    }
  });
  const sql = `SELECT ${exprs.map((e, i) => `${e} AS c${i}`).join(', ')} FROM read_parquet('${file}')`;
  const reader = await duck.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((r) => {
    const o = {};
    columns.forEach(({ name, kind }, i) => {
      let v = r[`c${i}`];
      if (v !== null && (kind.t === 'list' || kind.t === 'map' || kind.t === 'struct')) {
        v = JSON.parse(v);
        if (kind.t === 'map') v = Object.entries(v);
      }
      o[name] = norm(kind, v);
    });
    return o;
  });
}

// ---------------------------------------------------------------------------------------------
// parquet-wasm (arrow-rs): Arrow table via IPC, raw values for temporal and decimal types.

function rawValue(vec, i) {
  let base = 0;
  for (const d of vec.data) {
    if (i < base + d.length) {
      const j = i - base;
      if (d.nullBitmap && d.nullCount > 0) {
        const bit = d.offset + j;
        if (!((d.nullBitmap[bit >> 3] >> (bit & 7)) & 1)) return null;
      }
      return { d, j: d.offset + j };
    }
    base += d.length;
  }
  throw new Error('index out of range');
}

const unitNs = [1000000000n, 1000000n, 1000n, 1n];

function wasmValue(vec, kind, i) {
  const t = vec.type;
  if (['ts', 'date', 'time', 'decimal'].includes(kind.t)) {
    const r = rawValue(vec, i);
    if (r === null) return null;
    const { d, j } = r;
    if (kind.t === 'decimal') {
      const words = (t.bitWidth || 128) / 32;
      const w = d.values.subarray(j * words, j * words + words);
      let big = 0n;
      for (let k = words - 1; k >= 0; k--) big = (big << 32n) | BigInt(w[k]);
      const bits = BigInt(words * 32);
      if (big >= 1n << (bits - 1n)) big -= 1n << bits;
      return decString(big, kind.scale);
    }
    const raw = BigInt(d.values[j]);
    if (kind.t === 'ts') return String(raw * unitNs[t.unit]);
    if (kind.t === 'time') return String(raw * unitNs[t.unit]);
    // date: DateDay (unit 0) in days, DateMillisecond (unit 1) in ms
    return String(t.unit === 0 ? raw : raw / 86400000n);
  }
  const v = vec.get(i);
  if (v === null || v === undefined) return null;
  switch (kind.t) {
    case 'list': return norm(kind, Array.from({ length: v.length }, (_, k) => v.get(k)));
    case 'map': return norm(kind, Array.from(v));
    case 'struct': return norm(kind, v.toJSON());
    default: return norm(kind, v);
  }
}

// Arrow types arrow-rs must restore from our ARROW:schema key-value (without the hint these
// would come back as Utf8, Int64, Utf8, Date32, Binary, Timestamp<MILLISECOND>).
const hintTypes = {
  ls: 'LargeUtf8', dur: 'Duration<MICROSECOND>', dict_s: 'Dictionary<Int16, Utf8>',
  d64: 'Date64<MILLISECOND>', lbin: 'LargeBinary', u32: 'Uint32',
  ts_us_utc: 'Timestamp<MICROSECOND, UTC>', lls: 'LargeList<Utf8>',
};

async function readWasm(file) {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const table = arrow.tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  for (const f of table.schema.fields) {
    if (hintTypes[f.name] && String(f.type) !== hintTypes[f.name]) {
      throw new Error(`column ${f.name}: Arrow type ${f.type}, expected ${hintTypes[f.name]}`);
    }
  }
  const out = [];
  for (let i = 0; i < table.numRows; i++) out.push({});
  for (const { name, kind } of columns) {
    const vec = table.getChild(name);
    if (!vec) throw new Error(`column ${name} missing`);
    for (let i = 0; i < table.numRows; i++) out[i][name] = wasmValue(vec, kind, i);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// hyparquet (pure JS)

async function readHyparquet(file) {
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const rows = await parquetReadObjects({
    file: ab,
    compressors,
    utf8: false,
    parsers: {
      timestampFromMilliseconds: (v) => String(BigInt(v) * 1000000n),
      timestampFromMicroseconds: (v) => String(BigInt(v) * 1000n),
      timestampFromNanoseconds: (v) => String(BigInt(v)),
      dateFromDays: (v) => String(v),
      stringFromBytes: (b) => b && new TextDecoder().decode(b),
      jsonFromBytes: (b) => b,
      geometryFromBytes: (b) => b,
      geographyFromBytes: (b) => b,
      uuidFromBytes: (b) => b,
    },
  });
  return rows.map((r) => {
    const o = {};
    for (const { name, kind } of columns) {
      let v = r[name];
      if (v !== null && v !== undefined) {
        if (kind.t === 'time') v = String(BigInt(v) * 10n ** kind.exp);
        else if (kind.t === 'decimal') v = { approx: Number(v) };
        else if (kind.t === 'map') v = v instanceof Map ? Array.from(v) : Object.entries(v);
        else if (kind.t === 'ts' || kind.t === 'date') v = String(v);
      }
      o[name] = kind.t === 'decimal' ? v ?? null : norm(kind, v);
    }
    return o;
  });
}

// ---------------------------------------------------------------------------------------------

function equalValue(kind, got, want) {
  if (got && typeof got === 'object' && 'approx' in got) {
    // hyparquet turns DECIMAL into a JS number: compare to 1e-12 relative.
    const w = Number(want);
    return Math.abs(got.approx - w) <= Math.abs(w) * 1e-12 + 1e-9;
  }
  return JSON.stringify(got) === JSON.stringify(want);
}

// DuckDB prunes row groups and pages with our chunk statistics and column indexes: filtered
// counts must equal the counts computed from the expected values (a wrong ordering, e.g. signed
// bounds for UINT_32 or UINT_64, drops rows).
const filterColumns = ['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f64', 's', 'req_s',
  'id', 'dict_s'];
async function checkDuckdbFilters(file) {
  const bad = [];
  for (const name of filterColumns) {
    const kind = columns.find((c) => c.name === name).kind.t;
    const vals = expected.map((r) => r[name]).filter((v) => v !== null);
    const cmp = kind === 'int' ? (a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0)
      : kind === 'float' ? (a, b) => a - b
        : (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const sorted = [...vals].sort(cmp);
    for (const q of [0.1, 0.5, 0.9]) {
      const t = sorted[Math.floor(sorted.length * q)];
      const lit = kind === 'string' ? `'${t.replace(/'/g, "''")}'` : String(t);
      for (const op of ['>', '<', '=']) {
        const want = vals.filter((v) => (op === '>' ? cmp(v, t) > 0 : op === '<' ? cmp(v, t) < 0
          : cmp(v, t) === 0)).length;
        const r = await duck.runAndReadAll(
          `SELECT count(*)::INTEGER AS n FROM read_parquet('${file}') WHERE "${name}" ${op} ${lit}`);
        const got = r.getRowObjectsJS()[0].n;
        if (got !== want) bad.push(`${name} ${op} ${lit}: ${got} rows, expected ${want}`);
      }
    }
  }
  return bad;
}

const readers = { duckdb: readDuckdb, wasm: readWasm, hyparquet: readHyparquet };
// Columns a reader cannot represent: DuckDB turns DECIMAL with precision > 38 into DOUBLE (and
// its conversion of our 21-byte FLBA decimal(50, 4) does not even match the double value, while
// arrow-rs reads it exactly).
const skip = { duckdb: ['dec256'], hyparquet: [] };
let failures = 0;
let checks = 0;
for (const f of manifest.files) {
  for (const rname of f.readers.split(',')) {
    if (only && rname !== only) continue;
    const file = path.join(dir, f.file);
    let rows;
    try {
      rows = await readers[rname](file);
    } catch (e) {
      console.log(`FAIL ${f.file} [${rname}]: ${e.message}`);
      failures++;
      continue;
    }
    let bad = 0;
    if (rows.length !== expected.length) {
      console.log(`FAIL ${f.file} [${rname}]: ${rows.length} rows, expected ${expected.length}`);
      failures++;
      continue;
    }
    for (let i = 0; i < rows.length; i++) {
      for (const { name, kind } of columns) {
        if ((skip[rname] || []).includes(name)) continue;
        if (!equalValue(kind, rows[i][name], expected[i][name])) {
          if (bad < 5) {
            console.log(`FAIL ${f.file} [${rname}] row ${i} column ${name}: got ` +
              `${JSON.stringify(rows[i][name], (k, v) => typeof v === 'bigint' ? String(v) : v)} ` +
              `expected ${JSON.stringify(expected[i][name])}`);
          }
          bad++;
        }
      }
    }
    if (rname === 'duckdb') {
      const fb = await checkDuckdbFilters(file);
      for (const m of fb.slice(0, 5)) console.log(`FAIL ${f.file} [duckdb filter] ${m}`);
      bad += fb.length;
    }
    checks++;
    if (bad) {
      failures++;
      console.log(`FAIL ${f.file} [${rname}]: ${bad} values differ`);
    } else {
      console.log(`ok   ${f.file} [${rname}]: ${rows.length} rows x ${columns.length} columns equal`);
    }
  }
}
console.log(`${checks - failures < 0 ? 0 : checks - failures} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
