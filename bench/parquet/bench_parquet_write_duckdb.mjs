// Reference for bench_parquet_write: DuckDB (threads=1) loads SRC (a Parquet file otap wrote)
// into an in-memory table, then times COPY of that table to Parquet, uncompressed and ZSTD
// level 3, best of REPS. Prints "duckdb <secs_uncompressed> <secs_zstd> <bytes> <bytes>".
// usage: node bench_parquet_write_duckdb.mjs SRC DIR NAME REPS
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/interop/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const [src, dir, name, repsArg] = process.argv.slice(2);
const reps = Number(repsArg || 3);
const con = await (await DuckDBInstance.create(':memory:')).connect();
await con.run('SET threads=1');
await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${src}')`);
const out = [];
const sizes = [];
for (const codec of ['uncompressed', 'zstd']) {
  const file = path.join(dir, `duckdb_${name}_${codec}.parquet`);
  const level = codec === 'zstd' ? ', COMPRESSION_LEVEL 3' : '';
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    await con.run(`COPY t TO '${file}' (FORMAT parquet, COMPRESSION ${codec}${level})`);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, dt);
  }
  out.push(best.toFixed(4));
  sizes.push(fs.statSync(file).size);
}
console.log(`duckdb ${out.join(' ')} ${sizes.join(' ')}`);
