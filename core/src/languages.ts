/**
 * The languages a submission may be written in. The gateway, the request schema and both
 * executors read this one table, so adding a language starts here. Labels name no version: the
 * versions users see come from the executor in use (OfferedLanguage, published by the worker).
 */
export const LANGUAGES = {
  python: { extension: 'py', label: 'Python 3' },
  javascript: { extension: 'js', label: 'JavaScript (Node.js)' },
  c: { extension: 'c', label: 'C (GCC)' },
  cpp: { extension: 'cpp', label: 'C++ (GCC)' },
  java: { extension: 'java', label: 'Java' },
  go: { extension: 'go', label: 'Go' },
  rust: { extension: 'rs', label: 'Rust' },
} as const;

export type Language = keyof typeof LANGUAGES;

export const LANGUAGE_IDS = Object.keys(LANGUAGES) as Language[];

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(LANGUAGES, value);
}

export function extensionOf(language: Language): string {
  return LANGUAGES[language].extension;
}

/** A language as an executor offers it, e.g. {id: "java", name: "Java (OpenJDK 13.0.1)", version: "OpenJDK 13.0.1"}. */
export interface OfferedLanguage {
  id: Language;
  name: string;
  version: string;
}

/** What the worker publishes at start and the gateway serves on /api/languages. */
export interface OfferedLanguagesDocument {
  executor: string;
  languages: OfferedLanguage[];
  publishedAt: string;
}

/**
 * Bucket key of that document. Under results/ because the worker may write there and the gateway
 * may read it; a plain object at that level cannot collide with results/{requestId}/.
 */
export const OFFERED_LANGUAGES_KEY = 'results/languages.json';

/** The document if it is well formed (unknown languages and bad entries dropped), else undefined. */
export function parseOfferedLanguages(text: string): OfferedLanguagesDocument | undefined {
  try {
    const doc = JSON.parse(text) as Partial<OfferedLanguagesDocument>;
    if (!doc || typeof doc.executor !== 'string' || !Array.isArray(doc.languages)) return undefined;
    const languages = doc.languages.filter(
      (l): l is OfferedLanguage =>
        !!l &&
        isLanguage(l.id) &&
        typeof l.name === 'string' &&
        l.name.length <= 100 &&
        typeof l.version === 'string' &&
        l.version.length <= 100,
    );
    return { executor: doc.executor.slice(0, 40), languages, publishedAt: String(doc.publishedAt ?? '') };
  } catch {
    return undefined;
  }
}
