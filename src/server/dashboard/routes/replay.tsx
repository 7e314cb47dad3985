/**
 * GET /executions/:id/replay (?fromStep=): the replay form (views/replay.tsx) with the plan for
 * its starting choices; POST: "Dry run" plans the submitted choices with `engine.planReplay`,
 * "Replay" starts them with `engine.replay` (the key's name as actor, the reason in the audit)
 * and opens the new execution's page. Both need operate, as the API's replay does.
 *
 * "Replay" goes through only with the plan of exactly the submitted choices: the page carries a
 * digest of what its plan was made for, and a replay whose choices differ (edited after the dry
 * run) is answered with the plan for them instead, so nobody starts a replay whose plan, and its
 * non-repeatable steps, they have not seen.
 */
import { createHash } from 'node:crypto';
import type { Execution, FlowDescription, ReplayOptions, ReplayPlanItem } from '../../../index.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { executionUrl } from '../views/execution-urls.js';
import {
  OTHER_STEP,
  outputField,
  type ReplayFormState,
  ReplayPage,
  STEP_CHOICE,
  startPosition,
} from '../views/replay.js';
import {
  addError,
  type FieldErrors,
  type Form,
  formList,
  formText,
  jsonText,
  parseJsonText,
  refusalErrors,
  sameJson,
} from './payload-form.js';

/** Payloads travel percent-encoded (up to 3 bytes per byte), with room for the rest of the form. */
export const formBodyLimit = (maxPayloadBytes: number) => 3 * maxPayloadBytes + 64 * 1024;

interface ReplayChoices {
  options: ReplayOptions;
  errors: FieldErrors;
  inputEdited: boolean;
  suppliedNames: Set<string>;
}

export const replayPage: DashboardPage = {
  async register(app, { engine }) {
    const operate = { dashboard: { scope: 'operate' as const } };
    const flowOf = (name: string): FlowDescription | null =>
      engine.flowNames.includes(name) ? engine.flows.get(name) : null;

    const render = async (
      request: Parameters<typeof pageContext>[0],
      execution: Execution,
      state: ReplayFormState,
      extra: { errors?: FieldErrors; notice?: string } = {},
    ) => {
      const choices = readChoices(execution, state);
      const errors: FieldErrors = { ...choices.errors, ...(extra.errors ?? {}) };
      let plan: ReplayPlanItem | null = null;
      if (Object.keys(errors).length === 0) {
        try {
          plan = await engine.planReplay(execution.id, choices.options);
        } catch (error) {
          Object.assign(errors, refusalErrors(error, fieldOf(execution)));
        }
      }
      return {
        status: Object.keys(errors).length > 0 ? 422 : 200,
        page: (
          <ReplayPage
            ctx={pageContext(request)}
            execution={execution}
            flow={flowOf(execution.flow)}
            state={state}
            errors={errors}
            plan={plan}
            planned={plan ? digest(choices.options) : null}
            notice={extra.notice ?? null}
            inputEdited={choices.inputEdited}
            suppliedNames={choices.suppliedNames}
          />
        ),
      };
    };

    app.get<{ Params: { id: string }; Querystring: { fromStep?: string } }>(
      '/executions/:id/replay',
      { config: operate },
      async (request, reply) => {
        const execution = await engine.executions.get(request.params.id);
        const fromStep = typeof request.query.fromStep === 'string' ? request.query.fromStep : '';
        const { status, page } = await render(request, execution, initialState(execution, fromStep));
        return sendPage(reply, page, status);
      },
    );

    app.post<{ Params: { id: string } }>(
      '/executions/:id/replay',
      { config: operate, bodyLimit: formBodyLimit(engine.options.maxPayloadBytes) },
      async (request, reply) => {
        const form = (request.body ?? {}) as Form;
        const execution = await engine.executions.get(request.params.id);
        const state = stateFromForm(execution, form);
        if (formText(form, 'intent') !== 'replay') {
          const { status, page } = await render(request, execution, state);
          return sendPage(reply, page, status);
        }
        const choices = readChoices(execution, state);
        if (Object.keys(choices.errors).length > 0 || formText(form, 'planned') !== digest(choices.options)) {
          const notice =
            Object.keys(choices.errors).length > 0
              ? null
              : 'The choices changed since the plan was made (or no plan was shown): here is the plan for them now. Check it, then press “Replay”.';
          const { status, page } = await render(request, execution, state, notice ? { notice } : {});
          return sendPage(reply, page, status);
        }
        try {
          const handle = await engine.replay(execution.id, {
            ...choices.options,
            actor: request.principal?.name ?? 'anonymous',
            ...(state.reason !== '' ? { reason: state.reason } : {}),
          });
          return reply.code(303).header('location', executionUrl(handle.id)).send();
        } catch (error) {
          const { status, page } = await render(request, execution, state, {
            errors: refusalErrors(error, fieldOf(execution)),
          });
          return sendPage(reply, page, status);
        }
      },
    );
  },
};

