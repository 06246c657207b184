/**
 * A per-language normalised token stream for similarity fingerprints: comments, whitespace, C/C++
 * preprocessor lines and Java package/import lines are dropped; every identifier becomes `I` and
 * every literal (number, string, character, template) `L`; keywords and operators are kept as
 * written. Renaming variables, changing literals or reformatting therefore leaves the stream as it was.
 * Not a parser: an unterminated string or comment simply runs to the end of the input.
 */
import type { Language } from '../languages';

export interface Token {
  /** The normalised text: a keyword, an operator, `I` or `L`. */
  text: string;
  /** 1-based source line where the token starts. */
  line: number;
}

const C_KEYWORDS = [
  'auto',
  'break',
  'case',
  'char',
  'const',
  'continue',
  'default',
  'do',
  'double',
  'else',
  'enum',
  'extern',
  'float',
  'for',
  'goto',
  'if',
  'inline',
  'int',
  'long',
  'register',
  'restrict',
  'return',
  'short',
  'signed',
  'sizeof',
  'static',
  'struct',
  'switch',
  'typedef',
  'union',
  'unsigned',
  'void',
  'volatile',
  'while',
  'bool',
  '_Bool',
];
const CPP_EXTRA = [
  'class',
  'namespace',
  'template',
  'typename',
  'public',
  'private',
  'protected',
  'virtual',
  'new',
  'delete',
  'this',
  'using',
  'operator',
  'const_cast',
  'static_cast',
  'dynamic_cast',
  'reinterpret_cast',
  'try',
  'catch',
  'throw',
  'true',
  'false',
  'nullptr',
  'constexpr',
  'friend',
  'mutable',
  'explicit',
  'noexcept',
  'decltype',
];
const JAVA_KEYWORDS = [
  'abstract',
  'boolean',
  'break',
  'byte',
  'case',
  'catch',
  'char',
  'class',
  'continue',
  'default',
  'do',
  'double',
  'else',
  'enum',
  'extends',
  'final',
  'finally',
  'float',
  'for',
  'if',
  'implements',
  'instanceof',
  'int',
  'interface',
  'long',
  'new',
  'private',
  'protected',
  'public',
  'return',
  'short',
  'static',
  'super',
  'switch',
  'synchronized',
  'this',
  'throw',
  'throws',
  'try',
  'void',
  'volatile',
  'while',
  'var',
  'true',
  'false',
  'null',
];
const PYTHON_KEYWORDS = [
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield',
];
const JS_KEYWORDS = [
  'async',
  'await',
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'default',
  'delete',
  'do',
  'else',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'let',
  'new',
  'null',
  'of',
  'return',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'undefined',
  'var',
  'void',
  'while',
  'yield',
];
const GO_KEYWORDS = [
  'break',
  'case',
  'chan',
  'const',
  'continue',
  'default',
  'defer',
  'else',
  'fallthrough',
  'for',
  'func',
  'go',
  'goto',
  'if',
  'import',
  'interface',
  'map',
  'package',
  'range',
  'return',
  'select',
  'struct',
  'switch',
  'type',
  'var',
  'true',
  'false',
  'nil',
];
const RUST_KEYWORDS = [
  'as',
  'break',
  'const',
  'continue',
  'crate',
  'else',
  'enum',
  'extern',
  'false',
  'fn',
  'for',
  'if',
  'impl',
  'in',
  'let',
  'loop',
  'match',
  'mod',
  'move',
  'mut',
  'pub',
  'ref',
  'return',
  'self',
  'Self',
  'static',
  'struct',
  'super',
  'trait',
  'true',
  'type',
  'unsafe',
  'use',
  'where',
  'while',
  'async',
  'await',
  'dyn',
];

interface Lexicon {
  keywords: Set<string>;
  lineComment: string;
  blockComments: boolean;
  /** Drop whole lines starting with `#` (C/C++ preprocessor). */
  preprocessor: boolean;
  /** Drop statements starting with these keywords up to `;` (Java package/import). */
  dropStatements: string[];
  tripleQuotes: boolean;
  templateLiterals: boolean;
}

