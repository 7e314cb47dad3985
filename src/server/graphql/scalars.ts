/**
 * The two custom scalars. DateTime accepts an ISO-8601 date, or date-time with an offset, whose
 * parts exist (no February 30th, no hour 24), which includes Prismatic's six-decimal `2022-12-30T22:08:19.506159+00:00` (precision beyond the
 * millisecond is dropped), and is always answered as `toISOString()` in UTC. JSON is any value.
 */
import { GraphQLError, Kind, type ValueNode } from 'graphql';

/** Date-only, or date-time with an explicit offset; a bare local time would depend on the server's zone. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):?(\d{2})))?$/i;

/**
 * The instant a DateTime names, or a GraphQL error. Each part is range-checked before
 * Date.parse sees it, which would roll a day that does not exist (`2024-02-30`) over into
 * March: a filter bound silently moved is a wrong set of executions to replay.
 */
function toDate(value: unknown): Date {
  if (typeof value === 'string') {
    const m = ISO_DATE_TIME.exec(value);
    if (m && partsExist(m)) {
      const ms = Date.parse(value);
      if (Number.isFinite(ms)) return new Date(ms);
    }
  }
  throw new GraphQLError(
    `DateTime must be an ISO-8601 string with a time zone of a date that exists, e.g. 2026-11-23T09:00:00Z; got ${JSON.stringify(value)}`,
    { extensions: { code: 'BAD_USER_INPUT' } },
  );
}

function partsExist(m: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second, , offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) =>
    m[i] === undefined ? 0 : Number(m[i]),
  ) as number[];
  // Day 0 of the next month is this month's last day (setUTCFullYear: years below 100 are literal).
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year!, month!, 0);
  const daysInMonth = lastDay.getUTCDate();
  return (
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    offsetHours! <= 23 &&
    offsetMinutes! <= 59
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
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime must be a string', { nodes: ast, extensions: { code: 'BAD_USER_INPUT' } });
    }
    return toDate(ast.value);
  },
};

/**
 * A number written in a JSON literal, refused when JavaScript cannot hold it as written: an
 * integer beyond 2^53 would be silently rounded, and `1e400` would become Infinity (stored as
 * null).
 */
function jsonNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value)) {
    throw new GraphQLError(`The number ${text} is out of range for JSON`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  if (/^-?\d+$/.test(text) && !Number.isSafeInteger(value)) {
    throw new GraphQLError(`The integer ${text} is beyond 2^53 and would be rounded; send it as a string`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return value;
}

function literalValue(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return jsonNumber(ast.value);
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
