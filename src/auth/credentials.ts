// Salted, iterated password credentials (RFC 5802): what klite keeps instead
// of a password. StoredKey = H(HMAC(SaltedPassword, "Client Key")) checks a
// client's proof, ServerKey signs the server's answer; neither gives back the
// password nor lets anyone log in with it. PLAIN logins are checked by
// deriving the same keys from the password offered.

import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";

export type ScramMechanism = "SCRAM-SHA-256" | "SCRAM-SHA-512";
export type PasswordMechanism = ScramMechanism | "PLAIN";

interface HashInfo {
  hash: "sha256" | "sha512";
  bytes: number;
  /** The mechanism's number in AlterUserScramCredentials / DescribeUserScramCredentials. */
  type: number;
}

export const SCRAM: Record<ScramMechanism, HashInfo> = {
  "SCRAM-SHA-256": { hash: "sha256", bytes: 32, type: 1 },
  "SCRAM-SHA-512": { hash: "sha512", bytes: 64, type: 2 },
};

/** Kafka's bounds on SCRAM iterations (ScramMechanism.minIterations, and 16384 at most). */
export const MIN_ITERATIONS = 4096;
export const MAX_ITERATIONS = 16384;

/** A PLAIN-only user's credential is derived as SCRAM-SHA-512's. */
export function hashOf(mechanism: PasswordMechanism): HashInfo {
  return mechanism === "PLAIN" ? SCRAM["SCRAM-SHA-512"] : SCRAM[mechanism];
}

export function scramMechanismByType(type: number): ScramMechanism | null {
  for (const [name, info] of Object.entries(SCRAM)) if (info.type === type) return name as ScramMechanism;
  return null;
}

export interface Credential {
  mechanism: PasswordMechanism;
  salt: Uint8Array;
  iterations: number;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

export function hmac(hash: string, key: Uint8Array, data: Uint8Array | string): Uint8Array {
  return createHmac(hash, key).update(data).digest();
}

export function digest(hash: string, data: Uint8Array): Uint8Array {
  return createHash(hash).update(data).digest();
}

/** The credential kept for a salted password (from a client's AlterUserScramCredentials, or derived here). */
export function credentialFromSalted(mechanism: PasswordMechanism, salt: Uint8Array, iterations: number, saltedPassword: Uint8Array): Credential {
  const { hash } = hashOf(mechanism);
  const clientKey = hmac(hash, saltedPassword, "Client Key");
  return { mechanism, salt, iterations, storedKey: digest(hash, clientKey), serverKey: hmac(hash, saltedPassword, "Server Key") };
}

/** Hi() of RFC 5802, off the event loop (libuv's thread pool). */
export function saltPassword(mechanism: PasswordMechanism, password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const { hash, bytes } = hashOf(mechanism);
  return new Promise((resolve, reject) => pbkdf2(normalizePassword(password), salt, iterations, bytes, hash, (err, key) => (err ? reject(err) : resolve(key))));
}

/**
 * SASLprep (RFC 4013) reduced to what matters for real passwords: NFKC
 * normalization and non-ASCII spaces mapped to a space, as clients do before
 * salting. Prohibited-character checks are not applied.
 */
function normalizePassword(password: string): string {
  return password.normalize("NFKC").replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, " ");
}

export async function newCredential(mechanism: PasswordMechanism, password: string, iterations = MIN_ITERATIONS): Promise<Credential> {
  const salt = randomBytes(32);
  return credentialFromSalted(mechanism, salt, iterations, await saltPassword(mechanism, password, salt, iterations));
}

/** Does `password` match the credential? Constant-time on the derived key. */
export async function checkPassword(c: Credential, password: string): Promise<boolean> {
  const derived = credentialFromSalted(c.mechanism, c.salt, c.iterations, await saltPassword(c.mechanism, password, c.salt, c.iterations));
  return sameBytes(derived.storedKey, c.storedKey);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
