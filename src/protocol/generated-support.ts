// The small runtime that generated codecs (generated/*.ts) build on.

export { Reader, DecodeError, type TaggedField } from "./reader.ts";
export {
  Writer,
  EncodeError,
  uvarintSize,
  stringSize,
  compactStringSize,
  bytesSize,
  compactBytesSize,
  taggedFieldsSize,
} from "./writer.ts";
import { DecodeError, type TaggedField } from "./reader.ts";
import { EncodeError, uvarintSize, Writer } from "./writer.ts";
import { GatherWriter } from "./gather-writer.ts";
export { GatherWriter, GATHER_MIN_BYTES } from "./gather-writer.ts";

export const ZERO_UUID = "00000000000000000000000000000000";
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** `records` may be handed to an encoder as several chunks (e.g. log reads) to avoid a concat. */
export type RecordsInit = Uint8Array | readonly Uint8Array[];

export function recordsLength(r: RecordsInit): number {
  if (r instanceof Uint8Array) return r.length;
  let n = 0;
  for (const c of r) n += c.length;
  return n;
}

export function writeRecordsBody(w: Writer, r: RecordsInit): void {
  if (w instanceof GatherWriter && w.gathers(r)) {
    if (r instanceof Uint8Array) w.gather(r);
    else for (const c of r) w.gather(c);
  } else if (r instanceof Uint8Array) w.rawBytes(r);
  else for (const c of r) w.rawBytes(c);
}

export function unsupportedVersion(name: string, version: number): never {
  throw new DecodeError(`${name} has no version ${version}`);
}

export function cannotEncode(name: string, field: string, version: number, why: string): never {
  throw new EncodeError(`${name}.${field} at version ${version}: ${why}`);
}

/** One tagged entry prepared for writing: its payload is produced by `write` into `size` bytes. */
export interface TaggedEntry {
  tag: number;
  size: number;
  write: (w: Writer) => void;
}

/** Size of a tagged section: count, then (tag, size, payload) per entry. */
export function taggedSectionSize(entries: TaggedEntry[], unknown: readonly TaggedField[] | undefined): number {
  if (entries.length === 0 && (unknown === undefined || unknown.length === 0)) return 1;
  let n = 0;
  let count = entries.length;
  for (const e of entries) n += uvarintSize(e.tag) + uvarintSize(e.size) + e.size;
  if (unknown) {
    count += unknown.length;
    for (const u of unknown) n += uvarintSize(u.tag) + uvarintSize(u.data.length) + u.data.length;
  }
  return uvarintSize(count) + n;
}

/** Writes a tagged section with known and pass-through entries merged in tag order. */
export function writeTaggedSection(w: Writer, entries: TaggedEntry[], unknown: readonly TaggedField[] | undefined): void {
  const total = entries.length + (unknown ? unknown.length : 0);
  w.uvarint(total);
  if (total === 0) return;
  let i = 0;
  let j = 0;
  const u = unknown ?? [];
  while (i < entries.length || j < u.length) {
    const e = entries[i];
    const x = u[j];
    if (e && (!x || e.tag < x.tag)) {
      w.uvarint(e.tag);
      w.uvarint(e.size);
      e.write(w);
      i++;
    } else if (x) {
      if (e && e.tag === x.tag) throw new EncodeError(`tag ${x.tag} is both known and unknown`);
      w.taggedField(x.tag, x.data);
      j++;
    }
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
