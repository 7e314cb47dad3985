/**
 * Everything the CLI prints goes through an Output: tables and text for people on stdout,
 * JSON for scripts on stdout, and errors, warnings and progress on stderr (so `--json | jq`
 * never sees them). Colour only on a terminal, and never with NO_COLOR.
 *
 * Recorded text (error messages, log lines, step names, payloads, names, reasons) may hold
 * terminal control sequences: clear the screen, set the window title, rewrite a line. Nothing
 * recorded reaches a terminal raw: every line, cell, note and error is passed through
 * `safeText`, which shows each control character as a visible escape (`\x1b`). Only the colour
 * codes Output's own `c` makes survive: they carry a random marker in place of ESC until they
 * are written, so a colour code in recorded text is shown as text too. `--json` stays exact:
 * the values are unchanged, and the control characters JSON.stringify leaves raw are written as
 * \u escapes.
 */
import { randomBytes } from 'node:crypto';
import pc from 'picocolors';
import type { ErrorInfo, ExecutionStatus } from '../index.js';
import { displayWidth, layoutTable, truncateToWidth } from './table.js';

type Colors = ReturnType<typeof pc.createColors>;

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

/**
 * picocolors' colours with `marker` in place of ESC (see Output). A colour nested in another
 * ends by reopening the outer one, as picocolors does.
 */
