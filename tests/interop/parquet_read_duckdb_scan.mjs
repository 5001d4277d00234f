// DuckDB reference scan for bench/parquet/bench_parquet_read: single thread, every value of
// every column consumed (sum of hash per column; count(*) alone would be answered from the
// footer). Prints one JSON line {"rows":N,"best_ms":T,"best_cpu_ms":C,"runs":[...]}: wall time
// and process CPU time (user+system; DuckDB runs on one thread), best of REPS.
// usage: node parquet_read_duckdb_scan.mjs FILE [REPS=3]
import { DuckDBInstance } from '@duckdb/node-api';

const file = process.argv[2];
const reps = Number(process.argv[3] ?? 3);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run('SET threads=1');
const esc = file.replace(/'/g, "''");
const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${esc}')`)).getRowObjectsJson()
  .map((r) => r.column_name);
const sql = `SELECT count(*) AS n, ${cols.map((c) => `sum(hash("${c}"))`).join(' + ')} AS h FROM read_parquet('${esc}')`;
const runs = [], cpu = [];
let rows = 0;
for (let i = 0; i < reps; i++) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = (await con.runAndReadAll(sql)).getRowObjectsJson();
  runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  rows = Number(r[0].n);
}
console.log(JSON.stringify({ rows, best_ms: Math.min(...runs), best_cpu_ms: Math.min(...cpu), runs, cpu }));
