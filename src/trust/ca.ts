import 'reflect-metadata';
import { createECDH, hkdfSync, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const signing = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Order of the P-256 group: a private key is a scalar in [1, n - 1]. */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

export interface ClusterCa {
  readonly certPem: string;
  readonly cert: x509.X509Certificate;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * The cluster's certificate authority, derived from the secret alone: every node that knows the
 * secret derives the same CA key (HKDF-SHA256 over the secret, salted with the cluster id), so any
 * of them can certify itself, and a certificate chains to the CA only if its issuer knew the
 * secret. Nothing about the CA is ever stored or sent but its public certificate.
 */
export async function deriveClusterCa(secret: Uint8Array, clusterId: string): Promise<ClusterCa> {
  const d = scalarFrom(secret, clusterId);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey(); // 0x04 || x || y
  const jwk = { kty: 'EC', crv: 'P-256', d: b64url(d), x: b64url(pub.subarray(1, 33)), y: b64url(pub.subarray(33, 65)), ext: true };
  const privateKey = await webcrypto.subtle.importKey('jwk', jwk, ecdsa, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, ext: true }, ecdsa, true, ['verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=Larder cluster ${escapeDn(clusterId)}`,
    // Fixed dates: every node builds the same certificate (the signature bytes may differ).
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2120-01-01T00:00:00Z'),
    keys: { privateKey, publicKey } as CryptoKeyPair,
    signingAlgorithm: signing,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), cert, privateKey, publicKey };
}

/** HKDF output reduced to a valid P-256 scalar (retrying with a counter in the ~2^-32 case it is not). */
function scalarFrom(secret: Uint8Array, clusterId: string): Buffer {
  for (let counter = 0; ; counter++) {
    const okm = Buffer.from(hkdfSync('sha256', secret, Buffer.from(`larder-cluster:${clusterId}`), Buffer.from(`larder ca key v1/${counter}`), 32));
    const k = BigInt(`0x${okm.toString('hex')}`);
    if (k > 0n && k < P256_ORDER) return okm;
  }
}

/** RFC 4514 escaping of a DN attribute value. */
export function escapeDn(value: string): string {
  return value
    .replace(/([,+"\\<>;=])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}
