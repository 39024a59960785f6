// The five codecs of a RecordBatch's attribute bits 0-2. gzip and zstd come
// from node:zlib (native in Bun); snappy and lz4 are our own. Every
// decompression is capped: output beyond `maxSize` is an error, not an
// allocation.

import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { Lz4Error, lz4Compress, lz4Decompress } from "./lz4.ts";
import { SnappyError, snappyCompress, snappyDecompress } from "./snappy.ts";
import { ZstdFrameError, zstdDeclaredSize } from "./zstd-frames.ts";

export const Codec = {
  NONE: 0,
  GZIP: 1,
  SNAPPY: 2,
  LZ4: 3,
  ZSTD: 4,
} as const;
export type CodecId = (typeof Codec)[keyof typeof Codec];

export const CODEC_NAMES = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

export type CompressionFailure = "corrupt" | "too-large" | "unknown-codec";

export class CompressionError extends Error {
  override name = "CompressionError";
  constructor(
    message: string,
    readonly codec: number,
    readonly reason: CompressionFailure,
  ) {
    super(message);
  }
}

export function isKnownCodec(codec: number): codec is CodecId {
  return Number.isInteger(codec) && codec >= 0 && codec <= 4;
}

function codecName(codec: number): string {
  return CODEC_NAMES[codec] ?? `codec ${codec}`;
}

function asBytes(b: Uint8Array): Uint8Array {
  // node:zlib hands back Buffers; callers get plain views of the same memory.
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** node:zlib reports a cap overrun as ERR_BUFFER_TOO_LARGE (it stops inflating at the cap). */
function zlibFailure(e: unknown, codec: number, maxSize: number): CompressionError {
  const code = e instanceof Error && "code" in e ? (e as Error & { code: unknown }).code : undefined;
  if (code === "ERR_BUFFER_TOO_LARGE") return new CompressionError(`${codecName(codec)} data exceeds ${maxSize} bytes`, codec, "too-large");
  return new CompressionError(`${codecName(codec)}: ${e instanceof Error ? e.message : String(e)}`, codec, "corrupt");
}

/** Decompresses `data` written with `codec`; refuses more than `maxSize` output bytes. Throws CompressionError. */
export function decompress(codec: number, data: Uint8Array, maxSize: number): Uint8Array {
  switch (codec) {
    case Codec.NONE:
      if (data.length > maxSize) throw new CompressionError(`data exceeds ${maxSize} bytes`, codec, "too-large");
      return data;
    case Codec.GZIP:
    case Codec.ZSTD: {
      let declared: number | null = null;
      if (codec === Codec.ZSTD) {
        // The zstd decoder stops quietly at a truncation, so completeness is proven first.
        try {
          declared = zstdDeclaredSize(data);
        } catch (e) {
          if (e instanceof ZstdFrameError) throw new CompressionError(`zstd: ${e.message}`, codec, "corrupt");
          throw e;
        }
        if (declared !== null && declared > maxSize) throw new CompressionError(`zstd frames declare ${declared} bytes, limit ${maxSize}`, codec, "too-large");
      }
      // zlib refuses a maxOutputLength of 0; an empty result is still possible under a cap of 1.
      const opts = { maxOutputLength: Math.max(1, maxSize) };
      let out: Uint8Array;
      try {
        out = asBytes(codec === Codec.GZIP ? gunzipSync(data, opts) : zstdDecompressSync(data, opts));
      } catch (e) {
        throw zlibFailure(e, codec, maxSize);
      }
      if (out.length > maxSize) throw new CompressionError(`${codecName(codec)} data exceeds ${maxSize} bytes`, codec, "too-large");
      if (declared !== null && out.length !== declared) {
        throw new CompressionError(`zstd frames declare ${declared} bytes, decoded ${out.length}`, codec, "corrupt");
      }
      return out;
    }
    case Codec.SNAPPY:
    case Codec.LZ4:
      try {
        return codec === Codec.SNAPPY ? snappyDecompress(data, maxSize) : lz4Decompress(data, maxSize);
      } catch (e) {
        if (e instanceof SnappyError || e instanceof Lz4Error) {
          throw new CompressionError(`${codecName(codec)}: ${e.message}`, codec, e.tooLarge ? "too-large" : "corrupt");
        }
        throw e;
      }
    default:
      throw new CompressionError(`unknown compression codec ${codec}`, codec, "unknown-codec");
  }
}

/** Compresses `data` with `codec` (snappy: raw block, lz4: frame, as Kafka clients write them). */
export function compress(codec: number, data: Uint8Array): Uint8Array {
  switch (codec) {
    case Codec.NONE:
      return data;
    case Codec.GZIP:
      return asBytes(gzipSync(data));
    case Codec.SNAPPY:
      return snappyCompress(data);
    case Codec.LZ4:
      return lz4Compress(data);
    case Codec.ZSTD:
      return asBytes(zstdCompressSync(data));
    default:
      throw new CompressionError(`unknown compression codec ${codec}`, codec, "unknown-codec");
  }
}