const LEXICONS: Record<Language, Lexicon> = {
  c: {
    keywords: new Set(C_KEYWORDS),
    lineComment: '//',
    blockComments: true,
    preprocessor: true,
    dropStatements: [],
    tripleQuotes: false,
    templateLiterals: false,
  },
  cpp: {
    keywords: new Set([...C_KEYWORDS, ...CPP_EXTRA]),
    lineComment: '//',
    blockComments: true,
    preprocessor: true,
    dropStatements: [],
    tripleQuotes: false,
    templateLiterals: false,
  },
  java: {
    keywords: new Set(JAVA_KEYWORDS),
    lineComment: '//',
    blockComments: true,
    preprocessor: false,
    dropStatements: ['package', 'import'],
    tripleQuotes: true,
    templateLiterals: false,
  },
  python: {
    keywords: new Set(PYTHON_KEYWORDS),
    lineComment: '#',
    blockComments: false,
    preprocessor: false,
    dropStatements: [],
    tripleQuotes: true,
    templateLiterals: false,
  },
  javascript: {
    keywords: new Set(JS_KEYWORDS),
    lineComment: '//',
    blockComments: true,
    preprocessor: false,
    dropStatements: [],
    tripleQuotes: false,
    templateLiterals: true,
  },
  // Go's raw strings are backquoted like JavaScript's template literals; its package/import lines are kept (no `;` ends them).
  go: {
    keywords: new Set(GO_KEYWORDS),
    lineComment: '//',
    blockComments: true,
    preprocessor: false,
    dropStatements: [],
    tripleQuotes: false,
    templateLiterals: true,
  },
  rust: {
    keywords: new Set(RUST_KEYWORDS),
    lineComment: '//',
    blockComments: true,
    preprocessor: false,
    dropStatements: ['use'],
    tripleQuotes: false,
    templateLiterals: false,
  },
};

// Longest first, so `>>=` wins over `>>` and `>`.
const OPERATORS = [
  '>>>=',
  '<<=',
  '>>=',
  '>>>',
  '**=',
  '//=',
  '...',
  '===',
  '!==',
  '<=>',
  '->*',
  '++',
  '--',
  '->',
  '::',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '&&',
  '||',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '**',
  '//',
  '=>',
  '??',
  '?.',
  ':=',
];

const IDENT_START = /[A-Za-z_$\u00C0-\uFFFF]/;
const IDENT_PART = /[A-Za-z0-9_$\u00C0-\uFFFF]/;
const PY_STRING_PREFIX = /^[rRbBuUfF]{1,2}$/;

export function tokenize(source: string, language: Language): Token[] {
  const lex = LEXICONS[language];
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = true;
  let dropping = false;
  const n = source.length;
  const emit = (text: string, at: number) => {
    if (!dropping) tokens.push({ text, line: at });
  };
  // Advances over source[i..end), counting newlines.
  const skipTo = (end: number) => {
    for (; i < end && i < n; i++) if (source[i] === '\n') line++;
    i = Math.min(end, n);
  };

  while (i < n) {
    const c = source[i];
    if (c === '\n') {
      line++;
      i++;
      lineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    const atLineStart = lineStart;
    lineStart = false;

    if (lex.preprocessor && atLineStart && c === '#') {
      // A directive, with backslash continuations.
      while (i < n && !(source[i] === '\n' && source[i - 1] !== '\\')) skipTo(i + 1);
      continue;
    }
    if (source.startsWith(lex.lineComment, i)) {
      const end = source.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    if (lex.blockComments && source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      skipTo(end < 0 ? n : end + 2);
      continue;
    }
    const startLine = line;
    if (lex.tripleQuotes && (source.startsWith('"""', i) || source.startsWith("'''", i))) {
      const quote = source.slice(i, i + 3);
      const end = source.indexOf(quote, i + 3);
      skipTo(end < 0 ? n : end + 3);
      emit('L', startLine);
      continue;
    }
    if (c === '"' || c === "'" || (lex.templateLiterals && c === '`')) {
      skipTo(stringEnd(source, i, c));
      emit('L', startLine);
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && (/[A-Za-z0-9_.]/.test(source[j]) || ((source[j] === '+' || source[j] === '-') && /[eEpP]/.test(source[j - 1])))) j++;
      i = j;
      emit('L', startLine);
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_PART.test(source[j])) j++;
      const word = source.slice(i, j);
      i = j;
      if (language === 'python' && PY_STRING_PREFIX.test(word) && (source[i] === '"' || source[i] === "'")) continue; // f"...", r'...'
      if (!dropping && lex.dropStatements.includes(word) && isStatementStart(tokens)) {
        dropping = true;
        continue;
      }
      emit(lex.keywords.has(word) ? word : 'I', startLine);
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i)) ?? c;
    i += op.length;
    if (dropping) {
      if (op === ';') dropping = false;
      continue;
    }
    emit(op, startLine);
  }
  return tokens;
}

function isStatementStart(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1]?.text;
  return last === undefined || last === ';' || last === '}';
}

/** Index just past the closing quote (escapes honoured); a newline ends an unterminated '/" string. */
function stringEnd(source: string, start: number, quote: string): number {
  for (let j = start + 1; j < source.length; j++) {
    const ch = source[j];
    if (ch === '\\') j++;
    else if (ch === quote) return j + 1;
    else if (ch === '\n' && quote !== '`') return j;
  }
  return source.length;
}
