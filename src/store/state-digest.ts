/**
 * An order-independent digest of the catalog's documents: the XOR of SHA-256 over each document's
 * JSON. Updated incrementally on every write (XOR out the old version, XOR in the new), stored in
 * the meta document, and recomputed on load: a catalog file that lost, gained or altered any
 * document, however the damage looks, no longer matches and is rebuilt. Equal across nodes that
 * applied the same entries, so it doubles as a state machine hash for cluster verifiers.
 */
import { createHash } from 'node:crypto';

export class StateDigest {
  private readonly acc = new Uint8Array(32);

  static fromHex(hex: string): StateDigest {
    const d = new StateDigest();
    d.acc.set(Buffer.from(hex, 'hex'));
    return d;
  }

  toggle(docJson: string): void {
    const h = createHash('sha256').update(docJson).digest();
    for (let i = 0; i < 32; i++) this.acc[i] = (this.acc[i] ?? 0) ^ (h[i] ?? 0);
  }

  toHex(): string {
    return Buffer.from(this.acc).toString('hex');
  }
}
