// Shared helpers of the apache-arrow JS <-> otap IPC interop tests (ipc_js_to_otap.mjs,
// ipc_otap_to_js.mjs). The C side is tests/conformance/ipc_tool (otap's reader and writer).
//
// Values are compared in one canonical JSON form on both sides (the form `ipc_tool cat`
// prints): null; bool; 8-32 bit ints, date32 and time32 as numbers; 64-bit ints, timestamps,
// date64, time64 and durations as raw decimal strings (never Vector.get(), which turns int64
// timestamps into milliseconds); floats as numbers (NaN as "NaN"); utf8 as strings; binary as
// lowercase hex; structs as objects; lists as arrays; dictionaries decoded to their values.
import * as A from 'apache-arrow';
import lz4 from 'lz4js';
import * as fzstd from 'fzstd';
import zstdCodec from 'zstd-codec';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export { A };

// Arrow JS ships no codecs: register LZ4_FRAME (lz4js) and ZSTD (zstd-codec to encode, fzstd
// to decode). Decoded buffers are copied into fresh ArrayBuffers so they are 8-byte aligned.
export async function registerCodecs() {
  const simple = await new Promise((resolve) => zstdCodec.ZstdCodec.run((z) => resolve(new z.Simple())));
  const aligned = (u8) => {
    const out = new Uint8Array(u8.length);
    out.set(u8);
    return out;
  };
  A.compressionRegistry.set(A.CompressionType.LZ4_FRAME, {
    encode: (d) => aligned(lz4.compress(d)),
    decode: (d) => aligned(lz4.decompress(d)),
  });
  A.compressionRegistry.set(A.CompressionType.ZSTD, {
    encode: (d) => aligned(simple.compress(d, 3)),
    decode: (d) => aligned(fzstd.decompress(d)),
  });
}

export function tmpDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `otap-${tag}-`));
}

