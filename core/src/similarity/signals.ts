/**
 * How the code arrived, as the page's editor recorded it: paste events into the editor (when, how
 * many characters and lines), time spent typing and the number of edits. Nothing about other tabs,
 * windows or the clipboard beyond what was pasted into the editor. Optional with a submission,
 * bounded in size, stored per submission for staff; it never changes a verdict.
 */
export interface PasteEvent {
  /** ms since the editor was opened. */
  at: number;
  chars: number;
  lines: number;
}

export interface SubmissionSignals {
  pastes: PasteEvent[];
  /** ms during which keys were typed (gaps over a few seconds not counted; the page decides). */
  typingMs: number;
  /** Edits (input events) in the editor. */
  edits: number;
  /** How many paste events happened beyond the ones kept (the page keeps the first MAX_PASTES). */
  droppedPastes?: number;
}

export const MAX_PASTES = 100;
const MAX_MS = 7 * 24 * 3600 * 1000;
const MAX_COUNT = 10_000_000;
const FIELDS = ['pastes', 'typingMs', 'edits', 'droppedPastes'];

export type SignalsValidation = { ok: true; value: SubmissionSignals } | { ok: false; errors: Array<{ field: string; message: string }> };

/** Checks the optional `signals` object of a submission; every problem at once, each naming its field. */
export function validateSignals(value: unknown): SignalsValidation {
  const errors: Array<{ field: string; message: string }> = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, errors: [{ field: 'signals', message: 'must be an object' }] };
  const input = value as Record<string, unknown>;
  const count = (field: string, max: number, required: boolean) => {
    const v = input[field];
    if (v === undefined) {
      if (required) errors.push({ field: `signals.${field}`, message: 'is required' });
    } else if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) {
      errors.push({ field: `signals.${field}`, message: `must be an integer from 0 to ${max}` });
    }
  };
  count('typingMs', MAX_MS, true);
  count('edits', MAX_COUNT, true);
  count('droppedPastes', MAX_COUNT, false);
  const pastes = input.pastes;
  if (!Array.isArray(pastes)) errors.push({ field: 'signals.pastes', message: 'must be an array' });
  else if (pastes.length > MAX_PASTES)
    errors.push({ field: 'signals.pastes', message: `must have at most ${MAX_PASTES} entries (count the rest in droppedPastes)` });
  else {
    pastes.forEach((p, i) => {
      const field = `signals.pastes[${i}]`;
      if (typeof p !== 'object' || p === null || Array.isArray(p))
        return void errors.push({ field, message: 'must be an object {at, chars, lines}' });
      const event = p as Record<string, unknown>;
      for (const [key, max] of [
        ['at', MAX_MS],
        ['chars', MAX_COUNT],
        ['lines', MAX_COUNT],
      ] as const) {
        const v = event[key];
        if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max)
          errors.push({ field: `${field}.${key}`, message: `must be an integer from 0 to ${max}` });
      }
      for (const key of Object.keys(event))
        if (!['at', 'chars', 'lines'].includes(key)) errors.push({ field: `${field}.${key}`, message: 'is not a known field' });
    });
  }
  for (const key of Object.keys(input))
    if (!FIELDS.includes(key)) errors.push({ field: `signals.${key}`, message: `is not a known field (expected ${FIELDS.join(', ')})` });
  if (errors.length) return { ok: false, errors };
  const out: SubmissionSignals = {
    pastes: (pastes as PasteEvent[]).map((p) => ({ at: p.at, chars: p.chars, lines: p.lines })),
    typingMs: input.typingMs as number,
    edits: input.edits as number,
  };
  if (input.droppedPastes !== undefined) out.droppedPastes = input.droppedPastes as number;
  return { ok: true, value: out };
}

/** Separates the optional `signals` field from a submission body so the rest validates as before. */
export function splitSignals(body: unknown): { rest: unknown; signals?: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('signals' in body)) return { rest: body };
  const { signals, ...rest } = body as Record<string, unknown>;
  return { rest, signals };
}

export interface SignalSummary {
  pasteCount: number;
  pastedChars: number;
  largestPaste: number;
  /** Pasted characters over the submitted source's length (can exceed 1 when pasted code was later deleted). */
  pastedShare: number;
  typingMs: number;
  edits: number;
}

/** What staff read first: how much of the source could have come from pastes. */
export function summarizeSignals(signals: SubmissionSignals, sourceChars: number): SignalSummary {
  const pastedChars = signals.pastes.reduce((sum, p) => sum + p.chars, 0);
  return {
    pasteCount: signals.pastes.length + (signals.droppedPastes ?? 0),
    pastedChars,
    largestPaste: signals.pastes.reduce((max, p) => Math.max(max, p.chars), 0),
    pastedShare: sourceChars > 0 ? Math.round((pastedChars / sourceChars) * 1000) / 1000 : 0,
    typingMs: signals.typingMs,
    edits: signals.edits,
  };
}
