/** URL helpers shared by routes and views. */

/**
 * `target` if it is a path on this server, else `/`: what a redirect after login (or a refresh)
 * may go to. `//host` and `/\host` are other sites to a browser, so they are refused.
 */
export function localPath(target: unknown): string {
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) {
    return '/';
  }
  return /[\r\n]/.test(target) ? '/' : target;
}

/** `path?query` with the empty values left out, so URLs stay short and readable. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(name, value);
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}
