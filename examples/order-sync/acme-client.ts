/**
 * The integration's view of Acme: the wire types and a small HTTP client for the shop and the
 * ERP. Transport failures become typed errors whose `name` the flow declares (`AcmeUnavailable:
 * 'retry'`), because Retrace classifies errors by name, not by class: a failure read back from
 * the store must be classified the same way as the live one.
 */

/** An order as the Acme shop sends it: prices are decimal strings, as many shop APIs do. */
export interface AcmeOrder {
  id: string;
  createdAt: string;
  customer: { name: string; email: string };
  currency: string;
  shippingCountry: string;
  lines: { sku: string; title: string; quantity: number; price: string }[];
  /** The ERP record this order was exported to, once it has been. */
  exportedTo: string | null;
}

/** What the ERP accepts: integer cents, its own field names, and our order id as `ref`. */
export interface ErpOrder {
  ref: string;
  customer: { name: string; email: string };
  currency: string;
  lines: { item: string; description: string; quantity: number; unitPriceCents: number }[];
  totalCents: number;
}

export interface ErpRecord extends ErpOrder {
  erpId: string;
  createdAt: string;
}

/** Acme did not answer usefully (down, overloaded, connection dropped): worth another attempt. */
export class AcmeUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AcmeUnavailable';
  }
}

/** The order id names no order in Acme: no retry will make it appear. */
export class OrderNotFound extends Error {
  constructor(orderId: string) {
    super(`Acme has no order ${orderId}`);
    this.name = 'OrderNotFound';
  }
}

/** Any other unexpected answer; undeclared, so it follows the engine's default policy. */
export class AcmeHttpError extends Error {
  readonly status: number;
  constructor(what: string, status: number, body: string) {
    super(`${what}: unexpected HTTP ${status}${body ? ` ${body.slice(0, 200)}` : ''}`);
    this.name = 'AcmeHttpError';
    this.status = status;
  }
}

export interface AcmeClient {
  readonly baseUrl: string;
  fetchOrder(orderId: string, signal?: AbortSignal): Promise<AcmeOrder>;
  /** Not idempotent: every call creates another ERP record. */
  createErpOrder(order: ErpOrder, signal?: AbortSignal): Promise<{ erpId: string }>;
  findErpOrders(ref: string, signal?: AbortSignal): Promise<ErpRecord[]>;
  markExported(orderId: string, erpId: string, signal?: AbortSignal): Promise<AcmeOrder>;
}

export function acmeClient(baseUrl: string): AcmeClient {
  const url = (path: string) => new URL(path, baseUrl).toString();
  return {
    baseUrl,
    async fetchOrder(orderId, signal) {
      const res = await call('Acme shop GET order', url(`/orders/${encodeURIComponent(orderId)}`), {}, signal);
      if (res.status === 404) {
        await res.body?.cancel();
        throw new OrderNotFound(orderId);
      }
      return (await expectOk('Acme shop GET order', res)) as AcmeOrder;
    },
    async createErpOrder(order, signal) {
      const res = await call('ERP POST order', url('/erp/orders'), json('POST', order), signal);
      return (await expectOk('ERP POST order', res)) as { erpId: string };
    },
    async findErpOrders(ref, signal) {
      const res = await call('ERP GET orders', url(`/erp/orders?ref=${encodeURIComponent(ref)}`), {}, signal);
      return ((await expectOk('ERP GET orders', res)) as { records: ErpRecord[] }).records;
    },
    async markExported(orderId, erpId, signal) {
      const path = `/orders/${encodeURIComponent(orderId)}/export`;
      const res = await call('Acme shop POST export', url(path), json('POST', { erpId }), signal);
      return (await expectOk('Acme shop POST export', res)) as AcmeOrder;
    },
  };
}

function json(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

async function call(what: string, target: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(target, { ...init, ...(signal ? { signal } : {}) });
  } catch (err) {
    // An abort is the engine's (timeout or stop): let it through as it is.
    if (signal?.aborted) throw err;
    throw new AcmeUnavailable(`${what}: no response (${describeNetworkError(err)})`, { cause: err });
  }
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    await res.body?.cancel();
    throw new AcmeUnavailable(`${what}: HTTP ${res.status} ${res.statusText}`);
  }
  return res;
}

async function expectOk(what: string, res: Response): Promise<unknown> {
  if (res.ok) return res.json();
  throw new AcmeHttpError(what, res.status, await res.text());
}

/** fetch reports every network failure as "fetch failed"; the useful part is in `cause`. */
function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.message ?? cause?.code ?? (err as Error)?.message ?? String(err);
}
