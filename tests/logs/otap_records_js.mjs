// Interop: the Arrow IPC streams inside an OTAP records file written by `otap gen logs` are read
// by apache-arrow JS. The protobuf framing is parsed here independently (varint-delimited
// BatchArrowRecords, ArrowPayload fields); each (payload type, schema_id) stream's record bytes
// are concatenated, which must form a valid IPC stream (schema once, dictionary batches, one
// record batch per message). Values are checked against the generator's rules: times are
// base + index*1e9 + row*1000 ns, severity_text matches severity_number, every LOG_ATTRS
// parent_id names a LOGS id of the same message.
// usage: node otap_records_js.mjs OTAP_CLI INTEROP_DIR TMP_DIR
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';

const [cli, interopDir, tmp] = process.argv.slice(2);
if (!cli || !interopDir || !tmp) {
  console.error('usage: node otap_records_js.mjs OTAP_CLI INTEROP_DIR TMP_DIR');
  process.exit(2);
}
const require = createRequire(path.resolve(interopDir, 'package.json'));
const A = require('apache-arrow');
fs.mkdirSync(tmp, { recursive: true });

let passed = 0, failed = 0;
function check(name, fn) {
  try {
    const detail = fn();
    console.log(`PASS  ${name}${detail ? ': ' + detail : ''}`);
    passed++;
  } catch (e) {
    console.log(`FAIL  ${name}: ${e.stack || e.message}`);
    failed++;
  }
}

function varint(buf, pos) {
  let v = 0n, shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error(`truncated varint at ${pos}`);
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, pos];
    shift += 7n;
  }
}

// Returns [{batchId, payloads: [{schemaId, type, record}]}].
function parseRecordsFile(buf) {
  const msgs = [];
  let pos = 0;
  while (pos < buf.length) {
    let len;
    [len, pos] = varint(buf, pos);
    const end = pos + Number(len);
    if (end > buf.length) throw new Error(`message past end at ${pos}`);
    const msg = { batchId: 0n, payloads: [] };
    while (pos < end) {
      let key;
      [key, pos] = varint(buf, pos);
      const field = Number(key >> 3n), wt = Number(key & 7n);
      if (wt === 0) {
        let v;
        [v, pos] = varint(buf, pos);
        if (field === 1) msg.batchId = v;
      } else if (wt === 2) {
        let l;
        [l, pos] = varint(buf, pos);
        const body = buf.subarray(pos, pos + Number(l));
        pos += Number(l);
        if (field === 2) {
          const p = { schemaId: '', type: 0, record: new Uint8Array(0) };
          let q = 0;
          while (q < body.length) {
            let k2;
            [k2, q] = varint(body, q);
            const f2 = Number(k2 >> 3n), w2 = Number(k2 & 7n);
            if (w2 === 0) {
              let v;
              [v, q] = varint(body, q);
              if (f2 === 2) p.type = Number(v);
            } else if (w2 === 2) {
              let l2;
              [l2, q] = varint(body, q);
              const b2 = body.subarray(q, q + Number(l2));
              q += Number(l2);
              if (f2 === 1) p.schemaId = Buffer.from(b2).toString('utf8');
              if (f2 === 3) p.record = b2;
            } else {
              throw new Error(`wire type ${w2} in ArrowPayload`);
            }
          }
          msg.payloads.push(p);
        }
      } else {
        throw new Error(`wire type ${wt} in BatchArrowRecords`);
      }
    }
    msgs.push(msg);
  }
  return msgs;
}

// Reads every table of every message through per-(type, schema_id) JS stream readers.
function readWithJs(msgs) {
  const streams = new Map();  // key -> {chunks, owners: [[msgIndex]]}
  msgs.forEach((m, i) => {
    for (const p of m.payloads) {
      const key = `${p.type}/${p.schemaId}`;
      if (!streams.has(key)) streams.set(key, { type: p.type, chunks: [], msgs: [] });
      const s = streams.get(key);
      s.chunks.push(p.record);
      s.msgs.push(i);
    }
  });
  const tables = msgs.map(() => ({}));
  for (const [key, s] of streams) {
    const bytes = Buffer.concat(s.chunks.map((c) => Buffer.from(c)));
    const batches = [...A.RecordBatchReader.from(bytes)];
    if (batches.length !== s.msgs.length) {
      throw new Error(`stream ${key}: ${batches.length} record batches for ${s.msgs.length} messages`);
    }
    batches.forEach((b, k) => { tables[s.msgs[k]][s.type] = b; });
  }
  return { tables, streams: streams.size };
}

const LOGS = 30, LOG_ATTRS = 31, RESOURCE_ATTRS = 1, SCOPE_ATTRS = 2;
const SEV = { 9: 'INFO', 13: 'WARN', 17: 'ERROR', 5: 'DEBUG' };

