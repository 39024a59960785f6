// Subscription regexes of KIP-848 consumer groups. Kafka compiles them with
// RE2/J and matches whole topic names. This is a small RE2-syntax engine of
// our own: a parser for the RE2 subset that makes sense on topic names
// (literals, ., classes with ranges, \d \w \s and POSIX names, groups
// including (?P<name>…) and (?i) flags, alternation, greedy and lazy
// quantifiers, ^ $ \A \z \b \B, \Q…\E) compiled to a Thompson NFA and run
// as a Pike VM: time is linear in the name times the pattern, so no pattern
// can stall the broker, and (a+)+ is as harmless as in RE2. Like RE2 it has no
// backreferences or lookaround: those are invalid patterns.

export interface TopicMatcher {
  /** True when the whole name matches. */
  test(name: string): boolean;
}

/**
 * A RegExp whose exec (and so test, match, search) answers whole-name
 * matches with the linear engine; code written against RegExp keeps working.
 * Nothing else of the base RegExp (source, flags, lastIndex) means anything.
 */
export class WholeNameRegExp extends RegExp implements TopicMatcher {
  constructor(private readonly matcher: TopicMatcher) {
    super("(?!)");
  }

  override exec(s: string): RegExpExecArray | null {
    if (!this.matcher.test(s)) return null;
    return Object.assign([s], { index: 0, input: s, groups: undefined }) as RegExpExecArray;
  }

  override test(s: string): boolean {
    return this.matcher.test(s);
  }
}

export type CompiledRegex = { ok: true; regex: WholeNameRegExp } | { ok: false; message: string };

const MAX_PATTERN_LENGTH = 1024;
/** RE2's limit on a counted repetition. */
const MAX_REPEAT = 1000;
/** Bound on the compiled program, which counted repetitions multiply. */
const MAX_PROGRAM = 20_000;
const MAX_CHAR = 0xffff;

type Ranges = number[]; // flat [lo, hi, lo, hi, ...], inclusive

type Node =
  | { t: "chars"; ranges: Ranges; neg: boolean }
  | { t: "assert"; kind: "start" | "end" | "word" | "nonword" }
  | { t: "cat"; items: Node[] }
  | { t: "alt"; items: Node[] }
  | { t: "rep"; node: Node; min: number; max: number };

class RegexSyntaxError extends Error {}

const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const SPACE: Ranges = [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20];
const POSIX: Record<string, Ranges> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x00, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  digit: DIGIT,
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: WORD,
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};
const CONTROL_ESCAPES: Record<string, number> = { t: 0x09, n: 0x0a, r: 0x0d, f: 0x0c, v: 0x0b, a: 0x07 };

function complement(r: Ranges): Ranges {
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of pairs) {
    if (lo > next) out.push(next, lo - 1);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CHAR) out.push(next, MAX_CHAR);
  return out;
}

/** Adds the other ASCII case of every letter in the ranges. */
function foldCase(r: Ranges): Ranges {
  const out = [...r];
  for (let i = 0; i < r.length; i += 2) {
    const lo = r[i]!;
    const hi = r[i + 1]!;
    const a = Math.max(lo, 0x41);
    const b = Math.min(hi, 0x5a);
    if (a <= b) out.push(a + 32, b + 32);
    const c = Math.max(lo, 0x61);
    const d = Math.min(hi, 0x7a);
    if (c <= d) out.push(c - 32, d - 32);
  }
  return out;
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x61 && c <= 0x7a);
}

interface Flags {
  i: boolean;
  s: boolean;
}

class Parser {
  private i = 0;
  private flags: Flags = { i: false, s: false };

  constructor(private readonly src: string) {}

  parse(): Node {
    const n = this.alt();
    if (this.i < this.src.length) throw new RegexSyntaxError(this.src[this.i] === ")" ? "unexpected )" : `unexpected ${this.src[this.i]}`);
    return n;
  }

  private peek(k = 0): string | undefined {
    return this.src[this.i + k];
  }

  private alt(): Node {
    const items = [this.cat()];
    while (this.peek() === "|") {
      this.i++;
      items.push(this.cat());
    }
    return items.length === 1 ? items[0]! : { t: "alt", items };
  }

