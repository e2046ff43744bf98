import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { join } from 'node:path';
import { OrganizationMutationsResolver } from './organization-mutations.resolver';
import { OrganizationResolver } from './organization.resolver';
import { TeamResolver } from './team.resolver';
import { ViewerResolver } from './viewer.resolver';

/** Every resolver class of the api's schema (the module provides these; the schema file is printed from them). */
export const GRAPHQL_RESOLVERS = [ViewerResolver, OrganizationResolver, TeamResolver, OrganizationMutationsResolver];

/** The committed schema, for clients and reviewers: `npm run graphql:schema` writes it. */
export const SCHEMA_FILE = join(__dirname, '..', '..', 'schema.graphql');

const HEADER =
  '# The GraphQL schema of the api, printed from its resolvers by `npm run graphql:schema`.\n# A test fails when it no longer matches; docs/graphql.md explains it.\n\n';

/** A schema as the file holds it: sorted, printed, with the header. */
export function schemaText(schema: GraphQLSchema): string {
  return `${HEADER}${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** Builds the schema from the resolver classes alone (no database, no HTTP server). */
export async function buildSchemaText(): Promise<string> {
  const app = await NestFactory.createApplicationContext(GraphQLSchemaBuilderModule, { logger: false });
  try {
    await app.init();
    return schemaText(await app.get(GraphQLSchemaFactory).create(GRAPHQL_RESOLVERS));
  } finally {
    await app.close();
  }
}
