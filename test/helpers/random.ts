// Deterministic pseudo-random numbers for tests, so that a failure repeats
// with its seed.

/** xorshift32: numbers in [0, 1) from a seed (0 is replaced by 1). */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}
