/**
 * Output for people: colour only on a terminal (and never with NO_COLOR set, see no-color.org),
 * so piped output, CI logs and the test that runs this demo get plain text; tables are padded
 * on the plain text, so colour never skews the columns.
 */

const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;

const sgr = (open: number, close: number) => (text: string) => (colour ? `\x1b[${open}m${text}\x1b[${close}m` : text);

export const style = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
};

export type Paint = (text: string) => string;

/** A table cell: plain text, optionally painted after padding. */
export type Cell = string | { text: string; paint?: Paint };

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Renders rows under headers with columns aligned; the last column is not padded. */
export function table(headers: string[], rows: Cell[][], indent = '  '): string[] {
  const plain = (c: Cell) => (typeof c === 'string' ? c : c.text);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => width(plain(r[i] ?? '')))));
  const render = (cells: Cell[], isHeader: boolean) =>
    indent +
    cells
      .map((cell, i) => {
        const text = plain(cell);
        const pad = i === cells.length - 1 ? '' : ' '.repeat(widths[i]! - width(text));
        if (isHeader) return style.dim(text) + pad;
        return (typeof cell === 'string' || !cell.paint ? text : cell.paint(text)) + pad;
      })
      .join('  ')
      .trimEnd();
  return [render(headers, true), ...rows.map((r) => render(r, false))];
}

/** Display width: the symbols used here are one column each, so code points will do. */
function width(text: string): number {
  return [...text].length;
}

/** Pretty JSON, indented to sit under a label. */
export function indentedJson(value: unknown, indent: string): string[] {
  return JSON.stringify(value, null, 2)
    .split('\n')
    .map((l) => indent + l);
}
