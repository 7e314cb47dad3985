/**
 * Replaying a system's failures (/systems/:name/replay-failed, operate): the executions that
 * failed at it and are not resolved, up to the start of its current outage (or now), as
 * `engine.systems.replayFailed` selects them. A GET form asks for the dry run (optionally only
 * failures since a date); the plan is shown with the bulk replay's table; "Start batch" posts
 * the same choice with a reason and opens the batch.
 */
import type { ReplayPlan, SystemView } from '../../../index.js';
import type { PageContext } from '../context.js';
import { PlanTable } from './bulk.js';
import { EmptyState } from './components.js';
import { systemUrl } from './execution-urls.js';
import { CsrfField, Layout } from './layout.js';
import { SystemStateBadge } from './systems.js';

export interface SystemReplayProps {
  system: SystemView;
  /** `since` as typed (YYYY-MM-DD or an ISO time), shown back. */
  since: string | undefined;
  problems: string[];
  plan: ReplayPlan | undefined;
}

export function SystemReplayPage(props: SystemReplayProps & { ctx: PageContext }) {
  const { system: s } = props;
  return (
    <Layout ctx={props.ctx} title={`Replay failed executions of ${s.name}`}>
      <p>
        System {s.name} is <SystemStateBadge state={s.state} />. <a href={systemUrl(s.name)}>Back to the system</a>
      </p>
      <p class="hint">
        The executions that failed at {s.name} and are not resolved by a replay yet, up to the start of its current
        outage (or now, when it is up): what the outage made fail. With a long enough retry policy nothing fails while
        the circuit is open; this is for what failed before it opened.
      </p>
      <form class="filters" method="get" action={`${systemUrl(s.name)}/replay-failed`}>
        <input type="hidden" name="dryRun" value="1" />
        {props.problems.length > 0 && (
          <ul class="problems" role="alert">
            {props.problems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        )}
        <div class="filter-fields">
          <label>
            Only failures since (UTC, optional)
            <input type="text" name="since" value={props.since ?? ''} placeholder="2026-01-31" autocomplete="off" />
          </label>
        </div>
        <div class="filter-actions">
          <button type="submit">Dry run</button>
          <span class="hint">A dry run shows what would happen and changes nothing.</span>
        </div>
      </form>
      {props.plan && <Plan {...props} plan={props.plan} />}
    </Layout>
  );
}

function Plan(props: SystemReplayProps & { ctx: PageContext; plan: ReplayPlan }) {
  const { plan, system: s } = props;
  const toReplay = plan.matched - plan.skipped;
  return (
    <section aria-labelledby="plan-heading">
      <h2 id="plan-heading">Dry run plan</h2>
      <p class="plan-summary" role="status">
        {`${plan.matched} matched: ${toReplay} to replay, ${plan.skipped} skipped. Nothing has been replayed yet.`}
      </p>
      {plan.truncated && (
        <p class="note">{`Only the first ${plan.items.length} are planned in detail below; the batch takes all ${plan.matched}.`}</p>
      )}
      {plan.items.length === 0 ? (
        <EmptyState>No failed execution of {s.name} to replay.</EmptyState>
      ) : (
        <PlanTable items={plan.items} />
      )}
      {toReplay > 0 ? (
        <form class="start-batch" method="post" action={`${systemUrl(s.name)}/replay-failed`}>
          <CsrfField ctx={props.ctx} />
          {props.since && <input type="hidden" name="since" value={props.since} />}
          <label for="batch-reason">Reason (kept with the batch and in the audit log of each replay)</label>
          <input id="batch-reason" type="text" name="reason" maxlength={500} autocomplete="off" />
          <p>
            <button type="submit">Start batch</button>{' '}
            <span class="hint">{`Replays the ${toReplay} planned as a durable batch, driven by the running workers.`}</span>
          </p>
        </form>
      ) : (
        <p>Nothing would be replayed, so there is no batch to start.</p>
      )}
    </section>
  );
}
