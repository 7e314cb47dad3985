/**
 * Ids. Retrace answers with its own ids (an execution's UUIDv7, an instance's `in-…` or
 * `<flow>.default`, a flow's name). Prismatic's ids are Relay global ids, base64 of
 * `<Type>:<id>`; so that a script that builds or stores ids that way keeps working, an id that
 * decodes to one of our type names followed by a colon is accepted and unwrapped. A plain
 * Retrace id never decodes to that shape, so the two cannot be confused.
 */
const TYPE_NAMES = new Set([
  'InstanceExecutionResult',
  'ExecutionResult',
  'Instance',
  'Integration',
  'Flow',
  'ReplayBatch',
  'Schedule',
]);

export function toRetraceId(id: string): string {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(id) || id.length < 8) return id;
  const decoded = Buffer.from(id, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return id;
  const type = decoded.slice(0, colon);
  const rest = decoded.slice(colon + 1);
  const printable = [...rest].every((c) => c >= ' ' && c !== '\ufffd');
  return TYPE_NAMES.has(type) && rest.length > 0 && printable ? rest : id;
}
