import type { Project } from '../project/types.js';
import type { PushOutcome } from '../push/push-with-schedules.js';
import type { Output } from './output.js';

/** Prints what a push did (`push`, and `dev` at each change of the files); `project` is the one pushed. */
export function printPush(output: Output, outcome: PushOutcome, project: Project): void {
  const { dryRun, steps, warnings, revision, schedules } = outcome;
  output.result(outcome);
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  if (steps.length === 0) output.line('No datasources in this project.');
  for (const step of steps) output.line(`${dryRun && step.action !== 'unchanged' ? 'would ' : ''}${step.description}`);
  if (revision.changed) {
    output.line(`${dryRun ? 'would record' : 'recorded'} project revision ${revision.id}${revision.previous ? ` (was ${revision.previous})` : ''}: workers run it from their next job`);
  }
  for (const change of schedules) output.line(change.description);
  if (dryRun) {
    for (const spec of project.datasources.values()) if (spec.import?.schedule === '@auto') output.line(`would keep ${spec.name} scheduled: @auto`);
  }
  if (steps.every((s) => s.action === 'unchanged') && !revision.changed && schedules.length === 0 && steps.length > 0) output.line('Everything is up to date.');
}
