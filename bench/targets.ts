/**
 * The targets, checked on figures measured in the same run: each benchmark records its
 * checks here and prints them; `npm run bench` lists every miss at the end and exits 1.
 */
export interface TargetCheck {
  name: string;
  measured: number;
  op: '<=' | '>=';
  target: number;
  unit: string;
  met: boolean;
}

const checks: TargetCheck[] = [];

/** Records a check and returns its line for the benchmark's output. */
export function checkTarget(name: string, measured: number, op: '<=' | '>=', target: number, unit = ''): string {
  const met = Number.isFinite(measured) && (op === '<=' ? measured <= target : measured >= target);
  checks.push({ name, measured, op, target, unit, met });
  return formatCheck(checks[checks.length - 1]);
}

export function formatCheck(c: TargetCheck): string {
  const digits = Math.abs(c.target) < 10 ? 2 : 1;
  return `target ${c.met ? 'met   ' : 'MISSED'}: ${c.name}: ${c.measured.toFixed(digits)}${c.unit} (target ${c.op} ${c.target}${c.unit})`;
}

export function recordedChecks(): readonly TargetCheck[] {
  return checks;
}
