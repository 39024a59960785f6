import type { StartOptions } from "./types.d.ts";

export declare function brokerFlags(o: StartOptions, dataDir: string): string[];
