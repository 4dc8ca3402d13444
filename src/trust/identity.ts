import 'reflect-metadata';
import { X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { escapeDn, signing, type ClusterCa } from './ca.js';
import { verifyPeerCertificate } from './verify.js';

/** This node's TLS identity: its own key and a certificate the cluster CA issued for its id. */
export interface NodeIdentity {
  readonly nodeId: string;
  readonly keyPem: string;
  readonly certPem: string;
}

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * Loads this node's key and certificate from `dir`, or makes them: a fresh P-256 key (kept on
 * this node only, mode 0600) and a certificate for `nodeId` signed with the CA key the secret
 * derives. A certificate that no longer chains to this CA (the secret changed) is replaced.
 */
export async function loadOrCreateIdentity(dir: string, nodeId: string, ca: ClusterCa): Promise<NodeIdentity> {
  const keyPath = join(dir, 'node-key.pem');
  const certPath = join(dir, 'node-cert.pem');
  const existing = await readIdentity(keyPath, certPath);
  if (existing && verifyPeerCertificate(new NodeX509(existing.certPem).raw, ca.certPem).ok && new NodeX509(existing.certPem).subject.includes(`CN=${nodeId}`)) {
    return { nodeId, ...existing };
  }
  const made = await issueIdentity(nodeId, ca);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomic(keyPath, made.keyPem, 0o600);
  await writeAtomic(certPath, made.certPem, 0o644);
  return made;
}

async function readIdentity(keyPath: string, certPath: string): Promise<{ keyPem: string; certPem: string } | null> {
  try {
    return { keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8') };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/** A new key and a certificate for `nodeId` under the cluster CA (in memory). */
export async function issueIdentity(nodeId: string, ca: ClusterCa, now = new Date()): Promise<NodeIdentity> {
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    subject: `CN=${escapeDn(nodeId)}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - 24 * 3600 * 1000), // tolerate clocks a day apart
    notAfter: new Date(now.getTime() + 20 * YEAR_MS),
    signingAlgorithm: signing,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `${nodeId}.larder.invalid` }]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd()}\n-----END PRIVATE KEY-----\n`;
  return { nodeId, keyPem, certPem: cert.toString('pem') };
}