  private cat(): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      const atom = this.atom();
      if (atom === null) continue;
      items.push(this.quantified(atom));
    }
    return items.length === 1 ? items[0]! : { t: "cat", items };
  }

  /** A counted repetition at the cursor ({n}, {n,}, {n,m}), or null when `{` is a literal there. */
  private repeatAt(): { min: number; max: number; length: number } | null {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i, this.i + 16));
    if (!m) return null;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) throw new RegexSyntaxError("bad repetition count");
    if (max < min) throw new RegexSyntaxError("bad repetition range");
    return { min, max, length: m[0].length };
  }

  private quantifier(): { min: number; max: number } | null {
    const c = this.peek();
    if (c === "*" || c === "+" || c === "?") {
      this.i++;
      return { min: c === "+" ? 1 : 0, max: c === "?" ? 1 : Infinity };
    }
    if (c === "{") {
      const r = this.repeatAt();
      if (r) {
        this.i += r.length;
        return r;
      }
    }
    return null;
  }

  private quantified(atom: Node): Node {
    const q = this.quantifier();
    if (!q) return atom;
    if (this.peek() === "?") this.i++; // lazy: the same language, so the same answer for a whole-name match
    if (this.peek() === "*" || this.peek() === "+" || this.peek() === "?" || (this.peek() === "{" && this.repeatAt())) throw new RegexSyntaxError("bad repetition operator");
    if (atom.t === "assert") return atom; // RE2 allows ^* and friends; repeating an assertion changes nothing
    return { t: "rep", node: atom, min: q.min, max: q.max };
  }

  private chars(ranges: Ranges, neg = false): Node {
    return { t: "chars", ranges: this.flags.i ? foldCase(ranges) : ranges, neg };
  }

  private literal(c: number): Node {
    return this.chars([c, c]);
  }

  /** One atom; null for a construct that matches nothing by itself (a flag group). */
  private atom(): Node | null {
    const c = this.peek()!;
    switch (c) {
      case "(":
        return this.group();
      case "[":
        return this.charClass();
      case ".":
        this.i++;
        return this.flags.s ? { t: "chars", ranges: [0, MAX_CHAR], neg: false } : { t: "chars", ranges: [0x0a, 0x0a], neg: true };
      case "^":
        this.i++;
        return { t: "assert", kind: "start" };
      case "$":
        this.i++;
        return { t: "assert", kind: "end" };
      case "\\":
        return this.escape();
      case "*":
      case "+":
      case "?":
        throw new RegexSyntaxError("missing argument to repetition operator");
      case "{":
        if (this.repeatAt()) throw new RegexSyntaxError("missing argument to repetition operator");
        this.i++;
        return this.literal(0x7b);
      default:
        this.i++;
        return this.literal(c.charCodeAt(0));
    }
  }

  private group(): Node | null {
    this.i++; // (
    const saved = { ...this.flags };
    if (this.peek() === "?") {
      const rest = this.src.slice(this.i + 1, this.i + 4);
      if (rest.startsWith("=") || rest.startsWith("!") || rest.startsWith("<=") || rest.startsWith("<!")) throw new RegexSyntaxError("lookaround is not supported");
      const named = /^\?P?<([A-Za-z0-9_]+)>/.exec(this.src.slice(this.i, this.i + 260));
      if (named) this.i += named[0].length;
      else if (this.peek(1) === ":") this.i += 2;
      else {
        const f = /^\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(this.src.slice(this.i, this.i + 16));
        if (!f || (f[1] === "" && (f[2] ?? "") === "")) throw new RegexSyntaxError("invalid or unsupported Perl syntax");
        this.i += f[0].length;
        for (const ch of f[1]!) if (ch === "i" || ch === "s") this.flags[ch] = true;
        for (const ch of f[2] ?? "") if (ch === "i" || ch === "s") this.flags[ch] = false;
        // (?i) changes the flags for the rest of the enclosing group.
        if (f[3] === ")") return null;
      }
    }
    const inner = this.alt();
    if (this.peek() !== ")") throw new RegexSyntaxError("missing )");
    this.i++;
    this.flags = saved;
    return inner;
  }

  /** An escape outside a class: a class, an assertion, a literal, or \Q…\E. */
  private escape(): Node {
    const e = this.peek(1);
    if (e === undefined) throw new RegexSyntaxError("trailing \\");
    this.i += 2;
    switch (e) {
      case "d":
        return this.chars(DIGIT);
      case "D":
        return this.chars(complement(DIGIT));
      case "w":
        return this.chars(WORD);
      case "W":
        return this.chars(complement(WORD));
      case "s":
        return this.chars(SPACE);
      case "S":
        return this.chars(complement(SPACE));
      case "A":
        return { t: "assert", kind: "start" };
      case "z":
        return { t: "assert", kind: "end" };
      case "b":
        return { t: "assert", kind: "word" };
      case "B":
        return { t: "assert", kind: "nonword" };
      case "Q": {
        const end = this.src.indexOf("\\E", this.i);
        const text = this.src.slice(this.i, end < 0 ? this.src.length : end);
        this.i = end < 0 ? this.src.length : end + 2;
        return { t: "cat", items: [...text].map((ch) => this.literal(ch.charCodeAt(0))) };
      }
    }
    return this.literal(this.escapedChar(e));
  }

  /** The character an escape stands for (after the backslash and `e` were consumed). */
  private escapedChar(e: string): number {
    if (e in CONTROL_ESCAPES) return CONTROL_ESCAPES[e]!;
    if (e === "x") {
      const m = /^(?:\{([0-9A-Fa-f]{1,4})\}|([0-9A-Fa-f]{2}))/.exec(this.src.slice(this.i, this.i + 6));
      if (!m) throw new RegexSyntaxError("invalid escape sequence");
      this.i += m[0].length;
      return parseInt(m[1] ?? m[2]!, 16);
    }
    if (e >= "0" && e <= "9") throw new RegexSyntaxError("backreferences and octal escapes are not supported");
    if (/[A-Za-z]/.test(e)) throw new RegexSyntaxError(`invalid escape sequence \\${e}`);
    return e.charCodeAt(0);
  }

  private charClass(): Node {
    this.i++; // [
    let neg = false;
    if (this.peek() === "^") {
      neg = true;
      this.i++;
    }
    const ranges: Ranges = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new RegexSyntaxError("missing ]");
      if (c === "]" && !first) break;
      first = false;
      if (c === "[" && this.peek(1) === ":") {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.i, this.i + 16));
        const named = m ? POSIX[m[2]!] : undefined;
        if (!m || !named) throw new RegexSyntaxError("invalid character class range");
        ranges.push(...(m[1] ? complement(named) : named));
        this.i += m[0].length;
        continue;
      }
      let lo: number;
      if (c === "\\") {
        const e = this.peek(1);
        if (e === undefined) throw new RegexSyntaxError("missing ]");
        this.i += 2;
        const shorthand: Record<string, Ranges> = { d: DIGIT, D: complement(DIGIT), w: WORD, W: complement(WORD), s: SPACE, S: complement(SPACE) };
        if (e in shorthand) {
          ranges.push(...shorthand[e]!);
          continue;
        }
        lo = this.escapedChar(e);
      } else {
        this.i++;
        lo = c.charCodeAt(0);
      }
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
        this.i++;
        const h = this.peek()!;
        let hi: number;
        if (h === "\\") {
          const e = this.peek(1);
          if (e === undefined) throw new RegexSyntaxError("missing ]");
          this.i += 2;
          hi = this.escapedChar(e);
        } else {
          this.i++;
          hi = h.charCodeAt(0);
        }
        if (hi < lo) throw new RegexSyntaxError("invalid character class range");
        ranges.push(lo, hi);
      } else ranges.push(lo, lo);
    }
    this.i++; // ]
    return this.chars(ranges, neg);
  }
}

