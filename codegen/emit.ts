// Emits one TypeScript module per Kafka message schema: types, a decoder, an
// exact sizer and an encoder. Version checks are emitted as plain comparisons
// on `version` so the hot paths stay branch-cheap and monomorphic.

import {
  MAX_VERSION,
  type Field,
  type FieldType,
  type MessageSchema,
  type Range,
  type Struct,
  intersect,
  structNameOf,
} from "./schema.ts";

export function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** A version predicate relative to the versions a struct can be used at. */
function cond(range: Range, within: Range): string {
  const r = intersect(range, within);
  if (!r || !within) return "false";
  const lo = r.lo > within.lo;
  const hi = r.hi < within.hi;
  if (!lo && !hi) return "true";
  if (lo && hi) return r.lo === r.hi ? `version === ${r.lo}` : `(version >= ${r.lo} && version <= ${r.hi})`;
  return lo ? `version >= ${r.lo}` : `version <= ${r.hi}`;
}

function rangeText(r: Range): string {
  if (!r) return "none";
  if (r.hi === MAX_VERSION) return `${r.lo}+`;
  return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`;
}

function and(a: string, b: string): string {
  if (a === "false" || b === "false") return "false";
  if (a === "true") return b;
  if (b === "true") return a;
  // A field tagged in every version it exists in is never a regular field.
  if (b === `!(${a})` || a === `!(${b})`) return "false";
  return `${a} && ${b}`;
}
function not(a: string): string {
  if (a === "true") return "false";
  if (a === "false") return "true";
  return `!(${a})`;
}

const TS_PRIM: Record<string, string> = {
  bool: "boolean",
  int8: "number",
  int16: "number",
  int32: "number",
  int64: "bigint",
  uint16: "number",
  uint32: "number",
  float64: "number",
  string: "string",
  bytes: "Uint8Array",
  uuid: "string",
  records: "Uint8Array",
};

function tsType(t: FieldType, init: boolean): string {
  if (t.kind === "primitive") {
    if (init && t.name === "records") return "RecordsInit";
    return TS_PRIM[t.name]!;
  }
  if (t.kind === "struct") return init ? `${t.name}Init` : t.name;
  const el = tsType(t.element, init);
  return init ? `readonly ${el}[]` : `${el}[]`;
}

function isNullableAnywhere(f: Field): boolean {
  return f.nullableVersions !== null;
}

function parseIntDefault(s: string): string {
  const v = s.trim();
  if (/^-?0x[0-9a-f]+$/i.test(v)) return String(Number.parseInt(v, 16));
  if (!/^-?\d+$/.test(v)) throw new Error(`bad integer default ${s}`);
  return String(Number(v));
}

/** The field's default value as a TypeScript expression (fresh object for arrays/structs). */
export function defaultExpr(f: Field): string {
  const d = f.defaultValue;
  const t = f.type;
  if (d === "null") {
    if (!isNullableAnywhere(f)) throw new Error(`field ${f.name} defaults to null but is never nullable`);
    return "null";
  }
  if (t.kind === "array") return "[]";
  if (t.kind === "struct") return `default${t.name}()`;
  switch (t.name) {
    case "bool":
      return d === null ? "false" : String(d === "true");
    case "int8":
    case "int16":
    case "int32":
    case "uint16":
    case "uint32":
      return d === null || d === "" ? "0" : parseIntDefault(d);
    case "int64":
      return d === null || d === "" ? "0n" : `${BigInt(d.trim())}n`;
    case "float64":
      return d === null || d === "" ? "0" : String(Number(d));
    case "string":
      return JSON.stringify(d ?? "");
    case "uuid":
      if (d !== null && d !== "" && d !== "AAAAAAAAAAAAAAAAAAAAAA") throw new Error(`unsupported uuid default ${d}`);
      return "ZERO_UUID";
    case "bytes":
    case "records":
      if (d !== null && d !== "") throw new Error(`unsupported bytes default ${d}`);
      return "EMPTY_BYTES";
  }
}

/** A boolean expression: is `v` (possibly undefined in Init objects) equal to the field's default? */
function isDefaultExpr(f: Field, v: string): string {
  const d = defaultExpr(f);
  const t = f.type;
  if (d === "null") return `(${v} === undefined || ${v} === null)`;
  if (t.kind === "array") return `(${v} === undefined || (${v} !== null && ${v}.length === 0))`;
  if (t.kind === "struct") return `(${v} === undefined || (${v} !== null && isDefault${t.name}(${v})))`;
  if (t.name === "bytes") return `(${v} === undefined || (${v} !== null && ${v}.length === 0))`;
  if (t.name === "records") return `(${v} === undefined || (${v} !== null && recordsLength(${v}) === 0))`;
  return `(${v} === undefined || ${v} === ${d})`;
}

interface Ctx {
  msg: MessageSchema;
  within: Range;
}

/** Names the decoder function to call for a nested struct. */
type Decoders = (structName: string) => string;

/**
 * Decoders come in a flexible and a classic variant when a struct is used at
 * both kinds of version: each variant then reads one encoding with no
 * per-field version tests between them, and stays small enough for the JIT
 * to inline its readers (one function holding both bodies did not).
 */
function variantRanges(within: Range, flexible: Range): { classic: NonNullable<Range>; flexible: NonNullable<Range> } | null {
  if (!within || !flexible) return null;
  const f = intersect(flexible, within);
  if (!f || (f.lo === within.lo && f.hi === within.hi)) return null;
  if (f.hi !== within.hi) throw new Error("flexible versions must run to the newest version");
  return { classic: { lo: within.lo, hi: f.lo - 1 }, flexible: f };
}

function flexCond(f: Field, ctx: Ctx): string {
  return cond(f.flexibleVersions === undefined ? ctx.msg.flexibleVersions : f.flexibleVersions, ctx.within);
}

// ---------- decoding ----------

function readPrimitive(name: string, flex: string, nullable: string): string {
  const pick = (compactNull: string, compact: string, classicNull: string, classic: string): string => {
    const c = nullable === "false" ? compact : nullable === "true" ? compactNull : `(${nullable} ? ${compactNull} : ${compact})`;
    const k = nullable === "false" ? classic : nullable === "true" ? classicNull : `(${nullable} ? ${classicNull} : ${classic})`;
    if (flex === "true") return c;
    if (flex === "false") return k;
    return `(${flex} ? ${c} : ${k})`;
  };
  switch (name) {
    case "bool":
      return "r.bool()";
    case "int8":
      return "r.int8()";
    case "int16":
      return "r.int16()";
    case "int32":
      return "r.int32()";
    case "int64":
      return "r.int64()";
    case "uint16":
      return "r.uint16()";
    case "uint32":
      return "r.uint32()";
    case "float64":
      return "r.float64()";
    case "uuid":
      return "r.uuid()";
    case "string":
      return pick("r.compactNullableString()", "r.compactString()", "r.nullableString()", "r.string()");
    case "bytes":
    case "records":
      return pick("r.compactNullableBytes()", "r.compactBytes()", "r.nullableBytes()", "r.bytes()");
  }
  throw new Error(`no reader for ${name}`);
}

/** Statements that read a value of type `t` into `target` (declared by the caller). */
function readInto(target: string, t: FieldType, flex: string, nullable: string, out: string[], ind: string, depth: number, dec: Decoders): void {
  if (t.kind === "primitive") {
    if (nullable !== "true" && nullable !== "false" && ["string", "bytes", "records"].includes(t.name)) {
      // Nullable in some versions only: one reader call site (the nullable
      // one) and a version test on null keeps the function small for the JIT.
      out.push(`${ind}${target} = ${readPrimitive(t.name, flex, "true")};`);
      out.push(`${ind}if (${target} === null && !(${nullable})) throw new DecodeError("null where non-nullable");`);
      return;
    }
    out.push(`${ind}${target} = ${readPrimitive(t.name, flex, nullable)};`);
    return;
  }
  if (t.kind === "struct") {
    if (nullable === "false") {
      out.push(`${ind}${target} = ${dec(t.name)}(r, version);`);
    } else {
      out.push(`${ind}if (${nullable} && r.int8() < 0) ${target} = null;`);
      out.push(`${ind}else ${target} = ${dec(t.name)}(r, version);`);
    }
    return;
  }
  const n = `n${depth}`;
  const a = `a${depth}`;
  const i = `i${depth}`;
  const lenExpr =
    flex === "true" ? "r.compactArrayLength()" : flex === "false" ? "r.arrayLength()" : `(${flex} ? r.compactArrayLength() : r.arrayLength())`;
  out.push(`${ind}{`);
  out.push(`${ind}  const ${n} = ${lenExpr};`);
  out.push(`${ind}  if (${n} < 0) {`);
  if (nullable === "false") out.push(`${ind}    throw new DecodeError("null array where non-nullable");`);
  else out.push(`${ind}    if (!(${nullable})) throw new DecodeError("null array where non-nullable");`, `${ind}    ${target} = null;`);
  out.push(`${ind}  } else {`);
  out.push(`${ind}    const ${a}: ${tsType(t.element, false)}[] = new Array(${n});`);
  out.push(`${ind}    for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
  const el = t.element;
  if (el.kind === "array") throw new Error("nested arrays are not part of the schema format");
  readInto(`${a}[${i}]`, el, flex, "false", out, `${ind}      `, depth + 1, dec);
  out.push(`${ind}    }`);
  out.push(`${ind}    ${target} = ${a};`);
  out.push(`${ind}  }`);
  out.push(`${ind}}`);
}

// ---------- sizing and writing ----------

function sizePrimitive(name: string, v: string, flex: string): string {
  const pick = (compact: string, classic: string): string =>
    flex === "true" ? compact : flex === "false" ? classic : `(${flex} ? ${compact} : ${classic})`;
  switch (name) {
    case "bool":
    case "int8":
      return "1";
    case "int16":
    case "uint16":
      return "2";
    case "int32":
    case "uint32":
      return "4";
    case "int64":
    case "float64":
      return "8";
    case "uuid":
      return "16";
    case "string":
      return pick(`compactStringSize(${v})`, `stringSize(${v})`);
    case "bytes":
      return pick(`compactBytesSize(${v})`, `bytesSize(${v})`);
    case "records":
      return `(${v} === null ? ${pick("1", "4")} : ${pick(`uvarintSize(recordsLength(${v}) + 1)`, "4")} + recordsLength(${v}))`;
  }
  throw new Error(`no sizer for ${name}`);
}

function writePrimitive(name: string, v: string, flex: string, nullable: string): string {
  const pick = (compact: string, classic: string): string =>
    flex === "true" ? compact : flex === "false" ? classic : `if (${flex}) ${compact} else ${classic}`;
  const nn = nullable !== "false";
  switch (name) {
    case "bool":
      return `w.bool(${v});`;
    case "int8":
      return `w.int8(${v});`;
    case "int16":
      return `w.int16(${v});`;
    case "int32":
      return `w.int32(${v});`;
    case "int64":
      return `w.int64(${v});`;
    case "uint16":
      return `w.uint16(${v});`;
    case "uint32":
      return `w.uint32(${v});`;
    case "float64":
      return `w.float64(${v});`;
    case "uuid":
      return `w.uuid(${v});`;
    case "string":
      return nn
        ? pick(`w.compactNullableString(${v});`, `w.nullableString(${v});`)
        : pick(`w.compactString(${v} as string);`, `w.string(${v} as string);`);
    case "bytes":
      return nn
        ? pick(`w.compactNullableBytes(${v});`, `w.nullableBytes(${v});`)
        : pick(`w.compactBytes(${v} as Uint8Array);`, `w.bytes(${v} as Uint8Array);`);
    case "records": {
      const len = pick(`w.uvarint(recordsLength(${v}) + 1);`, `w.int32(recordsLength(${v}));`);
      const nul = pick("w.uvarint(0);", "w.int32(-1);");
      return `if (${v} === null) { ${nul} } else { ${len} writeRecordsBody(w, ${v}); }`;
    }
  }
  throw new Error(`no writer for ${name}`);
}

/** Statements adding the encoded size of `v` (type t) to `n`. */
function sizeOf(v: string, t: FieldType, flex: string, nullable: string, out: string[], ind: string, depth: number): void {
  if (t.kind === "primitive") {
    out.push(`${ind}n += ${sizePrimitive(t.name, v, flex)};`);
    return;
  }
  if (t.kind === "struct") {
    if (nullable === "false") out.push(`${ind}n += size${t.name}(${v}!, version);`);
    else out.push(`${ind}n += ${v} === null ? 1 : 1 + size${t.name}(${v}, version);`);
    return;
  }
  const cnt = (x: string): string =>
    flex === "true" ? `uvarintSize(${x} + 1)` : flex === "false" ? "4" : `(${flex} ? uvarintSize(${x} + 1) : 4)`;
  out.push(`${ind}if (${v} === null) n += ${flex === "true" ? "1" : flex === "false" ? "4" : `(${flex} ? 1 : 4)`};`);
  out.push(`${ind}else {`);
  out.push(`${ind}  n += ${cnt(`${v}.length`)};`);
  const el = t.element;
  if (el.kind === "primitive" && !["string", "bytes", "records"].includes(el.name)) {
    out.push(`${ind}  n += ${v}.length * ${sizePrimitive(el.name, "", flex)};`);
  } else {
    const e = `e${depth}`;
    out.push(`${ind}  for (const ${e} of ${v}) {`);
    sizeOf(e, el, flex, "false", out, `${ind}    `, depth + 1);
    out.push(`${ind}  }`);
  }
  out.push(`${ind}}`);
}

function writeValue(v: string, t: FieldType, flex: string, nullable: string, out: string[], ind: string, depth: number): void {
  if (t.kind === "primitive") {
    out.push(`${ind}${writePrimitive(t.name, v, flex, nullable)}`);
    return;
  }
  if (t.kind === "struct") {
    if (nullable === "false") out.push(`${ind}encode${t.name}(w, version, ${v}!);`);
    else out.push(`${ind}if (${v} === null) w.int8(-1);`, `${ind}else { w.int8(1); encode${t.name}(w, version, ${v}); }`);
    return;
  }
  const cnt = (x: string): string =>
    flex === "true" ? `w.uvarint(${x} + 1);` : flex === "false" ? `w.int32(${x});` : `if (${flex}) w.uvarint(${x} + 1); else w.int32(${x});`;
  const nul = flex === "true" ? "w.uvarint(0);" : flex === "false" ? "w.int32(-1);" : `if (${flex}) w.uvarint(0); else w.int32(-1);`;
  out.push(`${ind}if (${v} === null) { ${nul} }`);
  out.push(`${ind}else {`);
  out.push(`${ind}  ${cnt(`${v}.length`)}`);
  const e = `e${depth}`;
  out.push(`${ind}  for (const ${e} of ${v}) {`);
  writeValue(e, t.element, flex, "false", out, `${ind}    `, depth + 1);
  out.push(`${ind}  }`);
  out.push(`${ind}}`);
}

// ---------- per struct ----------

function emitDecoder(s: Struct, fields: Field[], allTagged: Field[], outer: Ctx, within: Range, fname: string, dec: Decoders, out: string[]): void {
  const ctx: Ctx = { msg: outer.msg, within };
  const msgFlex = cond(ctx.msg.flexibleVersions, within);
  const tagged = allTagged.filter((f) => cond(intersect(f.taggedVersions, f.versions), within) !== "false");
  out.push(`function ${fname}(r: Reader, version: number): ${s.name} {`);
  for (const f of fields) {
    const nul = isNullableAnywhere(f) ? " | null" : "";
    // Fields read in every version need no default first (saves an allocation per array).
    const always = and(cond(f.versions, within), not(f.tag !== null ? cond(f.taggedVersions, within) : "false")) === "true";
    out.push(`  let f_${camel(f.name)}: ${tsType(f.type, false)}${nul}${always ? "" : ` = ${defaultExpr(f)}`};`);
  }
  for (const f of fields) {
    const present = cond(f.versions, within);
    const taggedNow = f.tag !== null ? cond(f.taggedVersions, within) : "false";
    const inBody = and(present, not(taggedNow));
    if (inBody === "false") continue;
    const nullable = cond(f.nullableVersions, within);
    const body: string[] = [];
    readInto(`f_${camel(f.name)}`, f.type, flexCond(f, ctx), nullable, body, inBody === "true" ? "  " : "    ", 0, dec);
    if (inBody === "true") out.push(...body);
    else out.push(`  if (${inBody}) {`, ...body, `  }`);
  }
  out.push(`  let _unknownTaggedFields: TaggedField[] | undefined;`);
  if (msgFlex !== "false") {
    if (tagged.length === 0) {
      out.push(msgFlex === "true" ? `  _unknownTaggedFields = r.taggedFields();` : `  if (${msgFlex}) _unknownTaggedFields = r.taggedFields();`);
    } else {
      // Inline loop rather than a callback: a closure over the f_ locals
      // would move them all into a heap-allocated scope on every decode.
      out.push(msgFlex === "true" ? "  {" : `  if (${msgFlex}) {`);
      out.push(`    const nt = r.taggedCount();`);
      out.push(`    for (let t = 0, last = -1; t < nt; t++) {`);
      out.push(`      const tag = r.uvarint();`);
      out.push(`      if (tag <= last) throw new DecodeError("tagged fields out of order");`);
      out.push(`      last = tag;`);
      out.push(`      const size = r.uvarint();`);
      out.push(`      r.need(size);`);
      out.push(`      const end = r.pos + size;`);
      out.push(`      switch (tag) {`);
      for (const f of tagged) {
        const active = and(cond(f.taggedVersions, within), cond(f.versions, within));
        out.push(`        case ${f.tag}:`);
        out.push(`          if (${active}) {`);
        readInto(`f_${camel(f.name)}`, f.type, "true", cond(f.nullableVersions, within), out, "            ", 0, dec);
        out.push(`            r.taggedEnd(end, tag);`);
        out.push(`            continue;`);
        out.push(`          }`);
        out.push(`          break;`);
      }
      out.push(`      }`);
      out.push(`      (_unknownTaggedFields ??= []).push({ tag, data: r.rawBytes(size) });`);
      out.push(`    }`);
      out.push(`  }`);
    }
  }
  out.push(`  return {`);
  for (const f of fields) out.push(`    ${camel(f.name)}: f_${camel(f.name)},`);
  out.push(`    _unknownTaggedFields,`);
  out.push(`  };`);
  out.push(`}`);
  out.push("");

}


function emitStruct(s: Struct, ctx: Ctx, out: string[], exported: boolean): void {
  const within = ctx.within;
  const fields = s.fields.filter((f) => f.versions !== null);
  const msgFlex = cond(ctx.msg.flexibleVersions, within);
  const tagged = fields
    .filter((f) => f.tag !== null && cond(intersect(f.taggedVersions, f.versions), within) !== "false")
    .sort((a, b) => a.tag! - b.tag!);
  const exportKw = exported ? "export " : "export ";

  // Types: the decoded shape (every field present) and the encoder's input
  // shape (fields that have a default may be left out).
  out.push(`${exportKw}interface ${s.name} {`);
  for (const f of fields) {
    const nul = isNullableAnywhere(f) ? " | null" : "";
    out.push(`  ${camel(f.name)}: ${tsType(f.type, false)}${nul};`);
  }
  out.push(`  _unknownTaggedFields?: TaggedField[];`);
  out.push(`}`);
  out.push(`${exportKw}interface ${s.name}Init {`);
  for (const f of fields) {
    const nul = isNullableAnywhere(f) ? " | null" : "";
    out.push(`  ${camel(f.name)}?: ${tsType(f.type, true)}${nul};`);
  }
  out.push(`  _unknownTaggedFields?: readonly TaggedField[];`);
  out.push(`}`);
  out.push("");

  // Defaults.
  out.push(`export function default${s.name}(): ${s.name} {`);
  out.push(`  return {`);
  for (const f of fields) out.push(`    ${camel(f.name)}: ${defaultExpr(f)},`);
  out.push(`  };`);
  out.push(`}`);
  out.push("");
  out.push(`export function isDefault${s.name}(m: ${s.name}Init): boolean {`);
  out.push(`  return ${fields.length ? fields.map((f) => isDefaultExpr(f, `m.${camel(f.name)}`)).join(" &&\n    ") : "true"};`);
  out.push(`}`);
  out.push("");

  // Decoder(s).
  const split = variantRanges(within, ctx.msg.flexibleVersions);
  const structsOf = new Map(ctx.msg.structs.map((x) => [x.name, x]));
  const msgWithin = ctx.msg.validVersions ?? { lo: 0, hi: MAX_VERSION };
  // A nested struct split in two is called by variant: its version range lies within ours.
  const nested =
    (variant: string): Decoders =>
    (name) => {
      const t = structsOf.get(name);
      const splits = t !== undefined && variantRanges(intersect(t.versions, msgWithin) ?? msgWithin, ctx.msg.flexibleVersions) !== null;
      return splits && variant !== "" ? `decode${name}${variant}` : `decode${name}`;
    };
  if (!split) {
    emitDecoder(s, fields, tagged, ctx, within, `decode${s.name}`, nested(""), out);
  } else {
    emitDecoder(s, fields, tagged, ctx, split.classic, `decode${s.name}Classic`, nested("Classic"), out);
    emitDecoder(s, fields, tagged, ctx, split.flexible, `decode${s.name}Flexible`, nested("Flexible"), out);
    out.push(`function decode${s.name}(r: Reader, version: number): ${s.name} {`);
    out.push(`  return version >= ${split.flexible.lo} ? decode${s.name}Flexible(r, version) : decode${s.name}Classic(r, version);`);
    out.push(`}`);
    out.push("");
  }

  // Sizer: also the place where we refuse values a version cannot carry.
  const valueOf = (f: Field): string => {
    const d = defaultExpr(f);
    return isNullableAnywhere(f) ? `(m.${camel(f.name)} === undefined ? ${d} : m.${camel(f.name)})` : `(m.${camel(f.name)} ?? ${d})`;
  };
  out.push(`function size${s.name}(m: ${s.name}Init, version: number): number {`);
  out.push(`  let n = 0;`);
  for (const f of fields) {
    const present = cond(f.versions, within);
    const taggedNow = f.tag !== null ? cond(f.taggedVersions, within) : "false";
    const inBody = and(present, not(taggedNow));
    const v = `v_${camel(f.name)}`;
    const nullable = cond(f.nullableVersions, within);
    if (present !== "true" && !f.ignorable) {
      out.push(
        `  if (${not(present)} && !${isDefaultExpr(f, `m.${camel(f.name)}`)}) cannotEncode(${JSON.stringify(s.name)}, ${JSON.stringify(f.name)}, version, "a non-default value this version cannot carry");`,
      );
    }
    if (inBody === "false") continue;
    const body: string[] = [];
    const ind = inBody === "true" ? "  " : "    ";
    body.push(`${ind}const ${v} = ${valueOf(f)};`);
    if (isNullableAnywhere(f) && nullable !== "true") {
      body.push(
        `${ind}if (${v} === null${nullable === "false" ? "" : ` && !(${nullable})`}) cannotEncode(${JSON.stringify(s.name)}, ${JSON.stringify(f.name)}, version, "null is not allowed");`,
      );
    }
    sizeOf(v, f.type, flexCond(f, ctx), nullable, body, ind, 0);
    if (inBody === "true") out.push(...body);
    else out.push(`  if (${inBody}) {`, ...body, `  }`);
  }
  if (msgFlex !== "false") {
    if (tagged.length === 0) {
      out.push(`  if (${msgFlex}) n += taggedSectionSize(NO_TAGS, m._unknownTaggedFields);`);
    } else {
      out.push(`  if (${msgFlex}) n += taggedSectionSize(tagged${s.name}(m, version), m._unknownTaggedFields);`);
    }
  }
  out.push(`  return n;`);
  out.push(`}`);
  out.push("");

  if (tagged.length > 0) {
    // Known tagged fields with non-default values, in tag order, with their sizes.
    out.push(`function tagged${s.name}(m: ${s.name}Init, version: number): TaggedEntry[] {`);
    out.push(`  const entries: TaggedEntry[] = [];`);
    for (const f of tagged) {
      const active = and(cond(f.taggedVersions, within), cond(f.versions, within));
      const v = `v_${camel(f.name)}`;
      const nullable = cond(f.nullableVersions, within);
      out.push(`  if (${active === "true" ? "" : `(${active}) && `}!${isDefaultExpr(f, `m.${camel(f.name)}`)}) {`);
      out.push(`    const ${v} = ${valueOf(f)};`);
      if (isNullableAnywhere(f) && nullable !== "true") {
        out.push(
          `    if (${v} === null${nullable === "false" ? "" : ` && !(${nullable})`}) cannotEncode(${JSON.stringify(s.name)}, ${JSON.stringify(f.name)}, version, "null is not allowed");`,
        );
      }
      out.push(`    let n = 0;`);
      sizeOf(v, f.type, "true", nullable, out, "    ", 0);
      const wr: string[] = [];
      writeValue(v, f.type, "true", nullable, wr, "      ", 0);
      out.push(`    entries.push({ tag: ${f.tag}, size: n, write: (w: Writer) => {`, ...wr, `    } });`);
      out.push(`  }`);
    }
    out.push(`  return entries;`);
    out.push(`}`);
    out.push("");
  }

  // Encoder: assumes the sizer ran (it validates), writes straight through.
  out.push(`function encode${s.name}(w: Writer, version: number, m: ${s.name}Init): void {`);
  for (const f of fields) {
    const present = cond(f.versions, within);
    const taggedNow = f.tag !== null ? cond(f.taggedVersions, within) : "false";
    const inBody = and(present, not(taggedNow));
    if (inBody === "false") continue;
    const v = `v_${camel(f.name)}`;
    const nullable = cond(f.nullableVersions, within);
    const body: string[] = [];
    const ind = inBody === "true" ? "  " : "    ";
    body.push(`${ind}const ${v} = ${valueOf(f)};`);
    writeValue(v, f.type, flexCond(f, ctx), nullable, body, ind, 0);
    if (inBody === "true") out.push(...body);
    else out.push(`  if (${inBody}) {`, ...body, `  }`);
  }
  if (msgFlex !== "false") {
    if (tagged.length === 0) out.push(`  if (${msgFlex}) writeTaggedSection(w, NO_TAGS, m._unknownTaggedFields);`);
    else out.push(`  if (${msgFlex}) writeTaggedSection(w, tagged${s.name}(m, version), m._unknownTaggedFields);`);
  }
  out.push(`}`);
  out.push("");
}


/** Structs of `msg` that hold a `records` field, directly or through nested structs. */
function recordsHolders(msg: MessageSchema): Set<string> {
  const byName = new Map([msg.root, ...msg.structs].map((x) => [x.name, x]));
  const memo = new Map<string, boolean>();
  const typeHas = (t: FieldType): boolean =>
    t.kind === "primitive" ? t.name === "records" : t.kind === "struct" ? structHas(t.name) : typeHas(t.element);
  const structHas = (name: string): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    memo.set(name, false);
    const st = byName.get(name);
    const v = st !== undefined && st.fields.some((f) => f.versions !== null && typeHas(f.type));
    memo.set(name, v);
    return v;
  };
  return new Set([...byName.keys()].filter(structHas));
}

/**
 * `gathered<Struct>`: the bytes of record sections that a GatherWriter with
 * threshold `min` will reference instead of copying, so that encodeChunks can
 * allocate only the rest. Mirrors the encoder's choice of fields per version.
 */
function emitGathered(s: Struct, ctx: Ctx, holders: Set<string>, out: string[]): void {
  const within = ctx.within;
  const holds = (t: FieldType): boolean =>
    t.kind === "primitive" ? t.name === "records" : t.kind === "struct" ? holders.has(t.name) : holds(t.element);
  out.push(`function gathered${s.name}(m: ${s.name}Init, version: number, min: number): number {`);
  out.push(`  let n = 0;`);
  for (const f of s.fields.filter((x) => x.versions !== null && holds(x.type))) {
    const present = cond(f.versions, within);
    const taggedNow = f.tag !== null ? cond(f.taggedVersions, within) : "false";
    if (taggedNow !== "false") throw new Error(`${s.name}.${f.name}: records inside a tagged field cannot be gathered`);
    if (present === "false") continue;
    const v = `m.${camel(f.name)}`;
    const body: string[] = [];
    const t = f.type;
    if (t.kind === "primitive") body.push(`if (${v} != null && recordsLength(${v}) >= min) n += recordsLength(${v});`);
    else if (t.kind === "struct") body.push(`if (${v} != null) n += gathered${t.name}(${v}, version, min);`);
    else if (t.element.kind === "struct") body.push(`if (${v} != null) for (const e of ${v}) n += gathered${t.element.name}(e, version, min);`);
    else throw new Error(`${s.name}.${f.name}: arrays of records are not part of the schema format`);
    if (present === "true") out.push(`  ${body[0]}`);
    else out.push(`  if (${present}) ${body[0]}`);
  }
  out.push(`  return n;`);
  out.push(`}`);
  out.push("");
}

/** Orders structs so that each is emitted once; order does not matter to TS but keeps diffs stable. */
function orderedStructs(msg: MessageSchema): Struct[] {
  return [...msg.structs];
}

export function emitMessage(msg: MessageSchema, release: string): string {
  const within: Range = msg.validVersions ?? { lo: 0, hi: MAX_VERSION };
  const ctx: Ctx = { msg, within };
  const out: string[] = [];
  out.push(`// Generated by klite codegen from Apache Kafka ${release} (${msg.file}). Do not edit.`);
  out.push(`/* eslint-disable */`);
  out.push(`import {`);
  out.push(`  Reader, Writer, DecodeError, type TaggedField, type TaggedEntry, type RecordsInit,`);
  out.push(`  ZERO_UUID, EMPTY_BYTES, recordsLength, writeRecordsBody, unsupportedVersion, cannotEncode,`);
  out.push(`  uvarintSize, stringSize, compactStringSize, bytesSize, compactBytesSize,`);
  out.push(`  taggedSectionSize, writeTaggedSection,`);
  if (recordsHolders(msg).size > 0) out.push(`  GatherWriter, GATHER_MIN_BYTES,`);
  out.push(`} from "../src/protocol/generated-support.ts";`);
  out.push("");
  out.push(`const NO_TAGS: TaggedEntry[] = [];`);
  out.push(`void ZERO_UUID; void EMPTY_BYTES; void recordsLength; void writeRecordsBody; void DecodeError;`);
  out.push(`void uvarintSize; void stringSize; void compactStringSize; void bytesSize; void compactBytesSize; void cannotEncode;`);
  out.push("");
  const v = msg.validVersions;
  const f = msg.flexibleVersions;
  out.push(`export const meta = {`);
  out.push(`  name: ${JSON.stringify(msg.name)},`);
  out.push(`  type: ${JSON.stringify(msg.type)},`);
  out.push(`  apiKey: ${msg.apiKey === null ? "null" : msg.apiKey},`);
  out.push(`  validVersions: ${v ? `{ min: ${v.lo}, max: ${v.hi} }` : "null"},`);
  out.push(`  flexibleVersions: ${f ? `{ min: ${f.lo}, max: ${f.hi} }` : "null"},`);
  out.push(`  latestVersionUnstable: ${msg.latestVersionUnstable},`);
  out.push(`  listeners: ${JSON.stringify(msg.listeners)} as readonly string[],`);
  out.push(`} as const;`);
  out.push("");

  const holders = recordsHolders(msg);
  emitStruct(msg.root, ctx, out, true);
  if (holders.has(msg.root.name)) emitGathered(msg.root, ctx, holders, out);
  for (const s of orderedStructs(msg)) {
    const sctx = { msg, within: intersect(s.versions, within) ?? within };
    emitStruct(s, sctx, out, true);
    if (holders.has(s.name)) emitGathered(s, sctx, holders, out);
  }

  const n = msg.name;
  const validCheck = v
    ? `  if (version < ${v.lo} || version > ${v.hi}) unsupportedVersion(${JSON.stringify(n)}, version);`
    : `  unsupportedVersion(${JSON.stringify(n)}, version);`;
  out.push(`/** Decodes a ${n} at \`version\`; bytes and records are views into the reader's buffer. */`);
  out.push(`export function decode(r: Reader, version: number): ${n} {`);
  out.push(validCheck);
  out.push(`  return decode${n}(r, version);`);
  out.push(`}`);
  out.push("");
  out.push(`/** The exact encoded size; throws EncodeError for values this version cannot carry. */`);
  out.push(`export function size(m: ${n}Init, version: number): number {`);
  out.push(validCheck);
  out.push(`  return size${n}(m, version);`);
  out.push(`}`);
  out.push("");
  out.push(`/** Writes at w.pos; call size() first (it validates) and give w room for that many bytes. */`);
  out.push(`export function encodeInto(w: Writer, m: ${n}Init, version: number): void {`);
  out.push(`  encode${n}(w, version, m);`);
  out.push(`}`);
  out.push("");
  out.push(`export function encode(m: ${n}Init, version: number): Uint8Array {`);
  out.push(`  const w = Writer.alloc(size(m, version));`);
  out.push(`  encode${n}(w, version, m);`);
  out.push(`  return w.finish();`);
  out.push(`}`);
  out.push("");
  if (holders.has(n)) {
    out.push(`/**`);
    out.push(` * Encodes into ordered chunks for a gathered socket write: record sections of`);
    out.push(` * at least \`minGather\` bytes are referenced, not copied; the rest is one buffer.`);
    out.push(` */`);
    out.push(`export function encodeChunks(m: ${n}Init, version: number, minGather: number = GATHER_MIN_BYTES): Uint8Array[] {`);
    out.push(`  const total = size(m, version);`);
    out.push(`  const w = new GatherWriter(total, gathered${n}(m, version, minGather), minGather);`);
    out.push(`  encode${n}(w, version, m);`);
    out.push(`  return w.finishChunks();`);
    out.push(`}`);
    out.push("");
  }
  out.push(`export type Message = ${n};`);
  out.push(`export type MessageInit = ${n}Init;`);
  out.push(`export const create = default${n};`);
  out.push("");
  void rangeText;
  void structNameOf;
  return out.join("\n");
}

export { rangeText };
