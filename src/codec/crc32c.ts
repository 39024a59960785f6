// CRC-32C (Castagnoli), the checksum of RecordBatch v2. The broker checks it on
// every produced batch, so this is slicing-by-16: one step consumes 16 bytes
// with 16 table lookups instead of 16 dependent byte steps.

const POLY = 0x82f63b78; // reflected Castagnoli polynomial

// Table t (0..15) at T[t*256 .. t*256+255]: T_t[b] = CRC of byte b followed by t zero bytes.
const T = new Int32Array(16 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[i] = c;
}
for (let i = 0; i < 256; i++) {
  for (let t = 1; t < 16; t++) {
    const prev = T[(t - 1) * 256 + i]!;
    T[t * 256 + i] = (prev >>> 8) ^ T[prev & 0xff]!;
  }
}

// Word loads through an Int32Array read little-endian lanes, which is what the
// tables expect; on a big-endian host only the byte-assembling path is used.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
// Below this size, creating the Int32Array view costs more than it saves.
const WORD_PATH_MIN = 2048;

/** CRC-32C of `data`; pass a previous result as `init` to continue over more data. Unsigned 32-bit. */
export function crc32c(data: Uint8Array, init = 0): number {
  const n = data.length;
  let crc = ~init;
  let i = 0;
  if (LITTLE_ENDIAN && n >= WORD_PATH_MIN) {
    const off = data.byteOffset;
    while (((off + i) & 3) !== 0) crc = T[(crc ^ data[i++]!) & 0xff]! ^ (crc >>> 8);
    const blocks = (n - i) >>> 4;
    const w = new Int32Array(data.buffer, off + i, blocks * 4);
    for (let j = 0; j < w.length; j += 4) {
      const a = w[j]! ^ crc;
      const b = w[j + 1]!;
      const c = w[j + 2]!;
      const d = w[j + 3]!;
      crc =
        T[3840 + (a & 0xff)]! ^ T[3584 + ((a >>> 8) & 0xff)]! ^ T[3328 + ((a >>> 16) & 0xff)]! ^ T[3072 + (a >>> 24)]! ^
        T[2816 + (b & 0xff)]! ^ T[2560 + ((b >>> 8) & 0xff)]! ^ T[2304 + ((b >>> 16) & 0xff)]! ^ T[2048 + (b >>> 24)]! ^
        T[1792 + (c & 0xff)]! ^ T[1536 + ((c >>> 8) & 0xff)]! ^ T[1280 + ((c >>> 16) & 0xff)]! ^ T[1024 + (c >>> 24)]! ^
        T[768 + (d & 0xff)]! ^ T[512 + ((d >>> 8) & 0xff)]! ^ T[256 + ((d >>> 16) & 0xff)]! ^ T[d >>> 24]!;
    }
    i += blocks * 16;
  } else {
    const end = n - (n & 15);
    while (i < end) {
      const a = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) ^ crc;
      const b = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
      const c = data[i + 8]! | (data[i + 9]! << 8) | (data[i + 10]! << 16) | (data[i + 11]! << 24);
      const d = data[i + 12]! | (data[i + 13]! << 8) | (data[i + 14]! << 16) | (data[i + 15]! << 24);
      crc =
        T[3840 + (a & 0xff)]! ^ T[3584 + ((a >>> 8) & 0xff)]! ^ T[3328 + ((a >>> 16) & 0xff)]! ^ T[3072 + (a >>> 24)]! ^
        T[2816 + (b & 0xff)]! ^ T[2560 + ((b >>> 8) & 0xff)]! ^ T[2304 + ((b >>> 16) & 0xff)]! ^ T[2048 + (b >>> 24)]! ^
        T[1792 + (c & 0xff)]! ^ T[1536 + ((c >>> 8) & 0xff)]! ^ T[1280 + ((c >>> 16) & 0xff)]! ^ T[1024 + (c >>> 24)]! ^
        T[768 + (d & 0xff)]! ^ T[512 + ((d >>> 8) & 0xff)]! ^ T[256 + ((d >>> 16) & 0xff)]! ^ T[d >>> 24]!;
      i += 16;
    }
  }
  while (i < n) crc = T[(crc ^ data[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
