// Reading ARM's failures, whatever shape they arrive in: ARM's `{error: {code, message,
// details}}` envelope, a bare error object, an empty body, an HTML page from a gateway, or no
// answer at all (a dropped connection).
import type { PathUncheckedResponse } from '@azure-rest/core-client';
import { headersOf, type HeaderSource } from '../backoff.ts';
import { ActionError } from '../errors.ts';
import { clip } from '../text.ts';
import { isErrorCode, shown } from './answers.ts';

export interface ArmErrorDetail {
  code?: string;
  target?: string;
  message?: string;
}

export interface ArmFailure {
  statusCode?: number;
  code?: string;
  message: string;
  details: ArmErrorDetail[];
  /** No HTTP answer: the connection failed, dropped or timed out. */
  network: boolean;
  headers?: HeaderSource;
}

/** An ARM answer with a status the caller did not expect. */
export class ArmRequestError extends Error {
  readonly failure: ArmFailure;

  constructor(failure: ArmFailure) {
    super(failure.message);
    this.name = 'ArmRequestError';
    this.failure = failure;
  }
}

interface ErrorBody {
  code?: unknown;
  message?: unknown;
  details?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? clip(v, 1000) : undefined);

/** A code the action may act on: an identifier, or nothing (and the message says what came instead). */
function codeOf(v: unknown): { code?: string; note: string } {
  if (v === undefined || v === null || v === '') return { note: '' };
  if (typeof v === 'string' && isErrorCode(v)) return { code: v, note: '' };
  return { note: `(Azure sent an invalid error code ${shown(v)}) ` };
}

function detailsOf(value: unknown): ArmErrorDetail[] {
  if (!Array.isArray(value)) return [];
  return value.map((d: ErrorBody & { target?: unknown }) => {
    const { code } = codeOf(d?.code);
    const target = str(d?.target);
    const message = str(d?.message);
    return { ...(code ? { code } : {}), ...(target ? { target } : {}), ...(message ? { message } : {}) };
  });
}

/** What a response body says about the failure, whatever the body is. */
export function failureFromBody(status: number | undefined, body: unknown, headers?: HeaderSource): ArmFailure {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = body.trim() ? JSON.parse(body) : undefined;
    } catch {
      parsed = body;
    }
  }
  const base = { ...(status !== undefined ? { statusCode: status } : {}), network: false, ...(headers ? { headers } : {}) };
  if (parsed && typeof parsed === 'object') {
    const e = ((parsed as { error?: ErrorBody }).error ?? parsed) as ErrorBody;
    const { code, note } = codeOf(e.code);
    const message = `${note}${str(e.message) ?? 'the answer named no error'}`;
    return { ...base, ...(code ? { code } : {}), message, details: detailsOf(e.details) };
  }
  if (typeof parsed === 'string' && parsed.trim()) {
    const title = /<title>([^<]*)<\/title>/i.exec(parsed)?.[1]?.trim();
    const html = /^\s*</.test(parsed);
    const message = html ? `the answer was an HTML page${title ? ` (${clip(title, 100)})` : ''}, not an ARM error` : clip(parsed.trim(), 200);
    return { ...base, message, details: [] };
  }
  return { ...base, message: 'the answer had an empty body', details: [] };
}

export function failureFromResponse(response: PathUncheckedResponse): ArmFailure {
  return failureFromBody(Number(response.status), response.body, headersOf(response));
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'REQUEST_SEND_ERROR']);

/** Any error from the ARM layer → one shape. */
export function armFailure(error: unknown): ArmFailure {
  if (error instanceof ArmRequestError) return error.failure;
  // The action's own verdict (an answer it refused): no status, not a network failure.
  if (error instanceof ActionError) return { message: error.message, details: [], network: false };
  const e = error as { statusCode?: number; code?: string; message?: string; response?: { bodyAsText?: string; status?: number } } | undefined;
  if (typeof e?.statusCode === 'number') {
    const fromBody = failureFromBody(e.statusCode, e.response?.bodyAsText, headersOf(error));
    return { ...fromBody, ...(fromBody.code ?? e.code ? { code: fromBody.code ?? e.code } : {}) };
  }
  const message = clip(e?.message ?? String(error), 300);
  const network = NETWORK_CODES.has(e?.code ?? '') || /socket hang up|ECONNRESET|ECONNREFUSED|network|connection/i.test(message);
  return { ...(e?.code ? { code: e.code } : {}), message, details: [], network };
}

/** ARM's details in one line: which throttling quota, which identity, which policy. */
export function describeDetails(details: ArmErrorDetail[]): string {
  return details
    .map((d) => [d.code, d.target, d.message].filter(Boolean).map((s) => clip(s as string, 200)).join(' '))
    .filter(Boolean)
    .join('; ');
}
