import { describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { pushProject } from '../../../src/push/push-project.js';
import { quoteIdentifier } from '../../../src/store/sql.js';
import { importHere } from '../../../src/worker/run-here.js';
import { putObjects, s3Client } from '../../helpers/bucket.js';
import { openTestApp, query, s3Endpoint, withBucketAndProject } from '../../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../../helpers/project.js';

type Value = string | number | null;

/**
 * The object a schema is inferred from loads whole under it (issue 17), run against every store (see
 * reference-fit*.test.ts): dates before 1970 or after 2105 on a server without DateTime64 (18.16 reads
 * no later day from text),
 * dates before 1900 anywhere, fractions of a second, numbers past Float64's digits, values past the
 * rows the engine's inference reads. Every value is read back as written.
 */
export function defineReferenceFitSuite(store: string): void {
  describe(`the reference object loads whole under its inferred schema (${store})`, () => {
    const s3 = s3Client(s3Endpoint());
    let bucket: string;
    let project: TestProjectDir;
    withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

    it('widens the NDJSON columns whose values the fitted types would not keep, and later objects still quarantine what does not fit', async () => {
      // Like vega-datasets' movies.json: "Release Date" spelled "Jun 12 1998", some before 1970.
      const names = ['Title', 'Release Date', 'far_future', 'very_old', 'stamp', 'modern', 'looks_like_date', 'big_u', 'neg', 'as_text_number', 'score', 'maybe_old', 'past_2105'];
      const rows: Value[][] = [
        ['The Truman Show', 'Jun 12 1998', '2150-01-01', '1850-03-01', '2024-01-01 10:00:00.123', '2024-01-02 03:04:05', '2024-13-45', '18446744073709551615', '-9223372036854775808', '12345678901234567890.123456789', 1.5, 'Jun 12 1960', '2106-01-15 00:00:00'],
        ['Goldfinger', 'Mar 05 1965', '2024-01-01', '1999-01-01', '2024-01-01 10:00:00.5', '2024-06-30 23:59:59', '2024-01-01', '1', '1', '1.5', 0.1, null, '2000-01-01 00:00:00'],
        ['Eve', 'Dec 31 1969', '2106-02-08', '1900-01-01', '2024-01-01 10:00:00', '1970-01-02 00:00:00', 'soon', '0', '-1', '-0.25', 2.25, 'Jul 04 1976', '2105-12-31 23:59:59'],
        ['Rocky', 'Nov 21 1976', '2149-06-07', '2000-02-29', '2023-12-31 23:59:59.999', '2105-12-31 23:59:59', '2024-02-30', '42', '9223372036854775807', '7', -3, null, null],
      ];
      // Integers beyond 2^53 are written as JSON numbers, not strings.
      const line = (row: Value[]) =>
        `{${row.map((v, i) => `${JSON.stringify(names[i])}:${(i === 7 || i === 8) && v !== null ? v : JSON.stringify(v)}`).join(',')}}`;
      await putObjects(
        s3,
        bucket,
        {
          'movies/a-reference.ndjson': rows.map(line).join('\n') + '\n',
          // A later object: a value the inferred `modern` column cannot hold is quarantined, as always.
          'movies/b-later.ndjson': [line(['Later', 'Jan 01 1950', '2024-01-01', '1999-01-01', '2024-01-01 10:00:00', '1850-01-01 00:00:00', 'x', '5', '5', '5', 5, null, null]), line(['Fine', 'Jan 01 1951', '2024-01-01', '1999-01-01', '2024-01-01 10:00:00', '2024-01-01 00:00:00', 'x', '6', '6', '6', 6, null, null])].join('\n') + '\n',
        },
        { spaced: true },
      );
      project.writeDatasource('movies', importDatasource(`s3://${bucket}/movies/*.ndjson`));
      const app = await openTestApp(project.dir);
      const pushed = await pushProject(app, { dryRun: false });
      expect(pushed.steps.find((s) => s.datasource === 'movies')?.reference?.key).toBe('movies/a-reference.ndjson');

      const dateTime64 = (await app.store()).capabilities.dateTime64;
      const time = dateTime64 ? 'DateTime64(9)' : 'DateTime';
      expect(await columnTypes(app, 'movies')).toEqual({
        Title: 'String',
        // Before 1970: only text holds them on a server without DateTime64.
        'Release Date': dateTime64 ? time : 'String',
        // 2150 is past DateTime's 2106.
        far_future: dateTime64 ? time : 'String',
        // 1850 is before DateTime64's 1900 too.
        very_old: 'String',
        // DateTime holds whole seconds.
        stamp: dateTime64 ? time : 'String',
        // The engine infers whole seconds as DateTime, which holds every value here.
        modern: 'DateTime',
        looks_like_date: 'String',
        big_u: 'UInt64',
        neg: 'Int64',
        as_text_number: 'String',
        score: 'Float64',
        maybe_old: dateTime64 ? `Nullable(${time})` : 'Nullable(String)',
        // Within DateTime's range, but 18.16 reads no day after 2105 from text.
        past_2105: dateTime64 ? 'Nullable(DateTime)' : 'Nullable(String)',
      });

      const report = await importHere(app, 'movies', { trigger: 'on-demand' });
      expect(report.error?.message).toBeUndefined();
      expect(report.objects.map((o) => [o.uri.split('/').pop(), o.error?.message, o.rows, o.quarantined])).toEqual([
        ['a-reference.ndjson', undefined, 4, 0],
        ['b-later.ndjson', undefined, 1, 1],
      ]);
      const want = rows.map((row) => stringified(row.map((v, i) => expected(v, names[i]!))));
      want.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
      expect(await readBack(app, 'movies', names, `${quoteIdentifier('Title')} != 'Fine'`)).toEqual(want);
      const quarantined = await query<{ c__error_column: string[] }>(app, 'SELECT c__error_column FROM movies_quarantine');
      expect(quarantined).toEqual([{ c__error_column: ['modern'] }]);
    });

    it('widens CSV columns past Float64, dates out of range and a value past the rows inference reads', async () => {
      const names = ['title', 'release', 'big', 'wide_decimal', 'pi', 'score', 'date_2150', 'code'];
      const rows: string[][] = [
        ['A', 'Jun 12 1998', '123456789012345678901', '12345678901234567890.123456789', '3.14159265358979323846264', '1.5', '2150-06-07', '1'],
        ['B', 'Mar 05 1965', '1', '1.5', '0.5', '2', '2024-01-01', '2'],
        ['C', 'Dec 31 1969', '-5', '2.25', '1', '0.25', '2106-02-08 00:00:00', '3'],
      ];
      // More rows than the engine's inference reads (25,000): the last one's code is no number.
      for (let i = 4; i <= 25_003; i++) rows.push([`T${i}`, 'Jan 01 2000', String(i), '1.5', '0.5', '1', '2024-01-01', String(i)]);
      rows.push(['Z', 'Jul 04 1976', '7', '7.5', '7', '7', '2024-01-01', 'n/a']);
      await putObjects(s3, bucket, { 'csvref/a.csv': [names.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n' });
      project.writeDatasource('csvref', importDatasource(`s3://${bucket}/csvref/*.csv`));
      const app = await openTestApp(project.dir);
      await pushProject(app, { dryRun: false });

      const dateTime64 = (await app.store()).capabilities.dateTime64;
      expect(await columnTypes(app, 'csvref')).toEqual({
        title: 'String',
        release: dateTime64 ? 'DateTime64(9)' : 'String',
        big: 'String',
        wide_decimal: 'String',
        pi: 'String',
        score: 'Float64',
        date_2150: dateTime64 ? 'DateTime64(9)' : 'String',
        code: 'String',
      });

      const report = await importHere(app, 'csvref', { trigger: 'on-demand' });
      expect(report.error?.message).toBeUndefined();
      expect(report.objects.map((o) => [o.error?.message, o.rows, o.quarantined])).toEqual([[undefined, rows.length, 0]]);
      const back = await readBack(app, 'csvref', names);
      expect(back).toHaveLength(rows.length);
      const want = rows.map((row) => stringified(row.map((v, i) => expected(v, names[i]!))));
      const byTitle = new Map(want.map((r) => [r[0], r]));
      for (const row of back) expect(row).toEqual(byTitle.get(row[0]!));
    });

    // Guards against a value the worker's engine holds but the server shows wrongly: 18.16 reads and
    // writes no day after 2105 (its `2106-01-01` is 0), so such a value goes to quarantine there and
    // lands where the store holds it.
    it('quarantines a declared date after 2105 on a server whose dates end there, and loads it where they do not', async () => {
      await putObjects(s3, bucket, { 'late/a.csv': 'id,d,t\n1,2105-12-31,2105-12-31 23:59:59\n2,2120-01-01,2000-01-01 00:00:00\n3,2000-01-01,2106-01-15 00:00:00\n' });
      project.writeDatasource('late', importDatasource(`s3://${bucket}/late/*.csv`, { schema: '    `id` UInt32,\n    `d` Date,\n    `t` DateTime' }));
      const app = await openTestApp(project.dir);
      await pushProject(app, { dryRun: false });
      const report = await importHere(app, 'late', { trigger: 'on-demand' });
      expect(report.error?.message).toBeUndefined();
      const after2105 = (await app.store()).capabilities.datesAfter2105;
      const back = await query<{ id: number | string; d: string; t: string }>(app, 'SELECT id, toString(d) AS d, toString(t) AS t FROM late ORDER BY id');
      const stored = back.map((r) => [Number(r.id), r.d, r.t]);
      const quarantined = await query<{ id: string; errors: string[] }>(app, 'SELECT id, c__error AS errors FROM late_quarantine ORDER BY id');
      if (after2105) {
        expect(stored).toEqual([[1, '2105-12-31', '2105-12-31 23:59:59'], [2, '2120-01-01', '2000-01-01 00:00:00'], [3, '2000-01-01', '2106-01-15 00:00:00']]);
        expect(quarantined).toEqual([]);
      } else {
        expect(stored).toEqual([[1, '2105-12-31', '2105-12-31 23:59:59']]);
        expect(quarantined).toEqual([
          { id: '2', errors: ['d: value "2120-01-01" is after 2105-12-31, the last day the store reads'] },
          { id: '3', errors: ['t: value "2106-01-15 00:00:00" is after 2105-12-31, the last day the store reads'] },
        ]);
      }
    });

    /** Column types by name, as the store shows them. */
    const columnKinds = new Map<string, string>();
    async function columnTypes(app: App, table: string): Promise<Record<string, string>> {
      const rows = await query<{ name: string; type: string }>(
        app,
        `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${table}' AND NOT startsWith(name, '_bp_')`,
      );
      for (const r of rows) columnKinds.set(r.name, r.type);
      return Object.fromEntries(rows.map((r) => [r.name, r.type]));
    }

    /** How a value written to the file reads back from its column (see readBack). */
    function expected(value: Value, name: string): Value {
      return expectedValue(value, columnKinds.get(name)!);
    }

    /**
     * Every column read back as text: text as stored, an instant as its milliseconds since 1970 (UTC),
     * a number by the store's own spelling of it.
     */
    async function readBack(app: App, table: string, names: readonly string[], where = '1'): Promise<Array<Array<string | null>>> {
      const exprs = names.map((n, i) => `${readExpression(quoteIdentifier(n), columnKinds.get(n)!)} AS c${i}`);
      const rows = await query<Record<string, string | null>>(app, `SELECT ${exprs.join(', ')} FROM ${quoteIdentifier(table)} WHERE ${where} ORDER BY c0`);
      return rows.map((r) => names.map((_, i) => r[`c${i}`] ?? null));
    }
  });
}

function readExpression(column: string, type: string): string {
  if (/DateTime64/.test(type)) return `toString(toUnixTimestamp64Milli(${column}))`;
  if (/DateTime/.test(type)) return `toString(toUInt64(toUnixTimestamp(${column})) * 1000)`;
  return `toString(${column})`;
}

/** What a value written to the file reads back as, in a column of this type (see readExpression). */
function expectedValue(value: Value, type: string): Value {
  if (value === null) return null;
  if (/DateTime/.test(type)) return String(instant(String(value)));
  return String(value);
}

/** Milliseconds since 1970 of a date as the files write them, read as UTC. */
function instant(text: string): number {
  const iso = /^(\d{4}-\d\d-\d\d)(?: (\d\d:\d\d:\d\d(?:\.\d+)?))?$/.exec(text);
  const ms = iso ? Date.parse(`${iso[1]}T${iso[2] ?? '00:00:00'}Z`) : Date.parse(`${text} 00:00:00 UTC`);
  if (Number.isNaN(ms)) throw new Error(`the test cannot read the date ${text}`);
  return ms;
}

function stringified(row: Value[]): Array<string | null> {
  return row.map((v) => (v === null ? null : String(v)));
}
