// Writes small Parquet files with DuckDB (another Parquet implementation
// than arrow-go), committed next to this script. CI does not run it.
//
//   bash dataset/testdata/duckdb/gen.sh   (@duckdb/node-api 1.5.6-r.1)
//
// Files:
//   flat.parquet       5000 rows, row groups of 2048 (3 row groups): id
//                      bigint, name varchar (nulls), score double, flag
//                      boolean, day date, ts timestamp (microseconds)
//   nested.parquet     50 rows, 1 row group: id, tags varchar[] (nulls and
//                      empty lists), point struct(x double, y double), kv
//                      map(varchar, integer)
//   zstd.parquet       500 rows, zstd, 1 row group: id, value (bigint)
import { DuckDBInstance } from '@duckdb/node-api';

const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run(`COPY (
  SELECT i::BIGINT AS id,
         CASE WHEN i % 7 = 0 THEN NULL ELSE 'name-' || i END AS name,
         i * 0.5 AS score,
         i % 2 = 0 AS flag,
         DATE '2024-01-01' + (i % 365)::INTEGER AS day,
         TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(i * 1000003) AS ts
  FROM range(5000) t(i)
) TO 'flat.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
await c.run(`COPY (
  SELECT i::BIGINT AS id,
         CASE WHEN i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN []::VARCHAR[] ELSE ['a' || i, 'b' || i] END AS tags,
         {'x': i::DOUBLE, 'y': -i::DOUBLE} AS point,
         MAP {'k' || i: i::INTEGER} AS kv
  FROM range(50) t(i)
) TO 'nested.parquet' (FORMAT parquet)`);
await c.run(`COPY (
  SELECT i::BIGINT AS id, i * i AS value FROM range(500) t(i)
) TO 'zstd.parquet' (FORMAT parquet, COMPRESSION zstd)`);
c.closeSync();
