// Reusable large buffers. Fresh multi-megabyte buffers cost a page fault per
// 4 KiB when first written, and that dominated the broker's CPU: assembling
// produce frames that span socket reads ran at under 0.5 GB/s, and reading
// the active segment for fetches spent most of its time in faults. Recycled
// buffers cost a memcpy. A buffer goes back only when its owner knows that
// nothing refers to its bytes any more; anything else is left to the GC.

const MIN_POOLED = 64 * 1024;
const MAX_POOLED = 16 * 1024 * 1024;
/** Free buffers kept per size class (powers of two), and in all: the pool must not become RSS of its own. */
const PER_CLASS = 8;
const MAX_FREE_BYTES = 32 * 1024 * 1024;
let freeBytes = 0;

const classes = new Map<number, ArrayBuffer[]>();
const owned = new WeakSet<ArrayBuffer>();

function classOf(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

/** A buffer of exactly `n` bytes, not zeroed: the caller overwrites what it uses. */
export function takeBuffer(n: number): Uint8Array {
  if (n < MIN_POOLED || n > MAX_POOLED) return n >= 4096 ? Buffer.allocUnsafeSlow(n) : new Uint8Array(n);
  const size = classOf(n);
  let ab = classes.get(size)?.pop();
  if (ab) freeBytes -= size;
  else ab = new ArrayBuffer(size);
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
  let free = classes.get(ab.byteLength);
  if (!free) classes.set(ab.byteLength, (free = []));
  if (free.length < PER_CLASS && freeBytes + ab.byteLength <= MAX_FREE_BYTES) {
    free.push(ab);
    freeBytes += ab.byteLength;
  }
}

/** Buffers currently held for reuse (for tests). */
export function pooledBuffers(): number {
  let n = 0;
  for (const f of classes.values()) n += f.length;
  return n;
}
