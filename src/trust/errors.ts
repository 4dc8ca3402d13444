/** Anything wrong with the cluster secret or a node's certificates, said so the user can act. */
export class TrustError extends Error {
  readonly code = 'TRUST';
  constructor(message: string) {
    super(message);
    this.name = 'TrustError';
  }
}
