/**
 * The JSON viewer for every payload (inputs, outputs, step outputs, errors, log data):
 * collapsible (native <details>, so it works with the keyboard and without scripts), its size
 * in bytes, "Copy" (assets/json-viewer.js fetches the raw JSON and puts it on the clipboard)
 * and "Download" (the raw JSON, byte for byte what the store holds).
 *
 * A payload is never cut. Small subtrees come with the page; a big one (an object over
 * INLINE_SUBTREE_BYTES, a string over INLINE_STRING_CHARS) is fetched from the server when its
 * <details> is opened (htmx, `toggle once`), and a long list of children arrives a chunk at a
 * time ("Show more"). The routes answering those requests are in routes/execution-payloads.tsx.
 */
import type { ComponentChildren } from 'preact';
import {
  CHILDREN_PER_CHUNK,
  childCount,
  childrenChunk,
  formatBytes,
  INLINE_SUBTREE_BYTES,
  isContainer,
  type JsonChild,
  type JsonContainer,
  jsonBytes,
  loadsLazily,
} from './json-viewer-tree.js';

/** Where the server can find a payload again: an execution and the payload's name in it. */
export interface PayloadSource {
  executionId: string;
  /** As payloadRefs (routes/execution-payloads.tsx) names them: `input`, `step-2-output`, … */
  ref: string;
}

export function payloadUrl(source: PayloadSource): string {
  return `/executions/${encodeURIComponent(source.executionId)}/payloads/${encodeURIComponent(source.ref)}`;
}

export function downloadUrl(source: PayloadSource): string {
  return `${payloadUrl(source)}/download`;
}

function nodeUrl(base: string, path: string, from?: number): string {
  const query = new URLSearchParams({ path });
  if (from !== undefined) query.set('from', String(from));
  return `${base}/node?${query}`;
}

export interface JsonViewerProps {
  /** What the payload is ("Input", "Output of step push-to-erp"): the group's accessible name. */
  label: string;
  value: unknown;
  source: PayloadSource;
}

/** A payload with its toolbar; `value` undefined (no payload) shows "None". */
export function JsonViewer({ label, value, source }: JsonViewerProps) {
  if (value === undefined) {
    return (
      <p class="muted json-none">
        None<span class="visually-hidden"> ({label})</span>
      </p>
    );
  }
  const bytes = jsonBytes(value);
  const base = payloadUrl(source);
  // A small payload opens two levels deep; a big one shows its first level only.
  const openDepth = bytes <= INLINE_SUBTREE_BYTES ? 2 : 1;
  return (
    <figure class="json-viewer" aria-label={label}>
      <div class="json-toolbar">
        <span class="json-size">{formatBytes(bytes)}</span>
        <button type="button" class="button-quiet json-copy" data-copy-url={downloadUrl(source)}>
          Copy
        </button>
        <a class="button button-quiet" href={downloadUrl(source)} download>
          Download
        </a>
        <span class="json-status" role="status" />
      </div>
      <div class="json-tree">
        {typeof value === 'string' && loadsLazily(value) ? (
          <LazyNode url={nodeUrl(base, '')}>
            <summary>
              <StringMeta value={value} />
            </summary>
          </LazyNode>
        ) : isContainer(value) && childCount(value) > 0 ? (
          <details open class="json-node">
            <summary>
              <ContainerMeta value={value} />
            </summary>
            <JsonChildren value={value} path="" base={base} depth={1} openDepth={openDepth} />
          </details>
        ) : (
          <JsonScalar value={value} />
        )}
      </div>
    </figure>
  );
}

interface ChildrenProps {
  value: JsonContainer;
  path: string;
  /** The payload's URL (payloadUrl), for lazy parts. */
  base: string;
  /** How deep these children are (the root's are at 1). */
  depth: number;
  /** Containers shallower than this render open. */
  openDepth: number;
}

/** The first chunk of a container's children, as a list (with "Show more" when there are more). */
export function JsonChildren(props: ChildrenProps) {
  return (
    <ul class="json-list">
      <JsonChildItems {...props} from={0} />
    </ul>
  );
}

