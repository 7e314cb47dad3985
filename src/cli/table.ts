/**
 * The CLI's tables for people: borderless, left-aligned columns a gap apart, measured in the
 * columns a terminal shows (colour codes take none, East Asian wide characters and emoji take
 * two). Made here rather than with a table package: cli-table3 took 80-170 ms to load and lay
 * out the first page of `retrace executions list` on the CI machine, a quarter of the command,
 * where this takes a few milliseconds for output this simple. Cells arrive already made safe by Output (control
 * characters shown as escapes), so the only escapes left are Output's own colour codes.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

/** Characters a terminal draws over the one before them: combining marks (variation selectors among them), joiners. */
const ZERO_WIDTH = /^(?:\p{Mn}|\p{Me}|\u200b|\u200d)$/u;

/**
 * The East Asian wide and fullwidth ranges (Hangul Jamo, CJK and its punctuation, Hiragana,
 * Katakana, Hangul syllables, compatibility ideographs, fullwidth forms, the supplementary
 * ideograph planes) and the emoji blocks, which terminals draw two columns wide.
 */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f680 && cp <= 0x1f6ff) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x1fa70 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  // Below the combining marks nothing is wide or zero-width; most text never gets further.
  if (cp < 0x300) return 1;
  if (ZERO_WIDTH.test(ch)) return 0;
  return isWide(cp) ? 2 : 1;
}

/** Printable ASCII only: one column a character, the common case measured without a loop. */
const NARROW = /^[\x20-\x7e]*$/;

/** The columns `text` takes on a terminal (the widest line, when it has several). */
export function displayWidth(text: string): number {
  let widest = 0;
  for (const line of text.replace(ANSI, '').split('\n')) {
    if (NARROW.test(line)) {
      widest = Math.max(widest, line.length);
      continue;
    }
    let width = 0;
    for (const ch of line) width += charWidth(ch);
    widest = Math.max(widest, width);
  }
  return widest;
}

/** `text` cut to `max` columns, ending in `…` when it was cut (colour codes dropped then). */
export function truncateToWidth(text: string, max: number): string {
  if (displayWidth(text) <= max) return text;
  // Truncated cells are plain text (error messages, payloads): dropping the codes loses no meaning.
  const room = Math.max(1, max - 1);
  let out = '';
  let width = 0;
  for (const ch of text.replace(ANSI, '')) {
    const w = charWidth(ch);
    if (width + w > room) break;
    out += ch;
    width += w;
  }
  return `${out}…`;
}

/**
 * The table's lines: the head, then one line per row (more where a cell holds line breaks),
 * each cell but the last padded to its column's width plus `gap`, trailing spaces trimmed
 * (noise in files and diffs). A row may have fewer cells than the head; cells wider than their
 * column are left whole (the caller sizes the columns and truncates the one that flexes).
 */
export function layoutTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  widths: readonly number[],
  gap: number,
): string[] {
  const lines: string[] = [];
  for (const row of [head, ...rows]) {
    const cells = row.map(cellLines);
    const height = Math.max(1, ...cells.map((c) => c.length));
    for (let k = 0; k < height; k++) {
      let line = '';
      cells.forEach((cell, i) => {
        const text = cell[k] ?? '';
        line +=
          i === cells.length - 1 ? text : text + ' '.repeat(Math.max(0, (widths[i] ?? 0) + gap - displayWidth(text)));
      });
      lines.push(line.trimEnd());
    }
  }
  return lines;
}

/**
 * A cell's lines. A colour that spans a line break is closed at the end of each line and
 * reopened on the next, so it does not run into the cells beside it.
 */
function cellLines(cell: string): string[] {
  const lines = cell.split('\n');
  if (lines.length === 1 || !cell.includes('\u001b[')) return lines;
  let carried = '';
  return lines.map((line) => {
    const shown = `${carried}${line}\u001b[0m`;
    carried += (line.match(ANSI) ?? []).join('');
    return shown;
  });
}
