/**
 * A flow's input schema for people: the JSON Schema `engine.flows` gives, shown as a table of
 * fields (nested ones by their dotted path), each with its type, whether it is required and its
 * constraints; and a starting payload made from it (its required fields with empty values), so
 * "run with data" begins from the right shape. Only the JSON Schema keywords that converters
 * commonly emit are read; anything else is still enforced by the flow's own schema on submit.
 */
import { TableRegion } from './components.js';

type Schema = Record<string, unknown>;

/** Fields listed at most this deep, and at most this many: a schema is a summary here, not a dump. */
const MAX_DEPTH = 6;
const MAX_FIELDS = 200;

export interface SchemaField {
  path: string;
  type: string;
  required: boolean;
  details: string[];
}

export function SchemaFields(props: { schema: Schema | null; validatesInput: boolean; flow: string }) {
  const { schema } = props;
  if (!schema) {
    return (
      <p class="note">
        {props.validatesInput
          ? 'This flow checks its input, but its schema cannot be shown as JSON Schema: input it refuses is answered with the field errors.'
          : 'This flow declares no input schema: any JSON value is accepted.'}
      </p>
    );
  }
  const fields = schemaFields(schema);
  if (fields.length === 0) {
    return (
      <p class="note">
        The input is {typeText(schema)}
        {detailsOf(schema).length > 0 && <> ({detailsOf(schema).join('; ')})</>}.
      </p>
    );
  }
  return (
    <TableRegion label={`Input fields of flow ${props.flow}`}>
      <table class="schema-fields">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Required</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((f) => (
            <tr>
              <th scope="row">
                <code>{f.path}</code>
              </th>
              <td>{f.type}</td>
              <td>{f.required ? 'Required' : 'Optional'}</td>
              <td>{f.details.join('; ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

/** The fields of an object schema, depth first; empty for a schema that is not an object's. */
export function schemaFields(schema: Schema): SchemaField[] {
  const out: SchemaField[] = [];
  const walk = (s: Schema, prefix: string, depth: number) => {
    const properties = objectOf(s.properties);
    if (!properties || depth > MAX_DEPTH) return;
    const required = new Set(Array.isArray(s.required) ? s.required : []);
    for (const [name, raw] of Object.entries(properties)) {
      if (out.length >= MAX_FIELDS) return;
      const child = objectOf(raw) ?? {};
      const path = prefix === '' ? name : `${prefix}.${name}`;
      out.push({ path, type: typeText(child), required: required.has(name), details: detailsOf(child) });
      walk(child, path, depth + 1);
      const items = objectOf(child.items);
      if (items) walk(items, `${path}[]`, depth + 1);
    }
  };
  walk(schema, '', 0);
  return out;
}

/** A type in words: `string (email)`, `array of integer`, `one of "free", "pro"`, `string or null`. */
export function typeText(s: Schema): string {
  if ('const' in s) return `exactly ${JSON.stringify(s.const)}`;
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const members = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (members) return members.map((m) => typeText(objectOf(m) ?? {})).join(' or ');
  const types = Array.isArray(s.type) ? s.type : typeof s.type === 'string' ? [s.type] : [];
  if (types.length === 0) return typeof s.$ref === 'string' ? 'a value defined elsewhere in the schema' : 'any value';
  return types
    .map((t) => {
      if (t === 'array') {
        const items = objectOf(s.items);
        return items ? `array of ${typeText(items)}` : 'array';
      }
      if (t === 'string' && typeof s.format === 'string') return `string (${s.format})`;
      return String(t);
    })
    .join(' or ');
}

/** The constraints worth saying: description, lengths, bounds, pattern, default. */
function detailsOf(s: Schema): string[] {
  const details: string[] = [];
  if (typeof s.description === 'string') details.push(s.description);
  const bound = (key: string, words: string) => {
    const value = s[key];
    // Integer schemas from zod carry the safe-integer range as bounds: true, but nothing to say.
    if (typeof value === 'number' && Math.abs(value) !== Number.MAX_SAFE_INTEGER) details.push(`${words} ${value}`);
  };
  bound('minLength', 'at least this many characters:');
  bound('maxLength', 'at most this many characters:');
  bound('minimum', 'at least');
  bound('maximum', 'at most');
  bound('exclusiveMinimum', 'more than');
  bound('exclusiveMaximum', 'less than');
  bound('minItems', 'at least this many items:');
  bound('maxItems', 'at most this many items:');
  // A format (email, uuid) says it better than the pattern converters emit with it.
  if (typeof s.pattern === 'string' && typeof s.format !== 'string') details.push(`matches ${s.pattern}`);
  if ('default' in s) details.push(`default ${JSON.stringify(s.default)}`);
  return details;
}

/** A starting payload of the schema's shape: its required fields, each with an empty value of its type. */
export function exampleOf(s: Schema | null, depth = 0): unknown {
  if (!s) return {};
  if ('default' in s) return s.default;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  const members = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (members) {
    const first = members.map((m) => objectOf(m) ?? {}).find((m) => m.type !== 'null');
    return first ? exampleOf(first, depth) : null;
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const properties = objectOf(s.properties) ?? {};
      const required = Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : [];
      if (depth >= MAX_DEPTH) return {};
      return Object.fromEntries(required.map((name) => [name, exampleOf(objectOf(properties[name]) ?? {}, depth + 1)]));
    }
    case 'array':
      return [];
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return typeof s.minimum === 'number' && Math.abs(s.minimum) !== Number.MAX_SAFE_INTEGER ? s.minimum : 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

function objectOf(value: unknown): Schema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : undefined;
}
