import {
  getNamedType,
  GraphQLError,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  Kind,
  OperationTypeNode,
  type ArgumentNode,
  type GraphQLOutputType,
  type GraphQLCompositeType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { DEFAULT_PAGE, MAX_PAGE } from './connection';

/**
 * What a list without a `first` argument is assumed to hold (Team.members), unless its field
 * says better with `@Extensions({ listSize })` (a member's roles).
 */
export const UNPAGED_LIST_ESTIMATE = 50;

interface Measure {
  cost: number;
  depth: number;
}

/**
 * Refuses, before anything runs, an operation deeper than `maxDepth` or costlier than `maxCost`.
 * Cost: every field counts 1, and what is selected under a list counts once per row it can
 * return: `first` when given as a literal, the most a page may hold (MAX_PAGE) when given as a
 * variable (the cached validation of a document cannot see variables, so it counts the worst
 * case), the default page when absent, UNPAGED_LIST_ESTIMATE for lists without paging. The edges
 * of a connection are not counted twice. Introspection fields are free; whether introspection is
 * allowed at all is another rule.
 */
export function operationLimits(limits: { maxDepth: number; maxCost: number }): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const root =
        operation.operation === OperationTypeNode.MUTATION
          ? context.getSchema().getMutationType()
          : operation.operation === OperationTypeNode.SUBSCRIPTION
            ? context.getSchema().getSubscriptionType()
            : context.getSchema().getQueryType();
      if (!root) return;
      const measure = measureSelection(context, root, operation.selectionSet, new Set());
      const name = operation.name?.value ?? 'the operation';
      if (measure.depth > limits.maxDepth) {
        context.reportError(
          new GraphQLError(`${name} nests ${measure.depth} levels deep; at most ${limits.maxDepth} are allowed.`, {
            nodes: [operation],
            extensions: { code: 'QUERY_TOO_DEEP', depth: measure.depth, maxDepth: limits.maxDepth },
          }),
        );
      }
      if (measure.cost > limits.maxCost) {
        context.reportError(
          new GraphQLError(
            `${name} could cost ${measure.cost}; at most ${limits.maxCost} is allowed. Ask for smaller pages (first) or fewer nested lists.`,
            {
              nodes: [operation],
              extensions: { code: 'QUERY_TOO_COSTLY', cost: measure.cost, maxCost: limits.maxCost },
            },
          ),
        );
      }
    },
  });
}

function measureSelection(
  context: ValidationContext,
  parent: GraphQLCompositeType,
  selectionSet: SelectionSetNode,
  fragmentsOnPath: Set<string>,
): Measure {
  let cost = 0;
  let depth = 0;
  for (const selection of selectionSet.selections) {
    let inner: Measure | undefined;
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      const fields = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields() : undefined;
      const field = fields?.[selection.name.value];
      if (!field) continue; // An unknown field: graphql's own rules report it.
      const named = getNamedType(field.type);
      const below =
        selection.selectionSet && (isObjectType(named) || isInterfaceType(named))
          ? measureSelection(context, named, selection.selectionSet, fragmentsOnPath)
          : { cost: 0, depth: 0 };
      const listSize = typeof field.extensions.listSize === 'number' ? field.extensions.listSize : undefined;
      const rows = rowsOf(field.type, selection.arguments ?? [], parent.name, listSize);
      inner = { cost: 1 + rows * below.cost, depth: 1 + below.depth };
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const typeName = selection.typeCondition?.name.value;
      const type = typeName ? context.getSchema().getType(typeName) : parent;
      if (type && (isObjectType(type) || isInterfaceType(type))) {
        inner = measureSelection(context, type, selection.selectionSet, fragmentsOnPath);
      }
    } else {
      const name = selection.name.value;
      const fragment = context.getFragment(name);
      // A cycle is refused by graphql's own NoFragmentCycles rule; here it only stops the walk.
      if (!fragment || fragmentsOnPath.has(name)) continue;
      const type = context.getSchema().getType(fragment.typeCondition.name.value);
      if (type && (isObjectType(type) || isInterfaceType(type))) {
        inner = measureSelection(context, type, fragment.selectionSet, new Set([...fragmentsOnPath, name]));
      }
    }
    if (inner) {
      cost += inner.cost;
      depth = Math.max(depth, inner.depth);
    }
  }
  return { cost, depth };
}

function rowsOf(
  type: GraphQLOutputType,
  args: readonly ArgumentNode[],
  parentName: string,
  listSize: number | undefined,
): number {
  const first = args.find((arg) => arg.name.value === 'first');
  if (first) {
    if (first.value.kind === Kind.INT) return Math.max(1, Math.min(MAX_PAGE, Number(first.value.value)));
    return MAX_PAGE;
  }
  if (getNamedType(type).name.endsWith('Connection')) return DEFAULT_PAGE;
  const unwrapped = isNonNullType(type) ? type.ofType : type;
  // A connection's edges are its page: already counted where the connection was selected.
  if (isListType(unwrapped)) return parentName.endsWith('Connection') ? 1 : (listSize ?? UNPAGED_LIST_ESTIMATE);
  return 1;
}
