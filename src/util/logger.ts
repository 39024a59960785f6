// Leveled logging to stderr; stdout carries only the "listening" line.

const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 } as const;
export type LogLevel = keyof typeof LEVELS;

export class Logger {
  private readonly max: number;
  constructor(level: LogLevel) {
    this.max = LEVELS[level];
  }
  private out(level: LogLevel, msg: string): void {
    if (LEVELS[level] <= this.max) process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${msg}\n`);
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
