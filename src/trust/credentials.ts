import { ServerCredentials, credentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { ClusterCa } from './ca.js';
import type { NodeIdentity } from './identity.js';

/**
 * Mutual TLS for peer traffic: a node accepts only clients whose certificate the cluster CA issued
 * (TLS rejects the rest during the handshake), and presents its own.
 */
export function peerServerCredentials(id: NodeIdentity, ca: ClusterCa): ServerCredentials {
  return ServerCredentials.createSsl(Buffer.from(ca.certPem), [{ private_key: Buffer.from(id.keyPem), cert_chain: Buffer.from(id.certPem) }], true);
}

/**
 * A node dials peers with its own certificate and trusts only servers the cluster CA certified.
 * Peers are dialled by address, and an address proves nothing on a LAN: identity is the node id
 * in the certificate, not the host name, so host name matching is replaced by "names a node".
 */
export function peerChannelCredentials(id: NodeIdentity, ca: ClusterCa): ChannelCredentials {
  return credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(id.keyPem), Buffer.from(id.certPem), {
    checkServerIdentity: (_host, cert) => (cert.subject?.CN ? undefined : new Error('the peer certificate names no node')),
  });
}

/**
 * For the first call to a node found on the LAN (Join): presents our certificate but does not
 * check the server's, so a node with another secret receives the call, refuses it and logs it,
 * rather than the refusal happening silently in our TLS stack. Nothing it answers is trusted
 * until a call over peerChannelCredentials confirms it (src/node/join.ts).
 */
export function peerProbeCredentials(id: NodeIdentity): ChannelCredentials {
  return credentials.createSsl(null, Buffer.from(id.keyPem), Buffer.from(id.certPem), { rejectUnauthorized: false, checkServerIdentity: () => undefined });
}
