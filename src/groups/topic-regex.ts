// Subscription regexes of KIP-848 consumer groups. Kafka compiles them with
// RE2/J and matches whole topic names; here they become anchored JavaScript
// regexes. RE2 has no backreferences or lookaround, so those are refused like
// any other invalid pattern; so are nested unbounded quantifiers such as
// (a+)+, which RE2 runs in linear time but a backtracking engine may not.

export type CompiledRegex = { ok: true; regex: RegExp } | { ok: false; message: string };

const MAX_PATTERN_LENGTH = 1024;

/** Translates the RE2 spellings JavaScript lacks: (?P<name>…) groups, \A and \z anchors, a leading (?i)/(?s)/(?m). */
function translate(pattern: string): { source: string; flags: string } | string {
  let flags = "";
  let src = pattern;
  const lead = /^\(\?([ims]+)\)/.exec(src);
  if (lead) {
    flags = [...new Set(lead[1]!)].join("");
    src = src.slice(lead[0].length);
  }
  let out = "";
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined) return "trailing backslash";
      if (!inClass && n >= "1" && n <= "9") return "backreferences are not supported";
      if (!inClass && (n === "A" || n === "z")) out += n === "A" ? "^" : "$";
      else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (src[i + 1] === "^") out += src[++i];
      if (src[i + 1] === "]") out += src[++i];
      continue;
    }
    if (c === "(" && src[i + 1] === "?") {
      const rest = src.slice(i + 2);
      if (rest.startsWith("=") || rest.startsWith("!") || rest.startsWith("<=") || rest.startsWith("<!")) return "lookaround is not supported";
      if (rest.startsWith("P<")) {
        out += "(?<";
        i += 3;
        continue;
      }
    }
    out += c;
  }
  return { source: out, flags };
}

/** True when a quantified group holds an unbounded quantifier itself: exponential backtracking risk. */
function hasNestedUnboundedQuantifier(source: string): boolean {
  const stack: boolean[] = [];
  let inClass = false;
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
      if (source[i + 1] === "]") i++;
      continue;
    }
    if (c === "(") stack.push(false);
    else if (c === ")") {
      const innerUnbounded = stack.pop() ?? false;
      const q = source[i + 1];
      const outerUnbounded = q === "*" || q === "+" || (q === "{" && /^\{\d*,\}/.test(source.slice(i + 1)));
      if (innerUnbounded && outerUnbounded) return true;
      if (innerUnbounded && stack.length > 0) stack[stack.length - 1] = true;
    } else if ((c === "*" || c === "+" || (c === "{" && /^\{\d*,\}/.test(source.slice(i)))) && stack.length > 0) {
      stack[stack.length - 1] = true;
    }
  }
  return false;
}

export function compileTopicRegex(pattern: string): CompiledRegex {
  if (pattern.length > MAX_PATTERN_LENGTH) return { ok: false, message: `regex longer than ${MAX_PATTERN_LENGTH} characters` };
  const t = translate(pattern);
  if (typeof t === "string") return { ok: false, message: t };
  if (hasNestedUnboundedQuantifier(t.source)) return { ok: false, message: "nested unbounded quantifiers are not supported" };
  try {
    return { ok: true, regex: new RegExp(`^(?:${t.source})$`, t.flags) };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}
