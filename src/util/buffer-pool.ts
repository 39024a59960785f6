// Reusable large buffers. Fresh multi-megabyte buffers cost a page fault per
// 4 KiB when first written, and that dominated the broker's CPU: assembling
// produce frames that span socket reads ran at under 0.5 GB/s, and reading
// the active segment for fetches spent most of its time in faults. Recycled
// buffers cost a memcpy. A buffer goes back only when its owner knows that
// nothing refers to its bytes any more; anything else is left to the GC.

const MIN_POOLED = 64 * 1024;
export const MAX_POOLED = 16 * 1024 * 1024;
/**
 * Free bytes kept in all. When a buffer comes back to a full pool, the
 * longest-idle free buffers make room for it, whatever their size: the
 * workload decides which sizes are worth keeping (8 MiB produce frames while
 * producing, 4 MiB reads while consuming), and a pool full of the wrong size
 * would turn every take into a fresh allocation.
 */
const MAX_FREE_BYTES = 32 * 1024 * 1024;

const classes = new Map<number, ArrayBuffer[]>();
/** Free buffers, longest idle first. */
const idle: ArrayBuffer[] = [];
const owned = new WeakSet<ArrayBuffer>();
let freeBytes = 0;

function classOf(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

function removeFree(ab: ArrayBuffer): void {
  const list = classes.get(ab.byteLength)!;
  list.splice(list.indexOf(ab), 1);
  freeBytes -= ab.byteLength;
}

/** A buffer of exactly `n` bytes, not zeroed: the caller overwrites what it uses. */
export function takeBuffer(n: number): Uint8Array {
  if (n < MIN_POOLED || n > MAX_POOLED) return n >= 4096 ? Buffer.allocUnsafeSlow(n) : new Uint8Array(n);
  const size = classOf(n);
  const list = classes.get(size);
  let ab = list && list.length > 0 ? list[list.length - 1]! : undefined;
  if (ab) {
    removeFree(ab);
    idle.splice(idle.indexOf(ab), 1);
  } else ab = new ArrayBuffer(size);
  owned.add(ab);
  return new Uint8Array(ab, 0, n);
}

/**
 * Gives back the buffer under `view` (any view of a takeBuffer buffer) once
 * nothing refers to its bytes. Views of other memory are ignored, and so is
 * a second give-back of the same buffer.
 */
export function giveBack(view: Uint8Array): void {
  const ab = view.buffer;
  if (!(ab instanceof ArrayBuffer) || !owned.has(ab)) return;
  owned.delete(ab);
  while (freeBytes + ab.byteLength > MAX_FREE_BYTES && idle.length > 0) removeFree(idle.shift()!);
  if (freeBytes + ab.byteLength > MAX_FREE_BYTES) return;
  let list = classes.get(ab.byteLength);
  if (!list) classes.set(ab.byteLength, (list = []));
  list.push(ab);
  idle.push(ab);
  freeBytes += ab.byteLength;
}

/** Buffers currently held for reuse (for tests). */
export function pooledBuffers(): number {
  return idle.length;
}
