import { Writable } from 'node:stream';
import pino from 'pino';
import type { App } from '../../src/app.js';
import type { ImportReport } from '../../src/importer/sync-datasource.js';
import { importHere } from '../../src/worker/run-here.js';

/** One debug record of an import's stages (`stage` records): which way an object was loaded, and how it went. */
export interface StageRecord {
  stage?: string;
  object?: string;
  outcome?: string;
  via?: string;
}

/**
 * Imports `name` here with a debug logger that keeps every stage record, to see which way each object
 * was loaded; `onRecord` sees each record as it is logged.
 */
export async function importRecording(
  app: App,
  name: string,
  batchObjects?: number,
  onRecord: (record: StageRecord) => unknown = () => {},
): Promise<{ report: ImportReport; records: StageRecord[] }> {
  const records: StageRecord[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        const record = JSON.parse(line) as StageRecord;
        records.push(record);
        onRecord(record);
      }
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const report = await importHere(app, name, { trigger: 'on-demand' }, { adjust: (ctx) => ({ ...ctx, log, ...(batchObjects ? { batchObjects } : {}) }) });
  return { report, records };
}
