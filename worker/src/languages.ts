/**
 * The languages a submission may be written in. The gateway, the request schema and both
 * executors read this one table, so adding a language starts here.
 */
export const LANGUAGES = {
  python: { extension: 'py', label: 'Python 3' },
  javascript: { extension: 'js', label: 'JavaScript (Node.js)' },
  c: { extension: 'c', label: 'C (GCC)' },
  cpp: { extension: 'cpp', label: 'C++ (G++)' },
  java: { extension: 'java', label: 'Java 17' },
} as const;

export type Language = keyof typeof LANGUAGES;

export const LANGUAGE_IDS = Object.keys(LANGUAGES) as Language[];

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(LANGUAGES, value);
}

export function extensionOf(language: Language): string {
  return LANGUAGES[language].extension;
}
