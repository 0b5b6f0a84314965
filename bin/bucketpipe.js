#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader: no build step between a change and a run.
import { register } from 'tsx/esm/api';

register();
const { quietNodeVersionNotice } = await import('../src/cli/quiet-warnings.ts');
quietNodeVersionNotice();
// Before anything loads the embedded engine: its allocator reads this setting once, when it starts.
const { returnFreedMemoryPromptly } = await import('../src/store/engine-memory.ts');
returnFreedMemoryPromptly();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
