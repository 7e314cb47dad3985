/**
 * The plan of one replay (`engine.planReplay`), shown before anything runs: where it starts,
 * which recorded steps are reused from the original or supplied by the operator, which run
 * again, and the non-repeatable ones among those (their side effect may happen twice). A
 * replay the engine would refuse says why instead.
 */
import type { Execution, ReplayPlanItem } from '../../../index.js';
import { TableRegion } from './components.js';

export interface PlanProps {
  execution: Execution;
  plan: ReplayPlanItem | null;
  /** Names of the reused steps whose output the operator supplied. */
  supplied: ReadonlySet<string>;
  inputEdited: boolean;
  /** Why there is no plan (problems in the form), or a note about the one shown. */
  notice: string | null;
  hasErrors: boolean;
}

export function ReplayPlanSection(props: PlanProps) {
  return (
    <section id="plan" class="replay-plan" aria-labelledby="plan-heading" tabindex={-1}>
      <h2 id="plan-heading">Plan</h2>
      {props.notice && (
        <p class="callout" role="status">
          {props.notice}
        </p>
      )}
      <PlanBody {...props} />
    </section>
  );
}

function PlanBody(props: PlanProps) {
  const { plan, execution: e } = props;
  if (props.hasErrors || !plan) {
    return <p>No plan yet: fix the problems marked above, then press “Dry run”.</p>;
  }
  if (plan.skip) {
    return (
      <p class="error-text" role="alert">
        This replay would be refused: {plan.skip}
      </p>
    );
  }
  const reused = new Set(plan.reusedSteps);
  const rerunNonRepeatable = new Map(plan.nonRepeatableRerun.map((s) => [s.step, s]));
  const runsFrom = plan.reusedSteps.length;
  return (
    <>
      <p>
        A new execution of flow <strong>{e.flow}</strong>{' '}
        {plan.startsAt ? (
          <>
            starting at step <strong>{plan.startsAt}</strong>
          </>
        ) : (
          'from the beginning'
        )}
        , with {props.inputEdited ? 'the edited input (it passed the flow’s schema)' : 'the original input'}. The
        original execution is not changed.
      </p>
      <TableRegion label="Recorded steps in the replay">
        <table class="plan-steps">
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">In the replay</th>
              <th scope="col">Note</th>
            </tr>
          </thead>
          <tbody>
            {e.steps.map((s) => {
              const isReused = s.position < runsFrom && reused.has(s.name);
              const isSupplied = isReused && props.supplied.has(s.name);
              const flagged = !isReused ? rerunNonRepeatable.get(s.name) : undefined;
              return (
                <tr>
                  <th scope="row">
                    {s.position + 1}. {s.name}
                  </th>
                  <td>
                    {isSupplied ? (
                      <span class="plan-tag plan-supplied">Supplied</span>
                    ) : isReused ? (
                      <span class="plan-tag plan-reused">Reused</span>
                    ) : (
                      <span class="plan-tag plan-runs">Runs again</span>
                    )}
                  </td>
                  <td>
                    {isSupplied
                      ? 'The output you gave is recorded as supplied; the step does not run.'
                      : isReused
                        ? 'Its output is copied from the original; the step does not run.'
                        : flagged
                          ? null
                          : 'Runs with the replay’s data.'}
                    {flagged && (
                      <strong class="plan-flag">
                        Non-repeatable: it runs again, so its side effect may happen twice in the end system
                        {flagged.hasValidator ? ' (its validate is asked only after a failed attempt).' : '.'}
                      </strong>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableRegion>
      <p class="note">
        {plan.nonRepeatableRerun.length === 0
          ? 'No non-repeatable step runs again. '
          : `${plan.nonRepeatableRerun.length} non-repeatable ${plan.nonRepeatableRerun.length === 1 ? 'step runs' : 'steps run'} again. `}
        Steps the original never reached run when the flow reaches them.
      </p>
      {plan.warnings.length > 0 && (
        <ul class="plan-warnings">
          {plan.warnings.map((w) => (
            <li>Warning: {w}</li>
          ))}
        </ul>
      )}
    </>
  );
}
