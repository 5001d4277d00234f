// Writes the read-benchmark files into DIR: the exporter-layout `logs` table (LOGS rows) and
// `log_attrs` table (ATTRS rows), each (a) uncompressed with dictionaries as the exporter
// writes them (parquet-rs defaults: V1 pages, dictionary, 1,048,576-row groups) and (b) ZSTD.
// usage: node parquet_read_gen.mjs DIR [LOGS=1048576] [ATTRS=4194304]
import fs from 'node:fs';
import path from 'node:path';
import { buildLogs, buildLogAttrs, writeWasm } from './parquet_read_common.mjs';

const dir = process.argv[2];
const nLogs = Number(process.argv[3] ?? 1048576);
const nAttrs = Number(process.argv[4] ?? 4194304);
if (!dir) {
  console.error('usage: node parquet_read_gen.mjs DIR [LOGS] [ATTRS]');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
for (const [name, build, n] of [['logs', buildLogs, nLogs], ['log_attrs', buildLogAttrs, nAttrs]]) {
  const t0 = Date.now();
  const table = build(n);
  for (const codec of ['UNCOMPRESSED', 'ZSTD']) {
    const bytes = writeWasm(table, { codec });
    const f = path.join(dir, `${name}_${codec.toLowerCase()}.parquet`);
    fs.writeFileSync(f, bytes);
    console.log(`${f}: ${n} rows, ${bytes.length} bytes (${Date.now() - t0} ms)`);
  }
}