// Runs ipc_tool; throws with its stderr on failure; returns stdout.
export function tool(toolPath, args) {
  const r = spawnSync(toolPath, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`ipc_tool ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

// `ipc_tool cat` output: { schema, batches, rows }.
export function otapCat(toolPath, file) {
  const lines = tool(toolPath, ['cat', file]).split('\n').filter((l) => l.length > 0);
  const head = JSON.parse(lines[0]);
  return { schema: head.schema, batches: head.batches, rows: lines.slice(1).map((l) => JSON.parse(l)) };
}

// `ipc_tool messages` output: one object per message (schema/dictionary/batch).
export function otapMessages(toolPath, file) {
  return tool(toolPath, ['messages', file]).split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
}

const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');

function canonFloat(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

// Generic fallback for leaf types compared JS-to-JS only (decimals, intervals, unions...).
function canonGeneric(v) {
  return JSON.parse(JSON.stringify(v, (k, x) => {
    if (typeof x === 'bigint') return x.toString();
    if (ArrayBuffer.isView(x)) return Array.from(x, (e) => (typeof e === 'bigint' ? e.toString() : e));
    return x;
  }) ?? 'null');
}

// Canonical value of element i of a Data (one chunk), reading raw buffers.
export function canonData(d, i) {
  if (!d.getValid(i)) return null;
  const t = d.type;
  if (A.DataType.isDictionary(t)) {
    const idx = Number(d.values[i]);
    const dict = d.dictionary;  // a Vector
    return canonVector(dict, idx);
  }
  switch (t.typeId) {
    case A.Type.Null: return null;
    case A.Type.Bool: return makeVectorGet(d, i);
    case A.Type.Int: {
      const x = d.values[i];
      return t.bitWidth === 64 ? x.toString() : Number(x);
    }
    case A.Type.Float: {
      if (t.precision === A.Precision.HALF) return canonFloat(makeVectorGet(d, i));
      return canonFloat(d.values[i]);
    }
    case A.Type.Utf8: case A.Type.LargeUtf8: return makeVectorGet(d, i);
    case A.Type.Binary: case A.Type.LargeBinary: case A.Type.FixedSizeBinary:
      return hex(makeVectorGet(d, i));
    case A.Type.Date: case A.Type.Time: case A.Type.Timestamp: case A.Type.Duration: {
      // Raw storage: date32/time32 one int32, others one int64.
      if (d.values instanceof BigInt64Array) return d.values[i].toString();
      if (t.typeId === A.Type.Date && t.unit === A.DateUnit.MILLISECOND) {
        // Older layouts keep int64 as int32 pairs.
        const lo = d.values[2 * i] >>> 0, hi = d.values[2 * i + 1];
        return (BigInt(hi) * 4294967296n + BigInt(lo)).toString();
      }
      return Number(d.values[i]);
    }
    case A.Type.Struct: {
      const o = {};
      t.children.forEach((f, k) => { o[f.name] = canonData(d.children[k], i); });
      return o;
    }
    case A.Type.List: case A.Type.LargeList: {
      const lo = Number(d.valueOffsets[i]), hi = Number(d.valueOffsets[i + 1]);
      const out = [];
      for (let k = lo; k < hi; k++) out.push(canonData(d.children[0], k));
      return out;
    }
    case A.Type.FixedSizeList: {
      const n = t.listSize, out = [];
      for (let k = i * n; k < (i + 1) * n; k++) out.push(canonData(d.children[0], k));
      return out;
    }
    case A.Type.Map: {
      const lo = d.valueOffsets[i], hi = d.valueOffsets[i + 1];
      const entries = d.children[0], out = [];
      for (let k = lo; k < hi; k++) out.push([canonData(entries.children[0], k), canonData(entries.children[1], k)]);
      return out;
    }
    default:
      return canonGeneric(makeVectorGet(d, i));
  }
}

function makeVectorGet(d, i) {
  return A.makeVector(d).get(i);
}

export function canonVector(vec, i) {
  let k = i;
  for (const d of vec.data) {
    if (k < d.length) return canonData(d, k);
    k -= d.length;
  }
  throw new Error(`index ${i} out of range`);
}

// Canonical rows of a Table (one object per row, keys = column names).
export function canonTable(table) {
  const rows = [];
  for (const batch of table.batches) {
    for (let r = 0; r < batch.numRows; r++) {
      const o = {};
      table.schema.fields.forEach((f, k) => { o[f.name] = canonData(batch.getChildAt(k).data[0], r); });
      rows.push(o);
    }
  }
  return rows;
}

// Deep equality with a message naming row and column of the first difference.
export function compareRows(actual, expected, label) {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: ${actual.length} rows, expected ${expected.length}`);
  }
  for (let r = 0; r < expected.length; r++) {
    for (const key of Object.keys(expected[r])) {
      const a = JSON.stringify(actual[r][key]);
      const e = JSON.stringify(expected[r][key]);
      if (a !== e) throw new Error(`${label}: row ${r} column '${key}': got ${a}, expected ${e}`);
    }
    const extra = Object.keys(actual[r]).filter((k) => !(k in expected[r]));
    if (extra.length) throw new Error(`${label}: row ${r} has unexpected columns ${extra}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The test table: every column built from plain JS values; `expected` is computed from those
// values (not read back through Arrow JS), so both directions are checked against the truth.

function bitmap(valid) {
  const out = new Uint8Array(Math.ceil(valid.length / 8) || 1);
  valid.forEach((v, i) => { if (v) out[i >> 3] |= 1 << (i & 7); });
  return out;
}

// A primitive column from raw values (null = null slot) via makeData: exact bits, no builder
// conversions (timestamps stay raw int64).
function prim(type, ArrayType, values, fill) {
  const valid = values.map((v) => v !== null);
  const data = ArrayType.from(values.map((v) => (v === null ? fill : v)));
  return A.makeVector(A.makeData({
    type, length: values.length, nullCount: valid.filter((v) => !v).length,
    nullBitmap: bitmap(valid), data,
  }));
}

const I64_MIN = -(2n ** 63n), I64_MAX = 2n ** 63n - 1n, U64_MAX = 2n ** 64n - 1n;

// One batch of `n` rows; `seed` varies the values; `dict` is the dictionary value set used.
function batchColumns(n, seed, dictWords, dictVec, dictType) {
  const pick = (i, k) => ((i * 7 + seed * 13 + k) % 11 === 0 ? null : true);
  const col = {};
  const raw = {};
  const gen = (name, f) => { raw[name] = Array.from({ length: n }, (_, i) => (pick(i, name.length) ? f(i) : null)); };
  gen('i8', (i) => ((i * 37 + seed) % 256) - 128);
  gen('i16', (i) => ((i * 1231 + seed) % 65536) - 32768);
  gen('i32', (i) => (i === 1 ? -2147483648 : i === 2 ? 2147483647 : (i * 99991 + seed) | 0));
  gen('i64', (i) => (i === 1 ? I64_MIN : i === 2 ? I64_MAX : BigInt(i) * 1234567890123n - BigInt(seed)));
  gen('u8', (i) => (i * 31 + seed) % 256);
  gen('u16', (i) => (i * 4099 + seed) % 65536);
  gen('u32', (i) => (i === 2 ? 4294967295 : (i * 2654435761 + seed) % 4294967296));
  gen('u64', (i) => (i === 2 ? U64_MAX : BigInt(i) * 18446744073709551n + BigInt(seed)));
  gen('f32', (i) => Math.fround((i - 3.25) * 1.5 + seed));
  gen('f64', (i) => (i === 3 ? NaN : (i - 7) / 3 + seed * 1e10));
  gen('bool', (i) => (i + seed) % 3 === 0);
  gen('utf8', (i) => (i % 5 === 0 ? '' : `v${seed}-${i}-é€😀`.repeat(1 + (i % 3))));
  gen('bin', (i) => Uint8Array.from({ length: i % 6 }, (_, k) => (k * 71 + i + seed) & 255));
  gen('dict', (i) => (i + seed) % dictWords.length);
  gen('st', (i) => ({ a: i % 4 === 1 ? null : i * seed - 5, b: `s${i}` }));
  gen('lst', (i) => Array.from({ length: i % 4 }, (_, k) => (k === 1 ? null : k * 1000 + i)));
  gen('ts_ns', (i) => 1730982834123456789n + BigInt(i) * 1000000007n - BigInt(seed));
  gen('ts_ms', (i) => BigInt(1700000000000 + i * 1000 + seed));
  gen('date', (i) => 19000 + i - seed);

  col.i8 = prim(new A.Int8(), Int8Array, raw.i8, 0);
  col.i16 = prim(new A.Int16(), Int16Array, raw.i16, 0);
  col.i32 = prim(new A.Int32(), Int32Array, raw.i32, 0);
  col.i64 = prim(new A.Int64(), BigInt64Array, raw.i64, 0n);
  col.u8 = prim(new A.Uint8(), Uint8Array, raw.u8, 0);
  col.u16 = prim(new A.Uint16(), Uint16Array, raw.u16, 0);
  col.u32 = prim(new A.Uint32(), Uint32Array, raw.u32, 0);
  col.u64 = prim(new A.Uint64(), BigUint64Array, raw.u64, 0n);
  col.f32 = prim(new A.Float32(), Float32Array, raw.f32, 0);
  col.f64 = prim(new A.Float64(), Float64Array, raw.f64, 0);
  col.bool = A.vectorFromArray(raw.bool, new A.Bool());
  col.utf8 = A.vectorFromArray(raw.utf8, new A.Utf8());
  col.bin = A.vectorFromArray(raw.bin, new A.Binary());
  {
    const valid = raw.dict.map((v) => v !== null);
    col.dict = A.makeVector(A.makeData({
      type: dictType, length: n, nullCount: valid.filter((v) => !v).length,
      nullBitmap: bitmap(valid), data: Int32Array.from(raw.dict.map((v) => v ?? 0)),
      dictionary: dictVec,
    }));
  }
  col.st = A.vectorFromArray(raw.st, new A.Struct([
    new A.Field('a', new A.Int32(), true), new A.Field('b', new A.Utf8(), true)]));
  col.lst = A.vectorFromArray(raw.lst, new A.List(new A.Field('item', new A.Int32(), true)));
  col.ts_ns = prim(new A.TimestampNanosecond('UTC'), BigInt64Array, raw.ts_ns, 0n);
  col.ts_ms = prim(new A.TimestampMillisecond(), BigInt64Array, raw.ts_ms, 0n);
  col.date = prim(new A.DateDay(), Int32Array, raw.date, 0);

  const expected = [];
  for (let i = 0; i < n; i++) {
    const c = (v, f) => (v === null ? null : f(v));
    expected.push({
      i8: raw.i8[i], i16: raw.i16[i], i32: raw.i32[i], i64: c(raw.i64[i], String),
      u8: raw.u8[i], u16: raw.u16[i], u32: raw.u32[i], u64: c(raw.u64[i], String),
      f32: c(raw.f32[i], canonFloat), f64: c(raw.f64[i], canonFloat), bool: raw.bool[i],
      utf8: raw.utf8[i], bin: c(raw.bin[i], hex), dict: c(raw.dict[i], (k) => dictWords[k]),
      st: raw.st[i],
      lst: raw.lst[i], ts_ns: c(raw.ts_ns[i], String), ts_ms: c(raw.ts_ms[i], String),
      date: raw.date[i],
    });
  }
  return { columns: col, expected };
}

// The formats (C Data Interface) otap must report for the test table's columns.
export const EXPECTED_FORMATS = {
  i8: 'c', i16: 's', i32: 'i', i64: 'l', u8: 'C', u16: 'S', u32: 'I', u64: 'L', f32: 'f',
  f64: 'g', bool: 'b', utf8: 'u', bin: 'z', dict: 'i', st: '+s', lst: '+l', ts_ns: 'tsn:UTC',
  ts_ms: 'tsm:', date: 'tdD',
};

// Builds the test table. dictionaries: 'shared' (one dictionary for every batch), 'replace'
// (each batch has its own, unrelated dictionary: a stream carries replacement dictionaries) or
// 'grow' (each batch's dictionary extends the previous one: a writer may emit deltas).
export function makeTestTable({ dictionaries = 'shared', batchRows = [23, 17, 1] } = {}) {
  const dictType = new A.Dictionary(new A.Utf8(), new A.Int32(), 0, false);
  const shared = ['alpha', 'beta', 'gamma', '', 'delta'];
  // Arrow JS compares dictionaries by identity: one vector for all batches when shared.
  const sharedVec = A.vectorFromArray(shared, new A.Utf8());
  const grown = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6'];
  const batches = [];
  const expected = [];
  let schema = null;
  batchRows.forEach((n, b) => {
    const words = dictionaries === 'replace' ? [`b${b}-x`, `b${b}-y`, `only-in-${b}`]
      : dictionaries === 'grow' ? grown.slice(0, 2 + 2 * b) : shared;
    const vec = dictionaries === 'shared' ? sharedVec : A.vectorFromArray(words, new A.Utf8());
    const { columns, expected: e } = batchColumns(n, b + 1, words, vec, dictType);
    // One explicit schema (every field nullable) for all batches.
    schema ??= new A.Schema(Object.entries(columns).map(([name, v]) => new A.Field(name, v.type, true)));
    const data = A.makeData({
      type: new A.Struct(schema.fields), length: n, nullCount: 0,
      children: Object.values(columns).map((v) => v.data[0]),
    });
    batches.push(new A.RecordBatch(schema, data));
    expected.push(...e);
  });
  return { table: new A.Table(schema, batches), expected };
}

// Header type of the first message after an IPC file's 8-byte magic: 1 Schema, 2
// DictionaryBatch, 3 RecordBatch (tiny flatbuffer walk: Message.header_type is field 1).
export function firstFileMessageType(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  if (dv.getUint32(p, true) === 0xffffffff) p += 4;
  p += 4;  // metadata length
  const table = p + dv.getUint32(p, true);
  const vtable = table - dv.getInt32(table, true);
  const vlen = dv.getUint16(vtable, true);
  if (vlen <= 6) return 0;
  const off = dv.getUint16(vtable + 6, true);
  return off === 0 ? 0 : dv.getUint8(table + off);
}

// Arrow JS 21.2.0 writes the COMPRESSED length into the 8-byte prefix of each compressed body
// buffer, where the format requires the UNCOMPRESSED length (Columnar.rst, "Compression";
// fixed upstream by apache/arrow-js#470, after our pinned version). Readers that size the
// output from the prefix (Arrow C++, otap) must reject such files. This subclass rewrites the
// prefixes the base writer produced with the uncompressed sizes, giving conforming files.
export function conformingWriter(Writer) {
  return class extends Writer {
    _compressBodyBuffers(buffers) {
      const out = super._compressBodyBuffers(buffers);
      buffers.forEach((b, k) => {
        const prefix = out.buffers[2 * k];
        if (!prefix || prefix.byteLength !== 8) return;  // empty buffer: no prefix
        const dv = new DataView(prefix.buffer, prefix.byteOffset, 8);
        if (dv.getBigInt64(0, true) !== -1n) dv.setBigInt64(0, BigInt(b.byteLength), true);
      });
      return out;
    }
  };
}

// Writes `table` with Arrow JS; `conforming` applies the prefix fix above.
export function jsWrite(kind, table, { compression = null, conforming = true } = {}) {
  const Base = kind === 'file' ? A.RecordBatchFileWriter : A.RecordBatchStreamWriter;
  const Writer = conforming && compression !== null ? conformingWriter(Base) : Base;
  const w = new Writer(compression === null ? {} : { compressionType: compression });
  w.writeAll(table);
  return w.toUint8Array(true);
}
