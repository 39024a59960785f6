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
