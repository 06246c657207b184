/** Structured JSON logs, one line each (CloudWatch Logs Insights can query the fields). */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type Logger = (level: Level, message: string, fields?: Record<string, unknown>) => void;

// Never log these, whatever a caller passes.
const SECRET_FIELDS = /pass(word|code)?|secret|token|authorization/i;

/**
 * A logger that costs one comparison for a level below `level`; otherwise one object and one
 * JSON.stringify per line (the base fields are checked for secrets once, not per line).
 */
export function createLogger(
  base: Record<string, unknown> = {},
  level = process.env.GRADING_LOG_LEVEL ?? 'info',
  write: (line: string) => void = (l) => process.stdout.write(l),
): Logger {
  const threshold = ORDER[level as Level] ?? ORDER.info;
  const safeBase: Record<string, unknown> = {};
  copySafe(base, safeBase);
  return (lvl, message, fields) => {
    if (ORDER[lvl] < threshold) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg: message };
    Object.assign(entry, safeBase);
    if (fields) copySafe(fields, entry);
    write(`${JSON.stringify(entry)}\n`);
  };
}

function copySafe(from: Record<string, unknown>, to: Record<string, unknown>): void {
  for (const key in from) {
    if (Object.prototype.hasOwnProperty.call(from, key)) to[key] = SECRET_FIELDS.test(key) ? '[redacted]' : from[key];
  }
}
