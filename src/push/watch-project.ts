import { watch } from 'node:fs';
import { join } from 'node:path';

/**
 * Calls `onChange` after the project's datasources/ or connections/ change (`dev` pushes again then).
 * An editor writes a file in several events, so a change is taken 300 ms after the last one; and one
 * call ends before the next starts, so two pushes never race.
 */
export function watchProject(projectDir: string, onChange: () => Promise<void>): void {
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  for (const folder of ['datasources', 'connections']) {
    try {
      watch(join(projectDir, folder), () => {
        clearTimeout(timer);
        timer = setTimeout(() => (running = running.then(onChange)), 300);
      }).unref();
    } catch {
      // a missing folder has nothing to watch
    }
  }
}
