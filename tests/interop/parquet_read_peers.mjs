// Interop: files written by DuckDB and by parquet-wasm (arrow-rs) are read by otap's Parquet
// reader (tests/parquet/pq_dump prints JSON lines) and every value must equal what the peer
// reads (DuckDB) or what the table was built from (parquet-wasm).
//  1. DuckDB COPY ... (FORMAT parquet, CODEC c) for UNCOMPRESSED/SNAPPY/GZIP/ZSTD/LZ4_RAW/
//     BROTLI, V1 and V2 pages, small row groups: ints of every width and sign, floats, decimals,
//     dates, timestamps (us, ns, tz), strings, blobs, UUID, lists, structs, maps, nulls.
//  2. parquet-wasm: uint8/16/32/64, fixed_size_binary(16)/(8), timestamp ns, structs with
//     nullable children, lists, nulls everywhere; every codec, V1/V2 pages, dictionary on/off.
//  3. Files laid out like the OTAP Parquet exporter's logs and log_attrs tables (§2, §7),
//     compared with DuckDB's reading of the same files.
//  4. With OTAP_CLI: `otap inspect --json` and `otap cat` on those files.
// usage: node parquet_read_peers.mjs PQ_DUMP WORKDIR [OTAP_CLI]
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as A from 'apache-arrow';
import {
  duck, writeWasm, buildLogs, buildLogAttrs, prim, varlen, fsb, struct, CODECS,
} from './parquet_read_common.mjs';

const [dump, work, cli] = process.argv.slice(2);
if (!dump || !work) {
  console.error('usage: node parquet_read_peers.mjs PQ_DUMP WORKDIR');
  process.exit(2);
}
fs.mkdirSync(work, { recursive: true });
let passed = 0, failed = 0;
const fail = (name, msg) => { console.log(`FAIL  ${name}: ${msg}`); failed++; };
const pass = (name, detail) => { console.log(`PASS  ${name}${detail ? ': ' + detail : ''}`); passed++; };

// JSON with integers of 16+ digits kept exact (as strings).
const parseExact = (s) => JSON.parse(s.replace(/([:\[,])(-?\d{16,})(?=[,\]}])/g, '$1"$2"'));

