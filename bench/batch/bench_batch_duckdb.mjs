// DuckDB reference for bench_batch: loads the flattened log rows (CSV written by bench_batch)
// into a table, then times (process CPU time), with threads=1, materializing the rows in input order and ordered
// like the batcher's sort policies. Prints "<policy> <median ms>" lines.
// Usage: node bench_batch_duckdb.mjs ROWS.csv REPS
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/interop/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const [csv, repsArg] = process.argv.slice(2);
const reps = Math.max(1, parseInt(repsArg || '5', 10));
const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await inst.connect();
await con.run(`CREATE TABLE t AS SELECT * FROM read_csv('${csv.replace(/'/g, "''")}', header=true,
  columns={'resource':'VARCHAR','scope':'VARCHAR','trace_id':'VARCHAR','span_id':'VARCHAR',
  'time_unix_nano':'BIGINT','severity_number':'INTEGER','body':'VARCHAR','log_attrs':'VARCHAR'})`);
const n = (await con.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0];
console.log(`# rows ${n}`);
const policies = [
  ['none', ''],
  ['resource,scope', 'ORDER BY resource, scope'],
  ['resource,scope,trace_id', 'ORDER BY resource, scope, trace_id'],
];
for (const [name, order] of policies) {
  const times = [];
  for (let r = 0; r < reps + 1; r++) {
    // Process CPU time (user + system): DuckDB runs the query on this process with threads=1;
    // the machine is shared, so wall time would count other processes' load.
    const c0 = process.cpuUsage();
    await con.run(`CREATE OR REPLACE TABLE o AS SELECT * FROM t ${order}`);
    const c1 = process.cpuUsage(c0);
    const dt = (c1.user + c1.system) / 1000;
    if (r > 0) times.push(dt);
  }
  times.sort((a, b) => a - b);
  console.log(`${name} ${times[Math.floor(times.length / 2)].toFixed(3)}`);
}
