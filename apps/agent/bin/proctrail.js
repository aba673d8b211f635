#!/usr/bin/env node
// The CLI is written in TypeScript and run through tsx's loader, so there is no build step
// between a checkout and a working `npx proctrail`.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`proctrail export | head`) closes the pipe: stop quietly then,
// as Unix tools do, instead of dying on an unhandled EPIPE.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