function otapRows(file, args = []) {
  const r = spawnSync(dump, [file, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`pq_dump failed: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter((l) => l.length).map(parseExact);
}

function same(a, b, kind) {
  if (a === null || a === undefined) return b === null || b === undefined;
  if (b === null || b === undefined) return false;
  if (kind === 'float') return Math.fround(Number(a)) === Math.fround(Number(b));
  if (kind === 'double') return Number(a) === Number(b) || (Number.isNaN(Number(a)) && Number.isNaN(Number(b)));
  if (typeof a === 'object' || typeof b === 'object') {
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    const keys = new Set([...ka, ...kb]);
    for (const k of keys) if (!same(a[k], b[k], typeof a[k] === 'number' && !Number.isInteger(a[k]) ? 'double' : undefined)) return false;
    return Array.isArray(a) ? a.length === b.length : true;
  }
  return String(a) === String(b);
}

// DuckDB canonical text of each column, in otap's JSON conventions.
function canon(col, type) {
  const c = `"${col}"`;
  if (/^(STRUCT|MAP)|\[\]$/.test(type)) return [`to_json(${c})::VARCHAR`, 'json'];
  if (type === 'BLOB') return [`'0x' || lower(hex(${c}))`, 'str'];
  if (type === 'UUID') return [`'0x' || replace(${c}::VARCHAR, '-', '')`, 'str'];
  if (type === 'TIMESTAMP_NS') return [`epoch_ns(${c})::VARCHAR`, 'str'];
  if (type === 'TIMESTAMP_MS') return [`epoch_ms(${c})::VARCHAR`, 'str'];
  if (type === 'TIMESTAMP_S') return [`epoch(${c})::BIGINT::VARCHAR`, 'str'];
  if (type.startsWith('TIMESTAMP')) return [`epoch_us(${c})::VARCHAR`, 'str'];
  if (type === 'DATE') return [`(${c} - DATE '1970-01-01')::VARCHAR`, 'str'];
  if (type === 'FLOAT') return [`${c}::VARCHAR`, 'float'];
  if (type === 'DOUBLE') return [`${c}::VARCHAR`, 'double'];
  return [`${c}::VARCHAR`, 'str'];
}

async function compareWithDuck(db, name, file, args = []) {
  try {
    const esc = file.replace(/'/g, "''");
    const desc = await db.all(`DESCRIBE SELECT * FROM read_parquet('${esc}')`);
    const cols = desc.map((d) => [d.column_name, ...canon(d.column_name, d.column_type)]);
    const sql = `SELECT ${cols.map(([n, e], i) => `${e} AS c${i}`).join(', ')} FROM read_parquet('${esc}')`;
    const want = await db.all(sql);
    const got = otapRows(file, args);
    if (got.length !== want.length) throw new Error(`${got.length} rows, DuckDB reads ${want.length}`);
    for (let r = 0; r < got.length; r++) {
      for (let i = 0; i < cols.length; i++) {
        const [col, , kind] = cols[i];
        let w = want[r][`c${i}`];
        let g = got[r][col];
        if (kind === 'json' && w !== null) w = parseExact(w);
        if (!same(g, w, kind)) {
          throw new Error(`row ${r} column ${col}: otap ${JSON.stringify(g)}, DuckDB ${JSON.stringify(w)}`);
        }
      }
    }
    pass(name, `${got.length} rows x ${cols.length} columns`);
  } catch (e) {
    fail(name, e.message);
  }
}

const db = await duck();

// ---------------------------------------------------------------------------------------------
// 1. DuckDB writes

await db.all(`CREATE TABLE t AS SELECT
  i::INTEGER AS id,
  CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 127)::TINYINT END AS i8,
  CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 37 % 32000 - 16000)::SMALLINT END AS i16,
  CASE WHEN i % 3 = 0 THEN NULL ELSE (i * 1000003 % 2000000000 - 1000000000)::INTEGER END AS i32,
  CASE WHEN i % 4 = 0 THEN NULL ELSE (i::BIGINT * 100000000007 - 500000000000000)::BIGINT END AS i64,
  (i % 250)::UTINYINT AS u8, (i * 7 % 65000)::USMALLINT AS u16, (i::BIGINT * 65537 % 4000000000)::UINTEGER AS u32,
  (i::UBIGINT * 1000000007) AS u64,
  CASE WHEN i % 6 = 0 THEN NULL ELSE (i / 8.0)::FLOAT END AS f32,
  CASE WHEN i % 9 = 0 THEN NULL ELSE i / 3.0 END AS f64,
  CASE WHEN i % 2 = 0 THEN NULL ELSE i % 3 = 0 END AS b,
  CASE WHEN i % 11 = 0 THEN NULL ELSE 'str-' || (i % 97) END AS s,
  CASE WHEN i % 13 = 0 THEN NULL ELSE ('blob' || i)::BLOB END AS bl,
  (i / 100.0)::DECIMAL(9,2) AS d9, (i * 1.001)::DECIMAL(18,3) AS d18, (i * 12345.6789)::DECIMAL(38,4) AS d38,
  DATE '2020-01-01' + (i % 1000)::INTEGER AS dt,
  TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i) SECOND AS ts,
  (TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i) MICROSECOND)::TIMESTAMP_NS AS tsns,
  TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i) MINUTE AS tstz,
  CASE WHEN i % 10 = 0 THEN NULL ELSE uuid_extract_version(gen_random_uuid())::VARCHAR END AS junk,
  CASE WHEN i % 8 = 0 THEN NULL WHEN i % 8 = 1 THEN [] ELSE [i, NULL, i + 1] END AS li,
  CASE WHEN i % 9 = 0 THEN NULL ELSE ['a' || i, NULL] END AS ls,
  CASE WHEN i % 6 = 0 THEN NULL ELSE {'x': CASE WHEN i % 4 = 0 THEN NULL ELSE i END, 'y': 'v' || (i % 5)} END AS st,
  CASE WHEN i % 7 = 0 THEN NULL ELSE MAP {'k' || (i % 3): i, 'z': NULL} END AS mp,
  [[i], [i, i], []] AS ll
  FROM range(0, 5000) r(i)`);
await db.all('ALTER TABLE t DROP COLUMN junk');
const duckCodecs = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD', 'LZ4_RAW', 'BROTLI'];
for (const codec of duckCodecs) {
  for (const version of ['V1', 'V2']) {
    const f = path.join(work, `duck_${codec}_${version}.parquet`);
    await db.all(`COPY t TO '${f}' (FORMAT parquet, CODEC '${codec}', ROW_GROUP_SIZE 2048, PARQUET_VERSION ${version})`);
    await compareWithDuck(db, `duckdb ${codec} ${version}`, f);
  }
}
{
  const f = path.join(work, 'duck_dict.parquet');
  await compareWithDuck(db, 'duckdb file read with dictionary output', path.join(work, 'duck_SNAPPY_V1.parquet'), ['--dict']);
  await compareWithDuck(db, 'duckdb file read in 777-row batches', path.join(work, 'duck_ZSTD_V2.parquet'), ['--batch', '777']);
  void f;
}

// ---------------------------------------------------------------------------------------------
// 2. parquet-wasm writes (expected values are the source table's)

const NF = (name, type) => new A.Field(name, type, true);

function wasmTable(n) {
  const valid = (k) => (i) => (i + k) % 5 !== 0;
  const u8 = new Uint8Array(n), u16 = new Uint16Array(n), u32 = new Uint32Array(n), u64 = new BigUint64Array(n);
  const i64 = new BigInt64Array(n), ts = new BigInt64Array(n), f32 = new Float32Array(n), f64 = new Float64Array(n);
  const strs = [], inner = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    u8[i] = (i * 7) & 0xff;
    u16[i] = (i * 977) & 0xffff;
    u32[i] = (i * 2654435761) >>> 0;
    u64[i] = BigInt(i) * 1000000007n;
    i64[i] = BigInt(i) * -3000000000n;
    ts[i] = 1700000000000000000n + BigInt(i) * 1234567n;
    f32[i] = i / 4;
    f64[i] = i / 3;
    strs.push(valid(3)(i) ? `s${i % 50}` : null);
    inner[i] = i;
  }
  const fields = [
    NF('u8', new A.Uint8()), NF('u16', new A.Uint16()), NF('u32', new A.Uint32()),
    NF('u64', new A.Uint64()), NF('i64', new A.Int64()),
    NF('ts', new A.TimestampNanosecond()), NF('f32', new A.Float32()), NF('f64', new A.Float64()),
    NF('s', new A.Utf8()), NF('b16', new A.FixedSizeBinary(16)), NF('b8', new A.FixedSizeBinary(8)),
    NF('st', new A.Struct([NF('a', new A.Int32()), NF('b', new A.Utf8())])),
  ];
  const children = [
    prim(new A.Uint8(), u8, valid(0)), prim(new A.Uint16(), u16, valid(1)), prim(new A.Uint32(), u32, valid(2)),
    prim(new A.Uint64(), u64, valid(3)), prim(new A.Int64(), i64, valid(4)),
    prim(new A.TimestampNanosecond(), ts, valid(0)), prim(new A.Float32(), f32, valid(1)), prim(new A.Float64(), f64, valid(2)),
    varlen(new A.Utf8(), strs),
    fsb(16, n, valid(1), (i, d) => { for (let k = 0; k < 16; k++) d[k] = (i + k) & 0xff; }),
    fsb(8, n, valid(2), (i, d) => { for (let k = 0; k < 8; k++) d[k] = (i * 3 + k) & 0xff; }),
    struct(fields[11].type.children, [prim(new A.Int32(), inner, valid(4)), varlen(new A.Utf8(), strs.map((s) => s && s + '!'))], valid(3)),
  ];
  const schema = new A.Schema(fields);
  const expected = [];
  const hex = (i, w, f) => '0x' + Array.from({ length: w }, (_, k) => f(i, k).toString(16).padStart(2, '0')).join('');
  for (let i = 0; i < n; i++) {
    const v = (k, x) => (valid(k)(i) ? x : null);
    expected.push({
      u8: v(0, u8[i]), u16: v(1, u16[i]), u32: v(2, u32[i]), u64: v(3, String(u64[i])), i64: v(4, String(i64[i])),
      ts: v(0, String(ts[i])), f32: v(1, f32[i]), f64: v(2, f64[i]), s: strs[i],
      b16: v(1, hex(i, 16, (j, k) => (j + k) & 0xff)), b8: v(2, hex(i, 8, (j, k) => (j * 3 + k) & 0xff)),
      st: valid(3)(i) ? { a: v(4, i), b: strs[i] && strs[i] + '!' } : null,
    });
  }
  return { table: new A.Table(schema, new A.RecordBatch(schema, struct(fields, children))), expected };
}

function compareExpected(name, file, expected, args = []) {
  try {
    const got = otapRows(file, args);
    if (got.length !== expected.length) throw new Error(`${got.length} rows, expected ${expected.length}`);
    for (let r = 0; r < got.length; r++) {
      for (const k of Object.keys(expected[r])) {
        const kind = k === 'f32' ? 'float' : k === 'f64' ? 'double' : undefined;
        if (!same(got[r][k], expected[r][k], kind))
          throw new Error(`row ${r} ${k}: otap ${JSON.stringify(got[r][k])}, expected ${JSON.stringify(expected[r][k])}`);
      }
    }
    pass(name, `${got.length} rows`);
  } catch (e) {
    fail(name, e.message);
  }
}

const { table: wt, expected: wexp } = wasmTable(3000);
for (const codec of Object.keys(CODECS)) {
  for (const v2 of [false, true]) {
    for (const dict of [true, false]) {
      const f = path.join(work, `wasm_${codec}_${v2 ? 'v2' : 'v1'}_${dict ? 'dict' : 'plain'}.parquet`);
      try {
        fs.writeFileSync(f, writeWasm(wt, { codec, v2, dict, rowGroup: 1000, pageSize: 4096 }));
      } catch (e) {
        fail(`parquet-wasm write ${codec}`, e.message);
        continue;
      }
      compareExpected(`parquet-wasm ${codec} ${v2 ? 'V2' : 'V1'} dictionary ${dict ? 'on' : 'off'}`, f, wexp);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 2b. The ARROW:schema hint restores exact Arrow types: dictionaries with their index type,
//     timestamp zones, and types Parquet has no annotation for.

{
  const n = 3000;
  const words = Array.from({ length: 300 }, (_, k) => `w${k}`);
  const dictVec = A.vectorFromArray(words, new A.Utf8());
  const mkDict = (idxType, idx, valid) => {
    const { b, nulls } = (() => {
      const bb = new Uint8Array((n + 7) >> 3);
      let nn = 0;
      for (let i = 0; i < n; i++) if (valid(i)) bb[i >> 3] |= 1 << (i & 7); else nn++;
      return { b: bb, nulls: nn };
    })();
    return A.makeData({ type: new A.Dictionary(new A.Utf8(), idxType), length: n, nullCount: nulls, nullBitmap: b,
                        data: idx, dictionary: dictVec });
  };
  const i8 = new Uint8Array(n), i16 = new Uint16Array(n), i32 = new Int32Array(n), ts = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    i8[i] = (i * 7) % 250;
    i16[i] = (i * 13) % 300;
    i32[i] = (i * 17) % 300;
    ts[i] = 1700000000000000000n + BigInt(i);
  }
  const fields = [
    new A.Field('d8', new A.Dictionary(new A.Utf8(), new A.Uint8()), true),
    new A.Field('d16', new A.Dictionary(new A.Utf8(), new A.Uint16()), true),
    new A.Field('d32', new A.Dictionary(new A.Utf8(), new A.Int32()), true),
    new A.Field('tz', new A.TimestampNanosecond('Europe/Paris'), true),
  ];
  const valid = (i) => i % 6 !== 0;
  const children = [mkDict(new A.Uint8(), i8, valid), mkDict(new A.Uint16(), i16, valid), mkDict(new A.Int32(), i32, valid),
                    prim(new A.TimestampNanosecond('Europe/Paris'), ts, valid)];
  const schema = new A.Schema(fields, new Map([['_part_id', 'abc']]));
  const table = new A.Table(schema, new A.RecordBatch(schema, struct(fields, children)));
  const expected = [];
  for (let i = 0; i < n; i++) {
    expected.push({ d8: valid(i) ? words[i8[i]] : null, d16: valid(i) ? words[i16[i]] : null,
                    d32: valid(i) ? words[i32[i]] : null, tz: valid(i) ? String(ts[i]) : null });
  }
  for (const codec of ['UNCOMPRESSED', 'ZSTD']) {
    const f = path.join(work, `wasm_hint_${codec}.parquet`);
    fs.writeFileSync(f, writeWasm(table, { codec, rowGroup: 1024 }));
    compareExpected(`ARROW:schema hint values ${codec}`, f, expected);
    compareExpected(`ARROW:schema hint values ${codec}, 100-row batches`, f, expected, ['--batch', '100']);
    try {
      const r = spawnSync(dump, [f, '--schema'], { encoding: 'utf8' });
      const types = JSON.parse(r.stdout);
      const want = { d8: /^dictionary<uint8, utf8/, d16: /^dictionary<uint16, utf8/, d32: /^dictionary<int32, utf8/,
                     tz: /Europe\/Paris/ };
      for (const [k, re] of Object.entries(want))
        if (!re.test(types[k])) throw new Error(`${k}: ${types[k]} does not match ${re}`);
      const plain = JSON.parse(spawnSync(dump, [f, '--schema', '--no-hint'], { encoding: 'utf8' }).stdout);
      if (/dictionary/.test(plain.d8) || /Paris/.test(plain.tz)) throw new Error(`without the hint: ${JSON.stringify(plain)}`);
      pass(`ARROW:schema hint types ${codec}`, JSON.stringify(types));
    } catch (e) {
      fail(`ARROW:schema hint types ${codec}`, e.message);
    }
  }
}

// A uint8-indexed dictionary column whose Parquet dictionary outgrows uint8 (two Arrow batches
// with different dictionaries in one row group): batches are re-indexed against a per-batch
// dictionary, and a batch needing more than 256 entries fails cleanly with ERANGE.
{
  const half = 1000;
  const mk = (offset) => {
    const words = Array.from({ length: 200 }, (_, k) => `v${offset + k}`);
    const idx = new Uint8Array(half);
    for (let i = 0; i < half; i++) idx[i] = (i * 7) % 200;
    return { words, idx };
  };
  const fields = [new A.Field('d8', new A.Dictionary(new A.Utf8(), new A.Uint8(), 0), true)];
  const schema = new A.Schema(fields);
  const batches = [], expected = [];
  for (const off of [0, 1000]) {
    const { words, idx } = mk(off);
    const dict = A.vectorFromArray(words, new A.Utf8());
    const d = A.makeData({ type: fields[0].type, length: half, nullCount: 0, data: idx, dictionary: dict });
    batches.push(new A.RecordBatch(schema, struct(fields, [d])));
    for (let i = 0; i < half; i++) expected.push({ d8: words[idx[i]] });
  }
  const f = path.join(work, 'wasm_hint_u8_overflow.parquet');
  try {
    const ipc = A.tableToIPC(new A.Table(schema, batches), 'stream');
    const pwm = (await import('parquet-wasm/node')).default;
    const wt = pwm.Table.fromIPCStream(ipc);
    const props = new pwm.WriterPropertiesBuilder().setCompression(0).setMaxRowGroupSize(1 << 20).build();
    fs.writeFileSync(f, pwm.writeParquet(wt, props));
    compareExpected('ARROW:schema uint8 dictionary re-indexed per batch', f, expected, ['--batch', '250']);
    const r = spawnSync(dump, [f], { encoding: 'utf8' });
    if (r.status === 0 || !/do not fit the index type/.test(r.stderr)) throw new Error(`expected ERANGE, got ${r.status}: ${r.stderr}`);
    pass('ARROW:schema uint8 dictionary overflow in one batch fails cleanly', r.stderr.trim().slice(0, 120));
  } catch (e) {
    fail('ARROW:schema uint8 dictionary overflow', e.message);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Exporter layout (§2, §7): uncompressed, V1 pages, dictionary, ARROW:schema, 58.4.0

const logsFile = path.join(work, 'exporter_logs.parquet');
const attrsFile = path.join(work, 'exporter_log_attrs.parquet');
fs.writeFileSync(logsFile, writeWasm(buildLogs(5000), {}));
fs.writeFileSync(attrsFile, writeWasm(buildLogAttrs(20000), { rowGroup: 8192 }));
await compareWithDuck(db, 'exporter-layout logs', logsFile);
await compareWithDuck(db, 'exporter-layout log_attrs', attrsFile);
await compareWithDuck(db, 'exporter-layout logs (dictionary output)', logsFile, ['--dict']);

// ---------------------------------------------------------------------------------------------
// 4. The CLI on Parquet input (content detection, inspect, cat)

if (cli) {
  const f = path.join(work, 'duck_ZSTD_V2.parquet');
  try {
    const r = spawnSync(cli, ['inspect', '--json', f], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
    const j = JSON.parse(r.stdout);
    const meta = await db.all(`SELECT count(DISTINCT row_group_id)::INTEGER AS g, max(row_group_num_rows)::BIGINT AS m
                               FROM parquet_metadata('${f}')`);
    const rows = j.row_groups.reduce((a, g) => a + g.num_rows, 0);
    if (j.num_rows !== 5000 || rows !== 5000 || j.row_groups.length !== meta[0].g)
      throw new Error(`num_rows ${j.num_rows}, row groups ${j.row_groups.length} (DuckDB ${meta[0].g})`);
    const chunk = j.row_groups[0].columns.find((c) => c.path === 'i32');
    if (!chunk || chunk.codec !== 'ZSTD' || !chunk.statistics || chunk.statistics.null_count === undefined)
      throw new Error(`column chunk i32: ${JSON.stringify(chunk)}`);
    pass('otap inspect --json on Parquet', `${j.row_groups.length} row groups, ${j.arrow_schema.length} columns`);
  } catch (e) {
    fail('otap inspect --json on Parquet', e.message);
  }
  try {
    const r = spawnSync(cli, ['cat', '--json', '--limit', '50', f], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
    const got = r.stdout.trim().split('\n').map(parseExact);
    const want = otapRows(f).slice(0, 50);
    if (got.length !== 50) throw new Error(`${got.length} rows`);
    for (let i = 0; i < 50; i++) {
      for (const k of ['id', 'i8', 'i16', 'i32', 'u8', 'u16', 'u32', 's', 'b']) {
        if (!same(got[i][k], want[i][k])) throw new Error(`row ${i} ${k}: cat ${got[i][k]}, pq_dump ${want[i][k]}`);
      }
    }
    pass('otap cat --json on Parquet', '50 rows');
  } catch (e) {
    fail('otap cat --json on Parquet', e.message);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
