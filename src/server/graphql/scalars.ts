/**
 * The two custom scalars. DateTime accepts any ISO-8601 string Date.parse understands, which
 * includes Prismatic's six-decimal `2022-12-30T22:08:19.506159+00:00` (precision beyond the
 * millisecond is dropped), and is always answered as `toISOString()` in UTC. JSON is any value.
 */
import { GraphQLError, Kind, type ValueNode } from 'graphql';

function toDate(value: unknown): Date {
  if (typeof value === 'string') {
    // Date-only or date-time with an explicit offset; a bare local time would depend on the server's zone.
    const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/i.test(value)
      ? Date.parse(value)
      : Number.NaN;
    if (Number.isFinite(ms)) return new Date(ms);
  }
  throw new GraphQLError(
    `DateTime must be an ISO-8601 string with a time zone, e.g. 2026-11-23T09:00:00Z; got ${JSON.stringify(value)}`,
  );
}

export const dateTimeScalar = {
  serialize(value: unknown): string {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'number') return new Date(value).toISOString();
    return toDate(value).toISOString();
  },
  parseValue: toDate,
  parseLiteral(ast: ValueNode): Date {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { nodes: ast });
    return toDate(ast.value);
  },
};

function literalValue(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalValue(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalValue(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
  }
}

export const jsonScalar = {
  serialize: (value: unknown): unknown => value,
  parseValue: (value: unknown): unknown => value,
  parseLiteral: literalValue,
};
