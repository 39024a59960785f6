#!/usr/bin/env bun
// klite's command line: `npm start -- FLAGS`, `bun src/main.ts FLAGS` and the
// compiled `dist/klite FLAGS` all come here.

import pkg from "../package.json";
import { KAFKA_RELEASE } from "../generated/index.ts";
import { helpText, OptionError, parseOptions } from "./config.ts";
import { startBroker } from "./broker.ts";

export const VERSION_LINE = `klite ${pkg.version} (Kafka ${KAFKA_RELEASE} protocol)`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--version") || argv.includes("-V")) {
    console.log(VERSION_LINE);
    return 0;
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(helpText());
    return 0;
  }
  let options;
  try {
    options = parseOptions(argv, process.env);
  } catch (e) {
    if (e instanceof OptionError) {
      console.error(`klite: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const running = await startBroker(options);
  const shown = running.host.includes(":") ? `[${running.host}]` : running.host;
  console.log(`${VERSION_LINE} listening on ${shown}:${running.port}, advertised as ${running.broker.advertisedHost}:${running.broker.advertisedPort}, data in ${options.dataDir}`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    running.broker.log.info(`${sig}: shutting down`);
    running.close().then(
      () => process.exit(0),
      (e) => {
        console.error(`klite: shutdown failed: ${e}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e) => {
    console.error(`klite: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
