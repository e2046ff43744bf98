/**
 * Organization-owned resources that the authorization matrices cover without further edits: the
 * role fixture creates one of each in both tenants (in the tenant's team when `create` uses it), the
 * BOLA matrix aims every route at tenant A's object, and the role × endpoint matrix checks `expected`.
 * `npm run generate:resource` adds an entry here for each resource it creates.
 */
export interface ResourceFixture {
  /** The collection's path under /organizations/:orgId. */
  path: string;
  /** The route parameter that names one object. */
  idParameter: string;
  /** A valid create body. */
  create: (context: { teamId: string }) => object;
  /** A valid update body (the method comes from the route). */
  update: object;
  /** Which system roles pass each route's permission check, as in the role × endpoint matrix. */
  expected: Record<string, string>;
}

const EVERYONE = 'owner admin member viewer team-admin team-member';

export const RESOURCE_FIXTURES: ResourceFixture[] = [
  {
    path: 'projects',
    idParameter: 'projectId',
    // In the team, so team roles count for it.
    create: ({ teamId }) => ({ name: 'Roadmap', teamId }),
    update: { name: 'Hijacked' },
    expected: {
      'GET /organizations/:orgId/projects': EVERYONE,
      'POST /organizations/:orgId/projects': 'owner admin team-admin',
      'GET /organizations/:orgId/projects/:projectId': EVERYONE,
      'PATCH /organizations/:orgId/projects/:projectId': 'owner admin team-admin team-member',
      'DELETE /organizations/:orgId/projects/:projectId': 'owner admin team-admin',
    },
  },
  // generate:resource adds entries above this line.
];
