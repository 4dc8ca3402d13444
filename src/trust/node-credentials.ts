import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import type { PeerAuthorizer } from '../transport/types.js';
import type { ClusterCa } from './ca.js';
import type { NodeIdentity } from './identity.js';
import { verifyPeerCertificate } from './verify.js';

/**
 * Hands grpc-js a fixed CA and identity (it also serves certificates that rotate; ours do not).
 * The answers come a tick later, as a file-watching provider's would: grpc-js registers the
 * server's watcher only after asking for them, and an answer given at once would reach no one.
 */
function staticProvider(id: NodeIdentity, ca: ClusterCa): experimental.CertificateProvider {
  const caUpdate = { caCertificate: Buffer.from(ca.certPem) };
  const identityUpdate = { certificate: Buffer.from(id.certPem), privateKey: Buffer.from(id.keyPem) };
  return {
    addCaCertificateListener: (listener) => void setImmediate(() => listener(caUpdate)),
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener: (listener) => void setImmediate(() => listener(identityUpdate)),
    removeIdentityCertificateListener: () => {},
  };
}

/**
 * The one port of a node: TLS for everything, a client certificate asked for but not required.
 * LAN clients without one still reach the client API (open, as the seeds had it); peers present
 * theirs, and each peer call is checked by `peerAuthorizer` (TLS would otherwise refuse the
 * handshake with no word of who tried and why).
 */
export function nodeServerCredentials(id: NodeIdentity, ca: ClusterCa): ServerCredentials {
  const provider = staticProvider(id, ca);
  return experimental.createCertificateProviderServerCredentials(provider, provider, false);
}

/** Accepts a caller whose certificate the cluster CA issued; the reason otherwise. */
export function peerAuthorizer(ca: ClusterCa): PeerAuthorizer {
  return (der) => {
    // grpc-js shows a certificate only if TLS verified it, so "none" covers "one from another CA".
    if (!der) return { ok: false, reason: 'it presented no certificate issued by this cluster (it lacks the cluster secret, or has another)' };
    const check = verifyPeerCertificate(der, ca.certPem);
    return check.ok ? { ok: true } : check;
  };
}
