/**
 * What text every store can hold, in one place for the engine and the adapters. PostgreSQL
 * cannot keep U+0000 in text; a lone UTF-16 surrogate has no UTF-8 form, so every driver
 * silently turns it into U+FFFD. Free text is made storable (storableText); a name or key that
 * carries either is refused where it enters (option-checks.ts) or, at the latest, by the
 * adapters (stores/text-guard.ts), the same way on every store. A leaf: it imports nothing, so
 * the error modules can use it.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** Whether `text` holds neither a NUL nor a lone surrogate, so every store keeps it exactly. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** `text` with each NUL and lone surrogate replaced by U+FFFD: for free text (log lines, errors, reasons). */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE_ALL, '\ufffd');
}