function col(batch, name) {
  const i = batch.schema.fields.findIndex((f) => f.name === name);
  return i < 0 ? null : batch.getChildAt(i);
}
function child(structVec, name) {
  const i = structVec.type.children.findIndex((f) => f.name === name);
  return i < 0 ? null : structVec.getChildAt(i);
}
// Raw int64 of a timestamp vector element (Vector.get() would convert to milliseconds).
function rawI64(vec, i) {
  const data = vec.data[0];
  return data.values[data.offset + i] !== undefined && typeof data.values[0] === 'bigint'
    ? data.values[data.offset + i]
    : (BigInt(data.values[2 * (data.offset + i) + 1]) << 32n) | BigInt(data.values[2 * (data.offset + i)] >>> 0);
}

function checkFile(args, records, payloads) {
  const file = path.join(tmp, `js_${args.join('_').replace(/[^a-z0-9]/gi, '')}.otap`);
  const r = spawnSync(cli, ['gen', 'logs', ...args, '--records', String(records), '--payloads',
                            String(payloads), '-o', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`otap gen failed: ${r.stderr}`);
  const msgs = parseRecordsFile(fs.readFileSync(file));
  if (msgs.length !== payloads) throw new Error(`${msgs.length} messages, expected ${payloads}`);
  const { tables, streams } = readWithJs(msgs);
  let rows = 0, attrs = 0;
  tables.forEach((t, idx) => {
    const logs = t[LOGS];
    if (!logs) throw new Error(`message ${idx} has no LOGS`);
    if (logs.numRows !== records) throw new Error(`message ${idx}: ${logs.numRows} rows`);
    rows += logs.numRows;
    const time = col(logs, 'time_unix_nano');
    const sevNum = col(logs, 'severity_number');
    const sevText = col(logs, 'severity_text');
    const ids = col(logs, 'id');
    const base = 1700000000000000000n + BigInt(idx) * 1000000000n;
    const times = [];
    const idSet = new Set();
    for (let i = 0; i < logs.numRows; i++) {
      times.push(rawI64(time, i));
      if (sevNum && sevText && SEV[sevNum.get(i)] !== sevText.get(i)) {
        throw new Error(`message ${idx} row ${i}: severity ${sevNum.get(i)} with text ${sevText.get(i)}`);
      }
      if (ids && ids.get(i) !== null) idSet.add(ids.get(i));
    }
    times.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    times.forEach((t0, i) => {
      if (t0 !== base + BigInt(i) * 1000n) throw new Error(`message ${idx}: time ${t0} at rank ${i}`);
    });
    const la = t[LOG_ATTRS];
    if (la) {
      attrs += la.numRows;
      const pid = col(la, 'parent_id');
      const key = col(la, 'key');
      for (let i = 0; i < la.numRows; i++) {
        if (!idSet.has(pid.get(i))) throw new Error(`message ${idx}: LOG_ATTRS parent_id ${pid.get(i)} is no LOGS id`);
        if (typeof key.get(i) !== 'string' || key.get(i).length === 0) throw new Error('empty key');
      }
    }
    for (const ty of [RESOURCE_ATTRS, SCOPE_ATTRS]) {
      if (t[ty] && t[ty].numRows === 0) throw new Error(`empty table ${ty} was written`);
    }
    const res = col(logs, 'resource');
    if (res && !child(res, 'id')) throw new Error('resource without id');
  });
  return `${payloads} messages, ${streams} IPC streams, ${rows} log records, ${attrs} log attributes`;
}

check('plain ids, native columns', () => checkFile(['--dict', 'never', '--seed', '3'], 200, 3));
check('dictionaries per message (auto mix: deltas and replacements)',
      () => checkFile(['--dict', 'auto', '--seed', '4'], 300, 4));
check('dictionaries always', () => checkFile(['--dict', 'always', '--seed', '5'], 150, 3));
check('varying schemas (schema_id restarts)', () => {
  // Rows/ids are checked; some optional columns are absent by design.
  const file = path.join(tmp, 'js_vary.otap');
  const r = spawnSync(cli, ['gen', 'logs', '--vary-schema', '--seed', '6', '--records', '100',
                            '--payloads', '6', '-o', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`otap gen failed: ${r.stderr}`);
  const msgs = parseRecordsFile(fs.readFileSync(file));
  const { tables, streams } = readWithJs(msgs);
  const logStreams = new Set(msgs.map((m) => m.payloads.find((p) => p.type === LOGS).schemaId));
  if (logStreams.size < 2) throw new Error('expected several LOGS schema ids');
  const rows = tables.reduce((s, t) => s + t[LOGS].numRows, 0);
  if (rows !== 600) throw new Error(`${rows} rows`);
  return `${streams} IPC streams, ${logStreams.size} LOGS schema ids`;
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
