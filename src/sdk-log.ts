// The Azure SDK's log (AZURE_LOG_LEVEL, or RUNNER_DEBUG) reaches stderr only through the writer,
// which redacts every token the run has seen and neutralises workflow commands. Its arguments
// are never serialised here: a string or number is kept, an Error keeps its message, any other
// object is named by its constructor (an agent, a socket or a headers object prints no content).
// MSAL's log reaches this logger through @azure/identity, and @typespec/ts-http-runtime's own
// logger stays off (src/environment.ts removes TYPESPEC_RUNTIME_LOG_LEVEL and DEBUG).
import { AzureLogger, getLogLevel, setLogLevel } from '@azure/logger';
import { redact, stderrLine } from './writer.ts';

/** One log line at most this long, counted after redaction (a line is one request at most). */
export const SDK_LINE_LIMIT = 16_384;

/** What the log shows for one argument: never the content of an object. */
export function describeArgument(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  if (value instanceof Error) return value.message;
  if (typeof value === 'function') return '[Function]';
  if (typeof value === 'symbol') return '[Symbol]';
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return `[${typeof name === 'string' && name ? name : 'Object'}]`;
}

/** util.format's placeholders, each filled with describeArgument; arguments left over follow with a space. */
export function formatArguments(args: readonly unknown[]): string {
  const [first, ...rest] = args;
  if (typeof first !== 'string') return args.map(describeArgument).join(' ');
  let next = 0;
  const text = first.replace(/%[sdifjoOc%]/g, (placeholder) => {
    if (placeholder === '%%') return '%';
    if (next >= rest.length) return placeholder;
    const value = rest[next++];
    return placeholder === '%c' ? '' : describeArgument(value);
  });
  return [text, ...rest.slice(next).map(describeArgument)].join(' ');
}

// The SDK's request log is `Request: ` and the request serialised as JSON, with the proxy agent
// and its sockets in it (their buffers hold earlier requests' headers, Authorization included).
const REQUEST = /^(.*?Request: )(\{[\s\S]*\})\s*$/;

/** A serialised request reduced to its method, URL and (already sanitised) headers. */
export function withoutRequestInternals(line: string): string {
  const match = REQUEST.exec(line);
  if (!match) return line;
  try {
    const request = JSON.parse(match[2] ?? '') as { method?: unknown; url?: unknown; headers?: unknown };
    const headers = request.headers && typeof request.headers === 'object' ? request.headers : {};
    const flat = Object.entries(headers).filter(([, v]) => typeof v === 'string' || typeof v === 'number');
    return `${match[1]}${String(request.method)} ${String(request.url)} ${JSON.stringify(Object.fromEntries(flat))}`;
  } catch {
    return `${match[1]}(not shown: not the JSON the SDK writes)`;
  }
}

/** One SDK log call as the line the writer prints: formatted, reduced, redacted, then cut. */
export function sdkLogLine(args: readonly unknown[]): string {
  const line = redact(withoutRequestInternals(formatArguments(args)));
  return line.length <= SDK_LINE_LIMIT ? line : `${line.slice(0, SDK_LINE_LIMIT)} … (${line.length - SDK_LINE_LIMIT} more characters)`;
}

/**
 * Sends every SDK log line through the writer, and turns the log on at `info` under the
 * runner's debug logging when AZURE_LOG_LEVEL does not choose a level. Call before any client
 * or credential exists.
 */
export function routeSdkLog(env: NodeJS.ProcessEnv): void {
  AzureLogger.log = (...args: unknown[]) => stderrLine(sdkLogLine(args));
  if (getLogLevel() === undefined && env['RUNNER_DEBUG'] === '1') setLogLevel('info');
}