// ------------------------------------------------------------ program

type Inst =
  | { op: "chars"; ranges: Ranges; neg: boolean }
  | { op: "split"; x: number; y: number }
  | { op: "jmp"; x: number }
  | { op: "assert"; kind: "start" | "end" | "word" | "nonword" }
  | { op: "match" };

class Compiler {
  readonly prog: Inst[] = [];

  private push(inst: Inst): number {
    if (this.prog.length >= MAX_PROGRAM) throw new RegexSyntaxError("pattern too large");
    this.prog.push(inst);
    return this.prog.length - 1;
  }

  emit(n: Node): void {
    switch (n.t) {
      case "chars":
        this.push({ op: "chars", ranges: n.ranges, neg: n.neg });
        return;
      case "assert":
        this.push({ op: "assert", kind: n.kind });
        return;
      case "cat":
        for (const item of n.items) this.emit(item);
        return;
      case "alt": {
        const jumps: number[] = [];
        n.items.forEach((item, k) => {
          if (k < n.items.length - 1) {
            const split = this.push({ op: "split", x: 0, y: 0 });
            (this.prog[split] as { x: number }).x = this.prog.length;
            this.emit(item);
            jumps.push(this.push({ op: "jmp", x: 0 }));
            (this.prog[split] as { y: number }).y = this.prog.length;
          } else this.emit(item);
        });
        for (const j of jumps) (this.prog[j] as { x: number }).x = this.prog.length;
        return;
      }
      case "rep": {
        for (let k = 0; k < n.min; k++) this.emit(n.node);
        if (n.max === Infinity) {
          const split = this.push({ op: "split", x: 0, y: 0 });
          (this.prog[split] as { x: number }).x = this.prog.length;
          this.emit(n.node);
          this.push({ op: "jmp", x: split });
          (this.prog[split] as { y: number }).y = this.prog.length;
          return;
        }
        const splits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          const split = this.push({ op: "split", x: 0, y: 0 });
          (this.prog[split] as { x: number }).x = this.prog.length;
          splits.push(split);
          this.emit(n.node);
        }
        for (const s of splits) (this.prog[s] as { y: number }).y = this.prog.length;
        return;
      }
    }
  }
}

