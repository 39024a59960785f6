#!/usr/bin/env bun
// klite's executable: `npm start -- FLAGS`, `bun src/main.ts ...`, `npx klite`
// and the compiled `dist/klite ...` all come here.

import { main } from "./cli/main.ts";

main(process.argv.slice(2)).then(
  (code) => {
    // -1: the broker runs until a signal.
    if (code >= 0) process.exit(code);
  },
  (e) => {
    console.error(`klite: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
