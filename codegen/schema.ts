// Reads Kafka's message JSON schemas (JSON with `//` line comments) into a
// typed model. Only structure is kept: `about` text and comments are dropped
// so nothing of upstream prose reaches generated code.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const MAX_VERSION = 0x7fff;

/** Inclusive version range; null means "none". */
export type Range = { lo: number; hi: number } | null;

export function parseRange(s: string | undefined, fallback: Range = null): Range {
  if (s === undefined) return fallback;
  s = s.trim();
  if (s === "none") return null;
  if (s.endsWith("+")) return { lo: Number(s.slice(0, -1)), hi: MAX_VERSION };
  const dash = s.indexOf("-");
  if (dash > 0) return { lo: Number(s.slice(0, dash)), hi: Number(s.slice(dash + 1)) };
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`bad version range "${s}"`);
  return { lo: n, hi: n };
}

export function intersect(a: Range, b: Range): Range {
  if (!a || !b) return null;
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo <= hi ? { lo, hi } : null;
}

export type Primitive =
  | "bool"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint16"
  | "uint32"
  | "float64"
  | "string"
  | "bytes"
  | "uuid"
  | "records";

export const PRIMITIVES: ReadonlySet<string> = new Set([
  "bool",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint16",
  "uint32",
  "float64",
  "string",
  "bytes",
  "uuid",
  "records",
]);

export type FieldType =
  | { kind: "primitive"; name: Primitive }
  | { kind: "struct"; name: string }
  | { kind: "array"; element: FieldType };

export interface Field {
  name: string;
  type: FieldType;
  versions: Range;
  nullableVersions: Range;
  taggedVersions: Range;
  tag: number | null;
  ignorable: boolean;
  /** Raw default as written in the schema ("null", "-1", "0x7fffffff", true...). */
  defaultValue: string | null;
  /** Field-level override of the message's flexible versions (RequestHeader.ClientId). */
  flexibleVersions: Range | undefined;
  mapKey: boolean;
  entityType: string | null;
  zeroCopy: boolean;
}

export interface Struct {
  name: string;
  fields: Field[];
  /** The versions in which this struct can appear at all. */
  versions: Range;
}

export interface MessageSchema {
  file: string;
  name: string;
  type: "request" | "response" | "header" | "data" | "metadata" | string;
  apiKey: number | null;
  validVersions: Range;
  flexibleVersions: Range;
  latestVersionUnstable: boolean;
  listeners: string[];
  /** The top-level struct (the message itself). */
  root: Struct;
  /** Every struct, nested and common, in definition order; root excluded. */
  structs: Struct[];
  commonStructNames: Set<string>;
}

type RawField = {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  ignorable?: boolean;
  default?: string | number | boolean;
  flexibleVersions?: string;
  mapKey?: boolean;
  entityType?: string;
  zeroCopy?: boolean;
  fields?: RawField[];
};
type RawMessage = {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions?: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields?: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
};

/** Strips `//` comments that are not inside strings, then parses. */
export function parseJsonWithComments(text: string): unknown {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") {
        out += text[++i] ?? "";
      } else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else out += c;
  }
  return JSON.parse(out);
}

function parseType(t: string): FieldType {
  if (t.startsWith("[]")) return { kind: "array", element: parseType(t.slice(2)) };
  if (PRIMITIVES.has(t)) return { kind: "primitive", name: t as Primitive };
  if (!/^[A-Z][A-Za-z0-9]*$/.test(t)) throw new Error(`unknown type "${t}"`);
  return { kind: "struct", name: t };
}

export function structNameOf(t: FieldType): string | null {
  if (t.kind === "struct") return t.name;
  if (t.kind === "array") return structNameOf(t.element);
  return null;
}

export function parseSchema(file: string, text: string): MessageSchema {
  const raw = parseJsonWithComments(text) as RawMessage;
  const validVersions = parseRange(raw.validVersions);
  const flexibleVersions = parseRange(raw.flexibleVersions, null);
  const structs: Struct[] = [];
  const commonStructNames = new Set((raw.commonStructs ?? []).map((c) => c.name));

  const convertFields = (fields: RawField[], parentVersions: Range): Field[] =>
    fields.map((f) => {
      const type = parseType(f.type);
      const versions = parseRange(f.versions);
      if (f.versions === undefined) throw new Error(`${file}: field ${f.name} has no versions`);
      const field: Field = {
        name: f.name,
        type,
        versions,
        nullableVersions: parseRange(f.nullableVersions),
        taggedVersions: parseRange(f.taggedVersions),
        tag: f.tag ?? null,
        ignorable: f.ignorable ?? false,
        defaultValue: f.default === undefined ? null : String(f.default),
        flexibleVersions: f.flexibleVersions === undefined ? undefined : parseRange(f.flexibleVersions),
        mapKey: f.mapKey ?? false,
        entityType: f.entityType ?? null,
        zeroCopy: f.zeroCopy ?? false,
      };
      if ((field.tag === null) !== (field.taggedVersions === null)) {
        throw new Error(`${file}: field ${f.name} must have both tag and taggedVersions`);
      }
      const sname = structNameOf(type);
      if (f.fields) {
        if (!sname) throw new Error(`${file}: field ${f.name} has fields but type ${f.type}`);
        const v = intersect(versions, parentVersions);
        structs.push({ name: sname, fields: convertFields(f.fields, v), versions: v });
      } else if (sname && !commonStructNames.has(sname)) {
        throw new Error(`${file}: struct type ${sname} of ${f.name} is not defined`);
      }
      return field;
    });

  const rootFields = convertFields(raw.fields ?? [], validVersions);
  for (const c of raw.commonStructs ?? []) {
    structs.push({ name: c.name, fields: convertFields(c.fields, validVersions), versions: validVersions });
  }
  const seen = new Set<string>();
  for (const s of structs) {
    if (seen.has(s.name)) throw new Error(`${file}: struct ${s.name} defined twice`);
    if (s.name === raw.name) throw new Error(`${file}: struct named like its message`);
    seen.add(s.name);
  }
  return {
    file,
    name: raw.name,
    type: raw.type,
    apiKey: raw.apiKey ?? null,
    validVersions,
    flexibleVersions,
    latestVersionUnstable: raw.latestVersionUnstable ?? false,
    listeners: raw.listeners ?? [],
    root: { name: raw.name, fields: rootFields, versions: validVersions },
    structs,
    commonStructNames,
  };
}

export function loadSchemas(dir: string): MessageSchema[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (files.length === 0) throw new Error(`no .json schema files in ${dir}`);
  return files.map((f) => parseSchema(f, readFileSync(join(dir, f), "utf8")));
}
