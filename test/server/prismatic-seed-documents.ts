/**
 * The GraphQL documents of the Prismatic seed (../shared/seeds/000_c930aa7116ad857f.txt), copied
 * verbatim: a Prismatic user must be able to send exactly these to Retrace. Only the variables'
 * values change (Retrace's ids and the test's own time range).
 */

export const GET_FAILED_EXECUTIONS =
  'query getFailedExecutions($instanceId: ID!, $rangeStart: DateTime, $rangeEnd: DateTime) { instance(id: $instanceId) { executionResults( error_Isnull: false sortBy: {field: STARTED_AT, direction: ASC} startedAt_Gte: $rangeStart startedAt_Lte: $rangeEnd ) { nodes { id error startedAt } } }}';

export const MY_REPLAY_EXECUTION =
  'mutation myReplayExecution($executionId: ID!) { replayExecution(input: {id: $executionId}) { instanceExecutionResult { id } errors { field messages } }}';

/** The seed's variables, as printed there (their ids are Prismatic's; tests substitute Retrace's). */
export const SEED_QUERY_VARIABLES = {
  instanceId: 'SW5zdGFuY2U6ZGVkZDQ3ZjQtNmQ4OC00NjJmLWE5YmYtNWM1OGNiMTg0MDAy',
  rangeStart: '2022-12-30T22:08:19.506159+00:00',
  rangeEnd: '2023-12-30T22:10:00.000000+00:00',
};
