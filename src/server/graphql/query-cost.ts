/**
 * A static cost limit for GraphQL documents, checked as a validation rule: before any resolver
 * runs, so an expensive document costs the server only its parsing. The depth limit alone let
 * one `read` key nest `executionResults(first: 1000)` three deep (10⁹ nodes) or send 100
 * aliases of it, and block the event loop for everyone (health checks included).
 *
 * Cost: every field selected counts the number of times it would be resolved, that is the
 * product of the `first` of every paginated field above it (its own included for what it
 * returns): `executionResults(first: 100) { nodes { id } }` costs 1 + 100 + 100. A `first`
 * given as a variable takes the variable's value (or its default); an absent `first` takes the
 * schema's default; a value the resolver refuses (negative, over 1000) counts as 1, so the answer names what
 * is wrong. Lists
 * without `first` (a step's logs, an execution's steps) count once per parent: they are
 * bounded by one execution's data. Fragments are counted where they are spread.
 *
 * Besides the cost, a document may hold at most MAX_ALIASES aliases and each operation at most
 * MAX_ROOT_FIELDS root fields. Every operation of the document is checked, whichever is run.
 * A refusal is a validation error (HTTP 400) with extensions
 * `{ code: 'QUERY_TOO_COMPLEX', limit: 'cost' | 'aliases' | 'rootFields', max }`.
 *
 * Walking the document stops as soon as the cost is over the limit, and every field visited
 * adds at least 1, so checking costs at most MAX_QUERY_COST steps even for fragments spread
 * exponentially.
 */
import {
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  GraphQLError,
  type GraphQLField,
  getNamedType,
  isCompositeType,
  Kind,
  type OperationDefinitionNode,
  SchemaMetaFieldDef,
  type SelectionSetNode,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { MAX_PAGE_SIZE } from './page-args.js';

/** The largest cost accepted: a page of 1000 executions with up to ~49 fields each. */
export const MAX_QUERY_COST = 50_000;
/** Aliases in one document (batching lookups of single executions is fine; 100 copies of a list is not). */
export const MAX_ALIASES = 50;
/** Root fields in one operation (the Query type has 14 fields: more means aliases). */
export const MAX_ROOT_FIELDS = 25;

type Limit = 'cost' | 'aliases' | 'rootFields';

function tooComplex(message: string, limit: Limit, max: number, node?: FieldNode | OperationDefinitionNode) {
  return new GraphQLError(message, {
    ...(node ? { nodes: node } : {}),
    extensions: { code: 'QUERY_TOO_COMPLEX', limit, max },
  });
}

/** The rule for one request: `variables` are the request's, for `first: $n`. */
export function queryCostRule(variables: Record<string, unknown> | null | undefined): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias) aliases += 1;
      },
      // One refusal per document, the first limit passed: mercurius answers HTTP 400 for a
      // single validation error (several would be 200).
      Document: {
        leave(document) {
          const refusal =
            aliases > MAX_ALIASES
              ? tooComplex(
                  `The document has ${aliases} aliases, over the limit of ${MAX_ALIASES}`,
                  'aliases',
                  MAX_ALIASES,
                )
              : document.definitions
                  .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
                  .map((operation) => checkOperation(context, operation, variables ?? {}))
                  .find((error) => error !== undefined);
          if (refusal) context.reportError(refusal);
        },
      },
    };
  };
}

function checkOperation(
  context: ValidationContext,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): GraphQLError | undefined {
  const rootType = context.getSchema().getRootType(operation.operation);
  if (!rootType) return undefined;
  const walk = new CostWalk(context, operation, variables);
  const roots = walk.rootFieldCount(operation.selectionSet, rootType);
  if (roots > MAX_ROOT_FIELDS) {
    return tooComplex(
      `The operation selects ${roots} root fields, over the limit of ${MAX_ROOT_FIELDS}`,
      'rootFields',
      MAX_ROOT_FIELDS,
      operation,
    );
  }
  if (walk.cost(operation.selectionSet, rootType, 1) > MAX_QUERY_COST) {
    return tooComplex(
      `The query's cost is over the limit of ${MAX_QUERY_COST} (each field counts the product of the \`first\` of the lists above it and its own); ask for smaller pages or fewer nested lists`,
      'cost',
      MAX_QUERY_COST,
      operation,
    );
  }
  return undefined;
}

