// ncc minifies only the entry file; the chunks it splits off for lazy imports come out
// unminified. Minify them the same way so start-up parses as little as possible.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { minify } from 'terser';

const dist = new URL('../dist/', import.meta.url).pathname;
for (const file of readdirSync(dist).filter((f) => /^\d+\.index\.js$/.test(f)).sort()) {
  const path = join(dist, file);
  const result = await minify(readFileSync(path, 'utf8'), { module: true, ecma: 2022, compress: { passes: 1 }, mangle: true, format: { comments: false } });
  if (result.code === undefined) throw new Error(`terser produced nothing for ${file}`);
  writeFileSync(path, result.code);
}
