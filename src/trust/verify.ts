import { X509Certificate } from 'node:crypto';

export type PeerCheck = { readonly ok: true; readonly nodeId: string } | { readonly ok: false; readonly reason: string };

/**
 * Whether a certificate a peer presented was issued by this cluster's CA (so its holder knew the
 * secret), is in its validity period, and names a node. TLS already checks this when it rejects
 * unauthorized peers; this is for logging who was refused and why, and for tests.
 */
export function verifyPeerCertificate(der: Buffer | Uint8Array, caPem: string, now = new Date()): PeerCheck {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(der));
  } catch (e) {
    return { ok: false, reason: `not a certificate: ${(e as Error).message}` };
  }
  const ca = new X509Certificate(caPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey))
    return { ok: false, reason: 'its certificate was not issued by this cluster (wrong or no cluster secret)' };
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo))
    return { ok: false, reason: `its certificate is valid only from ${cert.validFrom} to ${cert.validTo}` };
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  if (!cn) return { ok: false, reason: 'its certificate names no node' };
  return { ok: true, nodeId: cn };
}
