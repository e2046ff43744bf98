import {
  getNamedType,
  GraphQLError,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  OperationTypeNode,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
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

/** What a field that runs a resolver of its own costs (a plain property costs 1). */
export const RESOLVER_COST = 10;

/**
 * Lists nested in one introspection path (`__schema { types { fields { args } } }` is three, what
 * GraphiQL and code generators ask for). Each further level multiplies the work by a list of the
 * schema's (types × fields × fields …): `types { fields { type { fields { type { fields` is refused.
 */
export const INTROSPECTION_MAX_LISTS = 3;

interface Measure {
  cost: number;
  depth: number;
  /** The most lists nested along one path inside introspection fields. */
  introspectionLists: number;
}

const NOTHING: Measure = { cost: 0, depth: 0, introspectionLists: 0 };

interface Walk {
  schema: GraphQLSchema;
  /** Query, Mutation, Subscription: their fields are resolvers. */
  roots: ReadonlySet<string>;
  fragment(name: string): FragmentDefinitionNode | undefined;
  /** The operation's variables with their defaults; absent while validating (no values yet). */
  variables: Record<string, unknown> | undefined;
  /** Each fragment measured once per walk: a fragment spread many times is not walked again. */
  measured: Map<string, Measure>;
}

function walkOf(
  schema: GraphQLSchema,
  fragment: (name: string) => FragmentDefinitionNode | undefined,
  variables: Record<string, unknown> | undefined,
): Walk {
  return { schema, roots: rootNames(schema), fragment, variables, measured: new Map() };
}

/**
 * Depth, aliases and introspection, checked with graphql's validation (so a refused document is
 * never executed, and the verdict is cached with the document): the deepest chain of fields,
 * fragments unfolded; how many fields are renamed with an alias (asking for one field many times
 * over under other names is how a short document multiplies work); lists nested in introspection.
 */
export function shapeLimits(limits: { maxDepth: number; maxAliases: number }): ValidationRule {
  return (context: ValidationContext) => {
    let aliases = 0;
    const walk = walkOf(context.getSchema(), (name) => context.getFragment(name) ?? undefined, undefined);
    return {
      Field(field) {
        if (field.alias) aliases += 1;
      },
      OperationDefinition(operation) {
        const measure = measureOperation(operation, walk);
        if (!measure) return;
        if (measure.depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(
              `${nameOf(operation)} nests ${measure.depth} levels deep; at most ${limits.maxDepth} are allowed.`,
              {
                nodes: [operation],
                extensions: { code: 'QUERY_TOO_DEEP', depth: measure.depth, maxDepth: limits.maxDepth },
              },
            ),
          );
        }
        if (measure.introspectionLists > INTROSPECTION_MAX_LISTS) {
          context.reportError(
            new GraphQLError(
              `${nameOf(operation)} nests ${measure.introspectionLists} lists in introspection; at most ${INTROSPECTION_MAX_LISTS} are allowed.`,
              {
                nodes: [operation],
                extensions: { code: 'QUERY_TOO_DEEP', maxIntrospectionLists: INTROSPECTION_MAX_LISTS },
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
 * a list counts once per row the list can return: its `first` (a literal, or a variable's value or
 * its default; the default page when absent), or UNPAGED_LIST_ESTIMATE (or the field's listSize)
 * for lists without paging. A connection's edges are its page, not counted twice. Every operation
 * of the document is measured and the costliest counts, so which one runs cannot matter.
 * Introspection counts 1 a field. Returns the cost; throws QUERY_TOO_COSTLY above `maxCost`.
 */
export function assertAffordable(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  maxCost: number,
): number {
  const fragments = new Map(
    document.definitions
      .filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
  let costliest: { cost: number; operation: OperationDefinitionNode } | undefined;
  for (const operation of document.definitions) {
    if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
    const values = { ...defaultsOf(operation), ...(variables ?? {}) };
    const cost =
      measureOperation(
        operation,
        walkOf(schema, (name) => fragments.get(name), values),
      )?.cost ?? 0;
    if (!costliest || cost > costliest.cost) costliest = { cost, operation };
  }
  if (costliest && costliest.cost > maxCost) {
    throw new GraphQLError(
      `${nameOf(costliest.operation)} could cost ${costliest.cost}; at most ${maxCost} is allowed. Ask for smaller pages (first) or fewer nested lists.`,
      { nodes: [costliest.operation], extensions: { code: 'QUERY_TOO_COSTLY', cost: costliest.cost, maxCost } },
    );
  }
  return costliest?.cost ?? 0;
}

/** The literal defaults of an operation's variables (`$first: Int = 100`). */
function defaultsOf(operation: OperationDefinitionNode): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const value = definition.defaultValue;
    if (value?.kind === Kind.INT) defaults[definition.variable.name.value] = Number(value.value);
  }
  return defaults;
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
  return root ? measureSelection(walk, root, operation.selectionSet, new Set(), false) : undefined;
}

function fieldOf(walk: Walk, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === '__schema' && walk.roots.has(parent.name)) return SchemaMetaFieldDef;
  if (name === '__type' && walk.roots.has(parent.name)) return TypeMetaFieldDef;
  const fields = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields() : undefined;
  return fields?.[name];
}

function measureSelection(
  walk: Walk,
  parent: GraphQLCompositeType,
  selectionSet: SelectionSetNode,
  fragmentsOnPath: Set<string>,
  inIntrospection: boolean,
): Measure {
  let cost = 0;
  let depth = 0;
  let introspectionLists = 0;
  for (const selection of selectionSet.selections) {
    let inner: Measure | undefined;
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === '__typename') continue;
      const field = fieldOf(walk, parent, selection.name.value);
      if (!field) continue; // An unknown field: graphql's own rules report it.
      const introspecting = inIntrospection || selection.name.value.startsWith('__');
      const named = getNamedType(field.type);
      const below =
        selection.selectionSet && (isObjectType(named) || isInterfaceType(named))
          ? measureSelection(walk, named, selection.selectionSet, fragmentsOnPath, introspecting)
          : NOTHING;
      const unwrapped = isNonNullType(field.type) ? field.type.ofType : field.type;
      if (introspecting) {
        // The schema's own description: small and in memory; only nesting its lists is dangerous.
        inner = {
          cost: 1 + below.cost,
          depth: 0,
          introspectionLists: below.introspectionLists + (isListType(unwrapped) ? 1 : 0),
        };
      } else {
        const listSize = typeof field.extensions.listSize === 'number' ? field.extensions.listSize : undefined;
        const rows = rowsOf(field.type, selection.arguments ?? [], parent.name, listSize, walk.variables);
        // A root field, or one that takes arguments, stands for a resolver's work (a query, often).
        const own = walk.roots.has(parent.name) || field.args.length > 0 ? RESOLVER_COST : 1;
        inner = { cost: own + rows * below.cost, depth: 1 + below.depth, introspectionLists: below.introspectionLists };
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const typeName = selection.typeCondition?.name.value;
      const type = typeName ? walk.schema.getType(typeName) : parent;
      if (type && (isObjectType(type) || isInterfaceType(type))) {
        inner = measureSelection(walk, type, selection.selectionSet, fragmentsOnPath, inIntrospection);
      }
    } else {
      const name = selection.name.value;
      const fragment = walk.fragment(name);
      // A cycle is refused by graphql's own NoFragmentCycles rule; here it only stops the walk.
      if (!fragment || fragmentsOnPath.has(name)) continue;
      const key = `${name}:${inIntrospection ? 'i' : 'd'}`;
      inner = walk.measured.get(key);
      if (!inner) {
        const type = walk.schema.getType(fragment.typeCondition.name.value);
        inner =
          type && (isObjectType(type) || isInterfaceType(type))
            ? measureSelection(walk, type, fragment.selectionSet, new Set([...fragmentsOnPath, name]), inIntrospection)
            : NOTHING;
        walk.measured.set(key, inner);
      }
    }
    if (inner) {
      cost += inner.cost;
      depth = Math.max(depth, inner.depth);
      introspectionLists = Math.max(introspectionLists, inner.introspectionLists);
    }
  }
  return { cost, depth, introspectionLists };
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
    if (value === undefined || value === null) return variables === undefined ? MAX_PAGE : DEFAULT_PAGE;
    return typeof value === 'number' && Number.isFinite(value) ? Math.max(1, Math.min(MAX_PAGE, value)) : MAX_PAGE;
  }
  if (getNamedType(type).name.endsWith('Connection')) return DEFAULT_PAGE;
  const unwrapped = isNonNullType(type) ? type.ofType : type;
  // A connection's edges are its page: already counted where the connection was selected.
  if (isListType(unwrapped)) return parentName.endsWith('Connection') ? 1 : (listSize ?? UNPAGED_LIST_ESTIMATE);
  return 1;
}
