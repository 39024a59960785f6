// The principal of a TLS client certificate, as Kafka's default principal
// builder makes it (ssl.principal.mapping.rules=DEFAULT): "User:" and the
// subject's distinguished name as Java's X500Principal.getName() writes it,
// RFC 2253: the most specific name first ("CN=alice,OU=eng,O=Acme\, Inc.,C=US"),
// special characters escaped, attribute types without an RFC 2253 keyword as
// dotted OIDs with the value's DER in hex ("1.2.840.113549.1.9.1=#1611...").
// Read from the certificate's DER: the parsed subject object of the TLS layer
// loses the order of repeated attributes.

interface Tlv {
  tag: number;
  start: number;
  end: number;
  /** Start of the whole element, header included. */
  at: number;
}

function readTlv(b: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new Error("truncated DER");
  const tag = b[pos]!;
  let len = b[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new Error("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
  }
  if (p + len > limit) throw new Error("truncated DER");
  return { tag, start: p, end: p + len, at: pos };
}

function children(b: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.start; p < t.end; ) {
    const c = readTlv(b, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

function oid(b: Uint8Array, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

/** RFC 2253 keywords Java writes by name. */
const KEYWORDS: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.9": "STREET",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
};

const STRING_TAGS: Record<number, "utf-8" | "latin1" | "utf-16be"> = { 0x0c: "utf-8", 0x13: "latin1", 0x16: "latin1", 0x14: "latin1", 0x1e: "utf-16be" };

function escapeValue(v: string): string {
  let s = v.replace(/[,+"\\<>;]/g, (c) => `\\${c}`);
  if (s.startsWith("#") || s.startsWith(" ")) s = `\\${s}`;
  if (s.endsWith(" ") && s.length > 1) s = `${s.slice(0, -1)}\\ `;
  return s;
}

function attribute(b: Uint8Array, ava: Tlv): string {
  const [type, value] = children(b, ava);
  if (!type || !value) throw new Error("bad attribute");
  const id = oid(b, type);
  const keyword = KEYWORDS[id];
  const encoding = STRING_TAGS[value.tag];
  if (keyword && encoding) return `${keyword}=${escapeValue(new TextDecoder(encoding).decode(b.subarray(value.start, value.end)))}`;
  return `${keyword ?? id}=#${Buffer.from(b.subarray(value.at, value.end)).toString("hex")}`;
}

/** The RFC 2253 subject of a DER certificate. */
export function subjectDn(der: Uint8Array): string {
  const cert = readTlv(der, 0, der.length);
  const tbs = children(der, cert)[0];
  if (!tbs) throw new Error("bad certificate");
  const fields = children(der, tbs);
  // version [0] is optional; then serial, signature algorithm, issuer, validity, subject.
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[first + 4];
  if (!subject || subject.tag !== 0x30) throw new Error("certificate has no subject");
  const rdns = children(der, subject).map((set) => children(der, set).map((ava) => attribute(der, ava)).join("+"));
  return rdns.reverse().join(",");
}

export function tlsPrincipal(der: Uint8Array): string {
  return `User:${subjectDn(der)}`;
}
