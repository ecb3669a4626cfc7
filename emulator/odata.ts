// The slice of OData `$filter` that ARM's authorization lists accept: clauses joined by `and`,
// each either `property eq 'literal'` or a function call with an optional literal argument.
// Literals escape a quote by doubling it; anything else does not parse, so a value can never
// turn into more filter (`Reader' or roleName eq 'Owner` stays one odd role name).
export type Clause =
  | { kind: 'eq'; property: string; value: string }
  | { kind: 'call'; name: string; arg?: string };

type Token = { t: 'word'; v: string } | { t: 'string'; v: string } | { t: '(' } | { t: ')' };

function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ t: c });
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) return undefined; // unterminated literal
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      tokens.push({ t: 'string', v: value });
    } else {
      const m = /^[A-Za-z_][\w.]*/.exec(text.slice(i));
      if (!m) return undefined;
      tokens.push({ t: 'word', v: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** The clauses of a filter, or undefined when it does not parse. */
export function parseFilter(text: string): Clause[] | undefined {
  const tokens = tokenize(text);
  if (!tokens || tokens.length === 0) return undefined;
  const clauses: Clause[] = [];
  let i = 0;
  const at = (k: number) => tokens[k];
  for (;;) {
    const head = at(i);
    if (head?.t !== 'word') return undefined;
    const next = at(i + 1);
    if (next?.t === 'word' && next.v.toLowerCase() === 'eq') {
      const lit = at(i + 2);
      if (lit?.t !== 'string') return undefined;
      clauses.push({ kind: 'eq', property: head.v, value: lit.v });
      i += 3;
    } else if (next?.t === '(') {
      const arg = at(i + 2);
      if (arg?.t === ')') {
        clauses.push({ kind: 'call', name: head.v });
        i += 3;
      } else if (arg?.t === 'string' && at(i + 3)?.t === ')') {
        clauses.push({ kind: 'call', name: head.v, arg: arg.v });
        i += 4;
      } else {
        return undefined;
      }
    } else {
      return undefined;
    }
    if (i === tokens.length) return clauses;
    const joiner = at(i);
    if (joiner?.t !== 'word' || joiner.v.toLowerCase() !== 'and') return undefined;
    i++;
  }
}
