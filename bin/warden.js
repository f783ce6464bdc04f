#!/usr/bin/env node
import { main } from '../dist/gateway/src/cli.js';

main(process.argv).catch((err) => {
  process.stderr.write(`warden: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
