import { chmodSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded store's files hold the imported values, so they are the user's alone: its folders
 * 0700, its files 0600. The engine writes its own files (parts, merges, metadata) for as long as the
 * process runs, so the process that opens it keeps a private umask from then on; a store made before
 * is made private once, when it is opened.
 */

/** Files and folders created from now on: no permission for the group or others. */
const PRIVATE_UMASK = 0o077;

/** The umask the process had before it was made private: files the user asked for keep to it. */
let userUmask: number | undefined;

/** From now on every file and folder this process creates (the engine's included) is the user's alone. Returns how to undo it. */
export function keepNewFilesPrivate(): () => void {
  const previous = process.umask(PRIVATE_UMASK);
  userUmask ??= previous;
  return () => {
    process.umask(previous);
  };
}

/**
 * A file the user asked for (a generated project file) gets the permissions the user's own umask
 * gives, not the store's.
 */
export function giveUserPermissions(path: string): void {
  if (userUmask !== undefined) chmodSync(path, 0o666 & ~userUmask);
}

/**
 * Makes a folder private, and everything in it when it was not: a store that an earlier version left
 * readable by others. A private folder is left as it is, so opening a large store walks it only once.
 */
export function makePrivate(dir: string): void {
  const open = (statSync(dir).mode & 0o077) !== 0;
  chmodSync(dir, 0o700);
  if (open) privatizeTree(dir);
}

function privatizeTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    // Links are left alone: their permissions are not theirs, and what they point to may be elsewhere.
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) {
      chmodSync(path, 0o700);
      privatizeTree(path);
    } else {
      chmodSync(path, 0o600);
    }
  }
}
