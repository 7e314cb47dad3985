/**
 * Server-sent events for live pages. A page opens one stream (htmx's SSE extension:
 * `hx-ext="sse" sse-connect="/live/…"`), and elements in it refresh on a named event
 * (`hx-trigger="sse:changed"`) or swap the event's HTML in (`sse-swap="progress"`).
 *
 * `openEventStream` takes over the response (hijacked from Fastify, so its headers are written
 * here), sends a comment every 20 s so proxies keep it open, and ends it when the browser goes
 * away or the server begins to close (so `close()` is not held by open streams).
 * `engineChanges` turns engine events into at most one message per interval: a burst of a
 * thousand failures costs each open page one refresh.
 */
import type { FastifyReply } from 'fastify';
import type { Engine, EngineEventName, EngineEvents } from '../../index.js';
import { SECURITY_HEADERS } from './security-headers.js';

export interface EventStream {
  /**
   * Sends one event; `data` may span lines (each becomes a `data:` line). Without data the event's
   * name is sent as its data: a browser drops an event whose data is empty.
   */
  send(event: string, data?: string): void;
  /** Runs when the stream ends, whoever ended it. */
  onClose(listener: () => void): void;
  close(): void;
  readonly closed: boolean;
}

const HEARTBEAT_MS = 20_000;
/** How long the browser waits before reconnecting a dropped stream. */
const RETRY_MS = 3000;

export function openEventStream(reply: FastifyReply, closing: AbortSignal): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${RETRY_MS}\n: connected\n\n`);
  const listeners: (() => void)[] = [];
  let closed = false;
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  const end = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    closing.removeEventListener('abort', end);
    res.end();
    for (const listener of listeners.splice(0)) listener();
  };
  closing.addEventListener('abort', end);
  // The response closes when the browser goes away (or the connection drops).
  res.on('close', end);
  if (closing.aborted) end();
  return {
    send(event, data = event) {
      if (closed) return;
      const lines = data.split('\n').map((line) => `data: ${line}`);
      res.write(`event: ${event}\n${lines.join('\n')}\n\n`);
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
    close: end,
    get closed() {
      return closed;
    },
  };
}

export interface EngineChangesOptions<K extends EngineEventName> {
  events: readonly K[];
  /** Whether an event concerns this stream's page (e.g. its flow filter); all do by default. */
  matches?: (event: K, payload: EngineEvents[K]) => boolean;
  /** The event name sent. @default 'changed' */
  eventName?: string;
  /** At most one message per this many milliseconds (the first goes after this delay too). @default 1000 */
  intervalMs?: number;
}

/** Sends `changed` on `stream` when the engine reports matching events, coalesced. */
export function engineChanges<K extends EngineEventName>(
  engine: Engine,
  stream: EventStream,
  options: EngineChangesOptions<K>,
): void {
  const interval = options.intervalMs ?? 1000;
  const name = options.eventName ?? 'changed';
  let timer: NodeJS.Timeout | undefined;
  const poke = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      stream.send(name);
    }, interval);
  };
  const unsubscribe = options.events.map((event) =>
    engine.on(event, (payload) => {
      if (!options.matches || options.matches(event, payload)) poke();
    }),
  );
  stream.onClose(() => {
    clearTimeout(timer);
    for (const off of unsubscribe) off();
  });
}
