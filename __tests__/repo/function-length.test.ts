// No function in the action (src/) or the emulator (emulator/) runs over 60 lines, counted from
// the line its declaration starts on to the line of its closing brace. A longer one fails here,
// named with its file, line and length.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = new URL('../../', import.meta.url).pathname;
const FOLDERS = ['src', 'emulator'];
const LIMIT = 60;

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

function propertyName(name: ts.PropertyName | ts.BindingName | undefined, source: ts.SourceFile): string | undefined {
  return name === undefined ? undefined : name.getText(source);
}

/** What a reader calls the function: its own name, the const or property it is assigned to, or what it is passed to. */
function functionName(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const own = propertyName(node.name, source);
  if (own) return own;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return propertyName(parent.name, source) ?? '(anonymous)';
  if (ts.isCallExpression(parent)) return `(callback to ${parent.expression.getText(source).slice(0, 40)})`;
  return '(anonymous)';
}

/** Where the declaration starts: a function assigned to a const starts at the const's statement. */
function declarationStart(node: ts.FunctionLikeDeclaration): ts.Node {
  const parent = node.parent;
  if ((ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && ts.isVariableDeclaration(parent) && ts.isVariableDeclarationList(parent.parent) && ts.isVariableStatement(parent.parent.parent)) return parent.parent.parent;
  return node;
}

function lineOf(source: ts.SourceFile, pos: number): number {
  return source.getLineAndCharacterOfPosition(pos).line + 1;
}

/** Every function-like node with a body in one file, longer than the limit. */
export function longFunctions(file: string, text: string, limit = LIMIT): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const fn = node as ts.FunctionLikeDeclaration;
      const first = lineOf(source, declarationStart(fn).getStart(source));
      const lines = lineOf(source, fn.getEnd()) - first + 1;
      if (lines > limit) found.push({ file, line: first, name: functionName(fn, source), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function describeAll(found: LongFunction[]): string {
  return found.map((f) => `${f.file}:${f.line} ${f.name} is ${f.lines} lines`).join('\n');
}

describe('function length', () => {
  it(`no function in src/ or emulator/ is over ${LIMIT} lines`, () => {
    const found = FOLDERS.flatMap((folder) => sources(join(ROOT, folder)).flatMap((f) => longFunctions(relative(ROOT, f), readFileSync(f, 'utf8'))));
    assert.equal(found.length, 0, `split these into short, named steps (limit ${LIMIT} lines):\n${describeAll(found)}`);
  });

  it('the check finds long declarations, methods, arrow functions assigned to consts and callbacks', () => {
    const body = (n: number): string => Array.from({ length: n }, (_, i) => `  step(${i});`).join('\n');
    const text = [
      `function short() {\n${body(58)}\n}`,
      `export async function long() {\n${body(59)}\n}`,
      `class Store {\n  apply(x: number) {\n${body(60)}\n  }\n}`,
      `export const handler = async (req: Request) => {\n${body(61)}\n};`,
      `const fn = function () {\n${body(59)}\n};`,
      `it('waits', () => {\n${body(59)}\n});`,
    ].join('\n');
    assert.deepEqual(
      longFunctions('x.ts', text).map((f) => `${f.name}:${f.lines}`),
      ['long:61', 'apply:62', 'handler:63', 'fn:61', "(callback to it):61"],
    );
    assert.equal(describeAll(longFunctions('x.ts', `function short() {\n${body(58)}\n}`)), '');
    assert.match(describeAll(longFunctions('x.ts', `export async function long() {\n${body(59)}\n}`)), /^x\.ts:1 long is 61 lines$/);
  });
});
