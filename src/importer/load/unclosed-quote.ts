import { objectUri } from '../../bucket/bucket-uri.js';
import { BucketpipeError } from '../../errors.js';
import { selectRows } from '../../store/queries.js';
import { s3TableFunction } from '../engine-source.js';
import type { ImportContext } from '../import-context.js';
import { withEngineErrors, type ObjectLayout } from '../probe/probe-object.js';

/**
 * A CSV quote that is never closed makes the parser read the rest of the object into one field,
 * without an error: the rows after it would vanish into that value. Such a field ends the object, so
 * only objects whose last row holds a line break (`suspects`, by URI, with that row's number) are
 * checked: every well-formed CSV holds an even number of quote characters.
 */
export async function assertQuotesClosed(ctx: ImportContext, layouts: readonly ObjectLayout[], suspects: ReadonlyMap<string, number>): Promise<void> {
  for (const layout of layouts) {
    const uri = objectUri(layout.object.bucket, layout.object.key);
    const row = suspects.get(uri);
    if (layout.format !== 'csv' || row === undefined) continue;
    const fn = s3TableFunction(layout.source, 'LineAsString', 'line String');
    const [parity] = await withEngineErrors(ctx, layout.object, layout.source, () =>
      selectRows<{ odd: number | string }>(ctx.engine, `SELECT sum(countSubstrings(line, '"')) % 2 AS odd FROM ${fn.sql}`, fn.params),
    );
    if (Number(parity?.odd ?? 0) === 1) {
      throw new BucketpipeError(
        'OBJECT_UNREADABLE',
        `${uri}: a quote opened in row ${row} (or a field of it) is never closed, so every line after it would be read as one value; nothing of the object was imported. Close the quote, or double a quote inside a quoted field ("").`,
        { context: { datasource: ctx.datasource.name, bucket: layout.object.bucket, key: layout.object.key } },
      );
    }
  }
}
