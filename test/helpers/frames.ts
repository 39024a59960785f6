// Response frames out of a client socket's byte stream: reads arrive split
// and coalesced, and each complete frame (after its int32 size) is handed on.

/** A `data` handler that calls `onFrame` with each complete frame's payload, in order. */
export function frameReader(onFrame: (payload: Uint8Array) => void): (data: Uint8Array) => void {
  let buf = new Uint8Array(0);
  return (data) => {
    const n = new Uint8Array(buf.length + data.length);
    n.set(buf);
    n.set(data, buf.length);
    buf = n;
    while (buf.length >= 4) {
      const len = new DataView(buf.buffer, buf.byteOffset).getInt32(0);
      if (buf.length < 4 + len) break;
      onFrame(buf.slice(4, 4 + len));
      buf = buf.slice(4 + len);
    }
  };
}

/** Each part preceded by its int32 length, written from `at` in a buffer that leaves the first `at` bytes to the caller. */
export function lengthPrefixed(parts: Uint8Array[], at = 0): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, at));
  const v = new DataView(out.buffer);
  for (const p of parts) {
    v.setInt32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}
