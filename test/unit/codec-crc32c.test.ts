// CRC-32C against published vectors and a bit-at-a-time reference, across
// lengths and alignments that exercise both the byte and the word paths.

import { expect, test } from "bun:test";
import { crc32c } from "../../src/codec/crc32c.ts";
import { xxhash32 } from "../../src/codec/xxhash32.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

/** The definition: one bit at a time over the reflected polynomial. */
function reference(data: Uint8Array, init = 0): number {
  let crc = ~init >>> 0;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test("check value and iSCSI (RFC 3720) vectors", () => {
  expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
  expect(crc32c(new Uint8Array(0))).toBe(0);
  expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
});

test("matches the bitwise reference at every length and alignment", () => {
  const big = pseudoRandom(9000, 7);
  for (const len of [1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 100, 2047, 2048, 2049, 4099, 8191]) {
    for (let align = 0; align < 4; align++) {
      const view = big.subarray(align, align + len);
      expect(crc32c(view)).toBe(reference(view));
    }
  }
});

test("continuing from a previous result equals one pass over the concatenation", () => {
  const data = pseudoRandom(6000, 99);
  for (const cut of [0, 1, 5, 2048, 3001, 6000]) {
    expect(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut)))).toBe(crc32c(data));
  }
  expect(crc32c(data, 0x12345678)).toBe(reference(data, 0x12345678));
});

test("xxHash32 vectors", () => {
  expect(xxhash32(new Uint8Array(0))).toBe(0x02cc5d05);
  expect(xxhash32(ascii("abc"))).toBe(0x32d153ff);
  expect(xxhash32(ascii("Nobody inspects the spammish repetition"))).toBe(0xe2293b2f);
  expect(xxhash32(new Uint8Array(0), 1)).toBe(0x0b2cb792);
});
