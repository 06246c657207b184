/**
 * Program text (stderr, compiler output, output quoted by a checker) on its way into execution.log.
 * A program controls those bytes: raw control characters could rewrite a terminal that shows the log
 * (ESC sequences, CR overprinting), bidi overrides could reorder what a reader sees, and an unindented
 * line break could forge a log line. Each becomes a visible escape (\x1b, \u202e); line breaks are
 * kept only inside indented blocks.
 */

// C0 controls but tab and line feed, DEL, C1 controls, and the invisible direction/line-separator marks.
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** For text on one log line: every control character, line feeds included, escaped. */
export function logLine(text: string): string {
  return text.replace(UNSAFE, escapeChar).replace(/\n/g, '\\n');
}

/** For a block of lines indented under its heading: controls escaped, each line indented. */
export function logBlock(text: string, indent = '  '): string {
  return indent + text.replace(UNSAFE, escapeChar).replace(/\n/g, `\n${indent}`);
}
