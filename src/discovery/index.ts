/** Discovery: who might be out there (mDNS, static peers) and which fresh node founds the cluster.
 * Nothing here establishes trust; see the node layer for authenticating peers. */
export {
  PROTOCOL_VERSION,
  SERVICE_TYPE,
  addressOf,
  announcementSchema,
  clusterIdSchema,
  encodeAnnouncement,
  instanceLabel,
  instanceName,
  nodeIdSchema,
  type Announcement,
} from './announcement.js';
export { decodeAnnouncements, type DecodeExpectation, type Decoded, type RejectReason } from './decode.js';
export { MdnsDiscovery, type DiscoveryEvents, type DiscoveryRejection, type MdnsDiscoveryOptions } from './mdns.js';
export { PeerTable, compareIds, type SeenAnnouncement, type UpsertResult } from './peer-table.js';
export { formatAddress, parseStaticPeers, probeCandidates, staticPeersSchema, type PeerAddress } from './static-peers.js';
export { Backoff, fullJitterDelay, type BackoffOptions } from './backoff.js';
export { chooseBootstrap, type BootstrapDecision, type BootstrapInput, type Sighting } from './bootstrap-choice.js';