/** The list items of one chunk (from `from`), and the "Show more" item that loads the next. */
export function JsonChildItems(props: ChildrenProps & { from: number }) {
  const { value, path, base, from } = props;
  const total = childCount(value);
  const next = from + CHILDREN_PER_CHUNK;
  const noun = Array.isArray(value) ? 'items' : 'keys';
  return (
    <>
      {childrenChunk(value, path, from).map((child) => (
        <JsonEntry
          child={child}
          base={base}
          depth={props.depth}
          openDepth={props.openDepth}
          array={Array.isArray(value)}
        />
      ))}
      {next < total && (
        <li class="json-more">
          <button
            type="button"
            class="button-quiet"
            hx-get={nodeUrl(base, path, next)}
            hx-trigger="click"
            hx-target="closest li"
            hx-swap="outerHTML"
          >
            Show {Math.min(CHILDREN_PER_CHUNK, total - next)} more {noun} ({(next + 1).toLocaleString('en-US')}–
            {Math.min(total, next + CHILDREN_PER_CHUNK).toLocaleString('en-US')} of {total.toLocaleString('en-US')})
          </button>
        </li>
      )}
    </>
  );
}

function JsonEntry(props: { child: JsonChild; base: string; depth: number; openDepth: number; array: boolean }) {
  const { child, base, depth, openDepth } = props;
  const { value, path } = child;
  const key = <span class="json-key">{props.array ? child.key : JSON.stringify(child.key)}</span>;
  const expandable = typeof value === 'string' ? loadsLazily(value) : isContainer(value) && childCount(value) > 0;
  if (!expandable) {
    return (
      <li>
        {key}
        <span class="json-punct">: </span>
        <JsonScalar value={value} />
      </li>
    );
  }
  const summary = (
    <summary>
      {key}
      <span class="json-punct">: </span>
      {typeof value === 'string' ? <StringMeta value={value} /> : <ContainerMeta value={value as JsonContainer} />}
    </summary>
  );
  if (loadsLazily(value)) {
    return (
      <li>
        <LazyNode url={nodeUrl(base, path)}>{summary}</LazyNode>
      </li>
    );
  }
  return (
    <li>
      <details class="json-node" open={depth < openDepth}>
        {summary}
        <div class="json-body">
          <JsonChildren
            value={value as JsonContainer}
            path={path}
            base={base}
            depth={depth + 1}
            openDepth={openDepth}
          />
        </div>
      </details>
    </li>
  );
}

/** A node whose body is fetched the first time it is opened. */
function LazyNode(props: { url: string; children: ComponentChildren }) {
  return (
    <details
      class="json-node"
      hx-get={props.url}
      hx-trigger="toggle once"
      hx-target="find .json-body"
      hx-swap="innerHTML"
    >
      {props.children}
      <div class="json-body">
        <span class="muted">Loading…</span>
      </div>
    </details>
  );
}

/** The body of one node, as fetched when it is opened: its first chunk of children, or the whole string. */
export function JsonNodeBody(props: { value: unknown; path: string; base: string }) {
  const { value } = props;
  if (isContainer(value) && childCount(value) > 0) {
    return <JsonChildren value={value} path={props.path} base={props.base} depth={1} openDepth={0} />;
  }
  return <JsonScalar value={value} />;
}

function ContainerMeta({ value }: { value: JsonContainer }) {
  const count = childCount(value);
  const what = Array.isArray(value) ? (count === 1 ? 'item' : 'items') : count === 1 ? 'key' : 'keys';
  return (
    <span class="json-meta">
      {Array.isArray(value) ? '[…]' : '{…}'} {count.toLocaleString('en-US')} {what} · {formatBytes(jsonBytes(value))}
    </span>
  );
}

function StringMeta({ value }: { value: string }) {
  return (
    <span class="json-meta">
      string, {value.length.toLocaleString('en-US')} characters · {formatBytes(jsonBytes(value))}
    </span>
  );
}

export function JsonScalar({ value }: { value: unknown }) {
  if (typeof value === 'string') return <span class="json-string">{JSON.stringify(value)}</span>;
  if (typeof value === 'number') return <span class="json-number">{JSON.stringify(value)}</span>;
  if (typeof value === 'boolean') return <span class="json-boolean">{String(value)}</span>;
  if (value === null) return <span class="json-null">null</span>;
  // An empty object or array.
  return <span class="json-punct">{Array.isArray(value) ? '[]' : '{}'}</span>;
}
