import DataLoader from 'dataloader';
import type { MemberDto } from '../members/dto/member.dto';
import type { TeamsService } from '../teams/teams.service';

const perRequest = new WeakMap<object, Map<string, DataLoader<string, MemberDto[]>>>();

/**
 * Team.members batched: every team of one organization asked for in the same tick of one request
 * is read in one unit of work of a fixed number of queries. One loader per (request, organization):
 * a loader never mixes organizations, and nothing is cached beyond the request.
 */
export function teamMembersLoader(
  request: object,
  orgId: string,
  teams: TeamsService,
): DataLoader<string, MemberDto[]> {
  let loaders = perRequest.get(request);
  if (!loaders) {
    loaders = new Map();
    perRequest.set(request, loaders);
  }
  let loader = loaders.get(orgId);
  if (!loader) {
    loader = new DataLoader(
      async (teamIds: readonly string[]) => {
        const byTeam = await teams.membersOfTeams(orgId, teamIds);
        return teamIds.map((teamId) => byTeam.get(teamId) ?? []);
      },
      // Each field passes the guards (promise chains) before it asks: wait until all of them have.
      { batchScheduleFn: (callback) => setImmediate(callback), maxBatchSize: 500 },
    );
    loaders.set(orgId, loader);
  }
  return loader;
}
