import {
  getNamedType,
  GraphQLError,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  OperationTypeNode,
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
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

/** What a field that runs a resolver of its own costs (a plain property costs 1). */
export const RESOLVER_COST = 10;

interface Walk {
  schema: GraphQLSchema;
  /** Query, Mutation, Subscription: their fields are resolvers. */
  roots: ReadonlySet<string>;
  fragment(name: string): FragmentDefinitionNode | undefined;
  /** The operation's variables; absent while validating (a validated document is cached without them). */
  variables: Record<string, unknown> | undefined;
}

/**
 * Depth and aliases, checked with graphql's validation (so a refused document is never executed,
 * and the verdict is cached with the document): the deepest chain of fields, fragments unfolded;
 * and how many fields are renamed with an alias (asking for one field many times over under
 * different names is how a short document multiplies work).
 */
export function shapeLimits(limits: { maxDepth: number; maxAliases: number }): ValidationRule {
  return (context: ValidationContext) => {
    let aliases = 0;
    return {
      Field(field) {
        if (field.alias) aliases += 1;
      },
      OperationDefinition(operation) {
        const depth = measureOperation(operation, {
          schema: context.getSchema(),
          roots: rootNames(context.getSchema()),
          fragment: (name) => context.getFragment(name) ?? undefined,
          variables: undefined,
        })?.depth;
        if (depth !== undefined && depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(
              `${nameOf(operation)} nests ${depth} levels deep; at most ${limits.maxDepth} are allowed.`,
              {
                nodes: [operation],
                extensions: { code: 'QUERY_TOO_DEEP', depth, maxDepth: limits.maxDepth },
              },
            ),
          );
        }
      },
      Document: {
        leave() {
          if (aliases > limits.maxAliases) {
            context.reportError(
              new GraphQLError(`The document uses ${aliases} aliases; at most ${limits.maxAliases} are allowed.`, {
                extensions: { code: 'QUERY_TOO_MANY_ALIASES', aliases, maxAliases: limits.maxAliases },
              }),
            );
          }
        },
      },
    };
  };
}

/**
 * Cost, checked once the variables are known and before execution (mercurius's preExecution):
 * a plain field counts 1 and a field that runs a resolver of its own (a root field, or one with
 * arguments) RESOLVER_COST, so aliasing it many times costs what it does. What is selected under
 * a list counts once per row the list can return: its `first` (a literal or a variable's value;
 * the default page when absent), or UNPAGED_LIST_ESTIMATE (or the field's listSize) for lists
 * without paging. A connection's edges are its page, not counted twice. Introspection fields are
 * free. Returns the cost; throws QUERY_TOO_COSTLY above `maxCost`.
 */
export function assertAffordable(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
  maxCost: number,
): number {
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName
    ? operations.find((candidate) => candidate.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!operation) return 0; // graphql's execute refuses an ambiguous or unknown operation itself.
  const fragments = new Map(
    document.definitions
      .filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
  const cost = measureOperation(operation, {
    schema,
    roots: rootNames(schema),
    fragment: (name) => fragments.get(name),
    variables: variables ?? {},
  })?.cost;
  if (cost !== undefined && cost > maxCost) {
    throw new GraphQLError(
      `${nameOf(operation)} could cost ${cost}; at most ${maxCost} is allowed. Ask for smaller pages (first) or fewer nested lists.`,
      { nodes: [operation], extensions: { code: 'QUERY_TOO_COSTLY', cost, maxCost } },
    );
  }
  return cost ?? 0;
}

function rootNames(schema: GraphQLSchema): ReadonlySet<string> {
  return new Set(
    [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) =>
      type ? [type.name] : [],
    ),
  );
}

function nameOf(operation: OperationDefinitionNode): string {
  return operation.name?.value ?? 'the operation';
}

function measureOperation(operation: OperationDefinitionNode, walk: Walk): Measure | undefined {
  const root =
    operation.operation === OperationTypeNode.MUTATION
      ? walk.schema.getMutationType()
      : operation.operation === OperationTypeNode.SUBSCRIPTION
        ? walk.schema.getSubscriptionType()
        : walk.schema.getQueryType();
  return root ? measureSelection(walk, root, operation.selectionSet, new Set()) : undefined;
}

function measureSelection(
  walk: Walk,
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
          ? measureSelection(walk, named, selection.selectionSet, fragmentsOnPath)
          : { cost: 0, depth: 0 };
      const listSize = typeof field.extensions.listSize === 'number' ? field.extensions.listSize : undefined;
      const rows = rowsOf(field.type, selection.arguments ?? [], parent.name, listSize, walk.variables);
      // A root field, or one that takes arguments, stands for a resolver's work (a query, often).
      const own = walk.roots.has(parent.name) || field.args.length > 0 ? RESOLVER_COST : 1;
      inner = { cost: own + rows * below.cost, depth: 1 + below.depth };
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const typeName = selection.typeCondition?.name.value;
      const type = typeName ? walk.schema.getType(typeName) : parent;
      if (type && (isObjectType(type) || isInterfaceType(type))) {
        inner = measureSelection(walk, type, selection.selectionSet, fragmentsOnPath);
      }
    } else {
      const name = selection.name.value;
      const fragment = walk.fragment(name);
      // A cycle is refused by graphql's own NoFragmentCycles rule; here it only stops the walk.
      if (!fragment || fragmentsOnPath.has(name)) continue;
      const type = walk.schema.getType(fragment.typeCondition.name.value);
      if (type && (isObjectType(type) || isInterfaceType(type))) {
        inner = measureSelection(walk, type, fragment.selectionSet, new Set([...fragmentsOnPath, name]));
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
  variables: Record<string, unknown> | undefined,
): number {
  const first = args.find((arg) => arg.name.value === 'first');
  if (first) {
    const value =
      first.value.kind === Kind.INT
        ? Number(first.value.value)
        : first.value.kind === Kind.VARIABLE
          ? variables?.[first.value.name.value]
          : undefined;
    // An unset variable is the default page; a value out of range is refused by the resolver.
    if (value === undefined || value === null) return DEFAULT_PAGE;
    return typeof value === 'number' && Number.isFinite(value) ? Math.max(1, Math.min(MAX_PAGE, value)) : MAX_PAGE;
  }
  if (getNamedType(type).name.endsWith('Connection')) return DEFAULT_PAGE;
  const unwrapped = isNonNullType(type) ? type.ofType : type;
  // A connection's edges are its page: already counted where the connection was selected.
  if (isListType(unwrapped)) return parentName.endsWith('Connection') ? 1 : (listSize ?? UNPAGED_LIST_ESTIMATE);
  return 1;
}
