/**
 * Replay batches:
 *   GET  /batches                         the list (read)
 *   GET  /batches/:id[?after=N]           one batch and a page of its items (read)
 *   GET  /live/batches/:id                its progress as server-sent events (read)
 *   POST /batches/:id/{pause,resume,cancel}  operate, audited with the key's name and the reason
 *
 * The live stream re-reads the batch when this engine reports progress or a replay ending, and
 * every two seconds besides: the batch may be driven by a worker in another process, whose
 * events never reach this one. It sends only what changed, and stops reading once the batch is
 * finished (the connection stays, so the browser does not reconnect to a batch that is done).
 */
import { renderToString } from 'preact-render-to-string';
import type { BatchView, Engine } from '../../../index.js';
import { type PageContext, pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { htmxTarget, sendFragment, sendPage } from '../render.js';
import { type EventStream, openEventStream } from '../sse.js';
import {
  BatchActions,
  BatchItems,
  BatchPage,
  type BatchPageProps,
  BatchProgress,
  batchIsLive,
} from '../views/batch.js';
import { BatchesPage } from '../views/batches.js';

type Form = Record<string, string | string[] | undefined>;

const LIST_LIMIT = 100;
const ITEMS_PAGE = 100;
/** How often the stream re-reads the batch without an event (other processes' workers). */
const POLL_MS = 2000;
/** Events closer together than this cost one read. */
const COALESCE_MS = 200;
const MAX_REASON = 500;

const ACTIONS = ['pause', 'resume', 'cancel'] as const;
type BatchAction = (typeof ACTIONS)[number];

export const batchesPage: DashboardPage = {
  nav: { label: 'Batches', href: '/batches' },
  async register(app, { engine, closing }) {
    app.get('/batches', async (request, reply) => {
      const batches = await engine.batches.list(LIST_LIMIT);
      return sendPage(reply, <BatchesPage ctx={pageContext(request)} batches={batches} limit={LIST_LIMIT} />);
    });

    app.get<{ Params: { id: string }; Querystring: { after?: string } }>('/batches/:id', async (request, reply) => {
      const props = await batchPageProps(engine, request.params.id, request.query.after);
      if (htmxTarget(request.headers) === 'batch-items') return sendFragment(reply, <BatchItems {...props} />);
      return sendPage(reply, <BatchPage ctx={pageContext(request)} {...props} />);
    });

    app.get<{ Params: { id: string } }>('/live/batches/:id', async (request, reply) => {
      const ctx = pageContext(request);
      const first = await engine.batches.get(request.params.id); // an unknown batch: 404, no stream
      const stream = openEventStream(reply, closing);
      streamBatch(engine, stream, ctx, first, (error) =>
        request.log.warn({ err: error }, 'reading a batch for its live page failed'),
      );
    });

    app.post<{ Params: { id: string; action: string } }>(
      '/batches/:id/:action',
      { config: { dashboard: { scope: 'operate' } } },
      async (request, reply) => {
        const action = request.params.action as BatchAction;
        if (!ACTIONS.includes(action)) return reply.callNotFound();
        const form = (request.body ?? {}) as Form;
        const raw = Array.isArray(form.reason) ? form.reason[0] : form.reason;
        const reason = raw?.trim().slice(0, MAX_REASON);
        await engine.batches[action](request.params.id, {
          actor: request.principal?.name ?? 'anonymous',
          ...(reason ? { reason } : {}),
        });
        return reply
          .code(303)
          .header('location', `/batches/${encodeURIComponent(request.params.id)}`)
          .send();
      },
    );
  },
};

async function batchPageProps(engine: Engine, id: string, afterParam: string | undefined): Promise<BatchPageProps> {
  const after = afterParam !== undefined && /^\d{1,9}$/.test(afterParam) ? Number(afterParam) : undefined;
  const batch = await engine.batches.get(id);
  // One more than shown says whether there is a next page.
  const items = await engine.batches.items(id, {
    limit: ITEMS_PAGE + 1,
    ...(after !== undefined ? { afterPosition: after } : {}),
  });
  const shown = items.slice(0, ITEMS_PAGE);
  return {
    batch,
    items: shown,
    after,
    nextAfter: items.length > ITEMS_PAGE ? shown.at(-1)?.position : undefined,
  };
}

/** Sends `progress` (and `state` when the status moves) until the batch is finished. */
function streamBatch(
  engine: Engine,
  stream: EventStream,
  ctx: PageContext,
  initial: BatchView,
  onError: (error: unknown) => void,
): void {
  const id = initial.id;
  // Empty at first: the page may have been rendered before the batch last moved.
  let lastProgress = '';
  let lastStatus: BatchView['status'] | undefined;
  let reading = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const read = async () => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const batch = await engine.batches.get(id);
        if (stream.closed) return;
        const progress = renderToString(<BatchProgress batch={batch} />);
        if (progress !== lastProgress) {
          lastProgress = progress;
          stream.send('progress', progress);
        }
        if (batch.status !== lastStatus) {
          lastStatus = batch.status;
          stream.send('state', renderToString(<BatchActions batch={batch} ctx={ctx} />) || ' ');
        }
        if (!batchIsLive(batch)) stop();
      } while (again && !stream.closed);
    } catch (error) {
      onError(error);
    } finally {
      reading = false;
    }
  };
  const poke = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      void read();
    }, COALESCE_MS);
  };
  const unsubscribe = [
    engine.on('batch:progress', (e) => e.batchId === id && poke()),
    engine.on('batch:completed', (e) => e.batchId === id && poke()),
    // A replay ending moves the counts; the event does not say its batch, the read does.
    engine.on('execution:succeeded', poke),
    engine.on('execution:failed', poke),
    engine.on('execution:cancelled', poke),
  ];
  const poll = setInterval(() => void read(), POLL_MS);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(poll);
    clearTimeout(timer);
    for (const off of unsubscribe) off();
  };
  stream.onClose(stop);
  void read();
}
