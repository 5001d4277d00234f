// Shared helpers for the Parquet READ interop tests and the read benchmark: deterministic
// Arrow tables laid out like the OTAP Parquet exporter's `logs` and `log_attrs` tables
// (../shared/reference/parquet-exporter-layout.md §2 and §7), written with parquet-wasm
// (arrow-rs) exactly as the exporter configures its writer, plus a DuckDB runner.
import * as A from 'apache-arrow';
import pw from 'parquet-wasm/node';
import { DuckDBInstance } from '@duckdb/node-api';

// Small deterministic PRNG (xorshift32).
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

function bitmap(n, valid) {
  const b = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid(i)) b[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return { b, nulls };
}

export function prim(type, values, valid, length) {
  const n = length ?? values.length;
  if (!valid) return A.makeData({ type, length: n, nullCount: 0, data: values });
  const { b, nulls } = bitmap(n, valid);
  return A.makeData({ type, length: n, nullCount: nulls, nullBitmap: b, data: values });
}

const enc = new TextEncoder();
/// strings: array of string|null (or Uint8Array for binary); type Utf8 or Binary.
export function varlen(type, values) {
  const n = values.length;
  const parts = values.map((v) => (v == null ? null : typeof v === 'string' ? enc.encode(v) : v));
  let total = 0;
  for (const p of parts) if (p) total += p.length;
  const data = new Uint8Array(total);
  const off = new Int32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    if (parts[i]) {
      data.set(parts[i], pos);
      pos += parts[i].length;
    }
    off[i + 1] = pos;
  }
  const { b, nulls } = bitmap(n, (i) => parts[i] != null);
  return A.makeData({ type, length: n, nullCount: nulls, nullBitmap: b, valueOffsets: off, data });
}

export function fsb(width, n, valid, fill) {
  const data = new Uint8Array(n * width);
  for (let i = 0; i < n; i++) if (valid(i)) fill(i, data.subarray(i * width, (i + 1) * width));
  const { b, nulls } = bitmap(n, valid);
  return A.makeData({ type: new A.FixedSizeBinary(width), length: n, nullCount: nulls, nullBitmap: b, data });
}

export function struct(fields, children, valid) {
  const n = children[0].length;
  const type = new A.Struct(fields);
  if (!valid) return A.makeData({ type, length: n, nullCount: 0, children });
  const { b, nulls } = bitmap(n, valid);
  return A.makeData({ type, length: n, nullCount: nulls, nullBitmap: b, children });
}

const F = (name, type, nullable = true) => new A.Field(name, type, nullable);
const U8 = new A.Uint8(), U16 = new A.Uint16(), U32 = new A.Uint32(), I32 = new A.Int32(), I64 = new A.Int64();
const UTF8 = new A.Utf8(), BIN = new A.Binary(), F64 = new A.Float64(), BOOL = new A.Bool();
const TSN = new A.TimestampNanosecond();

const RES_FIELDS = [F('id', U16), F('schema_url', UTF8), F('dropped_attributes_count', U32)];
const SCOPE_FIELDS = [F('id', U16), F('name', UTF8), F('version', UTF8), F('dropped_attributes_count', U32)];
const BODY_FIELDS = [F('type', U8, false), F('str', UTF8), F('int', I64), F('double', F64), F('bool', BOOL),
                     F('bytes', BIN), F('ser', BIN)];

export const LOG_FIELDS = [
  F('id', U32), F('resource', new A.Struct(RES_FIELDS)), F('scope', new A.Struct(SCOPE_FIELDS)),
  F('schema_url', UTF8), F('time_unix_nano', TSN, false), F('observed_time_unix_nano', TSN, false),
  F('trace_id', new A.FixedSizeBinary(16)), F('span_id', new A.FixedSizeBinary(8)),
  F('severity_number', I32), F('severity_text', UTF8), F('body', new A.Struct(BODY_FIELDS)),
  F('dropped_attributes_count', U32, false), F('event_name', UTF8), F('flags', U32),
];
export const ATTR_FIELDS = [F('parent_id', U32), F('key', UTF8, false), F('type', U8, false), F('str', UTF8),
                            F('int', I64), F('double', F64), F('bool', BOOL), F('bytes', BIN), F('ser', BIN)];

const WORDS = ['user', 'login', 'failed', 'request', 'served', 'cache', 'miss', 'hit', 'timeout', 'retry',
               'order', 'payment', 'accepted', 'declined', 'session', 'started', 'closed', 'disk', 'full', 'ok'];
const SEV = [[9, 'INFO'], [13, 'WARN'], [17, 'ERROR'], [5, 'DEBUG']];
const KEYS = ['http.method', 'http.route', 'http.status_code', 'server.address', 'user.id', 'net.peer.port',
              'app.widget.id', 'thread.name', 'code.function', 'db.system', 'retry.count', 'feature.enabled',
              'cache.hit', 'latency.ms', 'tenant', 'region', 'az', 'pod.name', 'k8s.namespace', 'build'];

