/** The optional paste signals of a submission: bounded, every problem named at once, summarised for staff. */
import assert from 'node:assert/strict';
import { MAX_PASTES, splitSignals, summarizeSignals, validateSignals } from '../../core/src/similarity/signals';

describe('paste signals', () => {
  it("accepts the page's object and keeps only known fields", () => {
    const checked = validateSignals({ pastes: [{ at: 10, chars: 200, lines: 8 }], typingMs: 5000, edits: 40, droppedPastes: 2 });
    assert.deepEqual(checked, {
      ok: true,
      value: { pastes: [{ at: 10, chars: 200, lines: 8 }], typingMs: 5000, edits: 40, droppedPastes: 2 },
    });
  });

  it('names every problem at once', () => {
    const checked = validateSignals({ pastes: [{ at: 1.5, chars: -1, lines: 1, text: 'x' }, 'paste'], typingMs: '9', other: true });
    assert.equal(checked.ok, false);
    const fields = checked.ok ? [] : checked.errors.map((e) => e.field);
    assert.deepEqual(
      fields.sort(),
      [
        'signals.edits',
        'signals.other',
        'signals.pastes[0].at',
        'signals.pastes[0].chars',
        'signals.pastes[0].text',
        'signals.pastes[1]',
        'signals.typingMs',
      ].sort(),
    );
    assert.deepEqual(validateSignals([]), { ok: false, errors: [{ field: 'signals', message: 'must be an object' }] });
  });

  it('bounds the number of pastes and the counters', () => {
    const many = { pastes: Array.from({ length: MAX_PASTES + 1 }, () => ({ at: 0, chars: 1, lines: 1 })), typingMs: 0, edits: 0 };
    assert.equal(validateSignals(many).ok, false);
    assert.equal(validateSignals({ pastes: [], typingMs: 8 * 24 * 3600 * 1000, edits: 0 }).ok, false);
    assert.equal(validateSignals({ pastes: [], typingMs: 0, edits: 1e12 }).ok, false);
  });

  it('splits signals off a submission body and leaves other bodies alone', () => {
    assert.deepEqual(splitSignals({ userId: 'a', signals: { edits: 1 } }), { rest: { userId: 'a' }, signals: { edits: 1 } });
    assert.deepEqual(splitSignals({ userId: 'a' }), { rest: { userId: 'a' } });
    assert.deepEqual(splitSignals('text'), { rest: 'text' });
  });

  it('summarises how much of the source could have been pasted', () => {
    const summary = summarizeSignals(
      {
        pastes: [
          { at: 0, chars: 300, lines: 10 },
          { at: 9, chars: 100, lines: 2 },
        ],
        typingMs: 1000,
        edits: 9,
        droppedPastes: 1,
      },
      500,
    );
    assert.deepEqual(summary, { pasteCount: 3, pastedChars: 400, largestPaste: 300, pastedShare: 0.8, typingMs: 1000, edits: 9 });
    assert.equal(summarizeSignals({ pastes: [], typingMs: 0, edits: 0 }, 0).pastedShare, 0);
  });
});
