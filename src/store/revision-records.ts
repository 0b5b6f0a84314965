import type { ClickHouseClient } from '@clickhouse/client';
import { now } from '../clock.js';
import type { ProjectRevision } from '../project/revision.js';
import { INTERNAL_TABLES, toDateTime64 } from './internal-tables.js';
import { insertRows, selectRows } from './queries.js';
import type { VersionSource } from './versions.js';

/**
 * Records `revision` as project `projectId`'s definitions in force (pushing an older revision again
 * makes it current again).
 */
export async function recordRevision(client: ClickHouseClient, versions: VersionSource, projectId: string, revision: ProjectRevision, pushedBy: string): Promise<void> {
  await insertRows(client, INTERNAL_TABLES.revisions, [
    { project_id: projectId, revision: revision.id, definitions: revision.text, pushed_by: pushedBy, pushed_at: toDateTime64(now()), version: versions.nextVersion() },
  ]);
}

/** The id of the revision of a project pushed last, or undefined before its first push. */
export async function currentRevisionId(client: ClickHouseClient, projectId: string): Promise<string | undefined> {
  const rows = await selectRows<{ revision: string }>(
    client,
    `SELECT revision FROM ${INTERNAL_TABLES.revisions} WHERE project_id = {project:String} ORDER BY version DESC LIMIT 1`,
    { project: projectId },
  );
  return rows[0]?.revision;
}

export async function readRevision(client: ClickHouseClient, projectId: string, id: string): Promise<ProjectRevision | undefined> {
  const rows = await selectRows<{ definitions: string }>(
    client,
    `SELECT definitions FROM ${INTERNAL_TABLES.revisions} WHERE project_id = {project:String} AND revision = {id:String} LIMIT 1`,
    { project: projectId, id },
  );
  return rows[0] ? { id, text: rows[0].definitions } : undefined;
}