class CostWalk {
  #total = 0;
  readonly #spreading = new Set<string>();
  constructor(
    private readonly context: ValidationContext,
    private readonly operation: OperationDefinitionNode,
    private readonly variables: Record<string, unknown>,
  ) {}

  /** Root fields, fragments expanded (a cycle is reported by graphql's own rule). */
  rootFieldCount(selectionSet: SelectionSetNode, type: GraphQLCompositeType, seen = new Set<string>()): number {
    let count = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) count += 1;
      else if (selection.kind === Kind.INLINE_FRAGMENT)
        count += this.rootFieldCount(selection.selectionSet, type, seen);
      else {
        const fragment = this.context.getFragment(selection.name.value);
        if (!fragment || seen.has(fragment.name.value)) continue;
        seen.add(fragment.name.value);
        count += this.rootFieldCount(fragment.selectionSet, type, seen);
      }
      if (count > MAX_ROOT_FIELDS) return count;
    }
    return count;
  }

  /** The cost of a selection set resolved `times` times; stops early once over the limit. */
  cost(selectionSet: SelectionSetNode, type: GraphQLCompositeType, times: number): number {
    for (const selection of selectionSet.selections) {
      if (this.#total > MAX_QUERY_COST) break;
      if (selection.kind === Kind.FIELD) {
        this.#field(selection, type, times);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const narrowed = selection.typeCondition
          ? this.context.getSchema().getType(selection.typeCondition.name.value)
          : type;
        if (isCompositeType(narrowed)) this.cost(selection.selectionSet, narrowed, times);
      } else {
        this.#spread(this.context.getFragment(selection.name.value), times);
      }
    }
    return this.#total;
  }

  #spread(fragment: FragmentDefinitionNode | null | undefined, times: number): void {
    if (!fragment || this.#spreading.has(fragment.name.value)) return;
    const type = this.context.getSchema().getType(fragment.typeCondition.name.value);
    if (!isCompositeType(type)) return;
    this.#spreading.add(fragment.name.value);
    this.cost(fragment.selectionSet, type, times);
    this.#spreading.delete(fragment.name.value);
  }

  #field(node: FieldNode, parent: GraphQLCompositeType, times: number): void {
    const definition = fieldDefinition(this.context, parent, node.name.value);
    const resolved = times * (definition ? this.#pageSize(node, definition) : 1);
    this.#total += Math.max(resolved, 1);
    if (!node.selectionSet || !definition) return;
    const type = getNamedType(definition.type);
    if (isCompositeType(type)) this.cost(node.selectionSet, type, Math.max(resolved, 1));
  }

  /** How many items a field with `first` returns at most (1 for any other field). */
  #pageSize(node: FieldNode, definition: GraphQLField<unknown, unknown>): number {
    const argument = definition.args.find((a) => a.name === 'first');
    if (!argument) return 1;
    const given = node.arguments?.find((a) => a.name.value === 'first')?.value;
    let value: unknown = argument.defaultValue;
    if (given?.kind === Kind.INT) value = Number(given.value);
    else if (given?.kind === Kind.VARIABLE) {
      const name = given.name.value;
      const declared = this.operation.variableDefinitions?.find((v) => v.variable.name.value === name);
      if (this.variables[name] !== undefined && this.variables[name] !== null) value = this.variables[name];
      else if (declared?.defaultValue?.kind === Kind.INT) value = Number(declared.defaultValue.value);
    } else if (given !== undefined) value = undefined;
    // An invalid `first` (negative, over the largest page, not a whole number) is refused
    // before anything is read, by the resolver or variable coercion, so it costs nothing more;
    // counting it as a page would answer "too costly" instead of what is wrong.
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_PAGE_SIZE) return 1;
    return Math.max(1, value as number);
  }
}

function fieldDefinition(
  context: ValidationContext,
  parent: GraphQLCompositeType,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parent === context.getSchema().getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return 'getFields' in parent ? parent.getFields()[name] : undefined;
}