/// The exporter's `logs` table: n rows (ids 0..n-1; every 10th log has no attributes -> null id).
export function buildLogs(n, seed = 1, partId = '3b241101-e2bb-4255-8caf-4136c566a962') {
  const r = rng(seed);
  const id = new Uint32Array(n), resId = new Uint16Array(n), scopeId = new Uint16Array(n);
  const zeros32 = new Uint32Array(n), sevNum = new Int32Array(n), t = new BigInt64Array(n), ot = new BigInt64Array(n);
  const flags = new Uint32Array(n), btype = new Uint8Array(n);
  const sevText = new Array(n), bodyStr = new Array(n), scopeName = new Array(n), resUrl = new Array(n);
  const scopeVer = new Array(n), schemaUrl = new Array(n), eventName = new Array(n);
  const msgs = [];
  for (let k = 0; k < 2000; k++) {
    msgs.push(`${WORDS[k % 20]} ${WORDS[(k * 7) % 20]} ${WORDS[(k * 13) % 20]} id=${k}`);
  }
  const base = 1700000000000000000n;
  for (let i = 0; i < n; i++) {
    id[i] = i;
    resId[i] = (i >> 12) & 0xffff;
    scopeId[i] = (i >> 10) & 0xffff;
    const s = SEV[Math.floor(r() * 4)];
    sevNum[i] = s[0];
    sevText[i] = s[1];
    t[i] = base + BigInt(i) * 1000003n;
    ot[i] = t[i] + BigInt(Math.floor(r() * 1e6));
    flags[i] = i & 1;
    btype[i] = 1;
    bodyStr[i] = msgs[Math.floor(r() * msgs.length)];
    scopeName[i] = `io.opentelemetry.lib${(i >> 10) % 5}`;
    scopeVer[i] = '1.0.0';
    resUrl[i] = 'https://opentelemetry.io/schemas/1.21.0';
    schemaUrl[i] = '';
    eventName[i] = i % 50 === 0 ? 'app.event' : null;
  }
  const trace = fsb(16, n, (i) => i % 3 !== 0, (i, d) => { for (let k = 0; k < 16; k++) d[k] = (i * 31 + k * 7) & 0xff; });
  const span = fsb(8, n, (i) => i % 3 !== 0, (i, d) => { for (let k = 0; k < 8; k++) d[k] = (i * 17 + k) & 0xff; });
  const nul = () => false;
  const children = [
    prim(U32, id, (i) => i % 10 !== 9),
    struct(RES_FIELDS, [prim(U16, resId), varlen(UTF8, resUrl), prim(U32, zeros32)]),
    struct(SCOPE_FIELDS, [prim(U16, scopeId), varlen(UTF8, scopeName), varlen(UTF8, scopeVer), prim(U32, zeros32)]),
    varlen(UTF8, schemaUrl),
    prim(TSN, t), prim(TSN, ot), trace, span,
    prim(I32, sevNum), varlen(UTF8, sevText),
    struct(BODY_FIELDS, [prim(U8, btype), varlen(UTF8, bodyStr), prim(I64, new BigInt64Array(n), nul),
                         prim(F64, new Float64Array(n), nul), prim(BOOL, new Uint8Array((n + 7) >> 3), nul, n),
                         varlen(BIN, new Array(n).fill(null)), varlen(BIN, new Array(n).fill(null))]),
    prim(U32, zeros32), varlen(UTF8, eventName), prim(U32, flags),
  ];
  const schema = new A.Schema(LOG_FIELDS, new Map([['_part_id', partId]]));
  return new A.Table(schema, new A.RecordBatch(schema, struct(LOG_FIELDS, children)));
}

/// The exporter's `log_attrs` table: n rows, parent ids grouped ascending (OTLP path).
export function buildLogAttrs(n, seed = 2) {
  const r = rng(seed);
  const parent = new Uint32Array(n), type = new Uint8Array(n), ints = new BigInt64Array(n), dbl = new Float64Array(n);
  const bools = new Uint8Array((n + 7) >> 3), key = new Array(n), str = new Array(n);
  const vals = [];
  for (let k = 0; k < 5000; k++) vals.push(`${WORDS[k % 20]}-${k}`);
  for (let i = 0; i < n; i++) {
    parent[i] = Math.floor(i / 4);
    const k = Math.floor(r() * KEYS.length);
    key[i] = KEYS[k];
    type[i] = 1 + (k % 4);
    str[i] = type[i] === 1 ? vals[Math.floor(r() * vals.length)] : null;
    ints[i] = BigInt(Math.floor(r() * 100000));
    dbl[i] = r() * 1000;
    if (r() < 0.5) bools[i >> 3] |= 1 << (i & 7);
  }
  const children = [
    prim(U32, parent, () => true), varlen(UTF8, key), prim(U8, type), varlen(UTF8, str),
    prim(I64, ints, (i) => type[i] === 2), prim(F64, dbl, (i) => type[i] === 3),
    prim(BOOL, bools, (i) => type[i] === 4, n),
    varlen(BIN, new Array(n).fill(null)), varlen(BIN, new Array(n).fill(null)),
  ];
  const schema = new A.Schema(ATTR_FIELDS);
  return new A.Table(schema, new A.RecordBatch(schema, struct(ATTR_FIELDS, children)));
}

export const CODECS = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, BROTLI: 3, LZ4: 4, ZSTD: 5, LZ4_RAW: 6 };

/// Writes `table` with parquet-wasm. opts: codec name, v2 (bool), dict (bool), rowGroup,
/// pageSize, createdBy.
export function writeWasm(table, opts = {}) {
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(CODECS[opts.codec ?? 'UNCOMPRESSED'])
    .setWriterVersion(opts.v2 ? pw.WriterVersion.V2 : pw.WriterVersion.V1)
    .setDictionaryEnabled(opts.dict ?? true)
    .setMaxRowGroupSize(opts.rowGroup ?? 1048576)
    .setCreatedBy(opts.createdBy ?? 'parquet-rs version 58.4.0');
  if (opts.pageSize) b = b.setDataPageSizeLimit(opts.pageSize);
  const wt = pw.Table.fromIPCStream(A.tableToIPC(table, 'stream'));
  return pw.writeParquet(wt, b.build());
}

export async function duck() {
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  return { inst, con, async all(sql) { return (await con.runAndReadAll(sql)).getRowObjectsJson(); } };
}
