/**
 * Stateless sessions: a cookie holds `{ key id, expiry, nonce }` signed with the server's secret
 * (HMAC-SHA256), so no session table is needed and any replica with the same secret accepts it.
 * The key itself is looked up again on every request (session-hook.ts): revoking it logs out.
 *
 * Two cookies, both HttpOnly and SameSite=Strict:
 * - `retrace_session`: a login (with the key id), set by POST /login, cleared by logout;
 * - `retrace_anon`: a nonce only, set on the first page seen, so that forms shown before a login
 *   (the login form itself; every form when the server runs without keys) still carry a CSRF
 *   token bound to this browser. Keeping it apart means a page that sets it never overwrites a
 *   login.
 *
 * CSRF tokens are HMACs of the current session's nonce: nothing to store, and a token from
 * another browser (another nonce) or another server secret does not match.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'retrace_session';
export const ANON_COOKIE = 'retrace_anon';

export interface SessionData {
  /** The API key's id; absent in the anonymous (pre-login) session. */
  k?: string;
  /** Expiry, epoch ms. */
  e: number;
  /** Random, per session: what CSRF tokens are bound to. */
  n: string;
}

export class SessionSigner {
  readonly #secret: Buffer;

  constructor(secret: Buffer) {
    this.#secret = secret;
  }

  newSession(now: number, maxAgeMs: number, keyId?: string): SessionData {
    return {
      ...(keyId !== undefined ? { k: keyId } : {}),
      e: now + maxAgeMs,
      n: randomBytes(16).toString('base64url'),
    };
  }

  sign(data: SessionData): string {
    const payload = Buffer.from(JSON.stringify(data), 'utf8').toString('base64url');
    return `${payload}.${this.#mac('session', payload)}`;
  }

  /** The session a cookie holds, or undefined when it is malformed, forged or expired. */
  verify(value: string | undefined, now: number): SessionData | undefined {
    if (value === undefined || value.length > 1000) return undefined;
    const dot = value.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = value.slice(0, dot);
    if (!sameText(value.slice(dot + 1), this.#mac('session', payload))) return undefined;
    try {
      const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SessionData;
      if (typeof data.e !== 'number' || typeof data.n !== 'string' || data.e <= now) return undefined;
      if (data.k !== undefined && typeof data.k !== 'string') return undefined;
      return data;
    } catch {
      return undefined;
    }
  }

  csrfToken(session: SessionData): string {
    return this.#mac('csrf', session.n);
  }

  checkCsrf(session: SessionData, token: unknown): boolean {
    return typeof token === 'string' && sameText(token, this.csrfToken(session));
  }

  #mac(purpose: string, text: string): string {
    return createHmac('sha256', this.#secret).update(`${purpose}|${text}`).digest('base64url');
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The request's cookies by name (the first of a repeated name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** A Set-Cookie value; `maxAgeMs: 0` deletes the cookie. */
export function cookie(name: string, value: string, options: { maxAgeMs: number; secure: boolean }): string {
  const parts = [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.floor(options.maxAgeMs / 1000)}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
