/** One JSON object per line on stdout (CloudWatch Logs parses it), filtered by level. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function jsonLogger(service: string, minimum: LogLevel = 'info', write: (line: string) => void = (line) => process.stdout.write(line + '\n')): Log {
  return (level, message, fields = {}) => {
    if (RANK[level] < RANK[minimum]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, service, message, ...fields }));
  };
}
