export { deriveClusterCa, type ClusterCa } from './ca.js';
export { peerChannelCredentials, peerProbeCredentials, peerServerCredentials } from './credentials.js';
export { TrustError } from './errors.js';
export { issueIdentity, loadOrCreateIdentity, type NodeIdentity } from './identity.js';
export { generateSecret, parseSecret } from './secret.js';
export { verifyPeerCertificate, type PeerCheck } from './verify.js';
export { nodeServerCredentials, peerAuthorizer } from './node-credentials.js';
