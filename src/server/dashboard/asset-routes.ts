/**
 * The dashboard's static files, all from this package: htmx and its SSE extension resolved from
 * node_modules at run time (the package depends on them rather than copying them in), and our
 * own small script and stylesheet from ./assets/ (copied beside the compiled code by
 * scripts/build.mjs). Each is read once at start-up and served from memory under a URL with its
 * content hash, so browsers may cache it for ever.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { AssetUrls } from './context.js';

interface Asset {
  body: Buffer;
  type: string;
  hash: string;
}

const require = createRequire(import.meta.url);

/** Served name → file. Scripts load in this order (htmx before its extension, ours last). */
const FILES: readonly { name: string; path: () => string; script?: true }[] = [
  { name: 'htmx.min.js', path: () => require.resolve('htmx.org/dist/htmx.min.js'), script: true },
  { name: 'htmx-sse.min.js', path: () => require.resolve('htmx-ext-sse/dist/sse.min.js'), script: true },
  { name: 'dashboard.js', path: () => fileURLToPath(new URL('./assets/dashboard.js', import.meta.url)), script: true },
  {
    name: 'json-viewer.js',
    path: () => fileURLToPath(new URL('./assets/json-viewer.js', import.meta.url)),
    script: true,
  },
  {
    name: 'payload-editor.js',
    path: () => fileURLToPath(new URL('./assets/payload-editor.js', import.meta.url)),
    script: true,
  },
  { name: 'dashboard.css', path: () => fileURLToPath(new URL('./assets/dashboard.css', import.meta.url)) },
];

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

export function loadAssets(): { assets: Map<string, Asset>; urls: AssetUrls } {
  const assets = new Map<string, Asset>();
  for (const file of FILES) {
    const body = readFileSync(file.path());
    const type = TYPES[file.name.slice(file.name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
    assets.set(file.name, { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) });
  }
  const url = (name: string) => `/assets/${name}?v=${assets.get(name)!.hash}`;
  return {
    assets,
    urls: { css: url('dashboard.css'), scripts: FILES.filter((f) => f.script).map((f) => url(f.name)) },
  };
}

export function registerAssetRoutes(app: FastifyInstance, assets: Map<string, Asset>): void {
  app.get<{ Params: { name: string }; Querystring: { v?: string } }>(
    '/assets/:name',
    { config: { dashboard: { asset: true, public: true } } },
    async (request, reply) => {
      const asset = assets.get(request.params.name);
      if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('No such asset');
      const current = request.query.v === asset.hash;
      return reply
        .type(asset.type)
        .header('etag', `"${asset.hash}"`)
        .header('cache-control', current ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(asset.body);
    },
  );
}
