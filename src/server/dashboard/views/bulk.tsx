/**
 * Bulk replay (/bulk): which executions the filter selects, the replay options, the dry-run plan
 * (`engine.replayMany` with `dryRun`: matched, skipped and why, per execution what would be
 * reused and which non-repeatable steps would run again), and the form that starts the batch.
 *
 * Every choice lives in the URL (a GET form), so a plan can be linked and reloaded; only
 * "Start batch" posts, with the same fields as hidden inputs and the reason for the audit log.
 */
import type { ReplayPlan, ReplayPlanItem } from '../../../index.js';
import type { PageContext } from '../context.js';
import { type ExecutionQuery, queryUrl } from '../routes/execution-query.js';
import { Facts } from './batches-common.js';
import { EmptyState, STATUS_LABELS, TableRegion } from './components.js';
import { CsrfField, Layout } from './layout.js';

/** The replay options of the form, as typed (so a refused value is shown back as it was). */
export interface BulkChoices {
  fromStep?: string;
  includeResolved: boolean;
  force: boolean;
  concurrency?: string;
  ratePerSecond?: string;
}

export interface BulkProps {
  query: ExecutionQuery;
  choices: BulkChoices;
  /** Problems with the filter or the options (shown beside the form; no plan is made then). */
  problems: string[];
  /** The dry run's plan, once asked for. */
  plan: ReplayPlan | undefined;
  /** How many executions the plan details at most (the batch takes every match). */
  detailLimit: number;
}

export function BulkPage(props: BulkProps & { ctx: PageContext }) {
  return (
    <Layout ctx={props.ctx} title="Bulk replay">
      <section aria-labelledby="selection-heading">
        <h2 id="selection-heading">Which executions</h2>
        <QuerySummary query={props.query} />
        <p>
          <a href={queryUrl('/executions', props.query, { cursor: undefined })}>Show these executions</a>
        </p>
      </section>
      <OptionsForm {...props} />
      {props.plan && <PlanSection {...props} plan={props.plan} />}
    </Layout>
  );
}

/** The filter in words; without a status the engine replays failed executions. */
export function QuerySummary({ query }: { query: ExecutionQuery }) {
  const facts: [string, string][] = [
    ['Status', query.status ? STATUS_LABELS[query.status] : 'Failed (the default for a bulk replay)'],
  ];
  if (query.errorGroup) facts.push(['Error group', query.errorGroup]);
  if (query.system) facts.push(['Calls end system', query.system]);
  if (query.flow) facts.push(['Flow', query.flow]);
  if (query.instance) facts.push(['Instance', query.instance]);
  if (query.from) facts.push(['Started after (UTC)', query.from]);
  if (query.to) facts.push(['Started before (UTC)', query.to]);
  if (query.error) facts.push(['Error text', query.error]);
  if (query.text) facts.push(['Text in payloads', query.text]);
  if (query.tags) facts.push(['Tags', query.tags]);
  if (query.unresolved) facts.push(['Only', 'failures not yet resolved by a replay']);
  return <Facts facts={facts} />;
}

/** The query as hidden fields, so a form keeps the selection it was shown with. */
export function QueryFields({ query }: { query: ExecutionQuery }) {
  const fields: [string, string | undefined][] = [
    ['status', query.status],
    ['flow', query.flow],
    ['instance', query.instance],
    ['from', query.from],
    ['to', query.to],
    ['error', query.error],
    ['text', query.text],
    ['tags', query.tags],
    ['errorGroup', query.errorGroup],
    ['system', query.system],
    ['unresolved', query.unresolved ? '1' : undefined],
  ];
  return <>{fields.map(([name, value]) => value !== undefined && <input type="hidden" name={name} value={value} />)}</>;
}

/** The options as hidden fields (for "Start batch", which must replay what was planned). */
function ChoiceFields({ choices }: { choices: BulkChoices }) {
  return (
    <>
      {choices.fromStep && <input type="hidden" name="fromStep" value={choices.fromStep} />}
      {choices.includeResolved && <input type="hidden" name="includeResolved" value="1" />}
      {choices.force && <input type="hidden" name="force" value="1" />}
      {choices.concurrency && <input type="hidden" name="concurrency" value={choices.concurrency} />}
      {choices.ratePerSecond && <input type="hidden" name="ratePerSecond" value={choices.ratePerSecond} />}
    </>
  );
}

