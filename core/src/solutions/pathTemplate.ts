/**
 * Where in the linked repository a solution goes: a template with the placeholders {problemId},
 * {language}, {ext} and {requestId}. Problem and language ids are already restricted to
 * [A-Za-z0-9_-], so a rendered path cannot climb out of the repository; the template itself is
 * checked when the user links.
 */
export const DEFAULT_PATH_TEMPLATE = '{problemId}/{language}/solution.{ext}';

const PLACEHOLDERS = ['problemId', 'language', 'ext', 'requestId'];
const MAX_TEMPLATE_LENGTH = 200;

export interface PathValues {
  problemId: string;
  language: string;
  ext: string;
  requestId: string;
}

/** Every problem with the template, at once; empty when it is usable. */
export function checkPathTemplate(template: unknown): string[] {
  if (typeof template !== 'string') return ['must be a string'];
  const problems: string[] = [];
  if (template.length === 0 || template.length > MAX_TEMPLATE_LENGTH) problems.push(`must be 1-${MAX_TEMPLATE_LENGTH} characters`);
  if (!template.includes('{problemId}')) problems.push('must contain {problemId}');
  for (const [, name] of template.matchAll(/\{([^}]*)\}/g)) {
    if (!PLACEHOLDERS.includes(name)) problems.push(`{${name}} is not a placeholder (use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`);
  }
  const literal = template.replace(/\{[^}]*\}/g, 'x');
  if (!/^[A-Za-z0-9_.\-/]*$/.test(literal)) problems.push('may contain only letters, digits, _ . - / and placeholders');
  const segments = template.split('/');
  if (template.startsWith('/') || template.endsWith('/') || segments.some((s) => s === ''))
    problems.push('must be a relative path without empty segments');
  if (segments.some((s) => s === '.' || s === '..' || s === '.git')) problems.push('must not contain ".", ".." or ".git" segments');
  return problems;
}

export function renderPath(template: string, values: PathValues): string {
  return template.replace(/\{(problemId|language|ext|requestId)\}/g, (_, name: keyof PathValues) => values[name]);
}

/** The problem's folder README: in the folder named by the first segment with {problemId}, unless that is the file itself. */
export function readmePath(template: string, values: PathValues): string | undefined {
  const segments = template.split('/');
  const at = segments.findIndex((s) => s.includes('{problemId}'));
  if (at < 0 || at === segments.length - 1) return undefined;
  return renderPath([...segments.slice(0, at + 1), 'README.md'].join('/'), values);
}
