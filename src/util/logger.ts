// Leveled logging to stderr, one line per event: text, or JSON objects
// ({time, level, msg}) for log collectors; stdout carries only the
// "listening" line.

const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 } as const;
export type LogLevel = keyof typeof LEVELS;

export type LogFormat = "text" | "json";

export class Logger {
  private readonly max: number;
  constructor(
    level: LogLevel,
    private readonly format: LogFormat = "text",
  ) {
    this.max = LEVELS[level];
  }
  private out(level: LogLevel, msg: string): void {
    if (LEVELS[level] > this.max) return;
    const time = new Date().toISOString();
    process.stderr.write(this.format === "json" ? JSON.stringify({ time, level, msg }) + "\n" : `${time} ${level.toUpperCase()} ${msg}\n`);
  }
  error(msg: string): void {
    this.out("error", msg);
  }
  warn(msg: string): void {
    this.out("warn", msg);
  }
  info(msg: string): void {
    this.out("info", msg);
  }
  debug(msg: string): void {
    this.out("debug", msg);
  }
  get debugEnabled(): boolean {
    return this.max >= LEVELS.debug;
  }
}
