import { importHere } from '../../src/worker/run-here.js';
import { describe, expect, it } from 'vitest';
import { pushProject } from '../../src/push/push-project.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { withBucketAndProject, openTestApp, query, s3Endpoint } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';

describe('arrays whose elements must fit their type', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  it('quarantines an array with an element its type cannot hold, instead of bending or dropping it', async () => {
    const lines = [
      { id: 1, tags: [1, 2], names: ['a'], maybe: [1, null] },
      { id: 2, tags: [300] },
      { id: 3, tags: [1, 'x'] },
      { id: 4, tags: [1, null] },
      { id: 5, tags: [1.5] },
      { id: 6, names: ['a', 1] },
      { id: 7, maybe: [1, 'y'] },
      { id: 8, tags: [], names: [], maybe: [] },
    ];
    await putObjects(s3, bucket, { 'arr/a.ndjson': lines.map((l) => JSON.stringify(l)).join('\n') + '\n' });
    project.writeDatasource(
      'arrays',
      importDatasource(`s3://${bucket}/arr/*.ndjson`, {
        schema: ['    `id` UInt32 `json:$.id`,', '    `tags` Array(UInt8) `json:$.tags`,', '    `names` Array(String) `json:$.names`,', '    `maybe` Array(Nullable(Int32)) `json:$.maybe`'].join('\n'),
      }),
    );
    const app = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    const report = await importHere(app, 'arrays', { trigger: 'on-demand' });
    expect(report.status, report.error?.message).toBe('ok');
    expect([report.rows, report.quarantined]).toEqual([4, 4]);

    expect(await query(app, 'SELECT id, tags, names, maybe FROM arrays ORDER BY id')).toEqual([
      { id: 1, tags: [1, 2], names: ['a'], maybe: [1, null] },
      // A JSON null element takes the element type's default, as a null value does.
      { id: 4, tags: [1, 0], names: [], maybe: [] },
      { id: 6, tags: [], names: ['a', '1'], maybe: [] },
      { id: 8, tags: [], names: [], maybe: [] },
    ]);
    const quarantined = await query<{ id: string; c__error_column: string[]; c__error: string[] }>(
      app,
      'SELECT id, c__error_column, c__error FROM arrays_quarantine ORDER BY toUInt32(id)',
    );
    expect(quarantined.map((q) => [q.id, q.c__error_column])).toEqual([
      ['2', ['tags']],
      ['3', ['tags']],
      ['5', ['tags']],
      ['7', ['maybe']],
    ]);
    expect(quarantined[0]!.c__error[0]).toBe('tags: value "[300]" is not a valid Array(UInt8)');
  });
});