/** The form as first shown: the original input, recorded outputs, starting at `fromStep` (D2's "Replay from this step"). */
function initialState(e: Execution, fromStep: string): ReplayFormState {
  const recorded = e.steps.some((s) => s.name === fromStep);
  return {
    fromChoice: fromStep === '' ? '' : recorded ? `${STEP_CHOICE}${fromStep}` : OTHER_STEP,
    otherStep: recorded ? '' : fromStep,
    inputText: jsonText(e.input),
    outputTexts: new Map(e.steps.map((s) => [s.position, jsonText(s.output)])),
    supplied: new Set(),
    force: false,
    reason: '',
  };
}

function stateFromForm(e: Execution, form: Form): ReplayFormState {
  const positions = new Set(e.steps.map((s) => s.position));
  return {
    fromChoice: formText(form, 'fromStep'),
    otherStep: formText(form, 'otherStep').trim(),
    inputText: formText(form, 'input'),
    // A disabled (not applicable) editor sends nothing: it keeps the recorded output.
    outputTexts: new Map(
      e.steps.map((s) => {
        const sent = form[outputField(s.position)];
        return [s.position, sent === undefined ? jsonText(s.output) : formText(form, outputField(s.position))];
      }),
    ),
    supplied: new Set(
      formList(form, 'supply')
        .map(Number)
        .filter((p) => positions.has(p)),
    ),
    force: formText(form, 'force') === '1',
    reason: formText(form, 'reason').trim(),
  };
}

/** The engine's options for the form's choices, and what is wrong with them before the engine is asked. */
function readChoices(e: Execution, state: ReplayFormState): ReplayChoices {
  const errors: FieldErrors = {};
  const options: ReplayOptions = {};
  if (state.fromChoice.startsWith(STEP_CHOICE)) options.fromStep = state.fromChoice.slice(STEP_CHOICE.length);
  else if (state.fromChoice === OTHER_STEP) {
    if (state.otherStep === '') addError(errors, 'fromStep', 'Name the step to start at.');
    else options.fromStep = state.otherStep;
  } else if (state.fromChoice !== '') addError(errors, 'fromStep', 'Choose where the replay starts.');

  let inputEdited = false;
  const input = parseJsonText(state.inputText);
  if (!input.ok) addError(errors, 'input', input.message);
  else if (input.value === undefined && e.input !== undefined) {
    addError(errors, 'input', 'The input is empty: write it as JSON (the original input was prefilled).');
  } else if (!sameJson(input.value, e.input)) {
    options.input = input.value;
    inputEdited = true;
  }

  const start = startPosition(e, state);
  const suppliedNames = new Set<string>();
  const stepOutputs: Record<string, unknown> = {};
  for (const s of e.steps) {
    if (!state.supplied.has(s.position)) continue;
    const field = outputField(s.position);
    const parsed = parseJsonText(state.outputTexts.get(s.position) ?? '');
    if (!parsed.ok) addError(errors, field, parsed.message);
    else if (parsed.value === undefined) addError(errors, field, 'Write the output as JSON (null for none).');
    else if (s.position >= start) {
      addError(
        errors,
        field,
        `Step ${s.name} runs in this replay: only steps before the one it starts at take an output.`,
      );
    } else {
      stepOutputs[s.name] = parsed.value;
      suppliedNames.add(s.name);
    }
  }
  if (suppliedNames.size > 0) options.stepOutputs = stepOutputs;
  if (state.force) options.force = true;
  return { options, errors, inputEdited, suppliedNames };
}

/** Maps the engine's field names to the form's. */
function fieldOf(e: Execution): (engineField: string) => string | undefined {
  return (engineField) => {
    if (engineField === 'input' || engineField === 'fromStep' || engineField === 'reason') return engineField;
    if (engineField.startsWith('stepOutputs.')) {
      const name = engineField.slice('stepOutputs.'.length);
      const step = e.steps.find((s) => s.name === name);
      return step ? outputField(step.position) : undefined;
    }
    return undefined;
  };
}

/** What a plan was made for: the choices that change what the replay does (not its reason). */
function digest(options: ReplayOptions): string {
  const outputs = Object.entries(options.stepOutputs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const material = JSON.stringify([
    options.fromStep ?? null,
    'input' in options,
    options.input,
    outputs,
    options.force === true,
  ]);
  return createHash('sha256').update(material).digest('base64url');
}