function markedColors(enabled: boolean, marker: string): Colors {
  const plain = pc.createColors(enabled);
  if (!enabled) return plain;
  const marked: Record<string, unknown> = { ...plain };
  for (const [name, paint] of Object.entries(plain)) {
    if (typeof paint !== 'function') continue;
    const [open = '', close = ''] = (paint as (s: string) => string)('\u0000')
      .split('\u0000')
      .map((code) => code.replaceAll('\u001b', marker));
    marked[name] = (input: unknown) =>
      `${open}${String(input)
        .split(close)
        .join(close + open)}${close}`;
  }
  return marked as unknown as Colors;
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off; FORCE_COLOR turns it on off a terminal. */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag: boolean): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export class Output {
  readonly c: Colors;
  readonly #s: OutputStreams;
  /** Stands for ESC in the codes `c` makes; unguessable, so recorded text cannot forge one. */
  readonly #marker = `\ue000${randomBytes(12).toString('hex')}\ue001`;

  constructor(streams: OutputStreams, color: boolean) {
    this.#s = streams;
    this.c = markedColors(color, this.#marker);
  }

  get stderr(): OutputStreams['stderr'] {
    return this.#s.stderr;
  }

  /** Room for a table on a terminal; a fixed width when piped, so output does not depend on where it goes. */
  get width(): number {
    return this.#s.stdout.isTTY && this.#s.stdout.columns ? this.#s.stdout.columns : 160;
  }

  line(text = ''): void {
    this.#s.stdout.write(`${this.terminal(text)}\n`);
  }

  json(value: unknown): void {
    this.#s.stdout.write(`${jsonText(value)}\n`);
  }

  /** A note for people that is not the command's result (stderr, so piped output stays clean). */
  note(text: string): void {
    this.#s.stderr.write(`${this.terminal(text)}\n`);
  }

  warn(text: string): void {
    this.#s.stderr.write(`${this.terminal(`${this.c.yellow('warning:')} ${oneLine(text)}`)}\n`);
  }

  error(text: string): void {
    this.#s.stderr.write(`${this.terminal(`${this.c.red('error:')} ${oneLine(text)}`)}\n`);
  }

  /**
   * Text as written to the terminal: line breaks stay, every other control character becomes a
   * visible escape, and the colour codes of `c` become real ones. For what is written past
   * Output (a progress bar's format).
   */
  terminal(text: string): string {
    return safeText(text, true).replaceAll(this.#marker, '\u001b');
  }

  /**
   * A borderless table. `flex` names the column that gives up width when the table would be
   * wider than the terminal (typically the error text).
   */
  table(head: string[], rows: string[][], options: { flex?: number } = {}): void {
    const gap = 2;
    // Made safe first (and the colour codes real), so the widths are those of what is shown.
    rows = rows.map((r) => r.map((cell) => this.terminal(cell)));
    const plainWidths = head.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
    if (options.flex !== undefined) {
      const others = plainWidths.reduce((sum, w, i) => (i === options.flex ? sum : sum + w + gap), 0);
      const room = Math.max(20, this.width - others - 1);
      plainWidths[options.flex] = Math.min(plainWidths[options.flex]!, room);
      rows = rows.map((r) => r.map((cell, i) => (i === options.flex ? truncate(cell, room) : cell)));
    }
    const heads = head.map((h) => this.terminal(this.c.bold(h)));
    // Written as they are: the cells were made safe above.
    for (const l of layoutTable(heads, rows, plainWidths, gap)) this.#s.stdout.write(`${l}\n`);
  }

  /** A status in its colour; `width` pads it first, so colour codes do not upset alignment. */
  status(status: ExecutionStatus | string | null, width = 0): string {
    if (status === null) return this.c.dim('-'.padEnd(width));
    const text = status.padEnd(width);
    switch (status) {
      case 'succeeded':
      case 'completed':
        return this.c.green(text);
      case 'failed':
        return this.c.red(text);
      case 'running':
      case 'retrying':
      case 'paused':
        return this.c.yellow(text);
      case 'queued':
      case 'waiting':
        return this.c.cyan(text);
      case 'reused':
        return this.c.blue(text);
      default:
        return this.c.dim(text);
    }
  }
}

/** A stored error as one line: `Name: message`. */
export function errorLine(error: ErrorInfo | null | undefined): string {
  if (!error) return '';
  return oneLine(`${error.name}: ${error.message}`);
}

/** Recorded text on one line: line breaks (and the space around them) become one space, controls visible escapes. */
export function oneLine(text: string): string {
  return safeText(text.replace(/\s*\n\s*/g, ' ').trim());
}

/**
 * Control characters a terminal acts on instead of showing (but the line break): C0, DEL, C1,
 * and the Unicode controls that reorder or split what is shown (bidi embeddings, overrides,
 * isolates and marks, line and paragraph separators).
 */
const CONTROLS =
  '\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const CONTROL = new RegExp(`[\\n${CONTROLS}]`, 'g');
const CONTROL_BUT_NEWLINE = new RegExp(`[${CONTROLS}]`, 'g');
/** What JSON.stringify leaves raw inside strings (it escapes C0 itself). */
const JSON_RAW_CONTROL = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeControl(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Recorded text made safe for a terminal: each control character shown as a visible escape
 * (`\x1b`, `\x9b`, `\u202e`), everything else unchanged. `keepLineBreaks` is for whole
 * blocks of our own text with recorded parts already made safe.
 */
export function safeText(text: string, keepLineBreaks = false): string {
  return text.replace(keepLineBreaks ? CONTROL_BUT_NEWLINE : CONTROL, escapeControl);
}

/** JSON for scripts: exactly JSON.stringify's value, with the controls it leaves raw written as \u escapes. */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value, null, 2) as string | undefined;
  if (text === undefined) return String(text);
  return text.replace(JSON_RAW_CONTROL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `text` cut to `max` terminal columns, ending in `…` when it was cut. */
export function truncate(text: string, max: number): string {
  return truncateToWidth(text, max);
}

/** 850ms, 4.2s, 3m 05s, 2h 07m, 3d 4h. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** Local time, to the second: what an operator compares with their own clock and logs. */
export function formatTime(date: Date | null | undefined): string {
  if (!date) return '-';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(
    date.getMinutes(),
  )}:${pad(date.getSeconds())}`;
}

export function durationBetween(start: Date, end: Date | null): number | null {
  return end ? end.getTime() - start.getTime() : null;
}

/** A compact JSON preview of a payload for a table cell; the whole value is always a flag away. */
export function preview(value: unknown, max = 60): string {
  if (value === undefined) return '';
  return truncate(JSON.stringify(value) ?? '', max);
}
