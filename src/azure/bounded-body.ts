// Every answer ARM sends is read as it arrives, up to a size no real answer comes near: a
// hostile or broken endpoint cannot fill the runner's memory before the deadline. Written by
// hand because the SDK's HTTP client buffers any body whole; this policy sits nearest the wire,
// so the retry, pacing and tenant policies above it see an ordinary answer.
import type { PipelinePolicy, PipelineResponse } from '@azure/core-rest-pipeline';
import { MAX_PAGE_BYTES, MAX_PAGE_ITEMS } from '../bounds.ts';
import { ArmRequestError } from './arm-errors.ts';

/** How much an answer may hold, and what the refusal says it is compared with. */
export interface BodyLimit {
  bytes: number;
  largest: string;
}

/** ARM's largest answers: a list page of at most MAX_PAGE_ITEMS scale sets. */
export const ARM_ANSWER: BodyLimit = { bytes: MAX_PAGE_BYTES, largest: `ARM's largest answers (a list page of at most ${MAX_PAGE_ITEMS} scale sets)` };

/**
 * An answer's body, read as it arrives: past the limit the stream is destroyed (the
 * connection closed) and the answer refused, so no answer fills memory.
 */
export async function boundedText(stream: PipelineResponse['readableStreamBody'], limit: BodyLimit = ARM_ANSWER): Promise<string> {
  if (!stream) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early (the throw) destroys the stream.
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > limit.bytes) {
      const mb = limit.bytes / (1024 * 1024);
      throw new ArmRequestError({ message: `Azure answered with more than ${mb} MB, and ${limit.largest} are far smaller: not a valid answer, the action read no further and used none of it`, details: [], network: false });
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * Each answer (any status, every retry) is taken from the wire as a stream and
 * bounded by boundedText before anything holds it whole. Nearest the wire, below the retry,
 * pacing and tenant policies: they see an ordinary answer (the tenant switch reads a
 * 401's body), and the SDK parses the bounded text as it parses any other.
 */
export function boundedBodyPolicy(limit: BodyLimit = ARM_ANSWER): PipelinePolicy {
  return {
    name: 'armBoundedBody',
    sendRequest: async (request, next) => {
      request.streamResponseStatusCodes = new Set([Number.POSITIVE_INFINITY]);
      const response = await next(request);
      const stream = response.readableStreamBody;
      delete response.readableStreamBody;
      response.bodyAsText = await boundedText(stream, limit);
      return response;
    },
  };
}
