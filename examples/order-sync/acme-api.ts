/**
 * A fake Acme: the shop (where orders come from) and the ERP (where they must go), served over
 * real HTTP on 127.0.0.1 with an ephemeral port, so the demo exercises real sockets, status
 * codes and dropped connections rather than mocked functions. Everything lives in memory.
 *
 *   GET  /orders/:id          the order, or 404
 *   POST /orders/:id/export   { erpId }: marks the order exported (idempotent)
 *   POST /erp/orders          creates an ERP record and answers 201 { erpId }: NOT idempotent,
 *                             a second POST of the same order creates a duplicate
 *   GET  /erp/orders?ref=     { records: [...] }: the ERP records made for an order id
 *
 * Switches: `goDown()` answers every request with 503 until `comeBack()`; `loseNextErpReply()`
 * lets the next ERP POST create its record and then drops the connection before the answer,
 * as a proxy timing out or a network blip would. `setLineQuantity()` is Acme's support desk
 * correcting an order in the shop, so that a replay fetches the fixed order.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AcmeOrder, ErpOrder, ErpRecord } from './acme-client.js';

export interface AcmeApi {
  /** Base URL, e.g. http://127.0.0.1:43117 */
  readonly url: string;
  readonly isDown: boolean;
  /** From now on every request is answered 503 Service Unavailable. */
  goDown(): void;
  comeBack(): void;
  /** The next POST /erp/orders creates its record, then the connection is dropped unanswered. */
  loseNextErpReply(): void;
  /** Corrects the quantity of an order's line in the shop, as Acme's support would. */
  setLineQuantity(orderId: string, sku: string, quantity: number): void;
  order(id: string): AcmeOrder | undefined;
  erpRecords(ref?: string): ErpRecord[];
  /** Requests seen, and how many of them were refused while down. */
  readonly stats: { requests: number; refused: number; erpCreates: number };
  close(): Promise<void>;
}

/** The shop's orders at the start of the demo. A-1003 carries a line with quantity 0. */
export function seedOrders(): AcmeOrder[] {
  const order = (id: string, name: string, email: string, lines: AcmeOrder['lines']): AcmeOrder => ({
    id,
    createdAt: `2026-11-23T08:0${id.slice(-1)}:00Z`,
    customer: { name, email },
    currency: 'EUR',
    shippingCountry: 'NL',
    lines,
    exportedTo: null,
  });
  return [
    order('A-1001', 'Ada Lovelace', 'ada@example.org', [
      { sku: 'TEA-EARL-250', title: 'Earl Grey, 250 g', quantity: 2, price: '7.50' },
      { sku: 'MUG-WHT', title: 'Mug, white', quantity: 1, price: '12.00' },
    ]),
    order('A-1002', 'Grace Hopper', 'grace@example.org', [
      { sku: 'COF-ESP-1K', title: 'Espresso beans, 1 kg', quantity: 1, price: '24.90' },
    ]),
    order('A-1003', 'Alan Turing', 'alan@example.org', [
      { sku: 'TEA-GRN-100', title: 'Sencha, 100 g', quantity: 3, price: '6.20' },
      { sku: 'MUG-BLK', title: 'Mug, black', quantity: 0, price: '12.00' },
    ]),
    order('A-1004', 'Katherine Johnson', 'katherine@example.org', [
      { sku: 'KETTLE-1L', title: 'Kettle, 1 l', quantity: 1, price: '39.00' },
      { sku: 'TEA-EARL-250', title: 'Earl Grey, 250 g', quantity: 1, price: '7.50' },
    ]),
  ];
}

export async function startAcmeApi(orders: AcmeOrder[] = seedOrders()): Promise<AcmeApi> {
  const shop = new Map(orders.map((o) => [o.id, structuredClone(o)]));
  const erp: ErpRecord[] = [];
  let nextErpId = 50001;
  let down = false;
  let loseNextErpReply = false;
  const stats = { requests: 0, refused: 0, erpCreates: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    if (down) {
      stats.refused++;
      return send(res, 503, { error: 'Service Unavailable', message: 'Acme is down for maintenance' });
    }
    const url = new URL(req.url ?? '/', 'http://acme.invalid');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);

    if (parts[0] === 'orders' && parts.length === 2 && req.method === 'GET') {
      const order = shop.get(parts[1]!);
      return order ? send(res, 200, order) : send(res, 404, { error: `No order ${parts[1]}` });
    }
    if (parts[0] === 'orders' && parts.length === 3 && parts[2] === 'export' && req.method === 'POST') {
      const order = shop.get(parts[1]!);
      if (!order) return send(res, 404, { error: `No order ${parts[1]}` });
      const body = (await readJson(req)) as { erpId?: unknown };
      if (typeof body?.erpId !== 'string') return send(res, 400, { error: 'erpId (string) is required' });
      order.exportedTo = body.erpId;
      return send(res, 200, order);
    }
    if (url.pathname === '/erp/orders' && req.method === 'POST') {
      const body = (await readJson(req)) as ErpOrder;
      if (typeof body?.ref !== 'string' || !Array.isArray(body.lines)) {
        return send(res, 400, { error: 'ref and lines are required' });
      }
      const record: ErpRecord = { ...body, erpId: `SO-${nextErpId++}`, createdAt: new Date().toISOString() };
      erp.push(record);
      stats.erpCreates++;
      if (loseNextErpReply) {
        loseNextErpReply = false;
        // The record exists, but the caller never hears about it.
        req.socket.destroy();
        return;
      }
      return send(res, 201, { erpId: record.erpId });
    }
    if (url.pathname === '/erp/orders' && req.method === 'GET') {
      const ref = url.searchParams.get('ref');
      return send(res, 200, { records: ref === null ? erp : erp.filter((r) => r.ref === ref) });
    }
    return send(res, 404, { error: `No route ${req.method} ${url.pathname}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) send(res, 400, { error: (err as Error).message });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get isDown() {
      return down;
    },
    goDown() {
      down = true;
    },
    comeBack() {
      down = false;
    },
    loseNextErpReply() {
      loseNextErpReply = true;
    },
    setLineQuantity(orderId, sku, quantity) {
      const line = shop.get(orderId)?.lines.find((l) => l.sku === sku);
      if (!line) throw new Error(`Acme has no line ${sku} on order ${orderId}`);
      line.quantity = quantity;
    },
    order: (id) => {
      const order = shop.get(id);
      return order ? structuredClone(order) : undefined;
    },
    erpRecords: (ref) => structuredClone(ref === undefined ? erp : erp.filter((r) => r.ref === ref)),
    stats,
    async close() {
      // fetch keeps connections alive; close them so the process can exit.
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) throw new Error('Request body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error('Request body is not valid JSON');
  }
}
