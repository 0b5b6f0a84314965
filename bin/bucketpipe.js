#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader: no build step between a change and a run.
import { register } from 'tsx/esm/api';
import { quietNodeVersionNotice } from '../src/cli/quiet-warnings.js';

quietNodeVersionNotice();
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
