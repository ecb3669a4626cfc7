// One route table per service: each entry names its route (method folded in where the name
// needs it), its path pattern with named groups, and its handler. A match yields all three,
// so a path is matched exactly once.
import type { Exchange } from './http.ts';

export type Params = Record<string, string>;
export type Handler<C> = (x: Exchange, params: Params, ctx: C) => Promise<void>;

export interface Route<C> {
  /** The route's name; `{method}` is replaced by the lower-case method. */
  name: string;
  pattern: RegExp;
  handler: Handler<C>;
}

export interface Match<C> {
  name: string;
  params: Params;
  handler: Handler<C>;
}

export class Router<C> {
  private readonly routes: Route<C>[];

  constructor(routes: Route<C>[]) {
    this.routes = routes;
  }

  match(method: string, path: string): Match<C> | undefined {
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Params = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) params[k] = decodeURIComponent(v);
      return { name: route.name.replace('{method}', method.toLowerCase()), params, handler: route.handler };
    }
    return undefined;
  }
}

/** A path pattern from a template: `{name}` is one segment, `{name*}` anything (a scope). */
export function path(template: string, suffix = '$'): RegExp {
  const escaped = template.replace(/[.]/g, '\\.');
  const body = escaped.replace(/\{(\w+)\*\}/g, '(?<$1>.*?)').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${body}${suffix}`, 'i');
}
