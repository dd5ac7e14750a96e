#!/usr/bin/env node
// Entry point: everything lives in dist/cli (compiled by `npm ci` through the prepare script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
