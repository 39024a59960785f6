// The users SASL checks against: their salted credentials, one per mechanism,
// kept in <data-dir>/sasl-credentials.json and replaced atomically (temporary
// file, fsync, rename, directory fsync) before a change is acknowledged. No
// password and no salted password is ever written, only RFC 5802's StoredKey
// and ServerKey.

import { exists, readText } from "../log/storage.ts";
import { join } from "node:path";
import { writeFileAtomic } from "../log/atomic-file.ts";
import type { Credential, PasswordMechanism } from "./credentials.ts";

export const CREDENTIALS_FILE = "sasl-credentials.json";

interface StoredCredential {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

interface StoredFile {
  version: 1;
  users: Record<string, Partial<Record<PasswordMechanism, StoredCredential>>>;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

export class UserStore {
  private readonly users = new Map<string, Map<PasswordMechanism, Credential>>();
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, CREDENTIALS_FILE);
  }

  load(): void {
    if (!exists(this.path)) return;
    const file = JSON.parse(readText(this.path)) as StoredFile;
    if (file.version !== 1) throw new Error(`${this.path}: unknown version ${file.version}`);
    for (const [user, creds] of Object.entries(file.users)) {
      const m = new Map<PasswordMechanism, Credential>();
      for (const [mechanism, c] of Object.entries(creds)) {
        if (!c) continue;
        m.set(mechanism as PasswordMechanism, {
          mechanism: mechanism as PasswordMechanism,
          salt: unb64(c.salt),
          iterations: c.iterations,
          storedKey: unb64(c.storedKey),
          serverKey: unb64(c.serverKey),
        });
      }
      this.users.set(user, m);
    }
  }

  get(user: string, mechanism: PasswordMechanism): Credential | undefined {
    return this.users.get(user)?.get(mechanism);
  }

  /** Every credential of the user, strongest hash first. */
  all(user: string): Credential[] {
    const m = this.users.get(user);
    if (!m) return [];
    return (["SCRAM-SHA-512", "PLAIN", "SCRAM-SHA-256"] as const).flatMap((k) => (m.has(k) ? [m.get(k)!] : []));
  }

  has(user: string): boolean {
    return (this.users.get(user)?.size ?? 0) > 0;
  }

  names(): string[] {
    return [...this.users.keys()].filter((u) => this.has(u)).sort();
  }

  /** Applies a batch of changes in memory and then durably, in one file replacement. */
  apply(changes: { user: string; mechanism: PasswordMechanism; credential: Credential | null }[]): void {
    if (changes.length === 0) return;
    for (const { user, mechanism, credential } of changes) {
      let m = this.users.get(user);
      if (credential) {
        if (!m) this.users.set(user, (m = new Map()));
        m.set(mechanism, credential);
      } else if (m) {
        m.delete(mechanism);
        if (m.size === 0) this.users.delete(user);
      }
    }
    this.save();
  }

  private save(): void {
    const file: StoredFile = { version: 1, users: {} };
    for (const [user, m] of this.users) {
      const out: Partial<Record<PasswordMechanism, StoredCredential>> = {};
      for (const [k, c] of m) out[k] = { salt: b64(c.salt), iterations: c.iterations, storedKey: b64(c.storedKey), serverKey: b64(c.serverKey) };
      file.users[user] = out;
    }
    writeFileAtomic(this.path, new TextEncoder().encode(JSON.stringify(file, null, 1) + "\n"));
  }
}