function inRanges(ranges: Ranges, c: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (c >= ranges[i]! && c <= ranges[i + 1]!) return true;
  return false;
}

/** Runs the program over the whole name, all threads in lock step (Pike VM without captures). */
class PikeMatcher implements TopicMatcher {
  private readonly seen: Int32Array;
  private generation = 0;

  constructor(private readonly prog: readonly Inst[]) {
    this.seen = new Int32Array(prog.length).fill(-1);
  }

  private holds(kind: "start" | "end" | "word" | "nonword", s: string, pos: number): boolean {
    if (kind === "start") return pos === 0;
    if (kind === "end") return pos === s.length;
    const before = pos > 0 && isWordChar(s.charCodeAt(pos - 1));
    const after = pos < s.length && isWordChar(s.charCodeAt(pos));
    return (before !== after) === (kind === "word");
  }

  /** The threads reachable from `start` at `pos` through jumps, splits and assertions. */
  private close(list: number[], start: number, s: string, pos: number): void {
    const stack = [start];
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (this.seen[pc] === this.generation) continue;
      this.seen[pc] = this.generation;
      const inst = this.prog[pc]!;
      switch (inst.op) {
        case "jmp":
          stack.push(inst.x);
          break;
        case "split":
          stack.push(inst.y, inst.x);
          break;
        case "assert":
          if (this.holds(inst.kind, s, pos)) stack.push(pc + 1);
          break;
        default:
          list.push(pc);
      }
    }
  }

  test(s: string): boolean {
    let current: number[] = [];
    this.generation++;
    this.close(current, 0, s, 0);
    for (let pos = 0; pos < s.length; pos++) {
      const c = s.charCodeAt(pos);
      const next: number[] = [];
      this.generation++;
      for (const pc of current) {
        const inst = this.prog[pc]!;
        if (inst.op === "chars" && inRanges(inst.ranges, c) !== inst.neg) this.close(next, pc + 1, s, pos + 1);
      }
      if (next.length === 0) return false;
      current = next;
    }
    return current.some((pc) => this.prog[pc]!.op === "match");
  }
}

/** True when a quantified group holds an unbounded quantifier itself, as in (a+)+. */
function hasNestedUnboundedQuantifier(source: string): boolean {
  const stack: boolean[] = [];
  let inClass = false;
  const unboundedAt = (k: number) => source[k] === "*" || source[k] === "+" || (source[k] === "{" && /^\{\d*,\}/.test(source.slice(k, k + 16)));
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      if (source[i + 1] === "^") i++;
      if (source[i + 1] === "]") i++;
      continue;
    }
    if (c === "(") stack.push(false);
    else if (c === ")") {
      const innerUnbounded = stack.pop() ?? false;
      if (innerUnbounded && unboundedAt(i + 1)) return true;
      if (innerUnbounded && stack.length > 0) stack[stack.length - 1] = true;
    } else if (unboundedAt(i) && stack.length > 0) stack[stack.length - 1] = true;
  }
  return false;
}

export interface CompileOptions {
  /**
   * Refuse nested unbounded quantifiers such as (a+)+ (the default, kept for
   * callers that promised so). The engine is linear either way; consumer
   * group subscriptions accept them, as RE2/J does.
   */
  refuseNestedQuantifiers?: boolean;
}

export function compileTopicRegex(pattern: string, options: CompileOptions = {}): CompiledRegex {
  if (pattern.length > MAX_PATTERN_LENGTH) return { ok: false, message: `regex longer than ${MAX_PATTERN_LENGTH} characters` };
  if ((options.refuseNestedQuantifiers ?? true) && hasNestedUnboundedQuantifier(pattern)) return { ok: false, message: "nested unbounded quantifiers are not supported" };
  try {
    const ast = new Parser(pattern).parse();
    const c = new Compiler();
    c.emit(ast);
    c.prog.push({ op: "match" });
    return { ok: true, regex: new WholeNameRegExp(new PikeMatcher(c.prog)) };
  } catch (e) {
    if (e instanceof RegexSyntaxError) return { ok: false, message: e.message };
    throw e;
  }
}
