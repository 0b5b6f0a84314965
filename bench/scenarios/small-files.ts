import { importHere } from '../../src/worker/run-here.js';
import { selectRows } from '../../src/store/queries.js';
import { SMALL_PREFIX } from '../dataset.js';
import { benchDatasource, benchProject } from '../bench-project.js';
import { check, peakRss, timed, type Measurement } from '../measurement.js';

export interface SmallFilesArgs {
  endpoint: string;
  files: number;
  rowsPerFile: number;
}

/** One on-demand `datasource sync` of many small objects, end to end; `count` is objects. */
export async function importSmallFiles(args: SmallFilesArgs): Promise<Measurement> {
  const project = benchProject(args.endpoint, { small: benchDatasource(`${SMALL_PREFIX}*.csv`) });
  const app = await project.open();
  try {
    const store = await app.store();
    let objects = 0;
    const seconds = await timed(async () => {
      const report = await importHere(app, 'small', { trigger: 'on-demand' });
      check(report.status === 'ok', `sync ended ${report.status}: ${report.error?.message ?? ''}`);
      objects = report.objects.length;
    });
    const [row] = await selectRows<{ n: string; ids: string }>(store.client, 'SELECT count() AS n, uniqExact(id) AS ids FROM small');
    const expected = args.files * args.rowsPerFile;
    check(objects === args.files, `${objects} objects imported, not ${args.files}`);
    check(Number(row!.n) === expected && Number(row!.ids) === expected, `small holds ${row!.n} rows (${row!.ids} ids), not ${expected}`);
    return { seconds, count: objects, maxRssBytes: peakRss() };
  } finally {
    await app.close();
    project.remove();
  }
}
