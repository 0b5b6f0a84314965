import { importHere, exportHere } from '../../src/worker/run-here.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { pushProject } from '../../src/push/push-project.js';
import { putObjects, s3Client } from '../helpers/bucket.js';
import { openTestApp, s3Endpoint, withBucketAndProject } from '../helpers/embedded.js';
import { importDatasource, type TestProjectDir } from '../helpers/project.js';

/**
 * Export keys stay under EXPORT_BUCKET_URI's prefix (issue 7, security): a run writes only there,
 * and a template or URI that could lead out of it (`..`, a leading `/`, control characters,
 * backslashes) is refused before anything is written.
 */
describe('export keys stay under their prefix', () => {
  const s3 = s3Client(s3Endpoint());
  let bucket: string;
  let project: TestProjectDir;
  withBucketAndProject(s3, (b, p) => ((bucket = b), (project = p)));

  async function listing(): Promise<Map<string, string>> {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    return new Map((page.Contents ?? []).map((o) => [o.Key!, o.ETag!]));
  }

  function exporting(template: string, uri = `s3://${bucket}/out/confined/`): string {
    return (
      importDatasource(`s3://${bucket}/in/*.csv`, { schema: '    `id` Int64,\n    `name` String' }) +
      ['EXPORT_CONNECTION_NAME local', `EXPORT_BUCKET_URI ${uri}`, `EXPORT_FILE_TEMPLATE ${template}`, 'EXPORT_MAX_ROWS_PER_FILE 2', ''].join('\n')
    );
  }

  it('a run with every placeholder writes its files under the prefix and touches nothing else', async () => {
    await putObjects(s3, bucket, {
      'in/a.csv': 'id,name\n1,a\n2,b\n3,c\n4,d\n5,e\n',
      'out/neighbour.csv': 'not the export\n',
      'out/confined-not/x.csv': 'a sibling with the same start\n',
    });
    project.writeDatasource('confined', exporting('{{TABLE}}/{{TABLE_HYPHEN}}/{{YEAR}}/{{MONTH}}/{{DAY}}/{{HOUR}}{{MINUTE}}/%F/%T/{jobId}/{{SYNC_ID}}-{{UUID}}-{{PART}}.{{FORMAT}}'));
    const app: App = await openTestApp(project.dir);
    await pushProject(app, { dryRun: false });
    await importHere(app, 'confined', { trigger: 'on-demand' });
    const before = await listing();
    const report = await exportHere(app, 'confined', { trigger: 'on-demand' });
    expect(report.error?.message).toBeUndefined();
    expect(report.files).toHaveLength(3);
    const after = await listing();
    const added = [...after.keys()].filter((k) => !before.has(k)).sort();
    expect(added).toEqual(report.files.map((f) => f.uri.replace(`s3://${bucket}/`, '')).sort());
    for (const key of added) expect(key).toMatch(/^out\/confined\/confined\/confined\/\d{4}\/\d\d\/\d\d\/\d{4}\/\d{4}-\d\d-\d\d\/\d\d:\d\d:\d\d\/[^/]+\/[^/]+-\d{5}\.csv$/);
    for (const [key, etag] of before) expect(after.get(key), key).toBe(etag);
  });

  const ESCAPES: Array<{ name: string; template: string; uri?: (bucket: string) => string; problem: RegExp }> = [
    { name: 'a ".." folder', template: '../escaped-{{PART}}.csv', problem: /EXPORT_FILE_TEMPLATE.*has "\.\." as a folder/ },
    { name: 'a ".." reached through placeholders', template: '{{TABLE}}/%Y/../../../escaped-{{PART}}.csv', problem: /has "\.\." as a folder/ },
    { name: 'an absolute key', template: '/escaped-{{PART}}.csv', problem: /starts with "\/"/ },
    { name: 'a control character', template: 'escaped\u0001-{{PART}}.csv', problem: /control character/ },
    { name: 'a backslash', template: '..\\escaped-{{PART}}.csv', problem: /backslash/ },
    { name: 'an empty folder ("//")', template: 'a//escaped-{{PART}}.csv', problem: /"\/\/"/ },
    { name: 'a ".." in EXPORT_BUCKET_URI', template: '{{SYNC_ID}}-{{PART}}.csv', uri: (b) => `s3://${b}/out/confined/../../`, problem: /EXPORT_BUCKET_URI .* has "\.\." as a folder/ },
  ];
  for (const [i, e] of ESCAPES.entries()) {
    it(`refuses ${e.name} at its line and writes nothing`, async () => {
      const name = `escape_${i}`;
      project.writeDatasource(name, exporting(e.template, e.uri?.(bucket)));
      const before = await listing();
      const failure = await openTestApp(project.dir).then(() => undefined, (error: Error) => error);
      rmSync(join(project.dir, 'datasources', `${name}.datasource`));
      const line = exporting(e.template, e.uri?.(bucket)).split('\n').findIndex((l) => l.startsWith(e.uri ? 'EXPORT_BUCKET_URI' : 'EXPORT_FILE_TEMPLATE')) + 1;
      expect(failure?.message).toMatch(new RegExp(`^datasources/${name}\\.datasource:${line}: `, 'm'));
      expect(failure?.message).toMatch(e.problem);
      expect(await listing()).toEqual(before);
    });
  }
});