function OptionsForm({ query, choices, problems }: BulkProps) {
  return (
    <section aria-labelledby="options-heading">
      <h2 id="options-heading">Replay options</h2>
      <form class="filters" method="get" action="/bulk">
        <QueryFields query={query} />
        <input type="hidden" name="dryRun" value="1" />
        {problems.length > 0 && (
          <ul class="problems" role="alert">
            {problems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        )}
        <div class="filter-fields">
          <label>
            From step (optional)
            <input
              type="text"
              name="fromStep"
              value={choices.fromStep ?? ''}
              autocomplete="off"
              aria-describedby="from-step-help"
            />
          </label>
          <label>
            At most this many at once (optional)
            <input type="number" name="concurrency" min="1" step="1" value={choices.concurrency ?? ''} />
          </label>
          <label>
            Replays started per second (optional)
            <input type="number" name="ratePerSecond" min="0.01" step="any" value={choices.ratePerSecond ?? ''} />
          </label>
          <label class="checkbox">
            <input type="checkbox" name="includeResolved" value="1" checked={choices.includeResolved} />
            Replay failures already resolved too
          </label>
          <label class="checkbox">
            <input type="checkbox" name="force" value="1" checked={choices.force} />
            Replay executions that did not fail too (force)
          </label>
        </div>
        <p id="from-step-help" class="hint">
          From a step: the steps before it are reused from each original and the replay starts there. Empty: each
          execution is replayed from the beginning.
        </p>
        <div class="filter-actions">
          <button type="submit">Dry run</button>
          <span class="hint">A dry run shows what would happen and changes nothing.</span>
        </div>
      </form>
    </section>
  );
}

function PlanSection(props: BulkProps & { ctx: PageContext; plan: ReplayPlan }) {
  const { plan } = props;
  const toReplay = plan.matched - plan.skipped;
  return (
    <section aria-labelledby="plan-heading">
      <h2 id="plan-heading">Dry run plan</h2>
      <p class="plan-summary" role="status">
        {`${plan.matched} matched: ${toReplay} to replay, ${plan.skipped} skipped. Nothing has been replayed yet.`}
      </p>
      {plan.truncated && (
        <p class="note">
          {`Only the first ${props.detailLimit} are planned in detail below; the batch takes all ${plan.matched}, skipping by the same rules.`}
        </p>
      )}
      {plan.items.length === 0 ? (
        <EmptyState>No execution matches this filter.</EmptyState>
      ) : (
        <PlanTable items={plan.items} />
      )}
      {toReplay > 0 ? (
        <StartForm {...props} toReplay={toReplay} />
      ) : (
        <p>Nothing would be replayed, so there is no batch to start.</p>
      )}
    </section>
  );
}

/** The plan per execution: replayed or skipped and why, where it starts, what it reuses and re-runs. */
export function PlanTable({ items }: { items: ReplayPlanItem[] }) {
  return (
    <TableRegion label="Dry run plan, per execution">
      <table>
        <thead>
          <tr>
            <th scope="col">Execution</th>
            <th scope="col">Flow</th>
            <th scope="col">Status</th>
            <th scope="col">Plan</th>
            <th scope="col">Starts at</th>
            <th scope="col">Steps reused</th>
            <th scope="col">Non-repeatable steps run again</th>
            <th scope="col">Warnings</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr>
              <td>
                <a class="id" href={`/executions/${encodeURIComponent(item.executionId)}`}>
                  {item.executionId}
                </a>
              </td>
              <td>{item.flow}</td>
              <td>{STATUS_LABELS[item.status as keyof typeof STATUS_LABELS] ?? item.status}</td>
              <td class="error-cell">
                {item.skip ? (
                  <>
                    <strong>Skip</strong>: {item.skip}
                  </>
                ) : (
                  <strong>Replay</strong>
                )}
              </td>
              <td>{item.skip ? <span class="muted">–</span> : (item.startsAt ?? 'the beginning')}</td>
              <td>{item.reusedSteps.length === 0 ? <span class="muted">none</span> : item.reusedSteps.join(', ')}</td>
              <td>
                {item.nonRepeatableRerun.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  <ul class="flags">
                    {item.nonRepeatableRerun.map((s) => (
                      <li>
                        <span class="flag">Runs again</span> {s.step}
                        {s.hasValidator ? ' (its validate is asked first)' : ' (no validate: may act twice)'}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td>{item.warnings.length === 0 ? <span class="muted">none</span> : item.warnings.join('; ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

function StartForm(props: BulkProps & { ctx: PageContext; toReplay: number }) {
  return (
    <form class="start-batch" method="post" action="/batches">
      <CsrfField ctx={props.ctx} />
      <QueryFields query={props.query} />
      <ChoiceFields choices={props.choices} />
      <label for="batch-reason">Reason (kept with the batch and in the audit log of each replay)</label>
      <input id="batch-reason" type="text" name="reason" maxlength={500} autocomplete="off" />
      <p>
        <button type="submit">Start batch</button>{' '}
        <span class="hint">
          {`Replays the ${props.toReplay} planned as a durable batch: it carries on across restarts, and can be paused, resumed or cancelled.`}
        </span>
      </p>
    </form>
  );
}
