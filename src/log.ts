// Log lines carry names, ids, tags and messages that Azure (or whoever answers as Azure) chose.
// A plain line that starts with `::` is a workflow command, so every control character in one
// is spelled out first: no value can start a line of its own. (Annotations are escaped by
// @actions/core itself.)
import * as core from '@actions/core';
import { clip } from './text.ts';

export function info(message: string): void {
  core.info(clip(message, Number.POSITIVE_INFINITY));
}
