/**
 * Pages are Preact components rendered to HTML strings on the server (preact-render-to-string):
 * text and attribute values are escaped by default, and nothing here uses
 * `dangerouslySetInnerHTML`. No component state or effects run: a view is a function of its props.
 */
import type { FastifyReply } from 'fastify';
import type { JSX } from 'preact';
import { renderToString } from 'preact-render-to-string';

/** Answers a whole page (`<!doctype html>` and the node, normally a `<Layout>`). */
export function sendPage(reply: FastifyReply, page: JSX.Element, status = 200): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${renderToString(page)}`);
}

/** Answers a fragment for an htmx swap (no doctype, no layout). */
export function sendFragment(reply: FastifyReply, fragment: JSX.Element, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(renderToString(fragment));
}

/** The element an htmx request will swap (its `HX-Target` id), or undefined for a full page load. */
export function htmxTarget(headers: Record<string, string | string[] | undefined>): string | undefined {
  if (headers['hx-request'] !== 'true' || headers['hx-history-restore-request'] === 'true') return undefined;
  const target = headers['hx-target'];
  return typeof target === 'string' && target !== '' ? target : undefined;
}
